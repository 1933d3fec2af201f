//! Garbage collection of the bank, as libeufin-bank's `gc` does for the data this
//! bank has: withdrawal operations nobody finished are aborted, aborted ones and
//! expired tokens are deleted once they are old, and so are TAN challenges that
//! can serve no more. Each statement is conditional on the
//! rows as they are, so it is safe while servers serve: a withdrawal confirmed in the
//! same instant is either confirmed (and stays) or aborted (and its confirmation,
//! conditional on `selected`, moves nothing).

use entities::{bank_tokens, bank_withdrawals};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::withdrawals::{ABORTED, PENDING, SELECTED};

/// What one collection did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Collected {
    pub withdrawals_aborted: u64,
    pub withdrawals_deleted: u64,
    pub tokens_deleted: u64,
    pub challenges_deleted: u64,
}

/// Aborts the operations created before `abort_before` that are still `pending` or
/// `selected`; deletes the aborted ones created before `clean_before` and the tokens
/// that expired before it (seconds since the epoch); deletes TAN challenges created
/// before `abort_before` that can serve no more, and all created before `clean_before`.
pub async fn collect(
    db: &impl ConnectionTrait,
    abort_before: i64,
    clean_before: i64,
) -> Result<Collected, DbErr> {
    use bank_withdrawals::{Column, Entity};
    let withdrawals_aborted = Entity::update_many()
        .col_expr(Column::Status, ABORTED.into())
        .filter(Column::Status.is_in([PENDING, SELECTED]))
        .filter(Column::CreationDate.lt(abort_before))
        .exec(db)
        .await?
        .rows_affected;
    let withdrawals_deleted = Entity::delete_many()
        .filter(Column::Status.eq(ABORTED))
        .filter(Column::CreationDate.lt(clean_before))
        .exec(db)
        .await?
        .rows_affected;
    let tokens_deleted = bank_tokens::Entity::delete_many()
        .filter(bank_tokens::Column::Expiration.lt(clean_before))
        .exec(db)
        .await?
        .rows_affected;
    let now = crate::taler::Timestamp::now().to_db();
    let challenges_deleted =
        super::challenges::collect(db, abort_before, clean_before, now).await?;
    Ok(Collected {
        withdrawals_aborted,
        withdrawals_deleted,
        tokens_deleted,
        challenges_deleted,
    })
}
