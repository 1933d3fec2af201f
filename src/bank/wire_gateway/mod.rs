//! The Taler Wire Gateway of an exchange account:
//! `/accounts/$USERNAME/taler-wire-gateway/...`, as libeufin-bank serves it. The
//! exchange wires money out (`transfer`, idempotent by `request_uid`), reads its
//! outgoing and incoming histories (with long polling), and, for tests and
//! integration, books incoming reserve and KYC transfers (`admin/add-incoming`,
//! `admin/add-kycauth`).
//!
//! The operations are `api`'s, their bodies `types`'; transfers go through the
//! bank's one door, `bank::ledger::book`.

pub mod api;
pub mod types;
