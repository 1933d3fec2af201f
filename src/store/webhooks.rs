//! Webhooks of merchant instances and their pending deliveries.

use entities::{
    merchant_pending_webhooks as pending,
    merchant_webhooks::{ActiveModel, Column, Entity, Model},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, sea_query::Expr,
};

pub use super::CreateOutcome;

pub type Webhook = Model;
pub type Pending = pending::Model;

/// A webhook's settings, as `WebhookAddDetails` and `WebhookPatchDetails` give them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    pub event_type: String,
    pub url: String,
    pub http_method: String,
    pub header_template: Option<String>,
    pub body_template: Option<String>,
}

impl WebhookSettings {
    fn of(w: &Model) -> WebhookSettings {
        WebhookSettings {
            event_type: w.event_type.clone(),
            url: w.url.clone(),
            http_method: w.http_method.clone(),
            header_template: w.header_template.clone(),
            body_template: w.body_template.clone(),
        }
    }
}

/// Creates webhook `webhook_id`; posting the same settings again is no conflict.
pub async fn create(
    db: &impl ConnectionTrait,
    instance_serial: i64,
    webhook_id: &str,
    settings: WebhookSettings,
) -> Result<CreateOutcome, DbErr> {
    let row = ActiveModel {
        instance_serial: Set(instance_serial),
        webhook_id: Set(webhook_id.to_owned()),
        event_type: Set(settings.event_type.clone()),
        url: Set(settings.url.clone()),
        http_method: Set(settings.http_method.clone()),
        header_template: Set(settings.header_template.clone()),
        body_template: Set(settings.body_template.clone()),
        ..Default::default()
    };
    match row.insert(db).await {
        Ok(_) => Ok(CreateOutcome::Created),
        Err(err) if super::is_unique_violation(&err) => {
            match find(db, instance_serial, webhook_id).await? {
                Some(existing) if WebhookSettings::of(&existing) == settings => {
                    Ok(CreateOutcome::Created)
                }
                _ => Ok(CreateOutcome::Conflict),
            }
        }
        Err(err) => Err(err),
    }
}

/// The instance's webhooks, in id order (the page has no pagination).
pub async fn list(db: &impl ConnectionTrait, instance_serial: i64) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::InstanceSerial.eq(instance_serial))
        .order_by_asc(Column::WebhookId)
        .limit(crate::taler::limits::MAX_WEBHOOKS as u64)
        .all(db)
        .await
}

/// How many webhooks the instance has.
pub async fn count(db: &impl ConnectionTrait, instance_serial: i64) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    Entity::find()
        .filter(Column::InstanceSerial.eq(instance_serial))
        .count(db)
        .await
}

pub async fn find(
    db: &impl ConnectionTrait,
    instance_serial: i64,
    webhook_id: &str,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::InstanceSerial.eq(instance_serial))
        .filter(Column::WebhookId.eq(webhook_id))
        .one(db)
        .await
}

/// Replaces a webhook's settings; false when the instance has no such webhook.
pub async fn update(
    db: &impl ConnectionTrait,
    instance_serial: i64,
    webhook_id: &str,
    settings: WebhookSettings,
) -> Result<bool, DbErr> {
    let res = Entity::update_many()
        .col_expr(Column::EventType, Expr::value(settings.event_type))
        .col_expr(Column::Url, Expr::value(settings.url))
        .col_expr(Column::HttpMethod, Expr::value(settings.http_method))
        .col_expr(
            Column::HeaderTemplate,
            Expr::value(settings.header_template),
        )
        .col_expr(Column::BodyTemplate, Expr::value(settings.body_template))
        .filter(Column::InstanceSerial.eq(instance_serial))
        .filter(Column::WebhookId.eq(webhook_id))
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}

/// Deletes a webhook and its pending deliveries; false when there was none.
pub async fn delete(
    db: &impl ConnectionTrait,
    instance_serial: i64,
    webhook_id: &str,
) -> Result<bool, DbErr> {
    let res = Entity::delete_many()
        .filter(Column::InstanceSerial.eq(instance_serial))
        .filter(Column::WebhookId.eq(webhook_id))
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}

/// The instance's webhooks for one event type.
pub async fn for_event(
    db: &impl ConnectionTrait,
    instance_serial: i64,
    event_type: &str,
) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::InstanceSerial.eq(instance_serial))
        .filter(Column::EventType.eq(event_type))
        .all(db)
        .await
}

/// A delivery, expanded from its webhook's templates.
pub struct NewDelivery {
    pub webhook_serial: i64,
    pub url: String,
    pub http_method: String,
    pub header: Option<String>,
    pub body: Option<String>,
}

pub async fn enqueue(
    db: &impl ConnectionTrait,
    deliveries: Vec<NewDelivery>,
    now: i64,
) -> Result<(), DbErr> {
    if deliveries.is_empty() {
        return Ok(());
    }
    let rows = deliveries.into_iter().map(|d| pending::ActiveModel {
        webhook_serial: Set(d.webhook_serial),
        next_attempt: Set(now),
        retries: Set(0),
        url: Set(d.url),
        http_method: Set(d.http_method),
        header: Set(d.header),
        body: Set(d.body),
        ..Default::default()
    });
    pending::Entity::insert_many(rows)
        .exec(db)
        .await
        .map(|_| ())
}

/// Up to `batch` deliveries due at `now`, each leased to the caller until `lease_until`:
/// a row is the caller's only if its `next_attempt` is still what was read (compare and
/// set), so two servers never send the same delivery at once.
pub async fn lease_due(
    db: &impl ConnectionTrait,
    now: i64,
    lease_until: i64,
    batch: u64,
) -> Result<Vec<Pending>, DbErr> {
    let due = pending::Entity::find()
        .filter(pending::Column::NextAttempt.lte(now))
        .order_by_asc(pending::Column::NextAttempt)
        .limit(batch)
        .all(db)
        .await?;
    let mut leased = Vec::with_capacity(due.len());
    for row in due {
        let res = pending::Entity::update_many()
            .col_expr(pending::Column::NextAttempt, Expr::value(lease_until))
            .filter(pending::Column::PendingSerial.eq(row.pending_serial))
            .filter(pending::Column::NextAttempt.eq(row.next_attempt))
            .exec(db)
            .await?;
        if res.rows_affected == 1 {
            leased.push(row);
        }
    }
    Ok(leased)
}

/// The delivery succeeded, or gave up: it is no longer pending.
pub async fn done(db: &impl ConnectionTrait, pending_serial: i64) -> Result<(), DbErr> {
    pending::Entity::delete_by_id(pending_serial)
        .exec(db)
        .await
        .map(|_| ())
}

/// The delivery failed: try again at `next_attempt`.
pub async fn retry_at(
    db: &impl ConnectionTrait,
    pending_serial: i64,
    retries: i32,
    next_attempt: i64,
) -> Result<(), DbErr> {
    pending::Entity::update_many()
        .col_expr(pending::Column::Retries, Expr::value(retries))
        .col_expr(pending::Column::NextAttempt, Expr::value(next_attempt))
        .filter(pending::Column::PendingSerial.eq(pending_serial))
        .exec(db)
        .await
        .map(|_| ())
}
