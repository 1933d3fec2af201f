"""Gate 3: Python clients generated from the published specs (openapi-python-client)
drive one realistic flow per family against a live server, asserting the results.
Only the generated packages talk to the server; request bodies are built with the
generated models' `from_dict`, answers read through their typed attributes.

Usage: client_flows.py BASE_URL ADMIN_TOKEN REPORT_DIR   (PYTHONPATH holds the clients)
"""

import base64
import hashlib
import json
import os
import sys
import threading
import time
from http import HTTPStatus

import taler_bank.api.accounts.bank_get_account as bank_account
import taler_bank.api.accounts.bank_post_account_token as bank_token
import taler_bank.api.accounts.bank_post_account_transactions as bank_transfer
import taler_bank.api.accounts.bank_post_accounts as bank_accounts
import taler_bank.api.revenue.bank_get_revenue_config as bank_config
import taler_bank.api.wire_gateway.bank_get_wire_gateway_history_incoming as wg_incoming
import taler_bank.api.wire_gateway.bank_get_wire_gateway_history_outgoing as wg_outgoing
import taler_bank.api.wire_gateway.bank_post_wire_gateway_add_incoming as wg_add_incoming
import taler_bank.api.wire_gateway.bank_post_wire_gateway_transfer as wg_transfer
import taler_bank.api.revenue.bank_get_revenue_history as bank_history
import taler_bank.api.withdrawals.bank_get_withdrawal as bank_withdrawal
import taler_bank.api.withdrawals.bank_post_account_withdrawal_confirm as bank_withdrawal_confirm
import taler_bank.api.withdrawals.bank_post_account_withdrawals as bank_withdrawals
import taler_bank.client
import taler_bank.models as bm
import taler_bank_integration.api.integration.integration_get_withdrawal_operation as wallet_op
import taler_bank_integration.api.integration.integration_post_withdrawal_operation as wallet_select
import taler_bank_integration.client
import taler_bank_integration.models as im
import taler_donau.api.charities.donau_delete_charity as donau_delete
import taler_donau.api.charities.donau_get_charities as donau_list
import taler_donau.api.charities.donau_get_charity as donau_get
import taler_donau.api.charities.donau_patch_charity as donau_patch
import taler_donau.api.charities.donau_post_charities as donau_post
import taler_donau.api.configuration.donau_get_config as donau_config
import taler_donau.api.keys.donau_get_keys as donau_keys
import taler_donau.api.receipts.donau_get_donation_statement as donau_statement
import taler_donau.api.receipts.donau_post_batch_issue as donau_issue
import taler_donau.api.receipts.donau_post_batch_submit as donau_submit
import taler_donau.client
import taler_donau.models as dm
import taler_merchant.api.authentication.merchant_delete_private_token as m_logout
import taler_merchant.api.authentication.merchant_post_private_token as m_login
import taler_merchant.api.configuration.merchant_get_config as m_config
import taler_merchant.api.instances.merchant_get_management_instance as m_instance
import taler_merchant.api.instances.merchant_post_management_instances as m_instances
import taler_merchant.api.inventory.merchant_post_private_categories as m_categories
import taler_merchant.api.inventory.merchant_post_private_products as m_products
import taler_merchant.api.accounts.merchant_post_private_accounts as m_account
import taler_merchant.api.orders.merchant_get_order as m_order_status
import taler_merchant.api.orders.merchant_get_private_order as m_order_get
import taler_merchant.api.orders.merchant_post_order_claim as m_claim
import taler_merchant.api.otp_devices.merchant_get_private_otp_device as m_otp_get
import taler_merchant.api.otp_devices.merchant_post_private_otp_devices as m_otp_post
import taler_merchant.api.pots.merchant_delete_private_pot as m_pot_delete
import taler_merchant.api.pots.merchant_get_private_pot as m_pot_get
import taler_merchant.api.pots.merchant_get_private_pots as m_pots
import taler_merchant.api.pots.merchant_patch_private_pot as m_pot_patch
import taler_merchant.api.pots.merchant_post_private_pots as m_pot_post
import taler_merchant.api.reports.merchant_delete_private_report as m_report_delete
import taler_merchant.api.reports.merchant_get_private_report as m_report_get
import taler_merchant.api.reports.merchant_get_private_reports as m_reports
import taler_merchant.api.reports.merchant_post_private_reports as m_report_post
import taler_merchant.api.templates.merchant_delete_private_template as m_tpl_delete
import taler_merchant.api.templates.merchant_get_private_templates as m_tpls
import taler_merchant.api.templates.merchant_get_template as m_wallet_tpl
import taler_merchant.api.templates.merchant_patch_private_template as m_tpl_patch
import taler_merchant.api.templates.merchant_post_private_templates as m_tpl_post
import taler_merchant.api.templates.merchant_post_template as m_tpl_use
import taler_merchant.client
import taler_merchant.models as mm
import taler_crypto
from taler_crypto import crockford_decode, crockford_encode, merchant_wire_hash, verify_contract

BASE, ADMIN, REPORT_DIR = sys.argv[1], sys.argv[2], sys.argv[3]
steps = 0


def expect(response, status, what):
    """Asserts an answer's status; returns its parsed body (a generated model)."""
    global steps
    steps += 1
    if response.status_code != HTTPStatus(status):
        sys.exit(f"client flows: {what}: expected {status}, got {response.status_code}: "
                 f"{response.content!r}")
    return response.parsed


def error_code(response, status, code, what):
    """Asserts an error answer: its status and the ErrorDetail's numeric code."""
    detail = expect(response, status, what)
    assert detail.code == code, f"{what}: code {detail.code}, expected {code}"


def bearer(module, token):
    return module.client.AuthenticatedClient(base_url=f"{BASE}/{module.__name__[6:]}",
                                             token=token, raise_on_unexpected_status=True)


def basic(module, user, password):
    credentials = base64.b64encode(f"{user}:{password}".encode()).decode()
    return module.client.AuthenticatedClient(base_url=f"{BASE}/{module.__name__[6:]}",
                                             token=credentials, prefix="Basic")


def merchant_flow():
    admin = bearer(taler_merchant, ADMIN)
    public = taler_merchant.client.Client(base_url=f"{BASE}/merchant")
    config = expect(m_config.sync_detailed(client=public), 200, "GET /config")
    currency = config.currency

    # An instance, and a login token for it.
    expect(m_instances.sync_detailed(client=admin, body=mm.InstanceConfigurationRequest.from_dict({
        "id": "cafe", "name": "Café", "auth": {"method": "token", "password": "cafe-password"},
        "address": {"country": "CH"}, "jurisdiction": {}, "use_stefan": True,
    })), 204, "create instance")
    assert expect(m_instance.sync_detailed("cafe", client=admin), 200, "get instance").name == "Café"
    login = expect(m_login.sync_detailed("cafe", client=basic(taler_merchant, "cafe", "cafe-password"),
                                         body=mm.LoginTokenRequest.from_dict({
                                             "scope": "all", "duration": {"d_us": 3_600_000_000}})),
                   200, "log in")
    cafe = bearer(taler_merchant, login.access_token)

    # Money pots: create, list, compare-and-set update, a stale update refused, delete.
    pot = expect(m_pot_post.sync_detailed("cafe", client=cafe, body=mm.PotAddRequest.from_dict(
        {"pot_name": "tips", "description": "Tips jar"})), 200, "create pot").pot_serial_id
    listed = expect(m_pots.sync_detailed("cafe", client=cafe), 200, "list pots")
    assert [p.pot_serial for p in listed.pots] == [pot], listed
    change = {"pot_name": "tips", "description": "Tips jar", "expected_pot_totals": [],
              "new_pot_totals": [f"{currency}:5.25"]}
    expect(m_pot_patch.sync_detailed("cafe", pot, client=cafe,
                                     body=mm.PotModifyRequest.from_dict(change)), 204, "fill pot")
    error_code(m_pot_patch.sync_detailed("cafe", pot, client=cafe,
                                         body=mm.PotModifyRequest.from_dict(change)),
               409, 2691, "stale pot update")
    got = expect(m_pot_get.sync_detailed("cafe", pot, client=cafe), 200, "get pot")
    assert got.pot_totals == [f"{currency}:5.25"], got.pot_totals
    expect(m_pot_delete.sync_detailed("cafe", pot, client=cafe), 204, "delete pot")
    error_code(m_pot_get.sync_detailed("cafe", pot, client=cafe), 404, 2035, "deleted pot")

    # Templates: an OTP device and a product to select, an inventory-cart template the
    # wallet reads without credentials, a patch to fixed-order, delete.
    expect(m_otp_post.sync_detailed("cafe", client=cafe, body=mm.OtpDeviceAddDetails.from_dict({
        "otp_device_id": "till", "otp_device_description": "Front till",
        "otp_key": "JBSWY3DPEHPK3PXP", "otp_algorithm": "TOTP_WITHOUT_PRICE"})),
        204, "create OTP device")
    assert expect(m_otp_get.sync_detailed("cafe", "till", client=cafe), 200,
                  "get OTP device").otp_algorithm == 1
    category = expect(m_categories.sync_detailed("cafe", client=cafe,
                                                 body=mm.CategoryCreateRequest.from_dict(
                                                     {"name": "drinks"})),
                      200, "create category").category_id
    expect(m_products.sync_detailed("cafe", client=cafe, body=mm.ProductAddDetailRequest.from_dict({
        "product_id": "espresso", "description": "Espresso", "unit": "cup",
        "unit_price": [f"{currency}:2.5"], "unit_total_stock": "-1", "categories": [category]})),
        204, "create product")
    expect(m_tpl_post.sync_detailed("cafe", client=cafe, body=mm.TemplateCreateRequest.from_dict({
        "template_id": "bar", "template_description": "The bar", "otp_id": "till",
        "template_contract": {"template_type": "inventory-cart",
                              "selected_categories": [category]}})), 204, "create template")
    wallet = expect(m_wallet_tpl.sync_detailed("cafe", "bar", client=public), 200,
                    "wallet reads template")
    payload = wallet.template_contract.to_dict()["inventory_payload"]
    assert [p["product_id"] for p in payload["products"]] == ["espresso"], payload
    expect(m_tpl_patch.sync_detailed("cafe", "bar", client=cafe,
                                     body=mm.TemplatePatchDetails.from_dict({
                                         "template_description": "Espresso, fixed price",
                                         "template_contract": {"summary": "Espresso",
                                                               "amount": f"{currency}:2.5"}})),
           204, "patch template")
    templates = expect(m_tpls.sync_detailed("cafe", client=cafe), 200, "list templates")
    assert [t.template_description for t in templates.templates] == ["Espresso, fixed price"]
    expect(m_tpl_delete.sync_detailed("cafe", "bar", client=cafe), 204, "delete template")
    error_code(m_wallet_tpl.sync_detailed("cafe", "bar", client=public), 404, 2018,
               "deleted template")

    # Reports: every second, the pots as JSON into the file drop; the server delivers.
    # Each instance delivers into a room of its own under TARGET_DIRECTORY, which the
    # server creates.
    target = os.path.join(REPORT_DIR, "cafe", "client-flows")
    report = expect(m_report_post.sync_detailed("cafe", client=cafe,
                                                body=mm.ReportAddRequest.from_dict({
                                                    "description": "Pots every second",
                                                    "program_section": "report-generator-file",
                                                    "mime_type": "application/json",
                                                    "data_source": "/private/pots",
                                                    "target_address": "client-flows",
                                                    "report_frequency": {"d_us": 1_000_000}})),
                    200, "schedule report").report_serial_id
    listed = expect(m_reports.sync_detailed("cafe", client=cafe), 200, "list reports")
    assert [r.report_serial for r in listed.reports] == [report]
    deadline = time.monotonic() + 15
    delivered = lambda: os.path.isdir(target) and os.listdir(target)  # noqa: E731
    while not delivered() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert delivered(), "no report delivered within 15 s"
    detail = expect(m_report_get.sync_detailed("cafe", report, client=cafe), 200, "get report")
    assert not detail.last_error_code, detail.last_error_detail
    expect(m_report_delete.sync_detailed("cafe", report, client=cafe), 204, "delete report")

    expect(m_logout.sync_detailed("cafe", client=cafe), 204, "log out")
    error_code(m_pots.sync_detailed("cafe", client=cafe), 401, 41, "revoked token")


def wallet_flow():
    """A wallet turns a template into an order, reads its status, claims it, and checks
    the merchant's signature independently (contract/taler_crypto.py); a second wallet's
    claim is refused."""
    admin = bearer(taler_merchant, ADMIN)
    public = taler_merchant.client.Client(base_url=f"{BASE}/merchant")
    currency = expect(m_config.sync_detailed(client=public), 200, "GET /config").currency
    merchant_pub = expect(m_instance.sync_detailed("admin", client=admin), 200,
                          "get the default instance").merchant_pub
    payto = "payto://x-taler-bank/localhost/admin?receiver-name=Admin"
    account = expect(m_account.sync_detailed("admin", client=admin,
                                             body=mm.AccountAddDetails.from_dict(
                                                 {"payto_uri": payto})), 200, "add bank account")
    assert crockford_encode(merchant_wire_hash(payto, crockford_decode(account.salt))) == \
        account.h_wire, "h_wire is not the salted hash of the payto URI"
    expect(m_tpl_post.sync_detailed("admin", client=admin, body=mm.TemplateCreateRequest.from_dict({
        "template_id": "espresso", "template_description": "Espresso at the bar",
        "template_contract": {"summary": "Espresso", "amount": f"{currency}:2.5",
                              "request_tip": True}})), 204, "create template")
    created = expect(m_tpl_use.sync_detailed("admin", "espresso", client=public,
                                             body=mm.UsingTemplateDetailsRequest.from_dict(
                                                 {"tip": f"{currency}:0.5"})),
                     200, "wallet creates an order from the template")
    order_id, token = created.order_id, created.token
    unpaid = expect(m_order_status.sync_detailed("admin", order_id, client=public, token=token),
                    402, "order status")
    assert unpaid.taler_pay_uri.endswith(f"/{order_id}/?c={token}"), unpaid.taler_pay_uri
    nonce = crockford_encode(os.urandom(32))
    claimed = m_claim.sync_detailed("admin", order_id, client=public,
                                    body=mm.ClaimRequest.from_dict({"nonce": nonce, "token": token}))
    claim = expect(claimed, 200, "claim")
    raw = json.loads(claimed.content)
    terms = raw["contract_terms"]
    assert (terms["amount"], terms["nonce"], terms["order_id"], terms["h_wire"],
            terms["wire_method"]) == (f"{currency}:3", nonce, order_id, account.h_wire,
                                      "x-taler-bank"), terms
    valid, h = verify_contract(merchant_pub, terms, claim.sig)
    assert valid, "the claim's signature does not verify with the instance's public key"
    again = expect(m_claim.sync_detailed("admin", order_id, client=public,
                                         body=mm.ClaimRequest.from_dict({"nonce": nonce})),
                   200, "the same wallet claims again")
    assert again.sig == claim.sig
    error_code(m_claim.sync_detailed("admin", order_id, client=public,
                                     body=mm.ClaimRequest.from_dict(
                                         {"nonce": crockford_encode(os.urandom(32)),
                                          "token": token})),
               409, 2301, "another wallet's claim")
    error_code(m_order_status.sync_detailed("admin", order_id, client=public, token=token),
               403, 2106, "status without the contract hash")
    expect(m_order_status.sync_detailed("admin", order_id, client=public,
                                        h_contract=crockford_encode(h)),
           402, "status with the contract hash")
    merchant_view = expect(m_order_get.sync_detailed("admin", order_id, client=admin), 200,
                           "the merchant sees the claim")
    assert merchant_view.order_status == "claimed", merchant_view


def bank_flow():
    admin = bearer(taler_bank, ADMIN)
    for user in ("grocer", "carol"):
        created = expect(bank_accounts.sync_detailed(client=admin,
                                                     body=bm.RegisterAccountRequest.from_dict({
                                                         "username": user,
                                                         "password": f"password-{user}",
                                                         "name": user.title()})),
                         200, f"create account {user}")
        assert f"/localhost/{user}?" in created.internal_payto_uri, created
    grocer = basic(taler_bank, "grocer", "password-grocer")
    config = expect(bank_config.sync_detailed("grocer", client=grocer), 200, "revenue config")
    token = expect(bank_token.sync_detailed("grocer", client=grocer, body=bm.TokenRequest.from_dict(
        {"scope": "revenue"})), 200, "revenue token").access_token
    revenue = bearer(taler_bank, token)

    # A long poll on the empty history, answered by carol's transfer.
    answer = {}
    poller = threading.Thread(target=lambda: answer.setdefault("r", bank_history.sync_detailed(
        "grocer", client=revenue, limit=5, timeout_ms=20_000)))
    poller.start()
    time.sleep(0.5)
    carol = basic(taler_bank, "carol", "password-carol")
    for n in (1, 2):
        expect(bank_transfer.sync_detailed("carol", client=carol,
                                           body=bm.CreateTransactionRequest.from_dict({
                                               "payto_uri": "payto://x-taler-bank/localhost/grocer"
                                                            f"?message=order-{n}",
                                               "amount": f"{config.currency}:{n}.5"})),
               200, f"transfer {n}")
    poller.join(25)
    first = expect(answer["r"], 200, "long poll")
    assert first.incoming_transactions[0].subject == "order-1", first
    history = expect(bank_history.sync_detailed("grocer", client=revenue, limit=-5), 200, "history")
    assert [t.amount for t in history.incoming_transactions] == [
        f"{config.currency}:2.5", f"{config.currency}:1.5"], history
    assert "/localhost/carol" in history.incoming_transactions[0].debit_account, history
    # Balances: what carol paid, grocer has.
    for user, indicator in (("carol", "debit"), ("grocer", "credit")):
        data = expect(bank_account.sync_detailed(user, client=admin), 200, f"read {user}")
        assert (data.balance.amount, data.balance.credit_debit_indicator) == (
            f"{config.currency}:4", indicator), data.balance

    # An exchange: carol funds a reserve through the Wire Gateway, the exchange pays
    # grocer; both gateway histories and the balances tell it.
    expect(bank_accounts.sync_detailed(client=admin, body=bm.RegisterAccountRequest.from_dict({
        "username": "wg-exchange", "password": "password-wg-exchange", "name": "Exchange",
        "is_taler_exchange": True})), 200, "create exchange account")
    exchange = basic(taler_bank, "wg-exchange", "password-wg-exchange")
    reserve_pub = crockford_encode(os.urandom(32))
    expect(wg_add_incoming.sync_detailed("wg-exchange", client=admin,
                                         body=bm.AddIncomingRequest.from_dict({
                                             "amount": f"{config.currency}:10",
                                             "reserve_pub": reserve_pub,
                                             "debit_account": "payto://x-taler-bank/localhost/carol"})),
           200, "add incoming")
    wtid = crockford_encode(os.urandom(32))
    paid = expect(wg_transfer.sync_detailed("wg-exchange", client=exchange,
                                            body=bm.TransferRequest.from_dict({
                                                "request_uid": crockford_encode(os.urandom(64)),
                                                "amount": f"{config.currency}:7",
                                                "exchange_base_url": "https://exchange.example/",
                                                "wtid": wtid,
                                                "credit_account":
                                                    "payto://x-taler-bank/localhost/grocer"})),
                  200, "exchange pays grocer")
    incoming = expect(wg_incoming.sync_detailed("wg-exchange", client=exchange), 200,
                      "incoming history")
    assert [t.reserve_pub for t in incoming.incoming_transactions] == [reserve_pub], incoming
    outgoing = expect(wg_outgoing.sync_detailed("wg-exchange", client=exchange), 200,
                      "outgoing history")
    assert [(t.row_id, t.wtid) for t in outgoing.outgoing_transactions] == [
        (paid.row_id, wtid)], outgoing
    for user, amount in (("wg-exchange", 3), ("grocer", 11)):
        data = expect(bank_account.sync_detailed(user, client=admin), 200, f"read {user}")
        assert data.balance.amount == f"{config.currency}:{amount}", (user, data.balance)


def withdrawal_flow():
    """A withdrawal as a wallet takes part in it: carol creates it, a wallet reads the
    `taler://withdraw` URI's operation and selects a reserve key and the exchange through
    the Bank Integration API, carol confirms, and the exchange's incoming history shows
    the reserve key."""
    carol = basic(taler_bank, "carol", "password-carol")
    currency = expect(bank_config.sync_detailed("grocer", client=basic(
        taler_bank, "grocer", "password-grocer")), 200, "revenue config").currency
    created = expect(bank_withdrawals.sync_detailed("carol", client=carol,
                                                    body=bm.BankAccountCreateWithdrawalRequest.from_dict(
                                                        {"amount": f"{currency}:5"})),
                     200, "create withdrawal")
    wopid = created.taler_withdraw_uri.rsplit("/", 1)[1]
    assert wopid == created.withdrawal_id, created
    assert "/bank/taler-integration/" in created.taler_withdraw_uri, created
    wallet = taler_bank_integration.client.Client(base_url=f"{BASE}/bank/taler-integration")
    status = expect(wallet_op.sync_detailed(wopid, client=wallet), 200, "wallet reads the operation")
    assert (status.status, status.amount) == ("pending", f"{currency}:5"), status
    reserve_pub = crockford_encode(os.urandom(32))
    selected = expect(wallet_select.sync_detailed(wopid, client=wallet,
                                                  body=im.BankWithdrawalOperationPostRequest.from_dict({
                                                      "reserve_pub": reserve_pub,
                                                      "selected_exchange":
                                                          "payto://x-taler-bank/localhost/wg-exchange"})),
                      200, "wallet selects")
    assert selected.status == "selected", selected
    expect(bank_withdrawal_confirm.sync_detailed("carol", wopid, client=carol), 204, "confirm")
    public = taler_bank.client.Client(base_url=f"{BASE}/bank")
    info = expect(bank_withdrawal.sync_detailed(wopid, client=public), 200, "read the withdrawal")
    assert (info.status, info.selected_reserve_pub) == ("confirmed", reserve_pub), info
    exchange = basic(taler_bank, "wg-exchange", "password-wg-exchange")
    incoming = expect(wg_incoming.sync_detailed("wg-exchange", client=exchange), 200,
                      "incoming history")
    # Newest first (the default `limit` is -20).
    assert incoming.incoming_transactions[0].reserve_pub == reserve_pub, incoming
    assert incoming.incoming_transactions[0].amount == f"{currency}:5", incoming


def donau_flow():
    admin = bearer(taler_donau, ADMIN)
    config = expect(donau_config.sync_detailed(client=taler_donau.client.Client(
        base_url=f"{BASE}/donau")), 200, "GET /config")
    request = {"charity_pub": "TXD9G0C2P45BFNABZV9WJS07787E2WQKVAK269DF08D6HXR7A4D0",
               "charity_url": "https://seeds.example", "charity_name": "Seeds",
               "max_per_year": f"{config.currency}:500"}
    charity = expect(donau_post.sync_detailed(client=admin, body=dm.CharityRequest.from_dict(
        request)), 201, "register charity").charity_id
    error_code(donau_post.sync_detailed(client=admin, body=dm.CharityRequest.from_dict(request)),
               409, 8618, "same key again")
    listed = expect(donau_list.sync_detailed(client=admin), 200, "list charities")
    assert [c.charity_id for c in listed.charities] == [charity]
    expect(donau_patch.sync_detailed(charity, client=admin, body=dm.CharityRequest.from_dict(
        {**request, "charity_name": "Seeds of Hope", "max_per_year": f"{config.currency}:750"})),
        200, "update charity")
    got = expect(donau_get.sync_detailed(charity, client=admin), 200, "get charity")
    assert (got.name, got.max_per_year, got.receipts_to_date) == (
        "Seeds of Hope", f"{config.currency}:750", f"{config.currency}:0"), got
    expect(donau_delete.sync_detailed(charity, client=admin), 204, "delete charity")
    error_code(donau_get.sync_detailed(charity, client=admin), 404, 8609, "deleted charity")
    donor_flow(admin, config.currency)


def donor_flow(admin, currency):
    """A donor's whole path to a tax statement, with the wallet's cryptography
    (contract/taler_crypto.py, written from taler-util and RFC 8032, not from the
    server): hash the tax id, make nonces, blind, have the charity request the batch,
    unblind, submit, fetch the statement and check it as the Donau verifier app does."""
    public = taler_donau.client.Client(base_url=f"{BASE}/donau")
    year = time.gmtime().tm_year
    keys = None
    for _ in range(300):  # the server makes its keys in the background at start-up
        response = donau_keys.sync_detailed(client=public)
        if response.status_code == HTTPStatus.OK:
            keys = response.parsed
            units = [u.to_dict() for u in keys.donation_units if u.year == year]
            if units:
                break
        time.sleep(0.2)
    assert keys is not None and units, "the Donau made no keys of this year"
    global steps
    steps += 1
    unit = min(units, key=lambda u: float(u["value"].split(":")[1]))
    du_pub = taler_crypto.crockford_decode(unit["donation_unit_pub"]["rsa_public_key"])
    du_hash = unit["donation_unit_pub"]["pub_key_hash"]
    # The charity: its key signs the batches it asks for.
    charity_seed = hashlib.sha256(b"donau flow charity").digest()
    _, _, charity_pub = taler_crypto.ed25519_keypair(charity_seed)
    charity = expect(donau_post.sync_detailed(client=admin, body=dm.CharityRequest.from_dict({
        "charity_pub": taler_crypto.crockford_encode(charity_pub),
        "charity_url": "https://donations.example", "charity_name": "Donations",
        "max_per_year": f"{currency}:10000"})), 201, "register the donor's charity").charity_id
    # The donor: SHA-512(tax id, 0, salt, 0), the verifier app's rule.
    h_donor = hashlib.sha512(b"756.1234.5678.97\0" + b"pepper\0").digest()
    planchets = []
    for i in range(2):
        nonce, secret = os.urandom(32), os.urandom(32)
        h_udi = hashlib.sha512(h_donor + nonce).digest()
        planchets.append((nonce, secret, taler_crypto.rsa_blind(du_pub, h_udi, secret)))
    batch_hash = hashlib.sha512()
    for _, _, blinded in planchets:
        batch_hash.update(taler_crypto.crockford_decode(du_hash) + hashlib.sha512(blinded).digest())
    charity_sig = taler_crypto.ed25519_sign(charity_seed, taler_crypto.purpose_block(
        1501, len(planchets).to_bytes(4, "big") + batch_hash.digest()))
    issued = expect(donau_issue.sync_detailed(charity, client=public,
        body=dm.IssueReceiptsRequest.from_dict({
            "charity_sig": taler_crypto.crockford_encode(charity_sig), "year": year,
            "budikeypairs": [{"h_donation_unit_pub": du_hash, "blinded_udi": {
                "cipher": "RSA", "rsa_blinded_identifier": taler_crypto.crockford_encode(b)}}
                for _, _, b in planchets]})), 200, "batch-issue").to_dict()
    receipts = []
    for (nonce, secret, _), blind_sig in zip(planchets, issued["blind_signatures"]):
        sig = taler_crypto.rsa_unblind(du_pub, taler_crypto.crockford_decode(
            blind_sig["blinded_rsa_signature"]), secret)
        assert taler_crypto.rsa_verify(du_pub, hashlib.sha512(h_donor + nonce).digest(), sig)
        receipts.append({"h_donation_unit_pub": du_hash,
                         "nonce": taler_crypto.crockford_encode(nonce),
                         "donation_unit_sig": {"cipher": "RSA",
                                               "rsa_signature": taler_crypto.crockford_encode(sig)}})
    submission = dm.SubmitDonationReceiptsRequest.from_dict({
        "h_donor_tax_id": taler_crypto.crockford_encode(h_donor), "donation_year": year,
        "donation_receipts": receipts})
    expect(donau_submit.sync_detailed(client=public, body=submission), 201, "batch-submit")
    expect(donau_submit.sync_detailed(client=public, body=submission), 201, "batch-submit again")
    statement = expect(donau_statement.sync_detailed(
        year, taler_crypto.crockford_encode(h_donor), client=public), 200, "donation statement")
    total = f"{currency}:{2 * int(unit['value'].split(':')[1])}"  # the ladder's values are whole
    assert statement.total == total, (statement.total, total)
    assert statement.donau_pub in [k.key for k in keys.signkeys], statement
    assert taler_crypto.donation_statement_verifies(
        statement.donau_pub, statement.total, h_donor, year, statement.donation_statement_sig)


for name, flow in (("merchant", merchant_flow), ("wallet", wallet_flow), ("bank", bank_flow),
                   ("withdrawal", withdrawal_flow), ("donau", donau_flow)):
    before = steps
    flow()
    print(f"client flows: {name}: {steps - before} calls through the generated client, all as expected")
