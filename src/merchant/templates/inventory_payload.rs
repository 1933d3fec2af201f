//! `InventoryPayload`: what wallets receive with an inventory-cart template (the types;
//! `inventory_cart` fills them from the inventory).

use std::collections::BTreeMap;

use poem_openapi::Object;

use crate::taler::Amount;

/// `InventoryPayload`: what an inventory-cart template lets the customer choose from.
#[derive(Object, Debug, Clone)]
pub struct InventoryPayload {
    /// Inventory products available for selection.
    pub products: Vec<InventoryPayloadProduct>,
    /// Categories referenced by the payload products.
    pub categories: Vec<InventoryPayloadCategory>,
    /// Custom units referenced by the payload products. This backend has no custom
    /// units, so the list is always empty.
    pub units: Vec<InventoryPayloadUnit>,
}

/// `InventoryPayloadProduct`.
#[derive(Object, Debug, Clone)]
#[oai(skip_serializing_if_is_none)]
pub struct InventoryPayloadProduct {
    /// Product identifier.
    pub product_id: String,
    /// Human-readable product name.
    pub product_name: String,
    /// Human-readable product description.
    pub description: String,
    /// Map from IETF BCP 47 language tags to localized descriptions.
    pub description_i18n: Option<BTreeMap<String, String>>,
    /// Unit in which the product is measured.
    pub unit: String,
    /// Price per unit, one amount per currency.
    pub unit_price: Vec<Amount>,
    /// Whether fractional quantities are permitted.
    pub unit_allow_fraction: bool,
    /// Fractional precision level (0 to 6).
    pub unit_precision_level: u32,
    /// Remaining stock (`DecimalQuantity`; "-1" for unlimited).
    pub remaining_stock: String,
    /// Categories of the product.
    pub categories: Vec<u64>,
    /// Minimum age the buyer must have, in years.
    pub minimum_age: Option<u64>,
}

/// `InventoryPayloadCategory`.
#[derive(Object, Debug, Clone)]
#[oai(skip_serializing_if_is_none)]
pub struct InventoryPayloadCategory {
    /// Number of the category.
    pub category_id: u64,
    /// Name of the category.
    pub category_name: String,
    /// Map from IETF BCP 47 language tags to localized names.
    pub category_name_i18n: Option<BTreeMap<String, String>>,
}

/// `InventoryPayloadUnit`: a custom measurement unit.
#[derive(Object, Debug, Clone)]
pub struct InventoryPayloadUnit {
    /// Unit identifier, as products name it.
    pub unit: String,
    /// Long name of the unit.
    pub unit_name_long: String,
    /// Short name (symbol) of the unit.
    pub unit_name_short: String,
}
