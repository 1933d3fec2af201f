//! Taler error reporting: the `TALER_EC_*` codes, the `ErrorDetail` body and the one
//! `ApiError` type every failure travels in on its way to a client.

use poem::{IntoResponse, Response, error::ResponseError, http::StatusCode};
use poem_openapi::Object;

/// `TALER_EC_*` codes used by this server, with their numbers from the GANA registry
/// (gnu-taler-error-codes). Never invent a number: look the name up in the registry; a
/// name no registry copy has goes into `PROVISIONAL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    GenericTokenPermissionInsufficient,
    GenericMethodInvalid,
    GenericEndpointUnknown,
    GenericJsonInvalid,
    GenericHttpHeadersMalformed,
    GenericParameterMissing,
    GenericPaytoUriMalformed,
    GenericParameterMalformed,
    GenericCurrencyMismatch,
    GenericUriTooLong,
    GenericUploadExceedsLimit,
    GenericCompressionInvalid,
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
    MerchantPrivatePatchInstancesPurgeRequired,
    MerchantGenericMoneyPotUnknown,
    MerchantPrivateMoneyPotConflictingName,
    MerchantPrivateMoneyPotConflictingTotal,
    MerchantGenericReportUnknown,
    MerchantGenericReportGeneratorUnconfigured,
    MerchantGenericCategoryUnknown,
    MerchantGenericProductUnknown,
    MerchantGenericProductGroupUnknown,
    MerchantPrivatePatchProductsTotalLostReduced,
    MerchantPrivatePatchProductsTotalLostExceedsStocks,
    MerchantPrivatePatchProductsTotalStockedReduced,
    MerchantGenericTemplateUnknown,
    MerchantGenericOtpDeviceUnknown,
    MerchantPrivatePostProductsConflictProductExists,
    MerchantPrivatePostCategoriesConflictCategoryExists,
    MerchantPrivatePostTemplatesConflictTemplateExists,
    MerchantPrivatePostOtpDevicesConflictOtpDeviceExists,
    MerchantGenericAccountUnknown,
    MerchantPrivateAccountDeleteUnknownAccount,
    MerchantPrivateAccountExists,
    MerchantPrivatePostOrdersInstanceConfigurationLacksWire,
    MerchantGenericOrderUnknown,
    MerchantGenericCurrencyMismatch,
    MerchantGetOrdersIdInvalidToken,
    MerchantGetOrdersIdInvalidContractHash,
    MerchantPostOrdersIdClaimNotFound,
    MerchantPostOrdersIdClaimAlreadyClaimed,
    MerchantPrivatePostOrdersProposalParseError,
    MerchantPrivatePostOrdersAlreadyExists,
    MerchantPrivatePostOrdersRefundAfterWireDeadline,
    MerchantPrivatePostOrdersDeliveryDateInPast,
    MerchantPrivatePostOrdersWireDeadlineIsNever,
    MerchantPrivatePostOrdersPayDeadlineInPast,
    MerchantPrivatePostOrdersRefundDeadlineInPast,
    MerchantPrivatePatchOrdersIdForgetPathSyntaxIncorrect,
    MerchantPrivatePatchOrdersIdForgetPathNotForgettable,
    MerchantPrivateDeleteOrdersAwaitingPayment,
    MerchantPrivateDeleteProductsConflictingLock,
    MerchantPostUsingTemplatesAmountConflictTemplatesContractAmount,
    MerchantPostUsingTemplatesSummaryConflictTemplatesContractSubject,
    MerchantPostUsingTemplatesNoAmount,
    MerchantPostUsingTemplatesNoSummary,
    MerchantPostUsingTemplatesNoCurrency,
    MerchantPostUsingTemplatesWrongProduct,
    MerchantPostUsingTemplatesWrongType,
    DonauCharityNotFound,
    DonauCharityPubExists,
    DonauGenericKeysMissing,
    DonauCharitySignatureInvalid,
    DonauExceedingDonationLimit,
    DonauGenericDonationUnitUnknown,
    DonauDonationReceiptSignatureInvalid,
    DonauDonorIdentifierNonceReuse,
    DonauGenericDonationUnitWrongYear,
    DonauGenericDonationUnitExpired,
    DonauGenericDonationUnitTooEarly,
    DonauGenericInvalidDenominationCipherForOperation,
    BankSameAccount,
    BankUnallowedDebit,
    BankUnknownAccount,
    BankTransferRequestUidReused,
    BankReservedUsernameConflict,
    BankRegisterUsernameReuse,
    BankRegisterPaytoUriReuse,
    BankUnknownCreditor,
    BankTransactionNotFound,
    BankDuplicateReservePubSubject,
    BankUnknownDebtor,
    BankAccountIsNotExchange,
    BankTransferWtidReused,
    BankAccountBalanceNotZero,
    BankNonAdminPatchLegalName,
    BankNonAdminPatchDebtLimit,
    BankNonAdminPatchMissingOldPassword,
    BankPatchBadOldPassword,
    BankPatchAdminExchange,
    BankNonAdminPatchContact,
    BankAdminCreditor,
    BankAccountIsExchange,
    BankWithdrawalOperationReserveSelectionConflict,
    BankAbortConfirmConflict,
    BankConfirmAbortConflict,
    BankConfirmIncomplete,
    BankAmountDiffers,
    BankAmountRequired,
    BankUpdateAbortConflict,
    BankMissingTanInfo,
    BankTanRateLimited,
    BankTanChannelNotSupported,
    BankTanChannelScriptFailed,
    BankTanChallengeFailed,
    BankChallengeNotFound,
    BankTanChallengeExpired,
    BankNonAdminSetTanChannel,
    BankAccountLocked,
    BankPasswordTooShort,
    BankPasswordTooLong,
    BankNumberTooBig,
    BankBadFormatAmount,
    MerchantGenericWebhookUnknown,
    MerchantPrivatePostWebhooksConflictWebhookExists,
    MerchantPrivatePostOrdersIdRefundOrderUnpaid,
    MerchantPrivatePostOrdersIdRefundNotAllowedByContract,
    MerchantPrivatePostProductsLockInsufficientStocks,
    MerchantGenericAccessTokenUnknown,
    MerchantPrivatePostRefundAfterWireDeadline,
    /// `TALER_EC_END`, which libeufin-bank answers where it has no better code.
    End,
}

/// A code the pages name whose number no registry copy we could find assigns. The
/// number is ours until GANA assigns one; it never equals a number any registry copy
/// gives another name (checked by `provisional_numbers_collide_with_no_assigned_one`),
/// and `hint` always carries the `TALER_EC_*` name so a client can tell the condition
/// apart if the number changes.
pub struct Provisional {
    pub code: ErrorCode,
    pub number: u32,
    pub name: &'static str,
}

/// Every provisional code, in one place.
pub const PROVISIONAL: &[Provisional] = &[
    Provisional {
        code: ErrorCode::MerchantGenericMoneyPotUnknown,
        number: 2035,
        name: "MERCHANT_GENERIC_MONEY_POT_UNKNOWN",
    },
    Provisional {
        code: ErrorCode::MerchantGenericReportUnknown,
        number: 2036,
        name: "MERCHANT_GENERIC_REPORT_UNKNOWN",
    },
    Provisional {
        code: ErrorCode::MerchantGenericReportGeneratorUnconfigured,
        number: 2037,
        name: "MERCHANT_GENERIC_REPORT_GENERATOR_UNCONFIGURED",
    },
    Provisional {
        code: ErrorCode::MerchantGenericProductGroupUnknown,
        number: 2038,
        name: "MERCHANT_GENERIC_PRODUCT_GROUP_UNKNOWN",
    },
    Provisional {
        code: ErrorCode::MerchantGenericAccessTokenUnknown,
        number: 2039,
        name: "MERCHANT_GENERIC_ACCESS_TOKEN_UNKNOWN",
    },
    Provisional {
        code: ErrorCode::MerchantPrivatePostRefundAfterWireDeadline,
        number: 2535,
        name: "MERCHANT_PRIVATE_POST_REFUND_AFTER_WIRE_DEADLINE",
    },
    // 2670 (used here until 2026-11) is MERCHANT_PRIVATE_POST_PRODUCTS_LOCK_INSUFFICIENT_STOCKS.
    Provisional {
        code: ErrorCode::MerchantPrivateMoneyPotConflictingName,
        number: 2690,
        name: "MERCHANT_PRIVATE_MONEY_POT_CONFLICTING_NAME",
    },
    Provisional {
        code: ErrorCode::MerchantPrivateMoneyPotConflictingTotal,
        number: 2691,
        name: "MERCHANT_PRIVATE_MONEY_POT_CONFLICTING_TOTAL",
    },
    Provisional {
        code: ErrorCode::MerchantPostUsingTemplatesNoCurrency,
        number: 2864,
        name: "MERCHANT_POST_USING_TEMPLATES_NO_CURRENCY",
    },
    Provisional {
        code: ErrorCode::MerchantPostUsingTemplatesWrongProduct,
        number: 2865,
        name: "MERCHANT_POST_USING_TEMPLATES_WRONG_PRODUCT",
    },
    Provisional {
        code: ErrorCode::MerchantPostUsingTemplatesWrongType,
        number: 2866,
        name: "MERCHANT_POST_USING_TEMPLATES_WRONG_TYPE",
    },
    Provisional {
        code: ErrorCode::DonauCharityPubExists,
        number: 8618,
        name: "DONAU_CHARITY_PUB_EXISTS",
    },
    // The four codes the 2026 Donau pages added (batch-issue's 409/410/425, csr-issue's
    // 400): no registry copy in reach has them yet.
    Provisional {
        code: ErrorCode::DonauGenericDonationUnitWrongYear,
        number: 8619,
        name: "DONAU_GENERIC_DONATION_UNIT_WRONG_YEAR",
    },
    Provisional {
        code: ErrorCode::DonauGenericDonationUnitExpired,
        number: 8620,
        name: "DONAU_GENERIC_DONATION_UNIT_EXPIRED",
    },
    Provisional {
        code: ErrorCode::DonauGenericDonationUnitTooEarly,
        number: 8621,
        name: "DONAU_GENERIC_DONATION_UNIT_TOO_EARLY",
    },
    Provisional {
        code: ErrorCode::DonauGenericInvalidDenominationCipherForOperation,
        number: 8622,
        name: "DONAU_GENERIC_INVALID_DENOMINATION_CIPHER_FOR_OPERATION",
    },
];

/// The entry of `PROVISIONAL` for `code`, if it is provisional.
const fn provisional(code: ErrorCode) -> Option<&'static Provisional> {
    let mut i = 0;
    while i < PROVISIONAL.len() {
        if PROVISIONAL[i].code as u32 == code as u32 {
            return Some(&PROVISIONAL[i]);
        }
        i += 1;
    }
    None
}

impl ErrorCode {
    /// The numeric code of the registry.
    pub const fn number(self) -> u32 {
        use ErrorCode::*;
        if let Some(p) = provisional(self) {
            return p.number;
        }
        match self {
            GenericTokenPermissionInsufficient => 16,
            GenericMethodInvalid => 20,
            GenericEndpointUnknown => 21,
            GenericJsonInvalid => 22,
            GenericHttpHeadersMalformed => 23,
            GenericParameterMissing => 25,
            GenericPaytoUriMalformed => 24,
            GenericParameterMalformed => 26,
            GenericCurrencyMismatch => 30,
            GenericUriTooLong => 31,
            GenericUploadExceedsLimit => 32,
            GenericCompressionInvalid => 28,
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
            MerchantPrivatePatchInstancesPurgeRequired => 2625,
            MerchantGenericCategoryUnknown => 2003,
            MerchantGenericProductUnknown => 2006,
            MerchantPrivatePatchProductsTotalLostReduced => 2660,
            MerchantPrivatePatchProductsTotalLostExceedsStocks => 2661,
            MerchantPrivatePatchProductsTotalStockedReduced => 2662,
            MerchantGenericTemplateUnknown => 2018,
            MerchantGenericOtpDeviceUnknown => 2021,
            MerchantPrivatePostProductsConflictProductExists => 2650,
            MerchantPrivatePostCategoriesConflictCategoryExists => 2651,
            MerchantPrivatePostTemplatesConflictTemplateExists => 2850,
            MerchantPrivatePostOtpDevicesConflictOtpDeviceExists => 2851,
            MerchantGenericAccountUnknown => 2022,
            MerchantPrivateAccountDeleteUnknownAccount => 2626,
            MerchantPrivateAccountExists => 2627,
            MerchantPrivatePostOrdersInstanceConfigurationLacksWire => 2500,
            MerchantGenericOrderUnknown => 2005,
            MerchantGenericCurrencyMismatch => 2024,
            MerchantGetOrdersIdInvalidToken => 2105,
            MerchantGetOrdersIdInvalidContractHash => 2106,
            MerchantPostOrdersIdClaimNotFound => 2300,
            MerchantPostOrdersIdClaimAlreadyClaimed => 2301,
            MerchantPrivatePostOrdersProposalParseError => 2502,
            MerchantPrivatePostOrdersAlreadyExists => 2503,
            MerchantPrivatePostOrdersRefundAfterWireDeadline => 2504,
            MerchantPrivatePostOrdersDeliveryDateInPast => 2505,
            MerchantPrivatePostOrdersWireDeadlineIsNever => 2506,
            MerchantPrivatePostOrdersPayDeadlineInPast => 2507,
            MerchantPrivatePostOrdersRefundDeadlineInPast => 2508,
            MerchantPrivatePatchOrdersIdForgetPathSyntaxIncorrect => 2510,
            MerchantPrivatePatchOrdersIdForgetPathNotForgettable => 2511,
            MerchantPrivateDeleteOrdersAwaitingPayment => 2520,
            MerchantPrivateDeleteProductsConflictingLock => 2680,
            MerchantPostUsingTemplatesAmountConflictTemplatesContractAmount => 2860,
            MerchantPostUsingTemplatesSummaryConflictTemplatesContractSubject => 2861,
            MerchantPostUsingTemplatesNoAmount => 2862,
            MerchantPostUsingTemplatesNoSummary => 2863,
            DonauCharityNotFound => 8609,
            DonauGenericKeysMissing => 8607,
            DonauCharitySignatureInvalid => 8608,
            DonauExceedingDonationLimit => 8610,
            DonauGenericDonationUnitUnknown => 8611,
            DonauDonationReceiptSignatureInvalid => 8616,
            DonauDonorIdentifierNonceReuse => 8617,
            BankSameAccount => 5101,
            BankUnallowedDebit => 5102,
            BankUnknownAccount => 5106,
            BankTransferRequestUidReused => 5112,
            BankReservedUsernameConflict => 5120,
            BankRegisterUsernameReuse => 5121,
            BankRegisterPaytoUriReuse => 5122,
            BankUnknownCreditor => 5124,
            BankTransactionNotFound => 5107,
            BankDuplicateReservePubSubject => 5114,
            BankUnknownDebtor => 5125,
            BankAccountIsNotExchange => 5127,
            BankTransferWtidReused => 5154,
            BankAccountBalanceNotZero => 5123,
            BankNonAdminPatchLegalName => 5135,
            BankNonAdminPatchDebtLimit => 5136,
            BankNonAdminPatchMissingOldPassword => 5137,
            BankPatchBadOldPassword => 5138,
            BankPatchAdminExchange => 5139,
            BankNonAdminPatchContact => 5141,
            BankAdminCreditor => 5142,
            BankAccountIsExchange => 5126,
            BankWithdrawalOperationReserveSelectionConflict => 5113,
            BankAbortConfirmConflict => 5116,
            BankConfirmAbortConflict => 5117,
            BankConfirmIncomplete => 5130,
            BankAmountDiffers => 5148,
            BankAmountRequired => 5149,
            BankUpdateAbortConflict => 5153,
            BankMissingTanInfo => 5129,
            BankTanRateLimited => 5131,
            BankTanChannelNotSupported => 5132,
            BankTanChannelScriptFailed => 5133,
            BankTanChallengeFailed => 5134,
            BankChallengeNotFound => 5143,
            BankTanChallengeExpired => 5144,
            BankNonAdminSetTanChannel => 5145,
            BankAccountLocked => 5152,
            BankPasswordTooShort => 5150,
            BankPasswordTooLong => 5151,
            BankNumberTooBig => 5104,
            BankBadFormatAmount => 5108,
            MerchantGenericWebhookUnknown => 2019,
            MerchantPrivatePostWebhooksConflictWebhookExists => 2900,
            MerchantPrivatePostOrdersIdRefundOrderUnpaid => 2531,
            MerchantPrivatePostOrdersIdRefundNotAllowedByContract => 2532,
            MerchantPrivatePostProductsLockInsufficientStocks => 2670,
            End => 9999,
            // Provisional: answered from `PROVISIONAL` above.
            MerchantGenericMoneyPotUnknown
            | MerchantPrivateMoneyPotConflictingName
            | MerchantPrivateMoneyPotConflictingTotal
            | MerchantGenericReportUnknown
            | MerchantGenericReportGeneratorUnconfigured
            | MerchantGenericProductGroupUnknown
            | MerchantGenericAccessTokenUnknown
            | MerchantPrivatePostRefundAfterWireDeadline
            | MerchantPostUsingTemplatesNoCurrency
            | MerchantPostUsingTemplatesWrongProduct
            | MerchantPostUsingTemplatesWrongType
            | DonauCharityPubExists
            | DonauGenericDonationUnitWrongYear
            | DonauGenericDonationUnitExpired
            | DonauGenericDonationUnitTooEarly
            | DonauGenericInvalidDenominationCipherForOperation => 0,
        }
    }

    /// The registry name without the `TALER_EC_` prefix (kept for provisional codes only).
    pub const fn name(self) -> &'static str {
        match provisional(self) {
            Some(p) => p.name,
            None => "",
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
            | MerchantGenericProductUnknown
            | MerchantGenericProductGroupUnknown
            | MerchantGenericReportUnknown
            | MerchantGenericTemplateUnknown
            | MerchantGenericOtpDeviceUnknown
            | MerchantGenericWebhookUnknown
            | MerchantGenericAccessTokenUnknown
            | DonauCharityNotFound
            | DonauGenericDonationUnitUnknown
            | BankUnknownAccount
            | BankTransactionNotFound => StatusCode::NOT_FOUND,
            GenericJsonInvalid
            | GenericHttpHeadersMalformed
            | GenericParameterMissing
            | GenericPaytoUriMalformed
            | GenericParameterMalformed
            | GenericCurrencyMismatch
            | GenericCompressionInvalid
            | BankNumberTooBig
            | BankBadFormatAmount
            | DonauExceedingDonationLimit
            | DonauGenericInvalidDenominationCipherForOperation => StatusCode::BAD_REQUEST,
            DonauGenericKeysMissing => StatusCode::SERVICE_UNAVAILABLE,
            DonauCharitySignatureInvalid | DonauDonationReceiptSignatureInvalid => {
                StatusCode::FORBIDDEN
            }
            DonauGenericDonationUnitExpired => StatusCode::GONE,
            DonauGenericDonationUnitTooEarly => StatusCode::TOO_EARLY,
            GenericUploadExceedsLimit => StatusCode::PAYLOAD_TOO_LARGE,
            GenericUriTooLong => StatusCode::URI_TOO_LONG,
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
            | MerchantPrivatePatchInstancesPurgeRequired
            | MerchantPrivateMoneyPotConflictingName
            | MerchantPrivateMoneyPotConflictingTotal
            | MerchantPrivatePostProductsConflictProductExists
            | MerchantPrivatePatchProductsTotalLostReduced
            | MerchantPrivatePatchProductsTotalLostExceedsStocks
            | MerchantPrivatePatchProductsTotalStockedReduced
            | MerchantPrivatePostCategoriesConflictCategoryExists
            | MerchantPrivatePostTemplatesConflictTemplateExists
            | MerchantPrivatePostOtpDevicesConflictOtpDeviceExists
            | DonauCharityPubExists
            | DonauDonorIdentifierNonceReuse
            | DonauGenericDonationUnitWrongYear
            | BankSameAccount
            | BankUnallowedDebit
            | BankTransferRequestUidReused
            | BankReservedUsernameConflict
            | BankRegisterUsernameReuse
            | BankRegisterPaytoUriReuse
            | BankUnknownCreditor
            | BankDuplicateReservePubSubject
            | BankUnknownDebtor
            | BankAccountIsNotExchange
            | BankTransferWtidReused
            | BankAccountBalanceNotZero
            | BankNonAdminPatchLegalName
            | BankNonAdminPatchDebtLimit
            | BankNonAdminPatchMissingOldPassword
            | BankPatchBadOldPassword
            | BankPatchAdminExchange
            | BankNonAdminPatchContact
            | BankAdminCreditor
            | BankAccountIsExchange
            | BankWithdrawalOperationReserveSelectionConflict
            | BankAbortConfirmConflict
            | BankConfirmAbortConflict
            | BankConfirmIncomplete
            | BankAmountDiffers
            | BankAmountRequired
            | BankUpdateAbortConflict
            | BankMissingTanInfo
            | BankTanChannelNotSupported
            | BankTanChallengeFailed
            | BankNonAdminSetTanChannel
            | BankPasswordTooShort
            | BankPasswordTooLong
            | End => StatusCode::CONFLICT,
            BankTanRateLimited => StatusCode::TOO_MANY_REQUESTS,
            BankAccountLocked => StatusCode::FORBIDDEN,
            BankTanChannelScriptFailed => StatusCode::BAD_GATEWAY,
            BankChallengeNotFound | BankTanChallengeExpired => StatusCode::NOT_FOUND,
            MerchantGenericAccountUnknown
            | MerchantPrivateAccountDeleteUnknownAccount
            | MerchantPrivatePostOrdersInstanceConfigurationLacksWire => StatusCode::NOT_FOUND,
            MerchantPrivateAccountExists => StatusCode::CONFLICT,
            MerchantGenericOrderUnknown | MerchantPostOrdersIdClaimNotFound => {
                StatusCode::NOT_FOUND
            }
            MerchantGenericCurrencyMismatch
            | MerchantPostOrdersIdClaimAlreadyClaimed
            | MerchantPrivatePostOrdersAlreadyExists
            | MerchantPrivatePatchOrdersIdForgetPathNotForgettable
            | MerchantPrivateDeleteOrdersAwaitingPayment
            | MerchantPrivateDeleteProductsConflictingLock
            | MerchantPrivatePostWebhooksConflictWebhookExists
            | MerchantPrivatePostOrdersIdRefundOrderUnpaid => StatusCode::CONFLICT,
            MerchantPrivatePostOrdersIdRefundNotAllowedByContract => StatusCode::FORBIDDEN,
            MerchantPrivatePostProductsLockInsufficientStocks
            | MerchantPrivatePostRefundAfterWireDeadline => StatusCode::GONE,
            MerchantGetOrdersIdInvalidToken | MerchantGetOrdersIdInvalidContractHash => {
                StatusCode::FORBIDDEN
            }
            MerchantPrivatePostOrdersProposalParseError
            | MerchantPrivatePostOrdersRefundAfterWireDeadline
            | MerchantPrivatePostOrdersDeliveryDateInPast
            | MerchantPrivatePostOrdersWireDeadlineIsNever
            | MerchantPrivatePostOrdersPayDeadlineInPast
            | MerchantPrivatePostOrdersRefundDeadlineInPast
            | MerchantPrivatePatchOrdersIdForgetPathSyntaxIncorrect
            | MerchantPostUsingTemplatesAmountConflictTemplatesContractAmount
            | MerchantPostUsingTemplatesSummaryConflictTemplatesContractSubject
            | MerchantPostUsingTemplatesNoAmount
            | MerchantPostUsingTemplatesNoSummary
            | MerchantPostUsingTemplatesNoCurrency
            | MerchantPostUsingTemplatesWrongProduct
            | MerchantPostUsingTemplatesWrongType => StatusCode::BAD_REQUEST,
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
    /// The `ErrorDetail` as the JSON bytes of a response body.
    pub fn body(&self) -> Vec<u8> {
        serde_json::to_vec(&self.detail).expect("ErrorDetail always serializes")
    }

    /// An error with the status the registry gives the code.
    pub fn new(code: ErrorCode, hint: impl Into<String>) -> Self {
        Self::with_status(code.http_status(), code, hint)
    }

    /// An error whose status differs from the registry's (the spec page decides).
    pub fn with_status(status: StatusCode, code: ErrorCode, hint: impl Into<String>) -> Self {
        let mut hint = hint.into();
        if provisional(code).is_some() {
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

    /// A database read failed; the cause goes to the log, not to the client. 503 with
    /// `Retry-After` when the database cannot be reached (see [`Self::database_unreachable`]).
    pub fn db_fetch(err: impl std::fmt::Display + 'static) -> Self {
        if crate::store::unreachable(&err) {
            tracing::warn!(error = %err, "the database cannot be reached");
            return Self::database_unreachable();
        }
        tracing::error!(error = %err, "database fetch failed");
        Self::new(
            ErrorCode::GenericDbFetchFailed,
            "could not read from the database",
        )
    }

    /// A database write failed; the cause goes to the log, not to the client. 503 with
    /// `Retry-After` when the database cannot be reached: the write did not happen,
    /// or its transaction was rolled back with the connection.
    pub fn db_store(err: impl std::fmt::Display + 'static) -> Self {
        if crate::store::unreachable(&err) {
            tracing::warn!(error = %err, "the database cannot be reached");
            return Self::database_unreachable();
        }
        tracing::error!(error = %err, "database store failed");
        Self::new(
            ErrorCode::GenericDbStoreFailed,
            "could not write to the database",
        )
    }

    /// The database cannot be reached (down, restarting, or every connection busy
    /// for `[taler-openapi] DATABASE_WAIT_SECONDS`): 503, try again later. Declared
    /// with every operation that declares 500 (`error_responses!`).
    pub fn database_unreachable() -> Self {
        Self::with_status(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::GenericDbSetupFailed,
            "the database cannot be reached; try again shortly",
        )
        .retry_after(DATABASE_RETRY_AFTER_SECS)
    }

    /// Whether this is [`Self::database_unreachable`]: a long poll's look that got it
    /// waits on instead of answering (the database is back by the next wake).
    pub fn is_database_unreachable(&self) -> bool {
        self.status == StatusCode::SERVICE_UNAVAILABLE
            && self.detail.code == ErrorCode::GenericDbSetupFailed.number()
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
        let body = self.body();
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

/// What `Retry-After` asks while the database cannot be reached.
pub const DATABASE_RETRY_AFTER_SECS: u64 = 5;

/// Said of 503 by every operation that declares 500: the database cannot be reached.
pub const DATABASE_UNREACHABLE: &str = "The database cannot be reached: retry after `Retry-After` seconds (`TALER_EC_GENERIC_DB_SETUP_FAILED`).";

/// Declares the error responses one operation can produce, for its OpenAPI entry.
/// An operation that declares 500 (it uses the database) also answers 503 while the
/// database cannot be reached: that is added to its 503, or declared for it.
///
/// Every status listed appears in the published spec with an `ErrorDetail` body; a
/// handler that produces an undeclared status is a bug, caught in debug builds.
#[macro_export]
macro_rules! error_responses {
    ($(#[$meta:meta])* $vis:vis $name:ident { $($status:literal => $desc:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug)]
        $vis struct $name(pub $crate::taler::error::ApiError);

        impl $name {
            const DECLARED: &'static [u16] = &[$($status),+];

            fn declares(status: u16) -> bool {
                $name::DECLARED.contains(&status)
                    || (status == 503 && $name::DECLARED.contains(&500))
            }
        }

        impl From<$crate::taler::error::ApiError> for $name {
            fn from(err: $crate::taler::error::ApiError) -> Self {
                $name(err)
            }
        }

        impl From<$name> for ::poem::Error {
            fn from(err: $name) -> ::poem::Error {
                let status = err.0.status.as_u16();
                if !$name::declares(status) {
                    ::tracing::error!(status, operation = stringify!($name), "undeclared error status");
                    debug_assert!(false, "{} returned undeclared status {}", stringify!($name), status);
                }
                err.0.into()
            }
        }

        impl ::poem_openapi::ApiResponse for $name {
            fn meta() -> ::poem_openapi::registry::MetaResponses {
                use ::poem_openapi::types::Type;
                let response = |status: u16, description: &'static str| {
                    ::poem_openapi::registry::MetaResponse {
                        description,
                        status: Some(status),
                        status_range: None,
                        content: vec![::poem_openapi::registry::MetaMediaType {
                            content_type: "application/json",
                            schema: $crate::taler::error::ErrorDetail::schema_ref(),
                        }],
                        headers: vec![],
                    }
                };
                let mut responses = vec![$(response($status, $desc)),+];
                if $name::DECLARED.contains(&500) {
                    match responses.iter_mut().find(|r| r.status == Some(503)) {
                        Some(declared) => {
                            // Built once per operation, for the spec.
                            static BOTH: ::std::sync::OnceLock<&'static str> =
                                ::std::sync::OnceLock::new();
                            let first = declared.description;
                            declared.description = BOTH.get_or_init(|| {
                                Box::leak(
                                    format!(
                                        "{first} Or: {}",
                                        $crate::taler::error::DATABASE_UNREACHABLE
                                    )
                                    .into_boxed_str(),
                                )
                            });
                        }
                        None => responses.push(response(
                            503,
                            $crate::taler::error::DATABASE_UNREACHABLE,
                        )),
                    }
                    responses.sort_by_key(|r| r.status);
                }
                ::poem_openapi::registry::MetaResponses { responses }
            }

            fn register(registry: &mut ::poem_openapi::registry::Registry) {
                use ::poem_openapi::types::Type;
                $crate::taler::error::ErrorDetail::register(registry);
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
        assert_eq!(ErrorCode::BankConfirmAbortConflict.number(), 5117);
        assert_eq!(ErrorCode::BankUpdateAbortConflict.number(), 5153);
        assert_eq!(ErrorCode::BankUnknownCreditor.number(), 5124);
    }

    /// Numbers the registry assigns in the ranges our provisional numbers live in
    /// (merchant 2000-2999, Donau 8600-8699), from the newest copy found: taler-android
    /// `wallet/src/main/java/net/taler/wallet/backend/TalerErrorCode.kt`, GitHub
    /// MyOralVillage/OIM-Taler-Wallet @ff48c55 (2025-10-24; it contains everything the
    /// GANA `registry.rec` of Pandapip1/gana @233cb2d and libeufin's `TalerErrorCode.kt`
    /// of stanisci/libeufin @0595ddd assign in these ranges).
    const ASSIGNED: &[(u32, &str)] = &[
        (2000, "MERCHANT_GENERIC_INSTANCE_UNKNOWN"),
        (2001, "MERCHANT_GENERIC_HOLE_IN_WIRE_FEE_STRUCTURE"),
        (2002, "MERCHANT_GENERIC_EXCHANGE_WIRE_REQUEST_FAILED"),
        (2003, "MERCHANT_GENERIC_CATEGORY_UNKNOWN"),
        (2005, "MERCHANT_GENERIC_ORDER_UNKNOWN"),
        (2006, "MERCHANT_GENERIC_PRODUCT_UNKNOWN"),
        (2007, "MERCHANT_GENERIC_REWARD_ID_UNKNOWN"),
        (2008, "MERCHANT_GENERIC_DB_CONTRACT_CONTENT_INVALID"),
        (2009, "MERCHANT_GENERIC_CONTRACT_HASH_DOES_NOT_MATCH_ORDER"),
        (2010, "MERCHANT_GENERIC_EXCHANGE_KEYS_FAILURE"),
        (2011, "MERCHANT_GENERIC_EXCHANGE_TIMEOUT"),
        (2012, "MERCHANT_GENERIC_EXCHANGE_CONNECT_FAILURE"),
        (2013, "MERCHANT_GENERIC_EXCHANGE_REPLY_MALFORMED"),
        (2014, "MERCHANT_GENERIC_EXCHANGE_UNEXPECTED_STATUS"),
        (2015, "MERCHANT_GENERIC_UNAUTHORIZED"),
        (2016, "MERCHANT_GENERIC_INSTANCE_DELETED"),
        (2017, "MERCHANT_GENERIC_TRANSFER_UNKNOWN"),
        (2018, "MERCHANT_GENERIC_TEMPLATE_UNKNOWN"),
        (2019, "MERCHANT_GENERIC_WEBHOOK_UNKNOWN"),
        (2020, "MERCHANT_GENERIC_PENDING_WEBHOOK_UNKNOWN"),
        (2021, "MERCHANT_GENERIC_OTP_DEVICE_UNKNOWN"),
        (2022, "MERCHANT_GENERIC_ACCOUNT_UNKNOWN"),
        (2023, "MERCHANT_GENERIC_H_WIRE_MALFORMED"),
        (2024, "MERCHANT_GENERIC_CURRENCY_MISMATCH"),
        (2025, "MERCHANT_GENERIC_EXCHANGE_UNTRUSTED"),
        (2026, "MERCHANT_GENERIC_TOKEN_FAMILY_UNKNOWN"),
        (2027, "MERCHANT_GENERIC_TOKEN_KEY_UNKNOWN"),
        (2028, "MERCHANT_GENERIC_DONAU_NOT_CONFIGURED"),
        (2100, "MERCHANT_GET_ORDERS_EXCHANGE_TRACKING_FAILURE"),
        (2103, "MERCHANT_GET_ORDERS_ID_EXCHANGE_REQUEST_FAILURE"),
        (2104, "MERCHANT_GET_ORDERS_ID_EXCHANGE_LOOKUP_START_FAILURE"),
        (2105, "MERCHANT_GET_ORDERS_ID_INVALID_TOKEN"),
        (2106, "MERCHANT_GET_ORDERS_ID_INVALID_CONTRACT_HASH"),
        (2107, "MERCHANT_GET_ORDERS_ID_INVALID_CONTRACT_VERSION"),
        (2150, "MERCHANT_POST_ORDERS_ID_PAY_INSUFFICIENT_FUNDS"),
        (
            2151,
            "MERCHANT_POST_ORDERS_ID_PAY_DENOMINATION_KEY_NOT_FOUND",
        ),
        (
            2152,
            "MERCHANT_POST_ORDERS_ID_PAY_DENOMINATION_KEY_AUDITOR_FAILURE",
        ),
        (2153, "MERCHANT_POST_ORDERS_ID_PAY_AMOUNT_OVERFLOW"),
        (2154, "MERCHANT_POST_ORDERS_ID_PAY_FEES_EXCEED_PAYMENT"),
        (2155, "MERCHANT_POST_ORDERS_ID_PAY_INSUFFICIENT_DUE_TO_FEES"),
        (2156, "MERCHANT_POST_ORDERS_ID_PAY_PAYMENT_INSUFFICIENT"),
        (2157, "MERCHANT_POST_ORDERS_ID_PAY_COIN_SIGNATURE_INVALID"),
        (2158, "MERCHANT_POST_ORDERS_ID_PAY_EXCHANGE_LOOKUP_FAILED"),
        (
            2159,
            "MERCHANT_POST_ORDERS_ID_PAY_REFUND_DEADLINE_PAST_WIRE_TRANSFER_DEADLINE",
        ),
        (2160, "MERCHANT_POST_ORDERS_ID_PAY_ALREADY_PAID"),
        (2161, "MERCHANT_POST_ORDERS_ID_PAY_OFFER_EXPIRED"),
        (2162, "MERCHANT_POST_ORDERS_ID_PAY_MERCHANT_FIELD_MISSING"),
        (2163, "MERCHANT_POST_ORDERS_ID_PAY_WIRE_HASH_UNKNOWN"),
        (
            2165,
            "MERCHANT_POST_ORDERS_ID_PAY_DENOMINATION_DEPOSIT_EXPIRED",
        ),
        (
            2166,
            "MERCHANT_POST_ORDERS_ID_PAY_EXCHANGE_WIRE_FEE_ADDITION_FAILED",
        ),
        (2167, "MERCHANT_POST_ORDERS_ID_PAY_REFUNDED"),
        (2168, "MERCHANT_POST_ORDERS_ID_PAY_REFUNDS_EXCEED_PAYMENTS"),
        (
            2169,
            "DEAD_QQQ_PAY_MERCHANT_POST_ORDERS_ID_ABORT_REFUND_REFUSED_PAYMENT_COMPLETE",
        ),
        (2170, "MERCHANT_POST_ORDERS_ID_PAY_EXCHANGE_FAILED"),
        (2171, "MERCHANT_POST_ORDERS_ID_PAY_AGE_COMMITMENT_MISSING"),
        (
            2172,
            "MERCHANT_POST_ORDERS_ID_PAY_AGE_COMMITMENT_SIZE_MISMATCH",
        ),
        (2173, "MERCHANT_POST_ORDERS_ID_PAY_AGE_VERIFICATION_FAILED"),
        (
            2174,
            "MERCHANT_POST_ORDERS_ID_PAY_AGE_COMMITMENT_HASH_MISSING",
        ),
        (2175, "MERCHANT_POST_ORDERS_ID_PAY_WIRE_METHOD_UNSUPPORTED"),
        (2176, "MERCHANT_POST_ORDERS_ID_PAY_CHOICE_INDEX_MISSING"),
        (
            2177,
            "MERCHANT_POST_ORDERS_ID_PAY_CHOICE_INDEX_OUT_OF_BOUNDS",
        ),
        (2178, "MERCHANT_POST_ORDERS_ID_PAY_INPUT_TOKENS_MISMATCH"),
        (2179, "MERCHANT_POST_ORDERS_ID_PAY_TOKEN_ISSUE_SIG_INVALID"),
        (2180, "MERCHANT_POST_ORDERS_ID_PAY_TOKEN_USE_SIG_INVALID"),
        (2181, "MERCHANT_POST_ORDERS_ID_PAY_TOKEN_COUNT_MISMATCH"),
        (
            2182,
            "MERCHANT_POST_ORDERS_ID_PAY_TOKEN_ENVELOPE_COUNT_MISMATCH",
        ),
        (2183, "MERCHANT_POST_ORDERS_ID_PAY_TOKEN_INVALID"),
        (
            2184,
            "MERCHANT_POST_ORDERS_ID_PAY_EXCHANGE_TRANSACTION_LIMIT_VIOLATION",
        ),
        (2200, "MERCHANT_POST_ORDERS_ID_PAID_CONTRACT_HASH_MISMATCH"),
        (2201, "MERCHANT_POST_ORDERS_ID_PAID_COIN_SIGNATURE_INVALID"),
        (2225, "MERCHANT_POST_TOKEN_FAMILY_CONFLICT"),
        (2226, "MERCHANT_PATCH_TOKEN_FAMILY_NOT_FOUND"),
        (2251, "MERCHANT_POST_ORDERS_ID_ABORT_EXCHANGE_REFUND_FAILED"),
        (2252, "MERCHANT_POST_ORDERS_ID_ABORT_EXCHANGE_LOOKUP_FAILED"),
        (2253, "MERCHANT_POST_ORDERS_ID_ABORT_CONTRACT_NOT_FOUND"),
        (
            2254,
            "MERCHANT_POST_ORDERS_ID_ABORT_REFUND_REFUSED_PAYMENT_COMPLETE",
        ),
        (
            2255,
            "MERCHANT_POST_ORDERS_ID_ABORT_CONTRACT_HASH_MISSMATCH",
        ),
        (2256, "MERCHANT_POST_ORDERS_ID_ABORT_COINS_ARRAY_EMPTY"),
        (2258, "MERCHANT_EXCHANGE_TRANSFERS_AWAITING_KEYS"),
        (2259, "MERCHANT_EXCHANGE_TRANSFERS_AWAITING_LIST"),
        (2260, "MERCHANT_EXCHANGE_TRANSFERS_FATAL_NO_EXCHANGE"),
        (2261, "MERCHANT_EXCHANGE_TRANSFERS_FATAL_NOT_FOUND"),
        (2262, "MERCHANT_EXCHANGE_TRANSFERS_RATE_LIMITED"),
        (2263, "MERCHANT_EXCHANGE_TRANSFERS_TRANSIENT_FAILURE"),
        (2264, "MERCHANT_EXCHANGE_TRANSFERS_HARD_FAILURE"),
        (2300, "MERCHANT_POST_ORDERS_ID_CLAIM_NOT_FOUND"),
        (2301, "MERCHANT_POST_ORDERS_ID_CLAIM_ALREADY_CLAIMED"),
        (
            2302,
            "MERCHANT_POST_ORDERS_ID_CLAIM_CLIENT_INTERNAL_FAILURE",
        ),
        (2350, "MERCHANT_POST_ORDERS_ID_REFUND_SIGNATURE_FAILED"),
        (2400, "MERCHANT_REWARD_PICKUP_UNBLIND_FAILURE"),
        (2403, "MERCHANT_REWARD_PICKUP_EXCHANGE_ERROR"),
        (2404, "MERCHANT_REWARD_PICKUP_SUMMATION_FAILED"),
        (2405, "MERCHANT_REWARD_PICKUP_HAS_EXPIRED"),
        (
            2406,
            "MERCHANT_REWARD_PICKUP_AMOUNT_EXCEEDS_REWARD_REMAINING",
        ),
        (2407, "MERCHANT_REWARD_PICKUP_DENOMINATION_UNKNOWN"),
        (
            2500,
            "MERCHANT_PRIVATE_POST_ORDERS_INSTANCE_CONFIGURATION_LACKS_WIRE",
        ),
        (2501, "MERCHANT_PRIVATE_POST_ORDERS_NO_LOCALTIME"),
        (2502, "MERCHANT_PRIVATE_POST_ORDERS_PROPOSAL_PARSE_ERROR"),
        (2503, "MERCHANT_PRIVATE_POST_ORDERS_ALREADY_EXISTS"),
        (
            2504,
            "MERCHANT_PRIVATE_POST_ORDERS_REFUND_AFTER_WIRE_DEADLINE",
        ),
        (2505, "MERCHANT_PRIVATE_POST_ORDERS_DELIVERY_DATE_IN_PAST"),
        (2506, "MERCHANT_PRIVATE_POST_ORDERS_WIRE_DEADLINE_IS_NEVER"),
        (2507, "MERCHANT_PRIVATE_POST_ORDERS_PAY_DEADLINE_IN_PAST"),
        (2508, "MERCHANT_PRIVATE_POST_ORDERS_REFUND_DEADLINE_IN_PAST"),
        (
            2509,
            "MERCHANT_PRIVATE_POST_ORDERS_NO_EXCHANGES_FOR_WIRE_METHOD",
        ),
        (
            2510,
            "MERCHANT_PRIVATE_PATCH_ORDERS_ID_FORGET_PATH_SYNTAX_INCORRECT",
        ),
        (
            2511,
            "MERCHANT_PRIVATE_PATCH_ORDERS_ID_FORGET_PATH_NOT_FORGETTABLE",
        ),
        (
            2512,
            "MERCHANT_POST_ORDERS_ID_REFUND_EXCHANGE_TRANSACTION_LIMIT_VIOLATION",
        ),
        (
            2513,
            "MERCHANT_PRIVATE_POST_ORDERS_AMOUNT_EXCEEDS_LEGAL_LIMITS",
        ),
        (
            2514,
            "MERCHANT_PRIVATE_POST_ORDERS_NO_EXCHANGE_FOR_CURRENCY",
        ),
        (2520, "MERCHANT_PRIVATE_DELETE_ORDERS_AWAITING_PAYMENT"),
        (2521, "MERCHANT_PRIVATE_DELETE_ORDERS_ALREADY_PAID"),
        (
            2530,
            "MERCHANT_PRIVATE_POST_ORDERS_ID_REFUND_INCONSISTENT_AMOUNT",
        ),
        (2531, "MERCHANT_PRIVATE_POST_ORDERS_ID_REFUND_ORDER_UNPAID"),
        (
            2532,
            "MERCHANT_PRIVATE_POST_ORDERS_ID_REFUND_NOT_ALLOWED_BY_CONTRACT",
        ),
        (
            2533,
            "MERCHANT_PRIVATE_POST_ORDERS_TOKEN_FAMILY_SLUG_UNKNOWN",
        ),
        (2534, "MERCHANT_PRIVATE_POST_ORDERS_TOKEN_FAMILY_NOT_VALID"),
        (2550, "MERCHANT_PRIVATE_POST_TRANSFERS_EXCHANGE_UNKNOWN"),
        (2551, "MERCHANT_PRIVATE_POST_TRANSFERS_REQUEST_ERROR"),
        (
            2552,
            "MERCHANT_PRIVATE_POST_TRANSFERS_CONFLICTING_TRANSFERS",
        ),
        (2553, "MERCHANT_PRIVATE_POST_TRANSFERS_CONFLICTING_REPORTS"),
        (2554, "MERCHANT_PRIVATE_POST_TRANSFERS_BAD_WIRE_FEE"),
        (2555, "MERCHANT_PRIVATE_POST_TRANSFERS_ACCOUNT_NOT_FOUND"),
        (2556, "MERCHANT_PRIVATE_DELETE_TRANSFERS_ALREADY_CONFIRMED"),
        (
            2557,
            "MERCHANT_PRIVATE_POST_TRANSFERS_CONFLICTING_SUBMISSION",
        ),
        (2563, "MERCHANT_EXCHANGE_TRANSFERS_CONFLICTING_TRANSFERS"),
        (2600, "MERCHANT_PRIVATE_POST_INSTANCES_ALREADY_EXISTS"),
        (2601, "MERCHANT_PRIVATE_POST_INSTANCES_BAD_AUTH"),
        (2602, "MERCHANT_PRIVATE_POST_INSTANCE_AUTH_BAD_AUTH"),
        (2603, "MERCHANT_PRIVATE_POST_INSTANCES_PURGE_REQUIRED"),
        (2625, "MERCHANT_PRIVATE_PATCH_INSTANCES_PURGE_REQUIRED"),
        (2626, "MERCHANT_PRIVATE_ACCOUNT_DELETE_UNKNOWN_ACCOUNT"),
        (2627, "MERCHANT_PRIVATE_ACCOUNT_EXISTS"),
        (
            2650,
            "MERCHANT_PRIVATE_POST_PRODUCTS_CONFLICT_PRODUCT_EXISTS",
        ),
        (
            2651,
            "MERCHANT_PRIVATE_POST_CATEGORIES_CONFLICT_CATEGORY_EXISTS",
        ),
        (2660, "MERCHANT_PRIVATE_PATCH_PRODUCTS_TOTAL_LOST_REDUCED"),
        (
            2661,
            "MERCHANT_PRIVATE_PATCH_PRODUCTS_TOTAL_LOST_EXCEEDS_STOCKS",
        ),
        (
            2662,
            "MERCHANT_PRIVATE_PATCH_PRODUCTS_TOTAL_STOCKED_REDUCED",
        ),
        (2663, "MERCHANT_PRIVATE_PATCH_PRODUCTS_TOTAL_SOLD_REDUCED"),
        (
            2670,
            "MERCHANT_PRIVATE_POST_PRODUCTS_LOCK_INSUFFICIENT_STOCKS",
        ),
        (2680, "MERCHANT_PRIVATE_DELETE_PRODUCTS_CONFLICTING_LOCK"),
        (
            2700,
            "MERCHANT_PRIVATE_POST_RESERVES_UNSUPPORTED_WIRE_METHOD",
        ),
        (2701, "MERCHANT_PRIVATE_POST_RESERVES_REWARDS_NOT_ALLOWED"),
        (2710, "MERCHANT_PRIVATE_DELETE_RESERVES_NO_SUCH_RESERVE"),
        (
            2750,
            "MERCHANT_PRIVATE_POST_REWARD_AUTHORIZE_RESERVE_EXPIRED",
        ),
        (
            2751,
            "MERCHANT_PRIVATE_POST_REWARD_AUTHORIZE_RESERVE_UNKNOWN",
        ),
        (
            2752,
            "MERCHANT_PRIVATE_POST_REWARD_AUTHORIZE_INSUFFICIENT_FUNDS",
        ),
        (
            2753,
            "MERCHANT_PRIVATE_POST_REWARD_AUTHORIZE_RESERVE_NOT_FOUND",
        ),
        (
            2800,
            "MERCHANT_PRIVATE_GET_ORDERS_ID_AMOUNT_ARITHMETIC_FAILURE",
        ),
        (
            2850,
            "MERCHANT_PRIVATE_POST_TEMPLATES_CONFLICT_TEMPLATE_EXISTS",
        ),
        (
            2851,
            "MERCHANT_PRIVATE_POST_OTP_DEVICES_CONFLICT_OTP_DEVICE_EXISTS",
        ),
        (
            2860,
            "MERCHANT_POST_USING_TEMPLATES_AMOUNT_CONFLICT_TEMPLATES_CONTRACT_AMOUNT",
        ),
        (
            2861,
            "MERCHANT_POST_USING_TEMPLATES_SUMMARY_CONFLICT_TEMPLATES_CONTRACT_SUBJECT",
        ),
        (2862, "MERCHANT_POST_USING_TEMPLATES_NO_AMOUNT"),
        (2863, "MERCHANT_POST_USING_TEMPLATES_NO_SUMMARY"),
        (
            2900,
            "MERCHANT_PRIVATE_POST_WEBHOOKS_CONFLICT_WEBHOOK_EXISTS",
        ),
        (
            2910,
            "MERCHANT_PRIVATE_POST_PENDING_WEBHOOKS_CONFLICT_PENDING_WEBHOOK_EXISTS",
        ),
        (8607, "DONAU_GENERIC_KEYS_MISSING"),
        (8608, "DONAU_CHARITY_SIGNATURE_INVALID"),
        (8609, "DONAU_CHARITY_NOT_FOUND"),
        (8610, "DONAU_EXCEEDING_DONATION_LIMIT"),
        (8611, "DONAU_GENERIC_DONATION_UNIT_UNKNOWN"),
        (8612, "DONAU_DONATION_UNIT_HELPER_UNAVAILABLE"),
        (8613, "DONAU_SIGNKEY_HELPER_UNAVAILABLE"),
        (8614, "DONAU_SIGNKEY_HELPER_BUG"),
        (8615, "DONAU_GENERIC_WRONG_NUMBER_OF_SEGMENTS"),
        (8616, "DONAU_DONATION_RECEIPT_SIGNATURE_INVALID"),
        (8617, "DONAU_DONOR_IDENTIFIER_NONCE_REUSE"),
    ];

    #[test]
    fn provisional_numbers_collide_with_no_assigned_one() {
        for p in PROVISIONAL {
            assert_eq!(p.code.number(), p.number);
            assert_eq!(p.code.name(), p.name);
            if let Some((_, other)) = ASSIGNED.iter().find(|(n, _)| *n == p.number) {
                panic!(
                    "{} uses {}, which the registry gives {other}",
                    p.name, p.number
                );
            }
            assert!(
                !ASSIGNED.iter().any(|(_, name)| *name == p.name),
                "{} is assigned now: use the registry's number",
                p.name
            );
            let others = PROVISIONAL.iter().filter(|q| q.number == p.number).count();
            assert_eq!(others, 1, "{} shares its number", p.name);
        }
    }

    #[test]
    fn assigned_numbers_we_use_match_the_registry() {
        use ErrorCode::*;
        for (code, name) in [
            (
                MerchantGenericInstanceUnknown,
                "MERCHANT_GENERIC_INSTANCE_UNKNOWN",
            ),
            (
                MerchantGenericCategoryUnknown,
                "MERCHANT_GENERIC_CATEGORY_UNKNOWN",
            ),
            (
                MerchantGenericProductUnknown,
                "MERCHANT_GENERIC_PRODUCT_UNKNOWN",
            ),
            (
                MerchantGenericTemplateUnknown,
                "MERCHANT_GENERIC_TEMPLATE_UNKNOWN",
            ),
            (
                MerchantGenericOtpDeviceUnknown,
                "MERCHANT_GENERIC_OTP_DEVICE_UNKNOWN",
            ),
            (
                MerchantPrivatePostInstancesAlreadyExists,
                "MERCHANT_PRIVATE_POST_INSTANCES_ALREADY_EXISTS",
            ),
            (
                MerchantPrivatePostInstancesPurgeRequired,
                "MERCHANT_PRIVATE_POST_INSTANCES_PURGE_REQUIRED",
            ),
            (
                MerchantPrivatePostProductsConflictProductExists,
                "MERCHANT_PRIVATE_POST_PRODUCTS_CONFLICT_PRODUCT_EXISTS",
            ),
            (
                MerchantPrivatePostCategoriesConflictCategoryExists,
                "MERCHANT_PRIVATE_POST_CATEGORIES_CONFLICT_CATEGORY_EXISTS",
            ),
            (
                MerchantPrivatePatchProductsTotalLostReduced,
                "MERCHANT_PRIVATE_PATCH_PRODUCTS_TOTAL_LOST_REDUCED",
            ),
            (
                MerchantPrivatePatchProductsTotalLostExceedsStocks,
                "MERCHANT_PRIVATE_PATCH_PRODUCTS_TOTAL_LOST_EXCEEDS_STOCKS",
            ),
            (
                MerchantPrivatePatchProductsTotalStockedReduced,
                "MERCHANT_PRIVATE_PATCH_PRODUCTS_TOTAL_STOCKED_REDUCED",
            ),
            (
                MerchantPrivatePostTemplatesConflictTemplateExists,
                "MERCHANT_PRIVATE_POST_TEMPLATES_CONFLICT_TEMPLATE_EXISTS",
            ),
            (
                MerchantPrivatePostOtpDevicesConflictOtpDeviceExists,
                "MERCHANT_PRIVATE_POST_OTP_DEVICES_CONFLICT_OTP_DEVICE_EXISTS",
            ),
            (DonauCharityNotFound, "DONAU_CHARITY_NOT_FOUND"),
            (DonauGenericKeysMissing, "DONAU_GENERIC_KEYS_MISSING"),
            (
                DonauCharitySignatureInvalid,
                "DONAU_CHARITY_SIGNATURE_INVALID",
            ),
            (
                DonauExceedingDonationLimit,
                "DONAU_EXCEEDING_DONATION_LIMIT",
            ),
            (
                DonauGenericDonationUnitUnknown,
                "DONAU_GENERIC_DONATION_UNIT_UNKNOWN",
            ),
            (
                DonauDonationReceiptSignatureInvalid,
                "DONAU_DONATION_RECEIPT_SIGNATURE_INVALID",
            ),
            (
                DonauDonorIdentifierNonceReuse,
                "DONAU_DONOR_IDENTIFIER_NONCE_REUSE",
            ),
        ] {
            let found = ASSIGNED.iter().find(|(_, n)| *n == name).map(|(n, _)| *n);
            assert_eq!(Some(code.number()), found, "{name}");
        }
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
