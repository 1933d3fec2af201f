use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bank_transactions")]
pub struct Model {
    /// The opaque, increasing `row_id` of the histories.
    #[sea_orm(primary_key)]
    pub row_id: i64,
    pub debtor_account_id: i64,
    pub creditor_account_id: i64,
    /// Canonical amount text, before the credit fee.
    pub amount: String,
    /// Canonical amount text of the fee the creditor paid, if any.
    pub credit_fee: Option<String>,
    pub subject: String,
    /// Seconds since the epoch.
    pub date: i64,
    pub request_uid: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
