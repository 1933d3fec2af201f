//! Database connection: SQLite (embedded default) or PostgreSQL, chosen by URL.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

/// Opens the database and brings its schema up to date.
///
/// SQLite runs in WAL mode with foreign keys enforced and a busy handler that tries
/// again within a millisecond for up to 30 s ([`busy`]), so concurrent writers wait
/// instead of failing, and with `synchronous=FULL` unless the
/// configuration chose `NORMAL`: WAL with FULL syncs on every commit, so a write
/// acknowledged to a client survives a power loss, not only a process crash. Its
/// files are private to the server's user (0600). `schema` (PostgreSQL only) puts
/// every table in that schema, which the tests use to run side by side.
pub async fn connect(
    config: &crate::config::Config,
    schema: Option<&str>,
) -> Result<DatabaseConnection, DbErr> {
    let url = config.database_url.as_str();
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .acquire_timeout(config.limits.database_wait);
    if url.starts_with("sqlite:") {
        let synchronous = if config.limits.sqlite_synchronous_full {
            sea_orm::sqlx::sqlite::SqliteSynchronous::Full
        } else {
            sea_orm::sqlx::sqlite::SqliteSynchronous::Normal
        };
        make_private(url)
            .map_err(|e| DbErr::Custom(format!("cannot secure the SQLite files: {e}")))?;
        options
            .max_connections(8)
            .map_sqlx_sqlite_opts(move |opts| {
                opts.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(synchronous)
                    .foreign_keys(true)
                    // Waits while the connection is set up (its pragmas);
                    // `busy::install` then replaces it.
                    .busy_timeout(busy::TIMEOUT)
                    .create_if_missing(true)
            })
            .map_sqlx_sqlite_pool_opts(|pool| {
                pool.after_connect(|connection, _| Box::pin(busy::install(connection)))
            });
    } else {
        // sqlx pings a connection before handing it out: a round trip more for every
        // statement. Only a connection idle for a while is pinged (one that broke
        // meanwhile, say in a database restart, is replaced before use); a busy one is
        // used at once, and if it broke, that request gets 503 and it is dropped.
        options
            .max_connections(config.limits.database_connections)
            .test_before_acquire_if_idle_for(Duration::from_secs(1));
        if let Some(schema) = schema {
            options.set_schema_search_path(schema.to_owned());
        }
        options.map_sqlx_postgres_opts(|opts| opts.options(POSTGRES_PLANNER.iter().copied()));
    }
    let db = Database::connect(options).await?;
    migrate_once(&db).await?;
    Ok(db)
}

/// The planner settings of every PostgreSQL connection (the query-plan test explains
/// with the same). Every statement the server runs is an index walk or an index
/// lookup. With skewed data (one large shop among a thousand small ones)
/// PostgreSQL's estimates led it to read a whole table, or a whole instance and sort
/// it, for a page of twenty; to read the exchange's 50,000 outgoing transfers by
/// another index and sort them a few at a time (an incremental sort, 79 ms a page);
/// or to merge-join a page with the accounts table by walking 10,000 accounts. These
/// price such plans out; they forbid nothing a statement needs. Parallel workers and
/// JIT compilation cost a request of a few rows more than they save (JIT compiled
/// for 18 ms to run a page).
pub const POSTGRES_PLANNER: &[(&str, &str)] = &[
    ("enable_seqscan", "off"),
    ("enable_sort", "off"),
    ("enable_incremental_sort", "off"),
    ("enable_mergejoin", "off"),
    ("max_parallel_workers_per_gather", "0"),
    ("jit", "off"),
];

/// Applies pending migrations. On PostgreSQL, servers starting together take turns
/// (a transaction-scoped advisory lock, held on one connection while the migrations
/// run on others), so the second finds the schema done instead of racing to create it.
async fn migrate_once(db: &DatabaseConnection) -> Result<(), DbErr> {
    use sea_orm::{ConnectionTrait, DatabaseBackend, TransactionTrait};
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return Migrator::up(db, None).await;
    }
    let turn = db.begin().await?;
    // One lock per schema (the tests keep theirs apart by schema).
    turn.execute_unprepared("SELECT pg_advisory_xact_lock(hashtext(current_schema()))")
        .await?;
    let done = Migrator::up(db, None).await;
    turn.commit().await?;
    done
}

/// Applies pending migrations only (the `migrate` command).
pub async fn migrate(config: &crate::config::Config) -> Result<(), DbErr> {
    connect(config, None).await.map(|_| ())
}

/// The file of a `sqlite:` URL, if it names one (not `:memory:`).
fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next()?;
    (!path.is_empty() && !path.starts_with(":memory:")).then(|| path.into())
}

/// Creates the SQLite database file with mode 0600 before SQLite does (SQLite gives
/// its `-wal` and `-shm` files the database file's mode), and tightens an existing
/// database and its companions to 0600.
fn make_private(url: &str) -> std::io::Result<()> {
    let Some(path) = sqlite_file(url) else {
        return Ok(());
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut name = path.clone().into_os_string();
            name.push(suffix);
            if std::fs::metadata(&name).is_ok() {
                std::fs::set_permissions(&name, std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    Ok(())
}

pub mod access;
pub mod accounts;
pub mod bank;
mod busy;
pub mod charities;
pub mod donation_receipts;
pub mod donau_keys;
pub mod instances;
pub mod inventory;
pub mod locks;
pub mod login_failures;
pub mod orders;
pub mod otp_devices;
pub mod pots;
pub mod rates;
pub mod reports;
pub mod shape;
pub mod templates;
pub mod tokens;
pub mod webhooks;

/// `query` narrowed to one page of row-id pagination over `column`.
pub fn paged<E: sea_orm::EntityTrait>(
    query: sea_orm::Select<E>,
    column: E::Column,
    page: crate::taler::pagination::Page,
) -> sea_orm::Select<E> {
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
    let query = if page.ascending {
        query.filter(column.gt(page.offset)).order_by_asc(column)
    } else {
        query.filter(column.lt(page.offset)).order_by_desc(column)
    };
    query.limit(page.count)
}

/// `column` contains `text`, ignoring case (as the reference's filters do): a
/// `LIKE` of the lowercased column against the lowercased, escaped text. No index
/// serves it; it is checked on each row a walk meets.
pub fn contains_folded(
    column: impl sea_orm::sea_query::IntoColumnRef,
    text: &str,
) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
    let pattern = format!(
        "%{}%",
        text.to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    Expr::expr(Func::lower(Expr::col(column))).like(LikeExpr::new(pattern).escape('\\'))
}

/// The alias of the outer query of [`merged_pages`]: a sort over at most
/// branches × `limit` rows, each branch an index walk that stopped after `limit` rows
/// (the query-plan tests accept a sort only there).
pub const MERGED_PAGE: &str = "merged_page";

/// One page over several index walks: each of `branches` is a page on its own (its
/// rows in the page's order over `column`, at most `page.count`), and the page is the
/// first `page.count` rows of their union. An index walks one value of its leading
/// columns in order; a filter that allows several values (an order list narrowed to
/// unrefunded orders, paid or not, say) is one walk per value, merged here, instead of
/// one walk over every row that sorts what matched.
pub fn merged_pages(
    branches: Vec<sea_orm::sea_query::SelectStatement>,
    column: impl sea_orm::sea_query::IntoIden + Clone,
    page: crate::taler::pagination::Page,
) -> sea_orm::sea_query::SelectStatement {
    use sea_orm::sea_query::{Alias, Asterisk, Order, Query, UnionType};
    let mut branches = branches.into_iter().enumerate().map(|(i, branch)| {
        Query::select()
            .column(Asterisk)
            .from_subquery(branch, Alias::new(format!("branch_{i}")))
            .to_owned()
    });
    let mut union = branches.next().expect("at least one branch");
    for branch in branches {
        union.union(UnionType::All, branch);
    }
    let order = if page.ascending {
        Order::Asc
    } else {
        Order::Desc
    };
    Query::select()
        .column(Asterisk)
        .from_subquery(union, Alias::new(MERGED_PAGE))
        .order_by((Alias::new(MERGED_PAGE), column), order)
        .limit(page.count)
        .to_owned()
}

/// [`paged`] for the rows whose `within` (an instance, an account) is `at`: the order
/// is (`within`, `column`), which is the same order, and which only an index on both
/// columns gives. So no engine walks the primary key through every instance's rows,
/// or reads the instance's rows by another index and sorts them, however its estimates
/// go (PostgreSQL's went wrong with one large shop among a thousand).
pub fn paged_within<E: sea_orm::EntityTrait>(
    query: sea_orm::Select<E>,
    within: E::Column,
    at: i64,
    column: E::Column,
    page: crate::taler::pagination::Page,
) -> sea_orm::Select<E> {
    paged_along(query, vec![(within, at.into())], column, page)
}

/// [`paged_within`] for an index that leads with several columns, each of them fixed
/// (`leading`, in the index's order): the page is ordered by all of them, then by
/// `column`. The first is written `IN (v, v)` ([`pinned`]), the others as equalities:
/// PostgreSQL (before 17) uses an IN list on a later column of an index only as a
/// filter on each row, not to seek (a `paid=no` page read the shop's 100,000 orders,
/// 1.2 s); an equality it seeks with, and drops the column from the order, which the
/// index's order then still gives.
pub fn paged_along<E: sea_orm::EntityTrait>(
    mut query: sea_orm::Select<E>,
    leading: Vec<(E::Column, sea_orm::Value)>,
    column: E::Column,
    page: crate::taler::pagination::Page,
) -> sea_orm::Select<E> {
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
    for (i, (within, at)) in leading.into_iter().enumerate() {
        query = if i == 0 {
            query.filter(within.is_in([at.clone(), at]))
        } else {
            query.filter(within.eq(at))
        };
        query = if page.ascending {
            query.order_by_asc(within)
        } else {
            query.order_by_desc(within)
        };
    }
    paged(query, column, page)
}

/// `value` twice, for `column IN (value, value)` (as [`paged_along`] writes the first
/// of its columns): the rows `column = value` names. An equality makes PostgreSQL take the column as a constant and drop it from the
/// ORDER BY; it may then walk the primary key backwards through every other
/// instance's rows to find a page of one clustered shop (80,000 rows read for 20, at
/// 100,000 products). An IN list keeps the column in the order, so only the index
/// that leads with it serves. SQLite reads an IN list of one value as the equality.
pub fn pinned(value: i64) -> [i64; 2] {
    [value, value]
}

/// The first statement of a transaction that reads and then writes: a no-op update of
/// `column` on the rows `filter` selects. On SQLite it takes the write lock before the
/// transaction reads, since a transaction that has read fails its first write at once
/// (`SQLITE_BUSY`, without waiting) when another write committed meanwhile, such as a
/// background step's. On PostgreSQL it locks the rows, so changes of them queue up.
/// The number of rows selected (zero: the caller's object is unknown).
pub async fn write_first<E: sea_orm::EntityTrait>(
    txn: &impl sea_orm::ConnectionTrait,
    column: E::Column,
    filter: sea_orm::Condition,
) -> Result<u64, DbErr> {
    use sea_orm::QueryFilter;
    Ok(E::update_many()
        .col_expr(column, sea_orm::sea_query::Expr::col(column))
        .filter(filter)
        .exec(txn)
        .await?
        .rows_affected)
}

/// True when the error is a unique-constraint violation (a concurrent or repeated insert).
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// True when the error is a foreign-key violation (a referenced row vanished, or a
/// row is still referenced).
pub fn is_foreign_key_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_))
    )
}

/// The outcome of creating a row under a client-chosen id, where posting the same
/// details again is not an error (Taler's idempotent creates).
#[derive(Debug, PartialEq, Eq)]
pub enum CreateOutcome {
    /// Stored now, or already stored with identical details.
    Created,
    /// The id is taken by a row with different details.
    Conflict,
}

/// Whether `err` (a `DbErr`, or a transaction's error wrapping one) says the database
/// cannot be reached: no connection within the pool's wait, a connection lost or
/// refused, or PostgreSQL shutting down or starting up (SQLSTATE classes 08 and 57P).
/// Such requests get 503 with `Retry-After`, not 500.
pub fn unreachable(err: &(dyn std::any::Any + 'static)) -> bool {
    use sea_orm::{RuntimeErr, TransactionError};
    let db_err = match err.downcast_ref::<DbErr>() {
        Some(e) => e,
        None => match err.downcast_ref::<TransactionError<DbErr>>() {
            Some(TransactionError::Connection(e) | TransactionError::Transaction(e)) => e,
            None => return false,
        },
    };
    let sqlx = match db_err {
        DbErr::ConnectionAcquire(_) => return true,
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        _ => return false,
    };
    use sea_orm::sqlx::Error;
    match sqlx.as_ref() {
        Error::Io(_) | Error::PoolTimedOut | Error::PoolClosed | Error::WorkerCrashed => true,
        Error::Database(e) => e
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}
