//! Bearer tokens of merchant instances, stored as SHA-256 digests.

use entities::merchant_tokens::{ActiveModel, Column, Entity, Model};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};

pub struct NewToken {
    pub instance_serial: i64,
    pub token_hash: Vec<u8>,
    pub scope: String,
    pub created_at: i64,
    pub expiration: i64,
    pub description: Option<String>,
}

pub async fn insert(db: &impl ConnectionTrait, new: NewToken) -> Result<(), DbErr> {
    ActiveModel {
        instance_serial: Set(new.instance_serial),
        token_hash: Set(new.token_hash),
        scope: Set(new.scope),
        created_at: Set(new.created_at),
        expiration: Set(new.expiration),
        description: Set(new.description),
        ..Default::default()
    }
    .insert(db)
    .await
    .map(|_| ())
}

pub async fn find_by_hash(db: &impl ConnectionTrait, hash: &[u8]) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::TokenHash.eq(hash.to_vec()))
        .one(db)
        .await
}

/// Revokes one token; false when it was not there.
pub async fn delete_by_hash(db: &impl ConnectionTrait, hash: &[u8]) -> Result<bool, DbErr> {
    let res = Entity::delete_many()
        .filter(Column::TokenHash.eq(hash.to_vec()))
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}

pub async fn delete_all_of_instance(
    db: &impl ConnectionTrait,
    instance_serial: i64,
) -> Result<(), DbErr> {
    Entity::delete_many()
        .filter(Column::InstanceSerial.eq(instance_serial))
        .exec(db)
        .await
        .map(|_| ())
}

/// One page of the instance's tokens, in serial order.
pub async fn list(
    db: &impl ConnectionTrait,
    instance_serial: i64,
    page: crate::taler::pagination::Page,
) -> Result<Vec<Model>, DbErr> {
    let query = Entity::find();
    super::paged_within(
        query,
        Column::InstanceSerial,
        instance_serial,
        Column::TokenSerial,
        page,
    )
    .all(db)
    .await
}

/// Revokes the instance's token `token_serial`; false when the instance has none such.
pub async fn delete_by_serial(
    db: &impl ConnectionTrait,
    instance_serial: i64,
    token_serial: i64,
) -> Result<bool, DbErr> {
    let res = Entity::delete_many()
        .filter(Column::InstanceSerial.eq(instance_serial))
        .filter(Column::TokenSerial.eq(token_serial))
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}
