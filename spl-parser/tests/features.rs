//! Snapshots of the AST (with spans) for each grammar feature in testdata/parser/features.spl,
//! plus the canonical form of each. Adding a feature means adding a block to that file.
mod common;

#[test]
fn feature_asts() {
    let cases = common::blocks("testdata/parser/features.spl");
    assert!(cases.len() >= 30);
    for (name, text) in cases {
        let program = spl_parser::parse(&text)
            .unwrap_or_else(|d| panic!("{name}:\n{}", d.render(&name, &text, false)));
        insta::assert_yaml_snapshot!(format!("ast-{name}"), program);
        let printed = program.to_string();
        assert_eq!(
            spl_parser::parse(&printed).unwrap(),
            program,
            "{name}: round trip"
        );
        insta::assert_snapshot!(format!("fmt-{name}"), printed);
    }
}
