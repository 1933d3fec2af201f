//! `merchant_reports.lease_id`: which claim holds a report. The lease's expiry
//! (`lease_until_us`) is now renewed while the run is alive, so it can be short: a
//! server that dies mid-delivery loses its reports to another within seconds. The
//! claim is named apart from its expiry, which a renewal moves.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum MerchantReports {
    Table,
    LeaseId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(MerchantReports::Table)
                    .add_column(
                        ColumnDef::new(MerchantReports::LeaseId)
                            .big_integer()
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
                    .table(MerchantReports::Table)
                    .drop_column(MerchantReports::LeaseId)
                    .to_owned(),
            )
            .await
    }
}
