//! Stock: how many units of a product are free, and the quantities an order may ask
//! for. Orders hold units (`store::orders`); products say how many there are.

use crate::{
    merchant::inventory::products::stored_product, store::orders as store_orders, taler::ApiError,
};

/// Units of a product nobody holds: stock minus sold, lost and locked; `None` for
/// unlimited stock.
pub fn free_units(p: &store_orders::Product) -> Result<Option<u128>, String> {
    let details =
        stored_product(p).map_err(|_| format!("stored product {} is unreadable", p.product_id))?;
    let stock = details.stock();
    if stock == "-1" {
        return Ok(None);
    }
    let parse = |t: &str| store_orders::parse_millionths(t).map_err(|e| e.to_string());
    let used = parse(&p.total_sold)? + parse(&p.total_lost)? + parse(&p.total_locked)?;
    Ok(Some(parse(&stock)?.saturating_sub(used)))
}

/// How much of a product an order asks for (`MinimalInventoryProduct`, or a template's
/// inventory selection): `unit_quantity` as `<integer>[.<fraction>]`, or the legacy
/// integer `quantity`; one unit if neither.
pub struct Wanted<'a> {
    pub product_id: &'a str,
    pub unit_quantity: Option<&'a str>,
    pub quantity: Option<u64>,
}

/// Quantity in millionths, checked against the product's unit rules.
pub fn quantity_of(
    wanted: Wanted<'_>,
    allow_fraction: bool,
    precision: u32,
) -> Result<u128, ApiError> {
    let field = "inventory_products.unit_quantity";
    let millionths = match (wanted.unit_quantity, wanted.quantity) {
        (Some(text), _) => store_orders::parse_millionths(text)
            .map_err(|_| ApiError::malformed(field, format!("{field}: malformed quantity")))?,
        (None, Some(q)) => u128::from(q) * 1_000_000,
        (None, None) => 1_000_000,
    };
    if millionths == 0 {
        return Err(ApiError::malformed(
            field,
            format!("{field}: must be positive"),
        ));
    }
    let step = 10u128.pow(6 - precision.min(6));
    if (!allow_fraction && millionths % 1_000_000 != 0) || millionths % step != 0 {
        return Err(ApiError::malformed(
            field,
            format!(
                "{field}: product `{}` is sold in steps of {}",
                wanted.product_id,
                store_orders::format_millionths(if allow_fraction { step } else { 1_000_000 })
            ),
        ));
    }
    Ok(millionths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_follow_the_unit_rules() {
        let q = |unit_quantity: Option<&'static str>, quantity: Option<u64>| Wanted {
            product_id: "p",
            quantity,
            unit_quantity,
        };
        assert_eq!(quantity_of(q(None, Some(3)), false, 0).unwrap(), 3_000_000);
        assert_eq!(quantity_of(q(None, None), false, 0).unwrap(), 1_000_000);
        assert_eq!(
            quantity_of(q(Some("1.25"), None), true, 2).unwrap(),
            1_250_000
        );
        assert!(quantity_of(q(Some("1.25"), None), false, 0).is_err());
        assert!(quantity_of(q(Some("1.255"), None), true, 2).is_err());
        assert!(quantity_of(q(Some("0"), None), true, 2).is_err());
    }
}
