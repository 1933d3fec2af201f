//! Orders: `[/instances/$INSTANCE]/private/orders[/$ORDER_ID[/forget]]` for the
//! merchant, `[/instances/$INSTANCE]/orders/$ORDER_ID[/claim]` for wallets. Templates
//! create orders through [`create`] too.
//!
//! An order's contract terms are built once, when it is created, and stored as JSON;
//! a claim adds the wallet's nonce, freezes them, and signs their hash
//! (`taler::contract`). Payment needs an exchange and is not served yet: no order gets
//! past "claimed", and unpaid orders are deleted once their pay deadline passed
//! (`order_cleanup`).

pub mod lifecycle;

use std::{collections::BTreeMap, time::Duration};

use poem::Request;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
    registry::{MetaSchemaRef, Registry},
    types::{ParseFromJSON, ToJSON, Type},
};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::broadcast::error::RecvError;

use crate::taler::text::{OrderId, Text, UnitQuantity, YesNoAll};
use crate::{
    State, error_responses,
    http::JsonBody,
    merchant::{
        instances::{
            auth::{self, MerchantToken, Permission},
            management::{self, Location},
        },
        inventory::{
            products::Tax,
            stock::{Wanted, free_units, quantity_of},
        },
        tags::ApiTags,
    },
    notifier::EVERYONE,
    store::{
        self,
        instances::Instance,
        orders::{
            self as store_orders, ClaimOutcome, CreateOutcome, Lock, NewOrder, Order as StoredOrder,
        },
    },
    taler::{
        Amount, ApiError, EddsaPublicKey, ErrorCode, RelativeTime, Timestamp, contract, keys,
        pagination::{Page, PageLimit},
        secret,
    },
};

const ORDERS_READ: Permission = "orders-read";
const ORDERS_WRITE: Permission = "orders-write";

/// Nobody is older.
const MAX_MINIMUM_AGE: u64 = 120;

/// `Product`: one line of a contract.
#[derive(Object, Debug, Clone)]
#[oai(rename = "Product", skip_serializing_if_is_none)]
pub struct ContractProduct {
    /// Merchant-internal identifier for the product.
    pub product_id: Option<String>,
    /// Name of the product.
    pub product_name: Option<String>,
    /// Human-readable product description.
    pub description: String,
    /// Map from IETF BCP 47 language tags to localized descriptions.
    pub description_i18n: Option<BTreeMap<String, String>>,
    /// The number of units of the product to deliver (legacy integer form).
    pub quantity: Option<u64>,
    /// The quantity as `<integer>[.<fraction>]` in the product's unit.
    pub unit_quantity: Option<String>,
    /// Unit in which the product is measured.
    pub unit: Option<String>,
    /// The price of the product: the total for `quantity` units.
    pub price: Option<Amount>,
    /// Product image as a data URL.
    pub image: Option<String>,
    /// Taxes the merchant pays for this product.
    pub taxes: Option<Vec<Tax>>,
    /// When this product should be delivered.
    pub delivery_date: Option<Timestamp>,
}

/// `Order`: the start of new contract terms. Version 0 has `amount`; version 1 has
/// `choices` instead.
#[derive(Object, Debug, Clone)]
#[oai(skip_serializing_if_is_none)]
pub struct Order {
    /// 0 (the default: one `amount`) or 1 (`choices`).
    #[oai(validator(maximum(value = "1")))]
    pub version: Option<u64>,
    /// Version 0: total price for the transaction.
    pub amount: Option<Amount>,
    /// Version 0: maximum total deposit fee accepted by the merchant (default zero).
    pub max_fee: Option<Amount>,
    /// Version 1: the contract choices the customer can select from (no tokens yet).
    pub choices: Option<Vec<OrderChoice>>,
    /// Human-readable description of the whole purchase.
    pub summary: String,
    /// Map from IETF BCP 47 language tags to localized summaries.
    pub summary_i18n: Option<BTreeMap<String, String>>,
    /// Unique identifier for the order (`A-Za-z0-9` and `.:_-`); generated if absent.
    pub order_id: Option<Text<OrderId>>,
    /// URL where the same contract could be ordered again.
    pub public_reorder_url: Option<String>,
    /// URL showing that the order was paid; `${ORDER_ID}` is replaced by the order id.
    pub fulfillment_url: Option<String>,
    /// Message shown to the customer after paying.
    pub fulfillment_message: Option<String>,
    /// Map from IETF BCP 47 language tags to localized fulfillment messages.
    pub fulfillment_message_i18n: Option<BTreeMap<String, String>>,
    /// Minimum age the buyer must have, in years (0 to 120).
    #[oai(validator(maximum(value = "120")))]
    pub minimum_age: Option<u64>,
    /// Products that are part of the purchase.
    pub products: Option<Vec<ContractProduct>>,
    /// Time the contract was generated; now if absent.
    pub timestamp: Option<Timestamp>,
    /// No refunds after this; overrides `refund_delay`.
    pub refund_deadline: Option<Timestamp>,
    /// No payments after this; overrides the pay delay.
    pub pay_deadline: Option<Timestamp>,
    /// Transfer deadline for the exchange; after the refund deadline.
    pub wire_transfer_deadline: Option<Timestamp>,
    /// Base URL of the (public) merchant backend; the URL of this request if absent.
    pub merchant_base_url: Option<String>,
    /// Delivery location for all products.
    pub delivery_location: Option<Location>,
    /// When the order should be delivered (in the future).
    pub delivery_date: Option<Timestamp>,
    /// How long the wallet should try to get an automatic refund.
    pub auto_refund: Option<RelativeTime>,
    /// Data only the merchant's frontend interprets (an object; no floating-point
    /// numbers, as contract terms cannot hash them).
    pub extra: Option<BTreeMap<String, Value>>,
    /// Fields that may be forgotten later: field name to `true` (the backend picks a
    /// salt) or a salt.
    #[oai(rename = "$forgettable")]
    pub forgettable: Option<BTreeMap<String, Value>>,
}

/// `OrderChoice`: one way to pay for a contract.
#[derive(Object, Debug, Clone, PartialEq)]
pub struct OrderChoice {
    /// Total price for this choice.
    pub amount: Amount,
    /// Human-readable description of the choice.
    pub description: Option<String>,
    /// Map from IETF BCP 47 language tags to localized descriptions.
    pub description_i18n: Option<BTreeMap<String, String>>,
    /// Tokens this choice consumes (`OrderInput` objects), as given.
    pub inputs: Option<Vec<BTreeMap<String, Value>>>,
    /// What this choice yields (`OrderOutput` objects), as given.
    pub outputs: Option<Vec<BTreeMap<String, Value>>>,
    /// Maximum total deposit fee accepted by the merchant for this choice.
    pub max_fee: Option<Amount>,
}

/// `MinimalInventoryProduct`: a product of the inventory to add to the order.
#[derive(Object, Debug, Clone)]
pub struct MinimalInventoryProduct {
    /// Which product is requested.
    #[oai(validator(min_length = 1))]
    pub product_id: String,
    /// How many units (legacy integer form).
    pub quantity: Option<u64>,
    /// How many units, as `<integer>[.<fraction>]` (at most six fraction digits).
    pub unit_quantity: Option<Text<UnitQuantity>>,
}

impl MinimalInventoryProduct {
    /// The quantity asked for, as the stock reads it.
    pub fn wanted(&self) -> Wanted<'_> {
        Wanted {
            product_id: &self.product_id,
            unit_quantity: self.unit_quantity.as_deref(),
            quantity: self.quantity,
        }
    }
}

/// `PostOrderRequest`.
#[derive(Object, Debug, Clone)]
pub struct PostOrderRequest {
    /// The order; the backend completes it into contract terms.
    pub order: Order,
    /// Refund deadline = order time + this delay (instance default if absent).
    pub refund_delay: Option<RelativeTime>,
    /// Wire method preferred by the client (`iban`, `x-taler-bank`, ...): the order is
    /// paid into an active account of that method.
    #[oai(validator(max_length = 64))]
    pub payment_target: Option<String>,
    /// The session for which the payment is made.
    pub session_id: Option<String>,
    /// Products from the inventory to add (their units are held until the order is
    /// paid or deleted).
    pub inventory_products: Option<Vec<MinimalInventoryProduct>>,
    /// Locks taken through the inventory's lock API (not offered by this backend; ignored).
    pub lock_uuids: Option<Vec<String>>,
    /// Whether claiming needs the claim token returned now (default true).
    pub create_token: Option<bool>,
    /// OTP device to associate with the order.
    pub otp_id: Option<String>,
}

/// `PostOrderResponse`.
#[derive(Object, Debug, Clone)]
#[oai(skip_serializing_if_is_none)]
pub struct PostOrderResponse {
    /// Order id of the new (or repeated) order.
    pub order_id: String,
    /// Token the wallet must present to claim the order, unless `create_token` was false.
    pub token: Option<String>,
}

/// `OutOfStockResponse`: a product has fewer free units than the order needs.
#[derive(Object, Debug, Clone)]
#[oai(skip_serializing_if_is_none)]
pub struct OutOfStockResponse {
    /// Product that is out of stock.
    pub product_id: String,
    /// Requested quantity (whole units).
    pub requested_quantity: u64,
    /// Requested quantity as `<integer>[.<fraction>]`.
    pub unit_requested_quantity: String,
    /// Available quantity (whole units).
    pub available_quantity: u64,
    /// Available quantity as `<integer>[.<fraction>]`.
    pub unit_available_quantity: String,
    /// When the product is expected to be restocked.
    pub restock_expected: Option<Timestamp>,
}

#[derive(ApiResponse)]
pub enum OrderCreated {
    /// The order was created (or the same request was posted before).
    #[oai(status = 200)]
    Ok(Json<PostOrderResponse>),
    /// An inventory product has fewer free units than the order needs.
    #[oai(status = 410)]
    OutOfStock(Json<OutOfStockResponse>),
}

/// Contract terms as stored: returned exactly (their hash depends on every byte of
/// their canonical form), published as the `ContractTerms` schema.
#[derive(Debug, Clone)]
pub struct ContractTerms(pub Value);

/// The schema of `ContractTerms` (never built: responses carry the stored JSON).
#[derive(Object)]
#[oai(rename = "ContractTerms", skip_serializing_if_is_none)]
#[allow(dead_code)]
struct ContractTermsSchema {
    /// 0 (one `amount`) or 1 (`choices`); absent means 0.
    version: Option<u64>,
    /// Version 0: total price.
    amount: Option<Amount>,
    /// Version 0: maximum total deposit fee the merchant pays.
    max_fee: Option<Amount>,
    /// Version 1: the choices the customer selects from.
    choices: Option<Vec<OrderChoice>>,
    /// Version 1: token families the choices use (none yet).
    token_families: Option<BTreeMap<String, Value>>,
    /// Human-readable description of the whole purchase.
    summary: String,
    /// Localized summaries.
    summary_i18n: Option<BTreeMap<String, String>>,
    /// The order id.
    order_id: String,
    /// URL where the same contract could be ordered again.
    public_reorder_url: Option<String>,
    /// URL showing that the order was paid.
    fulfillment_url: Option<String>,
    /// Message shown after paying.
    fulfillment_message: Option<String>,
    /// Localized fulfillment messages.
    fulfillment_message_i18n: Option<BTreeMap<String, String>>,
    /// Products of the purchase.
    products: Vec<ContractProduct>,
    /// When the contract was generated.
    timestamp: Timestamp,
    /// No refunds after this.
    refund_deadline: Timestamp,
    /// No payments after this.
    pay_deadline: Timestamp,
    /// Transfer deadline for the exchange.
    wire_transfer_deadline: Timestamp,
    /// The instance's public key, which signs the contract.
    merchant_pub: EddsaPublicKey,
    /// Base URL of the merchant backend (of the instance).
    merchant_base_url: String,
    /// The merchant.
    merchant: ContractMerchant,
    /// Hash of the bank account the money goes to (salted payto URI).
    h_wire: String,
    /// Wire method of that account (`iban`, `x-taler-bank`, ...).
    wire_method: String,
    /// Exchanges the merchant accepts (none configured yet).
    exchanges: Vec<Value>,
    /// Delivery location for all products.
    delivery_location: Option<Location>,
    /// When the order should be delivered.
    delivery_date: Option<Timestamp>,
    /// The claiming wallet's nonce (present once claimed).
    nonce: Option<String>,
    /// How long the wallet should try to get an automatic refund.
    auto_refund: Option<RelativeTime>,
    /// Frontend data.
    extra: Option<BTreeMap<String, Value>>,
    /// Minimum age of the buyer.
    minimum_age: Option<u64>,
    /// Salts of the fields that may still be forgotten.
    #[oai(rename = "$forgettable")]
    forgettable: Option<BTreeMap<String, String>>,
    /// Salted hashes of the fields forgotten.
    #[oai(rename = "$forgotten")]
    forgotten: Option<BTreeMap<String, String>>,
}

/// `Merchant` of contract terms.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
#[allow(dead_code)]
struct ContractMerchant {
    /// The merchant's legal name of business.
    name: String,
    /// Email address for contacting the merchant.
    email: Option<String>,
    /// The merchant's website.
    website: Option<String>,
    /// The merchant's logo (data URL).
    logo: Option<String>,
    /// Business address.
    address: Option<Location>,
    /// Jurisdiction for disputes.
    jurisdiction: Option<Location>,
}

impl Type for ContractTerms {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> std::borrow::Cow<'static, str> {
        ContractTermsSchema::name()
    }

    fn schema_ref() -> MetaSchemaRef {
        ContractTermsSchema::schema_ref()
    }

    fn register(registry: &mut Registry) {
        ContractTermsSchema::register(registry);
    }

    fn as_raw_value(&self) -> Option<&Self> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl ParseFromJSON for ContractTerms {
    fn parse_from_json(value: Option<Value>) -> poem_openapi::types::ParseResult<Self> {
        match value {
            Some(v @ Value::Object(_)) => Ok(ContractTerms(v)),
            _ => Err(poem_openapi::types::ParseError::expected_type(
                value.unwrap_or_default(),
            )),
        }
    }
}

impl ToJSON for ContractTerms {
    fn to_json(&self) -> Option<Value> {
        Some(self.0.clone())
    }
}

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

#[derive(ApiResponse)]
pub enum OrderStatus {
    /// The order was not paid: pay it through `taler_pay_uri`.
    #[oai(status = 402)]
    PaymentRequired(Json<StatusUnpaidResponse>),
}

#[derive(ApiResponse)]
pub enum OrderClaimed {
    /// The contract terms, frozen for this wallet, and the merchant's signature.
    #[oai(status = 200)]
    Ok(Json<ClaimResponse>),
}

#[derive(ApiResponse)]
pub enum MerchantOrderFound {
    /// The order's status.
    #[oai(status = 200)]
    Ok(
        Json<MerchantOrderStatusResponse>,
        /// Hash of the response body, for `lp_not_etag`.
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

error_responses!(PostOrderErrors {
    400 => "The order is malformed or its deadlines are impossible (`TALER_EC_GENERIC_PARAMETER_MALFORMED`, `TALER_EC_GENERIC_PARAMETER_MISSING`, `TALER_EC_GENERIC_JSON_INVALID`, `TALER_EC_MERCHANT_PRIVATE_POST_ORDERS_PROPOSAL_PARSE_ERROR`, `..._PAY_DEADLINE_IN_PAST`, `..._DELIVERY_DATE_IN_PAST`, `..._REFUND_DEADLINE_IN_PAST`, `..._WIRE_DEADLINE_IS_NEVER`, `..._REFUND_AFTER_WIRE_DEADLINE`).",
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `orders-write` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The instance, an inventory product or the OTP device is unknown, or the instance has no active bank account (of the `payment_target` method) (`TALER_EC_MERCHANT_GENERIC_INSTANCE_UNKNOWN`, `TALER_EC_MERCHANT_GENERIC_PRODUCT_UNKNOWN`, `TALER_EC_MERCHANT_GENERIC_OTP_DEVICE_UNKNOWN`, `TALER_EC_MERCHANT_PRIVATE_POST_ORDERS_INSTANCE_CONFIGURATION_LACKS_WIRE`).",
    409 => "Another order has this id, or the currency is not the backend's (`TALER_EC_MERCHANT_PRIVATE_POST_ORDERS_ALREADY_EXISTS`, `TALER_EC_MERCHANT_GENERIC_CURRENCY_MISMATCH`).",
    413 => "The uploaded body is too long (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`, `TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

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
    409 => "A wallet claimed the order and may still pay it (`TALER_EC_MERCHANT_PRIVATE_DELETE_ORDERS_AWAITING_PAYMENT`).",
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

error_responses!(PublicOrderErrors {
    400 => "A query parameter is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    403 => "The claim token or the contract hash does not match (`TALER_EC_MERCHANT_GET_ORDERS_ID_INVALID_TOKEN`, `TALER_EC_MERCHANT_GET_ORDERS_ID_INVALID_CONTRACT_HASH`).",
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

fn order_unknown(id: &str) -> ApiError {
    ApiError::new(
        ErrorCode::MerchantGenericOrderUnknown,
        format!("order `{id}` is unknown"),
    )
}

fn parse_error(hint: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::MerchantPrivatePostOrdersProposalParseError, hint)
}

/// Where the merchant backend is reached, as the client sees it: the `Host` header
/// (or `X-Forwarded-Host`) and `X-Forwarded-Proto`, as the Taler merchant derives it.
pub struct BaseUrl {
    /// `http` or `https`.
    pub scheme: String,
    /// Host and port, as the client named them.
    pub host: String,
    /// The merchant service's path, with its trailing slash (`/merchant/`).
    pub path: String,
}

impl BaseUrl {
    pub fn of(req: &Request, state: &State) -> BaseUrl {
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.split(',').next().unwrap_or("").trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let scheme = match header("x-forwarded-proto").as_deref() {
            Some("https") => "https",
            _ => "http",
        };
        let host = header("x-forwarded-host")
            .or_else(|| header("host"))
            .filter(|h| h.bytes().all(|b| b.is_ascii_graphic() && b != b'/'))
            .unwrap_or_else(|| "localhost".to_owned());
        BaseUrl {
            scheme: scheme.to_owned(),
            host,
            path: state.config.merchant_base.clone(),
        }
    }

    /// The instance's path below the host: `/merchant/` or `/merchant/instances/ID/`.
    fn instance_path(&self, instance_id: &str) -> String {
        if instance_id == auth::DEFAULT_INSTANCE {
            self.path.clone()
        } else {
            format!("{}instances/{instance_id}/", self.path)
        }
    }

    pub fn instance_url(&self, instance_id: &str) -> String {
        format!(
            "{}://{}{}",
            self.scheme,
            self.host,
            self.instance_path(instance_id)
        )
    }

    /// `taler[+http]://pay/HOST/PATH/ORDER_ID/SESSION_ID[?c=TOKEN]`.
    fn pay_uri(&self, instance_id: &str, order: &StoredOrder, token: Option<&str>) -> String {
        let scheme = if self.scheme == "https" {
            "taler"
        } else {
            "taler+http"
        };
        let mut uri = format!(
            "{scheme}://pay/{}{}{}/{}",
            self.host,
            self.instance_path(instance_id),
            order.order_id,
            order.session_id.as_deref().unwrap_or("")
        );
        if let Some(token) = token {
            uri.push_str("?c=");
            uri.push_str(token);
        }
        uri
    }

    fn status_url(&self, instance_id: &str, order: &StoredOrder, token: Option<&str>) -> String {
        let mut url = format!(
            "{}orders/{}",
            self.instance_url(instance_id),
            order.order_id
        );
        if let Some(token) = token {
            url.push_str("?token=");
            url.push_str(token);
        }
        url
    }
}

/// The claim token of an order with `salt`: derived from the instance's signing key,
/// so that it is never stored and the merchant can still show it again.
fn claim_token(instance: &Instance, salt: &[u8]) -> String {
    let mac = crate::taler::kdf::hmac::<sha2::Sha512>(&instance.merchant_priv, salt);
    keys::encode(&mac[..16])
}

fn token_matches(instance: &Instance, order: &StoredOrder, presented: Option<&str>) -> bool {
    match (&order.claim_token_salt, presented) {
        (None, _) => true,
        (Some(salt), Some(presented)) => {
            secret::constant_time_eq(claim_token(instance, salt).as_bytes(), presented.as_bytes())
        }
        (Some(_), None) => false,
    }
}

/// A new order id: the year and day of the year it was made, and 13 random Crockford
/// characters (`2026.327-...`).
fn generate_order_id(now: Timestamp) -> String {
    let seconds = match now {
        Timestamp::Seconds(s) => s,
        Timestamp::Never => 0,
    };
    let (year, day) = crate::taler::time::utc_year_and_day(seconds);
    let random = keys::encode(&secret::random_bytes::<8>());
    format!("{year}.{day:03}-{}", &random[..13])
}

/// What a new order is made of, whoever asked for it (the merchant or a wallet through
/// a template).
pub struct OrderInput {
    pub order: Order,
    pub refund_delay: Option<RelativeTime>,
    /// The wire method the client prefers (`payment_target`).
    pub payment_target: Option<String>,
    pub session_id: Option<String>,
    pub inventory: Vec<MinimalInventoryProduct>,
    pub create_token: bool,
    pub otp_id: Option<String>,
    /// The template's `pay_duration`, if a template made the order.
    pub pay_duration: Option<RelativeTime>,
    /// Hash of the request, so that posting it again is not a conflict.
    pub h_post_data: String,
}

pub enum Created {
    Ok(PostOrderResponse),
    OutOfStock(OutOfStockResponse),
}

impl From<Created> for OrderCreated {
    fn from(c: Created) -> Self {
        match c {
            Created::Ok(r) => OrderCreated::Ok(Json(r)),
            Created::OutOfStock(r) => OrderCreated::OutOfStock(Json(r)),
        }
    }
}

fn seconds(t: Timestamp) -> i64 {
    t.to_db()
}

/// The hash of a request body, for idempotent re-posts.
pub fn h_post_data(value: &Value) -> String {
    keys::encode(&Sha256::digest(value.to_string().as_bytes()))
}

/// Builds the contract terms, stores the order and takes its inventory units.
pub async fn create(
    state: &State,
    instance: &Instance,
    base: &BaseUrl,
    input: OrderInput,
) -> Result<Created, ApiError> {
    let settings = management::settings_of(instance)?;
    let currency = state.config.currency.as_str();
    let order = input.order;
    let now = Timestamp::now();

    // Amount (version 0) or choices (version 1), in the backend's currency.
    let version = order.version.unwrap_or(0);
    let amount = match (version, &order.amount, &order.choices) {
        (0, Some(amount), None) => amount.clone(),
        (0, None, _) => return Err(parse_error("order.amount: is required for version 0")),
        (0, Some(_), Some(_)) => {
            return Err(parse_error(
                "order.choices: only version 1 orders have choices",
            ));
        }
        (_, Some(_), _) => return Err(parse_error("order.amount: version 1 orders use choices")),
        (_, None, None) => return Err(parse_error("order.choices: required for version 1")),
        (_, None, Some(choices)) => {
            let first = choices
                .first()
                .ok_or_else(|| parse_error("order.choices: must not be empty"))?;
            if choices.iter().any(|c| {
                c.inputs.as_ref().is_some_and(|i| !i.is_empty())
                    || c.outputs.as_ref().is_some_and(|o| !o.is_empty())
            }) {
                return Err(parse_error(
                    "order.choices: token inputs and outputs need token families, which this \
                     backend does not offer yet",
                ));
            }
            first.amount.clone()
        }
    };
    let mut amounts: Vec<(&str, &Amount)> = vec![("order.amount", &amount)];
    if let Some(fee) = &order.max_fee {
        amounts.push(("order.max_fee", fee));
    }
    for choice in order.choices.iter().flatten() {
        amounts.push(("order.choices", &choice.amount));
        if let Some(fee) = &choice.max_fee {
            amounts.push(("order.choices", fee));
        }
    }
    for product in order.products.iter().flatten() {
        if let Some(price) = &product.price {
            amounts.push(("order.products", price));
        }
    }
    if let Some((field, other)) = amounts.iter().find(|(_, a)| a.currency() != currency) {
        return Err(ApiError::new(
            ErrorCode::MerchantGenericCurrencyMismatch,
            format!(
                "{field}: currency {} is not the backend's currency {currency}",
                other.currency()
            ),
        )
        .currency(other.currency()));
    }

    // Deadlines.
    let timestamp = order.timestamp.unwrap_or(now);
    let pay_deadline = order.pay_deadline.unwrap_or_else(|| {
        timestamp.plus(input.pay_duration.unwrap_or(settings.default_pay_delay))
    });
    if pay_deadline < now {
        return Err(ApiError::new(
            ErrorCode::MerchantPrivatePostOrdersPayDeadlineInPast,
            "order.pay_deadline: is in the past",
        ));
    }
    let refund_deadline = order.refund_deadline.unwrap_or_else(|| {
        timestamp.plus(input.refund_delay.unwrap_or(settings.default_refund_delay))
    });
    if order
        .refund_deadline
        .is_some_and(|d| d < now && d != timestamp)
    {
        return Err(ApiError::new(
            ErrorCode::MerchantPrivatePostOrdersRefundDeadlineInPast,
            "order.refund_deadline: is in the past",
        ));
    }
    let wire_transfer_deadline = order.wire_transfer_deadline.unwrap_or_else(|| {
        refund_deadline
            .max(pay_deadline)
            .plus(settings.default_wire_transfer_delay)
    });
    if wire_transfer_deadline == Timestamp::Never {
        return Err(ApiError::new(
            ErrorCode::MerchantPrivatePostOrdersWireDeadlineIsNever,
            "order.wire_transfer_deadline: must not be never",
        ));
    }
    if refund_deadline > wire_transfer_deadline {
        return Err(ApiError::new(
            ErrorCode::MerchantPrivatePostOrdersRefundAfterWireDeadline,
            "order.refund_deadline: is after the wire transfer deadline",
        ));
    }
    if order.delivery_date.is_some_and(|d| d < now) {
        return Err(ApiError::new(
            ErrorCode::MerchantPrivatePostOrdersDeliveryDateInPast,
            "order.delivery_date: is in the past",
        ));
    }

    let order_id = order
        .order_id
        .clone()
        .map(String::from)
        .unwrap_or_else(|| generate_order_id(now));

    // Inventory products: lines of the contract, and units to hold.
    let mut products = order.products.clone().unwrap_or_default();
    let mut locks = Vec::new();
    let mut minimum_age = order.minimum_age.unwrap_or(0);
    for wanted in &input.inventory {
        let line = inventory_line(state, instance.instance_serial, wanted).await?;
        minimum_age = minimum_age.max(line.minimum_age);
        locks.push(line.lock);
        products.push(line.product);
    }

    // The account the money goes to: the oldest active one (of the preferred method).
    let account = store::accounts::list(&state.db, instance.instance_serial)
        .await
        .map_err(ApiError::db_fetch)?
        .into_iter()
        .filter(|a| a.active)
        .find_map(|a| {
            let method = crate::merchant::accounts::wire_method(&a.payto_uri)?;
            input
                .payment_target
                .as_deref()
                .is_none_or(|t| t.eq_ignore_ascii_case(&method))
                .then_some((a, method))
        })
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::MerchantPrivatePostOrdersInstanceConfigurationLacksWire,
                match &input.payment_target {
                    Some(t) => format!("the instance has no active bank account for `{t}`"),
                    None => "the instance has no active bank account to be paid into".to_owned(),
                },
            )
        })?;

    let otp_serial = match &input.otp_id {
        Some(otp_id) => Some(
            store::otp_devices::find(&state.db, instance.instance_serial, otp_id)
                .await
                .map_err(ApiError::db_fetch)?
                .ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::MerchantGenericOtpDeviceUnknown,
                        format!("OTP device `{otp_id}` is unknown"),
                    )
                })?
                .otp_serial,
        ),
        None => None,
    };

    let fulfillment_url = order
        .fulfillment_url
        .as_ref()
        .map(|u| u.replacen("${ORDER_ID}", &order_id, 1));
    let merchant_base_url = order
        .merchant_base_url
        .clone()
        .unwrap_or_else(|| base.instance_url(&instance.instance_id));
    let mut merchant = Map::new();
    merchant.insert("name".into(), json!(instance.name));
    for (key, value) in [
        ("email", &settings.email),
        ("website", &settings.website),
        ("logo", &settings.logo),
    ] {
        if let Some(v) = value {
            merchant.insert(key.into(), json!(v));
        }
    }
    merchant.insert("address".into(), to_value(&settings.address));
    merchant.insert("jurisdiction".into(), to_value(&settings.jurisdiction));

    let mut terms = Map::new();
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(v) = value {
            terms.insert(key.to_owned(), v);
        }
    };
    if version == 0 {
        put("amount", Some(json!(amount.to_string())));
        let max_fee = order
            .max_fee
            .clone()
            .unwrap_or_else(|| Amount::zero(currency).expect("configured currency"));
        put("max_fee", Some(json!(max_fee.to_string())));
    } else {
        put("version", Some(json!(1)));
        let choices: Vec<Value> = order
            .choices
            .iter()
            .flatten()
            .map(|c| {
                let mut choice = c.to_json().unwrap_or_default();
                choice["inputs"] = json!([]);
                choice["outputs"] = json!([]);
                if c.max_fee.is_none() {
                    choice["max_fee"] =
                        json!(Amount::zero(currency).expect("currency").to_string());
                }
                choice
            })
            .collect();
        put("choices", Some(Value::Array(choices)));
        put("token_families", Some(json!({})));
    }
    put("summary", Some(json!(order.summary)));
    put("summary_i18n", order.summary_i18n.as_ref().map(to_value));
    put("order_id", Some(json!(order_id)));
    put(
        "public_reorder_url",
        order.public_reorder_url.as_ref().map(to_value),
    );
    put("fulfillment_url", fulfillment_url.as_ref().map(to_value));
    put(
        "fulfillment_message",
        order.fulfillment_message.as_ref().map(to_value),
    );
    put(
        "fulfillment_message_i18n",
        order.fulfillment_message_i18n.as_ref().map(to_value),
    );
    put(
        "products",
        Some(Value::Array(
            products
                .iter()
                .map(|p| p.to_json().unwrap_or_default())
                .collect(),
        )),
    );
    put("timestamp", timestamp.to_json());
    put("refund_deadline", refund_deadline.to_json());
    put("pay_deadline", pay_deadline.to_json());
    put("wire_transfer_deadline", wire_transfer_deadline.to_json());
    put("merchant_pub", Some(json!(instance.merchant_pub)));
    put("merchant_base_url", Some(json!(merchant_base_url)));
    put("merchant", Some(Value::Object(merchant)));
    put("h_wire", Some(json!(account.0.h_wire)));
    put("wire_method", Some(json!(account.1)));
    put("exchanges", Some(json!([])));
    put(
        "delivery_location",
        order.delivery_location.as_ref().map(to_value),
    );
    put(
        "delivery_date",
        order.delivery_date.and_then(|d| d.to_json()),
    );
    put("auto_refund", order.auto_refund.and_then(|d| d.to_json()));
    put(
        "extra",
        order
            .extra
            .as_ref()
            .map(|e| Value::Object(e.clone().into_iter().collect())),
    );
    put("minimum_age", (minimum_age > 0).then(|| json!(minimum_age)));
    put(
        "$forgettable",
        order
            .forgettable
            .as_ref()
            .map(|f| Value::Object(f.clone().into_iter().collect())),
    );
    if minimum_age > MAX_MINIMUM_AGE {
        return Err(parse_error("minimum_age: must be at most 120"));
    }
    let mut terms = Value::Object(terms);
    contract::seed_forgettable(&mut terms).map_err(|e| parse_error(format!("order.{}", e.0)))?;
    // Refuses what cannot be hashed (floating-point numbers in `extra`) now, not at
    // the wallet's claim.
    contract::contract_hash(&terms).map_err(|e| parse_error(format!("order: {}", e.0)))?;

    let salt = input
        .create_token
        .then(|| secret::random_bytes::<16>().to_vec());
    let new = NewOrder {
        instance_serial: instance.instance_serial,
        order_id: order_id.clone(),
        contract_terms: terms.to_string(),
        h_post_data: input.h_post_data,
        claim_token_salt: salt,
        creation_time: seconds(now),
        pay_deadline: seconds(pay_deadline),
        summary: order.summary.clone(),
        amount: amount.to_string(),
        fulfillment_url,
        session_id: input.session_id,
        otp_serial,
        locks: locks.iter().map(|(lock, _, _)| *lock).collect(),
    };
    let available = |p: &store_orders::Product| free_units(p);
    match store_orders::create(&state.db, new, &available)
        .await
        .map_err(ApiError::db_store)?
    {
        CreateOutcome::Created => {}
        CreateOutcome::Repeated(existing) => {
            // The same request again: the same answer (the token is derived, not stored).
            let token = existing
                .claim_token_salt
                .as_ref()
                .filter(|_| existing.nonce.is_none())
                .map(|salt| claim_token(instance, salt));
            return Ok(Created::Ok(PostOrderResponse {
                order_id: existing.order_id,
                token,
            }));
        }
        CreateOutcome::Conflict => {
            return Err(ApiError::new(
                ErrorCode::MerchantPrivatePostOrdersAlreadyExists,
                format!("another order with id `{order_id}` exists"),
            ));
        }
        CreateOutcome::OutOfStock { product, available } => {
            let (_, wanted, restock) = locks
                .iter()
                .find(|(l, _, _)| l.product_serial == product.product_serial)
                .cloned()
                .expect("a locked product");
            return Ok(Created::OutOfStock(OutOfStockResponse {
                product_id: product.product_id,
                requested_quantity: (wanted / 1_000_000) as u64,
                unit_requested_quantity: store_orders::format_millionths(wanted),
                available_quantity: (available / 1_000_000) as u64,
                unit_available_quantity: store_orders::format_millionths(available),
                restock_expected: restock,
            }));
        }
        CreateOutcome::ProductGone => {
            return Err(ApiError::new(
                ErrorCode::MerchantGenericProductUnknown,
                "an inventory product was deleted meanwhile",
            ));
        }
    }
    state
        .order_changes
        .notify(&state.db, instance.instance_serial)
        .await
        .map_err(ApiError::db_store)?;
    let token = new_token(instance, &state.db, instance.instance_serial, &order_id).await?;
    Ok(Created::Ok(PostOrderResponse { order_id, token }))
}

/// The claim token of a just-stored order.
async fn new_token(
    instance: &Instance,
    db: &sea_orm::DatabaseConnection,
    instance_serial: i64,
    order_id: &str,
) -> Result<Option<String>, ApiError> {
    let stored = store_orders::find(db, instance_serial, order_id)
        .await
        .map_err(ApiError::db_fetch)?;
    Ok(stored
        .and_then(|o| o.claim_token_salt)
        .map(|salt| claim_token(instance, &salt)))
}

fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// One inventory product of an order: its contract line and the units to hold.
struct InventoryLine {
    product: ContractProduct,
    lock: (Lock, u128, Option<Timestamp>),
    minimum_age: u64,
}

async fn inventory_line(
    state: &State,
    instance_serial: i64,
    wanted: &MinimalInventoryProduct,
) -> Result<InventoryLine, ApiError> {
    let row = store::inventory::find_product(&state.db, instance_serial, &wanted.product_id)
        .await
        .map_err(ApiError::db_fetch)?
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::MerchantGenericProductUnknown,
                format!("product `{}` is unknown", wanted.product_id),
            )
            .detail(wanted.product_id.clone())
        })?;
    let p = crate::merchant::inventory::products::stored_product(&row)?;
    let millionths = quantity_of(
        wanted.wanted(),
        p.unit_allow_fraction.unwrap_or(false),
        p.unit_precision_level.unwrap_or(0),
    )?;
    let currency = state.config.currency.as_str();
    let unit_price = p
        .prices()
        .into_iter()
        .find(|a| a.currency() == currency)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::MerchantGenericCurrencyMismatch,
                format!("product `{}` has no price in {currency}", wanted.product_id),
            )
        })?;
    let price = unit_price
        .times_millionths(millionths)
        .ok_or_else(|| parse_error("inventory_products: the price exceeds Taler's limits"))?;
    let product = ContractProduct {
        product_id: Some(row.product_id.clone()),
        product_name: Some(
            p.product_name
                .clone()
                .unwrap_or_else(|| row.product_id.clone()),
        ),
        description: p.description.clone(),
        description_i18n: p.description_i18n.clone(),
        quantity: (millionths % 1_000_000 == 0).then_some((millionths / 1_000_000) as u64),
        unit_quantity: Some(store_orders::format_millionths(millionths)),
        unit: Some(p.unit.clone()),
        price: Some(price),
        image: p.image.clone().map(String::from).filter(|i| !i.is_empty()),
        taxes: p.taxes.clone(),
        delivery_date: None,
    };
    Ok(InventoryLine {
        product,
        lock: (
            Lock {
                product_serial: row.product_serial,
                millionths,
            },
            millionths,
            p.next_restock,
        ),
        minimum_age: p.minimum_age.unwrap_or(0),
    })
}

fn stored_terms(order: &StoredOrder) -> Result<Value, ApiError> {
    serde_json::from_str(&order.contract_terms).map_err(ApiError::db_fetch)
}

fn order_amount(order: &StoredOrder) -> Result<Amount, ApiError> {
    order.amount.parse().map_err(ApiError::db_fetch)
}

/// Waits (up to `timeout_ms`) for `changed` to say yes, looking again whenever an order
/// of the instance changes (on any server sharing the database).
async fn long_poll<T, F: Future<Output = Result<T, ApiError>>>(
    state: &State,
    instance_serial: i64,
    timeout_ms: u64,
    first: T,
    mut done: impl FnMut(&T) -> bool,
    mut look: impl FnMut() -> F,
) -> Result<T, ApiError> {
    let mut current = first;
    if done(&current) || timeout_ms == 0 {
        return Ok(current);
    }
    let mut wake = state.order_changes.subscribe();
    // Look once after subscribing: a change in between is not missed.
    current = look().await?;
    let deadline = tokio::time::Instant::now()
        + Duration::from_millis(timeout_ms.min(crate::taler::limits::MAX_LONG_POLL_MS));
    if !done(&current) {
        crate::longpoll::waiting_inside();
    }
    while !done(&current) {
        tokio::select! {
            woke = wake.recv() => match woke {
                Ok(w) if w.account != instance_serial && w.account != EVERYONE => continue,
                Ok(_) | Err(RecvError::Lagged(_)) => current = look().await?,
                Err(RecvError::Closed) => break,
            },
            _ = tokio::time::sleep_until(deadline) => break,
        }
    }
    Ok(current)
}

/// `$.a.b[1].c` / `$.products[*].image`: the steps of a forget path. `None` when the
/// path is malformed or does not end with a field.
fn parse_forget_path(path: &str) -> Option<Vec<PathStep>> {
    let rest = path.strip_prefix("$.")?;
    let mut steps = Vec::new();
    for part in rest.split('.') {
        let (name, indices) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return None;
        }
        steps.push(PathStep::Field(name.to_owned()));
        let mut indices = indices;
        while !indices.is_empty() {
            let close = indices.find(']')?;
            let inner = indices.get(1..close)?;
            steps.push(match inner {
                "*" => PathStep::All,
                n if !n.is_empty() && n.len() <= 6 && n.bytes().all(|b| b.is_ascii_digit()) => {
                    PathStep::Index(n.parse().ok()?)
                }
                _ => return None,
            });
            indices = &indices[close + 1..];
        }
    }
    matches!(steps.last(), Some(PathStep::Field(_))).then_some(steps)
}

#[derive(Debug, Clone, PartialEq)]
enum PathStep {
    Field(String),
    Index(usize),
    All,
}

/// Forgets every field `steps` reaches in `value`. Fields that do not exist are
/// ignored; `Err` names one that is not forgettable.
fn forget_path(value: &mut Value, steps: &[PathStep], forgot_now: &mut bool) -> Result<(), String> {
    let Some((step, rest)) = steps.split_first() else {
        return Ok(());
    };
    match step {
        PathStep::Field(name) if rest.is_empty() => {
            let Value::Object(object) = value else {
                return Ok(());
            };
            let forgotten_before = object
                .get("$forgotten")
                .and_then(|f| f.get(name.as_str()))
                .is_some();
            if forgotten_before {
                return Ok(());
            }
            if !object.contains_key(name.as_str()) {
                return Ok(());
            }
            match contract::forget_field(object, name) {
                Ok(contract::Forgot::Now) => *forgot_now = true,
                Ok(contract::Forgot::Already) => {}
                Err(e) => return Err(format!("{name}: {}", e.0)),
            }
            Ok(())
        }
        PathStep::Field(name) => match value.get_mut(name.as_str()) {
            Some(inner) => forget_path(inner, rest, forgot_now),
            None => Ok(()),
        },
        PathStep::Index(i) => match value.get_mut(*i) {
            Some(inner) => forget_path(inner, rest, forgot_now),
            None => Ok(()),
        },
        PathStep::All => match value {
            Value::Array(items) => items
                .iter_mut()
                .try_for_each(|item| forget_path(item, rest, forgot_now)),
            _ => Ok(()),
        },
    }
}

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

pub struct OrdersApi(pub State);

#[OpenApi(tag = "ApiTags::Orders")]
impl OrdersApi {
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
    /// (orders created after it), `session_id` and `fulfillment_url`. With `timeout_ms`
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
            created_after: date_s.0.map(|d| Timestamp::Seconds(d).to_db()),
            session_id: session_id.0.clone(),
            fulfillment_url: fulfillment_url.0.clone(),
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
                    amount: order_amount(o)?,
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
        Ok(MerchantOrderFound::Ok(Json(body), etag))
    }

    /// Delete an order
    ///
    /// An order no wallet claimed, or whose pay deadline passed, can be deleted; its
    /// inventory units are free again. Requires `orders-write`.
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
    ) -> Result<crate::NoContent, DeleteOrderErrors> {
        let (_, order) =
            authorize_order(&self.0, &instance, &token, ORDERS_WRITE, &order_id).await?;
        let expired = Timestamp::from_db(order.pay_deadline) < Timestamp::now();
        if order.nonce.is_some() && !expired {
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
            Ok(crate::NoContent::Done)
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

    /// Order status for a wallet
    ///
    /// Public. An unclaimed order needs its claim token (`token`), a claimed one the
    /// hash of its contract terms (`h_contract`). Unpaid orders answer 402 with the URI
    /// to pay through; `timeout_ms` waits (at most 10 minutes) for a payment first.
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
    ) -> Result<OrderStatus, PublicOrderErrors> {
        let found = store_orders::find_with_access(&self.0.db, &instance, None, &order_id)
            .await
            .map_err(ApiError::db_fetch)?;
        let Some((instance_row, order)) = found.and_then(|f| Some((f.instance, f.object?))) else {
            return Err(order_unknown(&order_id).into());
        };
        match &order.h_contract_terms {
            Some(h) if h_contract.0.as_deref() != Some(h.as_str()) => {
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
        Ok(OrderStatus::PaymentRequired(Json(StatusUnpaidResponse {
            taler_pay_uri: base.pay_uri(&instance_row.instance_id, &order, token.as_deref()),
            fulfillment_url: order.fulfillment_url.clone(),
            already_paid_order_id: None,
        })))
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

/// The order with the access to it, in one query: the order's 404 for an unknown
/// instance or order, 401 and 403 as for every private operation.
async fn authorize_order(
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

/// The claim token to put into a pay URI: only while the order is unclaimed.
fn unclaimed_token(instance: &Instance, order: &StoredOrder) -> Option<String> {
    order
        .claim_token_salt
        .as_ref()
        .filter(|_| order.nonce.is_none())
        .map(|salt| claim_token(instance, salt))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forget_paths_parse_as_the_page_describes() {
        use PathStep::*;
        assert_eq!(
            parse_forget_path("$.wire_fee"),
            Some(vec![Field("wire_fee".into())])
        );
        assert_eq!(
            parse_forget_path("$.products[1].description"),
            Some(vec![
                Field("products".into()),
                Index(1),
                Field("description".into())
            ])
        );
        assert_eq!(
            parse_forget_path("$.products[*].image"),
            Some(vec![Field("products".into()), All, Field("image".into())])
        );
        for bad in [
            "wire_fee",
            "$.",
            "$.products[1]",
            "$.a[x].b",
            "$.a..b",
            "$.a-b",
            "$.a[*]",
        ] {
            assert_eq!(parse_forget_path(bad), None, "{bad}");
        }
    }
}
