//! Counts of anonymous order creations per client address and minute, in the database
//! so that every server sharing it counts against the same limit.

use entities::merchant_order_rates::{Column, Entity};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, QueryFilter, Statement,
};

/// Counts one creation from `address` in the window starting at `window_start`
/// (seconds) and returns the window's count with it, in one atomic statement.
pub async fn hit(
    db: &impl ConnectionTrait,
    address: &str,
    window_start: i64,
) -> Result<i64, DbErr> {
    let backend = db.get_database_backend();
    let p = match backend {
        DatabaseBackend::Postgres => ["$1", "$2"],
        _ => ["?", "?"],
    };
    let sql = format!(
        "INSERT INTO merchant_order_rates (address, window_start, hits) VALUES ({}, {}, 1) \
         ON CONFLICT (address, window_start) \
         DO UPDATE SET hits = merchant_order_rates.hits + 1 \
         RETURNING hits",
        p[0], p[1]
    );
    let stmt = Statement::from_sql_and_values(backend, sql, [address.into(), window_start.into()]);
    let row = db
        .query_one_raw(stmt)
        .await?
        .ok_or_else(|| DbErr::Custom("the rate upsert returned no row".into()))?;
    row.try_get("", "hits")
}

/// Drops the windows that started before `cutoff` (seconds).
pub async fn prune(db: &impl ConnectionTrait, cutoff: i64) -> Result<u64, DbErr> {
    Ok(Entity::delete_many()
        .filter(Column::WindowStart.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected)
}
