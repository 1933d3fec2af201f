//! Orders: `[/instances/$INSTANCE]/private/orders[/$ORDER_ID[/forget|/refund]]` for the
//! merchant, `[/instances/$INSTANCE]/orders/$ORDER_ID[/claim]` for wallets. Templates
//! create orders through [`create::create`] too.
//!
//! An order's contract terms are built once, when it is created, and stored as JSON;
//! a claim adds the wallet's nonce, freezes them, and signs their hash
//! (`taler::contract`). Payment needs an exchange and is not served yet: no order gets
//! past "claimed"; unpaid orders stay readable past their pay deadline until deleted or
//! past the legal preservation period (`lifecycle`), and refunds answer that the order
//! is unpaid (`refunds`).

pub mod contract_terms;
pub mod create;
pub mod forget;
pub mod lifecycle;
pub mod links;
pub mod page;
pub mod private;
pub mod refunds;
pub mod stored;
pub mod terms;
pub mod wallet;
