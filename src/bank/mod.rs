//! The bank: the Taler Revenue API, in libeufin-bank's dialect.

pub mod revenue;

use poem::{Endpoint, EndpointExt};
use poem_openapi::{OpenApiService, Tags};

use crate::{
    State,
    http::{BodyErrorPolicy, MissingAuth, ServiceErrors},
};

#[derive(Tags)]
pub enum ApiTags {
    /// The Taler Revenue API of an account.
    Revenue,
}

pub type Api = revenue::RevenueApi;

pub fn api(state: &State) -> Api {
    revenue::RevenueApi(state.clone())
}

pub fn endpoint(service: OpenApiService<Api, ()>) -> impl Endpoint {
    let spec = service.spec_endpoint();
    poem::Route::new()
        .at("/openapi.json", spec)
        .nest("/", service)
        .with(ServiceErrors(
            BodyErrorPolicy::JsonInvalid,
            MissingAuth::Unauthorized,
        ))
}
