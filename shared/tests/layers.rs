//! The modules of `shared` form layers, never a cycle: plain data (ids, settings, model ...) at the
//! bottom, the AWS clients above it, `App` above them and the flows on top. A module that reaches
//! back up (the store asking for `App`, the configuration for a flow's type) would tie them all
//! into one knot again; this test names the cycle it finds. Submodules count as themselves
//! (`oauth::grants` and `oauth::token` are two modules), so a cycle inside a folder is found too.

#[path = "support/modules.rs"]
mod modules;

use std::path::Path;

fn graph() -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    modules::graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
}

#[test]
fn the_modules_of_shared_have_no_cycle() {
    let graph = graph();
    assert!(graph.get("store::users").is_some_and(|uses| uses.contains("model")), "the graph was read");
    assert!(
        graph.get("oauth::grants").is_some_and(|uses| uses.contains("oauth::protocol")),
        "submodules count"
    );
    if let Some(cycle) = modules::cycle(&graph) {
        panic!("module cycle: {cycle}");
    }
}

/// Architecture invariant: `shared` knows nothing of HTTP or of Lambda; the functions do. Its
/// flows answer in domain outcomes and `shared::Error`, which the edge renders.
#[test]
fn shared_knows_nothing_of_http_or_lambda() {
    let manifest = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    for crate_name in ["lambda_http", "lambda_runtime", "aws_lambda_events"] {
        assert!(!manifest.contains(crate_name), "shared depends on {crate_name}");
    }
}

/// Architecture invariant: the store is below the flows: no store module mentions `App`, a flow,
/// or the tenant type built from it.
#[test]
fn the_store_knows_no_flow() {
    let graph = graph();
    let flows =
        ["app", "accounts", "recovery", "sessions", "social", "oauth", "admin", "console", "api_keys", "mfa"];
    for (module, uses) in graph.iter().filter(|(m, _)| modules::area(m) == "store") {
        for used in uses {
            assert!(!flows.contains(&modules::area(used)), "{module} reaches up to {used}");
        }
    }
}
