//! When bank tokens were created, for the token list (`TokenInfo.creation_time`).
//! Tokens created before this migration show 0 (the epoch).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum BankTokens {
    Table,
    CreationTime,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(BankTokens::Table)
                    .add_column(
                        ColumnDef::new(BankTokens::CreationTime)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(BankTokens::Table)
                    .drop_column(BankTokens::CreationTime)
                    .to_owned(),
            )
            .await
    }
}
