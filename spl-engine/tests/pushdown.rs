//! Pushdown of consumer SPL into event groups (`spl_engine::pushdown`): filtering and projection
//! keep group structure, empty groups are dropped, tag writes regroup rows, failed rows pass
//! through, and values that are not UTF-8 keep their bytes unless a stage touches their field.
//! Groups are written here as plain logs and converted through the engine's `RowsBuilder` and
//! `EventGroup::events`, as a wire host does.
use spl_engine::groups::{EventGroup, RowsBuilder};
use spl_engine::pushdown::{Pushdown, PushdownStats};
use spl_engine::render::Renderer;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Log {
    time: u32,
    time_ns: Option<u32>,
    contents: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct LogGroup {
    logs: Vec<Log>,
    topic: Option<String>,
    source: Option<String>,
    tags: Vec<(String, String)>,
}

fn to_event_group(g: &LogGroup) -> EventGroup {
    let mut rows = RowsBuilder::new();
    for l in &g.logs {
        let fields: Vec<(&[u8], &[u8])> = l
            .contents
            .iter()
            .map(|(k, v)| (k.as_bytes(), v.as_bytes()))
            .collect();
        rows.push(i64::from(l.time), l.time_ns.map(i64::from), &fields);
    }
    EventGroup {
        time: 0,
        time_ns: 0,
        topic: g.topic.clone().map(String::into_bytes),
        source: g.source.clone().map(String::into_bytes),
        tags: g
            .tags
            .iter()
            .map(|(k, v)| (k.clone(), v.clone().into_bytes()))
            .collect(),
        rows: rows.finish(),
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).expect("UTF-8 in these tests")
}

fn from_event_group(g: &EventGroup, r: &Renderer) -> LogGroup {
    LogGroup {
        logs: g
            .events(r)
            .into_iter()
            .map(|e| Log {
                time: e.time.unwrap_or(0) as u32,
                time_ns: e.time_ns.map(|n| n as u32),
                contents: e
                    .fields
                    .iter()
                    .map(|(k, v)| (k.to_string(), text(v)))
                    .collect(),
            })
            .collect(),
        topic: g.topic.as_deref().map(text),
        source: g.source.as_deref().map(text),
        tags: g.tags.iter().map(|(k, v)| (k.clone(), text(v))).collect(),
    }
}

#[derive(Debug)]
struct OutGroup {
    origin: usize,
    group: LogGroup,
}

#[derive(Debug)]
struct Out {
    groups: Vec<OutGroup>,
    stats: PushdownStats,
}

fn apply(p: &Pushdown, groups: &[LogGroup]) -> Out {
    let input: Vec<EventGroup> = groups.iter().map(to_event_group).collect();
    let out = p.apply(&input).unwrap();
    Out {
        groups: out
            .groups
            .iter()
            .map(|o| OutGroup {
                origin: o.origin,
                group: from_event_group(&o.group, p.renderer()),
            })
            .collect(),
        stats: out.stats,
    }
}

fn log(time: u32, kv: &[(&str, &str)]) -> Log {
    Log {
        time,
        time_ns: None,
        contents: kv
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

fn group(topic: &str, tags: &[(&str, &str)], logs: Vec<Log>) -> LogGroup {
    LogGroup {
        logs,
        topic: Some(topic.to_string()),
        source: Some("10.0.0.1".to_string()),
        tags: tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

fn access(time: u32, status: &str, uri: &str) -> Log {
    log(time, &[("status", status), ("uri", uri), ("method", "GET")])
}

#[test]
fn where_and_project_keep_group_metadata_and_drop_empty_groups() {
    let groups = vec![
        group(
            "web",
            &[("host", "a")],
            vec![
                access(1, "200", "/"),
                access(2, "500", "/x"),
                access(3, "503", "/y"),
            ],
        ),
        group("web", &[("host", "b")], vec![access(4, "200", "/z")]),
        group("api", &[("host", "c")], vec![access(5, "502", "/q")]),
    ];
    let p =
        Pushdown::compile("* | where cast(status as bigint) >= 500 | project status, uri").unwrap();
    let out = apply(&p, &groups);
    assert_eq!(out.groups.len(), 2, "{:?}", out.groups);
    assert_eq!(out.groups[0].origin, 0);
    assert_eq!(out.groups[1].origin, 2);
    let g = &out.groups[0].group;
    assert_eq!(g.topic.as_deref(), Some("web"));
    assert_eq!(g.source.as_deref(), Some("10.0.0.1"));
    assert_eq!(g.tags, vec![("host".to_string(), "a".to_string())]);
    assert_eq!(
        g.logs,
        vec![
            log(2, &[("status", "500"), ("uri", "/x")]),
            log(3, &[("status", "503"), ("uri", "/y")]),
        ]
    );
    assert_eq!(out.groups[1].group.tags[0].1, "c");
    let s = out.stats;
    assert_eq!((s.raw_groups, s.raw_rows), (3, 5));
    assert_eq!(
        (s.groups_returned, s.rows_returned, s.rows_failed),
        (2, 3, 0)
    );
}

#[test]
fn the_identity_program_returns_groups_unchanged() {
    let mut g = group("t", &[("a", "1"), ("b", "2")], vec![access(7, "200", "/")]);
    g.logs[0].time_ns = Some(123);
    g.logs.push(log(8, &[("only", "x")]));
    let none = LogGroup {
        topic: None,
        source: None,
        ..g.clone()
    };
    for program in ["*", "* | where true"] {
        let p = Pushdown::compile(program).unwrap();
        let out = apply(&p, &[g.clone(), none.clone()]);
        assert_eq!(out.groups.len(), 2);
        assert_eq!(out.groups[0].group, g, "{program}");
        assert_eq!(
            out.groups[1].group, none,
            "{program}: a missing topic stays missing"
        );
    }
}

#[test]
fn writing_a_tag_moves_rows_into_groups_by_tag_value() {
    let g = group(
        "t",
        &[("host", "h1")],
        vec![
            log(1, &[("level", "info"), ("m", "a")]),
            log(2, &[("level", "error"), ("m", "b")]),
            log(3, &[("level", "info"), ("m", "c")]),
        ],
    );
    let p = Pushdown::compile(r#"* | project-rename "__tag__:level"=level"#).unwrap();
    let out = apply(&p, &[g]);
    let groups: Vec<_> = out.groups.iter().map(|o| &o.group).collect();
    assert_eq!(groups.len(), 2);
    assert_eq!(
        groups[0].tags,
        vec![
            ("host".to_string(), "h1".to_string()),
            ("level".to_string(), "info".to_string())
        ]
    );
    assert_eq!(groups[0].logs.len(), 2);
    assert_eq!(groups[0].logs[1], log(3, &[("m", "c")]));
    assert_eq!(
        groups[1].tags[1],
        ("level".to_string(), "error".to_string())
    );
    assert_eq!(out.stats.groups_returned, 2);
    assert_eq!(out.stats.rows_returned, 3);
}

#[test]
fn rewriting_an_existing_tag_or_the_topic_regroups_and_project_cannot_drop_them() {
    let g = group(
        "old",
        &[("host", "h1")],
        vec![log(1, &[("n", "1")]), log(2, &[("n", "2")])],
    );
    let p = Pushdown::compile(
        r#"* | project n | extend "__tag__:host" = 'h2', __topic__ = if(n = '2', 'new', 'old')"#,
    )
    .unwrap();
    let out = apply(&p, &[g]);
    let groups: Vec<_> = out.groups.iter().map(|o| &o.group).collect();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].topic.as_deref(), Some("old"));
    assert_eq!(groups[1].topic.as_deref(), Some("new"));
    for g in &groups {
        assert_eq!(g.tags, vec![("host".to_string(), "h2".to_string())]);
        assert_eq!(g.source.as_deref(), Some("10.0.0.1"));
    }
}

#[test]
fn failed_rows_are_returned_unchanged_and_counted() {
    let g = group(
        "t",
        &[],
        vec![
            access(1, "500", "/a"),
            access(2, "oops", "/b"),
            access(3, "404", "/c"),
        ],
    );
    let p = Pushdown::compile("* | extend code = cast(status as bigint) | project code").unwrap();
    let out = apply(&p, std::slice::from_ref(&g));
    let logs: Vec<_> = out
        .groups
        .iter()
        .flat_map(|o| o.group.logs.clone())
        .collect();
    assert_eq!(
        logs,
        vec![
            log(1, &[("code", "500")]),
            g.logs[1].clone(),
            log(3, &[("code", "404")])
        ]
    );
    assert_eq!(out.stats.rows_failed, 1);
    assert_eq!(out.stats.rows_returned, 3);
}

#[test]
fn typed_values_are_rendered_as_text() {
    let g = group("t", &[], vec![access(1, "500", "/a")]);
    let p = Pushdown::compile(
        "* | extend d = cast(status as bigint) * 1.5, b = status = '500', n = cast(status as bigint) + 1, a = array[1, 2] | project d, b, n, a",
    )
    .unwrap();
    let out = apply(&p, &[g]);
    assert_eq!(
        out.groups[0].group.logs[0].contents,
        vec![
            ("d".to_string(), "750.0".to_string()),
            ("b".to_string(), "true".to_string()),
            ("n".to_string(), "501".to_string()),
            ("a".to_string(), "[1,2]".to_string()),
        ]
    );
}

#[test]
fn extending_time_changes_the_log_time() {
    let g = group("t", &[], vec![access(1, "500", "/a")]);
    let p =
        Pushdown::compile("* | extend __time__ = __time__ + 100, __time_ns_part__ = 5").unwrap();
    let out = apply(&p, &[g]);
    let l = &out.groups[0].group.logs[0];
    assert_eq!((l.time, l.time_ns), (101, Some(5)));
}

#[test]
fn repeated_content_keys_keep_the_last_value_and_contents_override_group_fields() {
    let g = group(
        "t",
        &[("host", "h1")],
        vec![log(
            1,
            &[("k", "first"), ("k", "last"), ("__tag__:host", "mine")],
        )],
    );
    let p = Pushdown::compile("* | where k = 'last'").unwrap();
    let out = apply(&p, &[g]);
    let og = &out.groups[0].group;
    assert_eq!(
        og.logs[0].contents,
        vec![("k".to_string(), "last".to_string())]
    );
    assert_eq!(og.tags, vec![("host".to_string(), "mine".to_string())]);
}

#[test]
fn scan_only_instructions_are_rejected_under_the_consumer_profile() {
    for program in ["* | stats c = count(*)", "* | sort a", "* | limit 10"] {
        let err = Pushdown::compile(program).unwrap_err();
        assert!(
            err.errors().any(|d| d.code.id == "E1006"),
            "{program}: {err}"
        );
    }
}

#[test]
fn empty_input_groups_are_scanned_and_dropped() {
    let p = Pushdown::compile("*").unwrap();
    let out = apply(&p, &[LogGroup::default()]);
    assert!(out.groups.is_empty());
    assert_eq!(out.stats.raw_groups, 1);
    assert_eq!(out.stats.raw_rows, 0);
}

#[test]
fn every_output_dataset_contributes_rows_in_statement_order() {
    let g = group(
        "t",
        &[],
        vec![access(1, "500", "/a"), access(2, "200", "/b")],
    );
    let p = Pushdown::compile(
        ".let ok = * | where status = '200' | project uri;\n.let bad = * | where status = '500' | project status;\n$bad;\n$ok;",
    )
    .unwrap();
    let out = apply(&p, &[g]);
    assert_eq!(out.groups.len(), 1, "same metadata: one group");
    assert_eq!(
        out.groups[0].group.logs,
        vec![log(1, &[("status", "500")]), log(2, &[("uri", "/b")])]
    );
}

/// A group with one log whose `bin` value is not UTF-8.
fn binary_group() -> EventGroup {
    let mut rows = RowsBuilder::new();
    rows.push(5, None, &[(b"status", b"500"), (b"bin", b"a\xff\xfe\x00z")]);
    rows.push(6, None, &[(b"status", b"200"), (b"bin", b"\xc3")]);
    EventGroup {
        time: 0,
        time_ns: 0,
        topic: Some(b"\xfft".to_vec()),
        source: None,
        tags: vec![("h".to_string(), b"\xee".to_vec())],
        rows: rows.finish(),
    }
}

fn values(g: &EventGroup, r: &Renderer, key: &str) -> Vec<Vec<u8>> {
    g.events(r)
        .into_iter()
        .filter_map(|e| {
            e.fields
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.to_vec())
        })
        .collect()
}

#[test]
fn values_that_are_not_utf8_keep_their_bytes_when_no_stage_touches_them() {
    let g = binary_group();
    for program in [
        "*",
        "* | where status = '500'",
        "* | extend n = 1",
        "* | project status, bin",
        "* | project-rename b2 = bin | project-rename bin = b2",
    ] {
        let p = Pushdown::compile(program).unwrap();
        let (out, _) = p.apply_group(&g).unwrap();
        assert_eq!(out.len(), 1, "{program}");
        let got = values(&out[0], p.renderer(), "bin");
        let want: Vec<Vec<u8>> = values(&g, p.renderer(), "bin")
            .into_iter()
            .take(got.len())
            .collect();
        assert_eq!(got, want, "{program}");
        assert!(!got.is_empty(), "{program}");
        assert_eq!(out[0].topic, g.topic, "{program}");
        assert_eq!(out[0].tags, g.tags, "{program}");
    }
}

#[test]
fn a_stage_that_reads_a_field_that_is_not_utf8_sees_text_with_replacements() {
    let g = binary_group();
    let p = Pushdown::compile("* | where bin like 'a%' | extend l = length(bin)").unwrap();
    let (out, _) = p.apply_group(&g).unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(
        values(&out[0], p.renderer(), "bin"),
        vec!["a\u{fffd}\u{fffd}\u{0}z".as_bytes().to_vec()]
    );
    assert_eq!(values(&out[0], p.renderer(), "l"), vec![b"5".to_vec()]);
    // The group metadata was not touched: its bytes are kept.
    assert_eq!(out[0].topic, g.topic);
}
