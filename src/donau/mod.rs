//! The Donau: configuration and the charity registry.

pub mod charities;
pub mod config;

use poem::Endpoint;
use poem_openapi::{OpenApiService, Tags};

use crate::{
    State,
    http::{BodyErrorPolicy, MissingAuth, service_endpoint},
};

#[derive(Tags)]
pub enum ApiTags {
    /// Protocol version and configuration.
    Configuration,
    /// The charity registry (administrator).
    Charities,
}

pub type Api = (config::ConfigApi, charities::CharitiesApi);

pub fn api(state: &State) -> Api {
    (
        config::ConfigApi(state.clone()),
        charities::CharitiesApi(state.clone()),
    )
}

pub fn endpoint(service: OpenApiService<Api, ()>) -> impl Endpoint {
    service_endpoint(
        service,
        BodyErrorPolicy::JsonInvalid,
        MissingAuth::Forbidden,
    )
}
