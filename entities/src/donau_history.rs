use sea_orm::entity::prelude::*;

/// What a charity issued in a year that has ended (written at its rollover).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "donau_history")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub history_serial: i64,
    pub charity_id: i64,
    pub donation_year: i32,
    /// Canonical amount text.
    pub final_amount: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
