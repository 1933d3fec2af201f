//! Money pots: `[/instances/$INSTANCE]/private/pots[/$POT_ID]`.

use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};

use crate::taler::text::{NotBlank, Text};
use crate::{
    error_responses,
    http::{JsonBody, NoContent},
    merchant::{
        instances::auth::{self, Access, MerchantToken, Permission},
        tags::ApiTags,
    },
    state::State,
    store::pots::{self, ModifyOutcome, Pot, PotUpdate, Totals},
    taler::{
        Amount, ApiError, ErrorCode,
        pagination::{Page, PageLimit},
    },
};

const POTS_READ: Permission = "pots-read";
const POTS_WRITE: Permission = "pots-write";

/// `PotAddRequest`.
#[derive(Object)]
pub struct PotAddRequest {
    /// Description of the pot. Possibly included in the pot message.
    pub description: String,
    /// Name of the pot. Must be unique per instance.
    pub pot_name: Text<NotBlank>,
}

/// `PotAddedResponse`.
#[derive(Object)]
pub struct PotAddedResponse {
    /// Unique ID for the pot (`$POT_ID`).
    pub pot_serial_id: u64,
}

/// `PotsSummaryResponse`.
#[derive(Object)]
pub struct PotsSummaryResponse {
    /// Return pots that are present in our backend.
    pub pots: Vec<PotEntry>,
}

/// `PotEntry`: one pot of the list.
#[derive(Object)]
pub struct PotEntry {
    /// Pot identifier (`$POT_ID`).
    pub pot_serial: u64,
    /// Name of the pot. Must be unique per instance.
    pub pot_name: String,
    /// Current total amounts in the pot, one per currency, ordered by currency.
    pub pot_totals: Vec<Amount>,
}

/// `PotDetailResponse`.
#[derive(Object)]
pub struct PotDetailResponse {
    /// Description of the pot. Possibly included in the pot message.
    pub description: String,
    /// Name of the pot. Must be unique per instance.
    pub pot_name: String,
    /// Current total amounts in the pot, one per currency, ordered by currency.
    pub pot_totals: Vec<Amount>,
}

/// `PotModifyRequest`.
#[derive(Object)]
pub struct PotModifyRequest {
    /// Description of the pot. Possibly included in the pot message.
    pub description: String,
    /// Name of the pot. Must be unique per instance.
    pub pot_name: Text<NotBlank>,
    /// Expected current totals in the pot. When given and different from the stored
    /// totals (compared per currency, exactly), nothing changes and the answer is 409.
    pub expected_pot_totals: Option<Vec<Amount>>,
    /// New total amounts to store in the pot; they replace the totals and need not be
    /// in the currencies of the existing amounts. At most one amount per currency.
    pub new_pot_totals: Option<Vec<Amount>>,
}

#[derive(ApiResponse)]
pub enum PotAdded {
    /// The backend has successfully added a new pot.
    #[oai(status = 200)]
    Ok(Json<PotAddedResponse>),
}

#[derive(ApiResponse)]
pub enum PotsListed {
    /// The backend has successfully returned the pots (possibly none).
    #[oai(status = 200)]
    Ok(Json<PotsSummaryResponse>),
}

#[derive(ApiResponse)]
pub enum PotFound {
    /// The backend has successfully returned the detailed information about the pot.
    #[oai(status = 200)]
    Ok(Json<PotDetailResponse>),
}

error_responses!(PostPotErrors {
    400 => "The request body is malformed (`TALER_EC_GENERIC_JSON_INVALID`, `TALER_EC_GENERIC_PARAMETER_MISSING`, `TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `pots-write` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The merchant instance is unknown (`TALER_EC_MERCHANT_GENERIC_INSTANCE_UNKNOWN`).",
    409 => "A pot with this name already exists (`TALER_EC_MERCHANT_PRIVATE_MONEY_POT_CONFLICTING_NAME`).",
    413 => "The uploaded body is too long (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
});

error_responses!(ListPotsErrors {
    400 => "A query parameter is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `pots-read` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The backend does not know the instance (`TALER_EC_MERCHANT_GENERIC_INSTANCE_UNKNOWN`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

error_responses!(GetPotErrors {
    400 => "The pot ID parameter is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `pots-read` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The pot or instance is unknown to the backend (`TALER_EC_MERCHANT_GENERIC_MONEY_POT_UNKNOWN`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

error_responses!(PatchPotErrors {
    400 => "The pot ID parameter or the body is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`, `TALER_EC_GENERIC_PARAMETER_MISSING`, `TALER_EC_GENERIC_JSON_INVALID`).",
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `pots-write` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The pot or instance is unknown to the backend (`TALER_EC_MERCHANT_GENERIC_MONEY_POT_UNKNOWN`).",
    409 => "The pot total did not match the expected total (`TALER_EC_MERCHANT_PRIVATE_MONEY_POT_CONFLICTING_TOTAL`), or another pot has the name (`TALER_EC_MERCHANT_PRIVATE_MONEY_POT_CONFLICTING_NAME`).",
    413 => "The uploaded body is too long (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
});

error_responses!(DeletePotErrors {
    400 => "The pot ID parameter is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `pots-write` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The pot or the instance is unknown to the backend (`TALER_EC_MERCHANT_GENERIC_MONEY_POT_UNKNOWN`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
});

fn pot_unknown(pot_id: u64) -> ApiError {
    ApiError::new(
        ErrorCode::MerchantGenericMoneyPotUnknown,
        format!("pot {pot_id} is unknown"),
    )
}

/// Authorizes an operation on one pot. The pot pages answer an unknown instance
/// with the pot's 404 code, as they say.
async fn authorize_pot(
    state: &State,
    instance: &str,
    token: &MerchantToken,
    permission: Permission,
    pot_id: u64,
) -> Result<(Access, i64), ApiError> {
    auth::authorize_serial(state, instance, token, permission, pot_id, || {
        pot_unknown(pot_id)
    })
    .await
}

fn totals(field: &str, amounts: Option<Vec<Amount>>) -> Result<Option<Totals>, ApiError> {
    amounts
        .map(|list| {
            Totals::from_amounts(list).map_err(|currency| {
                ApiError::malformed(field, format!("more than one amount in {currency}"))
                    .currency(&currency)
            })
        })
        .transpose()
}

fn stored_totals(pot: &Pot) -> Result<Vec<Amount>, ApiError> {
    Ok(Totals::from_db(&pot.pot_totals)
        .map_err(ApiError::db_fetch)?
        .amounts())
}

pub struct PotsApi(pub State);

#[OpenApi(tag = "ApiTags::Pots")]
impl PotsApi {
    /// Create a money pot
    ///
    /// Creates an empty pot (no totals) and answers with its serial, the `$POT_ID` of
    /// the other pot operations. Requires `pots-write`.
    #[oai(
        path = "/instances/:instance/private/pots",
        method = "post",
        operation_id = "merchant_post_private_pots"
    )]
    async fn post_pot(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        body: JsonBody<PotAddRequest>,
    ) -> Result<PotAdded, PostPotErrors> {
        let body = body.0;
        // The authorization and the insert: one round trip on PostgreSQL.
        let insert = pots::insert(body.pot_name.into(), body.description);
        match auth::authorize_insert(&self.0, &instance, &token, POTS_WRITE, insert).await? {
            Some(serial) => Ok(PotAdded::Ok(Json(PotAddedResponse {
                pot_serial_id: serial as u64,
            }))),
            None => Err(ApiError::new(
                ErrorCode::MerchantPrivateMoneyPotConflictingName,
                "a pot with this name already exists",
            )
            .into()),
        }
    }

    /// List money pots
    ///
    /// Row-id pagination by pot serial: `limit` > 0 ascending, < 0 descending (default
    /// -20, at most 1024 rows), `offset` the serial to start after. Requires `pots-read`.
    #[oai(
        path = "/instances/:instance/private/pots",
        method = "get",
        operation_id = "merchant_get_private_pots"
    )]
    async fn list_pots(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        /// At most return the given number of results. Negative for descending by
        /// serial, positive for ascending by serial. Defaults to -20; must not be 0.
        limit: Query<Option<PageLimit>>,
        /// Starting serial for pagination (exclusive).
        #[oai(validator(minimum(value = "0")))]
        offset: Query<Option<i64>>,
    ) -> Result<PotsListed, ListPotsErrors> {
        let access = auth::authorize(&self.0, &instance, &token, POTS_READ).await?;
        let page = Page::new(limit.0, offset.0)?;
        let rows = pots::list(&self.0.db, access.instance.instance_serial, page)
            .await
            .map_err(ApiError::db_fetch)?;
        let pots = rows
            .iter()
            .map(|pot| {
                Ok(PotEntry {
                    pot_serial: pot.pot_serial as u64,
                    pot_name: pot.pot_name.clone(),
                    pot_totals: stored_totals(pot)?,
                })
            })
            .collect::<Result<_, ApiError>>()?;
        Ok(PotsListed::Ok(Json(PotsSummaryResponse { pots })))
    }

    /// Get a money pot
    ///
    /// Requires `pots-read`.
    #[oai(
        path = "/instances/:instance/private/pots/:pot_id",
        method = "get",
        operation_id = "merchant_get_private_pot"
    )]
    async fn get_pot(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        /// The pot's serial (`pot_serial_id`).
        pot_id: Path<u64>,
    ) -> Result<PotFound, GetPotErrors> {
        let unknown = || pot_unknown(pot_id.0);
        let serial = i64::try_from(pot_id.0).map_err(|_| unknown())?;
        let (_, pot, _) = auth::authorize_found(
            &self.0,
            &token,
            POTS_READ,
            async |hash| pots::find_with_access(&self.0.db, &instance, Some(&hash), serial).await,
            unknown,
        )
        .await?;
        Ok(PotFound::Ok(Json(PotDetailResponse {
            pot_totals: stored_totals(&pot)?,
            description: pot.description,
            pot_name: pot.pot_name,
        })))
    }

    /// Modify a money pot
    ///
    /// Sets name and description and, with `new_pot_totals`, replaces the totals. With
    /// `expected_pot_totals` the change is a compare-and-set: if the stored totals
    /// differ, nothing changes and the answer is 409. Requires `pots-write`.
    #[oai(
        path = "/instances/:instance/private/pots/:pot_id",
        method = "patch",
        operation_id = "merchant_patch_private_pot"
    )]
    async fn patch_pot(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        /// The pot's serial (`pot_serial_id`).
        pot_id: Path<u64>,
        body: JsonBody<PotModifyRequest>,
    ) -> Result<NoContent, PatchPotErrors> {
        let (access, serial) =
            authorize_pot(&self.0, &instance, &token, POTS_WRITE, pot_id.0).await?;
        let body = body.0;
        let update = PotUpdate {
            expected_totals: totals("expected_pot_totals", body.expected_pot_totals)?,
            new_totals: totals("new_pot_totals", body.new_pot_totals)?,
            pot_name: body.pot_name.into(),
            description: body.description,
        };
        match pots::modify(&self.0.db, access.instance.instance_serial, serial, update)
            .await
            .map_err(ApiError::db_store)?
        {
            ModifyOutcome::Modified => Ok(NoContent::Done),
            ModifyOutcome::Unknown => Err(pot_unknown(pot_id.0).into()),
            ModifyOutcome::NameTaken => Err(ApiError::new(
                ErrorCode::MerchantPrivateMoneyPotConflictingName,
                "another pot has this name",
            )
            .into()),
            ModifyOutcome::TotalsConflict => Err(ApiError::new(
                ErrorCode::MerchantPrivateMoneyPotConflictingTotal,
                "the pot totals differ from expected_pot_totals",
            )
            .into()),
        }
    }

    /// Delete a money pot
    ///
    /// References to the pot are simply lost. Requires `pots-write`.
    #[oai(
        path = "/instances/:instance/private/pots/:pot_id",
        method = "delete",
        operation_id = "merchant_delete_private_pot"
    )]
    async fn delete_pot(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        /// The pot's serial (`pot_serial_id`).
        pot_id: Path<u64>,
    ) -> Result<NoContent, DeletePotErrors> {
        let (access, serial) =
            authorize_pot(&self.0, &instance, &token, POTS_WRITE, pot_id.0).await?;
        if pots::delete(&self.0.db, access.instance.instance_serial, serial)
            .await
            .map_err(ApiError::db_store)?
        {
            Ok(NoContent::Done)
        } else {
            Err(pot_unknown(pot_id.0).into())
        }
    }
}
