use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "merchant_reports")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub report_serial: i64,
    pub instance_serial: i64,
    pub description: String,
    /// A `[report-generator-*]` configuration section.
    pub program_section: String,
    pub mime_type: String,
    /// Path under the instance, starting with `/`.
    pub data_source: String,
    pub target_address: String,
    pub frequency_us: i64,
    pub shift_us: i64,
    /// Authorizes `POST .../reports/$REPORT_ID` (Crockford base32 of 32 random bytes).
    pub report_token: String,
    /// Microseconds since the epoch.
    pub next_transmission_us: i64,
    pub last_transmission_us: Option<i64>,
    pub last_error_code: Option<i32>,
    pub last_error_detail: Option<String>,
    /// Failed runs since the last success (drives the retry backoff).
    pub failures: i32,
    /// Microseconds since the epoch until which a server holds the report.
    pub lease_until_us: Option<i64>,
    /// The claim that holds the report (random per claim); renewals move
    /// `lease_until_us`, not this.
    pub lease_id: Option<i64>,
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
