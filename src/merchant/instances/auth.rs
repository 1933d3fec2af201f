//! Merchant authentication: bearer tokens with scopes, the permissions scopes grant,
//! and the one check every private endpoint makes.

use poem_openapi::{
    SecurityScheme,
    auth::{Basic, Bearer},
};

use crate::{
    merchant::instances::settings::EXTERNAL_AUTH,
    state::AppState,
    store::{self, access::TokenRow, instances::Instance},
    taler::{ApiError, ErrorCode, Timestamp, secret},
};

/// The instance reachable without the `/instances/$INSTANCE` prefix; the
/// administrator token opens it with every permission.
pub const DEFAULT_INSTANCE: &str = "admin";

/// `Authorization: Bearer secret-token:...`: an access token of the instance
/// (from `POST .../private/token`), or the administrator token for the `admin` instance.
#[derive(SecurityScheme)]
#[oai(
    rename = "merchantToken",
    ty = "bearer",
    bearer_format = "secret-token",
    checker = "not_empty_bearer"
)]
pub struct MerchantToken(pub Bearer);

/// HTTP Basic with the instance id as user name and the instance password.
#[derive(SecurityScheme)]
#[oai(rename = "instancePassword", ty = "basic")]
pub struct InstancePassword(pub Basic);

/// The credentials `POST .../private/token` accepts.
#[derive(SecurityScheme)]
pub enum TokenCredentials {
    Password(InstancePassword),
    Token(MerchantToken),
}

async fn not_empty_bearer(_: &poem::Request, bearer: Bearer) -> Option<Bearer> {
    (!bearer.token.is_empty()).then_some(bearer)
}

/// A permission named as in the merchant spec (`pots-write`, `reports-read`, ...).
pub type Permission = &'static str;

pub const INSTANCES_READ: Permission = "instances-read";
pub const INSTANCES_WRITE: Permission = "instances-write";
/// What patch-management-instances-INSTANCE requires to reconfigure an instance.
pub const INSTANCES_TOKEN_WRITE: Permission = "instances-token-write";
pub const TOKEN_REFRESH: Permission = "token-refresh";
/// What post-management-instances-INSTANCE-auth requires.
pub const INSTANCES_AUTH_WRITE: Permission = "instances-auth-write";

/// What post-private-products-PRODUCT_ID-lock requires (the point of sale's cart).
pub const PRODUCTS_LOCK: Permission = "products-lock";

/// Every permission the scope grammar knows, for scope-subset checks.
const ALL_PERMISSIONS: &[Permission] = &[
    INSTANCES_READ,
    INSTANCES_WRITE,
    INSTANCES_TOKEN_WRITE,
    INSTANCES_AUTH_WRITE,
    TOKEN_REFRESH,
    "pots-read",
    "pots-write",
    "reports-read",
    "reports-write",
    "templates-read",
    "templates-write",
    "otp-devices-read",
    "otp-devices-write",
    "products-read",
    "products-write",
    "categories-read",
    "categories-write",
    "orders-read",
    "orders-write",
    "accounts-read",
    "accounts-write",
    "orders-refund",
    PRODUCTS_LOCK,
    "tokens-read",
    "tokens-write",
    "webhooks-read",
    "webhooks-write",
];

/// A token scope: `readonly`, `write`, `all`, `order-simple`, `order-pos`,
/// `order-mgmt` or `order-full`, optionally with the `:refreshable` suffix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    base: &'static str,
    refreshable: bool,
}

impl Scope {
    pub const BASES: &'static [&'static str] = &[
        "readonly",
        "write",
        "all",
        "order-simple",
        "order-pos",
        "order-mgmt",
        "order-full",
    ];

    pub fn parse(s: &str) -> Option<Scope> {
        let (base, refreshable) = match s.strip_suffix(":refreshable") {
            Some(base) => (base, true),
            None => (s, false),
        };
        let base = *Self::BASES.iter().find(|b| **b == base)?;
        Some(Scope { base, refreshable })
    }

    /// What the administrator token can do on the `admin` instance.
    pub fn administrator() -> Scope {
        Scope {
            base: "all",
            refreshable: true,
        }
    }

    pub fn with_refreshable(mut self, refreshable: bool) -> Scope {
        self.refreshable |= refreshable;
        self
    }

    /// The scope without its `:refreshable` suffix.
    pub fn base(&self) -> &'static str {
        self.base
    }

    pub fn refreshable(&self) -> bool {
        self.refreshable
    }

    pub fn grants(&self, permission: Permission) -> bool {
        if permission == TOKEN_REFRESH {
            return self.refreshable;
        }
        let order_simple = matches!(permission, "orders-read" | "orders-write");
        match self.base {
            "all" | "write" => true,
            "readonly" => permission.ends_with("-read"),
            "order-simple" => order_simple,
            "order-pos" => order_simple || permission == PRODUCTS_LOCK,
            "order-mgmt" => order_simple || permission == "orders-refund",
            "order-full" => order_simple || matches!(permission, PRODUCTS_LOCK | "orders-refund"),
            _ => false,
        }
    }

    /// Every stored scope (with and without `:refreshable`) that grants `permission`.
    pub fn granting(permission: Permission) -> Vec<&'static str> {
        const REFRESHABLE: &[&str] = &[
            "readonly:refreshable",
            "write:refreshable",
            "all:refreshable",
            "order-simple:refreshable",
            "order-pos:refreshable",
            "order-mgmt:refreshable",
            "order-full:refreshable",
        ];
        Self::BASES
            .iter()
            .chain(REFRESHABLE)
            .copied()
            .filter(|s| Scope::parse(s).is_some_and(|scope| scope.grants(permission)))
            .collect()
    }

    /// True when every permission of `other` is also one of ours.
    pub fn covers(&self, other: &Scope) -> bool {
        ALL_PERMISSIONS
            .iter()
            .all(|p| !other.grants(p) || self.grants(p))
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.base)?;
        if self.refreshable {
            f.write_str(":refreshable")?;
        }
        Ok(())
    }
}

/// A request allowed to act on an instance.
pub struct Access {
    pub instance: Instance,
    pub scope: Scope,
    /// Digest of the presented token; `None` for the configured administrator token.
    pub token_hash: Option<Vec<u8>>,
}

/// 404 `TALER_EC_MERCHANT_GENERIC_INSTANCE_UNKNOWN`.
pub fn instance_unknown(instance_id: &str) -> ApiError {
    ApiError::new(
        ErrorCode::MerchantGenericInstanceUnknown,
        format!("instance `{instance_id}` is unknown"),
    )
}

/// Finds the instance, or 404 `TALER_EC_MERCHANT_GENERIC_INSTANCE_UNKNOWN`.
pub async fn instance(state: &AppState, instance_id: &str) -> Result<Instance, ApiError> {
    store::instances::find_active(&state.db, instance_id)
        .await
        .map_err(ApiError::db_fetch)?
        .ok_or_else(|| instance_unknown(instance_id))
}

/// Checks a bearer token against an instance: 404 for an unknown instance, 401 for a
/// token that is malformed, unknown, expired or another instance's, 403 when the
/// token's scope lacks `permission`.
pub async fn authorize(
    state: &AppState,
    instance_id: &str,
    token: &MerchantToken,
    permission: Permission,
) -> Result<Access, ApiError> {
    let token = token.0.token.as_str();
    let hash = secret::token_hash(token);
    // The instance and the token in one query (`store::access`).
    let (instance, stored) = store::access::instance_with_token(&state.db, instance_id, &hash)
        .await
        .map_err(ApiError::db_fetch)?
        .ok_or_else(|| instance_unknown(instance_id))?;
    check_prefix_unless_external(&instance, token)?;
    require(access_of(state, instance, token, hash, stored)?, permission)
}

/// [`authorize`] and an insert into the instance's rows. On PostgreSQL one statement
/// does both when the request is allowed (`store::access::insert_authorized`, whose
/// SQL gate is this check); when it wrote nothing, the ordinary check runs to say why
/// (the same answers in the same order), and if that allows the request (a name taken,
/// or a token that expired at that very second) the insert is tried on its own. On
/// SQLite, the check and then the insert. The new row's key, or `None` when it
/// clashed with a unique index (a name taken) and nothing was written.
pub async fn authorize_insert<E: sea_orm::EntityTrait>(
    state: &AppState,
    instance_id: &str,
    token: &MerchantToken,
    permission: Permission,
    insert: store::access::Insert<E>,
) -> Result<Option<i64>, ApiError>
where
    E::Column: sea_orm::Iden + 'static,
{
    if state.db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        let presented = token.0.token.as_str();
        let gate = store::access::Gate {
            prefixed: presented.starts_with(secret::TOKEN_PREFIX),
            administrator: instance_id == DEFAULT_INSTANCE
                && secret::is_configured_token(presented, state.config.merchant_admin_token()),
            external: EXTERNAL_AUTH,
            permission,
            scopes: Scope::granting(permission),
            now_s: Timestamp::now().to_db(),
        };
        let hash = secret::token_hash(presented);
        let written =
            store::access::insert_authorized(&state.db, instance_id, &hash, &gate, insert.clone())
                .await
                .map_err(ApiError::db_store)?;
        if written.is_some() {
            return Ok(written);
        }
    }
    let access = authorize(state, instance_id, token, permission).await?;
    store::access::insert_plain(&state.db, access.instance.instance_serial, insert)
        .await
        .map_err(ApiError::db_store)
}

/// [`authorize`] for operations on one object whose spec page answers an unknown
/// instance with the object's own 404 (`unknown`), as the pot, template and OTP
/// device pages do.
pub async fn authorize_object(
    state: &AppState,
    instance_id: &str,
    token: &MerchantToken,
    permission: Permission,
    unknown: impl FnOnce() -> ApiError,
) -> Result<Access, ApiError> {
    authorize(state, instance_id, token, permission)
        .await
        .map_err(|e| instance_unknown_as(e, unknown))
}

/// [`authorize_object`] for objects named by a serial (`$POT_ID`, `$REPORT_ID`):
/// also returns the serial as stored. Serials are positive 63-bit integers, so a larger
/// id names no object.
pub async fn authorize_serial(
    state: &AppState,
    instance_id: &str,
    token: &MerchantToken,
    permission: Permission,
    id: u64,
    unknown: impl Fn() -> ApiError,
) -> Result<(Access, i64), ApiError> {
    let access = authorize_object(state, instance_id, token, permission, &unknown).await?;
    let serial = i64::try_from(id).map_err(|_| unknown())?;
    Ok((access, serial))
}

/// Replaces 404 `TALER_EC_MERCHANT_GENERIC_INSTANCE_UNKNOWN` by the object's own error.
pub fn instance_unknown_as(err: ApiError, unknown: impl FnOnce() -> ApiError) -> ApiError {
    if err.code() == ErrorCode::MerchantGenericInstanceUnknown.number() {
        unknown()
    } else {
        err
    }
}

/// 401 unless `token` has the `secret-token:` prefix every Taler token carries.
fn check_prefix(token: &str) -> Result<(), ApiError> {
    if token.starts_with(secret::TOKEN_PREFIX) {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::GenericTokenMalformed,
            "access tokens start with `secret-token:`",
        ))
    }
}

/// Whether the instance leaves authentication to a reverse proxy (the `external`
/// method): the backend then checks no credentials for it, as the reference does.
pub fn is_external(instance: &Instance) -> bool {
    instance.password_hash == EXTERNAL_AUTH
}

fn check_prefix_unless_external(instance: &Instance, token: &str) -> Result<(), ApiError> {
    if is_external(instance) {
        Ok(())
    } else {
        check_prefix(token)
    }
}

/// Identifies the bearer of `token` on `instance`.
pub async fn authenticate(
    state: &AppState,
    instance: Instance,
    token: &str,
) -> Result<Access, ApiError> {
    check_prefix_unless_external(&instance, token)?;
    if is_administrator(state, &instance, token) {
        return Ok(administrator(instance));
    }
    // The lookup is by digest, so its timing says nothing about the secret.
    let hash = secret::token_hash(token);
    let stored = store::tokens::find_by_hash(&state.db, &hash)
        .await
        .map_err(ApiError::db_fetch)?
        .filter(|t| t.instance_serial == instance.instance_serial)
        .map(|t| TokenRow {
            scope: t.scope,
            expiration: t.expiration,
        });
    access_of(state, instance, token, hash, stored)
}

/// Is `token` the configured administrator token, presented on the `admin` instance?
fn is_administrator(state: &AppState, instance: &Instance, token: &str) -> bool {
    instance.instance_id == DEFAULT_INSTANCE
        && secret::is_configured_token(token, state.config.merchant_admin_token())
}

fn administrator(instance: Instance) -> Access {
    Access {
        instance,
        scope: Scope::administrator(),
        token_hash: None,
    }
}

/// The access a presented token gives on `instance`, given its stored row (if any):
/// the administrator token on `admin`, else a stored, unexpired token of the instance.
fn access_of(
    state: &AppState,
    instance: Instance,
    token: &str,
    hash: Vec<u8>,
    stored: Option<TokenRow>,
) -> Result<Access, ApiError> {
    if is_administrator(state, &instance, token) || is_external(&instance) {
        return Ok(administrator(instance));
    }
    let stored = stored.ok_or_else(|| {
        ApiError::new(
            ErrorCode::GenericTokenUnknown,
            "the access token is not valid for this instance",
        )
    })?;
    if Timestamp::from_db(stored.expiration) <= Timestamp::now() {
        return Err(ApiError::new(
            ErrorCode::GenericTokenExpired,
            "the access token has expired",
        ));
    }
    let scope = Scope::parse(&stored.scope).ok_or_else(|| {
        ApiError::new(
            ErrorCode::GenericInternalInvariantFailure,
            "stored token scope is invalid",
        )
    })?;
    Ok(Access {
        instance,
        scope,
        token_hash: Some(hash),
    })
}

/// 403 unless the access's scope grants `permission`.
fn require(access: Access, permission: Permission) -> Result<Access, ApiError> {
    if access.scope.grants(permission) {
        Ok(access)
    } else {
        Err(ApiError::new(
            ErrorCode::GenericTokenPermissionInsufficient,
            format!(
                "the token's scope `{}` does not grant `{permission}`",
                access.scope
            ),
        ))
    }
}

/// [`authorize_object`] and the object's fetch in one database round trip: `fetch` is
/// the store's joined lookup (see `store::access`), given the presented token's digest.
/// The same answers, in the same order: the object's 404 for an unknown instance, 401,
/// 403, then the object's 404.
pub async fn authorize_found<M>(
    state: &AppState,
    token: &MerchantToken,
    permission: Permission,
    fetch: impl AsyncFnOnce(Vec<u8>) -> Result<Option<store::access::Found<M>>, sea_orm::DbErr>,
    unknown: impl Fn() -> ApiError,
) -> Result<(Access, M, sea_orm::QueryResult), ApiError> {
    let token = token.0.token.as_str();
    let hash = secret::token_hash(token);
    let found = fetch(hash.clone())
        .await
        .map_err(ApiError::db_fetch)?
        .ok_or_else(&unknown)?;
    check_prefix_unless_external(&found.instance, token)?;
    let access = require(
        access_of(state, found.instance, token, hash, found.token)?,
        permission,
    )?;
    let object = found.object.ok_or_else(unknown)?;
    Ok((access, object, found.row))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SQL gate of an authorized insert lists the scopes that grant a permission:
    /// every stored scope, refreshable or not, that `grants` it, and no other.
    #[test]
    fn granting_lists_every_scope_that_grants() {
        assert_eq!(Scope::BASES.len() * 2, 14);
        for permission in ALL_PERMISSIONS {
            let listed = Scope::granting(permission);
            for base in Scope::BASES {
                for scope in [base.to_string(), format!("{base}:refreshable")] {
                    let grants = Scope::parse(&scope).unwrap().grants(permission);
                    assert_eq!(
                        listed.contains(&scope.as_str()),
                        grants,
                        "{scope} {permission}"
                    );
                }
            }
        }
        assert_eq!(
            Scope::granting("pots-write"),
            ["write", "all", "write:refreshable", "all:refreshable"]
        );
    }

    #[test]
    fn scopes_grant_what_the_spec_says() {
        let readonly = Scope::parse("readonly").unwrap();
        assert!(readonly.grants("pots-read"));
        assert!(!readonly.grants("pots-write"));
        assert!(!readonly.grants(TOKEN_REFRESH));
        let all = Scope::parse("all").unwrap();
        assert!(all.grants("pots-write") && all.grants("templates-write"));
        assert!(!all.grants(TOKEN_REFRESH));
        assert!(Scope::parse("write").unwrap().grants("reports-write"));
        assert!(
            Scope::parse("all:refreshable")
                .unwrap()
                .grants(TOKEN_REFRESH)
        );
        let pos = Scope::parse("order-pos").unwrap();
        assert!(pos.grants("orders-write") && pos.grants(PRODUCTS_LOCK));
        assert!(!pos.grants("pots-read") && !pos.grants("orders-refund"));
        assert!(Scope::parse("order-full").unwrap().grants("orders-refund"));
        assert!(Scope::parse("everything").is_none());
        assert!(Scope::parse("all:refreshable:refreshable").is_none());
    }

    #[test]
    fn covers_is_subset() {
        let all = Scope::parse("all:refreshable").unwrap();
        let readonly = Scope::parse("readonly").unwrap();
        assert!(all.covers(&readonly));
        assert!(!readonly.covers(&all));
        assert!(
            !Scope::parse("all")
                .unwrap()
                .covers(&Scope::parse("readonly:refreshable").unwrap())
        );
        assert!(
            !Scope::parse("order-pos")
                .unwrap()
                .covers(&Scope::parse("order-mgmt").unwrap())
        );
    }
}
