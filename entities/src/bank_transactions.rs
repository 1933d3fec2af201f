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
    /// Wire Gateway transfers of an exchange: the wire transfer identifier.
    pub wtid: Option<String>,
    /// Wire Gateway transfers of an exchange: the exchange's base URL.
    pub exchange_base_url: Option<String>,
    /// Incoming reserve transfers to an exchange: the reserve public key.
    pub reserve_pub: Option<String>,
    /// Incoming KYC authentication transfers to an exchange: the account key.
    pub account_pub: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
