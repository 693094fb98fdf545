//! Buffering stages (`stats`, `sort`, `limit`) driven through `ops::build_stage` the way a
//! runner does: one state per run, several batches with different schemas pushed, then
//! `finish`. Rows are compared as text (spec §18.4), in output order.
mod common;
use common::{batch, rows_of, Row};

use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use spl_engine::expr::Session;
use spl_engine::ops::{self, Stage, StageOutput, Stats};

/// The output of a run: batches and error rows (with their messages).
struct Run {
    batches: Vec<RecordBatch>,
    errors: Vec<(Row, String)>,
}

impl Run {
    fn rows(&self) -> Vec<Row> {
        self.batches.iter().flat_map(rows_of).collect()
    }
}

fn collect(out: StageOutput, next: &mut Vec<RecordBatch>, errors: &mut Vec<(Row, String)>) {
    next.extend(out.batches);
    for e in out.errors {
        for r in rows_of(&e.rows) {
            errors.push((r, e.message.clone()));
        }
    }
}

fn run_stages(stages: &[Stage], input: Vec<RecordBatch>) -> Run {
    let session = Session::default();
    let mut batches = input;
    let mut errors = Vec::new();
    for stage in stages {
        let mut next = Vec::new();
        match stage {
            Stage::Row(op) => {
                for b in batches {
                    let out = op
                        .process(b, &session)
                        .unwrap_or_else(|e| panic!("{}", e.message));
                    collect(out, &mut next, &mut errors);
                }
            }
            Stage::Buffering(op) => {
                let mut state = op.start();
                for b in batches {
                    let out = state
                        .push(b, &session)
                        .unwrap_or_else(|e| panic!("{}", e.message));
                    collect(out, &mut next, &mut errors);
                }
                let out = state
                    .finish(&session)
                    .unwrap_or_else(|e| panic!("{}", e.message));
                collect(out, &mut next, &mut errors);
            }
        }
        batches = next;
    }
    Run { batches, errors }
}

fn stages(spl: &str) -> Vec<Stage> {
    let program = spl_parser::parse(spl).unwrap_or_else(|d| panic!("{d}"));
    program.statements[0]
        .pipeline
        .stages
        .iter()
        .map(|i| ops::build_stage(i).unwrap_or_else(|d| panic!("{}", d.message)))
        .collect()
}

/// Runs a one-statement SPL text over several input batches.
fn run(spl: &str, input: Vec<RecordBatch>) -> Run {
    run_stages(&stages(spl), input)
}

/// The diagnostic of building the first stage.
fn build_error(spl: &str) -> spl_parser::Diagnostic {
    let program = spl_parser::parse(spl).unwrap_or_else(|d| panic!("{d}"));
    match ops::build_stage(&program.statements[0].pipeline.stages[0]) {
        Ok(_) => panic!("`{spl}` built"),
        Err(d) => *d,
    }
}

fn row(pairs: &[(&str, &str)]) -> Row {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn column(rows: &[Row], name: &str) -> Vec<Option<String>> {
    rows.iter().map(|r| r.get(name).cloned()).collect()
}

fn texts(values: &[&str]) -> Vec<Option<String>> {
    values.iter().map(|v| Some(v.to_string())).collect()
}

// ---------------------------------------------------------------- stats

#[test]
fn stats_count_by_key_over_batches_in_first_seen_order() {
    // Doc case stats-1, split over two batches with different schemas.
    let out = run(
        "* | stats pv=count(*) by ip",
        vec![
            batch(&[&[("ip", "192.168.1.1"), ("latencyMs", "10")]]),
            batch(&[
                &[("ip", "192.168.1.1"), ("latencyMs", "20")],
                &[("ip", "192.168.1.2"), ("other", "x")],
            ]),
        ],
    );
    assert_eq!(
        out.rows(),
        vec![
            row(&[("ip", "192.168.1.1"), ("pv", "2")]),
            row(&[("ip", "192.168.1.2"), ("pv", "1")]),
        ]
    );
    // Key fields first, aggregates after, as BIGINT.
    let schema = out.batches[0].schema();
    assert_eq!(schema.field(0).name(), "ip");
    assert_eq!(schema.field(1).data_type(), &DataType::Int64);
}

#[test]
fn stats_evaluates_a_repeated_argument_once_but_every_call_on_its_own() {
    // `cast(v as double)` feeds two aggregates and the key `k` is also an argument: the shared
    // values give the same results as separate ones, and a row failing the shared cast is one
    // error row, not two.
    let out = run(
        "* | stats lo = min(cast(v as double)), hi = max(cast(v as double)), n = count(k), \
         a = sum(random()), b = sum(random()) by k",
        vec![batch(&[
            &[("k", "x"), ("v", "1.5")],
            &[("k", "x"), ("v", "4")],
            &[("k", "y"), ("v", "bad")],
            &[("k", "y"), ("v", "2")],
        ])],
    );
    let rows = out.rows();
    assert_eq!(column(&rows, "lo"), texts(&["1.5", "2.0"]));
    assert_eq!(column(&rows, "hi"), texts(&["4.0", "2.0"]));
    assert_eq!(column(&rows, "n"), texts(&["2", "1"]));
    assert_eq!(out.errors.len(), 1, "{:?}", out.errors);
    // `random()` is called apart for each aggregate: two independent sums.
    assert_ne!(column(&rows, "a"), column(&rows, "b"));
}

#[test]
fn stats_min_max_after_cast_doc_case_stats_2_corrected() {
    let out = run(
        "* | extend latencyMs=cast(latencyMs as bigint) | stats minLatencyMs=min(latencyMs), maxLatencyMs=max(latencyMs) by ip",
        vec![batch(&[
            &[("ip", "192.168.1.1"), ("latencyMs", "10")],
            &[("ip", "192.168.1.1"), ("latencyMs", "20")],
            &[("ip", "192.168.1.2"), ("latencyMs", "10")],
        ])],
    );
    assert_eq!(
        out.rows(),
        vec![
            row(&[
                ("ip", "192.168.1.1"),
                ("minLatencyMs", "10"),
                ("maxLatencyMs", "20")
            ]),
            row(&[
                ("ip", "192.168.1.2"),
                ("minLatencyMs", "10"),
                ("maxLatencyMs", "10")
            ]),
        ]
    );
}

#[test]
fn stats_min_max_keep_the_argument_type_text_compares_as_text() {
    let out = run(
        "* | stats lo=min(t), hi=max(t), s=sum(t), a=avg(t), nlo=min(cast(t as bigint)), nhi=max(try_cast(t as double))",
        vec![
            batch(&[&[("t", "9")], &[("t", "10")]]),
            batch(&[&[("t", "-")], &[("u", "1")], &[("t", " 100 ")]]),
        ],
    );
    // min/max over VARCHAR keep VARCHAR and compare in text order (like `sort`); sum/avg read
    // numeric text as numbers (§18.2); over numbers min/max stay numeric.
    assert_eq!(
        out.rows(),
        vec![row(&[
            ("lo", " 100 "),
            ("hi", "9"),
            ("s", "119"),
            ("a", "39.666666666666664"),
            ("nlo", "9"),
            ("nhi", "100.0")
        ])]
    );
    assert_eq!(out.batches[0].column(0).data_type(), &DataType::Utf8View);
    assert_eq!(out.batches[0].column(4).data_type(), &DataType::Int64);
    assert_eq!(out.batches[0].column(5).data_type(), &DataType::Float64);
}

#[test]
fn stats_min_max_of_text_without_numbers_compare_as_text() {
    let out = run(
        "* | stats lo=min(v), hi=max(v)",
        vec![batch(&[
            &[("v", "beta")],
            &[("v", "alpha")],
            &[("v", "Gamma")],
        ])],
    );
    assert_eq!(out.rows(), vec![row(&[("lo", "Gamma"), ("hi", "beta")])]);
}

#[test]
fn stats_sum_is_bigint_for_integers_and_double_otherwise() {
    let out = run(
        "* | stats i=sum(a), d=sum(b), none=sum(c) by k",
        vec![batch(&[
            &[("k", "x"), ("a", "1"), ("b", "1.5")],
            &[("k", "x"), ("a", "2"), ("b", "2")],
            &[("k", "y"), ("a", "5")],
        ])],
    );
    assert_eq!(
        out.rows(),
        vec![
            row(&[("k", "x"), ("i", "3"), ("d", "3.5")]),
            row(&[("k", "y"), ("i", "5")]),
        ]
    );
    let schema = out.batches[0].schema();
    assert_eq!(
        schema.field_with_name("i").unwrap().data_type(),
        &DataType::Int64
    );
    assert_eq!(
        schema.field_with_name("d").unwrap().data_type(),
        &DataType::Float64
    );
}

#[test]
fn stats_counts_non_null_true_and_distinct_values() {
    let out = run(
        "* | stats n=count(*), c=count(ua), e=count_if(status = '500'), d=count(distinct ua), hll=approx_distinct(ua)",
        vec![
            batch(&[
                &[("ua", "a"), ("status", "500")],
                &[("ua", "b"), ("status", "200")],
            ]),
            batch(&[&[("status", "500")], &[("ua", "a")]]),
        ],
    );
    assert_eq!(
        out.rows(),
        vec![row(&[
            ("n", "4"),
            ("c", "3"),
            ("e", "2"),
            ("d", "2"),
            ("hll", "2")
        ])]
    );
}

#[test]
fn stats_without_by_over_no_rows_gives_one_row() {
    let out = run("* | stats n=count(*), s=sum(x), m=max(x)", vec![]);
    assert_eq!(out.rows(), vec![row(&[("n", "0")])]);
    let with_by = run("* | stats n=count(*) by ip", vec![batch(&[])]);
    assert!(with_by.rows().is_empty());
}

#[test]
fn stats_group_keys_named_expressions_and_null_group() {
    let out = run(
        "* | stats n=count(*) by k=lower(ip), upper(ip)",
        vec![
            batch(&[&[("ip", "A")], &[("ip", "a")]]),
            batch(&[&[("other", "1")]]),
        ],
    );
    assert_eq!(
        out.rows(),
        vec![
            row(&[("k", "a"), ("upper(ip)", "A"), ("n", "2")]),
            row(&[("n", "1")]),
        ]
    );
}

#[test]
fn stats_keys_keep_their_type() {
    let out = run(
        "* | extend s=cast(status as bigint) | stats n=count(*) by s",
        vec![batch(&[
            &[("status", "200")],
            &[("status", "500")],
            &[("status", "200")],
        ])],
    );
    assert_eq!(
        out.batches[0].schema().field(0).data_type(),
        &DataType::Int64
    );
    assert_eq!(column(&out.rows(), "n"), texts(&["2", "1"]));
}

#[test]
fn stats_key_missing_in_the_first_batch_joins_later_batches() {
    let out = run(
        "* | stats n=count(*) by ip",
        vec![
            batch(&[&[("x", "1")]]),
            batch(&[&[("ip", "1.1.1.1")], &[("x", "2")]]),
        ],
    );
    assert_eq!(
        out.rows(),
        vec![row(&[("n", "2")]), row(&[("ip", "1.1.1.1"), ("n", "1")])]
    );
}

#[test]
fn stats_max_groups_keeps_the_first_groups_seen() {
    let program = spl_parser::parse("* | stats n=count(*) by k").unwrap();
    let instr = &program.statements[0].pipeline.stages[0];
    let spl_parser::InstructionKind::Stats {
        aggregates,
        group_by,
    } = &instr.kind
    else {
        panic!("not stats")
    };
    let op = Stats::new(aggregates, group_by)
        .unwrap()
        .with_max_groups(Some(2));
    let out = run_stages(
        &[Stage::Buffering(Box::new(op))],
        vec![
            batch(&[&[("k", "a")], &[("k", "b")], &[("k", "c")]]),
            batch(&[&[("k", "a")], &[("k", "d")], &[("k", "b")]]),
        ],
    );
    assert_eq!(
        out.rows(),
        vec![
            row(&[("k", "a"), ("n", "2")]),
            row(&[("k", "b"), ("n", "2")]),
        ]
    );
}

#[test]
fn stats_skewness_and_kurtosis_follow_presto() {
    // Values 1, 2, 3, 10: mean 4, central sums m2 = 50, m3 = 180, m4 = 1394.
    let out = run(
        "* | stats sk=skewness(v), ku=kurtosis(v), few=kurtosis(w)",
        vec![batch(&[
            &[("v", "1"), ("w", "1")],
            &[("v", "2"), ("w", "2")],
            &[("v", "3"), ("w", "3")],
            &[("v", "10")],
        ])],
    );
    let r = &out.rows()[0];
    let sk: f64 = r["sk"].parse().unwrap();
    let ku: f64 = r["ku"].parse().unwrap();
    let n: f64 = 4.0;
    let want_sk = n.sqrt() * 180.0 / 50f64.powf(1.5);
    let want_ku = (n - 1.0) * n * (n + 1.0) / ((n - 2.0) * (n - 3.0)) * 1394.0 / 2500.0
        - 3.0 * (n - 1.0) * (n - 1.0) / ((n - 2.0) * (n - 3.0));
    assert!((sk - want_sk).abs() < 1e-9, "{sk} vs {want_sk}");
    assert!((ku - want_ku).abs() < 1e-9, "{ku} vs {want_ku}");
    assert!(!r.contains_key("few"), "kurtosis of 3 values is NULL");
}

#[test]
fn stats_approx_percentile_scalar_and_array_forms() {
    let rows: Vec<Vec<(&str, String)>> = (1..=9).map(|i| vec![("v", i.to_string())]).collect();
    let refs: Vec<Vec<(&str, &str)>> = rows
        .iter()
        .map(|r| r.iter().map(|(k, v)| (*k, v.as_str())).collect())
        .collect();
    let slices: Vec<&[(&str, &str)]> = refs.iter().map(|r| r.as_slice()).collect();
    let out = run(
        "* | stats p50=approx_percentile(v, 0.5), ps=approx_percentile(v, ARRAY[0, 1]), d=approx_percentile(cast(v as double) / 2, 0.5)",
        vec![batch(&slices)],
    );
    assert_eq!(
        out.rows(),
        vec![row(&[("p50", "5"), ("ps", "[1,9]"), ("d", "2.5")])]
    );
}

/// Thousands of values per group over many batches (each group's values are merged into its
/// t-digest a few hundred at a time): every percentile is the value of a rank within 1% of the
/// exact rank, the array form gives exactly what the scalar forms give, and other batch sizes
/// give the same estimates.
#[test]
fn stats_approx_percentile_of_many_values_in_many_batches() {
    // Group `a`: 0..5000 shuffled; group `b`: squares, so the tail is sparse.
    let n = 5000u64;
    let values: Vec<(String, String)> = (0..2 * n)
        .map(|i| {
            let j = (i / 2 * 7919) % n;
            if i % 2 == 0 {
                ("a".to_string(), j.to_string())
            } else {
                ("b".to_string(), (j * j).to_string())
            }
        })
        .collect();
    let rows: Vec<Vec<(&str, &str)>> = values
        .iter()
        .map(|(k, v)| vec![("k", k.as_str()), ("v", v.as_str())])
        .collect();
    let batches = |size: usize| {
        rows.chunks(size)
            .map(|c| {
                let slices: Vec<&[(&str, &str)]> = c.iter().map(|r| r.as_slice()).collect();
                batch(&slices)
            })
            .collect()
    };
    let spl = "* | stats p10=approx_percentile(v, 0.1), p50=approx_percentile(v, 0.5), p99=approx_percentile(v, 0.99), ps=approx_percentile(v, ARRAY[0.1, 0.5, 0.99]) by k";
    let rows = run(spl, batches(333)).rows();
    // The estimates do not depend on how the input was cut into batches.
    assert_eq!(run(spl, batches(1000)).rows(), rows);
    assert_eq!(run(spl, batches(17)).rows(), rows);
    assert_eq!(rows.len(), 2);
    for r in &rows {
        // The rank of a value in its group (b holds squares).
        let rank = |v: f64| if r["k"] == "a" { v } else { v.sqrt() };
        let mut scalars = Vec::new();
        for (name, q) in [("p10", 0.1), ("p50", 0.5), ("p99", 0.99)] {
            let got: f64 = r[name].parse().unwrap();
            let want = q * (n - 1) as f64;
            assert!(
                (rank(got) - want).abs() <= 0.01 * n as f64,
                "{} {name}: {got} has rank {} vs exact {want}",
                r["k"],
                rank(got)
            );
            scalars.push(r[name].clone());
        }
        assert_eq!(r["ps"], format!("[{}]", scalars.join(",")));
    }
}

#[test]
fn stats_boolean_arbitrary_and_array_agg() {
    let out = run(
        "* | stats all_ok=bool_and(ok = 'y'), any_ok=bool_or(ok = 'y'), ev=every(ok = 'y'), one=arbitrary(ok), list=array_agg(ok) by k",
        vec![
            batch(&[&[("k", "a"), ("ok", "y")], &[("k", "b"), ("ok", "n")]]),
            batch(&[&[("k", "a")], &[("k", "a"), ("ok", "n")]]),
        ],
    );
    assert_eq!(
        out.rows(),
        vec![
            row(&[
                ("k", "a"),
                ("all_ok", "false"),
                ("any_ok", "true"),
                ("ev", "false"),
                ("one", "y"),
                ("list", r#"["y",null,"n"]"#),
            ]),
            row(&[
                ("k", "b"),
                ("all_ok", "false"),
                ("any_ok", "false"),
                ("ev", "false"),
                ("one", "n"),
                ("list", r#"["n"]"#),
            ]),
        ]
    );
}

#[test]
fn stats_sets_failing_rows_aside() {
    let out = run(
        "* | stats s=sum(cast(v as bigint)) by k",
        vec![batch(&[
            &[("k", "a"), ("v", "1")],
            &[("k", "a"), ("v", "abc")],
            &[("k", "a"), ("v", "2")],
        ])],
    );
    assert_eq!(out.rows(), vec![row(&[("k", "a"), ("s", "3")])]);
    assert_eq!(out.errors.len(), 1);
    assert_eq!(out.errors[0].0.get("v").map(String::as_str), Some("abc"));
}

#[test]
fn stats_rejects_unknown_and_non_aggregates_at_build_time() {
    let d = build_error("* | stats n=cuont(*)");
    assert_eq!(d.code.id, "E1001");
    assert_eq!(d.help.as_deref(), Some("did you mean `count`?"));
    let d = build_error("* | stats n=lower(ip)");
    assert_eq!(d.code.id, "E0027");
    let d = build_error("* | stats n=count(*) + 1");
    assert_eq!(d.code.id, "E0027");
    let d = build_error("* | stats ip=count(*) by ip");
    assert_eq!(d.code.id, "E0022");
    let d = build_error("* | stats p=approx_percentile(v, 1.5)");
    assert_eq!(d.code.id, "E1002");
    let d = build_error("* | stats s=sum(a, b)");
    assert_eq!(d.code.id, "E1002");
    let d = build_error("* | stats s=sum(distinct a)");
    assert_eq!(d.code.id, "E1009");
}

#[test]
fn stats_non_numeric_argument_type_fails_the_batch() {
    let program = spl_parser::parse("* | extend b = x = 'y' | stats s=sum(b)").unwrap();
    let st: Vec<Stage> = program.statements[0]
        .pipeline
        .stages
        .iter()
        .map(|i| ops::build_stage(i).unwrap())
        .collect();
    let session = Session::default();
    let Stage::Row(extend) = &st[0] else { panic!() };
    let Stage::Buffering(stats) = &st[1] else {
        panic!()
    };
    let b = extend
        .process(batch(&[&[("x", "y")]]), &session)
        .unwrap()
        .batches
        .remove(0);
    let err = stats.start().push(b, &session).err().unwrap();
    assert!(
        err.message.contains("needs a number, got BOOLEAN"),
        "{}",
        err.message
    );
}

// ---------------------------------------------------------------- sort

#[test]
fn sort_multi_key_with_nulls_last_and_stable_ties() {
    let out = run(
        "* | sort a, b desc",
        vec![
            batch(&[
                &[("id", "1"), ("a", "x"), ("b", "1")],
                &[("id", "2"), ("b", "9")],
                &[("id", "3"), ("a", "w"), ("b", "1")],
            ]),
            batch(&[
                &[("id", "4"), ("a", "x"), ("b", "2")],
                &[("id", "5"), ("a", "x"), ("b", "1")],
                &[("id", "6"), ("a", "w")],
            ]),
        ],
    );
    assert_eq!(
        column(&out.rows(), "id"),
        texts(&["3", "6", "4", "1", "5", "2"])
    );
}

#[test]
fn sort_desc_keeps_nulls_last() {
    let out = run(
        "* | sort v desc",
        vec![batch(&[
            &[("id", "1")],
            &[("id", "2"), ("v", "a")],
            &[("id", "3"), ("v", "b")],
        ])],
    );
    assert_eq!(column(&out.rows(), "id"), texts(&["3", "2", "1"]));
}

#[test]
fn sort_orders_by_the_evaluated_type() {
    let input = || vec![batch(&[&[("v", "9")], &[("v", "10")], &[("v", "100")]])];
    let text = run("* | sort v", input());
    assert_eq!(column(&text.rows(), "v"), texts(&["10", "100", "9"]));
    let numeric = run("* | sort cast(v as bigint)", input());
    assert_eq!(column(&numeric.rows(), "v"), texts(&["9", "10", "100"]));
}

#[test]
fn sort_aligns_batches_with_different_schemas_and_types() {
    // `n` is BIGINT in the first batch and VARCHAR in the second: compared as text.
    let out = run(
        "* | sort n desc",
        vec![
            batch(&[&[("n", "5"), ("a", "1")]]),
            batch(&[&[("n", "40"), ("b", "2")], &[("c", "3")]]),
        ]
        .into_iter()
        .enumerate()
        .map(|(i, b)| {
            if i == 0 {
                let r = run("* | extend n = cast(n as bigint)", vec![b]);
                r.batches.into_iter().next().unwrap()
            } else {
                b
            }
        })
        .collect(),
    );
    assert_eq!(
        out.rows(),
        vec![
            row(&[("__time__", "1700000000"), ("n", "5"), ("a", "1")]),
            row(&[("__time__", "1700000000"), ("n", "40"), ("b", "2")]),
            row(&[("__time__", "1700000000"), ("c", "3")]),
        ]
    );
}

#[test]
fn sort_sets_failing_rows_aside() {
    let out = run(
        "* | sort cast(v as bigint)",
        vec![batch(&[&[("v", "2")], &[("v", "x")], &[("v", "1")]])],
    );
    assert_eq!(column(&out.rows(), "v"), texts(&["1", "2"]));
    assert_eq!(out.errors.len(), 1);
}

// ---------------------------------------------------------------- limit

#[test]
fn limit_streams_and_stops() {
    let stages = stages("* | limit 3");
    let Stage::Buffering(op) = &stages[0] else {
        panic!("limit is a buffering stage")
    };
    let session = Session::default();
    let mut state = op.start();
    let first = state
        .push(batch(&[&[("i", "1")], &[("i", "2")]]), &session)
        .unwrap();
    // Rows come out as they arrive.
    assert_eq!(first.batches.iter().map(|b| b.num_rows()).sum::<usize>(), 2);
    let second = state
        .push(batch(&[&[("i", "3")], &[("i", "4")]]), &session)
        .unwrap();
    assert_eq!(
        second
            .batches
            .iter()
            .flat_map(rows_of)
            .map(|r| r["i"].clone())
            .collect::<Vec<_>>(),
        vec!["3"]
    );
    let third = state.push(batch(&[&[("i", "5")]]), &session).unwrap();
    assert!(third.batches.is_empty());
    assert!(state.finish(&session).unwrap().batches.is_empty());
}

#[test]
fn limit_with_offset_across_batches() {
    let out = run(
        "* | limit 3, 2",
        vec![
            batch(&[&[("i", "1")], &[("i", "2")]]),
            batch(&[&[("i", "3")], &[("i", "4")], &[("i", "5")]]),
            batch(&[&[("i", "6")]]),
        ],
    );
    assert_eq!(column(&out.rows(), "i"), texts(&["4", "5"]));
    let none = run("* | limit 0", vec![batch(&[&[("i", "1")]])]);
    assert!(none.rows().is_empty());
}

// ---------------------------------------------------------------- together

#[test]
fn stats_then_sort_then_limit() {
    let out = run(
        "* | stats pv=count(*) by ip | sort pv desc, ip | limit 2",
        vec![
            batch(&[&[("ip", "a")], &[("ip", "b")], &[("ip", "c")]]),
            batch(&[&[("ip", "c")], &[("ip", "b")], &[("ip", "c")]]),
        ],
    );
    assert_eq!(
        out.rows(),
        vec![
            row(&[("ip", "c"), ("pv", "3")]),
            row(&[("ip", "b"), ("pv", "2")]),
        ]
    );
}

// ---------------------------------------------------------------- conformance file

/// Every case of `testdata/conformance/stats.jsonl` holds with this driver (input rows in one
/// batch, rows compared in order; `__time__`, added by the batch builder, is ignored).
#[test]
fn conformance_cases_hold() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/conformance/stats.jsonl"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let mut checked = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let case: serde_json::Value = serde_json::from_str(line).unwrap();
        let id = case["id"].as_str().unwrap();
        let pairs = |v: &serde_json::Value| -> Vec<(String, String)> {
            v.as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect()
        };
        let input: Vec<Vec<(String, String)>> = case["input"]
            .as_array()
            .unwrap()
            .iter()
            .map(pairs)
            .collect();
        let refs: Vec<Vec<(&str, &str)>> = input
            .iter()
            .map(|r| r.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect())
            .collect();
        let slices: Vec<&[(&str, &str)]> = refs.iter().map(|r| r.as_slice()).collect();
        let batches = if slices.is_empty() {
            vec![]
        } else {
            vec![batch(&slices)]
        };
        let got: Vec<Row> = run(case["spl"].as_str().unwrap(), batches)
            .rows()
            .into_iter()
            .map(|mut r| {
                r.remove("__time__");
                r
            })
            .collect();
        let want: Vec<Row> = case["output"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| pairs(r).into_iter().collect())
            .collect();
        assert_eq!(got, want, "case {id}");
        checked += 1;
    }
    assert!(checked >= 10);
}

#[test]
fn stats_min_max_of_timestamps_keep_the_type() {
    let out = run(
        "* | stats first=min(cast(t as timestamp)), last=max(cast(t as timestamp))",
        vec![
            batch(&[
                &[("t", "2024-01-02 00:00:00")],
                &[("t", "2023-12-31 23:59:59")],
            ]),
            batch(&[&[("x", "1")], &[("t", "2024-03-01 08:00:00")]]),
        ],
    );
    assert_eq!(
        out.rows(),
        vec![row(&[
            ("first", "2023-12-31 23:59:59.000"),
            ("last", "2024-03-01 08:00:00.000"),
        ])]
    );
}
