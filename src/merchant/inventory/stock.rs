//! Stock: quantities (`DecimalQuantity`), the quantities an order may ask for, and the
//! rules a product's stock follows when it changes. Orders hold units
//! (`store::orders`); products say how many there are (`details::free_units`).

use std::fmt;

use crate::{
    store::orders as store_orders,
    taler::{ApiError, ErrorCode},
};

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

/// A `DecimalQuantity` in millionths of a unit, or unlimited ("-1").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Quantity {
    Finite(u128),
    Unlimited,
}

impl Quantity {
    const SCALE: u128 = 1_000_000;

    /// `"-1"` or `<integer>[.<fraction>]` (at most 16 integer and 6 fraction digits).
    pub fn parse(s: &str) -> Option<Quantity> {
        if s == "-1" {
            return Some(Quantity::Unlimited);
        }
        let (int, frac) = match s.split_once('.') {
            Some((_, "")) => return None,
            Some(parts) => parts,
            None => (s, ""),
        };
        let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        if int.is_empty() || int.len() > 16 || frac.len() > 6 || !digits(int) || !digits(frac) {
            return None;
        }
        let int: u128 = int.parse().ok()?;
        let frac: u128 = format!("{frac:0<6}").parse().ok()?;
        Some(Quantity::Finite(int * Self::SCALE + frac))
    }

    /// The legacy integer counter: whole units, -1 for unlimited.
    pub fn whole(self) -> i64 {
        match self {
            Quantity::Finite(m) => (m / Self::SCALE).min(i64::MAX as u128) as i64,
            Quantity::Unlimited => -1,
        }
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Quantity::Unlimited => f.write_str("-1"),
            Quantity::Finite(m) => {
                let (int, frac) = (m / Self::SCALE, m % Self::SCALE);
                if frac == 0 {
                    write!(f, "{int}")
                } else {
                    let frac = format!("{frac:06}");
                    write!(f, "{int}.{}", frac.trim_end_matches('0'))
                }
            }
        }
    }
}

pub fn stored_quantity(text: &str) -> Result<Quantity, ApiError> {
    Quantity::parse(text).ok_or_else(|| ApiError::db_fetch(format!("bad stored quantity {text}")))
}

/// The stock rules of a product update (patch-private-products-PRODUCT_ID).
/// Units held by unpaid orders count like sold ones: they may not be lost.
pub fn check_stock_rules(
    old_stock: Quantity,
    stock: Quantity,
    old_lost: Quantity,
    lost: Quantity,
    sold: Quantity,
    locked: Quantity,
) -> Result<(), ApiError> {
    if stock < old_stock {
        return Err(ApiError::new(
            ErrorCode::MerchantPrivatePatchProductsTotalStockedReduced,
            format!("the stock may not shrink (from {old_stock} to {stock})"),
        ));
    }
    if lost < old_lost {
        return Err(ApiError::new(
            ErrorCode::MerchantPrivatePatchProductsTotalLostReduced,
            format!("the lost units may not shrink (from {old_lost} to {lost})"),
        ));
    }
    if let (
        Quantity::Finite(stock),
        Quantity::Finite(sold),
        Quantity::Finite(lost_units),
        Quantity::Finite(locked),
    ) = (stock, sold, lost, locked)
        && sold + lost_units + locked > stock
    {
        return Err(ApiError::new(
            ErrorCode::MerchantPrivatePatchProductsTotalLostExceedsStocks,
            format!(
                "{lost} lost exceeds what is left of the stock after sales and units unpaid \
                 orders hold"
            ),
        ));
    }
    Ok(())
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

    #[test]
    fn quantities_parse_compare_and_print() {
        let q = |s| Quantity::parse(s).unwrap();
        assert_eq!(q("1.5").to_string(), "1.5");
        assert_eq!(q("2.000000").to_string(), "2");
        assert_eq!(q("-1"), Quantity::Unlimited);
        assert!(q("-1") > q("9999999999999999.999999"));
        assert!(q("1.000001") > q("1"));
        assert_eq!(q("7.9").whole(), 7);
        for bad in [
            "",
            ".5",
            "1.",
            "1.1234567",
            "-2",
            "1e3",
            "12345678901234567",
        ] {
            assert_eq!(Quantity::parse(bad), None, "{bad}");
        }
    }

    /// A table of the page's stock rules, one case a few lines.
    #[test]
    fn stock_rules() {
        let q = |s| Quantity::parse(s).unwrap();
        let code = |r: Result<(), ApiError>| r.err().map(|e| e.code());
        assert_eq!(
            code(check_stock_rules(
                q("5"),
                q("6"),
                q("0"),
                q("1"),
                q("0"),
                q("0")
            )),
            None
        );
        assert_eq!(
            code(check_stock_rules(
                q("5"),
                q("4"),
                q("0"),
                q("0"),
                q("0"),
                q("0")
            )),
            Some(2662)
        );
        assert_eq!(
            code(check_stock_rules(
                q("-1"),
                q("4"),
                q("0"),
                q("0"),
                q("0"),
                q("0")
            )),
            Some(2662)
        );
        assert_eq!(
            code(check_stock_rules(
                q("5"),
                q("-1"),
                q("0"),
                q("0"),
                q("0"),
                q("0")
            )),
            None
        );
        assert_eq!(
            code(check_stock_rules(
                q("5"),
                q("5"),
                q("2"),
                q("1"),
                q("0"),
                q("0")
            )),
            Some(2660)
        );
        assert_eq!(
            code(check_stock_rules(
                q("5"),
                q("5"),
                q("0"),
                q("4"),
                q("2"),
                q("0")
            )),
            Some(2661)
        );
        assert_eq!(
            code(check_stock_rules(
                q("5"),
                q("5"),
                q("0"),
                q("3"),
                q("2"),
                q("0")
            )),
            None
        );
        // Units held by unpaid orders may not be lost.
        assert_eq!(
            code(check_stock_rules(
                q("5"),
                q("5"),
                q("0"),
                q("3"),
                q("1"),
                q("2")
            )),
            Some(2661)
        );
    }
}
