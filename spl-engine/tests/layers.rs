//! The engine's module layers (ARCHITECTURE.md): imports only run downward, and no two
//! top-level modules import each other. Reads the sources and lists every `crate::` path per
//! top-level module; fails on an import of a higher layer or a circle not in [`ALLOWED`].
//! Test modules (`#[cfg(test)] mod ...` to the end of a file) are not part of the graph.
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each top-level module of `spl-engine/src` with its layer, lowest first.
const LAYERS: &[(&str, u8)] = &[
    // base: types, coercion type classes, RE2 translation, JSON scanning, bytes, time zones, budgets
    ("bytes", 0),
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
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        if t == "#[cfg(test)]"
            && lines
                .get(i + 1)
                .is_some_and(|n| n.trim_start().starts_with("mod "))
        {
            break;
        }
        if t.starts_with("//") {
            continue;
        }
        let mut rest = *line;
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
