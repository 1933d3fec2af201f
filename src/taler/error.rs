//! Taler error reporting: the `TALER_EC_*` codes, the `ErrorDetail` body and the one
//! `ApiError` type every failure travels in on its way to a client.

use poem::{IntoResponse, Response, error::ResponseError, http::StatusCode};
use poem_openapi::Object;

/// `TALER_EC_*` codes used by this server, with their numbers from the GANA registry
/// (gnu-taler-error-codes). Never invent a number: look the name up in the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    GenericTokenPermissionInsufficient,
    GenericMethodInvalid,
    GenericEndpointUnknown,
    GenericJsonInvalid,
    GenericHttpHeadersMalformed,
    GenericParameterMissing,
    GenericParameterMalformed,
    GenericCurrencyMismatch,
    GenericUploadExceedsLimit,
    GenericUnauthorized,
    GenericTokenUnknown,
    GenericTokenExpired,
    GenericTokenMalformed,
    GenericForbidden,
    GenericDbSetupFailed,
    GenericDbStartFailed,
    GenericDbStoreFailed,
    GenericDbFetchFailed,
    GenericDbCommitFailed,
    GenericDbSoftFailure,
    GenericInternalInvariantFailure,
    MerchantGenericInstanceUnknown,
    MerchantPrivatePostInstancesAlreadyExists,
    MerchantPrivatePostInstancesPurgeRequired,
    MerchantGenericMoneyPotUnknown,
    MerchantPrivateMoneyPotConflictingName,
    MerchantPrivateMoneyPotConflictingTotal,
    MerchantGenericReportUnknown,
    MerchantGenericReportGeneratorUnconfigured,
    MerchantGenericCategoryUnknown,
    MerchantGenericTemplateUnknown,
    MerchantGenericOtpDeviceUnknown,
    MerchantPrivatePostProductsConflictProductExists,
    MerchantPrivatePostCategoriesConflictCategoryExists,
    MerchantPrivatePostTemplatesConflictTemplateExists,
    MerchantPrivatePostOtpDevicesConflictOtpDeviceExists,
    DonauCharityNotFound,
    DonauCharityPubExists,
    BankSameAccount,
    BankUnallowedDebit,
    BankUnknownAccount,
    BankTransferRequestUidReused,
    BankReservedUsernameConflict,
    BankRegisterUsernameReuse,
    BankRegisterPaytoUriReuse,
    BankUnknownCreditor,
}

/// Codes the spec names whose numbers could not be found in any stored copy of the
/// GANA registry (it predates them). Their numbers are provisional and must be
/// checked against the registry; `hint` always carries the `TALER_EC_*` name as well.
pub const PROVISIONAL: &[ErrorCode] = &[
    ErrorCode::MerchantGenericMoneyPotUnknown,
    ErrorCode::MerchantPrivateMoneyPotConflictingName,
    ErrorCode::MerchantPrivateMoneyPotConflictingTotal,
    ErrorCode::MerchantGenericReportUnknown,
    ErrorCode::MerchantGenericReportGeneratorUnconfigured,
    ErrorCode::DonauCharityPubExists,
];

impl ErrorCode {
    /// The numeric code of the registry.
    pub const fn number(self) -> u32 {
        use ErrorCode::*;
        match self {
            GenericTokenPermissionInsufficient => 16,
            GenericMethodInvalid => 20,
            GenericEndpointUnknown => 21,
            GenericJsonInvalid => 22,
            GenericHttpHeadersMalformed => 23,
            GenericParameterMissing => 25,
            GenericParameterMalformed => 26,
            GenericCurrencyMismatch => 30,
            GenericUploadExceedsLimit => 32,
            GenericUnauthorized => 40,
            GenericTokenUnknown => 41,
            GenericTokenExpired => 42,
            GenericTokenMalformed => 43,
            GenericForbidden => 44,
            GenericDbSetupFailed => 50,
            GenericDbStartFailed => 51,
            GenericDbStoreFailed => 52,
            GenericDbFetchFailed => 53,
            GenericDbCommitFailed => 54,
            GenericDbSoftFailure => 55,
            GenericInternalInvariantFailure => 60,
            MerchantGenericInstanceUnknown => 2000,
            MerchantPrivatePostInstancesAlreadyExists => 2600,
            MerchantPrivatePostInstancesPurgeRequired => 2603,
            // PROVISIONAL (see `PROVISIONAL`).
            MerchantGenericMoneyPotUnknown => 2035,
            MerchantPrivateMoneyPotConflictingName => 2670,
            MerchantPrivateMoneyPotConflictingTotal => 2671,
            // PROVISIONAL (see `PROVISIONAL`).
            MerchantGenericReportUnknown => 2036,
            MerchantGenericReportGeneratorUnconfigured => 2037,
            MerchantGenericCategoryUnknown => 2003,
            MerchantGenericTemplateUnknown => 2018,
            MerchantGenericOtpDeviceUnknown => 2021,
            MerchantPrivatePostProductsConflictProductExists => 2650,
            MerchantPrivatePostCategoriesConflictCategoryExists => 2651,
            MerchantPrivatePostTemplatesConflictTemplateExists => 2850,
            MerchantPrivatePostOtpDevicesConflictOtpDeviceExists => 2851,
            DonauCharityNotFound => 8609,
            // PROVISIONAL (see `PROVISIONAL`).
            DonauCharityPubExists => 8618,
            BankSameAccount => 5101,
            BankUnallowedDebit => 5102,
            BankUnknownAccount => 5106,
            BankTransferRequestUidReused => 5112,
            BankReservedUsernameConflict => 5120,
            BankRegisterUsernameReuse => 5121,
            BankRegisterPaytoUriReuse => 5122,
            BankUnknownCreditor => 5124,
        }
    }

    /// The registry name, without the `TALER_EC_` prefix (only provisional codes need it).
    pub const fn name(self) -> &'static str {
        use ErrorCode::*;
        match self {
            MerchantGenericMoneyPotUnknown => "MERCHANT_GENERIC_MONEY_POT_UNKNOWN",
            MerchantPrivateMoneyPotConflictingName => "MERCHANT_PRIVATE_MONEY_POT_CONFLICTING_NAME",
            MerchantPrivateMoneyPotConflictingTotal => {
                "MERCHANT_PRIVATE_MONEY_POT_CONFLICTING_TOTAL"
            }
            MerchantGenericReportUnknown => "MERCHANT_GENERIC_REPORT_UNKNOWN",
            MerchantGenericReportGeneratorUnconfigured => {
                "MERCHANT_GENERIC_REPORT_GENERATOR_UNCONFIGURED"
            }
            DonauCharityPubExists => "DONAU_CHARITY_PUB_EXISTS",
            _ => "",
        }
    }

    /// The HTTP status the registry pairs with the code.
    pub const fn http_status(self) -> StatusCode {
        use ErrorCode::*;
        match self {
            GenericTokenPermissionInsufficient | GenericForbidden => StatusCode::FORBIDDEN,
            GenericMethodInvalid => StatusCode::METHOD_NOT_ALLOWED,
            GenericEndpointUnknown
            | MerchantGenericInstanceUnknown
            | MerchantGenericMoneyPotUnknown
            | MerchantGenericCategoryUnknown
            | MerchantGenericReportUnknown
            | MerchantGenericTemplateUnknown
            | MerchantGenericOtpDeviceUnknown
            | DonauCharityNotFound
            | BankUnknownAccount => StatusCode::NOT_FOUND,
            GenericJsonInvalid
            | GenericHttpHeadersMalformed
            | GenericParameterMissing
            | GenericParameterMalformed
            | GenericCurrencyMismatch => StatusCode::BAD_REQUEST,
            GenericUploadExceedsLimit => StatusCode::PAYLOAD_TOO_LARGE,
            MerchantGenericReportGeneratorUnconfigured => StatusCode::NOT_IMPLEMENTED,
            GenericUnauthorized
            | GenericTokenUnknown
            | GenericTokenExpired
            | GenericTokenMalformed => StatusCode::UNAUTHORIZED,
            GenericDbSetupFailed
            | GenericDbStartFailed
            | GenericDbStoreFailed
            | GenericDbFetchFailed
            | GenericDbCommitFailed
            | GenericDbSoftFailure
            | GenericInternalInvariantFailure => StatusCode::INTERNAL_SERVER_ERROR,
            MerchantPrivatePostInstancesAlreadyExists
            | MerchantPrivatePostInstancesPurgeRequired
            | MerchantPrivateMoneyPotConflictingName
            | MerchantPrivateMoneyPotConflictingTotal
            | MerchantPrivatePostProductsConflictProductExists
            | MerchantPrivatePostCategoriesConflictCategoryExists
            | MerchantPrivatePostTemplatesConflictTemplateExists
            | MerchantPrivatePostOtpDevicesConflictOtpDeviceExists
            | DonauCharityPubExists
            | BankSameAccount
            | BankUnallowedDebit
            | BankTransferRequestUidReused
            | BankReservedUsernameConflict
            | BankRegisterUsernameReuse
            | BankRegisterPaytoUriReuse
            | BankUnknownCreditor => StatusCode::CONFLICT,
        }
    }
}

/// The body of every error response of a Taler service (api-common `ErrorDetail`).
#[derive(Debug, Clone, PartialEq, Object, serde::Serialize, serde::Deserialize)]
#[oai(skip_serializing_if_is_none)]
#[serde(deny_unknown_fields)]
pub struct ErrorDetail {
    /// Numeric error code unique to the condition (a `TALER_EC_*` value of the GANA registry).
    pub code: u32,
    /// Human-readable description of the error, e.g. "missing parameter", "commitment violation".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// Optional detail about the specific input value that failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Name of the parameter that was bogus (if applicable).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// Path to the argument that was bogus (if applicable).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Offset of the argument that was bogus (if applicable).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<String>,
    /// Index of the argument that was bogus (if applicable).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<String>,
    /// Name of the object that was bogus (if applicable).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// Name of the currency that was problematic (if applicable).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Expected type (if applicable).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_expected: Option<String>,
    /// Type that was provided instead (if applicable).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_actual: Option<String>,
    /// Extra information that doesn't fit into the above (if applicable).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra: Option<serde_json::Value>,
}

/// A failure on its way to the client: HTTP status plus `ErrorDetail`.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    // Boxed: errors travel in every `Result`, and the happy path should stay small.
    pub detail: Box<ErrorDetail>,
    /// Seconds for a `Retry-After` header (429 and 503 answers).
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with the status the registry gives the code.
    pub fn new(code: ErrorCode, hint: impl Into<String>) -> Self {
        Self::with_status(code.http_status(), code, hint)
    }

    /// An error whose status differs from the registry's (the spec page decides).
    pub fn with_status(status: StatusCode, code: ErrorCode, hint: impl Into<String>) -> Self {
        let mut hint = hint.into();
        if PROVISIONAL.contains(&code) {
            // A client can still tell the condition apart if the number changes.
            hint = format!("TALER_EC_{}: {hint}", code.name());
        }
        ApiError {
            status,
            detail: Box::new(ErrorDetail {
                code: code.number(),
                hint: Some(hint),
                detail: None,
                parameter: None,
                path: None,
                offset: None,
                index: None,
                object: None,
                currency: None,
                type_expected: None,
                type_actual: None,
                extra: None,
            }),
            retry_after: None,
        }
    }

    /// Passes on another service's `ErrorDetail` unchanged, with our own status.
    pub fn relay(status: StatusCode, detail: ErrorDetail) -> Self {
        ApiError {
            status,
            detail: Box::new(detail),
            retry_after: None,
        }
    }

    /// 400 `TALER_EC_GENERIC_PARAMETER_MALFORMED` naming the offending field.
    pub fn malformed(parameter: &str, hint: impl Into<String>) -> Self {
        Self::new(ErrorCode::GenericParameterMalformed, hint).parameter(parameter)
    }

    pub fn parameter(mut self, name: &str) -> Self {
        self.detail.parameter = Some(name.to_owned());
        self
    }

    /// Tells the client when to try again (`Retry-After`, in seconds).
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail.detail = Some(detail.into());
        self
    }

    pub fn currency(mut self, currency: &str) -> Self {
        self.detail.currency = Some(currency.to_owned());
        self
    }

    /// A database read failed; the cause goes to the log, not to the client.
    pub fn db_fetch(err: impl std::fmt::Display) -> Self {
        tracing::error!(error = %err, "database fetch failed");
        Self::new(
            ErrorCode::GenericDbFetchFailed,
            "could not read from the database",
        )
    }

    /// A database write failed; the cause goes to the log, not to the client.
    pub fn db_store(err: impl std::fmt::Display) -> Self {
        tracing::error!(error = %err, "database store failed");
        Self::new(
            ErrorCode::GenericDbStoreFailed,
            "could not write to the database",
        )
    }

    pub fn code(&self) -> u32 {
        self.detail.code
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (code {}): {}",
            self.status,
            self.detail.code,
            self.detail.hint.as_deref().unwrap_or("")
        )
    }
}

impl std::error::Error for ApiError {}

impl ResponseError for ApiError {
    fn status(&self) -> StatusCode {
        self.status
    }

    fn as_response(&self) -> Response {
        let body = serde_json::to_vec(&self.detail).expect("ErrorDetail always serializes");
        let mut builder = Response::builder()
            .status(self.status)
            .content_type("application/json");
        if let Some(secs) = self.retry_after {
            builder = builder.header(poem::http::header::RETRY_AFTER, secs);
        }
        builder.body(body)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.as_response()
    }
}

/// Declares the error responses one operation can produce, for its OpenAPI entry.
///
/// Every status listed appears in the published spec with an `ErrorDetail` body; a
/// handler that produces an undeclared status is a bug, caught in debug builds.
#[macro_export]
macro_rules! error_responses {
    ($(#[$meta:meta])* $vis:vis $name:ident { $($status:literal => $desc:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug)]
        $vis struct $name(pub $crate::taler::ApiError);

        impl $name {
            const DECLARED: &'static [u16] = &[$($status),+];
        }

        impl From<$crate::taler::ApiError> for $name {
            fn from(err: $crate::taler::ApiError) -> Self {
                $name(err)
            }
        }

        impl From<$name> for ::poem::Error {
            fn from(err: $name) -> ::poem::Error {
                let status = err.0.status.as_u16();
                if !$name::DECLARED.contains(&status) {
                    ::tracing::error!(status, operation = stringify!($name), "undeclared error status");
                    debug_assert!(false, "{} returned undeclared status {}", stringify!($name), status);
                }
                err.0.into()
            }
        }

        impl ::poem_openapi::ApiResponse for $name {
            fn meta() -> ::poem_openapi::registry::MetaResponses {
                use ::poem_openapi::types::Type;
                ::poem_openapi::registry::MetaResponses {
                    responses: vec![$(
                        ::poem_openapi::registry::MetaResponse {
                            description: $desc,
                            status: Some($status),
                            status_range: None,
                            content: vec![::poem_openapi::registry::MetaMediaType {
                                content_type: "application/json",
                                schema: $crate::taler::ErrorDetail::schema_ref(),
                            }],
                            headers: vec![],
                        }
                    ),+],
                }
            }

            fn register(registry: &mut ::poem_openapi::registry::Registry) {
                use ::poem_openapi::types::Type;
                $crate::taler::ErrorDetail::register(registry);
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_match_the_gana_registry() {
        assert_eq!(ErrorCode::GenericTokenPermissionInsufficient.number(), 16);
        assert_eq!(ErrorCode::GenericMethodInvalid.number(), 20);
        assert_eq!(ErrorCode::GenericEndpointUnknown.number(), 21);
        assert_eq!(ErrorCode::GenericJsonInvalid.number(), 22);
        assert_eq!(ErrorCode::GenericParameterMalformed.number(), 26);
        assert_eq!(ErrorCode::GenericUploadExceedsLimit.number(), 32);
        assert_eq!(ErrorCode::GenericUnauthorized.number(), 40);
        assert_eq!(ErrorCode::GenericDbStoreFailed.number(), 52);
        assert_eq!(ErrorCode::GenericDbFetchFailed.number(), 53);
        assert_eq!(ErrorCode::MerchantGenericInstanceUnknown.number(), 2000);
        assert_eq!(ErrorCode::MerchantGenericTemplateUnknown.number(), 2018);
        assert_eq!(ErrorCode::MerchantGenericOtpDeviceUnknown.number(), 2021);
        assert_eq!(
            ErrorCode::MerchantPrivatePostTemplatesConflictTemplateExists.number(),
            2850
        );
        assert_eq!(ErrorCode::DonauCharityNotFound.number(), 8609);
        assert_eq!(ErrorCode::BankUnknownAccount.number(), 5106);
        assert_eq!(ErrorCode::BankUnknownCreditor.number(), 5124);
    }

    #[test]
    fn error_body_is_error_detail_json() {
        let err = ApiError::malformed("pot_id", "not a number");
        let resp = err.as_response();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        let body = serde_json::to_value(&err.detail).unwrap();
        assert_eq!(body["code"], 26);
        assert_eq!(body["parameter"], "pot_id");
        assert!(body.get("detail").is_none());
    }
}
