use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "donau_charities")]
pub struct Model {
    /// Assigned by the database, never reused.
    #[sea_orm(primary_key)]
    pub charity_id: i64,
    /// Crockford base32 of the charity's EdDSA public key.
    #[sea_orm(unique)]
    pub charity_pub: String,
    pub charity_name: String,
    pub charity_url: String,
    /// Canonical amount text.
    pub max_per_year: String,
    /// Canonical amount text; counts for `current_year` only.
    pub receipts_to_date: String,
    pub current_year: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
