//! `spl check`: compile a pipeline under a profile (syntax, options, datasets, functions,
//! instruction availability and limits), print diagnostics, exit 0 (valid) or 2.
use std::process::ExitCode;
use std::sync::Arc;

use spl_engine::functions::geoip::GeoIpDb;

use spl_engine::pipeline::{Options, Pipeline, Profile};

use crate::source::SplSource;

pub fn run(
    source: &SplSource,
    json: bool,
    color: bool,
    profile: Profile,
    geoip: Option<Arc<GeoIpDb>>,
) -> ExitCode {
    let options = Options {
        geoip,
        ..Options::new(profile)
    };
    let (ok, diags) = match Pipeline::compile(&source.text, &options) {
        Ok(p) => (true, p.warnings),
        Err(d) => (false, d),
    };
    if json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&diags.to_json(&source.text)).unwrap_or_default()
        );
    } else if !diags.is_empty() {
        eprint!("{}", diags.render(&source.name, &source.text, color));
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::EXIT_USAGE)
    }
}
