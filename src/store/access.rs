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

/// `statement` with its bound `LIMIT` (the value `count`, the statement's only
/// unsigned value) written into the SQL instead, and the later `$n` renumbered: for a
/// `LIMIT` inside a subquery, where [`build_with_limit`] cannot append it. PostgreSQL
/// plans a prepared statement whose `LIMIT` is a parameter for every run (it cannot
/// estimate a generic plan's rows), which cost a Revenue page more than running it;
/// with the size in the SQL it settles on one plan. The size is part of the shape.
/// Every `LIMIT` of the statement (a page merged from several walks has one per walk).
pub fn inline_limit(mut statement: Statement, count: u64) -> Statement {
    loop {
        let bound = statement.values.as_ref().map_or(0, |v| v.0.len());
        statement = inline_one_limit(statement, count);
        if statement.values.as_ref().map_or(0, |v| v.0.len()) == bound {
            return statement;
        }
    }
}

fn inline_one_limit(mut statement: Statement, count: u64) -> Statement {
    let mut values = statement.values.take().map(|v| v.0).unwrap_or_default();
    let Some(at) = values
        .iter()
        .position(|v| *v == Value::BigUnsigned(Some(count)))
    else {
        statement.values = Some(sea_orm::Values(values));
        return statement;
    };
    let place = at + 1;
    assert!(
        statement.sql.contains(&format!("LIMIT ${place}")),
        "the unsigned value is the LIMIT"
    );
    values.remove(at);
    let mut sql = String::with_capacity(statement.sql.len());
    let mut rest = statement.sql.as_str();
    while let Some(dollar) = rest.find('$') {
        sql.push_str(&rest[..dollar]);
        let digits = rest[dollar + 1..]
            .find(|c: char| !c.is_ascii_digit())
            .map_or(rest.len() - dollar - 1, |n| n);
        match rest[dollar + 1..dollar + 1 + digits].parse::<usize>() {
            Ok(n) if n == place => sql.push_str(&count.to_string()),
            Ok(n) if n > place => sql.push_str(&format!("${}", n - 1)),
            _ => sql.push_str(&rest[dollar..dollar + 1 + digits]),
        }
        rest = &rest[dollar + 1 + digits..];
    }
    sql.push_str(rest);
    statement.sql = sql;
    statement.values = Some(sea_orm::Values(values));
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

/// What lets an authorized insert through inside its own statement: the part of the
/// authorization the caller decides before the query (the token's prefix, whether it is
/// the configured administrator token), and what the stored token must have (a scope
/// among `scopes`, not expired at `now_s`). It must never let through what the
/// service's check refuses (a test tries every refusal).
pub struct Gate {
    /// The presented token carries the `secret-token:` prefix.
    pub prefixed: bool,
    /// It is the configured administrator token, presented on the `admin` instance.
    pub administrator: bool,
    /// The `password_hash` of an instance that leaves authentication to a proxy.
    pub external: &'static str,
    /// The permission asked for: with the entity, it fixes `scopes` (and the SQL).
    pub permission: &'static str,
    /// The stored scopes that grant `permission`.
    pub scopes: Vec<&'static str>,
    /// Seconds since the epoch: a token expiring at or before this is expired.
    pub now_s: i64,
}

/// One row to insert into `E` for an instance: its columns (besides the instance
/// column) and their values (strings, integers or bytes), and the key it returns.
pub struct Insert<E: EntityTrait> {
    pub instance_column: E::Column,
    pub columns: Vec<E::Column>,
    pub values: Vec<Value>,
    pub key: E::Column,
}

impl<E: EntityTrait> Clone for Insert<E> {
    fn clone(&self) -> Self {
        Insert {
            instance_column: self.instance_column,
            columns: self.columns.clone(),
            values: self.values.clone(),
            key: self.key,
        }
    }
}

/// The insert, if instance `instance_id` exists and `gate` lets the presented token
/// (by digest) through: one statement on PostgreSQL, an `INSERT ... SELECT` from the
/// instance joined with the token, where the authorization and then the insert would
/// be two round trips. The new row's key; `None` when nothing was written: the
/// instance is unknown, the gate refused, or the row clashed with a unique index
/// (`ON CONFLICT DO NOTHING`); the caller's ordinary check then says which.
/// PostgreSQL only.
pub async fn insert_authorized<E: EntityTrait>(
    db: &impl ConnectionTrait,
    instance_id: &str,
    token_hash: &[u8],
    gate: &Gate,
    insert: Insert<E>,
) -> Result<Option<i64>, DbErr>
where
    E::Column: Iden + 'static,
{
    use merchant_instances::Column as I;
    use merchant_tokens::Column as T;
    let backend = db.get_database_backend();
    let site = (TypeId::of::<E>(), gate.permission, "insert_authorized");
    let mut values = vec![
        Value::from(instance_id),
        Value::from(token_hash.to_vec()),
        Value::from(gate.external),
        Value::from(i64::from(gate.prefixed)),
        Value::from(i64::from(gate.administrator)),
        Value::from(gate.now_s),
    ];
    values.extend(insert.values);
    let statement = shape::statement(backend, site, 0, values, |v| {
        let scopes = gate
            .scopes
            .iter()
            .map(|s| format!("'{s}'"))
            .collect::<Vec<_>>()
            .join(", ");
        let columns = insert
            .columns
            .iter()
            .map(|c| format!("\"{}\"", c.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        let given = (7..=v.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        // `auth::access_of` and `require` as SQL: an instance leaving authentication to
        // a proxy; else a prefixed token that is the administrator's, or a stored one
        // of this instance, unexpired (a negative expiration is never), granting it.
        let sql = format!(
            "INSERT INTO \"{table}\" (\"{instance_column}\", {columns}) \
             SELECT i.\"{serial}\", {given} FROM \"{instances}\" AS i \
             LEFT JOIN \"{tokens}\" AS t ON t.\"{hash}\" = $2 AND t.\"{t_serial}\" = i.\"{serial}\" \
             WHERE i.\"{id}\" = $1 AND NOT i.\"{deleted}\" \
             AND (i.\"{password}\" = $3 OR ($4 = 1 AND ($5 = 1 \
             OR (t.\"{scope}\" IN ({scopes}) AND (t.\"{expiration}\" > $6 OR t.\"{expiration}\" < 0))))) \
             ON CONFLICT DO NOTHING RETURNING \"{key}\"",
            table = E::default().table_name(),
            instance_column = insert.instance_column.as_str(),
            instances = sea_orm::EntityName::table_name(&merchant_instances::Entity),
            tokens = sea_orm::EntityName::table_name(&merchant_tokens::Entity),
            serial = I::InstanceSerial.as_str(),
            t_serial = T::InstanceSerial.as_str(),
            hash = T::TokenHash.as_str(),
            id = I::InstanceId.as_str(),
            deleted = I::Deleted.as_str(),
            password = I::PasswordHash.as_str(),
            scope = T::Scope.as_str(),
            expiration = T::Expiration.as_str(),
            key = insert.key.as_str(),
        );
        Statement::from_sql_and_values(backend, sql, v)
    });
    match db.query_one_raw(statement).await? {
        Some(row) => Ok(Some(row.try_get_by_index(0)?)),
        None => Ok(None),
    }
}

/// The insert of [`insert_authorized`] on its own, for an instance already authorized
/// (SQLite, where a statement is no network round trip): the new row's key, or `None`
/// when it clashed with a unique index and nothing was written.
pub async fn insert_plain<E: EntityTrait>(
    db: &impl ConnectionTrait,
    instance_serial: i64,
    insert: Insert<E>,
) -> Result<Option<i64>, DbErr>
where
    E::Column: Iden + 'static,
{
    let backend = db.get_database_backend();
    let site = (TypeId::of::<E>(), "insert", "plain");
    let mut values = vec![Value::from(instance_serial)];
    values.extend(insert.values);
    let statement = shape::statement(backend, site, 0, values, |v| {
        let columns = std::iter::once(insert.instance_column)
            .chain(insert.columns.iter().copied())
            .map(|c| format!("\"{}\"", c.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        let places = match backend {
            sea_orm::DatabaseBackend::Postgres => {
                (1..=v.len()).map(|i| format!("${i}")).collect::<Vec<_>>()
            }
            _ => vec!["?".to_owned(); v.len()],
        };
        let sql = format!(
            "INSERT INTO \"{table}\" ({columns}) VALUES ({places}) \
             ON CONFLICT DO NOTHING RETURNING \"{key}\"",
            table = E::default().table_name(),
            places = places.join(", "),
            key = insert.key.as_str(),
        );
        Statement::from_sql_and_values(backend, sql, v)
    });
    match db.query_one_raw(statement).await? {
        Some(row) => Ok(Some(row.try_get_by_index(0)?)),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bound_limit_is_written_into_the_sql_and_later_places_renumbered() {
        let statement = Statement::from_sql_and_values(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT (SELECT x FROM t WHERE a = $1 LIMIT $2) FROM u WHERE b = $3 OR b = $3",
            [Value::from(7i64), Value::from(20u64), Value::from("x")],
        );
        let inlined = inline_limit(statement, 20);
        assert_eq!(
            inlined.sql,
            "SELECT (SELECT x FROM t WHERE a = $1 LIMIT 20) FROM u WHERE b = $2 OR b = $2"
        );
        assert_eq!(
            inlined.values.unwrap().0,
            vec![Value::from(7i64), Value::from("x")]
        );
    }
}
