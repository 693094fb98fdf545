//! Diagnostics of a document, the same as `spl check` under the document's profile: codes,
//! messages with notes and help, and secondary labels as related information.
use lsp_types::{
    Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString, Uri,
};
use std::sync::Arc;

use spl_engine::functions::geoip::GeoIpDb;
use spl_engine::pipeline::{Options, Pipeline, Profile};
use spl_parser::Severity;

use crate::text;

/// What `spl check --profile <profile> [--geoip FILE]` reports for `source`, as LSP
/// diagnostics.
pub fn check(
    uri: &Uri,
    source: &str,
    profile: Profile,
    geoip: Option<Arc<GeoIpDb>>,
) -> Vec<Diagnostic> {
    let options = Options {
        geoip,
        ..Options::new(profile)
    };
    let diags = match Pipeline::compile(source, &options) {
        Ok(p) => p.warnings,
        Err(d) => d,
    };
    diags
        .items
        .iter()
        .map(|d| {
            let span = d.span();
            let mut message = d.message.clone();
            if let Some(l) = d.labels.iter().find(|l| l.primary) {
                if !l.message.is_empty() && l.message != d.message {
                    message.push_str(&format!(": {}", l.message));
                }
            }
            for n in &d.notes {
                message.push_str(&format!("\nnote: {n}"));
            }
            if let Some(h) = &d.help {
                message.push_str(&format!("\nhelp: {h}"));
            }
            let related: Vec<DiagnosticRelatedInformation> = d
                .labels
                .iter()
                .filter(|l| !l.primary)
                .map(|l| DiagnosticRelatedInformation {
                    location: Location {
                        uri: uri.clone(),
                        range: text::range(source, l.span.start, l.span.end),
                    },
                    message: l.message.clone(),
                })
                .collect();
            Diagnostic {
                range: text::range(source, span.start, span.end),
                severity: Some(match d.severity {
                    Severity::Error => DiagnosticSeverity::ERROR,
                    Severity::Warning => DiagnosticSeverity::WARNING,
                }),
                code: Some(NumberOrString::String(d.code.id.to_string())),
                source: Some("spl".into()),
                message,
                related_information: (!related.is_empty()).then_some(related),
                ..Diagnostic::default()
            }
        })
        .collect()
}

/// `spl fmt`'s output for `source`, or `None` when it does not parse.
pub fn format(source: &str) -> Option<String> {
    spl_parser::parse(source).ok().map(|p| format!("{p}\n"))
}
