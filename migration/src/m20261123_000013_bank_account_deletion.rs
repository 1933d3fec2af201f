//! Deleted bank accounts are kept (their transfers stay in the other accounts'
//! histories), marked deleted: unknown to the API, their username and payto URI
//! still taken.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum BankAccounts {
    Table,
    Deleted,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(BankAccounts::Table)
                    .add_column(
                        ColumnDef::new(BankAccounts::Deleted)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(BankAccounts::Table)
                    .drop_column(BankAccounts::Deleted)
                    .to_owned(),
            )
            .await
    }
}
