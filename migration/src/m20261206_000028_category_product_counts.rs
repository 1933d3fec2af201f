//! `merchant_categories.product_count`: how many products a category has, kept by the
//! database itself. The category list counted each category's links on every request
//! (20,000 index entries for a category of 20,000 products); now it reads one number
//! per category. Triggers on `merchant_product_categories` keep it, so every way a link
//! comes or goes counts: a product's categories replaced, a product deleted (its links
//! go by cascade), a category deleted. Filled from the links stored before.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MerchantCategories {
    Table,
    ProductCount,
}

const FILL: &str = "UPDATE merchant_categories SET product_count = \
    (SELECT COUNT(*) FROM merchant_product_categories l \
     WHERE l.category_serial = merchant_categories.category_serial)";

const SQLITE_UP: &[&str] = &[
    "CREATE TRIGGER merchant_product_categories_counted \
     AFTER INSERT ON merchant_product_categories BEGIN \
     UPDATE merchant_categories SET product_count = product_count + 1 \
     WHERE category_serial = NEW.category_serial; END",
    "CREATE TRIGGER merchant_product_categories_uncounted \
     AFTER DELETE ON merchant_product_categories BEGIN \
     UPDATE merchant_categories SET product_count = product_count - 1 \
     WHERE category_serial = OLD.category_serial; END",
];

const POSTGRES_UP: &[&str] = &[
    "CREATE FUNCTION merchant_category_product_count() RETURNS trigger AS $$ BEGIN \
     IF TG_OP = 'INSERT' THEN \
       UPDATE merchant_categories SET product_count = product_count + 1 \
       WHERE category_serial = NEW.category_serial; \
       RETURN NEW; \
     END IF; \
     UPDATE merchant_categories SET product_count = product_count - 1 \
     WHERE category_serial = OLD.category_serial; \
     RETURN OLD; \
     END $$ LANGUAGE plpgsql",
    "CREATE TRIGGER merchant_product_categories_counted \
     AFTER INSERT OR DELETE ON merchant_product_categories \
     FOR EACH ROW EXECUTE FUNCTION merchant_category_product_count()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(MerchantCategories::Table)
                    .add_column(
                        ColumnDef::new(MerchantCategories::ProductCount)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(FILL).await?;
        let triggers = match manager.get_database_backend() {
            DatabaseBackend::Postgres => POSTGRES_UP,
            _ => SQLITE_UP,
        };
        for sql in triggers {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.execute_unprepared(
                    "DROP TRIGGER IF EXISTS merchant_product_categories_counted \
                     ON merchant_product_categories",
                )
                .await?;
                db.execute_unprepared("DROP FUNCTION IF EXISTS merchant_category_product_count()")
                    .await?;
            }
            _ => {
                for name in [
                    "merchant_product_categories_counted",
                    "merchant_product_categories_uncounted",
                ] {
                    db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {name}"))
                        .await?;
                }
            }
        }
        manager
            .alter_table(
                Table::alter()
                    .table(MerchantCategories::Table)
                    .drop_column(MerchantCategories::ProductCount)
                    .to_owned(),
            )
            .await
    }
}
