//! Product categories and products: the minimal inventory inventory-cart templates
//! select from.

use entities::{
    merchant_categories::{self, Column as CategoryColumn, Entity as Categories},
    merchant_products::{self, Column as ProductColumn, Entity as Products},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};

use super::{CreateOutcome, is_unique_violation};
use crate::taler::pagination::Page;

pub type Category = merchant_categories::Model;
pub type Product = merchant_products::Model;

/// A new category's id, or `None` when the instance has a category of that name.
pub async fn create_category(
    db: &impl ConnectionTrait,
    instance_serial: i64,
    name: String,
    name_i18n: Option<String>,
) -> Result<Option<i64>, DbErr> {
    let row = merchant_categories::ActiveModel {
        instance_serial: Set(instance_serial),
        category_name: Set(name),
        category_name_i18n: Set(name_i18n),
        ..Default::default()
    };
    match row.insert(db).await {
        Ok(c) => Ok(Some(c.category_serial)),
        Err(err) if is_unique_violation(&err) => Ok(None),
        Err(err) => Err(err),
    }
}

pub async fn categories(
    db: &impl ConnectionTrait,
    instance_serial: i64,
) -> Result<Vec<Category>, DbErr> {
    Categories::find()
        .filter(CategoryColumn::InstanceSerial.eq(instance_serial))
        .order_by_asc(CategoryColumn::CategorySerial)
        .all(db)
        .await
}

/// The first of `ids` that is not a category of the instance.
pub async fn unknown_category(
    db: &impl ConnectionTrait,
    instance_serial: i64,
    ids: &[u64],
) -> Result<Option<u64>, DbErr> {
    let known: Vec<i64> = categories(db, instance_serial)
        .await?
        .iter()
        .map(|c| c.category_serial)
        .collect();
    Ok(ids
        .iter()
        .copied()
        .find(|id| i64::try_from(*id).map_or(true, |id| !known.contains(&id))))
}

/// Stores a product; `same_details` decides whether an existing product of that id
/// was posted with the same details (then the create is a repeat, not a conflict).
pub async fn create_product(
    db: &impl ConnectionTrait,
    instance_serial: i64,
    product_id: String,
    details: String,
    same_details: impl Fn(&str) -> bool,
) -> Result<CreateOutcome, DbErr> {
    let row = merchant_products::ActiveModel {
        instance_serial: Set(instance_serial),
        product_id: Set(product_id.clone()),
        product_details: Set(details),
        ..Default::default()
    };
    match row.insert(db).await {
        Ok(_) => Ok(CreateOutcome::Created),
        Err(err) if is_unique_violation(&err) => {
            let existing = Products::find()
                .filter(ProductColumn::InstanceSerial.eq(instance_serial))
                .filter(ProductColumn::ProductId.eq(product_id))
                .one(db)
                .await?;
            Ok(match existing {
                Some(p) if same_details(&p.product_details) => CreateOutcome::Created,
                _ => CreateOutcome::Conflict,
            })
        }
        Err(err) => Err(err),
    }
}

/// One page of the instance's products, by serial.
pub async fn product_page(
    db: &impl ConnectionTrait,
    instance_serial: i64,
    page: Page,
) -> Result<Vec<Product>, DbErr> {
    let query = Products::find().filter(ProductColumn::InstanceSerial.eq(instance_serial));
    super::paged(query, ProductColumn::ProductSerial, page)
        .all(db)
        .await
}

/// Every product of the instance, by serial.
pub async fn products(
    db: &impl ConnectionTrait,
    instance_serial: i64,
) -> Result<Vec<Product>, DbErr> {
    Products::find()
        .filter(ProductColumn::InstanceSerial.eq(instance_serial))
        .order_by_asc(ProductColumn::ProductSerial)
        .all(db)
        .await
}
