//! Contact data of bank accounts (`ChallengeContactData`: email, phone), as JSON.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum BankAccounts {
    Table,
    ContactData,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(BankAccounts::Table)
                    .add_column(text_null(BankAccounts::ContactData))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(BankAccounts::Table)
                    .drop_column(BankAccounts::ContactData)
                    .to_owned(),
            )
            .await
    }
}
