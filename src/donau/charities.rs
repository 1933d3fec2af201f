//! The charity registry: `/charities` (administrator) and `/charity/$CHARITY_ID`.

use poem_openapi::{
    ApiResponse, Object, OpenApi, SecurityScheme, auth::Bearer, param::Path, payload::Json,
};

use crate::taler::text::{HttpUrl, NotBlank, Text};
use crate::{
    donau::tags::ApiTags,
    error_responses,
    http::{JsonBody, NoContent},
    state::State,
    store::charities::{self, Charity as CharityRow, CharityData, CreateOutcome, UpdateOutcome},
    taler::{
        Amount, ApiError, EddsaPublicKey, ErrorCode, amount::require_currency, secret,
        time::current_year,
    },
};

/// `Authorization: Bearer secret-token:...` with the Donau's administrator token.
#[derive(SecurityScheme)]
#[oai(
    rename = "donauAdminToken",
    ty = "bearer",
    bearer_format = "secret-token",
    checker = "any_bearer"
)]
pub struct DonauAdminToken(pub Bearer);

async fn any_bearer(_: &poem::Request, bearer: Bearer) -> Option<Bearer> {
    Some(bearer)
}

/// `CharityRequest`.
#[derive(Object)]
pub struct CharityRequest {
    /// Long-term EdDSA public key that identifies the charity.
    pub charity_pub: EddsaPublicKey,
    /// Canonical URL that should be presented to donors (http or https).
    pub charity_url: Text<HttpUrl>,
    /// Human-readable display name of the charity.
    pub charity_name: Text<NotBlank>,
    /// Allowed donation volume for the charity per calendar year, in the Donau's currency.
    pub max_per_year: Amount,
}

/// `CharityResponse`.
#[derive(Object)]
pub struct CharityResponse {
    /// Unique ID assigned to the charity in the backend.
    pub charity_id: u64,
}

/// `Charities`.
#[derive(Object)]
pub struct Charities {
    pub charities: Vec<CharitySummary>,
}

/// `CharitySummary`.
#[derive(Object)]
pub struct CharitySummary {
    /// Unique ID of the charity within the Donau.
    pub charity_id: u64,
    /// Public key of the charity, used by the charity to authorize issuing donation receipts.
    pub charity_pub: EddsaPublicKey,
    /// Human-readable name of the charity.
    pub charity_name: String,
    /// Maximum amount of donation receipts this charity is allowed to issue per year.
    pub max_per_year: Amount,
    /// Year for which `receipts_to_date` is given.
    pub current_year: i32,
    /// Total amount of donation receipts the Donau has issued for this charity so far this year.
    pub receipts_to_date: Amount,
}

/// `Charity`.
#[derive(Object)]
pub struct Charity {
    pub charity_pub: EddsaPublicKey,
    pub name: String,
    pub url: String,
    pub max_per_year: Amount,
    pub receipts_to_date: Amount,
    pub current_year: i32,
}

#[derive(ApiResponse)]
pub enum CharityCreated {
    /// The charity was registered; the response carries its id.
    #[oai(status = 201)]
    Created(Json<CharityResponse>),
}

#[derive(ApiResponse)]
pub enum CharitiesListed {
    /// The registered charities, ordered by id.
    #[oai(status = 200)]
    Ok(Json<Charities>),
    /// No charities are registered at this time.
    #[oai(status = 204)]
    NoCharities,
}

#[derive(ApiResponse)]
pub enum CharityFound {
    /// The charity.
    #[oai(status = 200)]
    Ok(Json<Charity>),
}

#[derive(ApiResponse)]
pub enum CharityUpdated {
    /// The update succeeded. The response body is empty.
    #[oai(status = 200)]
    Ok,
}

error_responses!(PostCharityErrors {
    400 => "The body is malformed, a field is missing or invalid, or `max_per_year` is not in the Donau's currency (`TALER_EC_GENERIC_JSON_INVALID`, `TALER_EC_GENERIC_CURRENCY_MISMATCH`).",
    403 => "The administrator bearer token is missing or wrong (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    409 => "A charity with the same public key already exists (`TALER_EC_DONAU_CHARITY_PUB_EXISTS`).",
    413 => "The body exceeds the size limit (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    500 => "Database failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
});

error_responses!(ListCharitiesErrors {
    403 => "The administrator bearer token is missing or wrong (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    500 => "Database failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

error_responses!(GetCharityErrors {
    400 => "The charity id is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    403 => "The administrator bearer token is missing or wrong (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The charity id does not belong to a charity known to the Donau (`TALER_EC_DONAU_CHARITY_NOT_FOUND`).",
    500 => "Database failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

error_responses!(PatchCharityErrors {
    400 => "The charity id or the body is malformed, or `max_per_year` is smaller than this year's `receipts_to_date` (`TALER_EC_GENERIC_PARAMETER_MALFORMED`, `TALER_EC_GENERIC_JSON_INVALID`, `TALER_EC_GENERIC_CURRENCY_MISMATCH`).",
    403 => "The administrator bearer token is missing or wrong (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The charity id is unknown to the Donau (`TALER_EC_DONAU_CHARITY_NOT_FOUND`).",
    409 => "Another charity has the new public key (`TALER_EC_DONAU_CHARITY_PUB_EXISTS`).",
    413 => "The body exceeds the size limit (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    500 => "Database failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
});

error_responses!(DeleteCharityErrors {
    400 => "The charity id is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    403 => "The administrator bearer token is missing or wrong (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The charity id is unknown to the Donau (`TALER_EC_DONAU_CHARITY_NOT_FOUND`).",
    500 => "Database failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
});

pub struct CharitiesApi(pub State);

/// The Donau's administrator token, compared in constant time; 403 otherwise.
pub fn require_admin(state: &State, token: &DonauAdminToken) -> Result<(), ApiError> {
    if secret::is_configured_token(&token.0.token, state.config.donau_admin_token()) {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::GenericTokenPermissionInsufficient,
        "the bearer token is not the Donau's administrator token",
    ))
}

impl CharitiesApi {
    fn require_admin(&self, token: &DonauAdminToken) -> Result<(), ApiError> {
        require_admin(&self.0, token)
    }

    /// Checks a `CharityRequest`; `code` is the 400 code the operation's page names.
    fn check(&self, req: CharityRequest, code: ErrorCode) -> Result<CharityData, ApiError> {
        // The string pattern admits 32 bytes that are no curve point.
        if ed25519_dalek::VerifyingKey::from_bytes(&req.charity_pub.0).is_err() {
            return Err(
                ApiError::new(code, "charity_pub is not an EdDSA public key")
                    .parameter("charity_pub"),
            );
        }
        let url = url::Url::parse(&req.charity_url).ok();
        if !url.is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host()) {
            return Err(
                ApiError::new(code, "charity_url must be an http or https URL")
                    .parameter("charity_url"),
            );
        }
        require_currency(&req.max_per_year, &self.0.config.currency, "max_per_year")?;
        Ok(CharityData {
            charity_pub: req.charity_pub.to_string(),
            charity_name: req.charity_name.into(),
            charity_url: req.charity_url.into(),
            max_per_year: req.max_per_year,
        })
    }

    async fn find(&self, charity_id: u64) -> Result<CharityRow, ApiError> {
        let found = match i64::try_from(charity_id) {
            Ok(id) => charities::find(&self.0.db, id)
                .await
                .map_err(ApiError::db_fetch)?,
            Err(_) => None,
        };
        found.ok_or_else(|| not_found(charity_id))
    }
}

fn not_found(charity_id: u64) -> ApiError {
    ApiError::new(
        ErrorCode::DonauCharityNotFound,
        format!("charity {charity_id} is unknown"),
    )
}

fn pub_exists() -> ApiError {
    ApiError::new(
        ErrorCode::DonauCharityPubExists,
        "a charity with this public key already exists",
    )
}

/// A stored row as the API shows it, with this year's receipts.
fn view(row: &CharityRow, year: i32) -> Result<CharitySummary, ApiError> {
    let bad = |e: String| ApiError::db_fetch(format!("stored charity is invalid: {e}"));
    Ok(CharitySummary {
        charity_id: row.charity_id as u64,
        charity_pub: row.charity_pub.parse().map_err(|e| bad(format!("{e}")))?,
        charity_name: row.charity_name.clone(),
        max_per_year: row.max_per_year.parse().map_err(|e| bad(format!("{e}")))?,
        current_year: year,
        receipts_to_date: charities::receipts_in(row, year).map_err(ApiError::db_fetch)?,
    })
}

#[OpenApi(tag = "ApiTags::Charities")]
impl CharitiesApi {
    /// Register a charity
    ///
    /// Administrator only. The charity starts the current year with no receipts
    /// (`receipts_to_date` zero in the Donau's currency); its id is assigned by the
    /// database and never reused.
    #[oai(
        path = "/charities",
        method = "post",
        operation_id = "donau_post_charities"
    )]
    async fn post_charity(
        &self,
        token: DonauAdminToken,
        body: JsonBody<CharityRequest>,
    ) -> Result<CharityCreated, PostCharityErrors> {
        self.require_admin(&token)?;
        let data = self.check(body.0, ErrorCode::GenericJsonInvalid)?;
        match charities::create(&self.0.db, data, current_year())
            .await
            .map_err(ApiError::db_store)?
        {
            CreateOutcome::Created(id) => Ok(CharityCreated::Created(Json(CharityResponse {
                charity_id: id as u64,
            }))),
            CreateOutcome::PubExists => Err(pub_exists().into()),
        }
    }

    /// List charities
    ///
    /// Administrator only. 204 when no charity is registered.
    #[oai(
        path = "/charities",
        method = "get",
        operation_id = "donau_get_charities"
    )]
    async fn list_charities(
        &self,
        token: DonauAdminToken,
    ) -> Result<CharitiesListed, ListCharitiesErrors> {
        self.require_admin(&token)?;
        let year = current_year();
        let rows = charities::list(&self.0.db)
            .await
            .map_err(ApiError::db_fetch)?;
        if rows.is_empty() {
            return Ok(CharitiesListed::NoCharities);
        }
        let charities = rows
            .iter()
            .map(|r| view(r, year))
            .collect::<Result<_, _>>()?;
        Ok(CharitiesListed::Ok(Json(Charities { charities })))
    }

    /// Get a charity
    ///
    /// Its limit, this year's receipts and contact data. Authorized with the
    /// administrator token: the bytes a `Charity-Signature` signs are not pinned down
    /// by the spec, so the charity-signed variant is not offered.
    #[oai(
        path = "/charity/:charity_id",
        method = "get",
        operation_id = "donau_get_charity"
    )]
    async fn get_charity(
        &self,
        token: DonauAdminToken,
        /// The charity's id (`charity_id`).
        charity_id: Path<u64>,
    ) -> Result<CharityFound, GetCharityErrors> {
        self.require_admin(&token)?;
        let row = self.find(charity_id.0).await?;
        let summary = view(&row, current_year())?;
        Ok(CharityFound::Ok(Json(Charity {
            charity_pub: summary.charity_pub,
            name: summary.charity_name,
            url: row.charity_url,
            max_per_year: summary.max_per_year,
            receipts_to_date: summary.receipts_to_date,
            current_year: summary.current_year,
        })))
    }

    /// Modify a charity
    ///
    /// Administrator only. All fields of the `CharityRequest` replace the stored ones;
    /// `max_per_year` must not be below this year's receipts.
    #[oai(
        path = "/charities/:charity_id",
        method = "patch",
        operation_id = "donau_patch_charity"
    )]
    async fn patch_charity(
        &self,
        token: DonauAdminToken,
        /// The charity's id (`charity_id`).
        charity_id: Path<u64>,
        body: JsonBody<CharityRequest>,
    ) -> Result<CharityUpdated, PatchCharityErrors> {
        self.require_admin(&token)?;
        let data = self.check(body.0, ErrorCode::GenericParameterMalformed)?;
        let id = i64::try_from(charity_id.0).map_err(|_| not_found(charity_id.0))?;
        match charities::update(&self.0.db, id, data, current_year())
            .await
            .map_err(ApiError::db_store)?
        {
            UpdateOutcome::Updated => Ok(CharityUpdated::Ok),
            UpdateOutcome::Unknown => Err(not_found(charity_id.0).into()),
            UpdateOutcome::PubExists => Err(pub_exists().into()),
            UpdateOutcome::BelowReceipts(receipts) => Err(ApiError::malformed(
                "max_per_year",
                format!("max_per_year is below this year's receipts_to_date ({receipts})"),
            )
            .into()),
        }
    }

    /// Delete a charity
    ///
    /// Administrator only. Its id is never given to another charity.
    #[oai(
        path = "/charities/:charity_id",
        method = "delete",
        operation_id = "donau_delete_charity"
    )]
    async fn delete_charity(
        &self,
        token: DonauAdminToken,
        /// The charity's id (`charity_id`).
        charity_id: Path<u64>,
    ) -> Result<NoContent, DeleteCharityErrors> {
        self.require_admin(&token)?;
        let id = i64::try_from(charity_id.0).map_err(|_| not_found(charity_id.0))?;
        if charities::delete(&self.0.db, id)
            .await
            .map_err(ApiError::db_store)?
        {
            Ok(NoContent::Done)
        } else {
            Err(not_found(charity_id.0).into())
        }
    }
}
