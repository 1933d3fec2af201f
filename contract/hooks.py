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
# generated bodies that would switch it on get the `token` method instead.
# tests/client_protocol.rs covers `external` over HTTP.
AUTH_OPERATIONS = {
    "merchant_post_management_instances",
    "merchant_post_management_instance_auth",
    "merchant_post_private_auth",
}


@schemathesis.hook
def map_body(ctx, body):
    operation = getattr(ctx.operation, "definition", None)
    operation_id = (getattr(operation, "raw", None) or {}).get("operationId")
    if operation_id not in AUTH_OPERATIONS or not isinstance(body, dict):
        return body
    auth = body.get("auth") if operation_id == "merchant_post_management_instances" else body
    if isinstance(auth, dict) and auth.get("method") == "external":
        auth["method"] = "token"
        auth.setdefault("password", "password-from-schemathesis")
    return body
