//! Taler Revenue API: `accounts/$USERNAME/taler-revenue/...`.

use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};

use crate::config::BankWire;
use crate::{
    bank::{
        auth::{self, BankCredentials, Need},
        payto::{accounts_payto, payto_with_name},
        tags::ApiTags,
    },
    error_responses,
    longpoll::{self, MayPark},
    state::{AppState, State},
    store::bank as store,
    taler::{
        Amount, ApiError, Timestamp,
        json_bytes::JsonBytes,
        pagination::{Page, PageLimit},
    },
};

/// `RevenueIncomingHistory`.
#[derive(Object, serde::Serialize)]
pub struct RevenueIncomingHistory {
    /// Array of incoming transactions.
    pub incoming_transactions: Vec<RevenueIncomingBankTransaction>,
    /// Full payto URI to identify the receiver of funds.
    pub credit_account: String,
}

/// `RevenueIncomingBankTransaction`.
#[derive(Object, serde::Serialize)]
#[oai(skip_serializing_if_is_none)]
pub struct RevenueIncomingBankTransaction {
    /// Opaque identifier of the returned record.
    pub row_id: u64,
    /// Date of the transaction.
    pub date: Timestamp,
    /// Amount received before credit_fee.
    pub amount: Amount,
    /// Fee payed by the creditor; if present, the creditor received `amount - credit_fee`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit_fee: Option<Amount>,
    /// Full payto URI to identify the sender of funds.
    pub debit_account: String,
    /// The wire transfer subject.
    pub subject: String,
}

#[derive(ApiResponse)]
pub enum HistoryResponse {
    /// Transfers into the account.
    #[oai(status = 200)]
    Ok(JsonBytes<RevenueIncomingHistory>),
    /// No transfers match (after waiting `timeout_ms`, if given).
    #[oai(status = 204)]
    Empty,
}

error_responses!(HistoryErrors {
    400 => "A query parameter is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    401 => "Missing, wrong or unknown credentials, or another account's (`TALER_EC_GENERIC_PARAMETER_MISSING`, `TALER_EC_GENERIC_UNAUTHORIZED`).",
    403 => "The token's scope does not allow reading the history (`TALER_EC_GENERIC_FORBIDDEN`).",
    404 => "The user name is unknown (`TALER_EC_BANK_UNKNOWN_ACCOUNT`).",
    429 => "Too many failed logins on this account or from this address: wait `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
    500 => "Database failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
    503 => "Every password worker is busy: retry after `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
});

/// `RevenueConfig`.
#[derive(Object)]
pub struct RevenueConfig {
    /// Name of the API: always "taler-revenue".
    pub name: String,
    /// libtool-style protocol version, "current:revision:age".
    pub version: String,
    /// Currency used by this API.
    pub currency: String,
    /// URN of the implementation (to interpret 'revision' in version).
    pub implementation: Option<String>,
}

pub struct RevenueApi(pub State);

#[OpenApi(tag = "ApiTags::Revenue")]
impl RevenueApi {
    /// Revenue API configuration
    ///
    /// The protocol version and currency of the Revenue API. Like libeufin-bank, this
    /// answers for any account name and needs no authentication.
    #[oai(
        path = "/accounts/:USERNAME/taler-revenue/config",
        method = "get",
        operation_id = "bank_get_revenue_config"
    )]
    async fn get_config(
        &self,
        /// Account name.
        #[oai(name = "USERNAME")]
        _username: Path<String>,
    ) -> Json<RevenueConfig> {
        Json(RevenueConfig {
            name: "taler-revenue".to_owned(),
            version: "1:0:0".to_owned(),
            currency: self.0.config.currency.clone(),
            implementation: Some("urn:net:taler:specs:taler-revenue:taler-openapi".to_owned()),
        })
    }

    /// Incoming transfers of an account
    ///
    /// Row-id pagination: `limit` > 0 ascending, < 0 descending (default -20, at most
    /// 1024), `offset` the row id to start after. With `timeout_ms` and a positive
    /// `limit`, the request waits until a transfer after `offset` arrives or the
    /// timeout (at most 10 minutes) passes. Authenticated with the account's password
    /// or a `revenue`, `readonly` or `readwrite` token.
    #[oai(
        path = "/accounts/:USERNAME/taler-revenue/history",
        method = "get",
        operation_id = "bank_get_revenue_history"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn get_history(
        &self,
        mut credentials: BankCredentials,
        /// Account name.
        #[oai(name = "USERNAME")]
        username: Path<String>,
        /// At most return the given number of results. Negative for descending by
        /// `row_id`, positive for ascending. Defaults to -20; must not be 0.
        limit: Query<Option<PageLimit>>,
        /// Starting `row_id` for pagination (exclusive).
        #[oai(validator(minimum(value = "0")))]
        offset: Query<Option<i64>>,
        /// Long polling: milliseconds to wait for at least one transfer (only with a
        /// positive `limit`).
        timeout_ms: Query<Option<u64>>,
        /// Deprecated since v1: use `limit`.
        #[oai(deprecated)]
        delta: Query<Option<PageLimit>>,
        /// Deprecated since v1: use `offset`.
        #[oai(deprecated, validator(minimum(value = "0")))]
        start: Query<Option<i64>>,
        /// Deprecated since v1: use `timeout_ms`.
        #[oai(deprecated)]
        long_poll_ms: Query<Option<u64>>,
    ) -> Result<MayPark<HistoryResponse>, HistoryErrors> {
        // The parameters' types have refused what `Page` would (before the credentials,
        // as for every operation).
        let page = Page::new(limit.0.or(delta.0), offset.0.or(start.0))?;
        let timeout = page.wait_ms(timeout_ms.0.or(long_poll_ms.0));
        // Subscribed before the first look, so a transfer in between is not missed.
        let wake = self.0.incoming.subscribe();
        // The account, the token and the first look in one round trip (on SQLite).
        let db = &self.0.db;
        let (account, rows) = Box::pin(auth::authorize_reading(
            &self.0,
            &username,
            &mut credentials,
            Need::Revenue,
            async |token_hash| {
                Ok(
                    store::find_account_with_incoming(db, &username, token_hash.as_deref(), page)
                        .await?
                        .map(|found| (found.account, found.token, found.page)),
                )
            },
            async |account_id| store::incoming(db, account_id, page).await,
        ))
        .await?;
        let id = account.account_id;
        let credit_account = accounts_payto(&self.0.config.bank_wire, &account);
        let first =
            encode(&self.0.config.bank_wire, rows, &credit_account)?.map(HistoryResponse::Ok);
        let state = self.0.clone();
        Ok(longpoll::respond_after::<_, HistoryErrors, _>(
            wake,
            first,
            id,
            timeout,
            HistoryResponse::Empty,
            move |wake| {
                let (state, credit_account) = (state.clone(), credit_account.clone());
                async move {
                    match wake {
                        // Every poller of this page woken by one wake shares one look,
                        // and its answer's bytes.
                        Some(seq) => {
                            let key = (id, page.offset, page.count, seq);
                            // Kept as bytes: the state names no bank type.
                            let shared = || async {
                                let page = look(&state, id, page, &credit_account).await;
                                page.map(|found| found.map(JsonBytes::into_bytes))
                            };
                            state
                                .history_looks
                                .get(key, shared)
                                .await
                                .map(|found| found.map(JsonBytes::from_encoded))
                        }
                        None => look(&state, id, page, &credit_account).await,
                    }
                    .map(|found| found.map(HistoryResponse::Ok))
                }
            },
        )
        .await)
    }
}

/// The page, encoded, or `None` when it is empty.
async fn look(state: &AppState, account: i64, page: Page, credit_account: &str) -> SharedPage {
    let rows = store::incoming(&state.db, account, page)
        .await
        .map_err(ApiError::db_fetch)?;
    encode(&state.config.bank_wire, rows, credit_account)
}

/// A page's answer, encoded, or `None` when it is empty.
fn encode(wire: &BankWire, rows: Vec<store::IncomingRow>, credit_account: &str) -> SharedPage {
    if rows.is_empty() {
        return Ok(None);
    }
    // About what a transfer takes in JSON, with a debtor's payto URI and a subject.
    let size = 64 + credit_account.len() + 256 * rows.len();
    Ok(Some(JsonBytes::encode_sized(
        &RevenueIncomingHistory {
            incoming_transactions: transactions(wire, rows)?,
            credit_account: credit_account.to_owned(),
        },
        size,
    )))
}

/// A history page's rows as the Revenue API shows them.
fn transactions(
    wire: &BankWire,
    rows: Vec<store::IncomingRow>,
) -> Result<Vec<RevenueIncomingBankTransaction>, ApiError> {
    let bad = |e: String| ApiError::db_fetch(format!("stored transfer is invalid: {e}"));
    rows.into_iter()
        .map(|r| {
            Ok(RevenueIncomingBankTransaction {
                row_id: r.row_id as u64,
                date: Timestamp::from_db(r.date),
                amount: r.amount.parse().map_err(|e| bad(format!("{e}")))?,
                credit_fee: r
                    .credit_fee
                    .map(|f| f.parse().map_err(|e| bad(format!("{e}"))))
                    .transpose()?,
                debit_account: payto_with_name(wire, &r.debtor_payto_key, &r.debtor_name),
                subject: r.subject,
            })
        })
        .collect()
}

/// A page's answer, encoded (`None`: the page is empty); the pollers one wake woke
/// share it (`AppState::history_looks`).
pub type SharedPage = Result<Option<JsonBytes<RevenueIncomingHistory>>, ApiError>;

#[cfg(test)]
mod tests {
    use poem_openapi::types::ToJSON;

    use super::*;

    /// The bytes sent are those `Json<RevenueIncomingHistory>` would send.
    #[test]
    fn the_encoded_history_is_the_published_json() {
        let tx = |row_id, credit_fee: Option<&str>| RevenueIncomingBankTransaction {
            row_id,
            date: Timestamp::from_db(1_700_000_000),
            amount: "KUDOS:1.5".parse().unwrap(),
            credit_fee: credit_fee.map(|f| f.parse().unwrap()),
            debit_account: payto_with_name(
                &BankWire::XTalerBank {
                    hostname: "localhost".into(),
                },
                "payto://x-taler-bank/localhost/alice",
                "Alice \"A\"",
            ),
            subject: "order 42 \u{e9}\n".to_owned(),
        };
        for history in [
            RevenueIncomingHistory {
                incoming_transactions: vec![tx(1, None), tx(2, Some("KUDOS:0.01"))],
                credit_account: "payto://x-taler-bank/localhost/shop?receiver-name=Shop".to_owned(),
            },
            RevenueIncomingHistory {
                incoming_transactions: vec![],
                credit_account: String::new(),
            },
        ] {
            let published = serde_json::to_vec(&history.to_json()).unwrap();
            assert_eq!(
                JsonBytes::encode(&history).as_bytes(),
                published.as_slice(),
                "{}",
                String::from_utf8_lossy(&published)
            );
        }
    }
}
