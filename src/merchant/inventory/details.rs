//! A product's details as the page names them (`ProductAddDetailRequest`,
//! `ProductPatchDetailRequest`, `ProductDetailResponse`, the inventory list), their
//! checks, and how a stored product reads back.

use std::collections::BTreeMap;

use poem_openapi::{Object, types::ParseFromJSON};

use crate::taler::text::{ImageDataUrl, Text, UnitQuantity, UnitStock};
use crate::{
    merchant::{instances::settings::Location, inventory::stock::Quantity},
    state::State,
    store::{self, inventory, orders as store_orders, pots::Totals},
    taler::{Amount, ApiError, ErrorCode, Timestamp, amount::require_currency},
};

/// Nobody is older; a larger minimum age would make the product unsellable.
const MAX_MINIMUM_AGE: u64 = 120;

/// `Tax`: a tax the merchant pays on one unit of a product.
#[derive(Object, Debug, Clone, PartialEq)]
pub struct Tax {
    /// The name of the tax.
    pub name: String,
    /// Amount paid in tax.
    pub tax: Amount,
}

/// `ProductAddDetailRequest`.
#[derive(Object, Debug, Clone, PartialEq)]
#[oai(skip_serializing_if_is_none)]
pub struct ProductAddDetailRequest {
    /// Product ID to use (unique per instance).
    #[oai(validator(min_length = 1))]
    pub product_id: String,
    /// Human-readable product name (should be given; the product id stands in).
    pub product_name: Option<String>,
    /// Human-readable product description.
    pub description: String,
    /// Map from IETF BCP 47 language tags to localized descriptions.
    pub description_i18n: Option<BTreeMap<String, String>>,
    /// Categories into which the product belongs.
    pub categories: Option<Vec<u64>>,
    /// Unit in which the product is measured (liters, kilograms, packages, etc.).
    #[oai(validator(min_length = 1))]
    pub unit: String,
    /// Whether fractional quantities are permitted (default false).
    pub unit_allow_fraction: Option<bool>,
    /// Fractional precision level, 0 to 6 (default 0).
    #[oai(validator(maximum(value = "6")))]
    pub unit_precision_level: Option<u32>,
    /// Stock as `<integer>[.<fraction>]` (at most six fraction digits), or "-1" for
    /// unlimited. Required unless `total_stock` is given.
    pub unit_total_stock: Option<Text<UnitStock>>,
    /// Legacy stock counter: -1 for unlimited. Used when `unit_total_stock` is absent.
    #[oai(validator(minimum(value = "-1")))]
    pub total_stock: Option<i64>,
    /// Price per unit, at most one amount per currency. Required unless `price` is given.
    pub unit_price: Option<Vec<Amount>>,
    /// Legacy price per unit. Used when `unit_price` is absent.
    pub price: Option<Amount>,
    /// Product image as a data URL.
    // `limits::MAX_IMAGE_CHARS`; a spec test checks the two agree.
    #[oai(validator(max_length = 262144))]
    pub image: Option<Text<ImageDataUrl>>,
    /// Taxes the merchant pays on one unit.
    pub taxes: Option<Vec<Tax>>,
    /// Whether the prices are net (true) or gross (false, the default).
    pub price_is_net: Option<bool>,
    /// Where the product is stored.
    pub address: Option<Location>,
    /// When the next restock is expected.
    pub next_restock: Option<Timestamp>,
    /// Minimum age the buyer must have, in years (0 to 120).
    #[oai(validator(maximum(value = "120")))]
    pub minimum_age: Option<u64>,
    /// Product group of the product; 0 or absent is the default group (the only one
    /// this backend has).
    pub product_group_id: Option<u64>,
    /// Money pot the product's revenue is accounted in; 0 or absent for none.
    pub money_pot_id: Option<u64>,
}

/// `ProductPatchDetailRequest`: the product's new state (everything but its id), plus
/// what was lost. Stock and lost units may only grow; sold units are not patched.
/// Absent stock, price and lost units keep their values; other absent fields clear.
#[derive(Object, Debug, Clone)]
#[oai(skip_serializing_if_is_none)]
pub struct ProductPatchDetailRequest {
    /// Human-readable product name.
    pub product_name: Option<String>,
    /// Human-readable product description.
    pub description: String,
    /// Map from IETF BCP 47 language tags to localized descriptions.
    pub description_i18n: Option<BTreeMap<String, String>>,
    /// Categories into which the product belongs.
    pub categories: Option<Vec<u64>>,
    /// Unit in which the product is measured.
    #[oai(validator(min_length = 1))]
    pub unit: String,
    /// Whether fractional quantities are permitted (default false).
    pub unit_allow_fraction: Option<bool>,
    /// Fractional precision level, 0 to 6 (default 0).
    #[oai(validator(maximum(value = "6")))]
    pub unit_precision_level: Option<u32>,
    /// New stock (`DecimalQuantity`, "-1" for unlimited); may not be less than before.
    /// Unchanged when both this and `total_stock` are absent.
    pub unit_total_stock: Option<Text<UnitStock>>,
    /// Legacy stock counter; used when `unit_total_stock` is absent.
    #[oai(validator(minimum(value = "-1")))]
    pub total_stock: Option<i64>,
    /// Units lost so far (`DecimalQuantity`); may not be less than before, nor more
    /// than the stock minus what was sold. Unchanged when absent.
    pub unit_total_lost: Option<Text<UnitQuantity>>,
    /// Legacy lost counter; used when `unit_total_lost` is absent.
    pub total_lost: Option<u64>,
    /// Price per unit, at most one amount per currency. Unchanged when both this and
    /// `price` are absent.
    pub unit_price: Option<Vec<Amount>>,
    /// Legacy price per unit.
    pub price: Option<Amount>,
    /// Product image as a data URL.
    // `limits::MAX_IMAGE_CHARS`; a spec test checks the two agree.
    #[oai(validator(max_length = 262144))]
    pub image: Option<Text<ImageDataUrl>>,
    /// Taxes the merchant pays on one unit.
    pub taxes: Option<Vec<Tax>>,
    /// Whether the prices are net.
    pub price_is_net: Option<bool>,
    /// Where the product is stored.
    pub address: Option<Location>,
    /// When the next restock is expected.
    pub next_restock: Option<Timestamp>,
    /// Minimum age the buyer must have, in years (0 to 120).
    #[oai(validator(maximum(value = "120")))]
    pub minimum_age: Option<u64>,
    /// Product group (0 or absent: the default group).
    pub product_group_id: Option<u64>,
    /// Money pot of the product's revenue (0 or absent: none).
    pub money_pot_id: Option<u64>,
}

impl ProductPatchDetailRequest {
    /// The product's new details as a create request would carry them.
    pub fn into_details(self, product_id: String) -> (ProductAddDetailRequest, Option<String>) {
        let lost = match (self.unit_total_lost, self.total_lost) {
            (Some(lost), _) => Some(lost.into()),
            (None, Some(lost)) => Some(lost.to_string()),
            (None, None) => None,
        };
        let details = ProductAddDetailRequest {
            product_id,
            product_name: self.product_name,
            description: self.description,
            description_i18n: self.description_i18n,
            categories: self.categories,
            unit: self.unit,
            unit_allow_fraction: self.unit_allow_fraction,
            unit_precision_level: self.unit_precision_level,
            unit_total_stock: self.unit_total_stock,
            total_stock: self.total_stock,
            unit_price: self.unit_price,
            price: self.price,
            image: self.image,
            taxes: self.taxes,
            price_is_net: self.price_is_net,
            address: self.address,
            next_restock: self.next_restock,
            minimum_age: self.minimum_age,
            product_group_id: self.product_group_id,
            money_pot_id: self.money_pot_id,
        };
        (details, lost)
    }
}

impl ProductAddDetailRequest {
    pub fn prices(&self) -> Vec<Amount> {
        match (&self.unit_price, &self.price) {
            (Some(list), _) if !list.is_empty() => list.clone(),
            (_, Some(price)) => vec![price.clone()],
            _ => vec![],
        }
    }

    /// The stock as `DecimalQuantity` text.
    pub fn stock(&self) -> String {
        match (&self.unit_total_stock, self.total_stock) {
            (Some(stock), _) => stock.to_string(),
            (None, Some(total)) => total.to_string(),
            (None, None) => "0".to_owned(),
        }
    }

    pub fn check(&self, currency: &str) -> Result<(), ApiError> {
        if self.product_id.is_empty() {
            return Err(ApiError::malformed(
                "product_id",
                "product_id must not be empty",
            ));
        }
        if self.unit.is_empty() {
            return Err(ApiError::malformed("unit", "unit must not be empty"));
        }
        if self.unit_precision_level.is_some_and(|p| p > 6) {
            return Err(ApiError::malformed(
                "unit_precision_level",
                "unit_precision_level must be 0 to 6",
            ));
        }
        match (&self.unit_total_stock, self.total_stock) {
            (Some(stock), _) if Quantity::parse(stock).is_none() => {
                return Err(ApiError::malformed(
                    "unit_total_stock",
                    "unit_total_stock must be \"-1\" or <integer>[.<fraction>] with at most six \
                     fraction digits",
                ));
            }
            (None, Some(total)) if total < -1 => {
                return Err(ApiError::malformed(
                    "total_stock",
                    "total_stock must be -1 or more",
                ));
            }
            (None, None) => {
                return Err(ApiError::malformed(
                    "unit_total_stock",
                    "unit_total_stock (or the legacy total_stock) is required",
                ));
            }
            _ => {}
        }
        let prices = self.prices();
        if prices.is_empty() {
            return Err(ApiError::malformed(
                "unit_price",
                "unit_price (or the legacy price) is required",
            ));
        }
        Totals::from_amounts(prices.clone()).map_err(|c| {
            ApiError::malformed("unit_price", format!("more than one price in {c}")).currency(&c)
        })?;
        for price in &prices {
            require_currency(price, currency, "unit_price")?;
        }
        for tax in self.taxes.iter().flatten() {
            require_currency(&tax.tax, currency, "taxes")?;
        }
        if self.minimum_age.is_some_and(|age| age > MAX_MINIMUM_AGE) {
            return Err(ApiError::malformed(
                "minimum_age",
                format!("minimum_age must be at most {MAX_MINIMUM_AGE} years"),
            ));
        }
        Ok(())
    }

    /// The categories, product group and money pot the product names must exist:
    /// 404 with the code of the first that does not.
    pub async fn check_references(
        &self,
        state: &State,
        instance_serial: i64,
    ) -> Result<(), ApiError> {
        if let Some(missing) = inventory::unknown_category(
            &state.db,
            instance_serial,
            self.categories.as_deref().unwrap_or_default(),
        )
        .await
        .map_err(ApiError::db_fetch)?
        {
            return Err(ApiError::new(
                ErrorCode::MerchantGenericCategoryUnknown,
                format!("category {missing} is unknown"),
            )
            .detail(missing.to_string()));
        }
        if let Some(group) = self.product_group_id.filter(|g| *g != 0) {
            return Err(ApiError::new(
                ErrorCode::MerchantGenericProductGroupUnknown,
                format!("product group {group} is unknown (only the default group 0 exists)"),
            )
            .detail(group.to_string()));
        }
        if let Some(pot) = self.money_pot_id.filter(|p| *p != 0) {
            let known = match i64::try_from(pot) {
                Ok(serial) => store::pots::find(&state.db, instance_serial, serial)
                    .await
                    .map_err(ApiError::db_fetch)?
                    .is_some(),
                Err(_) => false,
            };
            if !known {
                return Err(ApiError::new(
                    ErrorCode::MerchantGenericMoneyPotUnknown,
                    format!("money pot {pot} is unknown"),
                )
                .detail(pot.to_string()));
            }
        }
        Ok(())
    }
}

/// `ProductDetailResponse`.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ProductDetailResponse {
    /// Human-readable product name.
    pub product_name: String,
    /// Human-readable product description.
    pub description: String,
    /// Map from IETF BCP 47 language tags to localized descriptions.
    pub description_i18n: BTreeMap<String, String>,
    /// Unit in which the product is measured.
    pub unit: String,
    /// Whether fractional quantities are permitted.
    pub unit_allow_fraction: bool,
    /// Fractional precision level (0 to 6).
    pub unit_precision_level: u32,
    /// Categories of the product.
    pub categories: Vec<u64>,
    /// Price per unit, one amount per currency.
    pub unit_price: Vec<Amount>,
    /// Legacy price: the first of `unit_price`.
    pub price: Amount,
    /// Product image as a data URL ("" when there is none).
    pub image: String,
    /// Taxes the merchant pays on one unit.
    pub taxes: Option<Vec<Tax>>,
    /// Whether the prices are net.
    pub price_is_net: bool,
    /// Legacy stock counter: whole units, -1 for unlimited.
    pub total_stock: i64,
    /// Stock (`DecimalQuantity`, "-1" for unlimited).
    pub unit_total_stock: String,
    /// Legacy sold counter (whole units).
    pub total_sold: i64,
    /// Units sold (`DecimalQuantity`).
    pub unit_total_sold: String,
    /// Legacy lost counter (whole units).
    pub total_lost: i64,
    /// Units lost (`DecimalQuantity`).
    pub unit_total_lost: String,
    /// Where the product is stored.
    pub address: Option<Location>,
    /// When the next restock is expected.
    pub next_restock: Option<Timestamp>,
    /// Minimum age the buyer must have, in years.
    pub minimum_age: Option<u64>,
    /// Product group (0: the default group).
    pub product_group_id: Option<u64>,
    /// Money pot of the product's revenue.
    pub money_pot_id: Option<u64>,
}

/// `InventorySummaryResponse`.
#[derive(Object)]
pub struct InventorySummaryResponse {
    /// The instance's products (one page).
    pub products: Vec<InventoryEntry>,
}

/// `InventoryEntry`.
#[derive(Object)]
pub struct InventoryEntry {
    /// Product identifier, as found in the product.
    pub product_id: String,
    /// Serial of the product (for pagination).
    pub product_serial: u64,
}

/// The details a product was posted (or last patched) with.
pub fn stored_product(p: &inventory::Product) -> Result<ProductAddDetailRequest, ApiError> {
    let value = serde_json::from_str(&p.product_details).map_err(ApiError::db_fetch)?;
    ProductAddDetailRequest::parse_from_json(Some(value))
        .map_err(|e| ApiError::db_fetch(e.into_message()))
}

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
