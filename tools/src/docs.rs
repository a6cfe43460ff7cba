//! The documentation's links, checked offline: every relative link of `README.md` and of the book
//! in `docs/` names a file that exists and, with a `#fragment`, a heading of that file; the book's
//! links stay inside `docs/` (mdBook publishes only that folder); every `{{#include}}` names a
//! file and an anchor that exist; every chapter is in `SUMMARY.md`.
//!
//! Written here rather than taken from `mdbook-linkcheck`: that preprocessor follows mdBook's
//! releases at its own pace (it pins the `mdbook` crate it is built against) and links an HTTP
//! client in for the external links, which CI cannot reach; what the book needs is this offline
//! check of relative links and anchors.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

/// What is wrong with the links of the README and the book under `root`, one line each.
pub fn check(root: &Path) -> Vec<String> {
    let docs = root.join("docs");
    let mut problems = Vec::new();
    let mut chapters: Vec<PathBuf> = std::fs::read_dir(&docs)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    chapters.retain(|p| p.extension().is_some_and(|e| e == "md"));
    chapters.sort();
    if chapters.is_empty() {
        problems.push(format!("{}: no chapters", docs.display()));
    }
    for file in chapters.iter().chain(std::iter::once(&root.join("README.md"))) {
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(e) => {
                problems.push(format!("{}: {e}", file.display()));
                continue;
            }
        };
        let in_book = file.starts_with(&docs);
        let name = file.strip_prefix(root).unwrap_or(file).display().to_string();
        for target in links(&text) {
            if let Some(problem) = check_link(&docs, file, in_book, &target) {
                problems.push(format!("{name}: link `{target}`: {problem}"));
            }
        }
        for (path, anchor) in includes(&text) {
            let included = file.parent().unwrap_or(root).join(&path);
            match std::fs::read_to_string(&included) {
                Err(_) => problems.push(format!("{name}: include `{path}`: no such file")),
                Ok(body) if !anchor.is_empty() && !body.contains(&format!("ANCHOR: {anchor}")) => {
                    problems.push(format!("{name}: include `{path}:{anchor}`: no such anchor"))
                }
                Ok(_) => {}
            }
        }
    }
    let summary = std::fs::read_to_string(docs.join("SUMMARY.md")).unwrap_or_default();
    let listed: BTreeSet<String> = links(&summary).into_iter().collect();
    for chapter in &chapters {
        let file = chapter.file_name().unwrap_or_default().to_string_lossy().into_owned();
        if file != "SUMMARY.md" && !listed.contains(&file) {
            problems.push(format!("docs/{file}: not in docs/SUMMARY.md, so the book leaves it out"));
        }
    }
    problems
}

fn check_link(docs: &Path, file: &Path, in_book: bool, target: &str) -> Option<String> {
    if target.contains("://") || target.starts_with("mailto:") {
        return None;
    }
    let (path, fragment) = target.split_once('#').unwrap_or((target, ""));
    let resolved = if path.is_empty() { file.to_path_buf() } else { normalise(&file.parent()?.join(path)) };
    if in_book && !resolved.starts_with(docs) {
        return Some("leaves docs/, which is all the book publishes".into());
    }
    if !resolved.exists() {
        return Some("no such file".into());
    }
    if fragment.is_empty() {
        return None;
    }
    if resolved.extension().is_none_or(|e| e != "md") {
        return Some("a fragment of a file that has no headings".into());
    }
    let text = std::fs::read_to_string(&resolved).ok()?;
    if headings(&text).contains(fragment) { None } else { Some(format!("no heading #{fragment}")) }
}

/// `a/../b` → `b`, so that a link is compared with the book's folder by its real place.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The targets of the Markdown links and images of `text`, outside code.
pub fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in prose(text) {
        let mut rest = line.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            let target = after[..end].split_whitespace().next().unwrap_or_default();
            if !target.is_empty() {
                out.push(target.to_owned());
            }
            rest = &after[end..];
        }
    }
    out
}

/// The `{{#include path:anchor}}` directives of `text`, as (path, anchor).
fn includes(text: &str) -> Vec<(String, String)> {
    text.match_indices("{{#include ")
        .filter_map(|(at, m)| {
            let body = &text[at + m.len()..];
            let body = body[..body.find("}}")?].trim();
            let (path, anchor) = body.split_once(':').unwrap_or((body, ""));
            Some((path.to_owned(), anchor.to_owned()))
        })
        .collect()
}

/// The lines of `text` outside fenced code blocks, with their inline code spans removed.
fn prose(text: &str) -> Vec<String> {
    let mut fenced = false;
    let mut out = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            out.push(line.split('`').step_by(2).collect::<Vec<_>>().join(" "));
        }
    }
    out
}

/// The fragment ids mdBook gives the headings of `text`: lowercased, spaces as `-`, only
/// alphanumerics, `-` and `_` kept; a repeated id gets `-1`, `-2`, ...
pub fn headings(text: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced || !line.starts_with('#') {
            continue;
        }
        let title = line.trim_start_matches('#').trim();
        let base = slug(title);
        let mut id = base.clone();
        let mut n = 1;
        while ids.contains(&id) {
            id = format!("{base}-{n}");
            n += 1;
        }
        ids.insert(id);
    }
    ids
}

/// mdBook's `normalize_id`, applied to a heading's text (inline code keeps its words).
pub fn slug(title: &str) -> String {
    title
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                Some(c.to_ascii_lowercase())
            } else if c.is_whitespace() {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_heading_gets_the_id_mdbook_gives_it() {
        assert_eq!(
            slug("The wave-2 security review: what changed"),
            "the-wave-2-security-review-what-changed"
        );
        assert_eq!(slug("`make dev` and `make test`"), "make-dev-and-make-test");
        let ids = headings("# Tests\n## Goals\n```\n# not a heading\n```\n## Goals\n");
        assert_eq!(ids, ["goals", "goals-1", "tests"].map(String::from).into());
    }

    #[test]
    fn links_are_read_from_prose_not_from_code() {
        let text =
            "See [Apps](apps.md#settings) and ![x](a.png \"t\"), not `[y](y.md)`.\n```\n[no](link.md)\n```\n";
        assert_eq!(links(text), ["apps.md#settings", "a.png"]);
    }

    #[test]
    fn a_missing_file_a_missing_heading_and_a_link_out_of_the_book_are_reported() {
        let root = std::env::temp_dir().join(format!("docs-check-{}", std::process::id()));
        std::fs::create_dir_all(root.join("docs")).unwrap();
        std::fs::write(root.join("README.md"), "[ok](docs/a.md#one) [gone](docs/b.md)\n").unwrap();
        std::fs::write(root.join("docs/SUMMARY.md"), "- [A](a.md)\n").unwrap();
        std::fs::write(
            root.join("docs/a.md"),
            "# One\n[up](../README.md) [no](a.md#two) {{#include ../README.md:x}}\n",
        )
        .unwrap();
        std::fs::write(root.join("docs/orphan.md"), "# Orphan\n").unwrap();
        let problems = check(&root);
        std::fs::remove_dir_all(&root).unwrap();
        let expected = [
            "docs/a.md: link `../README.md`: leaves docs/, which is all the book publishes",
            "docs/a.md: link `a.md#two`: no heading #two",
            "docs/a.md: include `../README.md:x`: no such anchor",
            "README.md: link `docs/b.md`: no such file",
            "docs/orphan.md: not in docs/SUMMARY.md, so the book leaves it out",
        ];
        assert_eq!(problems, expected);
    }
}
