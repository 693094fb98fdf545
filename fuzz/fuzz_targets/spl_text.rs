//! Arbitrary bytes as SPL text through what `spl fmt`, `spl check` and `spl explain` do: parse
//! (diagnostics rendered as text and JSON), the canonical printer, `Pipeline::compile` under every
//! profile and the plans `explain` prints (optimized and as written, with the decode plan).
//! Nothing may panic; a text that parses must print to a text that parses back to the same tree
//! (`parse(fmt(x)) == parse(x)`), and printing that tree again gives the same text.
#![no_main]
use libfuzzer_sys::fuzz_target;
use spl_engine::exec::DecodePlan;
use spl_engine::pipeline::{Options, Pipeline, Profile};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let text: &str = &text;
    match spl_parser::parse(text) {
        Ok(program) => {
            let printed = program.to_string();
            match spl_parser::parse(&printed) {
                Ok(again) => {
                    assert!(
                        again == program,
                        "printing changed the tree\n--- input\n{text}\n--- printed\n{printed}"
                    );
                    let twice = again.to_string();
                    assert!(
                        twice == printed,
                        "printing is not stable\n--- printed\n{printed}\n--- again\n{twice}"
                    );
                }
                Err(d) => panic!(
                    "the printed program does not parse\n--- input\n{text}\n--- printed\n{printed}\n{}",
                    d.render("printed", &printed, false)
                ),
            }
        }
        Err(diags) => {
            let _ = diags.render("fuzz", text, false);
            let _ = diags.to_json(text).to_string();
        }
    }
    for &profile in Profile::ALL {
        match Pipeline::compile(text, &Options::new(profile)) {
            Ok(pipeline) => {
                let _ = pipeline.plan_text();
                let _ = pipeline.written_plan_text();
                let _ = pipeline.rewrites();
                let _ = DecodePlan::for_pipeline(&pipeline, true);
                let _ = DecodePlan::for_pipeline(&pipeline, false);
                let _ = pipeline.warnings.render("fuzz", text, false);
            }
            Err(diags) => {
                assert!(
                    diags.has_errors(),
                    "compile failed without an error diagnostic"
                );
                let _ = diags.render("fuzz", text, false);
                let _ = diags.to_json(text).to_string();
            }
        }
    }
});
