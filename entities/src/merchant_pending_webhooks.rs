use sea_orm::entity::prelude::*;

/// A webhook delivery still due: the request as expanded when its event fired.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "merchant_pending_webhooks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub pending_serial: i64,
    pub webhook_serial: i64,
    /// Seconds since the epoch: not sent before.
    pub next_attempt: i64,
    pub retries: i32,
    pub url: String,
    pub http_method: String,
    /// `Name: value` lines.
    pub header: Option<String>,
    pub body: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::merchant_webhooks::Entity",
        from = "Column::WebhookSerial",
        to = "super::merchant_webhooks::Column::WebhookSerial",
        on_delete = "Cascade"
    )]
    Webhook,
}

impl Related<super::merchant_webhooks::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Webhook.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
