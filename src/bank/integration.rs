//! The Taler Bank Integration API, under its own base (`/bank/taler-integration/`)
//! with its own spec: what a wallet calls after scanning a `taler://withdraw` URI.
//! It reads the operation, selects its reserve key and exchange (an account of this
//! bank flagged `is_taler_exchange`), or aborts it. Knowing the operation's id is the
//! authorization, as the page says.

use poem::{Endpoint, EndpointExt};
use poem_openapi::{
    ApiResponse, Object, OpenApi, OpenApiService, Tags,
    param::{Path, Query},
    payload::Json,
};

use crate::{
    bank::{
        payto::Payto,
        withdrawals::{
            WithdrawalStatus, abort_answer, notify, operation_unknown, parse_stored_amount, poll,
            sender_wire, withdrawal_id,
        },
    },
    error_responses,
    http::{BodyErrorPolicy, JsonBody, MissingAuth, NoContent, service_endpoint},
    longpoll::MayPark,
    state::State,
    store::bank::{
        self as store,
        withdrawals::{self as wstore, SelectOutcome, Selection, Withdrawal},
    },
    taler::{Amount, ApiError, EddsaPublicKey, ErrorCode, amount::require_currency},
};

/// The integration API's version (libeufin-bank's `INTEGRATION_API_VERSION`).
const VERSION: &str = "2:0:2";

#[derive(Tags)]
pub enum IntegrationTags {
    /// Withdrawals as a wallet takes part in them.
    Integration,
}

/// `TalerIntegrationConfigResponse`.
#[derive(Object)]
pub struct TalerIntegrationConfigResponse {
    /// `taler-bank-integration`.
    pub name: String,
    /// Protocol version (`current:revision:age`).
    pub version: String,
    /// The currency of the bank.
    pub currency: String,
    /// How to render it.
    pub currency_specification: crate::taler::currency::CurrencySpecification,
}

/// `BankWithdrawalOperationStatus`.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct BankWithdrawalOperationStatus {
    /// `pending`, `selected`, `aborted` or `confirmed`.
    pub status: String,
    /// The currency of the withdrawal.
    pub currency: String,
    /// The fixed amount, once known.
    pub amount: Option<Amount>,
    /// The suggested amount, if any.
    pub suggested_amount: Option<Amount>,
    /// Whether the wallet must not let the user choose an amount.
    pub no_amount_to_wallet: Option<bool>,
    /// The payto URI of the account the money comes from.
    pub sender_wire: String,
    /// Where the account's owner confirms the withdrawal. This bank has no web page for
    /// it (the owner confirms through the core API), so it is left out.
    pub confirm_transfer_url: Option<String>,
    /// Wire methods the bank supports for the exchange.
    pub wire_types: Vec<String>,
    /// The reserve public key the wallet selected.
    pub selected_reserve_pub: Option<String>,
    /// The exchange account the wallet selected.
    pub selected_exchange_account: Option<String>,
    /// Deprecated: `status` is `aborted`.
    pub aborted: bool,
    /// Deprecated: the wallet selected (`status` is not `pending`).
    pub selection_done: bool,
    /// Deprecated: `status` is `confirmed`.
    pub transfer_done: bool,
}

/// `BankWithdrawalOperationPostRequest`.
#[derive(Object)]
pub struct BankWithdrawalOperationPostRequest {
    /// The reserve public key: the subject of the transfer to the exchange.
    pub reserve_pub: EddsaPublicKey,
    /// Payto URI of the exchange account to credit.
    #[oai(validator(max_length = 1024))]
    pub selected_exchange: String,
    /// The amount, if the operation has none yet.
    pub amount: Option<Amount>,
}

/// `BankWithdrawalOperationPostResponse`.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct BankWithdrawalOperationPostResponse {
    /// `selected`, `aborted` or `confirmed`.
    pub status: String,
    /// Where the account's owner confirms the withdrawal (left out: no web page).
    pub confirm_transfer_url: Option<String>,
    /// Deprecated: `status` is `confirmed`.
    pub transfer_done: bool,
}

#[derive(ApiResponse)]
pub enum OperationFound {
    /// The operation's status.
    #[oai(status = 200)]
    Ok(Json<BankWithdrawalOperationStatus>),
}

#[derive(ApiResponse)]
pub enum OperationSelected {
    /// The selection is recorded (or was, the same).
    #[oai(status = 200)]
    Ok(Json<BankWithdrawalOperationPostResponse>),
}

error_responses!(GetOperationErrors {
    400 => "`$WITHDRAWAL_ID` or a query parameter is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    404 => "The operation is unknown (`TALER_EC_BANK_TRANSACTION_NOT_FOUND`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

error_responses!(PostOperationErrors {
    400 => "The body or `$WITHDRAWAL_ID` is malformed (`TALER_EC_GENERIC_JSON_INVALID`, `TALER_EC_GENERIC_PARAMETER_MALFORMED`, `TALER_EC_GENERIC_PAYTO_URI_MALFORMED`, `TALER_EC_GENERIC_CURRENCY_MISMATCH`).",
    404 => "The operation is unknown (`TALER_EC_BANK_TRANSACTION_NOT_FOUND`).",
    409 => "The operation was aborted (`TALER_EC_BANK_UPDATE_ABORT_CONFLICT`), selected with another key or exchange (`TALER_EC_BANK_WITHDRAWAL_OPERATION_RESERVE_SELECTION_CONFLICT`), the key was used (`TALER_EC_BANK_DUPLICATE_RESERVE_PUB_SUBJECT`), the exchange account is unknown (`TALER_EC_BANK_UNKNOWN_ACCOUNT`) or no exchange's (`TALER_EC_BANK_ACCOUNT_IS_NOT_EXCHANGE`), the amount differs from the operation's (`TALER_EC_BANK_AMOUNT_DIFFERS`) or the account cannot afford it (`TALER_EC_BANK_UNALLOWED_DEBIT`).",
    413 => "The uploaded body is too long (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
});

error_responses!(AbortOperationErrors {
    400 => "`$WITHDRAWAL_ID` is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    404 => "The operation is unknown (`TALER_EC_BANK_TRANSACTION_NOT_FOUND`).",
    409 => "The operation was confirmed (`TALER_EC_BANK_ABORT_CONFIRM_CONFLICT`).",
    413 => "The uploaded body is too long (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
});

pub struct IntegrationApi(pub State);

#[OpenApi(tag = "IntegrationTags::Integration")]
impl IntegrationApi {
    /// Integration API configuration
    ///
    /// The protocol version, the currency and how to render it.
    #[oai(
        path = "/config",
        method = "get",
        operation_id = "integration_get_config"
    )]
    async fn config(&self) -> Json<TalerIntegrationConfigResponse> {
        let c = &self.0.config;
        Json(TalerIntegrationConfigResponse {
            name: "taler-bank-integration".to_owned(),
            version: VERSION.to_owned(),
            currency: c.currency.clone(),
            currency_specification: (&c.currency_spec).into(),
        })
    }

    /// A withdrawal operation, for a wallet
    ///
    /// With `timeout_ms`, waits until the status differs from `old_state` (default
    /// `pending`).
    #[oai(
        path = "/withdrawal-operation/:WITHDRAWAL_ID",
        method = "get",
        operation_id = "integration_get_withdrawal_operation"
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
        /// The status the wallet knows; long polling waits for another.
        old_state: Query<Option<WithdrawalStatus>>,
        /// Long polling: milliseconds to wait for another status.
        timeout_ms: Query<Option<u64>>,
        /// Deprecated: use `timeout_ms`.
        #[oai(deprecated)]
        long_poll_ms: Query<Option<u64>>,
    ) -> Result<MayPark<OperationFound>, GetOperationErrors> {
        let id = withdrawal_id(&id)?;
        poll(
            &self.0,
            id,
            old_state.0.map(|s| s.name().to_owned()),
            timeout_ms.0.or(long_poll_ms.0).unwrap_or(0),
            |state, w| {
                let state = state.clone();
                Box::pin(
                    async move { Ok(OperationFound::Ok(Json(operation_status(&state, w).await?))) },
                )
            },
        )
        .await
    }

    /// Select the reserve key and exchange
    ///
    /// The wallet's choice: the reserve public key becomes the subject of the transfer
    /// to the exchange, an account of this bank that is an exchange's. The same choice
    /// again is no error.
    #[oai(
        path = "/withdrawal-operation/:WITHDRAWAL_ID",
        method = "post",
        operation_id = "integration_post_withdrawal_operation"
    )]
    async fn select(
        &self,
        /// The operation's id.
        #[oai(
            name = "WITHDRAWAL_ID",
            validator(
                pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
            )
        )]
        id: Path<String>,
        body: JsonBody<BankWithdrawalOperationPostRequest>,
    ) -> Result<OperationSelected, PostOperationErrors> {
        let id = withdrawal_id(&id)?;
        let body = body.0;
        let w = wstore::find(&self.0.db, &id)
            .await
            .map_err(ApiError::db_fetch)?
            .ok_or_else(|| operation_unknown(&id))?;
        // The page answers every refusal here with 409, unknown accounts included.
        let conflict = |code, hint: String| {
            Err(ApiError::with_status(poem::http::StatusCode::CONFLICT, code, hint).into())
        };
        if let Some(amount) = &body.amount {
            require_currency(amount, &self.0.config.currency, "amount")?;
            if amount.is_zero() {
                return Err(ApiError::malformed("amount", "amount must not be zero").into());
            }
            match parse_stored_amount(&w.amount)? {
                Some(fixed) if &fixed != amount => {
                    return conflict(
                        ErrorCode::BankAmountDiffers,
                        format!("the withdrawal's amount is {fixed}"),
                    );
                }
                Some(_) => {}
                None => {
                    let account = store::find_account_by_id(&self.0.db, w.account_id)
                        .await
                        .map_err(ApiError::db_fetch)?
                        .ok_or_else(|| operation_unknown(&id))?;
                    if !store::can_afford(&account, crate::bank::ledger::units(amount)) {
                        return conflict(
                            ErrorCode::BankUnallowedDebit,
                            "the account cannot afford this amount".to_owned(),
                        );
                    }
                }
            }
        }
        let payto = Payto::parse(&body.selected_exchange, "selected_exchange")?;
        let exchange = store::find_account_by_payto(&self.0.db, &payto.key)
            .await
            .map_err(ApiError::db_fetch)?;
        let Some(exchange) = exchange else {
            return conflict(
                ErrorCode::BankUnknownAccount,
                format!("no account of this bank is `{}`", payto.key),
            );
        };
        if !exchange.is_taler_exchange {
            return conflict(
                ErrorCode::BankAccountIsNotExchange,
                format!("`{}` is not an exchange's account", payto.key),
            );
        }
        let selection = Selection {
            reserve_pub: body.reserve_pub.to_string(),
            exchange_account_id: exchange.account_id,
            exchange_payto: body.selected_exchange.clone(),
            amount: body.amount.as_ref().map(ToString::to_string),
        };
        let w = match wstore::select(&self.0.db, &id, &selection)
            .await
            .map_err(ApiError::db_store)?
        {
            SelectOutcome::Selected(w) => w,
            SelectOutcome::Unknown => return Err(operation_unknown(&id).into()),
            SelectOutcome::Aborted => {
                return conflict(
                    ErrorCode::BankUpdateAbortConflict,
                    "the withdrawal was aborted".to_owned(),
                );
            }
            SelectOutcome::OtherSelection => {
                return conflict(
                    ErrorCode::BankWithdrawalOperationReserveSelectionConflict,
                    "the withdrawal was selected with another reserve key or exchange".to_owned(),
                );
            }
            SelectOutcome::ReservePubReused => {
                return conflict(
                    ErrorCode::BankDuplicateReservePubSubject,
                    "this reserve public key was used before".to_owned(),
                );
            }
        };
        notify(&self.0, w.account_id).await;
        Ok(OperationSelected::Ok(Json(
            BankWithdrawalOperationPostResponse {
                transfer_done: w.status == wstore::CONFIRMED,
                status: w.status,
                confirm_transfer_url: None,
            },
        )))
    }

    /// Abort a withdrawal operation
    ///
    /// Unless it was confirmed; aborting again is no error.
    #[oai(
        path = "/withdrawal-operation/:WITHDRAWAL_ID/abort",
        method = "post",
        operation_id = "integration_post_withdrawal_operation_abort"
    )]
    async fn abort(
        &self,
        /// The operation's id.
        #[oai(
            name = "WITHDRAWAL_ID",
            validator(
                pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
            )
        )]
        id: Path<String>,
    ) -> Result<NoContent, AbortOperationErrors> {
        let id = withdrawal_id(&id)?;
        abort_answer(&self.0, &id, None).await?;
        Ok(NoContent::Done)
    }
}

async fn operation_status(
    state: &State,
    w: Withdrawal,
) -> Result<BankWithdrawalOperationStatus, ApiError> {
    let account = store::find_account_by_id(&state.db, w.account_id)
        .await
        .map_err(ApiError::db_fetch)?
        .ok_or_else(|| ApiError::db_fetch("a withdrawal's account vanished"))?;
    Ok(BankWithdrawalOperationStatus {
        currency: state.config.currency.clone(),
        amount: parse_stored_amount(&w.amount)?,
        suggested_amount: parse_stored_amount(&w.suggested_amount)?,
        no_amount_to_wallet: w.no_amount_to_wallet.then_some(true),
        sender_wire: sender_wire(state, &account),
        confirm_transfer_url: None,
        wire_types: vec![state.config.bank_wire.wire_type().to_owned()],
        aborted: w.status == wstore::ABORTED,
        selection_done: w.status != wstore::PENDING,
        transfer_done: w.status == wstore::CONFIRMED,
        selected_reserve_pub: w.reserve_pub,
        selected_exchange_account: w.exchange_payto,
        status: w.status,
    })
}

pub type Api = IntegrationApi;

pub fn api(state: &State) -> Api {
    IntegrationApi(state.clone())
}

/// The integration API's endpoint: the bank's error rules, no credentials.
pub fn endpoint(service: OpenApiService<Api, ()>, state: State) -> impl Endpoint {
    service_endpoint(
        service,
        BodyErrorPolicy::ShapeJsonInvalid,
        MissingAuth::Unauthorized,
    )
    .data(state)
}
