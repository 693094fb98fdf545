//! The engine's module layers (ARCHITECTURE.md): imports only run downward, and no two
//! top-level modules import each other. Reads the sources and lists every `crate::` path per
//! top-level module; fails on an import of a higher layer or a circle not in [`ALLOWED`].
//! Test modules (`#[cfg(test)] mod ...` to the end of a file) are not part of the graph.
//! At file level, no group of files imports each other, directly or through other files
//! (`no_files_import_each_other`); a `mod.rs` re-exporting a child is not an import of it.
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each top-level module of `spl-engine/src` with its layer, lowest first.
const LAYERS: &[(&str, u8)] = &[
    // base: types, coercion type classes, RE2 translation, JSON scanning, bytes, time zones, budgets
    ("bytes", 0),
    ("views", 0),
    ("types", 0),
    ("timezone", 0),
    ("jsonpath", 0),
    ("regex_seq", 0),
    ("re2", 0),
    ("render", 0),
    ("batch", 0),
    ("codec", 0),
    ("cache", 0),
    ("budget", 0),
    // catalog: scalar and aggregate functions
    ("functions", 1),
    // expressions: lowering, lambdas, evaluation
    ("expr", 2),
    // operators
    ("ops", 3),
    // logical plan and optimizer
    ("plan", 4),
    ("optimize", 4),
    // compiled pipeline
    ("pipeline", 5),
    // executor and host-facing modules
    ("exec", 6),
    ("groups", 6),
    ("pushdown", 6),
    ("conformance", 6),
    ("docs", 6),
    ("trace", 6),
];

/// Known violations (importer, imported): none. An entry would need a reason here, and the test
/// fails when an entry is no longer needed.
const ALLOWED: &[(&str, &str)] = &[];

fn layer(module: &str) -> u8 {
    LAYERS
        .iter()
        .find(|(m, _)| *m == module)
        .map(|(_, l)| *l)
        .unwrap_or_else(|| panic!("module `{module}` has no layer: add it to LAYERS"))
}

/// The top-level module each source file belongs to.
fn top_module(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?.to_string();
    let name = first.trim_end_matches(".rs").to_string();
    (name != "lib").then_some(name)
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

/// The top-level modules `text` names as `crate::<module>`, outside comments and test modules.
fn imports(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in code_of(text).lines() {
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            let before = rest[..at].chars().last();
            rest = &rest[at + "crate::".len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue; // e.g. `spl_engine_crate::`
            }
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

/// Imports between top-level modules: importer → imported.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let Some(module) = top_module(&src, &file) else {
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap();
        let entry = graph.entry(module.clone()).or_default();
        for imported in imports(&text) {
            if imported != module && LAYERS.iter().any(|(m, _)| *m == imported) {
                entry.insert(imported);
            }
        }
    }
    graph
}

#[test]
fn no_module_imports_a_higher_layer() {
    let mut upward = Vec::new();
    for (importer, imported) in graph() {
        for target in imported {
            if layer(&target) > layer(&importer)
                && !ALLOWED.contains(&(importer.as_str(), target.as_str()))
            {
                upward.push(format!(
                    "{importer} (layer {}) imports {target} (layer {})",
                    layer(&importer),
                    layer(&target)
                ));
            }
        }
    }
    assert!(upward.is_empty(), "upward imports:\n{}", upward.join("\n"));
}

#[test]
fn no_two_modules_import_each_other() {
    let graph = graph();
    let mut circles = Vec::new();
    for (a, targets) in &graph {
        for b in targets {
            let back = graph.get(b).is_some_and(|t| t.contains(a));
            let allowed = ALLOWED.contains(&(a.as_str(), b.as_str()))
                || ALLOWED.contains(&(b.as_str(), a.as_str()));
            if back && a < b && !allowed {
                circles.push(format!("{a} <-> {b}"));
            }
        }
    }
    assert!(
        circles.is_empty(),
        "import circles:\n{}",
        circles.join("\n")
    );
}

#[test]
fn the_expression_and_catalog_layers_import_only_downward() {
    // These hold with no allowance: functions and expr reach only the base layer and below.
    let graph = graph();
    for module in ["functions", "expr"] {
        for target in graph.get(module).into_iter().flatten() {
            assert!(
                layer(target) < layer(module),
                "{module} imports {target}, which is not below it"
            );
        }
    }
}

#[test]
fn every_allowance_is_still_needed() {
    let graph = graph();
    let stale: Vec<String> = ALLOWED
        .iter()
        .filter(|(a, b)| !graph.get(*a).is_some_and(|t| t.contains(*b)))
        .map(|(a, b)| format!("{a} -> {b}"))
        .collect();
    assert!(
        stale.is_empty(),
        "remove from ALLOWED:\n{}",
        stale.join("\n")
    );
}

#[test]
fn the_scanner_reads_imports_and_skips_comments_and_tests() {
    let text = "use crate::types;\n// crate::ops\nfn f() { crate::expr::x(); }\n#[cfg(test)]\nmod tests {\n use crate::pipeline;\n}\n";
    let got: Vec<String> = imports(text).into_iter().collect();
    assert_eq!(got, ["expr", "types"]);
}

// ---------------------------------------------------------------------------------------------
// File level: no two files of the engine import each other, directly or through others.
// ---------------------------------------------------------------------------------------------

/// A source file's module path (`expr::lower` for `expr/lower.rs`, `expr` for `expr/mod.rs`,
/// empty for `lib.rs`).
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap();
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_str().unwrap().to_string())
        .collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_string());
    }
    parts
}

/// The code of a file without comments and without its trailing test module.
fn code_of(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        if t == "#[cfg(test)]"
            && lines
                .get(i + 1)
                .is_some_and(|n| n.trim_start().starts_with("mod "))
        {
            break;
        }
        let code = match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        };
        out.push_str(code);
        out.push('\n');
    }
    out
}

/// Expands a `use` tree (`a::{b, c::{self, D}}`) into its paths.
fn expand_use(tree: &str) -> Vec<Vec<String>> {
    let tree: String = tree.chars().filter(|c| !c.is_whitespace()).collect();
    fn go(prefix: &[String], t: &str, out: &mut Vec<Vec<String>>) {
        if let Some(open) = t.find('{') {
            let mut base: Vec<String> = prefix.to_vec();
            base.extend(
                t[..open]
                    .split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_string),
            );
            let close = t.rfind('}').filter(|c| *c > open).unwrap_or(t.len());
            let inner = &t[open + 1..close];
            let (mut depth, mut start) = (0, 0);
            for (i, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        go(&base, &inner[start..i], out);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            go(&base, &inner[start..], out);
        } else if !t.is_empty() {
            let mut p = prefix.to_vec();
            let t = t.split(" as ").next().unwrap_or(t);
            p.extend(
                t.split("::")
                    .map(|s| s.split("as").next().unwrap().to_string()),
            );
            if p.last().is_some_and(|s| s == "self") {
                p.pop();
            }
            out.push(p);
        }
    }
    let mut out = Vec::new();
    go(&[], &tree, &mut out);
    out
}

/// What one file's code names: its `use` paths (and whether the `use` is public, a re-export)
/// and the `crate::`/`super::` paths written inline.
fn paths_of(code: &str) -> Vec<(Vec<String>, bool)> {
    let mut out = Vec::new();
    let mut inline = String::new();
    let mut statement: Option<(String, bool)> = None;
    for line in code.lines() {
        let t = line.trim_start();
        if statement.is_none() {
            let public = t.starts_with("pub");
            let after_pub = if t.starts_with("pub(") {
                t.find(')').map_or(t, |c| t[c + 1..].trim_start())
            } else {
                t.strip_prefix("pub ").unwrap_or(t)
            };
            match after_pub.strip_prefix("use ") {
                Some(tree) => statement = Some((String::new() + tree, public)),
                None => {
                    inline.push_str(line);
                    inline.push('\n');
                    continue;
                }
            }
        } else if let Some((text, _)) = statement.as_mut() {
            text.push_str(t);
        }
        if let Some((text, public)) = statement.take() {
            match text.find(';') {
                Some(end) => {
                    for p in expand_use(&text[..end]) {
                        out.push((p, public));
                    }
                }
                None => statement = Some((text, public)),
            }
        }
    }
    for root in ["crate::", "super::"] {
        let mut rest = inline.as_str();
        while let Some(at) = rest.find(root) {
            let before = rest[..at].chars().last();
            let after = &rest[at..];
            rest = &rest[at + root.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let path: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            out.push((
                path.split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
                false,
            ));
        }
    }
    out
}

/// The file graph: module path → the module paths (files) it imports. A `pub use` of a child
/// in a `mod.rs` is a re-export, not an import; a name reached through it counts as an import of
/// the child that defines it.
fn file_graph(
    files: &BTreeMap<Vec<String>, String>,
) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let codes: BTreeMap<&Vec<String>, Vec<(Vec<String>, bool)>> = files
        .iter()
        .map(|(m, text)| (m, paths_of(&code_of(text))))
        .collect();
    // Absolute form of a path written in module `m`.
    let absolute = |m: &Vec<String>, p: &[String]| -> Vec<String> {
        let mut base = m.clone();
        let mut i = 0;
        match p.first().map(String::as_str) {
            Some("crate") => {
                base.clear();
                i = 1;
            }
            Some("super") => {
                while p.get(i).is_some_and(|s| s == "super") {
                    base.pop();
                    i += 1;
                }
            }
            Some("self") => i = 1,
            Some(first) => {
                let mut child = m.clone();
                child.push(first.to_string());
                if !files.contains_key(&child) {
                    return Vec::new(); // an external crate or std
                }
            }
            None => return Vec::new(),
        }
        base.extend(p[i..].iter().cloned());
        base
    };
    // Re-exports: (facade module, name) → the module the name comes from.
    let mut reexports: BTreeMap<(Vec<String>, String), Vec<String>> = BTreeMap::new();
    for (m, paths) in &codes {
        for (p, public) in paths {
            let abs = absolute(m, p);
            if *public && abs.len() > m.len() + 1 && abs.starts_with(m) {
                let name = abs.last().unwrap().clone();
                reexports.insert(((*m).clone(), name), abs[..abs.len() - 1].to_vec());
            }
        }
    }
    let resolve = |abs: &[String]| -> Option<Vec<String>> {
        let mut n = 0;
        while n < abs.len() && files.contains_key(&abs[..n + 1].to_vec()) {
            n += 1;
        }
        let module = abs[..n].to_vec();
        match abs.get(n) {
            Some(name) => Some(
                reexports
                    .get(&(module.clone(), name.clone()))
                    .filter(|m| files.contains_key(*m))
                    .cloned()
                    .unwrap_or(module),
            ),
            None => Some(module),
        }
    };
    let mut graph = BTreeMap::new();
    for (m, paths) in &codes {
        let edges: &mut BTreeSet<Vec<String>> = graph.entry((*m).clone()).or_default();
        for (p, public) in paths {
            let abs = absolute(m, p);
            if abs.is_empty() && p.first().is_none_or(|s| s != "crate") {
                continue;
            }
            if *public && abs.starts_with(m) {
                continue; // a re-export of a child
            }
            if let Some(target) = resolve(&abs) {
                if &target != *m && files.contains_key(&target) {
                    edges.insert(target);
                }
            }
        }
    }
    graph
}

/// The groups of files that import each other (strongly connected, two files or more).
fn file_circles(graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Vec<Vec<String>> {
    let reach = |from: &Vec<String>| -> BTreeSet<Vec<String>> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.clone()];
        while let Some(n) = stack.pop() {
            for t in graph.get(&n).into_iter().flatten() {
                if seen.insert(t.clone()) {
                    stack.push(t.clone());
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&Vec<String>, BTreeSet<Vec<String>>> =
        graph.keys().map(|k| (k, reach(k))).collect();
    let mut done = BTreeSet::new();
    let mut circles = Vec::new();
    for a in graph.keys() {
        if done.contains(a) {
            continue;
        }
        let mut group: Vec<String> = graph
            .keys()
            .filter(|b| b != &a && reaches[a].contains(*b) && reaches[*b].contains(a))
            .chain(std::iter::once(a))
            .inspect(|b| {
                done.insert((*b).clone());
            })
            .map(|b| {
                if b.is_empty() {
                    "lib".into()
                } else {
                    b.join("::")
                }
            })
            .collect();
        group.sort();
        if group.len() > 1 {
            circles.push(group);
        }
    }
    circles
}

fn engine_files() -> BTreeMap<Vec<String>, String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files
        .into_iter()
        .map(|f| (module_path(&src, &f), std::fs::read_to_string(&f).unwrap()))
        .collect()
}

#[test]
fn no_files_import_each_other() {
    let circles = file_circles(&file_graph(&engine_files()));
    assert!(
        circles.is_empty(),
        "files that import each other:\n{}",
        circles
            .iter()
            .map(|c| c.join(" <-> "))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn the_file_graph_finds_a_circle_and_follows_re_exports() {
    let m = |s: &str| -> Vec<String> {
        s.split("::")
            .filter(|x| !x.is_empty())
            .map(str::to_string)
            .collect()
    };
    let mut files = BTreeMap::new();
    files.insert(m(""), "mod expr;\n".to_string());
    files.insert(m("expr"), "mod a;\nmod b;\npub use a::A;\n".to_string());
    files.insert(
        m("expr::a"),
        "use super::b::{self, B};\npub struct A;\n".to_string(),
    );
    files.insert(
        m("expr::b"),
        "// crate::expr::a is only a comment\npub struct B;\nfn f() { let _ = crate::expr::A; }\n"
            .to_string(),
    );
    let graph = file_graph(&files);
    assert_eq!(graph[&m("expr::a")], BTreeSet::from([m("expr::b")]));
    assert_eq!(graph[&m("expr::b")], BTreeSet::from([m("expr::a")]));
    assert!(graph[&m("expr")].is_empty(), "a re-export is no import");
    assert_eq!(file_circles(&graph), vec![vec!["expr::a", "expr::b"]]);
    // Without the inline path back, no circle.
    files.insert(m("expr::b"), "pub struct B;\n".to_string());
    assert!(file_circles(&file_graph(&files)).is_empty());
}
