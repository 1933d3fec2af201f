//! The inventory's products: `[/instances/$INSTANCE]/private/products[/$PRODUCT_ID]`.

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt,
};

use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
    types::{ParseFromJSON, ToJSON},
};

use crate::taler::text::{ImageDataUrl, Text, UnitQuantity, UnitStock};
use crate::{
    NoContent, State, error_responses,
    http::JsonBody,
    merchant::{
        instances::{
            auth::{self, MerchantToken, Permission},
            management::Location,
        },
        tags::ApiTags,
    },
    store::{self, CreateOutcome, inventory, pots::Totals},
    taler::{
        Amount, ApiError, ErrorCode, Timestamp,
        amount::require_currency,
        pagination::{Page, PageLimit},
    },
};

const PRODUCTS_READ: Permission = "products-read";
const PRODUCTS_WRITE: Permission = "products-write";

/// Nobody is older; a larger minimum age would make the product unsellable.
const MAX_MINIMUM_AGE: u64 = 120;

/// The list's default `limit` (get-private-products: 20, ascending).
const DEFAULT_LIST_LIMIT: i64 = 20;

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
    fn into_details(self, product_id: String) -> (ProductAddDetailRequest, Option<String>) {
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

    fn check(&self, currency: &str) -> Result<(), ApiError> {
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
    async fn check_references(&self, state: &State, instance_serial: i64) -> Result<(), ApiError> {
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
    fn whole(self) -> i64 {
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

fn stored_quantity(text: &str) -> Result<Quantity, ApiError> {
    Quantity::parse(text).ok_or_else(|| ApiError::db_fetch(format!("bad stored quantity {text}")))
}

fn product_unknown(id: &str) -> ApiError {
    ApiError::new(
        ErrorCode::MerchantGenericProductUnknown,
        format!("product `{id}` is unknown"),
    )
}

fn contains_folded(haystack: &str, needle: &str) -> bool {
    haystack.to_lowercase().contains(&needle.to_lowercase())
}

#[derive(ApiResponse)]
pub enum ProductsListed {
    /// One page of the instance's products (possibly empty).
    #[oai(status = 200)]
    Ok(Json<InventorySummaryResponse>),
}

#[derive(ApiResponse)]
pub enum ProductFound {
    /// The product's details.
    #[oai(status = 200)]
    Ok(Json<ProductDetailResponse>),
}

error_responses!(ListProductsErrors {
    400 => "A query parameter is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `products-read` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The instance is unknown (`TALER_EC_MERCHANT_GENERIC_INSTANCE_UNKNOWN`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

error_responses!(PostProductErrors {
    400 => "The request body is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`, `TALER_EC_GENERIC_PARAMETER_MISSING`, `TALER_EC_GENERIC_JSON_INVALID`, `TALER_EC_GENERIC_CURRENCY_MISMATCH`).",
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `products-write` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The instance, a category, the product group or the money pot is unknown (`TALER_EC_MERCHANT_GENERIC_INSTANCE_UNKNOWN`, `TALER_EC_MERCHANT_GENERIC_CATEGORY_UNKNOWN` with the category in `detail`, `TALER_EC_MERCHANT_GENERIC_PRODUCT_GROUP_UNKNOWN`, `TALER_EC_MERCHANT_GENERIC_MONEY_POT_UNKNOWN`).",
    409 => "A product with this ID but different details exists (`TALER_EC_MERCHANT_PRIVATE_POST_PRODUCTS_CONFLICT_PRODUCT_EXISTS`).",
    413 => "The uploaded body is too long (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
});

error_responses!(GetProductErrors {
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `products-read` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The product or the instance is unknown (`TALER_EC_MERCHANT_GENERIC_PRODUCT_UNKNOWN`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

error_responses!(PatchProductErrors {
    400 => "The request body is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`, `TALER_EC_GENERIC_PARAMETER_MISSING`, `TALER_EC_GENERIC_JSON_INVALID`, `TALER_EC_GENERIC_CURRENCY_MISMATCH`).",
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `products-write` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The product or instance is unknown (`TALER_EC_MERCHANT_GENERIC_PRODUCT_UNKNOWN`), or a category, the product group or the money pot is (`TALER_EC_MERCHANT_GENERIC_CATEGORY_UNKNOWN`, `TALER_EC_MERCHANT_GENERIC_PRODUCT_GROUP_UNKNOWN`, `TALER_EC_MERCHANT_GENERIC_MONEY_POT_UNKNOWN`).",
    409 => "The stock would shrink (`TALER_EC_MERCHANT_PRIVATE_PATCH_PRODUCTS_TOTAL_STOCKED_REDUCED`), the lost units would shrink (`TALER_EC_MERCHANT_PRIVATE_PATCH_PRODUCTS_TOTAL_LOST_REDUCED`) or exceed what is left after sales (`TALER_EC_MERCHANT_PRIVATE_PATCH_PRODUCTS_TOTAL_LOST_EXCEEDS_STOCKS`).",
    413 => "The uploaded body is too long (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
});

error_responses!(DeleteProductErrors {
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `products-write` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The product or the instance is unknown (`TALER_EC_MERCHANT_GENERIC_PRODUCT_UNKNOWN`).",
    409 => "Unpaid orders hold units of the product (`TALER_EC_MERCHANT_PRIVATE_DELETE_PRODUCTS_CONFLICTING_LOCK`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
});

pub struct ProductsApi(pub State);

#[OpenApi(tag = "ApiTags::Inventory")]
impl ProductsApi {
    /// Add a product to the inventory
    ///
    /// Posting the same product again is not an error; the same ID with other details
    /// is 409. Requires `products-write`.
    #[oai(
        path = "/instances/:instance/private/products",
        method = "post",
        operation_id = "merchant_post_private_products"
    )]
    async fn post_product(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        body: JsonBody<ProductAddDetailRequest>,
    ) -> Result<NoContent, PostProductErrors> {
        let access = auth::authorize(&self.0, &instance, &token, PRODUCTS_WRITE).await?;
        let serial = access.instance.instance_serial;
        let product = body.0;
        product.check(&self.0.config.currency)?;
        product.check_references(&self.0, serial).await?;
        let details = product.to_json().expect("an object").to_string();
        let same = |stored: &str| {
            serde_json::from_str(stored)
                .ok()
                .and_then(|v| ProductAddDetailRequest::parse_from_json(Some(v)).ok())
                .is_some_and(|p| p == product)
        };
        match inventory::create_product(
            &self.0.db,
            serial,
            product.product_id.clone(),
            details,
            same,
        )
        .await
        .map_err(ApiError::db_store)?
        {
            CreateOutcome::Created => Ok(NoContent::Done),
            CreateOutcome::Conflict => Err(ApiError::new(
                ErrorCode::MerchantPrivatePostProductsConflictProductExists,
                "a product with this ID but different details exists",
            )
            .into()),
        }
    }

    /// List products
    ///
    /// Row-id pagination by product serial: `limit` > 0 ascending, < 0 descending
    /// (default 20, ascending; at most 1024), `offset` the serial to start after. The
    /// filters match case-insensitive substrings. Requires `products-read`.
    #[oai(
        path = "/instances/:instance/private/products",
        method = "get",
        operation_id = "merchant_get_private_products"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn list_products(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        /// At most return the given number of results; negative for descending order.
        limit: Query<Option<PageLimit>>,
        /// Starting product serial for pagination (exclusive).
        #[oai(validator(minimum(value = "0")))]
        offset: Query<Option<i64>>,
        /// Only products in a category whose name contains this text.
        category_filter: Query<Option<String>>,
        /// Only products whose name contains this text.
        name_filter: Query<Option<String>>,
        /// Only products whose description contains this text.
        description_filter: Query<Option<String>>,
        /// Only products of this product group (0: the default group, the only one).
        product_group_serial: Query<Option<u64>>,
    ) -> Result<ProductsListed, ListProductsErrors> {
        let access = auth::authorize(&self.0, &instance, &token, PRODUCTS_READ).await?;
        let serial = access.instance.instance_serial;
        let page = Page::with_default(limit.0, offset.0, DEFAULT_LIST_LIMIT)?;
        let categories: Option<BTreeSet<u64>> = match &category_filter.0 {
            None => None,
            Some(text) => Some(
                inventory::categories(&self.0.db, serial)
                    .await
                    .map_err(ApiError::db_fetch)?
                    .into_iter()
                    .filter(|c| contains_folded(&c.category_name, text))
                    .map(|c| c.category_serial as u64)
                    .collect(),
            ),
        };
        let mut products = Vec::new();
        for row in inventory::products_from(&self.0.db, serial, page)
            .await
            .map_err(ApiError::db_fetch)?
        {
            if products.len() as u64 >= page.count {
                break;
            }
            let p = stored_product(&row)?;
            let name = p.product_name.as_deref().unwrap_or(&p.product_id);
            let wanted = name_filter
                .0
                .as_ref()
                .is_none_or(|f| contains_folded(name, f))
                && description_filter
                    .0
                    .as_ref()
                    .is_none_or(|f| contains_folded(&p.description, f))
                && categories
                    .as_ref()
                    .is_none_or(|set| p.categories.iter().flatten().any(|c| set.contains(c)))
                && product_group_serial
                    .0
                    .is_none_or(|g| g == p.product_group_id.unwrap_or(0));
            if wanted {
                products.push(InventoryEntry {
                    product_id: row.product_id,
                    product_serial: row.product_serial as u64,
                });
            }
        }
        Ok(ProductsListed::Ok(Json(InventorySummaryResponse {
            products,
        })))
    }

    /// Get a product
    ///
    /// Requires `products-read`.
    #[oai(
        path = "/instances/:instance/private/products/:product_id",
        method = "get",
        operation_id = "merchant_get_private_product"
    )]
    async fn get_product(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        /// The product's `product_id`.
        product_id: Path<String>,
    ) -> Result<ProductFound, GetProductErrors> {
        let (_, row, _) = auth::authorize_found(
            &self.0,
            &token,
            PRODUCTS_READ,
            async |hash| {
                inventory::find_product_with_access(&self.0.db, &instance, Some(&hash), &product_id)
                    .await
            },
            || product_unknown(&product_id),
        )
        .await?;
        let p = stored_product(&row)?;
        let stock = stored_quantity(&p.stock())?;
        let sold = stored_quantity(&row.total_sold)?;
        let lost = stored_quantity(&row.total_lost)?;
        let unit_price = p.prices();
        Ok(ProductFound::Ok(Json(ProductDetailResponse {
            product_name: p.product_name.unwrap_or_else(|| p.product_id.clone()),
            description: p.description,
            description_i18n: p.description_i18n.unwrap_or_default(),
            unit: p.unit,
            unit_allow_fraction: p.unit_allow_fraction.unwrap_or(false),
            unit_precision_level: p.unit_precision_level.unwrap_or(0),
            categories: p.categories.unwrap_or_default(),
            price: unit_price[0].clone(),
            unit_price,
            image: p.image.map(String::from).unwrap_or_default(),
            taxes: p.taxes,
            price_is_net: p.price_is_net.unwrap_or(false),
            total_stock: stock.whole(),
            unit_total_stock: stock.to_string(),
            total_sold: sold.whole(),
            unit_total_sold: sold.to_string(),
            total_lost: lost.whole(),
            unit_total_lost: lost.to_string(),
            address: p.address,
            next_restock: p.next_restock,
            minimum_age: p.minimum_age,
            product_group_id: p.product_group_id,
            money_pot_id: p.money_pot_id,
        })))
    }

    /// Modify a product
    ///
    /// The body is the product's new state. Stock and lost units may only grow, and
    /// what is lost may not exceed the stock minus what was sold. Requires
    /// `products-write`.
    #[oai(
        path = "/instances/:instance/private/products/:product_id",
        method = "patch",
        operation_id = "merchant_patch_private_product"
    )]
    async fn patch_product(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        /// The product's `product_id`.
        product_id: Path<String>,
        body: JsonBody<ProductPatchDetailRequest>,
    ) -> Result<NoContent, PatchProductErrors> {
        let access = auth::authorize_object(&self.0, &instance, &token, PRODUCTS_WRITE, || {
            product_unknown(&product_id)
        })
        .await?;
        let serial = access.instance.instance_serial;
        let db = &self.0.db;
        // The page's order: an unknown product is 404 before anything about the body.
        let mut current = inventory::find_product(db, serial, &product_id)
            .await
            .map_err(ApiError::db_fetch)?
            .ok_or_else(|| product_unknown(&product_id))?;
        let (mut details, lost) = body.0.into_details(product_id.0.clone());
        // What the body leaves out of stock and price stays as it was.
        let stored = stored_product(&current)?;
        if details.unit_total_stock.is_none() && details.total_stock.is_none() {
            details.unit_total_stock = Some(Text::from_stored(stored.stock()));
        }
        if details.unit_price.as_ref().is_none_or(Vec::is_empty) && details.price.is_none() {
            details.unit_price = Some(stored.prices());
        }
        details.check(&self.0.config.currency)?;
        let new_lost = match &lost {
            Some(text) => Some(
                Quantity::parse(text)
                    .filter(|q| *q != Quantity::Unlimited)
                    .ok_or_else(|| {
                        ApiError::malformed(
                            "unit_total_lost",
                            "unit_total_lost must be <integer>[.<fraction>]",
                        )
                    })?,
            ),
            None => None,
        };
        details.check_references(&self.0, serial).await?;
        let text = details.to_json().expect("an object").to_string();
        // Compare and swap: a concurrent change is seen and the rules checked again.
        loop {
            let old_stock = stored_quantity(&stored_product(&current)?.stock())?;
            let sold = stored_quantity(&current.total_sold)?;
            let old_lost = stored_quantity(&current.total_lost)?;
            let locked = stored_quantity(&current.total_locked)?;
            let stock = stored_quantity(&details.stock())?;
            let lost = new_lost.unwrap_or(old_lost);
            check_stock_rules(old_stock, stock, old_lost, lost, sold, locked)?;
            if inventory::replace_product(db, &current, text.clone(), lost.to_string())
                .await
                .map_err(ApiError::db_store)?
            {
                return Ok(NoContent::Done);
            }
            current = inventory::find_product(db, serial, &product_id)
                .await
                .map_err(ApiError::db_fetch)?
                .ok_or_else(|| product_unknown(&product_id))?;
        }
    }

    /// Delete a product
    ///
    /// Templates that select it no longer offer it. A product unpaid orders hold units
    /// of cannot be deleted (409) until those orders are paid or deleted. Requires
    /// `products-write`.
    #[oai(
        path = "/instances/:instance/private/products/:product_id",
        method = "delete",
        operation_id = "merchant_delete_private_product"
    )]
    async fn delete_product(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        /// The product's `product_id`.
        product_id: Path<String>,
    ) -> Result<NoContent, DeleteProductErrors> {
        let access = auth::authorize_object(&self.0, &instance, &token, PRODUCTS_WRITE, || {
            product_unknown(&product_id)
        })
        .await?;
        match inventory::delete_product(&self.0.db, access.instance.instance_serial, &product_id)
            .await
            .map_err(ApiError::db_store)?
        {
            inventory::DeleteOutcome::Deleted => Ok(NoContent::Done),
            inventory::DeleteOutcome::Unknown => Err(product_unknown(&product_id).into()),
            inventory::DeleteOutcome::Locked => Err(ApiError::new(
                ErrorCode::MerchantPrivateDeleteProductsConflictingLock,
                "unpaid orders hold units of this product",
            )
            .into()),
        }
    }
}

/// The stock rules of a product update (patch-private-products-PRODUCT_ID).
/// Units held by unpaid orders count like sold ones: they may not be lost.
fn check_stock_rules(
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
