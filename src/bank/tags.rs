//! The tags that group the bank spec's operations.

use poem_openapi::Tags;

#[derive(Tags)]
pub enum ApiTags {
    /// The Taler Revenue API of an account.
    Revenue,
    /// Accounts, tokens and transfers (a subset of the core bank API).
    Accounts,
    /// The Taler Wire Gateway of an exchange's account.
    WireGateway,
    /// Withdrawals to a Taler wallet (the core bank API's side).
    Withdrawals,
}
