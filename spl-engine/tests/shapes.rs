//! Every shape of a large program either runs or gets a diagnostic, and none exhausts a stack:
//! `.let` chains 10,000 statements deep, CASE with 10,000 arms, lambdas nested as deep as the
//! parser allows, flat operator chains as long as each profile's text limit, regexes that
//! compile too large, JSONPaths too long. Each runs on a thread with a 2 MiB stack (the default
//! of spawned threads; workers and server threads get more).
mod common;
use common::batch;

use spl_engine::pipeline::{Options, Pipeline, Profile};

/// Runs `f` on a fresh thread with a 2 MiB stack; a stack overflow aborts the test process.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("no panic")
}

/// Compiles `spl` under `profile`: `Ok` with the rows of its first output over two rows, or the
/// diagnostic codes.
fn outcome(spl: String, profile: Profile) -> Result<usize, Vec<String>> {
    on_small_stack(move || {
        let p = Pipeline::compile(&spl, &Options::new(profile)).map_err(|d| {
            d.errors()
                .map(|d| d.code.id.to_string())
                .collect::<Vec<_>>()
        })?;
        let _ = p.plan_text();
        let out = p
            .process(batch(&[&[("a", "1")], &[("a", "2")]]))
            .map_err(|e| vec![e.code().to_string()])?;
        Ok(out.datasets.first().map_or(0, |d| {
            d.iter()
                .map(arrow::record_batch::RecordBatch::num_rows)
                .sum()
        }))
    })
}

#[test]
fn a_let_chain_of_10000_statements_runs() {
    let mut spl = String::from(".let s0 = * | where a <> 'x';\n");
    for i in 1..10_000 {
        spl.push_str(&format!(".let s{i} = $s{} | where a <> 'x';\n", i - 1));
    }
    spl.push_str("$s9999;\n");
    assert_eq!(outcome(spl.clone(), Profile::Cli), Ok(2));
    // Over the agent's text limit: a diagnostic, not a crash.
    assert!(outcome(spl, Profile::Logtail).is_err());
}

#[test]
fn a_case_with_10000_arms_runs() {
    let arms: Vec<String> = (0..10_000)
        .map(|i| format!("when a = '{i}' then {i}"))
        .collect();
    let spl = format!("* | extend x = case {} else -1 end", arms.join(" "));
    assert_eq!(outcome(spl.clone(), Profile::Cli), Ok(2));
    for profile in [Profile::Logtail, Profile::Consumer] {
        let r = outcome(spl.clone(), profile);
        assert!(r.is_err(), "{profile:?}: over the text limit: {r:?}");
    }
}

#[test]
fn nested_lambdas_run_or_get_e0020() {
    // transform(array[1], x0 -> transform(array[x0], x1 -> … xn))
    let nest = |n: usize| {
        let mut body = format!("x{}", n - 1);
        for i in (0..n).rev() {
            let over = if i == 0 {
                "array[1]".to_string()
            } else {
                format!("array[x{}]", i - 1)
            };
            body = format!("transform({over}, x{i} -> {body})");
        }
        format!("* | extend y = {body}")
    };
    assert_eq!(outcome(nest(8), Profile::Cli), Ok(2));
    // 16 nested lambdas are the most; one more is refused at once instead of stalling the
    // compile (each level used to double the planning time).
    assert_eq!(outcome(nest(16), Profile::Cli), Ok(2));
    assert_eq!(
        outcome(nest(17), Profile::Cli),
        Err(vec!["E0020".to_string()])
    );
    let deep = outcome(nest(200), Profile::Cli);
    match deep {
        Ok(rows) => assert_eq!(rows, 2),
        Err(codes) => assert!(codes.contains(&"E0020".to_string()), "{codes:?}"),
    }
}

#[test]
fn flat_chains_up_to_each_profile_text_limit_never_overflow() {
    for profile in Profile::ALL.iter().copied() {
        let limit = profile.limits().max_script_bytes.unwrap_or(64 << 10);
        for (term, sep) in [
            ("1", "+"),
            ("a = '1'", " AND "),
            ("a = '1'", " OR "),
            ("'a'", "||"),
        ] {
            let head = if sep.contains('A') || sep.contains('O') {
                "* | where "
            } else {
                "* | extend x = "
            };
            let n = (limit - head.len()) / (term.len() + sep.len());
            let spl = format!("{head}{}", vec![term; n].join(sep));
            assert!(spl.len() <= limit);
            let r = outcome(spl, profile);
            if let Err(codes) = &r {
                assert!(
                    codes.contains(&"E0020".to_string()),
                    "{profile:?}: {codes:?}"
                );
            }
        }
    }
}

#[test]
fn a_regex_too_large_to_compile_is_a_diagnostic() {
    for spl in [
        "* | parse-regexp a, '((a{100}){100}){100}' as x",
        "* | where regexp_like(a, '((a{100}){100}){100}')",
        "* | parse-kv -regexp a, '((\\w{100}){100}){100}=(\\w+)'",
    ] {
        let codes = outcome(spl.to_string(), Profile::Cli).unwrap_err();
        assert_eq!(codes, ["E1004"], "{spl}");
        let d = Pipeline::compile(spl, &Options::default()).unwrap_err();
        let text = d.render("q", spl, false);
        assert!(text.contains("too large"), "{text}");
    }
}

#[test]
fn a_jsonpath_longer_than_its_limit_is_a_diagnostic() {
    let long = format!("${}", ".a".repeat(spl_engine::jsonpath::MAX_PATH_STEPS + 1));
    let ok = format!("${}", ".a".repeat(spl_engine::jsonpath::MAX_PATH_STEPS));
    assert!(spl_engine::jsonpath::JsonPath::parse(&ok).is_ok());
    let e = spl_engine::jsonpath::JsonPath::parse(&long).unwrap_err();
    assert!(e.message.contains("at most"), "{e}");
    let codes = outcome(
        format!("* | extend x = json_extract(a, '{long}')"),
        Profile::Cli,
    )
    .unwrap_err();
    assert!(!codes.is_empty());
}
