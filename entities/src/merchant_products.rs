use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "merchant_products")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub product_serial: i64,
    pub instance_serial: i64,
    /// Unique per instance.
    pub product_id: String,
    /// The validated `ProductAddDetailRequest` as JSON.
    pub product_details: String,
    /// Units sold so far (`DecimalQuantity`).
    pub total_sold: String,
    /// Units lost so far (`DecimalQuantity`).
    pub total_lost: String,
    /// Units held by unpaid orders (`DecimalQuantity`).
    pub total_locked: String,
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
