"""schemathesis hooks for gate 2: every error response is a Taler ErrorDetail, whether
or not the operation declares that status (405s and 404s of the HTTP edge included).
Loaded through SCHEMATHESIS_HOOKS by contract/run."""

import json

import schemathesis

# Status, and the field its page-defined body always has.
PAGE_BODIES = {402: "taler_pay_uri", 410: "product_id"}


@schemathesis.check
def error_detail_body(ctx, response, case):
    """A 4xx or 5xx answer carries an ErrorDetail: a JSON object with an integer `code`."""
    if response.status_code < 400 or case.method.upper() == "HEAD":
        return None
    # The merchant pages give two statuses bodies of their own (declared in the spec,
    # whose schemas `response_schema_conformance` checks): 402 with the URI to pay an
    # order through, 410 with the product that ran out.
    if response.status_code in PAGE_BODIES:
        try:
            body = json.loads(response.content)
        except ValueError:
            body = None
        if isinstance(body, dict) and PAGE_BODIES[response.status_code] in body:
            return None
    try:
        body = json.loads(response.content)
    except ValueError as e:
        raise AssertionError(f"{response.status_code} body is not JSON: {e}") from None
    if not isinstance(body, dict):
        raise AssertionError(f"{response.status_code} body is not a JSON object: {body!r}")
    code = body.get("code")
    if not isinstance(code, int) or isinstance(code, bool) or code < 0:
        raise AssertionError(f"{response.status_code} body has no numeric `code`: {body!r}")
    for field in ("hint", "detail", "parameter", "path", "offset", "index", "object", "currency"):
        if field in body and not isinstance(body[field], str):
            raise AssertionError(f"ErrorDetail `{field}` is not a string: {body!r}")
    return None


# The `external` method turns an instance's credential checks off (the instance sits
# behind an authenticating proxy), which is what the `ignored_auth` check must not see:
# a request that would switch it on is sent with the `token` method instead (in every
# phase: `before_call` runs before each request). tests/client_protocol.rs covers
# `external` over HTTP.
AUTH_OPERATIONS = {
    "merchant_post_management_instances",
    "merchant_post_management_instance_auth",
    "merchant_post_private_auth",
}


def _resolve(spec, schema):
    while isinstance(schema, dict) and "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema if isinstance(schema, dict) else {}


def _drop_absent_nulls(spec, schema, value):
    """Drops `null` for optional fields, as the server reads it (null means absent,
    as at the reference backends): OpenAPI 3.0 cannot say `nullable` beside a `$ref`,
    so the spec marks only the other optional fields nullable. tests/client_protocol.rs
    sends every optional field as null."""
    schema = _resolve(spec, schema)
    if isinstance(value, dict):
        parts = [schema] + [_resolve(spec, p) for p in schema.get("allOf", [])]
        for part in parts:
            required = set(part.get("required", []))
            for name, sub in part.get("properties", {}).items():
                if name not in value:
                    continue
                if value[name] is None and name not in required:
                    del value[name]
                else:
                    _drop_absent_nulls(spec, sub, value[name])
    elif isinstance(value, list):
        for item in value:
            _drop_absent_nulls(spec, schema.get("items", {}), item)


@schemathesis.hook
def before_call(ctx, case, kwargs):
    raw = case.operation.definition.raw or {}
    body = case.body
    content = raw.get("requestBody", {}).get("content", {})
    if isinstance(body, (dict, list)) and content:
        spec = case.operation.schema.raw_schema
        _drop_absent_nulls(spec, next(iter(content.values())).get("schema", {}), body)
    operation_id = raw.get("operationId")
    if operation_id not in AUTH_OPERATIONS or not isinstance(body, dict):
        return
    auth = body.get("auth") if operation_id == "merchant_post_management_instances" else body
    if isinstance(auth, dict) and auth.get("method") == "external":
        auth["method"] = "token"
        if not isinstance(auth.get("password"), str) or len(auth["password"]) < 8:
            auth["password"] = "password-from-schemathesis"
