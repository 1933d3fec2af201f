//! Withdrawal operations: created by an account's owner, selected by a wallet (its
//! reserve key and exchange), then confirmed or aborted. Each change is one
//! conditional update on the row as it was read, so racing requests (a confirmation
//! against an abort, two selections) get one consistent outcome; the confirmation
//! itself happens inside the transfer's transaction (`transfers::book`).

use entities::{
    bank_transactions,
    bank_withdrawals::{self, ActiveModel, Column, Entity},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};

use crate::store::is_unique_violation;

pub type Withdrawal = bank_withdrawals::Model;

pub const PENDING: &str = "pending";
pub const SELECTED: &str = "selected";
pub const ABORTED: &str = "aborted";
pub const CONFIRMED: &str = "confirmed";

pub struct NewWithdrawal {
    pub withdrawal_id: String,
    pub account_id: i64,
    pub amount: Option<String>,
    pub suggested_amount: Option<String>,
    pub no_amount_to_wallet: bool,
    pub creation_date: i64,
}

pub async fn create(db: &impl ConnectionTrait, new: NewWithdrawal) -> Result<Withdrawal, DbErr> {
    ActiveModel {
        withdrawal_id: Set(new.withdrawal_id),
        account_id: Set(new.account_id),
        amount: Set(new.amount),
        suggested_amount: Set(new.suggested_amount),
        no_amount_to_wallet: Set(new.no_amount_to_wallet),
        status: Set(PENDING.to_owned()),
        creation_date: Set(new.creation_date),
        ..Default::default()
    }
    .insert(db)
    .await
}

pub async fn find(
    db: &impl ConnectionTrait,
    withdrawal_id: &str,
) -> Result<Option<Withdrawal>, DbErr> {
    Entity::find()
        .filter(Column::WithdrawalId.eq(withdrawal_id))
        .one(db)
        .await
}

/// What the wallet selects.
pub struct Selection {
    pub reserve_pub: String,
    pub exchange_account_id: i64,
    pub exchange_payto: String,
    /// The amount, when the operation has none yet.
    pub amount: Option<String>,
}

pub enum SelectOutcome {
    /// Selected now or before with the same choice (the row as it is now).
    Selected(Box<Withdrawal>),
    Unknown,
    Aborted,
    /// Selected before with another reserve key or exchange.
    OtherSelection,
    ReservePubReused,
}

/// Records the wallet's selection once: a `pending` operation becomes `selected`;
/// the same selection again answers the operation as it is.
pub async fn select(
    db: &impl ConnectionTrait,
    withdrawal_id: &str,
    selection: &Selection,
) -> Result<SelectOutcome, DbErr> {
    loop {
        let Some(w) = find(db, withdrawal_id).await? else {
            return Ok(SelectOutcome::Unknown);
        };
        if w.status != PENDING {
            let same = w.reserve_pub.as_deref() == Some(selection.reserve_pub.as_str())
                && w.exchange_account_id == Some(selection.exchange_account_id);
            return Ok(match w.status.as_str() {
                ABORTED => SelectOutcome::Aborted,
                _ if same => SelectOutcome::Selected(Box::new(w)),
                _ => SelectOutcome::OtherSelection,
            });
        }
        if reserve_pub_known(db, &selection.reserve_pub).await? {
            return Ok(SelectOutcome::ReservePubReused);
        }
        let mut update = Entity::update_many()
            .col_expr(Column::Status, SELECTED.into())
            .col_expr(Column::ReservePub, selection.reserve_pub.clone().into())
            .col_expr(
                Column::ExchangeAccountId,
                selection.exchange_account_id.into(),
            )
            .col_expr(
                Column::ExchangePayto,
                selection.exchange_payto.clone().into(),
            );
        if w.amount.is_none()
            && let Some(amount) = &selection.amount
        {
            update = update.col_expr(Column::Amount, amount.clone().into());
        }
        let result = update
            .filter(Column::WithdrawalSerial.eq(w.withdrawal_serial))
            .filter(Column::Status.eq(PENDING))
            .exec(db)
            .await;
        match result {
            Ok(r) if r.rows_affected > 0 => {}
            Ok(_) => continue,
            Err(e) if is_unique_violation(&e) => return Ok(SelectOutcome::ReservePubReused),
            Err(e) => return Err(e),
        }
        if let Some(w) = find(db, withdrawal_id).await? {
            return Ok(SelectOutcome::Selected(Box::new(w)));
        }
    }
}

/// Whether a withdrawal selected this reserve key, or a transfer carried it.
async fn reserve_pub_known(db: &impl ConnectionTrait, reserve_pub: &str) -> Result<bool, DbErr> {
    if Entity::find()
        .filter(Column::ReservePub.eq(reserve_pub))
        .one(db)
        .await?
        .is_some()
    {
        return Ok(true);
    }
    Ok(bank_transactions::Entity::find()
        .filter(bank_transactions::Column::ReservePub.eq(reserve_pub))
        .one(db)
        .await?
        .is_some())
}

pub enum AbortOutcome {
    /// Aborted now or before.
    Aborted(Box<Withdrawal>),
    Unknown,
    Confirmed,
}

/// Aborts a `pending` or `selected` operation (of `account_id`, when given).
pub async fn abort(
    db: &impl ConnectionTrait,
    withdrawal_id: &str,
    account_id: Option<i64>,
) -> Result<AbortOutcome, DbErr> {
    loop {
        let Some(w) = find(db, withdrawal_id).await? else {
            return Ok(AbortOutcome::Unknown);
        };
        if account_id.is_some_and(|a| a != w.account_id) {
            return Ok(AbortOutcome::Unknown);
        }
        match w.status.as_str() {
            ABORTED => return Ok(AbortOutcome::Aborted(Box::new(w))),
            CONFIRMED => return Ok(AbortOutcome::Confirmed),
            _ => {}
        }
        let swapped = Entity::update_many()
            .col_expr(Column::Status, ABORTED.into())
            .filter(Column::WithdrawalSerial.eq(w.withdrawal_serial))
            .filter(Column::Status.eq(w.status.clone()))
            .exec(db)
            .await?
            .rows_affected
            > 0;
        if swapped {
            return Ok(AbortOutcome::Aborted(Box::new(w)));
        }
    }
}

/// Inside a transfer's transaction: marks the `selected` operation `confirmed` with its
/// transfer; false (the caller rolls back) when it is no longer `selected`.
pub(super) async fn mark_confirmed(
    db: &impl ConnectionTrait,
    withdrawal_serial: i64,
    transfer_row_id: i64,
    date: i64,
    amount: &str,
) -> Result<bool, DbErr> {
    Ok(Entity::update_many()
        .col_expr(Column::Status, CONFIRMED.into())
        .col_expr(Column::TransferRowId, transfer_row_id.into())
        .col_expr(Column::ConfirmationDate, date.into())
        .col_expr(Column::Amount, amount.to_owned().into())
        .filter(Column::WithdrawalSerial.eq(withdrawal_serial))
        .filter(Column::Status.eq(SELECTED))
        .exec(db)
        .await?
        .rows_affected
        > 0)
}
