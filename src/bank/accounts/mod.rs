//! Core bank accounts: registration, reading, changing and deleting them, their
//! passwords and tokens, the account lists (`/accounts[/$USERNAME[/auth|/token[s]]]`,
//! `/public-accounts`) and `/config`. poem-openapi publishes one API's operations of a
//! path, so the operations of one path live in one API (`api`); their bodies are in
//! `types`.

pub mod api;
pub mod types;
