//! The wallet's view of an order: `GET [/instances/$INSTANCE]/orders/$ORDER_ID` and
//! `POST .../orders/$ORDER_ID/claim`, which freezes the contract terms for one wallet
//! and signs them.

use poem::Request;
use poem_openapi::{
    ApiResponse, Object, OpenApi, ResponseContent,
    param::{Path, Query},
    payload::{Html, Json},
};
use serde_json::json;

use crate::{
    error_responses,
    http::JsonBody,
    merchant::{
        orders::{
            links::{BaseUrl, token_matches, unclaimed_token},
            page::{self, OrderView, wants_html},
            stored::{long_poll, order_unknown, stored_terms},
            terms::ContractTerms,
        },
        tags::ApiTags,
    },
    state::State,
    store::{
        instances::Instance,
        orders::{self as store_orders, ClaimOutcome, Order as StoredOrder},
    },
    taler::{Amount, ApiError, EddsaPublicKey, ErrorCode, Timestamp, contract, keys},
};

/// `ClaimRequest`.
#[derive(Object, Debug)]
pub struct ClaimRequest {
    /// Nonce identifying the claiming wallet.
    pub nonce: EddsaPublicKey,
    /// The claim token of the order, if it was created with one.
    #[oai(validator(max_length = 64))]
    pub token: Option<String>,
}

/// `ClaimResponse`.
#[derive(Object)]
pub struct ClaimResponse {
    /// Contract terms of the claimed order.
    pub contract_terms: ContractTerms,
    /// The instance's EdDSA signature over the hash of the contract terms (purpose
    /// `TALER_SIGNATURE_MERCHANT_CONTRACT`).
    pub sig: String,
}

/// `StatusUnpaidResponse`.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct StatusUnpaidResponse {
    /// URI the wallet must process to complete the payment.
    pub taler_pay_uri: String,
    /// The order's fulfillment URL.
    pub fulfillment_url: Option<String>,
    /// Alternative order id paid for already in the same session (never set yet).
    pub already_paid_order_id: Option<String>,
}

/// `StatusGotoResponse`: where a browser without proof of owning a claimed order can
/// buy the same again.
#[derive(Object)]
pub struct StatusGotoResponse {
    /// The order's `public_reorder_url`.
    pub public_reorder_url: String,
}

/// The wallet's JSON, or the page a browser (`Accept: text/html`) shows.
#[derive(ResponseContent)]
pub enum UnpaidContent {
    Json(Json<StatusUnpaidResponse>),
    Html(Html<String>),
}

#[derive(ResponseContent)]
pub enum GotoContent {
    Json(Json<StatusGotoResponse>),
    Html(Html<String>),
}

#[derive(ApiResponse)]
pub enum OrderStatus {
    /// For a browser: the page of a paid (or refunded) order, linking to its
    /// fulfillment URL. (A wallet's answer for paid orders comes with payments.)
    #[oai(status = 200)]
    Paid(Html<String>),
    /// The order was claimed and the request proves no ownership (no or another
    /// `h_contract`): go to the contract's `public_reorder_url` to buy it again.
    #[oai(status = 202)]
    Goto(GotoContent),
    /// The order was not paid: pay it through `taler_pay_uri` (for a browser: a page
    /// with it as link and QR code).
    #[oai(status = 402)]
    PaymentRequired(UnpaidContent),
}

#[derive(ApiResponse)]
pub enum OrderClaimed {
    /// The contract terms, frozen for this wallet, and the merchant's signature.
    #[oai(status = 200)]
    Ok(Json<ClaimResponse>),
}

error_responses!(PublicOrderErrors {
    400 => "A query parameter is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    403 => "The claim token or the contract hash does not match (`TALER_EC_MERCHANT_GET_ORDERS_ID_INVALID_TOKEN`, `TALER_EC_MERCHANT_GET_ORDERS_ID_INVALID_CONTRACT_HASH`); for a claimed order, only when its contract has no `public_reorder_url`.",
    404 => "The instance or order is unknown (`TALER_EC_MERCHANT_GENERIC_ORDER_UNKNOWN`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

error_responses!(ClaimErrors {
    400 => "The request body is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    404 => "The instance or order is unknown, or the claim token is wrong (`TALER_EC_MERCHANT_POST_ORDERS_ID_CLAIM_NOT_FOUND`).",
    409 => "Another wallet claimed the order (`TALER_EC_MERCHANT_POST_ORDERS_ID_CLAIM_ALREADY_CLAIMED`).",
    413 => "The uploaded body is too long (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`, `TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

pub struct WalletOrdersApi(pub State);

#[OpenApi(tag = "ApiTags::Orders")]
impl WalletOrdersApi {
    /// Order status for a wallet
    ///
    /// Public. An unclaimed order needs its claim token (`token`), a claimed one the
    /// hash of its contract terms (`h_contract`); without it, a claimed order whose
    /// contract has a `public_reorder_url` answers 202 with it. Unpaid orders answer
    /// 402 with the URI to pay through; `timeout_ms` waits (at most 10 minutes) for a
    /// payment first. A browser (`Accept: text/html` before `application/json`) gets
    /// the order's page instead: the pay URI as link and QR code while unpaid, the
    /// paid or refunded state after.
    #[oai(
        path = "/instances/:instance/orders/:order_id",
        method = "get",
        operation_id = "merchant_get_order"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn public_order(
        &self,
        req: &Request,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        /// The order id.
        order_id: Path<String>,
        /// Hash of the contract terms (required once the order was claimed).
        #[oai(validator(max_length = 103))]
        h_contract: Query<Option<String>>,
        /// The claim token (for unclaimed orders created with one).
        #[oai(validator(max_length = 64))]
        token: Query<Option<String>>,
        /// Session the payment must be bound to.
        #[oai(validator(max_length = 256))]
        session_id: Query<Option<String>>,
        /// Long polling: milliseconds to wait for the payment.
        timeout_ms: Query<Option<u64>>,
        /// Long polling for a refund of at least this amount (paid orders only, so it
        /// changes nothing here until payments come).
        refund: Query<Option<Amount>>,
        /// Long polling until the wallet obtained the granted refunds (paid orders only).
        await_refund_obtained: Query<Option<bool>>,
        /// Whether a refunded order may be bought again in its session (paid orders
        /// only).
        allow_refunded_for_repurchase: Query<Option<bool>>,
    ) -> Result<OrderStatus, PublicOrderErrors> {
        // Refunds apply to paid orders; an unpaid order's answer does not depend on them.
        let _ = (refund, await_refund_obtained, allow_refunded_for_repurchase);
        let found = store_orders::find_with_access(&self.0.db, &instance, None, &order_id)
            .await
            .map_err(ApiError::db_fetch)?;
        let Some((instance_row, order)) = found.and_then(|f| Some((f.instance, f.object?))) else {
            return Err(order_unknown(&order_id).into());
        };
        match &order.h_contract_terms {
            Some(h) if h_contract.0.as_deref() != Some(h.as_str()) => {
                let reorder = stored_terms(&order)?["public_reorder_url"]
                    .as_str()
                    .map(str::to_owned);
                if let Some(public_reorder_url) = reorder {
                    return Ok(OrderStatus::Goto(if wants_html(req) {
                        GotoContent::Html(Html(page::reorder(&public_reorder_url)))
                    } else {
                        GotoContent::Json(Json(StatusGotoResponse { public_reorder_url }))
                    }));
                }
                return Err(ApiError::new(
                    ErrorCode::MerchantGetOrdersIdInvalidContractHash,
                    "the order was claimed: `h_contract` must be the hash of its contract terms",
                )
                .into());
            }
            Some(_) => {}
            None if !token_matches(&instance_row, &order, token.0.as_deref()) => {
                return Err(ApiError::new(
                    ErrorCode::MerchantGetOrdersIdInvalidToken,
                    "the claim token is missing or wrong",
                )
                .into());
            }
            None => {}
        }
        let serial = instance_row.instance_serial;
        let db = &self.0.db;
        let id = order_id.0.clone();
        // Waits for a payment, which only the payment work will bring.
        let order = long_poll(
            &self.0,
            serial,
            timeout_ms.0.unwrap_or(0),
            order,
            |o| o.paid,
            || async {
                store_orders::find(db, serial, &id)
                    .await
                    .map_err(ApiError::db_fetch)?
                    .ok_or_else(|| order_unknown(&id))
            },
        )
        .await?;
        let mut order = order;
        if session_id.0.is_some() {
            order.session_id = session_id.0.clone();
        }
        let base = BaseUrl::of(req, &self.0);
        let token = unclaimed_token(&instance_row, &order);
        let taler_pay_uri = base.pay_uri(&instance_row.instance_id, &order, token.as_deref());
        if wants_html(req) {
            let view = OrderView {
                summary: &order.summary,
                amount: &order.amount,
            };
            if order.paid {
                return Ok(OrderStatus::Paid(Html(page::paid(
                    &view,
                    order.refunded,
                    order.fulfillment_url.as_deref(),
                ))));
            }
            return Ok(OrderStatus::PaymentRequired(UnpaidContent::Html(Html(
                page::unpaid(&view, &taler_pay_uri),
            ))));
        }
        Ok(OrderStatus::PaymentRequired(UnpaidContent::Json(Json(
            StatusUnpaidResponse {
                taler_pay_uri,
                fulfillment_url: order.fulfillment_url.clone(),
                already_paid_order_id: None,
            },
        ))))
    }

    /// Claim an order
    ///
    /// Public. The wallet of `nonce` becomes the only one that can pay: the contract
    /// terms get the nonce, are frozen, and are signed with the instance's key. The
    /// same nonce again gets the same answer; another nonce is 409. A wrong or missing
    /// claim token is 404, as for an unknown order.
    #[oai(
        path = "/instances/:instance/orders/:order_id/claim",
        method = "post",
        operation_id = "merchant_post_order_claim"
    )]
    async fn claim(
        &self,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        /// The order id.
        order_id: Path<String>,
        body: JsonBody<ClaimRequest>,
    ) -> Result<OrderClaimed, ClaimErrors> {
        let not_found = || {
            ApiError::new(
                ErrorCode::MerchantPostOrdersIdClaimNotFound,
                format!("order `{}` is unknown", order_id.0),
            )
        };
        let found = store_orders::find_with_access(&self.0.db, &instance, None, &order_id)
            .await
            .map_err(ApiError::db_fetch)?;
        let Some((instance_row, mut order)) = found.and_then(|f| Some((f.instance, f.object?)))
        else {
            return Err(not_found().into());
        };
        let nonce = body.0.nonce.to_string();
        if order.nonce.is_none() {
            if !token_matches(&instance_row, &order, body.0.token.as_deref()) {
                return Err(not_found().into());
            }
            if Timestamp::from_db(order.pay_deadline) < Timestamp::now() {
                // Expired: the cleanup deletes it; nobody can pay it any more.
                return Err(not_found().into());
            }
        }
        loop {
            if let Some(claimed_by) = &order.nonce {
                if *claimed_by != nonce {
                    return Err(ApiError::new(
                        ErrorCode::MerchantPostOrdersIdClaimAlreadyClaimed,
                        "another wallet claimed this order",
                    )
                    .into());
                }
                return Ok(OrderClaimed::Ok(Json(signed(&instance_row, &order)?)));
            }
            let mut terms = stored_terms(&order)?;
            terms["nonce"] = json!(nonce);
            let h = contract::contract_hash(&terms)
                .map_err(|e| ApiError::new(ErrorCode::GenericInternalInvariantFailure, e.0))?;
            match store_orders::claim(
                &self.0.db,
                &order,
                &nonce,
                terms.to_string(),
                keys::encode(&h),
            )
            .await
            .map_err(ApiError::db_store)?
            {
                ClaimOutcome::Claimed => {
                    self.0
                        .order_changes
                        .notify(&self.0.db, instance_row.instance_serial)
                        .await
                        .map_err(ApiError::db_store)?;
                    let sig = sign(&instance_row, &h)?;
                    return Ok(OrderClaimed::Ok(Json(ClaimResponse {
                        contract_terms: ContractTerms(terms),
                        sig,
                    })));
                }
                ClaimOutcome::Again(now) => order = *now,
                ClaimOutcome::ClaimedByOther => {
                    return Err(ApiError::new(
                        ErrorCode::MerchantPostOrdersIdClaimAlreadyClaimed,
                        "another wallet claimed this order",
                    )
                    .into());
                }
                ClaimOutcome::Unknown => return Err(not_found().into()),
            }
        }
    }
}

fn sign(instance: &Instance, h: &[u8; 64]) -> Result<String, ApiError> {
    let key: [u8; 32] = instance.merchant_priv.as_slice().try_into().map_err(|_| {
        ApiError::new(
            ErrorCode::GenericDbFetchFailed,
            "stored merchant key is unreadable",
        )
    })?;
    Ok(keys::encode(&contract::sign_contract(&key, h)))
}

/// The claimed terms and a fresh signature over their (unchanged) hash.
fn signed(instance: &Instance, order: &StoredOrder) -> Result<ClaimResponse, ApiError> {
    let terms = stored_terms(order)?;
    let h = contract::contract_hash(&terms)
        .map_err(|e| ApiError::new(ErrorCode::GenericInternalInvariantFailure, e.0))?;
    Ok(ClaimResponse {
        contract_terms: ContractTerms(terms),
        sig: sign(instance, &h)?,
    })
}
