//! The `InventoryPayload` wallets receive with an inventory-cart template, and the check
//! that a template's selection names existing products and categories. The products
//! and categories themselves are `merchant::products` and `merchant::categories`.

use std::collections::{BTreeMap, BTreeSet};

use poem_openapi::Object;

use crate::{
    State,
    merchant::{inventory::products::stored_product, templates::contract::ContractFields},
    store::inventory,
    taler::{Amount, ApiError},
};

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

pub fn i18n(text: &Option<String>) -> Option<BTreeMap<String, String>> {
    text.as_deref().and_then(|t| serde_json::from_str(t).ok())
}

/// Whether an inventory-cart selection offers the product: every product with
/// `selected_all`, else those in `selected_products` or in one of `selected_categories`.
pub fn selects(selection: &ContractFields, product_id: &str, categories: &[u64]) -> bool {
    selection.selected_all == Some(true)
        || selection
            .selected_products
            .iter()
            .flatten()
            .any(|p| p == product_id)
        || selection
            .selected_categories
            .iter()
            .flatten()
            .any(|c| categories.contains(c))
}

/// The products an inventory-cart selection offers, with their categories: all of
/// them with `selected_all`, else those in `selected_categories` or `selected_products`.
pub async fn payload(
    state: &State,
    instance_serial: i64,
    selection: &ContractFields,
) -> Result<InventoryPayload, ApiError> {
    let db = &state.db;
    let mut products = Vec::new();
    let mut used_categories = BTreeSet::new();
    for row in inventory::products(db, instance_serial)
        .await
        .map_err(ApiError::db_fetch)?
    {
        let p = stored_product(&row)?;
        let categories = p.categories.clone().unwrap_or_default();
        if !selects(selection, &p.product_id, &categories) {
            continue;
        }
        used_categories.extend(categories.iter().copied());
        products.push(InventoryPayloadProduct {
            product_name: p
                .product_name
                .clone()
                .unwrap_or_else(|| p.product_id.clone()),
            unit_price: p.prices(),
            remaining_stock: crate::merchant::orders::free_units(&row)
                .map_err(ApiError::db_fetch)?
                .map_or_else(|| "-1".to_owned(), crate::store::orders::format_millionths),
            unit_allow_fraction: p.unit_allow_fraction.unwrap_or(false),
            unit_precision_level: p.unit_precision_level.unwrap_or(0),
            categories,
            product_id: p.product_id,
            description: p.description,
            description_i18n: p.description_i18n,
            unit: p.unit,
            minimum_age: p.minimum_age,
        });
    }
    let categories = inventory::categories(db, instance_serial)
        .await
        .map_err(ApiError::db_fetch)?
        .into_iter()
        .filter(|c| used_categories.contains(&(c.category_serial as u64)))
        .map(|c| InventoryPayloadCategory {
            category_id: c.category_serial as u64,
            category_name_i18n: i18n(&c.category_name_i18n),
            category_name: c.category_name,
        })
        .collect();
    Ok(InventoryPayload {
        products,
        categories,
        units: vec![],
    })
}

/// Checks that every product and category an inventory-cart selection names exists.
pub async fn check_selection(
    state: &State,
    instance_serial: i64,
    selection: &ContractFields,
    field_prefix: &str,
) -> Result<(), ApiError> {
    let db = &state.db;
    if let Some(ids) = &selection.selected_categories
        && let Some(missing) = inventory::unknown_category(db, instance_serial, ids)
            .await
            .map_err(ApiError::db_fetch)?
    {
        let field = format!("{field_prefix}selected_categories");
        return Err(ApiError::malformed(
            &field,
            format!("{field}: category {missing} is unknown"),
        ));
    }
    if let Some(ids) = &selection.selected_products {
        let known: BTreeSet<String> = inventory::products(db, instance_serial)
            .await
            .map_err(ApiError::db_fetch)?
            .into_iter()
            .map(|p| p.product_id)
            .collect();
        if let Some(missing) = ids.iter().find(|id| !known.contains(*id)) {
            let field = format!("{field_prefix}selected_products");
            return Err(ApiError::malformed(
                &field,
                format!("{field}: product `{missing}` is unknown"),
            ));
        }
    }
    Ok(())
}
