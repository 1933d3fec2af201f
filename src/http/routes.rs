//! What a service's spec says about its paths: the methods each allows (405 with
//! `Allow`), and the names and limits of their parameters.

use crate::taler::{ApiError, limits};

/// The paths of a spec: for each, the methods it declares (for the `Allow` header of a
/// 405, RFC 9110), and its path and query parameters (named as the spec names them).
#[derive(Debug, Default)]
pub struct AllowedMethods(Vec<SpecPath>);

#[derive(Debug)]
struct SpecPath {
    segments: Vec<String>,
    methods: String,
    /// The query parameters any of its operations declares.
    query: Vec<String>,
    /// The published maximum of each integer query parameter that has one.
    query_max: Vec<(String, u64)>,
}

impl AllowedMethods {
    pub fn from_spec(spec: &str) -> AllowedMethods {
        let spec: serde_json::Value = serde_json::from_str(spec).unwrap_or_default();
        let mut table = vec![SpecPath {
            segments: vec!["openapi.json".to_owned()],
            methods: "GET".to_owned(),
            query: vec![],
            query_max: vec![],
        }];
        for (path, item) in spec["paths"].as_object().into_iter().flatten() {
            let operations = item.as_object().into_iter().flatten();
            let mut methods: Vec<String> = operations
                .clone()
                .map(|(m, _)| m.to_ascii_uppercase())
                .collect();
            methods.sort();
            let params: Vec<&serde_json::Value> = operations
                .flat_map(|(_, op)| op["parameters"].as_array().into_iter().flatten())
                .filter(|p| p["in"] == "query")
                .collect();
            let mut query: Vec<String> = params
                .iter()
                .filter_map(|p| p["name"].as_str().map(str::to_owned))
                .collect();
            let query_max = params
                .iter()
                .filter(|p| p["schema"]["type"] == "integer")
                .filter_map(|p| {
                    Some((
                        p["name"].as_str()?.to_owned(),
                        p["schema"]["maximum"].as_u64()?,
                    ))
                })
                .collect();
            query.sort();
            query.dedup();
            table.push(SpecPath {
                segments: path
                    .trim_start_matches('/')
                    .split('/')
                    .map(str::to_owned)
                    .collect(),
                methods: methods.join(", "),
                query,
                query_max,
            });
        }
        AllowedMethods(table)
    }

    fn pattern(&self, path: &str) -> Option<&SpecPath> {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        self.0.iter().find(|p| {
            p.segments.len() == segments.len()
                && p.segments
                    .iter()
                    .zip(&segments)
                    .all(|(p, s)| p == s || (p.starts_with('{') && p.ends_with('}')))
        })
    }

    /// A path parameter or declared query parameter that is longer than
    /// [`limits::MAX_TEXT_CHARS`] (as the spec publishes) or holds NUL, or an integer
    /// query parameter above its published maximum, named as the spec names it. Query
    /// parameters no operation declares are ignored, as the operations ignore them.
    pub fn bad_parameter(&self, uri: &poem::http::Uri) -> Option<ApiError> {
        let path = uri.path();
        let spec_path = self.pattern(path)?;
        let refuse = |name: &str, value: &str| {
            let hint = if value.contains('\0') {
                format!("parameter `{name}` must not contain NUL characters")
            } else if value.chars().count() > limits::MAX_TEXT_CHARS {
                format!(
                    "parameter `{name}` must have at most {} characters",
                    limits::MAX_TEXT_CHARS
                )
            } else {
                return None;
            };
            Some(ApiError::malformed(name, hint))
        };
        for (part, segment) in spec_path
            .segments
            .iter()
            .zip(path.trim_start_matches('/').split('/'))
        {
            if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                let value = percent_decode(segment).unwrap_or_else(|| segment.to_owned());
                if let Some(err) = refuse(name, &value) {
                    return Some(err);
                }
            }
        }
        let above_max = |name: &str, value: &str| {
            let (_, max) = spec_path.query_max.iter().find(|(n, _)| n == name)?;
            // Only a well-formed integer is compared; the parser refuses the rest.
            let n: u128 = value.parse().ok()?;
            (n > u128::from(*max)).then(|| {
                ApiError::malformed(name, format!("parameter `{name}` must not be above {max}"))
            })
        };
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .filter(|(k, _)| spec_path.query.iter().any(|q| q == k))
            .find_map(|(k, v)| refuse(&k, &v).or_else(|| above_max(&k, &v)))
    }

    /// The methods of the spec path that `path` matches (`{param}` matches one segment).
    pub fn for_path(&self, path: &str) -> Option<&str> {
        self.pattern(path).map(|p| p.methods.as_str())
    }

    /// The spec's name of path parameter number `index` (poem-openapi reports path
    /// parameters as `param0`, `param1`, ... in the order of the path).
    pub fn parameter_name(&self, path: &str, index: usize) -> Option<&str> {
        self.pattern(path)?
            .segments
            .iter()
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .nth(index)
    }
}

/// A percent-encoded path segment decoded; `None` when it is not UTF-8.
pub fn percent_decode(segment: &str) -> Option<String> {
    // A `%` without two hex digits stays as it is, as RFC 3986 decoders commonly do.
    percent_encoding::percent_decode_str(segment)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}
