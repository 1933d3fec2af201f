//! The spec as we publish it: poem-openapi's document, mended where it falls short.

use poem_openapi::{OpenApi, OpenApiService};

use crate::taler::limits;

/// The spec as we publish it: poem-openapi's document, mended where it falls short.
/// - An operation without a security requirement says so with `security: []`.
///   poem-openapi derives requirements from the handler's signature, so an operation
///   without one takes no credential; the explicit empty list tells readers (and
///   linters) that it is public on purpose.
/// - Unsigned integers (`uint64`, `uint32`, ...) are published as `int64` with
///   `minimum: 0` and a maximum that fits both (see `publish_unsigned_bounds`).
/// - Schemas that nothing refers to any more (inlined everywhere) are dropped.
/// - A described field of a named type (`Amount`, `RelativeTime`, `ContractTerms`) is
///   published as a plain `$ref`: poem-openapi writes `allOf: [{$ref}, {description}]`,
///   from which client generators make a new type per field
///   (`LoginTokenRequestDuration` instead of `RelativeTime`). The field's own
///   description goes (OpenAPI 3.0 ignores a reference's siblings); the named
///   schema's stays.
/// - An optional field of a request schema that is not a reference is `nullable`:
///   the server reads `null` as the field's absence (`strict::drop_absent_nulls`), as
///   the reference backends do. A reference cannot carry `nullable` in OpenAPI 3.0
///   without an `allOf` wrapper, which would undo the point above; `null` is accepted
///   there all the same.
pub fn published_spec<T: OpenApi>(service: &OpenApiService<T, ()>) -> String {
    published_spec_with(service, |_| {})
}

/// [`published_spec`], with what the service adds itself (`mend`, run on poem-openapi's
/// document first): answers its edge gives before any operation runs.
pub fn published_spec_with<T: OpenApi>(
    service: &OpenApiService<T, ()>,
    mend: impl Fn(&mut serde_json::Value),
) -> String {
    let mut spec: serde_json::Value =
        serde_json::from_str(&service.spec()).expect("poem-openapi emits JSON");
    mend(&mut spec);
    for_each_object(&mut spec, &mut publish_unsigned_bounds);
    publish_request_limits(&mut spec);
    for_each_object(&mut spec, &mut plain_described_reference);
    publish_nullable_optionals(&mut spec);
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
pub fn operations_mut(
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
    for_each_request_object(spec, &mut limit);
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
/// runs: a body that arrives too slowly (408), is not labelled JSON or is encoded
/// other than plainly or with `deflate` (415).
fn publish_body_edge_errors(operation: &mut serde_json::Map<String, serde_json::Value>) {
    declare_error(
        operation,
        "408",
        "The body did not arrive within the body timeout (`TALER_EC_GENERIC_JSON_INVALID`).",
    );
    declare_error(
        operation,
        "415",
        "The body is not labelled `application/json` (`TALER_EC_GENERIC_HTTP_HEADERS_MALFORMED`), or its `Content-Encoding` is neither absent, `identity` nor `deflate` (`TALER_EC_GENERIC_COMPRESSION_INVALID`).",
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

/// `allOf: [{$ref: T}, {description}]` becomes `{$ref: T}`.
fn plain_described_reference(map: &mut serde_json::Map<String, serde_json::Value>) {
    use serde_json::Value;
    let annotation_only = |v: &Value| {
        v.as_object()
            .is_some_and(|o| o.keys().all(|k| ANNOTATIONS.contains(&k.as_str())))
    };
    let reference = match map.get("allOf").and_then(Value::as_array) {
        Some(parts)
            if map
                .keys()
                .all(|k| k == "allOf" || ANNOTATIONS.contains(&k.as_str()))
                && parts.iter().skip(1).all(annotation_only) =>
        {
            parts.first().and_then(|p| p.get("$ref")).cloned()
        }
        _ => None,
    };
    if let Some(reference) = reference {
        map.clear();
        map.insert("$ref".to_owned(), reference);
    }
}

/// Calls `f` on every object of every schema a request can carry: its body and
/// parameters, the component schemas these refer to, and those these refer to in turn.
fn for_each_request_object(
    spec: &mut serde_json::Value,
    f: &mut impl FnMut(&mut serde_json::Map<String, serde_json::Value>),
) {
    let mut todo = Vec::new();
    for operation in operations_mut(spec) {
        for part in ["requestBody", "parameters"] {
            if let Some(v) = operation.get_mut(part) {
                references(v, &mut todo);
                for_each_object(v, f);
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
        for_each_object(schema, f);
    }
}

/// Optional non-reference properties of request schemas are published `nullable`.
fn publish_nullable_optionals(spec: &mut serde_json::Value) {
    use serde_json::Value;
    let mut nullable = |map: &mut serde_json::Map<String, Value>| {
        let required: Vec<String> = map
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| r.as_str().map(str::to_owned))
            .collect();
        let Some(properties) = map.get_mut("properties").and_then(Value::as_object_mut) else {
            return;
        };
        for (name, property) in properties {
            if let Some(property) = property.as_object_mut()
                && !required.contains(name)
                && !property.contains_key("$ref")
            {
                property.insert("nullable".to_owned(), Value::Bool(true));
            }
        }
    };
    for_each_request_object(spec, &mut nullable);
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
