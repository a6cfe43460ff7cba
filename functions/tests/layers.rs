//! The modules of `functions` form layers, never a cycle, and its areas depend on each other in
//! one direction only (`docs/architecture.md`, "Architecture invariant" lines):
//!
//! - `edge` is a leaf: it knows no handler, no area, not the route table;
//! - `runtime` knows the edge and no function by name;
//! - a handler area (`auth`, `account`, `social`, `provider`, `admin`, `console`, `discovery`) knows
//!   the edge and itself, never another area (the OpenAPI handler reads the route table: the one
//!   exception, below);
//! - the `dashboard` is a client of the handler areas (it parses forms with their parsers) and
//!   the edge;
//! - `events` (the authorizer, the mailer, the purge) know the edge and the route table (the
//!   authorizer matches a request to its route);
//! - `routes` (the table) knows every handler and the runtime; `entry` knows the table, the runtime
//!   and `events`; nothing knows `entry`.

#[path = "../../shared/tests/support/modules.rs"]
mod modules;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    modules::graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
}

const HANDLER_AREAS: [&str; 7] = ["auth", "account", "social", "provider", "admin", "console", "discovery"];

/// The areas each area may use, beyond itself.
fn allowed(area: &str) -> Vec<&'static str> {
    match area {
        "edge" => vec![],
        "runtime" => vec!["edge"],
        a if HANDLER_AREAS.contains(&a) => vec!["edge"],
        "dashboard" => [&["edge"][..], &HANDLER_AREAS[..]].concat(),
        "events" => vec!["edge", "routes"],
        "routes" => [&["edge", "runtime", "dashboard"][..], &HANDLER_AREAS[..]].concat(),
        "entry" => vec!["routes", "runtime", "events"],
        other => panic!("{other} is no area of functions: add it to docs/architecture.md and here"),
    }
}

/// The one edge against the layers: the OpenAPI document is rendered from the route table, the one
/// place an endpoint is declared, and the table serves that document like any other route.
const EXCEPTIONS: [(&str, &str); 1] = [("discovery::openapi", "routes")];

#[test]
fn the_modules_of_functions_have_no_cycle() {
    let graph = graph();
    assert!(
        graph.get("provider::logout_confirm").is_some_and(|u| u.contains("provider::pages")),
        "the graph was read"
    );
    if let Some(cycle) = modules::cycle(&graph) {
        panic!("module cycle: {cycle}");
    }
}

#[test]
fn areas_depend_on_each_other_in_the_allowed_direction_only() {
    let mut wrong = Vec::new();
    for (module, uses) in graph() {
        let area = modules::area(&module);
        let allowed = allowed(area);
        for used in &uses {
            let to = modules::area(used);
            if to != area && !allowed.contains(&to) && !EXCEPTIONS.contains(&(module.as_str(), used.as_str()))
            {
                wrong.push(format!("{module} uses {used}: {area} may use only {allowed:?}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Architecture invariant: every handler module lives in an area folder; the crate's root holds
/// only the table, the runtime and the entries.
#[test]
fn no_handler_module_outside_an_area_folder() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let top: BTreeSet<String> = std::fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    let expected: BTreeSet<String> = ["lib", "routes", "runtime", "entry"].map(String::from).into();
    assert_eq!(top, expected, "only the table, the runtime and the entries sit at the root of functions/src");
}
