//! Merchant instances and their bearer tokens.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MerchantInstances {
    Table,
    InstanceSerial,
    InstanceId,
    Name,
    PasswordHash,
    MerchantPub,
    MerchantPriv,
    Settings,
    Deleted,
}

#[derive(DeriveIden)]
enum MerchantTokens {
    Table,
    TokenSerial,
    InstanceSerial,
    TokenHash,
    Scope,
    CreatedAt,
    Expiration,
    Description,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MerchantInstances::Table)
                    .col(big_pk_auto(MerchantInstances::InstanceSerial))
                    .col(string_uniq(MerchantInstances::InstanceId))
                    .col(text(MerchantInstances::Name))
                    .col(text(MerchantInstances::PasswordHash))
                    .col(text(MerchantInstances::MerchantPub))
                    .col(blob(MerchantInstances::MerchantPriv))
                    // The rest of the instance configuration, as the JSON the client sent.
                    .col(text(MerchantInstances::Settings))
                    .col(boolean(MerchantInstances::Deleted).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MerchantTokens::Table)
                    .col(big_pk_auto(MerchantTokens::TokenSerial))
                    .col(big_integer(MerchantTokens::InstanceSerial))
                    .col(blob_uniq(MerchantTokens::TokenHash))
                    .col(string(MerchantTokens::Scope))
                    .col(big_integer(MerchantTokens::CreatedAt))
                    .col(big_integer(MerchantTokens::Expiration))
                    .col(text_null(MerchantTokens::Description))
                    .foreign_key(
                        ForeignKey::create()
                            .from(MerchantTokens::Table, MerchantTokens::InstanceSerial)
                            .to(MerchantInstances::Table, MerchantInstances::InstanceSerial)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("merchant_tokens_by_instance")
                    .table(MerchantTokens::Table)
                    .col(MerchantTokens::InstanceSerial)
                    .to_owned(),
            )
            .await
    }
}
