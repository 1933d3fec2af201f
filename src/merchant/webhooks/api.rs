//! `[/instances/$INSTANCE]/private/webhooks[/$WEBHOOK_ID]`: an instance's webhooks.

use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};

use crate::{
    error_responses,
    http::{JsonBody, NoContent},
    merchant::{
        instances::auth::{self, MerchantToken, Permission},
        tags::ApiTags,
        webhooks::events::WebhookEventType,
    },
    state::State,
    store::webhooks::{self as store, CreateOutcome, Webhook, WebhookSettings},
    taler::{
        ApiError, ErrorCode, limits,
        text::{NotBlank, Text},
    },
};

const WEBHOOKS_READ: Permission = "webhooks-read";
const WEBHOOKS_WRITE: Permission = "webhooks-write";

/// The methods a webhook may use.
const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];

/// `WebhookAddDetails`.
#[derive(Object)]
pub struct WebhookAddDetails {
    /// Webhook ID to use.
    pub webhook_id: Text<NotBlank>,
    /// The event of the webhook: why the webhook is used.
    pub event_type: WebhookEventType,
    /// URL the webhook calls (`http` or `https`); a template like the others.
    // `limits::MAX_WEBHOOK_URL_CHARS`.
    #[oai(validator(max_length = 2048, pattern = r"^[Hh][Tt][Tt][Pp][Ss]?://"))]
    pub url: String,
    /// Method used by the webhook: GET, POST, PUT, PATCH or DELETE (any case).
    #[oai(validator(
        pattern = r"^([Gg][Ee][Tt]|[Pp][Oo][Ss][Tt]|[Pp][Uu][Tt]|[Pp][Aa][Tt][Cc][Hh]|[Dd][Ee][Ll][Ee][Tt][Ee])$"
    ))]
    pub http_method: String,
    /// Header template of the webhook: `Name: value` lines.
    // `limits::MAX_WEBHOOK_TEMPLATE_CHARS`.
    #[oai(validator(max_length = 65536))]
    pub header_template: Option<String>,
    /// Body template of the webhook.
    // `limits::MAX_WEBHOOK_TEMPLATE_CHARS`.
    #[oai(validator(max_length = 65536))]
    pub body_template: Option<String>,
}

/// `WebhookPatchDetails`.
#[derive(Object)]
pub struct WebhookPatchDetails {
    /// The event of the webhook: why the webhook is used.
    pub event_type: WebhookEventType,
    /// URL the webhook calls (`http` or `https`); a template like the others.
    // `limits::MAX_WEBHOOK_URL_CHARS`.
    #[oai(validator(max_length = 2048, pattern = r"^[Hh][Tt][Tt][Pp][Ss]?://"))]
    pub url: String,
    /// Method used by the webhook: GET, POST, PUT, PATCH or DELETE (any case).
    #[oai(validator(
        pattern = r"^([Gg][Ee][Tt]|[Pp][Oo][Ss][Tt]|[Pp][Uu][Tt]|[Pp][Aa][Tt][Cc][Hh]|[Dd][Ee][Ll][Ee][Tt][Ee])$"
    ))]
    pub http_method: String,
    /// Header template of the webhook: `Name: value` lines.
    // `limits::MAX_WEBHOOK_TEMPLATE_CHARS`.
    #[oai(validator(max_length = 65536))]
    pub header_template: Option<String>,
    /// Body template of the webhook.
    // `limits::MAX_WEBHOOK_TEMPLATE_CHARS`.
    #[oai(validator(max_length = 65536))]
    pub body_template: Option<String>,
}

/// `WebhookEntry`.
#[derive(Object)]
pub struct WebhookEntry {
    /// Webhook identifier, as found in the webhook.
    pub webhook_id: String,
    /// The event of the webhook: why the webhook is used.
    pub event_type: WebhookEventType,
}

/// `WebhookSummaryResponse`.
#[derive(Object)]
pub struct WebhookSummaryResponse {
    /// The instance's webhooks.
    pub webhooks: Vec<WebhookEntry>,
}

/// `WebhookDetails`.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct WebhookDetails {
    /// The event of the webhook: why the webhook is used.
    pub event_type: WebhookEventType,
    /// URL the webhook calls.
    pub url: String,
    /// Method used by the webhook.
    pub http_method: String,
    /// Header template of the webhook.
    pub header_template: Option<String>,
    /// Body template of the webhook.
    pub body_template: Option<String>,
}

#[derive(ApiResponse)]
pub enum WebhooksListed {
    /// The instance's webhooks.
    #[oai(status = 200)]
    Ok(Json<WebhookSummaryResponse>),
}

#[derive(ApiResponse)]
pub enum WebhookFound {
    /// The webhook.
    #[oai(status = 200)]
    Ok(Json<WebhookDetails>),
}

error_responses!(PostWebhookErrors {
    400 => "The request body is malformed: an empty id, a URL that is not http(s), an unknown method, or the instance has its largest number of webhooks (`TALER_EC_GENERIC_JSON_INVALID`, `TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `webhooks-write` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The merchant instance is unknown (`TALER_EC_MERCHANT_GENERIC_INSTANCE_UNKNOWN`).",
    409 => "A webhook with this ID and other settings exists (`TALER_EC_MERCHANT_PRIVATE_POST_WEBHOOKS_CONFLICT_WEBHOOK_EXISTS`).",
    413 => "The body exceeds the size limit (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
});

error_responses!(ListWebhooksErrors {
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `webhooks-read` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The backend does not know the instance (`TALER_EC_MERCHANT_GENERIC_INSTANCE_UNKNOWN`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

error_responses!(GetWebhookErrors {
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `webhooks-read` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The webhook (or the instance) is unknown (`TALER_EC_MERCHANT_GENERIC_WEBHOOK_UNKNOWN`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

error_responses!(PatchWebhookErrors {
    400 => "The request body is malformed (`TALER_EC_GENERIC_JSON_INVALID`, `TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `webhooks-write` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The webhook (or the instance) is unknown (`TALER_EC_MERCHANT_GENERIC_WEBHOOK_UNKNOWN`).",
    413 => "The body exceeds the size limit (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
});

error_responses!(DeleteWebhookErrors {
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `webhooks-write` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The webhook (or the instance) is unknown (`TALER_EC_MERCHANT_GENERIC_WEBHOOK_UNKNOWN`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
});

fn webhook_unknown(id: &str) -> ApiError {
    ApiError::new(
        ErrorCode::MerchantGenericWebhookUnknown,
        format!("webhook `{id}` is unknown"),
    )
}

/// The settings a request gives, checked: an http(s) URL, a known method.
fn settings(
    event_type: WebhookEventType,
    url: String,
    http_method: &str,
    header_template: Option<String>,
    body_template: Option<String>,
) -> Result<WebhookSettings, ApiError> {
    // The URL is a template: it is a URL once expanded, so only its scheme is checked
    // here (a delivery to a malformed one fails, is retried and logged).
    let lower = url.get(..8).unwrap_or(&url).to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://"))
        || url.chars().count() > limits::MAX_WEBHOOK_URL_CHARS
    {
        return Err(ApiError::malformed(
            "url",
            "url: must be an http or https URL",
        ));
    }
    let method = http_method.to_ascii_uppercase();
    if !METHODS.contains(&method.as_str()) {
        return Err(ApiError::malformed(
            "http_method",
            format!("http_method: must be one of {}", METHODS.join(", ")),
        ));
    }
    Ok(WebhookSettings {
        event_type: event_type.name(),
        url,
        http_method: method,
        header_template,
        body_template,
    })
}

fn event_of(hook: &Webhook) -> Result<WebhookEventType, ApiError> {
    WebhookEventType::parse(&hook.event_type)
        .ok_or_else(|| ApiError::db_fetch(format!("stored event type `{}`", hook.event_type)))
}

pub struct WebhooksApi(pub State);

#[OpenApi(tag = "ApiTags::Webhooks")]
impl WebhooksApi {
    /// Create a webhook
    ///
    /// Posting the same settings under the same id again is no conflict. An instance
    /// has at most 64 webhooks. Requires `webhooks-write`.
    #[oai(
        path = "/instances/:instance/private/webhooks",
        method = "post",
        operation_id = "merchant_post_private_webhooks"
    )]
    async fn post_webhook(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        body: JsonBody<WebhookAddDetails>,
    ) -> Result<NoContent, PostWebhookErrors> {
        let access = auth::authorize(&self.0, &instance, &token, WEBHOOKS_WRITE).await?;
        let body = body.0;
        let webhook_id = body.webhook_id.as_str().to_owned();
        let settings = settings(
            body.event_type,
            body.url,
            &body.http_method,
            body.header_template,
            body.body_template,
        )?;
        let serial = access.instance.instance_serial;
        let count = store::count(&self.0.db, serial)
            .await
            .map_err(ApiError::db_fetch)?;
        if count as usize >= limits::MAX_WEBHOOKS
            && store::find(&self.0.db, serial, &webhook_id)
                .await
                .map_err(ApiError::db_fetch)?
                .is_none()
        {
            return Err(ApiError::malformed(
                "webhook_id",
                format!(
                    "the instance has {} webhooks, the most it may have",
                    limits::MAX_WEBHOOKS
                ),
            )
            .into());
        }
        match store::create(&self.0.db, serial, &webhook_id, settings)
            .await
            .map_err(ApiError::db_store)?
        {
            CreateOutcome::Created => Ok(NoContent::Done),
            CreateOutcome::Conflict => Err(ApiError::new(
                ErrorCode::MerchantPrivatePostWebhooksConflictWebhookExists,
                format!("webhook `{webhook_id}` exists with other settings"),
            )
            .into()),
        }
    }

    /// List the webhooks
    ///
    /// Requires `webhooks-read`.
    #[oai(
        path = "/instances/:instance/private/webhooks",
        method = "get",
        operation_id = "merchant_get_private_webhooks"
    )]
    async fn list_webhooks(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
    ) -> Result<WebhooksListed, ListWebhooksErrors> {
        let access = auth::authorize(&self.0, &instance, &token, WEBHOOKS_READ).await?;
        let hooks = store::list(&self.0.db, access.instance.instance_serial)
            .await
            .map_err(ApiError::db_fetch)?;
        let webhooks = hooks
            .iter()
            .map(|h| {
                Ok(WebhookEntry {
                    webhook_id: h.webhook_id.clone(),
                    event_type: event_of(h)?,
                })
            })
            .collect::<Result<_, ApiError>>()?;
        Ok(WebhooksListed::Ok(Json(WebhookSummaryResponse {
            webhooks,
        })))
    }

    /// Get a webhook
    ///
    /// Requires `webhooks-read`.
    #[oai(
        path = "/instances/:instance/private/webhooks/:webhook_id",
        method = "get",
        operation_id = "merchant_get_private_webhook"
    )]
    async fn get_webhook(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        /// The webhook's id.
        webhook_id: Path<String>,
    ) -> Result<WebhookFound, GetWebhookErrors> {
        let access = auth::authorize_object(&self.0, &instance, &token, WEBHOOKS_READ, || {
            webhook_unknown(&webhook_id)
        })
        .await?;
        let hook = store::find(&self.0.db, access.instance.instance_serial, &webhook_id)
            .await
            .map_err(ApiError::db_fetch)?
            .ok_or_else(|| webhook_unknown(&webhook_id))?;
        Ok(WebhookFound::Ok(Json(WebhookDetails {
            event_type: event_of(&hook)?,
            url: hook.url,
            http_method: hook.http_method,
            header_template: hook.header_template,
            body_template: hook.body_template,
        })))
    }

    /// Change a webhook
    ///
    /// Replaces its settings; deliveries already pending keep what they were expanded
    /// to. Requires `webhooks-write`.
    #[oai(
        path = "/instances/:instance/private/webhooks/:webhook_id",
        method = "patch",
        operation_id = "merchant_patch_private_webhook"
    )]
    async fn patch_webhook(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        /// The webhook's id.
        webhook_id: Path<String>,
        body: JsonBody<WebhookPatchDetails>,
    ) -> Result<NoContent, PatchWebhookErrors> {
        let access = auth::authorize_object(&self.0, &instance, &token, WEBHOOKS_WRITE, || {
            webhook_unknown(&webhook_id)
        })
        .await?;
        let body = body.0;
        let settings = settings(
            body.event_type,
            body.url,
            &body.http_method,
            body.header_template,
            body.body_template,
        )?;
        if store::update(
            &self.0.db,
            access.instance.instance_serial,
            &webhook_id,
            settings,
        )
        .await
        .map_err(ApiError::db_store)?
        {
            Ok(NoContent::Done)
        } else {
            Err(webhook_unknown(&webhook_id).into())
        }
    }

    /// Delete a webhook
    ///
    /// Its pending deliveries are dropped. Requires `webhooks-write`.
    #[oai(
        path = "/instances/:instance/private/webhooks/:webhook_id",
        method = "delete",
        operation_id = "merchant_delete_private_webhook"
    )]
    async fn delete_webhook(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        /// The webhook's id.
        webhook_id: Path<String>,
    ) -> Result<NoContent, DeleteWebhookErrors> {
        let access = auth::authorize_object(&self.0, &instance, &token, WEBHOOKS_WRITE, || {
            webhook_unknown(&webhook_id)
        })
        .await?;
        if store::delete(&self.0.db, access.instance.instance_serial, &webhook_id)
            .await
            .map_err(ApiError::db_store)?
        {
            Ok(NoContent::Done)
        } else {
            Err(webhook_unknown(&webhook_id).into())
        }
    }
}
