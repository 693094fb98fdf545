//! Event batches: an Arrow `RecordBatch` with one nullable column per field; a NULL is an absent
//! field. Group-level values (`__topic__`, `__source__`, `__tag__:k`) travel as ordinary
//! columns inside the engine; codecs move them in and out of log groups. Helpers here add,
//! replace, drop and rename fields without copying column data.
use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::datatypes::{Field, Schema};
use arrow::error::ArrowError;
use arrow::record_batch::{RecordBatch, RecordBatchOptions};

/// The time fields (spec §2.3): kept by every `project*`, written only by `extend`.
pub const TIME_FIELDS: &[&str] = spl_parser::validate::TIME_FIELDS;

/// True for `__time__` and `__time_ns_part__`.
pub fn is_time_field(name: &str) -> bool {
    TIME_FIELDS.contains(&name)
}

/// Builds a batch from fields and columns, keeping the row count even with no columns.
pub fn from_columns(
    fields: Vec<Field>,
    columns: Vec<ArrayRef>,
    rows: usize,
) -> Result<RecordBatch, ArrowError> {
    RecordBatch::try_new_with_options(
        Arc::new(Schema::new(fields)),
        columns,
        &RecordBatchOptions::new().with_row_count(Some(rows)),
    )
}

/// Sets field `name` to `values`: replaces the column in place, or appends it.
pub fn set_column(
    batch: &RecordBatch,
    name: &str,
    values: ArrayRef,
) -> Result<RecordBatch, ArrowError> {
    let schema = batch.schema();
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    let mut columns = batch.columns().to_vec();
    let field = Field::new(name, values.data_type().clone(), true);
    match schema.index_of(name) {
        Ok(i) => {
            fields[i] = field;
            columns[i] = values;
        }
        Err(_) => {
            fields.push(field);
            columns.push(values);
        }
    }
    from_columns(fields, columns, batch.num_rows())
}

/// Keeps the columns whose index `keep` accepts, in their order.
pub fn retain_columns(
    batch: &RecordBatch,
    keep: impl Fn(usize, &str) -> bool,
) -> Result<RecordBatch, ArrowError> {
    let schema = batch.schema();
    let mut fields = Vec::new();
    let mut columns = Vec::new();
    for (i, f) in schema.fields().iter().enumerate() {
        if keep(i, f.name()) {
            fields.push(f.as_ref().clone());
            columns.push(Arc::clone(batch.column(i)));
        }
    }
    from_columns(fields, columns, batch.num_rows())
}

/// Matches a field name against a glob where `*` stands for any run of characters.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let (p, n) = (pattern.as_bytes(), name.as_bytes());
    let (mut pi, mut ni) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ni < n.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if pi < p.len() && p[pi] == n[ni] {
            pi += 1;
            ni += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("__tag__:*", "__tag__:__path__"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a*b*c", "aXXbYYc"));
        assert!(!glob_match("a*b", "aXXc"));
        assert!(glob_match("abc", "abc"));
        assert!(!glob_match("abc", "abcd"));
        assert!(glob_match("*_ms", "latency_ms"));
    }
}
