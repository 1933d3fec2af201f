//! Money pots of merchant instances.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MerchantInstances {
    Table,
    InstanceSerial,
}

#[derive(DeriveIden)]
enum MerchantMoneyPots {
    Table,
    PotSerial,
    InstanceSerial,
    PotName,
    Description,
    PotTotals,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MerchantMoneyPots::Table)
                    .col(big_pk_auto(MerchantMoneyPots::PotSerial))
                    .col(big_integer(MerchantMoneyPots::InstanceSerial))
                    .col(string(MerchantMoneyPots::PotName))
                    .col(text(MerchantMoneyPots::Description))
                    // Canonical text of the totals (see `store::pots::Totals`): exact, and
                    // comparable with `=`, which makes the compare-and-set one UPDATE.
                    .col(text(MerchantMoneyPots::PotTotals))
                    .foreign_key(
                        ForeignKey::create()
                            .from(MerchantMoneyPots::Table, MerchantMoneyPots::InstanceSerial)
                            .to(MerchantInstances::Table, MerchantInstances::InstanceSerial)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("merchant_money_pots_name_per_instance")
                    .table(MerchantMoneyPots::Table)
                    .col(MerchantMoneyPots::InstanceSerial)
                    .col(MerchantMoneyPots::PotName)
                    .unique()
                    .to_owned(),
            )
            .await
    }
}
