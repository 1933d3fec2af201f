//! OTP devices: `[/instances/$INSTANCE]/private/otp-devices[/$DEVICE_ID]`.

use std::borrow::Cow;

use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
    registry::{MetaSchema, MetaSchemaRef, Registry},
    types::{ParseError, ParseFromJSON, ParseFromParameter, ParseResult, ToJSON, Type},
};
use serde_json::{Value, json};

use crate::taler::text::{Base32Key, Text};
use crate::{
    error_responses,
    http::{JsonBody, NoContent},
    merchant::{
        instances::auth::{self, MerchantToken, Permission},
        tags::ApiTags,
    },
    state::State,
    store::{
        CreateOutcome,
        otp_devices::{self, OtpSettings},
    },
    taler::{
        Amount, ApiError, ErrorCode,
        otp::{self, Algorithm},
        time::MAX_SAFE_INTEGER,
    },
};

const OTP_READ: Permission = "otp-devices-read";
const OTP_WRITE: Permission = "otp-devices-write";

/// The algorithm names of `otp_algorithm`, by number.
const ALGORITHMS: [&str; 3] = ["NONE", "TOTP_WITHOUT_PRICE", "TOTP_WITH_PRICE"];

/// `otp_algorithm` of `OtpDeviceAddDetails`: `Integer | string`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OtpAlgorithm(pub u8);

impl OtpAlgorithm {
    fn confirmation(self) -> Algorithm {
        match self.0 {
            1 => Algorithm::TotpWithoutPrice,
            2 => Algorithm::TotpWithPrice,
            _ => Algorithm::None,
        }
    }

    fn from_number(n: u64) -> Result<Self, String> {
        if (n as usize) < ALGORITHMS.len() {
            Ok(OtpAlgorithm(n as u8))
        } else {
            Err(format!(
                "otp_algorithm: unknown algorithm {n} (expected 0, 1 or 2)"
            ))
        }
    }
}

impl Type for OtpAlgorithm {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        Cow::Borrowed("OtpAlgorithm")
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Reference("OtpAlgorithm".to_owned())
    }

    fn register(registry: &mut Registry) {
        registry.create_schema::<Self, _>("OtpAlgorithm".to_owned(), |_| MetaSchema {
            description: Some(
                "Algorithm for computing the POS confirmation: 0 or \"NONE\" (no confirmation), \
                 1 or \"TOTP_WITHOUT_PRICE\" (typical OTP device), 2 or \"TOTP_WITH_PRICE\".",
            ),
            one_of: vec![
                MetaSchemaRef::Inline(Box::new(MetaSchema {
                    enum_items: vec![json!(0), json!(1), json!(2)],
                    ..MetaSchema::new_with_format("integer", "int32")
                })),
                MetaSchemaRef::Inline(Box::new(MetaSchema {
                    enum_items: ALGORITHMS.iter().map(|a| json!(a)).collect(),
                    ..MetaSchema::new("string")
                })),
            ],
            ..MetaSchema::new("")
        });
    }

    fn as_raw_value(&self) -> Option<&Self> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl ParseFromJSON for OtpAlgorithm {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            Some(Value::Number(n)) => n
                .as_u64()
                .ok_or_else(|| format!("otp_algorithm: unknown algorithm {n}"))
                .and_then(OtpAlgorithm::from_number)
                .map_err(ParseError::custom),
            Some(Value::String(s)) => ALGORITHMS
                .iter()
                .position(|a| *a == s)
                .map(|i| OtpAlgorithm(i as u8))
                .ok_or_else(|| {
                    ParseError::custom(format!("otp_algorithm: unknown algorithm `{s}`"))
                }),
            Some(other) => Err(ParseError::expected_type(other)),
            None => Err(ParseError::expected_input()),
        }
    }
}

impl ToJSON for OtpAlgorithm {
    fn to_json(&self) -> Option<Value> {
        Some(json!(self.0))
    }
}

/// `OtpDeviceAddDetails`.
#[derive(Object)]
pub struct OtpDeviceAddDetails {
    /// Device ID to use.
    #[oai(validator(min_length = 1))]
    pub otp_device_id: String,
    /// Human-readable description for the device.
    pub otp_device_description: String,
    /// A key encoded with RFC 3548 base32 (not Taler's Crockford base32), as TOTP uses.
    #[oai(validator(max_length = 1024))]
    pub otp_key: Text<Base32Key>,
    /// Algorithm for computing the POS confirmation.
    pub otp_algorithm: OtpAlgorithm,
    /// Counter for counter-based OTP devices.
    #[oai(validator(maximum(value = "9007199254740991")))]
    pub otp_ctr: Option<u64>,
}

/// `OtpDevicePatchDetails`.
#[derive(Object)]
pub struct OtpDevicePatchDetails {
    /// Human-readable description for the device.
    pub otp_device_description: String,
    /// A new key (RFC 3548 base32); the stored key is kept when absent.
    #[oai(validator(max_length = 1024))]
    pub otp_key: Option<Text<Base32Key>>,
    /// Algorithm for computing the POS confirmation (0, 1 or 2).
    #[oai(validator(maximum(value = "2")))]
    pub otp_algorithm: u64,
    /// Counter for counter-based OTP devices.
    #[oai(validator(maximum(value = "9007199254740991")))]
    pub otp_ctr: Option<u64>,
}

/// `OtpDeviceSummaryResponse`.
#[derive(Object)]
pub struct OtpDeviceSummaryResponse {
    /// Array of devices that are present in our backend.
    pub otp_devices: Vec<OtpDeviceEntry>,
}

/// `OtpDeviceEntry`.
#[derive(Object)]
pub struct OtpDeviceEntry {
    /// Device identifier.
    pub otp_device_id: String,
    /// Human-readable description for the device.
    pub device_description: String,
}

/// `OtpDeviceDetails`.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct OtpDeviceDetails {
    /// Human-readable description for the device.
    pub device_description: String,
    /// Algorithm for computing the POS confirmation: 0 none, 1 TOTP without price,
    /// 2 TOTP with price.
    pub otp_algorithm: u64,
    /// Counter for counter-based OTP devices.
    pub otp_ctr: Option<u64>,
    /// Current time for time-based OTP devices: the `faketime` argument if given,
    /// otherwise the backend's time (seconds since the epoch).
    pub otp_timestamp: u64,
    /// Current POS confirmation of the device: the 8-digit TOTP codes (HMAC-SHA1,
    /// 30-second steps) of the current step and the two before and after it, one per
    /// line. With `TOTP_WITH_PRICE` the key is first derived from `price`. Absent for
    /// `NONE`, and for `TOTP_WITH_PRICE` without a usable `price`.
    pub otp_code: Option<String>,
}

/// A query argument that is used when it parses as `T` and ignored when it does not:
/// the OTP device page says unusable arguments are not an error. Published as a plain
/// string, since any text is accepted.
pub struct Lenient<T>(pub Option<T>);

impl<T: Type> Type for Lenient<T> {
    const IS_REQUIRED: bool = T::IS_REQUIRED;
    type RawValueType = T::RawValueType;
    type RawElementValueType = T::RawElementValueType;

    fn name() -> Cow<'static, str> {
        Cow::Borrowed("string")
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema::new("string")))
    }

    fn register(_: &mut Registry) {}

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        self.0.as_ref().and_then(|v| v.as_raw_value())
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        match &self.0 {
            Some(v) => v.raw_element_iter(),
            None => Box::new(std::iter::empty()),
        }
    }
}

impl<T: ParseFromParameter> ParseFromParameter for Lenient<T> {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        Ok(Lenient(T::parse_from_parameter(value).ok()))
    }
}

fn check_ctr(ctr: Option<u64>) -> Result<Option<i64>, ApiError> {
    match ctr {
        Some(c) if c > MAX_SAFE_INTEGER => Err(ApiError::malformed(
            "otp_ctr",
            "otp_ctr must be at most 2^53-1",
        )),
        c => Ok(c.map(|c| c as i64)),
    }
}

fn otp_unknown(id: &str) -> ApiError {
    ApiError::new(
        ErrorCode::MerchantGenericOtpDeviceUnknown,
        format!("OTP device `{id}` is unknown"),
    )
}

#[derive(ApiResponse)]
pub enum OtpDevicesListed {
    /// The instance's OTP devices (possibly none).
    #[oai(status = 200)]
    Ok(Json<OtpDeviceSummaryResponse>),
}

#[derive(ApiResponse)]
pub enum OtpDeviceFound {
    /// The device's details.
    #[oai(status = 200)]
    Ok(Json<OtpDeviceDetails>),
}

error_responses!(PostOtpErrors {
    400 => "The request body is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`, `TALER_EC_GENERIC_PARAMETER_MISSING`, `TALER_EC_GENERIC_JSON_INVALID`).",
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `otp-devices-write` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The merchant instance is unknown (`TALER_EC_MERCHANT_GENERIC_INSTANCE_UNKNOWN`).",
    409 => "An OTP device with this ID already exists with different details (`TALER_EC_MERCHANT_PRIVATE_POST_OTP_DEVICES_CONFLICT_OTP_DEVICE_EXISTS`).",
    413 => "The uploaded body is too long (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
});

error_responses!(ListOtpErrors {
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `otp-devices-read` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The backend does not know the instance (`TALER_EC_MERCHANT_GENERIC_INSTANCE_UNKNOWN`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

error_responses!(GetOtpErrors {
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `otp-devices-read` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The OTP device or instance is unknown (`TALER_EC_MERCHANT_GENERIC_OTP_DEVICE_UNKNOWN`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

error_responses!(PatchOtpErrors {
    400 => "The request body is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`, `TALER_EC_GENERIC_PARAMETER_MISSING`, `TALER_EC_GENERIC_JSON_INVALID`).",
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `otp-devices-write` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The OTP device or instance is unknown (`TALER_EC_MERCHANT_GENERIC_OTP_DEVICE_UNKNOWN`).",
    413 => "The uploaded body is too long (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
});

error_responses!(DeleteOtpErrors {
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `otp-devices-write` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The OTP device or instance is unknown (`TALER_EC_MERCHANT_GENERIC_OTP_DEVICE_UNKNOWN`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
});

pub struct OtpDevicesApi(pub State);

#[OpenApi(tag = "ApiTags::OtpDevices")]
impl OtpDevicesApi {
    /// Add an OTP device
    ///
    /// Posting the same device again is not an error; the same ID with other details
    /// is 409. Requires `otp-devices-write`.
    #[oai(
        path = "/instances/:instance/private/otp-devices",
        method = "post",
        operation_id = "merchant_post_private_otp_devices"
    )]
    async fn post_device(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        body: JsonBody<OtpDeviceAddDetails>,
    ) -> Result<NoContent, PostOtpErrors> {
        let access = auth::authorize(&self.0, &instance, &token, OTP_WRITE).await?;
        let body = body.0;
        let settings = OtpSettings {
            description: body.otp_device_description,
            key: body.otp_key.into(),
            algorithm: i32::from(body.otp_algorithm.0),
            ctr: check_ctr(body.otp_ctr)?,
        };
        match otp_devices::create(
            &self.0.db,
            access.instance.instance_serial,
            body.otp_device_id,
            settings,
        )
        .await
        .map_err(ApiError::db_store)?
        {
            CreateOutcome::Created => Ok(NoContent::Done),
            CreateOutcome::Conflict => Err(ApiError::new(
                ErrorCode::MerchantPrivatePostOtpDevicesConflictOtpDeviceExists,
                "an OTP device with this ID but different details exists",
            )
            .into()),
        }
    }

    /// List OTP devices
    ///
    /// Requires `otp-devices-read`.
    #[oai(
        path = "/instances/:instance/private/otp-devices",
        method = "get",
        operation_id = "merchant_get_private_otp_devices"
    )]
    async fn list_devices(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
    ) -> Result<OtpDevicesListed, ListOtpErrors> {
        let access = auth::authorize(&self.0, &instance, &token, OTP_READ).await?;
        let otp_devices = otp_devices::list(&self.0.db, access.instance.instance_serial)
            .await
            .map_err(ApiError::db_fetch)?
            .into_iter()
            .map(|d| OtpDeviceEntry {
                otp_device_id: d.otp_id,
                device_description: d.otp_description,
            })
            .collect();
        Ok(OtpDevicesListed::Ok(Json(OtpDeviceSummaryResponse {
            otp_devices,
        })))
    }

    /// Get an OTP device
    ///
    /// The key is never returned. Requires `otp-devices-read`.
    #[oai(
        path = "/instances/:instance/private/otp-devices/:device_id",
        method = "get",
        operation_id = "merchant_get_private_otp_device"
    )]
    async fn get_device(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        /// The device's `otp_device_id`.
        device_id: Path<String>,
        /// Time in seconds since the epoch (an integer) to compute the code for
        /// (default: now). Ignored when unusable.
        faketime: Query<Option<Lenient<u64>>>,
        /// Price (an `Amount`) to compute a `TOTP_WITH_PRICE` code for. Ignored when
        /// unusable or in another currency (then no code is returned).
        price: Query<Option<Lenient<Amount>>>,
    ) -> Result<OtpDeviceFound, GetOtpErrors> {
        let (_, device, _) = auth::authorize_found(
            &self.0,
            &token,
            OTP_READ,
            async |hash| {
                otp_devices::find_with_access(&self.0.db, &instance, Some(&hash), &device_id).await
            },
            || otp_unknown(&device_id),
        )
        .await?;
        let now = crate::taler::time::unix_seconds(std::time::SystemTime::now());
        let timestamp = faketime
            .0
            .and_then(|t| t.0)
            .filter(|t| *t <= MAX_SAFE_INTEGER)
            .unwrap_or(now);
        let price = price
            .0
            .and_then(|p| p.0)
            .filter(|p| p.currency() == self.0.config.currency);
        let algorithm = OtpAlgorithm(device.otp_algorithm as u8).confirmation();
        Ok(OtpDeviceFound::Ok(Json(OtpDeviceDetails {
            otp_code: otp::pos_confirmation(&device.otp_key, algorithm, price.as_ref(), timestamp),
            device_description: device.otp_description,
            otp_algorithm: device.otp_algorithm as u64,
            otp_ctr: device.otp_ctr.map(|c| c as u64),
            otp_timestamp: timestamp,
        })))
    }

    /// Modify an OTP device
    ///
    /// Requires `otp-devices-write`.
    #[oai(
        path = "/instances/:instance/private/otp-devices/:device_id",
        method = "patch",
        operation_id = "merchant_patch_private_otp_device"
    )]
    async fn patch_device(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        /// The device's `otp_device_id`.
        device_id: Path<String>,
        body: JsonBody<OtpDevicePatchDetails>,
    ) -> Result<NoContent, PatchOtpErrors> {
        let access = auth::authorize_object(&self.0, &instance, &token, OTP_WRITE, || {
            otp_unknown(&device_id)
        })
        .await?;
        let body = body.0;
        let algorithm = OtpAlgorithm::from_number(body.otp_algorithm)
            .map_err(|e| ApiError::malformed("otp_algorithm", e))?;
        let updated = otp_devices::update(
            &self.0.db,
            access.instance.instance_serial,
            &device_id,
            body.otp_device_description,
            body.otp_key.map(String::from),
            i32::from(algorithm.0),
            check_ctr(body.otp_ctr)?,
        )
        .await
        .map_err(ApiError::db_store)?;
        if updated {
            Ok(NoContent::Done)
        } else {
            Err(otp_unknown(&device_id).into())
        }
    }

    /// Delete an OTP device
    ///
    /// Templates that used the device keep working without one: their `otp_id`
    /// becomes absent. Requires `otp-devices-write`.
    #[oai(
        path = "/instances/:instance/private/otp-devices/:device_id",
        method = "delete",
        operation_id = "merchant_delete_private_otp_device"
    )]
    async fn delete_device(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        /// The device's `otp_device_id`.
        device_id: Path<String>,
    ) -> Result<NoContent, DeleteOtpErrors> {
        let access = auth::authorize_object(&self.0, &instance, &token, OTP_WRITE, || {
            otp_unknown(&device_id)
        })
        .await?;
        if otp_devices::delete(&self.0.db, access.instance.instance_serial, &device_id)
            .await
            .map_err(ApiError::db_store)?
        {
            Ok(NoContent::Done)
        } else {
            Err(otp_unknown(&device_id).into())
        }
    }
}
