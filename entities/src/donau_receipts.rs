use sea_orm::entity::prelude::*;

/// A donation receipt a donor submitted; counted once per key and identifier.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "donau_receipts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub receipt_serial: i64,
    pub pub_key_hash: String,
    /// Crockford base32 of the unique donation identifier's hash.
    pub h_udi: String,
    pub h_donor_tax_id: String,
    pub donation_year: i32,
    /// Units of 10^-8 of the Donau's currency.
    pub value_units: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
