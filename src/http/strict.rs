//! The string check of [`JsonBody`], walking a value along its published schema.

use std::{
    any::TypeId,
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock},
};

use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef, Registry},
    types::Type,
};
use serde_json::Value;

use crate::taler::limits;

/// The schemas `T` publishes, built once per body type rather than per request.
pub fn registry_of<T: Type + 'static>() -> Arc<Registry> {
    static CACHE: OnceLock<Mutex<HashMap<TypeId, Arc<Registry>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    cache
        .entry(TypeId::of::<T>())
        .or_insert_with(|| {
            let mut registry = Registry::new();
            T::register(&mut registry);
            Arc::new(registry)
        })
        .clone()
}

fn at(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

/// Where and why a body does not fit its published schema.
#[derive(Debug)]
pub struct Violation {
    /// The field's path (`name_i18n.de`, `unit_price[2]`); empty for the body itself.
    pub field: String,
    pub reason: String,
    pub kind: ViolationKind,
}

#[derive(Debug, Clone, Copy)]
pub enum ViolationKind {
    /// A required field that is `null`, which Taler reports as missing.
    Missing,
    /// A value of the wrong JSON type, or `null` for an optional field.
    Shape,
    /// A value of the right type that a length, pattern or bound refuses.
    Constraint,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for Violation {}

fn violation(path: &str, reason: impl std::fmt::Display) -> Violation {
    let shown = if path.is_empty() { "the body" } else { path };
    Violation {
        field: path.to_owned(),
        reason: format!("{shown}: {reason}"),
        kind: ViolationKind::Constraint,
    }
}

/// Whether `text` matches a published `pattern` (compiled once per pattern).
fn matches(pattern: &str, text: &str) -> bool {
    static CACHE: OnceLock<Mutex<HashMap<String, Option<regex::Regex>>>> = OnceLock::new();
    let mut cache = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let regex = cache
        .entry(pattern.to_owned())
        .or_insert_with(|| regex::Regex::new(pattern).ok());
    // A pattern we cannot compile is not ours to enforce; the parser still runs.
    regex.as_ref().is_none_or(|r| r.is_match(text))
}

/// The constraints of one schema on a scalar: length, pattern, bounds.
fn check_scalar(schema: &MetaSchema, value: &Value, path: &str) -> Result<(), Violation> {
    if let Value::String(text) = value {
        let chars = text.chars().count();
        if let Some(min) = schema.min_length.filter(|&min| chars < min) {
            let what = if min == 1 {
                "must not be empty".to_owned()
            } else {
                format!("must have at least {min} characters")
            };
            return Err(violation(path, what));
        }
        let max = schema.max_length.or(schema
            .enum_items
            .is_empty()
            .then_some(limits::MAX_TEXT_CHARS));
        if let Some(max) = max.filter(|&max| chars > max) {
            return Err(violation(
                path,
                format!("must have at most {max} characters"),
            ));
        }
        if let Some(pattern) = schema.pattern.as_deref().filter(|p| !matches(p, text)) {
            let what = if pattern == limits::NOT_BLANK {
                "must not be empty or blank".to_owned()
            } else {
                format!("must match {pattern}")
            };
            return Err(violation(path, what));
        }
    }
    // A `uint64` is published as a non-negative `int64` (`publish_unsigned_bounds`).
    if schema.format == Some("uint64") && value.as_u64().is_some_and(|n| n > i64::MAX as u64) {
        return Err(violation(path, format!("must not be above {}", i64::MAX)));
    }
    if let Some(n) = value.as_f64() {
        if let Some(min) = schema.minimum {
            let exclusive = schema.exclusive_minimum == Some(true);
            if n < min || (exclusive && n == min) {
                return Err(violation(path, format!("must not be below {min}")));
            }
        }
        if let Some(max) = schema.maximum {
            let exclusive = schema.exclusive_maximum == Some(true);
            if n > max || (exclusive && n == max) {
                return Err(violation(path, format!("must not be above {max}")));
            }
        }
    }
    Ok(())
}

/// Removes every `null` that stands for an optional field of `schema`, anywhere in
/// `value`: the reference backends (GNUnet's JSON parser, libeufin's kotlinx) read
/// `"field": null` as the field's absence, and SDKs send it for what they do not set.
/// A `null` for a required field stays, to be refused as missing; a `null` inside a
/// map or an array is a value, not an absent field, and stays too.
pub fn drop_absent_nulls(registry: &Registry, schema: &MetaSchemaRef, value: &mut Value) {
    let schema: &MetaSchema = match schema {
        MetaSchemaRef::Inline(s) => s,
        MetaSchemaRef::Reference(name) => match registry.schemas.get(name) {
            Some(s) => s,
            None => return,
        },
    };
    for part in schema
        .all_of
        .iter()
        .chain(&schema.one_of)
        .chain(&schema.any_of)
    {
        drop_absent_nulls(registry, part, value);
    }
    match value {
        Value::Object(map) => {
            map.retain(|name, v| {
                !(v.is_null()
                    && schema
                        .properties
                        .iter()
                        .any(|(n, _)| n == name && !schema.required.contains(n)))
            });
            for (name, sub) in &schema.properties {
                if let Some(v) = map.get_mut(*name) {
                    drop_absent_nulls(registry, sub, v);
                }
            }
            if let Some(extra) = &schema.additional_properties {
                for (name, v) in map.iter_mut() {
                    if !schema.properties.iter().any(|(n, _)| n == name) {
                        drop_absent_nulls(registry, extra, v);
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(item) = &schema.items {
                items
                    .iter_mut()
                    .for_each(|v| drop_absent_nulls(registry, item, v));
            }
        }
        _ => {}
    }
}

/// Walks `value` along `schema`: strings where the schema says string, no `null`
/// for a field that is present, and every length, pattern and bound the schema
/// publishes. What the schema cannot say is left to the parser and the handler.
///
/// Long on purpose: one arm per kind of schema (reference, string, integer, number,
/// array, object, map, union), each a few lines, read as one table.
pub fn check(
    registry: &Registry,
    schema: &MetaSchemaRef,
    value: &Value,
    path: &str,
) -> Result<(), Violation> {
    // Named string types (`Amount`, `EddsaPublicKey`, ...) have parsers that say
    // precisely what is wrong; the walker checks the constraints of fields.
    let (schema, named): (&MetaSchema, bool) = match schema {
        MetaSchemaRef::Inline(s) => (s, false),
        MetaSchemaRef::Reference(name) => match registry.schemas.get(name) {
            Some(s) => (s, true),
            None => return Ok(()),
        },
    };
    // An absent body is the parser's business (it knows whether one is required).
    if value.is_null() && path.is_empty() {
        return Ok(());
    }
    if value.is_null() && !schema.nullable {
        return Err(Violation {
            kind: ViolationKind::Shape,
            ..violation(path, "must not be null (omit an optional field instead)")
        });
    }
    if schema.ty == "string" && !value.is_string() {
        return Err(Violation {
            kind: ViolationKind::Shape,
            ..violation(path, format!("expected a string, found {value}"))
        });
    }
    if !named {
        check_scalar(schema, value, path)?;
    }
    for part in &schema.all_of {
        check(registry, part, value, path)?;
    }
    // A union: the value must fit one of its members (the parser says which).
    for union in [&schema.one_of, &schema.any_of] {
        if !union.is_empty() {
            let mut first = None;
            for member in union.iter() {
                match check(registry, member, value, path) {
                    Ok(()) => {
                        first = None;
                        break;
                    }
                    Err(e) => {
                        first.get_or_insert(e);
                    }
                }
            }
            if let Some(e) = first {
                return Err(e);
            }
        }
    }
    match value {
        Value::Object(map) => {
            for (name, sub) in &schema.properties {
                if let Some(v) = map.get(*name) {
                    if v.is_null() && schema.required.contains(name) {
                        return Err(Violation {
                            kind: ViolationKind::Missing,
                            ..violation(&at(path, name), "is required, found null")
                        });
                    }
                    check(registry, sub, v, &at(path, name))?;
                }
            }
            let extras = map
                .iter()
                .filter(|(name, _)| !schema.properties.iter().any(|(n, _)| n == name));
            match &schema.additional_properties {
                Some(extra) => {
                    let max = schema.max_properties.unwrap_or(limits::MAX_MAP_ENTRIES);
                    if extras.clone().count() > max {
                        return Err(violation(path, format!("must have at most {max} entries")));
                    }
                    for (name, v) in extras {
                        check_text(name, &at(path, name))?;
                        check(registry, extra, v, &at(path, name))?;
                    }
                }
                // Fields the schema does not name are the parser's to refuse or keep;
                // those kept are bounded like any other value.
                None => {
                    for (name, v) in extras {
                        check_free(v, &at(path, name))?;
                    }
                }
            }
        }
        Value::Array(items) => {
            let max = schema.max_items.unwrap_or(limits::MAX_ITEMS);
            if items.len() > max {
                return Err(violation(path, format!("must have at most {max} items")));
            }
            if let Some(item) = &schema.items {
                for (i, v) in items.iter().enumerate() {
                    check(registry, item, v, &format!("{path}[{i}]"))?;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

fn check_text(text: &str, path: &str) -> Result<(), Violation> {
    if text.chars().count() > limits::MAX_TEXT_CHARS {
        return Err(violation(
            path,
            format!("must have at most {} characters", limits::MAX_TEXT_CHARS),
        ));
    }
    Ok(())
}

/// The default limits on a value no schema describes.
fn check_free(value: &Value, path: &str) -> Result<(), Violation> {
    match value {
        Value::String(text) => check_text(text, path),
        Value::Array(items) if items.len() > limits::MAX_ITEMS => Err(violation(
            path,
            format!("must have at most {} items", limits::MAX_ITEMS),
        )),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| check_free(v, &format!("{path}[{i}]"))),
        Value::Object(map) if map.len() > limits::MAX_MAP_ENTRIES => Err(violation(
            path,
            format!("must have at most {} entries", limits::MAX_MAP_ENTRIES),
        )),
        Value::Object(map) => map.iter().try_for_each(|(k, v)| {
            check_text(k, &at(path, k))?;
            check_free(v, &at(path, k))
        }),
        _ => Ok(()),
    }
}
