//! The one password check every service makes: a credential verified within the last
//! minute passes at once; otherwise throttle first (a throttled attempt costs no
//! hashing), then the bounded hashing pool, then count a failure.

use poem::http::StatusCode;

use super::{
    ApiError, ErrorCode,
    password::{Busy, PasswordPool},
    throttle::{LoginThrottle, current_peer},
    verified::VerifiedCredentials,
};

/// Seconds a client is asked to wait when every password worker is busy.
pub const BUSY_RETRY_AFTER_SECS: u64 = 1;

/// The answer when the hashing queue is full: 503 with `Retry-After`.
pub fn busy() -> ApiError {
    ApiError::with_status(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::GenericUnauthorized,
        "the server is checking too many passwords right now; try again shortly",
    )
    .retry_after(BUSY_RETRY_AFTER_SECS)
}

impl From<Busy> for ApiError {
    fn from(_: Busy) -> ApiError {
        busy()
    }
}

/// Password logins of one server: the hashing pool and the throttle.
pub struct Logins {
    pub pool: PasswordPool,
    pub throttle: LoginThrottle,
    pub verified: VerifiedCredentials,
}

impl Logins {
    /// Checks a password login on `account` of `service`: 429 while throttled, 503 when
    /// the hashing pool is full, `unauthorized()` for a wrong user name or password.
    pub async fn check(
        &self,
        service: &'static str,
        account: &str,
        presented_user: &str,
        password: &str,
        phc: &str,
        unauthorized: impl FnOnce() -> ApiError,
    ) -> Result<(), ApiError> {
        if presented_user == account && self.verified.contains(service, account, password, phc) {
            return Ok(());
        }
        let peer = current_peer();
        self.throttle.check(service, account, peer).await?;
        let valid = presented_user == account
            && self
                .verified
                .check_once(service, account, password, phc, || {
                    self.pool.verify(password, phc)
                })
                .await?;
        if valid {
            // Others may have filled the window while this one was hashed.
            self.throttle.check(service, account, peer).await?;
            self.verified.insert(service, account, password, phc);
            Ok(())
        } else {
            self.throttle.failed(service, account, peer).await?;
            Err(unauthorized())
        }
    }

    /// An argon2id hash of a new password, on the same bounded pool.
    pub async fn hash(&self, password: &str) -> Result<String, ApiError> {
        Ok(self.pool.hash(password).await?)
    }
}
