//! The edge's check that a body is one JSON value a Taler service can take at face value.

use serde::de::{DeserializeSeed, Deserializer, Error, MapAccess, SeqAccess, Visitor};

/// Nesting deeper than this in a request body is refused (Taler bodies nest a few levels).
pub const MAX_JSON_DEPTH: usize = 32;

struct Check {
    depth: usize,
    path: String,
}

fn shown(path: &str) -> &str {
    if path.is_empty() { "the body" } else { path }
}

impl Check {
    fn child(&self, part: std::fmt::Arguments) -> Check {
        Check {
            depth: self.depth + 1,
            path: format!("{}{part}", self.path),
        }
    }

    fn text<E: Error>(&self, text: &str) -> Result<(), E> {
        if text.contains('\0') {
            return Err(E::custom(format!(
                "{}: must not contain NUL characters",
                shown(&self.path)
            )));
        }
        Ok(())
    }

    fn nest<E: Error>(&self) -> Result<(), E> {
        if self.depth >= MAX_JSON_DEPTH {
            return Err(E::custom(format!(
                "{}: nested more than {MAX_JSON_DEPTH} levels deep",
                shown(&self.path)
            )));
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Check {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Check {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: Error>(self, v: &str) -> Result<(), E> {
        self.text(v)
    }
    fn visit_string<E: Error>(self, v: String) -> Result<(), E> {
        self.text(&v)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.nest()?;
        let mut i = 0usize;
        while seq
            .next_element_seed(self.child(format_args!("[{i}]")))?
            .is_some()
        {
            i += 1;
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.nest()?;
        let mut seen = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let dot = if self.path.is_empty() { "" } else { "." };
            let child = self.child(format_args!("{dot}{key}"));
            child.text::<A::Error>(&key)?;
            if !seen.insert(key) {
                return Err(A::Error::custom(format!(
                    "{}: the key appears twice",
                    child.path
                )));
            }
            map.next_value_seed(child)?;
        }
        Ok(())
    }
}

/// Why `bytes` is not one acceptable JSON value, if it is not.
pub fn check(bytes: &[u8]) -> Result<(), String> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    Check {
        depth: 0,
        path: String::new(),
    }
    .deserialize(&mut de)
    .and_then(|()| de.end())
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn refuses_duplicates_nul_and_depth() {
        assert!(super::check(br#"{"a":[1,{"b":"x"}],"c":null}"#).is_ok());
        let dup = super::check(br#"{"a":1,"a":2}"#).unwrap_err();
        assert!(dup.contains("a: the key appears twice"), "{dup}");
        let nul = super::check(br#"{"a":{"b":"x\u0000"}}"#).unwrap_err();
        assert!(nul.contains("a.b: must not contain NUL"), "{nul}");
        assert!(super::check(br#"{"k\u0000":1}"#).is_err());
        let deep = "[".repeat(40) + &"]".repeat(40);
        assert!(
            super::check(deep.as_bytes())
                .unwrap_err()
                .contains("nested")
        );
        assert!(super::check(b"{} {}").is_err());
    }
}
