//! The bank: the Taler Revenue API, in libeufin-bank's dialect.

pub mod accounts;
pub mod auth;
pub mod revenue;

use poem::Endpoint;
use poem_openapi::{OpenApiService, Tags};

use crate::{
    State,
    http::{BodyErrorPolicy, MissingAuth, service_endpoint},
};

#[derive(Tags)]
pub enum ApiTags {
    /// The Taler Revenue API of an account.
    Revenue,
    /// Accounts, tokens and transfers (a subset of the core bank API).
    Accounts,
}

pub type Api = (revenue::RevenueApi, accounts::AccountsApi);

pub fn api(state: &State) -> Api {
    (
        revenue::RevenueApi(state.clone()),
        accounts::AccountsApi(state.clone()),
    )
}

/// The full payto URI of an account, with its owner's name.
pub fn accounts_payto(account: &crate::store::bank::Account) -> String {
    payto_with_name(&account.payto_key, &account.name)
}

pub fn payto_with_name(payto_key: &str, name: &str) -> String {
    let name: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
    format!("{payto_key}?receiver-name={name}")
}

pub fn endpoint(service: OpenApiService<Api, ()>) -> impl Endpoint {
    service_endpoint(
        service,
        BodyErrorPolicy::ShapeJsonInvalid,
        MissingAuth::Unauthorized,
    )
}
