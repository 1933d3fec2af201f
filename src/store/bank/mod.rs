//! Bank accounts, their tokens and transfers: `accounts`, `auth`, `transfers`,
//! `history`. The services name them through this module.

pub mod accounts;
pub mod auth;
pub mod challenges;
pub mod gc;
pub mod history;
pub mod stats;
pub mod transfers;
pub mod withdrawals;

pub use accounts::*;
pub use auth::*;
pub use history::*;
pub use transfers::*;
