//! Product locks (`private/products/$ID/lock`): units a frontend holds while its
//! customer assembles an order. A lock's units are part of its product's
//! `total_locked`, like an unpaid order's; they are given back when the lock expires,
//! is set to zero, or is taken over by an order (`lock_uuids`).
//!
//! Every change first swaps the lock row as it was read (so two requests for the same
//! UUID cannot both count their change) and then the product's counter, in one
//! transaction.

use entities::{
    merchant_product_locks::{self, ActiveModel, Column, Entity},
    merchant_products::{Column as ProductColumn, Entity as Products},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};

use super::{
    is_unique_violation,
    orders::{
        Available, CreateOutcome, Lock, Product, change_locked, format_millionths, parse_millionths,
    },
};

pub type ProductLock = merchant_product_locks::Model;

pub enum LockOutcome {
    /// Locked, changed or (with zero) released.
    Done,
    UnknownProduct,
    /// The product has fewer free units than the lock's increase.
    OutOfStock {
        product: Product,
        available: u128,
    },
}

/// Sets the lock `uuid` on the instance's product `product_id` to `millionths` units
/// until `expiration` (seconds); zero releases it.
pub async fn set(
    db: &DatabaseConnection,
    instance_serial: i64,
    product_id: &str,
    uuid: &str,
    millionths: u128,
    expiration: i64,
    available: Available<'_>,
) -> Result<LockOutcome, DbErr> {
    loop {
        let txn = db.begin().await?;
        // Changes of one product's locks queue up instead of racing (`write_first`).
        let touched = super::write_first::<Products>(
            &txn,
            ProductColumn::TotalLocked,
            sea_orm::Condition::all()
                .add(ProductColumn::InstanceSerial.eq(instance_serial))
                .add(ProductColumn::ProductId.eq(product_id)),
        )
        .await?;
        if touched == 0 {
            txn.rollback().await?;
            return Ok(LockOutcome::UnknownProduct);
        }
        let Some(product) = Products::find()
            .filter(ProductColumn::InstanceSerial.eq(instance_serial))
            .filter(ProductColumn::ProductId.eq(product_id))
            .one(&txn)
            .await?
        else {
            txn.rollback().await?;
            return Ok(LockOutcome::UnknownProduct);
        };
        let existing = Entity::find()
            .filter(Column::ProductSerial.eq(product.product_serial))
            .filter(Column::LockUuid.eq(uuid))
            .one(&txn)
            .await?;
        let held = match &existing {
            Some(l) => parse_millionths(&l.quantity)?,
            None => 0,
        };
        // The row first: a concurrent change of the same lock makes this one start over.
        let swapped = match (&existing, millionths) {
            (None, 0) => true,
            (None, _) => {
                let row = ActiveModel {
                    instance_serial: Set(instance_serial),
                    product_serial: Set(product.product_serial),
                    lock_uuid: Set(uuid.to_owned()),
                    quantity: Set(format_millionths(millionths)),
                    expiration: Set(expiration),
                    ..Default::default()
                };
                match row.insert(&txn).await {
                    Ok(_) => true,
                    Err(e) if is_unique_violation(&e) => false,
                    Err(e) => return Err(e),
                }
            }
            (Some(l), 0) => {
                Entity::delete_many()
                    .filter(Column::LockSerial.eq(l.lock_serial))
                    .filter(Column::Quantity.eq(l.quantity.clone()))
                    .exec(&txn)
                    .await?
                    .rows_affected
                    > 0
            }
            (Some(l), _) => {
                Entity::update_many()
                    .col_expr(Column::Quantity, format_millionths(millionths).into())
                    .col_expr(Column::Expiration, expiration.into())
                    .filter(Column::LockSerial.eq(l.lock_serial))
                    .filter(Column::Quantity.eq(l.quantity.clone()))
                    .exec(&txn)
                    .await?
                    .rows_affected
                    > 0
            }
        };
        if !swapped {
            txn.rollback().await?;
            continue;
        }
        let product_serial = product.product_serial;
        let change = if millionths >= held {
            (millionths > held).then(|| (millionths - held, true))
        } else {
            Some((held - millionths, false))
        };
        if let Some((delta, take)) = change {
            let lock = Lock {
                product_serial,
                millionths: delta,
            };
            match change_locked(&txn, lock, take, available).await? {
                Ok(()) => {}
                Err(CreateOutcome::OutOfStock { product, available }) => {
                    txn.rollback().await?;
                    return Ok(LockOutcome::OutOfStock { product, available });
                }
                Err(_) => {
                    txn.rollback().await?;
                    return Ok(LockOutcome::UnknownProduct);
                }
            }
        }
        txn.commit().await?;
        return Ok(LockOutcome::Done);
    }
}

/// Gives back the units of the instance's locks named in `uuids` (an order takes them
/// over), inside the order's transaction.
pub(super) async fn take_over(
    db: &impl ConnectionTrait,
    instance_serial: i64,
    uuids: &[String],
) -> Result<(), DbErr> {
    if uuids.is_empty() {
        return Ok(());
    }
    let locks = Entity::find()
        .filter(Column::InstanceSerial.eq(instance_serial))
        .filter(Column::LockUuid.is_in(uuids.iter().cloned()))
        .all(db)
        .await?;
    for lock in locks {
        release_row(db, &lock).await?;
    }
    Ok(())
}

/// Deletes the lock row as read and, if it was still there, gives back its units.
async fn release_row(db: &impl ConnectionTrait, lock: &ProductLock) -> Result<bool, DbErr> {
    let deleted = Entity::delete_many()
        .filter(Column::LockSerial.eq(lock.lock_serial))
        .filter(Column::Quantity.eq(lock.quantity.clone()))
        .exec(db)
        .await?
        .rows_affected
        > 0;
    if deleted {
        let never: Available = &|_| Ok(None);
        let units = Lock {
            product_serial: lock.product_serial,
            millionths: parse_millionths(&lock.quantity)?,
        };
        // A product deleted meanwhile holds nothing any more.
        let _ = change_locked(db, units, false, never).await?;
    }
    Ok(deleted)
}

/// Locks whose expiration passed before `now` (seconds), oldest first.
pub async fn expired(
    db: &impl ConnectionTrait,
    now: i64,
    batch: u64,
) -> Result<Vec<ProductLock>, DbErr> {
    Entity::find()
        .filter(Column::Expiration.lt(now))
        .order_by_asc(Column::Expiration)
        .limit(batch)
        .all(db)
        .await
}

/// Gives back an expired lock's units once, whichever server gets there first.
pub async fn expire(db: &DatabaseConnection, lock: &ProductLock) -> Result<bool, DbErr> {
    let txn = db.begin().await?;
    let released = release_row(&txn, lock).await?;
    txn.commit().await?;
    Ok(released)
}
