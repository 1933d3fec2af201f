//! Products count what was sold and what was lost (`DecimalQuantity` text, like the
//! stock), so that `PATCH` can refuse to reduce either and to lose more than is left.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MerchantProducts {
    Table,
    TotalSold,
    TotalLost,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one column per ALTER TABLE.
        for column in [MerchantProducts::TotalSold, MerchantProducts::TotalLost] {
            manager
                .alter_table(
                    Table::alter()
                        .table(MerchantProducts::Table)
                        .add_column(ColumnDef::new(column).text().not_null().default("0"))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [MerchantProducts::TotalSold, MerchantProducts::TotalLost] {
            manager
                .alter_table(
                    Table::alter()
                        .table(MerchantProducts::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
