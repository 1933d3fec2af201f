//! Two-factor authentication (TAN) of the bank: the channels an account's owner
//! confirms protected operations with (`tan_channels` on the account), and the
//! challenges those operations raise (`bank_challenges`), and the wrong codes of login
//! challenges that lock an account's logins (`tan_login_failures`).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum BankAccounts {
    Table,
    AccountId,
    TanChannels,
    TanLoginFailures,
}

#[derive(DeriveIden, Clone, Copy)]
enum BankChallenges {
    Table,
    ChallengeSerial,
    ChallengeId,
    AccountId,
    Op,
    BodyHash,
    CodeHash,
    TanChannel,
    TanInfo,
    CreationDate,
    ExpirationDate,
    RetryCounter,
    RetransmissionDate,
    ConfirmationDate,
    UsedDate,
    Invalidated,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Comma-separated channels (`sms`, `email`); none means no second factor.
        manager
            .alter_table(
                Table::alter()
                    .table(BankAccounts::Table)
                    .add_column(string_null(BankAccounts::TanChannels))
                    .to_owned(),
            )
            .await?;
        // Wrong codes for login challenges in a row: too many lock the account's logins
        // until its password changes.
        manager
            .alter_table(
                Table::alter()
                    .table(BankAccounts::Table)
                    .add_column(integer(BankAccounts::TanLoginFailures).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BankChallenges::Table)
                    .col(big_pk_auto(BankChallenges::ChallengeSerial))
                    .col(string_uniq(BankChallenges::ChallengeId))
                    .col(big_integer(BankChallenges::AccountId))
                    .col(string(BankChallenges::Op))
                    .col(string(BankChallenges::BodyHash))
                    .col(string(BankChallenges::CodeHash))
                    .col(string(BankChallenges::TanChannel))
                    .col(string(BankChallenges::TanInfo))
                    .col(big_integer(BankChallenges::CreationDate))
                    .col(big_integer(BankChallenges::ExpirationDate))
                    .col(integer(BankChallenges::RetryCounter))
                    .col(big_integer(BankChallenges::RetransmissionDate))
                    .col(big_integer_null(BankChallenges::ConfirmationDate))
                    .col(big_integer_null(BankChallenges::UsedDate))
                    .col(boolean(BankChallenges::Invalidated))
                    .foreign_key(
                        ForeignKey::create()
                            .from(BankChallenges::Table, BankChallenges::AccountId)
                            .to(BankAccounts::Table, BankAccounts::AccountId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("bank_challenges_account")
                    .table(BankChallenges::Table)
                    .col(BankChallenges::AccountId)
                    .col(BankChallenges::ChallengeSerial)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("bank_challenges_creation")
                    .table(BankChallenges::Table)
                    .col(BankChallenges::CreationDate)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(BankChallenges::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(BankAccounts::Table)
                    .drop_column(BankAccounts::TanLoginFailures)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(BankAccounts::Table)
                    .drop_column(BankAccounts::TanChannels)
                    .to_owned(),
            )
            .await
    }
}
