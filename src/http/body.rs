//! Request bodies at the edge: the upload limit, the body timeout, a JSON Content-Type
//! (or a form where a service takes one), and one well-formed JSON value.

use std::time::Duration;

use bytes::Bytes;
use poem::{
    Body, Request,
    error::ReadBodyError,
    http::{HeaderValue, Method, StatusCode, header},
};

use super::well_formed;
use crate::taler::{ApiError, ErrorCode};

/// An operation that takes a URL-encoded form as well as JSON (the merchant's use of a
/// template, post-templates-TEMPLATE_ID). The edge knows no service: the service says
/// where the form goes and how it reads as the operation's JSON body.
#[derive(Clone)]
pub struct FormRoute {
    /// The service's base path (`/merchant/`).
    pub base: String,
    /// Whether a `POST` to these path segments below `base` takes a form.
    pub matches: fn(&[&str]) -> bool,
    /// The form's fields as the operation's JSON body; `Err` says why it is malformed.
    pub to_json: fn(&[u8]) -> Result<serde_json::Value, String>,
}

/// Is this Content-Type JSON (`application/json` or `application/*+json`, any parameters)?
pub fn is_json_content_type(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
        || (essence.len() > 17
            && essence[..12].eq_ignore_ascii_case("application/")
            && essence[essence.len() - 5..].eq_ignore_ascii_case("+json"))
}

/// Is this Content-Type a URL-encoded form?
fn is_form_content_type(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/x-www-form-urlencoded")
}

/// A body the edge found malformed, for the operation to report when it reads it.
#[derive(Clone)]
pub struct DeferredBodyError(pub ApiError);

/// How a request body is encoded (`Content-Encoding`).
enum Encoding {
    Identity,
    Deflate,
}

/// No encoding or `identity`, or `deflate`; anything else is 415
/// `GENERIC_COMPRESSION_INVALID`, as libeufin-bank answers it.
fn content_encoding(req: &Request) -> Result<Encoding, ApiError> {
    let Some(value) = req.headers().get(header::CONTENT_ENCODING) else {
        return Ok(Encoding::Identity);
    };
    match value.to_str().map(|v| v.trim().to_ascii_lowercase()) {
        Ok(v) if v == "identity" => Ok(Encoding::Identity),
        Ok(v) if v == "deflate" => Ok(Encoding::Deflate),
        _ => Err(ApiError::with_status(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::GenericCompressionInvalid,
            format!(
                "Content-Encoding `{}` is not supported: send plain or `deflate` bodies",
                String::from_utf8_lossy(value.as_bytes())
            ),
        )),
    }
}

/// The body rules of the edge, one set for the whole application.
#[derive(Clone)]
pub struct BodyRules {
    pub max_upload_bytes: usize,
    /// How long a client may take to send a body once its headers are in.
    pub body_timeout: Duration,
    /// The operations that also take URL-encoded forms, which the edge turns into
    /// JSON; the services that have them hand them over at start-up.
    pub forms: Vec<FormRoute>,
}

impl BodyRules {
    /// Enforces the upload limit, the body timeout and a JSON Content-Type (a form or
    /// plain text is what a browser sends cross-site without asking, so it is refused),
    /// and checks the body is one well-formed JSON value: no duplicate keys, no NUL
    /// characters, nesting at most [`well_formed::MAX_JSON_DEPTH`] deep.
    pub async fn prepare(&self, req: &mut Request) -> Result<(), ApiError> {
        // No DELETE of these APIs takes a body: its body is left unread.
        if !matches!(*req.method(), Method::POST | Method::PATCH | Method::PUT) {
            return Ok(());
        }
        let form = self.content_type(req)?;
        let encoding = content_encoding(req)?;
        let bytes = self.read(req).await?;
        let bytes = match encoding {
            Encoding::Identity => bytes,
            Encoding::Deflate => {
                req.headers_mut().remove(header::CONTENT_ENCODING);
                self.inflate(&bytes)?
            }
        };
        let bytes = match form {
            Some(form) => {
                let value = (form.to_json)(&bytes).map_err(|e| {
                    ApiError::new(
                        ErrorCode::GenericParameterMalformed,
                        format!("the form is malformed: {e}"),
                    )
                })?;
                Bytes::from(value.to_string())
            }
            None => bytes,
        };
        if bytes.is_empty() {
            // An empty body keeps no type, so an endpoint expecting JSON reports it missing.
            req.headers_mut().remove(header::CONTENT_TYPE);
        } else if let Err(reason) = well_formed::check(&bytes) {
            // Reported when the operation reads its body, after its credentials: a
            // request with wrong credentials is 401 whatever its body, as the Taler
            // services check credentials first.
            req.extensions_mut().insert(DeferredBodyError(ApiError::new(
                ErrorCode::GenericJsonInvalid,
                format!("the request body is not acceptable JSON: {reason}"),
            )));
            req.set_body(Body::empty());
            return Ok(());
        } else {
            // A body without a Content-Type is read as JSON.
            req.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
        }
        req.set_body(Body::from(bytes));
        Ok(())
    }

    /// JSON, or a form where an operation takes one (its route); anything else is 415.
    /// No Content-Type is read as JSON.
    fn content_type(&self, req: &Request) -> Result<Option<&FormRoute>, ApiError> {
        let Some(content_type) = req.headers().get(header::CONTENT_TYPE) else {
            return Ok(None);
        };
        let form = content_type
            .to_str()
            .is_ok_and(is_form_content_type)
            .then(|| self.form_route(req))
            .flatten();
        if form.is_none() && !content_type.to_str().is_ok_and(is_json_content_type) {
            return Err(ApiError::with_status(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::GenericHttpHeadersMalformed,
                format!(
                    "request bodies are JSON: send `Content-Type: application/json`, not `{}`",
                    String::from_utf8_lossy(content_type.as_bytes())
                ),
            ));
        }
        Ok(form)
    }

    /// The form route a `POST` to this path takes, if any.
    fn form_route(&self, req: &Request) -> Option<&FormRoute> {
        if *req.method() != Method::POST {
            return None;
        }
        let path = req.uri().path();
        self.forms.iter().find(|f| {
            path.strip_prefix(f.base.as_str()).is_some_and(|rest| {
                let segments: Vec<&str> = rest.split('/').collect();
                (f.matches)(&segments)
            })
        })
    }

    /// A `deflate` (zlib) body, decompressed within the same upload limit as a plain
    /// one: a small body that inflates beyond it is 413 as soon as the limit is passed,
    /// and never takes more memory than the limit.
    fn inflate(&self, compressed: &[u8]) -> Result<Bytes, ApiError> {
        use std::io::Read;
        let mut out = Vec::new();
        flate2::read::ZlibDecoder::new(compressed)
            .take(self.max_upload_bytes as u64 + 1)
            .read_to_end(&mut out)
            .map_err(|e| {
                ApiError::new(
                    ErrorCode::GenericCompressionInvalid,
                    format!("the deflated request body does not inflate: {e}"),
                )
            })?;
        if out.len() > self.max_upload_bytes {
            return Err(ApiError::new(
                ErrorCode::GenericUploadExceedsLimit,
                format!(
                    "the inflated request body exceeds the limit of {} bytes",
                    self.max_upload_bytes
                ),
            ));
        }
        Ok(Bytes::from(out))
    }

    /// The whole body, within the upload limit (refused at once when its declared
    /// length is over it) and the body timeout.
    async fn read(&self, req: &mut Request) -> Result<Bytes, ApiError> {
        let too_large = || {
            ApiError::new(
                ErrorCode::GenericUploadExceedsLimit,
                format!(
                    "the request body exceeds the limit of {} bytes",
                    self.max_upload_bytes
                ),
            )
        };
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.max_upload_bytes as u64) {
            return Err(too_large());
        }
        let read = req.take_body().into_bytes_limit(self.max_upload_bytes);
        match tokio::time::timeout(self.body_timeout, read).await {
            Err(_) => Err(ApiError::with_status(
                StatusCode::REQUEST_TIMEOUT,
                ErrorCode::GenericJsonInvalid,
                format!(
                    "the request body did not arrive within {} s",
                    self.body_timeout.as_secs()
                ),
            )),
            Ok(Ok(bytes)) => Ok(bytes),
            Ok(Err(ReadBodyError::PayloadTooLarge)) => Err(too_large()),
            Ok(Err(err)) => Err(ApiError::new(
                ErrorCode::GenericJsonInvalid,
                format!("could not read the request body: {err}"),
            )),
        }
    }
}
