//! Product categories and products: the minimal inventory inventory-cart templates
//! select from.

use entities::{
    merchant_categories::{self, Column as CategoryColumn, Entity as Categories},
    merchant_product_categories::{self as links, Entity as Links},
    merchant_products::{self, Column as ProductColumn, Entity as Products},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, Set, TransactionTrait,
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

pub async fn find_category(
    db: &impl ConnectionTrait,
    instance_serial: i64,
    category_serial: i64,
) -> Result<Option<Category>, DbErr> {
    Categories::find_by_id(category_serial)
        .filter(CategoryColumn::InstanceSerial.eq(instance_serial))
        .one(db)
        .await
}

pub enum CategoryUpdate {
    Updated,
    Unknown,
    /// Another category of the instance has that name.
    NameTaken,
}

pub async fn update_category(
    db: &impl ConnectionTrait,
    instance_serial: i64,
    category_serial: i64,
    name: String,
    name_i18n: Option<String>,
) -> Result<CategoryUpdate, DbErr> {
    let result = Categories::update_many()
        .col_expr(CategoryColumn::CategoryName, name.into())
        .col_expr(CategoryColumn::CategoryNameI18n, name_i18n.into())
        .filter(CategoryColumn::InstanceSerial.eq(instance_serial))
        .filter(CategoryColumn::CategorySerial.eq(category_serial))
        .exec(db)
        .await;
    match result {
        Ok(r) if r.rows_affected > 0 => Ok(CategoryUpdate::Updated),
        Ok(_) => Ok(CategoryUpdate::Unknown),
        Err(err) if is_unique_violation(&err) => Ok(CategoryUpdate::NameTaken),
        Err(err) => Err(err),
    }
}

/// Deletes a category and takes it out of its products' `categories`, in one
/// transaction. False when the category is unknown.
pub async fn delete_category(
    db: &DatabaseConnection,
    instance_serial: i64,
    category_serial: i64,
) -> Result<bool, DbErr> {
    let txn = db.begin().await?;
    // Reading first was a 500 under schemathesis on SQLite (see `write_first`).
    let found = super::write_first::<Categories>(
        &txn,
        CategoryColumn::ProductCount,
        sea_orm::Condition::all()
            .add(CategoryColumn::InstanceSerial.eq(instance_serial))
            .add(CategoryColumn::CategorySerial.eq(category_serial)),
    )
    .await?;
    if found == 0 {
        return Ok(false);
    }
    // Its products, before the links go with it.
    let members = category_products(&txn, category_serial).await?;
    Categories::delete_many()
        .filter(CategoryColumn::CategorySerial.eq(category_serial))
        .exec(&txn)
        .await?;
    for product in members {
        let Ok(mut details) = serde_json::from_str::<serde_json::Value>(&product.product_details)
        else {
            continue;
        };
        let Some(list) = details.get_mut("categories").and_then(|c| c.as_array_mut()) else {
            continue;
        };
        let before = list.len();
        list.retain(|c| c.as_i64() != Some(category_serial));
        if list.len() != before {
            Products::update_many()
                .col_expr(ProductColumn::ProductDetails, details.to_string().into())
                .filter(ProductColumn::ProductSerial.eq(product.product_serial))
                .exec(&txn)
                .await?;
        }
    }
    txn.commit().await?;
    Ok(true)
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
    db: &DatabaseConnection,
    instance_serial: i64,
    product_id: String,
    details: String,
    same_details: impl Fn(&str) -> bool,
) -> Result<CreateOutcome, DbErr> {
    let categories = categories_in(&details);
    let row = merchant_products::ActiveModel {
        instance_serial: Set(instance_serial),
        product_id: Set(product_id.clone()),
        product_details: Set(details),
        ..Default::default()
    };
    let txn = db.begin().await?;
    match row.insert(&txn).await {
        Ok(product) => {
            link(&txn, product.product_serial, &categories).await?;
            txn.commit().await?;
            Ok(CreateOutcome::Created)
        }
        Err(err) if is_unique_violation(&err) => {
            txn.rollback().await?;
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

/// The category serials a product's stored details name.
fn categories_in(details: &str) -> Vec<i64> {
    serde_json::from_str::<serde_json::Value>(details)
        .ok()
        .and_then(|d| {
            d.get("categories")
                .and_then(|c| c.as_array())
                .map(|list| list.iter().filter_map(serde_json::Value::as_i64).collect())
        })
        .unwrap_or_default()
}

/// Makes `categories` the product's categories in `merchant_product_categories`.
async fn link(
    db: &impl ConnectionTrait,
    product_serial: i64,
    categories: &[i64],
) -> Result<(), DbErr> {
    Links::delete_many()
        .filter(links::Column::ProductSerial.eq(product_serial))
        .exec(db)
        .await?;
    let mut categories = categories.to_vec();
    categories.sort_unstable();
    categories.dedup();
    if categories.is_empty() {
        return Ok(());
    }
    Links::insert_many(categories.into_iter().map(|c| links::ActiveModel {
        category_serial: Set(c),
        product_serial: Set(product_serial),
    }))
    .exec(db)
    .await?;
    Ok(())
}

/// The products of a category, by serial: a walk of its links.
pub async fn category_products(
    db: &impl ConnectionTrait,
    category_serial: i64,
) -> Result<Vec<Product>, DbErr> {
    use sea_orm::{JoinType, QuerySelect, RelationTrait};
    Products::find()
        .join_rev(JoinType::InnerJoin, links::Relation::Product.def())
        .filter(links::Column::CategorySerial.eq(category_serial))
        .order_by_asc(links::Column::ProductSerial)
        .all(db)
        .await
}

/// One page of the instance's products by serial (the caller filters, and asks for
/// the next page while it has fewer than it wants).
pub async fn products_from(
    db: &impl ConnectionTrait,
    instance_serial: i64,
    page: Page,
) -> Result<Vec<Product>, DbErr> {
    super::paged_within(
        Products::find(),
        ProductColumn::InstanceSerial,
        instance_serial,
        ProductColumn::ProductSerial,
        page,
    )
    .all(db)
    .await
}

pub async fn find_product(
    db: &impl ConnectionTrait,
    instance_serial: i64,
    product_id: &str,
) -> Result<Option<Product>, DbErr> {
    Products::find()
        .filter(ProductColumn::InstanceSerial.eq(instance_serial))
        .filter(ProductColumn::ProductId.eq(product_id))
        .one(db)
        .await
}

/// The product with the instance and the presented token's row, in one query (for an
/// authorized read; see `store::access`).
pub async fn find_product_with_access(
    db: &impl ConnectionTrait,
    instance_id: &str,
    token_hash: Option<&[u8]>,
    product_id: &str,
) -> Result<Option<super::access::Found<Product>>, DbErr> {
    super::access::fetch::<Products>(
        db,
        instance_id,
        token_hash,
        ProductColumn::InstanceSerial,
        ProductColumn::ProductId,
        product_id,
        |_| {},
    )
    .await
}

/// Replaces a product's details and lost count if they are still `seen` (compare and
/// swap: a concurrent change makes this return false and the caller look again).
pub async fn replace_product(
    db: &DatabaseConnection,
    seen: &Product,
    details: String,
    total_lost: String,
) -> Result<bool, DbErr> {
    let categories = categories_in(&details);
    let txn = db.begin().await?;
    let result = Products::update_many()
        .col_expr(ProductColumn::ProductDetails, details.into())
        .col_expr(ProductColumn::TotalLost, total_lost.into())
        .filter(ProductColumn::ProductSerial.eq(seen.product_serial))
        .filter(ProductColumn::ProductDetails.eq(seen.product_details.clone()))
        .filter(ProductColumn::TotalLost.eq(seen.total_lost.clone()))
        .filter(ProductColumn::TotalSold.eq(seen.total_sold.clone()))
        .filter(ProductColumn::TotalLocked.eq(seen.total_locked.clone()))
        .exec(&txn)
        .await?;
    if result.rows_affected == 0 {
        txn.rollback().await?;
        return Ok(false);
    }
    link(&txn, seen.product_serial, &categories).await?;
    txn.commit().await?;
    Ok(true)
}

pub enum DeleteOutcome {
    Deleted,
    Unknown,
    /// Unpaid orders hold units of it.
    Locked,
}

/// Deletes a product no unpaid order holds units of (checked in the same statement,
/// so an order taking units at the same time either finds it gone or keeps it).
pub async fn delete_product(
    db: &impl ConnectionTrait,
    instance_serial: i64,
    product_id: &str,
) -> Result<DeleteOutcome, DbErr> {
    let deleted = Products::delete_many()
        .filter(ProductColumn::InstanceSerial.eq(instance_serial))
        .filter(ProductColumn::ProductId.eq(product_id))
        .filter(ProductColumn::TotalLocked.eq("0"))
        .exec(db)
        .await?
        .rows_affected
        > 0;
    Ok(if deleted {
        DeleteOutcome::Deleted
    } else if find_product(db, instance_serial, product_id)
        .await?
        .is_some()
    {
        DeleteOutcome::Locked
    } else {
        DeleteOutcome::Unknown
    })
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
