//! Templates for wallets: `GET [/instances/$INSTANCE]/templates/$TEMPLATE_ID` (what the
//! customer may fill in) and `POST` to it (an order from the template, see `using`).

use std::collections::BTreeMap;

use poem::Request;
use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json, types::ToJSON};
use serde_json::Value;

use crate::{
    error_responses,
    http::JsonBody,
    merchant::{
        orders::{
            create::{self, OrderCreated},
            links::BaseUrl,
        },
        tags::ApiTags,
        templates::{
            contract::{ContractFields, TemplateContractDetails, TemplateType},
            inventory_cart,
            private::{stored_parts, template_unknown},
            using::{self, UsingTemplateDetailsRequest},
        },
    },
    state::State,
    store::templates::{self},
    taler::ApiError,
};

/// `WalletTemplateDetailsRequest`: what a wallet needs to instantiate the template.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct WalletTemplateDetailsRequest {
    /// Type of the template: "fixed-order", "inventory-cart" or "paivana" (the same as
    /// `template_contract.template_type`; the v25 page has it at the top too).
    pub template_type: String,
    /// Hard-coded information about the contract terms for this template; for
    /// inventory-cart templates with `inventory_payload` added.
    pub template_contract: TemplateContractDetails,
    /// User-editable defaults.
    pub editable_defaults: Option<BTreeMap<String, Value>>,
    /// Required currency for payments, when the contract or the defaults fix one.
    pub required_currency: Option<String>,
}

#[derive(ApiResponse)]
pub enum WalletTemplateFound {
    /// The template for the wallet.
    #[oai(status = 200)]
    Ok(Json<WalletTemplateDetailsRequest>),
}

error_responses!(UseTemplateErrors {
    400 => "The request does not fit the template (`TALER_EC_GENERIC_PARAMETER_MALFORMED`, `TALER_EC_MERCHANT_POST_USING_TEMPLATES_NO_AMOUNT`, `..._NO_CURRENCY`, `..._NO_SUMMARY`, `..._AMOUNT_CONFLICT_TEMPLATES_CONTRACT_AMOUNT`, `..._SUMMARY_CONFLICT_TEMPLATES_CONTRACT_SUBJECT`, `..._WRONG_PRODUCT`, `..._WRONG_TYPE`, `TALER_EC_MERCHANT_GENERIC_CURRENCY_MISMATCH`), or the order it makes is refused (`TALER_EC_MERCHANT_PRIVATE_POST_ORDERS_*`).",
    404 => "The template, instance or a product is unknown, or the instance has no active bank account (`TALER_EC_MERCHANT_GENERIC_TEMPLATE_UNKNOWN`, `TALER_EC_MERCHANT_GENERIC_PRODUCT_UNKNOWN`, `TALER_EC_MERCHANT_PRIVATE_POST_ORDERS_INSTANCE_CONFIGURATION_LACKS_WIRE`).",
    409 => "The order conflicts with the backend's currency (`TALER_EC_MERCHANT_GENERIC_CURRENCY_MISMATCH`).",
    413 => "The uploaded body is too long (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    429 => "Too many orders from the client's address this minute (`[merchant] ANONYMOUS_ORDERS_PER_MINUTE`): wait `Retry-After` seconds (`TALER_EC_GENERIC_FORBIDDEN`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`, `TALER_EC_GENERIC_DB_STORE_FAILED`, `TALER_EC_GENERIC_INTERNAL_INVARIANT_FAILURE`).",
});

error_responses!(WalletTemplateErrors {
    404 => "The instance or template is unknown (`TALER_EC_MERCHANT_GENERIC_TEMPLATE_UNKNOWN`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`, `TALER_EC_GENERIC_INTERNAL_INVARIANT_FAILURE`).",
});

pub struct WalletTemplatesApi(pub State);

#[OpenApi(tag = "ApiTags::Templates")]
impl WalletTemplatesApi {
    /// Create an order from a template
    ///
    /// Public: a wallet (or a web form) instantiates the template. Anyone may, so it is
    /// bounded: creations per client address and minute, the inventory units one such
    /// order holds and for how long, and an order no wallet claims soon is removed
    /// (`[merchant] ANONYMOUS_ORDER*`, `UNCLAIMED_ORDER_LIFETIME`). The template's
    /// fixed fields win; what it leaves open comes from the request, then from its
    /// `editable_defaults`. The answer is that of `POST .../private/orders`. The body
    /// may also be sent URL-encoded (`application/x-www-form-urlencoded`, each field a
    /// string; `inventory_selection` only in JSON), as the page allows; only the JSON
    /// form is published, since generated clients handle one body type per operation.
    #[oai(
        path = "/instances/:instance/templates/:template_id",
        method = "post",
        operation_id = "merchant_post_template"
    )]
    async fn use_template(
        &self,
        req: &Request,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        /// The template's `template_id`.
        template_id: Path<String>,
        body: JsonBody<UsingTemplateDetailsRequest>,
    ) -> Result<OrderCreated, UseTemplateErrors> {
        let found = templates::find_with_access(&self.0.db, &instance, None, &template_id)
            .await
            .map_err(ApiError::db_fetch)?;
        let Some(found) = found else {
            return Err(template_unknown(&template_id).into());
        };
        let row = found.row;
        let (instance_row, template) = match found.object {
            Some(t) => (found.instance, t),
            None => return Err(template_unknown(&template_id).into()),
        };
        let otp_id = templates::otp_id_of(&row).map_err(ApiError::db_fetch)?;
        let (contract, defaults, _) = stored_parts(&template)?;
        let default_fields = match &defaults {
            Some(map) => contract
                .check_editable_defaults(map)
                .map_err(ApiError::db_fetch)?,
            None => ContractFields::default(),
        };
        let request = body.0;
        let h_post_data = create::h_post_data(&serde_json::json!({
            "template_id": template_id.0,
            "request": request.to_json(),
        }));
        let mut input = using::order_input(
            &self.0,
            instance_row.instance_serial,
            &template_id,
            &contract,
            &default_fields,
            request,
            h_post_data,
        )
        .await?;
        input.otp_id = otp_id;
        input.anonymous = Some(crate::http::public::client_address(req, &self.0.config));
        let base = BaseUrl::of(req, &self.0);
        Ok(create::create(&self.0, &instance_row, &base, input)
            .await?
            .into())
    }

    /// Get a template for a wallet
    ///
    /// Public: wallets read it before asking the user to fill in details. For
    /// inventory-cart templates the contract carries `inventory_payload`, the products
    /// (and their categories) the template's selection offers.
    #[oai(
        path = "/instances/:instance/templates/:template_id",
        method = "get",
        operation_id = "merchant_get_template"
    )]
    async fn wallet_template(
        &self,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        /// The template's `template_id`.
        template_id: Path<String>,
    ) -> Result<WalletTemplateFound, WalletTemplateErrors> {
        // One query: the instance and the template (no credential to check).
        let found = templates::find_with_access(&self.0.db, &instance, None, &template_id)
            .await
            .map_err(ApiError::db_fetch)?;
        let Some((instance, template)) = found.and_then(|f| Some((f.instance, f.object?))) else {
            return Err(template_unknown(&template_id).into());
        };
        let (mut template_contract, editable_defaults, required_currency) =
            stored_parts(&template)?;
        if template_contract.template_type == TemplateType::InventoryCart {
            let payload = inventory_cart::payload(
                &self.0,
                instance.instance_serial,
                &template_contract.fields,
            )
            .await?;
            template_contract.set_inventory_payload(&payload);
        }
        Ok(WalletTemplateFound::Ok(Json(
            WalletTemplateDetailsRequest {
                template_type: template_contract.template_type.as_str().to_owned(),
                template_contract,
                editable_defaults,
                required_currency,
            },
        )))
    }
}
