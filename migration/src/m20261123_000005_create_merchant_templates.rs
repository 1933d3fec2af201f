//! OTP devices, templates, and the minimal inventory (categories, products) that
//! inventory-cart templates select from.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MerchantInstances {
    Table,
    InstanceSerial,
}

#[derive(DeriveIden, Clone, Copy)]
enum MerchantOtpDevices {
    Table,
    OtpSerial,
    InstanceSerial,
    OtpId,
    OtpDescription,
    OtpKey,
    OtpAlgorithm,
    OtpCtr,
}

#[derive(DeriveIden, Clone, Copy)]
enum MerchantTemplates {
    Table,
    TemplateSerial,
    InstanceSerial,
    TemplateId,
    TemplateDescription,
    OtpSerial,
    TemplateContract,
    EditableDefaults,
}

#[derive(DeriveIden, Clone, Copy)]
enum MerchantCategories {
    Table,
    CategorySerial,
    InstanceSerial,
    CategoryName,
    CategoryNameI18n,
}

#[derive(DeriveIden, Clone, Copy)]
enum MerchantProducts {
    Table,
    ProductSerial,
    InstanceSerial,
    ProductId,
    ProductDetails,
}

fn instance_fk(table: impl IntoIden + Clone) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, MerchantInstances::InstanceSerial)
        .to(MerchantInstances::Table, MerchantInstances::InstanceSerial)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn unique_per_instance(
    name: &str,
    table: impl IntoIden + Clone + 'static,
    col: impl IntoIden + 'static,
) -> IndexCreateStatement {
    Index::create()
        .name(name)
        .table(table)
        .col(MerchantInstances::InstanceSerial)
        .col(col)
        .unique()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MerchantOtpDevices::Table)
                    .col(big_pk_auto(MerchantOtpDevices::OtpSerial))
                    .col(big_integer(MerchantOtpDevices::InstanceSerial))
                    .col(string(MerchantOtpDevices::OtpId))
                    .col(text(MerchantOtpDevices::OtpDescription))
                    // RFC 3548 base32, as posted.
                    .col(text(MerchantOtpDevices::OtpKey))
                    .col(integer(MerchantOtpDevices::OtpAlgorithm))
                    .col(big_integer_null(MerchantOtpDevices::OtpCtr))
                    .foreign_key(&mut instance_fk(MerchantOtpDevices::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_per_instance(
                "merchant_otp_devices_id_per_instance",
                MerchantOtpDevices::Table,
                MerchantOtpDevices::OtpId,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(MerchantTemplates::Table)
                    .col(big_pk_auto(MerchantTemplates::TemplateSerial))
                    .col(big_integer(MerchantTemplates::InstanceSerial))
                    .col(string(MerchantTemplates::TemplateId))
                    .col(text(MerchantTemplates::TemplateDescription))
                    .col(big_integer_null(MerchantTemplates::OtpSerial))
                    // The posted `template_contract` and `editable_defaults` JSON, kept
                    // exactly so that GET returns what was stored.
                    .col(text(MerchantTemplates::TemplateContract))
                    .col(text_null(MerchantTemplates::EditableDefaults))
                    .foreign_key(&mut instance_fk(MerchantTemplates::Table))
                    // NO ACTION (checked at the end of the statement), not RESTRICT: an
                    // instance's deletion cascades to both tables in one statement.
                    .foreign_key(
                        ForeignKey::create()
                            .from(MerchantTemplates::Table, MerchantTemplates::OtpSerial)
                            .to(MerchantOtpDevices::Table, MerchantOtpDevices::OtpSerial)
                            .on_delete(ForeignKeyAction::NoAction),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_per_instance(
                "merchant_templates_id_per_instance",
                MerchantTemplates::Table,
                MerchantTemplates::TemplateId,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(MerchantCategories::Table)
                    .col(big_pk_auto(MerchantCategories::CategorySerial))
                    .col(big_integer(MerchantCategories::InstanceSerial))
                    .col(string(MerchantCategories::CategoryName))
                    .col(text_null(MerchantCategories::CategoryNameI18n))
                    .foreign_key(&mut instance_fk(MerchantCategories::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_per_instance(
                "merchant_categories_name_per_instance",
                MerchantCategories::Table,
                MerchantCategories::CategoryName,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(MerchantProducts::Table)
                    .col(big_pk_auto(MerchantProducts::ProductSerial))
                    .col(big_integer(MerchantProducts::InstanceSerial))
                    .col(string(MerchantProducts::ProductId))
                    // The validated `ProductAddDetailRequest` as JSON.
                    .col(text(MerchantProducts::ProductDetails))
                    .foreign_key(&mut instance_fk(MerchantProducts::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_per_instance(
                "merchant_products_id_per_instance",
                MerchantProducts::Table,
                MerchantProducts::ProductId,
            ))
            .await
    }
}
