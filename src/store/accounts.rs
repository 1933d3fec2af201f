//! Bank accounts of merchant instances.

use entities::merchant_accounts::{self, ActiveModel, Column, Entity};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};

use super::is_unique_violation;

pub type Account = merchant_accounts::Model;

/// What an instance says about an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSettings {
    pub credit_facade_url: Option<String>,
    /// `FacadeCredentials` as JSON.
    pub credit_facade_credentials: Option<String>,
    pub extra_subject: Option<String>,
}

pub enum AddOutcome {
    /// Added now, reactivated, or added before with the same settings.
    Added(Account),
    /// An active account with this payto URI has other settings.
    Conflict,
}

/// Adds an account (salt and `h_wire` computed by the caller), or reactivates an
/// inactive one with the new settings, keeping its salt and `h_wire`.
pub async fn add(
    db: &impl ConnectionTrait,
    instance_serial: i64,
    payto_uri: &str,
    salt: String,
    h_wire: String,
    settings: AccountSettings,
) -> Result<AddOutcome, DbErr> {
    let row = ActiveModel {
        instance_serial: Set(instance_serial),
        payto_uri: Set(payto_uri.to_owned()),
        salt: Set(salt),
        h_wire: Set(h_wire),
        credit_facade_url: Set(settings.credit_facade_url.clone()),
        extra_subject: Set(settings.extra_subject.clone()),
        credit_facade_credentials: Set(settings.credit_facade_credentials.clone()),
        active: Set(true),
        ..Default::default()
    };
    match row.insert(db).await {
        Ok(added) => return Ok(AddOutcome::Added(added)),
        Err(err) if is_unique_violation(&err) => {}
        Err(err) => return Err(err),
    }
    let Some(existing) = Entity::find()
        .filter(Column::InstanceSerial.eq(instance_serial))
        .filter(Column::PaytoUri.eq(payto_uri))
        .one(db)
        .await?
    else {
        // Deleted meanwhile, or the (astronomically unlikely) h_wire collision.
        return Ok(AddOutcome::Conflict);
    };
    let same = existing.credit_facade_url == settings.credit_facade_url
        && existing.credit_facade_credentials == settings.credit_facade_credentials
        && existing.extra_subject == settings.extra_subject;
    if existing.active {
        return Ok(if same {
            AddOutcome::Added(existing)
        } else {
            AddOutcome::Conflict
        });
    }
    // Reactivated only if still inactive: a concurrent reactivation with other
    // settings is not overwritten.
    let reactivated = Entity::update_many()
        .col_expr(Column::Active, true.into())
        .col_expr(
            Column::CreditFacadeUrl,
            settings.credit_facade_url.clone().into(),
        )
        .col_expr(Column::ExtraSubject, settings.extra_subject.clone().into())
        .col_expr(
            Column::CreditFacadeCredentials,
            settings.credit_facade_credentials.clone().into(),
        )
        .filter(Column::AccountSerial.eq(existing.account_serial))
        .filter(Column::Active.eq(false))
        .exec(db)
        .await?
        .rows_affected
        > 0;
    Ok(if reactivated || same {
        AddOutcome::Added(Account {
            active: true,
            credit_facade_url: settings.credit_facade_url,
            credit_facade_credentials: settings.credit_facade_credentials,
            extra_subject: settings.extra_subject,
            ..existing
        })
    } else {
        AddOutcome::Conflict
    })
}

/// Every account of the instance, active or not, by serial.
pub async fn list(db: &impl ConnectionTrait, instance_serial: i64) -> Result<Vec<Account>, DbErr> {
    Entity::find()
        .filter(Column::InstanceSerial.eq(instance_serial))
        .order_by_asc(Column::AccountSerial)
        .all(db)
        .await
}

pub async fn find(
    db: &impl ConnectionTrait,
    instance_serial: i64,
    h_wire: &str,
) -> Result<Option<Account>, DbErr> {
    Entity::find()
        .filter(Column::InstanceSerial.eq(instance_serial))
        .filter(Column::HWire.eq(h_wire))
        .one(db)
        .await
}

/// Deactivates an active account; false when the instance has no such active account.
pub async fn deactivate(
    db: &impl ConnectionTrait,
    instance_serial: i64,
    h_wire: &str,
) -> Result<bool, DbErr> {
    Ok(Entity::update_many()
        .col_expr(Column::Active, false.into())
        .filter(Column::InstanceSerial.eq(instance_serial))
        .filter(Column::HWire.eq(h_wire))
        .filter(Column::Active.eq(true))
        .exec(db)
        .await?
        .rows_affected
        > 0)
}
