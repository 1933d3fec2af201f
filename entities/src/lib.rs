//! sea-orm entities, one module per table.

pub mod bank_accounts;
pub mod bank_challenges;
pub mod bank_stats;
pub mod bank_tokens;
pub mod bank_transactions;
pub mod bank_withdrawals;
pub mod donau_charities;
pub mod merchant_accounts;
pub mod merchant_categories;
pub mod merchant_instances;
pub mod merchant_money_pots;
pub mod merchant_order_rates;
pub mod merchant_orders;
pub mod merchant_otp_devices;
pub mod merchant_pending_webhooks;
pub mod merchant_product_locks;
pub mod merchant_products;
pub mod merchant_reports;
pub mod merchant_templates;
pub mod merchant_tokens;
pub mod merchant_webhooks;
