//! The Taler Wire Gateway's bodies and answers, as the page names them.

use poem_openapi::{ApiResponse, Object, payload::Json};

use crate::taler::text::{Base32Crock32, Base32Crock64, Text};

/// The states of a Wire Gateway transfer (`TransferStatus.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, poem_openapi::Enum)]
#[oai(rename_all = "snake_case")]
pub enum TransferState {
    Pending,
    TransientFailure,
    PermanentFailure,
    Success,
}
use crate::{
    error_responses,
    taler::{Amount, EddsaPublicKey, Timestamp},
};

/// `WireConfig`.
#[derive(Object)]
pub struct WireConfig {
    /// Name of the API ("taler-wire-gateway").
    pub name: String,
    /// libtool-style version of the API.
    pub version: String,
    /// Currency used by this gateway.
    pub currency: String,
    /// URN of the implementation.
    pub implementation: String,
    /// Whether the endpoint for account checks is served (not here).
    pub support_account_check: bool,
}

/// `TransferRequest`.
#[derive(Object)]
pub struct TransferRequest {
    /// Nonce making the request idempotent (a `HashCode`, 64 bytes).
    pub request_uid: Text<Base32Crock64>,
    /// Amount to transfer.
    pub amount: Amount,
    /// Base URL of the exchange (part of the wire transfer subject).
    #[oai(validator(max_length = 512))]
    pub exchange_base_url: String,
    /// Wire transfer identifier chosen by the exchange (a `ShortHashCode`).
    pub wtid: Text<Base32Crock32>,
    /// The account to credit (full payto URI).
    #[oai(validator(max_length = 512))]
    pub credit_account: String,
}

/// `TransferResponse`.
#[derive(Object)]
pub struct TransferResponse {
    /// When the transfer was recorded.
    pub timestamp: Timestamp,
    /// Row id of the transfer.
    pub row_id: u64,
}

/// `TransferListStatus`.
#[derive(Object)]
pub struct TransferListStatus {
    /// Row id of the transfer.
    pub row_id: u64,
    /// "success": transfers between accounts of this bank complete at once.
    pub status: String,
    /// Amount transferred.
    pub amount: Amount,
    /// Full payto URI of the credited account.
    pub credit_account: String,
    /// When the transfer was recorded.
    pub timestamp: Timestamp,
}

/// `TransferList`.
#[derive(Object)]
pub struct TransferList {
    /// The exchange's transfers.
    pub transfers: Vec<TransferListStatus>,
    /// Full payto URI of the exchange's account.
    pub debit_account: String,
}

/// `TransferStatus`.
#[derive(Object)]
pub struct TransferStatus {
    /// "success".
    pub status: String,
    /// Amount transferred.
    pub amount: Amount,
    /// Base URL of the exchange.
    pub exchange_base_url: String,
    /// The wire transfer identifier.
    pub wtid: String,
    /// Full payto URI of the credited account.
    pub credit_account: String,
    /// When the transfer was recorded.
    pub timestamp: Timestamp,
}

/// `IncomingBankTransaction`: `IncomingReserveTransaction` (`type` "RESERVE", with
/// `reserve_pub`) or `IncomingKycAuthTransaction` (`type` "KYCAUTH", with
/// `account_pub`).
#[derive(Object, Clone)]
#[oai(skip_serializing_if_is_none)]
pub struct IncomingBankTransaction {
    /// "RESERVE" or "KYCAUTH".
    #[oai(rename = "type")]
    pub kind: String,
    /// Row id of the transfer.
    pub row_id: u64,
    /// Date of the transfer.
    pub date: Timestamp,
    /// Amount received.
    pub amount: Amount,
    /// Full payto URI of the sender.
    pub debit_account: String,
    /// RESERVE: the reserve public key.
    pub reserve_pub: Option<EddsaPublicKey>,
    /// KYCAUTH: the account public key.
    pub account_pub: Option<EddsaPublicKey>,
}

/// `IncomingHistory`.
#[derive(Object)]
pub struct IncomingHistory {
    /// Incoming transfers, in the direction of `limit`.
    pub incoming_transactions: Vec<IncomingBankTransaction>,
    /// Full payto URI of the exchange's account.
    pub credit_account: String,
}

/// `OutgoingBankTransaction`.
#[derive(Object, Clone)]
pub struct OutgoingBankTransaction {
    /// Row id of the transfer.
    pub row_id: u64,
    /// Date of the transfer.
    pub date: Timestamp,
    /// Amount transferred.
    pub amount: Amount,
    /// Full payto URI of the credited account.
    pub credit_account: String,
    /// The wire transfer identifier.
    pub wtid: String,
    /// Base URL of the exchange.
    pub exchange_base_url: String,
}

/// `OutgoingHistory`.
#[derive(Object)]
pub struct OutgoingHistory {
    /// Outgoing transfers, in the direction of `limit`.
    pub outgoing_transactions: Vec<OutgoingBankTransaction>,
    /// Full payto URI of the exchange's account.
    pub debit_account: String,
}

/// `AddIncomingRequest`.
#[derive(Object)]
pub struct AddIncomingRequest {
    /// Amount to transfer.
    pub amount: Amount,
    /// Reserve public key (the subject).
    pub reserve_pub: EddsaPublicKey,
    /// Full payto URI of the account to debit (of this bank).
    #[oai(validator(max_length = 512))]
    pub debit_account: String,
}

/// `AddKycauthRequest`.
#[derive(Object)]
pub struct AddKycauthRequest {
    /// Amount to transfer.
    pub amount: Amount,
    /// Account public key for KYC authentication.
    pub account_pub: EddsaPublicKey,
    /// Full payto URI of the account to debit (of this bank).
    #[oai(validator(max_length = 512))]
    pub debit_account: String,
}

/// `AddIncomingResponse` (also `AddKycauthResponse`).
#[derive(Object)]
pub struct AddIncomingResponse {
    /// When the transfer was recorded.
    pub timestamp: Timestamp,
    /// Row id of the transfer.
    pub row_id: u64,
}

#[derive(ApiResponse)]
pub enum ConfigFound {
    /// The gateway's configuration.
    #[oai(status = 200)]
    Ok(Json<WireConfig>),
}

#[derive(ApiResponse)]
pub enum TransferDone {
    /// The transfer was made (or had been, for a repeated `request_uid`).
    #[oai(status = 200)]
    Ok(Json<TransferResponse>),
}

#[derive(ApiResponse)]
pub enum TransfersListed {
    /// The exchange's transfers.
    #[oai(status = 200)]
    Ok(Json<TransferList>),
    /// There are none (in this page).
    #[oai(status = 204)]
    Empty,
}

#[derive(ApiResponse)]
pub enum TransferFound {
    /// The transfer.
    #[oai(status = 200)]
    Ok(Json<TransferStatus>),
}

#[derive(ApiResponse)]
pub enum IncomingListed {
    /// Incoming transfers.
    #[oai(status = 200)]
    Ok(Json<IncomingHistory>),
    /// None match (after waiting `timeout_ms`, if given).
    #[oai(status = 204)]
    Empty,
}

#[derive(ApiResponse)]
pub enum OutgoingListed {
    /// Outgoing transfers.
    #[oai(status = 200)]
    Ok(Json<OutgoingHistory>),
    /// None match (after waiting `timeout_ms`, if given).
    #[oai(status = 204)]
    Empty,
}

#[derive(ApiResponse)]
pub enum IncomingAdded {
    /// The incoming transfer was booked.
    #[oai(status = 200)]
    Ok(Json<AddIncomingResponse>),
}

error_responses!(pub GatewayReadErrors {
    400 => "A parameter is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    401 => "Missing, wrong or unknown credentials, or another account's (`TALER_EC_GENERIC_PARAMETER_MISSING`, `TALER_EC_GENERIC_UNAUTHORIZED`).",
    403 => "The token's scope does not allow this (`TALER_EC_GENERIC_FORBIDDEN`).",
    404 => "The account or transfer is unknown (`TALER_EC_BANK_UNKNOWN_ACCOUNT`, `TALER_EC_BANK_TRANSACTION_NOT_FOUND`).",
    409 => "The account is not an exchange's (`TALER_EC_BANK_ACCOUNT_IS_NOT_EXCHANGE`).",
    429 => "Too many failed logins: wait `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
    500 => "Database failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
    503 => "Every password worker is busy: retry after `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
});

error_responses!(pub GatewayWriteErrors {
    400 => "The request is malformed, in another currency, or names a malformed payto URI (`TALER_EC_GENERIC_JSON_INVALID`, `TALER_EC_GENERIC_PARAMETER_MALFORMED`, `TALER_EC_GENERIC_CURRENCY_MISMATCH`, `TALER_EC_BANK_BAD_FORMAT_AMOUNT`, `TALER_EC_BANK_NUMBER_TOO_BIG`).",
    401 => "Missing, wrong or unknown credentials, or another account's (`TALER_EC_GENERIC_PARAMETER_MISSING`, `TALER_EC_GENERIC_UNAUTHORIZED`).",
    403 => "The token's scope does not allow this (`TALER_EC_GENERIC_FORBIDDEN`).",
    404 => "The account is unknown (`TALER_EC_BANK_UNKNOWN_ACCOUNT`).",
    409 => "Not an exchange account, an unknown creditor or debtor, the same account, a balance that would go below its debit threshold, a reused request uid, wtid or reserve key, or two exchanges (`TALER_EC_BANK_ACCOUNT_IS_NOT_EXCHANGE`, `TALER_EC_BANK_ACCOUNT_IS_EXCHANGE`, `TALER_EC_BANK_UNKNOWN_CREDITOR`, `TALER_EC_BANK_UNKNOWN_DEBTOR`, `TALER_EC_BANK_SAME_ACCOUNT`, `TALER_EC_BANK_UNALLOWED_DEBIT`, `TALER_EC_BANK_TRANSFER_REQUEST_UID_REUSED`, `TALER_EC_BANK_TRANSFER_WTID_REUSED`, `TALER_EC_BANK_DUPLICATE_RESERVE_PUB_SUBJECT`).",
    413 => "The body exceeds the size limit (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    429 => "Too many failed logins: wait `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
    500 => "Database failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
    503 => "Every password worker is busy: retry after `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
});
