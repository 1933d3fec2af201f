//! Report tokens are stored as SHA-256 digests (hex) from now on. The plain tokens
//! stored before were never handed to anyone, so they are replaced by a marker that
//! no digest equals, rather than hashed.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("UPDATE merchant_reports SET report_token = 'unusable'")
            .await
            .map(|_| ())
    }

    async fn down(&self, _: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}
