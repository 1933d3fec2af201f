//! Access tokens of an instance: `POST` and `DELETE [/instances/$INSTANCE]/private/token`.

use poem_openapi::{
    ApiResponse, Enum, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};

use crate::{
    error_responses,
    http::{JsonBody, NoContent},
    merchant::{
        instances::auth::{self, MerchantToken, Scope, TOKEN_REFRESH, TokenCredentials},
        tags::ApiTags,
    },
    state::State,
    store::tokens::{self, NewToken},
    taler::{
        ApiError, ErrorCode, RelativeTime, Timestamp,
        pagination::{Page, PageLimit},
        secret,
    },
};

const TOKENS_READ: auth::Permission = "tokens-read";
const TOKENS_WRITE: auth::Permission = "tokens-write";

/// Validity of a token when the request names none.
const DEFAULT_DURATION: RelativeTime = RelativeTime::Micros(86_400 * 1_000_000);
/// The longest validity granted ("forever" included): one year.
const MAX_DURATION_US: u64 = 365 * 86_400 * 1_000_000;

/// The scopes a token can have; `:refreshable` adds the `token-refresh` permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum TokenScope {
    #[oai(rename = "readonly")]
    Readonly,
    #[oai(rename = "write")]
    Write,
    #[oai(rename = "all")]
    All,
    #[oai(rename = "order-simple")]
    OrderSimple,
    #[oai(rename = "order-pos")]
    OrderPos,
    #[oai(rename = "order-mgmt")]
    OrderMgmt,
    #[oai(rename = "order-full")]
    OrderFull,
    #[oai(rename = "readonly:refreshable")]
    ReadonlyRefreshable,
    #[oai(rename = "write:refreshable")]
    WriteRefreshable,
    #[oai(rename = "all:refreshable")]
    AllRefreshable,
    #[oai(rename = "order-simple:refreshable")]
    OrderSimpleRefreshable,
    #[oai(rename = "order-pos:refreshable")]
    OrderPosRefreshable,
    #[oai(rename = "order-mgmt:refreshable")]
    OrderMgmtRefreshable,
    #[oai(rename = "order-full:refreshable")]
    OrderFullRefreshable,
}

impl TokenScope {
    fn scope(self) -> Scope {
        let json = poem_openapi::types::ToJSON::to_json(&self).expect("enum serializes");
        Scope::parse(json.as_str().expect("enum is a string"))
            .expect("every TokenScope is a valid scope")
    }

    fn from_scope(scope: &Scope) -> TokenScope {
        let value = serde_json::Value::String(scope.to_string());
        poem_openapi::types::ParseFromJSON::parse_from_json(Some(value))
            .expect("every scope is a TokenScope")
    }
}

/// `LoginTokenRequest`.
#[derive(Object)]
pub struct LoginTokenRequest {
    /// Scope of the token (which kinds of operations it will allow).
    pub scope: TokenScope,
    /// Requested validity; the server caps it at one year. Default: one day.
    pub duration: Option<RelativeTime>,
    /// Optional token description.
    pub description: Option<String>,
    /// Deprecated since v19: use the `:refreshable` scope suffix.
    #[oai(deprecated)]
    pub refreshable: Option<bool>,
}

/// `LoginTokenSuccessResponse`.
#[derive(Object)]
pub struct LoginTokenSuccessResponse {
    /// Deprecated since v19: the same as `access_token`.
    #[oai(deprecated)]
    pub token: String,
    /// The token, with its `secret-token:` prefix; send it as `Authorization: Bearer <token>`.
    pub access_token: String,
    /// Scope of the token.
    pub scope: TokenScope,
    /// When the token expires.
    pub expiration: Timestamp,
    /// Can this token be refreshed?
    pub refreshable: bool,
}

error_responses!(PostTokenErrors {
    400 => "The request is malformed (`TALER_EC_GENERIC_JSON_INVALID`, `TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    401 => "The password or token is missing or wrong (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_UNKNOWN`, `TALER_EC_GENERIC_TOKEN_EXPIRED`, `TALER_EC_GENERIC_TOKEN_MALFORMED`).",
    403 => "The token is not refreshable, or the requested scope exceeds its scope (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The instance is unknown (`TALER_EC_MERCHANT_GENERIC_INSTANCE_UNKNOWN`).",
    413 => "The body exceeds the size limit (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    429 => "Too many failed logins on this instance or from this address: wait `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
    503 => "Every password worker is busy: retry after `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
});

error_responses!(DeleteTokenErrors {
    401 => "The token is missing or not valid (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_UNKNOWN`, `TALER_EC_GENERIC_TOKEN_EXPIRED`).",
    403 => "The configured administrator token cannot be revoked (`TALER_EC_GENERIC_FORBIDDEN`).",
    404 => "The instance is unknown (`TALER_EC_MERCHANT_GENERIC_INSTANCE_UNKNOWN`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
});

/// `TokenInfo`: a token as its instance may see it, without its secret.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct TokenInfo {
    /// Time when the token was created.
    pub creation_time: Timestamp,
    /// Time when the token expires.
    pub expiration: Timestamp,
    /// Scope for the token, without the `:refreshable` suffix (see `refreshable`).
    pub scope: TokenScope,
    /// Is the token refreshable into a new token during its validity?
    pub refreshable: bool,
    /// Optional token description.
    pub description: Option<String>,
    /// Opaque unique ID used for pagination, and `$SERIAL` to delete the token.
    pub serial: u64,
}

/// `TokenInfos`.
#[derive(Object)]
pub struct TokenInfos {
    pub tokens: Vec<TokenInfo>,
}

#[derive(ApiResponse)]
pub enum TokensListed {
    /// The instance's tokens.
    #[oai(status = 200)]
    Ok(Json<TokenInfos>),
    /// No tokens (on this page).
    #[oai(status = 204)]
    NoTokens,
}

error_responses!(ListTokensErrors {
    400 => "A query parameter is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    401 => "Invalid or missing credentials (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `tokens-read` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The backend does not know the instance (`TALER_EC_MERCHANT_GENERIC_INSTANCE_UNKNOWN`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

error_responses!(DeleteTokenBySerialErrors {
    400 => "The `$SERIAL` parameter is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    401 => "Invalid or missing credentials (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `tokens-write` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The instance has no such token (`TALER_EC_MERCHANT_GENERIC_ACCESS_TOKEN_UNKNOWN`), or the instance is unknown (`TALER_EC_MERCHANT_GENERIC_INSTANCE_UNKNOWN`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
});

fn token_unknown(serial: u64) -> ApiError {
    ApiError::new(
        ErrorCode::MerchantGenericAccessTokenUnknown,
        format!("the instance has no token {serial}"),
    )
}

pub struct TokensApi(pub State);

#[OpenApi(tag = "ApiTags::Authentication")]
impl TokensApi {
    /// Obtain an access token
    ///
    /// With HTTP Basic (the instance id as user name and the instance password), or with a
    /// bearer token that has `token-refresh` (a `:refreshable` scope), in which case the new
    /// scope must not exceed the old one. The instance password is also taken as a bearer
    /// token, `Bearer secret-token:$INSTANCE_PASSWORD` (deprecated since v19, still sent by
    /// clients), here only. An instance with the `external` method needs no credentials.
    /// The default instance `admin` is also reachable as `/private/token`.
    #[oai(
        path = "/instances/:instance/private/token",
        method = "post",
        operation_id = "merchant_post_private_token"
    )]
    async fn post_token(
        &self,
        credentials: TokenCredentials,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        body: JsonBody<LoginTokenRequest>,
    ) -> Result<Json<LoginTokenSuccessResponse>, PostTokenErrors> {
        let row = auth::instance(&self.0, &instance.0).await?;
        let requested = body
            .scope
            .scope()
            .with_refreshable(body.refreshable.unwrap_or(false));
        let unauthorized = || {
            ApiError::new(
                ErrorCode::GenericUnauthorized,
                "wrong instance id or password",
            )
        };
        match credentials {
            TokenCredentials::Password(basic) => {
                self.0
                    .logins
                    .check(
                        "merchant",
                        &row.instance_id,
                        &basic.0.username,
                        &basic.0.password,
                        &row.password_hash,
                        unauthorized,
                    )
                    .await?;
            }
            TokenCredentials::Token(token) => {
                match auth::authenticate(&self.0, row.clone(), &token.0.token).await {
                    Ok(access) => {
                        if !access.scope.grants(TOKEN_REFRESH) {
                            return Err(ApiError::new(
                                ErrorCode::GenericTokenPermissionInsufficient,
                                "the token is not refreshable",
                            )
                            .into());
                        }
                        if !access.scope.covers(&requested) {
                            return Err(ApiError::new(
                                ErrorCode::GenericTokenPermissionInsufficient,
                                format!(
                                    "scope `{requested}` exceeds the token's scope `{}`",
                                    access.scope
                                ),
                            )
                            .into());
                        }
                    }
                    // `Bearer secret-token:$INSTANCE_PASSWORD`: the instance password as
                    // a bearer token (`InstanceAuthConfigTokenOLD`, deprecated since
                    // v19), which merchant backends before v19 took everywhere and which
                    // clients such as the Tryton module still send to log in. Taken here
                    // only, to be exchanged for a login token, under the login throttle.
                    Err(e) if e.code() == ErrorCode::GenericTokenUnknown.number() => {
                        let password = token.0.token[secret::TOKEN_PREFIX.len()..].trim_start();
                        self.0
                            .logins
                            .check(
                                "merchant",
                                &row.instance_id,
                                &row.instance_id,
                                password,
                                &row.password_hash,
                                || e,
                            )
                            .await?;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
        let duration = match body.duration.unwrap_or(DEFAULT_DURATION) {
            RelativeTime::Micros(us) => RelativeTime::Micros(us.min(MAX_DURATION_US)),
            RelativeTime::Forever => RelativeTime::Micros(MAX_DURATION_US),
        };
        let now = Timestamp::now();
        let expiration = now.plus(duration);
        let access_token = secret::generate_token();
        tokens::insert(
            &self.0.db,
            NewToken {
                instance_serial: row.instance_serial,
                token_hash: secret::token_hash(&access_token),
                scope: requested.to_string(),
                created_at: now.to_db(),
                expiration: expiration.to_db(),
                description: body.0.description,
            },
        )
        .await
        .map_err(ApiError::db_store)?;
        Ok(Json(LoginTokenSuccessResponse {
            token: access_token.clone(),
            access_token,
            scope: TokenScope::from_scope(&requested),
            expiration,
            refreshable: requested.refreshable(),
        }))
    }

    /// Revoke the access token
    ///
    /// Revokes the bearer token the request is made with.
    #[oai(
        path = "/instances/:instance/private/token",
        method = "delete",
        operation_id = "merchant_delete_private_token"
    )]
    async fn delete_token(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
    ) -> Result<NoContent, DeleteTokenErrors> {
        let row = auth::instance(&self.0, &instance.0).await?;
        let access = auth::authenticate(&self.0, row, &token.0.token).await?;
        let Some(hash) = access.token_hash else {
            return Err(ApiError::new(
                ErrorCode::GenericForbidden,
                "the administrator token comes from the configuration and cannot be revoked",
            )
            .into());
        };
        tokens::delete_by_hash(&self.0.db, &hash)
            .await
            .map_err(ApiError::db_store)?;
        Ok(NoContent::Done)
    }

    /// List the instance's access tokens
    ///
    /// Without their secrets. Row-id pagination by serial: `limit` > 0 ascending, < 0
    /// descending (default -20), `offset` the serial to start after. Requires
    /// `tokens-read`.
    #[oai(
        path = "/instances/:instance/private/tokens",
        method = "get",
        operation_id = "merchant_get_private_tokens"
    )]
    async fn list_tokens(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        /// At most return the given number of results. Negative for descending by
        /// serial, positive for ascending by serial. Defaults to -20; must not be 0.
        limit: Query<Option<PageLimit>>,
        /// Starting serial for pagination (exclusive).
        #[oai(validator(minimum(value = "0")))]
        offset: Query<Option<i64>>,
    ) -> Result<TokensListed, ListTokensErrors> {
        let access = auth::authorize(&self.0, &instance, &token, TOKENS_READ).await?;
        let page = Page::new(limit.0, offset.0)?;
        let rows = tokens::list(&self.0.db, access.instance.instance_serial, page)
            .await
            .map_err(ApiError::db_fetch)?;
        if rows.is_empty() {
            return Ok(TokensListed::NoTokens);
        }
        let tokens = rows
            .into_iter()
            .filter_map(|row| {
                // A scope this version cannot parse is a row from elsewhere: not shown.
                let scope = Scope::parse(&row.scope)?;
                Some(TokenInfo {
                    creation_time: Timestamp::from_db(row.created_at),
                    expiration: Timestamp::from_db(row.expiration),
                    scope: TokenScope::from_scope(&Scope::parse(scope.base())?),
                    refreshable: scope.refreshable(),
                    description: row.description,
                    serial: row.token_serial as u64,
                })
            })
            .collect();
        Ok(TokensListed::Ok(Json(TokenInfos { tokens })))
    }

    /// Delete an access token by its serial
    ///
    /// Revokes the instance's token `$SERIAL` (from the token list). Requires
    /// `tokens-write`.
    #[oai(
        path = "/instances/:instance/private/tokens/:serial",
        method = "delete",
        operation_id = "merchant_delete_private_tokens_serial"
    )]
    async fn delete_token_by_serial(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        /// The token's `serial`.
        serial: Path<u64>,
    ) -> Result<NoContent, DeleteTokenBySerialErrors> {
        let access = auth::authorize(&self.0, &instance, &token, TOKENS_WRITE).await?;
        // Serials are positive 63-bit integers: a larger one names no token.
        let stored = i64::try_from(serial.0).map_err(|_| token_unknown(serial.0))?;
        if tokens::delete_by_serial(&self.0.db, access.instance.instance_serial, stored)
            .await
            .map_err(ApiError::db_store)?
        {
            Ok(NoContent::Done)
        } else {
            Err(token_unknown(serial.0).into())
        }
    }
}
