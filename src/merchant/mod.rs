//! The merchant backend, one folder per family of pages of the merchant API:
//! `instances/` (instances, tokens, authorization, config), `inventory/` (products,
//! categories, stock), `templates/` (templates, OTP devices, the wallet's use of a
//! template), `orders/` (creation, the merchant's and the wallet's views, lifecycle),
//! `reports/` (periodic reports and their scheduler), `webhooks/` (webhooks and their
//! sender), `pots.rs`, `accounts.rs`.

pub mod accounts;
pub mod instances;
pub mod inventory;
pub mod orders;
pub mod pots;
pub mod reports;
pub mod tags;
pub mod templates;
pub mod webhooks;

use poem::{Endpoint, EndpointExt, Request, http::Uri};
use poem_openapi::OpenApiService;

use crate::{
    http::{BodyErrorPolicy, MissingAuth, Published, published_endpoint},
    state::State,
};

/// The operations, grouped by family in the order the spec lists them.
pub type Api = (
    (
        instances::config::ConfigApi,
        instances::management::InstancesApi,
        instances::tokens::TokensApi,
    ),
    pots::PotsApi,
    (
        templates::private::TemplatesApi,
        templates::wallet::WalletTemplatesApi,
        templates::otp_devices::OtpDevicesApi,
    ),
    (
        inventory::products::ProductsApi,
        inventory::categories::CategoriesApi,
        inventory::pos::PosApi,
        inventory::locks::LocksApi,
    ),
    (
        reports::private::ReportsApi,
        reports::public::GenerateReportApi,
    ),
    (
        orders::private::PrivateOrdersApi,
        orders::wallet::WalletOrdersApi,
        orders::refunds::RefundsApi,
    ),
    accounts::AccountsApi,
    webhooks::api::WebhooksApi,
);

pub fn api(state: &State) -> Api {
    let s = || state.clone();
    (
        (
            instances::config::ConfigApi(s()),
            instances::management::InstancesApi(s()),
            instances::tokens::TokensApi(s()),
        ),
        pots::PotsApi(s()),
        (
            templates::private::TemplatesApi(s()),
            templates::wallet::WalletTemplatesApi(s()),
            templates::otp_devices::OtpDevicesApi(s()),
        ),
        (
            inventory::products::ProductsApi(s()),
            inventory::categories::CategoriesApi(s()),
            inventory::pos::PosApi(s()),
            inventory::locks::LocksApi(s()),
        ),
        (
            reports::private::ReportsApi(s()),
            reports::public::GenerateReportApi(s()),
        ),
        (
            orders::private::PrivateOrdersApi(s()),
            orders::wallet::WalletOrdersApi(s()),
            orders::refunds::RefundsApi(s()),
        ),
        accounts::AccountsApi(s()),
        webhooks::api::WebhooksApi(s()),
    )
}

/// The merchant backend: its spec lists instance paths as `/instances/{instance}/...`;
/// the default instance is also served without that prefix.
/// Its spec's paths go into the state, where a report's data source is checked.
pub fn endpoint(service: OpenApiService<Api, ()>, state: &State) -> impl Endpoint + use<> {
    let published = Published::of_spec(spec(&service));
    let _ = state.merchant_paths.set(published.paths.clone());
    published_endpoint(
        service,
        published,
        BodyErrorPolicy::Parameter,
        MissingAuth::Unauthorized,
    )
    .around(|ep, req| async move {
        match old_default_instance_redirect(&req) {
            Some(redirect) => Ok(redirect),
            None => ep.call(req).await,
        }
    })
    .before({
        let state = state.clone();
        move |mut req: Request| {
            let state = state.clone();
            async move {
                rewrite_default_instance(&mut req);
                present_external_credentials(&state, &mut req).await;
                Ok(req)
            }
        }
    })
}

/// The merchant's published spec: with the 308 of [`old_default_instance_redirect`]
/// declared on every operation of an instance path.
pub fn spec(service: &OpenApiService<Api, ()>) -> String {
    crate::http::published_spec_with(service, |spec| {
        let paths: Vec<String> = spec["paths"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        for path in paths
            .iter()
            .filter(|p| p.starts_with("/instances/{instance}"))
        {
            let item = &mut spec["paths"][path];
            for operation in item.as_object_mut().into_iter().flatten().map(|(_, o)| o) {
                operation["responses"]["308"] = serde_json::json!({
                    "description": "The instance is `default`, the old name of the default instance: the same request goes to `/instances/admin/...` (`Location`).",
                    "headers": {"Location": {"required": true, "schema": {"type": "string"}}}
                });
            }
        }
    })
}

/// The default instance was called `default` before merchant v1.0 and is `admin` now;
/// clients still configured with `.../instances/default/` are sent there with 308 (the
/// method and body kept), as the reference backend does. No instance can take the old
/// name (`management::new_instance`).
fn old_default_instance_redirect(req: &Request) -> Option<poem::Response> {
    const OLD: &str = "/instances/default";
    let path = req.uri().path();
    let rest = path.strip_prefix(OLD)?;
    if !(rest.is_empty() || rest.starts_with('/')) {
        return None;
    }
    // The service's base (`/merchant`) as the client sent it.
    let original = req.original_uri().path();
    let base = original.strip_suffix(path).unwrap_or("");
    let mut location = format!(
        "{base}/instances/{}{rest}",
        instances::auth::DEFAULT_INSTANCE
    );
    if let Some(q) = req.uri().query() {
        location.push('?');
        location.push_str(q);
    }
    Some(
        poem::Response::builder()
            .status(poem::http::StatusCode::PERMANENT_REDIRECT)
            .header(poem::http::header::LOCATION, location)
            .finish(),
    )
}

/// An instance with the `external` method needs no credentials: a request for its
/// private paths (or, for the default instance, the management paths) that carries no
/// `Authorization` is given a placeholder bearer, so the operations' security
/// requirement is met; `auth::authorize` lets anything through for such an instance.
/// Only requests without credentials pay for the lookup.
async fn present_external_credentials(state: &State, req: &mut Request) {
    use poem::http::{HeaderValue, header::AUTHORIZATION};
    if req.headers().contains_key(AUTHORIZATION) {
        return;
    }
    let path = req.uri().path();
    let instance_id = if path.starts_with("/management/") || path == "/management" {
        instances::auth::DEFAULT_INSTANCE.to_owned()
    } else {
        match path
            .strip_prefix("/instances/")
            .and_then(|p| p.split_once('/'))
        {
            Some((id, rest)) if rest == "private" || rest.starts_with("private/") => {
                crate::http::percent_decode(id).unwrap_or_default()
            }
            _ => return,
        }
    };
    if let Ok(Some(instance)) = crate::store::instances::find_active(&state.db, &instance_id).await
        && instances::auth::is_external(&instance)
    {
        req.headers_mut().insert(
            AUTHORIZATION,
            HeaderValue::from_static("Bearer secret-token:external-authentication"),
        );
    }
}

/// `/private/...` (and every other instance path without `/instances/$ID`) addresses
/// the default instance: rewrite it to `/instances/admin/...`.
fn rewrite_default_instance(req: &mut Request) {
    let path = req.uri().path();
    // An instance's base URL as clients hold it, `/instances/$ID/`, is the operation
    // published (without the slash) as `/instances/{instance}`.
    if let Some(id) = path
        .strip_prefix("/instances/")
        .and_then(|rest| rest.strip_suffix('/'))
        && !id.is_empty()
        && !id.contains('/')
    {
        let mut rewritten = format!("/instances/{id}");
        if let Some(q) = req.uri().query() {
            rewritten.push('?');
            rewritten.push_str(q);
        }
        if let Ok(uri) = rewritten.parse::<Uri>() {
            *req.uri_mut() = uri;
        }
        return;
    }
    let global = [
        "/config",
        "/management/",
        "/management",
        "/instances/",
        "/openapi.json",
    ];
    if path == "/"
        || global
            .iter()
            .any(|g| path == *g || (g.ends_with('/') && path.starts_with(g)))
    {
        return;
    }
    let mut rewritten = format!("/instances/{}{path}", instances::auth::DEFAULT_INSTANCE);
    if let Some(q) = req.uri().query() {
        rewritten.push('?');
        rewritten.push_str(q);
    }
    if let Ok(uri) = rewritten.parse::<Uri>() {
        *req.uri_mut() = uri;
    }
}
