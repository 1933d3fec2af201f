//! The types of the core bank API's accounts, tokens and config: request and response
//! bodies, answers and their errors, as the page names them.

use poem_openapi::{ApiResponse, Enum, Object, payload::Json};

use crate::taler::text::{Email, NotBlank, PaytoUri, Phone, Text, Username};
use crate::{
    bank::ledger::amount_of,
    bank::tan::{ChallengeResponse, TanChannel},
    error_responses,
    store::bank::{self as store, Account},
    taler::{Amount, ApiError, ErrorCode, RelativeTime, Timestamp},
};

/// `RegisterAccountRequest` (the fields this bank uses; others are ignored).
#[derive(Object)]
pub struct RegisterAccountRequest {
    /// Username of the account; must match `[a-zA-Z0-9-._~]{1,126}`.
    pub username: Text<Username>,
    /// Password of the account used for authentication (8 to 64 characters: 409
    /// `BANK_PASSWORD_TOO_SHORT` or `_TOO_LONG` otherwise).
    pub password: String,
    /// Legal name of the account owner.
    pub name: Text<NotBlank>,
    /// Make this account visible to anyone? Defaults to false.
    pub is_public: Option<bool>,
    /// Make this account a Taler exchange account? Defaults to false.
    pub is_taler_exchange: Option<bool>,
    /// How far below zero the account may go (the bank's default if absent).
    pub debit_threshold: Option<Amount>,
    /// How to reach the account owner.
    pub contact_data: Option<ChallengeContactData>,
    /// Payto URI of this bank account; by default `payto://x-taler-bank/localhost/$USERNAME`.
    pub payto_uri: Option<Text<PaytoUri>>,
    /// Deprecated (v10): use `tan_channels`.
    #[oai(deprecated)]
    pub tan_channel: Option<TanChannel>,
    /// Turns the second factor on with these channels (the administrator only; the
    /// contact data must give each one's address).
    #[oai(validator(max_items = 2))]
    pub tan_channels: Option<Vec<TanChannel>>,
}

/// `RegisterAccountResponse`.
#[derive(Object)]
pub struct RegisterAccountResponse {
    /// Full payto URI of the new account.
    pub internal_payto_uri: String,
}

/// Token scopes of the core bank API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum BankTokenScope {
    Readonly,
    Readwrite,
    Revenue,
    Wiregateway,
    Observability,
}

/// `TokenRequest`.
#[derive(Object)]
pub struct TokenRequest {
    /// Scope for the token.
    pub scope: BankTokenScope,
    /// Custom token validity duration (at most one year; default one day).
    pub duration: Option<RelativeTime>,
    /// Is the token refreshable into a new token during its validity?
    pub refreshable: Option<bool>,
    /// Optional token description.
    pub description: Option<String>,
}

/// `TokenInfo`.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct TokenInfo {
    /// Time when the token was created.
    pub creation_time: Timestamp,
    /// Expiration determined by the server.
    pub expiration: Timestamp,
    /// Scope of the token.
    pub scope: String,
    /// Is the token refreshable into a new token during its validity?
    pub refreshable: bool,
    /// Token description.
    pub description: Option<String>,
    /// When the token was last used (this bank does not record uses: its creation).
    pub last_access: Timestamp,
    /// ID identifying the token.
    pub token_id: u64,
    /// Deprecated: use `token_id`.
    #[oai(deprecated)]
    pub row_id: u64,
}

/// `TokenInfos`.
#[derive(Object)]
pub struct TokenInfos {
    /// The account's tokens, in the direction of `limit`.
    pub tokens: Vec<TokenInfo>,
}

#[derive(ApiResponse)]
pub enum TokensListed {
    /// The tokens.
    #[oai(status = 200)]
    Ok(Json<TokenInfos>),
    /// No tokens (in this page).
    #[oai(status = 204)]
    Empty,
}

error_responses!(pub ListTokensErrors {
    400 => "A query parameter is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    401 => "Missing, wrong or unknown credentials, or another account's (`TALER_EC_GENERIC_PARAMETER_MISSING`, `TALER_EC_GENERIC_UNAUTHORIZED`).",
    403 => "The token's scope does not allow reading the account (`TALER_EC_GENERIC_FORBIDDEN`).",
    404 => "The account was not found (`TALER_EC_BANK_UNKNOWN_ACCOUNT`).",
    429 => "Too many failed logins: wait `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
    500 => "Database failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
    503 => "Every password worker is busy: retry after `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
});

/// `TokenSuccessResponse`.
#[derive(Object)]
pub struct TokenSuccessResponse {
    /// Expiration determined by the server.
    pub expiration: Timestamp,
    /// Opaque access token (`secret-token:...`).
    pub access_token: String,
}

/// `Balance`: an amount and whether it is owed to the account or by it.
#[derive(Object)]
pub struct Balance {
    /// The balance's magnitude.
    pub amount: Amount,
    /// "credit" (zero or above) or "debit" (below zero).
    pub credit_debit_indicator: String,
}

/// `AccountData`.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct AccountData {
    /// Legal name of the account owner.
    pub name: String,
    /// Available balance on the account.
    pub balance: Balance,
    /// Payto URI of the account.
    pub payto_uri: String,
    /// How far below zero the balance may go.
    pub debit_threshold: Amount,
    /// Is this account visible to anyone?
    pub is_public: bool,
    /// Is this a Taler exchange account?
    pub is_taler_exchange: bool,
    /// "active" (deleted accounts are not served).
    pub status: String,
    /// How to reach the account owner.
    pub contact_data: Option<ChallengeContactData>,
    /// Deprecated (v10): the first of `tan_channels`.
    #[oai(deprecated)]
    pub tan_channel: Option<TanChannel>,
    /// The second factor's channels, if it is on.
    pub tan_channels: Option<Vec<TanChannel>>,
}

/// `Config` of the core bank API (the fields this bank serves).
#[derive(Object)]
pub struct BankConfig {
    /// Name of the API: `taler-corebank`.
    pub name: String,
    /// libtool-style version of the API this bank implements.
    pub version: String,
    /// Bank display name to be used in user interfaces.
    pub bank_name: String,
    /// TAN channels supported by the server (none here).
    pub supported_tan_channels: Vec<String>,
    /// Currency of the bank.
    pub currency: String,
    /// How wallets and frontends should render the currency.
    pub currency_specification: crate::taler::currency::CurrencySpecification,
    /// Whether cashin and cashout are served (never here).
    pub allow_conversion: bool,
    /// Whether anyone may register (here only the administrator creates accounts).
    pub allow_registrations: bool,
    /// Whether accounts may delete themselves.
    pub allow_deletions: bool,
    /// Whether account owners may change their legal name.
    pub allow_edit_name: bool,
    /// Whether account owners may change their cashout account.
    pub allow_edit_cashout_payto_uri: bool,
    /// Debit threshold of new accounts.
    pub default_debit_threshold: Amount,
    /// Wire transfer type of the bank's payto URIs.
    pub wire_type: String,
}

#[derive(ApiResponse)]
pub enum AccountFound {
    /// The account's data.
    #[oai(status = 200)]
    Ok(Json<AccountData>),
}

error_responses!(pub GetAccountErrors {
    400 => "The `Authorization` header is malformed (`TALER_EC_GENERIC_HTTP_HEADERS_MALFORMED`).",
    401 => "Missing, wrong or unknown credentials, or another account's (`TALER_EC_GENERIC_PARAMETER_MISSING`, `TALER_EC_GENERIC_UNAUTHORIZED`).",
    403 => "The token's scope does not allow reading the account (`TALER_EC_GENERIC_FORBIDDEN`).",
    404 => "The account `$USERNAME` was not found (`TALER_EC_BANK_UNKNOWN_ACCOUNT`).",
    429 => "Too many failed logins on this account or from this address: wait `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
    500 => "Database failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
    503 => "Every password worker is busy: retry after `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
});

#[derive(ApiResponse)]
pub enum AccountRegistered {
    /// The account was created.
    #[oai(status = 200)]
    Ok(Json<RegisterAccountResponse>),
}

#[derive(ApiResponse)]
pub enum TokenCreated {
    /// The token.
    #[oai(status = 200)]
    Ok(Json<TokenSuccessResponse>),
    /// A login with the password of an account with a second factor: solve a
    /// challenge, then repeat the request with its id in `Taler-Challenge-Ids`.
    #[oai(status = 202)]
    Challenge(Json<ChallengeResponse>),
}

error_responses!(pub PostAccountsErrors {
    400 => "The request or the `Authorization` header is malformed: bad username, a payto URI of another kind or naming another account (`TALER_EC_GENERIC_JSON_INVALID`, `TALER_EC_GENERIC_HTTP_HEADERS_MALFORMED`, `TALER_EC_BANK_BAD_FORMAT_AMOUNT`, `TALER_EC_BANK_NUMBER_TOO_BIG`).",
    401 => "Unless the bank allows registrations: the credentials are missing, wrong, or not the administrator's (`TALER_EC_GENERIC_PARAMETER_MISSING`, `TALER_EC_GENERIC_UNAUTHORIZED`).",
    403 => "The token's scope does not allow this (`TALER_EC_GENERIC_FORBIDDEN`).",
    409 => "The username or payto URI is taken or reserved, the password is too short or too long, someone other than the administrator chose a debit threshold, the administrator's account cannot afford the registration bonus, or a second factor that someone other than the administrator asked for, that the bank does not offer or whose address the contact data lacks (`TALER_EC_BANK_NON_ADMIN_SET_TAN_CHANNEL`, `TALER_EC_BANK_TAN_CHANNEL_NOT_SUPPORTED`, `TALER_EC_BANK_MISSING_TAN_INFO`, `TALER_EC_BANK_UNALLOWED_DEBIT`, `TALER_EC_BANK_REGISTER_USERNAME_REUSE`, `TALER_EC_BANK_REGISTER_PAYTO_URI_REUSE`, `TALER_EC_BANK_RESERVED_USERNAME_CONFLICT`, `TALER_EC_BANK_PASSWORD_TOO_SHORT`, `TALER_EC_BANK_PASSWORD_TOO_LONG`, `TALER_EC_BANK_NON_ADMIN_PATCH_DEBT_LIMIT`).",
    413 => "The body exceeds the size limit (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    429 => "Too many failed logins on this account or from this address: wait `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
    500 => "Database failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
    503 => "Every password worker is busy: retry after `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
});

error_responses!(pub PostTokenErrors {
    400 => "The request is malformed (`TALER_EC_GENERIC_JSON_INVALID`).",
    401 => "Missing, wrong or unknown credentials, another account's, or a token that is not refreshable (`TALER_EC_GENERIC_PARAMETER_MISSING`, `TALER_EC_GENERIC_UNAUTHORIZED`).",
    403 => "The token's scope does not allow this, or a token mints one of a wider scope (`TALER_EC_GENERIC_FORBIDDEN`, `TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`), or too many wrong codes for login challenges locked the account's logins until its password changes (`TALER_EC_BANK_ACCOUNT_LOCKED`).",
    404 => "The account is unknown (`TALER_EC_BANK_UNKNOWN_ACCOUNT`).",
    409 => "The solved challenge was used by a racing request (`TALER_EC_BANK_TAN_CHALLENGE_FAILED`).",
    413 => "The body exceeds the size limit (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    429 => "Too many failed logins on this account or from this address: wait `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
    500 => "Database failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
    503 => "Every password worker is busy: retry after `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
});

/// `ChallengeContactData`: how to reach the account owner.
#[derive(Object, Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[oai(skip_serializing_if_is_none)]
pub struct ChallengeContactData {
    /// E-mail address.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[oai(validator(max_length = 254))]
    pub email: Option<Text<Email>>,
    /// Phone number (E.164).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<Text<Phone>>,
}

/// `AccountReconfiguration`: what changes (absent fields keep their values).
#[derive(Object)]
pub struct AccountReconfiguration {
    /// Legal name of the account owner (the administrator only).
    pub name: Option<Text<NotBlank>>,
    /// Make this account visible to anyone?
    pub is_public: Option<bool>,
    /// Is this a Taler exchange account? (the administrator only)
    pub is_taler_exchange: Option<bool>,
    /// How far below zero the balance may go (the administrator only).
    pub debit_threshold: Option<Amount>,
    /// How to reach the owner: the fields given replace those stored. An owner with a
    /// second factor confirms a change with it, and a new address used by a TAN
    /// channel with a code sent there.
    pub contact_data: Option<ChallengeContactData>,
    /// Deprecated (v10): use `tan_channels`.
    #[oai(deprecated)]
    pub tan_channel: Option<TanChannel>,
    /// The second factor's channels; empty turns it off.
    #[oai(validator(max_items = 2))]
    pub tan_channels: Option<Vec<TanChannel>>,
}

/// `AccountPasswordChange`.
#[derive(Object)]
pub struct AccountPasswordChange {
    /// The new password (8 to 64 characters: 409 `BANK_PASSWORD_TOO_SHORT` or
    /// `_TOO_LONG` otherwise).
    pub new_password: String,
    /// The current password (required unless the administrator changes it).
    pub old_password: Option<String>,
}

/// `AccountMinimalData`.
#[derive(Object)]
pub struct AccountMinimalData {
    /// Username of the account.
    pub username: String,
    /// Legal name of the account owner.
    pub name: String,
    /// Full payto URI of the account.
    pub payto_uri: String,
    /// Current balance.
    pub balance: Balance,
    /// How far below zero the balance may go.
    pub debit_threshold: Amount,
    /// Is this account visible to anyone?
    pub is_public: bool,
    /// Is this a Taler exchange account?
    pub is_taler_exchange: bool,
    /// Row id (for pagination).
    pub row_id: u64,
    /// "active" (deleted accounts are not listed).
    pub status: String,
}

/// `ListBankAccountsResponse`.
#[derive(Object)]
pub struct ListBankAccountsResponse {
    /// The accounts, in the direction of `limit`.
    pub accounts: Vec<AccountMinimalData>,
}

/// `PublicAccount`.
#[derive(Object)]
pub struct PublicAccount {
    /// Username of the account.
    pub username: String,
    /// Full payto URI of the account.
    pub payto_uri: String,
    /// Current balance.
    pub balance: Balance,
    /// Is this a Taler exchange account?
    pub is_taler_exchange: bool,
    /// Row id (for pagination).
    pub row_id: u64,
}

/// `PublicAccountsResponse`.
#[derive(Object)]
pub struct PublicAccountsResponse {
    /// The public accounts, in the direction of `limit`.
    pub public_accounts: Vec<PublicAccount>,
}

#[derive(ApiResponse)]
pub enum AccountsListed {
    /// The accounts.
    #[oai(status = 200)]
    Ok(Json<ListBankAccountsResponse>),
    /// None match (in this page).
    #[oai(status = 204)]
    Empty,
}

#[derive(ApiResponse)]
pub enum PublicAccountsListed {
    /// The public accounts.
    #[oai(status = 200)]
    Ok(Json<PublicAccountsResponse>),
    /// None match (in this page).
    #[oai(status = 204)]
    Empty,
}

error_responses!(pub PatchAccountErrors {
    400 => "The request is malformed or an amount is in another currency (`TALER_EC_GENERIC_JSON_INVALID`, `TALER_EC_GENERIC_CURRENCY_MISMATCH`, `TALER_EC_BANK_BAD_FORMAT_AMOUNT`, `TALER_EC_BANK_NUMBER_TOO_BIG`).",
    401 => "Missing, wrong or unknown credentials, or another account's (`TALER_EC_GENERIC_PARAMETER_MISSING`, `TALER_EC_GENERIC_UNAUTHORIZED`).",
    403 => "The token's scope does not allow this (`TALER_EC_GENERIC_FORBIDDEN`).",
    404 => "The account was not found (`TALER_EC_BANK_UNKNOWN_ACCOUNT`).",
    409 => "Only the administrator changes debit thresholds, the exchange flag and (unless `ALLOW_EDIT_NAME`) names, and the administrator's account cannot become an exchange or public (`TALER_EC_BANK_NON_ADMIN_PATCH_LEGAL_NAME`, `TALER_EC_BANK_NON_ADMIN_PATCH_DEBT_LIMIT`, `TALER_EC_BANK_PATCH_ADMIN_EXCHANGE`, `TALER_EC_END`); a wrong or missing old password, a new one too short or too long (`TALER_EC_BANK_PATCH_BAD_OLD_PASSWORD`, `TALER_EC_BANK_NON_ADMIN_PATCH_MISSING_OLD_PASSWORD`, `TALER_EC_BANK_PASSWORD_TOO_SHORT`, `TALER_EC_BANK_PASSWORD_TOO_LONG`); a TAN channel the bank does not offer or without its address (`TALER_EC_BANK_TAN_CHANNEL_NOT_SUPPORTED`, `TALER_EC_BANK_MISSING_TAN_INFO`); a solved challenge a racing request used (`TALER_EC_BANK_TAN_CHALLENGE_FAILED`).",
    413 => "The body exceeds the size limit (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    429 => "Too many failed logins: wait `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
    500 => "Database failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
    503 => "Every password worker is busy: retry after `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
});

error_responses!(pub DeleteAccountErrors {
    400 => "The `Authorization` header is malformed (`TALER_EC_GENERIC_HTTP_HEADERS_MALFORMED`).",
    401 => "Missing, wrong or unknown credentials, or another account's (`TALER_EC_GENERIC_PARAMETER_MISSING`, `TALER_EC_GENERIC_UNAUTHORIZED`).",
    403 => "The token's scope does not allow this (`TALER_EC_GENERIC_FORBIDDEN`).",
    404 => "The account was not found (`TALER_EC_BANK_UNKNOWN_ACCOUNT`).",
    409 => "The balance is not zero, the account is the administrator's, or the solved challenge was used by a racing request (`TALER_EC_BANK_ACCOUNT_BALANCE_NOT_ZERO`, `TALER_EC_BANK_RESERVED_USERNAME_CONFLICT`, `TALER_EC_BANK_TAN_CHALLENGE_FAILED`).",
    429 => "Too many failed logins: wait `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
    500 => "Database failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
    503 => "Every password worker is busy: retry after `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
});

error_responses!(pub ListAccountsErrors {
    400 => "A query parameter is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    401 => "Missing, wrong or unknown credentials, or another account's (`TALER_EC_GENERIC_PARAMETER_MISSING`, `TALER_EC_GENERIC_UNAUTHORIZED`).",
    403 => "The token's scope does not allow this (`TALER_EC_GENERIC_FORBIDDEN`).",
    429 => "Too many failed logins on this account or from this address: wait `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
    500 => "Database failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
    503 => "Every password worker is busy: retry after `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
});

error_responses!(pub PublicAccountsErrors {
    400 => "A query parameter is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    500 => "Database failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

error_responses!(pub DeleteTokenErrors {
    400 => "The `Authorization` header is malformed (`TALER_EC_GENERIC_HTTP_HEADERS_MALFORMED`).",
    401 => "Missing, wrong or unknown credentials, or another account's (`TALER_EC_GENERIC_PARAMETER_MISSING`, `TALER_EC_GENERIC_UNAUTHORIZED`).",
    403 => "The token's scope does not allow this (`TALER_EC_GENERIC_FORBIDDEN`).",
    404 => "The account was not found (`TALER_EC_BANK_UNKNOWN_ACCOUNT`).",
    429 => "Too many failed logins on this account or from this address: wait `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
    500 => "Database failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
    503 => "Every password worker is busy: retry after `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
});

pub fn balance(currency: &str, a: &Account) -> Balance {
    let units = store::balance_of(a);
    Balance {
        amount: amount_of(currency, units),
        credit_debit_indicator: if units < 0 { "debit" } else { "credit" }.to_owned(),
    }
}

pub fn conflict(code: ErrorCode, hint: &str) -> ApiError {
    ApiError::new(code, hint.to_owned())
}
