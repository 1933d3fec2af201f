//! What an order is made of: the merchant's `Order` and its `Product` lines and
//! choices, the inventory products it asks for, and the `ContractTerms` built from it.

use std::collections::BTreeMap;

use poem_openapi::{
    Object,
    registry::{MetaSchemaRef, Registry},
    types::{ParseFromJSON, ToJSON, Type},
};
use serde_json::Value;

use crate::taler::text::{OrderId, Text, UnitQuantity};
use crate::{
    merchant::{
        instances::settings::Location,
        inventory::{details::Tax, stock::Wanted},
    },
    taler::{Amount, EddsaPublicKey, RelativeTime, Timestamp},
};

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
    /// Auditors the merchant accepts: always empty. Gone from the newest page; GNU
    /// Taler wallets up to 2023 require it.
    #[oai(deprecated)]
    auditors: Vec<Value>,
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
