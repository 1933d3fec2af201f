//! OTP devices of merchant instances.

use entities::{
    merchant_otp_devices::{self, ActiveModel, Column, Entity},
    merchant_templates,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set, TransactionTrait,
};

use super::{CreateOutcome, is_foreign_key_violation, is_unique_violation};

pub type OtpDevice = merchant_otp_devices::Model;

/// A device's settings, as posted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtpSettings {
    pub description: String,
    pub key: String,
    pub algorithm: i32,
    pub ctr: Option<i64>,
}

impl OtpSettings {
    fn of(row: &OtpDevice) -> OtpSettings {
        OtpSettings {
            description: row.otp_description.clone(),
            key: row.otp_key.clone(),
            algorithm: row.otp_algorithm,
            ctr: row.otp_ctr,
        }
    }
}

pub async fn create(
    db: &impl ConnectionTrait,
    instance_serial: i64,
    otp_id: String,
    settings: OtpSettings,
) -> Result<CreateOutcome, DbErr> {
    let row = ActiveModel {
        instance_serial: Set(instance_serial),
        otp_id: Set(otp_id.clone()),
        otp_description: Set(settings.description.clone()),
        otp_key: Set(settings.key.clone()),
        otp_algorithm: Set(settings.algorithm),
        otp_ctr: Set(settings.ctr),
        ..Default::default()
    };
    match row.insert(db).await {
        Ok(_) => Ok(CreateOutcome::Created),
        Err(err) if is_unique_violation(&err) => {
            Ok(match find(db, instance_serial, &otp_id).await? {
                Some(existing) if OtpSettings::of(&existing) == settings => CreateOutcome::Created,
                _ => CreateOutcome::Conflict,
            })
        }
        Err(err) => Err(err),
    }
}

pub async fn list(
    db: &impl ConnectionTrait,
    instance_serial: i64,
) -> Result<Vec<OtpDevice>, DbErr> {
    Entity::find()
        .filter(Column::InstanceSerial.eq(instance_serial))
        .order_by_asc(Column::OtpId)
        .all(db)
        .await
}

pub async fn find(
    db: &impl ConnectionTrait,
    instance_serial: i64,
    otp_id: &str,
) -> Result<Option<OtpDevice>, DbErr> {
    Entity::find()
        .filter(Column::InstanceSerial.eq(instance_serial))
        .filter(Column::OtpId.eq(otp_id))
        .one(db)
        .await
}

/// The device with the instance and the presented token's row, in one query (for an
/// authorized read; see `store::access`).
pub async fn find_with_access(
    db: &impl ConnectionTrait,
    instance_id: &str,
    token_hash: Option<&[u8]>,
    otp_id: &str,
) -> Result<Option<super::access::Found<OtpDevice>>, DbErr> {
    super::access::fetch::<Entity>(
        db,
        instance_id,
        token_hash,
        Column::InstanceSerial,
        Column::OtpId,
        otp_id,
        |_| {},
    )
    .await
}

pub async fn find_by_serial(
    db: &impl ConnectionTrait,
    otp_serial: i64,
) -> Result<Option<OtpDevice>, DbErr> {
    Entity::find_by_id(otp_serial).one(db).await
}

/// `otp_key: None` keeps the stored key. False when the device is unknown.
pub async fn update(
    db: &impl ConnectionTrait,
    instance_serial: i64,
    otp_id: &str,
    description: String,
    key: Option<String>,
    algorithm: i32,
    ctr: Option<i64>,
) -> Result<bool, DbErr> {
    let mut update = Entity::update_many()
        .col_expr(Column::OtpDescription, description.into())
        .col_expr(Column::OtpAlgorithm, algorithm.into())
        .col_expr(Column::OtpCtr, ctr.into());
    if let Some(key) = key {
        update = update.col_expr(Column::OtpKey, key.into());
    }
    let result = update
        .filter(Column::InstanceSerial.eq(instance_serial))
        .filter(Column::OtpId.eq(otp_id))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// Deletes a device; templates that used it keep working without one (their `otp_id`
/// becomes absent), in the same transaction. False when the device is unknown.
pub async fn delete(
    db: &sea_orm::DatabaseConnection,
    instance_serial: i64,
    otp_id: &str,
) -> Result<bool, DbErr> {
    // A template that starts using the device between the two statements makes the
    // foreign key refuse the delete: detach again.
    for _ in 0..3 {
        let txn = db.begin().await?;
        let filter = sea_orm::Condition::all()
            .add(Column::InstanceSerial.eq(instance_serial))
            .add(Column::OtpId.eq(otp_id));
        if super::write_first::<Entity>(&txn, Column::OtpDescription, filter).await? == 0 {
            return Ok(false);
        }
        let Some(device) = find(&txn, instance_serial, otp_id).await? else {
            return Ok(false);
        };
        merchant_templates::Entity::update_many()
            .col_expr(
                merchant_templates::Column::OtpSerial,
                sea_orm::sea_query::Expr::value(Option::<i64>::None),
            )
            .filter(merchant_templates::Column::OtpSerial.eq(device.otp_serial))
            .exec(&txn)
            .await?;
        match Entity::delete_by_id(device.otp_serial).exec(&txn).await {
            Ok(r) => {
                txn.commit().await?;
                return Ok(r.rows_affected > 0);
            }
            Err(err) if is_foreign_key_violation(&err) => continue,
            Err(err) => return Err(err),
        }
    }
    Err(DbErr::Custom(
        "OTP device kept being attached to new templates".to_owned(),
    ))
}
