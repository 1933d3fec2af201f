//! Core bank operations we serve: account registration, tokens and transfers
//! (`/accounts`, `/accounts/$USERNAME/token`, `/accounts/$USERNAME/transactions`).

use poem_openapi::{ApiResponse, Enum, Object, OpenApi, param::Path, payload::Json};

use crate::{
    State,
    bank::{
        ApiTags,
        auth::{self, BankCredentials, BankPassword, BankToken, Need},
    },
    error_responses,
    http::JsonBody,
    store::bank::{self as store, CreateOutcome, NewAccount},
    taler::{
        Amount, ApiError, ErrorCode, RelativeTime, Timestamp, amount::require_currency, secret,
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
    #[oai(validator(pattern = r"^[a-zA-Z0-9._~-]{1,126}$"))]
    pub username: String,
    /// Password of the account used for authentication (at least 8 characters).
    #[oai(validator(min_length = 8))]
    pub password: String,
    /// Legal name of the account owner.
    #[oai(validator(
        pattern = "[^\t\n\u{b}\u{c}\r \u{85}\u{a0}\u{1680}\u{2000}-\u{200a}\u{2028}\u{2029}\u{202f}\u{205f}\u{3000}]"
    ))]
    pub name: String,
    /// Make this account visible to anyone? Defaults to false.
    pub is_public: Option<bool>,
    /// Make this account a Taler exchange account? Defaults to false.
    pub is_taler_exchange: Option<bool>,
    /// How far below zero the account may go (the bank's default if absent).
    pub debit_threshold: Option<Amount>,
    /// Payto URI of this bank account; by default `payto://x-taler-bank/localhost/$USERNAME`.
    #[oai(validator(
        pattern = "^payto://[a-zA-Z0-9.-]+/[^\t\n\u{b}\u{c}\r \u{85}\u{a0}\u{1680}\u{2000}-\u{200a}\u{2028}\u{2029}\u{202f}\u{205f}\u{3000}?#]+([?][^\t\n\u{b}\u{c}\r \u{85}\u{a0}\u{1680}\u{2000}-\u{200a}\u{2028}\u{2029}\u{202f}\u{205f}\u{3000}]*)?$"
    ))]
    pub payto_uri: Option<String>,
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
    #[oai(validator(
        pattern = "^payto://[a-zA-Z0-9.-]+/[^\t\n\u{b}\u{c}\r \u{85}\u{a0}\u{1680}\u{2000}-\u{200a}\u{2028}\u{2029}\u{202f}\u{205f}\u{3000}?#]+([?][^\t\n\u{b}\u{c}\r \u{85}\u{a0}\u{1680}\u{2000}-\u{200a}\u{2028}\u{2029}\u{202f}\u{205f}\u{3000}]*)?$"
    ))]
    pub payto_uri: String,
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
        Ok(Payto {
            key: format!(
                "payto://{}{}",
                url.host_str().unwrap_or_default().to_ascii_lowercase(),
                url.path()
            ),
            params: url.query_pairs().into_owned().collect(),
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
                username: req.username,
                password_hash,
                name: req.name,
                payto_key,
                is_public: req.is_public.unwrap_or(false),
                is_taler_exchange: req.is_taler_exchange.unwrap_or(false),
                debit_threshold: super::units(&debit_threshold),
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
        })))
    }
}
