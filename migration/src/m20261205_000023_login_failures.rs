//! `login_failures`: failed password logins per throttle key (an account of a service,
//! a client address) in its current window (which starts at its first failure, in
//! milliseconds), in the database so that every server sharing it counts against the
//! same limit.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum LoginFailures {
    Table,
    ThrottleKey,
    WindowStart,
    Failures,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LoginFailures::Table)
                    .col(string(LoginFailures::ThrottleKey).primary_key())
                    .col(big_integer(LoginFailures::WindowStart))
                    .col(big_integer(LoginFailures::Failures))
                    .to_owned(),
            )
            .await?;
        // Pruning old windows walks this, not the table.
        manager
            .create_index(
                Index::create()
                    .name("login_failures_window_start")
                    .table(LoginFailures::Table)
                    .col(LoginFailures::WindowStart)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LoginFailures::Table).to_owned())
            .await
    }
}
