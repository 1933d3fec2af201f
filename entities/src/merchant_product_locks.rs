use sea_orm::entity::prelude::*;

/// Units of a product a frontend holds (`private/products/$ID/lock`) until `expiration`;
/// they are part of the product's `total_locked`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "merchant_product_locks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub lock_serial: i64,
    pub instance_serial: i64,
    pub product_serial: i64,
    /// The frontend's UUID; unique per product.
    pub lock_uuid: String,
    /// `DecimalQuantity` held (as the product's counters).
    pub quantity: String,
    /// Seconds since the epoch: the units are given back then.
    pub expiration: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::merchant_products::Entity",
        from = "Column::ProductSerial",
        to = "super::merchant_products::Column::ProductSerial",
        on_delete = "Cascade"
    )]
    Product,
}

impl Related<super::merchant_products::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Product.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
