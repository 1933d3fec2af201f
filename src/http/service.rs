//! One service behind the edge: its operations, its spec at `/openapi.json`, and its
//! error conventions; and the answer of operations that succeed without a body.

use std::sync::Arc;

use poem::{Endpoint, EndpointExt, Response};
use poem_openapi::{OpenApi, OpenApiService};

use super::{
    errors::{BodyErrorPolicy, MissingAuth, ServiceErrors},
    routes::AllowedMethods,
    spec::published_spec,
};

/// The answer of operations that succeed without a body.
#[derive(poem_openapi::ApiResponse)]
pub enum NoContent {
    /// The operation succeeded.
    #[oai(status = 204)]
    Done,
}

/// A service's spec as published, and what it says about its paths: built once, for
/// the endpoint (its 405 answers and parameter names) and whoever else needs the paths.
pub struct Published {
    spec: String,
    pub paths: Arc<AllowedMethods>,
}

impl Published {
    pub fn of<T: OpenApi>(service: &OpenApiService<T, ()>) -> Published {
        Published::of_spec(published_spec(service))
    }

    /// The published form of a spec that [`super::spec::published_spec_with`] made.
    pub fn of_spec(spec: String) -> Published {
        let paths = Arc::new(AllowedMethods::from_spec(&spec));
        Published { spec, paths }
    }
}

/// One service: its operations, its spec at `/openapi.json`, and its error conventions.
pub fn service_endpoint<T: OpenApi + 'static>(
    service: OpenApiService<T, ()>,
    policy: BodyErrorPolicy,
    missing_auth: MissingAuth,
) -> impl Endpoint<Output = Response> {
    let published = Published::of(&service);
    published_endpoint(service, published, policy, missing_auth)
}

/// [`service_endpoint`] with its spec published already.
pub fn published_endpoint<T: OpenApi + 'static>(
    service: OpenApiService<T, ()>,
    published: Published,
    policy: BodyErrorPolicy,
    missing_auth: MissingAuth,
) -> impl Endpoint<Output = Response> {
    let Published { spec, paths } = published;
    poem::Route::new()
        .at(
            "/openapi.json",
            poem::endpoint::make_sync(move |_| {
                Response::builder()
                    .content_type("application/json")
                    .body(spec.clone())
            }),
        )
        .nest("/", service)
        .with(ServiceErrors {
            policy,
            missing_auth,
            allowed: paths,
        })
}
