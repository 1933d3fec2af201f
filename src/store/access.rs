//! One round trip for an authorized read: the instance (by id, not deleted), the
//! presented token's row (by digest) and the object (by its key within the instance),
//! joined in one query. Nothing is cached, so a revoked token, a deleted instance or a
//! changed object is seen at once, on every server.

use std::{
    any::TypeId,
    sync::{Arc, OnceLock, RwLock},
};

use entities::{merchant_instances, merchant_tokens};
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, FromQueryResult, Iden, IdenStatic,
    Iterable, QueryResult, Statement, Value,
    sea_query::{Alias, Expr, ExprTrait, JoinType, Query, SelectStatement},
};

use super::instances::Instance;

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
/// it runs only when the statement's shape is first built (see [`Shape`]), so it must
/// not depend on anything but the call site (a closure without captures).
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
    // The closure's type names the call site; the columns make sure of it.
    let site = (type_of(&extra), instance_column.as_str(), key.as_str());
    let statement = Shape::statement(
        db.get_database_backend(),
        Some(site),
        instance_id,
        token_hash,
        Some(key_value.into()),
        |instance, token, key_value| {
            let mut q = instance_and_token(instance, token);
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
                    .and(col(OBJECT, key).eq(key_value.unwrap_or(Value::Bool(None)))),
            );
            extra(&mut q);
            q
        },
    );
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

fn type_of<T: 'static>(_: &T) -> TypeId {
    TypeId::of::<T>()
}

/// Where a value of a joined read goes in its statement.
#[derive(Clone)]
enum Slot {
    Instance,
    Token,
    Key,
    Fixed(Value),
}

/// A joined read's SQL with the places of its values, built once per call site, token
/// or not, and engine. sea-query spent more building the statement of an authorized
/// read (a fifth of its CPU, by callgrind) than SQLite spends running it; the text
/// never changes, only the values do. The places are learnt by building the statement
/// once with marker values.
struct Shape {
    sql: String,
    slots: Vec<Slot>,
}

type ShapeKey = (
    Option<(TypeId, &'static str, &'static str)>,
    bool,
    DatabaseBackend,
);

/// The shapes built so far: a few, one per call site.
type Shapes = RwLock<Vec<(ShapeKey, Arc<Shape>)>>;

const INSTANCE_MARK: &str = "\u{1}taler-openapi instance marker";
const TOKEN_MARK: &[u8] = b"\x01taler-openapi token marker";
const KEY_MARK: &str = "\u{1}taler-openapi key marker";
const KEY_MARK_NUMBER: i64 = i64::MIN + 0x7a1e;

impl Shape {
    fn cache() -> &'static Shapes {
        static SHAPES: OnceLock<Shapes> = OnceLock::new();
        SHAPES.get_or_init(Default::default)
    }

    /// The statement `build` makes of these values, from the shape cached under `site`.
    fn statement(
        backend: DatabaseBackend,
        site: Option<(TypeId, &'static str, &'static str)>,
        instance_id: &str,
        token_hash: Option<&[u8]>,
        key_value: Option<Value>,
        build: impl FnOnce(Value, Option<Value>, Option<Value>) -> SelectStatement,
    ) -> Statement {
        let cache_key = (site, token_hash.is_some(), backend);
        let cached = Self::cache()
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|(k, _)| *k == cache_key)
            .map(|(_, shape)| shape.clone());
        if let Some(shape) = cached {
            return shape.fill(backend, instance_id, token_hash, key_value);
        }
        let key_mark = match &key_value {
            None => None,
            Some(Value::String(_)) => Some(Value::String(Some(KEY_MARK.to_owned()))),
            Some(Value::BigInt(_)) => Some(Value::BigInt(Some(KEY_MARK_NUMBER))),
            // A key of another type: built for each read.
            Some(_) => {
                let q = build(
                    instance_id.into(),
                    token_hash.map(|h| h.to_vec().into()),
                    key_value,
                );
                return backend.build(&q);
            }
        };
        let instance_mark = Value::from(INSTANCE_MARK);
        let token_mark = token_hash.map(|_| Value::from(TOKEN_MARK.to_vec()));
        let marked = backend.build(&build(
            instance_mark.clone(),
            token_mark.clone(),
            key_mark.clone(),
        ));
        let slots: Vec<Slot> = marked
            .values
            .map(|v| v.0)
            .unwrap_or_default()
            .into_iter()
            .map(|v| {
                if v == instance_mark {
                    Slot::Instance
                } else if Some(&v) == token_mark.as_ref() {
                    Slot::Token
                } else if Some(&v) == key_mark.as_ref() {
                    Slot::Key
                } else {
                    Slot::Fixed(v)
                }
            })
            .collect();
        let count = |want: fn(&Slot) -> bool| slots.iter().filter(|s| want(s)).count();
        assert!(
            count(|s| matches!(s, Slot::Instance)) == 1
                && count(|s| matches!(s, Slot::Token)) == usize::from(token_hash.is_some())
                && count(|s| matches!(s, Slot::Key)) == usize::from(key_mark.is_some()),
            "every value of a joined read is bound exactly once"
        );
        let shape = Arc::new(Shape {
            sql: marked.sql,
            slots,
        });
        Self::cache()
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push((cache_key, shape.clone()));
        shape.fill(backend, instance_id, token_hash, key_value)
    }

    fn fill(
        &self,
        backend: DatabaseBackend,
        instance_id: &str,
        token_hash: Option<&[u8]>,
        mut key_value: Option<Value>,
    ) -> Statement {
        let values: Vec<Value> = self
            .slots
            .iter()
            .map(|slot| match slot {
                Slot::Instance => Value::from(instance_id),
                Slot::Token => Value::from(token_hash.unwrap_or_default().to_vec()),
                Slot::Key => key_value.take().unwrap_or(Value::Bool(None)),
                Slot::Fixed(v) => v.clone(),
            })
            .collect();
        Statement::from_sql_and_values(backend, self.sql.clone(), values)
    }
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
    let statement = Shape::statement(
        db.get_database_backend(),
        None,
        instance_id,
        Some(token_hash),
        None,
        |i, t, _| instance_and_token(i, t),
    );
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

#[cfg(test)]
mod tests {
    use entities::merchant_money_pots as pots;

    use super::*;

    /// A statement from a cached shape is the statement sea-query builds for the values.
    #[test]
    fn cached_shapes_bind_the_values_sea_query_binds() {
        let build = |i: Value, t: Option<Value>, k: Option<Value>| {
            let mut q = instance_and_token(i, t);
            select_prefixed::<pots::Entity>(&mut q, OBJECT, "o_");
            q.join_as(
                JoinType::LeftJoin,
                pots::Entity,
                Alias::new(OBJECT),
                col(OBJECT, pots::Column::PotSerial).eq(k.unwrap()),
            );
            q
        };
        for backend in [DatabaseBackend::Sqlite, DatabaseBackend::Postgres] {
            for token in [None, Some(&b"hash"[..])] {
                for (instance, key) in [("shop", Value::from(7i64)), ("bar", Value::from(9i64))] {
                    let cached = Shape::statement(
                        backend,
                        Some((TypeId::of::<u8>(), "test", "test")),
                        instance,
                        token,
                        Some(key.clone()),
                        build,
                    );
                    let direct = backend.build(&build(
                        instance.into(),
                        token.map(|t| t.to_vec().into()),
                        Some(key),
                    ));
                    assert_eq!(cached.sql, direct.sql);
                    assert_eq!(cached.values, direct.values);
                }
            }
        }
    }
}
