//! Product locks: `[/instances/$INSTANCE]/private/products/$PRODUCT_ID/lock`. A frontend
//! holds units while its customer fills a cart; an order naming the lock in
//! `lock_uuids` takes it over, and the lifecycle task gives back expired ones.

use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};

use crate::{
    error_responses,
    http::JsonBody,
    merchant::{
        instances::auth::{self, MerchantToken, PRODUCTS_LOCK},
        inventory::{
            details::{free_units, stored_product},
            stock::{Wanted, quantity_of},
        },
        orders::create::OutOfStockResponse,
        tags::ApiTags,
    },
    state::State,
    store::{
        inventory,
        locks::{self, LockOutcome},
        orders::{format_millionths, parse_millionths},
    },
    taler::{
        ApiError, ErrorCode, RelativeTime, Timestamp,
        limits::MAX_PRODUCT_LOCK_SECS,
        text::{NotBlank, Text, UnitQuantity},
    },
};

/// `LockRequest`.
#[derive(Object)]
pub struct LockRequest {
    /// UUID of the frontend's lock, unique for the lock's lifetime; posting it again
    /// changes the lock.
    #[oai(validator(max_length = 128))]
    pub lock_uuid: Text<NotBlank>,
    /// How long the frontend means to hold the lock (at most a day is granted).
    pub duration: RelativeTime,
    /// Legacy integer quantity (zero releases the lock).
    pub quantity: Option<u64>,
    /// Quantity as `<integer>[.<fraction>]` ("0" releases the lock).
    pub unit_quantity: Option<Text<UnitQuantity>>,
}

#[derive(ApiResponse)]
pub enum Locked {
    /// The units are locked (or the lock released).
    #[oai(status = 204)]
    Done,
    /// The product has fewer free units than the lock needs.
    #[oai(status = 410)]
    OutOfStock(Json<OutOfStockResponse>),
}

error_responses!(LockErrors {
    400 => "The request body is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`, `TALER_EC_GENERIC_PARAMETER_MISSING`, `TALER_EC_GENERIC_JSON_INVALID`).",
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `products-lock` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The product or the instance is unknown (`TALER_EC_MERCHANT_GENERIC_PRODUCT_UNKNOWN`).",
    413 => "The uploaded body is too long (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`, `TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

fn product_unknown(id: &str) -> ApiError {
    ApiError::new(
        ErrorCode::MerchantGenericProductUnknown,
        format!("product `{id}` is unknown"),
    )
}

pub struct LocksApi(pub State);

#[OpenApi(tag = "ApiTags::Inventory")]
impl LocksApi {
    /// Lock units of a product
    ///
    /// Holds `quantity` units for `duration` (at most a day) under the frontend's
    /// `lock_uuid`; posting the same UUID again changes the lock, and a quantity of zero
    /// releases it. An order naming the UUID in `lock_uuids` takes the lock over.
    /// Requires `products-lock`.
    #[oai(
        path = "/instances/:instance/private/products/:product_id/lock",
        method = "post",
        operation_id = "merchant_post_private_product_lock"
    )]
    async fn lock_product(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        /// The product's `product_id`.
        product_id: Path<String>,
        body: JsonBody<LockRequest>,
    ) -> Result<Locked, LockErrors> {
        let access = auth::authorize_object(&self.0, &instance, &token, PRODUCTS_LOCK, || {
            product_unknown(&product_id)
        })
        .await?;
        let serial = access.instance.instance_serial;
        let db = &self.0.db;
        let product = inventory::find_product(db, serial, &product_id)
            .await
            .map_err(ApiError::db_fetch)?
            .ok_or_else(|| product_unknown(&product_id))?;
        let details = stored_product(&product)?;
        let body = body.0;
        let uuid: String = body.lock_uuid.into();
        let unit_quantity: Option<String> = body.unit_quantity.map(Into::into);
        let releases = match (&unit_quantity, body.quantity) {
            (Some(text), _) => parse_millionths(text).is_ok_and(|m| m == 0),
            (None, Some(q)) => q == 0,
            (None, None) => false,
        };
        let millionths = if releases {
            0
        } else {
            quantity_of(
                Wanted {
                    product_id: &product_id,
                    unit_quantity: unit_quantity.as_deref(),
                    quantity: body.quantity,
                },
                details.unit_allow_fraction.unwrap_or(false),
                details.unit_precision_level.unwrap_or(0),
            )?
        };
        let hold = match body.duration {
            RelativeTime::Micros(us) => (us / 1_000_000).min(MAX_PRODUCT_LOCK_SECS),
            RelativeTime::Forever => MAX_PRODUCT_LOCK_SECS,
        };
        let expiration = Timestamp::now().to_db().saturating_add(hold as i64);
        let available = |p: &_| free_units(p);
        match locks::set(
            db,
            serial,
            &product_id,
            &uuid,
            millionths,
            expiration,
            &available,
        )
        .await
        .map_err(ApiError::db_store)?
        {
            LockOutcome::Done => Ok(Locked::Done),
            LockOutcome::UnknownProduct => Err(product_unknown(&product_id).into()),
            LockOutcome::OutOfStock { product, available } => {
                let restock = stored_product(&product).ok().and_then(|p| p.next_restock);
                Ok(Locked::OutOfStock(Json(OutOfStockResponse {
                    product_id: product.product_id,
                    requested_quantity: (millionths / 1_000_000) as u64,
                    unit_requested_quantity: format_millionths(millionths),
                    available_quantity: (available / 1_000_000) as u64,
                    unit_available_quantity: format_millionths(available),
                    restock_expected: restock,
                    code: Some(
                        ErrorCode::MerchantPrivatePostProductsLockInsufficientStocks.number(),
                    ),
                    hint: Some(format!(
                        "product `{}` has fewer free units than the lock needs",
                        product_id.0
                    )),
                })))
            }
        }
    }
}
