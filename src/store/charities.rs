//! The Donau's charity registry.

use entities::donau_charities::{self, ActiveModel, Column, Entity};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryOrder, Set,
    TransactionTrait,
};

use crate::taler::Amount;

pub type Charity = donau_charities::Model;

/// A `CharityRequest`, checked.
pub struct CharityData {
    pub charity_pub: String,
    pub charity_name: String,
    pub charity_url: String,
    pub max_per_year: Amount,
}

/// The receipts of `year`: the stored count, or zero once the year has changed.
pub fn receipts_in(charity: &Charity, year: i32) -> Result<Amount, DbErr> {
    let stored: Amount = charity
        .receipts_to_date
        .parse()
        .map_err(|e| DbErr::Custom(format!("stored receipts_to_date is invalid: {e}")))?;
    if charity.current_year == year {
        return Ok(stored);
    }
    Amount::zero(stored.currency()).map_err(|e| DbErr::Custom(e.to_string()))
}

/// The receipts of `year` for a charity whose row is locked in `txn`: when `year` is
/// a later one than the row's, the row's year is written to the history first (the
/// caller then stores `year` and the returned zero).
pub async fn roll_over(
    txn: &impl ConnectionTrait,
    charity: &Charity,
    year: i32,
) -> Result<Amount, DbErr> {
    if charity.current_year < year {
        let ended: Amount = charity
            .receipts_to_date
            .parse()
            .map_err(|e| DbErr::Custom(format!("stored receipts_to_date is invalid: {e}")))?;
        super::donation_receipts::record_year(txn, charity, &ended).await?;
    }
    receipts_in(charity, year)
}

pub enum CreateOutcome {
    Created(i64),
    PubExists,
}

pub async fn create(
    db: &impl ConnectionTrait,
    data: CharityData,
    year: i32,
) -> Result<CreateOutcome, DbErr> {
    let zero =
        Amount::zero(data.max_per_year.currency()).map_err(|e| DbErr::Custom(e.to_string()))?;
    let row = ActiveModel {
        charity_pub: Set(data.charity_pub),
        charity_name: Set(data.charity_name),
        charity_url: Set(data.charity_url),
        max_per_year: Set(data.max_per_year.to_string()),
        receipts_to_date: Set(zero.to_string()),
        current_year: Set(year),
        ..Default::default()
    };
    match row.insert(db).await {
        Ok(c) => Ok(CreateOutcome::Created(c.charity_id)),
        Err(err) if super::is_unique_violation(&err) => Ok(CreateOutcome::PubExists),
        Err(err) => Err(err),
    }
}

pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<Charity>, DbErr> {
    Entity::find().order_by_asc(Column::CharityId).all(db).await
}

pub async fn find(db: &impl ConnectionTrait, charity_id: i64) -> Result<Option<Charity>, DbErr> {
    Entity::find_by_id(charity_id).one(db).await
}

pub enum UpdateOutcome {
    Updated,
    Unknown,
    PubExists,
    /// The new `max_per_year` is below this year's receipts (which are returned).
    BelowReceipts(Amount),
}

/// Replaces a charity's data. The limit check and the write happen in one
/// transaction on a locked row, so a concurrent change cannot slip in between.
pub async fn update(
    db: &DatabaseConnection,
    charity_id: i64,
    data: CharityData,
    year: i32,
) -> Result<UpdateOutcome, DbErr> {
    let txn = db.begin().await?;
    let filter =
        sea_orm::Condition::all().add(sea_orm::ColumnTrait::eq(&Column::CharityId, charity_id));
    if super::write_first::<Entity>(&txn, Column::CharityName, filter).await? == 0 {
        return Ok(UpdateOutcome::Unknown);
    }
    let Some(charity) = Entity::find_by_id(charity_id).one(&txn).await? else {
        return Ok(UpdateOutcome::Unknown);
    };
    let receipts = roll_over(&txn, &charity, year).await?;
    if data.max_per_year.cmp_same_currency(&receipts) == Some(std::cmp::Ordering::Less) {
        return Ok(UpdateOutcome::BelowReceipts(receipts));
    }
    let mut row: ActiveModel = charity.into();
    row.charity_pub = Set(data.charity_pub);
    row.charity_name = Set(data.charity_name);
    row.charity_url = Set(data.charity_url);
    row.max_per_year = Set(data.max_per_year.to_string());
    row.receipts_to_date = Set(receipts.to_string());
    row.current_year = Set(year);
    match row.update(&txn).await {
        Ok(_) => {}
        Err(err) if super::is_unique_violation(&err) => return Ok(UpdateOutcome::PubExists),
        Err(err) => return Err(err),
    }
    txn.commit().await?;
    Ok(UpdateOutcome::Updated)
}

/// Deletes a charity; false if there was none.
pub async fn delete(db: &impl ConnectionTrait, charity_id: i64) -> Result<bool, DbErr> {
    Ok(Entity::delete_by_id(charity_id)
        .exec(db)
        .await?
        .rows_affected
        > 0)
}
