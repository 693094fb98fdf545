//! Diagnostics as data: a code from [`crate::codes`], a message, labelled spans, notes and help.
//! Rendered with carets under the source by codespan-reporting ([`Diagnostics::render`]), or as
//! JSON for tools ([`Diagnostics::to_json`]).
use std::fmt;

use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, termcolor};
use serde::Serialize;

use crate::ast::Span;
use crate::codes::Code;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A span with a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Label {
    pub span: Span,
    pub message: String,
    /// The primary label gets the carets; secondary ones get dashes.
    pub primary: bool,
}

/// One finding about a program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: Code,
    pub message: String,
    pub labels: Vec<Label>,
    pub notes: Vec<String>,
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error with a primary label.
    pub fn error(
        code: Code,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            labels: vec![Label {
                span,
                message: label.into(),
                primary: true,
            }],
            notes: Vec::new(),
            help: None,
        }
    }
    /// A warning with a primary label.
    pub fn warning(
        code: Code,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message, span, label)
        }
    }
    /// Adds a secondary label.
    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
            primary: false,
        });
        self
    }
    /// Adds a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }
    /// Sets the help text.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
    /// Sets the help text when there is one.
    pub fn with_help_opt(mut self, help: Option<String>) -> Self {
        if help.is_some() {
            self.help = help;
        }
        self
    }
    /// The primary span (the first label's when none is primary).
    pub fn span(&self) -> Span {
        self.labels
            .iter()
            .find(|l| l.primary)
            .or(self.labels.first())
            .map(|l| l.span)
            .unwrap_or_default()
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Diagnostics about one source text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Diagnostics {
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new() -> Self {
        Diagnostics::default()
    }
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }
    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter().filter(|d| d.is_error())
    }

    /// Renders every diagnostic with carets under `source`. `color` adds ANSI colours.
    pub fn render(&self, source_name: &str, source: &str, color: bool) -> String {
        let file = SimpleFile::new(source_name, source);
        let config = term::Config::default();
        let mut buffer = if color {
            termcolor::Buffer::ansi()
        } else {
            termcolor::Buffer::no_color()
        };
        for d in &self.items {
            let diag = to_codespan(d, source.len());
            // Rendering into memory cannot fail for spans clamped to the source.
            if term::emit(&mut buffer, &config, &file, &diag).is_err() {
                buffer_fallback(&mut buffer, d);
            }
        }
        String::from_utf8_lossy(buffer.as_slice()).into_owned()
    }

    /// The JSON form for tools and editors: an array of diagnostics with line/column positions.
    pub fn to_json(&self, source: &str) -> serde_json::Value {
        let items: Vec<serde_json::Value> = self
            .items
            .iter()
            .map(|d| {
                let labels: Vec<serde_json::Value> = d
                    .labels
                    .iter()
                    .map(|l| {
                        let (line, column) = line_col(source, l.span.start);
                        let (end_line, end_column) = line_col(source, l.span.end);
                        serde_json::json!({
                            "start": l.span.start, "end": l.span.end,
                            "line": line, "column": column,
                            "end_line": end_line, "end_column": end_column,
                            "message": l.message, "primary": l.primary,
                        })
                    })
                    .collect();
                serde_json::json!({
                    "severity": d.severity,
                    "code": d.code.id,
                    "name": d.code.name,
                    "message": d.message,
                    "labels": labels,
                    "notes": d.notes,
                    "help": d.help,
                })
            })
            .collect();
        serde_json::Value::Array(items)
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.items {
            writeln!(
                f,
                "{}[{}]: {}",
                severity_word(d.severity),
                d.code.id,
                d.message
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics { items: vec![d] }
    }
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = clamp_to_char_boundary(source, offset);
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map(|s| s.chars().count())
        .unwrap_or(0)
        + 1;
    (line, column)
}

fn clamp_to_char_boundary(source: &str, offset: usize) -> usize {
    let mut o = offset.min(source.len());
    while !source.is_char_boundary(o) {
        o -= 1;
    }
    o
}

fn to_codespan(d: &Diagnostic, len: usize) -> cs::Diagnostic<()> {
    let severity = match d.severity {
        Severity::Error => cs::Severity::Error,
        Severity::Warning => cs::Severity::Warning,
    };
    let labels = d
        .labels
        .iter()
        .map(|l| {
            let start = l.span.start.min(len);
            let end = l.span.end.clamp(start, len);
            let style = if l.primary {
                cs::LabelStyle::Primary
            } else {
                cs::LabelStyle::Secondary
            };
            cs::Label::new(style, (), start..end).with_message(l.message.clone())
        })
        .collect();
    let mut notes = d.notes.clone();
    if let Some(h) = &d.help {
        notes.push(format!("help: {h}"));
    }
    cs::Diagnostic::new(severity)
        .with_message(d.message.clone())
        .with_code(d.code.id)
        .with_labels(labels)
        .with_notes(notes)
}

fn buffer_fallback(buffer: &mut termcolor::Buffer, d: &Diagnostic) {
    use std::io::Write;
    let _ = writeln!(
        buffer,
        "{}[{}]: {}",
        severity_word(d.severity),
        d.code.id,
        d.message
    );
}
