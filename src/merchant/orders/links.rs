//! How a wallet reaches an order: the merchant's base URL as the client sees it, the
//! `taler://pay` URI and status URL of an order, and its claim token.

use poem::Request;

use crate::{
    http::PublicBase,
    merchant::instances::auth::{self},
    state::State,
    store::{instances::Instance, orders::Order as StoredOrder},
    taler::{keys, secret},
};

/// Where the merchant backend is reached, as clients see it (`http::PublicBase`).
pub struct BaseUrl {
    /// `http` or `https`.
    pub scheme: String,
    /// Host and port, as clients name them.
    pub host: String,
    /// The merchant service's path, with slashes on both ends (`/merchant/`).
    pub path: String,
}

impl BaseUrl {
    pub fn of(req: &Request, state: &State) -> BaseUrl {
        let base = PublicBase::of(req, &state.config, &state.config.merchant_base);
        BaseUrl {
            scheme: base.scheme,
            host: base.host,
            path: base.path,
        }
    }

    /// The instance's path below the host: `/merchant/` or `/merchant/instances/ID/`.
    fn instance_path(&self, instance_id: &str) -> String {
        if instance_id == auth::DEFAULT_INSTANCE {
            self.path.clone()
        } else {
            format!("{}instances/{instance_id}/", self.path)
        }
    }

    pub fn instance_url(&self, instance_id: &str) -> String {
        format!(
            "{}://{}{}",
            self.scheme,
            self.host,
            self.instance_path(instance_id)
        )
    }

    /// `taler[+http]://pay/HOST/PATH/ORDER_ID/SESSION_ID[?c=TOKEN]`.
    pub fn pay_uri(&self, instance_id: &str, order: &StoredOrder, token: Option<&str>) -> String {
        let scheme = if self.scheme == "https" {
            "taler"
        } else {
            "taler+http"
        };
        let mut uri = format!(
            "{scheme}://pay/{}{}{}/{}",
            self.host,
            self.instance_path(instance_id),
            order.order_id,
            order.session_id.as_deref().unwrap_or("")
        );
        if let Some(token) = token {
            uri.push_str("?c=");
            uri.push_str(token);
        }
        uri
    }

    pub fn status_url(
        &self,
        instance_id: &str,
        order: &StoredOrder,
        token: Option<&str>,
    ) -> String {
        let mut url = format!(
            "{}orders/{}",
            self.instance_url(instance_id),
            order.order_id
        );
        if let Some(token) = token {
            url.push_str("?token=");
            url.push_str(token);
        }
        url
    }
}

/// The claim token of an order with `salt`: derived from the instance's signing key,
/// so that it is never stored and the merchant can still show it again.
pub fn claim_token(instance: &Instance, salt: &[u8]) -> String {
    let mac = crate::taler::kdf::hmac::<sha2::Sha512>(&instance.merchant_priv, salt);
    keys::encode(&mac[..16])
}

pub fn token_matches(instance: &Instance, order: &StoredOrder, presented: Option<&str>) -> bool {
    match (&order.claim_token_salt, presented) {
        (None, _) => true,
        (Some(salt), Some(presented)) => {
            secret::constant_time_eq(claim_token(instance, salt).as_bytes(), presented.as_bytes())
        }
        (Some(_), None) => false,
    }
}

/// The claim token to put into a pay URI: only while the order is unclaimed.
pub fn unclaimed_token(instance: &Instance, order: &StoredOrder) -> Option<String> {
    order
        .claim_token_salt
        .as_ref()
        .filter(|_| order.nonce.is_none())
        .map(|salt| claim_token(instance, salt))
}
