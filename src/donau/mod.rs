//! The Donau: configuration and, later, the charity registry.

pub mod config;

use poem::{Endpoint, EndpointExt};
use poem_openapi::{OpenApiService, Tags};

use crate::{
    State,
    http::{BodyErrorPolicy, ServiceErrors},
};

#[derive(Tags)]
pub enum ApiTags {
    /// Protocol version and configuration.
    Configuration,
}

pub type Api = config::ConfigApi;

pub fn api(state: &State) -> Api {
    config::ConfigApi(state.clone())
}

pub fn endpoint(service: OpenApiService<Api, ()>) -> impl Endpoint {
    let spec = service.spec_endpoint();
    poem::Route::new()
        .at("/openapi.json", spec)
        .nest("/", service)
        .with(ServiceErrors(BodyErrorPolicy::JsonInvalid))
}
