//! Statements whose SQL is built once per shape.
//!
//! sea-query spent more building the statement of an authorized read (a fifth of its
//! CPU, by callgrind) than SQLite spends running it, and the text never changes from
//! one request to the next: only the values do. A [`Shape`] is a statement's SQL with
//! the places of its values, learnt by building the statement once with marker values
//! (each value replaced by a marker of its type that no client sends).

use std::{
    any::TypeId,
    collections::HashMap,
    sync::{Arc, OnceLock, RwLock},
};

use sea_orm::{DatabaseBackend, Statement, Value};

/// Where a statement is built: a type and two names that, with the variant, fix its
/// SQL (an entity and the columns it is looked up by, say).
pub type Site = (TypeId, &'static str, &'static str);

/// A statement's SQL and, for each of its bound values, where the value comes from.
struct Shape {
    sql: String,
    slots: Vec<Slot>,
}

enum Slot {
    /// The caller's value with this index.
    Given(usize),
    /// A value the statement always binds (`deleted = false`, ...).
    Fixed(Value),
}

/// A site, a variant and an engine (by number: `DatabaseBackend` is not `Hash`).
type Key = (Site, u64, u8);

/// The shapes built so far: one per site and variant. Bounded: the variants are
/// bounded (a Revenue page's size is at most 1,024, so its shapes are at most 4,096).
type Shapes = RwLock<HashMap<Key, Arc<Shape>>>;

fn shapes() -> &'static Shapes {
    static SHAPES: OnceLock<Shapes> = OnceLock::new();
    SHAPES.get_or_init(Default::default)
}

/// The marker for the value with index `i`, or `None` for a type without markers.
fn marker(i: usize, value: &Value) -> Option<Value> {
    let text = || format!("\u{1}taler-openapi marker {i}\u{1}");
    match value {
        Value::String(_) => Some(Value::String(Some(text()))),
        Value::Bytes(_) => Some(Value::Bytes(Some(text().into_bytes()))),
        Value::BigInt(_) => Some(Value::BigInt(Some(i64::MIN + 0x7a1e_0000 + i as i64))),
        _ => None,
    }
}

/// The statement `build` makes of `values`, from the shape of `site` and `variant`
/// (anything else that changes the SQL: whether a token is presented, a page's
/// size) on `backend`. `build` must bind every value it is given and write none into
/// the SQL; values of a type without markers are built for each call.
pub fn statement(
    backend: DatabaseBackend,
    site: Site,
    variant: u64,
    values: Vec<Value>,
    build: impl FnOnce(Vec<Value>) -> Statement,
) -> Statement {
    let engine = match backend {
        DatabaseBackend::Sqlite => 0,
        DatabaseBackend::Postgres => 1,
        _ => 2,
    };
    let key = (site, variant, engine);
    let cached = shapes()
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(&key)
        .cloned();
    if let Some(shape) = cached {
        return shape.fill(backend, values);
    }
    let Some(markers) = values
        .iter()
        .enumerate()
        .map(|(i, v)| marker(i, v))
        .collect::<Option<Vec<Value>>>()
    else {
        return build(values);
    };
    let marked = build(markers.clone());
    let slots: Vec<Slot> = marked
        .values
        .map(|v| v.0)
        .unwrap_or_default()
        .into_iter()
        .map(|v| match markers.iter().position(|m| *m == v) {
            Some(i) => Slot::Given(i),
            None => Slot::Fixed(v),
        })
        .collect();
    let every_value_bound =
        (0..markers.len()).all(|i| slots.iter().any(|s| matches!(s, Slot::Given(j) if *j == i)));
    assert!(
        every_value_bound && !marked.sql.contains("taler-openapi marker"),
        "a cached statement binds every value it is given"
    );
    let shape = Arc::new(Shape {
        sql: marked.sql,
        slots,
    });
    shapes()
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, shape.clone());
    shape.fill(backend, values)
}

impl Shape {
    fn fill(&self, backend: DatabaseBackend, values: Vec<Value>) -> Statement {
        let bound: Vec<Value> = self
            .slots
            .iter()
            .map(|slot| match slot {
                Slot::Given(i) => values[*i].clone(),
                Slot::Fixed(v) => v.clone(),
            })
            .collect();
        Statement::from_sql_and_values(backend, self.sql.clone(), bound)
    }
}

#[cfg(test)]
mod tests {
    use entities::merchant_money_pots as pots;
    use sea_orm::{
        ColumnTrait, EntityTrait, QueryFilter, QueryTrait,
        sea_query::{Expr, ExprTrait},
    };

    use super::*;

    /// A statement from a cached shape is the statement sea-query builds for the
    /// values, a value used twice included.
    #[test]
    fn cached_shapes_bind_the_values_sea_query_binds() {
        let build = |backend: DatabaseBackend| {
            move |v: Vec<Value>| {
                pots::Entity::find()
                    .filter(pots::Column::PotName.eq(v[0].clone()))
                    .filter(pots::Column::Description.eq(v[0].clone()))
                    .filter(pots::Column::PotSerial.eq(v[1].clone()))
                    .filter(Expr::col(pots::Column::PotTotals).eq(""))
                    .build(backend)
            }
        };
        let site = (TypeId::of::<pots::Entity>(), "test", "test");
        for backend in [DatabaseBackend::Sqlite, DatabaseBackend::Postgres] {
            for (name, serial) in [("tips", 7i64), ("jar", 9)] {
                let values = vec![Value::from(name), Value::from(serial)];
                let cached = statement(backend, site, 0, values.clone(), build(backend));
                let direct = build(backend)(values);
                assert_eq!(cached.sql, direct.sql);
                assert_eq!(cached.values, direct.values);
            }
        }
    }
}
