//! A fixed set of programs, compiled once per error policy, run over arbitrary bytes decoded as
//! raw lines, JSON lines or CSV (the engine's codec). Nothing may panic; for the programs that
//! keep every row, rows in = rows out + error rows under each policy.
#![no_main]
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use spl_engine::codec::{first_non_blank_line, Decoder, InputFormat};
use spl_engine::pipeline::{ErrorPolicy, Options, Pipeline, Profile};

/// (program, keeps every row).
const PROGRAMS: &[(&str, bool)] = &[
    ("* | where level = 'ERROR' or cast(status as bigint) >= 500", false),
    ("* | extend n = try_cast(status as bigint) * 2, u = upper(msg) | project-away content", true),
    ("* | extend n = cast(status as bigint) + 1", true),
    ("* | parse-regexp content, '(\\S+)\\s+(\\w+) (\\S+)' as ip, method, uri", true),
    ("* | parse-json content", true),
    ("* | parse-kv content, '&', '='", true),
    ("* | parse-csv content as a, b, c", true),
    ("* | project level, status, content", true),
    ("* | extend j = json_extract_scalar(content, '$.a'), l = length(content) | where l > 3", false),
    (".let x = * | extend k = concat(level, '-', status); $x | where k like '%5%'; $x | project k", false),
    ("* | expand-values -path='$.b' content", false),
    ("* | stats count(*) as c by level", false),
];

const POLICIES: [ErrorPolicy; 4] = [
    ErrorPolicy::ErrorStream,
    ErrorPolicy::PassThrough,
    ErrorPolicy::Drop,
    ErrorPolicy::Fail,
];

fn pipelines() -> &'static Vec<Vec<Pipeline>> {
    static PIPELINES: OnceLock<Vec<Vec<Pipeline>>> = OnceLock::new();
    PIPELINES.get_or_init(|| {
        PROGRAMS
            .iter()
            .map(|(spl, _)| {
                POLICIES
                    .iter()
                    .map(|&policy| {
                        let options = Options {
                            error_policy: Some(policy),
                            ..Options::new(Profile::Cli)
                        };
                        Pipeline::compile(spl, &options)
                            .unwrap_or_else(|d| panic!("{spl}: {}", d.render("spl", spl, false)))
                    })
                    .collect()
            })
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let [program, mode, input @ ..] = data else {
        return;
    };
    let index = *program as usize % PROGRAMS.len();
    let (_, keeps_rows) = PROGRAMS[index];
    let policy = (*mode as usize / 3) % POLICIES.len();
    let pipeline = &pipelines()[index][policy];
    let mut decoder = Decoder::new(match mode % 3 {
        0 => InputFormat::Raw,
        1 => InputFormat::Json,
        _ => InputFormat::Csv,
    });
    let (chunk, first_line) = if decoder.needs_header() {
        let Some(first) = first_non_blank_line(input) else {
            return;
        };
        if decoder.set_header(first.text).is_err() {
            return;
        }
        (&input[first.end..], first.lines + 1)
    } else {
        (input, 1)
    };
    let decoded = decoder.decode(chunk, first_line);
    assert!(decoded.errors.len() as u64 <= decoded.lines);
    let rows_in = decoded.batch.num_rows() as u64;
    assert!(rows_in + decoded.errors.len() as u64 <= decoded.lines);
    let outputs = match pipeline.process(decoded.batch) {
        Ok(outputs) => outputs,
        Err(e) => {
            assert_eq!(POLICIES[policy], ErrorPolicy::Fail, "{e}");
            return;
        }
    };
    if !keeps_rows || outputs.budget_exceeded > 0 {
        return;
    }
    let rows_out = outputs.rows() as u64;
    let stream: u64 = outputs
        .errors
        .iter()
        .map(|e| e.rows.num_rows() as u64)
        .sum();
    match POLICIES[policy] {
        ErrorPolicy::ErrorStream => assert_eq!(
            rows_in,
            rows_out + stream + outputs.error_rows,
            "rows in = rows out + error rows ({})",
            PROGRAMS[index].0
        ),
        ErrorPolicy::PassThrough | ErrorPolicy::Fail => {
            assert_eq!(rows_in, rows_out, "{}", PROGRAMS[index].0)
        }
        ErrorPolicy::Drop => assert_eq!(
            rows_in,
            rows_out + outputs.error_rows,
            "{}",
            PROGRAMS[index].0
        ),
    }
});
