//! The generated docs/functions.md matches the function metadata, and the metadata is sound:
//! unique names and aliases, a signature, a summary and at least one example per function.
use std::collections::HashSet;
use std::path::PathBuf;

#[test]
fn functions_page_is_current() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/functions.md");
    spl_parser::docs::check_generated(&path, &spl_engine::docs::functions_md()).unwrap();
}

#[test]
fn function_metadata_is_complete_and_unique() {
    let mut names = HashSet::new();
    for f in spl_engine::functions::all() {
        for n in std::iter::once(f.name).chain(f.aliases.iter().copied()) {
            assert!(names.insert(n), "function name {n} registered twice");
            assert_eq!(n, n.to_ascii_lowercase(), "{n} must be lower case");
        }
        assert!(
            !f.signature.is_empty() && !f.summary.is_empty(),
            "{}: missing signature or summary",
            f.name
        );
        assert!(!f.examples.is_empty(), "{}: no example", f.name);
        assert!(spl_engine::functions::lookup(&f.name.to_uppercase()).is_some());
    }
}

#[test]
fn every_function_in_the_loongcollector_corpus_exists() {
    // Function calls in the 222 statements the reference agent accepts. `if`, `coalesce` and
    // `cast` look like calls but are special forms of the expression language (lowered to
    // CASE and CAST by the engine, spec §6.3/§6.4), not library functions.
    const SPECIAL_FORMS: &[&str] = &["if", "coalesce", "cast"];
    let corpus = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../testdata/corpus/loongcollector-init-corpus.txt"),
    )
    .unwrap();
    let call = regex::Regex::new(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(").unwrap();
    let mut missing = Vec::new();
    for line in corpus.lines().filter(|l| !l.starts_with('#')) {
        for c in call.captures_iter(line) {
            let name = c[1].to_ascii_lowercase();
            if spl_engine::functions::lookup(&name).is_none()
                && !SPECIAL_FORMS.contains(&name.as_str())
                && !missing.contains(&name)
            {
                missing.push(name);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "functions used by the corpus but not registered: {missing:?}"
    );
}
