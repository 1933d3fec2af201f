use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "merchant_money_pots")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub pot_serial: i64,
    pub instance_serial: i64,
    /// Unique per instance.
    pub pot_name: String,
    pub description: String,
    /// Canonical amounts, sorted by currency and joined by `,` (e.g. `CHF:1.5,EUR:3`).
    pub pot_totals: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::merchant_instances::Entity",
        from = "Column::InstanceSerial",
        to = "super::merchant_instances::Column::InstanceSerial",
        on_delete = "Cascade"
    )]
    Instance,
}

impl Related<super::merchant_instances::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Instance.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
