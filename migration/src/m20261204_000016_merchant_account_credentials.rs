//! The credit facade credentials of a merchant's bank account (`AccountAddDetails`
//! `credit_facade_credentials`), kept as given (JSON) and never returned: the backend
//! presents them to the facade, so they cannot be stored hashed.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MerchantAccounts {
    Table,
    CreditFacadeCredentials,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(MerchantAccounts::Table)
                    .add_column(
                        ColumnDef::new(MerchantAccounts::CreditFacadeCredentials)
                            .text()
                            .null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(MerchantAccounts::Table)
                    .drop_column(MerchantAccounts::CreditFacadeCredentials)
                    .to_owned(),
            )
            .await
    }
}
