//! Indexes that let every list walk its own rows in the page's order and stop after
//! `limit` rows, whatever the size of the table: a list narrowed to an instance or an
//! account, by serial, had only the primary key (every instance's rows, in order) or
//! an index by name (every row of the instance, then a sort). The order list's filters
//! each get an index that ends in the serial, so a filtered page is a walk too.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (index name, table, columns)
const INDEXES: &[(&str, &str, &[&str])] = &[
    (
        "merchant_orders_by_instance",
        "merchant_orders",
        &["instance_serial", "order_serial"],
    ),
    (
        "merchant_orders_by_status",
        "merchant_orders",
        &[
            "instance_serial",
            "paid",
            "refunded",
            "wired",
            "order_serial",
        ],
    ),
    (
        "merchant_orders_by_session",
        "merchant_orders",
        &["instance_serial", "session_id", "order_serial"],
    ),
    (
        "merchant_orders_by_fulfillment_url",
        "merchant_orders",
        &["instance_serial", "fulfillment_url", "order_serial"],
    ),
    (
        "merchant_money_pots_by_instance",
        "merchant_money_pots",
        &["instance_serial", "pot_serial"],
    ),
    (
        "merchant_reports_by_instance",
        "merchant_reports",
        &["instance_serial", "report_serial"],
    ),
    (
        "merchant_tokens_by_instance_serial",
        "merchant_tokens",
        &["instance_serial", "token_serial"],
    ),
    (
        "merchant_products_by_instance",
        "merchant_products",
        &["instance_serial", "product_serial"],
    ),
    (
        "merchant_categories_by_instance",
        "merchant_categories",
        &["instance_serial", "category_serial"],
    ),
    (
        "merchant_accounts_by_instance",
        "merchant_accounts",
        &["instance_serial", "account_serial"],
    ),
    (
        "bank_tokens_by_account",
        "bank_tokens",
        &["account_id", "token_serial"],
    ),
    (
        "bank_transactions_outgoing",
        "bank_transactions",
        &["debtor_account_id", "row_id"],
    ),
    (
        "bank_accounts_listed",
        "bank_accounts",
        &["deleted", "account_id"],
    ),
    (
        "bank_accounts_public",
        "bank_accounts",
        &["is_public", "deleted", "account_id"],
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, columns) in INDEXES {
            let mut index = Index::create();
            index.name(*name).table(Alias::new(*table));
            for column in *columns {
                index.col(Alias::new(*column));
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, _) in INDEXES {
            manager
                .drop_index(
                    Index::drop()
                        .name(*name)
                        .table(Alias::new(*table))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
