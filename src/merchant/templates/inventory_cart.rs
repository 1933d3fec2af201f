//! The `InventoryPayload` wallets receive with an inventory-cart template (its types are
//! in `inventory_payload`), and the check that a template's selection names existing
//! products and categories. The products and categories themselves are
//! `merchant::inventory`.

use std::collections::{BTreeMap, BTreeSet};

use crate::{
    merchant::{
        inventory::details::{free_units, stored_product},
        templates::{
            contract::ContractFields,
            inventory_payload::{
                InventoryPayload, InventoryPayloadCategory, InventoryPayloadProduct,
            },
        },
    },
    state::State,
    store::inventory,
    taler::ApiError,
};

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
            remaining_stock: free_units(&row)
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
