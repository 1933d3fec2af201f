//! The part of Mustache that webhook templates use, as the reference backend's
//! (mustach) does: `{{name}}` inserts a value HTML-escaped, `{{{name}}}` and
//! `{{&name}}` insert it as it is; `name` may be a dotted path into objects (`a.b.c`)
//! and `.` is the whole data. A string is inserted without quotes, any other JSON
//! value as its JSON text, an absent one as nothing. Sections (`{{#...}}`) and
//! partials are not supported: their tags are left out, so the text around them stays.

use serde_json::Value;

/// `template` with its tags replaced by values from `data`.
pub fn expand(template: &str, data: &Value) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let (raw, close, inner_start) = if after.starts_with('{') {
            (true, "}}}", 1)
        } else {
            (false, "}}", 0)
        };
        let Some(end) = after[inner_start..].find(close) else {
            // An unclosed tag is text.
            out.push_str(&rest[start..]);
            return out;
        };
        let tag = after[inner_start..inner_start + end].trim();
        rest = &after[inner_start + end + close.len()..];
        let (raw, name) = match tag.strip_prefix('&') {
            Some(name) => (true, name.trim()),
            None => (raw, tag),
        };
        if name.starts_with(['#', '^', '/', '!', '>', '=']) {
            continue;
        }
        let text = match lookup(data, name) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        };
        if raw {
            out.push_str(&text);
        } else {
            crate::taler::html::escape_into(&mut out, &text);
        }
    }
    out.push_str(rest);
    out
}

fn lookup<'a>(data: &'a Value, name: &str) -> Option<&'a Value> {
    if name == "." {
        return Some(data);
    }
    name.split('.').try_fold(data, |v, key| v.get(key))
}

#[cfg(test)]
mod tests {
    use super::expand;
    use serde_json::json;

    #[test]
    fn expands_names_paths_and_raw_values() {
        let data = json!({
            "order_id": "A<1>",
            "contract_terms": { "amount": "KUDOS:4", "products": [] },
            "n": 3,
        });
        assert_eq!(expand("id={{order_id}}", &data), "id=A&lt;1&gt;");
        assert_eq!(expand("id={{{order_id}}}", &data), "id=A<1>");
        assert_eq!(expand("id={{& order_id }}", &data), "id=A<1>");
        assert_eq!(
            expand("{{contract_terms.amount}}/{{n}}", &data),
            "KUDOS:4/3"
        );
        assert_eq!(
            expand(r#"{"terms":{{{contract_terms}}}}"#, &data),
            r#"{"terms":{"amount":"KUDOS:4","products":[]}}"#
        );
        assert_eq!(expand("[{{missing}}]", &data), "[]");
        assert_eq!(expand("{{#section}}x{{/section}}", &data), "x");
        assert_eq!(expand("open {{order_id", &data), "open {{order_id");
    }
}
