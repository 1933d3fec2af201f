//! Types shared by every Taler service: amounts, times, keys, errors, secrets.

pub mod amount;
pub mod currency;
pub mod error;
pub mod keys;
pub mod pagination;
pub mod secret;
pub mod time;

pub use amount::Amount;
pub use error::{ApiError, ErrorCode, ErrorDetail};
pub use keys::EddsaPublicKey;
pub use time::{RelativeTime, Timestamp};
