//! Rendered diagnostics (colours off) for the mistakes in testdata/diagnostics/cases.spl: each
//! must produce at least one diagnostic, and its text is snapshot-tested. The JSON form is
//! checked for line/column positions.
mod common;

use std::collections::HashSet;

#[test]
fn mistakes_render_helpful_diagnostics() {
    let cases = common::blocks("testdata/diagnostics/cases.spl");
    let mut codes = HashSet::new();
    for (name, text) in &cases {
        let (_, diags) = spl_parser::parse_with_warnings(text);
        assert!(!diags.is_empty(), "{name}: no diagnostic for\n{text}");
        for d in &diags.items {
            codes.insert(d.code.id);
            assert!(
                d.labels
                    .iter()
                    .all(|l| l.span.start <= l.span.end && l.span.end <= text.len()),
                "{name}: span out of range"
            );
        }
        let rendered = diags.render("query.spl", text, false);
        assert!(
            rendered.contains('^') || rendered.contains('-'),
            "{name}: no caret\n{rendered}"
        );
        insta::assert_snapshot!(name.as_str(), format!("{text}\n---\n{rendered}"));
    }
    assert!(
        cases.len() >= 25,
        "need at least 25 distinct mistakes, have {}",
        cases.len()
    );
    assert!(
        codes.len() >= 25,
        "need at least 25 distinct codes, have {}: {codes:?}",
        codes.len()
    );
}

#[test]
fn json_form_has_positions() {
    let text = "* | where a = 1\n| wher b = 2";
    let diags = spl_parser::parse(text).unwrap_err();
    let json = diags.to_json(text);
    let first = &json[0];
    assert_eq!(first["code"], "E0005");
    assert_eq!(first["name"], "unknown-instruction");
    assert_eq!(first["labels"][0]["line"], 2);
    assert_eq!(first["labels"][0]["column"], 3);
    assert_eq!(first["help"], "did you mean `where`?");
}
