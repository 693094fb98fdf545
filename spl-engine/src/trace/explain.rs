//! The reason a stage did what it did with one row, in plain words, with the values that
//! decided it: a `where` names its predicate and the fields it read, a `parse-*` that left a row
//! unchanged says what did not match, a failure gives its code and message.
use serde_json::Value;

use super::model::{Reason, Row};
use crate::plan::{Fields, Op, Stage};

/// The value of `field` in `row` (NULL when absent).
pub(super) fn value(row: &Row, field: &str) -> Value {
    row.iter()
        .find(|(n, _)| n == field)
        .map_or(Value::Null, |(_, v)| v.clone())
}

/// The fields `stage` reads by name, with their values in `row`.
pub(super) fn read_values(stage: &Stage, row: &Row) -> Vec<(String, Value)> {
    match stage.reads() {
        Fields::Named(names) => names
            .into_iter()
            .map(|n| {
                let v = value(row, &n);
                (n, v)
            })
            .collect(),
        Fields::Dynamic(_) => Vec::new(),
    }
}

/// `a=1, b=NULL` for the reason text.
fn show_values(values: &[(String, Value)]) -> String {
    values
        .iter()
        .map(|(n, v)| match v {
            Value::Null => format!("{n} is NULL (absent)"),
            Value::String(s) => format!("{n}={}", Value::String(s.clone())),
            other => format!("{n}={other}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn with_values(key: String, values: Vec<(String, Value)>) -> Reason {
    let text = if values.is_empty() {
        key.clone()
    } else {
        format!("{key}: {}", show_values(&values))
    };
    Reason {
        key,
        text,
        code: None,
        values,
    }
}

/// Why a row-level stage emitted no row for `row`.
pub(super) fn dropped(stage: &Stage, row: &Row) -> Reason {
    let values = read_values(stage, row);
    let key = match &stage.op {
        Op::Where(predicates) => {
            let text: Vec<String> = predicates.iter().map(|p| p.expr.to_string()).collect();
            format!("where: `{}` is not true", text.join(" and "))
        }
        Op::LogToMetric { .. } => {
            "log-to-metric: no `-names` field of the row holds a number, so no sample".to_string()
        }
        _ => format!("{}: the stage emitted no row", stage.name()),
    };
    with_values(key, values)
}

/// A note for a row that a parsing stage left unchanged: what did not match.
pub(super) fn unchanged(stage: &Stage, row: &Row) -> Option<Reason> {
    let (field, what) = match &stage.op {
        Op::ParseRegexp(p) => (
            p.field.as_str(),
            format!("parse-regexp: pattern `{}` did not match `{}`", p.source, p.field),
        ),
        Op::ParseCsv { field, .. } => (
            field.as_str(),
            format!("parse-csv: `{field}` gave no values for the names (or their count did not match under -strict)"),
        ),
        Op::ParseJson { field, .. } => (
            field.as_str(),
            format!("parse-json: `{field}` is not a JSON object (or the -path is missing)"),
        ),
        Op::ParseKv { field, .. } => (
            field.as_str(),
            format!("parse-kv: no key-value pair found in `{field}`"),
        ),
        Op::ExpandValues { field, .. } => (
            field.as_str(),
            format!("expand-values: `{field}` is not a non-empty JSON array or object"),
        ),
        _ => return None,
    };
    let v = value(row, field);
    let key = if v.is_null() {
        format!(
            "{}: `{field}` is absent, the row is left unchanged",
            stage.name()
        )
    } else {
        format!("{what}; the row is left unchanged")
    };
    Some(with_values(key, vec![(field.to_string(), v)]))
}

/// A stage failed for `row` with `code` and `message`.
pub(super) fn failed(stage: &Stage, row: &Row, code: &'static str, message: &str) -> Reason {
    let values = read_values(stage, row);
    let key = format!("{}: {code} {message}", stage.name());
    let mut r = with_values(key, values);
    r.code = Some(code);
    r
}

/// A `limit` passed no row for this one.
pub(super) fn limited(offset: u64, count: u64, position: usize) -> Reason {
    let key = if (position as u64) <= offset {
        format!("limit: the first {offset} rows are skipped (offset)")
    } else {
        format!(
            "limit: only rows {}..{} of the stream pass",
            offset + 1,
            offset + count
        )
    };
    Reason {
        text: format!("{key}; this was row {position} to reach it"),
        key,
        code: None,
        values: Vec::new(),
    }
}

/// A row went into group `group` (1-based) of `groups` of a `stats`, keyed by `keys`.
pub(super) fn aggregated(
    stage: &str,
    group: usize,
    groups: usize,
    keys: Vec<(String, Value)>,
) -> Reason {
    let key = format!("{stage}: aggregated into its group");
    let text = if keys.is_empty() {
        format!("{stage}: aggregated into the one group ({groups} rows out)")
    } else {
        format!(
            "{stage}: aggregated into group {group} of {groups}, {}",
            show_values(&keys)
        )
    };
    Reason {
        key,
        text,
        code: None,
        values: keys,
    }
}

/// A row left a `sort` at `position` (1-based) of `rows`.
pub(super) fn sorted(
    stage: &Stage,
    row: &Row,
    position: usize,
    rows: usize,
    moved: bool,
) -> Reason {
    let values = read_values(stage, row);
    let key = "sort: ordered by its keys".to_string();
    Reason {
        text: format!(
            "sort: {} position {position} of {rows}{}",
            if moved { "moved to" } else { "stays at" },
            if values.is_empty() {
                String::new()
            } else {
                format!(", by {}", show_values(&values))
            }
        ),
        key,
        code: None,
        values,
    }
}
