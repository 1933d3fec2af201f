//! The bank, as libeufin-bank serves it: `accounts/` (the core bank API's accounts,
//! tokens and config), `transactions` (transfers and the account history), the Taler
//! Wire Gateway of exchange accounts, the Taler Revenue API, withdrawals (and the Bank
//! Integration API wallets use for them), `tan` (two-factor authentication), `monitor`;
//! `auth` for credentials, `ledger` and `payto` for the rules every family shares.

pub mod accounts;
pub mod auth;
pub mod integration;
pub mod ledger;
pub mod monitor;
pub mod payto;
pub mod revenue;
pub mod tags;
pub mod tan;
pub mod transactions;
pub mod wire_gateway;
pub mod withdrawals;

pub use ledger::ensure_admin_account;

use poem::{Endpoint, EndpointExt};
use poem_openapi::OpenApiService;

use crate::{
    http::{BodyErrorPolicy, MissingAuth, service_endpoint},
    state::State,
};

pub type Api = (
    revenue::RevenueApi,
    accounts::api::AccountsApi,
    transactions::HistoryApi,
    wire_gateway::api::WireGatewayApi,
    withdrawals::WithdrawalsApi,
    monitor::MonitorApi,
    tan::TanApi,
);

pub fn api(state: &State) -> Api {
    (
        revenue::RevenueApi(state.clone()),
        accounts::api::AccountsApi(state.clone()),
        transactions::HistoryApi(state.clone()),
        wire_gateway::api::WireGatewayApi(state.clone()),
        withdrawals::WithdrawalsApi(state.clone()),
        monitor::MonitorApi(state.clone()),
        tan::TanApi(state.clone()),
    )
}

/// The bank's endpoint. Its credentials are checked as they are extracted, before the
/// body (`auth`), so every request carries the state.
pub fn endpoint(service: OpenApiService<Api, ()>, state: State) -> impl Endpoint {
    service_endpoint(
        service,
        BodyErrorPolicy::ShapeJsonInvalid,
        MissingAuth::Unauthorized,
    )
    .data(state)
}
