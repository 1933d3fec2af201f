//! Every error a client sees leaves as a Taler `ErrorDetail`: poem's and
//! poem-openapi's errors mapped to the service's conventions.

use std::sync::Arc;

use poem::{
    Endpoint, IntoResponse, Middleware, Request, Response, Result,
    error::{MethodNotAllowedError, NotFoundError},
    http::{HeaderValue, StatusCode, header},
};
use poem_openapi::error::{
    AuthorizationError, ContentTypeError, ParseParamError, ParsePathError, ParseRequestPayloadError,
};

use super::{routes::AllowedMethods, strict};
use crate::taler::{ApiError, ErrorCode};

/// How a service reports a JSON body that parses but does not fit the schema
/// (a missing field, a wrong type, an invalid amount): the Taler services differ.
#[derive(Debug, Clone, Copy)]
pub enum BodyErrorPolicy {
    /// `TALER_EC_GENERIC_PARAMETER_MISSING` / `_MALFORMED`, as the merchant backend does.
    Parameter,
    /// `TALER_EC_GENERIC_JSON_INVALID` for every body problem, as the Donau does.
    JsonInvalid,
    /// As libeufin-bank: `TALER_EC_GENERIC_JSON_INVALID` for every body problem but an
    /// amount it cannot read (`TALER_EC_BANK_BAD_FORMAT_AMOUNT`, or
    /// `TALER_EC_BANK_NUMBER_TOO_BIG` beyond Taler's largest).
    ShapeJsonInvalid,
}

/// How a service answers a request without the `Authorization` header it requires.
#[derive(Debug, Clone, Copy)]
pub enum MissingAuth {
    /// 401 `TALER_EC_GENERIC_UNAUTHORIZED` (merchant, bank).
    Unauthorized,
    /// 403 `TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`, as the Donau pages say.
    Forbidden,
}

/// Wraps one service so that its errors follow that service's conventions.
pub struct ServiceErrors {
    pub policy: BodyErrorPolicy,
    pub missing_auth: MissingAuth,
    pub allowed: Arc<AllowedMethods>,
}

impl<E: Endpoint> Middleware<E> for ServiceErrors {
    type Output = ServiceErrorsEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        ServiceErrorsEndpoint {
            inner,
            policy: self.policy,
            missing_auth: self.missing_auth,
            allowed: self.allowed.clone(),
        }
    }
}

pub struct ServiceErrorsEndpoint<E> {
    inner: E,
    policy: BodyErrorPolicy,
    missing_auth: MissingAuth,
    allowed: Arc<AllowedMethods>,
}

impl<E: Endpoint> Endpoint for ServiceErrorsEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        let path = req.uri().path().to_owned();
        if let Some(err) = self.allowed.bad_parameter(req.uri()) {
            return Ok(err.into_response());
        }
        Ok(match self.inner.call(req).await {
            Ok(resp) => resp.into_response(),
            Err(err) => {
                let renamed = err.downcast_ref::<ParsePathError>().and_then(|e| {
                    let index = e.name.strip_prefix("param")?.parse().ok()?;
                    let name = self.allowed.parameter_name(&path, index)?;
                    Some(parameter_error(name, &e.reason))
                });
                let mut resp = match renamed {
                    Some(api) => api.into_response(),
                    None => api_error(err, self.policy, self.missing_auth).into_response(),
                };
                if resp.status() == StatusCode::METHOD_NOT_ALLOWED
                    && let Some(allow) = self.allowed.for_path(&path)
                    && let Ok(value) = HeaderValue::from_str(allow)
                {
                    resp.headers_mut().insert(header::ALLOW, value);
                }
                resp
            }
        })
    }
}

/// Turns any error that reached the edge into an `ErrorDetail` response.
pub fn error_response(err: poem::Error) -> Response {
    api_error(err, BodyErrorPolicy::JsonInvalid, MissingAuth::Unauthorized).into_response()
}

pub fn api_error(err: poem::Error, policy: BodyErrorPolicy, missing_auth: MissingAuth) -> ApiError {
    if let Some(e) = err.downcast_ref::<ApiError>() {
        return e.clone();
    }
    if let Some(e) = body_error(&err, policy) {
        return e;
    }
    if let Some(e) = err.downcast_ref::<ParseParamError>() {
        return parameter_error(e.name, &e.reason);
    }
    if let Some(e) = err.downcast_ref::<ParsePathError>() {
        return parameter_error(e.name, &e.reason);
    }
    if err.is::<ContentTypeError>() {
        return ApiError::new(
            ErrorCode::GenericJsonInvalid,
            "the request body must be JSON",
        );
    }
    if err.is::<AuthorizationError>() {
        if let MissingAuth::Forbidden = missing_auth {
            return ApiError::new(
                ErrorCode::GenericTokenPermissionInsufficient,
                "the administrator token is missing: send `Authorization: Bearer secret-token:...`",
            );
        }
        return ApiError::new(
            ErrorCode::GenericUnauthorized,
            "authorization is missing: send `Authorization: Bearer secret-token:...`",
        );
    }
    if err.is::<NotFoundError>() || err.status() == StatusCode::NOT_FOUND {
        return ApiError::new(
            ErrorCode::GenericEndpointUnknown,
            "there is no endpoint at this URL",
        );
    }
    if err.is::<MethodNotAllowedError>() || err.status() == StatusCode::METHOD_NOT_ALLOWED {
        return ApiError::new(
            ErrorCode::GenericMethodInvalid,
            "this endpoint does not support the HTTP method",
        );
    }
    let status = err.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(ErrorCode::GenericUploadExceedsLimit, err.to_string());
    }
    if status.is_client_error() {
        return ApiError::with_status(
            status,
            ErrorCode::GenericParameterMalformed,
            err.to_string(),
        );
    }
    tracing::error!(error = %err, "unexpected internal error");
    ApiError::new(
        ErrorCode::GenericInternalInvariantFailure,
        "internal server error",
    )
}

/// A body that does not fit its schema, in the service's words (`policy`).
fn body_error(err: &poem::Error, policy: BodyErrorPolicy) -> Option<ApiError> {
    if let Some(v) = err.downcast_ref::<strict::Violation>() {
        use strict::ViolationKind::*;
        let hint = format!("the request body does not fit the schema: {}", v.reason);
        let code = match (policy, v.kind) {
            (BodyErrorPolicy::Parameter, Missing) => ErrorCode::GenericParameterMissing,
            (BodyErrorPolicy::Parameter, _) => ErrorCode::GenericParameterMalformed,
            (BodyErrorPolicy::JsonInvalid | BodyErrorPolicy::ShapeJsonInvalid, _) => {
                ErrorCode::GenericJsonInvalid
            }
        };
        let error = ApiError::new(code, hint);
        return Some(if v.field.is_empty() {
            error
        } else {
            error.parameter(&v.field)
        });
    }
    if let Some(e) = err.downcast_ref::<ParseRequestPayloadError>() {
        let hint = format!("the request body does not fit the schema: {}", e.reason);
        return Some(match policy {
            BodyErrorPolicy::ShapeJsonInvalid
                if e.reason.contains("failed to parse \"Amount\"") =>
            {
                ApiError::new(amount_code(&e.reason), hint)
            }
            BodyErrorPolicy::JsonInvalid | BodyErrorPolicy::ShapeJsonInvalid => {
                ApiError::new(ErrorCode::GenericJsonInvalid, hint)
            }
            BodyErrorPolicy::Parameter
                if e.reason.contains("expects an input value")
                    || e.reason.contains("found null") =>
            {
                ApiError::new(ErrorCode::GenericParameterMissing, hint)
            }
            BodyErrorPolicy::Parameter => ApiError::new(ErrorCode::GenericParameterMalformed, hint),
        });
    }
    None
}

/// libeufin-bank's codes for an amount it cannot read: beyond Taler's largest
/// (`BANK_NUMBER_TOO_BIG`), or malformed (`BANK_BAD_FORMAT_AMOUNT`).
fn amount_code(reason: &str) -> ErrorCode {
    if reason.contains("exceeds 2^52") || reason.contains("largest amount") {
        ErrorCode::BankNumberTooBig
    } else {
        ErrorCode::BankBadFormatAmount
    }
}

pub fn parameter_error(name: &str, reason: &str) -> ApiError {
    // poem-openapi says "expected input" when a required parameter is absent.
    let code = if reason.contains("expected input") {
        ErrorCode::GenericParameterMissing
    } else {
        ErrorCode::GenericParameterMalformed
    };
    ApiError::new(code, format!("parameter `{name}`: {reason}")).parameter(name)
}

/// The response to a panic in a handler: a 500 `ErrorDetail`, never a dropped connection.
pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("handler panicked");
    ApiError::new(
        ErrorCode::GenericInternalInvariantFailure,
        "internal server error",
    )
    .into_response()
}
