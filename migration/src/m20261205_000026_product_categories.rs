//! `merchant_product_categories`: a product's categories, one row each (they stay in
//! the product's details too, which the API returns). A category's products and their
//! number (the category list's `product_count`) were found by reading and parsing
//! every product of the instance; now they are an index walk. Filled from the
//! products' details.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum MerchantProductCategories {
    Table,
    CategorySerial,
    ProductSerial,
}

#[derive(DeriveIden, Clone, Copy)]
enum MerchantCategories {
    Table,
    CategorySerial,
}

#[derive(DeriveIden, Clone, Copy)]
enum MerchantProducts {
    Table,
    ProductSerial,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MerchantProductCategories::Table)
                    .col(
                        ColumnDef::new(MerchantProductCategories::CategorySerial)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MerchantProductCategories::ProductSerial)
                            .big_integer()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(MerchantProductCategories::CategorySerial)
                            .col(MerchantProductCategories::ProductSerial),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                MerchantProductCategories::Table,
                                MerchantProductCategories::CategorySerial,
                            )
                            .to(
                                MerchantCategories::Table,
                                MerchantCategories::CategorySerial,
                            )
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                MerchantProductCategories::Table,
                                MerchantProductCategories::ProductSerial,
                            )
                            .to(MerchantProducts::Table, MerchantProducts::ProductSerial)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("merchant_product_categories_by_product")
                    .table(MerchantProductCategories::Table)
                    .col(MerchantProductCategories::ProductSerial)
                    .to_owned(),
            )
            .await?;
        // The products' `categories`, where they name a category of the product's own
        // instance (the API checks that; a row written otherwise is left out).
        let fill = match manager.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => {
                "INSERT INTO merchant_product_categories (category_serial, product_serial) \
                 SELECT DISTINCT c.category_serial, p.product_serial \
                 FROM merchant_products p \
                 CROSS JOIN LATERAL jsonb_array_elements_text(\
                   CASE WHEN jsonb_typeof(p.product_details::jsonb -> 'categories') = 'array' \
                   THEN p.product_details::jsonb -> 'categories' ELSE '[]'::jsonb END) j \
                 JOIN merchant_categories c ON c.category_serial::text = j.value \
                   AND c.instance_serial = p.instance_serial"
            }
            _ => {
                "INSERT OR IGNORE INTO merchant_product_categories (category_serial, product_serial) \
                 SELECT c.category_serial, p.product_serial \
                 FROM merchant_products p, json_each(p.product_details, '$.categories') j \
                 JOIN merchant_categories c ON c.category_serial = j.value \
                   AND c.instance_serial = p.instance_serial \
                 WHERE json_valid(p.product_details) \
                   AND json_type(p.product_details, '$.categories') = 'array'"
            }
        };
        manager.get_connection().execute_unprepared(fill).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(MerchantProductCategories::Table)
                    .to_owned(),
            )
            .await
    }
}
