//! Failed password logins per throttle key in its current window
//! (`crate::taler::throttle`), in the database so that every server sharing it counts
//! against the same limit. A key's window starts at its first failure after the last
//! window ended; times are milliseconds since the epoch.

use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, QueryResult, Statement, Value};

/// A key's failures in its current window, and when that window started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failures {
    pub key: String,
    pub count: i64,
    pub window_start_ms: i64,
}

fn placeholder(backend: DatabaseBackend, n: usize) -> String {
    match backend {
        DatabaseBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    }
}

fn failures(row: &QueryResult) -> Result<Failures, DbErr> {
    Ok(Failures {
        key: row.try_get("", "throttle_key")?,
        count: row.try_get("", "failures")?,
        window_start_ms: row.try_get("", "window_start")?,
    })
}

/// The failures of each of `keys` whose window started after `cutoff_ms` (the ones
/// still running); keys without any are left out.
pub async fn counts(
    db: &impl ConnectionTrait,
    keys: &[String],
    cutoff_ms: i64,
) -> Result<Vec<Failures>, DbErr> {
    let backend = db.get_database_backend();
    let list: Vec<String> = (0..keys.len())
        .map(|i| placeholder(backend, i + 2))
        .collect();
    let sql = format!(
        "SELECT throttle_key, failures, window_start FROM login_failures \
         WHERE window_start > {} AND throttle_key IN ({})",
        placeholder(backend, 1),
        list.join(", ")
    );
    let mut values: Vec<Value> = vec![cutoff_ms.into()];
    values.extend(keys.iter().map(|k| k.clone().into()));
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    rows.iter().map(failures).collect()
}

/// Counts one failure at `now_ms` for each of `keys`, in one atomic statement: a
/// window that started at or before `cutoff_ms` is over and begins anew. Returns each
/// key's failures with it.
pub async fn fail(
    db: &impl ConnectionTrait,
    keys: &[String],
    now_ms: i64,
    cutoff_ms: i64,
) -> Result<Vec<Failures>, DbErr> {
    let backend = db.get_database_backend();
    let rows: Vec<String> = (0..keys.len())
        .map(|i| {
            format!(
                "({}, {}, 1)",
                placeholder(backend, i + 3),
                placeholder(backend, 1)
            )
        })
        .collect();
    let cutoff = placeholder(backend, 2);
    // Both assignments read the row as it was (SQL evaluates every right-hand side
    // before any is stored).
    let sql = format!(
        "INSERT INTO login_failures (throttle_key, window_start, failures) VALUES {} \
         ON CONFLICT (throttle_key) DO UPDATE SET \
         failures = CASE WHEN login_failures.window_start <= {cutoff} THEN 1 \
                    ELSE login_failures.failures + 1 END, \
         window_start = CASE WHEN login_failures.window_start <= {cutoff} \
                        THEN excluded.window_start ELSE login_failures.window_start END \
         RETURNING throttle_key, failures, window_start",
        rows.join(", ")
    );
    // SQLite numbers `?` in order of appearance: values repeat where they appear.
    let values: Vec<Value> = match backend {
        DatabaseBackend::Postgres => [now_ms.into(), cutoff_ms.into()]
            .into_iter()
            .chain(keys.iter().map(|k| k.clone().into()))
            .collect(),
        _ => keys
            .iter()
            .flat_map(|k| [k.clone().into(), now_ms.into()])
            .chain([cutoff_ms.into(), cutoff_ms.into()])
            .collect(),
    };
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    rows.iter().map(failures).collect()
}

/// Drops the windows that started at or before `cutoff_ms` (over).
pub async fn prune(db: &impl ConnectionTrait, cutoff_ms: i64) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    let sql = format!(
        "DELETE FROM login_failures WHERE window_start <= {}",
        placeholder(backend, 1)
    );
    Ok(db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [cutoff_ms.into()],
        ))
        .await?
        .rows_affected())
}
