//! Product categories: `[/instances/$INSTANCE]/private/categories[/$CATEGORY_ID]`.

use std::collections::BTreeMap;

use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};

use crate::merchant::webhooks::events::WebhookEventType;
use crate::taler::text::{NotBlank, Text};
use crate::{
    error_responses,
    http::{JsonBody, NoContent},
    merchant::{
        instances::auth::{self, Permission},
        tags::ApiTags,
        templates::inventory_cart::i18n,
    },
    state::State,
    store::inventory::{self, CategoryUpdate},
    taler::{ApiError, ErrorCode},
};

const CATEGORIES_READ: Permission = "categories-read";
const CATEGORIES_WRITE: Permission = "categories-write";

/// `CategoryCreateRequest`.
#[derive(Object)]
pub struct CategoryCreateRequest {
    /// Name of the category (unique per instance).
    pub name: Text<NotBlank>,
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

/// `CategoryProductListResponse`: a category with its products.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct CategoryProductListResponse {
    /// Name of the category.
    pub name: String,
    /// Map from IETF BCP 47 language tags to localized names.
    pub name_i18n: Option<BTreeMap<String, String>>,
    /// The products in this category.
    pub products: Vec<CategoryProductSummary>,
}

/// `CategoryProductSummary`.
#[derive(Object)]
pub struct CategoryProductSummary {
    /// ID of a product in the category.
    pub product_id: String,
}

fn category_unknown(id: u64) -> ApiError {
    ApiError::new(
        ErrorCode::MerchantGenericCategoryUnknown,
        format!("category {id} is unknown"),
    )
}

/// Authorizes an operation on one category: an unknown instance answers with the
/// category's 404, as for every object of an instance.
async fn authorize_category(
    state: &State,
    instance: &str,
    token: &auth::MerchantToken,
    permission: Permission,
    category_id: u64,
) -> Result<(auth::Access, i64), ApiError> {
    auth::authorize_serial(state, instance, token, permission, category_id, || {
        category_unknown(category_id)
    })
    .await
}

fn name_taken() -> ApiError {
    ApiError::new(
        ErrorCode::MerchantPrivatePostCategoriesConflictCategoryExists,
        "a category with this name exists",
    )
}

fn i18n_text(map: Option<BTreeMap<String, String>>) -> Option<String> {
    map.map(|m| serde_json::to_string(&m).expect("a string map serializes"))
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
pub enum CategoryFound {
    /// The category and its products.
    #[oai(status = 200)]
    Ok(Json<CategoryProductListResponse>),
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

error_responses!(ListCategoriesErrors {
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `categories-read` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The instance is unknown (`TALER_EC_MERCHANT_GENERIC_INSTANCE_UNKNOWN`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

error_responses!(GetCategoryErrors {
    400 => "`$CATEGORY_ID` is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `categories-read` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The category or the instance is unknown (`TALER_EC_MERCHANT_GENERIC_CATEGORY_UNKNOWN`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

error_responses!(PatchCategoryErrors {
    400 => "`$CATEGORY_ID` or the body is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`, `TALER_EC_GENERIC_PARAMETER_MISSING`, `TALER_EC_GENERIC_JSON_INVALID`).",
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `categories-write` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The category or the instance is unknown (`TALER_EC_MERCHANT_GENERIC_CATEGORY_UNKNOWN`).",
    409 => "Another category has this name (`TALER_EC_MERCHANT_PRIVATE_POST_CATEGORIES_CONFLICT_CATEGORY_EXISTS`).",
    413 => "The uploaded body is too long (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
});

error_responses!(DeleteCategoryErrors {
    400 => "`$CATEGORY_ID` is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `categories-write` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The category or the instance is unknown (`TALER_EC_MERCHANT_GENERIC_CATEGORY_UNKNOWN`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
});

pub struct CategoriesApi(pub State);

#[OpenApi(tag = "ApiTags::Inventory")]
impl CategoriesApi {
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
            body.name.into(),
            i18n,
        )
        .await
        .map_err(ApiError::db_store)?
        {
            Some(id) => {
                category_event(
                    &self.0,
                    access.instance.instance_serial,
                    WebhookEventType::CategoryAdded,
                    id as u64,
                )
                .await;
                Ok(CategoryCreated::Ok(Json(CategoryCreatedResponse {
                    category_id: id as u64,
                })))
            }
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
    ) -> Result<CategoriesListed, ListCategoriesErrors> {
        let access = auth::authorize(&self.0, &instance, &token, CATEGORIES_READ).await?;
        let serial = access.instance.instance_serial;
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
                    product_count: c.product_count.max(0) as u64,
                }
            })
            .collect();
        Ok(CategoriesListed::Ok(Json(CategoryListResponse {
            categories,
        })))
    }

    /// Get a category
    ///
    /// With the IDs of its products. Requires `categories-read`.
    #[oai(
        path = "/instances/:instance/private/categories/:category_id",
        method = "get",
        operation_id = "merchant_get_private_category"
    )]
    async fn get_category(
        &self,
        token: auth::MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        /// The category's `category_id`.
        category_id: Path<u64>,
    ) -> Result<CategoryFound, GetCategoryErrors> {
        let (access, serial) =
            authorize_category(&self.0, &instance, &token, CATEGORIES_READ, category_id.0).await?;
        let instance_serial = access.instance.instance_serial;
        let category = inventory::find_category(&self.0.db, instance_serial, serial)
            .await
            .map_err(ApiError::db_fetch)?
            .ok_or_else(|| category_unknown(category_id.0))?;
        // The category is the instance's (found above), and so are its products.
        let products = inventory::category_products(&self.0.db, serial)
            .await
            .map_err(ApiError::db_fetch)?
            .into_iter()
            .map(|row| CategoryProductSummary {
                product_id: row.product_id,
            })
            .collect();
        Ok(CategoryFound::Ok(Json(CategoryProductListResponse {
            name_i18n: i18n(&category.category_name_i18n),
            name: category.category_name,
            products,
        })))
    }

    /// Modify a category
    ///
    /// Renames it (names stay unique per instance). Requires `categories-write`.
    #[oai(
        path = "/instances/:instance/private/categories/:category_id",
        method = "patch",
        operation_id = "merchant_patch_private_category"
    )]
    async fn patch_category(
        &self,
        token: auth::MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        /// The category's `category_id`.
        category_id: Path<u64>,
        body: JsonBody<CategoryCreateRequest>,
    ) -> Result<NoContent, PatchCategoryErrors> {
        let (access, serial) =
            authorize_category(&self.0, &instance, &token, CATEGORIES_WRITE, category_id.0).await?;
        let body = body.0;
        match inventory::update_category(
            &self.0.db,
            access.instance.instance_serial,
            serial,
            body.name.into(),
            i18n_text(body.name_i18n),
        )
        .await
        .map_err(ApiError::db_store)?
        {
            CategoryUpdate::Updated => {
                category_event(
                    &self.0,
                    access.instance.instance_serial,
                    WebhookEventType::CategoryUpdated,
                    category_id.0,
                )
                .await;
                Ok(NoContent::Done)
            }
            CategoryUpdate::Unknown => Err(category_unknown(category_id.0).into()),
            CategoryUpdate::NameTaken => Err(name_taken().into()),
        }
    }

    /// Delete a category
    ///
    /// Its products stay, without the category. Requires `categories-write`.
    #[oai(
        path = "/instances/:instance/private/categories/:category_id",
        method = "delete",
        operation_id = "merchant_delete_private_category"
    )]
    async fn delete_category(
        &self,
        token: auth::MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        /// The category's `category_id`.
        category_id: Path<u64>,
    ) -> Result<NoContent, DeleteCategoryErrors> {
        let (access, serial) =
            authorize_category(&self.0, &instance, &token, CATEGORIES_WRITE, category_id.0).await?;
        if inventory::delete_category(&self.0.db, access.instance.instance_serial, serial)
            .await
            .map_err(ApiError::db_store)?
        {
            category_event(
                &self.0,
                access.instance.instance_serial,
                WebhookEventType::CategoryDeleted,
                category_id.0,
            )
            .await;
            Ok(NoContent::Done)
        } else {
            Err(category_unknown(category_id.0).into())
        }
    }
}

/// Fires a `category_*` webhook event with the category's id and, unless it was
/// deleted, its name as stored now.
async fn category_event(
    state: &State,
    instance_serial: i64,
    event: WebhookEventType,
    category_id: u64,
) {
    let category = match event {
        WebhookEventType::CategoryDeleted => None,
        _ => inventory::find_category(&state.db, instance_serial, category_id as i64)
            .await
            .ok()
            .flatten(),
    };
    let data = serde_json::json!({
        "category_id": category_id,
        "category_name": category.as_ref().map(|c| c.category_name.clone()),
        "category_name_i18n": category.as_ref().and_then(|c| i18n(&c.category_name_i18n)),
    });
    crate::merchant::webhooks::events::fire(state, instance_serial, event, data).await;
}
