//! Periodic reports of merchant instances, with their schedule and last outcome.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MerchantInstances {
    Table,
    InstanceSerial,
}

#[derive(DeriveIden)]
enum MerchantReports {
    Table,
    ReportSerial,
    InstanceSerial,
    Description,
    ProgramSection,
    MimeType,
    DataSource,
    TargetAddress,
    FrequencyUs,
    ShiftUs,
    ReportToken,
    NextTransmissionUs,
    LastTransmissionUs,
    LastErrorCode,
    LastErrorDetail,
    Failures,
    LeaseUntilUs,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MerchantReports::Table)
                    .col(big_pk_auto(MerchantReports::ReportSerial))
                    .col(big_integer(MerchantReports::InstanceSerial))
                    .col(text(MerchantReports::Description))
                    .col(string(MerchantReports::ProgramSection))
                    .col(string(MerchantReports::MimeType))
                    .col(text(MerchantReports::DataSource))
                    .col(text(MerchantReports::TargetAddress))
                    .col(big_integer(MerchantReports::FrequencyUs))
                    .col(big_integer(MerchantReports::ShiftUs))
                    .col(string(MerchantReports::ReportToken))
                    // Microseconds since the epoch. The schedule lives here, so a restart
                    // neither repeats nor forgets a due report.
                    .col(big_integer(MerchantReports::NextTransmissionUs))
                    .col(big_integer_null(MerchantReports::LastTransmissionUs))
                    .col(integer_null(MerchantReports::LastErrorCode))
                    .col(text_null(MerchantReports::LastErrorDetail))
                    .col(integer(MerchantReports::Failures).default(0))
                    // A server running the report holds it until then; another server
                    // may take it over only after the lease expired (it crashed).
                    .col(big_integer_null(MerchantReports::LeaseUntilUs))
                    .foreign_key(
                        ForeignKey::create()
                            .from(MerchantReports::Table, MerchantReports::InstanceSerial)
                            .to(MerchantInstances::Table, MerchantInstances::InstanceSerial)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("merchant_reports_due")
                    .table(MerchantReports::Table)
                    .col(MerchantReports::NextTransmissionUs)
                    .to_owned(),
            )
            .await
    }
}
