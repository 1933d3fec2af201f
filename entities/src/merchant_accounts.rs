use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "merchant_accounts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub account_serial: i64,
    pub instance_serial: i64,
    /// Unique per instance.
    pub payto_uri: String,
    /// The 16-byte wire salt (Crockford base32).
    pub salt: String,
    /// `h_wire` (Crockford base32), unique per instance.
    pub h_wire: String,
    pub credit_facade_url: Option<String>,
    pub extra_subject: Option<String>,
    /// `credit_facade_credentials` as given (JSON); never returned.
    pub credit_facade_credentials: Option<String>,
    /// False once deleted (contracts may still name it).
    pub active: bool,
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
