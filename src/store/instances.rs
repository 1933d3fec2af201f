//! Merchant instances.

use entities::merchant_instances::{self, ActiveModel, Column, Entity};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};

pub type Instance = merchant_instances::Model;

/// What creating an instance came to.
pub enum CreateOutcome {
    Created,
    AlreadyExists,
    /// The id belongs to a deleted instance that was not purged.
    PurgeRequired,
}

pub struct NewInstance {
    pub instance_id: String,
    pub name: String,
    pub password_hash: String,
    pub merchant_pub: String,
    pub merchant_priv: Vec<u8>,
    pub settings: String,
}

pub async fn create(db: &impl ConnectionTrait, new: NewInstance) -> Result<CreateOutcome, DbErr> {
    let id = new.instance_id.clone();
    let row = ActiveModel {
        instance_id: Set(new.instance_id),
        name: Set(new.name),
        password_hash: Set(new.password_hash),
        merchant_pub: Set(new.merchant_pub),
        merchant_priv: Set(new.merchant_priv),
        settings: Set(new.settings),
        deleted: Set(false),
        ..Default::default()
    };
    match row.insert(db).await {
        Ok(_) => Ok(CreateOutcome::Created),
        Err(err) if super::is_unique_violation(&err) => {
            let existing = Entity::find()
                .filter(Column::InstanceId.eq(id))
                .one(db)
                .await?;
            Ok(match existing {
                Some(i) if i.deleted => CreateOutcome::PurgeRequired,
                _ => CreateOutcome::AlreadyExists,
            })
        }
        Err(err) => Err(err),
    }
}

/// The instance with this id, unless deleted.
pub async fn find_active(
    db: &impl ConnectionTrait,
    instance_id: &str,
) -> Result<Option<Instance>, DbErr> {
    Entity::find()
        .filter(Column::InstanceId.eq(instance_id))
        .filter(Column::Deleted.eq(false))
        .one(db)
        .await
}

/// The instance with this id, deleted or not.
pub async fn find_any(
    db: &impl ConnectionTrait,
    instance_id: &str,
) -> Result<Option<Instance>, DbErr> {
    Entity::find()
        .filter(Column::InstanceId.eq(instance_id))
        .one(db)
        .await
}

/// The instance with this serial, deleted or not.
pub async fn find_by_serial(
    db: &impl ConnectionTrait,
    instance_serial: i64,
) -> Result<Option<Instance>, DbErr> {
    Entity::find_by_id(instance_serial).one(db).await
}

/// Every instance, deleted ones included.
pub async fn list_all(db: &impl ConnectionTrait) -> Result<Vec<Instance>, DbErr> {
    Entity::find()
        .order_by_asc(Column::InstanceSerial)
        .all(db)
        .await
}

/// Replaces the name and settings of an instance that is not deleted; false when there
/// is none (the caller says why: unknown, or deleted meanwhile).
pub async fn update(
    db: &impl ConnectionTrait,
    instance_id: &str,
    name: String,
    settings: String,
) -> Result<bool, DbErr> {
    let result = Entity::update_many()
        .col_expr(Column::Name, name.into())
        .col_expr(Column::Settings, settings.into())
        .filter(Column::InstanceId.eq(instance_id))
        .filter(Column::Deleted.eq(false))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// Replaces the password digest (or the external-authentication mark) of an instance
/// that is not deleted; false when there is none.
pub async fn set_password_hash(
    db: &impl ConnectionTrait,
    instance_id: &str,
    password_hash: String,
) -> Result<bool, DbErr> {
    let result = Entity::update_many()
        .col_expr(Column::PasswordHash, password_hash.into())
        .filter(Column::InstanceId.eq(instance_id))
        .filter(Column::Deleted.eq(false))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

pub enum DeleteOutcome {
    Deleted,
    Unknown,
}

/// Deletes an instance: `purge` removes it with everything it owns; otherwise it is
/// only marked deleted (its tokens revoked) and its id stays taken until purged.
pub async fn delete(
    db: &impl ConnectionTrait,
    instance_id: &str,
    purge: bool,
) -> Result<DeleteOutcome, DbErr> {
    let found = Entity::find()
        .filter(Column::InstanceId.eq(instance_id))
        .one(db)
        .await?;
    let Some(instance) = found else {
        return Ok(DeleteOutcome::Unknown);
    };
    if purge {
        super::reports::delete_all_of_instance(db, instance.instance_serial).await?;
        Entity::delete_by_id(instance.instance_serial)
            .exec(db)
            .await?;
        return Ok(DeleteOutcome::Deleted);
    }
    if instance.deleted {
        return Ok(DeleteOutcome::Unknown);
    }
    super::tokens::delete_all_of_instance(db, instance.instance_serial).await?;
    // A deleted instance sends no more reports.
    super::reports::delete_all_of_instance(db, instance.instance_serial).await?;
    let mut row: ActiveModel = instance.into();
    row.deleted = Set(true);
    row.update(db).await?;
    Ok(DeleteOutcome::Deleted)
}

/// Creates the default instance on first start; its password is random and unused,
/// since the administrator token opens it.
pub async fn ensure_exists(db: &impl ConnectionTrait, new: NewInstance) -> Result<(), DbErr> {
    match create(db, new).await? {
        CreateOutcome::Created | CreateOutcome::AlreadyExists | CreateOutcome::PurgeRequired => {
            Ok(())
        }
    }
}
