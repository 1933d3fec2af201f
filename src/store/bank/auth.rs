//! What authorizes a bank request: an account and the token it presents, read in one
//! statement by position; and the tokens of an account.

use std::any::TypeId;

use entities::{bank_accounts, bank_tokens};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Value,
};

use super::accounts::{Account, Token};
use crate::store::shape;
use crate::taler::pagination::Page;

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

/// The account (not deleted) a token with this digest belongs to, and the token.
pub async fn find_token(
    db: &impl ConnectionTrait,
    token_hash: &[u8],
) -> Result<Option<(Account, Token)>, DbErr> {
    use sea_orm::sea_query::{Alias, ExprTrait, JoinType, Query};

    use crate::store::access::col;
    let (a, t) = (Alias::new("a"), Alias::new("t"));
    let mut q = Query::select();
    for c in ACCOUNT_COLUMNS {
        q.column((a.clone(), c));
    }
    for c in TOKEN_COLUMNS {
        q.column((t.clone(), c));
    }
    q.from_as(bank_tokens::Entity, t.clone())
        .join_as(
            JoinType::InnerJoin,
            bank_accounts::Entity,
            a.clone(),
            col("a", bank_accounts::Column::AccountId).equals((t, bank_tokens::Column::AccountId)),
        )
        .and_where(col("t", bank_tokens::Column::TokenHash).eq(token_hash.to_vec()))
        .and_where(col("a", bank_accounts::Column::Deleted).eq(false));
    let statement = db.get_database_backend().build(&q);
    match db.query_one_raw(statement).await? {
        Some(row) => {
            let (account, token) = account_with_token_at(&row, true)?;
            Ok(token.map(|t| (account, t)))
        }
        None => Ok(None),
    }
}

pub(super) fn account_with_token_query(
    username: Value,
    token_hash: Option<Value>,
) -> sea_orm::sea_query::SelectStatement {
    use sea_orm::sea_query::{Alias, ExprTrait, JoinType, Query};

    use crate::store::access::col;
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

pub(super) fn account_with_token_at(
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
const ACCOUNT_COLUMNS: [bank_accounts::Column; 16] = {
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
        TanChannels,
        TanLoginFailures,
    ]
};

pub(super) fn account_at(row: &sea_orm::QueryResult, at: usize) -> Result<Account, DbErr> {
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
        tan_channels: row.try_get_by_index(at + 14)?,
        tan_login_failures: row.try_get_by_index(at + 15)?,
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
    crate::store::paged_within(
        bank_tokens::Entity::find(),
        bank_tokens::Column::AccountId,
        account_id,
        bank_tokens::Column::TokenSerial,
        page,
    )
    .all(db)
    .await
}
