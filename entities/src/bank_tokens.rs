use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bank_tokens")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub token_serial: i64,
    pub account_id: i64,
    /// SHA-256 of the token; the token itself is never stored.
    #[sea_orm(unique)]
    pub token_hash: Vec<u8>,
    /// `readonly`, `readwrite`, `revenue`, `wiregateway` or `observability`.
    pub scope: String,
    /// Seconds since the epoch; `i64::MAX` for never.
    pub expiration: i64,
    pub refreshable: bool,
    pub description: Option<String>,
    /// Seconds since the epoch (0 for tokens older than this column).
    pub creation_time: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
