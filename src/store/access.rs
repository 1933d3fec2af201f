//! One round trip for an authorized read: the instance (by id, not deleted), the
//! presented token's row (by digest) and the object (by its key within the instance),
//! joined in one query. Nothing is cached, so a revoked token, a deleted instance or a
//! changed object is seen at once, on every server.

use std::any::TypeId;

use entities::{merchant_instances, merchant_tokens};
use sea_orm::{
    ConnectionTrait, DbErr, EntityTrait, FromQueryResult, Iden, IdenStatic, Iterable, QueryResult,
    Statement, Value,
    sea_query::{Alias, Expr, ExprTrait, JoinType, Query, SelectStatement},
};

use super::shape;
use entities::merchant_instances::Model as Instance;

/// The token row's parts the authorization needs.
pub struct TokenRow {
    pub scope: String,
    pub expiration: i64,
}

/// What one query found. `row` holds any extra columns the caller asked for.
pub struct Found<M> {
    pub instance: Instance,
    pub token: Option<TokenRow>,
    pub object: Option<M>,
    pub row: QueryResult,
}

const INSTANCE: &str = "i";
const TOKEN: &str = "t";
/// The object's table alias, for callers adding joins.
pub const OBJECT: &str = "o";

pub fn col(table: &str, column: impl Iden + 'static) -> Expr {
    Expr::col((Alias::new(table), column))
}

/// `q` built for `db` with its page size written into the SQL, not bound: SQLite plans
/// with a bound `LIMIT`'s value, so a statement with `LIMIT ?` is prepared anew on
/// every run (13% of a Revenue history page, by callgrind). The size is a validated
/// number (at most 1024) and clients keep to one, so the statement cache still hits.
pub fn build_with_limit(db: &impl ConnectionTrait, q: &SelectStatement, limit: u64) -> Statement {
    let mut statement = db.get_database_backend().build(q);
    statement.sql.push_str(&format!(" LIMIT {limit}"));
    statement
}

/// Selects every column of `E` (as `alias`) named `{prefix}{column}`, which
/// `E::Model::from_query_result(row, prefix)` reads back.
pub fn select_prefixed<E: EntityTrait>(q: &mut SelectStatement, alias: &str, prefix: &str)
where
    E::Column: Iden + 'static,
{
    for c in E::Column::iter() {
        q.expr_as(col(alias, c), Alias::new(format!("{prefix}{}", c.as_str())));
    }
}

/// Finds instance `instance_id`, the token with digest `token_hash` (if given) and the
/// object of `E` whose `key` column equals `key_value` in that instance (its instance
/// column is `instance_column`). `extra` may join more and select more into the row;
/// it runs only when the statement's shape is first built (see [`shape`]), so it must
/// capture nothing.
/// `None` when the instance is unknown or deleted.
pub async fn fetch<E: EntityTrait>(
    db: &impl ConnectionTrait,
    instance_id: &str,
    token_hash: Option<&[u8]>,
    instance_column: E::Column,
    key: E::Column,
    key_value: impl Into<Value>,
    extra: impl FnOnce(&mut SelectStatement) + 'static,
) -> Result<Option<Found<E::Model>>, DbErr>
where
    E::Column: Iden + 'static,
{
    // `extra` runs only when the shape is built: a closure without captures (zero
    // sized), whose type names the call site; the columns make sure of it.
    assert_eq!(size_of_val(&extra), 0, "`extra` captures nothing");
    let site = (type_of(&extra), instance_column.as_str(), key.as_str());
    let backend = db.get_database_backend();
    let mut values = vec![Value::from(instance_id), key_value.into()];
    values.extend(token_hash.map(|h| Value::from(h.to_vec())));
    let statement = shape::statement(backend, site, token_hash.is_some().into(), values, |v| {
        let mut q = instance_and_token(v[0].clone(), v.get(2).cloned());
        select_prefixed::<E>(&mut q, OBJECT, "o_");
        q.join_as(
            JoinType::LeftJoin,
            E::default(),
            Alias::new(OBJECT),
            col(OBJECT, instance_column)
                .equals((
                    Alias::new(INSTANCE),
                    merchant_instances::Column::InstanceSerial,
                ))
                .and(col(OBJECT, key).eq(v[1].clone())),
        );
        extra(&mut q);
        backend.build(&q)
    });
    let Some(row) = db.query_one_raw(statement).await? else {
        return Ok(None);
    };
    let (instance, token) = read_instance_and_token(&row, token_hash.is_some())?;
    let object = E::Model::from_query_result_optional(&row, "o_")?;
    Ok(Some(Found {
        instance,
        token,
        object,
        row,
    }))
}

fn type_of<T: 'static>(_: &T) -> TypeId {
    TypeId::of::<T>()
}

/// The select of instance `instance_id` (not deleted) with the token of digest
/// `token_hash`, if given: the start of every joined read.
fn instance_and_token(instance_id: Value, token_hash: Option<Value>) -> SelectStatement {
    let mut q = Query::select();
    select_prefixed::<merchant_instances::Entity>(&mut q, INSTANCE, "i_");
    q.from_as(merchant_instances::Entity, Alias::new(INSTANCE))
        .and_where(col(INSTANCE, merchant_instances::Column::InstanceId).eq(instance_id))
        .and_where(col(INSTANCE, merchant_instances::Column::Deleted).eq(false));
    if let Some(hash) = token_hash {
        q.expr_as(
            col(TOKEN, merchant_tokens::Column::Scope),
            Alias::new("t_scope"),
        )
        .expr_as(
            col(TOKEN, merchant_tokens::Column::Expiration),
            Alias::new("t_expiration"),
        )
        .join_as(
            JoinType::LeftJoin,
            merchant_tokens::Entity,
            Alias::new(TOKEN),
            col(TOKEN, merchant_tokens::Column::TokenHash).eq(hash).and(
                col(TOKEN, merchant_tokens::Column::InstanceSerial).equals((
                    Alias::new(INSTANCE),
                    merchant_instances::Column::InstanceSerial,
                )),
            ),
        );
    }
    q
}

fn read_instance_and_token(
    row: &QueryResult,
    with_token: bool,
) -> Result<(Instance, Option<TokenRow>), DbErr> {
    let instance = Instance::from_query_result(row, "i_")?;
    let token = match with_token {
        false => None,
        true => match row.try_get::<Option<String>>("", "t_scope")? {
            Some(scope) => Some(TokenRow {
                scope,
                expiration: row.try_get::<i64>("", "t_expiration")?,
            }),
            None => None,
        },
    };
    Ok((instance, token))
}

/// Instance `instance_id` (not deleted) and the token of digest `token_hash`: one
/// query, for operations on the instance as a whole (lists, creates, changes).
pub async fn instance_with_token(
    db: &impl ConnectionTrait,
    instance_id: &str,
    token_hash: &[u8],
) -> Result<Option<(Instance, Option<TokenRow>)>, DbErr> {
    let backend = db.get_database_backend();
    let site = (TypeId::of::<merchant_tokens::Entity>(), "instance", "token");
    let values = vec![Value::from(instance_id), Value::from(token_hash.to_vec())];
    let statement = shape::statement(backend, site, 0, values, |v| {
        backend.build(&instance_and_token(v[0].clone(), Some(v[1].clone())))
    });
    match db.query_one_raw(statement).await? {
        Some(row) => read_instance_and_token(&row, true).map(Some),
        None => Ok(None),
    }
}

/// A LEFT JOIN of `E` (as `alias`) on `on_column` = the object's `object_column`, with
/// `E`'s `column` selected as `x_{column}`: for `extra`.
pub fn join_extra<E: EntityTrait>(
    q: &mut SelectStatement,
    alias: &str,
    on_column: E::Column,
    object_column: impl Iden + 'static,
    column: E::Column,
) where
    E::Column: Iden + 'static,
{
    q.expr_as(
        col(alias, column),
        Alias::new(format!("x_{}", column.as_str())),
    )
    .join_as(
        JoinType::LeftJoin,
        E::default(),
        Alias::new(alias),
        col(alias, on_column).equals((Alias::new(OBJECT), object_column)),
    );
}
