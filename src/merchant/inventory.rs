//! The minimal inventory inventory-cart templates select from:
//! `[/instances/$INSTANCE]/private/categories` and `.../private/products` (create and
//! list), and the `InventoryPayload` wallets receive with such a template.

use std::collections::{BTreeMap, BTreeSet};

use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
    types::{ParseFromJSON, ToJSON},
};

use crate::{
    NoContent, State, error_responses,
    http::JsonBody,
    merchant::{
        ApiTags,
        auth::{self, Permission},
        template_contract::ContractFields,
    },
    store::{CreateOutcome, inventory, pots::Totals},
    taler::{
        Amount, ApiError, ErrorCode,
        amount::require_currency,
        pagination::{Page, PageLimit},
    },
};

const CATEGORIES_READ: Permission = "categories-read";
const CATEGORIES_WRITE: Permission = "categories-write";
const PRODUCTS_READ: Permission = "products-read";
const PRODUCTS_WRITE: Permission = "products-write";

/// Nobody is older; a larger minimum age would make the product unsellable.
const MAX_MINIMUM_AGE: u64 = 120;

/// `CategoryCreateRequest`.
#[derive(Object)]
pub struct CategoryCreateRequest {
    /// Name of the category (unique per instance).
    #[oai(validator(pattern = r"\S"))]
    pub name: String,
    /// Map from IETF BCP 47 language tags to localized names.
    pub name_i18n: Option<BTreeMap<String, String>>,
}

/// `CategoryCreatedResponse`.
#[derive(Object)]
pub struct CategoryCreatedResponse {
    /// Number of the new category.
    pub category_id: u64,
}

/// `CategoryListResponse`.
#[derive(Object)]
pub struct CategoryListResponse {
    /// The instance's categories.
    pub categories: Vec<CategoryListEntry>,
}

/// `CategoryListEntry`.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct CategoryListEntry {
    /// Number of the category.
    pub category_id: u64,
    /// Name of the category.
    pub name: String,
    /// Map from IETF BCP 47 language tags to localized names.
    pub name_i18n: Option<BTreeMap<String, String>>,
    /// Number of products in this category.
    pub product_count: u64,
}

/// `ProductAddDetailRequest`, the subset this backend stores: fields it does not know
/// (images, taxes, product groups, ...) are ignored.
#[derive(Object, Debug, Clone, PartialEq)]
#[oai(skip_serializing_if_is_none)]
pub struct ProductAddDetailRequest {
    /// Product ID to use (unique per instance).
    #[oai(validator(min_length = 1))]
    pub product_id: String,
    /// Human-readable product name.
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
    #[oai(validator(pattern = r"^(-1|[0-9]{1,16}(\.[0-9]{1,6})?)$"))]
    pub unit_total_stock: Option<String>,
    /// Legacy stock counter: -1 for unlimited. Used when `unit_total_stock` is absent.
    #[oai(validator(minimum(value = "-1")))]
    pub total_stock: Option<i64>,
    /// Price per unit, at most one amount per currency. Required unless `price` is given.
    pub unit_price: Option<Vec<Amount>>,
    /// Legacy price per unit. Used when `unit_price` is absent.
    pub price: Option<Amount>,
    /// Minimum age the buyer must have, in years (0 to 120).
    #[oai(validator(maximum(value = "120")))]
    pub minimum_age: Option<u64>,
}

impl ProductAddDetailRequest {
    fn prices(&self) -> Vec<Amount> {
        match (&self.unit_price, &self.price) {
            (Some(list), _) if !list.is_empty() => list.clone(),
            (_, Some(price)) => vec![price.clone()],
            _ => vec![],
        }
    }

    fn stock(&self) -> String {
        match (&self.unit_total_stock, self.total_stock) {
            (Some(stock), _) => stock.clone(),
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
            (Some(stock), _) if !is_decimal_quantity(stock) => {
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
        if self.minimum_age.is_some_and(|age| age > MAX_MINIMUM_AGE) {
            return Err(ApiError::malformed(
                "minimum_age",
                format!("minimum_age must be at most {MAX_MINIMUM_AGE} years"),
            ));
        }
        Ok(())
    }
}

/// `DecimalQuantity`: `<integer>[.<fraction>]`, at most six fraction digits, or `-1`.
fn is_decimal_quantity(s: &str) -> bool {
    if s == "-1" {
        return true;
    }
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    !int.is_empty()
        && int.len() <= 16
        && digits(int)
        && digits(frac)
        && frac.len() <= 6
        && !(s.contains('.') && frac.is_empty())
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

fn stored_product(p: &inventory::Product) -> Result<ProductAddDetailRequest, ApiError> {
    let value = serde_json::from_str(&p.product_details).map_err(ApiError::db_fetch)?;
    ProductAddDetailRequest::parse_from_json(Some(value))
        .map_err(|e| ApiError::db_fetch(e.into_message()))
}

fn i18n(text: &Option<String>) -> Option<BTreeMap<String, String>> {
    text.as_deref().and_then(|t| serde_json::from_str(t).ok())
}

/// The products an inventory-cart selection offers, with their categories: all of
/// them with `selected_all`, else those in `selected_categories` or `selected_products`.
pub async fn payload(
    state: &State,
    instance_serial: i64,
    selection: &ContractFields,
) -> Result<InventoryPayload, ApiError> {
    let db = &state.db;
    let all = selection.selected_all == Some(true);
    let wanted_categories: BTreeSet<u64> = selection
        .selected_categories
        .iter()
        .flatten()
        .copied()
        .collect();
    let wanted_products: BTreeSet<&str> = selection
        .selected_products
        .iter()
        .flatten()
        .map(String::as_str)
        .collect();
    let mut products = Vec::new();
    let mut used_categories = BTreeSet::new();
    for row in inventory::products(db, instance_serial)
        .await
        .map_err(ApiError::db_fetch)?
    {
        let p = stored_product(&row)?;
        let categories = p.categories.clone().unwrap_or_default();
        let selected = all
            || wanted_products.contains(p.product_id.as_str())
            || categories.iter().any(|c| wanted_categories.contains(c));
        if !selected {
            continue;
        }
        used_categories.extend(categories.iter().copied());
        products.push(InventoryPayloadProduct {
            product_name: p
                .product_name
                .clone()
                .unwrap_or_else(|| p.product_id.clone()),
            unit_price: p.prices(),
            remaining_stock: p.stock(),
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

#[derive(ApiResponse)]
pub enum CategoryCreated {
    /// The category was created.
    #[oai(status = 200)]
    Ok(Json<CategoryCreatedResponse>),
}

#[derive(ApiResponse)]
pub enum CategoriesListed {
    /// The instance's categories (possibly none).
    #[oai(status = 200)]
    Ok(Json<CategoryListResponse>),
}

#[derive(ApiResponse)]
pub enum ProductsListed {
    /// One page of the instance's products (possibly empty).
    #[oai(status = 200)]
    Ok(Json<InventorySummaryResponse>),
}

error_responses!(PostCategoryErrors {
    400 => "The request body is malformed (`TALER_EC_GENERIC_JSON_INVALID`, `TALER_EC_GENERIC_PARAMETER_MISSING`, `TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `categories-write` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The instance is unknown (`TALER_EC_MERCHANT_GENERIC_INSTANCE_UNKNOWN`).",
    409 => "A category with this name exists (`TALER_EC_MERCHANT_PRIVATE_POST_CATEGORIES_CONFLICT_CATEGORY_EXISTS`).",
    413 => "The uploaded body is too long (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
});

error_responses!(ListInventoryErrors {
    400 => "A query parameter is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks the read permission (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The instance is unknown (`TALER_EC_MERCHANT_GENERIC_INSTANCE_UNKNOWN`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

error_responses!(PostProductErrors {
    400 => "The request body is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`, `TALER_EC_GENERIC_PARAMETER_MISSING`, `TALER_EC_GENERIC_JSON_INVALID`, `TALER_EC_GENERIC_CURRENCY_MISMATCH`).",
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `products-write` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The instance or a category is unknown (`TALER_EC_MERCHANT_GENERIC_INSTANCE_UNKNOWN`, `TALER_EC_MERCHANT_GENERIC_CATEGORY_UNKNOWN`).",
    409 => "A product with this ID but different details exists (`TALER_EC_MERCHANT_PRIVATE_POST_PRODUCTS_CONFLICT_PRODUCT_EXISTS`).",
    413 => "The uploaded body is too long (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
});

pub struct InventoryApi(pub State);

#[OpenApi(tag = "ApiTags::Inventory")]
impl InventoryApi {
    /// Create a product category
    ///
    /// Requires `categories-write`.
    #[oai(
        path = "/instances/:instance/private/categories",
        method = "post",
        operation_id = "merchant_post_private_categories"
    )]
    async fn post_category(
        &self,
        token: auth::MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        body: JsonBody<CategoryCreateRequest>,
    ) -> Result<CategoryCreated, PostCategoryErrors> {
        let access = auth::authorize(&self.0, &instance, &token, CATEGORIES_WRITE).await?;
        let body = body.0;
        let i18n = body
            .name_i18n
            .map(|m| serde_json::to_string(&m).expect("a string map serializes"));
        match inventory::create_category(
            &self.0.db,
            access.instance.instance_serial,
            body.name,
            i18n,
        )
        .await
        .map_err(ApiError::db_store)?
        {
            Some(id) => Ok(CategoryCreated::Ok(Json(CategoryCreatedResponse {
                category_id: id as u64,
            }))),
            None => Err(ApiError::new(
                ErrorCode::MerchantPrivatePostCategoriesConflictCategoryExists,
                "a category with this name exists",
            )
            .into()),
        }
    }

    /// List product categories
    ///
    /// Each with the number of products in it. Requires `categories-read`.
    #[oai(
        path = "/instances/:instance/private/categories",
        method = "get",
        operation_id = "merchant_get_private_categories"
    )]
    async fn list_categories(
        &self,
        token: auth::MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
    ) -> Result<CategoriesListed, ListInventoryErrors> {
        let access = auth::authorize(&self.0, &instance, &token, CATEGORIES_READ).await?;
        let serial = access.instance.instance_serial;
        let mut counts: BTreeMap<u64, u64> = BTreeMap::new();
        for row in inventory::products(&self.0.db, serial)
            .await
            .map_err(ApiError::db_fetch)?
        {
            for c in stored_product(&row)?.categories.unwrap_or_default() {
                *counts.entry(c).or_default() += 1;
            }
        }
        let categories = inventory::categories(&self.0.db, serial)
            .await
            .map_err(ApiError::db_fetch)?
            .into_iter()
            .map(|c| {
                let id = c.category_serial as u64;
                CategoryListEntry {
                    category_id: id,
                    name_i18n: i18n(&c.category_name_i18n),
                    name: c.category_name,
                    product_count: counts.get(&id).copied().unwrap_or(0),
                }
            })
            .collect();
        Ok(CategoriesListed::Ok(Json(CategoryListResponse {
            categories,
        })))
    }

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
        token: auth::MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        body: JsonBody<ProductAddDetailRequest>,
    ) -> Result<NoContent, PostProductErrors> {
        let access = auth::authorize(&self.0, &instance, &token, PRODUCTS_WRITE).await?;
        let serial = access.instance.instance_serial;
        let product = body.0;
        product.check(&self.0.config.currency)?;
        if let Some(missing) = inventory::unknown_category(
            &self.0.db,
            serial,
            product.categories.as_deref().unwrap_or_default(),
        )
        .await
        .map_err(ApiError::db_fetch)?
        {
            return Err(ApiError::new(
                ErrorCode::MerchantGenericCategoryUnknown,
                format!("category {missing} is unknown"),
            )
            .detail(missing.to_string())
            .into());
        }
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
    /// (default -20, at most 1024), `offset` the serial to start after. Requires
    /// `products-read`.
    #[oai(
        path = "/instances/:instance/private/products",
        method = "get",
        operation_id = "merchant_get_private_products"
    )]
    async fn list_products(
        &self,
        token: auth::MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        /// At most return the given number of results; negative for descending order.
        limit: Query<Option<PageLimit>>,
        /// Starting product serial for pagination (exclusive).
        #[oai(validator(minimum(value = "0")))]
        offset: Query<Option<i64>>,
    ) -> Result<ProductsListed, ListInventoryErrors> {
        let access = auth::authorize(&self.0, &instance, &token, PRODUCTS_READ).await?;
        let page = Page::new(limit.0, offset.0)?;
        let products = inventory::product_page(&self.0.db, access.instance.instance_serial, page)
            .await
            .map_err(ApiError::db_fetch)?
            .into_iter()
            .map(|p| InventoryEntry {
                product_id: p.product_id,
                product_serial: p.product_serial as u64,
            })
            .collect();
        Ok(ProductsListed::Ok(Json(InventorySummaryResponse {
            products,
        })))
    }
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
