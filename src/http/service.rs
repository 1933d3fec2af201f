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

/// One service: its operations, its spec at `/openapi.json`, and its error conventions.
pub fn service_endpoint<T: OpenApi + 'static>(
    service: OpenApiService<T, ()>,
    policy: BodyErrorPolicy,
    missing_auth: MissingAuth,
) -> impl Endpoint<Output = Response> {
    let spec = published_spec(&service);
    let allowed = AllowedMethods::from_spec(&spec);
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
            allowed: Arc::new(allowed),
        })
}
