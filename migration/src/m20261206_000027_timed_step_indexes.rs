//! Indexes for the order lifecycle's timed steps, which every server runs each second
//! (`merchant::orders::lifecycle`). Each step asks for the oldest few rows it has work
//! for; the indexes hold only those rows, so a step's cost follows the work waiting,
//! not the orders kept:
//! - the pay-deadline walk read every order whose deadline passed (paid or released
//!   ones too, which pile up for the ten years of legal preservation); it now walks
//!   only unpaid orders that still hold units;
//! - the unclaimed-order walk likewise walks only unpaid orders no wallet claimed;
//! - the legal-preservation walk had no index at all and read the whole table, then
//!   sorted it, every second;
//! - the anonymous-creation counts are pruned by their window's start.
//!
//! The partial indexes' conditions are written the same way in the queries
//! (`store::orders::HOLDS_UNITS`, `UNCLAIMED`): SQLite uses a partial index only for a
//! query that states its condition term for term.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &[&str] = &[
    "DROP INDEX IF EXISTS merchant_orders_pay_deadline",
    "DROP INDEX IF EXISTS merchant_orders_unclaimed_deadline",
    "CREATE INDEX merchant_orders_holding_units ON merchant_orders (pay_deadline) \
     WHERE NOT paid AND inventory_locks IS NOT NULL",
    "CREATE INDEX merchant_orders_unclaimed ON merchant_orders (unclaimed_deadline) \
     WHERE NOT paid AND nonce IS NULL",
    "CREATE INDEX merchant_orders_by_creation ON merchant_orders (creation_time)",
    "CREATE INDEX merchant_order_rates_window ON merchant_order_rates (window_start)",
];

const DOWN: &[&str] = &[
    "DROP INDEX IF EXISTS merchant_order_rates_window",
    "DROP INDEX IF EXISTS merchant_orders_by_creation",
    "DROP INDEX IF EXISTS merchant_orders_unclaimed",
    "DROP INDEX IF EXISTS merchant_orders_holding_units",
    "CREATE INDEX merchant_orders_pay_deadline ON merchant_orders (pay_deadline)",
    "CREATE INDEX merchant_orders_unclaimed_deadline ON merchant_orders (unclaimed_deadline)",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for sql in UP {
            manager.get_connection().execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for sql in DOWN {
            manager.get_connection().execute_unprepared(sql).await?;
        }
        Ok(())
    }
}
