//! Templates of merchant instances.

use entities::merchant_templates::{self, ActiveModel, Column, Entity};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};

use super::{CreateOutcome, is_foreign_key_violation, is_unique_violation, otp_devices};

pub type Template = merchant_templates::Model;

/// A template's settings: `template_contract` and `editable_defaults` as JSON text.
#[derive(Debug, Clone)]
pub struct TemplateSettings {
    pub description: String,
    pub otp_id: Option<String>,
    pub contract: String,
    pub editable_defaults: Option<String>,
}

pub enum SaveOutcome {
    Saved(CreateOutcome),
    /// The template to modify does not exist.
    Unknown,
    /// `otp_id` names no device of the instance.
    OtpUnknown,
}

/// The device serial `otp_id` names; `Err(())` if it names none.
async fn otp_serial(
    db: &impl ConnectionTrait,
    instance_serial: i64,
    otp_id: Option<&str>,
) -> Result<Result<Option<i64>, ()>, DbErr> {
    let Some(otp_id) = otp_id else {
        return Ok(Ok(None));
    };
    Ok(otp_devices::find(db, instance_serial, otp_id)
        .await?
        .map(|d| Some(d.otp_serial))
        .ok_or(()))
}

fn json_equal(a: Option<&str>, b: Option<&str>) -> bool {
    let parse = |s: Option<&str>| s.map(|s| serde_json::from_str::<serde_json::Value>(s).ok());
    parse(a) == parse(b)
}

/// Stores a new template; the same template posted again is not a conflict.
pub async fn create(
    db: &impl ConnectionTrait,
    instance_serial: i64,
    template_id: String,
    settings: TemplateSettings,
) -> Result<SaveOutcome, DbErr> {
    let Ok(otp) = otp_serial(db, instance_serial, settings.otp_id.as_deref()).await? else {
        return Ok(SaveOutcome::OtpUnknown);
    };
    let row = ActiveModel {
        instance_serial: Set(instance_serial),
        template_id: Set(template_id.clone()),
        template_description: Set(settings.description.clone()),
        otp_serial: Set(otp),
        template_contract: Set(settings.contract.clone()),
        editable_defaults: Set(settings.editable_defaults.clone()),
        ..Default::default()
    };
    match row.insert(db).await {
        Ok(_) => Ok(SaveOutcome::Saved(CreateOutcome::Created)),
        // The device was deleted since we looked it up.
        Err(err) if is_foreign_key_violation(&err) => Ok(SaveOutcome::OtpUnknown),
        Err(err) if is_unique_violation(&err) => {
            let same = match find(db, instance_serial, &template_id).await? {
                Some((t, otp_id)) => {
                    t.template_description == settings.description
                        && otp_id == settings.otp_id
                        && json_equal(Some(&t.template_contract), Some(&settings.contract))
                        && json_equal(
                            t.editable_defaults.as_deref(),
                            settings.editable_defaults.as_deref(),
                        )
                }
                None => false,
            };
            Ok(SaveOutcome::Saved(if same {
                CreateOutcome::Created
            } else {
                CreateOutcome::Conflict
            }))
        }
        Err(err) => Err(err),
    }
}

/// Replaces a template's settings.
pub async fn update(
    db: &impl ConnectionTrait,
    instance_serial: i64,
    template_id: &str,
    settings: TemplateSettings,
) -> Result<SaveOutcome, DbErr> {
    let Ok(otp) = otp_serial(db, instance_serial, settings.otp_id.as_deref()).await? else {
        return Ok(SaveOutcome::OtpUnknown);
    };
    let result = Entity::update_many()
        .col_expr(Column::TemplateDescription, settings.description.into())
        .col_expr(Column::OtpSerial, otp.into())
        .col_expr(Column::TemplateContract, settings.contract.into())
        .col_expr(Column::EditableDefaults, settings.editable_defaults.into())
        .filter(Column::InstanceSerial.eq(instance_serial))
        .filter(Column::TemplateId.eq(template_id))
        .exec(db)
        .await;
    match result {
        Ok(r) if r.rows_affected > 0 => Ok(SaveOutcome::Saved(CreateOutcome::Created)),
        Ok(_) => Ok(SaveOutcome::Unknown),
        Err(err) if is_foreign_key_violation(&err) => Ok(SaveOutcome::OtpUnknown),
        Err(err) => Err(err),
    }
}

pub async fn list(db: &impl ConnectionTrait, instance_serial: i64) -> Result<Vec<Template>, DbErr> {
    Entity::find()
        .filter(Column::InstanceSerial.eq(instance_serial))
        .order_by_asc(Column::TemplateId)
        .all(db)
        .await
}

/// The template and the id of its OTP device, if any.
pub async fn find(
    db: &impl ConnectionTrait,
    instance_serial: i64,
    template_id: &str,
) -> Result<Option<(Template, Option<String>)>, DbErr> {
    let Some(template) = Entity::find()
        .filter(Column::InstanceSerial.eq(instance_serial))
        .filter(Column::TemplateId.eq(template_id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let otp_id = match template.otp_serial {
        Some(serial) => otp_devices::find_by_serial(db, serial)
            .await?
            .map(|d| d.otp_id),
        None => None,
    };
    Ok(Some((template, otp_id)))
}

/// The template and its OTP device's id with the instance and the presented token's
/// row (if any), in one query (see `store::access`).
pub async fn find_with_access(
    db: &impl ConnectionTrait,
    instance_id: &str,
    token_hash: Option<&[u8]>,
    template_id: &str,
) -> Result<Option<super::access::Found<Template>>, DbErr> {
    use entities::merchant_otp_devices as devices;
    super::access::fetch::<Entity>(
        db,
        instance_id,
        token_hash,
        Column::InstanceSerial,
        Column::TemplateId,
        template_id,
        |q| {
            super::access::join_extra::<devices::Entity>(
                q,
                "d",
                devices::Column::OtpSerial,
                Column::OtpSerial,
                devices::Column::OtpId,
            )
        },
    )
    .await
}

/// The OTP device id [`find_with_access`] selected.
pub fn otp_id_of(row: &sea_orm::QueryResult) -> Result<Option<String>, DbErr> {
    row.try_get("", "x_otp_id")
}

pub async fn delete(
    db: &impl ConnectionTrait,
    instance_serial: i64,
    template_id: &str,
) -> Result<bool, DbErr> {
    let result = Entity::delete_many()
        .filter(Column::InstanceSerial.eq(instance_serial))
        .filter(Column::TemplateId.eq(template_id))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}
