//! Bank accounts, their tokens and transfers.

use std::any::TypeId;

use entities::{bank_accounts, bank_tokens, bank_transactions};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, Set, TransactionTrait, Value,
};

use super::shape;
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
}

/// Units of 10^-8 per currency unit.
const FRACTION_BASE: i128 = 100_000_000;

/// A signed amount in units of 10^-8 as stored: magnitude (value, fraction) and sign.
fn signed(value: i64, frac: i32, negative: bool) -> i128 {
    let magnitude = i128::from(value) * FRACTION_BASE + i128::from(frac);
    if negative { -magnitude } else { magnitude }
}

/// The stored form of a magnitude in units of 10^-8.
fn parts(magnitude: i128) -> (i64, i32) {
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
        ..Default::default()
    };
    match row.insert(db).await {
        Ok(_) => Ok(CreateOutcome::Created),
        Err(err) if super::is_unique_violation(&err) => {
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

pub async fn insert_token(db: &impl ConnectionTrait, token: Token) -> Result<(), DbErr> {
    let mut row: bank_tokens::ActiveModel = token.into();
    row.token_serial = sea_orm::ActiveValue::NotSet;
    row.insert(db).await.map(|_| ())
}

/// The account and, if `token_hash` is given, that token of the account: one query.
pub async fn find_account_with_token(
    db: &impl ConnectionTrait,
    username: &str,
    token_hash: Option<&[u8]>,
) -> Result<Option<(Account, Option<Token>)>, DbErr> {
    let backend = db.get_database_backend();
    let site = (TypeId::of::<bank_tokens::Entity>(), "account", "token");
    let mut values = vec![Value::from(username)];
    values.extend(token_hash.map(|h| Value::from(h.to_vec())));
    let statement = shape::statement(backend, site, token_hash.is_some().into(), values, |v| {
        backend.build(&account_with_token_query(v[0].clone(), v.get(1).cloned()))
    });
    match db.query_one_raw(statement).await? {
        Some(row) => Ok(Some(account_with_token_at(&row, token_hash.is_some())?)),
        None => Ok(None),
    }
}

fn account_with_token_query(
    username: Value,
    token_hash: Option<Value>,
) -> sea_orm::sea_query::SelectStatement {
    use sea_orm::sea_query::{Alias, ExprTrait, JoinType, Query};

    use super::access::col;
    let (a, t) = (Alias::new("a"), Alias::new("t"));
    let mut q = Query::select();
    for c in ACCOUNT_COLUMNS {
        q.column((a.clone(), c));
    }
    q.from_as(bank_accounts::Entity, a.clone())
        .and_where(col("a", bank_accounts::Column::Username).eq(username))
        .and_where(col("a", bank_accounts::Column::Deleted).eq(false));
    if let Some(hash) = token_hash {
        for c in TOKEN_COLUMNS {
            q.column((t.clone(), c));
        }
        q.join_as(
            JoinType::LeftJoin,
            bank_tokens::Entity,
            t,
            col("t", bank_tokens::Column::TokenHash).eq(hash).and(
                col("t", bank_tokens::Column::AccountId)
                    .equals((a, bank_accounts::Column::AccountId)),
            ),
        );
    }
    q
}

fn account_with_token_at(
    row: &sea_orm::QueryResult,
    with_token: bool,
) -> Result<(Account, Option<Token>), DbErr> {
    let account = account_at(row, 0)?;
    let token = match with_token {
        true => token_at(row, ACCOUNT_COLUMNS.len())?,
        false => None,
    };
    Ok((account, token))
}

// Columns are read by position: every bank request authorizes with this query, and a
// column read by name costs a formatted name and a search. Each list is in the order
// its reader below takes them.
const ACCOUNT_COLUMNS: [bank_accounts::Column; 14] = {
    use bank_accounts::Column::*;
    [
        AccountId,
        Username,
        PasswordHash,
        Name,
        PaytoKey,
        IsPublic,
        IsTalerExchange,
        BalanceValue,
        BalanceFrac,
        HasDebt,
        DebitThresholdValue,
        DebitThresholdFrac,
        Deleted,
        ContactData,
    ]
};

fn account_at(row: &sea_orm::QueryResult, at: usize) -> Result<Account, DbErr> {
    Ok(Account {
        account_id: row.try_get_by_index(at)?,
        username: row.try_get_by_index(at + 1)?,
        password_hash: row.try_get_by_index(at + 2)?,
        name: row.try_get_by_index(at + 3)?,
        payto_key: row.try_get_by_index(at + 4)?,
        is_public: row.try_get_by_index(at + 5)?,
        is_taler_exchange: row.try_get_by_index(at + 6)?,
        balance_value: row.try_get_by_index(at + 7)?,
        balance_frac: row.try_get_by_index(at + 8)?,
        has_debt: row.try_get_by_index(at + 9)?,
        debit_threshold_value: row.try_get_by_index(at + 10)?,
        debit_threshold_frac: row.try_get_by_index(at + 11)?,
        deleted: row.try_get_by_index(at + 12)?,
        contact_data: row.try_get_by_index(at + 13)?,
    })
}

const TOKEN_COLUMNS: [bank_tokens::Column; 8] = {
    use bank_tokens::Column::*;
    [
        TokenSerial,
        AccountId,
        TokenHash,
        Scope,
        Expiration,
        Refreshable,
        Description,
        CreationTime,
    ]
};

/// `None` when the left join found no token.
fn token_at(row: &sea_orm::QueryResult, at: usize) -> Result<Option<Token>, DbErr> {
    let Some(token_serial) = row.try_get_by_index::<Option<i64>>(at)? else {
        return Ok(None);
    };
    Ok(Some(Token {
        token_serial,
        account_id: row.try_get_by_index(at + 1)?,
        token_hash: row.try_get_by_index(at + 2)?,
        scope: row.try_get_by_index(at + 3)?,
        expiration: row.try_get_by_index(at + 4)?,
        refreshable: row.try_get_by_index(at + 5)?,
        description: row.try_get_by_index(at + 6)?,
        creation_time: row.try_get_by_index(at + 7)?,
    }))
}

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
    /// The debtor would go below its debit threshold.
    UnallowedDebit,
}

/// Records a transfer and moves the money, in one database transaction: the debtor's
/// balance down (refused below its debit threshold), the creditor's up (minus the
/// fee), the fee to the fee account. A repeated `request_uid` with the same details
/// answers the first transfer's row id and moves nothing.
///
/// The transfer row is written first, so that on SQLite the transaction holds the
/// write lock before it reads balances. Balances change by compare and swap, in
/// account order, so concurrent transfers on PostgreSQL neither lose an update nor
/// deadlock.
pub async fn transfer(db: &DatabaseConnection, new: NewTransfer) -> Result<TransferOutcome, DbErr> {
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
        Err(err) if super::is_unique_violation(&err) => {
            txn.rollback().await?;
            return repeated(db, &new).await;
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
    txn.commit().await?;
    Ok(TransferOutcome::Done(row_id, new.date))
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

/// One row of the Revenue API's incoming history: the transfer and what it shows of
/// the debtor. Its fields are in [`incoming_query`]'s order of columns, which is the
/// order of the array each row is on SQLite ([`page_as_one_row`]).
#[derive(serde::Deserialize)]
pub struct IncomingRow {
    pub row_id: i64,
    pub date: i64,
    pub amount: String,
    pub credit_fee: Option<String>,
    pub subject: String,
    pub debtor_payto_key: String,
    pub debtor_name: String,
}

/// One page of the transfers into `creditor` (by row id), each with its debtor: one
/// query (on SQLite, of one row: see [`page_as_one_row`]). It reads only the columns
/// the Revenue API shows, by position: a page is twenty rows, polled all the time,
/// and every column read by name costs a formatted name and a search per row.
pub async fn incoming(
    db: &impl ConnectionTrait,
    creditor: i64,
    page: Page,
) -> Result<Vec<IncomingRow>, DbErr> {
    let q = incoming_query(creditor.into(), page.offset.into(), page);
    let statement = super::access::build_with_limit(db, &q, page.count);
    if db.get_database_backend() == sea_orm::DatabaseBackend::Sqlite {
        let rows = db
            .query_all_raw(page_as_one_row(statement, page.ascending))
            .await?;
        return rows.first().map_or(Ok(Vec::new()), incoming_from_one_row);
    }
    db.query_all_raw(statement)
        .await?
        .iter()
        .map(incoming_at)
        .collect()
}

/// What the Revenue history's first look reads: the account, the presented token's
/// row (given its digest) and one page of the account's incoming transfers.
pub struct AccountWithIncoming {
    pub account: Account,
    pub token: Option<Token>,
    pub page: Vec<IncomingRow>,
}

/// [`find_account_with_token`] and [`incoming`] in one round trip: on SQLite both
/// statements go to the connection's thread as one command (the page finds its
/// creditor by name itself), and each command is a switch to that thread and back:
/// the largest cost of a page polled all the time. One statement would carry the
/// account's columns on every row of the page instead, which costs more than the
/// switch. PostgreSQL's prepared statements come one at a time: two queries there.
/// The page is read before the credentials are checked, and shown only after.
pub async fn find_account_with_incoming(
    db: &impl ConnectionTrait,
    username: &str,
    token_hash: Option<&[u8]>,
    page: Page,
) -> Result<Option<AccountWithIncoming>, DbErr> {
    use sea_orm::{
        DatabaseBackend,
        sea_query::{Expr, Query, QueryStatementBuilder},
    };

    let backend = db.get_database_backend();
    if backend != DatabaseBackend::Sqlite {
        let Some((account, token)) = find_account_with_token(db, username, token_hash).await?
        else {
            return Ok(None);
        };
        let page = incoming(db, account.account_id, page).await?;
        return Ok(Some(AccountWithIncoming {
            account,
            token,
            page,
        }));
    }
    // The page's size is written into the SQL (see `build_with_limit`), and its
    // direction changes it: both are part of the shape.
    let site = (
        TypeId::of::<bank_transactions::Entity>(),
        "account",
        "incoming",
    );
    let variant =
        page.count << 2 | u64::from(page.ascending) << 1 | u64::from(token_hash.is_some());
    let mut values = vec![Value::from(username), Value::from(page.offset)];
    values.extend(token_hash.map(|h| Value::from(h.to_vec())));
    let both = shape::statement(backend, site, variant, values, |v| {
        let creditor = Query::select()
            .column(bank_accounts::Column::AccountId)
            .from(bank_accounts::Entity)
            .and_where(bank_accounts::Column::Username.eq(v[0].clone()))
            .and_where(bank_accounts::Column::Deleted.eq(false))
            .to_owned();
        let transfers = incoming_query(
            Expr::SubQuery(None, Box::new(creditor.into_sub_query_statement())),
            v[1].clone(),
            page,
        );
        let mut both = backend.build(&account_with_token_query(v[0].clone(), v.get(2).cloned()));
        let second = page_as_one_row(
            super::access::build_with_limit(db, &transfers, page.count),
            page.ascending,
        );
        both.sql.push_str("; ");
        both.sql.push_str(&second.sql);
        if let (Some(values), Some(more)) = (&mut both.values, second.values) {
            values.0.extend(more.0);
        }
        both
    });
    let rows = db.query_all_raw(both).await?;
    // The account's row (if there is one), then the page's.
    let [first, page] = rows.as_slice() else {
        return Ok(None);
    };
    let (account, token) = account_with_token_at(first, token_hash.is_some())?;
    Ok(Some(AccountWithIncoming {
        account,
        token,
        page: incoming_from_one_row(page)?,
    }))
}

/// `page` (a statement of [`incoming_query`]'s columns) as one row: the page as one JSON
/// array of arrays. sqlx's SQLite connection sends each row from its thread on its
/// own, and a woken reader takes it on its own: a switch of threads per row, half the
/// cost of a Revenue page of twenty. One row is one switch. (An aggregate over no rows
/// gives `[]`: the row is always there.) SQLite only; its bundled version orders
/// within an aggregate.
fn page_as_one_row(mut page: sea_orm::Statement, ascending: bool) -> sea_orm::Statement {
    page.sql = format!(
        "SELECT json_group_array(json_array(row_id, date, amount, credit_fee, subject, \
         payto_key, name) ORDER BY row_id {}) FROM ({})",
        if ascending { "ASC" } else { "DESC" },
        page.sql
    );
    page
}

/// The page [`page_as_one_row`] read.
fn incoming_from_one_row(row: &sea_orm::QueryResult) -> Result<Vec<IncomingRow>, DbErr> {
    let json: String = row.try_get_by_index(0)?;
    serde_json::from_str(&json)
        .map_err(|e| DbErr::Custom(format!("a page of incoming transfers: {e}")))
}

/// The page of transfers into `creditor` (an account id, or a subquery that finds it).
fn incoming_query(
    creditor: sea_orm::sea_query::Expr,
    offset: Value,
    page: Page,
) -> sea_orm::sea_query::SelectStatement {
    use bank_transactions::Column;
    use sea_orm::sea_query::{Alias, ExprTrait, JoinType, Order, Query};

    use super::access::col;
    let (t, d) = (Alias::new("t"), Alias::new("d"));
    let mut q = Query::select();
    q.column((t.clone(), Column::RowId))
        .column((t.clone(), Column::Date))
        .column((t.clone(), Column::Amount))
        .column((t.clone(), Column::CreditFee))
        .column((t.clone(), Column::Subject))
        .column((d.clone(), bank_accounts::Column::PaytoKey))
        .column((d.clone(), bank_accounts::Column::Name))
        .from_as(bank_transactions::Entity, t.clone())
        .join_as(
            JoinType::InnerJoin,
            bank_accounts::Entity,
            d.clone(),
            col("d", bank_accounts::Column::AccountId).equals((t.clone(), Column::DebtorAccountId)),
        )
        .and_where(col("t", Column::CreditorAccountId).eq(creditor));
    if page.ascending {
        q.and_where(col("t", Column::RowId).gt(offset))
            .order_by((t, Column::RowId), Order::Asc);
    } else {
        q.and_where(col("t", Column::RowId).lt(offset))
            .order_by((t, Column::RowId), Order::Desc);
    }
    q
}

fn incoming_at(row: &sea_orm::QueryResult) -> Result<IncomingRow, DbErr> {
    Ok(IncomingRow {
        row_id: row.try_get_by_index(0)?,
        date: row.try_get_by_index(1)?,
        amount: row.try_get_by_index(2)?,
        credit_fee: row.try_get_by_index(3)?,
        subject: row.try_get_by_index(4)?,
        debtor_payto_key: row.try_get_by_index(5)?,
        debtor_name: row.try_get_by_index(6)?,
    })
}

/// One transfer with both its accounts.
pub type Movement = (Transaction, Account, Account);

/// Which transfers of an account a history lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryKind {
    /// Into and out of the account.
    All,
    /// Into it, with a reserve or KYC key (the Wire Gateway's incoming history).
    TalerIncoming,
    /// Out of it through the Wire Gateway (with a `wtid`).
    TalerOutgoing,
}

/// One page of the transfers of an account (by row id), each with its debtor's and
/// creditor's accounts: one query. With `row_id`, only that transfer.
pub async fn history(
    db: &impl ConnectionTrait,
    account: i64,
    kind: HistoryKind,
    page: Page,
    row_id: Option<i64>,
) -> Result<Vec<Movement>, DbErr> {
    use bank_transactions::Column;
    use sea_orm::{
        FromQueryResult,
        sea_query::{Alias, Cond, ExprTrait, JoinType, Order, Query},
    };

    use super::access::{col, select_prefixed};
    let mut q = Query::select();
    select_prefixed::<bank_transactions::Entity>(&mut q, "t", "t_");
    select_prefixed::<bank_accounts::Entity>(&mut q, "d", "d_");
    select_prefixed::<bank_accounts::Entity>(&mut q, "c", "c_");
    q.from_as(bank_transactions::Entity, Alias::new("t"))
        .join_as(
            JoinType::InnerJoin,
            bank_accounts::Entity,
            Alias::new("d"),
            col("d", bank_accounts::Column::AccountId)
                .equals((Alias::new("t"), Column::DebtorAccountId)),
        )
        .join_as(
            JoinType::InnerJoin,
            bank_accounts::Entity,
            Alias::new("c"),
            col("c", bank_accounts::Column::AccountId)
                .equals((Alias::new("t"), Column::CreditorAccountId)),
        )
        .cond_where(match kind {
            HistoryKind::All => Cond::any()
                .add(col("t", Column::DebtorAccountId).eq(account))
                .add(col("t", Column::CreditorAccountId).eq(account)),
            HistoryKind::TalerIncoming => Cond::all()
                .add(col("t", Column::CreditorAccountId).eq(account))
                .add(
                    Cond::any()
                        .add(col("t", Column::ReservePub).is_not_null())
                        .add(col("t", Column::AccountPub).is_not_null()),
                ),
            HistoryKind::TalerOutgoing => Cond::all()
                .add(col("t", Column::DebtorAccountId).eq(account))
                .add(col("t", Column::Wtid).is_not_null()),
        });
    if let Some(id) = row_id {
        q.and_where(col("t", Column::RowId).eq(id));
    } else if page.ascending {
        q.and_where(col("t", Column::RowId).gt(page.offset))
            .order_by((Alias::new("t"), Column::RowId), Order::Asc);
    } else {
        q.and_where(col("t", Column::RowId).lt(page.offset))
            .order_by((Alias::new("t"), Column::RowId), Order::Desc);
    }
    db.query_all_raw(super::access::build_with_limit(db, &q, page.count))
        .await?
        .iter()
        .map(|row| {
            Ok((
                Transaction::from_query_result(row, "t_")?,
                Account::from_query_result(row, "d_")?,
                Account::from_query_result(row, "c_")?,
            ))
        })
        .collect()
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
    if let Some(h) = changes.password_hash {
        update = update.col_expr(Column::PasswordHash, h.into());
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
    use sea_orm::sea_query::{Expr, ExprTrait, Func};
    let mut query = bank_accounts::Entity::find().filter(Column::Deleted.eq(false));
    if public_only {
        query = query.filter(Column::IsPublic.eq(true));
    }
    if let Some(filter) = name_filter {
        let pattern = format!(
            "%{}%",
            filter
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        query = query.filter(
            Expr::expr(Func::lower(Expr::col(Column::Name)))
                .like(sea_orm::sea_query::LikeExpr::new(pattern).escape('\\')),
        );
    }
    super::paged(query, Column::AccountId, page).all(db).await
}

/// Revokes the token with this digest of the account.
pub async fn delete_token(
    db: &impl ConnectionTrait,
    account_id: i64,
    token_hash: &[u8],
) -> Result<bool, DbErr> {
    Ok(bank_tokens::Entity::delete_many()
        .filter(bank_tokens::Column::AccountId.eq(account_id))
        .filter(bank_tokens::Column::TokenHash.eq(token_hash.to_vec()))
        .exec(db)
        .await?
        .rows_affected
        > 0)
}

/// One page of an account's tokens (by serial), expired ones included.
pub async fn list_tokens(
    db: &impl ConnectionTrait,
    account_id: i64,
    page: Page,
) -> Result<Vec<Token>, DbErr> {
    let query = bank_tokens::Entity::find().filter(bank_tokens::Column::AccountId.eq(account_id));
    super::paged(query, bank_tokens::Column::TokenSerial, page)
        .all(db)
        .await
}
