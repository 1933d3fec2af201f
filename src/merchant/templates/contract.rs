//! `TemplateContractDetails`: `(TemplateContractFixedOrder | TemplateContractInventoryCart |
//! TemplateContractPaivana) & TemplateContractCommon`, where `template_type` selects the
//! variant and defaults to `fixed-order` when omitted.
//!
//! poem-openapi's `Union` needs a discriminator every variant requires, so this type
//! implements the traits itself. It publishes a `oneOf` of the three variants, each the
//! `allOf` of `TemplateContractCommon`, the variant's own schema and the `template_type`
//! values that select it (which keeps the variants mutually exclusive). It parses field
//! by field so that every error names its field, and it keeps the posted object, so a
//! template reads back exactly as it was stored. Fields the spec does not define are kept
//! as posted; fields of another template type are refused.

use std::{borrow::Cow, collections::BTreeMap, fmt};

use poem_openapi::{
    Enum, Object,
    registry::{MetaSchema, MetaSchemaRef, Registry},
    types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type},
};
use serde_json::{Map, Value, json};

use crate::taler::text::{CurrencyCode, Text};
use crate::{
    merchant::{orders::terms::OrderChoice, templates::inventory_payload::InventoryPayload},
    taler::{Amount, RelativeTime, amount::check_currency},
};

/// Which interface a template contract follows.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "kebab-case")]
pub enum TemplateType {
    /// The merchant fixes the order (the default).
    FixedOrder,
    /// The customer picks products from the instance's inventory.
    InventoryCart,
    /// Session-based payments for web sites matching a pattern.
    Paivana,
}

impl TemplateType {
    pub const ALL: [TemplateType; 3] = [
        TemplateType::FixedOrder,
        TemplateType::InventoryCart,
        TemplateType::Paivana,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TemplateType::FixedOrder => "fixed-order",
            TemplateType::InventoryCart => "inventory-cart",
            TemplateType::Paivana => "paivana",
        }
    }

    /// The fields this type adds to [`COMMON_FIELDS`].
    pub fn own_fields(self) -> &'static [&'static str] {
        match self {
            TemplateType::FixedOrder => &["amount"],
            TemplateType::InventoryCart => &[
                "selected_all",
                "selected_categories",
                "selected_products",
                "choose_one",
                "inventory_payload",
            ],
            TemplateType::Paivana => &["website_regex", "choices"],
        }
    }

    pub fn has_field(self, field: &str) -> bool {
        COMMON_FIELDS.contains(&field) || self.own_fields().contains(&field)
    }
}

impl fmt::Display for TemplateType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The fields of `TemplateContractCommon`.
pub const COMMON_FIELDS: &[&str] = &[
    "template_type",
    "summary",
    "currency",
    "pay_duration",
    "max_pickup_duration",
    "minimum_age",
    "request_tip",
];

/// Durations beyond this are certainly a mistake (about a century).
const MAX_DURATION_US: u64 = 100 * 365 * 24 * 3600 * 1_000_000;
/// Nobody is older; a larger minimum age would make the template unusable.
const MAX_MINIMUM_AGE: u64 = 120;
/// Compiled size limit of `website_regex`, so that a pattern cannot exhaust memory.
const MAX_REGEX_BYTES: usize = 1 << 20;

// The next four types only describe the published schema; parsing goes through
// `ContractFields`, which a unit test keeps in step with them.

/// `TemplateContractCommon`: the fields every template type has.
#[derive(Object)]
#[allow(dead_code)]
pub struct TemplateContractCommon {
    /// Template type to apply. Defaults to "fixed-order" if omitted.
    template_type: Option<TemplateType>,
    /// Human-readable summary for the template.
    summary: Option<String>,
    /// Required currency for payments to the template. When `amount` is given too,
    /// it must be the amount's currency.
    currency: Option<Text<CurrencyCode>>,
    /// The time the customer has to pay before the order is deleted (positive, finite).
    pay_duration: Option<RelativeTime>,
    /// How long customers have to access, read or pick up what they bought; forever if
    /// not given.
    max_pickup_duration: Option<RelativeTime>,
    /// Minimum age the buyer must have, in years (0 to 120). Default is 0.
    minimum_age: Option<u64>,
    /// Inventory-cart: request a tip during instantiation.
    request_tip: Option<bool>,
}

/// `TemplateContractFixedOrder`.
#[derive(Object)]
#[allow(dead_code)]
pub struct TemplateContractFixedOrder {
    /// The price is imposed by the merchant and cannot be changed by the customer.
    amount: Option<Amount>,
}

/// `TemplateContractInventoryCart`.
#[derive(Object)]
#[allow(dead_code)]
pub struct TemplateContractInventoryCart {
    /// Allow any inventory item to be selected.
    selected_all: Option<bool>,
    /// Only products in these categories are selectable.
    selected_categories: Option<Vec<u64>>,
    /// Only these products are selectable.
    selected_products: Option<Vec<String>>,
    /// Require exactly one selection entry.
    choose_one: Option<bool>,
    /// Backend-provided payload with the selectable products. Only present in
    /// `GET /templates/$TEMPLATE_ID` responses; refused in requests.
    #[oai(read_only)]
    inventory_payload: Option<InventoryPayload>,
}

/// `TemplateContractPaivana`.
#[derive(Object)]
#[allow(dead_code)]
pub struct TemplateContractPaivana {
    /// Regular expression over URLs for which this template is valid. Optional; if not
    /// given all URLs are accepted.
    website_regex: Option<String>,
    /// Methods to pay for the contract (at least one).
    choices: Vec<OrderChoice>,
}

/// The typed fields of a contract (or of `editable_defaults`), all optional.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContractFields {
    pub summary: Option<String>,
    pub currency: Option<String>,
    pub pay_duration: Option<RelativeTime>,
    pub max_pickup_duration: Option<RelativeTime>,
    pub minimum_age: Option<u64>,
    pub request_tip: Option<bool>,
    pub amount: Option<Amount>,
    pub selected_all: Option<bool>,
    pub selected_categories: Option<Vec<u64>>,
    pub selected_products: Option<Vec<String>>,
    pub choose_one: Option<bool>,
    pub website_regex: Option<String>,
    pub choices: Option<Vec<OrderChoice>>,
}

fn parse_into<T: ParseFromJSON>(
    slot: &mut Option<T>,
    key: &str,
    value: Value,
) -> Result<(), String> {
    let parsed =
        T::parse_from_json(Some(value)).map_err(|e| format!("{key}: {}", e.into_message()))?;
    *slot = Some(parsed);
    Ok(())
}

impl ContractFields {
    /// Parses one field; `key` must be a field of some template type (other than
    /// `template_type` and `inventory_payload`, which callers handle).
    fn set(&mut self, key: &str, value: Value) -> Result<(), String> {
        // poem-openapi turns numbers and booleans into strings; a contract must not.
        let strings = match key {
            "summary" | "currency" | "website_regex" => std::slice::from_ref(&value),
            "selected_products" => value.as_array().map_or(&[][..], Vec::as_slice),
            _ => &[],
        };
        if let Some(bad) = strings.iter().find(|v| !v.is_string()) {
            return Err(format!("{key}: expected a string, found {bad}"));
        }
        match key {
            "summary" => parse_into(&mut self.summary, key, value),
            "currency" => parse_into(&mut self.currency, key, value),
            "pay_duration" => parse_into(&mut self.pay_duration, key, value),
            "max_pickup_duration" => parse_into(&mut self.max_pickup_duration, key, value),
            "minimum_age" => parse_into(&mut self.minimum_age, key, value),
            "request_tip" => parse_into(&mut self.request_tip, key, value),
            "amount" => parse_into(&mut self.amount, key, value),
            "selected_all" => parse_into(&mut self.selected_all, key, value),
            "selected_categories" => parse_into(&mut self.selected_categories, key, value),
            "selected_products" => parse_into(&mut self.selected_products, key, value),
            "choose_one" => parse_into(&mut self.choose_one, key, value),
            "website_regex" => parse_into(&mut self.website_regex, key, value),
            "choices" => parse_into(&mut self.choices, key, value),
            other => Err(format!("{other}: is not a template contract field")),
        }
    }

    /// The rules that need nothing but the fields themselves.
    fn check(&self) -> Result<(), String> {
        // Both may be given (the page's `TemplateDetails`: "backends may reject requests
        // if the template_contract ... specify an amount in a different currency"), as
        // the backoffice and Tryton send them; only a disagreement is refused.
        if let (Some(amount), Some(currency)) = (&self.amount, &self.currency)
            && amount.currency() != currency.as_str()
        {
            return Err(format!(
                "currency: {} differs from the amount's currency {}",
                currency.as_str(),
                amount.currency()
            ));
        }
        if let Some(currency) = &self.currency {
            check_currency(currency).map_err(|e| format!("currency: {e}"))?;
        }
        if let Some(d) = self.pay_duration {
            check_duration("pay_duration", d, false)?;
        }
        if let Some(d) = self.max_pickup_duration {
            check_duration("max_pickup_duration", d, true)?;
        }
        if self.minimum_age.is_some_and(|age| age > MAX_MINIMUM_AGE) {
            return Err(format!(
                "minimum_age: must be at most {MAX_MINIMUM_AGE} years"
            ));
        }
        if let Some(products) = &self.selected_products
            && products.iter().any(|p| p.is_empty())
        {
            return Err("selected_products: product IDs must not be empty".to_owned());
        }
        if let Some(regex) = &self.website_regex {
            regex::RegexBuilder::new(regex)
                .size_limit(MAX_REGEX_BYTES)
                .build()
                .map_err(|e| format!("website_regex: does not compile: {e}"))?;
        }
        if self.choices.as_ref().is_some_and(Vec::is_empty) {
            return Err("choices: must not be empty".to_owned());
        }
        Ok(())
    }

    /// Every currency the fields name, with the field that names it.
    pub fn currencies(&self) -> Vec<(&'static str, &str)> {
        let mut found = Vec::new();
        if let Some(c) = &self.currency {
            found.push(("currency", c.as_str()));
        }
        if let Some(a) = &self.amount {
            found.push(("amount", a.currency()));
        }
        for choice in self.choices.iter().flatten() {
            found.push(("choices", choice.amount.currency()));
            if let Some(fee) = &choice.max_fee {
                found.push(("choices", fee.currency()));
            }
        }
        found
    }

    /// The currency payments must use, if these fields pin one down.
    pub fn pinned_currency(&self) -> Option<&str> {
        self.currency
            .as_deref()
            .or_else(|| self.amount.as_ref().map(Amount::currency))
    }
}

fn check_duration(field: &str, d: RelativeTime, forever_allowed: bool) -> Result<(), String> {
    match d {
        RelativeTime::Forever if forever_allowed => Ok(()),
        RelativeTime::Forever => Err(format!("{field}: must be finite")),
        RelativeTime::Micros(0) => Err(format!("{field}: must be positive")),
        RelativeTime::Micros(us) if us > MAX_DURATION_US => {
            Err(format!("{field}: must be at most 100 years"))
        }
        RelativeTime::Micros(_) => Ok(()),
    }
}

/// A template contract of one of the three types, with the object as posted.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateContractDetails {
    pub template_type: TemplateType,
    pub fields: ContractFields,
    raw: Map<String, Value>,
}

impl TemplateContractDetails {
    /// Parses and checks a contract; errors read `<field>: <problem>`.
    pub fn from_value(value: Value) -> Result<Self, String> {
        let Value::Object(raw) = value else {
            return Err("must be a JSON object".to_owned());
        };
        let template_type = match raw.get("template_type") {
            None => TemplateType::FixedOrder,
            Some(Value::String(s)) => TemplateType::ALL
                .into_iter()
                .find(|t| t.as_str() == s)
                .ok_or_else(|| {
                    format!(
                        "template_type: unknown template type `{s}` (expected fixed-order, \
                         inventory-cart or paivana)"
                    )
                })?,
            Some(other) => return Err(format!("template_type: expected a string, found {other}")),
        };
        let mut fields = ContractFields::default();
        for (key, value) in &raw {
            match key.as_str() {
                "template_type" => continue,
                "inventory_payload" => {
                    return Err(
                        "inventory_payload: only the backend sets it, in GET /templates responses"
                            .to_owned(),
                    );
                }
                _ if template_type.has_field(key) => fields.set(key, value.clone())?,
                _ => {
                    if let Some(owner) = TemplateType::ALL.iter().find(|t| t.has_field(key)) {
                        return Err(format!(
                            "{key}: is a field of {owner} templates, not of {template_type}"
                        ));
                    }
                    // Not a field of any template type: kept as posted.
                }
            }
        }
        if template_type == TemplateType::Paivana && fields.choices.is_none() {
            return Err("choices: is required for paivana templates".to_owned());
        }
        fields.check()?;
        Ok(TemplateContractDetails {
            template_type,
            fields,
            raw,
        })
    }

    /// Checks `editable_defaults` against this contract: only fields of its type, each
    /// well-typed, and no currency other than the contract's.
    pub fn check_editable_defaults(
        &self,
        defaults: &BTreeMap<String, Value>,
    ) -> Result<ContractFields, String> {
        let mut fields = ContractFields::default();
        for (key, value) in defaults {
            if key == "template_type"
                || key == "inventory_payload"
                || !self.template_type.has_field(key)
            {
                return Err(format!(
                    "{key}: is not an editable field of a {} template contract",
                    self.template_type
                ));
            }
            fields.set(key, value.clone())?;
        }
        fields.check()?;
        if let Some(pinned) = self.fields.pinned_currency()
            && let Some((field, other)) =
                fields.currencies().into_iter().find(|(_, c)| *c != pinned)
        {
            return Err(format!(
                "{field}: currency {other} differs from the template's currency {pinned}"
            ));
        }
        Ok(fields)
    }

    /// Adds the backend's `inventory_payload` (for wallets).
    pub fn set_inventory_payload(&mut self, payload: &InventoryPayload) {
        if let Some(value) = payload.to_json() {
            self.raw.insert("inventory_payload".to_owned(), value);
        }
    }

    /// The stored text: the object as posted.
    pub fn to_db(&self) -> String {
        Value::Object(self.raw.clone()).to_string()
    }

    pub fn raw(&self) -> &Map<String, Value> {
        &self.raw
    }
}

const NAME: &str = "TemplateContractDetails";

/// One variant of the published union, registered under its own name (generated
/// clients handle a union of named objects): common fields, own fields, and the
/// `template_type` values that select it.
fn variant_schema(
    registry: &mut Registry,
    name: &'static str,
    own: MetaSchemaRef,
    template_type: TemplateType,
) -> MetaSchemaRef {
    let selector = MetaSchema {
        // Only fixed-order may omit `template_type`.
        required: if template_type == TemplateType::FixedOrder {
            vec![]
        } else {
            vec!["template_type"]
        },
        properties: vec![(
            "template_type",
            MetaSchemaRef::Inline(Box::new(MetaSchema {
                enum_items: vec![json!(template_type.as_str())],
                ..MetaSchema::new("string")
            })),
        )],
        ..MetaSchema::new("object")
    };
    registry
        .schemas
        .entry(name.to_owned())
        .or_insert(MetaSchema {
            all_of: vec![
                TemplateContractCommon::schema_ref(),
                own,
                MetaSchemaRef::Inline(Box::new(selector)),
            ],
            ..MetaSchema::new("object")
        });
    MetaSchemaRef::Reference(name.to_owned())
}

impl Type for TemplateContractDetails {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        Cow::Borrowed(NAME)
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Reference(NAME.to_owned())
    }

    fn register(registry: &mut Registry) {
        registry.create_schema::<Self, _>(NAME.to_owned(), |registry| {
            TemplateContractCommon::register(registry);
            TemplateContractFixedOrder::register(registry);
            TemplateContractInventoryCart::register(registry);
            TemplateContractPaivana::register(registry);
            MetaSchema {
                description: Some(
                    "`(TemplateContractFixedOrder | TemplateContractInventoryCart | \
                     TemplateContractPaivana) & TemplateContractCommon`. `template_type` selects \
                     the variant and defaults to `fixed-order`. Fields of another template type \
                     are refused; fields no template type defines are kept as posted.",
                ),
                one_of: vec![
                    variant_schema(
                        registry,
                        "TemplateContractFixedOrderDetails",
                        TemplateContractFixedOrder::schema_ref(),
                        TemplateType::FixedOrder,
                    ),
                    variant_schema(
                        registry,
                        "TemplateContractInventoryCartDetails",
                        TemplateContractInventoryCart::schema_ref(),
                        TemplateType::InventoryCart,
                    ),
                    variant_schema(
                        registry,
                        "TemplateContractPaivanaDetails",
                        TemplateContractPaivana::schema_ref(),
                        TemplateType::Paivana,
                    ),
                ],
                ..MetaSchema::new("object")
            }
        });
    }

    fn as_raw_value(&self) -> Option<&Self> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl ParseFromJSON for TemplateContractDetails {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        let value = value.ok_or_else(ParseError::expected_input)?;
        // Only request bodies parse this type, always as `template_contract`.
        TemplateContractDetails::from_value(value)
            .map_err(|e| ParseError::custom(format!("template_contract.{e}")))
    }
}

impl ToJSON for TemplateContractDetails {
    fn to_json(&self) -> Option<Value> {
        Some(Value::Object(self.raw.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: Value) -> Result<TemplateContractDetails, String> {
        TemplateContractDetails::from_value(v)
    }

    /// The parser knows exactly the fields the published schemas list.
    #[test]
    fn parser_fields_match_published_schemas() {
        let mut registry = Registry::new();
        TemplateContractDetails::register(&mut registry);
        let props = |name: &str| -> Vec<&str> {
            registry.schemas[name]
                .properties
                .iter()
                .map(|(n, _)| *n)
                .collect()
        };
        assert_eq!(props("TemplateContractCommon"), COMMON_FIELDS);
        assert_eq!(
            props("TemplateContractFixedOrder"),
            TemplateType::FixedOrder.own_fields()
        );
        assert_eq!(
            props("TemplateContractInventoryCart"),
            TemplateType::InventoryCart.own_fields()
        );
        assert_eq!(
            props("TemplateContractPaivana"),
            TemplateType::Paivana.own_fields()
        );
        // Every field but the two handled apart parses through `ContractFields::set`.
        for t in TemplateType::ALL {
            for f in COMMON_FIELDS.iter().chain(t.own_fields()) {
                if *f != "template_type" && *f != "inventory_payload" {
                    let err = ContractFields::default().set(f, Value::Null).unwrap_err();
                    assert!(!err.contains("is not a template contract field"), "{f}");
                }
            }
        }
    }

    #[test]
    fn template_type_defaults_to_fixed_order_and_keeps_the_object() {
        let v = json!({ "summary": "coffee", "amount": "KUDOS:3", "x-note": 1 });
        let c = parse(v.clone()).unwrap();
        assert_eq!(c.template_type, TemplateType::FixedOrder);
        assert_eq!(c.to_json().unwrap(), v);
    }

    #[test]
    fn refuses_what_the_rules_forbid() {
        for (v, needle) in [
            (
                json!({ "amount": "KUDOS:1", "currency": "EUR" }),
                "currency:",
            ),
            (json!({ "template_type": "shop" }), "template_type:"),
            (
                json!({ "pay_duration": { "d_us": "forever" } }),
                "pay_duration:",
            ),
            (json!({ "pay_duration": { "d_us": 0 } }), "pay_duration:"),
            (json!({ "minimum_age": -1 }), "minimum_age:"),
            (json!({ "minimum_age": 500 }), "minimum_age:"),
            (
                json!({ "template_type": "paivana", "choices": [] }),
                "choices:",
            ),
            (json!({ "template_type": "paivana" }), "choices:"),
            (
                json!({ "template_type": "paivana", "website_regex": "(", "choices": [{ "amount": "KUDOS:1" }] }),
                "website_regex:",
            ),
            (
                json!({ "template_type": "inventory-cart", "amount": "KUDOS:1" }),
                "amount:",
            ),
            (
                json!({ "template_type": "inventory-cart", "inventory_payload": {} }),
                "inventory_payload:",
            ),
        ] {
            let err = parse(v.clone()).unwrap_err();
            assert!(err.starts_with(needle), "{v}: {err}");
        }
    }

    #[test]
    fn editable_defaults_must_be_fields_of_the_type() {
        let c = parse(json!({ "currency": "KUDOS" })).unwrap();
        let d = |v: Value| serde_json::from_value::<BTreeMap<String, Value>>(v).unwrap();
        let ok = c.check_editable_defaults(&d(json!({ "amount": "KUDOS:2", "summary": "s" })));
        assert!(ok.is_ok(), "{ok:?}");
        for bad in [
            json!({ "choices": [] }),
            json!({ "bogus": 1 }),
            json!({ "summary": 5 }),
            json!({ "amount": "EUR:2" }),
        ] {
            assert!(c.check_editable_defaults(&d(bad.clone())).is_err(), "{bad}");
        }
    }
}
