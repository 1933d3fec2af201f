//! The Taler Wire Gateway of an exchange account:
//! `/accounts/$USERNAME/taler-wire-gateway/...`, as libeufin-bank serves it. The
//! exchange wires money out (`transfer`, idempotent by `request_uid`), reads its
//! outgoing and incoming histories (with long polling), and, for tests and
//! integration, books incoming reserve and KYC transfers (`admin/add-incoming`,
//! `admin/add-kycauth`).

use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};

use crate::taler::text::{Base32Crock32, Base32Crock64, Text};
use crate::{
    bank::{
        auth::{self, BankCredentials, Need},
        payto::{Payto, accounts_payto},
        tags::ApiTags,
    },
    error_responses,
    longpoll::{self, MayPark},
    state::AppState,
    state::State,
    store::bank::{
        self as store, Account, HistoryKind, NewTransfer, TalerMetadata, TransferOutcome,
    },
    taler::{
        Amount, ApiError, EddsaPublicKey, ErrorCode, Timestamp,
        amount::require_currency,
        keys,
        pagination::{Page, PageLimit},
    },
};

/// Version of the Wire Gateway API served (libtool style).
const WIRE_GATEWAY_VERSION: &str = "4:0:0";

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
    pub origin_exchange_url: String,
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

error_responses!(GatewayReadErrors {
    400 => "A parameter is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    401 => "Invalid or missing credentials (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token's scope does not allow this (`TALER_EC_GENERIC_FORBIDDEN`).",
    404 => "The account or transfer is unknown (`TALER_EC_BANK_UNKNOWN_ACCOUNT`, `TALER_EC_BANK_TRANSACTION_NOT_FOUND`).",
    409 => "The account is not an exchange's (`TALER_EC_BANK_ACCOUNT_IS_NOT_EXCHANGE`).",
    429 => "Too many failed logins: wait `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
    500 => "Database failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
    503 => "Every password worker is busy: retry after `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
});

error_responses!(GatewayWriteErrors {
    400 => "The request is malformed, in another currency, or names a malformed payto URI (`TALER_EC_GENERIC_JSON_INVALID`, `TALER_EC_GENERIC_PARAMETER_MALFORMED`, `TALER_EC_GENERIC_CURRENCY_MISMATCH`).",
    401 => "Invalid or missing credentials (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token's scope does not allow this (`TALER_EC_GENERIC_FORBIDDEN`).",
    404 => "The account is unknown (`TALER_EC_BANK_UNKNOWN_ACCOUNT`).",
    409 => "Not an exchange account, an unknown creditor or debtor, the same account, a balance that would go below its debit threshold, or a reused request uid, wtid or reserve key (`TALER_EC_BANK_ACCOUNT_IS_NOT_EXCHANGE`, `TALER_EC_BANK_UNKNOWN_CREDITOR`, `TALER_EC_BANK_UNKNOWN_DEBTOR`, `TALER_EC_BANK_SAME_ACCOUNT`, `TALER_EC_BANK_UNALLOWED_DEBIT`, `TALER_EC_BANK_TRANSFER_REQUEST_UID_REUSED`, `TALER_EC_BANK_TRANSFER_WTID_REUSED`, `TALER_EC_BANK_DUPLICATE_RESERVE_PUB_SUBJECT`).",
    413 => "The body exceeds the size limit (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    429 => "Too many failed logins: wait `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
    500 => "Database failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
    503 => "Every password worker is busy: retry after `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
});

/// The reserve or KYC key a wire transfer subject names, as libeufin-bank reads it:
/// a 52-character Crockford base32 token that decodes to 32 bytes; after `KYC` it is
/// an account key for KYC authentication.
pub fn incoming_metadata(subject: &str) -> TalerMetadata {
    let tokens: Vec<&str> = subject
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
        .collect();
    for (i, token) in tokens.iter().enumerate() {
        let upper = token.to_ascii_uppercase();
        if upper.len() == 52 && keys::decode(&upper, 32).is_some() {
            let kyc = i > 0 && tokens[i - 1].eq_ignore_ascii_case("KYC");
            return if kyc {
                TalerMetadata {
                    account_pub: Some(upper),
                    ..Default::default()
                }
            } else {
                TalerMetadata {
                    reserve_pub: Some(upper),
                    ..Default::default()
                }
            };
        }
    }
    TalerMetadata::default()
}

/// The gateway's account: authorized, and an exchange's.
async fn exchange(
    state: &State,
    username: &str,
    credentials: &BankCredentials,
    need: Need,
) -> Result<Account, ApiError> {
    let account = auth::authorize(state, username, credentials, need).await?;
    if !account.is_taler_exchange {
        return Err(ApiError::new(
            ErrorCode::BankAccountIsNotExchange,
            format!("account `{username}` is not an exchange's"),
        ));
    }
    Ok(account)
}

/// The account a payto URI of this bank names.
async fn account_of(state: &State, payto: &str, code: ErrorCode) -> Result<Account, ApiError> {
    let key = Payto::parse(payto)?.key;
    store::find_account_by_payto(&state.db, &key)
        .await
        .map_err(ApiError::db_fetch)?
        .ok_or_else(|| ApiError::new(code, format!("no account of this bank is `{key}`")))
}

fn amount(text: &str) -> Result<Amount, ApiError> {
    text.parse()
        .map_err(|e| ApiError::db_fetch(format!("stored amount: {e}")))
}

fn key(text: &str) -> Result<EddsaPublicKey, ApiError> {
    text.parse()
        .map_err(|_| ApiError::db_fetch("stored key is malformed"))
}

/// Books a transfer and maps its outcome; wakes the pollers of both accounts. Every
/// transfer of the bank goes through here (core, Wire Gateway).
pub(crate) async fn book(state: &State, new: NewTransfer) -> Result<(u64, Timestamp), ApiError> {
    let (debtor, creditor) = (new.debtor, new.creditor);
    let outcome = store::transfer(&state.db, new)
        .await
        .map_err(ApiError::db_store)?;
    let conflict = |code, hint: &str| Err(ApiError::new(code, hint.to_owned()));
    match outcome {
        TransferOutcome::Done(row_id, date) => {
            for account in [creditor, debtor] {
                if let Err(e) = state.incoming.notify(&state.db, account).await {
                    tracing::warn!(error = %e, "could not notify long pollers");
                }
            }
            Ok((row_id as u64, Timestamp::from_db(date)))
        }
        TransferOutcome::RequestUidReused => conflict(
            ErrorCode::BankTransferRequestUidReused,
            "request_uid was used for a different transfer",
        ),
        TransferOutcome::WtidReused => conflict(
            ErrorCode::BankTransferWtidReused,
            "wtid was used for a different transfer",
        ),
        TransferOutcome::ReservePubReused => conflict(
            ErrorCode::BankDuplicateReservePubSubject,
            "this reserve public key was used before",
        ),
        TransferOutcome::UnallowedDebit => conflict(
            ErrorCode::BankUnallowedDebit,
            "the transfer would take the debtor below its debit threshold",
        ),
    }
}

/// A transfer between two accounts of this bank, with the credit fee as configured:
/// the checks every transfer passes (currency, not zero, two accounts, above the fee).
pub(crate) async fn new_transfer(
    state: &State,
    debtor: &Account,
    creditor: &Account,
    amount: &Amount,
    subject: String,
    request_uid: Option<String>,
    taler: TalerMetadata,
) -> Result<NewTransfer, ApiError> {
    require_currency(amount, &state.config.currency, "amount")?;
    if amount.is_zero() {
        return Err(ApiError::malformed("amount", "the amount must not be zero"));
    }
    if debtor.account_id == creditor.account_id {
        return Err(ApiError::new(
            ErrorCode::BankSameAccount,
            "debtor and creditor are the same account",
        ));
    }
    let fee = state.config.bank_credit_fee.as_ref();
    if let Some(fee) = fee
        && amount.cmp_same_currency(fee) != Some(std::cmp::Ordering::Greater)
    {
        return Err(ApiError::new(
            ErrorCode::BankUnallowedDebit,
            format!("the amount does not exceed the credit fee {fee}"),
        ));
    }
    Ok(NewTransfer {
        debtor: debtor.account_id,
        creditor: creditor.account_id,
        amount: amount.to_string(),
        amount_units: crate::bank::ledger::units(amount),
        credit_fee: fee.map(ToString::to_string),
        fee_units: fee.map_or(0, crate::bank::ledger::units),
        fee_account: Some(state.bank_admin_account),
        subject,
        date: Timestamp::now().to_db(),
        request_uid,
        taler,
    })
}

pub struct WireGatewayApi(pub State);

#[OpenApi(tag = "ApiTags::WireGateway")]
impl WireGatewayApi {
    /// Wire Gateway configuration
    ///
    /// Public.
    #[oai(
        path = "/accounts/:USERNAME/taler-wire-gateway/config",
        method = "get",
        operation_id = "bank_get_wire_gateway_config"
    )]
    async fn config(
        &self,
        /// Account name.
        #[oai(name = "USERNAME")]
        _username: Path<String>,
    ) -> ConfigFound {
        ConfigFound::Ok(Json(WireConfig {
            name: "taler-wire-gateway".to_owned(),
            version: WIRE_GATEWAY_VERSION.to_owned(),
            currency: self.0.config.currency.clone(),
            implementation: "urn:net:taler:specs:bank:taler-openapi".to_owned(),
            support_account_check: false,
        }))
    }

    /// Make a transfer
    ///
    /// The exchange pays a merchant (or anyone with an account of this bank): the
    /// subject is `wtid exchange_base_url`. Idempotent by `request_uid`: the same request
    /// again gets the same answer, another request with it is 409, as is a `wtid` used
    /// before. The exchange's account (`wiregateway` or `readwrite` token, or password).
    #[oai(
        path = "/accounts/:USERNAME/taler-wire-gateway/transfer",
        method = "post",
        operation_id = "bank_post_wire_gateway_transfer"
    )]
    async fn transfer(
        &self,
        credentials: BankCredentials,
        /// Account name of the exchange.
        #[oai(name = "USERNAME")]
        username: Path<String>,
        body: crate::http::JsonBody<TransferRequest>,
    ) -> Result<TransferDone, GatewayWriteErrors> {
        let exchange = exchange(&self.0, &username, &credentials, Need::WireGateway).await?;
        let req = body.0;
        url::Url::parse(&req.exchange_base_url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| {
                ApiError::malformed(
                    "exchange_base_url",
                    "exchange_base_url: must be an http(s) URL",
                )
            })?;
        let creditor =
            account_of(&self.0, &req.credit_account, ErrorCode::BankUnknownCreditor).await?;
        let subject = format!("{} {}", req.wtid, req.exchange_base_url);
        let new = new_transfer(
            &self.0,
            &exchange,
            &creditor,
            &req.amount,
            subject,
            Some(req.request_uid.into()),
            TalerMetadata {
                wtid: Some(req.wtid.into()),
                exchange_base_url: Some(req.exchange_base_url),
                ..Default::default()
            },
        )
        .await?;
        let (row_id, timestamp) = book(&self.0, new).await?;
        Ok(TransferDone::Ok(Json(TransferResponse {
            timestamp,
            row_id,
        })))
    }

    /// The exchange's transfers
    ///
    /// Row-id pagination (`limit` default -20, `offset`).
    #[oai(
        path = "/accounts/:USERNAME/taler-wire-gateway/transfers",
        method = "get",
        operation_id = "bank_get_wire_gateway_transfers"
    )]
    async fn transfers(
        &self,
        credentials: BankCredentials,
        /// Account name of the exchange.
        #[oai(name = "USERNAME")]
        username: Path<String>,
        /// At most this many transfers; negative for descending by row id. Default -20.
        limit: Query<Option<PageLimit>>,
        /// Row id to start after.
        #[oai(validator(minimum(value = "0")))]
        offset: Query<Option<i64>>,
    ) -> Result<TransfersListed, GatewayReadErrors> {
        let exchange = exchange(&self.0, &username, &credentials, Need::WireGatewayRead).await?;
        let rows = outgoing(&self.0, exchange.account_id, Page::new(limit.0, offset.0)?).await?;
        if rows.is_empty() {
            return Ok(TransfersListed::Empty);
        }
        let transfers = rows
            .into_iter()
            .map(|t| TransferListStatus {
                row_id: t.row_id,
                status: "success".to_owned(),
                amount: t.amount,
                credit_account: t.credit_account,
                timestamp: t.date,
            })
            .collect();
        Ok(TransfersListed::Ok(Json(TransferList {
            transfers,
            debit_account: accounts_payto(&exchange),
        })))
    }

    /// One of the exchange's transfers
    ///
    /// Its status (transfers within this bank complete at once), amount, `wtid` and
    /// creditor.
    #[oai(
        path = "/accounts/:USERNAME/taler-wire-gateway/transfers/:ROW_ID",
        method = "get",
        operation_id = "bank_get_wire_gateway_transfer"
    )]
    async fn transfer_status(
        &self,
        credentials: BankCredentials,
        /// Account name of the exchange.
        #[oai(name = "USERNAME")]
        username: Path<String>,
        /// Row id of the transfer.
        #[oai(name = "ROW_ID")]
        row_id: Path<u64>,
    ) -> Result<TransferFound, GatewayReadErrors> {
        let exchange = exchange(&self.0, &username, &credentials, Need::WireGatewayRead).await?;
        let not_found = || {
            ApiError::new(
                ErrorCode::BankTransactionNotFound,
                format!("the exchange made no transfer {}", row_id.0),
            )
        };
        let id = i64::try_from(row_id.0).map_err(|_| not_found())?;
        let page = Page::new(None, None)?;
        let (t, _, creditor) = store::history(
            &self.0.db,
            exchange.account_id,
            HistoryKind::TalerOutgoing,
            page,
            Some(id),
        )
        .await
        .map_err(ApiError::db_fetch)?
        .into_iter()
        .next()
        .ok_or_else(not_found)?;
        Ok(TransferFound::Ok(Json(TransferStatus {
            status: "success".to_owned(),
            amount: amount(&t.amount)?,
            origin_exchange_url: t.exchange_base_url.unwrap_or_default(),
            wtid: t.wtid.unwrap_or_default(),
            credit_account: accounts_payto(&creditor),
            timestamp: Timestamp::from_db(t.date),
        })))
    }

    /// Incoming transfers of the exchange
    ///
    /// Reserve and KYC transfers into the exchange's account. Row-id pagination; with
    /// `timeout_ms` and a positive `limit`, waits for one.
    #[oai(
        path = "/accounts/:USERNAME/taler-wire-gateway/history/incoming",
        method = "get",
        operation_id = "bank_get_wire_gateway_history_incoming"
    )]
    async fn history_incoming(
        &self,
        credentials: BankCredentials,
        /// Account name of the exchange.
        #[oai(name = "USERNAME")]
        username: Path<String>,
        /// At most this many transfers; negative for descending by row id. Default -20.
        limit: Query<Option<PageLimit>>,
        /// Row id to start after.
        #[oai(validator(minimum(value = "0")))]
        offset: Query<Option<i64>>,
        /// Long polling: milliseconds to wait for a transfer (positive `limit`).
        timeout_ms: Query<Option<u64>>,
    ) -> Result<MayPark<IncomingListed>, GatewayReadErrors> {
        let exchange = exchange(&self.0, &username, &credentials, Need::WireGatewayRead).await?;
        let page = Page::new(limit.0, offset.0)?;
        let timeout = page.wait_ms(timeout_ms.0);
        let id = exchange.account_id;
        let credit_account = accounts_payto(&exchange);
        let state = self.0.clone();
        longpoll::respond(
            &self.0.incoming,
            id,
            timeout,
            IncomingListed::Empty,
            move |_| {
                let (state, credit_account) = (state.clone(), credit_account.clone());
                async move {
                    let rows = incoming(&state, id, page).await?;
                    Ok(
                        (!rows.is_empty()).then_some(IncomingListed::Ok(Json(IncomingHistory {
                            incoming_transactions: rows,
                            credit_account,
                        }))),
                    )
                }
            },
        )
        .await
    }

    /// Outgoing transfers of the exchange
    ///
    /// Its Wire Gateway transfers. Row-id pagination; with `timeout_ms` and a positive
    /// `limit`, waits for one.
    #[oai(
        path = "/accounts/:USERNAME/taler-wire-gateway/history/outgoing",
        method = "get",
        operation_id = "bank_get_wire_gateway_history_outgoing"
    )]
    async fn history_outgoing(
        &self,
        credentials: BankCredentials,
        /// Account name of the exchange.
        #[oai(name = "USERNAME")]
        username: Path<String>,
        /// At most this many transfers; negative for descending by row id. Default -20.
        limit: Query<Option<PageLimit>>,
        /// Row id to start after.
        #[oai(validator(minimum(value = "0")))]
        offset: Query<Option<i64>>,
        /// Long polling: milliseconds to wait for a transfer (positive `limit`).
        timeout_ms: Query<Option<u64>>,
    ) -> Result<MayPark<OutgoingListed>, GatewayReadErrors> {
        let exchange = exchange(&self.0, &username, &credentials, Need::WireGatewayRead).await?;
        let page = Page::new(limit.0, offset.0)?;
        let timeout = page.wait_ms(timeout_ms.0);
        let id = exchange.account_id;
        let debit_account = accounts_payto(&exchange);
        let state = self.0.clone();
        longpoll::respond(
            &self.0.incoming,
            id,
            timeout,
            OutgoingListed::Empty,
            move |_| {
                let (state, debit_account) = (state.clone(), debit_account.clone());
                async move {
                    let rows = outgoing(&state, id, page).await?;
                    Ok(
                        (!rows.is_empty()).then_some(OutgoingListed::Ok(Json(OutgoingHistory {
                            outgoing_transactions: rows,
                            debit_account,
                        }))),
                    )
                }
            },
        )
        .await
    }

    /// Book an incoming reserve transfer
    ///
    /// For tests and integration: `debit_account` (of this bank) pays the exchange with
    /// the reserve public key as subject. A key used before is 409.
    #[oai(
        path = "/accounts/:USERNAME/taler-wire-gateway/admin/add-incoming",
        method = "post",
        operation_id = "bank_post_wire_gateway_add_incoming"
    )]
    async fn add_incoming(
        &self,
        credentials: BankCredentials,
        /// Account name of the exchange.
        #[oai(name = "USERNAME")]
        username: Path<String>,
        body: crate::http::JsonBody<AddIncomingRequest>,
    ) -> Result<IncomingAdded, GatewayWriteErrors> {
        let req = body.0;
        let reserve_pub = req.reserve_pub.to_string();
        self.add(
            &username,
            &credentials,
            &req.amount,
            &req.debit_account,
            reserve_pub.clone(),
            TalerMetadata {
                reserve_pub: Some(reserve_pub),
                ..Default::default()
            },
        )
        .await
    }

    /// Book an incoming KYC authentication transfer
    ///
    /// For tests and integration: `debit_account` pays the exchange with `KYC` and the
    /// account public key as subject.
    #[oai(
        path = "/accounts/:USERNAME/taler-wire-gateway/admin/add-kycauth",
        method = "post",
        operation_id = "bank_post_wire_gateway_add_kycauth"
    )]
    async fn add_kycauth(
        &self,
        credentials: BankCredentials,
        /// Account name of the exchange.
        #[oai(name = "USERNAME")]
        username: Path<String>,
        body: crate::http::JsonBody<AddKycauthRequest>,
    ) -> Result<IncomingAdded, GatewayWriteErrors> {
        let req = body.0;
        let account_pub = req.account_pub.to_string();
        self.add(
            &username,
            &credentials,
            &req.amount,
            &req.debit_account,
            format!("KYC:{account_pub}"),
            TalerMetadata {
                account_pub: Some(account_pub),
                ..Default::default()
            },
        )
        .await
    }
}

impl WireGatewayApi {
    /// `admin/add-incoming` and `admin/add-kycauth`: the debtor pays the exchange.
    async fn add(
        &self,
        username: &str,
        credentials: &BankCredentials,
        amount: &Amount,
        debit_account: &str,
        subject: String,
        taler: TalerMetadata,
    ) -> Result<IncomingAdded, GatewayWriteErrors> {
        let exchange = exchange(&self.0, username, credentials, Need::WireGateway).await?;
        let debtor = account_of(&self.0, debit_account, ErrorCode::BankUnknownDebtor).await?;
        let new = new_transfer(&self.0, &debtor, &exchange, amount, subject, None, taler).await?;
        let (row_id, timestamp) = book(&self.0, new).await?;
        Ok(IncomingAdded::Ok(Json(AddIncomingResponse {
            timestamp,
            row_id,
        })))
    }
}

/// A page of the exchange's incoming history (reserve and KYC transfers) as the Wire
/// Gateway shows it.
async fn incoming(
    state: &AppState,
    account: i64,
    page: Page,
) -> Result<Vec<IncomingBankTransaction>, ApiError> {
    let rows = store::history(&state.db, account, HistoryKind::TalerIncoming, page, None)
        .await
        .map_err(ApiError::db_fetch)?;
    rows.into_iter()
        .map(|(t, debtor, _)| {
            Ok(IncomingBankTransaction {
                kind: if t.reserve_pub.is_some() {
                    "RESERVE"
                } else {
                    "KYCAUTH"
                }
                .to_owned(),
                row_id: t.row_id as u64,
                date: Timestamp::from_db(t.date),
                amount: amount(&t.amount)?,
                debit_account: accounts_payto(&debtor),
                reserve_pub: t.reserve_pub.as_deref().map(key).transpose()?,
                account_pub: t.account_pub.as_deref().map(key).transpose()?,
            })
        })
        .collect()
}

/// A page of the exchange's outgoing history as the Wire Gateway shows it.
async fn outgoing(
    state: &AppState,
    account: i64,
    page: Page,
) -> Result<Vec<OutgoingBankTransaction>, ApiError> {
    let rows = store::history(&state.db, account, HistoryKind::TalerOutgoing, page, None)
        .await
        .map_err(ApiError::db_fetch)?;
    rows.into_iter()
        .map(|(t, _, creditor)| {
            Ok(OutgoingBankTransaction {
                row_id: t.row_id as u64,
                date: Timestamp::from_db(t.date),
                amount: amount(&t.amount)?,
                credit_account: accounts_payto(&creditor),
                wtid: t.wtid.unwrap_or_default(),
                exchange_base_url: t.exchange_base_url.unwrap_or_default(),
            })
        })
        .collect()
}
