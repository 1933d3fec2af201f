use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "merchant_templates")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub template_serial: i64,
    pub instance_serial: i64,
    /// Unique per instance.
    pub template_id: String,
    pub template_description: String,
    /// The OTP device (`merchant_otp_devices.otp_serial`), if any.
    pub otp_serial: Option<i64>,
    /// `template_contract` JSON exactly as posted.
    pub template_contract: String,
    /// `editable_defaults` JSON exactly as posted.
    pub editable_defaults: Option<String>,
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
