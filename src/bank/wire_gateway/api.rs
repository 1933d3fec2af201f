//! The Taler Wire Gateway of an exchange account:
//! `/accounts/$USERNAME/taler-wire-gateway/...`, as libeufin-bank serves it. The
//! exchange wires money out (`transfer`, idempotent by `request_uid`), reads its
//! outgoing and incoming histories (with long polling), and, for tests and
//! integration, books incoming reserve and KYC transfers (`admin/add-incoming`,
//! `admin/add-kycauth`).

use poem_openapi::{
    OpenApi,
    param::{Path, Query},
    payload::Json,
};

use crate::{
    bank::{
        auth::{self, BankCredentials, Need},
        ledger::{ADMIN_ACCOUNT, book, new_transfer},
        payto::{Payto, accounts_payto},
        tags::ApiTags,
        wire_gateway::types::{
            AddIncomingRequest, AddIncomingResponse, AddKycauthRequest, ConfigFound,
            GatewayReadErrors, GatewayWriteErrors, IncomingAdded, IncomingBankTransaction,
            IncomingHistory, IncomingListed, OutgoingBankTransaction, OutgoingHistory,
            OutgoingListed, TransferDone, TransferFound, TransferList, TransferListStatus,
            TransferRequest, TransferResponse, TransferState, TransferStatus, TransfersListed,
            WireConfig,
        },
    },
    longpoll::{self, MayPark},
    state::{AppState, State},
    store::bank::{self as store, Account, HistoryKind, TalerMetadata},
    taler::{
        Amount, ApiError, EddsaPublicKey, ErrorCode, Timestamp,
        pagination::{Page, PageLimit},
    },
};

/// Version of the Wire Gateway API served (libtool style).
const WIRE_GATEWAY_VERSION: &str = "4:0:0";

/// The gateway's account: authorized, and an exchange's.
async fn exchange(
    state: &State,
    username: &str,
    credentials: &mut BankCredentials,
    need: Need,
) -> Result<Account, ApiError> {
    let account = auth::authorize(state, username, credentials, need).await?;
    if !account.is_taler_exchange {
        return Err(not_exchange(username));
    }
    Ok(account)
}

fn not_exchange(username: &str) -> ApiError {
    ApiError::new(
        ErrorCode::BankAccountIsNotExchange,
        format!("account `{username}` is not an exchange's"),
    )
}

/// libeufin-bank moves no money between two exchanges' accounts through the Wire
/// Gateway.
fn both_exchanges() -> ApiError {
    ApiError::new(
        ErrorCode::BankAccountIsExchange,
        "both parties of the transfer are exchanges",
    )
}

/// The account a payto URI of this bank names (`field` of the request).
async fn account_of(
    state: &State,
    payto: &str,
    field: &str,
    code: ErrorCode,
) -> Result<Account, ApiError> {
    let key = Payto::parse(payto, field)?.key;
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
        mut credentials: BankCredentials,
        /// Account name of the exchange.
        #[oai(name = "USERNAME")]
        username: Path<String>,
        body: crate::http::JsonBody<TransferRequest>,
    ) -> Result<TransferDone, GatewayWriteErrors> {
        let exchange = exchange(&self.0, &username, &mut credentials, Need::WireGateway).await?;
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
        let creditor = account_of(
            &self.0,
            &req.credit_account,
            "credit_account",
            ErrorCode::BankUnknownCreditor,
        )
        .await?;
        if creditor.is_taler_exchange {
            return Err(both_exchanges().into());
        }
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
        mut credentials: BankCredentials,
        /// Account name of the exchange.
        #[oai(name = "USERNAME")]
        username: Path<String>,
        /// At most this many transfers; negative for descending by row id. Default -20.
        limit: Query<Option<PageLimit>>,
        /// Row id to start after.
        #[oai(validator(minimum(value = "0")))]
        offset: Query<Option<i64>>,
        /// Only transfers of this status. Transfers within this bank complete at once:
        /// every one is `success`, so any other status lists none.
        status: Query<Option<TransferState>>,
    ) -> Result<TransfersListed, GatewayReadErrors> {
        let exchange =
            exchange(&self.0, &username, &mut credentials, Need::WireGatewayRead).await?;
        let page = Page::new(limit.0, offset.0)?;
        if status.0.is_some_and(|s| s != TransferState::Success) {
            return Ok(TransfersListed::Empty);
        }
        let rows = outgoing(&self.0, exchange.account_id, page).await?;
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
            debit_account: accounts_payto(&self.0.config.bank_wire, &exchange),
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
        mut credentials: BankCredentials,
        /// Account name of the exchange.
        #[oai(name = "USERNAME")]
        username: Path<String>,
        /// Row id of the transfer.
        #[oai(name = "ROW_ID")]
        row_id: Path<u64>,
    ) -> Result<TransferFound, GatewayReadErrors> {
        let exchange =
            exchange(&self.0, &username, &mut credentials, Need::WireGatewayRead).await?;
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
            exchange_base_url: t.exchange_base_url.unwrap_or_default(),
            wtid: t.wtid.unwrap_or_default(),
            credit_account: accounts_payto(&self.0.config.bank_wire, &creditor),
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
    #[allow(clippy::too_many_arguments)]
    async fn history_incoming(
        &self,
        mut credentials: BankCredentials,
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
        /// Deprecated: use `limit` (deployed exchanges still send it).
        #[oai(deprecated)]
        delta: Query<Option<PageLimit>>,
        /// Deprecated: use `offset`.
        #[oai(deprecated, validator(minimum(value = "0")))]
        start: Query<Option<i64>>,
        /// Deprecated: use `timeout_ms`.
        #[oai(deprecated)]
        long_poll_ms: Query<Option<u64>>,
    ) -> Result<MayPark<IncomingListed>, GatewayReadErrors> {
        let exchange =
            exchange(&self.0, &username, &mut credentials, Need::WireGatewayRead).await?;
        let page = Page::new(limit.0.or(delta.0), offset.0.or(start.0))?;
        let timeout = page.wait_ms(timeout_ms.0.or(long_poll_ms.0));
        let id = exchange.account_id;
        let credit_account = accounts_payto(&self.0.config.bank_wire, &exchange);
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
    #[allow(clippy::too_many_arguments)]
    async fn history_outgoing(
        &self,
        mut credentials: BankCredentials,
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
        /// Deprecated: use `limit` (deployed exchanges still send it).
        #[oai(deprecated)]
        delta: Query<Option<PageLimit>>,
        /// Deprecated: use `offset`.
        #[oai(deprecated, validator(minimum(value = "0")))]
        start: Query<Option<i64>>,
        /// Deprecated: use `timeout_ms`.
        #[oai(deprecated)]
        long_poll_ms: Query<Option<u64>>,
    ) -> Result<MayPark<OutgoingListed>, GatewayReadErrors> {
        let exchange =
            exchange(&self.0, &username, &mut credentials, Need::WireGatewayRead).await?;
        let page = Page::new(limit.0.or(delta.0), offset.0.or(start.0))?;
        let timeout = page.wait_ms(timeout_ms.0.or(long_poll_ms.0));
        let id = exchange.account_id;
        let debit_account = accounts_payto(&self.0.config.bank_wire, &exchange);
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
        mut credentials: BankCredentials,
        /// Account name of the exchange.
        #[oai(name = "USERNAME")]
        username: Path<String>,
        body: crate::http::JsonBody<AddIncomingRequest>,
    ) -> Result<IncomingAdded, GatewayWriteErrors> {
        let req = body.0;
        let reserve_pub = req.reserve_pub.to_string();
        self.add(
            &username,
            &mut credentials,
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
        mut credentials: BankCredentials,
        /// Account name of the exchange.
        #[oai(name = "USERNAME")]
        username: Path<String>,
        body: crate::http::JsonBody<AddKycauthRequest>,
    ) -> Result<IncomingAdded, GatewayWriteErrors> {
        let req = body.0;
        let account_pub = req.account_pub.to_string();
        self.add(
            &username,
            &mut credentials,
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
    /// `admin/add-incoming` and `admin/add-kycauth`: the administrator books a
    /// transfer from `debit_account` to the exchange, as libeufin-bank lets only the
    /// administrator do (an exchange must not debit anyone).
    async fn add(
        &self,
        username: &str,
        credentials: &mut BankCredentials,
        amount: &Amount,
        debit_account: &str,
        subject: String,
        taler: TalerMetadata,
    ) -> Result<IncomingAdded, GatewayWriteErrors> {
        auth::authorize(&self.0, ADMIN_ACCOUNT, credentials, Need::Admin).await?;
        let exchange = auth::account(&self.0, username).await?;
        if !exchange.is_taler_exchange {
            return Err(not_exchange(username).into());
        }
        let debtor = account_of(
            &self.0,
            debit_account,
            "debit_account",
            ErrorCode::BankUnknownDebtor,
        )
        .await?;
        if debtor.is_taler_exchange {
            return Err(both_exchanges().into());
        }
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
                debit_account: accounts_payto(&state.config.bank_wire, &debtor),
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
                credit_account: accounts_payto(&state.config.bank_wire, &creditor),
                wtid: t.wtid.unwrap_or_default(),
                exchange_base_url: t.exchange_base_url.unwrap_or_default(),
            })
        })
        .collect()
}
