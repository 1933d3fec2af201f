//! sea-orm entities, one module per table.

pub mod donau_charities;
pub mod merchant_instances;
pub mod merchant_money_pots;
pub mod merchant_tokens;
