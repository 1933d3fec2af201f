// Gate 3, TypeScript: types generated from the published specs by openapi-typescript,
// calls made through openapi-fetch. `tsc --noEmit` checks every request and answer
// against the specs before node runs the flows against a live server.
//
// Usage: node flows.mjs BASE_URL ADMIN_TOKEN

import createClient from "openapi-fetch";
import type { paths as MerchantPaths, components as Merchant } from "./merchant.js";
import type { paths as BankPaths } from "./bank.js";
import type { paths as DonauPaths } from "./donau.js";

type ErrorDetail = Merchant["schemas"]["ErrorDetail"];

const [base, admin] = process.argv.slice(2);
let steps = 0;

function check(condition: boolean, what: string, detail?: unknown): void {
  if (!condition) {
    throw new Error(`${what}: ${JSON.stringify(detail)}`);
  }
  steps += 1;
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const basic = (user: string, password: string) => ({
  Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`,
});

async function merchantFlow(): Promise<void> {
  const merchant = createClient<MerchantPaths>({ baseUrl: `${base}/merchant` });
  const config = await merchant.GET("/config");
  check(config.response.status === 200 && config.data !== undefined, "GET /config", config.error);
  const currency = config.data!.currency;

  const created = await merchant.POST("/management/instances", {
    headers: bearer(admin),
    body: {
      id: "ts-shop",
      name: "TypeScript shop",
      auth: { method: "token", password: "ts-shop-password" },
      address: {},
      jurisdiction: {},
      use_stefan: true,
    },
  });
  check(created.response.status === 204, "create instance", created.error);
  const login = await merchant.POST("/instances/{instance}/private/token", {
    params: { path: { instance: "ts-shop" } },
    headers: basic("ts-shop", "ts-shop-password"),
    body: { scope: "all", duration: { d_us: 3_600_000_000 } },
  });
  check(login.data !== undefined, "log in", login.error);
  const shop = bearer(login.data!.access_token);
  const instance = { instance: "ts-shop" };

  // A pot, filled by compare-and-set; the same update again is stale: a 409 whose body
  // is an ErrorDetail with the code.
  const pot = await merchant.POST("/instances/{instance}/private/pots", {
    params: { path: instance },
    headers: shop,
    body: { pot_name: "tips", description: "Tips jar" },
  });
  check(pot.data !== undefined, "create pot", pot.error);
  const potPath = { ...instance, pot_id: pot.data!.pot_serial_id };
  const change = {
    pot_name: "tips",
    description: "Tips jar",
    expected_pot_totals: [],
    new_pot_totals: [`${currency}:5.25`],
  };
  const filled = await merchant.PATCH("/instances/{instance}/private/pots/{pot_id}", {
    params: { path: potPath },
    headers: shop,
    body: change,
  });
  check(filled.response.status === 204, "fill pot", filled.error);
  const stale = await merchant.PATCH("/instances/{instance}/private/pots/{pot_id}", {
    params: { path: potPath },
    headers: shop,
    body: change,
  });
  const detail: ErrorDetail | undefined = stale.error;
  check(stale.response.status === 409 && detail?.code === 2691, "stale pot update", detail);
  const got = await merchant.GET("/instances/{instance}/private/pots/{pot_id}", {
    params: { path: potPath },
    headers: shop,
  });
  check(got.data?.pot_totals[0] === `${currency}:5.25`, "read pot", got.data);

  // A template, and its public view as a wallet reads it.
  const template = await merchant.POST("/instances/{instance}/private/templates", {
    params: { path: instance },
    headers: shop,
    body: {
      template_id: "coffee",
      template_description: "A coffee",
      template_contract: { summary: "Coffee", amount: `${currency}:3` },
    },
  });
  check(template.response.status === 204, "create template", template.error);
  const wallet = await merchant.GET("/instances/{instance}/templates/{template_id}", {
    params: { path: { ...instance, template_id: "coffee" } },
  });
  check(
    wallet.data?.template_type === "fixed-order" &&
      wallet.data.template_contract.summary === "Coffee",
    "wallet reads template",
    wallet.data,
  );
}

async function bankFlow(): Promise<void> {
  const bank = createClient<BankPaths>({ baseUrl: `${base}/bank` });
  for (const user of ["ts-grocer", "ts-carol"]) {
    const created = await bank.POST("/accounts", {
      headers: bearer(admin),
      body: { username: user, password: `password-${user}`, name: user },
    });
    check(created.data !== undefined, `create account ${user}`, created.error);
  }
  const grocer = { USERNAME: "ts-grocer" };
  const token = await bank.POST("/accounts/{USERNAME}/token", {
    params: { path: grocer },
    headers: basic("ts-grocer", "password-ts-grocer"),
    body: { scope: "revenue" },
  });
  // 200 with the token; 202 would be a TAN challenge (the account has no second factor).
  const minted = token.data;
  check(minted !== undefined && "access_token" in minted, "revenue token", token.error);
  const revenue = bearer((minted as { access_token: string }).access_token);
  const config = await bank.GET("/accounts/{USERNAME}/taler-revenue/config", {
    params: { path: grocer },
    headers: revenue,
  });
  check(config.data !== undefined, "revenue config", config.error);

  // A long poll on the empty history, answered by a transfer made meanwhile.
  const poll = bank.GET("/accounts/{USERNAME}/taler-revenue/history", {
    params: { path: grocer, query: { limit: 5, timeout_ms: 20_000 } },
    headers: revenue,
  });
  await new Promise((resolve) => setTimeout(resolve, 500));
  const transfer = await bank.POST("/accounts/{USERNAME}/transactions", {
    params: { path: { USERNAME: "ts-carol" } },
    headers: basic("ts-carol", "password-ts-carol"),
    body: {
      payto_uri: "payto://x-taler-bank/localhost/ts-grocer?message=ts-order-1",
      amount: `${config.data!.currency}:1.5`,
    },
  });
  check(transfer.response.status === 200, "transfer", transfer.error ?? transfer.data);
  const answer = await poll;
  const incoming = answer.data?.incoming_transactions ?? [];
  check(
    answer.response.status === 200 && incoming[0]?.subject === "ts-order-1",
    "long poll answered by the transfer",
    answer.data,
  );
}

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** Taler's Crockford base32 of random bytes: a wallet's nonce. */
function randomKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let out = "";
  let bits = 0;
  let count = 0;
  for (const byte of bytes) {
    bits = (bits << 8) | byte;
    count += 8;
    while (count >= 5) {
      count -= 5;
      out += CROCKFORD[(bits >> count) & 31];
    }
    bits &= (1 << count) - 1;
  }
  return count > 0 ? out + CROCKFORD[(bits << (5 - count)) & 31] : out;
}

// A wallet turns a template into an order, reads its 402 status, claims it; a second
// wallet's claim is refused.
async function walletFlow(): Promise<void> {
  const merchant = createClient<MerchantPaths>({ baseUrl: `${base}/merchant` });
  const config = await merchant.GET("/config");
  check(config.data !== undefined, "GET /config", config.error);
  const currency = config.data!.currency;
  const account = await merchant.POST("/instances/{instance}/private/accounts", {
    params: { path: { instance: "admin" } },
    headers: bearer(admin),
    body: { payto_uri: "payto://x-taler-bank/localhost/admin-ts" },
  });
  check(account.data !== undefined && account.data.h_wire.length === 103, "add bank account", account.error);
  const template = await merchant.POST("/instances/{instance}/private/templates", {
    params: { path: { instance: "admin" } },
    headers: bearer(admin),
    body: {
      template_id: "ts-espresso",
      template_description: "Espresso",
      template_contract: { summary: "Espresso", amount: `${currency}:2` },
    },
  });
  check(template.response.status === 204, "create template", template.error);
  const order = await merchant.POST("/instances/{instance}/templates/{template_id}", {
    params: { path: { instance: "admin", template_id: "ts-espresso" } },
    body: {},
  });
  check(order.data !== undefined, "order from template", order.error);
  const { order_id, token } = order.data as Merchant["schemas"]["PostOrderResponse"];
  const status = await merchant.GET("/instances/{instance}/orders/{order_id}", {
    params: { path: { instance: "admin", order_id }, query: { token } },
  });
  const unpaid = status.error as Merchant["schemas"]["StatusUnpaidResponse"] | undefined;
  check(status.response.status === 402 && unpaid?.taler_pay_uri.includes(order_id) === true,
    "order status", status.error);
  const claimPath = { params: { path: { instance: "admin", order_id } } };
  const nonce = randomKey();
  const claim = await merchant.POST("/instances/{instance}/orders/{order_id}/claim", {
    ...claimPath,
    body: { nonce, token },
  });
  check(claim.data !== undefined && claim.data.sig.length === 103, "claim", claim.error);
  const terms = claim.data!.contract_terms;
  check(terms.nonce === nonce && terms.amount === `${currency}:2`, "claimed terms", terms);
  const other = await merchant.POST("/instances/{instance}/orders/{order_id}/claim", {
    ...claimPath,
    body: { nonce: randomKey(), token },
  });
  check(other.response.status === 409 && (other.error as ErrorDetail | undefined)?.code === 2301,
    "another wallet's claim", other.error);
}

async function donauFlow(): Promise<void> {
  const donau = createClient<DonauPaths>({ baseUrl: `${base}/donau` });
  const config = await donau.GET("/config");
  check(config.data !== undefined, "donau config", config.error);
  const created = await donau.POST("/charities", {
    headers: bearer(admin),
    body: {
      charity_pub: "71CTFP87WVGR883S7BBHV6YNSKK98VK7R6AEJ3YP2KSJ2BASJN4G",
      charity_url: "https://ts.example",
      charity_name: "TypeScript charity",
      max_per_year: `${config.data!.currency}:100`,
    },
  });
  check(created.response.status === 201 && created.data !== undefined, "register charity", created.error);
  const got = await donau.GET("/charity/{charity_id}", {
    params: { path: { charity_id: created.data!.charity_id } },
    headers: bearer(admin),
  });
  check(got.data?.name === "TypeScript charity", "read charity", got.data);
}

for (const [name, flow] of [
  ["merchant", merchantFlow],
  ["wallet", walletFlow],
  ["bank", bankFlow],
  ["donau", donauFlow],
] as const) {
  const before = steps;
  await flow();
  console.log(`typescript client: ${name}: ${steps - before} checks through openapi-fetch, all as expected`);
}
