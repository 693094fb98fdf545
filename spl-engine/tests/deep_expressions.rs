//! Expressions as deep as the parser accepts compile, print, explain and run on a thread with a
//! 2 MiB stack (the default for spawned threads, and what a server worker gets); deeper ones, of
//! every shape, get E0020 instead of exhausting the stack.
mod common;
use common::{batch, rows_of};

use spl_engine::pipeline::{Options, Pipeline, Profile};
use spl_parser::MAX_EXPR_DEPTH;

/// Runs `f` on a fresh thread with a 2 MiB stack.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("no panic")
}

/// `n` terms joined by `sep`.
fn chain(term: &str, sep: &str, n: usize) -> String {
    vec![term; n].join(sep)
}

/// Queries whose expression tree is `d` levels high (or as close as the shape allows), one per
/// shape: left-deep chains of every precedence level, nesting, lambdas, CASE, calls, unary signs.
fn shapes(d: usize) -> Vec<String> {
    vec![
        format!("* | extend x = {}", chain("1", "+", d)),
        format!("* | extend x = {}", chain("'a'", " || ", d)),
        format!("* | extend x = {}", chain("2", " * ", d)),
        format!("* | where {}", chain("a = '1'", " AND ", d - 1)),
        format!("* | where {}", chain("a = '1'", " OR ", d - 1)),
        format!("* | where {}", chain("a", " = ", d)),
        format!("* | where {} is not null", chain("'a'", " || ", d - 1)),
        format!("* | sort {}", chain("a", " || ", d)),
        format!(
            "* | stats c = count(*) by k = {}",
            chain("a", " || ", d - 1)
        ),
        format!(
            "* | extend x = {}1 + {}{}",
            "abs(".repeat(60),
            chain("1", " + ", d - 62),
            ")".repeat(60)
        ),
        format!(
            "* | extend x = transform(array[1, 2], v -> {})",
            chain("v", " + ", d - 2)
        ),
        format!(
            "* | extend x = case {} else 0 end",
            (0..d * 4)
                .map(|i| format!("when a = '{i}' then {i}"))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        format!(
            "* | extend x = case when a = '1' then {} end",
            chain("1", " + ", d - 2)
        ),
        format!("* | extend x = {}1", "- ".repeat(60)),
        format!(
            "* | extend x = {}{}{}",
            "(1 + ".repeat(60),
            chain("1", " + ", d - 61),
            ")".repeat(60)
        ),
    ]
}

fn compile_and_run(spl: &str) {
    let p = Pipeline::compile(spl, &Options::default()).unwrap_or_else(|d| panic!("{d:?}"));
    let _ = p.plan_text();
    let _ = p.written_plan_text();
    let out = p.process(batch(&[&[("a", "1")], &[("a", "2")], &[]]));
    let out = out.unwrap_or_else(|e| panic!("{e:?}"));
    for d in &out.datasets {
        for b in d {
            let _ = rows_of(b);
        }
    }
    let program = spl_parser::parse(spl).unwrap();
    let printed = program.to_string();
    let again = spl_parser::parse(&printed).unwrap_or_else(|d| panic!("{printed}: {d:?}"));
    assert_eq!(again.to_string(), printed);
}

#[test]
fn expressions_at_the_depth_limit_compile_and_run_on_a_2_mib_stack() {
    for spl in shapes(MAX_EXPR_DEPTH) {
        on_small_stack(move || compile_and_run(&spl));
    }
}

#[test]
fn deeper_expressions_get_e0020_on_a_2_mib_stack() {
    let deeper = MAX_EXPR_DEPTH + 1;
    let mut texts: Vec<String> = shapes(deeper + 2)
        .into_iter()
        // The flat CASE and the bounded nestings stay low whatever `d` is.
        .filter(|s| !s.contains("- - ") && !s.contains("when a = '0'"))
        .collect();
    texts.push(format!("* | extend x = {}", chain("1", "+", 10_000)));
    texts.push(format!("* | where {}", chain("a = '1'", " AND ", 10_000)));
    texts.push(format!("* | where {}", chain("a = '1'", " OR ", 10_000)));
    for profile in [Profile::Cli, Profile::Consumer] {
        for spl in &texts {
            let spl = spl.clone();
            let ids = on_small_stack(move || {
                let d = Pipeline::compile(&spl, &Options::new(profile))
                    .err()
                    .unwrap_or_else(|| panic!("{spl} compiled"));
                d.errors()
                    .map(|d| d.code.id.to_string())
                    .collect::<Vec<_>>()
            });
            assert!(ids.contains(&"E0020".to_string()), "{ids:?}");
        }
    }
}
