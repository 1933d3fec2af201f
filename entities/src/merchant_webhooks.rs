use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "merchant_webhooks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub webhook_serial: i64,
    pub instance_serial: i64,
    /// Unique per instance.
    pub webhook_id: String,
    /// A `WebhookEventType`, e.g. `order_created`.
    pub event_type: String,
    pub url: String,
    pub http_method: String,
    pub header_template: Option<String>,
    pub body_template: Option<String>,
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
