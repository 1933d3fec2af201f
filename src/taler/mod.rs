//! Types shared by every Taler service: amounts, times, keys, errors, secrets.

pub mod amount;
pub mod contract;
pub mod currency;
pub mod error;
pub mod html;
pub mod json_bytes;
pub mod kdf;
pub mod keys;
pub mod limits;
pub mod login;
pub mod otp;
pub mod pagination;
pub mod password;
pub mod payto;
pub mod rsa;
pub mod secret;
pub mod text;
pub mod throttle;
pub mod time;
pub mod verified;

pub use amount::Amount;
pub use error::{ApiError, ErrorCode, ErrorDetail};
pub use keys::EddsaPublicKey;
pub use time::{RelativeTime, Timestamp};
