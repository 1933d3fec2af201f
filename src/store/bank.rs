//! Bank accounts, their tokens and transfers.

use entities::{bank_accounts, bank_tokens, bank_transactions};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
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

pub async fn find_token(db: &impl ConnectionTrait, hash: &[u8]) -> Result<Option<Token>, DbErr> {
    bank_tokens::Entity::find()
        .filter(bank_tokens::Column::TokenHash.eq(hash.to_vec()))
        .one(db)
        .await
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

/// One page of the transfers into an account, by row id.
pub async fn incoming(
    db: &impl ConnectionTrait,
    creditor: i64,
    page: Page,
) -> Result<Vec<Transaction>, DbErr> {
    use bank_transactions::Column;
    let query = bank_transactions::Entity::find().filter(Column::CreditorAccountId.eq(creditor));
    let query = if page.ascending {
        query
            .filter(Column::RowId.gt(page.offset))
            .order_by_asc(Column::RowId)
    } else {
        query
            .filter(Column::RowId.lt(page.offset))
            .order_by_desc(Column::RowId)
    };
    query.limit(page.count).all(db).await
}

/// The accounts with these ids (for the debtors' payto URIs of a history page).
pub async fn accounts_by_id(
    db: &impl ConnectionTrait,
    ids: Vec<i64>,
) -> Result<Vec<Account>, DbErr> {
    bank_accounts::Entity::find()
        .filter(bank_accounts::Column::AccountId.is_in(ids))
        .all(db)
        .await
}
