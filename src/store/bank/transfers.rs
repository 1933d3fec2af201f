//! Transfers: every movement of money between two balances, in one database
//! transaction, idempotent by request uid where the Wire Gateway asks for it.

use entities::{bank_accounts, bank_transactions};
use migration::calendar::timeframe_starts;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, Set, Statement, TransactionTrait, Value,
};

use super::accounts::{balance_of, parts, threshold_of};

/// Taler's largest amount (2^52 and a fraction) in units of 10^-8.
const MAX_BALANCE: i128 = ((1i128 << 52) + 1) * 100_000_000 - 1;

pub struct NewTransfer {
    pub debtor: i64,
    pub creditor: i64,
    pub amount: String,
    /// The amount in units of 10^-8.
    pub amount_units: i128,
    pub credit_fee: Option<String>,
    /// The fee in units of 10^-8 (0 without one).
    pub fee_units: i128,
    /// Who receives the fee (the bank's administrator account).
    pub fee_account: Option<i64>,
    pub subject: String,
    pub date: i64,
    pub request_uid: Option<String>,
    /// Taler metadata (Wire Gateway).
    pub taler: TalerMetadata,
    /// A transfer to an exchange through the core API: unless its subject named a
    /// reserve or KYC key (`taler`) not used before, the bank returns what the exchange
    /// received to the debtor in the same database transaction, as libeufin-bank does,
    /// so that no money sits in an exchange's account that the exchange cannot see.
    pub bounce_unless_incoming: bool,
    /// The withdrawal operation this transfer confirms: it becomes `confirmed` in the
    /// transfer's transaction, or nothing happens (`WithdrawalNotSelected`).
    pub withdrawal: Option<i64>,
    /// The solved TAN challenge this transfer goes through with: used up in the
    /// transfer's transaction, or nothing happens (`ChallengeUsed`).
    pub challenge: Option<i64>,
}

/// What the Wire Gateway records of a transfer.
#[derive(Debug, Clone, Default)]
pub struct TalerMetadata {
    pub wtid: Option<String>,
    pub exchange_base_url: Option<String>,
    pub reserve_pub: Option<String>,
    pub account_pub: Option<String>,
}

pub enum TransferOutcome {
    /// The transfer's row id and date (also for an idempotent repeat).
    Done(i64, i64),
    /// The request uid was used before for a different transfer.
    RequestUidReused,
    /// The exchange used this wire transfer identifier before.
    WtidReused,
    /// The creditor received a transfer with this reserve public key before.
    ReservePubReused,
    /// The debtor would go below its debit threshold, or a balance beyond Taler's
    /// largest amount.
    UnallowedDebit,
    /// The withdrawal operation to confirm was no longer `selected` (aborted or
    /// confirmed by a racing request): nothing moved.
    WithdrawalNotSelected,
    /// A racing request went through with the same solved challenge: nothing moved.
    ChallengeUsed,
}

/// Records a transfer and moves the money, in one database transaction: the debtor's
/// balance down (refused below its debit threshold), the creditor's up (minus the
/// fee), the fee to the fee account. A repeated `request_uid` with the same details
/// answers the first transfer's row id and moves nothing.
///
/// The transfer row is written first, so that on SQLite the transaction holds the
/// write lock before it reads balances. On PostgreSQL one statement does it all (the
/// database's `bank_transfer`), locking the balances in account order, so concurrent
/// transfers neither lose an update nor deadlock; it notifies `channel` (the long
/// pollers' channel, if they listen on one) of both accounts when it commits. The
/// caller wakes the pollers itself otherwise.
pub async fn transfer(
    db: &DatabaseConnection,
    channel: Option<&str>,
    new: NewTransfer,
) -> Result<TransferOutcome, DbErr> {
    let is_incoming = new.taler.reserve_pub.is_some() || new.taler.account_pub.is_some();
    let cause = (new.bounce_unless_incoming && !is_incoming)
        .then_some("malformed metadata: no reserve public key in the subject");
    match book(db, channel, &new, cause).await? {
        // The key was used before: the money goes back instead.
        TransferOutcome::ReservePubReused if new.bounce_unless_incoming => {
            let plain = NewTransfer {
                taler: TalerMetadata::default(),
                ..new
            };
            book(db, channel, &plain, Some("reserve public key reuse")).await
        }
        outcome => Ok(outcome),
    }
}

/// [`transfer`], once: with `bounce`, the creditor returns what it received at once,
/// with a subject naming the transfer and the reason.
async fn book(
    db: &DatabaseConnection,
    channel: Option<&str>,
    new: &NewTransfer,
    bounce: Option<&str>,
) -> Result<TransferOutcome, DbErr> {
    if db.get_database_backend() == DatabaseBackend::Postgres {
        return book_in_one_statement(db, channel, new, bounce).await;
    }
    let row = bank_transactions::ActiveModel {
        debtor_account_id: Set(new.debtor),
        creditor_account_id: Set(new.creditor),
        amount: Set(new.amount.clone()),
        credit_fee: Set(new.credit_fee.clone()),
        subject: Set(new.subject.clone()),
        date: Set(new.date),
        request_uid: Set(new.request_uid.clone()),
        wtid: Set(new.taler.wtid.clone()),
        exchange_base_url: Set(new.taler.exchange_base_url.clone()),
        reserve_pub: Set(new.taler.reserve_pub.clone()),
        account_pub: Set(new.taler.account_pub.clone()),
        ..Default::default()
    };
    let txn = db.begin().await?;
    let row_id = match row.insert(&txn).await {
        Ok(t) => t.row_id,
        Err(err) if crate::store::is_unique_violation(&err) => {
            txn.rollback().await?;
            return repeated(db, new).await;
        }
        Err(err) => return Err(err),
    };
    let mut deltas: Vec<(i64, i128)> = vec![
        (new.debtor, -new.amount_units),
        (new.creditor, new.amount_units - new.fee_units),
    ];
    if new.fee_units > 0 {
        let fee_account = new.fee_account.unwrap_or(new.debtor);
        match deltas.iter_mut().find(|(a, _)| *a == fee_account) {
            Some(entry) => entry.1 += new.fee_units,
            None => deltas.push((fee_account, new.fee_units)),
        }
    }
    deltas.sort();
    for (account, delta) in deltas {
        if !change_balance(&txn, account, delta, account == new.debtor).await? {
            txn.rollback().await?;
            return Ok(TransferOutcome::UnallowedDebit);
        }
    }
    // The monitor's statistics: what reached an exchange as Taler money, what left one.
    if bounce.is_none() && (new.taler.reserve_pub.is_some() || new.taler.account_pub.is_some()) {
        super::stats::add(
            &txn,
            super::stats::Direction::In,
            new.date,
            new.amount_units,
        )
        .await?;
    }
    if new.taler.wtid.is_some() {
        super::stats::add(
            &txn,
            super::stats::Direction::Out,
            new.date,
            new.amount_units,
        )
        .await?;
    }
    if let Some(serial) = new.withdrawal
        && !super::withdrawals::mark_confirmed(&txn, serial, row_id, new.date, &new.amount).await?
    {
        txn.rollback().await?;
        return Ok(TransferOutcome::WithdrawalNotSelected);
    }
    if let Some(serial) = new.challenge
        && !super::challenges::consume(&txn, serial, new.date).await?
    {
        txn.rollback().await?;
        return Ok(TransferOutcome::ChallengeUsed);
    }
    if let Some(cause) = bounce {
        // What the exchange received goes back; the rows it touches are this
        // transaction's already, so the order of the locks stays the same.
        let received = new.amount_units - new.fee_units;
        bank_transactions::ActiveModel {
            debtor_account_id: Set(new.creditor),
            creditor_account_id: Set(new.debtor),
            amount: Set(bounced_amount(new)?),
            credit_fee: Set(None),
            subject: Set(format!("Bounce {row_id}: {cause}")),
            date: Set(new.date),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let mut back = [(new.creditor, -received), (new.debtor, received)];
        back.sort();
        for (account, delta) in back {
            change_balance(&txn, account, delta, false).await?;
        }
    }
    txn.commit().await?;
    Ok(TransferOutcome::Done(row_id, new.date))
}

/// What a bounce returns: what the creditor received (the amount less the fee).
fn bounced_amount(new: &NewTransfer) -> Result<String, DbErr> {
    let (value, frac) = parts(new.amount_units - new.fee_units);
    let currency = new.amount.split(':').next().unwrap_or_default();
    crate::taler::Amount::new(currency, value as u64, frac as u32)
        .map(|a| a.to_string())
        .map_err(|e| DbErr::Custom(format!("bounce amount: {e}")))
}

/// [`book`] on PostgreSQL: one call of the database's `bank_transfer` (migration
/// 000029), which takes the same steps in the same order with the same refusals, and
/// notifies `channel`. A dozen round trips in the server held the accounts' row locks
/// for as long; one holds them for the function's own time.
async fn book_in_one_statement(
    db: &DatabaseConnection,
    channel: Option<&str>,
    new: &NewTransfer,
    bounce: Option<&str>,
) -> Result<TransferOutcome, DbErr> {
    let incoming = new.taler.reserve_pub.is_some() || new.taler.account_pub.is_some();
    let starts = timeframe_starts(new.date);
    // The function names the four timeframes in this order.
    debug_assert_eq!(starts.map(|(t, _)| t), ["hour", "day", "month", "year"]);
    let bounce_amount = bounce.map(|_| bounced_amount(new)).transpose()?;
    let t = &new.taler;
    let mut values: Vec<Value> = vec![
        new.debtor.into(),
        new.creditor.into(),
        new.amount.clone().into(),
        new.amount_units.to_string().into(),
        new.credit_fee.clone().into(),
        new.fee_units.to_string().into(),
        new.fee_account.into(),
        new.subject.clone().into(),
        new.date.into(),
        new.request_uid.clone().into(),
        t.wtid.clone().into(),
        t.exchange_base_url.clone().into(),
        t.reserve_pub.clone().into(),
        t.account_pub.clone().into(),
        bounce.map(str::to_owned).into(),
        bounce_amount.into(),
        new.withdrawal.into(),
        new.challenge.into(),
        (bounce.is_none() && incoming).into(),
        t.wtid.is_some().into(),
    ];
    values.extend(starts.map(|(_, start)| Value::from(start)));
    values.push(MAX_BALANCE.to_string().into());
    values.push(channel.map(str::to_owned).into());
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT out_outcome, out_row_id FROM bank_transfer($1, $2, $3, $4::NUMERIC, \
             $5, $6::NUMERIC, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, \
             $20, $21, $22, $23, $24, $25::NUMERIC, $26)",
            values,
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("bank_transfer returned no row".to_owned()))?;
    let outcome: String = row.try_get("", "out_outcome")?;
    Ok(match outcome.as_str() {
        "done" => TransferOutcome::Done(row.try_get("", "out_row_id")?, new.date),
        "collision" => return repeated(db, new).await,
        "unallowed" => TransferOutcome::UnallowedDebit,
        "withdrawal" => TransferOutcome::WithdrawalNotSelected,
        "challenge" => TransferOutcome::ChallengeUsed,
        other => return Err(DbErr::Custom(format!("bank_transfer: `{other}`"))),
    })
}

/// Why a transfer's row collided with an earlier one: the same request again (its
/// first answer), or a reused request uid, wire transfer identifier or reserve key.
async fn repeated(db: &DatabaseConnection, new: &NewTransfer) -> Result<TransferOutcome, DbErr> {
    use bank_transactions::Column;
    if let Some(uid) = &new.request_uid
        && let Some(p) = bank_transactions::Entity::find()
            .filter(Column::DebtorAccountId.eq(new.debtor))
            .filter(Column::RequestUid.eq(uid.clone()))
            .one(db)
            .await?
    {
        let same = p.creditor_account_id == new.creditor
            && p.amount == new.amount
            && p.subject == new.subject
            && p.wtid == new.taler.wtid
            && p.exchange_base_url == new.taler.exchange_base_url;
        return Ok(if same {
            TransferOutcome::Done(p.row_id, p.date)
        } else {
            TransferOutcome::RequestUidReused
        });
    }
    if let Some(wtid) = &new.taler.wtid
        && bank_transactions::Entity::find()
            .filter(Column::DebtorAccountId.eq(new.debtor))
            .filter(Column::Wtid.eq(wtid.clone()))
            .one(db)
            .await?
            .is_some()
    {
        return Ok(TransferOutcome::WtidReused);
    }
    if let Some(reserve_pub) = &new.taler.reserve_pub
        && reserve_pub_used(db, new.creditor, reserve_pub).await?
    {
        return Ok(TransferOutcome::ReservePubReused);
    }
    Err(DbErr::Custom(
        "a transfer collided with no earlier one".to_owned(),
    ))
}

/// Whether `creditor` received a transfer with this reserve public key.
pub async fn reserve_pub_used(
    db: &impl ConnectionTrait,
    creditor: i64,
    reserve_pub: &str,
) -> Result<bool, DbErr> {
    Ok(bank_transactions::Entity::find()
        .filter(bank_transactions::Column::CreditorAccountId.eq(creditor))
        .filter(bank_transactions::Column::ReservePub.eq(reserve_pub))
        .one(db)
        .await?
        .is_some())
}

/// Adds `delta` to an account's balance by compare and swap; false (nothing changed)
/// when `checked` and the balance would go below the account's debit threshold.
async fn change_balance(
    db: &impl ConnectionTrait,
    account_id: i64,
    delta: i128,
    checked: bool,
) -> Result<bool, DbErr> {
    use bank_accounts::Column;
    loop {
        let account = bank_accounts::Entity::find_by_id(account_id)
            .one(db)
            .await?
            .ok_or_else(|| DbErr::RecordNotFound(format!("bank account {account_id}")))?;
        let balance = balance_of(&account) + delta;
        if checked && delta < 0 && balance < -threshold_of(&account) {
            return Ok(false);
        }
        // No balance passes Taler's largest amount, whatever thresholds allow: an
        // amount beyond it could not be shown, and the balances would no longer
        // visibly sum to zero.
        if delta > 0 && balance > MAX_BALANCE {
            return Ok(false);
        }
        let (value, frac) = parts(balance);
        let swapped = bank_accounts::Entity::update_many()
            .col_expr(Column::BalanceValue, value.into())
            .col_expr(Column::BalanceFrac, frac.into())
            .col_expr(Column::HasDebt, (balance < 0).into())
            .filter(Column::AccountId.eq(account_id))
            .filter(Column::BalanceValue.eq(account.balance_value))
            .filter(Column::BalanceFrac.eq(account.balance_frac))
            .filter(Column::HasDebt.eq(account.has_debt))
            .exec(db)
            .await?
            .rows_affected
            > 0;
        if swapped {
            return Ok(true);
        }
    }
}
