//! Bank accounts: create, find, change and delete them, and their balances as
//! signed integers of 10^-8 units.

use entities::{bank_accounts, bank_tokens, bank_transactions};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};

use crate::store::paged;
use crate::taler::pagination::Page;

pub type Account = bank_accounts::Model;
pub type Token = bank_tokens::Model;
pub type Transaction = bank_transactions::Model;

pub struct NewAccount {
    pub username: String,
    pub password_hash: String,
    pub name: String,
    pub payto_key: String,
    pub is_public: bool,
    pub is_taler_exchange: bool,
    /// How far below zero the balance may go, in units of 10^-8.
    pub debit_threshold: i128,
    /// `ChallengeContactData` as JSON.
    pub contact_data: Option<String>,
    /// TAN channels, comma-separated.
    pub tan_channels: Option<String>,
}

/// Units of 10^-8 per currency unit.
pub(super) const FRACTION_BASE: i128 = 100_000_000;

/// A signed amount in units of 10^-8 as stored: magnitude (value, fraction) and sign.
pub(super) fn signed(value: i64, frac: i32, negative: bool) -> i128 {
    let magnitude = i128::from(value) * FRACTION_BASE + i128::from(frac);
    if negative { -magnitude } else { magnitude }
}

/// The stored form of a magnitude in units of 10^-8.
pub(super) fn parts(magnitude: i128) -> (i64, i32) {
    let m = magnitude.unsigned_abs() as i128;
    ((m / FRACTION_BASE) as i64, (m % FRACTION_BASE) as i32)
}

/// An account's balance in units of 10^-8 (negative for a debt).
pub fn balance_of(a: &Account) -> i128 {
    signed(a.balance_value, a.balance_frac, a.has_debt)
}

/// How far below zero an account may go, in units of 10^-8.
pub fn threshold_of(a: &Account) -> i128 {
    signed(a.debit_threshold_value, a.debit_threshold_frac, false)
}

/// Whether the account may be debited `units` (10^-8) now, within its threshold.
pub fn can_afford(a: &Account, units: i128) -> bool {
    balance_of(a) - units >= -threshold_of(a)
}

pub enum CreateOutcome {
    Created,
    UsernameTaken,
    PaytoTaken,
}

pub async fn create_account(
    db: &impl ConnectionTrait,
    new: NewAccount,
) -> Result<CreateOutcome, DbErr> {
    let username = new.username.clone();
    let (threshold_value, threshold_frac) = parts(new.debit_threshold);
    let row = bank_accounts::ActiveModel {
        username: Set(new.username),
        password_hash: Set(new.password_hash),
        name: Set(new.name),
        payto_key: Set(new.payto_key),
        is_public: Set(new.is_public),
        is_taler_exchange: Set(new.is_taler_exchange),
        debit_threshold_value: Set(threshold_value),
        debit_threshold_frac: Set(threshold_frac),
        contact_data: Set(new.contact_data),
        tan_channels: Set(new.tan_channels),
        ..Default::default()
    };
    match row.insert(db).await {
        Ok(_) => Ok(CreateOutcome::Created),
        Err(err) if crate::store::is_unique_violation(&err) => {
            let taken = bank_accounts::Entity::find()
                .filter(bank_accounts::Column::Username.eq(username))
                .one(db)
                .await?;
            Ok(match taken {
                Some(_) => CreateOutcome::UsernameTaken,
                None => CreateOutcome::PaytoTaken,
            })
        }
        Err(err) => Err(err),
    }
}

pub async fn find_account(
    db: &impl ConnectionTrait,
    username: &str,
) -> Result<Option<Account>, DbErr> {
    bank_accounts::Entity::find()
        .filter(bank_accounts::Column::Username.eq(username))
        .filter(bank_accounts::Column::Deleted.eq(false))
        .one(db)
        .await
}

/// An account by id, deleted or not (the caller decides).
pub async fn find_account_by_id(
    db: &impl ConnectionTrait,
    account_id: i64,
) -> Result<Option<Account>, DbErr> {
    bank_accounts::Entity::find_by_id(account_id).one(db).await
}

pub async fn find_account_by_payto(
    db: &impl ConnectionTrait,
    payto_key: &str,
) -> Result<Option<Account>, DbErr> {
    bank_accounts::Entity::find()
        .filter(bank_accounts::Column::PaytoKey.eq(payto_key))
        .filter(bank_accounts::Column::Deleted.eq(false))
        .one(db)
        .await
}

/// What may change of an account (`None`: unchanged).
#[derive(Default)]
pub struct AccountChanges {
    pub name: Option<String>,
    pub is_public: Option<bool>,
    pub is_taler_exchange: Option<bool>,
    pub debit_threshold: Option<i128>,
    pub password_hash: Option<String>,
    /// `Some(None)` clears the contact data.
    pub contact_data: Option<Option<String>>,
    /// `Some(None)` turns the second factor off.
    pub tan_channels: Option<Option<String>>,
}

/// Applies changes to an account that is not deleted; false when there is none.
pub async fn update_account(
    db: &impl ConnectionTrait,
    account_id: i64,
    changes: AccountChanges,
) -> Result<bool, DbErr> {
    use bank_accounts::Column;
    let mut update = bank_accounts::Entity::update_many()
        .filter(Column::AccountId.eq(account_id))
        .filter(Column::Deleted.eq(false));
    let mut any = false;
    if let Some(name) = changes.name {
        update = update.col_expr(Column::Name, name.into());
        any = true;
    }
    if let Some(p) = changes.is_public {
        update = update.col_expr(Column::IsPublic, p.into());
        any = true;
    }
    if let Some(e) = changes.is_taler_exchange {
        update = update.col_expr(Column::IsTalerExchange, e.into());
        any = true;
    }
    if let Some(t) = changes.debit_threshold {
        let (value, frac) = parts(t);
        update = update
            .col_expr(Column::DebitThresholdValue, value.into())
            .col_expr(Column::DebitThresholdFrac, frac.into());
        any = true;
    }
    if let Some(c) = changes.contact_data {
        update = update.col_expr(Column::ContactData, c.into());
        any = true;
    }
    if let Some(t) = changes.tan_channels {
        update = update.col_expr(Column::TanChannels, t.into());
        any = true;
    }
    if let Some(h) = changes.password_hash {
        // A new password unlocks logins that wrong TAN codes locked.
        update = update
            .col_expr(Column::PasswordHash, h.into())
            .col_expr(Column::TanLoginFailures, 0i32.into());
        any = true;
    }
    if !any {
        return Ok(bank_accounts::Entity::find_by_id(account_id)
            .filter(Column::Deleted.eq(false))
            .one(db)
            .await?
            .is_some());
    }
    Ok(update.exec(db).await?.rows_affected > 0)
}

/// Removes an account that no transfer names (a registration whose bonus failed).
pub async fn remove_unused_account(
    db: &impl ConnectionTrait,
    account_id: i64,
) -> Result<(), DbErr> {
    use bank_transactions::Column;
    let used = bank_transactions::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(Column::DebtorAccountId.eq(account_id))
                .add(Column::CreditorAccountId.eq(account_id)),
        )
        .one(db)
        .await?
        .is_some();
    if !used {
        bank_tokens::Entity::delete_many()
            .filter(bank_tokens::Column::AccountId.eq(account_id))
            .exec(db)
            .await?;
        bank_accounts::Entity::delete_by_id(account_id)
            .exec(db)
            .await?;
    }
    Ok(())
}

pub enum DeleteOutcome {
    Deleted,
    /// The balance is not zero.
    BalanceNotZero,
    Unknown,
}

/// Marks an account with a zero balance deleted (in one statement, so a transfer at
/// the same moment either lands first and is refused, or finds the account gone) and
/// drops its tokens.
pub async fn delete_account(
    db: &impl ConnectionTrait,
    account_id: i64,
) -> Result<DeleteOutcome, DbErr> {
    use bank_accounts::Column;
    let deleted = bank_accounts::Entity::update_many()
        .col_expr(Column::Deleted, true.into())
        .filter(Column::AccountId.eq(account_id))
        .filter(Column::Deleted.eq(false))
        .filter(Column::BalanceValue.eq(0))
        .filter(Column::BalanceFrac.eq(0))
        .exec(db)
        .await?
        .rows_affected
        > 0;
    if deleted {
        bank_tokens::Entity::delete_many()
            .filter(bank_tokens::Column::AccountId.eq(account_id))
            .exec(db)
            .await?;
        return Ok(DeleteOutcome::Deleted);
    }
    let exists = bank_accounts::Entity::find_by_id(account_id)
        .filter(Column::Deleted.eq(false))
        .one(db)
        .await?
        .is_some();
    Ok(if exists {
        DeleteOutcome::BalanceNotZero
    } else {
        DeleteOutcome::Unknown
    })
}

/// One page of the accounts (by id) not deleted, optionally only public ones and
/// those whose name contains `name_filter` (case-insensitively).
pub async fn list_accounts(
    db: &impl ConnectionTrait,
    public_only: bool,
    name_filter: Option<&str>,
    page: Page,
) -> Result<Vec<Account>, DbErr> {
    use bank_accounts::Column;
    let mut query = bank_accounts::Entity::find().filter(Column::Deleted.eq(false));
    if public_only {
        query = query.filter(Column::IsPublic.eq(true));
    }
    if let Some(filter) = name_filter {
        query = query.filter(crate::store::contains_folded(Column::Name, filter));
    }
    paged(query, Column::AccountId, page).all(db).await
}

/// A code tried on a login challenge: a wrong one counts, a right one clears the count.
pub async fn record_login_code(
    db: &impl ConnectionTrait,
    account_id: i64,
    right: bool,
) -> Result<(), DbErr> {
    use bank_accounts::Column;
    use sea_orm::sea_query::{Expr, ExprTrait};
    let value = if right {
        Expr::value(0i32)
    } else {
        Expr::col(Column::TanLoginFailures).add(Expr::value(1i32))
    };
    bank_accounts::Entity::update_many()
        .col_expr(Column::TanLoginFailures, value)
        .filter(Column::AccountId.eq(account_id))
        .exec(db)
        .await?;
    Ok(())
}
