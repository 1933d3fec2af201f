//! The events that fire webhooks (`WebhookEventType`), and firing one: each webhook of
//! the instance for the event becomes a pending delivery, its URL, header and body
//! expanded from its templates with the event's data. Firing only writes rows and
//! wakes the sender; the request that caused the event never waits for a delivery.

use poem_openapi::Enum;
use serde_json::{Value, json};

use crate::{
    merchant::webhooks::template::expand,
    state::State,
    store::webhooks::{self as store, NewDelivery},
    taler::{Timestamp, limits::MAX_WEBHOOK_TEMPLATE_CHARS},
};

/// `WebhookEventType`: why a webhook is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum WebhookEventType {
    /// A new order was created (also from a template).
    OrderCreated,
    /// An order was paid (comes with payments, which need an exchange).
    Pay,
    /// A refund was granted (comes with payments).
    Refund,
    /// The exchange wired an order's money (comes with payments).
    OrderSettled,
    CategoryAdded,
    CategoryUpdated,
    CategoryDeleted,
    /// A product was added to the inventory.
    InventoryAdded,
    InventoryUpdated,
    InventoryDeleted,
}

impl WebhookEventType {
    pub fn name(self) -> String {
        poem_openapi::types::ToJSON::to_json(&self)
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    pub fn parse(name: &str) -> Option<WebhookEventType> {
        poem_openapi::types::ParseFromJSON::parse_from_json(Some(Value::String(name.to_owned())))
            .ok()
    }
}

/// Fires `event` for the instance: one pending delivery per webhook of the instance for
/// it, expanded with `data` (to which `webhook_type` and `timestamp` are added). A
/// failure is logged: the event happened, whether or not its webhooks can be told.
pub async fn fire(state: &State, instance_serial: i64, event: WebhookEventType, mut data: Value) {
    if let Err(e) = try_fire(state, instance_serial, event, &mut data).await {
        tracing::error!(error = %e, event = %event.name(), "cannot queue webhook deliveries");
    }
}

async fn try_fire(
    state: &State,
    instance_serial: i64,
    event: WebhookEventType,
    data: &mut Value,
) -> Result<(), sea_orm::DbErr> {
    let hooks = store::for_event(&state.db, instance_serial, &event.name()).await?;
    if hooks.is_empty() {
        return Ok(());
    }
    let now = Timestamp::now();
    if let Value::Object(map) = data {
        map.insert("webhook_type".to_owned(), json!(event.name()));
        map.entry("timestamp")
            .or_insert_with(|| serde_json::to_value(now).unwrap_or_default());
    }
    let deliveries = hooks
        .into_iter()
        .filter_map(|hook| {
            let expand_bounded = |t: &Option<String>| -> Result<Option<String>, ()> {
                match t.as_deref().map(|t| expand(t, data)) {
                    Some(text) if text.chars().count() > MAX_WEBHOOK_TEMPLATE_CHARS => Err(()),
                    other => Ok(other),
                }
            };
            let (Ok(header), Ok(body)) = (
                expand_bounded(&hook.header_template),
                expand_bounded(&hook.body_template),
            ) else {
                tracing::warn!(webhook = %hook.webhook_id, "expanded webhook exceeds the size limit: not sent");
                return None;
            };
            Some(NewDelivery {
                webhook_serial: hook.webhook_serial,
                url: expand(&hook.url, data),
                http_method: hook.http_method,
                header,
                body,
            })
        })
        .collect();
    store::enqueue(&state.db, deliveries, now.to_db()).await?;
    state.webhook_wake.notify_one();
    Ok(())
}
