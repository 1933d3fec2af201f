//! Periodic reports: `private` to manage them (`[/instances/$INSTANCE]/private/reports
//! [/$REPORT_ID]`), `public` for `[/instances/$INSTANCE]/reports/$REPORT_ID`, which
//! returns a report's content to whoever holds its `report_token` (Taler's external
//! report generator), `run` to generate and deliver one (shared with this server's own
//! `scheduler`), and `targets`, where deliveries may go.

pub mod private;
pub mod public;
pub mod run;
pub mod scheduler;
pub mod targets;
