//! Transfers of the core bank API: `/accounts/$USERNAME/transactions[/$ID]`: make
//! one, and read the account's history (every transfer into or out of it) with
//! row-id pages and long polling.

use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Header, Path, Query},
    payload::Json,
};

use crate::taler::text::{PaytoUri, Text};
use crate::{
    bank::{
        auth::{self, BankCredentials, Need},
        ledger::{ADMIN_ACCOUNT, book, new_transfer},
        payto::{Payto, accounts_payto},
        tags::ApiTags,
        tan::{self, ChallengeResponse, Gate, Op},
    },
    error_responses,
    http::JsonBody,
    longpoll::{self, MayPark},
    state::State,
    store::bank::{self as store, HistoryKind, Movement},
    taler::{
        Amount, ApiError, ErrorCode, Timestamp, keys,
        pagination::{Page, PageLimit},
    },
};

/// `BankAccountTransactionInfo`.
#[derive(Object, Clone)]
pub struct BankAccountTransactionInfo {
    /// Full payto URI of the creditor.
    pub creditor_payto_uri: String,
    /// Full payto URI of the debtor.
    pub debtor_payto_uri: String,
    /// The amount transferred.
    pub amount: Amount,
    /// "debit" (out of the account) or "credit" (into it).
    pub direction: String,
    /// The wire transfer subject.
    pub subject: String,
    /// Transaction unique ID (the row id of the histories).
    pub row_id: u64,
    /// Date of the transaction.
    pub date: Timestamp,
}

/// `BankAccountTransactionsResponse`.
#[derive(Object)]
pub struct BankAccountTransactionsResponse {
    /// The transfers, in the direction of `limit`.
    pub transactions: Vec<BankAccountTransactionInfo>,
}

#[derive(ApiResponse)]
pub enum TransactionsListed {
    /// Transfers of the account.
    #[oai(status = 200)]
    Ok(Json<BankAccountTransactionsResponse>),
    /// No transfers match (after waiting `timeout_ms`, if given).
    #[oai(status = 204)]
    Empty,
}

#[derive(ApiResponse)]
pub enum TransactionFound {
    /// The transfer.
    #[oai(status = 200)]
    Ok(Json<BankAccountTransactionInfo>),
}

error_responses!(TransactionsErrors {
    400 => "A query parameter is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    401 => "Missing, wrong or unknown credentials, or another account's (`TALER_EC_GENERIC_PARAMETER_MISSING`, `TALER_EC_GENERIC_UNAUTHORIZED`).",
    403 => "The token's scope does not allow reading the account (`TALER_EC_GENERIC_FORBIDDEN`).",
    404 => "The account `$USERNAME` was not found (`TALER_EC_BANK_UNKNOWN_ACCOUNT`).",
    429 => "Too many failed logins on this account or from this address: wait `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
    500 => "Database failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
    503 => "Every password worker is busy: retry after `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
});

error_responses!(TransactionErrors {
    400 => "The `Authorization` header is malformed (`TALER_EC_GENERIC_HTTP_HEADERS_MALFORMED`).",
    401 => "Missing, wrong or unknown credentials, or another account's (`TALER_EC_GENERIC_PARAMETER_MISSING`, `TALER_EC_GENERIC_UNAUTHORIZED`).",
    403 => "The token's scope does not allow reading the account (`TALER_EC_GENERIC_FORBIDDEN`).",
    404 => "The account or the transfer (of this account) was not found (`TALER_EC_BANK_UNKNOWN_ACCOUNT`, `TALER_EC_BANK_TRANSACTION_NOT_FOUND`).",
    429 => "Too many failed logins on this account or from this address: wait `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
    500 => "Database failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
    503 => "Every password worker is busy: retry after `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
});

fn info(
    state: &crate::state::AppState,
    account: i64,
    (t, debtor, creditor): Movement,
) -> Result<BankAccountTransactionInfo, ApiError> {
    Ok(BankAccountTransactionInfo {
        creditor_payto_uri: accounts_payto(&state.config.bank_wire, &creditor),
        debtor_payto_uri: accounts_payto(&state.config.bank_wire, &debtor),
        amount: t
            .amount
            .parse()
            .map_err(|e| ApiError::db_fetch(format!("stored amount: {e}")))?,
        direction: if t.debtor_account_id == account {
            "debit"
        } else {
            "credit"
        }
        .to_owned(),
        subject: t.subject,
        row_id: t.row_id as u64,
        date: Timestamp::from_db(t.date),
    })
}

/// `CreateTransactionRequest`.
#[derive(Object)]
pub struct CreateTransactionRequest {
    /// Payto URI of the receiver, with at least the `message` query parameter.
    pub payto_uri: Text<PaytoUri>,
    /// Transaction amount; the payto URI's `amount` parameter takes precedence.
    pub amount: Option<Amount>,
    /// Nonce making the request idempotent (a `ShortHashCode`).
    pub request_uid: Option<String>,
}

/// `CreateTransactionResponse`.
#[derive(Object)]
pub struct CreateTransactionResponse {
    /// ID identifying the transaction being created.
    pub row_id: u64,
}

#[derive(ApiResponse)]
pub enum TransactionCreated {
    /// The transfer was recorded (or had been, for a repeated `request_uid`).
    #[oai(status = 200)]
    Ok(Json<CreateTransactionResponse>),
    /// The debtor has a second factor: solve a challenge, then repeat the request with
    /// its id in `Taler-Challenge-Ids`.
    #[oai(status = 202)]
    Challenge(Json<ChallengeResponse>),
}

error_responses!(pub PostTransactionErrors {
    400 => "The request or its payto URI is invalid, the amount is missing or in another currency (`TALER_EC_GENERIC_JSON_INVALID`, `TALER_EC_GENERIC_PARAMETER_MALFORMED`, `TALER_EC_GENERIC_PARAMETER_MISSING`, `TALER_EC_GENERIC_CURRENCY_MISMATCH`, `TALER_EC_BANK_BAD_FORMAT_AMOUNT`, `TALER_EC_BANK_NUMBER_TOO_BIG`).",
    401 => "Missing, wrong or unknown credentials, or another account's (`TALER_EC_GENERIC_PARAMETER_MISSING`, `TALER_EC_GENERIC_UNAUTHORIZED`).",
    403 => "The token's scope does not allow transfers (`TALER_EC_GENERIC_FORBIDDEN`).",
    404 => "The account `$USERNAME` was not found (`TALER_EC_BANK_UNKNOWN_ACCOUNT`).",
    409 => "Same account, unknown creditor, amount below the credit fee, a balance that would go below the debit threshold, a reused request uid, the administrator as creditor, or an exchange paying an exchange (`TALER_EC_BANK_SAME_ACCOUNT`, `TALER_EC_BANK_UNKNOWN_CREDITOR`, `TALER_EC_BANK_UNALLOWED_DEBIT`, `TALER_EC_BANK_TRANSFER_REQUEST_UID_REUSED`, `TALER_EC_BANK_ADMIN_CREDITOR`, `TALER_EC_BANK_ACCOUNT_IS_EXCHANGE`).",
    413 => "The body exceeds the size limit (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    429 => "Too many failed logins on this account or from this address: wait `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
    500 => "Database failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
    503 => "Every password worker is busy: retry after `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
});

pub struct HistoryApi(pub State);

#[OpenApi(tag = "ApiTags::Accounts")]
impl HistoryApi {
    /// Transfers of an account
    ///
    /// Into and out of the account. Row-id pagination: `limit` > 0 ascending, < 0
    /// descending (default -20), `offset` the row id to start after. With `timeout_ms`
    /// and a positive `limit`, waits for a transfer after `offset`. The account itself
    /// (password, `readonly` or `readwrite` token) or the administrator.
    #[oai(
        path = "/accounts/:USERNAME/transactions",
        method = "get",
        operation_id = "bank_get_account_transactions"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        mut credentials: BankCredentials,
        /// Account name.
        #[oai(name = "USERNAME")]
        username: Path<String>,
        /// At most this many transfers; negative for descending by row id. Default -20.
        limit: Query<Option<PageLimit>>,
        /// Row id to start after.
        #[oai(validator(minimum(value = "0")))]
        offset: Query<Option<i64>>,
        /// Long polling: milliseconds to wait for a transfer (positive `limit`).
        timeout_ms: Query<Option<u64>>,
        /// Deprecated: use `limit`.
        #[oai(deprecated)]
        delta: Query<Option<PageLimit>>,
        /// Deprecated: use `offset`.
        #[oai(deprecated, validator(minimum(value = "0")))]
        start: Query<Option<i64>>,
        /// Deprecated: use `timeout_ms`.
        #[oai(deprecated)]
        long_poll_ms: Query<Option<u64>>,
    ) -> Result<MayPark<TransactionsListed>, TransactionsErrors> {
        let account = auth::authorize(&self.0, &username, &mut credentials, Need::Read).await?;
        let page = Page::new(limit.0.or(delta.0), offset.0.or(start.0))?;
        let id = account.account_id;
        let timeout = page.wait_ms(timeout_ms.0.or(long_poll_ms.0));
        let state = self.0.clone();
        longpoll::respond(
            &self.0.incoming,
            id,
            timeout,
            TransactionsListed::Empty,
            move |_| {
                let state = state.clone();
                async move {
                    let rows = store::history(&state.db, id, HistoryKind::All, page, None)
                        .await
                        .map_err(ApiError::db_fetch)?;
                    if rows.is_empty() {
                        return Ok(None);
                    }
                    let transactions = rows
                        .into_iter()
                        .map(|m| info(&state, id, m))
                        .collect::<Result<_, _>>()?;
                    Ok(Some(TransactionsListed::Ok(Json(
                        BankAccountTransactionsResponse { transactions },
                    ))))
                }
            },
        )
        .await
    }

    /// One transfer of an account
    ///
    /// The account itself or the administrator.
    #[oai(
        path = "/accounts/:USERNAME/transactions/:transaction_id",
        method = "get",
        operation_id = "bank_get_account_transaction"
    )]
    async fn get(
        &self,
        mut credentials: BankCredentials,
        /// Account name.
        #[oai(name = "USERNAME")]
        username: Path<String>,
        /// The transfer's row id.
        transaction_id: Path<u64>,
    ) -> Result<TransactionFound, TransactionErrors> {
        let account = auth::authorize(&self.0, &username, &mut credentials, Need::Read).await?;
        let not_found = || {
            ApiError::new(
                ErrorCode::BankTransactionNotFound,
                format!(
                    "account `{}` has no transfer {}",
                    username.0, transaction_id.0
                ),
            )
        };
        let row_id = i64::try_from(transaction_id.0).map_err(|_| not_found())?;
        let page = Page::new(None, None)?;
        let found = store::history(
            &self.0.db,
            account.account_id,
            HistoryKind::All,
            page,
            Some(row_id),
        )
        .await
        .map_err(ApiError::db_fetch)?
        .into_iter()
        .next()
        .ok_or_else(not_found)?;
        Ok(TransactionFound::Ok(Json(info(
            &self.0,
            account.account_id,
            found,
        )?)))
    }

    /// Transfer money
    ///
    /// Debits `$USERNAME` and credits the account the payto URI names; the
    /// `message` parameter of the payto URI is the subject. The transfer appears in
    /// the creditor's Revenue API history and wakes its long pollers.
    #[oai(
        path = "/accounts/:USERNAME/transactions",
        method = "post",
        operation_id = "bank_post_account_transactions"
    )]
    async fn post_transaction(
        &self,
        mut credentials: BankCredentials,
        /// Account name of the debtor.
        #[oai(name = "USERNAME")]
        username: Path<String>,
        /// Solved challenges of this transfer (comma-separated ids).
        #[oai(name = "Taler-Challenge-Ids", validator(max_length = 512))]
        challenge_ids: Header<Option<String>>,
        body: JsonBody<CreateTransactionRequest>,
    ) -> Result<TransactionCreated, PostTransactionErrors> {
        let debtor = auth::authorize(&self.0, &username, &mut credentials, Need::ReadWrite).await?;
        let req = body.0;
        let hash = tan::body_hash(Op::BankTransaction, &tan::canonical(&req));
        let payto = Payto::parse(&req.payto_uri, "payto_uri")?;
        // An empty `message` is a subject, as libeufin-bank takes it (a transfer to an
        // exchange with one is bounced); no `message` at all is 400.
        let subject = payto
            .param("message")
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::GenericParameterMissing,
                    "the payto URI needs a `message` parameter",
                )
                .parameter("payto_uri")
            })?
            .to_owned();
        let amount: Amount = match payto.param("amount") {
            Some(text) => text.parse().map_err(|e| {
                ApiError::malformed("payto_uri", format!("amount in payto URI: {e}"))
            })?,
            None => req.amount.ok_or_else(|| {
                ApiError::new(ErrorCode::GenericParameterMissing, "no amount given")
                    .parameter("amount")
            })?,
        };
        if let Some(uid) = &req.request_uid
            && keys::decode(uid, 32).is_none()
        {
            return Err(ApiError::malformed(
                "request_uid",
                "request_uid must be a ShortHashCode (32 bytes, Crockford base32)",
            )
            .into());
        }
        let creditor = store::find_account_by_payto(&self.0.db, &payto.key)
            .await
            .map_err(ApiError::db_fetch)?
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::BankUnknownCreditor,
                    format!("no account of this bank is `{}`", payto.key),
                )
            })?;
        if creditor.username == ADMIN_ACCOUNT {
            return Err(ApiError::new(
                ErrorCode::BankAdminCreditor,
                "the administrator's account receives no transfers",
            )
            .into());
        }
        if creditor.is_taler_exchange && debtor.is_taler_exchange {
            return Err(ApiError::new(
                ErrorCode::BankAccountIsExchange,
                "an exchange pays another exchange through the Wire Gateway, not here",
            )
            .into());
        }
        // A transfer to an exchange is an incoming Wire Gateway transfer when its
        // subject names a reserve (or KYC) key not used before; otherwise the bank
        // returns the money in the same database transaction (see `store::transfer`).
        let taler = if creditor.is_taler_exchange {
            crate::bank::ledger::incoming_metadata(&subject)
        } else {
            Default::default()
        };
        let mut new = new_transfer(
            &self.0,
            &debtor,
            &creditor,
            &amount,
            subject,
            req.request_uid,
            taler,
        )
        .await?;
        new.bounce_unless_incoming = creditor.is_taler_exchange;
        // The second factor comes last, so that no code goes out for a transfer the
        // bank refuses anyway; its challenge is used up in the transfer's transaction.
        let ids = tan::header_ids(challenge_ids.0.as_deref());
        let admin = credentials.is_admin();
        match tan::second_factor(&self.0, &debtor, admin, Op::BankTransaction, &hash, &ids).await? {
            Gate::Open(serials) => new.challenge = serials.first().copied(),
            Gate::Challenge(c) => return Ok(TransactionCreated::Challenge(Json(c))),
        }
        let (row_id, _) = book(&self.0, new).await?;
        Ok(TransactionCreated::Ok(Json(CreateTransactionResponse {
            row_id,
        })))
    }
}
