//! The Donau: configuration and the charity registry.

pub mod charities;
pub mod config;

use poem::{Endpoint, EndpointExt};
use poem_openapi::{OpenApiService, Tags};

use crate::{
    State,
    http::{BodyErrorPolicy, MissingAuth, ServiceErrors},
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
    let spec = service.spec_endpoint();
    poem::Route::new()
        .at("/openapi.json", spec)
        .nest("/", service)
        .with(ServiceErrors(
            BodyErrorPolicy::JsonInvalid,
            MissingAuth::Forbidden,
        ))
}
