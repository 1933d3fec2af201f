//! The HTTP edge shared by all services: request ids and logging, the body size
//! limit, and the guarantee that every error leaves as a Taler `ErrorDetail`.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use poem::{
    Body, Endpoint, EndpointExt, IntoResponse, Middleware, Request, Response, Result,
    error::{MethodNotAllowedError, NotFoundError, ReadBodyError},
    http::{HeaderValue, Method, StatusCode, header},
};
use poem_openapi::error::{
    AuthorizationError, ContentTypeError, ParseParamError, ParsePathError, ParseRequestPayloadError,
};
use poem_openapi::{OpenApi, OpenApiService};
use tracing::Instrument;

use crate::taler::{ApiError, ErrorCode, limits};

/// Wraps the whole application; see the module comment.
pub struct TalerEdge {
    pub max_upload_bytes: usize,
    /// How long a client may take to send a body once its headers are in.
    pub body_timeout: std::time::Duration,
    /// The operations that also take URL-encoded forms, which the edge turns into
    /// JSON; the services that have them hand them over at start-up.
    pub forms: Vec<FormRoute>,
}

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

impl<E: Endpoint> Middleware<E> for TalerEdge {
    type Output = TalerEdgeEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        TalerEdgeEndpoint {
            inner,
            max_upload_bytes: self.max_upload_bytes,
            body_timeout: self.body_timeout,
            forms: self.forms.clone().into(),
        }
    }
}

pub struct TalerEdgeEndpoint<E> {
    inner: E,
    max_upload_bytes: usize,
    body_timeout: std::time::Duration,
    forms: Arc<[FormRoute]>,
}

static REQUEST_COUNTER: AtomicU64 = AtomicU64::new(1);

impl<E: Endpoint> Endpoint for TalerEdgeEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Self::Output> {
        let request_id = format!(
            "{:x}-{}",
            std::process::id(),
            REQUEST_COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let span = tracing::info_span!(
            "request",
            id = %request_id,
            method = %req.method(),
            path = %req.uri().path()
        );
        let peer = req.remote_addr().as_socket_addr().map(|a| a.ip());
        let started = std::time::Instant::now();
        let work = async move {
            let mut resp = match self.prepare_body(&mut req).await {
                Ok(()) => match self.inner.call(req).await {
                    Ok(resp) => resp.into_response(),
                    Err(err) => error_response(err),
                },
                Err(err) => err.into_response(),
            };
            let status = resp.status();
            if status.is_server_error() {
                tracing::error!(status = status.as_u16(), "request failed");
            }
            // The access log: the span carries method and path (never the query, which
            // may hold secrets) and no header is logged, so no credential reaches it.
            tracing::info!(
                target: "access",
                status = status.as_u16(),
                duration_us = started.elapsed().as_micros() as u64,
                peer = %peer.map_or_else(|| "-".to_owned(), |p| p.to_string()),
                "request"
            );
            if let Ok(value) = HeaderValue::from_str(&request_id) {
                resp.headers_mut().insert("x-request-id", value);
            }
            Ok(resp)
        }
        .instrument(span);
        crate::taler::throttle::PEER.scope(peer, work).await
    }
}

/// Nesting deeper than this in a request body is refused (Taler bodies nest a few levels).
pub const MAX_JSON_DEPTH: usize = 32;

/// Is this Content-Type JSON (`application/json` or `application/*+json`, any parameters)?
fn is_json_content_type(content_type: &str) -> bool {
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

impl<E> TalerEdgeEndpoint<E> {
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

    /// Enforces the upload limit, the body timeout and a JSON Content-Type (a form or
    /// plain text is what a browser sends cross-site without asking, so it is refused),
    /// and checks the body is one well-formed JSON value: no duplicate keys, no NUL
    /// characters, nesting at most [`MAX_JSON_DEPTH`] deep.
    async fn prepare_body(&self, req: &mut Request) -> Result<(), ApiError> {
        // No DELETE of these APIs takes a body: its body is left unread.
        if !matches!(*req.method(), Method::POST | Method::PATCH | Method::PUT) {
            return Ok(());
        }
        let form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|c| c.to_str().is_ok_and(is_form_content_type))
            .then(|| self.form_route(req))
            .flatten();
        if let Some(content_type) = req.headers().get(header::CONTENT_TYPE)
            && !content_type.to_str().is_ok_and(is_json_content_type)
            && form.is_none()
        {
            return Err(ApiError::with_status(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::GenericHttpHeadersMalformed,
                format!(
                    "request bodies are JSON: send `Content-Type: application/json`, not `{}`",
                    String::from_utf8_lossy(content_type.as_bytes())
                ),
            ));
        }
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
        let bytes = match tokio::time::timeout(self.body_timeout, read).await {
            Err(_) => {
                return Err(ApiError::with_status(
                    StatusCode::REQUEST_TIMEOUT,
                    ErrorCode::GenericJsonInvalid,
                    format!(
                        "the request body did not arrive within {} s",
                        self.body_timeout.as_secs()
                    ),
                ));
            }
            Ok(Ok(bytes)) => bytes,
            Ok(Err(ReadBodyError::PayloadTooLarge)) => return Err(too_large()),
            Ok(Err(err)) => {
                return Err(ApiError::new(
                    ErrorCode::GenericJsonInvalid,
                    format!("could not read the request body: {err}"),
                ));
            }
        };
        let bytes = if let Some(form) = form {
            let value = (form.to_json)(&bytes).map_err(|e| {
                ApiError::new(
                    ErrorCode::GenericParameterMalformed,
                    format!("the form is malformed: {e}"),
                )
            })?;
            bytes::Bytes::from(value.to_string())
        } else {
            bytes
        };
        if !bytes.is_empty() {
            well_formed::check(&bytes).map_err(|reason| {
                ApiError::new(
                    ErrorCode::GenericJsonInvalid,
                    format!("the request body is not acceptable JSON: {reason}"),
                )
            })?;
        }
        if !bytes.is_empty() {
            // A body without a Content-Type is read as JSON.
            // An empty body keeps no type, so an endpoint expecting JSON reports it missing.
            req.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
        } else {
            req.headers_mut().remove(header::CONTENT_TYPE);
        }
        req.set_body(Body::from(bytes));
        Ok(())
    }
}

/// How a service reports a JSON body that parses but does not fit the schema
/// (a missing field, a wrong type, an invalid amount): the Taler services differ.
#[derive(Debug, Clone, Copy)]
pub enum BodyErrorPolicy {
    /// `TALER_EC_GENERIC_PARAMETER_MISSING` / `_MALFORMED`, as the merchant backend does.
    Parameter,
    /// `TALER_EC_GENERIC_JSON_INVALID` for every body problem, as the Donau does.
    JsonInvalid,
    /// `TALER_EC_GENERIC_JSON_INVALID` for a body of the wrong shape, and
    /// `TALER_EC_GENERIC_PARAMETER_MALFORMED` for a value the schema's constraints
    /// (length, pattern, bounds) refuse, as libeufin-bank does.
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

/// One service: its operations, its spec at `/openapi.json`, and its error conventions.
pub fn service_endpoint<T: OpenApi + 'static>(
    service: OpenApiService<T, ()>,
    policy: BodyErrorPolicy,
    missing_auth: MissingAuth,
) -> impl Endpoint<Output = Response> {
    let spec = published_spec(&service);
    let allowed = AllowedMethods::from_spec(&spec);
    poem::Route::new()
        .at(
            "/openapi.json",
            poem::endpoint::make_sync(move |_| {
                Response::builder()
                    .content_type("application/json")
                    .body(spec.clone())
            }),
        )
        .nest("/", service)
        .with(ServiceErrors {
            policy,
            missing_auth,
            allowed: Arc::new(allowed),
        })
}

/// The spec as we publish it: poem-openapi's document, mended where it falls short.
/// - An operation without a security requirement says so with `security: []`.
///   poem-openapi derives requirements from the handler's signature, so an operation
///   without one takes no credential; the explicit empty list tells readers (and
///   linters) that it is public on purpose.
/// - Unsigned integers (`uint64`, `uint32`, ...) are published as `int64` with
///   `minimum: 0` and a maximum that fits both (see `publish_unsigned_bounds`).
/// - Schemas that nothing refers to any more (inlined everywhere) are dropped.
/// - A described field of a named non-object type (`Amount`, an enum, a union) is
///   published as that schema inlined with the field's description. poem-openapi
///   writes `allOf: [{$ref}, {description}]`, which OpenAPI 3.0 allows but client
///   generators refuse ("cannot take allOf a non-object"); a bare `$ref` would drop
///   the description, since 3.0 ignores a reference's siblings.
pub fn published_spec<T: OpenApi>(service: &OpenApiService<T, ()>) -> String {
    let mut spec: serde_json::Value =
        serde_json::from_str(&service.spec()).expect("poem-openapi emits JSON");
    for_each_object(&mut spec, &mut publish_unsigned_bounds);
    publish_request_limits(&mut spec);
    let schemas = spec["components"]["schemas"].clone();
    for_each_object(&mut spec, &mut |map| {
        inline_described_reference(map, &schemas)
    });
    drop_unreferenced_schemas(&mut spec);
    for operation in operations_mut(&mut spec) {
        operation
            .entry("security")
            .or_insert_with(|| serde_json::Value::Array(vec![]));
        if operation.contains_key("requestBody") {
            publish_body_edge_errors(operation);
        }
        if operation
            .get("parameters")
            .and_then(|p| p.as_array())
            .is_some_and(|p| !p.is_empty())
        {
            publish_parameter_edge_error(operation);
        }
    }
    serde_json::to_string_pretty(&spec).expect("a JSON value serializes")
}

/// Every operation object of a spec.
fn operations_mut(
    spec: &mut serde_json::Value,
) -> impl Iterator<Item = &mut serde_json::Map<String, serde_json::Value>> {
    spec["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(|item| item.as_object_mut())
        .flat_map(|item| item.values_mut())
        .filter_map(|operation| operation.as_object_mut())
}

/// Every schema a request can carry (bodies, path and query parameters, and the
/// components they use) publishes the default limits of `taler::limits` where it has
/// no tighter one; the edge enforces the same constants. Response-only schemas are
/// left alone: what the server sends is bounded by what it accepted.
fn publish_request_limits(spec: &mut serde_json::Value) {
    use serde_json::Value;
    let mut limit =
        |map: &mut serde_json::Map<String, Value>| match map.get("type").and_then(Value::as_str) {
            Some("string") if !map.contains_key("enum") => {
                map.entry("maxLength")
                    .or_insert(limits::MAX_TEXT_CHARS.into());
            }
            Some("array") => {
                map.entry("maxItems").or_insert(limits::MAX_ITEMS.into());
            }
            Some("object")
                if map
                    .get("additionalProperties")
                    .is_some_and(Value::is_object) =>
            {
                map.entry("maxProperties")
                    .or_insert(limits::MAX_MAP_ENTRIES.into());
            }
            _ => {}
        };
    let mut todo = Vec::new();
    for operation in operations_mut(spec) {
        for part in ["requestBody", "parameters"] {
            if let Some(v) = operation.get_mut(part) {
                references(v, &mut todo);
                for_each_object(v, &mut limit);
            }
        }
    }
    let mut done = std::collections::HashSet::new();
    while let Some(name) = todo.pop() {
        if !done.insert(name.clone()) {
            continue;
        }
        let schema = &mut spec["components"]["schemas"][&name];
        references(schema, &mut todo);
        for_each_object(schema, &mut limit);
    }
}

/// Declares an `ErrorDetail` answer of `operation` unless it declares that status already.
fn declare_error(
    operation: &mut serde_json::Map<String, serde_json::Value>,
    status: &str,
    description: &str,
) {
    let Some(responses) = operation
        .get_mut("responses")
        .and_then(|r| r.as_object_mut())
    else {
        return;
    };
    if responses.contains_key(status) {
        return;
    }
    responses.insert(
        status.to_owned(),
        serde_json::json!({
            "description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorDetail"}}}
        }),
    );
    // Keep the statuses in order, as poem-openapi writes them.
    let mut sorted: Vec<_> = std::mem::take(responses).into_iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    responses.extend(sorted);
}

/// The edge refuses a path or query parameter that is too long or carries NUL (400),
/// before any operation sees it.
fn publish_parameter_edge_error(operation: &mut serde_json::Map<String, serde_json::Value>) {
    declare_error(
        operation,
        "400",
        "A path or query parameter is malformed, longer than its `maxLength`, or contains NUL (`TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    );
}

/// The answers the edge gives any operation with a request body, before its handler
/// runs: a body that arrives too slowly (408) or is not labelled JSON (415).
fn publish_body_edge_errors(operation: &mut serde_json::Map<String, serde_json::Value>) {
    declare_error(
        operation,
        "408",
        "The body did not arrive within the body timeout (`TALER_EC_GENERIC_JSON_INVALID`).",
    );
    declare_error(
        operation,
        "415",
        "The body is not labelled `application/json` (`TALER_EC_GENERIC_HTTP_HEADERS_MALFORMED`).",
    );
}

/// Keys that only describe a schema, never constrain it.
const ANNOTATIONS: [&str; 6] = [
    "description",
    "title",
    "readOnly",
    "writeOnly",
    "deprecated",
    "example",
];

/// Calls `f` on every JSON object in `value`, an object before what it contains (so
/// what `f` puts into an object is visited too).
fn for_each_object(
    value: &mut serde_json::Value,
    f: &mut impl FnMut(&mut serde_json::Map<String, serde_json::Value>),
) {
    match value {
        serde_json::Value::Object(map) => {
            f(map);
            map.values_mut().for_each(|v| for_each_object(v, f));
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| for_each_object(v, f)),
        _ => {}
    }
}

/// `allOf: [{$ref: T}, {description}]` becomes T inlined with the description, when T
/// is no object with properties (a string type, an enum, a union).
fn inline_described_reference(
    map: &mut serde_json::Map<String, serde_json::Value>,
    schemas: &serde_json::Value,
) {
    use serde_json::Value;
    let annotation_only = |v: &Value| {
        v.as_object()
            .is_some_and(|o| o.keys().all(|k| ANNOTATIONS.contains(&k.as_str())))
    };
    let target = match map.get("allOf").and_then(Value::as_array) {
        Some(parts)
            if map
                .keys()
                .all(|k| k == "allOf" || ANNOTATIONS.contains(&k.as_str()))
                && parts[1..].iter().all(annotation_only) =>
        {
            parts
                .first()
                .and_then(|p| p["$ref"].as_str())
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
                .map(|name| (name, &schemas[name]))
                .filter(|(_, t)| t.get("properties").is_none() && t.get("allOf").is_none())
        }
        _ => None,
    };
    if let Some((name, Value::Object(target))) = target {
        let mut inlined = target.clone();
        // The Taler name of the type stays visible as the inlined schema's title.
        inlined.insert("title".to_owned(), Value::String(name.to_owned()));
        let parts = map.remove("allOf").unwrap_or_default();
        for part in parts.as_array().into_iter().flatten().skip(1) {
            inlined.extend(part.as_object().cloned().unwrap_or_default());
        }
        inlined.extend(std::mem::take(map));
        *map = inlined;
    }
}

/// Adds to `found` the component schemas `value` refers to directly.
fn references(value: &serde_json::Value, found: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(name) = map
                .get("$ref")
                .and_then(|r| r.as_str())
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
            {
                found.push(name.to_owned());
            }
            map.values().for_each(|v| references(v, found));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| references(v, found)),
        _ => {}
    }
}

fn drop_unreferenced_schemas(spec: &mut serde_json::Value) {
    let mut used = std::collections::HashSet::new();
    let mut todo = Vec::new();
    references(&spec["paths"], &mut todo);
    while let Some(name) = todo.pop() {
        if used.insert(name.clone()) {
            references(&spec["components"]["schemas"][&name], &mut todo);
        }
    }
    if let Some(schemas) = spec["components"]["schemas"].as_object_mut() {
        schemas.retain(|name, _| used.contains(name));
    }
}

/// An unsigned integer schema is published as `int64` (OpenAPI's formats are `int32` and
/// `int64`; generators map anything else to a 32-bit type) with `minimum: 0` and the
/// largest value both its Rust type and an `int64` hold. The edge refuses a `uint64`
/// above `i64::MAX` (`BodyLimits::check_scalar`), so the bound is the server's too.
fn publish_unsigned_bounds(map: &mut serde_json::Map<String, serde_json::Value>) {
    let max: Option<u64> = match map.get("format").and_then(|f| f.as_str()) {
        Some("uint64") => Some(i64::MAX as u64),
        Some("uint32") => Some(u32::MAX.into()),
        Some("uint16") => Some(u16::MAX.into()),
        Some("uint8") => Some(u8::MAX.into()),
        _ => None,
    };
    if let Some(max) = max.filter(|_| map.get("type") == Some(&serde_json::json!("integer"))) {
        map.insert("format".to_owned(), serde_json::json!("int64"));
        map.entry("minimum").or_insert(serde_json::json!(0));
        // An exact integer: as a float, i64::MAX would round up past the type.
        map.entry("maximum").or_insert(serde_json::json!(max));
    }
}

/// The paths of a spec: for each, the methods it declares (for the `Allow` header of a
/// 405, RFC 9110), and its path and query parameters (named as the spec names them).
#[derive(Debug, Default)]
pub struct AllowedMethods(Vec<SpecPath>);

#[derive(Debug)]
struct SpecPath {
    segments: Vec<String>,
    methods: String,
    /// The query parameters any of its operations declares.
    query: Vec<String>,
    /// The published maximum of each integer query parameter that has one.
    query_max: Vec<(String, u64)>,
}

impl AllowedMethods {
    pub fn from_spec(spec: &str) -> AllowedMethods {
        let spec: serde_json::Value = serde_json::from_str(spec).unwrap_or_default();
        let mut table = vec![SpecPath {
            segments: vec!["openapi.json".to_owned()],
            methods: "GET".to_owned(),
            query: vec![],
            query_max: vec![],
        }];
        for (path, item) in spec["paths"].as_object().into_iter().flatten() {
            let operations = item.as_object().into_iter().flatten();
            let mut methods: Vec<String> = operations
                .clone()
                .map(|(m, _)| m.to_ascii_uppercase())
                .collect();
            methods.sort();
            let params: Vec<&serde_json::Value> = operations
                .flat_map(|(_, op)| op["parameters"].as_array().into_iter().flatten())
                .filter(|p| p["in"] == "query")
                .collect();
            let mut query: Vec<String> = params
                .iter()
                .filter_map(|p| p["name"].as_str().map(str::to_owned))
                .collect();
            let query_max = params
                .iter()
                .filter(|p| p["schema"]["type"] == "integer")
                .filter_map(|p| {
                    Some((
                        p["name"].as_str()?.to_owned(),
                        p["schema"]["maximum"].as_u64()?,
                    ))
                })
                .collect();
            query.sort();
            query.dedup();
            table.push(SpecPath {
                segments: path
                    .trim_start_matches('/')
                    .split('/')
                    .map(str::to_owned)
                    .collect(),
                methods: methods.join(", "),
                query,
                query_max,
            });
        }
        AllowedMethods(table)
    }

    fn pattern(&self, path: &str) -> Option<&SpecPath> {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        self.0.iter().find(|p| {
            p.segments.len() == segments.len()
                && p.segments
                    .iter()
                    .zip(&segments)
                    .all(|(p, s)| p == s || (p.starts_with('{') && p.ends_with('}')))
        })
    }

    /// A path parameter or declared query parameter that is longer than
    /// [`limits::MAX_TEXT_CHARS`] (as the spec publishes) or holds NUL, or an integer
    /// query parameter above its published maximum, named as the spec names it. Query
    /// parameters no operation declares are ignored, as the operations ignore them.
    pub fn bad_parameter(&self, uri: &poem::http::Uri) -> Option<ApiError> {
        let path = uri.path();
        let spec_path = self.pattern(path)?;
        let refuse = |name: &str, value: &str| {
            let hint = if value.contains('\0') {
                format!("parameter `{name}` must not contain NUL characters")
            } else if value.chars().count() > limits::MAX_TEXT_CHARS {
                format!(
                    "parameter `{name}` must have at most {} characters",
                    limits::MAX_TEXT_CHARS
                )
            } else {
                return None;
            };
            Some(ApiError::malformed(name, hint))
        };
        for (part, segment) in spec_path
            .segments
            .iter()
            .zip(path.trim_start_matches('/').split('/'))
        {
            if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                let value = percent_decode(segment).unwrap_or_else(|| segment.to_owned());
                if let Some(err) = refuse(name, &value) {
                    return Some(err);
                }
            }
        }
        let above_max = |name: &str, value: &str| {
            let (_, max) = spec_path.query_max.iter().find(|(n, _)| n == name)?;
            // Only a well-formed integer is compared; the parser refuses the rest.
            let n: u128 = value.parse().ok()?;
            (n > u128::from(*max)).then(|| {
                ApiError::malformed(name, format!("parameter `{name}` must not be above {max}"))
            })
        };
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .filter(|(k, _)| spec_path.query.iter().any(|q| q == k))
            .find_map(|(k, v)| refuse(&k, &v).or_else(|| above_max(&k, &v)))
    }

    /// The methods of the spec path that `path` matches (`{param}` matches one segment).
    pub fn for_path(&self, path: &str) -> Option<&str> {
        self.pattern(path).map(|p| p.methods.as_str())
    }

    /// The spec's name of path parameter number `index` (poem-openapi reports path
    /// parameters as `param0`, `param1`, ... in the order of the path).
    pub fn parameter_name(&self, path: &str, index: usize) -> Option<&str> {
        self.pattern(path)?
            .segments
            .iter()
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .nth(index)
    }
}

/// A percent-encoded path segment decoded; `None` when it is not UTF-8.
pub fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    let hex = |b: Option<&u8>| b.and_then(|b| (*b as char).to_digit(16));
    while i < bytes.len() {
        match (bytes[i], hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Wraps one service so that its errors follow that service's conventions.
pub struct ServiceErrors {
    policy: BodyErrorPolicy,
    missing_auth: MissingAuth,
    allowed: Arc<AllowedMethods>,
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

fn api_error(err: poem::Error, policy: BodyErrorPolicy, missing_auth: MissingAuth) -> ApiError {
    if let Some(e) = err.downcast_ref::<ApiError>() {
        return e.clone();
    }
    if let Some(v) = err.downcast_ref::<strict::Violation>() {
        use strict::ViolationKind::*;
        let hint = format!("the request body does not fit the schema: {}", v.reason);
        let code = match (policy, v.kind) {
            (BodyErrorPolicy::Parameter, Missing) => ErrorCode::GenericParameterMissing,
            (BodyErrorPolicy::Parameter, _) | (BodyErrorPolicy::ShapeJsonInvalid, Constraint) => {
                ErrorCode::GenericParameterMalformed
            }
            (BodyErrorPolicy::JsonInvalid | BodyErrorPolicy::ShapeJsonInvalid, _) => {
                ErrorCode::GenericJsonInvalid
            }
        };
        let error = ApiError::new(code, hint);
        return if v.field.is_empty() {
            error
        } else {
            error.parameter(&v.field)
        };
    }
    if let Some(e) = err.downcast_ref::<ParseRequestPayloadError>() {
        let hint = format!("the request body does not fit the schema: {}", e.reason);
        return match policy {
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
        };
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

fn parameter_error(name: &str, reason: &str) -> ApiError {
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
        let value = if data.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&data).map_err(|err| ParseRequestPayloadError {
                reason: err.to_string(),
            })?
        };
        strict::check(&strict::registry_of::<T>(), &T::schema_ref(), &value, "")
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
        match request.content_type() {
            Some(content_type) if <Self as Payload>::check_content_type(content_type) => {
                <Self as ParsePayload>::from_request(request, body).await
            }
            Some(content_type) => Err(ContentTypeError::NotSupported {
                content_type: content_type.to_owned(),
            }
            .into()),
            None => Err(ContentTypeError::ExpectContentType.into()),
        }
    }
}

/// The edge's check that a body is one JSON value a Taler service can take at face value.
mod well_formed {
    use serde::de::{DeserializeSeed, Deserializer, Error, MapAccess, SeqAccess, Visitor};

    use super::MAX_JSON_DEPTH;

    struct Check {
        depth: usize,
        path: String,
    }

    fn shown(path: &str) -> &str {
        if path.is_empty() { "the body" } else { path }
    }

    impl Check {
        fn child(&self, part: std::fmt::Arguments) -> Check {
            Check {
                depth: self.depth + 1,
                path: format!("{}{part}", self.path),
            }
        }

        fn text<E: Error>(&self, text: &str) -> Result<(), E> {
            if text.contains('\0') {
                return Err(E::custom(format!(
                    "{}: must not contain NUL characters",
                    shown(&self.path)
                )));
            }
            Ok(())
        }

        fn nest<E: Error>(&self) -> Result<(), E> {
            if self.depth >= MAX_JSON_DEPTH {
                return Err(E::custom(format!(
                    "{}: nested more than {MAX_JSON_DEPTH} levels deep",
                    shown(&self.path)
                )));
            }
            Ok(())
        }
    }

    impl<'de> DeserializeSeed<'de> for Check {
        type Value = ();

        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for Check {
        type Value = ();

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON value")
        }

        fn visit_bool<E>(self, _: bool) -> Result<(), E> {
            Ok(())
        }
        fn visit_i64<E>(self, _: i64) -> Result<(), E> {
            Ok(())
        }
        fn visit_u64<E>(self, _: u64) -> Result<(), E> {
            Ok(())
        }
        fn visit_f64<E>(self, _: f64) -> Result<(), E> {
            Ok(())
        }
        fn visit_unit<E>(self) -> Result<(), E> {
            Ok(())
        }
        fn visit_str<E: Error>(self, v: &str) -> Result<(), E> {
            self.text(v)
        }
        fn visit_string<E: Error>(self, v: String) -> Result<(), E> {
            self.text(&v)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            self.nest()?;
            let mut i = 0usize;
            while seq
                .next_element_seed(self.child(format_args!("[{i}]")))?
                .is_some()
            {
                i += 1;
            }
            Ok(())
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            self.nest()?;
            let mut seen = std::collections::HashSet::new();
            while let Some(key) = map.next_key::<String>()? {
                let dot = if self.path.is_empty() { "" } else { "." };
                let child = self.child(format_args!("{dot}{key}"));
                child.text::<A::Error>(&key)?;
                if !seen.insert(key) {
                    return Err(A::Error::custom(format!(
                        "{}: the key appears twice",
                        child.path
                    )));
                }
                map.next_value_seed(child)?;
            }
            Ok(())
        }
    }

    /// Why `bytes` is not one acceptable JSON value, if it is not.
    pub fn check(bytes: &[u8]) -> Result<(), String> {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        Check {
            depth: 0,
            path: String::new(),
        }
        .deserialize(&mut de)
        .and_then(|()| de.end())
        .map_err(|e| e.to_string())
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn refuses_duplicates_nul_and_depth() {
            assert!(super::check(br#"{"a":[1,{"b":"x"}],"c":null}"#).is_ok());
            let dup = super::check(br#"{"a":1,"a":2}"#).unwrap_err();
            assert!(dup.contains("a: the key appears twice"), "{dup}");
            let nul = super::check(br#"{"a":{"b":"x\u0000"}}"#).unwrap_err();
            assert!(nul.contains("a.b: must not contain NUL"), "{nul}");
            assert!(super::check(br#"{"k\u0000":1}"#).is_err());
            let deep = "[".repeat(40) + &"]".repeat(40);
            assert!(
                super::check(deep.as_bytes())
                    .unwrap_err()
                    .contains("nested")
            );
            assert!(super::check(b"{} {}").is_err());
        }
    }
}

/// The string check of [`JsonBody`], walking a value along its published schema.
mod strict {
    use std::{
        any::TypeId,
        collections::HashMap,
        sync::{Arc, Mutex, OnceLock},
    };

    use poem_openapi::{
        registry::{MetaSchema, MetaSchemaRef, Registry},
        types::Type,
    };
    use serde_json::Value;

    use crate::taler::limits;

    /// The schemas `T` publishes, built once per body type rather than per request.
    pub fn registry_of<T: Type + 'static>() -> Arc<Registry> {
        static CACHE: OnceLock<Mutex<HashMap<TypeId, Arc<Registry>>>> = OnceLock::new();
        let cache = CACHE.get_or_init(Default::default);
        let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry(TypeId::of::<T>())
            .or_insert_with(|| {
                let mut registry = Registry::new();
                T::register(&mut registry);
                Arc::new(registry)
            })
            .clone()
    }

    fn at(path: &str, name: &str) -> String {
        if path.is_empty() {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        }
    }

    /// Where and why a body does not fit its published schema.
    #[derive(Debug)]
    pub struct Violation {
        /// The field's path (`name_i18n.de`, `unit_price[2]`); empty for the body itself.
        pub field: String,
        pub reason: String,
        pub kind: ViolationKind,
    }

    #[derive(Debug, Clone, Copy)]
    pub enum ViolationKind {
        /// A required field that is `null`, which Taler reports as missing.
        Missing,
        /// A value of the wrong JSON type, or `null` for an optional field.
        Shape,
        /// A value of the right type that a length, pattern or bound refuses.
        Constraint,
    }

    impl std::fmt::Display for Violation {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&self.reason)
        }
    }

    impl std::error::Error for Violation {}

    fn violation(path: &str, reason: impl std::fmt::Display) -> Violation {
        let shown = if path.is_empty() { "the body" } else { path };
        Violation {
            field: path.to_owned(),
            reason: format!("{shown}: {reason}"),
            kind: ViolationKind::Constraint,
        }
    }

    /// Whether `text` matches a published `pattern` (compiled once per pattern).
    fn matches(pattern: &str, text: &str) -> bool {
        static CACHE: OnceLock<Mutex<HashMap<String, Option<regex::Regex>>>> = OnceLock::new();
        let mut cache = CACHE
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let regex = cache
            .entry(pattern.to_owned())
            .or_insert_with(|| regex::Regex::new(pattern).ok());
        // A pattern we cannot compile is not ours to enforce; the parser still runs.
        regex.as_ref().is_none_or(|r| r.is_match(text))
    }

    /// The constraints of one schema on a scalar: length, pattern, bounds.
    fn check_scalar(schema: &MetaSchema, value: &Value, path: &str) -> Result<(), Violation> {
        if let Value::String(text) = value {
            let chars = text.chars().count();
            if let Some(min) = schema.min_length.filter(|&min| chars < min) {
                let what = if min == 1 {
                    "must not be empty".to_owned()
                } else {
                    format!("must have at least {min} characters")
                };
                return Err(violation(path, what));
            }
            let max = schema.max_length.or(schema
                .enum_items
                .is_empty()
                .then_some(limits::MAX_TEXT_CHARS));
            if let Some(max) = max.filter(|&max| chars > max) {
                return Err(violation(
                    path,
                    format!("must have at most {max} characters"),
                ));
            }
            if let Some(pattern) = schema.pattern.as_deref().filter(|p| !matches(p, text)) {
                let what = if pattern == limits::NOT_BLANK {
                    "must not be empty or blank".to_owned()
                } else {
                    format!("must match {pattern}")
                };
                return Err(violation(path, what));
            }
        }
        // A `uint64` is published as a non-negative `int64` (`publish_unsigned_bounds`).
        if schema.format == Some("uint64") && value.as_u64().is_some_and(|n| n > i64::MAX as u64) {
            return Err(violation(path, format!("must not be above {}", i64::MAX)));
        }
        if let Some(n) = value.as_f64() {
            if let Some(min) = schema.minimum {
                let exclusive = schema.exclusive_minimum == Some(true);
                if n < min || (exclusive && n == min) {
                    return Err(violation(path, format!("must not be below {min}")));
                }
            }
            if let Some(max) = schema.maximum {
                let exclusive = schema.exclusive_maximum == Some(true);
                if n > max || (exclusive && n == max) {
                    return Err(violation(path, format!("must not be above {max}")));
                }
            }
        }
        Ok(())
    }

    /// Walks `value` along `schema`: strings where the schema says string, no `null`
    /// for a field that is present, and every length, pattern and bound the schema
    /// publishes. What the schema cannot say is left to the parser and the handler.
    pub fn check(
        registry: &Registry,
        schema: &MetaSchemaRef,
        value: &Value,
        path: &str,
    ) -> Result<(), Violation> {
        // Named string types (`Amount`, `EddsaPublicKey`, ...) have parsers that say
        // precisely what is wrong; the walker checks the constraints of fields.
        let (schema, named): (&MetaSchema, bool) = match schema {
            MetaSchemaRef::Inline(s) => (s, false),
            MetaSchemaRef::Reference(name) => match registry.schemas.get(name) {
                Some(s) => (s, true),
                None => return Ok(()),
            },
        };
        // An absent body is the parser's business (it knows whether one is required).
        if value.is_null() && path.is_empty() {
            return Ok(());
        }
        if value.is_null() && !schema.nullable {
            return Err(Violation {
                kind: ViolationKind::Shape,
                ..violation(path, "must not be null (omit an optional field instead)")
            });
        }
        if schema.ty == "string" && !value.is_string() {
            return Err(Violation {
                kind: ViolationKind::Shape,
                ..violation(path, format!("expected a string, found {value}"))
            });
        }
        if !named {
            check_scalar(schema, value, path)?;
        }
        for part in &schema.all_of {
            check(registry, part, value, path)?;
        }
        // A union: the value must fit one of its members (the parser says which).
        for union in [&schema.one_of, &schema.any_of] {
            if !union.is_empty() {
                let mut first = None;
                for member in union.iter() {
                    match check(registry, member, value, path) {
                        Ok(()) => {
                            first = None;
                            break;
                        }
                        Err(e) => {
                            first.get_or_insert(e);
                        }
                    }
                }
                if let Some(e) = first {
                    return Err(e);
                }
            }
        }
        match value {
            Value::Object(map) => {
                for (name, sub) in &schema.properties {
                    if let Some(v) = map.get(*name) {
                        if v.is_null() && schema.required.contains(name) {
                            return Err(Violation {
                                kind: ViolationKind::Missing,
                                ..violation(&at(path, name), "is required, found null")
                            });
                        }
                        check(registry, sub, v, &at(path, name))?;
                    }
                }
                let extras = map
                    .iter()
                    .filter(|(name, _)| !schema.properties.iter().any(|(n, _)| n == name));
                match &schema.additional_properties {
                    Some(extra) => {
                        let max = schema.max_properties.unwrap_or(limits::MAX_MAP_ENTRIES);
                        if extras.clone().count() > max {
                            return Err(violation(
                                path,
                                format!("must have at most {max} entries"),
                            ));
                        }
                        for (name, v) in extras {
                            check_text(name, &at(path, name))?;
                            check(registry, extra, v, &at(path, name))?;
                        }
                    }
                    // Fields the schema does not name are the parser's to refuse or keep;
                    // those kept are bounded like any other value.
                    None => {
                        for (name, v) in extras {
                            check_free(v, &at(path, name))?;
                        }
                    }
                }
            }
            Value::Array(items) => {
                let max = schema.max_items.unwrap_or(limits::MAX_ITEMS);
                if items.len() > max {
                    return Err(violation(path, format!("must have at most {max} items")));
                }
                if let Some(item) = &schema.items {
                    for (i, v) in items.iter().enumerate() {
                        check(registry, item, v, &format!("{path}[{i}]"))?;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn check_text(text: &str, path: &str) -> Result<(), Violation> {
        if text.chars().count() > limits::MAX_TEXT_CHARS {
            return Err(violation(
                path,
                format!("must have at most {} characters", limits::MAX_TEXT_CHARS),
            ));
        }
        Ok(())
    }

    /// The default limits on a value no schema describes.
    fn check_free(value: &Value, path: &str) -> Result<(), Violation> {
        match value {
            Value::String(text) => check_text(text, path),
            Value::Array(items) if items.len() > limits::MAX_ITEMS => Err(violation(
                path,
                format!("must have at most {} items", limits::MAX_ITEMS),
            )),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .try_for_each(|(i, v)| check_free(v, &format!("{path}[{i}]"))),
            Value::Object(map) if map.len() > limits::MAX_MAP_ENTRIES => Err(violation(
                path,
                format!("must have at most {} entries", limits::MAX_MAP_ENTRIES),
            )),
            Value::Object(map) => map.iter().try_for_each(|(k, v)| {
                check_text(k, &at(path, k))?;
                check_free(v, &at(path, k))
            }),
            _ => Ok(()),
        }
    }
}
