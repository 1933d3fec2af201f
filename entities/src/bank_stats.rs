use sea_orm::entity::prelude::*;

/// Taler transfers into and out of exchanges in one hour, day, month or year (UTC):
/// counts and volumes (the volume as a value and a fraction sum in 10^-8, the fraction
/// not carried into the value).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bank_stats")]
pub struct Model {
    /// `hour`, `day`, `month` or `year`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub timeframe: String,
    /// Seconds since the epoch: where the timeframe starts.
    #[sea_orm(primary_key, auto_increment = false)]
    pub start: i64,
    pub taler_in_count: i64,
    pub taler_in_value: i64,
    pub taler_in_frac: i64,
    pub taler_out_count: i64,
    pub taler_out_value: i64,
    pub taler_out_frac: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
