//! Bank authentication as libeufin-bank does it: HTTP Basic with the account
//! password, or a bearer token of the account with a sufficient scope.

use poem_openapi::{
    SecurityScheme,
    auth::{Basic, Bearer},
};

use crate::{
    state::AppState,
    store::bank::{self, Account},
    taler::{ApiError, ErrorCode, Timestamp, secret},
};

/// HTTP Basic: the account's username and password.
#[derive(SecurityScheme)]
#[oai(rename = "bankPassword", ty = "basic")]
pub struct BankPassword(pub Basic);

/// `Authorization: Bearer secret-token:...`: a token from `POST /accounts/$USERNAME/token`,
/// or the bank's administrator token where the operation says so.
#[derive(SecurityScheme)]
#[oai(rename = "bankToken", ty = "bearer", bearer_format = "secret-token")]
pub struct BankToken(pub Bearer);

/// Either credential.
#[derive(SecurityScheme)]
pub enum BankCredentials {
    Password(BankPassword),
    Token(BankToken),
}

/// What an operation needs of a token's scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Reading the Revenue API: `revenue`, `readonly` or `readwrite`.
    Revenue,
    /// Moving money: `readwrite`.
    ReadWrite,
    /// Reading the account's data and history: `readonly` or `readwrite`.
    Read,
    /// Moving an exchange's money through the Wire Gateway: `wiregateway` or `readwrite`.
    WireGateway,
    /// Reading the Wire Gateway's histories: `wiregateway`, `readonly` or `readwrite`.
    WireGatewayRead,
    /// Changing or deleting the account: `readwrite` (the administrator: any account).
    Manage,
    /// A token of any scope (revoking itself).
    AnyScope,
}

impl Need {
    /// Whether the operation moves money (which the administrator does only from its
    /// own account).
    fn moves_money(self) -> bool {
        matches!(self, Need::ReadWrite | Need::WireGateway)
    }
}

fn scope_allows(scope: &str, need: Need) -> bool {
    match need {
        Need::Revenue => matches!(scope, "revenue" | "readonly" | "readwrite"),
        Need::ReadWrite => scope == "readwrite",
        Need::Read => matches!(scope, "readonly" | "readwrite"),
        Need::WireGateway => matches!(scope, "wiregateway" | "readwrite"),
        Need::WireGatewayRead => matches!(scope, "wiregateway" | "readonly" | "readwrite"),
        Need::Manage => scope == "readwrite",
        Need::AnyScope => true,
    }
}

fn unknown_account(username: &str) -> ApiError {
    ApiError::new(
        ErrorCode::BankUnknownAccount,
        format!("account `{username}` is unknown"),
    )
}

/// Finds the account, or 404 `TALER_EC_BANK_UNKNOWN_ACCOUNT`.
pub async fn account(state: &AppState, username: &str) -> Result<Account, ApiError> {
    bank::find_account(&state.db, username)
        .await
        .map_err(ApiError::db_fetch)?
        .ok_or_else(|| unknown_account(username))
}

/// Checks the password of `account`: 401 when it is wrong or names another user, 429
/// while the account or client is throttled, 503 when every password worker is busy.
pub async fn check_password(
    state: &AppState,
    account: &Account,
    basic: &Basic,
) -> Result<(), ApiError> {
    state
        .logins
        .check(
            "bank",
            &account.username,
            &basic.username,
            &basic.password,
            &account.password_hash,
            || ApiError::new(ErrorCode::GenericUnauthorized, "wrong username or password"),
        )
        .await
}

/// Authenticates a request on `username`'s account: 404 for an unknown account,
/// 401 for wrong credentials or another account's, 403 for a token whose scope
/// does not allow the operation.
pub async fn authorize(
    state: &AppState,
    username: &str,
    credentials: &BankCredentials,
    need: Need,
) -> Result<Account, ApiError> {
    let read = async |token_hash: Option<Vec<u8>>| {
        Ok(
            bank::find_account_with_token(&state.db, username, token_hash.as_deref())
                .await?
                .map(|(account, token)| (account, token, ())),
        )
    };
    authorize_reading(state, username, credentials, need, read)
        .await
        .map(|(account, ())| account)
}

/// [`authorize`] with the query that reads the account (and, given a token's digest,
/// that token's row) reading what the operation shows too, so both come in one round
/// trip. What it read is the operation's only once the credentials pass.
pub async fn authorize_reading<T>(
    state: &AppState,
    username: &str,
    credentials: &BankCredentials,
    need: Need,
    read: impl AsyncFnOnce(
        Option<Vec<u8>>,
    ) -> Result<Option<(Account, Option<bank::Token>, T)>, sea_orm::DbErr>,
) -> Result<(Account, T), ApiError> {
    let token = match credentials {
        BankCredentials::Token(token)
            if secret::is_configured_token(&token.0.token, state.config.bank_admin_token()) =>
        {
            // The administrator reads every account and moves its own account's money.
            if need.moves_money() && username != crate::bank::ledger::ADMIN_ACCOUNT {
                return Err(ApiError::new(
                    ErrorCode::GenericForbidden,
                    "the administrator moves money from its own account only",
                ));
            }
            None
        }
        BankCredentials::Token(token) => Some(&token.0.token),
        BankCredentials::Password(_) => None,
    };
    // The account and the token in one query, by digest.
    let (account, stored, read) = read(token.map(|t| secret::token_hash(t)))
        .await
        .map_err(ApiError::db_fetch)?
        .ok_or_else(|| unknown_account(username))?;
    if let BankCredentials::Password(basic) = credentials {
        check_password(state, &account, &basic.0).await?;
    }
    let Some(token) = token else {
        return Ok((account, read));
    };
    if !token.starts_with(secret::TOKEN_PREFIX) {
        return Err(ApiError::new(
            ErrorCode::GenericTokenMalformed,
            "access tokens start with `secret-token:`",
        ));
    }
    let stored = stored.ok_or_else(|| {
        ApiError::new(
            ErrorCode::GenericTokenUnknown,
            "the access token is not valid for this account",
        )
    })?;
    if Timestamp::from_db(stored.expiration) <= Timestamp::now() {
        return Err(ApiError::new(
            ErrorCode::GenericTokenExpired,
            "the access token has expired",
        ));
    }
    if !scope_allows(&stored.scope, need) {
        return Err(ApiError::new(
            ErrorCode::GenericForbidden,
            format!("a `{}` token does not allow this operation", stored.scope),
        ));
    }
    Ok((account, read))
}

/// Whether the credentials are the bank's administrator token.
pub fn is_admin(state: &AppState, credentials: &BankCredentials) -> bool {
    matches!(credentials, BankCredentials::Token(t)
        if secret::is_configured_token(&t.0.token, state.config.bank_admin_token()))
}

/// The bank's administrator token, compared in constant time.
pub fn require_admin(state: &AppState, token: &BankToken) -> Result<(), ApiError> {
    if secret::is_configured_token(&token.0.token, state.config.bank_admin_token()) {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::GenericTokenUnknown,
            "the bearer token is not the bank's administrator token",
        ))
    }
}
