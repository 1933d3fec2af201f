//! Schema migrations, one file per change, append-only: never edit one that has landed.

pub use sea_orm_migration::prelude::*;

pub mod calendar;

mod m20261123_000001_create_merchant_instances;
mod m20261123_000002_create_merchant_money_pots;
mod m20261123_000003_create_donau_charities;
mod m20261123_000004_create_bank;
mod m20261123_000005_create_merchant_templates;
mod m20261123_000006_create_merchant_reports;
mod m20261123_000007_hash_report_tokens;
mod m20261123_000008_product_stock_counters;
mod m20261123_000009_create_merchant_orders;
mod m20261123_000010_create_merchant_accounts;
mod m20261123_000011_bank_balances;
mod m20261123_000012_wire_gateway;
mod m20261123_000013_bank_account_deletion;
mod m20261123_000014_bank_contact_data;
mod m20261123_000015_bank_token_creation;
mod m20261204_000016_merchant_account_credentials;
mod m20261205_000017_create_merchant_webhooks;
mod m20261205_000018_merchant_abuse_bounds;
mod m20261205_000019_bank_withdrawals;
mod m20261205_000020_bank_stats;
mod m20261205_000021_bank_tan;
mod m20261205_000022_donau_receipts;
mod m20261205_000023_login_failures;
mod m20261205_000024_report_lease_id;
mod m20261205_000025_list_indexes;
mod m20261205_000026_product_categories;
mod m20261206_000027_timed_step_indexes;
mod m20261206_000028_category_product_counts;
mod m20261206_000029_bank_transfer_function;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_create_merchant_instances::Migration),
            Box::new(m20261123_000002_create_merchant_money_pots::Migration),
            Box::new(m20261123_000003_create_donau_charities::Migration),
            Box::new(m20261123_000004_create_bank::Migration),
            Box::new(m20261123_000005_create_merchant_templates::Migration),
            Box::new(m20261123_000006_create_merchant_reports::Migration),
            Box::new(m20261123_000007_hash_report_tokens::Migration),
            Box::new(m20261123_000008_product_stock_counters::Migration),
            Box::new(m20261123_000009_create_merchant_orders::Migration),
            Box::new(m20261123_000010_create_merchant_accounts::Migration),
            Box::new(m20261123_000011_bank_balances::Migration),
            Box::new(m20261123_000012_wire_gateway::Migration),
            Box::new(m20261123_000013_bank_account_deletion::Migration),
            Box::new(m20261123_000014_bank_contact_data::Migration),
            Box::new(m20261123_000015_bank_token_creation::Migration),
            Box::new(m20261204_000016_merchant_account_credentials::Migration),
            Box::new(m20261205_000017_create_merchant_webhooks::Migration),
            Box::new(m20261205_000018_merchant_abuse_bounds::Migration),
            Box::new(m20261205_000019_bank_withdrawals::Migration),
            Box::new(m20261205_000020_bank_stats::Migration),
            Box::new(m20261205_000021_bank_tan::Migration),
            Box::new(m20261205_000022_donau_receipts::Migration),
            Box::new(m20261205_000023_login_failures::Migration),
            Box::new(m20261205_000024_report_lease_id::Migration),
            Box::new(m20261205_000025_list_indexes::Migration),
            Box::new(m20261205_000026_product_categories::Migration),
            Box::new(m20261206_000027_timed_step_indexes::Migration),
            Box::new(m20261206_000028_category_product_counts::Migration),
            Box::new(m20261206_000029_bank_transfer_function::Migration),
        ]
    }
}
