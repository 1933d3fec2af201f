use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bank_accounts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub account_id: i64,
    #[sea_orm(unique)]
    pub username: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Legal name of the account owner.
    pub name: String,
    /// The payto URI without query, e.g. `payto://x-taler-bank/localhost/alice`.
    #[sea_orm(unique)]
    pub payto_key: String,
    pub is_public: bool,
    pub is_taler_exchange: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
