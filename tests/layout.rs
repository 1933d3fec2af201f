//! The layers point down: the edge (`http/`, `serve/`, `longpoll`), the store, the
//! Taler types, the configuration and the shared state import no service and nothing
//! of `lib.rs`, which assembles the services. A change that makes a lower layer reach
//! up fails here, not in review.

mod common;

use std::{fs, path::Path};

/// The lower layers, as paths below `src/`.
const LOWER: &[&str] = &[
    "http",
    "serve",
    "store",
    "taler",
    "longpoll.rs",
    "notifier.rs",
    "config.rs",
    "state.rs",
    "swagger.rs",
];

/// What a lower layer must not name: the services, and what only `lib.rs` defines.
const UPWARD: &[&str] = &[
    "merchant",
    "bank",
    "donau",
    "State",
    "AppState",
    "NoContent",
    "Services",
    "specs",
    "build",
    "start",
    "open_state",
];

/// The first path segments after `crate::` in `text`, groups (`crate::{a, b::c}`)
/// included.
fn crate_roots(text: &str) -> Vec<String> {
    let mut roots = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level items of the group: split at commas outside braces.
            let mut depth = 0;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        roots.push(item.trim().split("::").next().unwrap().to_owned());
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            roots.push(item.trim().split("::").next().unwrap().to_owned());
        } else {
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            roots.push(rest[..end].to_owned());
        }
    }
    roots
        .into_iter()
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
        .collect()
}

#[test]
fn lower_layers_import_no_service_and_nothing_of_lib() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files: Vec<_> = LOWER
        .iter()
        .flat_map(|layer| common::rust_files(&src.join(layer)))
        .collect();
    assert!(files.len() > 20, "the lower layers were not found");
    let mut upward = Vec::new();
    for file in files {
        let text = fs::read_to_string(&file).unwrap();
        // Comments may name anything.
        let code: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        for root in crate_roots(&code) {
            if UPWARD.contains(&root.as_str()) {
                upward.push(format!(
                    "{}: crate::{root}",
                    file.strip_prefix(&src).unwrap().display()
                ));
            }
        }
    }
    assert!(upward.is_empty(), "lower layers reach up: {upward:#?}");
}

#[test]
fn the_check_sees_groups_and_paths() {
    assert_eq!(
        crate_roots("use crate::{State, http::{a, b}, taler::X};\nlet x = crate::bank::y;"),
        ["State", "http", "taler", "bank"]
    );
}
