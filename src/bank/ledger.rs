//! The bank's ledger: its own `admin` account, where money comes from and fees go,
//! amounts as integers of 10^-8 units, and the registration bonus.

use crate::{bank::payto::PAYTO_HOST, state::State};

/// The bank's own account: the source of registration bonuses and the receiver of
/// fees, so that all balances always sum to zero.
pub const ADMIN_ACCOUNT: &str = "admin";

/// An amount in units of 10^-8.
pub fn units(amount: &crate::taler::Amount) -> i128 {
    i128::from(amount.value()) * 100_000_000 + i128::from(amount.fraction())
}

/// A magnitude in units of 10^-8 as an amount (saturating at Taler's maximum).
pub fn amount_of(currency: &str, units: i128) -> crate::taler::Amount {
    let m = units.unsigned_abs();
    let value = u64::try_from(m / 100_000_000)
        .unwrap_or(u64::MAX)
        .min(crate::taler::amount::MAX_VALUE);
    crate::taler::Amount::new(currency, value, (m % 100_000_000) as u32)
        .expect("the configured currency, within limits")
}

/// Creates the administrator's account if it does not exist, and returns its id. Its
/// debit threshold is Taler's largest amount: it is where money comes from.
pub async fn ensure_admin_account(db: &sea_orm::DatabaseConnection) -> Result<i64, sea_orm::DbErr> {
    if let Some(admin) = crate::store::bank::find_account(db, ADMIN_ACCOUNT).await? {
        return Ok(admin.account_id);
    }
    let max = i128::from(crate::taler::amount::MAX_VALUE) * 100_000_000;
    // A password nobody knows: the administrator acts with the administrator token.
    let password_hash =
        crate::taler::secret::hash_password(&crate::taler::secret::generate_token());
    crate::store::bank::create_account(
        db,
        crate::store::bank::NewAccount {
            username: ADMIN_ACCOUNT.to_owned(),
            password_hash,
            name: "Bank administrator".to_owned(),
            payto_key: format!("payto://x-taler-bank/{PAYTO_HOST}/{ADMIN_ACCOUNT}"),
            is_public: false,
            is_taler_exchange: false,
            debit_threshold: max,
            contact_data: None,
        },
    )
    .await?;
    crate::store::bank::find_account(db, ADMIN_ACCOUNT)
        .await?
        .map(|a| a.account_id)
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound(ADMIN_ACCOUNT.to_owned()))
}

/// Pays a new account's registration bonus from the administrator's account.
pub async fn registration_bonus(
    state: &State,
    username: &str,
    bonus: &crate::taler::Amount,
) -> Result<(), crate::taler::ApiError> {
    use crate::{store::bank as store, taler::ApiError};
    let account = store::find_account(&state.db, username)
        .await
        .map_err(ApiError::db_fetch)?
        .ok_or_else(|| ApiError::db_fetch("the new account vanished"))?;
    store::transfer(
        &state.db,
        store::NewTransfer {
            debtor: state.bank_admin_account,
            creditor: account.account_id,
            amount: bonus.to_string(),
            amount_units: units(bonus),
            credit_fee: None,
            fee_units: 0,
            fee_account: None,
            subject: "Registration bonus.".to_owned(),
            date: crate::taler::Timestamp::now().to_db(),
            request_uid: None,
            taler: Default::default(),
        },
    )
    .await
    .map_err(ApiError::db_store)?;
    if let Err(e) = state.incoming.notify(&state.db, account.account_id).await {
        tracing::warn!(error = %e, "could not notify long pollers");
    }
    Ok(())
}
