use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "merchant_orders")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub order_serial: i64,
    pub instance_serial: i64,
    /// Unique per instance.
    pub order_id: String,
    /// The contract terms as JSON (with the wallet's nonce once claimed).
    pub contract_terms: String,
    /// Hash of the creating request (idempotent re-posts).
    pub h_post_data: String,
    /// Random salt the claim token is derived from (with the instance's key), if the
    /// order needs one; the token itself is not stored.
    pub claim_token_salt: Option<Vec<u8>>,
    /// Seconds since the epoch.
    pub creation_time: i64,
    /// Seconds since the epoch (`i64::MAX` for never).
    pub pay_deadline: i64,
    pub summary: String,
    /// The order's `amount` as `CURRENCY:VALUE[.FRACTION]`.
    pub amount: String,
    pub fulfillment_url: Option<String>,
    pub session_id: Option<String>,
    pub otp_serial: Option<i64>,
    /// The claiming wallet's nonce; set once, when claimed.
    pub nonce: Option<String>,
    /// Hash of the claimed contract terms (Crockford base32).
    pub h_contract_terms: Option<String>,
    pub paid: bool,
    pub refunded: bool,
    pub wired: bool,
    /// `[[product_serial, millionths], ...]`: the units this order holds.
    pub inventory_locks: Option<String>,
    /// Seconds since the epoch: an order created anonymously (from a public template)
    /// that no wallet claimed by then is removed. `None` for the merchant's own orders.
    pub unclaimed_deadline: Option<i64>,
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
