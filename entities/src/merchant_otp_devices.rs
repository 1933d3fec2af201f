use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "merchant_otp_devices")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub otp_serial: i64,
    pub instance_serial: i64,
    /// `otp_device_id`, unique per instance.
    pub otp_id: String,
    pub otp_description: String,
    /// RFC 3548 base32, as posted.
    pub otp_key: String,
    /// 0 none, 1 TOTP without price, 2 TOTP with price.
    pub otp_algorithm: i32,
    pub otp_ctr: Option<i64>,
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
