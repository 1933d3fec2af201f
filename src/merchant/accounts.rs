//! Bank accounts of an instance: `[/instances/$INSTANCE]/private/accounts[/$H_WIRE]`.
//! Orders name one in their contract terms (`h_wire`, `wire_method`), so that a wallet
//! knows where the money goes.

use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};

use crate::taler::text::{AnyPaytoUri, Text};
use crate::{
    error_responses,
    http::{JsonBody, NoContent},
    merchant::{
        instances::auth::{self, MerchantToken, Permission},
        tags::ApiTags,
    },
    state::State,
    store::accounts::{self, Account, AccountSettings, AddOutcome},
    taler::{ApiError, ErrorCode, contract, keys, secret},
};

const ACCOUNTS_READ: Permission = "accounts-read";
const ACCOUNTS_WRITE: Permission = "accounts-write";

/// `FacadeCredentials`: how the backend authenticates at the credit facade.
#[derive(Object, Debug, Clone, serde::Serialize)]
#[oai(skip_serializing_if_is_none)]
pub struct FacadeCredentials {
    /// "none" or "basic".
    #[oai(validator(pattern = "^(none|basic)$"))]
    pub r#type: String,
    /// Basic: the user name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Basic: the password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// `AccountAddDetails`.
#[derive(Object, Debug)]
#[oai(skip_serializing_if_is_none)]
pub struct AccountAddDetails {
    /// Full payto:// URI of the account.
    pub payto_uri: Text<AnyPaytoUri>,
    /// URL from where the merchant can download information about incoming wire
    /// transfers to this account (kept; this backend does not fetch from it yet).
    pub credit_facade_url: Option<String>,
    /// Credentials for the credit facade: kept as given, never returned.
    pub credit_facade_credentials: Option<FacadeCredentials>,
    /// Text to include in the subject of wire transfers settling payments.
    pub extra_wire_subject_metadata: Option<String>,
    /// Deprecated: the older page's name of `extra_wire_subject_metadata`.
    #[oai(deprecated)]
    pub extra_subject: Option<String>,
}

/// `AccountAddResponse`.
#[derive(Object)]
pub struct AccountAddResponse {
    /// Hash over the wire details (including over the salt).
    pub h_wire: String,
    /// Salt used to compute `h_wire`.
    pub salt: String,
}

/// `BankAccountEntry`.
#[derive(Object)]
pub struct BankAccountEntry {
    /// Full payto:// URI of the account.
    pub payto_uri: String,
    /// Hash over the wire details (including over the salt).
    pub h_wire: String,
    /// True if this account is active, false if it is historic.
    pub active: bool,
}

/// `AccountsSummaryResponse`.
#[derive(Object)]
pub struct AccountsSummaryResponse {
    /// The instance's accounts, active and historic.
    pub accounts: Vec<BankAccountEntry>,
}

/// `BankAccountDetail`.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct BankAccountDetail {
    /// Full payto:// URI of the account.
    pub payto_uri: String,
    /// Hash over the wire details (including over the salt).
    pub h_wire: String,
    /// Salt used to compute `h_wire`.
    pub salt: String,
    /// URL of the credit facade.
    pub credit_facade_url: Option<String>,
    /// True if this account is active, false if it is historic.
    pub active: bool,
    /// Text to include in the subject of wire transfers settling payments.
    pub extra_wire_subject_metadata: Option<String>,
    /// Deprecated: the same as `extra_wire_subject_metadata`, for older clients.
    #[oai(deprecated)]
    pub extra_subject: Option<String>,
}

#[derive(ApiResponse)]
pub enum AccountAdded {
    /// The account was added (or reactivated): its salt and `h_wire`.
    #[oai(status = 200)]
    Ok(Json<AccountAddResponse>),
}

#[derive(ApiResponse)]
pub enum AccountsListed {
    /// The instance's accounts.
    #[oai(status = 200)]
    Ok(Json<AccountsSummaryResponse>),
}

#[derive(ApiResponse)]
pub enum AccountFound {
    /// The account.
    #[oai(status = 200)]
    Ok(Json<BankAccountDetail>),
}

error_responses!(PostAccountErrors {
    400 => "The payto URI names no account (`TALER_EC_GENERIC_PAYTO_URI_MALFORMED`), or the request body is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`, `TALER_EC_GENERIC_PARAMETER_MISSING`).",
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `accounts-write` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The instance is unknown (`TALER_EC_MERCHANT_GENERIC_INSTANCE_UNKNOWN`).",
    409 => "The account exists with other settings (`TALER_EC_MERCHANT_PRIVATE_ACCOUNT_EXISTS`).",
    413 => "The uploaded body is too long (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
});

error_responses!(ListAccountsErrors {
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `accounts-read` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The instance is unknown (`TALER_EC_MERCHANT_GENERIC_INSTANCE_UNKNOWN`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

error_responses!(GetAccountErrors {
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `accounts-read` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The instance or account is unknown (`TALER_EC_MERCHANT_GENERIC_ACCOUNT_UNKNOWN`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

error_responses!(DeleteAccountErrors {
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `accounts-write` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The instance or active account is unknown (`TALER_EC_MERCHANT_PRIVATE_ACCOUNT_DELETE_UNKNOWN_ACCOUNT`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
});

/// The wire method of a payto URI: its target type (`iban`, `x-taler-bank`, ...).
pub fn wire_method(payto_uri: &str) -> Option<String> {
    crate::taler::payto::wire_method(payto_uri).ok()
}

fn account_unknown(h_wire: &str) -> ApiError {
    ApiError::new(
        ErrorCode::MerchantGenericAccountUnknown,
        format!("account `{h_wire}` is unknown"),
    )
}

pub struct AccountsApi(pub State);

#[OpenApi(tag = "ApiTags::Accounts")]
impl AccountsApi {
    /// Add a bank account
    ///
    /// The backend picks a salt and returns `h_wire`, the hash contracts name the
    /// account by. Adding the same account again is not an error; other settings for
    /// an active account are 409; an inactive (deleted) account is reactivated with the
    /// new settings and its old `h_wire`. Requires `accounts-write`.
    #[oai(
        path = "/instances/:instance/private/accounts",
        method = "post",
        operation_id = "merchant_post_private_accounts"
    )]
    async fn post_account(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        body: JsonBody<AccountAddDetails>,
    ) -> Result<AccountAdded, PostAccountErrors> {
        let access = auth::authorize(&self.0, &instance, &token, ACCOUNTS_WRITE).await?;
        let body = body.0;
        if let Err(why) = crate::taler::payto::wire_method(&body.payto_uri) {
            return Err(ApiError::new(
                ErrorCode::GenericPaytoUriMalformed,
                format!("payto_uri: {why}"),
            )
            .parameter("payto_uri")
            .into());
        }
        let credentials = match &body.credit_facade_credentials {
            Some(c) if c.r#type == "basic" && (c.username.is_none() || c.password.is_none()) => {
                return Err(ApiError::new(
                    ErrorCode::GenericParameterMissing,
                    "credit_facade_credentials: \"basic\" needs username and password",
                )
                .parameter("credit_facade_credentials")
                .into());
            }
            // "none" is the same as no credentials.
            Some(c) if c.r#type == "basic" => Some(serde_json::to_string(c).expect("serializes")),
            _ => None,
        };
        if let Some(url) = &body.credit_facade_url
            && url::Url::parse(url)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"))
                .is_none()
        {
            return Err(ApiError::malformed(
                "credit_facade_url",
                "credit_facade_url: must be an http(s) URL",
            )
            .into());
        }
        let salt = secret::random_bytes::<16>();
        let h_wire = contract::merchant_wire_hash(&body.payto_uri, &salt);
        match accounts::add(
            &self.0.db,
            access.instance.instance_serial,
            &body.payto_uri,
            keys::encode(&salt),
            keys::encode(&h_wire),
            AccountSettings {
                credit_facade_url: body.credit_facade_url,
                credit_facade_credentials: credentials,
                extra_subject: body.extra_wire_subject_metadata.or(body.extra_subject),
            },
        )
        .await
        .map_err(ApiError::db_store)?
        {
            AddOutcome::Added(account) => Ok(AccountAdded::Ok(Json(AccountAddResponse {
                h_wire: account.h_wire,
                salt: account.salt,
            }))),
            AddOutcome::Conflict => Err(ApiError::new(
                ErrorCode::MerchantPrivateAccountExists,
                "this account exists with other settings",
            )
            .into()),
        }
    }

    /// List bank accounts
    ///
    /// Active and historic (deleted) accounts. Requires `accounts-read`.
    #[oai(
        path = "/instances/:instance/private/accounts",
        method = "get",
        operation_id = "merchant_get_private_accounts"
    )]
    async fn list_accounts(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
    ) -> Result<AccountsListed, ListAccountsErrors> {
        let access = auth::authorize(&self.0, &instance, &token, ACCOUNTS_READ).await?;
        let accounts = accounts::list(&self.0.db, access.instance.instance_serial)
            .await
            .map_err(ApiError::db_fetch)?
            .into_iter()
            .map(|a| BankAccountEntry {
                payto_uri: a.payto_uri,
                h_wire: a.h_wire,
                active: a.active,
            })
            .collect();
        Ok(AccountsListed::Ok(Json(AccountsSummaryResponse {
            accounts,
        })))
    }

    /// Get a bank account
    ///
    /// Requires `accounts-read`.
    #[oai(
        path = "/instances/:instance/private/accounts/:h_wire",
        method = "get",
        operation_id = "merchant_get_private_account"
    )]
    async fn get_account(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        /// The account's `h_wire`.
        h_wire: Path<String>,
    ) -> Result<AccountFound, GetAccountErrors> {
        let access = auth::authorize_object(&self.0, &instance, &token, ACCOUNTS_READ, || {
            account_unknown(&h_wire)
        })
        .await?;
        let a: Account = accounts::find(&self.0.db, access.instance.instance_serial, &h_wire)
            .await
            .map_err(ApiError::db_fetch)?
            .ok_or_else(|| account_unknown(&h_wire))?;
        Ok(AccountFound::Ok(Json(BankAccountDetail {
            payto_uri: a.payto_uri,
            h_wire: a.h_wire,
            salt: a.salt,
            credit_facade_url: a.credit_facade_url,
            active: a.active,
            extra_wire_subject_metadata: a.extra_subject.clone(),
            extra_subject: a.extra_subject,
        })))
    }

    /// Delete a bank account
    ///
    /// Deactivates it: new orders no longer use it; contracts that name it stay valid.
    /// Requires `accounts-write`.
    #[oai(
        path = "/instances/:instance/private/accounts/:h_wire",
        method = "delete",
        operation_id = "merchant_delete_private_account"
    )]
    async fn delete_account(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        /// The account's `h_wire`.
        h_wire: Path<String>,
    ) -> Result<NoContent, DeleteAccountErrors> {
        let unknown = || {
            ApiError::new(
                ErrorCode::MerchantPrivateAccountDeleteUnknownAccount,
                format!("no active account `{}`", h_wire.0),
            )
        };
        let access =
            auth::authorize_object(&self.0, &instance, &token, ACCOUNTS_WRITE, unknown).await?;
        if accounts::deactivate(&self.0.db, access.instance.instance_serial, &h_wire)
            .await
            .map_err(ApiError::db_store)?
        {
            Ok(NoContent::Done)
        } else {
            Err(unknown().into())
        }
    }
}
