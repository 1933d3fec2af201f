//! A wallet turns a template into an order (`POST [/instances/$INSTANCE]/templates/
//! $TEMPLATE_ID`, post-templates-TEMPLATE_ID): the rules between what the template
//! fixes, what its `editable_defaults` suggest and what the request asks for. The
//! order is then created exactly as `POST .../private/orders` creates one.

use std::collections::BTreeMap;

use poem::http::StatusCode;
use poem_openapi::Object;

use crate::taler::text::{Text, UnitQuantity};
use crate::{
    http::FormRoute,
    merchant::{
        inventory::{details::stored_product, stock::quantity_of},
        orders::{
            create::OrderInput,
            terms::{ContractProduct, MinimalInventoryProduct, Order},
        },
        templates::{
            contract::{ContractFields, TemplateContractDetails, TemplateType},
            inventory_cart,
        },
    },
    state::State,
    store,
    taler::{Amount, ApiError, ErrorCode, limits},
};

/// `InventorySelectionEntry`.
#[derive(Object, Debug, Clone)]
pub struct InventorySelectionEntry {
    /// Inventory product to add.
    #[oai(validator(min_length = 1))]
    pub product_id: String,
    /// Quantity as `<integer>[.<fraction>]`, following the product's unit rules.
    pub quantity: Text<UnitQuantity>,
}

/// `UsingTemplateDetailsRequest`: `UsingTemplateCommonRequest` with the fields of the
/// template's type (`inventory_selection` for inventory-cart, `website` and
/// `paivana_id` for paivana). Also accepted URL-encoded (without
/// `inventory_selection`): the edge turns such a form into this JSON.
#[derive(Object, Debug, Clone)]
#[oai(skip_serializing_if_is_none)]
pub struct UsingTemplateDetailsRequest {
    /// "fixed-order" (the default), "inventory-cart" or "paivana": must be the
    /// template's type.
    pub template_type: Option<String>,
    /// Summary to use in the contract, only if the template does not fix one.
    pub summary: Option<String>,
    /// The amount to be paid, including the tip.
    pub amount: Option<Amount>,
    /// Tip, if the template requests one (`request_tip`).
    pub tip: Option<Amount>,
    /// Inventory-cart: selected products and quantities.
    pub inventory_selection: Option<Vec<InventorySelectionEntry>>,
    /// Paivana: URL of the protected website; becomes the fulfillment URL.
    pub website: Option<String>,
    /// Paivana: the client's Paivana id; becomes the session id.
    #[oai(validator(max_length = 256))]
    pub paivana_id: Option<String>,
}

fn bad_request(code: ErrorCode, hint: impl Into<String>) -> ApiError {
    ApiError::with_status(StatusCode::BAD_REQUEST, code, hint)
}

fn amount_conflict(hint: impl Into<String>) -> ApiError {
    bad_request(
        ErrorCode::MerchantPostUsingTemplatesAmountConflictTemplatesContractAmount,
        hint,
    )
}

fn currency_mismatch(field: &str, found: &str, wanted: &str) -> ApiError {
    bad_request(
        ErrorCode::MerchantGenericCurrencyMismatch,
        format!("{field}: currency {found} is not the template's currency {wanted}"),
    )
    .currency(found)
}

/// Turns the request into the order it asks for: the checks every template type
/// shares, then the rules of the template's type.
pub async fn order_input(
    state: &State,
    instance_serial: i64,
    template_id: &str,
    contract: &TemplateContractDetails,
    defaults: &ContractFields,
    request: UsingTemplateDetailsRequest,
    h_post_data: String,
) -> Result<OrderInput, ApiError> {
    let template_type = contract.template_type;
    check_type(template_id, template_type, &request)?;
    let fields = &contract.fields;
    // The currency payments must use: the template's, else its defaults', else the
    // request's (inventory-cart), else the backend's.
    let pinned = fields.pinned_currency().or(defaults.pinned_currency());
    check_amounts(state.config.currency.as_str(), pinned, fields, &request)?;
    let summary = summary_of(fields, defaults, &request)?;

    let mut order = empty_order(fields.minimum_age.or(defaults.minimum_age));
    let mut inventory = Vec::new();
    let mut session_id = None;
    let tip = request.tip.clone().filter(|t| !t.is_zero());
    match template_type {
        TemplateType::FixedOrder => fixed_order(fields, defaults, &request, &tip, &mut order)?,
        TemplateType::InventoryCart => {
            let cart = Cart {
                state,
                instance_serial,
                fields,
                pinned,
                request: &request,
                tip: &tip,
            };
            inventory = cart.order(&mut order, summary.is_none()).await?;
        }
        TemplateType::Paivana => session_id = Some(paivana(fields, &request, &mut order)?),
    }
    if order.summary.is_empty() {
        order.summary = summary.ok_or_else(|| {
            bad_request(
                ErrorCode::MerchantPostUsingTemplatesNoSummary,
                "summary: the template has none, so the request must give one",
            )
        })?;
    }
    Ok(OrderInput {
        order,
        refund_delay: None,
        payment_target: None,
        session_id,
        inventory,
        create_token: true,
        otp_id: None,
        pay_duration: fields.pay_duration.or(defaults.pay_duration),
        h_post_data,
        lock_uuids: Vec::new(),
        // Set by the caller, which knows the client.
        anonymous: None,
    })
}

/// The request names the template's type, and fields of another type are refused.
fn check_type(
    template_id: &str,
    template_type: TemplateType,
    request: &UsingTemplateDetailsRequest,
) -> Result<(), ApiError> {
    let asked = request.template_type.as_deref().unwrap_or("fixed-order");
    if asked != template_type.as_str() {
        return Err(bad_request(
            ErrorCode::MerchantPostUsingTemplatesWrongType,
            format!("template `{template_id}` is of type {template_type}, not {asked}"),
        ));
    }
    let own = |field: &str, given: bool, wanted: TemplateType| -> Result<(), ApiError> {
        if given && template_type != wanted {
            return Err(ApiError::malformed(
                field,
                format!("{field}: is a field of {wanted} templates, not of {template_type}"),
            ));
        }
        Ok(())
    };
    own(
        "inventory_selection",
        request.inventory_selection.is_some(),
        TemplateType::InventoryCart,
    )?;
    own("website", request.website.is_some(), TemplateType::Paivana)?;
    own(
        "paivana_id",
        request.paivana_id.is_some(),
        TemplateType::Paivana,
    )
}

/// `amount` and `tip` in the pinned currency and the backend's, in one currency, and a
/// tip only where the template asks for one.
fn check_amounts(
    backend: &str,
    pinned: Option<&str>,
    fields: &ContractFields,
    request: &UsingTemplateDetailsRequest,
) -> Result<(), ApiError> {
    for (field, amount) in [("amount", &request.amount), ("tip", &request.tip)] {
        if let Some(a) = amount {
            if let Some(pin) = pinned
                && a.currency() != pin
            {
                return Err(currency_mismatch(field, a.currency(), pin));
            }
            if a.currency() != backend {
                return Err(currency_mismatch(field, a.currency(), backend));
            }
        }
    }
    if let (Some(amount), Some(tip)) = (&request.amount, &request.tip)
        && amount.currency() != tip.currency()
    {
        return Err(currency_mismatch("tip", tip.currency(), amount.currency()));
    }
    if request.tip.is_some() && fields.request_tip != Some(true) {
        return Err(ApiError::malformed(
            "tip",
            "tip: the template does not ask for a tip",
        ));
    }
    Ok(())
}

/// The summary: the template's is fixed; else the request's, else the default.
fn summary_of(
    fields: &ContractFields,
    defaults: &ContractFields,
    request: &UsingTemplateDetailsRequest,
) -> Result<Option<String>, ApiError> {
    match (&fields.summary, &request.summary) {
        (Some(fixed), Some(asked)) if fixed != asked => Err(bad_request(
            ErrorCode::MerchantPostUsingTemplatesSummaryConflictTemplatesContractSubject,
            "summary: the template fixes the summary",
        )),
        (Some(fixed), _) => Ok(Some(fixed.clone())),
        (None, Some(asked)) => Ok(Some(asked.clone())),
        (None, None) => Ok(defaults.summary.clone()),
    }
}

/// An order with nothing set but the minimum age; the template's type fills it in.
fn empty_order(minimum_age: Option<u64>) -> Order {
    Order {
        version: None,
        amount: None,
        max_fee: None,
        choices: None,
        summary: String::new(),
        summary_i18n: None,
        order_id: None,
        public_reorder_url: None,
        fulfillment_url: None,
        fulfillment_message: None,
        fulfillment_message_i18n: None,
        minimum_age,
        products: None,
        timestamp: None,
        refund_deadline: None,
        pay_deadline: None,
        wire_transfer_deadline: None,
        merchant_base_url: None,
        delivery_location: None,
        delivery_date: None,
        auto_refund: None,
        extra: None,
        forgettable: None,
    }
}

/// The contract line of a tip.
fn tip_line(tip: &Amount) -> ContractProduct {
    ContractProduct {
        product_id: None,
        product_name: Some("Tip".to_owned()),
        description: "Tip".to_owned(),
        description_i18n: None,
        quantity: Some(1),
        unit_quantity: None,
        unit: None,
        price: Some(tip.clone()),
        image: None,
        taxes: None,
        delivery_date: None,
    }
}

/// fixed-order: the template's price (the request may only repeat it, with the tip
/// added), else the request's, else the default; the tip as a line of its own.
fn fixed_order(
    fields: &ContractFields,
    defaults: &ContractFields,
    request: &UsingTemplateDetailsRequest,
    tip: &Option<Amount>,
    order: &mut Order,
) -> Result<(), ApiError> {
    let total = match (&fields.amount, &request.amount) {
        (Some(fixed), asked) => {
            let total = match tip {
                Some(t) => fixed
                    .checked_add(t)
                    .ok_or_else(|| amount_conflict("tip: the total exceeds Taler's limits"))?,
                None => fixed.clone(),
            };
            if asked.as_ref().is_some_and(|a| *a != total) {
                return Err(amount_conflict(format!(
                    "amount: the template fixes the price at {fixed}"
                )));
            }
            total
        }
        (None, Some(asked)) => asked.clone(),
        (None, None) => defaults.amount.clone().ok_or_else(|| {
            bad_request(
                ErrorCode::MerchantPostUsingTemplatesNoAmount,
                "amount: the template has no price, so the request must give one",
            )
        })?,
    };
    if let Some(t) = tip {
        if total.checked_sub(t).is_none() {
            return Err(amount_conflict("tip: exceeds the amount it is part of"));
        }
        order.products = Some(vec![tip_line(t)]);
    }
    order.amount = Some(total);
    Ok(())
}

/// inventory-cart: the selected products, priced in the payment's currency.
struct Cart<'a> {
    state: &'a State,
    instance_serial: i64,
    fields: &'a ContractFields,
    pinned: Option<&'a str>,
    request: &'a UsingTemplateDetailsRequest,
    tip: &'a Option<Amount>,
}

impl Cart<'_> {
    /// Prices the selection into `order` (its summary the products' names when
    /// `name_it`) and returns the inventory products the order holds.
    async fn order(
        &self,
        order: &mut Order,
        name_it: bool,
    ) -> Result<Vec<MinimalInventoryProduct>, ApiError> {
        let request = self.request;
        let currency = self
            .pinned
            .or(request.amount.as_ref().map(Amount::currency))
            .or(request.tip.as_ref().map(Amount::currency))
            .ok_or_else(|| {
                bad_request(
                    ErrorCode::MerchantPostUsingTemplatesNoCurrency,
                    "the template fixes no currency: give `amount` in the currency to pay in",
                )
            })?
            .to_owned();
        let selection = self.selection()?;
        let mut total = Amount::zero(&currency).map_err(|e| ApiError::db_fetch(e.0))?;
        let mut names = Vec::new();
        let mut inventory = Vec::new();
        for entry in &selection {
            let (wanted, price, name) = self.line(entry, &currency).await?;
            total = total
                .checked_add(&price)
                .ok_or_else(|| amount_conflict("the total exceeds Taler's limits"))?;
            names.push(name);
            inventory.push(wanted);
        }
        if let Some(t) = self.tip {
            total = total
                .checked_add(t)
                .ok_or_else(|| amount_conflict("tip: the total exceeds Taler's limits"))?;
            order.products = Some(vec![tip_line(t)]);
        }
        if request.amount.as_ref().is_some_and(|a| *a != total) {
            return Err(amount_conflict(format!(
                "amount: the selected products with the tip cost {total}"
            )));
        }
        order.amount = Some(total);
        if name_it {
            let mut joined = names.join(", ");
            if joined.chars().count() > limits::MAX_TEXT_CHARS {
                joined = format!("{} products", names.len());
            }
            order.summary = joined;
        }
        Ok(inventory)
    }

    /// The selection: at least one entry, at most `MAX_ITEMS`, exactly one where the
    /// template says `choose_one`.
    fn selection(&self) -> Result<Vec<InventorySelectionEntry>, ApiError> {
        let selection = self.request.inventory_selection.clone().unwrap_or_default();
        if selection.is_empty() {
            return Err(ApiError::malformed(
                "inventory_selection",
                "inventory_selection: select at least one product",
            ));
        }
        if selection.len() > limits::MAX_ITEMS {
            return Err(ApiError::malformed(
                "inventory_selection",
                format!("inventory_selection: at most {} entries", limits::MAX_ITEMS),
            ));
        }
        if self.fields.choose_one == Some(true) && selection.len() != 1 {
            return Err(bad_request(
                ErrorCode::MerchantPostUsingTemplatesWrongProduct,
                "inventory_selection: the template lets the customer choose exactly one product",
            ));
        }
        Ok(selection)
    }

    /// One selected product: offered by the template, in a quantity its unit allows,
    /// with a price in `currency`. Its price for that quantity and its name.
    async fn line(
        &self,
        entry: &InventorySelectionEntry,
        currency: &str,
    ) -> Result<(MinimalInventoryProduct, Amount, String), ApiError> {
        let row =
            store::inventory::find_product(&self.state.db, self.instance_serial, &entry.product_id)
                .await
                .map_err(ApiError::db_fetch)?
                .ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::MerchantGenericProductUnknown,
                        format!("product `{}` is unknown", entry.product_id),
                    )
                    .detail(entry.product_id.clone())
                })?;
        let p = stored_product(&row)?;
        let categories = p.categories.clone().unwrap_or_default();
        if !inventory_cart::selects(self.fields, &row.product_id, &categories) {
            return Err(bad_request(
                ErrorCode::MerchantPostUsingTemplatesWrongProduct,
                format!(
                    "product `{}` is not offered by this template",
                    row.product_id
                ),
            ));
        }
        let wanted = MinimalInventoryProduct {
            product_id: row.product_id.clone(),
            quantity: None,
            unit_quantity: Some(entry.quantity.clone()),
        };
        let millionths = quantity_of(
            wanted.wanted(),
            p.unit_allow_fraction.unwrap_or(false),
            p.unit_precision_level.unwrap_or(0),
        )?;
        let unit_price = p
            .prices()
            .into_iter()
            .find(|a| a.currency() == currency)
            .ok_or_else(|| {
                bad_request(
                    ErrorCode::MerchantGenericCurrencyMismatch,
                    format!("product `{}` has no price in {currency}", row.product_id),
                )
            })?;
        let price = unit_price
            .times_millionths(millionths)
            .ok_or_else(|| amount_conflict("the total exceeds Taler's limits"))?;
        let name = p.product_name.clone().unwrap_or(row.product_id.clone());
        Ok((wanted, price, name))
    }
}

/// paivana: the template's choices, the website as the fulfillment URL (covered by the
/// template's `website_regex`); the Paivana id becomes the session id.
fn paivana(
    fields: &ContractFields,
    request: &UsingTemplateDetailsRequest,
    order: &mut Order,
) -> Result<String, ApiError> {
    if request.amount.is_some() {
        return Err(amount_conflict(
            "amount: a paivana template's choices fix the prices",
        ));
    }
    let website = request
        .website
        .clone()
        .ok_or_else(|| ApiError::malformed("website", "website: is required"))?;
    url::Url::parse(&website)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| ApiError::malformed("website", "website: must be an http(s) URL"))?;
    if let Some(regex) = &fields.website_regex {
        let re = regex::Regex::new(regex).map_err(ApiError::db_fetch)?;
        if !re.is_match(&website) {
            return Err(ApiError::malformed(
                "website",
                "website: the template does not cover this website",
            ));
        }
    }
    let paivana_id = request
        .paivana_id
        .clone()
        .ok_or_else(|| ApiError::malformed("paivana_id", "paivana_id: is required"))?;
    order.version = Some(1);
    order.choices = fields.choices.clone();
    order.fulfillment_url = Some(website);
    Ok(paivana_id)
}

/// `POST [/instances/$INSTANCE]/templates/$TEMPLATE_ID` takes a URL-encoded form too (a
/// wallet or a plain HTML form creating an order, as the page allows): the edge reads
/// it with [`form_to_json`].
pub fn form_route(merchant_base: &str) -> FormRoute {
    FormRoute {
        base: merchant_base.to_owned(),
        matches: |segments| {
            matches!(
                segments,
                ["templates", id] | ["instances", _, "templates", id] if !id.is_empty()
            )
        },
        to_json: form_to_json,
    }
}

/// Keys of the URL-encoded form and the JSON values they become.
pub fn form_to_json(body: &[u8]) -> Result<serde_json::Value, String> {
    let mut map = BTreeMap::new();
    for (key, value) in url::form_urlencoded::parse(body) {
        if map.contains_key(key.as_ref()) {
            return Err(format!("field `{key}` is given twice"));
        }
        map.insert(
            key.into_owned(),
            serde_json::Value::String(value.into_owned()),
        );
    }
    Ok(serde_json::Value::Object(map.into_iter().collect()))
}
