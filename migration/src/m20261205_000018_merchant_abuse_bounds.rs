//! What keeps the merchant's public and lock endpoints bounded:
//! - `merchant_product_locks`: units a frontend holds through `private/products/$ID/lock`
//!   until the lock's expiration (counted in the product's `total_locked`);
//! - `merchant_orders.unclaimed_deadline`: an order created anonymously (from a public
//!   template) is removed when no wallet claimed it by then;
//! - `merchant_order_rates`: anonymous order creations per client address and minute,
//!   in the database so that servers sharing it share the count.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MerchantProducts {
    Table,
    ProductSerial,
}

#[derive(DeriveIden, Clone, Copy)]
enum MerchantProductLocks {
    Table,
    LockSerial,
    InstanceSerial,
    ProductSerial,
    LockUuid,
    Quantity,
    Expiration,
}

#[derive(DeriveIden, Clone, Copy)]
enum MerchantOrders {
    Table,
    UnclaimedDeadline,
}

#[derive(DeriveIden, Clone, Copy)]
enum MerchantOrderRates {
    Table,
    Address,
    WindowStart,
    Hits,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MerchantProductLocks::Table)
                    .col(big_pk_auto(MerchantProductLocks::LockSerial))
                    .col(big_integer(MerchantProductLocks::InstanceSerial))
                    .col(big_integer(MerchantProductLocks::ProductSerial))
                    .col(string(MerchantProductLocks::LockUuid))
                    .col(string(MerchantProductLocks::Quantity))
                    .col(big_integer(MerchantProductLocks::Expiration))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                MerchantProductLocks::Table,
                                MerchantProductLocks::ProductSerial,
                            )
                            .to(MerchantProducts::Table, MerchantProducts::ProductSerial)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("merchant_product_locks_uuid_per_product")
                    .table(MerchantProductLocks::Table)
                    .col(MerchantProductLocks::ProductSerial)
                    .col(MerchantProductLocks::LockUuid)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The lifecycle task looks for expired locks; an order looks up its lock UUIDs.
        manager
            .create_index(
                Index::create()
                    .name("merchant_product_locks_expiration")
                    .table(MerchantProductLocks::Table)
                    .col(MerchantProductLocks::Expiration)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("merchant_product_locks_uuid")
                    .table(MerchantProductLocks::Table)
                    .col(MerchantProductLocks::InstanceSerial)
                    .col(MerchantProductLocks::LockUuid)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(MerchantOrders::Table)
                    .add_column(
                        ColumnDef::new(MerchantOrders::UnclaimedDeadline)
                            .big_integer()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("merchant_orders_unclaimed_deadline")
                    .table(MerchantOrders::Table)
                    .col(MerchantOrders::UnclaimedDeadline)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MerchantOrderRates::Table)
                    .col(string(MerchantOrderRates::Address))
                    .col(big_integer(MerchantOrderRates::WindowStart))
                    .col(big_integer(MerchantOrderRates::Hits))
                    .primary_key(
                        Index::create()
                            .col(MerchantOrderRates::Address)
                            .col(MerchantOrderRates::WindowStart),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(MerchantOrderRates::Table).to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("merchant_orders_unclaimed_deadline")
                    .table(MerchantOrders::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(MerchantOrders::Table)
                    .drop_column(MerchantOrders::UnclaimedDeadline)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(MerchantProductLocks::Table).to_owned())
            .await
    }
}
