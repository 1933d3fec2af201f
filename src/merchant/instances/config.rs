//! `GET /config` of the merchant backend, and its base URLs (`GET`/`HEAD`).

use std::collections::BTreeMap;

use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::Path,
    payload::{Json, PlainText},
};

use crate::{
    error_responses,
    merchant::{instances::settings::InstanceSettings, tags::ApiTags},
    state::State,
    taler::{EddsaPublicKey, RelativeTime, currency::CurrencySpecification},
};

/// Protocol version (libtool `current:revision:age`) this backend speaks: v32, the
/// newest page's, with the age the reference backend announces (v30 was `30:0:18`), so
/// clients that target v12 and later (the Android PoS targets v20) see no mismatch.
pub const PROTOCOL_VERSION: &str = "32:0:20";

/// `MerchantVersionResponse`: protocol version, currencies and defaults of the backend.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
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
    /// Posix regular expression for allowed phone numbers, if the backend restricts them.
    pub phone_regex: Option<String>,
    /// Exchanges the backend trusts. This backend talks to no exchange yet: empty.
    pub exchanges: Vec<ExchangeConfigInfo>,
    /// Whether merchants may create their own instances (`POST /instances`): no.
    pub have_self_provisioning: bool,
    /// Whether the backend supports Donau donation receipts: no.
    pub have_donau: bool,
    /// TAN channels that must be validated for self-provisioning (none here).
    pub mandatory_tan_channels: Option<Vec<String>>,
    /// Space-separated payto target types instances may use; "*" for any.
    pub payment_target_types: String,
    /// Regular expression payto URIs of instance accounts must match, if restricted.
    pub payment_target_regex: Option<String>,
    /// Default payment deadline of new instances.
    pub default_pay_delay: RelativeTime,
    /// Default refund period of new instances.
    pub default_refund_delay: RelativeTime,
    /// Default wire transfer delay of new instances.
    pub default_wire_transfer_delay: RelativeTime,
    /// Default rounding of wire transfer deadlines: "NONE", "SECOND", "MINUTE", "HOUR",
    /// "DAY", "WEEK", "MONTH", "QUARTER" or "YEAR".
    pub default_wire_transfer_rounding_interval: String,
}

/// `ExchangeConfigInfo`: an exchange the backend trusts.
#[derive(Object)]
pub struct ExchangeConfigInfo {
    /// Base URL of the exchange.
    pub base_url: String,
    /// Currency the exchange works with.
    pub currency: String,
    /// Offline master public key of the exchange.
    pub master_pub: EddsaPublicKey,
}

#[derive(ApiResponse)]
pub enum InstanceConfigFound {
    /// The backend's configuration, as `GET /config` answers it.
    #[oai(status = 200)]
    Ok(Json<MerchantVersionResponse>),
}

error_responses!(InstanceConfigErrors {
    404 => "The backend does not know the instance (`TALER_EC_MERCHANT_GENERIC_INSTANCE_UNKNOWN`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

#[derive(ApiResponse)]
pub enum BaseFound {
    /// The backend (or the instance) is here. `HEAD` gets the same status without a
    /// body: the connection test of shop plugins such as Tryton's.
    #[oai(status = 200)]
    Ok(PlainText<&'static str>),
}

/// What a browser or a connection test sees at a base URL.
const LANDING: &str = "This is a GNU Taler merchant backend (taler-openapi). See /config.\n";

error_responses!(BaseErrors {
    500 => "Internal failure (`TALER_EC_GENERIC_INTERNAL_INVARIANT_FAILURE`).",
});

pub struct ConfigApi(pub State);

#[OpenApi(tag = "ApiTags::Configuration")]
impl ConfigApi {
    /// The backend's base URL
    ///
    /// Also answers `HEAD`, with which clients test that the backend is reachable.
    #[oai(path = "/", method = "get", operation_id = "merchant_get_base")]
    async fn get_base(&self) -> Result<BaseFound, BaseErrors> {
        Ok(BaseFound::Ok(PlainText(LANDING)))
    }

    /// An instance's base URL
    ///
    /// 200 when the instance exists, 404 otherwise; also served as `/instances/$ID/`, the
    /// base URL clients hold. Also answers `HEAD`, with which clients configured with
    /// the instance's base URL test their configuration (Tryton's module).
    #[oai(
        path = "/instances/:instance/",
        method = "get",
        operation_id = "merchant_get_instance_base"
    )]
    async fn get_instance_base(
        &self,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
    ) -> Result<BaseFound, InstanceConfigErrors> {
        crate::merchant::instances::auth::instance(&self.0, &instance).await?;
        Ok(BaseFound::Ok(PlainText(LANDING)))
    }

    /// Protocol version and currencies
    ///
    /// Returns the protocol version, the default currency with its rendering hints, the
    /// report generators configured (sections `[report-generator-*]`) and the defaults
    /// new instances get.
    #[oai(path = "/config", method = "get", operation_id = "merchant_get_config")]
    async fn get_config(&self) -> Json<MerchantVersionResponse> {
        Json(self.version_response())
    }

    /// Protocol version and currencies, at an instance's base URL
    ///
    /// The same answer as `GET /config`. Clients configured with an instance's base URL
    /// (`.../instances/$INSTANCE/`) ask it there, as taler-php and the shop plugins do.
    #[oai(
        path = "/instances/:instance/config",
        method = "get",
        operation_id = "merchant_get_instance_config"
    )]
    async fn get_instance_config(
        &self,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
    ) -> Result<InstanceConfigFound, InstanceConfigErrors> {
        crate::merchant::instances::auth::instance(&self.0, &instance).await?;
        Ok(InstanceConfigFound::Ok(Json(self.version_response())))
    }
}

impl ConfigApi {
    fn version_response(&self) -> MerchantVersionResponse {
        let config = &self.0.config;
        let defaults = InstanceSettings::defaults();
        MerchantVersionResponse {
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
            phone_regex: None,
            exchanges: vec![],
            have_self_provisioning: false,
            have_donau: false,
            mandatory_tan_channels: None,
            payment_target_types: "*".to_owned(),
            payment_target_regex: None,
            default_pay_delay: defaults.default_pay_delay,
            default_refund_delay: defaults.default_refund_delay,
            default_wire_transfer_delay: defaults.default_wire_transfer_delay,
            default_wire_transfer_rounding_interval: "NONE".to_owned(),
        }
    }
}
