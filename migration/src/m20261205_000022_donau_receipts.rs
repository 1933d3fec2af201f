//! Donation receipts of the Donau: its keys (`donau_donation_units`, RSA per year and
//! value; `donau_signkeys`, EdDSA per year), the batches it signed for charities
//! (`donau_issued_batches`), the receipts donors submitted (`donau_receipts`), their
//! yearly totals (`donau_statements`), and what each charity issued in years gone by
//! (`donau_history`).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DonauDonationUnits {
    Table,
    UnitSerial,
    PubKeyHash,
    Year,
    Value,
    Cipher,
    PublicKey,
    PrivateKey,
    Lost,
}

#[derive(DeriveIden)]
enum DonauSignkeys {
    Table,
    SignkeySerial,
    Year,
    PublicKey,
    PrivateKey,
    StampStart,
    StampExpire,
}

#[derive(DeriveIden)]
enum DonauIssuedBatches {
    Table,
    BatchSerial,
    CharityId,
    BatchHash,
    Year,
    IssuedAmount,
    Signatures,
}

#[derive(DeriveIden)]
enum DonauReceipts {
    Table,
    ReceiptSerial,
    PubKeyHash,
    HUdi,
    HDonorTaxId,
    DonationYear,
    ValueUnits,
}

#[derive(DeriveIden)]
enum DonauStatements {
    Table,
    HDonorTaxId,
    DonationYear,
    TotalUnits,
}

#[derive(DeriveIden)]
enum DonauHistory {
    Table,
    HistorySerial,
    CharityId,
    DonationYear,
    FinalAmount,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DonauDonationUnits::Table)
                    .col(big_pk_auto(DonauDonationUnits::UnitSerial))
                    // Crockford base32 of the key's hash, as clients name the key.
                    .col(string_uniq(DonauDonationUnits::PubKeyHash))
                    .col(integer(DonauDonationUnits::Year))
                    // Canonical amount text.
                    .col(string(DonauDonationUnits::Value))
                    .col(string(DonauDonationUnits::Cipher))
                    // Crockford base32 of GNUnet's encoding.
                    .col(text(DonauDonationUnits::PublicKey))
                    // PKCS#8 DER: the private key rests here and nowhere else.
                    .col(blob(DonauDonationUnits::PrivateKey))
                    .col(boolean(DonauDonationUnits::Lost).default(false))
                    .to_owned(),
            )
            .await?;
        // One key per year and value, however many servers generate keys at once.
        manager
            .create_index(
                Index::create()
                    .name("donau_donation_units_year_value")
                    .table(DonauDonationUnits::Table)
                    .col(DonauDonationUnits::Year)
                    .col(DonauDonationUnits::Value)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DonauSignkeys::Table)
                    .col(big_pk_auto(DonauSignkeys::SignkeySerial))
                    .col(integer_uniq(DonauSignkeys::Year))
                    .col(string(DonauSignkeys::PublicKey))
                    // The 32-byte Ed25519 seed.
                    .col(blob(DonauSignkeys::PrivateKey))
                    .col(big_integer(DonauSignkeys::StampStart))
                    .col(big_integer(DonauSignkeys::StampExpire))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DonauIssuedBatches::Table)
                    .col(big_pk_auto(DonauIssuedBatches::BatchSerial))
                    .col(big_integer(DonauIssuedBatches::CharityId))
                    // What the charity signed: SHA-512 over the batch's pairs.
                    .col(string(DonauIssuedBatches::BatchHash))
                    .col(integer(DonauIssuedBatches::Year))
                    .col(string(DonauIssuedBatches::IssuedAmount))
                    // The blind signatures in request order (JSON array of Crockford
                    // strings), answered again to a repeated batch.
                    .col(text(DonauIssuedBatches::Signatures))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("donau_issued_batches_charity_hash")
                    .table(DonauIssuedBatches::Table)
                    .col(DonauIssuedBatches::CharityId)
                    .col(DonauIssuedBatches::BatchHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DonauReceipts::Table)
                    .col(big_pk_auto(DonauReceipts::ReceiptSerial))
                    .col(string(DonauReceipts::PubKeyHash))
                    .col(string(DonauReceipts::HUdi))
                    .col(string(DonauReceipts::HDonorTaxId))
                    .col(integer(DonauReceipts::DonationYear))
                    // The receipt's value in units of 10^-8.
                    .col(big_integer(DonauReceipts::ValueUnits))
                    .to_owned(),
            )
            .await?;
        // A receipt counts once: the key and the identifier it signed.
        manager
            .create_index(
                Index::create()
                    .name("donau_receipts_unique")
                    .table(DonauReceipts::Table)
                    .col(DonauReceipts::PubKeyHash)
                    .col(DonauReceipts::HUdi)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DonauStatements::Table)
                    .col(string(DonauStatements::HDonorTaxId))
                    .col(integer(DonauStatements::DonationYear))
                    // The year's total in units of 10^-8.
                    .col(big_integer(DonauStatements::TotalUnits))
                    .primary_key(
                        Index::create()
                            .col(DonauStatements::HDonorTaxId)
                            .col(DonauStatements::DonationYear),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DonauHistory::Table)
                    .col(big_pk_auto(DonauHistory::HistorySerial))
                    .col(big_integer(DonauHistory::CharityId))
                    .col(integer(DonauHistory::DonationYear))
                    .col(string(DonauHistory::FinalAmount))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("donau_history_charity_year")
                    .table(DonauHistory::Table)
                    .col(DonauHistory::CharityId)
                    .col(DonauHistory::DonationYear)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            DonauHistory::Table.into_iden(),
            DonauStatements::Table.into_iden(),
            DonauReceipts::Table.into_iden(),
            DonauIssuedBatches::Table.into_iden(),
            DonauSignkeys::Table.into_iden(),
            DonauDonationUnits::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
