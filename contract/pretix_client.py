"""Gate 5: a real third-party merchant client against the server.

Runs the GNU Taler payment provider of pretix, `pretix-taler` (pinned in
contract/requirements.txt, installed from PyPI as published), unmodified: its
`settings_form_clean` (the backend check a pretix admin triggers), `execute_payment`
(order creation and the first status read) and `_query_and_process` (the status poll
pretix runs). Only the framework around it is stood in for: the few Django and pretix
names the module imports are replaced by minimal objects below, since a whole pretix
installation (its database, Celery and web server) is not what is under test. Every
HTTP request is the plugin's own, against an instance's base URL, with a login token as
its API key, as a pretix admin configures it.

Between the polls, the customer's wallet claims the order (as GNU Taler's wallet does:
`taler://pay` URI parsed, claim with the URI's token), and the customer's browser asks
the public status without proof of ownership and is sent to `public_reorder_url`.

Usage: pretix_client.py BASE_URL ADMIN_TOKEN
"""

import datetime
import json
import os
import sys
import types
import urllib.parse

import requests

BASE, ADMIN_TOKEN = sys.argv[1].rstrip("/"), sys.argv[2]
INSTANCE = "pretix-shop"


# --- The framework pretix-taler runs in, stood in for -------------------------------

def module(name, **attrs):
    m = types.ModuleType(name)
    m.__dict__.update(attrs)
    sys.modules[name] = m
    return m


class ValidationError(Exception):
    pass


class PaymentException(Exception):
    pass


class Field:
    def __init__(self, *args, **kwargs):
        self.kwargs = kwargs


class Settings:
    """pretix's `SettingsSandbox`: attribute access and `get(key, default, as_type)`."""

    def __init__(self, values):
        self.values = values

    def __getattr__(self, name):
        return self.values.get(name)

    def get(self, key, default=None, as_type=None):
        value = self.values.get(key, default)
        return as_type(value) if as_type and value is not None else value


class BasePaymentProvider:
    def __init__(self, event):
        self.event = event
        self.settings = Settings(event.provider_settings)

    def settings_form_clean(self, cleaned_data):
        return cleaned_data


class Log(list):
    def log_action(self, action, data=None):
        self.append((action, data))


class Refunds:
    def filter(self, **kwargs):
        return []


class OrderPayment:
    PAYMENT_STATE_CREATED = "created"
    PAYMENT_STATE_PENDING = "pending"
    PAYMENT_STATE_CONFIRMED = "confirmed"
    PAYMENT_STATE_FAILED = "failed"
    PAYMENT_STATE_REFUNDED = "refunded"

    def __init__(self, order, amount):
        self.order, self.amount, self.pk, self.local_id = order, amount, 1, 1
        self.full_id = f"{order.code}-P-1"
        self.provider = "taler"
        self.state = self.PAYMENT_STATE_CREATED
        self.info = ""
        self.refunds = Refunds()

    @property
    def info_data(self):
        return json.loads(self.info) if self.info else {}

    @info_data.setter
    def info_data(self, value):
        self.info = json.dumps(value)

    def save(self, update_fields=None):
        pass

    def confirm(self):
        self.state = self.PAYMENT_STATE_CONFIRMED

    def fail(self, log_data=None):
        self.state = self.PAYMENT_STATE_FAILED


class OrderRefund:
    REFUND_STATE_TRANSIT = "transit"
    REFUND_SOURCE_EXTERNAL = "external"


class Manager:
    def __init__(self):
        self.rows = []

    def create(self, **kwargs):
        self.rows.append(kwargs)
        return kwargs


class Model:
    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.objects = Manager()


module("django")
module("django.forms", URLField=Field, IntegerField=Field, BooleanField=Field)
sys.modules["django"].forms = sys.modules["django.forms"]
module("django.core")
module("django.core.exceptions", ValidationError=ValidationError)
module("django.core.validators", RegexValidator=Field)
module("django.http", HttpRequest=object)
module("django.template")
module("django.template.loader", get_template=lambda name: None)
module("django.utils")
module("django.utils.timezone", now=lambda: datetime.datetime.now(datetime.timezone.utc))
module("django.utils.translation", gettext_lazy=lambda s: s)
module("django.db")
module(
    "django.db.models",
    Model=Model,
    ForeignKey=Field,
    DateTimeField=Field,
    CASCADE="cascade",
)
sys.modules["django.db"].models = sys.modules["django.db.models"]
module("pretix")
module("pretix.base")
module("pretix.base.forms", SecretKeySettingsField=Field)
module("pretix.base.models", Event=object, OrderPayment=OrderPayment, OrderRefund=OrderRefund)
module("pretix.base.payment", BasePaymentProvider=BasePaymentProvider, PaymentException=PaymentException)
module("pretix.base.settings", SettingsSandbox=Settings)
module("pretix.multidomain")
module(
    "pretix.multidomain.urlreverse",
    build_absolute_uri=lambda event, name, kwargs=None: "https://tickets.example/conf/"
    + ("" if name == "presale:event.index" else "taler/return/" + "/".join(map(str, (kwargs or {}).values())) + "/"),
    eventreverse=lambda event, name, kwargs=None: "/conf/taler/return/",
)

from pretix_taler.payment import Taler  # noqa: E402  (after the stand-ins)
from importlib.metadata import version  # noqa: E402


# --- The server set up as a shop operator does ----------------------------------------

def admin(method, path, body=None):
    r = requests.request(
        method, f"{BASE}/merchant{path}", json=body,
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    if r.status_code >= 300:
        sys.exit(f"pretix gate: {method} {path}: {r.status_code} {r.text}")
    return r.json() if r.content else None


admin("POST", "/management/instances", {
    "id": INSTANCE, "name": "Pretix shop", "auth": {"method": "token", "password": "pretix-password"},
    "address": {}, "jurisdiction": {}, "use_stefan": True,
})
instance = f"{BASE}/merchant/instances/{INSTANCE}/"
# The operator logs in (HTTP Basic) for a token, which becomes pretix's "API key".
login = requests.post(
    instance + "private/token", json={"scope": "all", "duration": {"d_us": "forever"}},
    auth=(INSTANCE, "pretix-password"),
)
login.raise_for_status()
token = login.json()["access_token"]
requests.post(
    instance + "private/accounts",
    json={"payto_uri": "payto://x-taler-bank/bank.example/pretix?receiver-name=Pretix"},
    headers={"Authorization": f"Bearer {token}"},
).raise_for_status()


# --- pretix-taler, as pretix drives it ------------------------------------------------

steps = []


def step(name):
    steps.append(name)


class Event:
    currency = "KUDOS"
    testmode = False
    slug = "conf"
    provider_settings = {
        "merchant_api_url": instance,
        # pretix sends `Bearer secret-token:<key>`: the key is the token's secret part.
        "merchant_api_key": token.removeprefix("secret-token:"),
        "max_pay_deadline": 60,
        "refund_delay": 60 * 24 * 7,
        "testmode_kudos": False,
    }

    def __str__(self):
        return "Conference 2027"


class Order(Log):
    code = "ABC12"
    secret = "s3cr3tOrderSecret"
    testmode = False
    expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)


provider = Taler(Event())
# The admin saves the settings: the plugin checks the backend (`config` at the base URL).
provider.settings_form_clean({"payment_taler_merchant_api_url": instance})
step("settings_form_clean: config at the instance's base URL accepted")

payment = OrderPayment(Order(), "23.50")
provider.execute_payment(None, payment)
info = payment.info_data
assert payment.state == OrderPayment.PAYMENT_STATE_PENDING, (payment.state, info)
assert info["order_status"] == "unpaid", info
pay_uri = info["taler_pay_uri"]
host = urllib.parse.urlsplit(BASE).netloc
assert pay_uri.startswith(f"taler+http://pay/{host}/merchant/instances/{INSTANCE}/{payment.full_id}/"), pay_uri
step("execute_payment: order created, unpaid status with the pay URI read")

provider._query_and_process(payment)
assert payment.state == OrderPayment.PAYMENT_STATE_PENDING
step("_query_and_process: unpaid, payment stays pending")

# The customer's wallet claims the order through the pay URI (`?c=` is the claim token).
claim_token = urllib.parse.parse_qs(urllib.parse.urlsplit(pay_uri).query)["c"][0]
# The nonce: 32 random bytes in Taler's Crockford base32 (52 characters).
alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
bits = int.from_bytes(os.urandom(32), "big") << 4  # 256 bits, padded to 52 * 5
nonce = "".join(alphabet[(bits >> (5 * (51 - i))) & 31] for i in range(52))
claim = requests.post(
    instance + f"orders/{payment.full_id}/claim", json={"nonce": nonce, "token": claim_token},
)
assert claim.status_code == 200, claim.text
terms = claim.json()["contract_terms"]
assert terms["public_reorder_url"] == "https://tickets.example/conf/", terms
assert terms["merchant_base_url"] == instance, terms
step("wallet: claimed through the pay URI")

# A browser without proof of ownership is sent to buy again, as the page says.
status = requests.get(instance + f"orders/{payment.full_id}")
assert status.status_code == 202 and status.json()["public_reorder_url"] == terms["public_reorder_url"], status.text
step("browser: 202 with public_reorder_url")

provider._query_and_process(payment)
assert payment.state == OrderPayment.PAYMENT_STATE_PENDING
assert payment.info_data["order_id"] == payment.full_id
status = requests.get(
    instance + f"private/orders/{payment.full_id}",
    headers={"Authorization": f"Bearer {token}"},
)
assert status.json()["order_status"] == "claimed", status.text
step("_query_and_process: claimed, payment stays pending")

print(f"pretix-taler {version('pretix-taler')}: {len(steps)} steps, all as the plugin expects")
for name in steps:
    print(f"  {name}")
