//! The point-of-sale configuration: `[/instances/$INSTANCE]/private/pos`, the whole
//! inventory with every product's details and the categories, in one answer (what the
//! POS app loads at start).

use std::collections::BTreeMap;

use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};

use crate::{
    error_responses,
    merchant::{
        instances::auth::{self, MerchantToken, Permission},
        inventory::{
            details::{Tax, stored_product},
            stock::stored_quantity,
        },
        tags::ApiTags,
        templates::inventory_cart::i18n,
    },
    state::State,
    store::inventory,
    taler::{Amount, ApiError},
};

const PRODUCTS_READ: Permission = "products-read";

/// `FullInventoryDetailsResponse`.
#[derive(Object)]
pub struct FullInventoryDetailsResponse {
    /// Every product of the inventory, by serial.
    pub products: Vec<MerchantPosProductDetail>,
    /// Every category of the inventory.
    pub categories: Vec<MerchantCategory>,
}

/// `MerchantPosProductDetail`.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct MerchantPosProductDetail {
    /// A unique numeric ID of the product.
    pub product_serial: u64,
    /// A merchant-internal unique identifier for the product.
    pub product_id: String,
    /// Human-readable product name.
    pub product_name: String,
    /// IDs of the categories the product belongs to.
    pub categories: Vec<u64>,
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
    /// Price tiers; the first is the base price.
    pub unit_price: Vec<Amount>,
    /// Legacy price: the first of `unit_price`.
    pub price: Amount,
    /// Product image as a data URL.
    pub image: Option<String>,
    /// Taxes the merchant pays on one unit.
    pub taxes: Option<Vec<Tax>>,
    /// Legacy stock counter: whole units, -1 for unlimited.
    pub total_stock: Option<i64>,
    /// Stock (`DecimalQuantity`, "-1" for unlimited).
    pub unit_total_stock: String,
    /// Minimum age the buyer must have, in years.
    pub minimum_age: Option<u64>,
}

/// `MerchantCategory`.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct MerchantCategory {
    /// The category's `category_id`.
    pub id: u64,
    /// Name of the category.
    pub name: String,
    /// Map from IETF BCP 47 language tags to localized names.
    pub name_i18n: Option<BTreeMap<String, String>>,
}

#[derive(ApiResponse)]
pub enum PosConfiguration {
    /// The inventory with the details of every product.
    #[oai(status = 200)]
    Ok(Json<FullInventoryDetailsResponse>),
}

error_responses!(GetPosErrors {
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `products-read` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The instance is unknown (`TALER_EC_MERCHANT_GENERIC_INSTANCE_UNKNOWN`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

pub struct PosApi(pub State);

#[OpenApi(tag = "ApiTags::Inventory")]
impl PosApi {
    /// Get the point-of-sale configuration
    ///
    /// Every product with its details, and every category. Requires `products-read`.
    #[oai(
        path = "/instances/:instance/private/pos",
        method = "get",
        operation_id = "merchant_get_private_pos"
    )]
    async fn get_pos(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
    ) -> Result<PosConfiguration, GetPosErrors> {
        let access = auth::authorize(&self.0, &instance, &token, PRODUCTS_READ).await?;
        let serial = access.instance.instance_serial;
        let db = &self.0.db;
        let mut products = Vec::new();
        for row in inventory::products(db, serial)
            .await
            .map_err(ApiError::db_fetch)?
        {
            let p = stored_product(&row)?;
            let stock = stored_quantity(&p.stock())?;
            let unit_price = p.prices();
            products.push(MerchantPosProductDetail {
                product_serial: row.product_serial as u64,
                product_name: p.product_name.unwrap_or_else(|| row.product_id.clone()),
                product_id: row.product_id,
                categories: p.categories.unwrap_or_default(),
                description: p.description,
                description_i18n: p.description_i18n.unwrap_or_default(),
                unit: p.unit,
                unit_allow_fraction: p.unit_allow_fraction.unwrap_or(false),
                unit_precision_level: p.unit_precision_level.unwrap_or(0),
                price: unit_price[0].clone(),
                unit_price,
                image: p.image.map(String::from),
                taxes: p.taxes,
                total_stock: Some(stock.whole()),
                unit_total_stock: stock.to_string(),
                minimum_age: p.minimum_age,
            });
        }
        let categories = inventory::categories(db, serial)
            .await
            .map_err(ApiError::db_fetch)?
            .into_iter()
            .map(|c| MerchantCategory {
                id: c.category_serial as u64,
                name_i18n: i18n(&c.category_name_i18n),
                name: c.category_name,
            })
            .collect();
        Ok(PosConfiguration::Ok(Json(FullInventoryDetailsResponse {
            products,
            categories,
        })))
    }
}
