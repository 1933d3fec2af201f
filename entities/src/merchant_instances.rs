use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "merchant_instances")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub instance_serial: i64,
    #[sea_orm(unique)]
    pub instance_id: String,
    pub name: String,
    pub password_hash: String,
    pub merchant_pub: String,
    pub merchant_priv: Vec<u8>,
    /// The instance configuration as JSON (everything not queried on its own).
    pub settings: String,
    /// Deleted but not purged: unknown to the API, its id still taken.
    pub deleted: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::merchant_tokens::Entity")]
    Tokens,
}

impl Related<super::merchant_tokens::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Tokens.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
