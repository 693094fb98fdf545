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
//! added columns come after all others, and per row that the line's kept members are exactly
//! the row's other non-NULL fields.
use super::json_scan::{Member, Value};

/// A hidden column (JSON input under a [`SpliceSpec`]): per row, where the member to cut lies
/// in its input line and how many members are kept, or NULL when the row must be encoded from
/// its fields. Its name cannot be written in SPL.
pub const CUT_FIELD: &str = "\0cut";

/// Lines longer than this are never spliced (their offsets would not fit [`Cut`]).
const MAX_LINE: usize = (1 << 24) - 1;

/// What a pipeline does to every row it outputs, when that is all it does: removes these
/// fields and writes those (in any order); rows pass through or are dropped otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpliceSpec {
    pub removed: Vec<String>,
    pub written: Vec<String>,
}

/// A row's splice: the byte range of its input line to leave out (empty when nothing is cut)
/// and the number of members kept, packed into one `i64` for [`CUT_FIELD`].
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
/// `slot(i)` is the text column member `i` went to (`None`: not a column, or not text).
pub(super) fn cut_of(
    text: &str,
    members: &[Member],
    slot: impl Fn(usize) -> Option<usize>,
    spec: &SpliceSpec,
) -> Option<Cut> {
    let b = text.as_bytes();
    if b.len() > MAX_LINE || members.len() > 0xffff || b.first() != Some(&b'{') {
        return None;
    }
    // Member i spans [key quote, value end quote]; compactness: each starts right after the
    // `{` or the `,` that ends the previous one, and the last one ends just before the `}`.
    let mut expected_start = 1;
    let mut cut: Option<(usize, usize)> = None;
    let mut last_column: Option<usize> = None;
    let mut kept = 0;
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
        let name = &text[key];
        if spec.written.iter().any(|w| w == name) {
            return None;
        }
        if spec.removed.iter().any(|r| r == name) {
            if cut.is_some() {
                return None;
            }
            // With the comma before it, or (first member) the comma after it.
            cut = Some(if i == 0 {
                (start, if i + 1 < members.len() { end + 1 } else { end })
            } else {
                (start - 1, end)
            });
        } else {
            let column = slot(i)?;
            if last_column.is_some_and(|c| c >= column) {
                return None;
            }
            last_column = Some(column);
            kept += 1;
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
    Some(Cut { start, end, kept })
}

/// Writes the spliced object of `line` (without its `}` and line end): the line minus the cut.
/// Returns true when at least one member was written.
pub(super) fn write_kept(line: &str, cut: Cut, buf: &mut Vec<u8>) -> bool {
    let b = line.as_bytes();
    let close = b.len() - 1;
    buf.extend_from_slice(&b[..cut.start]);
    buf.extend_from_slice(&b[cut.end..close]);
    cut.kept > 0
}

#[cfg(test)]
mod tests {
    use super::super::json_scan::scan_object;
    use super::*;

    fn spec() -> SpliceSpec {
        SpliceSpec {
            removed: vec!["ua".into()],
            written: vec!["ms".into()],
        }
    }

    /// The cut of `line` when every member goes to the next column in order.
    fn cut(line: &str) -> Option<String> {
        let mut members = Vec::new();
        scan_object(line.as_bytes(), &mut members).ok()?;
        let c = cut_of(line, &members, Some, &spec())?;
        let mut out = Vec::new();
        write_kept(line, c, &mut out);
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
        assert!(cut_of(line, &members, |i| Some(1 - i), &spec()).is_none());
        assert!(cut_of(line, &members, |_| Some(0), &spec()).is_none());
        assert!(cut_of(line, &members, |i| (i == 0).then_some(0), &spec()).is_none());
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
