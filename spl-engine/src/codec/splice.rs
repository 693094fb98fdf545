//! Edited rows written by splicing their input line (JSON in, JSON out). When a pipeline's only
//! changes to a row are fields removed (`project-away`) and fields added (`extend` of fields
//! the line does not hold), the output object is the input line with the removed member cut
//! out and the new members appended, so the encoder can copy the line's bytes instead of
//! encoding every field again ([`SpliceSpec`], found by `plan::splice_edit`).
//!
//! The spliced bytes must be exactly what encoding the row's fields would give, so the decoder
//! marks a row spliceable ([`CUT_FIELD`]) only when re-encoding its line would reproduce it:
//! the fast scanner read it; it is compact (no whitespace between tokens, none around the
//! object); every value is a string (strings in the scanner's subset hold no escapes, so the
//! encoder writes them as they are); each kept member lands in its own text column, in column
//! order (so no repeated key); it holds at most one member to remove and no member the pipeline
//! writes. Everything else takes the general path. The encoder checks once per batch that the
//! added columns come after all others, and per row that the row still holds exactly the
//! fields it was decoded with.
//!
//! A spliceable row is decoded with only the fields the pipeline reads ([`SpliceSpec::read`]):
//! its output comes from its line. Its other fields are NULL in the batch (a column no row
//! filled is an Arrow NULL array), so wherever such a row must be shown whole — an encoder
//! that cannot splice it after all, an error row — they are taken back from the line
//! ([`fill_spliced`]).
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;

use super::json_scan::{Member, Value};
use super::{Decoder, InputFormat, LINE_FIELD};

/// A hidden column (JSON input under a [`SpliceSpec`]): per row, where the member to cut lies
/// in its input line and how many members are kept, or NULL when the row must be encoded from
/// its fields. Its name cannot be written in SPL.
pub const CUT_FIELD: &str = "\0cut";

/// Lines longer than this are never spliced (their offsets would not fit [`Cut`]).
const MAX_LINE: usize = (1 << 24) - 1;

/// What a pipeline does to every row it outputs, when that is all it does: removes these
/// fields and writes those (in any order); rows pass through or are dropped otherwise.
/// `read`: the input fields its stages read (`None`: any field): a spliced row needs no
/// other field as a column, since its output comes from its line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpliceSpec {
    pub removed: Vec<String>,
    pub written: Vec<String>,
    pub read: Option<Vec<String>>,
}

/// A row's splice: the byte range of its input line to leave out (empty when nothing is cut)
/// and the number of kept members that became columns (the encoder checks that the row still
/// holds exactly that many fields), packed into one `i64` for [`CUT_FIELD`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cut {
    pub start: usize,
    pub end: usize,
    pub kept: usize,
}

impl Cut {
    pub fn pack(self) -> i64 {
        ((self.kept as i64) << 48) | ((self.start as i64) << 24) | self.end as i64
    }

    pub fn unpack(v: i64) -> Cut {
        Cut {
            kept: (v >> 48) as usize & 0xffff,
            start: (v >> 24) as usize & MAX_LINE,
            end: v as usize & MAX_LINE,
        }
    }
}

/// The splice of a scanned line, or `None` when the row must be encoded from its fields.
/// `slot(i)` is the text column member `i` goes to (`None`: not a column, or not text) and
/// whether a spliced row materialises it (a field the pipeline reads). (The decoder calls its
/// two parts itself, remembering the names part for rows with the same names.)
#[cfg(test)]
pub(super) fn cut_of(
    text: &str,
    members: &[Member],
    slot: impl Fn(usize) -> Option<(usize, bool)>,
    spec: &SpliceSpec,
) -> Option<Cut> {
    cut_by(text, members, &names_of(text, members, slot, spec)?)
}

/// What a row's member names allow, the same for every row with the same names in the same
/// columns: which member is cut, and how many kept members become columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Names {
    removed: Option<usize>,
    kept: usize,
}

/// The names part of [`cut_of`]: no member the pipeline writes, at most one it removes, and
/// every kept member in its own text column, in column order (so no repeated name).
pub(super) fn names_of(
    text: &str,
    members: &[Member],
    slot: impl Fn(usize) -> Option<(usize, bool)>,
    spec: &SpliceSpec,
) -> Option<Names> {
    if members.len() > 0xffff {
        return None;
    }
    let mut names = Names {
        removed: None,
        kept: 0,
    };
    let mut last_column: Option<usize> = None;
    for (i, m) in members.iter().enumerate() {
        let name = &text[m.key()];
        if spec.written.iter().any(|w| w == name) {
            return None;
        }
        if spec.removed.iter().any(|r| r == name) {
            if names.removed.is_some() {
                return None;
            }
            names.removed = Some(i);
        } else {
            let (column, materialised) = slot(i)?;
            if last_column.is_some_and(|c| c >= column) {
                return None;
            }
            last_column = Some(column);
            names.kept += usize::from(materialised);
        }
    }
    Some(names)
}

/// The layout part of [`cut_of`], given the names part: the line is one compact object whose
/// values are all plain strings.
pub(super) fn cut_by(text: &str, members: &[Member], names: &Names) -> Option<Cut> {
    let b = text.as_bytes();
    if b.len() > MAX_LINE || b.first() != Some(&b'{') {
        return None;
    }
    // Member i spans [key quote, value end quote]; compactness: each starts right after the
    // `{` or the `,` that ends the previous one, and the last one ends just before the `}`.
    let mut expected_start = 1;
    let mut cut: Option<(usize, usize)> = None;
    for (i, m) in members.iter().enumerate() {
        let key = m.key();
        let Value::Str(value) = m.value() else {
            return None;
        };
        let start = key.start - 1;
        if start != expected_start || value.start != key.end + 3 || b[key.end + 1] != b':' {
            return None;
        }
        let end = value.end + 1;
        if names.removed == Some(i) {
            // With the comma before it, or (first member) the comma after it.
            cut = Some(if i == 0 {
                (start, if i + 1 < members.len() { end + 1 } else { end })
            } else {
                (start - 1, end)
            });
        }
        expected_start = end + 1;
        if i + 1 < members.len() && b.get(end) != Some(&b',') {
            return None;
        }
    }
    let close = if members.is_empty() {
        1
    } else {
        expected_start - 1
    };
    if close + 1 != b.len() || b[close] != b'}' {
        return None;
    }
    let (start, end) = cut.unwrap_or((close, close));
    Some(Cut {
        start,
        end,
        kept: names.kept,
    })
}

/// Writes the spliced object of `line` (without its `}` and line end): the line minus the cut.
/// Returns true when at least one member was written (more than the `{`).
pub(super) fn write_kept(line: &str, cut: Cut, buf: &mut Vec<u8>) -> bool {
    let b = line.as_bytes();
    let close = b.len() - 1;
    buf.extend_from_slice(&b[..cut.start]);
    buf.extend_from_slice(&b[cut.end..close]);
    cut.start + (close - cut.end) > 1
}

/// Each row's input line ([`LINE_FIELD`]) decoded again with every field (`{}` for a row
/// without one); `None` when the batch carries no lines.
pub fn decode_lines(rows: &RecordBatch) -> Option<RecordBatch> {
    let lines = rows
        .column_by_name(LINE_FIELD)
        .and_then(|c| c.as_string_view_opt())?;
    let text: Vec<&str> = lines.iter().map(|l| l.unwrap_or("{}")).collect();
    let full = Decoder::new(InputFormat::Json).decode(text.join("\n").as_bytes(), 1);
    // These lines decoded before, so each is one row again.
    (full.batch.num_rows() == rows.num_rows()).then_some(full.batch)
}

/// `rows` with the fields its spliced rows left out taken from their lines, `full` being
/// [`decode_lines`] of `rows`: in each column, a spliced row's NULL becomes the value its
/// line holds for that field. Columns of the other fields the lines hold are not added (the
/// pipeline may have removed them); columns whose type a stage changed are left as they are.
pub fn fill_spliced(rows: &RecordBatch, full: &RecordBatch) -> RecordBatch {
    let Some(Ok(spliced)) = rows
        .column_by_name(CUT_FIELD)
        .map(|cuts| arrow::compute::is_not_null(cuts.as_ref()))
    else {
        return rows.clone();
    };
    let input = full.schema();
    let mut fields: Vec<Arc<Field>> = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (f, c) in rows.schema().fields().iter().zip(rows.columns()) {
        let filled = input
            .index_of(f.name())
            .ok()
            .filter(|_| !super::is_hidden(f.name()))
            .and_then(|i| fill_from(&spliced, c, full.column(i)));
        match filled {
            Some(c) => {
                fields.push(Arc::new(
                    f.as_ref().clone().with_data_type(c.data_type().clone()),
                ));
                columns.push(c);
            }
            None => {
                fields.push(f.clone());
                columns.push(c.clone());
            }
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap_or_else(|_| rows.clone())
}

/// `own` with its NULLs in `rows` replaced by `line`'s values; `None` when the types differ
/// or nothing changes.
fn fill_from(rows: &BooleanArray, own: &ArrayRef, line: &ArrayRef) -> Option<ArrayRef> {
    let own = match own.data_type() {
        DataType::Null => arrow::array::new_null_array(line.data_type(), own.len()),
        t if t == line.data_type() => own.clone(),
        _ => return None,
    };
    if own.null_count() == 0 {
        return None;
    }
    let missing = arrow::compute::and(rows, &arrow::compute::is_null(own.as_ref()).ok()?).ok()?;
    arrow::compute::kernels::zip::zip(&missing, line, &own).ok()
}

#[cfg(test)]
mod tests {
    use super::super::json_scan::scan_object;
    use super::*;

    fn spec() -> SpliceSpec {
        SpliceSpec {
            removed: vec!["ua".into()],
            written: vec!["ms".into()],
            read: None,
        }
    }

    /// The cut of `line` when every member goes to the next column in order.
    fn cut(line: &str) -> Option<String> {
        let mut members = Vec::new();
        scan_object(line.as_bytes(), &mut members).ok()?;
        let c = cut_of(line, &members, |i| Some((i, true)), &spec())?;
        let mut out = Vec::new();
        let any = write_kept(line, c, &mut out);
        assert_eq!(any, c.kept > 0, "{line}");
        Some(format!("{}|{}", String::from_utf8(out).unwrap(), c.kept))
    }

    #[test]
    fn cuts_the_removed_member_with_one_comma() {
        assert_eq!(
            cut(r#"{"a":"1","ua":"x","b":"2"}"#).as_deref(),
            Some(r#"{"a":"1","b":"2"|2"#)
        );
        assert_eq!(
            cut(r#"{"ua":"x","b":"2"}"#).as_deref(),
            Some(r#"{"b":"2"|1"#)
        );
        assert_eq!(
            cut(r#"{"a":"1","ua":"x"}"#).as_deref(),
            Some(r#"{"a":"1"|1"#)
        );
        assert_eq!(cut(r#"{"ua":"x"}"#).as_deref(), Some("{|0"));
        assert_eq!(cut(r#"{"a":"1"}"#).as_deref(), Some(r#"{"a":"1"|1"#));
        assert_eq!(cut("{}").as_deref(), Some("{|0"));
    }

    #[test]
    fn lines_that_would_not_encode_the_same_are_not_spliced() {
        for line in [
            r#"{"a":1}"#,
            r#"{"a":true}"#,
            r#"{"a":null}"#,
            r#"{"a":{"b":"c"}}"#,
            r#"{"a":["x"]}"#,
            r#"{"a": "1"}"#,
            r#"{"a" :"1"}"#,
            r#"{"a":"1" ,"b":"2"}"#,
            r#" {"a":"1"}"#,
            r#"{"a":"1"} "#,
            r#"{ "a":"1"}"#,
            r#"{"ms":"1"}"#,
            r#"{"ua":"1","ua":"2"}"#,
            r#"{"a":"1\"2"}"#,
        ] {
            assert_eq!(cut(line), None, "{line}");
        }
    }

    #[test]
    fn members_out_of_column_order_are_not_spliced() {
        let line = r#"{"a":"1","b":"2"}"#;
        let mut members = Vec::new();
        scan_object(line.as_bytes(), &mut members).unwrap();
        assert!(cut_of(line, &members, |i| Some((1 - i, true)), &spec()).is_none());
        assert!(cut_of(line, &members, |_| Some((0, true)), &spec()).is_none());
        assert!(cut_of(line, &members, |i| (i == 0).then_some((0, true)), &spec()).is_none());
    }

    #[test]
    fn kept_counts_only_the_members_a_spliced_row_materialises() {
        let line = r#"{"a":"1","ua":"x","b":"2","c":"3"}"#;
        let mut members = Vec::new();
        scan_object(line.as_bytes(), &mut members).unwrap();
        let c = cut_of(line, &members, |i| Some((i, i == 2)), &spec()).unwrap();
        assert_eq!(c.kept, 1);
        let mut out = Vec::new();
        assert!(
            write_kept(line, c, &mut out),
            "members written though none counted"
        );
        let c = cut_of(line, &members, |i| Some((i, false)), &spec()).unwrap();
        assert_eq!(c.kept, 0);
        assert!(write_kept(line, c, &mut Vec::new()));
    }

    #[test]
    fn cuts_pack_and_unpack() {
        let c = Cut {
            start: MAX_LINE - 5,
            end: MAX_LINE,
            kept: 0xffff,
        };
        assert_eq!(Cut::unpack(c.pack()), c);
        let c = Cut {
            start: 7,
            end: 19,
            kept: 3,
        };
        assert_eq!(Cut::unpack(c.pack()), c);
    }
}
