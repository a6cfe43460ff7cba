//! The module graph of a crate, read from its sources: which module mentions which (`crate::a::b`,
//! `super::x`), submodules as themselves. Shared by the layers tests of `shared` and `functions`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module path (`store::users`) → the modules it mentions. A mention of one's own module or of an
/// ancestor (a child's `use super::Store`) is no edge: a parent is its children's facade.
pub fn graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    collect(src, src, &mut files);
    let modules: BTreeSet<String> = files.iter().map(|(m, _)| m.clone()).filter(|m| !m.is_empty()).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, path) in &files {
        if module.is_empty() {
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap();
        let uses = graph.entry(module.clone()).or_default();
        let is_mod_file = path.file_name().is_some_and(|n| n == "mod.rs");
        let parent = parent_of(module, is_mod_file);
        for (prefix, base) in [("crate::", String::new()), ("super::", parent)] {
            for (i, _) in text.match_indices(prefix) {
                // `crate::` inside `$crate::` or another path is not ours.
                if text[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '$' || c == ':') {
                    continue;
                }
                let after = &text[i + prefix.len()..];
                for path in paths(after) {
                    let found = resolve(&modules, &base, &path);
                    if !found.is_empty() && !is_self_or_ancestor(&found, module) {
                        uses.insert(found);
                    }
                }
            }
        }
    }
    graph
}

/// The paths a mention starting at `text` names: `a::b` names one, `a::{b, c::d}` names `a::b`
/// and `a::c::d` (groups nest).
fn paths(text: &str) -> Vec<String> {
    let head: String = text
        .chars()
        .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == ':')
        .collect();
    let rest = &text[head.len()..];
    if !head.ends_with("::") || !rest.starts_with('{') {
        return vec![head];
    }
    let mut depth = 0;
    let mut end = rest.len();
    for (at, c) in rest.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    end = at;
                    break;
                }
            }
            _ => {}
        }
    }
    let inner = &rest[1..end];
    let mut items = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (at, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&inner[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    items.push(&inner[start..]);
    items
        .into_iter()
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .flat_map(|item| paths(item).into_iter().map(|p| format!("{head}{p}")).collect::<Vec<_>>())
        .chain(std::iter::once(head.clone()))
        .collect()
}

/// The longest module of `modules` that `path`, read from `base`, names.
fn resolve(modules: &BTreeSet<String>, base: &str, path: &str) -> String {
    let mut target = base.to_owned();
    let mut found = base.to_owned();
    for segment in path.split("::").filter(|s| !s.is_empty()) {
        target = if target.is_empty() { segment.to_owned() } else { format!("{target}::{segment}") };
        if modules.contains(&target) {
            found = target.clone();
        } else {
            break;
        }
    }
    found
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, std::path::PathBuf)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "bin") {
                continue;
            }
            collect(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let relative = path.strip_prefix(root).unwrap().with_extension("");
            let mut parts: Vec<String> =
                relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
            if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
                parts.pop();
            }
            out.push((parts.join("::"), path));
        }
    }
}

/// The module `super` names in a file of `module`.
fn parent_of(module: &str, _is_mod_file: bool) -> String {
    module.rsplit_once("::").map(|(p, _)| p.to_owned()).unwrap_or_default()
}

fn is_self_or_ancestor(target: &str, module: &str) -> bool {
    module == target || module.starts_with(&format!("{target}::"))
}

/// The first cycle in `graph`, as the path that closes it.
pub fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<String> {
    fn walk<'a>(
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        module: &'a str,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<String> {
        if let Some(at) = path.iter().position(|m| *m == module) {
            return Some(format!("{} -> {module}", path[at..].join(" -> ")));
        }
        if !done.insert(module) {
            return None;
        }
        path.push(module);
        for next in graph.get(module).into_iter().flatten() {
            if let Some(found) = walk(graph, next, path, done) {
                return Some(found);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|module| walk(graph, module, &mut Vec::new(), &mut done))
}

/// The top-level module (area) of a module path.
pub fn area(module: &str) -> &str {
    module.split("::").next().unwrap_or(module)
}
