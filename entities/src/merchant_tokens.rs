use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "merchant_tokens")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub token_serial: i64,
    pub instance_serial: i64,
    /// SHA-256 of the token; the token itself is never stored.
    #[sea_orm(unique)]
    pub token_hash: Vec<u8>,
    /// The scope as requested, e.g. `readonly` or `all:refreshable`.
    pub scope: String,
    pub created_at: i64,
    /// Seconds since the epoch; `i64::MAX` for never.
    pub expiration: i64,
    pub description: Option<String>,
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
