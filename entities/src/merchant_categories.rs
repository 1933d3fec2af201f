use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "merchant_categories")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub category_serial: i64,
    pub instance_serial: i64,
    /// Unique per instance.
    pub category_name: String,
    /// JSON object: language tag → name.
    pub category_name_i18n: Option<String>,
    /// How many products name it (kept by triggers on `merchant_product_categories`).
    pub product_count: i64,
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
