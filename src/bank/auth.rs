//! Bank authentication as libeufin-bank does it: HTTP Basic with an account's
//! password, or a bearer token of an account; the administrator is the `admin`
//! account (its password is set with `taler-openapi passwd admin`) or the configured
//! administrator token.
//!
//! Two steps, as libeufin's: *authenticate* (who is calling: 401 for unknown or wrong
//! credentials, 400 for a malformed `Authorization` header) and *authorize* (may this
//! caller do this on `$USERNAME`: 401 for another account's credentials, 403 for a
//! token whose scope does not allow it). A request with a body is authenticated when
//! its credentials are extracted, before its body is read: wrong credentials with a bad
//! body are 401, never 400. A request without a body is authenticated by the handler,
//! where the account, the token and the data may come in one round trip.

use poem::Request;
use poem_openapi::{
    ApiExtractor, ApiExtractorType, ExtractParamOptions, SecurityScheme,
    auth::{Basic, Bearer},
    registry::Registry,
};

use crate::{
    bank::ledger::ADMIN_ACCOUNT,
    state::{AppState, State},
    store::bank::{self, Account},
    taler::{ApiError, ErrorCode, Timestamp, secret},
};

/// HTTP Basic: the account's username and password.
#[derive(SecurityScheme)]
#[oai(rename = "bankPassword", ty = "basic")]
pub struct BankPassword(pub Basic);

/// `Authorization: Bearer secret-token:...`: a token from `POST /accounts/$USERNAME/token`,
/// or the bank's administrator token where the operation says so.
#[derive(SecurityScheme)]
#[oai(rename = "bankToken", ty = "bearer", bearer_format = "secret-token")]
pub struct BankToken(pub Bearer);

/// HTTP Basic credentials as presented.
#[derive(Clone)]
pub struct Login {
    pub username: String,
    pub password: String,
}

/// The credentials a request presents.
#[derive(Clone)]
enum Presented {
    Password(Login),
    Token(String),
    /// The administrator token of the configuration.
    ConfiguredAdmin,
}

/// Who the credentials proved the caller to be.
#[derive(Clone)]
struct Identity {
    /// The caller's account; `None` for the configured administrator token.
    account: Option<Account>,
    /// The token it came with, if any.
    token: Option<bank::Token>,
}

impl Identity {
    fn is_admin(&self) -> bool {
        self.account
            .as_ref()
            .is_none_or(|a| a.username == ADMIN_ACCOUNT)
    }
}

/// HTTP Basic or a bearer token (`bankPassword`, `bankToken`).
#[derive(Clone)]
pub struct BankCredentials {
    presented: Presented,
    verified: Option<Identity>,
}

/// Credentials, or none at all where the operation also serves anonymous clients
/// (registration on a bank with `ALLOW_REGISTRATIONS`); published with the empty
/// security requirement `{}` beside the two schemes.
#[derive(Clone)]
pub struct MaybeBankCredentials(pub Option<BankCredentials>);

/// A bearer token only (`bankToken`): revoking a token needs one.
#[derive(Clone)]
pub struct BankBearer(pub BankCredentials);

/// What an operation needs of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Reading the Revenue API: `revenue`, `readonly` or `readwrite`.
    Revenue,
    /// Moving money: `readwrite`.
    ReadWrite,
    /// Reading the account's data and history: `readonly` or `readwrite`.
    Read,
    /// Moving an exchange's money through the Wire Gateway: `wiregateway` or `readwrite`.
    WireGateway,
    /// Reading the Wire Gateway's histories: `wiregateway`, `readonly` or `readwrite`.
    WireGatewayRead,
    /// Changing or deleting the account: `readwrite` (the administrator: any account).
    Manage,
    /// Minting a token: the password, or a refreshable token (not of a narrower scope).
    Refresh,
    /// A token of any scope (revoking itself).
    AnyScope,
    /// The administrator only (`readwrite`).
    Admin,
    /// The administrator's statistics: `readonly`, `readwrite` or `observability`.
    Monitor,
}

impl Need {
    /// Whether the administrator may act on another account (libeufin's `allowAdmin`):
    /// it reads and manages every account, but moves no one else's money and reads no
    /// exchange's or merchant's facade.
    fn admin_allowed(self) -> bool {
        matches!(
            self,
            Need::Read | Need::Manage | Need::Admin | Need::Monitor
        )
    }
}

fn scope_allows(scope: &str, need: Need) -> bool {
    match need {
        Need::Revenue => matches!(scope, "revenue" | "readonly" | "readwrite"),
        Need::ReadWrite | Need::Manage | Need::Admin => scope == "readwrite",
        Need::Read => matches!(scope, "readonly" | "readwrite"),
        Need::WireGateway => matches!(scope, "wiregateway" | "readwrite"),
        Need::WireGatewayRead => matches!(scope, "wiregateway" | "readonly" | "readwrite"),
        Need::Monitor => matches!(scope, "readonly" | "readwrite" | "observability"),
        Need::Refresh | Need::AnyScope => true,
    }
}

fn unknown_account(username: &str) -> ApiError {
    ApiError::new(
        ErrorCode::BankUnknownAccount,
        format!("account `{username}` is unknown"),
    )
}

fn unauthorized(hint: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::GenericUnauthorized, hint)
}

fn malformed(hint: &str) -> ApiError {
    ApiError::new(ErrorCode::GenericHttpHeadersMalformed, hint.to_owned())
}

/// Reads the `Authorization` header as libeufin-bank does: none is 401
/// `GENERIC_PARAMETER_MISSING`; one that is neither Basic nor Bearer, or a malformed
/// one, is 400 `GENERIC_HTTP_HEADERS_MALFORMED` (an unknown scheme is 401).
fn presented(req: &Request, state: &AppState, basic_allowed: bool) -> Result<Presented, ApiError> {
    let Some(header) = req.headers().get(poem::http::header::AUTHORIZATION) else {
        return Err(ApiError::with_status(
            poem::http::StatusCode::UNAUTHORIZED,
            ErrorCode::GenericParameterMissing,
            "the Authorization header is missing",
        ));
    };
    let header = header
        .to_str()
        .map_err(|_| malformed("the Authorization header is not text"))?;
    let (scheme, content) = header
        .split_once(' ')
        .ok_or_else(|| malformed("the Authorization header is `SCHEME CREDENTIALS`"))?;
    let content = content.trim();
    // Schemes compare without case (RFC 9110); libeufin-bank takes them as written.
    match scheme.to_ascii_lowercase().as_str() {
        "basic" if basic_allowed => {
            use base64_decode::decode;
            let decoded = decode(content)
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| malformed("the Basic credentials are not base64 text"))?;
            let (username, password) = decoded
                .split_once(':')
                .ok_or_else(|| malformed("the Basic credentials are `username:password`"))?;
            Ok(Presented::Password(Login {
                username: username.to_owned(),
                password: password.to_owned(),
            }))
        }
        "basic" => Err(malformed(
            "this operation takes a bearer token, not a password",
        )),
        "bearer" => {
            if secret::is_configured_token(content, state.config.bank_admin_token()) {
                return Ok(Presented::ConfiguredAdmin);
            }
            // A token of another form is no token of this bank: 401, as RFC 6750 has
            // an invalid token (libeufin-bank answers 400 here).
            let Some(body) = content.strip_prefix(secret::TOKEN_PREFIX) else {
                return Err(unauthorized("access tokens start with `secret-token:`"));
            };
            if body.is_empty() || !body.bytes().all(|c| c.is_ascii_alphanumeric()) {
                return Err(unauthorized("the access token is not Crockford base32"));
            }
            Ok(Presented::Token(content.to_owned()))
        }
        _ => Err(unauthorized(
            "the Authorization scheme is neither Basic nor Bearer",
        )),
    }
}

/// Proves who the caller is.
async fn verify(state: &AppState, presented: &Presented) -> Result<Identity, ApiError> {
    match presented {
        Presented::ConfiguredAdmin => Ok(Identity {
            account: None,
            token: None,
        }),
        Presented::Password(basic) => {
            let account = bank::find_account(&state.db, &basic.username)
                .await
                .map_err(ApiError::db_fetch)?
                .ok_or_else(|| unauthorized("wrong username or password"))?;
            check_password(state, &account, basic).await?;
            Ok(Identity {
                account: Some(account),
                token: None,
            })
        }
        Presented::Token(token) => {
            let (account, token) = bank::find_token(&state.db, &secret::token_hash(token))
                .await
                .map_err(ApiError::db_fetch)?
                .ok_or_else(|| unauthorized("unknown access token"))?;
            usable(&token)?;
            Ok(Identity {
                account: Some(account),
                token: Some(token),
            })
        }
    }
}

fn usable(token: &bank::Token) -> Result<(), ApiError> {
    if Timestamp::from_db(token.expiration) <= Timestamp::now() {
        return Err(unauthorized("the access token has expired"));
    }
    Ok(())
}

/// Checks the password of `account`: 401 when it is wrong or names another user, 429
/// while the account or client is throttled, 503 when every password worker is busy.
pub async fn check_password(
    state: &AppState,
    account: &Account,
    basic: &Login,
) -> Result<(), ApiError> {
    state
        .logins
        .check(
            "bank",
            &account.username,
            &basic.username,
            &basic.password,
            &account.password_hash,
            || unauthorized("wrong username or password"),
        )
        .await
}

/// Finds the account, or 404 `TALER_EC_BANK_UNKNOWN_ACCOUNT`.
pub async fn account(state: &AppState, username: &str) -> Result<Account, ApiError> {
    bank::find_account(&state.db, username)
        .await
        .map_err(ApiError::db_fetch)?
        .ok_or_else(|| unknown_account(username))
}

/// What the caller may do with `username`'s account: its own (within the token's
/// scope), or any account as the administrator where the operation allows it.
async fn rights(
    state: &AppState,
    username: &str,
    id: Identity,
    need: Need,
) -> Result<Account, ApiError> {
    let own = id.account.as_ref().is_some_and(|a| a.username == username)
        || (id.account.is_none() && username == ADMIN_ACCOUNT);
    if matches!(need, Need::Admin | Need::Monitor) && !id.is_admin() {
        return Err(unauthorized("only the administrator may do this"));
    }
    if !(own || (id.is_admin() && need.admin_allowed())) {
        return Err(unauthorized(format!(
            "these credentials give no right on account `{username}`"
        )));
    }
    if let Some(token) = &id.token {
        if need == Need::Refresh && !token.refreshable {
            return Err(unauthorized("this access token is not refreshable"));
        }
        if !scope_allows(&token.scope, need) {
            return Err(ApiError::new(
                ErrorCode::GenericForbidden,
                format!("a `{}` token does not allow this operation", token.scope),
            ));
        }
    }
    match id.account {
        Some(account) if account.username == username => Ok(account),
        _ => account(state, username).await,
    }
}

impl BankCredentials {
    /// Whether the caller proved to be the administrator: the configured token, or
    /// the `admin` account's credentials once verified (never a name merely claimed).
    pub fn is_admin(&self) -> bool {
        match (&self.presented, &self.verified) {
            (Presented::ConfiguredAdmin, _) => true,
            (_, Some(id)) => id.is_admin(),
            (_, None) => false,
        }
    }

    /// The scope of the token the caller presented, if it presented one.
    pub fn token_scope(&self) -> Option<&str> {
        self.verified
            .as_ref()
            .and_then(|id| id.token.as_ref())
            .map(|t| t.scope.as_str())
    }

    /// Whether the caller logged in with a password (HTTP Basic), not a token.
    pub fn is_password(&self) -> bool {
        matches!(self.presented, Presented::Password(_))
    }

    /// The digest of the bearer token presented, if any (not the configured one).
    pub fn token_hash(&self) -> Option<Vec<u8>> {
        match &self.presented {
            Presented::Token(t) => Some(secret::token_hash(t)),
            _ => None,
        }
    }
}

/// Authenticates (unless the extractor did) and authorizes a request on `username`'s
/// account: 401 for wrong credentials or another account's, 403 for a token whose
/// scope does not allow the operation, 404 for an unknown account.
pub async fn authorize(
    state: &AppState,
    username: &str,
    credentials: &mut BankCredentials,
    need: Need,
) -> Result<Account, ApiError> {
    let id = match &credentials.verified {
        Some(id) => id.clone(),
        None => {
            let id = verify(state, &credentials.presented).await?;
            credentials.verified = Some(id.clone());
            id
        }
    };
    rights(state, username, id, need).await
}

/// [`authorize`] with the query that reads the account (and, given a token's digest,
/// that token's row) reading what the operation shows too, so both come in one round
/// trip. What it read is the operation's only once the credentials pass. Credentials
/// other than the account's own password or token take the two-step way.
pub async fn authorize_reading<T>(
    state: &AppState,
    username: &str,
    credentials: &mut BankCredentials,
    need: Need,
    read: impl AsyncFnOnce(
        Option<Vec<u8>>,
    ) -> Result<Option<(Account, Option<bank::Token>, T)>, sea_orm::DbErr>,
    read_again: impl AsyncFnOnce(i64) -> Result<T, sea_orm::DbErr>,
) -> Result<(Account, T), ApiError> {
    let own = match &credentials.presented {
        Presented::Password(b) => b.username == username,
        Presented::Token(_) => true,
        Presented::ConfiguredAdmin => false,
    };
    if credentials.verified.is_some() || !own {
        let account = authorize(state, username, credentials, need).await?;
        let data = read_again(account.account_id)
            .await
            .map_err(ApiError::db_fetch)?;
        return Ok((account, data));
    }
    let hash = credentials.token_hash();
    let found = read(hash).await.map_err(ApiError::db_fetch)?;
    match (&credentials.presented, found) {
        (Presented::Password(basic), Some((account, _, data))) => {
            check_password(state, &account, basic).await?;
            let id = Identity {
                account: Some(account),
                token: None,
            };
            credentials.verified = Some(id.clone());
            Ok((rights(state, username, id, need).await?, data))
        }
        (Presented::Password(_), None) => Err(unauthorized("wrong username or password")),
        (Presented::Token(_), Some((account, Some(token), data))) => {
            usable(&token)?;
            let id = Identity {
                account: Some(account),
                token: Some(token),
            };
            credentials.verified = Some(id.clone());
            Ok((rights(state, username, id, need).await?, data))
        }
        // Not this account's token (perhaps the administrator's, or none at all).
        _ => {
            let account = authorize(state, username, credentials, need).await?;
            let data = read_again(account.account_id)
                .await
                .map_err(ApiError::db_fetch)?;
            Ok((account, data))
        }
    }
}

/// The bank's state, which the bank's endpoint attaches to every request.
fn state_of(req: &Request) -> Result<&State, poem::Error> {
    req.data::<State>()
        .ok_or_else(|| ApiError::db_fetch("the bank's state is not attached").into())
}

/// The `$USERNAME` of a path `.../accounts/$USERNAME/...` (poem-openapi keeps path
/// parameters under names of its own).
fn path_username(req: &Request) -> Option<String> {
    let mut segments = req.uri().path().split('/');
    segments.find(|s| *s == "accounts")?;
    let username = segments.next().filter(|s| !s.is_empty())?;
    crate::http::percent_decode(username)
}

/// Authenticates now when the request has a body (see the module's comment).
async fn extract(req: &Request, basic_allowed: bool) -> poem::Result<BankCredentials> {
    let state = state_of(req)?;
    let presented = presented(req, state, basic_allowed)?;
    let has_body = !matches!(
        *req.method(),
        poem::http::Method::GET | poem::http::Method::HEAD
    );
    let verified = match has_body {
        true => {
            let id = verify(state, &presented).await?;
            // Another account's credentials are refused before the body too; what the
            // administrator may do is the operation's to say.
            if let Some(username) = path_username(req)
                && !id.is_admin()
                && id.account.as_ref().is_some_and(|a| a.username != username)
            {
                return Err(unauthorized(format!(
                    "these credentials give no right on account `{username}`"
                ))
                .into());
            }
            Some(id)
        }
        false => None,
    };
    Ok(BankCredentials {
        presented,
        verified,
    })
}

impl<'a> ApiExtractor<'a> for BankCredentials {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        <BankPassword as ApiExtractor>::register(registry);
        <BankToken as ApiExtractor>::register(registry);
    }

    fn security_schemes() -> Vec<&'static str> {
        vec!["bankPassword", "bankToken"]
    }

    async fn from_request(
        req: &'a Request,
        _body: &mut poem::RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        extract(req, true).await
    }
}

impl<'a> ApiExtractor<'a> for MaybeBankCredentials {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        BankCredentials::register(registry);
    }

    fn security_schemes() -> Vec<&'static str> {
        BankCredentials::security_schemes()
    }

    fn has_security_fallback() -> bool {
        true
    }

    async fn from_request(
        req: &'a Request,
        _body: &mut poem::RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        if !req
            .headers()
            .contains_key(poem::http::header::AUTHORIZATION)
        {
            return Ok(MaybeBankCredentials(None));
        }
        extract(req, true)
            .await
            .map(|c| MaybeBankCredentials(Some(c)))
    }
}

impl<'a> ApiExtractor<'a> for BankBearer {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        <BankToken as ApiExtractor>::register(registry);
    }

    fn security_schemes() -> Vec<&'static str> {
        vec!["bankToken"]
    }

    async fn from_request(
        req: &'a Request,
        _body: &mut poem::RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        extract(req, false).await.map(BankBearer)
    }
}

mod base64_decode {
    /// Standard base64 (with or without padding), as HTTP Basic sends it.
    pub fn decode(text: &str) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(text.len() * 3 / 4);
        let mut acc: u32 = 0;
        let mut bits = 0;
        for c in text.trim_end_matches('=').bytes() {
            let v = match c {
                b'A'..=b'Z' => c - b'A',
                b'a'..=b'z' => c - b'a' + 26,
                b'0'..=b'9' => c - b'0' + 52,
                b'+' => 62,
                b'/' => 63,
                _ => return None,
            };
            acc = (acc << 6) | u32::from(v);
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((acc >> bits) as u8);
                acc &= (1 << bits) - 1;
            }
        }
        Some(out)
    }
}
