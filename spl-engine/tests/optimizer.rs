//! The optimizer's rules (constant folding, merging of `where`/`extend`, filter pushdown): each
//! rewrite is listed in `Pipeline::rewrites`, and every program gives exactly the same output
//! rows (values and types), error rows (with `__error__`, naming the stage as written) and
//! whole-batch failures with and without the optimizer, under every error policy, on a batch
//! with NULLs, failing casts and text booleans.
mod common;
use common::batch;

use arrow::record_batch::RecordBatch;
use spl_engine::pipeline::{with_error_column, ErrorPolicy, Options, Pipeline};
use spl_engine::render::Renderer;

const POLICIES: [ErrorPolicy; 4] = [
    ErrorPolicy::ErrorStream,
    ErrorPolicy::PassThrough,
    ErrorPolicy::Drop,
    ErrorPolicy::Fail,
];

fn compile(spl: &str, policy: ErrorPolicy, optimize: bool) -> Pipeline {
    let options = Options {
        error_policy: Some(policy),
        optimize,
        ..Options::default()
    };
    Pipeline::compile(spl, &options).unwrap_or_else(|d| panic!("{spl}: {d:?}"))
}

/// Rows with NULLs (absent fields), text that does not cast, text booleans and numbers.
fn tricky() -> RecordBatch {
    batch(&[
        &[
            ("status", "500"),
            ("uri", "/a/b"),
            ("content", "10.0.0.1 GET /a/b 500"),
            ("flag", "true"),
            ("n", "10"),
        ],
        &[
            ("status", "abc"),
            ("uri", "/c"),
            ("content", "10.0.0.2 POST /c abc"),
            ("flag", "yes"),
            ("n", "3"),
        ],
        &[("uri", "/d"), ("flag", "t"), ("n", "x")],
        &[
            ("status", "200"),
            ("uri", "/e"),
            ("content", "no match here"),
            ("flag", "false"),
            ("n", "-3"),
        ],
        &[
            ("status", "503"),
            ("content", "10.0.0.9 PUT /f 503"),
            ("flag", "1"),
            ("n", "0"),
        ],
        &[("status", " 504 "), ("uri", "/g"), ("flag", "nope")],
    ])
}

/// Everything a caller can observe of processing `input`, as text: per output its batches'
/// field types and rows, the error rows with `__error__`, counters, or the failure.
fn outcome(p: &Pipeline, input: RecordBatch) -> String {
    let r = Renderer::default();
    let show = |b: &RecordBatch| {
        let types: Vec<String> = b
            .schema()
            .fields()
            .iter()
            .map(|f| format!("{}:{}", f.name(), f.data_type()))
            .collect();
        format!("[{}] {:?}", types.join(", "), r.rows(b))
    };
    match p.process(input) {
        Err(e) => format!("failed: {e}"),
        Ok(out) => {
            let mut s = String::new();
            for (i, d) in out.datasets.iter().enumerate() {
                s.push_str(&format!("output {i}:\n"));
                for b in d.iter().filter(|b| b.num_rows() > 0) {
                    s.push_str(&format!("  {}\n", show(b)));
                }
            }
            for e in &out.errors {
                let rows = with_error_column(e).expect("error column");
                s.push_str(&format!("error: {}\n", show(&rows)));
            }
            s.push_str(&format!(
                "error rows {}, budget {}\n",
                out.error_rows, out.budget_exceeded
            ));
            s
        }
    }
}

/// Asserts that `spl` gives the same outcome with and without the optimizer under every
/// policy, and returns the rewrites.
fn same_results(spl: &str) -> Vec<String> {
    for policy in POLICIES {
        let plain = compile(spl, policy, false);
        let optimized = compile(spl, policy, true);
        assert!(plain.rewrites().is_empty());
        assert_eq!(
            outcome(&plain, tricky()),
            outcome(&optimized, tricky()),
            "{spl} under {policy:?}; rewrites: {:#?}",
            optimized.rewrites()
        );
        // Row by row too: pass-through and isolation see one-row batches.
        for i in 0..tricky().num_rows() {
            assert_eq!(
                outcome(&plain, tricky().slice(i, 1)),
                outcome(&optimized, tricky().slice(i, 1)),
                "{spl} under {policy:?}, row {i}"
            );
        }
    }
    compile(spl, ErrorPolicy::ErrorStream, true)
        .rewrites()
        .to_vec()
}

fn has(rewrites: &[String], needle: &str) -> bool {
    rewrites.iter().any(|r| r.contains(needle))
}

#[test]
fn constant_folding_keeps_values_types_and_row_errors() {
    let r = same_results(
        "* | where cast(status AS BIGINT) >= cast('500' AS BIGINT) \
         | extend big = 500 * 1000, s = lower('ABC'), d = 1.5 * 2, neg = 0 - 7, \
           z = cast(NULL AS BIGINT), b = 1 < 2, m = cast(n AS BIGINT) + (1 + 2 * 3)",
    );
    for folded in [
        "`CAST('500' AS BIGINT)` folded to `500`",
        "`500 * 1000` folded to `500000`",
        "`lower('ABC')` folded to `'abc'`",
        "`1.5 * 2` folded to `3.0`",
        "`0 - 7` folded to `-7`",
        "`1 < 2` folded to `TRUE`",
        "`1 + 2 * 3` folded to `7`",
    ] {
        assert!(has(&r, folded), "{folded} not in {r:#?}");
    }
    assert!(
        !has(&r, "NULL AS BIGINT"),
        "a typed NULL has no literal: {r:#?}"
    );
    // A constant that fails is left alone: every row still fails at run time.
    let r = same_results("* | extend bad = cast('abc' AS BIGINT) + (1 + 1)");
    assert!(has(&r, "`1 + 1` folded to `2`"), "{r:#?}");
    assert!(!has(&r, "'abc'"), "{r:#?}");
    // Time-dependent and random functions are never folded.
    let p = compile(
        "* | extend t = now(), r = random(), d = current_date",
        ErrorPolicy::ErrorStream,
        true,
    );
    assert!(p.rewrites().is_empty(), "{:#?}", p.rewrites());
    // Text booleans and a folded predicate.
    let r = same_results("* | where flag | where 1 + 1 = 2");
    assert!(has(&r, "`1 + 1 = 2` folded to `TRUE`"), "{r:#?}");
}

#[test]
fn adjacent_wheres_merge_and_later_predicates_see_only_survivors() {
    // The second predicate fails on `abc`; the first keeps every row with a status.
    let spl = "* | where status IS NOT NULL | where cast(status AS BIGINT) >= 500";
    let r = same_results(spl);
    assert!(
        has(
            &r,
            "statement 1, stages 1, 2 (where): merged into one stage"
        ),
        "{r:#?}"
    );
    assert_eq!(compile(spl, ErrorPolicy::Drop, true).stage_count(), 1);
    // The first drops `abc`, so the second never fails on it.
    same_results("* | where status != 'abc' | where cast(status AS BIGINT) >= 500");
    // Both fail on some rows; errors name the stage as written.
    let spl = "* | where cast(n AS BIGINT) > -5 | where cast(status AS BIGINT) > 0 | where flag";
    let r = same_results(spl);
    assert!(has(&r, "stages 1, 2, 3 (where): merged"), "{r:#?}");
    let out = compile(spl, ErrorPolicy::ErrorStream, true)
        .process(tricky())
        .unwrap();
    let stages: Vec<usize> = out.errors.iter().map(|e| e.stage).collect();
    assert_eq!(
        stages,
        vec![1, 2],
        "n = x fails in stage 1, status = abc in 2"
    );
    // A whole-batch failure of the second part is reported there, and not at all when the
    // first part left no row.
    same_results("* | where status IS NOT NULL | where split(uri, '/')");
    same_results("* | where uri = 'none' | where split(uri, '/')");
    let failed = outcome(
        &compile(
            "* | where status IS NOT NULL | where split(uri, '/')",
            ErrorPolicy::Fail,
            true,
        ),
        tricky(),
    );
    assert!(failed.contains("stage 2 (`where`)"), "{failed}");
}

#[test]
fn adjacent_extends_merge_and_later_assignments_see_earlier_ones() {
    let spl = "* | extend a = cast(n AS BIGINT) | extend b = a * 2, c = cast(status AS BIGINT) \
               | extend d = b + c";
    let r = same_results(spl);
    assert!(
        has(
            &r,
            "statement 1, stages 1, 2, 3 (extend): merged into one stage"
        ),
        "{r:#?}"
    );
    assert_eq!(compile(spl, ErrorPolicy::Drop, true).stage_count(), 1);
    // Every row fails the first part: the second (a batch error) never runs, as written.
    same_results("* | extend a = cast(concat('x', uri) AS BIGINT) | extend __time__ = 'x'");
    same_results("* | extend a = uri | extend __time__ = 'x'");
}

#[test]
fn where_moves_ahead_of_stages_that_never_fail_and_do_not_write_what_it_reads() {
    // The predicate fails on `abc`: that error row must still carry ip and method.
    let spl = "* | parse-regexp content, '(\\S+) (\\S+)' as ip, method \
               | where cast(status AS BIGINT) >= 500";
    let r = same_results(spl);
    assert!(
        has(
            &r,
            "statement 1, stage 2 (where): runs before stage 1 (parse-regexp), which changes \
             none of the fields it reads (status) and never fails"
        ),
        "{r:#?}"
    );
    let out = compile(spl, ErrorPolicy::ErrorStream, true)
        .process(tricky())
        .unwrap();
    let failed = Renderer::default().rows(&out.errors[0].rows);
    assert_eq!(failed[0]["ip"], "10.0.0.2", "{failed:?}");
    assert_eq!(out.errors[0].stage, 2);
    // Across several stages, with a merged where.
    let spl = "* | extend k = 'v', u = uri | project-rename st = status \
               | parse-csv -delim=' ' content as a1, a2 | project-away content \
               | where flag | where cast(n AS BIGINT) > 0";
    let r = same_results(spl);
    assert!(
        has(&r, "stages 5, 6 (where): runs before stages 1, 2, 3, 4"),
        "{r:#?}"
    );
    let p = compile(spl, ErrorPolicy::Drop, true);
    assert_eq!(p.stage_names(), vec![vec!["where (pushed down)"]]);
    // With folding, a literal extend never fails, so the where moves ahead of it.
    let r = same_results("* | extend limit_ms = 500 * 1000 | where flag");
    assert!(has(&r, "runs before stage 1 (extend)"), "{r:#?}");
    // Other statements of a `.let` program.
    same_results(
        ".let a = * | parse-regexp content, '(\\S+)' as ip | where cast(status AS BIGINT) >= 500; \
         $a | extend x = 'y' | where flag; $a;",
    );
    // A non-boolean condition fails the batch at the where, as written.
    same_results("* | extend k = 'v' | where split(uri, '/')");
}

#[test]
fn where_stays_when_moving_it_could_change_results() {
    for spl in [
        // Reads what the stage writes.
        "* | parse-regexp content, '(\\d+)$' as status | where status = '500'",
        "* | extend flag = 'true' | where flag",
        // Reads a renamed or removed field.
        "* | project-rename st = status | where st = '500'",
        "* | project-rename status = n | where status = '10'",
        "* | project-away flag | where flag",
        "* | project-away -wildcard \"fl*\" | where flag",
        // The stage can fail on rows the where would drop.
        "* | extend a = cast(status AS BIGINT) | where flag",
        "* | extend __time__ = 1 | where flag",
        // Keys known only per row.
        "* | parse-json content | where flag",
        "* | parse-kv content, ' ', '.' | where flag",
        // Buffering stages.
        "* | sort uri | where flag",
    ] {
        let r = same_results(spl);
        assert!(!has(&r, "runs before"), "{spl}: {r:#?}");
    }
}

#[test]
fn optimizer_off_keeps_stages_as_written() {
    let spl = "* | where flag | where 1 + 1 = 2 | extend a = 'x' | extend b = a";
    let p = compile(spl, ErrorPolicy::Drop, false);
    assert_eq!(p.stage_count(), 4);
    assert!(p.rewrites().is_empty());
    let p = compile(spl, ErrorPolicy::Drop, true);
    assert_eq!(p.stage_count(), 2);
    assert!(
        p.plan_text().contains("optimizations:"),
        "{}",
        p.plan_text()
    );
}

#[test]
fn parse_regexp_skips_rows_without_a_required_literal() {
    // Rows without " GET " keep their fields; matching rows are parsed as without the filter.
    let spl = "* | parse-regexp content, '(\\S+) GET (\\S+)' as ip, path | where flag";
    let r = same_results(spl);
    assert!(
        has(
            &r,
            "statement 1, stage 1 (parse-regexp): rows without \" GET \" skip the regex"
        ),
        "{r:#?}"
    );
    let out = compile(spl, ErrorPolicy::Drop, true)
        .process(tricky())
        .unwrap();
    let rows = Renderer::default().rows(&out.datasets[0][0]);
    assert_eq!(rows[0]["path"], "/a/b");
    assert!(
        rows.iter().skip(1).all(|r| !r.contains_key("path")),
        "{rows:?}"
    );
    // No literal every match needs: no prefilter.
    let r = same_results("* | parse-regexp content, '(GET|PUT) (\\S+)' as m, p");
    assert!(!has(&r, "skip the regex"), "{r:#?}");
}

/// `parse-json` followed by a `project` extracts only the keys the projection (and the stages
/// before it) can see; not when a stage in between may fail (its error rows would carry the
/// other keys).
#[test]
fn parse_json_extracts_only_the_keys_a_projection_keeps() {
    let input = || {
        batch(&[
            &[(
                "content",
                r#"{"a":"x","b":"a value longer than twelve bytes","c":{"d":1.50},"n":"7"}"#,
            )],
            &[(
                "content",
                r#"{"a":"y","b":"esc \" aped","n":"oops","z":null}"#,
            )],
            &[("content", "not json"), ("n", "5")],
            &[("content", r#"{"p_a":"pa","c":"cc","b":null}"#)],
        ])
    };
    let cases = [
        (
            "* | parse-json content | project a, c",
            Some("only a, c extracted"),
        ),
        (
            "* | parse-json -prefix='p_' content | extend q = p_b | project p_a, q",
            Some("only p_b, p_a extracted"),
        ),
        (
            "* | parse-json content | project n",
            Some("only n extracted"),
        ),
        (
            "* | parse-json content | project content",
            Some("only content extracted"),
        ),
        (
            "* | parse-json -prefix='p_' content | project n",
            Some("no key extracted"),
        ),
        (
            "* | parse-json content | where cast(n as bigint) > 1 | project a",
            None,
        ),
        ("* | parse-json content | stats k = count(1) by a", None),
    ];
    for (spl, note) in cases {
        same_with_rewrite(spl, note, "parse-json", input);
    }
}

#[test]
fn parse_regexp_extracts_every_group_a_failing_row_could_show() {
    let input = || {
        batch(&[
            &[("content", "10.0.0.1 GET /a 200 512")],
            &[("content", "10.0.0.2 POST /b 99999999999999999999 7")],
            &[("content", "no match here")],
        ])
    };
    let parse = r"* | parse-regexp content, '^(\S+) (\S+) (\S+) (\d+) (\d+)' as ip, m, u, st, sz";
    let cases = [
        // Nothing between the parse and the projection can fail: the unread groups go.
        (
            format!("{parse} | project ip, st"),
            Some("m, u, sz not extracted"),
        ),
        (
            format!("{parse} | project-away m, u, sz"),
            Some("m, u, sz not extracted"),
        ),
        // A failing cast shows its row, with every group, in the error stream.
        (
            format!("{parse} | where cast(st as bigint) > 1 | project ip"),
            None,
        ),
        (format!("{parse} | stats n = count(1) by ip"), None),
    ];
    for (spl, note) in cases {
        same_with_rewrite(&spl, note, "not extracted", input);
    }
}

/// `spl` gives the same outcome on `input()` with and without the optimizer under every
/// policy, and its rewrites include `note` (`None`: no rewrite mentions `absent`).
fn same_with_rewrite(spl: &str, note: Option<&str>, absent: &str, input: impl Fn() -> RecordBatch) {
    for policy in POLICIES {
        let plain = compile(spl, policy, false);
        let optimized = compile(spl, policy, true);
        assert_eq!(
            outcome(&plain, input()),
            outcome(&optimized, input()),
            "{spl} under {policy:?}"
        );
        let rewrites = optimized.rewrites();
        match note {
            Some(note) => assert!(has(rewrites, note), "{spl}: {rewrites:?}"),
            None => assert!(!has(rewrites, absent), "{spl}: {rewrites:?}"),
        }
    }
}

/// The first statement's plan as written, rewritten by `rule`: (rendered plan, notes).
fn rule(
    spl: &str,
    rule: impl Fn(&mut spl_engine::plan::Chain) -> Vec<String>,
) -> (String, Vec<String>) {
    let program = spl_parser::parse(spl).unwrap_or_else(|d| panic!("{spl}: {d:?}"));
    let mut plan = spl_engine::plan::lower(&program);
    let notes = rule(&mut plan.chains[0]);
    (spl_engine::plan::render_chain(&plan.chains[0]), notes)
}

#[test]
fn rule_fold_rewrites_the_plans_expressions() {
    let session = spl_engine::expr::Session::default();
    let (plan, notes) = rule("* | where x > 1 + 2 | extend y = lower('A') || x", |c| {
        spl_engine::optimize::fold::run(c, &session)
    });
    assert_eq!(
        plan,
        "  ├─ 1. where x > 3\n  │      reads: x\n  \
         └─ 2. extend y = 'a' || x\n         reads: x; writes: y\n"
    );
    assert_eq!(
        notes,
        vec![
            "statement 1, stage 1 (where): `1 + 2` folded to `3`",
            "statement 1, stage 2 (extend): `lower('A')` folded to `'a'`",
        ]
    );
}

#[test]
fn rule_merge_makes_one_stage_of_adjacent_wheres_and_extends() {
    let (plan, notes) = rule(
        "* | where a = '1' | where b = '2' | extend x = a | extend y = x",
        spl_engine::optimize::merge::run,
    );
    assert_eq!(
        plan,
        "  ├─ 1+2. where a = '1' | where b = '2'\n  │      reads: a, b\n  \
         └─ 3+4. extend x = a, y = x\n         reads: a; writes: x, y\n"
    );
    assert_eq!(notes.len(), 2, "{notes:?}");
}

#[test]
fn rule_pushdown_moves_a_where_ahead_in_the_plan() {
    let (plan, notes) = rule(
        "* | parse-csv content as a, b | extend k = 'v' | where level = 'ERROR'",
        spl_engine::optimize::pushdown::run,
    );
    assert_eq!(
        plan,
        "  ├─ 3. where level = 'ERROR'\n  │      reads: level; runs before stages 1, 2\n  \
         ├─ 1. parse-csv content as a, b\n  │      reads: content; writes: a, b\n  \
         └─ 2. extend k = 'v'\n         writes: k\n"
    );
    assert_eq!(
        notes,
        vec![
            "statement 1, stage 3 (where): runs before stages 1, 2 (parse-csv, extend), which \
             change none of the fields it reads (level) and never fail"
        ]
    );
}

#[test]
fn rule_prune_drops_unread_regexp_groups_and_json_keys_from_the_plan() {
    let (plan, notes) = rule(
        "* | parse-regexp content, '(\\S+) (\\S+) (\\d+)' as ip, time, status \
         | project-away time",
        spl_engine::optimize::prune::unused_outputs,
    );
    assert!(
        plan.contains("writes: ip, status; not extracted: time\n"),
        "{plan}"
    );
    assert_eq!(
        notes,
        vec!["statement 1, stage 1 (parse-regexp): time not extracted; nothing reads it before stage 2 drops it"]
    );
    let (plan, notes) = rule(
        "* | parse-json content | project ip, status",
        spl_engine::optimize::prune::dynamic_outputs,
    );
    assert!(
        plan.contains("writes: ip, status; extracts only these keys\n"),
        "{plan}"
    );
    assert_eq!(notes.len(), 1, "{notes:?}");
}

#[test]
fn rule_prefilter_gives_parse_regexp_its_literal() {
    let (plan, notes) = rule(
        "* | parse-regexp content, 'user=(\\w+) took (\\d+)ms' as user, ms",
        spl_engine::optimize::prefilter::run,
    );
    assert!(plan.contains("prefilter: \" took \""), "{plan}\n{notes:?}");
    assert!(has(&notes, "skip the regex"), "{notes:?}");
}

/// The two acceptance examples: `spl explain` shows the plan that runs.
#[test]
fn explain_renders_the_optimized_plan() {
    let p = compile(
        "* | parse-regexp content, '(\\S+) (\\S+)' as ip, method | where x > 1 + 2",
        ErrorPolicy::ErrorStream,
        true,
    );
    let text = p.plan_text();
    // A folded constant appears in the stage text, and the pushed-down `where` comes first.
    assert!(
        text.starts_with(
            "output output1 <- *\n  ├─ 2. where x > 3\n  │      reads: x; runs before stage 1\n  \
             └─ 1. parse-regexp content, '(\\S+) (\\S+)' as ip, method\n"
        ),
        "{text}"
    );
    assert!(text.contains("optimizations:\n"), "{text}");
    assert!(text.contains("`1 + 2` folded to `3`"), "{text}");
    // The plan as written is still there.
    let written = p.written_plan_text();
    assert!(
        written.contains("├─ 1. parse-regexp") && written.contains("└─ 2. where x > 1 + 2\n"),
        "{written}"
    );
    // Without the optimizer the plan that runs is the plan as written.
    let p = compile(
        "* | parse-regexp content, '(\\S+) (\\S+)' as ip, method | where x > 1 + 2",
        ErrorPolicy::ErrorStream,
        false,
    );
    assert_eq!(p.plan_text(), written);
}

#[test]
fn parse_regexp_writes_outputs_a_where_does_not_read_only_for_the_rows_it_keeps() {
    for spl in [
        // `abc` fails the cast: that error row must carry ip and method too.
        "* | parse-regexp content, '(\\S+) (\\S+) \\S+ (\\S+)' as ip, method, status \
         | where cast(status AS BIGINT) >= 500",
        // `uri` existed before: rows that do not match keep it; new fields in written order.
        "* | parse-regexp content, '(\\S+) \\S+ (\\S+) (\\S+)' as ip, uri, code \
         | where code = '500' or uri = '/d' | project-away flag",
        // The source is an output, read by the condition or not.
        "* | parse-regexp content, '(\\S+) (.*)' as ip, content | where ip = '10.0.0.1'",
        "* | parse-regexp content, '(\\S+) (.*)' as content, rest | where content like '10.%'",
        // Merged conditions, the second failing on some rows (named as stage 3).
        "* | parse-regexp content, '(\\S+) (\\S+)' as ip, method | where method != 'PUT' \
         | where cast(n AS BIGINT) > 0",
        // A condition that fails the whole batch.
        "* | parse-regexp content, '(\\S+) (\\S+)' as ip, method | where split(method, 'x')",
        // Groups that take no part, a where keeping no row, the unanchored matcher.
        "* | parse-regexp content, '(\\d+)\\.(\\d+)(x)?' as a, b, c | where b = '0'",
        "* | parse-regexp content, '(\\S+) (\\S+)' as ip, method | where ip = 'none'",
    ] {
        let r = same_results(spl);
        assert!(
            has(&r, "extracted only for the rows the condition keeps"),
            "{spl}: {r:#?}"
        );
    }
    let spl = "* | parse-regexp content, '(\\S+) (\\S+) \\S+ (\\S+)' as ip, method, status \
               | where cast(status AS BIGINT) >= 500";
    let p = compile(spl, ErrorPolicy::ErrorStream, true);
    assert!(
        p.plan_text()
            .contains("ip, method extracted after it, for the rows it keeps"),
        "{}",
        p.plan_text()
    );
    let out = p.process(tricky()).unwrap();
    let failed = Renderer::default().rows(&out.errors[0].rows);
    assert_eq!(failed[0]["method"], "POST", "{failed:?}");
    assert_eq!(out.errors[0].stage, 2);
    let kept = Renderer::default().rows(&out.datasets[0][0]);
    let methods: Vec<Option<&str>> = kept
        .iter()
        .map(|r| r.get("method").map(String::as_str))
        .collect();
    assert_eq!(methods, [Some("GET"), Some("PUT"), None]);
}
