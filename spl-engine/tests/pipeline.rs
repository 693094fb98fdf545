//! The compiled-pipeline API: `.let` DAGs with several outputs, profiles and limits as compile
//! diagnostics, compile-time expression checks, error policies (§18.11) and per-batch budgets.
mod common;
use common::{batch, Row};
use std::time::Duration;

use arrow::record_batch::RecordBatch;
use spl_engine::pipeline::{
    with_error_column, ErrorPolicy, Options, Outputs, Pipeline, ProcessError, Profile,
};
use spl_engine::render::Renderer;

fn rows(batches: &[RecordBatch]) -> Vec<Row> {
    let r = Renderer::default();
    batches
        .iter()
        .flat_map(|b| r.rows(b))
        .map(|mut row| {
            row.remove("__time__");
            row
        })
        .collect()
}

fn row(pairs: &[(&str, &str)]) -> Row {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn compile(spl: &str) -> Pipeline {
    Pipeline::compile(spl, &Options::default()).unwrap_or_else(|d| panic!("{spl}: {d:?}"))
}

fn compile_err(spl: &str, options: &Options) -> Vec<(String, String)> {
    let d = Pipeline::compile(spl, options).expect_err(spl);
    d.errors()
        .map(|d| (d.code.id.to_string(), d.message.clone()))
        .collect()
}

fn statuses() -> RecordBatch {
    batch(&[
        &[("status", "200"), ("uri", "/a")],
        &[("status", "503"), ("uri", "/b")],
        &[("status", "404"), ("uri", "/c")],
        &[("uri", "/d")],
    ])
}

#[test]
fn single_statement_has_one_output() {
    let p = compile("* | where cast(status as bigint) >= 400 | project uri");
    assert_eq!(p.outputs().len(), 1);
    assert_eq!(p.outputs()[0].name, "output1");
    let out = p.process(statuses()).unwrap();
    assert_eq!(
        rows(&out.datasets[0]),
        vec![row(&[("uri", "/b")]), row(&[("uri", "/c")])]
    );
    assert!(out.errors.is_empty());
    let stats = &out.stats[0];
    assert_eq!((stats[0].rows_in, stats[0].rows_out), (4, 2));
    assert_eq!(stats[1].instruction, "project");
}

#[test]
fn let_datasets_fan_out_to_outputs_in_statement_order() {
    let spl = ".let src = * | where status is not null | extend code = cast(status as bigint);
.let err = $src | where code >= 500 | extend msg = 'ERR';
.let ok = $src | where code < 300 | extend msg = 'OK';
$ok;
$err;
$src | where code = 404 | project uri;";
    let p = compile(spl);
    let names: Vec<&str> = p.outputs().iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, vec!["ok", "err", "output3"]);
    let out = p.process(statuses()).unwrap();
    assert_eq!(
        rows(&out.datasets[0]),
        vec![row(&[
            ("status", "200"),
            ("uri", "/a"),
            ("code", "200"),
            ("msg", "OK")
        ])]
    );
    assert_eq!(
        rows(&out.datasets[1]),
        vec![row(&[
            ("status", "503"),
            ("uri", "/b"),
            ("code", "503"),
            ("msg", "ERR")
        ])]
    );
    assert_eq!(rows(&out.datasets[2]), vec![row(&[("uri", "/c")])]);
}

#[test]
fn named_datasets_are_not_emitted_unless_named_alone() {
    let p = compile(".let a = * | where uri = '/a';\n* | where uri = '/d';");
    assert_eq!(p.outputs().len(), 1);
    let out = p.process(statuses()).unwrap();
    assert_eq!(rows(&out.datasets[0]), vec![row(&[("uri", "/d")])]);
}

#[test]
fn profiles_reject_instructions_and_limits_at_compile_time() {
    let consumer = Options::new(Profile::Consumer);
    let errs = compile_err(
        "* | where a = '1' | pack-fields -include='a.*' as x",
        &consumer,
    );
    assert_eq!(errs[0].0, "E1006", "{errs:?}");
    assert!(errs[0].1.contains("consumer"), "{errs:?}");
    let long = format!("* | where a = '{}'", "x".repeat(11 * 1024));
    let errs = compile_err(&long, &consumer);
    assert_eq!(errs[0].0, "E1007");
    let many = format!("*{}", " | where a = '1'".repeat(17));
    let errs = compile_err(&many, &Options::new(Profile::Logtail));
    assert_eq!(errs[0].0, "E1007");
    assert!(errs[0].1.contains("17 stages"), "{errs:?}");
    // The CLI profile has no limits.
    compile(&many);
    compile(&long);
}

#[test]
fn unknown_functions_are_compile_errors() {
    let errs = compile_err("* | extend a = lenght(b)", &Options::default());
    assert_eq!(errs[0].0, "E1001", "{errs:?}");
    let errs = compile_err("* | where count(*) > 1", &Options::default());
    assert_eq!(errs[0].0, "E1008", "{errs:?}");
}

fn bad_casts() -> RecordBatch {
    batch(&[&[("n", "1")], &[("n", "x")], &[("n", "3")]])
}

const CASTING: &str = "* | extend m = cast(n as bigint) * 10";

#[test]
fn error_stream_policy_keeps_failed_rows_with_their_error() {
    let p = compile(CASTING);
    assert_eq!(p.error_policy(), ErrorPolicy::ErrorStream);
    let out = p.process(bad_casts()).unwrap();
    assert_eq!(out.rows(), 2);
    assert_eq!(out.errors.len(), 1);
    let e = &out.errors[0];
    assert_eq!((e.code, e.stage, e.instruction), ("E2001", 1, "extend"));
    let with = with_error_column(e).unwrap();
    let r = &rows(&[with])[0];
    assert_eq!(r["n"], "x");
    let err: serde_json::Value = serde_json::from_str(&r["__error__"]).unwrap();
    assert_eq!(err["code"], "E2001");
    assert_eq!(err["stage"], 1);
    assert!(err["message"].as_str().unwrap().contains('x'), "{err}");
}

fn with_policy(spl: &str, policy: ErrorPolicy) -> Pipeline {
    let o = Options {
        error_policy: Some(policy),
        ..Options::default()
    };
    Pipeline::compile(spl, &o).unwrap()
}

#[test]
fn pass_through_policy_emits_the_original_row_in_order() {
    let p = with_policy(&format!("{CASTING} | project m"), ErrorPolicy::PassThrough);
    let out = p.process(bad_casts()).unwrap();
    assert_eq!(
        rows(&out.datasets[0]),
        vec![row(&[("m", "10")]), row(&[("n", "x")]), row(&[("m", "30")])]
    );
    assert_eq!(out.error_rows, 1);
    assert!(out.errors.is_empty());
}

#[test]
fn drop_and_fail_policies() {
    let out = with_policy(CASTING, ErrorPolicy::Drop)
        .process(bad_casts())
        .unwrap();
    assert_eq!((out.rows(), out.error_rows), (2, 1));
    let e = with_policy(CASTING, ErrorPolicy::Fail)
        .process(bad_casts())
        .unwrap_err();
    assert!(matches!(e, ProcessError::Data { .. }), "{e:?}");
    assert_eq!(e.code(), "E2001");
}

fn budgeted(policy: ErrorPolicy, timeout: Option<Duration>, memory: Option<usize>) -> Pipeline {
    let mut o = Options::new(Profile::Logtail);
    o.error_policy = Some(policy);
    o.batch_timeout = timeout;
    o.max_batch_memory = memory;
    Pipeline::compile("* | extend x = upper(uri) | project x", &o).unwrap()
}

#[test]
fn budgets_are_typed_errors_settled_by_the_policy() {
    // Over the memory ceiling: the agent default passes the original batch through.
    let p = budgeted(ErrorPolicy::PassThrough, None, Some(1));
    let input = statuses();
    let out = p.process(input.clone()).unwrap();
    assert_eq!(out.budget_exceeded, 1);
    assert_eq!(out.datasets[0], vec![input.clone()]);
    let e = budgeted(ErrorPolicy::Fail, None, Some(1))
        .process(input.clone())
        .unwrap_err();
    assert!(
        matches!(e, ProcessError::MemoryExceeded { limit: 1, .. }),
        "{e:?}"
    );
    assert_eq!(e.code(), "E2004");
    let e = budgeted(ErrorPolicy::Fail, Some(Duration::ZERO), None)
        .process(input.clone())
        .unwrap_err();
    assert_eq!(e.code(), "E2003", "{e}");
    let out = budgeted(ErrorPolicy::Drop, Some(Duration::ZERO), None)
        .process(input)
        .unwrap();
    assert_eq!((out.rows(), out.budget_exceeded, out.error_rows), (0, 1, 4));
}

#[test]
fn whole_batch_failures_go_to_the_error_stream_with_the_input_rows() {
    let p = compile("* | extend __time__ = 'not a number'");
    let out = p.process(statuses()).unwrap();
    assert_eq!(out.rows(), 0);
    assert_eq!(out.errors[0].rows.num_rows(), 4);
    assert_eq!(out.errors[0].code, "E2005");
    assert!(
        out.errors[0].message.contains("__time__"),
        "{}",
        out.errors[0].message
    );
}

#[test]
fn one_pipeline_many_threads_same_results() {
    let p = compile("* | where uri <> '/a' | extend u = upper(uri)");
    let single = rows(&p.process(statuses()).unwrap().datasets[0]);
    let results: Vec<Vec<Row>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| s.spawn(|| rows(&p.process(statuses()).unwrap().datasets[0])))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for r in results {
        assert_eq!(r, single);
    }
}

#[test]
fn outputs_append_keeps_order() {
    let p = compile("* | where uri <> '/b'");
    let mut all = Outputs::default();
    all.append(p.process(statuses()).unwrap());
    all.append(p.process(statuses()).unwrap());
    assert_eq!(all.rows(), 6);
    assert_eq!(all.stats[0][0].rows_in, 8);
}

/// Every statement the reference agent accepts compiles under the agent profile (instruction
/// availability and limits included) and under the CLI profile.
#[test]
fn the_loongcollector_corpus_compiles() {
    let corpus = std::fs::read_to_string(
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../testdata/corpus/loongcollector-init-corpus.txt"),
    )
    .unwrap();
    let mut failures = Vec::new();
    for line in corpus
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        for profile in [Profile::Cli, Profile::Logtail] {
            if let Err(d) = Pipeline::compile(line, &Options::new(profile)) {
                let msgs: Vec<String> = d.errors().map(|d| d.message.clone()).collect();
                failures.push(format!("{profile}: {line}\n    {msgs:?}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn scan_profile_caps_stats_groups_unless_a_limit_follows() {
    let many: Vec<String> = (0..150).map(|i| format!("k{i}")).collect();
    let rows_in: Vec<Vec<(&str, &str)>> = many.iter().map(|k| vec![("k", k.as_str())]).collect();
    let refs: Vec<&[(&str, &str)]> = rows_in.iter().map(|r| r.as_slice()).collect();
    let input = batch(&refs);
    let scan = Options::new(Profile::Scan);
    let capped = Pipeline::compile("* | stats n = count(*) by k", &scan).unwrap();
    assert_eq!(capped.process(input.clone()).unwrap().rows(), 100);
    let limited =
        Pipeline::compile("* | stats n = count(*) by k | sort k | limit 120", &scan).unwrap();
    assert_eq!(limited.process(input.clone()).unwrap().rows(), 120);
    assert_eq!(
        compile("* | stats n = count(*) by k")
            .process(input)
            .unwrap()
            .rows(),
        150
    );
}

#[test]
fn a_full_limit_ends_the_run_early() {
    let p = compile("* | where uri <> '/a' | limit 2");
    let mut run = p.start();
    assert!(!run.is_done());
    let out = run.push(statuses()).unwrap();
    assert_eq!(out.rows(), 2);
    assert!(run.is_done());
    let p = compile(".let a = * | limit 1;\n$a;\n* | where uri = '/d';");
    let mut run = p.start();
    run.push(statuses()).unwrap();
    assert!(!run.is_done(), "the second output still wants rows");
}

#[test]
fn url_functions_of_one_stage_share_a_split_only_of_the_same_column() {
    // Two URL columns, each read by several calls in one `extend` (the split of a column is
    // shared within the stage, `functions/memo.rs`), then by a second stage that also filters
    // rows, so later calls see new columns of the same values.
    let input = batch(&[
        &[
            ("a", "http://h1.com/p1?id=1"),
            ("b", "https://h2.org/p2?id=2"),
        ],
        &[("a", "not a url ^"), ("b", "ftp://h3.net/p3")],
        &[("b", "http://h4.io/p%20x?id=4")],
    ]);
    let p = compile(
        "* | extend ha = url_extract_host(a), hb = url_extract_host(b), pa = url_extract_path(a), \
         pb = url_extract_path(b), ia = url_extract_parameter(a, 'id'), \
         ib = url_extract_parameter(b, 'id'), s = split_part(url_extract_path(b), '/', 2) \
         | where hb <> 'h3.net' | extend qb = url_extract_query(b), hb2 = url_extract_host(b) \
         | project-away a, b",
    );
    let out = p.process(input).unwrap();
    assert_eq!(
        rows(&out.datasets[0]),
        vec![
            row(&[
                ("ha", "h1.com"),
                ("hb", "h2.org"),
                ("pa", "/p1"),
                ("pb", "/p2"),
                ("ia", "1"),
                ("ib", "2"),
                ("s", "p2"),
                ("qb", "id=2"),
                ("hb2", "h2.org"),
            ]),
            row(&[
                ("hb", "h4.io"),
                ("pb", "/p x"),
                ("ib", "4"),
                ("s", "p x"),
                ("qb", "id=4"),
                ("hb2", "h4.io"),
            ]),
        ]
    );
}
