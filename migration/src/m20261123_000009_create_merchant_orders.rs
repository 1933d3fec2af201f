//! Orders: created by the merchant or by a wallet from a template, claimed by a wallet
//! (contract terms frozen, hashed and signed), deleted when unpaid past their pay
//! deadline. Products count the units that unpaid orders hold (`total_locked`), so
//! two orders cannot both take the last unit.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MerchantInstances {
    Table,
    InstanceSerial,
}

#[derive(DeriveIden)]
enum MerchantOtpDevices {
    Table,
    OtpSerial,
}

#[derive(DeriveIden)]
enum MerchantProducts {
    Table,
    TotalLocked,
}

#[derive(DeriveIden, Clone, Copy)]
enum MerchantOrders {
    Table,
    OrderSerial,
    InstanceSerial,
    OrderId,
    ContractTerms,
    HPostData,
    ClaimTokenSalt,
    CreationTime,
    PayDeadline,
    Summary,
    Amount,
    FulfillmentUrl,
    SessionId,
    OtpSerial,
    Nonce,
    HContractTerms,
    Paid,
    Refunded,
    Wired,
    InventoryLocks,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MerchantOrders::Table)
                    .col(big_pk_auto(MerchantOrders::OrderSerial))
                    .col(big_integer(MerchantOrders::InstanceSerial))
                    .col(string(MerchantOrders::OrderId))
                    // The contract terms as JSON; frozen (with the wallet's nonce) once
                    // claimed, then only forgettable fields change.
                    .col(text(MerchantOrders::ContractTerms))
                    // Hash of the creating request, so that posting it again under the
                    // same order id is not a conflict.
                    .col(text(MerchantOrders::HPostData))
                    .col(binary_null(MerchantOrders::ClaimTokenSalt))
                    .col(big_integer(MerchantOrders::CreationTime))
                    .col(big_integer(MerchantOrders::PayDeadline))
                    .col(text(MerchantOrders::Summary))
                    .col(text(MerchantOrders::Amount))
                    .col(text_null(MerchantOrders::FulfillmentUrl))
                    .col(text_null(MerchantOrders::SessionId))
                    .col(big_integer_null(MerchantOrders::OtpSerial))
                    .col(text_null(MerchantOrders::Nonce))
                    .col(text_null(MerchantOrders::HContractTerms))
                    .col(boolean(MerchantOrders::Paid).default(false))
                    .col(boolean(MerchantOrders::Refunded).default(false))
                    .col(boolean(MerchantOrders::Wired).default(false))
                    // The units this order holds: [[product_serial, millionths], ...].
                    .col(text_null(MerchantOrders::InventoryLocks))
                    .foreign_key(
                        ForeignKey::create()
                            .from(MerchantOrders::Table, MerchantOrders::InstanceSerial)
                            .to(MerchantInstances::Table, MerchantInstances::InstanceSerial)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(MerchantOrders::Table, MerchantOrders::OtpSerial)
                            .to(MerchantOtpDevices::Table, MerchantOtpDevices::OtpSerial)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("merchant_orders_id_per_instance")
                    .table(MerchantOrders::Table)
                    .col(MerchantOrders::InstanceSerial)
                    .col(MerchantOrders::OrderId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The cleanup task looks for unpaid orders past their deadline.
        manager
            .create_index(
                Index::create()
                    .name("merchant_orders_pay_deadline")
                    .table(MerchantOrders::Table)
                    .col(MerchantOrders::PayDeadline)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(MerchantProducts::Table)
                    .add_column(
                        ColumnDef::new(MerchantProducts::TotalLocked)
                            .text()
                            .not_null()
                            .default("0"),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(MerchantProducts::Table)
                    .drop_column(MerchantProducts::TotalLocked)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(MerchantOrders::Table).to_owned())
            .await
    }
}
