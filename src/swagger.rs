//! Swagger UI (vendored assets, nothing downloaded) with the four specs in its selector.

use std::sync::Arc;

use poem::{Endpoint, Request, Response, http::StatusCode, web::Html};

use crate::taler::{ApiError, ErrorCode};

/// Serves Swagger UI under the path it is nested at; `specs` are `(name, URL)` pairs.
pub fn endpoint(specs: &[(&str, String)]) -> impl Endpoint + 'static {
    let urls: Vec<utoipa_swagger_ui::Url<'static>> = specs
        .iter()
        .map(|(name, url)| {
            let name: &'static str = Box::leak(name.to_string().into_boxed_str());
            let url: &'static str = Box::leak(url.clone().into_boxed_str());
            utoipa_swagger_ui::Url::new(name, url)
        })
        .collect();
    let config = Arc::new(utoipa_swagger_ui::Config::new(urls));
    poem::endpoint::make_sync(move |req: Request| {
        let tail = req.uri().path().trim_start_matches('/');
        // The UI loads its files by relative paths: served at `/swagger-ui` (no slash)
        // they would resolve against `/` and 404, leaving a blank page.
        if tail.is_empty() && !req.original_uri().path().ends_with('/') {
            return redirect_to_directory(&req);
        }
        serve(tail, config.clone())
    })
}

fn redirect_to_directory(req: &Request) -> Response {
    let mut location = format!("{}/", req.original_uri().path());
    if let Some(query) = req.original_uri().query() {
        location.push('?');
        location.push_str(query);
    }
    Response::builder()
        .status(StatusCode::MOVED_PERMANENTLY)
        .header("location", location)
        .finish()
}

fn serve(tail: &str, config: Arc<utoipa_swagger_ui::Config<'static>>) -> Response {
    let tail = if tail.is_empty() { "index.html" } else { tail };
    match utoipa_swagger_ui::serve(tail, config) {
        Ok(Some(file)) => Response::builder()
            .content_type(file.content_type)
            .body(file.bytes.into_owned()),
        Ok(None) => poem::IntoResponse::into_response(ApiError::new(
            ErrorCode::GenericEndpointUnknown,
            "there is no such Swagger UI file",
        )),
        Err(e) => poem::IntoResponse::into_response(ApiError::new(
            ErrorCode::GenericInternalInvariantFailure,
            format!("Swagger UI failed: {e}"),
        )),
    }
}

/// The landing page at `/`.
pub fn index_page() -> Html<&'static str> {
    Html(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>taler-openapi</title></head>\
         <body><h1>taler-openapi</h1><p>GNU Taler services with machine-readable OpenAPI specs.</p>\
         <ul><li><a href=\"/swagger-ui/\">Swagger UI</a> (all four specs)</li></ul></body></html>",
    )
}
