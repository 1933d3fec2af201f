//! Orders of merchant instances, and the product units unpaid orders hold.

use entities::{
    merchant_orders::{self, ActiveModel, Column, Entity},
    merchant_products::{self, Column as ProductColumn, Entity as Products},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set, Statement,
    TransactionTrait, sea_query::Expr,
};

use super::{access, is_unique_violation};
use crate::taler::pagination::Page;

pub type Order = merchant_orders::Model;
pub type Product = merchant_products::Model;

/// One product's units an order holds, in millionths of the product's unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Lock {
    pub product_serial: i64,
    pub millionths: u128,
}

/// A new order, ready to store.
pub struct NewOrder {
    pub instance_serial: i64,
    pub order_id: String,
    pub contract_terms: String,
    pub h_post_data: String,
    pub claim_token_salt: Option<Vec<u8>>,
    pub creation_time: i64,
    pub pay_deadline: i64,
    pub summary: String,
    pub amount: String,
    pub fulfillment_url: Option<String>,
    pub session_id: Option<String>,
    pub otp_serial: Option<i64>,
    pub locks: Vec<Lock>,
    /// Product locks (`lock_uuids`) the order takes over: their units are given back as
    /// the order takes its own, in the same transaction.
    pub lock_uuids: Vec<String>,
    /// An anonymous order is removed when no wallet claimed it by then (seconds).
    pub unclaimed_deadline: Option<i64>,
}

/// How much of a product is still free: `Ok(None)` for unlimited, `Err` when the
/// stored product cannot be read.
pub type Available<'a> = &'a (dyn Fn(&Product) -> Result<Option<u128>, String> + Sync);

pub enum CreateOutcome {
    Created,
    /// The same request was posted before under this order id.
    Repeated(Order),
    /// The order id is taken by another order.
    Conflict,
    /// A product has fewer free units than the order needs.
    OutOfStock {
        product: Product,
        available: u128,
    },
    /// A locked product vanished (deleted concurrently).
    ProductGone,
}

/// Stores an order and takes its product units in one transaction. The order row is
/// written first, so that on SQLite the transaction holds the write lock before it
/// reads stock; each product's counter is then changed by compare and swap, so racing
/// orders on PostgreSQL cannot both take the last unit.
///
/// On PostgreSQL, `channel` (the order pollers' channel, if they listen on one) is
/// notified of the instance in the order's own statement or transaction, so the wake
/// goes out when the order commits; the caller wakes the pollers itself otherwise.
pub async fn create(
    db: &DatabaseConnection,
    channel: Option<&str>,
    new: NewOrder,
    available: Available<'_>,
) -> Result<CreateOutcome, DbErr> {
    let notify = channel
        .filter(|_| db.get_database_backend() == DatabaseBackend::Postgres)
        .map(|channel| {
            Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "SELECT pg_notify($1, $2)",
                [channel.into(), new.instance_serial.to_string().into()],
            )
        });
    let locks =
        (!new.locks.is_empty()).then(|| serde_json::to_string(&new.locks).expect("serializable"));
    let row = ActiveModel {
        instance_serial: Set(new.instance_serial),
        order_id: Set(new.order_id.clone()),
        contract_terms: Set(new.contract_terms),
        h_post_data: Set(new.h_post_data.clone()),
        claim_token_salt: Set(new.claim_token_salt),
        creation_time: Set(new.creation_time),
        pay_deadline: Set(new.pay_deadline),
        summary: Set(new.summary),
        amount: Set(new.amount),
        fulfillment_url: Set(new.fulfillment_url),
        session_id: Set(new.session_id),
        otp_serial: Set(new.otp_serial),
        inventory_locks: Set(locks),
        unclaimed_deadline: Set(new.unclaimed_deadline),
        ..Default::default()
    };
    // An order that takes no units is its row alone: one statement, without a
    // transaction to open and commit (two round trips more on PostgreSQL).
    if new.locks.is_empty() && new.lock_uuids.is_empty() {
        let inserted = match notify {
            Some(notify) => insert_notifying(db, row, notify).await,
            None => row.insert(db).await.map(|_| ()),
        };
        return match inserted {
            Ok(()) => Ok(CreateOutcome::Created),
            Err(err) if is_unique_violation(&err) => {
                taken(db, new.instance_serial, &new.order_id, &new.h_post_data).await
            }
            Err(err) => Err(err),
        };
    }
    let txn = db.begin().await?;
    match row.insert(&txn).await {
        Ok(_) => {}
        Err(err) if is_unique_violation(&err) => {
            txn.rollback().await?;
            return taken(db, new.instance_serial, &new.order_id, &new.h_post_data).await;
        }
        Err(err) => return Err(err),
    }
    super::locks::take_over(&txn, new.instance_serial, &new.lock_uuids).await?;
    for lock in &new.locks {
        match change_locked(&txn, *lock, true, available).await? {
            Ok(()) => {}
            Err(outcome) => {
                txn.rollback().await?;
                return Ok(outcome);
            }
        }
    }
    if let Some(notify) = notify {
        txn.execute_raw(notify).await?;
    }
    txn.commit().await?;
    Ok(CreateOutcome::Created)
}

/// The order's row and `notify` in one statement (PostgreSQL): the notification runs
/// only if the row was written, and goes out when it commits.
async fn insert_notifying(
    db: &DatabaseConnection,
    row: ActiveModel,
    notify: Statement,
) -> Result<(), DbErr> {
    let mut insert = Entity::insert(row).build(DatabaseBackend::Postgres);
    let mut values = insert.values.take().map(|v| v.0).unwrap_or_default();
    let n = values.len();
    insert.sql = format!(
        "WITH o AS ({} RETURNING 1) SELECT pg_notify(${}, ${}) FROM o",
        insert.sql,
        n + 1,
        n + 2
    );
    values.extend(notify.values.map(|v| v.0).unwrap_or_default());
    insert.values = Some(sea_orm::Values(values));
    db.execute_raw(insert).await.map(|_| ())
}

/// The order id is taken: the same order again (its `h_post_data`) is a repeat,
/// another one a conflict.
async fn taken(
    db: &DatabaseConnection,
    instance_serial: i64,
    order_id: &str,
    h_post_data: &str,
) -> Result<CreateOutcome, DbErr> {
    Ok(match find(db, instance_serial, order_id).await? {
        Some(existing) if existing.h_post_data == h_post_data => CreateOutcome::Repeated(existing),
        _ => CreateOutcome::Conflict,
    })
}

/// Adds (`take`) or gives back a lock's units on its product's `total_locked`.
pub(super) async fn change_locked(
    db: &impl ConnectionTrait,
    lock: Lock,
    take: bool,
    available: Available<'_>,
) -> Result<Result<(), CreateOutcome>, DbErr> {
    loop {
        let Some(product) = Products::find_by_id(lock.product_serial).one(db).await? else {
            return Ok(Err(CreateOutcome::ProductGone));
        };
        let locked = parse_millionths(&product.total_locked)?;
        let new_locked = if take {
            match available(&product).map_err(DbErr::Custom)? {
                Some(free) if free < lock.millionths => {
                    return Ok(Err(CreateOutcome::OutOfStock {
                        product,
                        available: free,
                    }));
                }
                _ => locked + lock.millionths,
            }
        } else {
            locked.saturating_sub(lock.millionths)
        };
        let swapped = Products::update_many()
            .col_expr(
                ProductColumn::TotalLocked,
                format_millionths(new_locked).into(),
            )
            .filter(ProductColumn::ProductSerial.eq(product.product_serial))
            .filter(ProductColumn::TotalLocked.eq(product.total_locked.clone()))
            .filter(ProductColumn::TotalSold.eq(product.total_sold.clone()))
            .filter(ProductColumn::TotalLost.eq(product.total_lost.clone()))
            .filter(ProductColumn::ProductDetails.eq(product.product_details.clone()))
            .exec(db)
            .await?
            .rows_affected
            > 0;
        if swapped {
            return Ok(Ok(()));
        }
    }
}

/// `DecimalQuantity` text to millionths (the products store the same form).
pub fn parse_millionths(text: &str) -> Result<u128, DbErr> {
    let bad = || DbErr::Custom(format!("bad stored quantity {text}"));
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    if frac.len() > 6 {
        return Err(bad());
    }
    let int: u128 = int.parse().map_err(|_| bad())?;
    let frac: u128 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<6}").parse().map_err(|_| bad())?
    };
    Ok(int * 1_000_000 + frac)
}

pub fn format_millionths(m: u128) -> String {
    let (int, frac) = (m / 1_000_000, m % 1_000_000);
    if frac == 0 {
        int.to_string()
    } else {
        format!("{int}.{}", format!("{frac:06}").trim_end_matches('0'))
    }
}

/// Gives back the units of a deleted order.
async fn release(db: &impl ConnectionTrait, order: &Order) -> Result<(), DbErr> {
    let Some(text) = &order.inventory_locks else {
        return Ok(());
    };
    let locks: Vec<Lock> =
        serde_json::from_str(text).map_err(|e| DbErr::Custom(format!("bad locks: {e}")))?;
    let never: Available = &|_| Ok(None);
    for lock in locks {
        // A product deleted meanwhile holds nothing any more.
        let _ = change_locked(db, lock, false, never).await?;
    }
    Ok(())
}

pub async fn find(
    db: &impl ConnectionTrait,
    instance_serial: i64,
    order_id: &str,
) -> Result<Option<Order>, DbErr> {
    Entity::find()
        .filter(Column::InstanceSerial.eq(instance_serial))
        .filter(Column::OrderId.eq(order_id))
        .one(db)
        .await
}

/// The order with its instance (and the presented token's row, if any), in one query.
pub async fn find_with_access(
    db: &impl ConnectionTrait,
    instance_id: &str,
    token_hash: Option<&[u8]>,
    order_id: &str,
) -> Result<Option<access::Found<Order>>, DbErr> {
    access::fetch::<Entity>(
        db,
        instance_id,
        token_hash,
        Column::InstanceSerial,
        Column::OrderId,
        order_id,
        |_| {},
    )
    .await
}

pub enum ClaimOutcome {
    Claimed,
    /// Claimed before with this nonce: the stored terms are the answer.
    Again(Box<Order>),
    /// Claimed before with another nonce.
    ClaimedByOther,
    Unknown,
}

/// Freezes the contract terms for the wallet of `nonce`, once.
pub async fn claim(
    db: &impl ConnectionTrait,
    order: &Order,
    nonce: &str,
    contract_terms: String,
    h_contract_terms: String,
) -> Result<ClaimOutcome, DbErr> {
    let claimed = Entity::update_many()
        .col_expr(Column::Nonce, nonce.into())
        .col_expr(Column::ContractTerms, contract_terms.into())
        .col_expr(Column::HContractTerms, h_contract_terms.into())
        .filter(Column::OrderSerial.eq(order.order_serial))
        .filter(Column::Nonce.is_null())
        .filter(Column::ContractTerms.eq(order.contract_terms.clone()))
        .exec(db)
        .await?
        .rows_affected
        > 0;
    if claimed {
        return Ok(ClaimOutcome::Claimed);
    }
    Ok(
        match Entity::find_by_id(order.order_serial).one(db).await? {
            None => ClaimOutcome::Unknown,
            Some(now) if now.nonce.as_deref() == Some(nonce) => ClaimOutcome::Again(Box::new(now)),
            Some(now) if now.nonce.is_some() => ClaimOutcome::ClaimedByOther,
            // Forgotten fields changed the terms before the claim: the caller retries.
            Some(now) => ClaimOutcome::Again(Box::new(now)),
        },
    )
}

/// Replaces the contract terms if they are still `seen` (compare and swap).
pub async fn replace_terms(
    db: &impl ConnectionTrait,
    order: &Order,
    contract_terms: String,
) -> Result<bool, DbErr> {
    Ok(Entity::update_many()
        .col_expr(Column::ContractTerms, contract_terms.into())
        .filter(Column::OrderSerial.eq(order.order_serial))
        .filter(Column::ContractTerms.eq(order.contract_terms.clone()))
        .exec(db)
        .await?
        .rows_affected
        > 0)
}

/// What the order list is narrowed to.
#[derive(Default)]
pub struct OrderFilter {
    pub paid: Option<bool>,
    pub refunded: Option<bool>,
    pub wired: Option<bool>,
    /// Only orders created after this time (seconds).
    pub created_after: Option<i64>,
    pub session_id: Option<String>,
    pub fulfillment_url: Option<String>,
    /// Only orders whose summary contains this text, case-insensitively.
    pub summary: Option<String>,
}

/// What the order list shows of an order (its `OrderHistoryEntry`). Only these
/// columns are read: the contract terms are most of an order's row.
#[derive(Debug, sea_orm::FromQueryResult)]
pub struct ListedOrder {
    pub order_serial: i64,
    pub order_id: String,
    pub creation_time: i64,
    pub amount: String,
    pub summary: String,
    pub paid: bool,
}

/// One page of the instance's orders: walks of the instance's orders by serial that
/// stop after `page.count` rows (see [`list_query`]).
pub async fn list(
    db: &impl ConnectionTrait,
    instance_serial: i64,
    filter: &OrderFilter,
    page: Page,
) -> Result<Vec<ListedOrder>, DbErr> {
    use sea_orm::FromQueryResult;
    let backend = db.get_database_backend();
    let mut statement = backend.build(&list_query(instance_serial, filter, page));
    if backend == sea_orm::DatabaseBackend::Postgres {
        statement = access::inline_limit(statement, page.count);
    }
    ListedOrder::find_by_statement(statement).all(db).await
}

/// The order list's query. Each walk is an index whose last column is the serial:
/// - a session or a fulfillment URL names few orders: its own index, the payment
///   states checked on each order met;
/// - the payment states (`paid`, `refunded`, `wired`) are the leading columns of one
///   index: one walk for each combination the filter allows (four at most, when one
///   of them is given), merged ([`super::merged_pages`]);
/// - otherwise the instance's orders by serial.
///
/// `date_s` and the summary are checked on each order met: orders come in serial
/// order, which is not quite creation order (a serial is given when the row is
/// written), so no index bounds the walk by time. A descending page (the back office's
/// newest first) meets the newest orders first.
pub fn list_query(
    instance_serial: i64,
    filter: &OrderFilter,
    page: Page,
) -> sea_orm::sea_query::SelectStatement {
    use sea_orm::{QueryTrait, sea_query::ExprTrait};
    let walk = |states: [Option<bool>; 3], indexed: bool| {
        let mut query = Entity::find().select_only().columns([
            Column::OrderSerial,
            Column::OrderId,
            Column::CreationTime,
            Column::Amount,
            Column::Summary,
            Column::Paid,
        ]);
        // The walk's index, by its leading columns: the instance, then the states or
        // the session or the fulfillment URL.
        let mut leading: Vec<(Column, sea_orm::Value)> =
            vec![(Column::InstanceSerial, instance_serial.into())];
        for (column, state) in [Column::Paid, Column::Refunded, Column::Wired]
            .into_iter()
            .zip(states)
        {
            if let Some(state) = state {
                if indexed {
                    leading.push((column, state.into()));
                } else {
                    // Written so that no index serves it: the walk is the session's
                    // (or the fulfillment URL's).
                    query = query.filter(ExprTrait::eq(Expr::expr(column.eq(state)), true));
                }
            }
        }
        if let Some(session) = &filter.session_id {
            leading.push((Column::SessionId, session.clone().into()));
        }
        match &filter.fulfillment_url {
            Some(url) if filter.session_id.is_some() => {
                let url = Column::FulfillmentUrl.eq(url.clone());
                query = query.filter(ExprTrait::eq(Expr::expr(url), true));
            }
            Some(url) => leading.push((Column::FulfillmentUrl, url.clone().into())),
            None => {}
        }
        if let Some(after) = filter.created_after {
            query = query.filter(Column::CreationTime.gt(after));
        }
        if let Some(text) = &filter.summary {
            query = query.filter(super::contains_folded(Column::Summary, text));
        }
        super::paged_along(query, leading, Column::OrderSerial, page).into_query()
    };
    let states = [filter.paid, filter.refunded, filter.wired];
    if filter.session_id.is_some()
        || filter.fulfillment_url.is_some()
        || states.iter().all(Option::is_none)
    {
        return walk(states, false);
    }
    let either = |state: Option<bool>| state.map_or(vec![false, true], |s| vec![s]);
    let mut branches = Vec::new();
    for paid in either(filter.paid) {
        for refunded in either(filter.refunded) {
            for wired in either(filter.wired) {
                branches.push(walk([Some(paid), Some(refunded), Some(wired)], true));
            }
        }
    }
    if branches.len() == 1 {
        return branches.remove(0);
    }
    super::merged_pages(branches, Column::OrderSerial, page)
}

/// Gives back the units `order` holds, unless that happened before (another request
/// or server did it): the row's locks are cleared first, conditionally, so units are
/// given back exactly once. An order's locks never change once it is created, so the
/// caller's copy says what they were.
async fn release_once(db: &impl ConnectionTrait, order: &Order) -> Result<(), DbErr> {
    if order.inventory_locks.is_none() {
        return Ok(());
    }
    let cleared = Entity::update_many()
        .col_expr(Column::InventoryLocks, Expr::value(Option::<String>::None))
        .filter(Column::OrderSerial.eq(order.order_serial))
        .filter(Column::InventoryLocks.is_not_null())
        .exec(db)
        .await?
        .rows_affected
        > 0;
    if cleared {
        release(db, order).await?;
    }
    Ok(())
}

/// Deletes an unpaid order and gives back its units. False when it was gone already
/// (another request or server deleted it).
pub async fn delete(db: &DatabaseConnection, order: &Order) -> Result<bool, DbErr> {
    delete_unpaid(db, order, false).await
}

/// Deletes the order if it is still unpaid (and, with `unclaimed`, still unclaimed),
/// giving back its units in the same transaction.
async fn delete_unpaid(
    db: &DatabaseConnection,
    order: &Order,
    unclaimed: bool,
) -> Result<bool, DbErr> {
    let txn = db.begin().await?;
    release_once(&txn, order).await?;
    let mut delete = Entity::delete_many()
        .filter(Column::OrderSerial.eq(order.order_serial))
        .filter(Column::Paid.eq(false));
    if unclaimed {
        delete = delete.filter(Column::Nonce.is_null());
    }
    let deleted = delete.exec(&txn).await?.rows_affected > 0;
    if deleted {
        txn.commit().await?;
    } else {
        txn.rollback().await?;
    }
    Ok(deleted)
}

/// An unpaid order past its pay deadline can no longer be paid: its units are free
/// again, and the order stays (readable, not payable) until the merchant deletes it or
/// its legal preservation ends. False when its units were given back before.
pub async fn expire(db: &DatabaseConnection, order: &Order) -> Result<bool, DbErr> {
    let txn = db.begin().await?;
    let before = order.inventory_locks.is_some();
    release_once(&txn, order).await?;
    txn.commit().await?;
    Ok(before)
}

/// Removes an order whose legal preservation ended, paid or not, giving back any units
/// it still holds.
pub async fn purge(db: &DatabaseConnection, order: &Order) -> Result<bool, DbErr> {
    let txn = db.begin().await?;
    release_once(&txn, order).await?;
    let deleted = Entity::delete_many()
        .filter(Column::OrderSerial.eq(order.order_serial))
        .exec(&txn)
        .await?
        .rows_affected
        > 0;
    txn.commit().await?;
    Ok(deleted)
}

/// The conditions of the partial indexes `merchant_orders_holding_units` and
/// `merchant_orders_unclaimed` (migration 000027), term for term: SQLite uses a partial
/// index only for a query that states its condition, and a bound `false` is no
/// statement.
const HOLDS_UNITS: &str = "NOT paid AND inventory_locks IS NOT NULL";
const UNCLAIMED: &str = "NOT paid AND nonce IS NULL";

/// Orders created before `cutoff` (seconds), oldest first.
pub async fn past_preservation(
    db: &impl ConnectionTrait,
    cutoff: i64,
    batch: u64,
) -> Result<Vec<Order>, DbErr> {
    Entity::find()
        .filter(Column::CreationTime.lt(cutoff))
        .order_by_asc(Column::CreationTime)
        .limit(batch)
        .all(db)
        .await
}

/// Unpaid orders whose pay deadline passed before `now` (seconds) and that still hold
/// units, oldest first.
pub async fn expired(db: &impl ConnectionTrait, now: i64, batch: u64) -> Result<Vec<Order>, DbErr> {
    Entity::find()
        .filter(Column::PayDeadline.lt(now))
        .filter(Expr::cust(HOLDS_UNITS))
        .order_by_asc(Column::PayDeadline)
        .limit(batch)
        .all(db)
        .await
}

/// Anonymous orders no wallet claimed before their `unclaimed_deadline` passed `now`
/// (seconds), oldest first.
pub async fn unclaimed(
    db: &impl ConnectionTrait,
    now: i64,
    batch: u64,
) -> Result<Vec<Order>, DbErr> {
    Entity::find()
        .filter(Column::UnclaimedDeadline.lt(now))
        .filter(Expr::cust(UNCLAIMED))
        .order_by_asc(Column::UnclaimedDeadline)
        .limit(batch)
        .all(db)
        .await
}

/// Removes an anonymous order nobody claimed, giving back its units; false when it was
/// claimed or removed meanwhile (the delete is conditional on the row as it is now).
pub async fn delete_unclaimed(db: &DatabaseConnection, order: &Order) -> Result<bool, DbErr> {
    delete_unpaid(db, order, true).await
}
