//! Instance management: `/management/instances` (administrator only).

use poem_openapi::{
    OpenApi,
    param::{Path, Query},
    payload::Json,
};

use crate::taler::text::{Text, YesNo};
use crate::{
    error_responses,
    http::{JsonBody, NoContent},
    merchant::{
        instances::auth::{
            self, DEFAULT_INSTANCE, INSTANCES_AUTH_WRITE, INSTANCES_READ, INSTANCES_TOKEN_WRITE,
            INSTANCES_WRITE, MerchantToken,
        },
        instances::settings::{
            EXTERNAL_AUTH, Instance, InstanceAuthConfigurationMessage, InstanceAuthInfo,
            InstanceConfigurationRequest, InstanceReconfigurationMessage, InstanceSettings,
            InstancesResponse, QueryInstancesResponse, instance_row, merchant_pub_of, settings_of,
            valid_instance_id,
        },
        tags::ApiTags,
    },
    state::State,
    store::instances::{self, CreateOutcome, DeleteOutcome, NewInstance},
    taler::{ApiError, ErrorCode, RelativeTime, time::FiniteRelativeTime},
};

error_responses!(PostInstanceErrors {
    400 => "The request is malformed (`TALER_EC_GENERIC_JSON_INVALID`, `TALER_EC_GENERIC_PARAMETER_MALFORMED` or `TALER_EC_GENERIC_PARAMETER_MISSING`).",
    401 => "The administrator token is missing or wrong (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_UNKNOWN`).",
    403 => "The token lacks `instances-write` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    409 => "The id is taken (`TALER_EC_MERCHANT_PRIVATE_POST_INSTANCES_ALREADY_EXISTS`), or belongs to a deleted instance that must be purged first (`TALER_EC_MERCHANT_PRIVATE_POST_INSTANCES_PURGE_REQUIRED`).",
    413 => "The body exceeds the size limit (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
    503 => "Every password worker is busy: retry after `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
});

error_responses!(ListInstancesErrors {
    401 => "The administrator token is missing or wrong (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_UNKNOWN`).",
    403 => "The token lacks `instances-read` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

error_responses!(GetInstanceErrors {
    401 => "The administrator token is missing or wrong (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_UNKNOWN`).",
    403 => "The token lacks `instances-read` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The instance is unknown (`TALER_EC_MERCHANT_GENERIC_INSTANCE_UNKNOWN`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

error_responses!(GetOwnInstanceErrors {
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `instances-read` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The instance is unknown (`TALER_EC_MERCHANT_GENERIC_INSTANCE_UNKNOWN`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

error_responses!(PatchInstanceErrors {
    400 => "The request is malformed (`TALER_EC_GENERIC_JSON_INVALID`, `TALER_EC_GENERIC_PARAMETER_MALFORMED` or `TALER_EC_GENERIC_PARAMETER_MISSING`).",
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `instances-token-write` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The instance is unknown (`TALER_EC_MERCHANT_GENERIC_INSTANCE_UNKNOWN`).",
    409 => "The instance was deleted and must be purged before its id can be configured again (`TALER_EC_MERCHANT_PRIVATE_PATCH_INSTANCES_PURGE_REQUIRED`; management path only).",
    413 => "The body exceeds the size limit (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
});

error_responses!(PostAuthErrors {
    400 => "The request is malformed (`TALER_EC_GENERIC_JSON_INVALID`, `TALER_EC_GENERIC_PARAMETER_MALFORMED` or `TALER_EC_GENERIC_PARAMETER_MISSING`).",
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `instances-auth-write` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The instance is unknown (`TALER_EC_MERCHANT_GENERIC_INSTANCE_UNKNOWN`).",
    413 => "The body exceeds the size limit (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
    503 => "Every password worker is busy: retry after `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
});

error_responses!(DeleteInstanceErrors {
    400 => "`purge` is neither YES nor NO (`TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`). A deleted instance can only be purged with the administrator's credentials, on the management path.",
    403 => "The token lacks `instances-write`, or the instance is the default `admin` instance, which cannot be deleted (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`, `TALER_EC_GENERIC_FORBIDDEN`).",
    404 => "The instance is unknown (`TALER_EC_MERCHANT_GENERIC_INSTANCE_UNKNOWN`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
});

pub struct InstancesApi(pub State);

#[OpenApi(tag = "ApiTags::Instances")]
impl InstancesApi {
    /// Create an instance
    ///
    /// Creates a merchant instance with its own key pair and password. Requires a token
    /// of the `admin` instance with `instances-write` (the administrator token has it).
    #[oai(
        path = "/management/instances",
        method = "post",
        operation_id = "merchant_post_management_instances"
    )]
    async fn post_instance(
        &self,
        token: MerchantToken,
        body: JsonBody<InstanceConfigurationRequest>,
    ) -> Result<NoContent, PostInstanceErrors> {
        auth::authorize(&self.0, DEFAULT_INSTANCE, &token, INSTANCES_WRITE).await?;
        let new = new_instance(&self.0.logins, body.0).await?;
        let outcome = instances::create(&self.0.db, new)
            .await
            .map_err(ApiError::db_store)?;
        match outcome {
            CreateOutcome::Created => Ok(NoContent::Done),
            CreateOutcome::AlreadyExists => Err(ApiError::new(
                ErrorCode::MerchantPrivatePostInstancesAlreadyExists,
                "an instance with this id already exists",
            )
            .into()),
            CreateOutcome::PurgeRequired => Err(ApiError::new(
                ErrorCode::MerchantPrivatePostInstancesPurgeRequired,
                "a deleted instance still holds this id; purge it first",
            )
            .into()),
        }
    }

    /// List instances
    ///
    /// All instances of the backend, deleted but unpurged ones marked `deleted`.
    #[oai(
        path = "/management/instances",
        method = "get",
        operation_id = "merchant_get_management_instances"
    )]
    async fn list_instances(
        &self,
        token: MerchantToken,
    ) -> Result<Json<InstancesResponse>, ListInstancesErrors> {
        auth::authorize(&self.0, DEFAULT_INSTANCE, &token, INSTANCES_READ).await?;
        let rows = instances::list_all(&self.0.db)
            .await
            .map_err(ApiError::db_fetch)?;
        let instances = rows
            .into_iter()
            .map(|row| {
                let settings = settings_of(&row)?;
                Ok(Instance {
                    name: row.name,
                    website: settings.website,
                    logo: settings.logo,
                    id: row.instance_id,
                    merchant_pub: merchant_pub_of(&row.merchant_pub)?,
                    payment_targets: vec![],
                    deleted: row.deleted,
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        Ok(Json(InstancesResponse { instances }))
    }

    /// Get an instance
    ///
    /// The full configuration of one instance.
    #[oai(
        path = "/management/instances/:instance",
        method = "get",
        operation_id = "merchant_get_management_instance"
    )]
    async fn get_instance(
        &self,
        token: MerchantToken,
        /// Instance id.
        instance: Path<String>,
    ) -> Result<Json<QueryInstancesResponse>, GetInstanceErrors> {
        auth::authorize(&self.0, DEFAULT_INSTANCE, &token, INSTANCES_READ).await?;
        let row = auth::instance(&self.0, &instance.0).await?;
        Ok(Json(query_response(&row)?))
    }

    /// Get the instance itself
    ///
    /// The instance's configuration, with its own credentials. Requires `instances-read`.
    #[oai(
        path = "/instances/:instance/private",
        method = "get",
        operation_id = "merchant_get_private"
    )]
    async fn get_own_instance(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
    ) -> Result<Json<QueryInstancesResponse>, GetOwnInstanceErrors> {
        let access = auth::authorize(&self.0, &instance, &token, INSTANCES_READ).await?;
        Ok(Json(query_response(&access.instance)?))
    }

    /// Reconfigure an instance
    ///
    /// Replaces its configuration (not its id or credentials). Requires a token of the
    /// `admin` instance with `instances-token-write`.
    #[oai(
        path = "/management/instances/:instance",
        method = "patch",
        operation_id = "merchant_patch_management_instance"
    )]
    async fn patch_instance(
        &self,
        token: MerchantToken,
        /// Instance id.
        instance: Path<String>,
        body: JsonBody<InstanceReconfigurationMessage>,
    ) -> Result<NoContent, PatchInstanceErrors> {
        auth::authorize(&self.0, DEFAULT_INSTANCE, &token, INSTANCES_TOKEN_WRITE).await?;
        reconfigure(&self.0, &instance, body.0).await?;
        Ok(NoContent::Done)
    }

    /// Reconfigure the instance itself
    ///
    /// As `PATCH /management/instances/$INSTANCE`, with the instance's own credentials.
    #[oai(
        path = "/instances/:instance/private",
        method = "patch",
        operation_id = "merchant_patch_private"
    )]
    async fn patch_own_instance(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        body: JsonBody<InstanceReconfigurationMessage>,
    ) -> Result<NoContent, PatchInstanceErrors> {
        auth::authorize(&self.0, &instance, &token, INSTANCES_TOKEN_WRITE).await?;
        reconfigure(&self.0, &instance, body.0).await?;
        Ok(NoContent::Done)
    }

    /// Change an instance's authentication
    ///
    /// Sets the instance's password (`token` method), or leaves authentication to a
    /// reverse proxy (`external`, deprecated since v20: the backend then checks no
    /// credentials for the instance). Requires a token of the `admin` instance with
    /// `instances-auth-write`.
    #[oai(
        path = "/management/instances/:instance/auth",
        method = "post",
        operation_id = "merchant_post_management_instance_auth"
    )]
    async fn post_instance_auth(
        &self,
        token: MerchantToken,
        /// Instance id.
        instance: Path<String>,
        body: JsonBody<InstanceAuthConfigurationMessage>,
    ) -> Result<NoContent, PostAuthErrors> {
        auth::authorize(&self.0, DEFAULT_INSTANCE, &token, INSTANCES_AUTH_WRITE).await?;
        set_auth(&self.0, &instance, body.0).await?;
        Ok(NoContent::Done)
    }

    /// Change the instance's own authentication
    ///
    /// As `POST /management/instances/$INSTANCE/auth`, with the instance's own
    /// credentials (`instances-auth-write`).
    #[oai(
        path = "/instances/:instance/private/auth",
        method = "post",
        operation_id = "merchant_post_private_auth"
    )]
    async fn post_own_auth(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        body: JsonBody<InstanceAuthConfigurationMessage>,
    ) -> Result<NoContent, PostAuthErrors> {
        auth::authorize(&self.0, &instance, &token, INSTANCES_AUTH_WRITE).await?;
        set_auth(&self.0, &instance, body.0).await?;
        Ok(NoContent::Done)
    }

    /// Delete the instance itself
    ///
    /// As `DELETE /management/instances/$INSTANCE`, with the instance's own credentials.
    /// Once deleted, only the administrator can purge it.
    #[oai(
        path = "/instances/:instance/private",
        method = "delete",
        operation_id = "merchant_delete_private"
    )]
    async fn delete_own_instance(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        /// `YES` to remove the instance and all its data for good.
        purge: Query<Option<Text<YesNo>>>,
    ) -> Result<NoContent, DeleteInstanceErrors> {
        auth::authorize(&self.0, &instance, &token, INSTANCES_WRITE).await?;
        delete(&self.0, &instance, purge.0.as_deref()).await?;
        Ok(NoContent::Done)
    }

    /// Delete an instance
    ///
    /// Without `purge` the instance is disabled: it becomes unknown to the API, its
    /// tokens are revoked, and its id stays taken. With `purge=YES` it is removed with
    /// everything it owns.
    #[oai(
        path = "/management/instances/:instance",
        method = "delete",
        operation_id = "merchant_delete_management_instance"
    )]
    async fn delete_instance(
        &self,
        token: MerchantToken,
        /// Instance id.
        instance: Path<String>,
        /// `YES` to remove the instance and all its data for good.
        purge: Query<Option<Text<YesNo>>>,
    ) -> Result<NoContent, DeleteInstanceErrors> {
        auth::authorize(&self.0, DEFAULT_INSTANCE, &token, INSTANCES_WRITE).await?;
        delete(&self.0, &instance, purge.0.as_deref()).await?;
        Ok(NoContent::Done)
    }
}

/// `QueryInstancesResponse` of a stored instance.
fn query_response(row: &instances::Instance) -> Result<QueryInstancesResponse, ApiError> {
    let s = settings_of(row)?;
    Ok(QueryInstancesResponse {
        name: row.name.clone(),
        email_validated: s.email.as_ref().map(|_| false),
        email: s.email,
        phone_validated: s.phone_number.as_ref().map(|_| false),
        phone_number: s.phone_number,
        website: s.website,
        logo: s.logo,
        merchant_pub: merchant_pub_of(&row.merchant_pub)?,
        address: s.address,
        jurisdiction: s.jurisdiction,
        use_stefan: s.use_stefan,
        default_pay_delay: s.default_pay_delay,
        default_refund_delay: s.default_refund_delay,
        default_wire_transfer_delay: s.default_wire_transfer_delay,
        auth: InstanceAuthInfo::of(row),
    })
}

/// Sets an instance's authentication (post-management-instances-INSTANCE-auth).
/// Login tokens already issued stay valid until they expire or are revoked, as a
/// password change at libeufin-bank leaves its tokens.
async fn set_auth(
    state: &State,
    instance_id: &str,
    req: InstanceAuthConfigurationMessage,
) -> Result<(), ApiError> {
    let password_hash = match req.password("")? {
        Some(password) => state.logins.hash(&password).await?,
        None => EXTERNAL_AUTH.to_owned(),
    };
    if instances::set_password_hash(&state.db, instance_id, password_hash)
        .await
        .map_err(ApiError::db_store)?
    {
        Ok(())
    } else {
        Err(auth::instance_unknown(instance_id))
    }
}

/// Replaces an instance's configuration (patch-management-instances-INSTANCE).
async fn reconfigure(
    state: &State,
    instance_id: &str,
    req: InstanceReconfigurationMessage,
) -> Result<(), ApiError> {
    let row = store_row(state, instance_id).await?;
    let old = settings_of(&row)?;
    let settings = InstanceSettings {
        email: req.email,
        phone_number: req.phone_number,
        website: req.website,
        logo: req.logo.map(String::from),
        address: req.address,
        jurisdiction: req.jurisdiction,
        use_stefan: req.use_stefan,
        default_pay_delay: finite_delay(
            "default_pay_delay",
            req.default_pay_delay,
            old.default_pay_delay,
        )?,
        default_refund_delay: finite_delay(
            "default_refund_delay",
            req.default_refund_delay,
            old.default_refund_delay,
        )?,
        default_wire_transfer_delay: finite_delay(
            "default_wire_transfer_delay",
            req.default_wire_transfer_delay,
            old.default_wire_transfer_delay,
        )?,
    };
    let text = serde_json::to_string(&settings).expect("settings serialize");
    if instances::update(&state.db, instance_id, req.name.into(), text)
        .await
        .map_err(ApiError::db_store)?
    {
        return Ok(());
    }
    // Deleted or purged between the read and the write: say which, as for the read.
    Err(store_row(state, instance_id)
        .await
        .err()
        .unwrap_or_else(|| auth::instance_unknown(instance_id)))
}

/// The stored instance, deleted or not: 404 when there is none, 409 when it was
/// deleted (a PATCH needs a purge first).
async fn store_row(state: &State, instance_id: &str) -> Result<instances::Instance, ApiError> {
    match instances::find_any(&state.db, instance_id)
        .await
        .map_err(ApiError::db_fetch)?
    {
        None => Err(auth::instance_unknown(instance_id)),
        Some(row) if row.deleted => Err(ApiError::new(
            ErrorCode::MerchantPrivatePatchInstancesPurgeRequired,
            "the instance was deleted; purge it before configuring this id again",
        )),
        Some(row) => Ok(row),
    }
}

/// Deletes (disables) or, with `purge=YES`, purges an instance.
async fn delete(state: &State, instance_id: &str, purge: Option<&str>) -> Result<(), ApiError> {
    let purge = match purge.map(str::to_ascii_uppercase).as_deref() {
        None | Some("NO") => false,
        Some("YES") => true,
        Some(_) => return Err(ApiError::malformed("purge", "purge must be YES or NO")),
    };
    // The pages are silent; deleting the instance that holds the administrator's
    // rights would leave nobody able to manage the backend.
    if instance_id == DEFAULT_INSTANCE {
        return Err(ApiError::new(
            ErrorCode::GenericForbidden,
            "the default instance cannot be deleted",
        ));
    }
    match instances::delete(&state.db, instance_id, purge)
        .await
        .map_err(ApiError::db_store)?
    {
        DeleteOutcome::Deleted => Ok(()),
        DeleteOutcome::Unknown => Err(auth::instance_unknown(instance_id)),
    }
}

/// A delay as given, else `default`; "forever" is refused (the page forbids it).
fn finite_delay(
    field: &str,
    value: Option<FiniteRelativeTime>,
    default: RelativeTime,
) -> Result<RelativeTime, ApiError> {
    match value {
        None => Ok(default),
        Some(FiniteRelativeTime(Some(us))) => Ok(RelativeTime::Micros(us)),
        Some(FiniteRelativeTime(None)) => Err(ApiError::malformed(
            field,
            format!("`{field}` must not be \"forever\""),
        )),
    }
}

/// Validates a creation request and prepares the row, with a fresh key pair.
async fn new_instance(
    logins: &crate::taler::login::Logins,
    req: InstanceConfigurationRequest,
) -> Result<NewInstance, ApiError> {
    if !valid_instance_id(&req.id) {
        return Err(ApiError::malformed(
            "id",
            "the id must match ^[A-Za-z0-9][A-Za-z0-9_.@-]+$ and have at most 64 characters",
        ));
    }
    if req.id.as_str() == "default" {
        return Err(ApiError::malformed(
            "id",
            "`default` is the old name of the default instance `admin`, and requests to it are redirected there",
        ));
    }
    let password = req.auth.clone().password("auth.")?;
    let defaults = InstanceSettings::defaults();
    let settings = InstanceSettings {
        email: req.email,
        phone_number: req.phone_number,
        website: req.website,
        logo: req.logo.map(String::from),
        address: req.address,
        jurisdiction: req.jurisdiction,
        use_stefan: req.use_stefan,
        default_pay_delay: finite_delay(
            "default_pay_delay",
            req.default_pay_delay,
            defaults.default_pay_delay,
        )?,
        default_refund_delay: finite_delay(
            "default_refund_delay",
            req.default_refund_delay,
            defaults.default_refund_delay,
        )?,
        default_wire_transfer_delay: finite_delay(
            "default_wire_transfer_delay",
            req.default_wire_transfer_delay,
            defaults.default_wire_transfer_delay,
        )?,
    };
    let password_hash = match password {
        Some(password) => logins.hash(&password).await?,
        None => EXTERNAL_AUTH.to_owned(),
    };
    Ok(instance_row(
        req.id.into(),
        req.name.into(),
        password_hash,
        &settings,
    ))
}
