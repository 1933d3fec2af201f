//! Donation receipts: batches the Donau signs for charities (charged to their yearly
//! budget once), receipts donors submit (counted once), the yearly totals per donor,
//! and the charities' past years.

use entities::{
    donau_charities, donau_history as history, donau_issued_batches as batches,
    donau_receipts as receipts, donau_statements as statements,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
    sea_query::{Alias, Expr, ExprTrait, OnConflict},
};

use super::charities::{Charity, roll_over};
use crate::taler::Amount;

/// Units of 10^-8 in one unit of a currency.
const UNIT: i64 = 100_000_000;

/// An amount from units of 10^-8.
pub fn amount_of_units(currency: &str, units: i64) -> Result<Amount, DbErr> {
    Amount::new(currency, (units / UNIT) as u64, (units % UNIT) as u32)
        .map_err(|e| DbErr::Custom(format!("stored total is invalid: {e}")))
}

/// An amount in units of 10^-8, if it fits.
pub fn units_of(amount: &Amount) -> Option<i64> {
    i64::try_from(amount.value())
        .ok()?
        .checked_mul(UNIT)?
        .checked_add(i64::from(amount.fraction()))
}

/// A batch the Donau signed, as it answers it.
#[derive(Debug, Clone)]
pub struct IssuedBatch {
    pub signatures: Vec<String>,
    pub amount: Amount,
}

pub enum IssueOutcome {
    /// Signed now, or earlier (a repeated batch: the stored answer, charged once).
    Issued(IssuedBatch),
    CharityUnknown,
    /// The batch would take the charity's receipts of the year beyond its limit.
    Exceeded {
        receipts: Amount,
        max: Amount,
    },
    /// The charity's counter is already in a later year (another server's clock).
    YearPassed,
}

/// A batch signed for `charity_id`, before it is stored.
pub struct NewBatch {
    pub charity_id: i64,
    pub batch_hash: String,
    pub year: i32,
    pub amount: Amount,
    pub signatures: Vec<String>,
}

fn issued(row: batches::Model) -> Result<IssuedBatch, DbErr> {
    Ok(IssuedBatch {
        signatures: serde_json::from_str(&row.signatures)
            .map_err(|e| DbErr::Custom(format!("stored signatures are invalid: {e}")))?,
        amount: row
            .issued_amount
            .parse()
            .map_err(|e| DbErr::Custom(format!("stored amount is invalid: {e}")))?,
    })
}

/// The batch `batch_hash` of a charity, if the Donau signed it already.
pub async fn find_batch(
    db: &impl ConnectionTrait,
    charity_id: i64,
    batch_hash: &str,
) -> Result<Option<IssuedBatch>, DbErr> {
    batches::Entity::find()
        .filter(batches::Column::CharityId.eq(charity_id))
        .filter(batches::Column::BatchHash.eq(batch_hash))
        .one(db)
        .await?
        .map(issued)
        .transpose()
}

/// Stores a signed batch and charges it to the charity's year, in one transaction:
/// the batch's row comes first, so of identical batches racing one is stored and
/// charged and the others answer with it.
pub async fn issue(db: &DatabaseConnection, new: NewBatch) -> Result<IssueOutcome, DbErr> {
    let txn = db.begin().await?;
    let row = batches::ActiveModel {
        charity_id: Set(new.charity_id),
        batch_hash: Set(new.batch_hash.clone()),
        year: Set(new.year),
        issued_amount: Set(new.amount.to_string()),
        signatures: Set(
            serde_json::to_string(&new.signatures).map_err(|e| DbErr::Custom(e.to_string()))?
        ),
        ..Default::default()
    };
    if let Err(err) = row.insert(&txn).await {
        if !super::is_unique_violation(&err) {
            return Err(err);
        }
        txn.rollback().await?;
        return match find_batch(db, new.charity_id, &new.batch_hash).await? {
            Some(batch) => Ok(IssueOutcome::Issued(batch)),
            None => Err(DbErr::Custom("a conflicting batch vanished".to_owned())),
        };
    }
    let mut query = donau_charities::Entity::find_by_id(new.charity_id);
    if txn.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        query = query.lock_exclusive();
    }
    let Some(charity) = query.one(&txn).await? else {
        txn.rollback().await?;
        return Ok(IssueOutcome::CharityUnknown);
    };
    if charity.current_year > new.year {
        txn.rollback().await?;
        return Ok(IssueOutcome::YearPassed);
    }
    let receipts = roll_over(&txn, &charity, new.year).await?;
    let max: Amount = charity
        .max_per_year
        .parse()
        .map_err(|e| DbErr::Custom(format!("stored max_per_year is invalid: {e}")))?;
    let total = receipts
        .checked_add(&new.amount)
        .filter(|t| t.cmp_same_currency(&max) != Some(std::cmp::Ordering::Greater));
    let Some(total) = total else {
        txn.rollback().await?;
        return Ok(IssueOutcome::Exceeded { receipts, max });
    };
    let mut row: donau_charities::ActiveModel = charity.into();
    row.receipts_to_date = Set(total.to_string());
    row.current_year = Set(new.year);
    row.update(&txn).await?;
    txn.commit().await?;
    Ok(IssueOutcome::Issued(IssuedBatch {
        signatures: new.signatures,
        amount: new.amount,
    }))
}

/// A verified receipt of a submission.
pub struct NewReceipt {
    pub pub_key_hash: String,
    pub h_udi: String,
    pub value_units: i64,
}

/// Records a donor's receipts of `year` and adds the ones not recorded before to the
/// donor's total, in one transaction (a receipt counts once, however often and
/// however concurrently it is submitted).
pub async fn submit(
    db: &DatabaseConnection,
    h_donor_tax_id: &str,
    year: i32,
    new: Vec<NewReceipt>,
) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    let mut added: i64 = 0;
    for receipt in new {
        let row = receipts::ActiveModel {
            pub_key_hash: Set(receipt.pub_key_hash),
            h_udi: Set(receipt.h_udi),
            h_donor_tax_id: Set(h_donor_tax_id.to_owned()),
            donation_year: Set(year),
            value_units: Set(receipt.value_units),
            ..Default::default()
        };
        let inserted = receipts::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([receipts::Column::PubKeyHash, receipts::Column::HUdi])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
        if inserted > 0 {
            added = added
                .checked_add(receipt.value_units)
                .ok_or_else(|| DbErr::Custom("donation total overflows".to_owned()))?;
        }
    }
    let row = statements::ActiveModel {
        h_donor_tax_id: Set(h_donor_tax_id.to_owned()),
        donation_year: Set(year),
        total_units: Set(added),
    };
    statements::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                statements::Column::HDonorTaxId,
                statements::Column::DonationYear,
            ])
            .value(
                statements::Column::TotalUnits,
                Expr::col((statements::Entity, statements::Column::TotalUnits)).add(Expr::col((
                    Alias::new("excluded"),
                    statements::Column::TotalUnits,
                ))),
            )
            .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    txn.commit().await
}

/// A donor's total of `year` in units of 10^-8, if any receipt was submitted.
pub async fn statement(
    db: &impl ConnectionTrait,
    h_donor_tax_id: &str,
    year: i32,
) -> Result<Option<i64>, DbErr> {
    Ok(
        statements::Entity::find_by_id((h_donor_tax_id.to_owned(), year))
            .one(db)
            .await?
            .map(|s| s.total_units),
    )
}

/// What every charity issued in its past years, by charity and year; at most `limit`.
pub async fn history(db: &impl ConnectionTrait, limit: u64) -> Result<Vec<history::Model>, DbErr> {
    history::Entity::find()
        .order_by_asc(history::Column::CharityId)
        .order_by_asc(history::Column::DonationYear)
        .limit(limit)
        .all(db)
        .await
}

/// Writes a charity's year that ended (once per charity and year).
pub async fn record_year(
    db: &impl ConnectionTrait,
    charity: &Charity,
    final_amount: &Amount,
) -> Result<(), DbErr> {
    let row = history::ActiveModel {
        charity_id: Set(charity.charity_id),
        donation_year: Set(charity.current_year),
        final_amount: Set(final_amount.to_string()),
        ..Default::default()
    };
    history::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([history::Column::CharityId, history::Column::DonationYear])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}
