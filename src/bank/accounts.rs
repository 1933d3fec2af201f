//! Core bank accounts: registration, reading, changing and deleting them, their
//! passwords and tokens, and the account lists (`/accounts[/$USERNAME[/auth|/token]]`,
//! `/public-accounts`, `/config`). Transfers are `history`'s.

use poem_openapi::{
    ApiResponse, Enum, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};

use crate::taler::text::{NotBlank, PaytoUri, Text, Username};
use crate::{
    NoContent, State,
    bank::{
        ADMIN_ACCOUNT, ApiTags,
        account_admin::{
            AccountMinimalData, AccountPasswordChange, AccountReconfiguration, AccountsListed,
            ChallengeContactData, DeleteAccountErrors, DeleteTokenErrors, ListAccountsErrors,
            ListBankAccountsResponse, PatchAccountErrors, PublicAccount, PublicAccountsErrors,
            PublicAccountsListed, PublicAccountsResponse, balance, conflict,
        },
        accounts_payto,
        auth::{self, BankCredentials, BankPassword, BankToken, Need},
    },
    error_responses,
    http::JsonBody,
    store::bank::{self as store, AccountChanges, CreateOutcome, DeleteOutcome, NewAccount},
    taler::{
        Amount, ApiError, ErrorCode, RelativeTime, Timestamp,
        amount::require_currency,
        pagination::{Page, PageLimit},
        secret,
    },
};

/// The host of the bank's own payto URIs (`payto://x-taler-bank/<host>/<username>`).
const PAYTO_HOST: &str = "localhost";
/// Usernames the bank keeps for itself.
const RESERVED_USERNAMES: &[&str] = &["admin", "bank"];

/// `RegisterAccountRequest` (the fields this bank uses; others are ignored).
#[derive(Object)]
pub struct RegisterAccountRequest {
    /// Username of the account; must match `[a-zA-Z0-9-._~]{1,126}`.
    pub username: Text<Username>,
    /// Password of the account used for authentication (at least 8 characters).
    #[oai(validator(min_length = 8))]
    pub password: String,
    /// Legal name of the account owner.
    pub name: Text<NotBlank>,
    /// Make this account visible to anyone? Defaults to false.
    pub is_public: Option<bool>,
    /// Make this account a Taler exchange account? Defaults to false.
    pub is_taler_exchange: Option<bool>,
    /// How far below zero the account may go (the bank's default if absent).
    pub debit_threshold: Option<Amount>,
    /// How to reach the account owner.
    pub contact_data: Option<ChallengeContactData>,
    /// Payto URI of this bank account; by default `payto://x-taler-bank/localhost/$USERNAME`.
    pub payto_uri: Option<Text<PaytoUri>>,
}

/// `RegisterAccountResponse`.
#[derive(Object)]
pub struct RegisterAccountResponse {
    /// Full payto URI of the new account.
    pub internal_payto_uri: String,
}

/// Token scopes of the core bank API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum BankTokenScope {
    Readonly,
    Readwrite,
    Revenue,
    Wiregateway,
    Observability,
}

/// `TokenRequest`.
#[derive(Object)]
pub struct TokenRequest {
    /// Scope for the token.
    pub scope: BankTokenScope,
    /// Custom token validity duration (at most one year; default one day).
    pub duration: Option<RelativeTime>,
    /// Is the token refreshable into a new token during its validity?
    pub refreshable: Option<bool>,
    /// Optional token description.
    pub description: Option<String>,
}

/// `TokenInfo`.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct TokenInfo {
    /// Time when the token was created.
    pub creation_time: Timestamp,
    /// Expiration determined by the server.
    pub expiration: Timestamp,
    /// Scope of the token.
    pub scope: String,
    /// Is the token refreshable into a new token during its validity?
    pub refreshable: bool,
    /// Token description.
    pub description: Option<String>,
    /// When the token was last used (this bank does not record uses: its creation).
    pub last_access: Timestamp,
    /// ID identifying the token.
    pub token_id: u64,
    /// Deprecated: use `token_id`.
    #[oai(deprecated)]
    pub row_id: u64,
}

/// `TokenInfos`.
#[derive(Object)]
pub struct TokenInfos {
    /// The account's tokens, in the direction of `limit`.
    pub tokens: Vec<TokenInfo>,
}

#[derive(ApiResponse)]
pub enum TokensListed {
    /// The tokens.
    #[oai(status = 200)]
    Ok(Json<TokenInfos>),
    /// No tokens (in this page).
    #[oai(status = 204)]
    Empty,
}

error_responses!(ListTokensErrors {
    400 => "A query parameter is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    401 => "Invalid or missing credentials (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token's scope does not allow reading the account (`TALER_EC_GENERIC_FORBIDDEN`).",
    404 => "The account was not found (`TALER_EC_BANK_UNKNOWN_ACCOUNT`).",
    429 => "Too many failed logins: wait `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
    500 => "Database failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
    503 => "Every password worker is busy: retry after `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
});

/// `TokenSuccessResponse`.
#[derive(Object)]
pub struct TokenSuccessResponse {
    /// Expiration determined by the server.
    pub expiration: Timestamp,
    /// Opaque access token (`secret-token:...`).
    pub access_token: String,
}

/// `CreateTransactionRequest`.
#[derive(Object)]
pub struct CreateTransactionRequest {
    /// Payto URI of the receiver, with at least the `message` query parameter.
    pub payto_uri: Text<PaytoUri>,
    /// Transaction amount; the payto URI's `amount` parameter takes precedence.
    pub amount: Option<Amount>,
    /// Nonce making the request idempotent (a `ShortHashCode`).
    pub request_uid: Option<String>,
}

/// `CreateTransactionResponse`.
#[derive(Object)]
pub struct CreateTransactionResponse {
    /// ID identifying the transaction being created.
    pub row_id: u64,
}

/// `Balance`: an amount and whether it is owed to the account or by it.
#[derive(Object)]
pub struct Balance {
    /// The balance's magnitude.
    pub amount: Amount,
    /// "credit" (zero or above) or "debit" (below zero).
    pub credit_debit_indicator: String,
}

/// `AccountData`.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct AccountData {
    /// Legal name of the account owner.
    pub name: String,
    /// Available balance on the account.
    pub balance: Balance,
    /// Payto URI of the account.
    pub payto_uri: String,
    /// How far below zero the balance may go.
    pub debit_threshold: Amount,
    /// Is this account visible to anyone?
    pub is_public: bool,
    /// Is this a Taler exchange account?
    pub is_taler_exchange: bool,
    /// "active" (deleted accounts are not served).
    pub status: String,
    /// How to reach the account owner.
    pub contact_data: Option<ChallengeContactData>,
}

/// `Config` of the core bank API (the fields this bank serves).
#[derive(Object)]
pub struct BankConfig {
    /// Name of the API.
    pub name: String,
    /// libtool-style version of the API this bank implements.
    pub version: String,
    /// Currency of the bank.
    pub currency: String,
    /// How wallets and frontends should render the currency.
    pub currency_specification: crate::taler::currency::CurrencySpecification,
    /// Whether cashin and cashout are served (never here).
    pub allow_conversion: bool,
    /// Whether anyone may register (here only the administrator creates accounts).
    pub allow_registrations: bool,
    /// Whether accounts may delete themselves.
    pub allow_deletions: bool,
    /// Whether account owners may change their legal name.
    pub allow_edit_name: bool,
    /// Whether account owners may change their cashout account.
    pub allow_edit_cashout_payto_uri: bool,
    /// Debit threshold of new accounts.
    pub default_debit_threshold: Amount,
    /// Wire transfer type of the bank's payto URIs.
    pub wire_type: String,
}

#[derive(ApiResponse)]
pub enum AccountFound {
    /// The account's data.
    #[oai(status = 200)]
    Ok(Json<AccountData>),
}

error_responses!(GetAccountErrors {
    401 => "Invalid or missing credentials (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token's scope does not allow reading the account (`TALER_EC_GENERIC_FORBIDDEN`).",
    404 => "The account `$USERNAME` was not found (`TALER_EC_BANK_UNKNOWN_ACCOUNT`).",
    429 => "Too many failed logins on this account or from this address: wait `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
    500 => "Database failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
    503 => "Every password worker is busy: retry after `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
});

#[derive(ApiResponse)]
pub enum AccountRegistered {
    /// The account was created.
    #[oai(status = 200)]
    Ok(Json<RegisterAccountResponse>),
}

#[derive(ApiResponse)]
pub enum TokenCreated {
    /// The token.
    #[oai(status = 200)]
    Ok(Json<TokenSuccessResponse>),
}

#[derive(ApiResponse)]
pub enum TransactionCreated {
    /// The transfer was recorded (or had been, for a repeated `request_uid`).
    #[oai(status = 200)]
    Ok(Json<CreateTransactionResponse>),
}

error_responses!(PostAccountsErrors {
    400 => "The request is malformed: bad username, short password, bad payto URI (`TALER_EC_GENERIC_JSON_INVALID`, `TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    401 => "The administrator token is missing or wrong (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_UNKNOWN`).",
    409 => "The username or payto URI is taken or reserved (`TALER_EC_BANK_REGISTER_USERNAME_REUSE`, `TALER_EC_BANK_REGISTER_PAYTO_URI_REUSE`, `TALER_EC_BANK_RESERVED_USERNAME_CONFLICT`).",
    413 => "The body exceeds the size limit (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    500 => "Database failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
    503 => "Every password worker is busy: retry after `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
});

error_responses!(PostTokenErrors {
    400 => "The request is malformed (`TALER_EC_GENERIC_JSON_INVALID`).",
    401 => "Invalid or missing credentials (`TALER_EC_GENERIC_UNAUTHORIZED`).",
    404 => "The account is unknown (`TALER_EC_BANK_UNKNOWN_ACCOUNT`).",
    413 => "The body exceeds the size limit (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    429 => "Too many failed logins on this account or from this address: wait `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
    500 => "Database failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
    503 => "Every password worker is busy: retry after `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
});

error_responses!(pub PostTransactionErrors {
    400 => "The request or its payto URI is invalid, the amount is missing or in another currency (`TALER_EC_GENERIC_JSON_INVALID`, `TALER_EC_GENERIC_PARAMETER_MALFORMED`, `TALER_EC_GENERIC_PARAMETER_MISSING`, `TALER_EC_GENERIC_CURRENCY_MISMATCH`).",
    401 => "Invalid or missing credentials (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token's scope does not allow transfers (`TALER_EC_GENERIC_FORBIDDEN`).",
    404 => "The account `$USERNAME` was not found (`TALER_EC_BANK_UNKNOWN_ACCOUNT`).",
    409 => "Same account, unknown creditor, amount below the credit fee, a balance that would go below the debit threshold, or a reused request uid (`TALER_EC_BANK_SAME_ACCOUNT`, `TALER_EC_BANK_UNKNOWN_CREDITOR`, `TALER_EC_BANK_UNALLOWED_DEBIT`, `TALER_EC_BANK_TRANSFER_REQUEST_UID_REUSED`).",
    413 => "The body exceeds the size limit (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    429 => "Too many failed logins on this account or from this address: wait `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
    500 => "Database failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
    503 => "Every password worker is busy: retry after `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
});

/// A payto URI split into the account key (no query) and its query parameters.
pub struct Payto {
    pub key: String,
    params: Vec<(String, String)>,
}

impl Payto {
    pub fn parse(text: &str) -> Result<Payto, ApiError> {
        let bad = || ApiError::malformed("payto_uri", "payto_uri is not a payto:// URI");
        let url = url::Url::parse(text).map_err(|_| bad())?;
        if url.scheme() != "payto" || !url.has_host() || url.path().len() < 2 {
            return Err(bad());
        }
        let params: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        // The JSON body holds no NUL, but `%00` decodes to one; PostgreSQL stores no
        // text with NUL, and a subject is stored.
        if params
            .iter()
            .any(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            return Err(ApiError::malformed(
                "payto_uri",
                "the payto URI's parameters must not contain NUL (%00)",
            ));
        }
        Ok(Payto {
            key: format!(
                "payto://{}{}",
                url.host_str().unwrap_or_default().to_ascii_lowercase(),
                url.path()
            ),
            params,
        })
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

pub struct AccountsApi(pub State);

#[OpenApi(tag = "ApiTags::Accounts")]
impl AccountsApi {
    /// Create a bank account
    ///
    /// Administrator only (the bank's administrator token).
    #[oai(
        path = "/accounts",
        method = "post",
        operation_id = "bank_post_accounts"
    )]
    async fn post_account(
        &self,
        token: BankToken,
        body: JsonBody<RegisterAccountRequest>,
    ) -> Result<AccountRegistered, PostAccountsErrors> {
        auth::require_admin(&self.0, &token)?;
        let req = body.0;
        if RESERVED_USERNAMES.contains(&req.username.as_str()) {
            return Err(ApiError::new(
                ErrorCode::BankReservedUsernameConflict,
                format!("username `{}` is reserved", req.username),
            )
            .into());
        }
        let payto_key = match &req.payto_uri {
            Some(text) => Payto::parse(text)?.key,
            None => format!("payto://x-taler-bank/{PAYTO_HOST}/{}", req.username),
        };
        let debit_threshold = match &req.debit_threshold {
            Some(t) => {
                require_currency(t, &self.0.config.currency, "debit_threshold")?;
                t.clone()
            }
            None => self.0.config.bank_default_debit_threshold.clone(),
        };
        let password_hash = self.0.logins.hash(&req.password).await?;
        let internal_payto_uri = super::payto_with_name(&payto_key, &req.name);
        let username = req.username.clone();
        match store::create_account(
            &self.0.db,
            NewAccount {
                username: req.username.into(),
                password_hash,
                name: req.name.into(),
                payto_key,
                is_public: req.is_public.unwrap_or(false),
                is_taler_exchange: req.is_taler_exchange.unwrap_or(false),
                debit_threshold: super::units(&debit_threshold),
                contact_data: req
                    .contact_data
                    .as_ref()
                    .and_then(|c| serde_json::to_string(c).ok()),
            },
        )
        .await
        .map_err(ApiError::db_store)?
        {
            CreateOutcome::Created => {
                if let Some(bonus) = &self.0.config.bank_registration_bonus {
                    super::registration_bonus(&self.0, &username, bonus).await?;
                }
                Ok(AccountRegistered::Ok(Json(RegisterAccountResponse {
                    internal_payto_uri,
                })))
            }
            CreateOutcome::UsernameTaken => Err(ApiError::new(
                ErrorCode::BankRegisterUsernameReuse,
                "the username is taken",
            )
            .into()),
            CreateOutcome::PaytoTaken => Err(ApiError::new(
                ErrorCode::BankRegisterPaytoUriReuse,
                "the payto URI belongs to another account",
            )
            .into()),
        }
    }

    /// Create an access token
    ///
    /// With the account's password (HTTP Basic). Tokens last one day unless a
    /// duration is given; at most one year.
    #[oai(
        path = "/accounts/:USERNAME/token",
        method = "post",
        operation_id = "bank_post_account_token"
    )]
    async fn post_token(
        &self,
        credentials: BankPassword,
        /// Account name.
        #[oai(name = "USERNAME")]
        username: Path<String>,
        body: JsonBody<TokenRequest>,
    ) -> Result<TokenCreated, PostTokenErrors> {
        let account = auth::account(&self.0, &username).await?;
        auth::check_password(&self.0, &account, &credentials.0).await?;
        const DAY_US: u64 = 86_400_000_000;
        let duration = match body.duration.unwrap_or(RelativeTime::Micros(DAY_US)) {
            RelativeTime::Micros(us) => RelativeTime::Micros(us.min(365 * DAY_US)),
            RelativeTime::Forever => RelativeTime::Micros(365 * DAY_US),
        };
        let expiration = Timestamp::now().plus(duration);
        let access_token = secret::generate_token();
        let scope = poem_openapi::types::ToJSON::to_json(&body.scope)
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        store::insert_token(
            &self.0.db,
            store::Token {
                token_serial: 0,
                account_id: account.account_id,
                token_hash: secret::token_hash(&access_token),
                scope,
                expiration: expiration.to_db(),
                refreshable: body.refreshable.unwrap_or(false),
                description: body.0.description,
                creation_time: Timestamp::now().to_db(),
            },
        )
        .await
        .map_err(ApiError::db_store)?;
        Ok(TokenCreated::Ok(Json(TokenSuccessResponse {
            expiration,
            access_token,
        })))
    }

    /// Bank configuration
    ///
    /// The currency, how to render it, and what this bank allows.
    #[oai(path = "/config", method = "get", operation_id = "bank_get_config")]
    async fn get_config(&self) -> Json<BankConfig> {
        let c = &self.0.config;
        Json(BankConfig {
            name: "libeufin-bank".to_owned(),
            version: "9:0:0".to_owned(),
            currency: c.currency.clone(),
            currency_specification: (&c.currency_spec).into(),
            allow_conversion: false,
            allow_registrations: false,
            allow_deletions: false,
            allow_edit_name: false,
            allow_edit_cashout_payto_uri: false,
            default_debit_threshold: c.bank_default_debit_threshold.clone(),
            wire_type: "x-taler-bank".to_owned(),
        })
    }

    /// Get an account
    ///
    /// Its balance, debit threshold and settings. The account itself (password, or a
    /// `readonly` or `readwrite` token) or the administrator.
    #[oai(
        path = "/accounts/:USERNAME",
        method = "get",
        operation_id = "bank_get_account"
    )]
    async fn get_account(
        &self,
        credentials: BankCredentials,
        /// Account name.
        #[oai(name = "USERNAME")]
        username: Path<String>,
    ) -> Result<AccountFound, GetAccountErrors> {
        let a = auth::authorize(&self.0, &username, &credentials, Need::Read).await?;
        let currency = &self.0.config.currency;
        let balance = store::balance_of(&a);
        Ok(AccountFound::Ok(Json(AccountData {
            payto_uri: super::accounts_payto(&a),
            balance: Balance {
                amount: super::amount_of(currency, balance),
                credit_debit_indicator: if balance < 0 { "debit" } else { "credit" }.to_owned(),
            },
            debit_threshold: super::amount_of(currency, store::threshold_of(&a)),
            name: a.name,
            is_public: a.is_public,
            is_taler_exchange: a.is_taler_exchange,
            status: "active".to_owned(),
            contact_data: a
                .contact_data
                .as_deref()
                .and_then(|c| serde_json::from_str(c).ok()),
        })))
    }

    /// Change an account
    ///
    /// The owner may make it public or private; the administrator also changes its
    /// name, debit threshold and exchange flag.
    #[oai(
        path = "/accounts/:USERNAME",
        method = "patch",
        operation_id = "bank_patch_account"
    )]
    async fn patch(
        &self,
        credentials: BankCredentials,
        /// Account name.
        #[oai(name = "USERNAME")]
        username: Path<String>,
        body: JsonBody<AccountReconfiguration>,
    ) -> Result<NoContent, PatchAccountErrors> {
        let account = auth::authorize(&self.0, &username, &credentials, Need::Manage).await?;
        let admin = auth::is_admin(&self.0, &credentials);
        let req = body.0;
        if !admin && req.name.as_ref().is_some_and(|n| **n != account.name) {
            return Err(conflict(
                ErrorCode::BankNonAdminPatchLegalName,
                "only the administrator changes the legal name",
            )
            .into());
        }
        let threshold = match &req.debit_threshold {
            Some(t) => {
                require_currency(t, &self.0.config.currency, "debit_threshold")?;
                let units = super::units(t);
                if !admin && units != store::threshold_of(&account) {
                    return Err(conflict(
                        ErrorCode::BankNonAdminPatchDebtLimit,
                        "only the administrator changes the debit threshold",
                    )
                    .into());
                }
                Some(units)
            }
            None => None,
        };
        if let Some(exchange) = req.is_taler_exchange
            && exchange != account.is_taler_exchange
        {
            if account.username == ADMIN_ACCOUNT {
                return Err(conflict(
                    ErrorCode::BankPatchAdminExchange,
                    "the administrator's account cannot be an exchange",
                )
                .into());
            }
            if !admin {
                return Err(ApiError::new(
                    ErrorCode::GenericForbidden,
                    "only the administrator changes the exchange flag",
                )
                .into());
            }
        }
        let contact = req
            .contact_data
            .as_ref()
            .map(|c| serde_json::to_string(c).expect("serializable"));
        if !admin && contact.is_some() && contact != account.contact_data {
            return Err(conflict(
                ErrorCode::BankNonAdminPatchContact,
                "only the administrator changes the contact data",
            )
            .into());
        }
        let changes = AccountChanges {
            name: req.name.map(String::from),
            is_public: req.is_public,
            is_taler_exchange: req.is_taler_exchange,
            debit_threshold: threshold,
            password_hash: None,
            contact_data: contact.map(Some),
        };
        if store::update_account(&self.0.db, account.account_id, changes)
            .await
            .map_err(ApiError::db_store)?
        {
            Ok(NoContent::Done)
        } else {
            // Deleted meanwhile.
            Err(auth::account(&self.0, &username)
                .await
                .err()
                .unwrap_or_else(|| ApiError::db_store("the account changed meanwhile"))
                .into())
        }
    }

    /// Change an account's password
    ///
    /// The owner gives the current password too; the administrator does not.
    #[oai(
        path = "/accounts/:USERNAME/auth",
        method = "patch",
        operation_id = "bank_patch_account_auth"
    )]
    async fn patch_auth(
        &self,
        credentials: BankCredentials,
        /// Account name.
        #[oai(name = "USERNAME")]
        username: Path<String>,
        body: JsonBody<AccountPasswordChange>,
    ) -> Result<NoContent, PatchAccountErrors> {
        let account = auth::authorize(&self.0, &username, &credentials, Need::Manage).await?;
        let req = body.0;
        if !auth::is_admin(&self.0, &credentials) {
            let Some(old) = &req.old_password else {
                return Err(conflict(
                    ErrorCode::BankNonAdminPatchMissingOldPassword,
                    "give the current password as old_password",
                )
                .into());
            };
            self.0
                .logins
                .check(
                    "bank",
                    &account.username,
                    &account.username,
                    old,
                    &account.password_hash,
                    || conflict(ErrorCode::BankPatchBadOldPassword, "old_password is wrong"),
                )
                .await?;
        }
        let hash = self.0.logins.hash(&req.new_password).await?;
        let changes = AccountChanges {
            password_hash: Some(hash),
            ..Default::default()
        };
        store::update_account(&self.0.db, account.account_id, changes)
            .await
            .map_err(ApiError::db_store)?;
        Ok(NoContent::Done)
    }

    /// Delete an account
    ///
    /// Only with a zero balance. Its transfers stay in the other accounts' histories;
    /// its username and payto URI stay taken; its tokens stop working.
    #[oai(
        path = "/accounts/:USERNAME",
        method = "delete",
        operation_id = "bank_delete_account"
    )]
    async fn delete(
        &self,
        credentials: BankCredentials,
        /// Account name.
        #[oai(name = "USERNAME")]
        username: Path<String>,
    ) -> Result<NoContent, DeleteAccountErrors> {
        let account = auth::authorize(&self.0, &username, &credentials, Need::Manage).await?;
        if account.username == ADMIN_ACCOUNT {
            return Err(conflict(
                ErrorCode::BankReservedUsernameConflict,
                "the administrator's account cannot be deleted",
            )
            .into());
        }
        match store::delete_account(&self.0.db, account.account_id)
            .await
            .map_err(ApiError::db_store)?
        {
            DeleteOutcome::Deleted => Ok(NoContent::Done),
            DeleteOutcome::BalanceNotZero => Err(conflict(
                ErrorCode::BankAccountBalanceNotZero,
                "the balance must be zero",
            )
            .into()),
            DeleteOutcome::Unknown => Err(auth::account(&self.0, &username)
                .await
                .err()
                .unwrap_or_else(|| ApiError::db_store("the account changed meanwhile"))
                .into()),
        }
    }

    /// List an account's tokens
    ///
    /// Row-id pagination by `token_id` (`limit` default -20, `offset`). The account
    /// itself (password, `readonly` or `readwrite` token) or the administrator.
    #[oai(
        path = "/accounts/:USERNAME/tokens",
        method = "get",
        operation_id = "bank_get_account_tokens"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn list_tokens(
        &self,
        credentials: BankCredentials,
        /// Account name.
        #[oai(name = "USERNAME")]
        username: Path<String>,
        /// At most this many tokens; negative for descending by `token_id`. Default -20.
        limit: Query<Option<PageLimit>>,
        /// `token_id` to start after.
        #[oai(validator(minimum(value = "0")))]
        offset: Query<Option<i64>>,
        /// Deprecated: use `limit`.
        #[oai(deprecated)]
        delta: Query<Option<PageLimit>>,
        /// Deprecated: use `offset`.
        #[oai(deprecated, validator(minimum(value = "0")))]
        start: Query<Option<i64>>,
    ) -> Result<TokensListed, ListTokensErrors> {
        let account = auth::authorize(&self.0, &username, &credentials, Need::Read).await?;
        let page = Page::new(limit.0.or(delta.0), offset.0.or(start.0))?;
        let rows = store::list_tokens(&self.0.db, account.account_id, page)
            .await
            .map_err(ApiError::db_fetch)?;
        if rows.is_empty() {
            return Ok(TokensListed::Empty);
        }
        let tokens = rows
            .into_iter()
            .map(|t| TokenInfo {
                creation_time: Timestamp::from_db(t.creation_time),
                expiration: Timestamp::from_db(t.expiration),
                scope: t.scope,
                refreshable: t.refreshable,
                description: t.description,
                // Uses are not recorded (a write per request on the hot paths).
                last_access: Timestamp::from_db(t.creation_time),
                token_id: t.token_serial as u64,
                row_id: t.token_serial as u64,
            })
            .collect();
        Ok(TokensListed::Ok(Json(TokenInfos { tokens })))
    }

    /// Revoke a token
    ///
    /// The bearer token of this request stops working.
    #[oai(
        path = "/accounts/:USERNAME/token",
        method = "delete",
        operation_id = "bank_delete_account_token"
    )]
    async fn delete_token(
        &self,
        token: BankToken,
        /// Account name.
        #[oai(name = "USERNAME")]
        username: Path<String>,
    ) -> Result<NoContent, DeleteTokenErrors> {
        let credentials = BankCredentials::Token(token);
        // A token of any scope may revoke itself.
        let account = auth::authorize(&self.0, &username, &credentials, Need::AnyScope).await?;
        if let BankCredentials::Token(t) = &credentials
            && !auth::is_admin(&self.0, &credentials)
        {
            store::delete_token(
                &self.0.db,
                account.account_id,
                &secret::token_hash(&t.0.token),
            )
            .await
            .map_err(ApiError::db_store)?;
        }
        Ok(NoContent::Done)
    }

    /// List accounts
    ///
    /// The administrator only. Row-id pagination (`limit` default -20, `offset`);
    /// `filter_name` keeps accounts whose legal name contains it (any case).
    #[oai(path = "/accounts", method = "get", operation_id = "bank_get_accounts")]
    async fn list(
        &self,
        token: BankToken,
        /// At most this many accounts; negative for descending by row id. Default -20.
        limit: Query<Option<PageLimit>>,
        /// Row id to start after.
        #[oai(validator(minimum(value = "0")))]
        offset: Query<Option<i64>>,
        /// Only accounts whose legal name contains this (any case).
        #[oai(validator(max_length = 128))]
        filter_name: Query<Option<String>>,
    ) -> Result<AccountsListed, ListAccountsErrors> {
        auth::require_admin(&self.0, &token)?;
        let page = Page::new(limit.0, offset.0)?;
        let rows = store::list_accounts(&self.0.db, false, filter_name.0.as_deref(), page)
            .await
            .map_err(ApiError::db_fetch)?;
        if rows.is_empty() {
            return Ok(AccountsListed::Empty);
        }
        let currency = &self.0.config.currency;
        let accounts = rows
            .into_iter()
            .map(|a| AccountMinimalData {
                payto_uri: accounts_payto(&a),
                balance: balance(currency, &a),
                debit_threshold: super::amount_of(currency, store::threshold_of(&a)),
                row_id: a.account_id as u64,
                username: a.username,
                name: a.name,
                is_public: a.is_public,
                is_taler_exchange: a.is_taler_exchange,
                status: "active".to_owned(),
            })
            .collect();
        Ok(AccountsListed::Ok(Json(ListBankAccountsResponse {
            accounts,
        })))
    }

    /// List public accounts
    ///
    /// Anyone. Row-id pagination (`limit` default -20, `offset`); `filter_name` keeps
    /// accounts whose legal name contains it (any case).
    #[oai(
        path = "/public-accounts",
        method = "get",
        operation_id = "bank_get_public_accounts"
    )]
    async fn public(
        &self,
        /// At most this many accounts; negative for descending by row id. Default -20.
        limit: Query<Option<PageLimit>>,
        /// Row id to start after.
        #[oai(validator(minimum(value = "0")))]
        offset: Query<Option<i64>>,
        /// Only accounts whose legal name contains this (any case).
        #[oai(validator(max_length = 128))]
        filter_name: Query<Option<String>>,
    ) -> Result<PublicAccountsListed, PublicAccountsErrors> {
        let page = Page::new(limit.0, offset.0)?;
        let rows = store::list_accounts(&self.0.db, true, filter_name.0.as_deref(), page)
            .await
            .map_err(ApiError::db_fetch)?;
        if rows.is_empty() {
            return Ok(PublicAccountsListed::Empty);
        }
        let currency = &self.0.config.currency;
        let public_accounts = rows
            .into_iter()
            .map(|a| PublicAccount {
                payto_uri: accounts_payto(&a),
                balance: balance(currency, &a),
                row_id: a.account_id as u64,
                username: a.username,
                is_taler_exchange: a.is_taler_exchange,
            })
            .collect();
        Ok(PublicAccountsListed::Ok(Json(PublicAccountsResponse {
            public_accounts,
        })))
    }
}
