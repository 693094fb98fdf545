//! The VS Code extension's TextMate grammar is generated from the parser's metadata; this fails
//! when the committed file is stale (`SPL_UPDATE_DOCS=1 cargo test -p spl-lsp` rewrites it).
use std::path::Path;

#[test]
fn vscode_grammar_matches_the_parser_metadata() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let pest = std::fs::read_to_string(root.join("grammar/spl.pest")).unwrap();
    let expected = spl_lsp::textmate::grammar(&pest);
    let path = root.join("editors/vscode/syntaxes/spl.tmLanguage.json");
    if std::env::var_os("SPL_UPDATE_DOCS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &expected).unwrap();
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "{} is stale; run SPL_UPDATE_DOCS=1 cargo test -p spl-lsp --test textmate",
        path.display()
    );
    // Every instruction and a few SQL keywords are in it.
    for d in spl_parser::instructions::INSTRUCTIONS {
        assert!(
            expected.contains(&d.name.replace('-', "\\\\-")),
            "{}",
            d.name
        );
    }
    let kws = spl_lsp::textmate::sql_keywords(&pest);
    for k in ["between", "case", "try_cast", "like"] {
        assert!(kws.contains(&k.to_string()), "{k} in {kws:?}");
    }
    assert!(!kws.iter().any(|k| k == "where" || k == ".let"));
}
