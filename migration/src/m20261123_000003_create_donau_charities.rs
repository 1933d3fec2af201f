//! The Donau's charity registry.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DonauCharities {
    Table,
    CharityId,
    CharityPub,
    CharityName,
    CharityUrl,
    MaxPerYear,
    ReceiptsToDate,
    CurrentYear,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DonauCharities::Table)
                    // Auto-increment (AUTOINCREMENT on SQLite, a sequence on PostgreSQL):
                    // ids of deleted charities are never handed out again.
                    .col(big_pk_auto(DonauCharities::CharityId))
                    .col(string_uniq(DonauCharities::CharityPub))
                    .col(text(DonauCharities::CharityName))
                    .col(text(DonauCharities::CharityUrl))
                    // Canonical amounts (`KUDOS:10.5`): exact.
                    .col(string(DonauCharities::MaxPerYear))
                    .col(string(DonauCharities::ReceiptsToDate))
                    .col(integer(DonauCharities::CurrentYear))
                    .to_owned(),
            )
            .await
    }
}
