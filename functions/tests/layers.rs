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

const HANDLER_AREAS: [&str; 8] =
    ["auth", "account", "social", "provider", "admin", "console", "discovery", "mfa"];

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

/// Architecture invariant: no source file grows past its seams; at 700 lines it is split.
#[test]
fn no_source_file_is_longer_than_700_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut long = Vec::new();
    for crate_src in ["functions/src", "shared/src"] {
        let mut files = Vec::new();
        rust_files(&root.join(crate_src), &mut files);
        for file in files {
            let lines = std::fs::read_to_string(&file).unwrap().lines().count();
            if lines > 700 {
                long.push(format!("{} has {lines} lines", file.strip_prefix(root).unwrap().display()));
            }
        }
    }
    assert!(long.is_empty(), "{}", long.join("\n"));
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every "Architecture invariant:" line of `docs/architecture.md` names the test that holds it, as
/// (`<file>`, `<test>`), and that test exists in that file: an invariant nobody checks is a wish.
#[test]
fn every_architecture_invariant_names_a_test_that_holds_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let map = std::fs::read_to_string(root.join("docs/architecture.md")).unwrap();
    let paragraphs: Vec<String> = map.split("\n\n").map(|p| p.replace('\n', " ")).collect();
    let invariants: Vec<&String> =
        paragraphs.iter().filter(|p| p.starts_with("**Architecture invariant:**")).collect();
    assert!(invariants.len() >= 6, "docs/architecture.md states its invariants");
    for invariant in invariants {
        let held = invariant
            .split("(`")
            .skip(1)
            .find_map(|tail| {
                let (file, rest) = tail.split_once("`, `")?;
                let (test, _) = rest.split_once("`)")?;
                Some((file.to_owned(), test.to_owned()))
            })
            .unwrap_or_else(|| panic!("names no (`file`, `test`): {invariant}"));
        let source =
            std::fs::read_to_string(root.join(&held.0)).unwrap_or_else(|_| panic!("no file {}", held.0));
        assert!(
            source.contains(&format!("fn {}()", held.1)),
            "{} has no test {}: {invariant}",
            held.0,
            held.1
        );
    }
}
