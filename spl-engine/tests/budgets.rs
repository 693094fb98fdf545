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
