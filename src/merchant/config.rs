//! `GET /config` of the merchant backend.

use std::collections::BTreeMap;

use poem_openapi::{Object, OpenApi, payload::Json};

use crate::{State, merchant::ApiTags, taler::currency::CurrencySpecification};

/// Protocol version (libtool `current:revision:age`) this backend speaks.
pub const PROTOCOL_VERSION: &str = "29:0:0";

/// `MerchantVersionResponse`: protocol version and currencies of the backend.
#[derive(Object)]
pub struct MerchantVersionResponse {
    /// libtool-style protocol version, "current:revision:age".
    pub version: String,
    /// Name of the protocol: always "taler-merchant".
    pub name: String,
    /// URN of the implementation (to interpret 'revision' in version).
    pub implementation: Option<String>,
    /// Default currency of the backend.
    pub currency: String,
    /// Persona the SPA should use by default.
    pub default_persona: String,
    /// How to render each supported currency.
    pub currencies: BTreeMap<String, CurrencySpecification>,
    /// Report generator configuration sections and their descriptions.
    pub report_generators: BTreeMap<String, String>,
}

pub struct ConfigApi(pub State);

#[OpenApi(tag = "ApiTags::Configuration")]
impl ConfigApi {
    /// Protocol version and currencies
    ///
    /// Returns the protocol version, the default currency with its rendering hints, and
    /// the report generators configured (sections `[report-generator-*]`).
    #[oai(path = "/config", method = "get", operation_id = "merchant_get_config")]
    async fn get_config(&self) -> Json<MerchantVersionResponse> {
        let config = &self.0.config;
        Json(MerchantVersionResponse {
            version: PROTOCOL_VERSION.to_owned(),
            name: "taler-merchant".to_owned(),
            implementation: Some("urn:net:taler:specs:taler-merchant:taler-openapi".to_owned()),
            currency: config.currency.clone(),
            default_persona: "expert".to_owned(),
            currencies: BTreeMap::from([(config.currency.clone(), (&config.currency_spec).into())]),
            report_generators: config
                .report_generators
                .iter()
                .map(|(section, g)| (section.clone(), g.description.clone()))
                .collect(),
        })
    }
}
