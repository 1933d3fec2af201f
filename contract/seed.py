"""Seeds a fresh server with the objects gate 2 (schemathesis) probes by id, so its
cases reach the handlers' logic and not only their 404s. The ids are the ones
`contract/schemathesis.toml` offers as dictionaries.

Usage: seed.py BASE_URL ADMIN_TOKEN REPORT_DIR
"""

import base64
import json
import sys
import time
import urllib.error
import urllib.request

BASE, TOKEN, REPORT_DIR = sys.argv[1], sys.argv[2], sys.argv[3]

# Public keys of the charities: Crockford base32 of Ed25519 points (RFC 8032 test keys).
CHARITY_PUBS = [
    "TXD9G0C2P45BFNABZV9WJS07787E2WQKVAK269DF08D6HXR7A4D0",
    "7N01FGZ88E4NN4NQ1AKMT6VYQJE9GB6F5V29D360SNAZ2AQMCR60",
    "ZH8WV3K232GT73D4FV804C7GB041DV8KQ8SG7B2XXE8HAJ4GG0JG",
]


def call(method, path, body=None, auth=None):
    """Sends one request; returns (status, parsed body or None)."""
    request = urllib.request.Request(BASE + path, method=method)
    if body is not None:
        request.data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", auth or f"Bearer {TOKEN}")
    try:
        with urllib.request.urlopen(request) as response:
            data = response.read()
            return response.status, json.loads(data) if data else None
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def must(method, path, body=None, auth=None, ok=(200, 201, 204)):
    status, answer = call(method, path, body, auth)
    if status not in ok:
        sys.exit(f"seed: {method} {path} answered {status}: {answer}")
    return answer


def basic(user):
    return "Basic " + base64.b64encode(f"{user}:password-{user}".encode()).decode()


def main():
    m = "/merchant/instances/admin/private"
    must("POST", "/merchant/management/instances", {
        "id": "shop", "name": "Shop", "auth": {"method": "token", "password": "shop-password"},
        "address": {}, "jurisdiction": {}, "use_stefan": True,
    })
    for name in ("tips", "jar"):
        must("POST", f"{m}/pots", {"pot_name": name, "description": f"The {name}"})
    for device in ("till1", "till2"):
        must("POST", f"{m}/otp-devices", {
            "otp_device_id": device, "otp_device_description": device,
            "otp_key": "JBSWY3DPEHPK3PXP", "otp_algorithm": 1,
        })
    must("POST", f"{m}/categories", {"name": "drinks"})
    for product in ("coffee", "tea"):
        must("POST", f"{m}/products", {
            "product_id": product, "description": product, "unit": "cup",
            "unit_price": ["KUDOS:2.5"], "unit_total_stock": "-1", "categories": [1],
        })
    for template, contract in (
        ("fixed", {"summary": "Coffee", "amount": "KUDOS:3"}),
        ("cart", {"template_type": "inventory-cart", "selected_categories": [1]}),
        ("paivana", {"template_type": "paivana", "choices": [{"amount": "KUDOS:1"}]}),
    ):
        must("POST", f"{m}/templates", {
            "template_id": template, "template_description": template,
            "otp_id": "till1", "template_contract": contract,
        })
    must("POST", f"{m}/accounts", {"payto_uri": "payto://x-taler-bank/localhost/admin"})
    for order_id in ("order-1", "order-2"):
        must("POST", f"{m}/orders", {
            "order": {"order_id": order_id, "amount": "KUDOS:4", "summary": order_id,
                      "extra": {"note": "forget me"}, "$forgettable": {"extra": True}},
            "create_token": False,
        })
    for description in ("Pots", "Templates"):
        must("POST", f"{m}/reports", {
            "description": description, "program_section": "report-generator-file",
            "mime_type": "application/json", "data_source": "/private/pots",
            "target_address": "seed", "report_frequency": {"d_us": 3_600_000_000},
        })

    for user in ("shop", "alice", "exchange"):
        must("POST", "/bank/accounts", {
            "username": user, "password": f"password-{user}", "name": user,
            "is_taler_exchange": user == "exchange",
        })
    must("POST", "/bank/accounts/exchange/taler-wire-gateway/admin/add-incoming", {
        "amount": "KUDOS:10", "debit_account": "payto://x-taler-bank/localhost/alice",
        "reserve_pub": CHARITY_PUBS[0],
    })
    for n in range(3):
        must("POST", "/bank/accounts/alice/transactions", {
            "payto_uri": f"payto://x-taler-bank/localhost/shop?message=order-{n}",
            "amount": f"KUDOS:{n + 1}",
        }, auth=basic("alice"))

    for n, pub in enumerate(CHARITY_PUBS):
        must("POST", "/donau/charities", {
            "charity_pub": pub, "charity_url": f"https://charity{n}.example",
            "charity_name": f"Charity {n}", "max_per_year": "KUDOS:1000",
        })
    # The Donau makes its keys in the background at start-up: /keys is 503 until then.
    for _ in range(600):
        if call("GET", "/donau/keys")[0] == 200:
            break
        time.sleep(0.1)
    else:
        sys.exit("seed: the Donau made no keys in 60 s")
    print("seed: 1 instance, 2 pots, 2 OTP devices, 2 products, 3 templates, 1 bank account, 2 orders, 2 reports, "
          "3 bank accounts (one an exchange) with 4 transfers, 3 charities")


if __name__ == "__main__":
    main()
