//! [`JsonBody`]: a JSON request body parsed strictly along its published schema
//! (`strict`).

use poem::{Request, Result, http::StatusCode};
use poem_openapi::error::{ContentTypeError, ParseRequestPayloadError};

use super::{body::is_json_content_type, strict};

/// A JSON request body, parsed strictly: where the published schema says `string`, a
/// number or a boolean is refused. poem-openapi's own `String` would turn `0` into
/// `"0"`, so a request the spec calls invalid would be accepted.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<T> std::ops::Deref for JsonBody<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: poem_openapi::types::Type> poem_openapi::payload::Payload for JsonBody<T> {
    const CONTENT_TYPE: &'static str = "application/json; charset=utf-8";

    fn check_content_type(content_type: &str) -> bool {
        is_json_content_type(content_type)
    }

    fn schema_ref() -> poem_openapi::registry::MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut poem_openapi::registry::Registry) {
        T::register(registry);
    }
}

impl<T: poem_openapi::types::ParseFromJSON + 'static> poem_openapi::payload::ParsePayload
    for JsonBody<T>
{
    const IS_REQUIRED: bool = T::IS_REQUIRED;

    async fn from_request(request: &Request, body: &mut poem::RequestBody) -> Result<Self> {
        use poem::FromRequest;
        let data = Vec::<u8>::from_request(request, body).await?;
        let mut value = if data.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&data).map_err(|err| ParseRequestPayloadError {
                reason: err.to_string(),
            })?
        };
        // An optional body that is absent (no bytes, or `null`) is `None`.
        if value.is_null() && !T::IS_REQUIRED {
            return T::parse_from_json(None).map(JsonBody).map_err(|err| {
                ParseRequestPayloadError {
                    reason: err.into_message(),
                }
                .into()
            });
        }
        let registry = strict::registry_of::<T>();
        strict::drop_absent_nulls(&registry, &T::schema_ref(), &mut value);
        strict::check(&registry, &T::schema_ref(), &value, "")
            .map_err(|v| poem::Error::new(v, StatusCode::BAD_REQUEST))?;
        T::parse_from_json(Some(value))
            .map(JsonBody)
            .map_err(|err| {
                ParseRequestPayloadError {
                    reason: err.into_message(),
                }
                .into()
            })
    }
}

impl<'a, T: poem_openapi::types::ParseFromJSON + 'static> poem_openapi::ApiExtractor<'a>
    for JsonBody<T>
{
    const TYPES: &'static [poem_openapi::ApiExtractorType] =
        &[poem_openapi::ApiExtractorType::RequestObject];

    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut poem_openapi::registry::Registry) {
        <Self as poem_openapi::payload::Payload>::register(registry);
    }

    fn request_meta() -> Option<poem_openapi::registry::MetaRequest> {
        use poem_openapi::payload::{ParsePayload, Payload};
        Some(poem_openapi::registry::MetaRequest {
            description: None,
            content: vec![poem_openapi::registry::MetaMediaType {
                content_type: <Self as Payload>::CONTENT_TYPE,
                schema: <Self as Payload>::schema_ref(),
            }],
            required: <Self as ParsePayload>::IS_REQUIRED,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut poem::RequestBody,
        _param_opts: poem_openapi::ExtractParamOptions<Self::ParamType>,
    ) -> Result<Self> {
        use poem_openapi::payload::{ParsePayload, Payload};
        if let Some(deferred) = request.extensions().get::<super::body::DeferredBodyError>() {
            return Err(deferred.0.clone().into());
        }
        match request.content_type() {
            Some(content_type) if <Self as Payload>::check_content_type(content_type) => {
                <Self as ParsePayload>::from_request(request, body).await
            }
            Some(content_type) => Err(ContentTypeError::NotSupported {
                content_type: content_type.to_owned(),
            }
            .into()),
            // An optional body may be left out altogether.
            None if !<Self as ParsePayload>::IS_REQUIRED => {
                <Self as ParsePayload>::from_request(request, body).await
            }
            None => Err(ContentTypeError::ExpectContentType.into()),
        }
    }
}
