use sea_orm::entity::prelude::*;

/// Anonymous order creations from one client address in one minute.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "merchant_order_rates")]
pub struct Model {
    /// The client's address (IPv6: its /64 network).
    #[sea_orm(primary_key, auto_increment = false)]
    pub address: String,
    /// Seconds since the epoch, a multiple of 60.
    #[sea_orm(primary_key, auto_increment = false)]
    pub window_start: i64,
    pub hits: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
