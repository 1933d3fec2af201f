//! `POST [/instances/$INSTANCE]/private/orders`, and [`create`], which templates use
//! too: validate the order, price its inventory products, build the contract terms,
//! store the order and hold its units.

use poem_openapi::{ApiResponse, Object, payload::Json};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{
    error_responses,
    merchant::{
        accounts::wire_method,
        instances::settings,
        inventory::{details::free_units, stock::quantity_of},
        orders::{
            contract_terms::{ContractParts, Deadlines, contract_terms, merchant_of, parse_error},
            links::{BaseUrl, claim_token},
            terms::{ContractProduct, MinimalInventoryProduct, Order},
        },
        webhooks,
    },
    state::State,
    store::{
        self,
        instances::Instance,
        orders::{self as store_orders, CreateOutcome, Lock, NewOrder},
    },
    taler::{Amount, ApiError, ErrorCode, RelativeTime, Timestamp, keys, secret},
};

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
    /// Product locks (`private/products/$ID/lock`) the order takes over: their units
    /// are given back as the order takes its own.
    #[oai(validator(max_items = 256))]
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
    /// The error code, where the page names one (a lock:
    /// `TALER_EC_MERCHANT_PRIVATE_POST_PRODUCTS_LOCK_INSUFFICIENT_STOCKS`), so that
    /// clients reading the answer as an `ErrorDetail` find it.
    pub code: Option<u32>,
    /// Human-readable explanation, with `code`.
    pub hint: Option<String>,
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

error_responses!(pub PostOrderErrors {
    400 => "The order is malformed or its deadlines are impossible (`TALER_EC_GENERIC_PARAMETER_MALFORMED`, `TALER_EC_GENERIC_PARAMETER_MISSING`, `TALER_EC_GENERIC_JSON_INVALID`, `TALER_EC_MERCHANT_PRIVATE_POST_ORDERS_PROPOSAL_PARSE_ERROR`, `..._PAY_DEADLINE_IN_PAST`, `..._DELIVERY_DATE_IN_PAST`, `..._REFUND_DEADLINE_IN_PAST`, `..._WIRE_DEADLINE_IS_NEVER`, `..._REFUND_AFTER_WIRE_DEADLINE`).",
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `orders-write` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The instance, an inventory product or the OTP device is unknown, or the instance has no active bank account (of the `payment_target` method) (`TALER_EC_MERCHANT_GENERIC_INSTANCE_UNKNOWN`, `TALER_EC_MERCHANT_GENERIC_PRODUCT_UNKNOWN`, `TALER_EC_MERCHANT_GENERIC_OTP_DEVICE_UNKNOWN`, `TALER_EC_MERCHANT_PRIVATE_POST_ORDERS_INSTANCE_CONFIGURATION_LACKS_WIRE`).",
    409 => "Another order has this id, or the currency is not the backend's (`TALER_EC_MERCHANT_PRIVATE_POST_ORDERS_ALREADY_EXISTS`, `TALER_EC_MERCHANT_GENERIC_CURRENCY_MISMATCH`).",
    413 => "The uploaded body is too long (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`, `TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

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
    /// Product locks the order takes over (`lock_uuids`).
    pub lock_uuids: Vec<String>,
    /// The client's address when anyone could ask for the order (a public template):
    /// then creations count against `[merchant] ANONYMOUS_ORDERS_PER_MINUTE`, and the
    /// order holds at most `ANONYMOUS_ORDER_MAX_UNITS` units for at most
    /// `ANONYMOUS_ORDER_MAX_HOLD`, and goes when unclaimed after
    /// `UNCLAIMED_ORDER_LIFETIME`.
    pub anonymous: Option<String>,
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

/// Builds the contract terms, stores the order and takes its inventory units: the
/// steps of the page, in its order (so that a request with several faults gets the
/// error of the first one, as before).
pub async fn create(
    state: &State,
    instance: &Instance,
    base: &BaseUrl,
    input: OrderInput,
) -> Result<Created, ApiError> {
    let settings = settings::settings_of(instance)?;
    let currency = state.config.currency.as_str();
    let now = Timestamp::now();
    let OrderInput {
        order,
        refund_delay,
        payment_target,
        session_id,
        inventory,
        create_token,
        otp_id,
        pay_duration,
        h_post_data,
        lock_uuids,
        anonymous,
    } = input;
    let limits = state.config.limits.anonymous_orders;

    let (version, amount) = price_of(&order, currency)?;
    let mut deadlines = Deadlines::of(&order, refund_delay, pay_duration, &settings, now)?;
    if anonymous.is_some() {
        // An order anyone may create holds its units no longer than the bound.
        let latest = now.plus(RelativeTime::Micros(
            limits.max_hold_secs as u64 * 1_000_000,
        ));
        deadlines.pay = deadlines.pay.min(latest);
    }
    let order_id = order
        .order_id
        .clone()
        .map(String::from)
        .unwrap_or_else(|| generate_order_id(now));
    let priced = price_inventory(state, instance.instance_serial, &order, &inventory).await?;
    if anonymous.is_some() {
        let units: u128 = priced
            .locks
            .iter()
            .map(|(lock, _, _)| lock.millionths)
            .sum();
        if units > u128::from(limits.max_units) * 1_000_000 {
            return Err(ApiError::malformed(
                "inventory_selection",
                format!(
                    "an order from a template may hold at most {} units of the inventory",
                    limits.max_units
                ),
            ));
        }
    }
    let (account, wire_method) =
        payment_account(state, instance.instance_serial, payment_target.as_deref()).await?;
    let otp_serial = otp_serial(state, instance.instance_serial, otp_id.as_deref()).await?;

    let fulfillment_url = order
        .fulfillment_url
        .as_ref()
        .map(|u| u.replacen("${ORDER_ID}", &order_id, 1));
    let terms = contract_terms(ContractParts {
        order: &order,
        version,
        amount: &amount,
        currency,
        order_id: &order_id,
        fulfillment_url: fulfillment_url.as_deref(),
        deadlines: &deadlines,
        products: &priced.products,
        minimum_age: priced.minimum_age,
        merchant_base_url: order
            .merchant_base_url
            .clone()
            .unwrap_or_else(|| base.instance_url(&instance.instance_id)),
        merchant: merchant_of(instance, &settings),
        instance,
        h_wire: &account.h_wire,
        wire_method: &wire_method,
    })?;

    let new = NewOrder {
        instance_serial: instance.instance_serial,
        order_id,
        contract_terms: terms.to_string(),
        h_post_data,
        claim_token_salt: create_token.then(|| secret::random_bytes::<16>().to_vec()),
        creation_time: seconds(now),
        pay_deadline: seconds(deadlines.pay),
        summary: order.summary.clone(),
        amount: amount.to_string(),
        fulfillment_url,
        session_id,
        otp_serial,
        locks: priced.locks.iter().map(|(lock, _, _)| *lock).collect(),
        lock_uuids,
        unclaimed_deadline: anonymous
            .as_ref()
            .map(|_| seconds(now).saturating_add(limits.unclaimed_lifetime_secs)),
    };
    // Counted once the request is known good, right before it would be stored: a
    // refused request stores nothing, not even a count.
    if let Some(address) = &anonymous {
        check_anonymous_rate(state, address).await?;
    }
    store_order(state, instance, new, &priced.locks).await
}

/// Version 0's `amount` or the first of version 1's `choices`, with the version; every
/// amount of the order (fees, choices, product prices) in the backend's currency.
fn price_of(order: &Order, currency: &str) -> Result<(u64, Amount), ApiError> {
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
    Ok((version, amount))
}

/// The contract's product lines (the order's own, then the inventory's, priced), the
/// units to hold, and the minimum age they ask for.
struct PricedInventory {
    products: Vec<ContractProduct>,
    locks: Vec<(Lock, u128, Option<Timestamp>)>,
    minimum_age: u64,
}

async fn price_inventory(
    state: &State,
    instance_serial: i64,
    order: &Order,
    inventory: &[MinimalInventoryProduct],
) -> Result<PricedInventory, ApiError> {
    let mut priced = PricedInventory {
        products: order.products.clone().unwrap_or_default(),
        locks: Vec::new(),
        minimum_age: order.minimum_age.unwrap_or(0),
    };
    for wanted in inventory {
        let line = inventory_line(state, instance_serial, wanted).await?;
        priced.minimum_age = priced.minimum_age.max(line.minimum_age);
        priced.locks.push(line.lock);
        priced.products.push(line.product);
    }
    Ok(priced)
}

/// The account the money goes to: the instance's oldest active one (of the method the
/// client prefers), and its wire method.
async fn payment_account(
    state: &State,
    instance_serial: i64,
    payment_target: Option<&str>,
) -> Result<(store::accounts::Account, String), ApiError> {
    store::accounts::list(&state.db, instance_serial)
        .await
        .map_err(ApiError::db_fetch)?
        .into_iter()
        .filter(|a| a.active)
        .find_map(|a| {
            let method = wire_method(&a.payto_uri)?;
            payment_target
                .is_none_or(|t| t.eq_ignore_ascii_case(&method))
                .then_some((a, method))
        })
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::MerchantPrivatePostOrdersInstanceConfigurationLacksWire,
                match payment_target {
                    Some(t) => format!("the instance has no active bank account for `{t}`"),
                    None => "the instance has no active bank account to be paid into".to_owned(),
                },
            )
        })
}

/// The OTP device the order names, if any.
async fn otp_serial(
    state: &State,
    instance_serial: i64,
    otp_id: Option<&str>,
) -> Result<Option<i64>, ApiError> {
    let Some(otp_id) = otp_id else {
        return Ok(None);
    };
    let device = store::otp_devices::find(&state.db, instance_serial, otp_id)
        .await
        .map_err(ApiError::db_fetch)?
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::MerchantGenericOtpDeviceUnknown,
                format!("OTP device `{otp_id}` is unknown"),
            )
        })?;
    Ok(Some(device.otp_serial))
}

/// Stores the order, holding its units: the same request again gets the same answer,
/// another under its id is a conflict, a product short of units is 410.
async fn store_order(
    state: &State,
    instance: &Instance,
    new: NewOrder,
    locks: &[(Lock, u128, Option<Timestamp>)],
) -> Result<Created, ApiError> {
    let order_id = new.order_id.clone();
    // The claim token of a new order derives from its salt: known here, not read back.
    let token = new
        .claim_token_salt
        .as_ref()
        .map(|salt| claim_token(instance, salt));
    // The `order_created` webhooks' data (`webhooks::events`).
    let event = serde_json::json!({
        "order_id": new.order_id,
        "contract_terms": serde_json::from_str::<serde_json::Value>(&new.contract_terms)
            .unwrap_or_default(),
        "amount": new.amount,
        "summary": new.summary,
        "instance_id": instance.instance_id,
    });
    let available = |p: &store_orders::Product| free_units(p);
    // On PostgreSQL the order's own statement notifies the pollers of every server.
    let channel = state.order_changes.channel();
    match store_orders::create(&state.db, channel, new, &available)
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
                code: None,
                hint: None,
            }));
        }
        CreateOutcome::ProductGone => {
            return Err(ApiError::new(
                ErrorCode::MerchantGenericProductUnknown,
                "an inventory product was deleted meanwhile",
            ));
        }
    }
    if channel.is_none() {
        state
            .order_changes
            .notify(&state.db, instance.instance_serial)
            .await
            .map_err(ApiError::db_store)?;
    }
    webhooks::events::fire(
        state,
        instance.instance_serial,
        webhooks::events::WebhookEventType::OrderCreated,
        event,
    )
    .await;
    Ok(Created::Ok(PostOrderResponse { order_id, token }))
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
    let p = crate::merchant::inventory::details::stored_product(&row)?;
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

/// Counts an anonymous order creation from the client's address against
/// `[merchant] ANONYMOUS_ORDERS_PER_MINUTE`; 429 with `Retry-After` past it. The count
/// is in the database, so servers sharing it share the limit.
async fn check_anonymous_rate(state: &State, address: &str) -> Result<(), ApiError> {
    let now = seconds(Timestamp::now());
    let window = now - now.rem_euclid(60);
    let hits = store::rates::hit(&state.db, address, window)
        .await
        .map_err(ApiError::db_store)?;
    let limit = i64::from(state.config.limits.anonymous_orders.per_address_per_minute);
    if hits > limit {
        let wait = (window + 60 - now).max(1) as u64;
        return Err(ApiError::with_status(
            poem::http::StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::GenericForbidden,
            format!("too many orders from your address; try again in {wait} s"),
        )
        .retry_after(wait));
    }
    Ok(())
}
