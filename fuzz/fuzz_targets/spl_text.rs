//! Arbitrary bytes as SPL text: parse (with the diagnostics rendered as text and JSON), the
//! formatter round trip, `check` under every profile and `explain` of what compiles. Nothing may
//! panic; a text that parses must print to a text that parses back to the same tree.
#![no_main]
use libfuzzer_sys::fuzz_target;
use spl_engine::pipeline::{Options, Pipeline, Profile};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let text: &str = &text;
    match spl_parser::parse(text) {
        Ok(program) => {
            let printed = program.to_string();
            match spl_parser::parse(&printed) {
                Ok(again) => assert!(
                    again == program,
                    "printing changed the tree\n--- input\n{text}\n--- printed\n{printed}"
                ),
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
