//! Refunds: `POST [/instances/$INSTANCE]/private/orders/$ORDER_ID/refund`.
//!
//! The checks run in the reference backend's order: the contract first (a refund
//! deadline equal to the contract's timestamp allows no refunds, 403; past the wire
//! transfer deadline the exchange may have wired the money, 410), then the currency,
//! then the payment. This backend takes no payments yet, so every order is unpaid and
//! answers 409 `..._REFUND_ORDER_UNPAID`; granting a refund comes with payments, as one
//! store call in [`refund`] after these checks.

use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};
use serde_json::Value;

use crate::{
    error_responses,
    http::JsonBody,
    merchant::{
        instances::auth::{MerchantToken, Permission},
        orders::{
            private::authorize_order,
            stored::{order_amount, stored_terms},
        },
        tags::ApiTags,
    },
    state::State,
    store::orders::Order as StoredOrder,
    taler::{Amount, ApiError, ErrorCode, Timestamp},
};

const ORDERS_REFUND: Permission = "orders-refund";

/// `RefundRequest`.
#[derive(Object)]
pub struct RefundRequest {
    /// Amount to be refunded.
    pub refund: Amount,
    /// Human-readable refund justification.
    #[oai(validator(max_length = 1024))]
    pub reason: String,
}

/// `MerchantRefundResponse`.
#[derive(Object)]
pub struct MerchantRefundResponse {
    /// URL (handled by the backend) that the wallet should access to trigger refund
    /// processing (`taler://refund/...`).
    pub taler_refund_uri: String,
    /// Contract hash that a client may need to authenticate an HTTP request to obtain
    /// the above URI in a wallet-friendly way.
    pub h_contract: String,
}

#[derive(ApiResponse)]
pub enum RefundGranted {
    /// The refund amount has been increased.
    #[oai(status = 200)]
    Ok(Json<MerchantRefundResponse>),
}

error_responses!(RefundErrors {
    400 => "The request body is malformed (`TALER_EC_GENERIC_JSON_INVALID`, `TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The refund delay was zero, so refunds are categorically not allowed (`TALER_EC_MERCHANT_PRIVATE_POST_ORDERS_ID_REFUND_NOT_ALLOWED_BY_CONTRACT`), or the token lacks `orders-refund` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The order or the instance is unknown (`TALER_EC_MERCHANT_GENERIC_ORDER_UNKNOWN`).",
    409 => "The refund is in another currency than the order (`TALER_EC_MERCHANT_GENERIC_CURRENCY_MISMATCH`), or the order was not paid (`TALER_EC_MERCHANT_PRIVATE_POST_ORDERS_ID_REFUND_ORDER_UNPAID`).",
    410 => "Too late for refunds: the wire transfer deadline passed and the exchange may have wired the funds (`TALER_EC_MERCHANT_PRIVATE_POST_REFUND_AFTER_WIRE_DEADLINE`).",
    413 => "The body exceeds the size limit (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    451 => "An exchange would refuse the refund for legal reasons (`TALER_EC_MERCHANT_POST_ORDERS_ID_REFUND_EXCHANGE_TRANSACTION_LIMIT_VIOLATION`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`, `TALER_EC_GENERIC_DB_STORE_FAILED`).",
});

pub struct RefundsApi(pub State);

#[OpenApi(tag = "ApiTags::Orders")]
impl RefundsApi {
    /// Increase an order's refund
    ///
    /// The customer is then sent to `taler_refund_uri`. Refunds need a paid order, a
    /// contract that allows them (a refund deadline after the contract's timestamp) and
    /// a wire transfer deadline still ahead. Requires `orders-refund`.
    #[oai(
        path = "/instances/:instance/private/orders/:order_id/refund",
        method = "post",
        operation_id = "merchant_post_private_order_refund"
    )]
    async fn refund(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        /// The order id.
        order_id: Path<String>,
        body: JsonBody<RefundRequest>,
    ) -> Result<RefundGranted, RefundErrors> {
        let (_, order) =
            authorize_order(&self.0, &instance, &token, ORDERS_REFUND, &order_id).await?;
        check_refund(&order, &body.refund, Timestamp::now())?;
        Err(ApiError::new(
            ErrorCode::MerchantPrivatePostOrdersIdRefundOrderUnpaid,
            format!("order `{}` was not paid", order_id.0),
        )
        .into())
    }
}

/// The checks that need only the order and its contract: everything but the payment.
fn check_refund(order: &StoredOrder, refund: &Amount, now: Timestamp) -> Result<(), ApiError> {
    let terms = stored_terms(order)?;
    let timestamp = terms_time(&terms, "timestamp")?;
    if terms_time(&terms, "refund_deadline")? == timestamp {
        return Err(ApiError::new(
            ErrorCode::MerchantPrivatePostOrdersIdRefundNotAllowedByContract,
            "the contract's refund deadline is its timestamp: it allows no refunds",
        ));
    }
    if terms_time(&terms, "wire_transfer_deadline")? < now {
        return Err(ApiError::new(
            ErrorCode::MerchantPrivatePostRefundAfterWireDeadline,
            "the wire transfer deadline passed: the exchange may have wired the funds",
        ));
    }
    let amount = order_amount(order)?;
    if refund.currency() != amount.currency() {
        return Err(ApiError::new(
            ErrorCode::MerchantGenericCurrencyMismatch,
            format!(
                "refund: the order is in {}, not {}",
                amount.currency(),
                refund.currency()
            ),
        )
        .currency(amount.currency()));
    }
    Ok(())
}

/// A timestamp of the stored contract terms (`{"t_s": n | "never"}`).
fn terms_time(terms: &Value, field: &str) -> Result<Timestamp, ApiError> {
    match &terms[field]["t_s"] {
        Value::Number(n) => n.as_u64().map(Timestamp::Seconds),
        Value::String(s) if s == "never" => Some(Timestamp::Never),
        _ => None,
    }
    .ok_or_else(|| {
        ApiError::db_fetch(format!(
            "stored contract terms lack a valid `{field}` timestamp"
        ))
    })
}
