//! The merchant backend: one module per API family.

pub mod accounts;
pub mod auth;
pub mod categories;
pub mod config;
pub mod instances;
pub mod inventory;
pub mod order_cleanup;
pub mod orders;
pub mod otp_devices;
pub mod pots;
pub mod products;
pub mod report_scheduler;
pub mod reports;
pub mod template_contract;
pub mod templates;
pub mod tokens;
pub mod using_templates;

use poem::{Endpoint, EndpointExt, Request, http::Uri};
use poem_openapi::{OpenApiService, Tags};

use crate::{
    State,
    http::{BodyErrorPolicy, MissingAuth, service_endpoint},
};

#[derive(Tags)]
pub enum ApiTags {
    /// Protocol version and configuration.
    Configuration,
    /// Instance management (administrator).
    Instances,
    /// Access tokens of an instance.
    Authentication,
    /// Money pots: named totals for merchant-internal accounting.
    Pots,
    /// Periodic reports, generated and delivered on schedule.
    Reports,
    /// Order templates (fixed-order, inventory-cart, paivana), private and for wallets.
    Templates,
    /// OTP devices that confirm payments at a point of sale.
    OtpDevices,
    /// Products and their categories.
    Inventory,
    /// Orders: created by the merchant or from a template, claimed by wallets.
    Orders,
    /// Bank accounts of an instance, named by the contracts of its orders.
    Accounts,
}

pub type Api = (
    config::ConfigApi,
    instances::InstancesApi,
    tokens::TokensApi,
    pots::PotsApi,
    templates::TemplatesApi,
    otp_devices::OtpDevicesApi,
    products::ProductsApi,
    categories::CategoriesApi,
    reports::ReportsApi,
    orders::OrdersApi,
    accounts::AccountsApi,
);

pub fn api(state: &State) -> Api {
    (
        config::ConfigApi(state.clone()),
        instances::InstancesApi(state.clone()),
        tokens::TokensApi(state.clone()),
        pots::PotsApi(state.clone()),
        templates::TemplatesApi(state.clone()),
        otp_devices::OtpDevicesApi(state.clone()),
        products::ProductsApi(state.clone()),
        categories::CategoriesApi(state.clone()),
        reports::ReportsApi(state.clone()),
        orders::OrdersApi(state.clone()),
        accounts::AccountsApi(state.clone()),
    )
}

/// The merchant backend: its spec lists instance paths as `/instances/{instance}/...`;
/// the default instance is also served without that prefix.
pub fn endpoint(service: OpenApiService<Api, ()>) -> impl Endpoint {
    service_endpoint(
        service,
        BodyErrorPolicy::Parameter,
        MissingAuth::Unauthorized,
    )
    .before(|mut req: Request| async move {
        rewrite_default_instance(&mut req);
        Ok(req)
    })
}

/// `/private/...` (and every other instance path without `/instances/$ID`) addresses
/// the default instance: rewrite it to `/instances/admin/...`.
fn rewrite_default_instance(req: &mut Request) {
    let path = req.uri().path();
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
    let mut rewritten = format!("/instances/{}{path}", auth::DEFAULT_INSTANCE);
    if let Some(q) = req.uri().query() {
        rewritten.push('?');
        rewritten.push_str(q);
    }
    if let Ok(uri) = rewritten.parse::<Uri>() {
        *req.uri_mut() = uri;
    }
}
