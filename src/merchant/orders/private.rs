//! The merchant's operations on its orders: `POST`/`GET [/instances/$INSTANCE]/private/orders`
//! (creation is `create`'s), `GET`/`DELETE .../private/orders/$ORDER_ID` and
//! `PATCH .../forget`. poem-openapi publishes one API's operations of a path, so the
//! operations of one path live in one API.

use poem::Request;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
    types::ToJSON,
};
use sha2::{Digest, Sha256};

use crate::taler::text::{Text, YesNo, YesNoAll};
use crate::{
    error_responses,
    http::JsonBody,
    merchant::{
        instances::auth::{self, MerchantToken, Permission},
        orders::{
            create::{
                OrderCreated, OrderInput, PostOrderErrors, PostOrderRequest, create, h_post_data,
            },
            forget::{forget_path, parse_forget_path},
            links::{BaseUrl, unclaimed_token},
            stored::{long_poll, order_amount, order_unknown, stored_terms},
            terms::ContractTerms,
        },
        tags::ApiTags,
    },
    state::State,
    store::{
        instances::Instance,
        orders::{self as store_orders, Order as StoredOrder},
    },
    taler::{
        Amount, ApiError, ErrorCode, Timestamp, keys,
        pagination::{Page, PageLimit},
    },
};

pub const ORDERS_READ: Permission = "orders-read";
pub const ORDERS_WRITE: Permission = "orders-write";

/// The creation time orders must be after: `date_s`, or `now - max_age` when the page
/// is ascending and that is later.
fn created_after(
    date_s: Option<u64>,
    max_age: Option<&str>,
    page: Page,
) -> Result<Option<i64>, ApiError> {
    let from_date = date_s.map(|d| Timestamp::Seconds(d).to_db());
    let Some(text) = max_age else {
        return Ok(from_date);
    };
    let age = crate::taler::RelativeTime::parse_fancy(text).ok_or_else(|| {
        ApiError::malformed(
            "max_age",
            "`max_age` must be a relative time such as `1 day`",
        )
    })?;
    let from_age = match age {
        crate::taler::RelativeTime::Micros(us) if page.ascending => Some(
            Timestamp::now()
                .to_db()
                .saturating_sub((us / 1_000_000) as i64),
        ),
        _ => None,
    };
    Ok(from_date.max(from_age))
}

/// `CheckPaymentUnpaidResponse` and `CheckPaymentClaimedResponse`, told apart by
/// `order_status`.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct MerchantOrderStatusResponse {
    /// "unpaid" (not claimed yet) or "claimed".
    pub order_status: String,
    /// Unpaid: URI the wallet must process to pay.
    pub taler_pay_uri: Option<String>,
    /// Unpaid: when the order was created.
    pub creation_time: Option<Timestamp>,
    /// Unpaid: the order summary.
    pub summary: Option<String>,
    /// Unpaid: the total amount of the order.
    pub total_amount: Option<Amount>,
    /// Claimed: the contract terms.
    pub contract_terms: Option<ContractTerms>,
    /// Status URL: a redirect target for a browser to show the order's QR code.
    pub order_status_url: String,
}

/// `OrderHistoryEntry`.
#[derive(Object, Clone)]
pub struct OrderHistoryEntry {
    /// Order id.
    pub order_id: String,
    /// Row id of the order (for pagination).
    pub row_id: u64,
    /// When the order was created.
    pub timestamp: Timestamp,
    /// The amount of the order.
    pub amount: Amount,
    /// The summary of the order.
    pub summary: String,
    /// Whether some part of the order is refundable (never before payment).
    pub refundable: bool,
    /// Whether the order has been paid.
    pub paid: bool,
}

/// `OrderHistory`.
#[derive(Object)]
pub struct OrderHistory {
    /// The orders matching the query, in the direction of `limit`.
    pub orders: Vec<OrderHistoryEntry>,
}

/// `ForgetRequest`.
#[derive(Object)]
pub struct ForgetRequest {
    /// JSON paths (`$.field`, `$.products[1].description`, `$.products[*].image`) of
    /// forgettable fields.
    #[oai(validator(min_items = 1))]
    pub fields: Vec<String>,
}

// Built once per request and answered at once: the size of a variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(ApiResponse)]
pub enum MerchantOrderFound {
    /// The order's status.
    #[oai(status = 200)]
    Ok(
        Json<MerchantOrderStatusResponse>,
        /// Hash of the response body, for `lp_not_etag` and `If-None-Match`.
        #[oai(header = "ETag")]
        String,
    ),
    /// The status is the one of the `If-None-Match` ETag: nothing changed.
    #[oai(status = 304)]
    NotModified(
        /// Hash of the response body.
        #[oai(header = "ETag")]
        String,
    ),
}

#[derive(ApiResponse)]
pub enum OrdersListed {
    /// The matching orders.
    #[oai(status = 200)]
    Ok(Json<OrderHistory>),
}

#[derive(ApiResponse)]
pub enum Forgotten {
    /// The fields were forgotten now.
    #[oai(status = 200)]
    Ok,
    /// The fields had been forgotten before.
    #[oai(status = 204)]
    Already,
}

error_responses!(ListOrdersErrors {
    400 => "A query parameter is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `orders-read` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The instance is unknown (`TALER_EC_MERCHANT_GENERIC_INSTANCE_UNKNOWN`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

error_responses!(GetOrderErrors {
    400 => "A query parameter is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `orders-read` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The instance or order is unknown (`TALER_EC_MERCHANT_GENERIC_ORDER_UNKNOWN`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

error_responses!(DeleteOrderErrors {
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `orders-write` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The instance or order is unknown (`TALER_EC_MERCHANT_GENERIC_ORDER_UNKNOWN`).",
    400 => "`force` is neither YES nor NO (`TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    409 => "A wallet claimed the order and may still pay it, and `force` is not YES (`TALER_EC_MERCHANT_PRIVATE_DELETE_ORDERS_AWAITING_PAYMENT`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
});

error_responses!(ForgetErrors {
    400 => "The request is malformed or a path is invalid (`TALER_EC_MERCHANT_PRIVATE_PATCH_ORDERS_ID_FORGET_PATH_SYNTAX_INCORRECT`, `TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `orders-write` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The instance or order is unknown (`TALER_EC_MERCHANT_GENERIC_ORDER_UNKNOWN`).",
    409 => "A path names a field that is not forgettable (`TALER_EC_MERCHANT_PRIVATE_PATCH_ORDERS_ID_FORGET_PATH_NOT_FORGETTABLE`).",
    413 => "The uploaded body is too long (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
});

/// `YES`/`NO`/`ALL` filters of the order list (case-insensitive; absent is `ALL`).
fn tri_state(name: &str, value: Option<&str>) -> Result<Option<bool>, ApiError> {
    match value.map(str::to_ascii_lowercase).as_deref() {
        None | Some("all") => Ok(None),
        Some("yes") => Ok(Some(true)),
        Some("no") => Ok(Some(false)),
        Some(_) => Err(ApiError::malformed(
            name,
            format!("parameter `{name}` must be YES, NO or ALL"),
        )),
    }
}

pub struct PrivateOrdersApi(pub State);

#[OpenApi(tag = "ApiTags::Orders")]
impl PrivateOrdersApi {
    /// Create an order
    ///
    /// Completes the order into contract terms (deadlines from the instance's defaults,
    /// the merchant's details and key, inventory products with their prices) and
    /// stores it. Not idempotent unless `order.order_id` is given: the same request
    /// under the same id returns the same answer, another request under it is 409.
    /// Requires `orders-write`.
    #[oai(
        path = "/instances/:instance/private/orders",
        method = "post",
        operation_id = "merchant_post_private_orders"
    )]
    async fn post_order(
        &self,
        req: &Request,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        body: JsonBody<PostOrderRequest>,
    ) -> Result<OrderCreated, PostOrderErrors> {
        let access = auth::authorize(&self.0, &instance, &token, ORDERS_WRITE).await?;
        let body = body.0;
        let h_post_data = h_post_data(&body.to_json().unwrap_or_default());
        let input = OrderInput {
            order: body.order,
            refund_delay: body.refund_delay,
            payment_target: body.payment_target,
            session_id: body.session_id,
            inventory: body.inventory_products.unwrap_or_default(),
            create_token: body.create_token.unwrap_or(true),
            otp_id: body.otp_id,
            pay_duration: None,
            h_post_data,
            lock_uuids: body.lock_uuids.unwrap_or_default(),
            anonymous: None,
        };
        let base = BaseUrl::of(req, &self.0);
        Ok(create(&self.0, &access.instance, &base, input)
            .await?
            .into())
    }

    /// List orders
    ///
    /// Row-id pagination (`limit` default 20, ascending; `offset` the row id to start
    /// after), narrowed by `paid`, `refunded`, `wired` (YES, NO or ALL), `date_s`
    /// (orders created after it), `session_id`, `fulfillment_url` and `summary_filter`
    /// (a text the summary contains, ignoring case). With `timeout_ms`
    /// and a positive `limit`, waits for a matching order if there is none yet.
    /// Requires `orders-read`.
    #[oai(
        path = "/instances/:instance/private/orders",
        method = "get",
        operation_id = "merchant_get_private_orders"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn list_orders(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        /// YES: only paid orders; NO: only unpaid; ALL (default): both. Any case.
        paid: Query<Option<Text<YesNoAll>>>,
        /// YES, NO or ALL: refunded orders. Any case.
        refunded: Query<Option<Text<YesNoAll>>>,
        /// YES, NO or ALL: orders whose money was wired. Any case.
        wired: Query<Option<Text<YesNoAll>>>,
        /// Only orders created after this time, in seconds since the epoch.
        #[oai(validator(maximum(value = "9007199254740991")))]
        date_s: Query<Option<u64>>,
        /// Only orders younger than this (with a positive `limit`): a relative time as
        /// GNUnet writes it (`1 day`, `3 h`; a bare number is microseconds). With
        /// `date_s` too, the later of the two applies. Since v27.
        #[oai(validator(
            max_length = 64,
            pattern = r"^(forever|[0-9]+|([0-9]+ ?(us|ms|s|min|h|d|week|weeks|month|months|year|years|day|days|hour|hours|minute|minutes|second|seconds) ?)+)$"
        ))]
        max_age: Query<Option<String>>,
        /// At most this many orders; negative for descending by row id. Default 20.
        limit: Query<Option<PageLimit>>,
        /// Row id to start after.
        #[oai(validator(minimum(value = "0")))]
        offset: Query<Option<i64>>,
        /// Deprecated since v12: use `limit`.
        #[oai(deprecated)]
        delta: Query<Option<PageLimit>>,
        /// Deprecated since v12: use `offset`.
        #[oai(deprecated, validator(minimum(value = "0")))]
        start: Query<Option<i64>>,
        /// Long polling: milliseconds to wait for a matching order (positive `limit`).
        timeout_ms: Query<Option<u64>>,
        /// Only orders of this session.
        #[oai(validator(max_length = 256))]
        session_id: Query<Option<String>>,
        /// Only orders with this fulfillment URL.
        #[oai(validator(max_length = 512))]
        fulfillment_url: Query<Option<String>>,
        /// Only orders whose summary contains this text (ignoring case).
        #[oai(validator(max_length = 256))]
        summary_filter: Query<Option<String>>,
    ) -> Result<OrdersListed, ListOrdersErrors> {
        let access = auth::authorize(&self.0, &instance, &token, ORDERS_READ).await?;
        // The page: default 20 (ascending); the deprecated `delta` defaulted to -20.
        let page = match (limit.0, delta.0) {
            (None, Some(delta)) => Page::with_default(Some(delta), offset.0.or(start.0), -20)?,
            (limit, _) => Page::with_default(limit, offset.0.or(start.0), 20)?,
        };
        let filter = store_orders::OrderFilter {
            paid: tri_state("paid", paid.0.as_deref())?,
            refunded: tri_state("refunded", refunded.0.as_deref())?,
            wired: tri_state("wired", wired.0.as_deref())?,
            created_after: created_after(date_s.0, max_age.0.as_deref(), page)?,
            session_id: session_id.0.clone(),
            fulfillment_url: fulfillment_url.0.clone(),
            summary: summary_filter.0.clone(),
        };
        let serial = access.instance.instance_serial;
        let db = &self.0.db;
        let filter = &filter;
        let look = || async move {
            store_orders::list(db, serial, filter, page)
                .await
                .map_err(ApiError::db_fetch)
        };
        let first = look().await?;
        let timeout = page.wait_ms(timeout_ms.0);
        let rows = long_poll(&self.0, serial, timeout, first, |r| !r.is_empty(), look).await?;
        let orders = rows
            .iter()
            .map(|o| {
                Ok(OrderHistoryEntry {
                    order_id: o.order_id.clone(),
                    row_id: o.order_serial as u64,
                    timestamp: Timestamp::from_db(o.creation_time),
                    amount: o.amount.parse().map_err(ApiError::db_fetch)?,
                    summary: o.summary.clone(),
                    refundable: false,
                    paid: o.paid,
                })
            })
            .collect::<Result<_, ApiError>>()?;
        Ok(OrdersListed::Ok(Json(OrderHistory { orders })))
    }

    /// Get an order
    ///
    /// "unpaid" (not claimed yet: with the URI a wallet pays through) or "claimed"
    /// (with the contract terms). The `ETag` header is a hash of the body; with
    /// `lp_not_etag` and `timeout_ms`, the request waits until the body differs from the
    /// one of that ETag (a claim), or the timeout passes. Requires `orders-read`.
    #[oai(
        path = "/instances/:instance/private/orders/:order_id",
        method = "get",
        operation_id = "merchant_get_private_order"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn get_order(
        &self,
        req: &Request,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        /// The order id.
        order_id: Path<String>,
        /// Session the payment must be bound to (kept for the pay URI).
        #[oai(validator(max_length = 256))]
        session_id: Query<Option<String>>,
        /// Long polling: milliseconds to wait for a change (at most 10 minutes).
        timeout_ms: Query<Option<u64>>,
        /// Long polling: wait until the answer's ETag differs from this one.
        #[oai(validator(max_length = 64))]
        lp_not_etag: Query<Option<String>>,
    ) -> Result<MerchantOrderFound, GetOrderErrors> {
        let (access, order) =
            authorize_order(&self.0, &instance, &token, ORDERS_READ, &order_id).await?;
        let base = BaseUrl::of(req, &self.0);
        let instance_row = access.instance;
        let serial = instance_row.instance_serial;
        let answer = |o: &StoredOrder| -> Result<(MerchantOrderStatusResponse, String), ApiError> {
            let mut o = o.clone();
            if session_id.0.is_some() {
                o.session_id = session_id.0.clone();
            }
            merchant_status(&instance_row, &base, &o)
        };
        let first = answer(&order)?;
        let timeout = if lp_not_etag.0.is_some() {
            timeout_ms.0.unwrap_or(0)
        } else {
            0
        };
        let not_etag = lp_not_etag.0.clone();
        let db = &self.0.db;
        let id = order_id.0.clone();
        let (body, etag) = long_poll(
            &self.0,
            serial,
            timeout,
            first,
            |(_, etag)| not_etag.as_deref() != Some(etag.as_str()),
            || async {
                let now = store_orders::find(db, serial, &id)
                    .await
                    .map_err(ApiError::db_fetch)?
                    .ok_or_else(|| order_unknown(&id))?;
                answer(&now)
            },
        )
        .await?;
        // `If-None-Match` (RFC 9110): a client that long-polled with `lp_not_etag` and
        // timed out learns that nothing changed without the body again.
        let unchanged = req
            .header("If-None-Match")
            .is_some_and(|h| h.split(',').any(|t| t.trim().trim_matches('"') == etag));
        if unchanged {
            return Ok(MerchantOrderFound::NotModified(etag));
        }
        Ok(MerchantOrderFound::Ok(Json(body), etag))
    }

    /// Delete an order
    ///
    /// An order no wallet claimed, or whose pay deadline passed, can be deleted; with
    /// `force=YES` also a claimed order that could still be paid. Its inventory units
    /// are free again. Unpaid orders are otherwise kept (past their pay deadline too)
    /// until `[merchant] LEGAL_PRESERVATION` has passed. Requires `orders-write`.
    #[oai(
        path = "/instances/:instance/private/orders/:order_id",
        method = "delete",
        operation_id = "merchant_delete_private_order"
    )]
    async fn delete_order(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        /// The order id.
        order_id: Path<String>,
        /// YES: delete the order even if a wallet claimed it and may still pay it.
        force: Query<Option<Text<YesNo>>>,
    ) -> Result<crate::http::NoContent, DeleteOrderErrors> {
        let (_, order) =
            authorize_order(&self.0, &instance, &token, ORDERS_WRITE, &order_id).await?;
        let force = force
            .0
            .as_deref()
            .is_some_and(|f| f.eq_ignore_ascii_case("yes"));
        let expired = Timestamp::from_db(order.pay_deadline) < Timestamp::now();
        if order.nonce.is_some() && !expired && !force {
            return Err(ApiError::new(
                ErrorCode::MerchantPrivateDeleteOrdersAwaitingPayment,
                "a wallet claimed the order and may pay it until its pay deadline",
            )
            .into());
        }
        if store_orders::delete(&self.0.db, &order)
            .await
            .map_err(ApiError::db_store)?
        {
            Ok(crate::http::NoContent::Done)
        } else {
            Err(order_unknown(&order_id).into())
        }
    }

    /// Forget fields of an order's contract terms
    ///
    /// Replaces each forgettable field the paths name by its salted hash (the contract
    /// hash stays the same). Paths naming no field are ignored; a field not marked
    /// forgettable is 409. 200 when something was forgotten now, 204 when everything
    /// was forgotten before. Requires `orders-write`.
    #[oai(
        path = "/instances/:instance/private/orders/:order_id/forget",
        method = "patch",
        operation_id = "merchant_patch_private_order_forget"
    )]
    async fn forget(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        /// The order id.
        order_id: Path<String>,
        body: JsonBody<ForgetRequest>,
    ) -> Result<Forgotten, ForgetErrors> {
        let (access, mut order) =
            authorize_order(&self.0, &instance, &token, ORDERS_WRITE, &order_id).await?;
        let paths = body
            .0
            .fields
            .iter()
            .map(|p| {
                parse_forget_path(p).ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::MerchantPrivatePatchOrdersIdForgetPathSyntaxIncorrect,
                        format!("`{p}` is not a path to a field (`$.field`, `$.list[1].field`)"),
                    )
                    .detail(p.clone())
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        // Compare and swap: a concurrent forget or claim is seen, and the paths
        // applied to the terms as they are now.
        loop {
            let mut terms = stored_terms(&order)?;
            let mut forgot_now = false;
            for steps in &paths {
                forget_path(&mut terms, steps, &mut forgot_now).map_err(|e| {
                    ApiError::new(
                        ErrorCode::MerchantPrivatePatchOrdersIdForgetPathNotForgettable,
                        format!("field {e}"),
                    )
                })?;
            }
            if !forgot_now {
                return Ok(Forgotten::Already);
            }
            if store_orders::replace_terms(&self.0.db, &order, terms.to_string())
                .await
                .map_err(ApiError::db_store)?
            {
                // Long pollers of a claimed order see its terms change.
                self.0
                    .order_changes
                    .notify(&self.0.db, access.instance.instance_serial)
                    .await
                    .map_err(ApiError::db_store)?;
                return Ok(Forgotten::Ok);
            }
            order = store_orders::find(&self.0.db, access.instance.instance_serial, &order_id)
                .await
                .map_err(ApiError::db_fetch)?
                .ok_or_else(|| order_unknown(&order_id))?;
        }
    }
}

/// The order with the access to it, in one query: the order's 404 for an unknown
/// instance or order, 401 and 403 as for every private operation.
pub(super) async fn authorize_order(
    state: &State,
    instance: &str,
    token: &MerchantToken,
    permission: Permission,
    order_id: &str,
) -> Result<(auth::Access, StoredOrder), ApiError> {
    let (access, order, _) = auth::authorize_found(
        state,
        token,
        permission,
        async |hash| {
            store_orders::find_with_access(&state.db, instance, Some(&hash), order_id).await
        },
        || order_unknown(order_id),
    )
    .await?;
    Ok((access, order))
}

/// The merchant's view of an order, and its ETag.
fn merchant_status(
    instance: &Instance,
    base: &BaseUrl,
    order: &StoredOrder,
) -> Result<(MerchantOrderStatusResponse, String), ApiError> {
    let token = unclaimed_token(instance, order);
    let order_status_url = base.status_url(&instance.instance_id, order, token.as_deref());
    let body = if order.nonce.is_some() {
        MerchantOrderStatusResponse {
            order_status: "claimed".to_owned(),
            taler_pay_uri: None,
            creation_time: None,
            summary: None,
            total_amount: None,
            contract_terms: Some(ContractTerms(stored_terms(order)?)),
            order_status_url,
        }
    } else {
        MerchantOrderStatusResponse {
            order_status: "unpaid".to_owned(),
            taler_pay_uri: Some(base.pay_uri(&instance.instance_id, order, token.as_deref())),
            creation_time: Some(Timestamp::from_db(order.creation_time)),
            summary: Some(order.summary.clone()),
            total_amount: Some(order_amount(order)?),
            contract_terms: None,
            order_status_url,
        }
    };
    let text = body.to_json().unwrap_or_default().to_string();
    let etag = keys::encode(&Sha256::digest(text.as_bytes())[..16]);
    Ok((body, etag))
}
