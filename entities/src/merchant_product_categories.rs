use sea_orm::entity::prelude::*;

/// Which categories a product is in: the product's `categories` (kept in its details
/// too), one row each, so that a category's products and their number are an index
/// walk rather than a read of every product of the instance.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "merchant_product_categories")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub category_serial: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub product_serial: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::merchant_categories::Entity",
        from = "Column::CategorySerial",
        to = "super::merchant_categories::Column::CategorySerial",
        on_delete = "Cascade"
    )]
    Category,
    #[sea_orm(
        belongs_to = "super::merchant_products::Entity",
        from = "Column::ProductSerial",
        to = "super::merchant_products::Column::ProductSerial",
        on_delete = "Cascade"
    )]
    Product,
}

impl ActiveModelBehavior for ActiveModel {}
