//! The modules of `shared` form layers, never a cycle: plain data (ids, settings, model ...) at the
//! bottom, the AWS clients above it, `App` above them and the flows on top. A module that reaches
//! back up (the store asking for `App`, the configuration for a flow's type) would tie them all
//! into one knot again; this test names the cycle it finds.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module → the `crate::<module>` paths its files mention (a submodule counts as its parent).
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut visit = |module: String, path: &Path| {
        let text = std::fs::read_to_string(path).unwrap();
        let uses = graph.entry(module.clone()).or_default();
        for (i, _) in text.match_indices("crate::") {
            let name: String =
                text[i + 7..].chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
            if !name.is_empty() && name != module {
                uses.insert(name);
            }
        }
    };
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            for file in std::fs::read_dir(&path).unwrap() {
                visit(name.clone(), &file.unwrap().path());
            }
        } else if name != "lib" {
            visit(name, &path);
        }
    }
    graph
}

#[test]
fn the_modules_of_shared_have_no_cycle() {
    let graph = graph();
    // Depth-first search with the path so far: a module met again on its own path is a cycle.
    fn walk<'a>(
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        module: &'a str,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) {
        if let Some(at) = path.iter().position(|m| *m == module) {
            panic!("module cycle: {} -> {module}", path[at..].join(" -> "));
        }
        if !done.insert(module) {
            return;
        }
        path.push(module);
        for next in graph.get(module).into_iter().flatten() {
            walk(graph, next, path, done);
        }
        path.pop();
    }
    let mut done = BTreeSet::new();
    for module in graph.keys() {
        walk(&graph, module, &mut Vec::new(), &mut done);
    }
    assert!(graph.contains_key("store") && graph["store"].contains("model"), "the graph was read");
}
