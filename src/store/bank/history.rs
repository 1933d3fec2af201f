//! The histories of an account: incoming transfers (the Revenue API and the Wire
//! Gateway) and every movement (the core bank API), by row-id pages.

use std::any::TypeId;

use entities::{bank_accounts, bank_transactions};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, Value};

use super::{
    accounts::{Account, Token, Transaction},
    auth::{account_with_token_at, account_with_token_query, find_account_with_token},
};
use crate::store::shape;
use crate::taler::pagination::Page;

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
    let statement = crate::store::access::build_with_limit(db, &q, page.count);
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
/// switch. PostgreSQL's prepared statements come one at a time: there the page is
/// more columns of the account's row instead ([`account_with_incoming_in_one`]).
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
    if backend == DatabaseBackend::Postgres {
        return account_with_incoming_in_one(db, username, token_hash, page).await;
    }
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
    let (variant, values) = page_with_account(username, token_hash, page);
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
            crate::store::access::build_with_limit(db, &transfers, page.count),
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

/// The variant and values of a statement reading an account, its token and a page of
/// its incoming transfers: the page's size and direction change the SQL, and so does
/// whether a token is presented.
fn page_with_account(username: &str, token_hash: Option<&[u8]>, page: Page) -> (u64, Vec<Value>) {
    let variant =
        page.count << 2 | u64::from(page.ascending) << 1 | u64::from(token_hash.is_some());
    let mut values = vec![Value::from(username), Value::from(page.offset)];
    values.extend(token_hash.map(|h| Value::from(h.to_vec())));
    (variant, values)
}

/// [`find_account_with_incoming`] on PostgreSQL: one statement, one round trip. The
/// page comes in the account's row as one array per column (a lateral join of seven
/// `array_agg`s), so the account's columns come once, not on every transfer's row.
/// Typed arrays rather than one JSON text: `json_build_array` looks up every value's
/// output function on every row, and the server then parsed the text. With the arrays
/// (read in binary) a page of twenty under 16 connections cost PostgreSQL 115 µs of
/// CPU instead of 200-235, and this server 95 instead of 141-161.
async fn account_with_incoming_in_one(
    db: &impl ConnectionTrait,
    username: &str,
    token_hash: Option<&[u8]>,
    page: Page,
) -> Result<Option<AccountWithIncoming>, DbErr> {
    use sea_orm::sea_query::{Alias, Expr, JoinType, Query};

    let backend = db.get_database_backend();
    let site = (
        TypeId::of::<bank_transactions::Entity>(),
        "account",
        "incoming in one",
    );
    let (variant, values) = page_with_account(username, token_hash, page);
    let statement = shape::statement(backend, site, variant, values, |v| {
        let mut transfers = incoming_query(
            crate::store::access::col("a", bank_accounts::Column::AccountId),
            v[1].clone(),
            page,
        );
        transfers.limit(page.count);
        let mut arrays = Query::select();
        for column in PAGE_COLUMNS {
            arrays.expr_as(
                Expr::cust(format!("array_agg(p.{column})")),
                Alias::new(format!("page_{column}")),
            );
        }
        arrays.from_subquery(transfers, Alias::new("p"));
        let mut q = account_with_token_query(v[0].clone(), v.get(2).cloned());
        for column in PAGE_COLUMNS {
            q.column((Alias::new("p"), Alias::new(format!("page_{column}"))));
        }
        q.join_lateral(
            JoinType::LeftJoin,
            arrays,
            Alias::new("p"),
            Expr::cust("TRUE"),
        );
        crate::store::access::inline_limit(backend.build(&q), page.count)
    });
    let Some(row) = db.query_one_raw(statement).await? else {
        return Ok(None);
    };
    let (account, token) = account_with_token_at(&row, token_hash.is_some())?;
    let page = page_from_arrays(&row, page.ascending)?;
    Ok(Some(AccountWithIncoming {
        account,
        token,
        page,
    }))
}

/// [`incoming_query`]'s columns, in [`IncomingRow`]'s order.
const PAGE_COLUMNS: [&str; 7] = [
    "row_id",
    "date",
    "amount",
    "credit_fee",
    "subject",
    "payto_key",
    "name",
];

/// The page [`account_with_incoming_in_one`] read: its arrays (all `NULL` for an
/// empty page) as rows in row id order. An aggregate's input order is the subquery's
/// only by practice, so the rows are sorted here, which costs nothing for a page.
fn page_from_arrays(
    row: &sea_orm::QueryResult,
    ascending: bool,
) -> Result<Vec<IncomingRow>, DbErr> {
    use sea_orm::sqlx::Row;

    let row = row
        .try_as_pg_row()
        .ok_or_else(|| DbErr::Custom("a PostgreSQL row was expected".to_owned()))?;
    // The arrays are the row's last columns, after the account's and the token's.
    let first = row.len() - PAGE_COLUMNS.len();
    let err = |e: sea_orm::sqlx::Error| DbErr::Custom(format!("a page of incoming transfers: {e}"));
    let at = |i: usize| first + i;
    let row_ids: Option<Vec<i64>> = row.try_get(at(0)).map_err(err)?;
    let Some(row_ids) = row_ids else {
        return Ok(Vec::new());
    };
    let dates: Vec<i64> = row.try_get(at(1)).map_err(err)?;
    let amounts: Vec<String> = row.try_get(at(2)).map_err(err)?;
    let fees: Vec<Option<String>> = row.try_get(at(3)).map_err(err)?;
    let subjects: Vec<String> = row.try_get(at(4)).map_err(err)?;
    let keys: Vec<String> = row.try_get(at(5)).map_err(err)?;
    let names: Vec<String> = row.try_get(at(6)).map_err(err)?;
    let n = row_ids.len();
    if [
        dates.len(),
        amounts.len(),
        fees.len(),
        subjects.len(),
        keys.len(),
        names.len(),
    ]
    .iter()
    .any(|&len| len != n)
    {
        return Err(DbErr::Custom(
            "a page of incoming transfers: arrays of different lengths".to_owned(),
        ));
    }
    let mut rows: Vec<IncomingRow> = row_ids
        .into_iter()
        .zip(dates)
        .zip(amounts)
        .zip(fees)
        .zip(subjects)
        .zip(keys)
        .zip(names)
        .map(
            |(
                (((((row_id, date), amount), credit_fee), subject), debtor_payto_key),
                debtor_name,
            )| {
                IncomingRow {
                    row_id,
                    date,
                    amount,
                    credit_fee,
                    subject,
                    debtor_payto_key,
                    debtor_name,
                }
            },
        )
        .collect();
    match ascending {
        true => rows.sort_unstable_by_key(|r| r.row_id),
        false => rows.sort_unstable_by_key(|r| std::cmp::Reverse(r.row_id)),
    }
    Ok(rows)
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

    use crate::store::access::col;
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
        .and_where(col("t", Column::CreditorAccountId).is_in([creditor.clone(), creditor]));
    // By creditor (named twice, see `store::pinned`), then row id: the same order,
    // which only the creditor's index gives (see `store::paged_within`).
    if page.ascending {
        q.and_where(col("t", Column::RowId).gt(offset))
            .order_by((t.clone(), Column::CreditorAccountId), Order::Asc)
            .order_by((t, Column::RowId), Order::Asc);
    } else {
        q.and_where(col("t", Column::RowId).lt(offset))
            .order_by((t.clone(), Column::CreditorAccountId), Order::Desc)
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

    use crate::store::access::{col, select_prefixed};
    let mut q = Query::select();
    select_prefixed::<bank_transactions::Entity>(&mut q, "t", "t_");
    select_prefixed::<bank_accounts::Entity>(&mut q, "d", "d_");
    select_prefixed::<bank_accounts::Entity>(&mut q, "c", "c_");
    let merged = matches!((kind, row_id), (HistoryKind::All, None));
    if merged {
        // An account's movements are its debits and its credits: two index walks
        // (by debtor, by creditor) of row ids alone, merged; then the page's rows. One
        // walk over both would be a walk of every transfer of the bank.
        q.from_subquery(movements(account, page), Alias::new("m"))
            .join_as(
                JoinType::InnerJoin,
                bank_transactions::Entity,
                Alias::new("t"),
                col("t", Column::RowId).equals((Alias::new("m"), Column::RowId)),
            );
    } else {
        q.from_as(bank_transactions::Entity, Alias::new("t"));
    }
    q.join_as(
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
        // The page's rows are the merged walks' and only those: the rows are read by
        // their row ids, and no condition here invites a walk of the account's every
        // transfer (SQLite took one, 100,000 rows, to find the page's 20).
        HistoryKind::All if merged => Cond::all(),
        HistoryKind::All => Cond::any()
            .add(col("t", Column::DebtorAccountId).eq(account))
            .add(col("t", Column::CreditorAccountId).eq(account)),
        // `pinned`: see the order below.
        HistoryKind::TalerIncoming => Cond::all()
            .add(col("t", Column::CreditorAccountId).is_in(crate::store::pinned(account)))
            .add(
                Cond::any()
                    .add(col("t", Column::ReservePub).is_not_null())
                    .add(col("t", Column::AccountPub).is_not_null()),
            ),
        HistoryKind::TalerOutgoing => Cond::all()
            .add(col("t", Column::DebtorAccountId).is_in(crate::store::pinned(account)))
            .add(col("t", Column::Wtid).is_not_null()),
    });
    if let Some(id) = row_id {
        q.and_where(col("t", Column::RowId).eq(id));
    } else if merged {
        let order = if page.ascending {
            Order::Asc
        } else {
            Order::Desc
        };
        q.order_by((Alias::new("t"), Column::RowId), order);
    } else {
        let order = if page.ascending {
            q.and_where(col("t", Column::RowId).gt(page.offset));
            Order::Asc
        } else {
            q.and_where(col("t", Column::RowId).lt(page.offset));
            Order::Desc
        };
        // A Wire Gateway history walks the exchange's side by row id: ordered by that
        // side first, the same order, which only that side's index gives (see
        // `store::paged_within`).
        match kind {
            HistoryKind::TalerIncoming => {
                q.order_by((Alias::new("t"), Column::CreditorAccountId), order.clone());
            }
            HistoryKind::TalerOutgoing => {
                q.order_by((Alias::new("t"), Column::DebtorAccountId), order.clone());
            }
            HistoryKind::All => {}
        }
        q.order_by((Alias::new("t"), Column::RowId), order);
    }
    let mut statement = crate::store::access::build_with_limit(db, &q, page.count);
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        statement = crate::store::access::inline_limit(statement, page.count);
    }
    db.query_all_raw(statement)
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

/// The row ids of one page of the transfers `account` made or received: its debits and
/// its credits, each an index walk of at most a page that reads the index alone,
/// merged. (A transfer to oneself is refused, so no transfer is both.)
fn movements(account: i64, page: Page) -> sea_orm::sea_query::SelectStatement {
    use bank_transactions::{Column, Entity};
    use sea_orm::{EntityTrait, QuerySelect, QueryTrait};
    let walk = |side: Column| {
        let rows = Entity::find().select_only().column(Column::RowId);
        crate::store::paged_within(rows, side, account, Column::RowId, page).into_query()
    };
    crate::store::merged_pages(
        vec![
            walk(Column::DebtorAccountId),
            walk(Column::CreditorAccountId),
        ],
        Column::RowId,
        page,
    )
}
