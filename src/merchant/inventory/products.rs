//! The inventory's products: `[/instances/$INSTANCE]/private/products[/$PRODUCT_ID]`.

use std::collections::BTreeSet;

use poem_openapi::{
    ApiResponse, OpenApi,
    param::{Path, Query},
    payload::Json,
    types::{ParseFromJSON, ToJSON},
};

use crate::merchant::webhooks::events::WebhookEventType;
use crate::taler::text::Text;
use crate::{
    error_responses,
    http::{JsonBody, NoContent},
    merchant::{
        instances::auth::{self, MerchantToken, Permission},
        inventory::{
            details::{
                InventoryEntry, InventorySummaryResponse, ProductAddDetailRequest,
                ProductDetailResponse, ProductPatchDetailRequest, stored_product,
            },
            stock::{Quantity, check_stock_rules, stored_quantity},
        },
        tags::ApiTags,
    },
    state::State,
    store::{CreateOutcome, inventory},
    taler::{
        ApiError, ErrorCode,
        pagination::{Page, PageLimit},
    },
};

const PRODUCTS_READ: Permission = "products-read";
const PRODUCTS_WRITE: Permission = "products-write";

/// The list's default `limit` (get-private-products: 20, ascending).
const DEFAULT_LIST_LIMIT: i64 = 20;

fn product_unknown(id: &str) -> ApiError {
    ApiError::new(
        ErrorCode::MerchantGenericProductUnknown,
        format!("product `{id}` is unknown"),
    )
}

/// The most products a filtered list reads at a time.
const FILTERED_CHUNK: u64 = 1024;

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
        let product_json = product.to_json().expect("an object");
        let details = product_json.to_string();
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
            CreateOutcome::Created => {
                inventory_event(
                    &self.0,
                    serial,
                    WebhookEventType::InventoryAdded,
                    &product.product_id,
                    Some(product_json),
                )
                .await;
                Ok(NoContent::Done)
            }
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
        // The filters look into each product's details: the walk goes on, a chunk at a
        // time (twice as many each time, up to `FILTERED_CHUNK`), until the page is
        // full or the instance has no more products.
        let mut chunk = page;
        let mut products = Vec::new();
        'walk: loop {
            let rows = inventory::products_from(&self.0.db, serial, chunk)
                .await
                .map_err(ApiError::db_fetch)?;
            let exhausted = (rows.len() as u64) < chunk.count;
            for row in rows {
                chunk.offset = row.product_serial;
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
                    if products.len() as u64 >= page.count {
                        break 'walk;
                    }
                }
            }
            if exhausted {
                break;
            }
            chunk.count = (chunk.count * 2).min(FILTERED_CHUNK.max(page.count));
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
                let product = serde_json::from_str(&text).ok();
                inventory_event(
                    &self.0,
                    serial,
                    WebhookEventType::InventoryUpdated,
                    &product_id,
                    product,
                )
                .await;
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
            inventory::DeleteOutcome::Deleted => {
                inventory_event(
                    &self.0,
                    access.instance.instance_serial,
                    WebhookEventType::InventoryDeleted,
                    &product_id,
                    None,
                )
                .await;
                Ok(NoContent::Done)
            }
            inventory::DeleteOutcome::Unknown => Err(product_unknown(&product_id).into()),
            inventory::DeleteOutcome::Locked => Err(ApiError::new(
                ErrorCode::MerchantPrivateDeleteProductsConflictingLock,
                "unpaid orders hold units of this product",
            )
            .into()),
        }
    }
}

/// Fires an `inventory_*` webhook event with the product's id and, unless it was
/// deleted, its details as stored.
async fn inventory_event(
    state: &State,
    instance_serial: i64,
    event: WebhookEventType,
    product_id: &str,
    product: Option<serde_json::Value>,
) {
    let data = serde_json::json!({ "product_id": product_id, "product": product });
    crate::merchant::webhooks::events::fire(state, instance_serial, event, data).await;
}
