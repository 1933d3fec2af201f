//! `GET /config` of the Donau.

use poem_openapi::{Object, OpenApi, payload::Json};

use crate::{donau::tags::ApiTags, state::State, taler::currency::CurrencySpecification};

/// `DonauVersionResponse`: protocol version and currency of the Donau.
#[derive(Object)]
pub struct DonauVersionResponse {
    /// libtool-style protocol version, "current:revision:age".
    pub version: String,
    /// Name of the protocol: always "donau".
    pub name: String,
    /// Currency of donations and receipts.
    pub currency: String,
    /// How to render the currency.
    pub currency_specification: CurrencySpecification,
}

pub struct ConfigApi(pub State);

#[OpenApi(tag = "ApiTags::Configuration")]
impl ConfigApi {
    /// Protocol version and currency
    ///
    /// The Donau's protocol version and the currency in which charities receive donations.
    #[oai(path = "/config", method = "get", operation_id = "donau_get_config")]
    async fn get_config(&self) -> Json<DonauVersionResponse> {
        let config = &self.0.config;
        Json(DonauVersionResponse {
            version: "0:0:0".to_owned(),
            name: "donau".to_owned(),
            currency: config.currency.clone(),
            currency_specification: (&config.currency_spec).into(),
        })
    }
}
