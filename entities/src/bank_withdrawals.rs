use sea_orm::entity::prelude::*;

/// A withdrawal operation: `pending` until a wallet selects its reserve key and
/// exchange (`selected`), then `confirmed` (the money moved, `transfer_row_id`) or
/// `aborted`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bank_withdrawals")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub withdrawal_serial: i64,
    /// The public id (a UUID): knowing it is the wallet's authorization.
    #[sea_orm(unique)]
    pub withdrawal_id: String,
    /// The account the money comes from.
    pub account_id: i64,
    /// Fixed amount (`CURRENCY:VALUE[.FRACTION]`), if any.
    pub amount: Option<String>,
    pub suggested_amount: Option<String>,
    pub no_amount_to_wallet: bool,
    /// `pending`, `selected`, `aborted` or `confirmed`.
    pub status: String,
    /// The reserve public key the wallet selected (Crockford base32).
    pub reserve_pub: Option<String>,
    pub exchange_account_id: Option<i64>,
    /// The exchange's payto URI as the wallet selected it.
    pub exchange_payto: Option<String>,
    /// Seconds since the epoch.
    pub creation_date: i64,
    pub confirmation_date: Option<i64>,
    /// The transfer to the exchange, once confirmed.
    pub transfer_row_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
