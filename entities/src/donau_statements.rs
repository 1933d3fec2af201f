use sea_orm::entity::prelude::*;

/// A donor's total of one year: the sum of its distinct receipts.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "donau_statements")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub h_donor_tax_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub donation_year: i32,
    /// Units of 10^-8 of the Donau's currency.
    pub total_units: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
