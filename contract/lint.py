"""Gate 1 of the contract checks: each published spec is valid OpenAPI 3, and every
operation has an operationId, a summary, tags, and ErrorDetail error responses."""

import json
import sys
from pathlib import Path

from openapi_spec_validator import validate

METHODS = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}

# Operations that cannot fail: they read only configuration (no database, no input the
# handler checks). Errors of the HTTP edge (404 path, 405 method) apply to every path.
CANNOT_FAIL = {"merchant_get_config", "donau_get_config", "bank_get_revenue_config",
               "bank_get_config", "integration_get_config"}

# Statuses whose pages define a body of their own (post-private-orders: 410
# `OutOfStockResponse`; get-orders-ORDER_ID: 402 `StatusUnpaidResponse`).
PAGE_BODIES = {"402": "#/components/schemas/StatusUnpaidResponse",
               "410": "#/components/schemas/OutOfStockResponse"}


def check(path: Path) -> tuple[int, list[str]]:
    spec = json.loads(path.read_text())
    validate(spec)
    problems = []
    operations = 0
    for route, item in spec["paths"].items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            operations += 1
            where = f"{path.name} {method.upper()} {route}"
            for field in ("operationId", "summary", "tags"):
                if not op.get(field):
                    problems.append(f"{where}: no {field}")
            errors = {s: r for s, r in op["responses"].items() if s[0] in "45"}
            if not errors and op.get("operationId") not in CANNOT_FAIL:
                problems.append(f"{where}: declares no error responses")
            for status, response in errors.items():
                content = response.get("content", {})
                page_body = content.get("application/json; charset=utf-8", {}).get("schema", {})
                if status in PAGE_BODIES and page_body.get("$ref") == PAGE_BODIES[status]:
                    continue
                schema = content.get("application/json", {}).get("schema", {})
                if schema.get("$ref") != "#/components/schemas/ErrorDetail":
                    problems.append(f"{where}: {status} is not an ErrorDetail")
    return operations, problems


def main() -> int:
    total, failed = 0, []
    for path in sorted(Path(sys.argv[1]).glob("*.json")):
        operations, problems = check(path)
        total += operations
        failed += problems
        print(f"lint: {path.name}: valid OpenAPI 3, {operations} operations checked")
    for p in failed:
        print(f"lint: {p}")
    print(f"lint: {total} operations, {len(failed)} problems")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
