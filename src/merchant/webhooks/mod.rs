//! Webhooks: `[/instances/$INSTANCE]/private/webhooks[/$WEBHOOK_ID]` to configure them
//! (`api`), the events that fire them (`events`: each fired event becomes one pending
//! delivery row per matching webhook, expanded from its templates by `template`), and
//! the sender that delivers them over HTTP in the background (`delivery`): bounded in
//! concurrency and time, retried with growing delays, never on a request's path.

pub mod api;
pub mod delivery;
pub mod events;
pub mod template;
