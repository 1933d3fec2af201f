//! Withdrawals of the core bank API: `/accounts/$USERNAME/withdrawals[/$ID/confirm|abort]`
//! and `/withdrawals/$ID`. The owner creates an operation and hands its
//! `taler://withdraw` URI to a wallet; the wallet selects a reserve key and an exchange
//! through the Bank Integration API (`integration`); the owner confirms, and the money
//! moves to the exchange with the reserve key as subject in one database transaction
//! that also marks the operation confirmed, so it moves once whatever the races.

use poem::Request;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Header, Path, Query},
    payload::Json,
};

use crate::{
    bank::{
        auth::{self, BankCredentials, Need},
        ledger::{book, new_transfer},
        payto::accounts_payto,
        tags::ApiTags,
        tan::{self, Gate, Op, Protected},
    },
    error_responses,
    http::{JsonBody, NoContent, public::PublicBase},
    longpoll::{self, MayPark},
    state::State,
    store::bank::{
        self as store, TalerMetadata,
        withdrawals::{self as wstore, AbortOutcome, NewWithdrawal, Withdrawal},
    },
    taler::{Amount, ApiError, ErrorCode, Timestamp, amount::require_currency, secret},
};

/// `BankAccountCreateWithdrawalRequest`.
#[derive(Object)]
pub struct BankAccountCreateWithdrawalRequest {
    /// Amount to withdraw; if given, the wallet cannot change it.
    pub amount: Option<Amount>,
    /// Suggested amount; the wallet may change it.
    pub suggested_amount: Option<Amount>,
    /// Tell the wallet not to let the user choose an amount.
    pub no_amount_to_wallet: Option<bool>,
}

/// `BankAccountConfirmWithdrawalRequest`.
#[derive(Object)]
pub struct BankAccountConfirmWithdrawalRequest {
    /// The amount to transfer; optional when the operation has one already (then it
    /// must be the same).
    pub amount: Option<Amount>,
}

/// `BankAccountCreateWithdrawalResponse`.
#[derive(Object)]
pub struct BankAccountCreateWithdrawalResponse {
    /// ID of the new operation.
    pub withdrawal_id: String,
    /// URI a wallet processes to take part in the withdrawal.
    pub taler_withdraw_uri: String,
}

/// `WithdrawalPublicInfo`.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct WithdrawalPublicInfo {
    /// `pending`, `selected`, `aborted` or `confirmed`.
    pub status: String,
    /// The fixed amount, once known.
    pub amount: Option<Amount>,
    /// The suggested amount, if any.
    pub suggested_amount: Option<Amount>,
    /// Whether the wallet must not let the user choose an amount.
    pub no_amount_to_wallet: Option<bool>,
    /// The account the money comes from.
    pub username: String,
    /// The reserve public key the wallet selected.
    pub selected_reserve_pub: Option<String>,
    /// The exchange account the wallet selected.
    pub selected_exchange_account: Option<String>,
}

#[derive(ApiResponse)]
pub enum WithdrawalCreated {
    /// The operation and its `taler://withdraw` URI.
    #[oai(status = 200)]
    Ok(Json<BankAccountCreateWithdrawalResponse>),
}

#[derive(ApiResponse)]
pub enum WithdrawalFound {
    /// The operation's public information.
    #[oai(status = 200)]
    Ok(Json<WithdrawalPublicInfo>),
}

error_responses!(CreateWithdrawalErrors {
    400 => "The body is malformed (`TALER_EC_GENERIC_JSON_INVALID`, `TALER_EC_GENERIC_PARAMETER_MALFORMED`, `TALER_EC_GENERIC_CURRENCY_MISMATCH`).",
    401 => "Wrong or missing credentials (`TALER_EC_GENERIC_UNAUTHORIZED`).",
    403 => "The token's scope does not allow it (`TALER_EC_GENERIC_FORBIDDEN`).",
    404 => "The account is unknown (`TALER_EC_BANK_UNKNOWN_ACCOUNT`).",
    409 => "The account is an exchange's (`TALER_EC_BANK_ACCOUNT_IS_EXCHANGE`) or cannot afford the amount (`TALER_EC_BANK_UNALLOWED_DEBIT`).",
    413 => "The uploaded body is too long (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    429 => "Too many failed logins: wait `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
});

error_responses!(ConfirmWithdrawalErrors {
    400 => "`$WITHDRAWAL_ID` or the body is malformed, or the amount is zero or in another currency (`TALER_EC_GENERIC_PARAMETER_MALFORMED`, `TALER_EC_GENERIC_JSON_INVALID`, `TALER_EC_GENERIC_CURRENCY_MISMATCH`).",
    401 => "Wrong or missing credentials (`TALER_EC_GENERIC_UNAUTHORIZED`).",
    403 => "The token's scope does not allow it (`TALER_EC_GENERIC_FORBIDDEN`).",
    404 => "The account or the operation is unknown (`TALER_EC_BANK_UNKNOWN_ACCOUNT`, `TALER_EC_BANK_TRANSACTION_NOT_FOUND`).",
    409 => "The operation was aborted (`TALER_EC_BANK_CONFIRM_ABORT_CONFLICT`), no wallet selected it yet (`TALER_EC_BANK_CONFIRM_INCOMPLETE`), it has no amount and none is given (`TALER_EC_BANK_AMOUNT_REQUIRED`) or another is given (`TALER_EC_BANK_AMOUNT_DIFFERS`), the account cannot afford it (`TALER_EC_BANK_UNALLOWED_DEBIT`), the exchange is gone (`TALER_EC_BANK_UNKNOWN_CREDITOR`) or no exchange's any more (`TALER_EC_BANK_ACCOUNT_IS_NOT_EXCHANGE`), or its reserve key was used meanwhile (`TALER_EC_BANK_DUPLICATE_RESERVE_PUB_SUBJECT`).",
    413 => "The uploaded body is too long (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    429 => "Too many failed logins: wait `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
});

error_responses!(AbortWithdrawalErrors {
    400 => "`$WITHDRAWAL_ID` is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    401 => "Wrong or missing credentials (`TALER_EC_GENERIC_UNAUTHORIZED`).",
    403 => "The token's scope does not allow it (`TALER_EC_GENERIC_FORBIDDEN`).",
    404 => "The account or the operation is unknown (`TALER_EC_BANK_UNKNOWN_ACCOUNT`, `TALER_EC_BANK_TRANSACTION_NOT_FOUND`).",
    409 => "The operation was confirmed (`TALER_EC_BANK_ABORT_CONFIRM_CONFLICT`).",
    413 => "The uploaded body is too long (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    429 => "Too many failed logins: wait `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
});

error_responses!(GetWithdrawalErrors {
    400 => "`$WITHDRAWAL_ID` or a query parameter is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    404 => "The operation is unknown (`TALER_EC_BANK_TRANSACTION_NOT_FOUND`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

/// Withdrawal ids are UUIDs: anything else names no operation, and is 400 as
/// libeufin-bank answers.
pub fn withdrawal_id(text: &str) -> Result<String, ApiError> {
    let ok = text.len() == 36
        && text.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        });
    if ok {
        Ok(text.to_ascii_lowercase())
    } else {
        Err(ApiError::malformed(
            "WITHDRAWAL_ID",
            "the withdrawal id must be a UUID",
        ))
    }
}

pub fn operation_unknown(id: &str) -> ApiError {
    ApiError::new(
        ErrorCode::BankTransactionNotFound,
        format!("withdrawal operation `{id}` is unknown"),
    )
}

/// The Bank Integration API's base URL path (`/bank/taler-integration/`).
pub fn integration_base(state: &State) -> String {
    integration_base_of(&state.config.bank_base)
}

/// The integration API's base below the bank's (`/bank/` → `/bank/taler-integration/`).
pub fn integration_base_of(bank_base: &str) -> String {
    format!("{bank_base}taler-integration/")
}

/// `taler[+http]://withdraw/HOST/PATH/ID`, PATH being the integration API's.
pub fn withdraw_uri(req: &Request, state: &State, id: &str) -> String {
    let base = PublicBase::of(req, &state.config, &integration_base(state));
    let scheme = if base.scheme == "https" {
        "taler"
    } else {
        "taler+http"
    };
    format!("{scheme}://withdraw/{}{}{id}", base.host, base.path)
}

pub fn parse_stored_amount(text: &Option<String>) -> Result<Option<Amount>, ApiError> {
    text.as_deref()
        .map(|t| t.parse().map_err(ApiError::db_fetch))
        .transpose()
}

/// A rendering of an operation, for [`poll`].
pub type Rendered<R> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<R, ApiError>> + Send>>;

/// The operation's long-polled status: the operation as it is once its status differs
/// from `old_state`, or at the deadline.
pub async fn poll<R, E, F>(
    state: &State,
    id: String,
    old_state: Option<String>,
    timeout_ms: u64,
    render: F,
) -> Result<MayPark<R>, E>
where
    R: poem::IntoResponse + Send + 'static,
    E: From<ApiError> + Into<poem::Error> + 'static,
    F: Fn(&State, Withdrawal) -> Rendered<R> + Send + Sync + Clone + 'static,
{
    let old = old_state.unwrap_or_else(|| wstore::PENDING.to_owned());
    let wake = state.incoming.subscribe();
    let first = wstore::find(&state.db, &id)
        .await
        .map_err(ApiError::db_fetch)?
        .ok_or_else(|| operation_unknown(&id))?;
    let key = first.account_id;
    let now = render(state, first.clone()).await?;
    if first.status != old || timeout_ms == 0 {
        return Ok(MayPark::Now(now));
    }
    let state = state.clone();
    Ok(
        longpoll::respond_after::<R, E, _>(wake, None, key, timeout_ms, now, move |_| {
            let (state, id, old, render) = (state.clone(), id.clone(), old.clone(), render.clone());
            async move {
                match wstore::find(&state.db, &id)
                    .await
                    .map_err(ApiError::db_fetch)?
                {
                    Some(w) if w.status != old => Ok(Some(render(&state, w).await?)),
                    _ => Ok(None),
                }
            }
        })
        .await,
    )
}

/// Wakes the long pollers of an operation (they wait on its account's key).
pub async fn notify(state: &State, account_id: i64) {
    if let Err(e) = state.incoming.notify(&state.db, account_id).await {
        tracing::warn!(error = %e, "could not notify long pollers");
    }
}

pub struct WithdrawalsApi(pub State);

#[OpenApi(tag = "ApiTags::Withdrawals")]
impl WithdrawalsApi {
    /// Create a withdrawal operation
    ///
    /// Answers its id and the `taler://withdraw` URI a wallet processes. With an
    /// `amount`, the account must afford it now (it is checked again at confirmation).
    /// The account itself (`readwrite`).
    #[oai(
        path = "/accounts/:USERNAME/withdrawals",
        method = "post",
        operation_id = "bank_post_account_withdrawals"
    )]
    async fn create(
        &self,
        req: &Request,
        mut credentials: BankCredentials,
        /// Account name.
        #[oai(name = "USERNAME")]
        username: Path<String>,
        body: JsonBody<BankAccountCreateWithdrawalRequest>,
    ) -> Result<WithdrawalCreated, CreateWithdrawalErrors> {
        let account =
            auth::authorize(&self.0, &username, &mut credentials, Need::ReadWrite).await?;
        let body = body.0;
        let currency = &self.0.config.currency;
        for (field, amount) in [
            ("amount", &body.amount),
            ("suggested_amount", &body.suggested_amount),
        ] {
            if let Some(a) = amount {
                require_currency(a, currency, field)?;
                if a.is_zero() {
                    return Err(
                        ApiError::malformed(field, format!("{field} must not be zero")).into(),
                    );
                }
            }
        }
        if account.is_taler_exchange {
            return Err(ApiError::new(
                ErrorCode::BankAccountIsExchange,
                "an exchange's account cannot withdraw",
            )
            .into());
        }
        if let Some(amount) = &body.amount
            && !store::can_afford(&account, crate::bank::ledger::units(amount))
        {
            return Err(ApiError::new(
                ErrorCode::BankUnallowedDebit,
                "the account cannot afford this amount",
            )
            .into());
        }
        let id = secret::random_uuid();
        wstore::create(
            &self.0.db,
            NewWithdrawal {
                withdrawal_id: id.clone(),
                account_id: account.account_id,
                amount: body.amount.map(|a| a.to_string()),
                suggested_amount: body.suggested_amount.map(|a| a.to_string()),
                no_amount_to_wallet: body.no_amount_to_wallet.unwrap_or(false),
                creation_date: Timestamp::now().to_db(),
            },
        )
        .await
        .map_err(ApiError::db_store)?;
        Ok(WithdrawalCreated::Ok(Json(
            BankAccountCreateWithdrawalResponse {
                taler_withdraw_uri: withdraw_uri(req, &self.0, &id),
                withdrawal_id: id,
            },
        )))
    }

    /// A withdrawal operation
    ///
    /// Public: knowing the id is the authorization. With `timeout_ms`, waits until the
    /// status differs from `old_state` (default `pending`).
    #[oai(
        path = "/withdrawals/:WITHDRAWAL_ID",
        method = "get",
        operation_id = "bank_get_withdrawal"
    )]
    async fn get(
        &self,
        /// The operation's id.
        #[oai(
            name = "WITHDRAWAL_ID",
            validator(
                pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
            )
        )]
        id: Path<String>,
        /// The status the client knows; long polling waits for another.
        old_state: Query<Option<WithdrawalStatus>>,
        /// Long polling: milliseconds to wait for another status.
        timeout_ms: Query<Option<u64>>,
        /// Deprecated: use `timeout_ms`.
        #[oai(deprecated)]
        long_poll_ms: Query<Option<u64>>,
    ) -> Result<MayPark<WithdrawalFound>, GetWithdrawalErrors> {
        let id = withdrawal_id(&id)?;
        poll(
            &self.0,
            id,
            old_state.0.map(|s| s.name().to_owned()),
            timeout_ms.0.or(long_poll_ms.0).unwrap_or(0),
            |state, w| {
                let state = state.clone();
                Box::pin(
                    async move { Ok(WithdrawalFound::Ok(Json(public_info(&state, w).await?))) },
                )
            },
        )
        .await
    }

    /// Confirm a withdrawal
    ///
    /// Once a wallet selected its reserve key and exchange: the amount moves to the
    /// exchange, with the reserve key as subject, and the operation is confirmed, in
    /// one database transaction. Confirming again is no error. The account itself
    /// (`readwrite`).
    #[oai(
        path = "/accounts/:USERNAME/withdrawals/:WITHDRAWAL_ID/confirm",
        method = "post",
        operation_id = "bank_post_account_withdrawal_confirm"
    )]
    async fn confirm(
        &self,
        mut credentials: BankCredentials,
        /// Account name.
        #[oai(name = "USERNAME")]
        username: Path<String>,
        /// The operation's id.
        #[oai(
            name = "WITHDRAWAL_ID",
            validator(
                pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
            )
        )]
        id: Path<String>,
        /// Solved challenges of this confirmation (comma-separated ids).
        #[oai(name = "Taler-Challenge-Ids", validator(max_length = 512))]
        challenge_ids: Header<Option<String>>,
        body: JsonBody<Option<BankAccountConfirmWithdrawalRequest>>,
    ) -> Result<Protected, ConfirmWithdrawalErrors> {
        let given = body.0.and_then(|b| b.amount);
        let (account, id) = owner_and_id(&self.0, &mut credentials, &username, &id).await?;
        let w = wstore::find(&self.0.db, &id)
            .await
            .map_err(ApiError::db_fetch)?
            .filter(|w| w.account_id == account.account_id)
            .ok_or_else(|| operation_unknown(&id))?;
        let conflict = |code, hint: &str| Err(ApiError::new(code, hint.to_owned()).into());
        match w.status.as_str() {
            wstore::CONFIRMED => return Ok(Protected::Done),
            wstore::ABORTED => {
                return conflict(
                    ErrorCode::BankConfirmAbortConflict,
                    "the withdrawal was aborted",
                );
            }
            wstore::PENDING => {
                return conflict(
                    ErrorCode::BankConfirmIncomplete,
                    "no wallet selected a reserve key and an exchange yet",
                );
            }
            _ => {}
        }
        if let Some(a) = &given {
            require_currency(a, &self.0.config.currency, "amount")?;
        }
        // The amount is the operation's, or the one given now when it has none.
        let amount = match (parse_stored_amount(&w.amount)?, given) {
            (Some(stored), Some(g)) if stored != g => {
                return conflict(
                    ErrorCode::BankAmountDiffers,
                    "the withdrawal's amount is another",
                );
            }
            (Some(stored), _) => stored,
            (None, Some(g)) => g,
            (None, None) => {
                return conflict(
                    ErrorCode::BankAmountRequired,
                    "the withdrawal has no amount: give one",
                );
            }
        };
        let exchange = match w.exchange_account_id {
            Some(a) => store::find_account_by_id(&self.0.db, a)
                .await
                .map_err(ApiError::db_fetch)?
                .filter(|e| !e.deleted),
            None => None,
        };
        let Some(exchange) = exchange else {
            return conflict(
                ErrorCode::BankUnknownCreditor,
                "the selected exchange is gone",
            );
        };
        if !exchange.is_taler_exchange {
            // Its owner changed it since the wallet selected it: no reserve lands there.
            return conflict(
                ErrorCode::BankAccountIsNotExchange,
                "the selected account is no exchange's any more",
            );
        }
        let reserve_pub = w.reserve_pub.clone().unwrap_or_default();
        let mut transfer = new_transfer(
            &self.0,
            &account,
            &exchange,
            &amount,
            format!("Taler withdrawal {reserve_pub}"),
            None,
            TalerMetadata {
                reserve_pub: Some(reserve_pub),
                ..Default::default()
            },
        )
        .await?;
        transfer.withdrawal = Some(w.withdrawal_serial);
        // The second factor comes last, once the transfer is known to be possible; its
        // challenge is used up in the transfer's transaction.
        let hash = tan::body_hash(Op::Withdrawal, &format!("{id} {amount}"));
        let ids = tan::header_ids(challenge_ids.0.as_deref());
        let admin = credentials.is_admin();
        match tan::second_factor(&self.0, &account, admin, Op::Withdrawal, &hash, &ids).await? {
            Gate::Open(serials) => transfer.challenge = serials.first().copied(),
            Gate::Challenge(c) => return Ok(Protected::Challenge(Json(c))),
        }
        match book(&self.0, transfer).await {
            Ok(_) => {}
            Err(e) if e.code() == ErrorCode::BankConfirmAbortConflict.number() => {
                // A racing request changed the operation: answer as it is now.
                let now = wstore::find(&self.0.db, &id)
                    .await
                    .map_err(ApiError::db_fetch)?;
                if now.is_some_and(|n| n.status == wstore::CONFIRMED) {
                    return Ok(Protected::Done);
                }
                return Err(e.into());
            }
            Err(e) => return Err(e.into()),
        }
        notify(&self.0, account.account_id).await;
        Ok(Protected::Done)
    }

    /// Abort a withdrawal
    ///
    /// Unless it was confirmed; aborting again is no error. The account itself
    /// (`readwrite`).
    #[oai(
        path = "/accounts/:USERNAME/withdrawals/:WITHDRAWAL_ID/abort",
        method = "post",
        operation_id = "bank_post_account_withdrawal_abort"
    )]
    async fn abort(
        &self,
        mut credentials: BankCredentials,
        /// Account name.
        #[oai(name = "USERNAME")]
        username: Path<String>,
        /// The operation's id.
        #[oai(
            name = "WITHDRAWAL_ID",
            validator(
                pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
            )
        )]
        id: Path<String>,
    ) -> Result<NoContent, AbortWithdrawalErrors> {
        let (account, id) = owner_and_id(&self.0, &mut credentials, &username, &id).await?;
        abort_answer(&self.0, &id, Some(account.account_id)).await?;
        Ok(NoContent::Done)
    }
}

/// The account acting on one of its operations (credentials first, as libeufin checks
/// them before anything else), and the operation's id.
async fn owner_and_id(
    state: &State,
    credentials: &mut BankCredentials,
    username: &str,
    id: &str,
) -> Result<(store::Account, String), ApiError> {
    let account = auth::authorize(state, username, credentials, Need::ReadWrite).await?;
    Ok((account, withdrawal_id(id)?))
}

/// Aborts an operation and maps the outcome (both APIs answer alike).
pub async fn abort_answer(state: &State, id: &str, account: Option<i64>) -> Result<(), ApiError> {
    match wstore::abort(&state.db, id, account)
        .await
        .map_err(ApiError::db_store)?
    {
        AbortOutcome::Aborted(w) => {
            notify(state, w.account_id).await;
            Ok(())
        }
        AbortOutcome::Unknown => Err(operation_unknown(id)),
        AbortOutcome::Confirmed => Err(ApiError::new(
            ErrorCode::BankAbortConfirmConflict,
            "the withdrawal was confirmed",
        )),
    }
}

/// `WithdrawalPublicInfo` of an operation.
async fn public_info(state: &State, w: Withdrawal) -> Result<WithdrawalPublicInfo, ApiError> {
    let account = store::find_account_by_id(&state.db, w.account_id)
        .await
        .map_err(ApiError::db_fetch)?
        .ok_or_else(|| ApiError::db_fetch("a withdrawal's account vanished"))?;
    Ok(WithdrawalPublicInfo {
        amount: parse_stored_amount(&w.amount)?,
        suggested_amount: parse_stored_amount(&w.suggested_amount)?,
        no_amount_to_wallet: w.no_amount_to_wallet.then_some(true),
        username: account.username,
        selected_reserve_pub: w.reserve_pub,
        selected_exchange_account: w.exchange_payto,
        status: w.status,
    })
}

/// The status of a withdrawal operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, poem_openapi::Enum)]
#[oai(rename_all = "lowercase")]
pub enum WithdrawalStatus {
    Pending,
    Selected,
    Aborted,
    Confirmed,
}

impl WithdrawalStatus {
    pub fn name(self) -> &'static str {
        match self {
            WithdrawalStatus::Pending => wstore::PENDING,
            WithdrawalStatus::Selected => wstore::SELECTED,
            WithdrawalStatus::Aborted => wstore::ABORTED,
            WithdrawalStatus::Confirmed => wstore::CONFIRMED,
        }
    }
}

/// The sender's payto URI of an operation (the Integration API's `sender_wire`).
pub fn sender_wire(state: &State, account: &store::Account) -> String {
    accounts_payto(&state.config.bank_wire, account)
}
