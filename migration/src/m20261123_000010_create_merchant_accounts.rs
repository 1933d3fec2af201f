//! Bank accounts of merchant instances: where an order's money goes (`h_wire` and
//! `wire_method` of its contract terms). Deleting an account deactivates it: contracts
//! that name it stay valid.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MerchantInstances {
    Table,
    InstanceSerial,
}

#[derive(DeriveIden, Clone, Copy)]
enum MerchantAccounts {
    Table,
    AccountSerial,
    InstanceSerial,
    PaytoUri,
    Salt,
    HWire,
    CreditFacadeUrl,
    ExtraSubject,
    Active,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MerchantAccounts::Table)
                    .col(big_pk_auto(MerchantAccounts::AccountSerial))
                    .col(big_integer(MerchantAccounts::InstanceSerial))
                    .col(text(MerchantAccounts::PaytoUri))
                    // Crockford base32: the 16-byte salt and the 64-byte hash.
                    .col(string(MerchantAccounts::Salt))
                    .col(string(MerchantAccounts::HWire))
                    .col(text_null(MerchantAccounts::CreditFacadeUrl))
                    .col(text_null(MerchantAccounts::ExtraSubject))
                    .col(boolean(MerchantAccounts::Active).default(true))
                    .foreign_key(
                        ForeignKey::create()
                            .from(MerchantAccounts::Table, MerchantAccounts::InstanceSerial)
                            .to(MerchantInstances::Table, MerchantInstances::InstanceSerial)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            (
                "merchant_accounts_payto_per_instance",
                MerchantAccounts::PaytoUri,
            ),
            (
                "merchant_accounts_h_wire_per_instance",
                MerchantAccounts::HWire,
            ),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(MerchantAccounts::Table)
                        .col(MerchantAccounts::InstanceSerial)
                        .col(column)
                        .unique()
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(MerchantAccounts::Table).to_owned())
            .await
    }
}
