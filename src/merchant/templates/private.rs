//! The merchant's templates: `[/instances/$INSTANCE]/private/templates[/$TEMPLATE_ID]`.

use std::collections::BTreeMap;

use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};
use serde_json::Value;

use crate::{
    error_responses,
    http::{JsonBody, NoContent},
    merchant::{
        instances::auth::{self, MerchantToken, Permission},
        tags::ApiTags,
        templates::{
            contract::{ContractFields, TemplateContractDetails, TemplateType},
            inventory_cart,
        },
    },
    state::State,
    store::{
        CreateOutcome,
        templates::{self, SaveOutcome, Template, TemplateSettings},
    },
    taler::{ApiError, ErrorCode},
};

pub const TEMPLATES_READ: Permission = "templates-read";
pub const TEMPLATES_WRITE: Permission = "templates-write";

/// `TemplateCreateRequest` (the newest page's name; older pages and seed 001 call it
/// `TemplateAddDetails`, with the same fields).
#[derive(Object)]
pub struct TemplateCreateRequest {
    /// Template ID to use.
    #[oai(validator(min_length = 1))]
    pub template_id: String,
    /// Human-readable description for the template.
    pub template_description: String,
    /// OTP device ID.
    pub otp_id: Option<String>,
    /// Fixed contract information for orders created from this template.
    pub template_contract: TemplateContractDetails,
    /// Key-value pairs matching a subset of the fields from `template_contract` that
    /// are user-editable defaults for this template.
    pub editable_defaults: Option<BTreeMap<String, Value>>,
}

/// `TemplatePatchDetails`: replaces every setting of the template.
#[derive(Object)]
pub struct TemplatePatchDetails {
    /// Human-readable description for the template.
    pub template_description: String,
    /// OTP device ID; the template uses no device when absent.
    pub otp_id: Option<String>,
    /// Additional information in a separate template.
    pub template_contract: TemplateContractDetails,
    /// Key-value pairs matching a subset of the fields from `template_contract` that
    /// are user-editable defaults for this template.
    pub editable_defaults: Option<BTreeMap<String, Value>>,
}

/// `TemplateSummaryResponse`.
#[derive(Object)]
pub struct TemplateSummaryResponse {
    /// List of templates that are present in our backend.
    pub templates: Vec<TemplateEntry>,
}

/// `TemplateEntry`.
#[derive(Object)]
pub struct TemplateEntry {
    /// Template identifier, as found in the template.
    pub template_id: String,
    /// Human-readable description for the template.
    pub template_description: String,
}

/// `TemplateDetails`.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct TemplateDetails {
    /// Human-readable description for the template.
    pub template_description: String,
    /// OTP device ID.
    pub otp_id: Option<String>,
    /// Additional information in a separate template, as stored.
    pub template_contract: TemplateContractDetails,
    /// User-editable defaults, as stored.
    pub editable_defaults: Option<BTreeMap<String, Value>>,
    /// Required currency for payments, when the contract or the defaults fix one.
    pub required_currency: Option<String>,
}

#[derive(ApiResponse)]
pub enum TemplatesListed {
    /// The instance's templates (possibly none).
    #[oai(status = 200)]
    Ok(Json<TemplateSummaryResponse>),
}

#[derive(ApiResponse)]
pub enum TemplateFound {
    /// The template, as stored.
    #[oai(status = 200)]
    Ok(Json<TemplateDetails>),
}

error_responses!(PostTemplateErrors {
    400 => "The request body is malformed; the hint names the field (`TALER_EC_GENERIC_PARAMETER_MALFORMED`, `TALER_EC_GENERIC_PARAMETER_MISSING`, `TALER_EC_GENERIC_JSON_INVALID`).",
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `templates-write` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The merchant instance or OTP device is unknown (`TALER_EC_MERCHANT_GENERIC_INSTANCE_UNKNOWN`, `TALER_EC_MERCHANT_GENERIC_OTP_DEVICE_UNKNOWN`).",
    409 => "A template with this ID but different details exists (`TALER_EC_MERCHANT_PRIVATE_POST_TEMPLATES_CONFLICT_TEMPLATE_EXISTS`).",
    413 => "The uploaded body is too long (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`, `TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

error_responses!(ListTemplatesErrors {
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `templates-read` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The backend does not know the instance (`TALER_EC_MERCHANT_GENERIC_INSTANCE_UNKNOWN`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

error_responses!(GetTemplateErrors {
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `templates-read` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The instance or template is unknown (`TALER_EC_MERCHANT_GENERIC_TEMPLATE_UNKNOWN`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

error_responses!(PatchTemplateErrors {
    400 => "The request body is malformed; the hint names the field (`TALER_EC_GENERIC_PARAMETER_MALFORMED`, `TALER_EC_GENERIC_PARAMETER_MISSING`, `TALER_EC_GENERIC_JSON_INVALID`).",
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `templates-write` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The instance, template or OTP device is unknown (`TALER_EC_MERCHANT_GENERIC_TEMPLATE_UNKNOWN`, `TALER_EC_MERCHANT_GENERIC_OTP_DEVICE_UNKNOWN`).",
    413 => "The uploaded body is too long (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`, `TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

error_responses!(DeleteTemplateErrors {
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `templates-write` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The instance or template is unknown (`TALER_EC_MERCHANT_GENERIC_TEMPLATE_UNKNOWN`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
});

pub fn template_unknown(id: &str) -> ApiError {
    ApiError::new(
        ErrorCode::MerchantGenericTemplateUnknown,
        format!("template `{id}` is unknown"),
    )
}

pub fn otp_unknown(otp_id: Option<&str>) -> ApiError {
    ApiError::new(
        ErrorCode::MerchantGenericOtpDeviceUnknown,
        format!("OTP device `{}` is unknown", otp_id.unwrap_or_default()),
    )
}

/// The checks that need the configuration or the database, and the settings to store.
pub async fn checked_settings(
    state: &State,
    instance_serial: i64,
    description: String,
    otp_id: Option<String>,
    contract: &TemplateContractDetails,
    editable_defaults: Option<&BTreeMap<String, Value>>,
) -> Result<TemplateSettings, ApiError> {
    let defaults = match editable_defaults {
        Some(map) => contract.check_editable_defaults(map).map_err(|e| {
            ApiError::malformed("editable_defaults", format!("editable_defaults.{e}"))
        })?,
        None => ContractFields::default(),
    };
    let configured = state.config.currency.as_str();
    for (prefix, fields) in [
        ("template_contract", &contract.fields),
        ("editable_defaults", &defaults),
    ] {
        if let Some((field, currency)) = fields
            .currencies()
            .into_iter()
            .find(|(_, c)| *c != configured)
        {
            let name = format!("{prefix}.{field}");
            return Err(ApiError::malformed(
                &name,
                format!(
                    "{name}: currency {currency} is not configured (this backend uses {configured})"
                ),
            )
            .currency(currency));
        }
    }
    if contract.template_type == TemplateType::InventoryCart {
        inventory_cart::check_selection(
            state,
            instance_serial,
            &contract.fields,
            "template_contract.",
        )
        .await?;
    }
    Ok(TemplateSettings {
        description,
        otp_id,
        contract: contract.to_db(),
        editable_defaults: editable_defaults
            .map(|m| serde_json::to_string(m).expect("a JSON map serializes")),
    })
}

/// A stored template's contract, defaults and required currency.
type StoredParts = (
    TemplateContractDetails,
    Option<BTreeMap<String, Value>>,
    Option<String>,
);

pub fn stored_parts(template: &Template) -> Result<StoredParts, ApiError> {
    let invariant = |e: String| {
        tracing::error!(template = %template.template_id, error = %e, "stored template is invalid");
        ApiError::new(
            ErrorCode::GenericInternalInvariantFailure,
            "the stored template is invalid",
        )
    };
    let value =
        serde_json::from_str(&template.template_contract).map_err(|e| invariant(e.to_string()))?;
    let contract = TemplateContractDetails::from_value(value).map_err(invariant)?;
    let defaults: Option<BTreeMap<String, Value>> = template
        .editable_defaults
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(|e| invariant(e.to_string()))?;
    let default_fields = match &defaults {
        Some(map) => contract.check_editable_defaults(map).map_err(invariant)?,
        None => ContractFields::default(),
    };
    let required_currency = contract
        .fields
        .pinned_currency()
        .or(default_fields.pinned_currency())
        .map(str::to_owned);
    Ok((contract, defaults, required_currency))
}

pub struct TemplatesApi(pub State);

#[OpenApi(tag = "ApiTags::Templates")]
impl TemplatesApi {
    /// Create a template
    ///
    /// Stores the template exactly as posted. Posting the same template again is not an
    /// error; the same ID with other details is 409. Requires `templates-write`.
    #[oai(
        path = "/instances/:instance/private/templates",
        method = "post",
        operation_id = "merchant_post_private_templates"
    )]
    async fn post_template(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        body: JsonBody<TemplateCreateRequest>,
    ) -> Result<NoContent, PostTemplateErrors> {
        let access = auth::authorize(&self.0, &instance, &token, TEMPLATES_WRITE).await?;
        let body = body.0;
        let serial = access.instance.instance_serial;
        let otp_id = body.otp_id.clone();
        let settings = checked_settings(
            &self.0,
            serial,
            body.template_description,
            body.otp_id,
            &body.template_contract,
            body.editable_defaults.as_ref(),
        )
        .await?;
        match templates::create(&self.0.db, serial, body.template_id, settings)
            .await
            .map_err(ApiError::db_store)?
        {
            SaveOutcome::Saved(CreateOutcome::Created) => Ok(NoContent::Done),
            SaveOutcome::Saved(CreateOutcome::Conflict) => Err(ApiError::new(
                ErrorCode::MerchantPrivatePostTemplatesConflictTemplateExists,
                "a template with this ID but different details exists",
            )
            .into()),
            SaveOutcome::OtpUnknown | SaveOutcome::Unknown => {
                Err(otp_unknown(otp_id.as_deref()).into())
            }
        }
    }

    /// List templates
    ///
    /// Requires `templates-read`.
    #[oai(
        path = "/instances/:instance/private/templates",
        method = "get",
        operation_id = "merchant_get_private_templates"
    )]
    async fn list_templates(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
    ) -> Result<TemplatesListed, ListTemplatesErrors> {
        let access = auth::authorize(&self.0, &instance, &token, TEMPLATES_READ).await?;
        let templates = templates::list(&self.0.db, access.instance.instance_serial)
            .await
            .map_err(ApiError::db_fetch)?
            .into_iter()
            .map(|t| TemplateEntry {
                template_id: t.template_id,
                template_description: t.template_description,
            })
            .collect();
        Ok(TemplatesListed::Ok(Json(TemplateSummaryResponse {
            templates,
        })))
    }

    /// Get a template
    ///
    /// Returns the template as stored. Requires `templates-read`.
    #[oai(
        path = "/instances/:instance/private/templates/:template_id",
        method = "get",
        operation_id = "merchant_get_private_template"
    )]
    async fn get_template(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        /// The template's `template_id`.
        template_id: Path<String>,
    ) -> Result<TemplateFound, GetTemplateErrors> {
        let (_, template, row) = auth::authorize_found(
            &self.0,
            &token,
            TEMPLATES_READ,
            async |hash| {
                templates::find_with_access(&self.0.db, &instance, Some(&hash), &template_id).await
            },
            || template_unknown(&template_id),
        )
        .await?;
        let otp_id = templates::otp_id_of(&row).map_err(ApiError::db_fetch)?;
        let (template_contract, editable_defaults, required_currency) = stored_parts(&template)?;
        Ok(TemplateFound::Ok(Json(TemplateDetails {
            template_description: template.template_description,
            otp_id,
            template_contract,
            editable_defaults,
            required_currency,
        })))
    }

    /// Modify a template
    ///
    /// Replaces description, OTP device, contract and editable defaults. Requires
    /// `templates-write`.
    #[oai(
        path = "/instances/:instance/private/templates/:template_id",
        method = "patch",
        operation_id = "merchant_patch_private_template"
    )]
    async fn patch_template(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        /// The template's `template_id`.
        template_id: Path<String>,
        body: JsonBody<TemplatePatchDetails>,
    ) -> Result<NoContent, PatchTemplateErrors> {
        let access = auth::authorize_object(&self.0, &instance, &token, TEMPLATES_WRITE, || {
            template_unknown(&template_id)
        })
        .await?;
        let body = body.0;
        let serial = access.instance.instance_serial;
        let otp_id = body.otp_id.clone();
        let settings = checked_settings(
            &self.0,
            serial,
            body.template_description,
            body.otp_id,
            &body.template_contract,
            body.editable_defaults.as_ref(),
        )
        .await?;
        match templates::update(&self.0.db, serial, &template_id, settings)
            .await
            .map_err(ApiError::db_store)?
        {
            SaveOutcome::Saved(_) => Ok(NoContent::Done),
            SaveOutcome::Unknown => Err(template_unknown(&template_id).into()),
            SaveOutcome::OtpUnknown => Err(otp_unknown(otp_id.as_deref()).into()),
        }
    }

    /// Delete a template
    ///
    /// Requires `templates-write`.
    #[oai(
        path = "/instances/:instance/private/templates/:template_id",
        method = "delete",
        operation_id = "merchant_delete_private_template"
    )]
    async fn delete_template(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        /// The template's `template_id`.
        template_id: Path<String>,
    ) -> Result<NoContent, DeleteTemplateErrors> {
        let access = auth::authorize_object(&self.0, &instance, &token, TEMPLATES_WRITE, || {
            template_unknown(&template_id)
        })
        .await?;
        if templates::delete(&self.0.db, access.instance.instance_serial, &template_id)
            .await
            .map_err(ApiError::db_store)?
        {
            Ok(NoContent::Done)
        } else {
            Err(template_unknown(&template_id).into())
        }
    }
}
