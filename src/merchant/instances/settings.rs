//! An instance's settings as the pages name them (`InstanceConfigurationRequest`,
//! `InstanceReconfigurationMessage`, `QueryInstancesResponse`, the instance list), how
//! they are stored, and the row of a new instance.

use ed25519_dalek::SigningKey;
use poem_openapi::{Enum, Object};
use serde::{Deserialize, Serialize};

use crate::taler::text::{ImageDataUrl, InstanceId, NotBlank, Text};
use crate::{
    store::instances::{self, NewInstance},
    taler::{ApiError, EddsaPublicKey, ErrorCode, RelativeTime, secret, time::FiniteRelativeTime},
};

/// A postal location, as put into contracts (`Location`).
#[derive(Debug, Clone, Default, PartialEq, Object, Serialize, Deserialize)]
#[oai(skip_serializing_if_is_none)]
pub struct Location {
    /// Nation with its own government.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Identifies a sub-division of a country such as a state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country_subdivision: Option<String>,
    /// Identifies a sub-division within a country sub-division.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
    /// Name of a town.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub town: Option<String>,
    /// Name of a location within a town.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub town_location: Option<String>,
    /// Identifier of a postal delivery area.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post_code: Option<String>,
    /// Name of a street.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    /// Name of the building.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub building_name: Option<String>,
    /// Number of the building.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub building_number: Option<String>,
    /// Free-form address lines, at most 7.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_lines: Option<Vec<String>>,
}

/// How requests to the instance authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum InstanceAuthMethod {
    /// Deprecated since v20: the backend checks no credentials for the instance; a
    /// reverse proxy in front of it must authenticate every request.
    External,
    /// A password, exchanged for bearer tokens at `POST .../private/token`.
    Token,
}

/// `InstanceAuthConfigurationMessage`: `InstanceAuthConfigToken` (`password`),
/// `InstanceAuthConfigTokenOLD` (`token`, deprecated since v19) or
/// `InstanceAuthConfigExternal` (deprecated since v20).
#[derive(Debug, Clone, Object)]
pub struct InstanceAuthConfigurationMessage {
    /// Authentication method.
    pub method: InstanceAuthMethod,
    /// The instance password for "token": at least 8 characters.
    #[oai(validator(min_length = 8))]
    pub password: Option<String>,
    /// Deprecated since v19: `secret-token:` followed by the instance password, for
    /// "token" when `password` is absent.
    #[oai(deprecated, validator(min_length = 21))]
    pub token: Option<String>,
}

/// Marks an instance with the `external` method where a password digest would be;
/// no password verifies against it (it is no PHC string).
pub const EXTERNAL_AUTH: &str = "external";

impl InstanceAuthConfigurationMessage {
    /// The password the message sets; `None` for the `external` method. `at` names
    /// where the message sits in the body (`auth.` in an instance creation), for errors.
    pub fn password(self, at: &str) -> Result<Option<String>, ApiError> {
        match self.method {
            InstanceAuthMethod::External => Ok(None),
            InstanceAuthMethod::Token => match (self.password, self.token) {
                (Some(p), _) if !p.is_empty() => Ok(Some(p)),
                (None, Some(token)) => match token.strip_prefix(secret::TOKEN_PREFIX) {
                    Some(p) if p.trim_start().chars().count() >= 8 => {
                        Ok(Some(p.trim_start().to_owned()))
                    }
                    _ => Err(ApiError::malformed(
                        &format!("{at}token"),
                        "`token` must be `secret-token:` and a password of at least 8 characters",
                    )),
                },
                _ => Err(ApiError::new(
                    ErrorCode::GenericParameterMissing,
                    "the \"token\" method needs a password",
                )
                .parameter(&format!("{at}password"))),
            },
        }
    }
}

/// `auth` of `QueryInstancesResponse`: the instance's method, never its secret.
#[derive(Debug, Clone, Object)]
pub struct InstanceAuthInfo {
    /// "external" or "token".
    pub method: InstanceAuthMethod,
}

impl InstanceAuthInfo {
    pub fn of(row: &instances::Instance) -> InstanceAuthInfo {
        InstanceAuthInfo {
            method: if row.password_hash == EXTERNAL_AUTH {
                InstanceAuthMethod::External
            } else {
                InstanceAuthMethod::Token
            },
        }
    }
}

/// `InstanceConfigurationRequest`: a new instance.
#[derive(Debug, Clone, Object)]
pub struct InstanceConfigurationRequest {
    /// Name of the instance to create (becomes `$INSTANCE`); must match
    /// `^[A-Za-z0-9][A-Za-z0-9_.@-]+$`.
    #[oai(validator(max_length = 64))]
    pub id: Text<InstanceId>,
    /// Merchant name corresponding to this instance.
    pub name: Text<NotBlank>,
    /// Merchant email for customer contact and password reset.
    pub email: Option<String>,
    /// Merchant phone number for password reset (2-FA).
    pub phone_number: Option<String>,
    /// Merchant public website.
    pub website: Option<String>,
    /// Merchant logo, an image `data:` URL.
    // `limits::MAX_IMAGE_CHARS`; a spec test checks the two agree.
    #[oai(validator(max_length = 262144))]
    pub logo: Option<Text<ImageDataUrl>>,
    /// Authentication settings for this instance.
    pub auth: InstanceAuthConfigurationMessage,
    /// The merchant's physical address (to be put into contracts).
    pub address: Location,
    /// The jurisdiction under which the merchant conducts its business.
    pub jurisdiction: Location,
    /// Use STEFAN curves to determine default fees?
    pub use_stefan: bool,
    /// Default payment deadline of offers; "forever" is not allowed. Default: one day.
    pub default_pay_delay: Option<FiniteRelativeTime>,
    /// Default refund period after the payment deadline; "forever" is not allowed. Default: 15 days.
    pub default_refund_delay: Option<FiniteRelativeTime>,
    /// Default delay of wire transfers after the refund deadline; "forever" is not allowed. Default: one week.
    pub default_wire_transfer_delay: Option<FiniteRelativeTime>,
}

/// The instance configuration as stored (everything but id, name and credentials).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InstanceSettings {
    pub email: Option<String>,
    pub phone_number: Option<String>,
    pub website: Option<String>,
    pub logo: Option<String>,
    pub address: Location,
    pub jurisdiction: Location,
    pub use_stefan: bool,
    pub default_pay_delay: RelativeTime,
    pub default_refund_delay: RelativeTime,
    pub default_wire_transfer_delay: RelativeTime,
}

const DAY_US: u64 = 86_400_000_000;

impl InstanceSettings {
    pub fn defaults() -> Self {
        InstanceSettings {
            email: None,
            phone_number: None,
            website: None,
            logo: None,
            address: Location::default(),
            jurisdiction: Location::default(),
            use_stefan: true,
            default_pay_delay: RelativeTime::Micros(DAY_US),
            default_refund_delay: RelativeTime::Micros(15 * DAY_US),
            default_wire_transfer_delay: RelativeTime::Micros(7 * DAY_US),
        }
    }
}

/// `InstanceReconfigurationMessage`: an instance's new configuration. Absent optional
/// texts are cleared; absent delays keep their previous values.
#[derive(Debug, Clone, Object)]
pub struct InstanceReconfigurationMessage {
    /// Merchant name corresponding to this instance.
    pub name: Text<NotBlank>,
    /// Merchant email for customer contact and password reset.
    pub email: Option<String>,
    /// Merchant phone number for password reset (2-FA).
    pub phone_number: Option<String>,
    /// Merchant public website.
    pub website: Option<String>,
    /// Merchant logo, an image `data:` URL.
    // `limits::MAX_IMAGE_CHARS`; a spec test checks the two agree.
    #[oai(validator(max_length = 262144))]
    pub logo: Option<Text<ImageDataUrl>>,
    /// The merchant's physical address (to be put into contracts).
    pub address: Location,
    /// The jurisdiction under which the merchant conducts its business.
    pub jurisdiction: Location,
    /// Use STEFAN curves to determine default fees?
    pub use_stefan: bool,
    /// Default payment deadline of offers; "forever" is not allowed. Kept when absent.
    pub default_pay_delay: Option<FiniteRelativeTime>,
    /// Default refund period; "forever" is not allowed. Kept when absent.
    pub default_refund_delay: Option<FiniteRelativeTime>,
    /// Default wire transfer delay; "forever" is not allowed. Kept when absent.
    pub default_wire_transfer_delay: Option<FiniteRelativeTime>,
}

/// `Instance`: one entry of the instance list.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct Instance {
    /// Merchant name corresponding to this instance.
    pub name: String,
    /// Merchant public website.
    pub website: Option<String>,
    /// Merchant logo.
    pub logo: Option<String>,
    /// Merchant instance this response is about (`$INSTANCE`).
    pub id: String,
    /// Public key of the instance.
    pub merchant_pub: EddsaPublicKey,
    /// Payment targets (wire methods) supported by the instance.
    pub payment_targets: Vec<String>,
    /// Has this instance been deleted (but not purged)?
    pub deleted: bool,
}

/// `InstancesResponse`.
#[derive(Object)]
pub struct InstancesResponse {
    /// Instances present in the backend, deleted but unpurged ones included.
    pub instances: Vec<Instance>,
}

/// `QueryInstancesResponse`: the full configuration of an instance.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct QueryInstancesResponse {
    /// Merchant name corresponding to this instance.
    pub name: String,
    /// Merchant email for customer contact and password reset.
    pub email: Option<String>,
    /// Whether `email` was validated; this backend validates no addresses (present,
    /// false, when there is an email).
    pub email_validated: Option<bool>,
    /// Merchant phone number for password reset (2-FA).
    pub phone_number: Option<String>,
    /// Whether `phone_number` was validated (present, false, when there is one).
    pub phone_validated: Option<bool>,
    /// Merchant public website.
    pub website: Option<String>,
    /// Merchant logo.
    pub logo: Option<String>,
    /// Public key of the instance.
    pub merchant_pub: EddsaPublicKey,
    /// The merchant's physical address.
    pub address: Location,
    /// The jurisdiction under which the merchant conducts its business.
    pub jurisdiction: Location,
    /// Use STEFAN curves to determine default fees?
    pub use_stefan: bool,
    /// Default payment deadline of offers.
    pub default_pay_delay: RelativeTime,
    /// Default refund period.
    pub default_refund_delay: RelativeTime,
    /// Default wire transfer delay.
    pub default_wire_transfer_delay: RelativeTime,
    /// How the instance authenticates (without its secret).
    pub auth: InstanceAuthInfo,
}

/// Checks an instance id against `^[A-Za-z0-9][A-Za-z0-9_.@-]+$`.
pub fn valid_instance_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && id.len() >= 2
        && id.len() <= 64
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.@-".contains(c))
}

/// A row for a new instance with a fresh Ed25519 key pair.
pub fn instance_row(
    id: String,
    name: String,
    password_hash: String,
    settings: &InstanceSettings,
) -> NewInstance {
    let signing = SigningKey::from_bytes(&secret::random_bytes::<32>());
    NewInstance {
        instance_id: id,
        name,
        password_hash,
        merchant_pub: EddsaPublicKey(signing.verifying_key().to_bytes()).to_string(),
        merchant_priv: signing.to_bytes().to_vec(),
        settings: serde_json::to_string(settings).expect("settings serialize"),
    }
}

pub fn settings_of(row: &instances::Instance) -> Result<InstanceSettings, ApiError> {
    serde_json::from_str(&row.settings).map_err(|e| {
        tracing::error!(instance = %row.instance_id, error = %e, "stored instance settings are unreadable");
        ApiError::new(ErrorCode::GenericDbFetchFailed, "stored instance settings are unreadable")
    })
}

pub fn merchant_pub_of(s: &str) -> Result<EddsaPublicKey, ApiError> {
    s.parse().map_err(|_| {
        ApiError::new(
            ErrorCode::GenericDbFetchFailed,
            "stored merchant key is unreadable",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::valid_instance_id;

    #[test]
    fn instance_ids_follow_the_spec_regex() {
        for ok in ["shop", "a1", "my.shop@x", "A-b_c"] {
            assert!(valid_instance_id(ok), "{ok}");
        }
        for bad in ["", "a", "-shop", "shop/x", "shop x", "ünï", &"x".repeat(65)] {
            assert!(!valid_instance_id(bad), "{bad}");
        }
    }
}
