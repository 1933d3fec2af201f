//! Bank accounts, their tokens and transfers.

use entities::{bank_accounts, bank_tokens, bank_transactions};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};

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
    let row = bank_accounts::ActiveModel {
        username: Set(new.username),
        password_hash: Set(new.password_hash),
        name: Set(new.name),
        payto_key: Set(new.payto_key),
        is_public: Set(new.is_public),
        is_taler_exchange: Set(new.is_taler_exchange),
        ..Default::default()
    };
    match row.insert(db).await {
        Ok(_) => Ok(CreateOutcome::Created),
        Err(err) if super::is_unique_violation(&err) => {
            Ok(match find_account(db, &username).await? {
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
        .one(db)
        .await
}

pub async fn find_account_by_payto(
    db: &impl ConnectionTrait,
    payto_key: &str,
) -> Result<Option<Account>, DbErr> {
    bank_accounts::Entity::find()
        .filter(bank_accounts::Column::PaytoKey.eq(payto_key))
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
    use sea_orm::{
        FromQueryResult,
        sea_query::{Alias, ExprTrait, JoinType, Query},
    };

    use super::access::{col, select_prefixed};
    let mut q = Query::select();
    select_prefixed::<bank_accounts::Entity>(&mut q, "a", "a_");
    q.from_as(bank_accounts::Entity, Alias::new("a"))
        .and_where(col("a", bank_accounts::Column::Username).eq(username));
    if let Some(hash) = token_hash {
        select_prefixed::<bank_tokens::Entity>(&mut q, "t", "t_");
        q.join_as(
            JoinType::LeftJoin,
            bank_tokens::Entity,
            Alias::new("t"),
            col("t", bank_tokens::Column::TokenHash)
                .eq(hash.to_vec())
                .and(
                    col("t", bank_tokens::Column::AccountId)
                        .equals((Alias::new("a"), bank_accounts::Column::AccountId)),
                ),
        );
    }
    let Some(row) = db
        .query_one_raw(db.get_database_backend().build(&q))
        .await?
    else {
        return Ok(None);
    };
    let account = Account::from_query_result(&row, "a_")?;
    let token = match token_hash {
        Some(_) => Token::from_query_result_optional(&row, "t_")?,
        None => None,
    };
    Ok(Some((account, token)))
}

pub struct NewTransfer {
    pub debtor: i64,
    pub creditor: i64,
    pub amount: String,
    pub credit_fee: Option<String>,
    pub subject: String,
    pub date: i64,
    pub request_uid: Option<String>,
}

pub enum TransferOutcome {
    /// The transfer's row id (also for an idempotent repeat).
    Done(i64),
    /// The request uid was used before for a different transfer.
    RequestUidReused,
}

/// Records a transfer; a repeated `request_uid` with the same details answers the
/// first transfer's row id.
pub async fn transfer(
    db: &impl ConnectionTrait,
    new: NewTransfer,
) -> Result<TransferOutcome, DbErr> {
    let row = bank_transactions::ActiveModel {
        debtor_account_id: Set(new.debtor),
        creditor_account_id: Set(new.creditor),
        amount: Set(new.amount.clone()),
        credit_fee: Set(new.credit_fee),
        subject: Set(new.subject.clone()),
        date: Set(new.date),
        request_uid: Set(new.request_uid.clone()),
        ..Default::default()
    };
    match row.insert(db).await {
        Ok(t) => Ok(TransferOutcome::Done(t.row_id)),
        Err(err) if super::is_unique_violation(&err) => {
            let previous = bank_transactions::Entity::find()
                .filter(bank_transactions::Column::DebtorAccountId.eq(new.debtor))
                .filter(bank_transactions::Column::RequestUid.eq(new.request_uid))
                .one(db)
                .await?;
            Ok(match previous {
                Some(p)
                    if p.creditor_account_id == new.creditor
                        && p.amount == new.amount
                        && p.subject == new.subject =>
                {
                    TransferOutcome::Done(p.row_id)
                }
                _ => TransferOutcome::RequestUidReused,
            })
        }
        Err(err) => Err(err),
    }
}

/// One page of the transfers into an account, by row id, each with its debtor's
/// account: one query.
pub async fn incoming(
    db: &impl ConnectionTrait,
    creditor: i64,
    page: Page,
) -> Result<Vec<(Transaction, Account)>, DbErr> {
    use bank_transactions::Column;
    use sea_orm::{
        FromQueryResult,
        sea_query::{Alias, ExprTrait, JoinType, Order, Query},
    };

    use super::access::{col, select_prefixed};
    let mut q = Query::select();
    select_prefixed::<bank_transactions::Entity>(&mut q, "t", "t_");
    select_prefixed::<bank_accounts::Entity>(&mut q, "d", "d_");
    q.from_as(bank_transactions::Entity, Alias::new("t"))
        .join_as(
            JoinType::InnerJoin,
            bank_accounts::Entity,
            Alias::new("d"),
            col("d", bank_accounts::Column::AccountId)
                .equals((Alias::new("t"), Column::DebtorAccountId)),
        )
        .and_where(col("t", Column::CreditorAccountId).eq(creditor));
    if page.ascending {
        q.and_where(col("t", Column::RowId).gt(page.offset))
            .order_by((Alias::new("t"), Column::RowId), Order::Asc);
    } else {
        q.and_where(col("t", Column::RowId).lt(page.offset))
            .order_by((Alias::new("t"), Column::RowId), Order::Desc);
    }
    q.limit(page.count);
    db.query_all_raw(db.get_database_backend().build(&q))
        .await?
        .iter()
        .map(|row| {
            Ok((
                Transaction::from_query_result(row, "t_")?,
                Account::from_query_result(row, "d_")?,
            ))
        })
        .collect()
}
