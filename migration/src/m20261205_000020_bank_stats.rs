//! The bank's statistics for `GET /monitor`, as libeufin-bank keeps them: per hour,
//! day, month and year (UTC), the count and volume of Taler transfers into exchanges
//! (`taler_in`: a reserve or KYC key as subject) and out of them (`taler_out`: Wire
//! Gateway transfers). Each transfer adds to its four rows in its own transaction;
//! this migration fills the rows for the transfers made before it.

use std::collections::BTreeMap;

use sea_orm_migration::{
    prelude::*,
    schema::*,
    sea_orm::{ConnectionTrait, Statement},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum BankStats {
    Table,
    Timeframe,
    Start,
    TalerInCount,
    TalerInValue,
    TalerInFrac,
    TalerOutCount,
    TalerOutValue,
    TalerOutFrac,
}

/// `CURRENCY:VALUE[.FRACTION]` in units of 10^-8.
fn units(amount: &str) -> Option<i128> {
    let (_, number) = amount.split_once(':')?;
    let (value, frac) = number.split_once('.').unwrap_or((number, ""));
    let value: i128 = value.parse().ok()?;
    let frac: i128 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<8}").get(..8)?.parse().ok()?
    };
    Some(value * 100_000_000 + frac)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BankStats::Table)
                    .col(string(BankStats::Timeframe))
                    .col(big_integer(BankStats::Start))
                    .col(big_integer(BankStats::TalerInCount))
                    .col(big_integer(BankStats::TalerInValue))
                    .col(big_integer(BankStats::TalerInFrac))
                    .col(big_integer(BankStats::TalerOutCount))
                    .col(big_integer(BankStats::TalerOutValue))
                    .col(big_integer(BankStats::TalerOutFrac))
                    .primary_key(
                        Index::create()
                            .col(BankStats::Timeframe)
                            .col(BankStats::Start),
                    )
                    .to_owned(),
            )
            .await?;
        // The transfers made so far, counted into their rows.
        let db = manager.get_connection();
        let backend = db.get_database_backend();
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT date, amount, \
                   (reserve_pub IS NOT NULL OR account_pub IS NOT NULL) AS taler_in, \
                   (wtid IS NOT NULL) AS taler_out \
                 FROM bank_transactions \
                 WHERE reserve_pub IS NOT NULL OR account_pub IS NOT NULL OR wtid IS NOT NULL",
            ))
            .await?;
        let mut stats: BTreeMap<(&'static str, i64), [i128; 4]> = BTreeMap::new();
        for row in rows {
            let date: i64 = row.try_get("", "date")?;
            let amount: String = row.try_get("", "amount")?;
            let taler_in: bool = row.try_get("", "taler_in")?;
            let Some(units) = units(&amount) else {
                continue;
            };
            for key in crate::calendar::timeframe_starts(date) {
                let s = stats.entry(key).or_default();
                let at = if taler_in { 0 } else { 2 };
                s[at] += 1;
                s[at + 1] += units;
            }
        }
        for ((timeframe, start), [in_count, in_units, out_count, out_units]) in stats {
            let split = |u: i128| ((u / 100_000_000) as i64, (u % 100_000_000) as i64);
            let (in_value, in_frac) = split(in_units);
            let (out_value, out_frac) = split(out_units);
            manager
                .exec_stmt(
                    Query::insert()
                        .into_table(BankStats::Table)
                        .columns([
                            BankStats::Timeframe,
                            BankStats::Start,
                            BankStats::TalerInCount,
                            BankStats::TalerInValue,
                            BankStats::TalerInFrac,
                            BankStats::TalerOutCount,
                            BankStats::TalerOutValue,
                            BankStats::TalerOutFrac,
                        ])
                        .values_panic([
                            timeframe.into(),
                            start.into(),
                            (in_count as i64).into(),
                            in_value.into(),
                            in_frac.into(),
                            (out_count as i64).into(),
                            out_value.into(),
                            out_frac.into(),
                        ])
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(BankStats::Table).to_owned())
            .await
    }
}
