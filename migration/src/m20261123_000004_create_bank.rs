//! Bank accounts, their tokens and the transfers between them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum BankAccounts {
    Table,
    AccountId,
    Username,
    PasswordHash,
    Name,
    PaytoKey,
    IsPublic,
    IsTalerExchange,
}

#[derive(DeriveIden)]
enum BankTokens {
    Table,
    TokenSerial,
    AccountId,
    TokenHash,
    Scope,
    Expiration,
    Refreshable,
    Description,
}

#[derive(DeriveIden)]
enum BankTransactions {
    Table,
    RowId,
    DebtorAccountId,
    CreditorAccountId,
    Amount,
    CreditFee,
    Subject,
    Date,
    RequestUid,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BankAccounts::Table)
                    .col(big_pk_auto(BankAccounts::AccountId))
                    .col(string_uniq(BankAccounts::Username))
                    .col(text(BankAccounts::PasswordHash))
                    .col(text(BankAccounts::Name))
                    // The payto URI without query: how transfers name the account.
                    .col(string_uniq(BankAccounts::PaytoKey))
                    .col(boolean(BankAccounts::IsPublic))
                    .col(boolean(BankAccounts::IsTalerExchange))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BankTokens::Table)
                    .col(big_pk_auto(BankTokens::TokenSerial))
                    .col(big_integer(BankTokens::AccountId))
                    .col(blob_uniq(BankTokens::TokenHash))
                    .col(string(BankTokens::Scope))
                    .col(big_integer(BankTokens::Expiration))
                    .col(boolean(BankTokens::Refreshable))
                    .col(text_null(BankTokens::Description))
                    .foreign_key(
                        ForeignKey::create()
                            .from(BankTokens::Table, BankTokens::AccountId)
                            .to(BankAccounts::Table, BankAccounts::AccountId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BankTransactions::Table)
                    .col(big_pk_auto(BankTransactions::RowId))
                    .col(big_integer(BankTransactions::DebtorAccountId))
                    .col(big_integer(BankTransactions::CreditorAccountId))
                    // Canonical amounts: exact.
                    .col(string(BankTransactions::Amount))
                    .col(string_null(BankTransactions::CreditFee))
                    .col(text(BankTransactions::Subject))
                    .col(big_integer(BankTransactions::Date))
                    .col(string_null(BankTransactions::RequestUid))
                    .foreign_key(
                        ForeignKey::create()
                            .from(BankTransactions::Table, BankTransactions::DebtorAccountId)
                            .to(BankAccounts::Table, BankAccounts::AccountId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(BankTransactions::Table, BankTransactions::CreditorAccountId)
                            .to(BankAccounts::Table, BankAccounts::AccountId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("bank_transactions_incoming")
                    .table(BankTransactions::Table)
                    .col(BankTransactions::CreditorAccountId)
                    .col(BankTransactions::RowId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("bank_transactions_request_uid")
                    .table(BankTransactions::Table)
                    .col(BankTransactions::DebtorAccountId)
                    .col(BankTransactions::RequestUid)
                    .unique()
                    .to_owned(),
            )
            .await
    }
}
