//! The types of managing bank accounts (core bank API): `PATCH`/`DELETE
//! /accounts/$USERNAME`, `PATCH /accounts/$USERNAME/auth`, `DELETE
//! /accounts/$USERNAME/token`, and the lists `GET /accounts` (administrator) and
//! `GET /public-accounts`. The operations are `accounts::AccountsApi`'s: poem-openapi
//! publishes one API's operations of a path, so one path's methods live in one API.

use poem_openapi::{ApiResponse, Object, payload::Json};

use crate::taler::text::{Email, NotBlank, Phone, Text};
use crate::{
    bank::accounts::Balance,
    error_responses,
    store::bank::{self as store, Account},
    taler::{Amount, ApiError, ErrorCode},
};

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
    /// How to reach the owner (the administrator only; this bank has no second
    /// factor to confirm a change by the owner).
    pub contact_data: Option<ChallengeContactData>,
}

/// `AccountPasswordChange`.
#[derive(Object)]
pub struct AccountPasswordChange {
    /// The new password (at least 8 characters).
    #[oai(validator(min_length = 8))]
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
    400 => "The request is malformed or an amount is in another currency (`TALER_EC_GENERIC_JSON_INVALID`, `TALER_EC_GENERIC_PARAMETER_MALFORMED`, `TALER_EC_GENERIC_CURRENCY_MISMATCH`).",
    401 => "Invalid or missing credentials (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token's scope does not allow this (`TALER_EC_GENERIC_FORBIDDEN`).",
    404 => "The account was not found (`TALER_EC_BANK_UNKNOWN_ACCOUNT`).",
    409 => "Only the administrator changes names, contact data, debit thresholds and the exchange flag (`TALER_EC_BANK_NON_ADMIN_PATCH_CONTACT`), and the administrator's account cannot become an exchange (`TALER_EC_BANK_NON_ADMIN_PATCH_LEGAL_NAME`, `TALER_EC_BANK_NON_ADMIN_PATCH_DEBT_LIMIT`, `TALER_EC_BANK_PATCH_ADMIN_EXCHANGE`); a wrong or missing old password (`TALER_EC_BANK_PATCH_BAD_OLD_PASSWORD`, `TALER_EC_BANK_NON_ADMIN_PATCH_MISSING_OLD_PASSWORD`).",
    413 => "The body exceeds the size limit (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    429 => "Too many failed logins: wait `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
    500 => "Database failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
    503 => "Every password worker is busy: retry after `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
});

error_responses!(pub DeleteAccountErrors {
    401 => "Invalid or missing credentials (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token's scope does not allow this (`TALER_EC_GENERIC_FORBIDDEN`).",
    404 => "The account was not found (`TALER_EC_BANK_UNKNOWN_ACCOUNT`).",
    409 => "The balance is not zero, or the account is the administrator's (`TALER_EC_BANK_ACCOUNT_BALANCE_NOT_ZERO`, `TALER_EC_BANK_RESERVED_USERNAME_CONFLICT`).",
    429 => "Too many failed logins: wait `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
    500 => "Database failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
    503 => "Every password worker is busy: retry after `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
});

error_responses!(pub ListAccountsErrors {
    400 => "A query parameter is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    401 => "The administrator token is missing or wrong (`TALER_EC_GENERIC_UNAUTHORIZED`).",
    500 => "Database failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

error_responses!(pub PublicAccountsErrors {
    400 => "A query parameter is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    500 => "Database failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

error_responses!(pub DeleteTokenErrors {
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    404 => "The account was not found (`TALER_EC_BANK_UNKNOWN_ACCOUNT`).",
    500 => "Database failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
});

pub fn balance(currency: &str, a: &Account) -> Balance {
    let units = store::balance_of(a);
    Balance {
        amount: super::amount_of(currency, units),
        credit_debit_indicator: if units < 0 { "debit" } else { "credit" }.to_owned(),
    }
}

pub fn conflict(code: ErrorCode, hint: &str) -> ApiError {
    ApiError::new(code, hint.to_owned())
}
