//! Withdrawal operations of the bank (core API `withdrawals`, Bank Integration API):
//! created by an account's owner, selected by a wallet (reserve key and exchange),
//! then confirmed (the money moves to the exchange, `transfer_row_id`) or aborted.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum BankAccounts {
    Table,
    AccountId,
}

#[derive(DeriveIden, Clone, Copy)]
enum BankWithdrawals {
    Table,
    WithdrawalSerial,
    WithdrawalId,
    AccountId,
    Amount,
    SuggestedAmount,
    NoAmountToWallet,
    Status,
    ReservePub,
    ExchangeAccountId,
    ExchangePayto,
    CreationDate,
    ConfirmationDate,
    TransferRowId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BankWithdrawals::Table)
                    .col(big_pk_auto(BankWithdrawals::WithdrawalSerial))
                    .col(string_uniq(BankWithdrawals::WithdrawalId))
                    .col(big_integer(BankWithdrawals::AccountId))
                    .col(string_null(BankWithdrawals::Amount))
                    .col(string_null(BankWithdrawals::SuggestedAmount))
                    .col(boolean(BankWithdrawals::NoAmountToWallet))
                    .col(string(BankWithdrawals::Status))
                    .col(string_null(BankWithdrawals::ReservePub))
                    .col(big_integer_null(BankWithdrawals::ExchangeAccountId))
                    .col(text_null(BankWithdrawals::ExchangePayto))
                    .col(big_integer(BankWithdrawals::CreationDate))
                    .col(big_integer_null(BankWithdrawals::ConfirmationDate))
                    .col(big_integer_null(BankWithdrawals::TransferRowId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(BankWithdrawals::Table, BankWithdrawals::AccountId)
                            .to(BankAccounts::Table, BankAccounts::AccountId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // A reserve key is selected once, whatever the races (transfers are checked too).
        manager
            .create_index(
                Index::create()
                    .name("bank_withdrawals_reserve_pub")
                    .table(BankWithdrawals::Table)
                    .col(BankWithdrawals::ReservePub)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("bank_withdrawals_account")
                    .table(BankWithdrawals::Table)
                    .col(BankWithdrawals::AccountId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(BankWithdrawals::Table).to_owned())
            .await
    }
}
