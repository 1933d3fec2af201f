//! The Donau: configuration and the charity registry.

pub mod charities;
pub mod config;
pub mod keys;
pub mod receipts;
pub mod signatures;
pub mod tags;
pub mod unverified;

use poem::Endpoint;
use poem_openapi::OpenApiService;

use crate::{
    http::{BodyErrorPolicy, MissingAuth, service_endpoint},
    state::State,
};

pub type Api = (
    config::ConfigApi,
    charities::CharitiesApi,
    keys::KeysApi,
    receipts::ReceiptsApi,
);

pub fn api(state: &State) -> Api {
    (
        config::ConfigApi(state.clone()),
        charities::CharitiesApi(state.clone()),
        keys::KeysApi(state.clone()),
        receipts::ReceiptsApi(state.clone()),
    )
}

pub fn endpoint(service: OpenApiService<Api, ()>) -> impl Endpoint {
    service_endpoint(
        service,
        BodyErrorPolicy::JsonInvalid,
        MissingAuth::Forbidden,
    )
}
