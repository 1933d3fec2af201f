//! The monitor's statistics (`bank_stats`): each Taler transfer adds to the rows of
//! its hour, day, month and year inside the transfer's transaction, with one atomic
//! upsert a row, so racing transfers (and servers) all count.

use entities::bank_stats::{Entity, Model};
use migration::calendar::timeframe_starts;
use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, Statement};

/// Which way a Taler transfer went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Into an exchange, a reserve or KYC key as subject.
    In,
    /// Out of an exchange, through the Wire Gateway.
    Out,
}

/// Counts a transfer of `units` (10^-8) made at `date` (seconds).
pub async fn add(
    db: &impl ConnectionTrait,
    direction: Direction,
    date: i64,
    units: i128,
) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let p: Vec<String> = (1..=5)
        .map(|n| match backend {
            DatabaseBackend::Postgres => format!("${n}"),
            _ => "?".to_owned(),
        })
        .collect();
    let (count, value, frac) = match direction {
        Direction::In => ("taler_in_count", "taler_in_value", "taler_in_frac"),
        Direction::Out => ("taler_out_count", "taler_out_value", "taler_out_frac"),
    };
    let sql = format!(
        "INSERT INTO bank_stats (timeframe, start, taler_in_count, taler_in_value, \
           taler_in_frac, taler_out_count, taler_out_value, taler_out_frac) \
         VALUES ({t}, {s}, 0, 0, 0, 0, 0, 0) \
         ON CONFLICT (timeframe, start) DO NOTHING",
        t = p[0],
        s = p[1],
    );
    let bump = format!(
        "UPDATE bank_stats SET {count} = {count} + 1, {value} = {value} + {v}, \
           {frac} = {frac} + {f} WHERE timeframe = {t} AND start = {s}",
        v = p[0],
        f = p[1],
        t = p[2],
        s = p[3],
    );
    let (v, f) = ((units / 100_000_000) as i64, (units % 100_000_000) as i64);
    for (timeframe, start) in timeframe_starts(date) {
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            &sql,
            [timeframe.into(), start.into()],
        ))
        .await?;
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            &bump,
            [v.into(), f.into(), timeframe.into(), start.into()],
        ))
        .await?;
    }
    Ok(())
}

/// The row of the timeframe starting at `start`, if anything was counted in it.
pub async fn find(
    db: &impl ConnectionTrait,
    timeframe: &str,
    start: i64,
) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id((timeframe.to_owned(), start))
        .one(db)
        .await
}
