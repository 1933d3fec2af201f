//! The bank: the Taler Revenue API, in libeufin-bank's dialect.

pub mod account_admin;
pub mod accounts;
pub mod auth;
pub mod history;
pub mod revenue;
pub mod wire_gateway;

use poem::Endpoint;
use poem_openapi::{OpenApiService, Tags};

use crate::{
    State,
    http::{BodyErrorPolicy, MissingAuth, service_endpoint},
};

#[derive(Tags)]
pub enum ApiTags {
    /// The Taler Revenue API of an account.
    Revenue,
    /// Accounts, tokens and transfers (a subset of the core bank API).
    Accounts,
    /// The Taler Wire Gateway of an exchange's account.
    WireGateway,
}

pub type Api = (
    revenue::RevenueApi,
    accounts::AccountsApi,
    history::HistoryApi,
    wire_gateway::WireGatewayApi,
);

pub fn api(state: &State) -> Api {
    (
        revenue::RevenueApi(state.clone()),
        accounts::AccountsApi(state.clone()),
        history::HistoryApi(state.clone()),
        wire_gateway::WireGatewayApi(state.clone()),
    )
}

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
            payto_key: format!("payto://x-taler-bank/localhost/{ADMIN_ACCOUNT}"),
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

/// The full payto URI of an account, with its owner's name.
pub fn accounts_payto(account: &crate::store::bank::Account) -> String {
    payto_with_name(&account.payto_key, &account.name)
}

pub fn payto_with_name(payto_key: &str, name: &str) -> String {
    let name: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
    format!("{payto_key}?receiver-name={name}")
}

pub fn endpoint(service: OpenApiService<Api, ()>) -> impl Endpoint {
    service_endpoint(
        service,
        BodyErrorPolicy::ShapeJsonInvalid,
        MissingAuth::Unauthorized,
    )
}
