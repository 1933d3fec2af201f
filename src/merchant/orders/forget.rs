//! Forgetting fields of contract terms: the paths of
//! `PATCH [/instances/$INSTANCE]/private/orders/$ORDER_ID/forget` and their application.

use serde_json::Value;

use crate::taler::contract;

/// `$.a.b[1].c` / `$.products[*].image`: the steps of a forget path. `None` when the
/// path is malformed or does not end with a field.
pub fn parse_forget_path(path: &str) -> Option<Vec<PathStep>> {
    let rest = path.strip_prefix("$.")?;
    let mut steps = Vec::new();
    for part in rest.split('.') {
        let (name, indices) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return None;
        }
        steps.push(PathStep::Field(name.to_owned()));
        let mut indices = indices;
        while !indices.is_empty() {
            let close = indices.find(']')?;
            let inner = indices.get(1..close)?;
            steps.push(match inner {
                "*" => PathStep::All,
                n if !n.is_empty() && n.len() <= 6 && n.bytes().all(|b| b.is_ascii_digit()) => {
                    PathStep::Index(n.parse().ok()?)
                }
                _ => return None,
            });
            indices = &indices[close + 1..];
        }
    }
    matches!(steps.last(), Some(PathStep::Field(_))).then_some(steps)
}

#[derive(Debug, Clone, PartialEq)]
pub enum PathStep {
    Field(String),
    Index(usize),
    All,
}

/// Forgets every field `steps` reaches in `value`. Fields that do not exist are
/// ignored; `Err` names one that is not forgettable.
pub fn forget_path(
    value: &mut Value,
    steps: &[PathStep],
    forgot_now: &mut bool,
) -> Result<(), String> {
    let Some((step, rest)) = steps.split_first() else {
        return Ok(());
    };
    match step {
        PathStep::Field(name) if rest.is_empty() => {
            let Value::Object(object) = value else {
                return Ok(());
            };
            let forgotten_before = object
                .get("$forgotten")
                .and_then(|f| f.get(name.as_str()))
                .is_some();
            if forgotten_before {
                return Ok(());
            }
            if !object.contains_key(name.as_str()) {
                return Ok(());
            }
            match contract::forget_field(object, name) {
                Ok(contract::Forgot::Now) => *forgot_now = true,
                Ok(contract::Forgot::Already) => {}
                Err(e) => return Err(format!("{name}: {}", e.0)),
            }
            Ok(())
        }
        PathStep::Field(name) => match value.get_mut(name.as_str()) {
            Some(inner) => forget_path(inner, rest, forgot_now),
            None => Ok(()),
        },
        PathStep::Index(i) => match value.get_mut(*i) {
            Some(inner) => forget_path(inner, rest, forgot_now),
            None => Ok(()),
        },
        PathStep::All => match value {
            Value::Array(items) => items
                .iter_mut()
                .try_for_each(|item| forget_path(item, rest, forgot_now)),
            _ => Ok(()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forget_paths_parse_as_the_page_describes() {
        use PathStep::*;
        assert_eq!(
            parse_forget_path("$.wire_fee"),
            Some(vec![Field("wire_fee".into())])
        );
        assert_eq!(
            parse_forget_path("$.products[1].description"),
            Some(vec![
                Field("products".into()),
                Index(1),
                Field("description".into())
            ])
        );
        assert_eq!(
            parse_forget_path("$.products[*].image"),
            Some(vec![Field("products".into()), All, Field("image".into())])
        );
        for bad in [
            "wire_fee",
            "$.",
            "$.products[1]",
            "$.a[x].b",
            "$.a..b",
            "$.a-b",
            "$.a[*]",
        ] {
            assert_eq!(parse_forget_path(bad), None, "{bad}");
        }
    }
}
