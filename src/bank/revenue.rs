//! Taler Revenue API: `accounts/$USERNAME/taler-revenue/...`.

use poem_openapi::{Object, OpenApi, param::Path, payload::Json};

use crate::{State, bank::ApiTags};

/// `RevenueConfig`.
#[derive(Object)]
pub struct RevenueConfig {
    /// Name of the API: always "taler-revenue".
    pub name: String,
    /// libtool-style protocol version, "current:revision:age".
    pub version: String,
    /// Currency used by this API.
    pub currency: String,
    /// URN of the implementation (to interpret 'revision' in version).
    pub implementation: Option<String>,
}

pub struct RevenueApi(pub State);

#[OpenApi(tag = "ApiTags::Revenue")]
impl RevenueApi {
    /// Revenue API configuration
    ///
    /// The protocol version and currency of the Revenue API. Like libeufin-bank, this
    /// answers for any account name and needs no authentication.
    #[oai(
        path = "/accounts/:USERNAME/taler-revenue/config",
        method = "get",
        operation_id = "bank_get_revenue_config"
    )]
    async fn get_config(
        &self,
        /// Account name.
        #[oai(name = "USERNAME")]
        _username: Path<String>,
    ) -> Json<RevenueConfig> {
        Json(RevenueConfig {
            name: "taler-revenue".to_owned(),
            version: "1:0:0".to_owned(),
            currency: self.0.config.currency.clone(),
            implementation: Some("urn:net:taler:specs:taler-revenue:taler-openapi".to_owned()),
        })
    }
}
