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

/// `__tag__:<name>` may be written without quotes wherever a field name is allowed (the
/// reference agent's own SPL tests do so); it means the same field as the quoted form, and the
/// canonical form parses back to the same program.
#[test]
fn unquoted_tag_names_are_field_names() {
    let pairs = [
        (
            "* | parse-json content | project-rename __tag__:taiye2=a1",
            r#"* | parse-json content | project-rename "__tag__:taiye2"=a1"#,
        ),
        (
            "* | project-rename a1=__tag__:taiye2",
            r#"* | project-rename a1="__tag__:taiye2""#,
        ),
        (
            "* | project __tag__:__path__, x = __tag__:host",
            r#"* | project "__tag__:__path__", x = "__tag__:host""#,
        ),
        (
            "* | project-away -wildcard __tag__:*",
            r#"* | project-away -wildcard "__tag__:*""#,
        ),
        (
            "* | where __tag__:__hostname__ = 'h1' | extend __tag__:k = upper(__tag__:v)",
            r#"* | where "__tag__:__hostname__" = 'h1' | extend "__tag__:k" = upper("__tag__:v")"#,
        ),
        (
            "* | parse-regexp content, '(a)' as __tag__:a | stats c = count(*) by __tag__:a",
            r#"* | parse-regexp content, '(a)' as "__tag__:a" | stats c = count(*) by "__tag__:a""#,
        ),
    ];
    for (bare, quoted) in pairs {
        let b = spl_parser::parse(bare)
            .unwrap_or_else(|d| panic!("{bare}:\n{}", d.render("<spl>", bare, false)));
        let q = spl_parser::parse(quoted).unwrap();
        assert_eq!(b.to_string(), q.to_string(), "{bare}");
        let printed = b.to_string();
        assert_eq!(
            spl_parser::parse(&printed).unwrap().to_string(),
            printed,
            "{bare}: round trip"
        );
    }
    // Without `-wildcard`, a bare tag pattern with `*` is refused as before.
    assert!(spl_parser::parse("* | project __tag__:*").is_err());
    // `__tag__:` needs a name.
    assert!(spl_parser::parse("* | project __tag__:").is_err());
}
