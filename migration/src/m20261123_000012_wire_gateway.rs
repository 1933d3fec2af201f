//! What the Taler Wire Gateway needs of a transfer: an exchange's outgoing transfers
//! carry their `wtid` and `exchange_base_url` (a `wtid` once per exchange), incoming
//! ones their reserve public key (once per exchange) or KYC account key.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum BankTransactions {
    Table,
    DebtorAccountId,
    CreditorAccountId,
    Wtid,
    ExchangeBaseUrl,
    ReservePub,
    AccountPub,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one column per ALTER TABLE.
        for column in [
            BankTransactions::Wtid,
            BankTransactions::ExchangeBaseUrl,
            BankTransactions::ReservePub,
            BankTransactions::AccountPub,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(BankTransactions::Table)
                        .add_column(text_null(column))
                        .to_owned(),
                )
                .await?;
        }
        for (name, account, column) in [
            (
                "bank_transactions_wtid_per_debtor",
                BankTransactions::DebtorAccountId,
                BankTransactions::Wtid,
            ),
            (
                "bank_transactions_reserve_pub_per_creditor",
                BankTransactions::CreditorAccountId,
                BankTransactions::ReservePub,
            ),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(BankTransactions::Table)
                        .col(account)
                        .col(column)
                        .unique()
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            BankTransactions::Wtid,
            BankTransactions::ExchangeBaseUrl,
            BankTransactions::ReservePub,
            BankTransactions::AccountPub,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(BankTransactions::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
