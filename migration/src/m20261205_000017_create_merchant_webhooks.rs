//! Webhooks of merchant instances (`private/webhooks`) and the deliveries still due
//! (`merchant_pending_webhooks`): a delivery is a row until it succeeded or ran out of
//! retries, so it survives a restart and is sent by one server at a time.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MerchantInstances {
    Table,
    InstanceSerial,
}

#[derive(DeriveIden, Clone, Copy)]
enum MerchantWebhooks {
    Table,
    WebhookSerial,
    InstanceSerial,
    WebhookId,
    EventType,
    Url,
    HttpMethod,
    HeaderTemplate,
    BodyTemplate,
}

#[derive(DeriveIden, Clone, Copy)]
enum MerchantPendingWebhooks {
    Table,
    PendingSerial,
    WebhookSerial,
    NextAttempt,
    Retries,
    Url,
    HttpMethod,
    Header,
    Body,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MerchantWebhooks::Table)
                    .col(big_pk_auto(MerchantWebhooks::WebhookSerial))
                    .col(big_integer(MerchantWebhooks::InstanceSerial))
                    .col(string(MerchantWebhooks::WebhookId))
                    .col(string(MerchantWebhooks::EventType))
                    .col(text(MerchantWebhooks::Url))
                    .col(string(MerchantWebhooks::HttpMethod))
                    .col(text_null(MerchantWebhooks::HeaderTemplate))
                    .col(text_null(MerchantWebhooks::BodyTemplate))
                    .foreign_key(
                        ForeignKey::create()
                            .from(MerchantWebhooks::Table, MerchantWebhooks::InstanceSerial)
                            .to(MerchantInstances::Table, MerchantInstances::InstanceSerial)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("merchant_webhooks_id_per_instance")
                    .table(MerchantWebhooks::Table)
                    .col(MerchantWebhooks::InstanceSerial)
                    .col(MerchantWebhooks::WebhookId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Firing an event looks up the instance's webhooks of that type.
        manager
            .create_index(
                Index::create()
                    .name("merchant_webhooks_by_event")
                    .table(MerchantWebhooks::Table)
                    .col(MerchantWebhooks::InstanceSerial)
                    .col(MerchantWebhooks::EventType)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MerchantPendingWebhooks::Table)
                    .col(big_pk_auto(MerchantPendingWebhooks::PendingSerial))
                    .col(big_integer(MerchantPendingWebhooks::WebhookSerial))
                    // Seconds since the epoch; a sender leases a row by moving it ahead.
                    .col(big_integer(MerchantPendingWebhooks::NextAttempt))
                    .col(integer(MerchantPendingWebhooks::Retries))
                    // The request as expanded when the event fired.
                    .col(text(MerchantPendingWebhooks::Url))
                    .col(string(MerchantPendingWebhooks::HttpMethod))
                    .col(text_null(MerchantPendingWebhooks::Header))
                    .col(text_null(MerchantPendingWebhooks::Body))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                MerchantPendingWebhooks::Table,
                                MerchantPendingWebhooks::WebhookSerial,
                            )
                            .to(MerchantWebhooks::Table, MerchantWebhooks::WebhookSerial)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("merchant_pending_webhooks_due")
                    .table(MerchantPendingWebhooks::Table)
                    .col(MerchantPendingWebhooks::NextAttempt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(MerchantPendingWebhooks::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(MerchantWebhooks::Table).to_owned())
            .await
    }
}
