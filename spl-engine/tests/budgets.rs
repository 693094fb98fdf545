//! Budgets hold during the work: a runaway lambda, array function or `expand-values` stops at
//! the batch's deadline or memory ceiling while it runs, and is reported with the budget's code
//! and the stage; compile-time folding has its own budget. Assertions are on the error, the
//! stage and the engine's own memory accounting, never on wall time.
mod common;

use std::time::Duration;

use common::batch;
use spl_engine::pipeline::{ErrorPolicy, Options, Pipeline, ProcessError, Profile};

/// The logtail profile (1 s, 50 MiB per batch) with `policy`.
fn logtail(text: &str, policy: Option<ErrorPolicy>) -> Pipeline {
    let mut o = Options::new(Profile::Logtail);
    o.error_policy = policy;
    Pipeline::compile(text, &o).unwrap()
}

const MIB: usize = 1024 * 1024;

/// 10,000 × `a` elements, summed: far over 50 MiB when built whole.
const RUNAWAY: &str = "* | extend r = reduce(flatten(transform(sequence(1, 10000), x -> sequence(1, cast(a as bigint)))), 0, (s, x) -> s + x, s -> s)";

#[test]
fn a_runaway_lambda_stops_at_the_memory_ceiling_and_names_the_stage() {
    let input = batch(&[&[("a", "10000")]]);
    let e = logtail(RUNAWAY, Some(ErrorPolicy::Fail))
        .process(input)
        .unwrap_err();
    assert_eq!(e.code(), "E2004", "{e}");
    let ProcessError::MemoryExceeded { limit, used, stage } = e else {
        panic!("{e:?}")
    };
    assert_eq!(limit, 50 * MIB);
    assert!(used > limit && used <= 2 * limit, "used {used}");
    assert_eq!(stage, "stage 1 (`extend`)");
}

#[test]
fn under_pass_through_the_row_passes_with_the_budget_error() {
    // The agent default: the row leaves unchanged, and the budget (not a data error) is
    // reported.
    let input = batch(&[&[("a", "10000")]]);
    let out = logtail(RUNAWAY, None).process(input.clone()).unwrap();
    assert_eq!(out.budget_exceeded, 1);
    assert_eq!(out.datasets[0], vec![input]);
    let e = out.budget_error.expect("the budget error");
    assert_eq!(e.code(), "E2004", "{e}");
    assert!(e.to_string().contains("stage 1 (`extend`)"), "{e}");
}

#[test]
fn a_runaway_lambda_stops_at_the_deadline() {
    // 10,000 × 10,000 merge steps of one element each: little memory, much time.
    let mut o = Options::new(Profile::Logtail);
    o.error_policy = Some(ErrorPolicy::Fail);
    o.batch_timeout = Some(Duration::from_millis(200));
    o.max_batch_memory = Some(1 << 40);
    let p = Pipeline::compile(
        "* | where a <> '' | extend r = reduce(sequence(1, 10000), 0, (s, x) -> s + reduce(sequence(1, cast(a as bigint)), 0, (t, y) -> t + y, t -> t), s -> s)",
        &o,
    )
    .unwrap();
    let e = p.process(batch(&[&[("a", "10000")]])).unwrap_err();
    assert_eq!(e.code(), "E2003", "{e}");
    let ProcessError::DeadlineExceeded { limit, stage } = e else {
        panic!("{e:?}")
    };
    assert_eq!(limit, Duration::from_millis(200));
    assert!(stage.contains("`extend`"), "{stage}");
}

#[test]
fn rows_of_the_same_batch_share_its_budget_under_pass_through() {
    // One cheap row and one runaway row: the batch is over budget as a whole, not one row
    // failing with a data error.
    let input = batch(&[&[("a", "3")], &[("a", "10000")]]);
    let out = logtail(RUNAWAY, None).process(input.clone()).unwrap();
    assert_eq!(out.budget_exceeded, 1);
    assert_eq!(out.budget_error.as_ref().map(|e| e.code()), Some("E2004"));
    assert_eq!(out.datasets[0], vec![input]);
}

#[test]
fn work_within_the_budget_is_unchanged() {
    let p = logtail(
        "* | extend r = reduce(transform(sequence(1, cast(a as bigint)), x -> x * 2), 0, (s, x) -> s + x, s -> s)",
        Some(ErrorPolicy::Fail),
    );
    let out = p.process(batch(&[&[("a", "100")], &[("a", "3")]])).unwrap();
    let rows = common::rows_of(&out.datasets[0][0]);
    assert_eq!(rows[0]["r"], "10100");
    assert_eq!(rows[1]["r"], "12");
    assert_eq!(out.budget_exceeded, 0);
}

/// A JSON array of `n` ones.
fn ones(n: usize) -> String {
    format!("[{}]", vec!["1"; n].join(","))
}

#[test]
fn expand_values_stops_at_the_memory_ceiling() {
    // 50 rows × 100,000 elements under a 20 MiB ceiling.
    let text = ones(100_000);
    let rows: Vec<Vec<(&str, &str)>> = (0..50).map(|_| vec![("v", text.as_str())]).collect();
    let refs: Vec<&[(&str, &str)]> = rows.iter().map(Vec::as_slice).collect();
    let mut o = Options::new(Profile::Logtail);
    o.error_policy = Some(ErrorPolicy::Fail);
    o.max_batch_memory = Some(20 * MIB);
    let p = Pipeline::compile("* | expand-values v", &o).unwrap();
    let e = p.process(batch(&refs)).unwrap_err();
    assert_eq!(e.code(), "E2004", "{e}");
    let ProcessError::MemoryExceeded { limit, used, stage } = e else {
        panic!("{e:?}")
    };
    assert_eq!(limit, 20 * MIB);
    assert!(used > limit && used <= 2 * limit, "used {used}");
    assert_eq!(stage, "stage 1 (`expand-values`)");
}

#[test]
fn expand_values_within_the_budget_is_unchanged() {
    let text = ones(1000);
    let mut o = Options::new(Profile::Logtail);
    o.error_policy = Some(ErrorPolicy::Fail);
    o.max_batch_memory = Some(20 * MIB);
    let p = Pipeline::compile("* | expand-values v", &o).unwrap();
    let out = p
        .process(batch(&[&[("v", &text)], &[("v", "[2,3]")]]))
        .unwrap();
    assert_eq!(out.rows(), 1002);
    assert_eq!(out.budget_exceeded, 0);
}

#[test]
fn folding_over_its_budget_leaves_the_expression_for_run_time() {
    // The same runaway with a literal: compiling stays cheap (the expression is not folded),
    // and running it is held by the batch's budget.
    let text = "* | extend r = reduce(flatten(transform(sequence(1, 10000), x -> sequence(1, 10000))), 0, (s, x) -> s + x, s -> s)";
    let p = logtail(text, Some(ErrorPolicy::Fail));
    assert!(
        !p.rewrites().iter().any(|r| r.contains("reduce")),
        "{:?}",
        p.rewrites()
    );
    let e = p.process(batch(&[&[("a", "1")]])).unwrap_err();
    assert_eq!(e.code(), "E2004", "{e}");
    // A cheap constant still folds.
    let p = logtail("* | extend r = 1 + 2", None);
    assert!(
        p.rewrites().iter().any(|r| r.contains("folded")),
        "{:?}",
        p.rewrites()
    );
}

/// `text` compiled under the CLI profile with a memory ceiling of `mib` MiB (or a time budget
/// of 1 ns: a deadline that has passed when the first stage starts), failing on any error.
fn limited(text: &str, mib: Option<usize>, timeout: Option<Duration>) -> Pipeline {
    let mut o = Options::new(Profile::Cli);
    o.error_policy = Some(ErrorPolicy::Fail);
    o.max_batch_memory = mib.map(|m| m * MIB);
    o.batch_timeout = timeout;
    Pipeline::compile(text, &o).unwrap_or_else(|d| panic!("{text}: {d:?}"))
}

/// `n` rows with `a` distinct per row and 100 bytes long, `kv` a key=value text.
fn wide_rows(n: usize) -> arrow::record_batch::RecordBatch {
    let values: Vec<(String, String, String)> = (0..n)
        .map(|i| {
            (
                format!("{i:0>100}"),
                format!("{{\"k{}\":\"{i:0>40}\",\"j\":\"{i:0>40}\"}}", i % 7),
                format!("k{}={i:0>60} j={i:0>60}", i % 7),
            )
        })
        .collect();
    let rows: Vec<Vec<(&str, &str)>> = values
        .iter()
        .map(|(a, j, kv)| vec![("a", a.as_str()), ("j", j.as_str()), ("kv", kv.as_str())])
        .collect();
    let refs: Vec<&[(&str, &str)]> = rows.iter().map(Vec::as_slice).collect();
    batch(&refs)
}

/// The memory error of `p` over `input`, checked to name `stage` and to have stopped within
/// twice the ceiling.
fn memory_error(p: &Pipeline, input: arrow::record_batch::RecordBatch, stage: &str) {
    let e = p.process(input).unwrap_err();
    assert_eq!(e.code(), "E2004", "{e}");
    let ProcessError::MemoryExceeded {
        limit,
        used,
        stage: at,
    } = e
    else {
        panic!("{e:?}")
    };
    assert!(used > limit && used <= 2 * limit, "used {used} of {limit}");
    assert_eq!(at, stage);
}

#[test]
fn a_stats_table_over_the_ceiling_stops_at_stats() {
    // 40,000 groups of a 100-byte key: several MiB of table under a 1 MiB ceiling.
    let p = limited("* | stats c = count(*) by a", Some(1), None);
    memory_error(&p, wide_rows(40_000), "stage 1 (`stats`)");
    let p = limited("* | stats d = count(distinct a)", Some(1), None);
    memory_error(&p, wide_rows(40_000), "stage 1 (`stats`)");
    let p = limited("* | stats v = array_agg(a) by k = 1", Some(1), None);
    memory_error(&p, wide_rows(40_000), "stage 1 (`stats`)");
    // The same within the ceiling.
    let p = limited("* | stats c = count(*) by a", Some(64), None);
    assert_eq!(p.process(wide_rows(40_000)).unwrap().rows(), 40_000);
}

#[test]
fn a_stats_table_is_charged_again_for_every_later_batch() {
    // Each batch alone fits; the table they build together does not.
    let p = limited("* | stats c = count(*) by a", Some(2), None);
    let mut run = p.start();
    let mut failed = None;
    let all = wide_rows(40_000);
    for part in 0..20 {
        let b = all.slice(part * 2_000, 2_000);
        if let Err(e) = run.push(b) {
            failed = Some(e);
            break;
        }
    }
    let e = failed.expect("the table outgrew the ceiling");
    assert_eq!(e.code(), "E2004", "{e}");
    assert!(e.to_string().contains("`stats`"), "{e}");
}

#[test]
fn a_sort_buffer_over_the_ceiling_stops_at_sort() {
    // Batches of about 0.5 MiB each under a 2 MiB ceiling: the buffer stops growing at the
    // batch that crosses it.
    let p = limited("* | sort a", Some(2), None);
    let mut run = p.start();
    let e = (0..20)
        .find_map(|_| run.push(wide_rows(2_000)).err())
        .expect("the buffer outgrew the ceiling");
    let ProcessError::MemoryExceeded { limit, used, stage } = e else {
        panic!("{e:?}")
    };
    assert!(used > limit && used <= 2 * limit, "used {used} of {limit}");
    assert_eq!(stage, "stage 1 (`sort`)");
    // Slices of one batch (about 9 MiB of allocations) hold one allocation: buffered, they
    // count once (ten times would be over the ceiling by the fifth slice).
    let p = limited("* | sort a", Some(40), None);
    let mut run = p.start();
    let all = wide_rows(20_000);
    for part in 0..10 {
        run.push(all.slice(part * 2_000, 2_000)).unwrap();
    }
    assert_eq!(run.finish().unwrap().rows(), 20_000);
    let p = limited("* | sort a desc", Some(64), None);
    assert_eq!(p.process(wide_rows(40_000)).unwrap().rows(), 40_000);
}

#[test]
fn parse_stages_are_charged_for_what_they_extract() {
    let p = limited("* | parse-kv kv, ' ', '='", Some(1), None);
    memory_error(&p, wide_rows(40_000), "stage 1 (`parse-kv`)");
    let p = limited("* | parse-json j", Some(1), None);
    memory_error(&p, wide_rows(40_000), "stage 1 (`parse-json`)");
    let p = limited("* | parse-csv -delim=' ' kv as x, y", Some(1), None);
    memory_error(&p, wide_rows(40_000), "stage 1 (`parse-csv`)");
    let p = limited("* | parse-regexp a, '(\\d)(\\d+)' as x, y", Some(1), None);
    memory_error(&p, wide_rows(40_000), "stage 1 (`parse-regexp`)");
}

#[test]
fn every_stage_reports_a_passed_deadline_with_its_name() {
    let nanos = Some(Duration::from_nanos(1));
    for (text, stage) in [
        ("* | parse-regexp a, '(\\d+)' as x", "parse-regexp"),
        ("* | parse-json j", "parse-json"),
        ("* | parse-kv kv, ' ', '='", "parse-kv"),
        ("* | stats c = count(*) by a", "stats"),
        ("* | sort a", "sort"),
        ("* | extend x = repeat(a, 3)", "extend"),
    ] {
        let e = limited(text, None, nanos)
            .process(wide_rows(100))
            .unwrap_err();
        assert_eq!(e.code(), "E2003", "{text}: {e}");
        let ProcessError::DeadlineExceeded { stage: at, .. } = e else {
            panic!("{e:?}")
        };
        assert_eq!(at, format!("stage 1 (`{stage}`)"), "{text}");
    }
}

#[test]
fn amplifying_functions_stop_at_the_row_that_crosses_the_ceiling() {
    // Each row's result is 2 MB; 100 rows would be 200 MB.
    let rows: Vec<Vec<(&str, &str)>> = (0..100).map(|_| vec![("a", "ab")]).collect();
    let refs: Vec<&[(&str, &str)]> = rows.iter().map(Vec::as_slice).collect();
    for text in [
        "* | extend x = repeat(a, 1000000)",
        "* | extend x = lpad(a, 2000000, 'xy')",
        "* | extend x = rpad(a, 2000000, 'xy')",
        "* | extend x = replace(lpad(a, 200000, 'a'), 'a', 'aaaaaaaaaa')",
        "* | extend x = regexp_replace(lpad(a, 200000, 'a'), 'a', 'aaaaaaaaaa')",
        "* | extend x = concat(repeat(a, 500000), repeat(a, 500000))",
    ] {
        memory_error(
            &limited(text, Some(10), None),
            batch(&refs),
            "stage 1 (`extend`)",
        );
    }
    // Splits of long values: 50,000 elements of one byte per row, a view of 16 bytes each.
    let long = "a,".repeat(50_000);
    let rows: Vec<Vec<(&str, &str)>> = (0..100).map(|_| vec![("a", long.as_str())]).collect();
    let refs: Vec<&[(&str, &str)]> = rows.iter().map(Vec::as_slice).collect();
    for text in [
        "* | extend x = split(a, ',')",
        "* | extend x = regexp_split(a, ',')",
        "* | extend x = regexp_extract_all(a, 'a')",
    ] {
        memory_error(
            &limited(text, Some(10), None),
            batch(&refs),
            "stage 1 (`extend`)",
        );
    }
}

#[test]
fn a_budget_of_the_host_holds_across_batches() {
    // A host scope (a server pull) whose deadline has passed: every stage stops at once and
    // the batch is settled by the policy as over budget.
    let p = logtail("* | extend x = concat(a, 'x')", None);
    let _host = spl_engine::budget::enter(
        Some(std::time::Instant::now() - Duration::from_millis(1)),
        None,
    );
    let input = batch(&[&[("a", "1")]]);
    let out = p.process(input.clone()).unwrap();
    assert_eq!(out.budget_exceeded, 1);
    assert_eq!(out.datasets[0], vec![input]);
    assert_eq!(out.budget_error.map(|e| e.code()), Some("E2003"));
}

#[test]
fn memory_counts_shared_allocations_once() {
    // The columns of a decoded chunk are views into one buffer: it counts once.
    let b = wide_rows(1000);
    let once = spl_engine::budget::batches_bytes(std::slice::from_ref(&b));
    let twice = spl_engine::budget::batches_bytes(&[b.clone(), b.clone()]);
    assert_eq!(once, twice);
    let sum: usize = b.columns().iter().map(|c| c.get_array_memory_size()).sum();
    assert!(once <= sum, "{once} > {sum}");
    assert!(once >= 100 * 1000, "{once}");
}
