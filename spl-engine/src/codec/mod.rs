//! Codecs: turn chunks of input lines into event batches ([`Decoder`]) and event batches into
//! JSON or raw output lines ([`Encoder`], [`RowEncoder`]). A chunk is a run of whole lines (the
//! executor, [`crate::exec`], cuts its sources at line ends); decoding a chunk needs no state from
//! other chunks, so worker threads share one [`Decoder`].
//!
//! | format | one line is | fields |
//! |---|---|---|
//! | raw (`raw.rs`) | one event | `content` (VARCHAR) |
//! | json (`json.rs`) | one JSON object | its keys; text/number/boolean values as VARCHAR text, nested values as compact JSON text, `null` absent, `__time__`/`__time_ns_part__` BIGINT |
//! | csv (`csv.rs`) | one RFC 4180 record | the header's names; values as VARCHAR |
//!
//! Rules shared by every format (see `docs/decisions.md`):
//! - a line ends at `\n`; a `\r` before it is part of the line end (`\r\n`);
//! - a blank line (empty, or only spaces and tabs) is no event, but it counts for line numbers;
//! - a UTF-8 byte order mark at the very start of the input is ignored;
//! - invalid UTF-8 is decoded with U+FFFD for each bad sequence and counted in
//!   [`Decoded::invalid_utf8_lines`]; the line is never dropped for it;
//! - a line that cannot be decoded (malformed JSON, a JSON value that is not an object, a bad CSV
//!   record, a time field that is not a number) becomes an [`InputError`] with its 1-based line
//!   number and text, never a silent loss.
//!
//! Output lines are encoded in `output.rs`: JSON and raw only, the formats whose rows encode on
//! their own. Presentation (an aligned table, CSV under one header) is the host's job; the `spl`
//! CLI does it in its `present` module.
mod columns;
mod csv;
mod json;
pub(crate) mod json_scan;
mod output;
mod raw;
mod splice;
mod views;

use std::borrow::Cow;
use std::sync::Arc;

use arrow::record_batch::RecordBatch;

pub(crate) use json::compact as compact_json;
pub use output::{EncodedRows, Encoder, LineFormat, RowEncoder};
pub use splice::{decode_lines, fill_spliced, SpliceSpec, CUT_FIELD};

/// The input formats of `spl run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    Raw,
    Json,
    Csv,
}

impl InputFormat {
    /// Guesses the format from the first non-blank line: a line starting with `{` (after a byte
    /// order mark and whitespace) is JSON, anything else raw text. CSV is never guessed.
    pub fn detect(first_non_blank_line: &[u8]) -> InputFormat {
        let line = first_non_blank_line
            .strip_prefix(BOM)
            .unwrap_or(first_non_blank_line);
        match line.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') => InputFormat::Json,
            _ => InputFormat::Raw,
        }
    }
}

/// Decodes chunks of whole lines into event batches. Cheap to clone and shared by worker
/// threads; only the CSV header is set (once) before decoding starts.
#[derive(Debug, Clone)]
pub struct Decoder {
    format: InputFormat,
    /// CSV field names, from the header line.
    header: Option<Arc<[String]>>,
    /// CSV field separator (`,`; `\t` for TSV).
    delimiter: u8,
    /// JSON: the fields that become columns (the time fields always do).
    wanted: Arc<FieldSelection>,
    /// JSON: add [`LINE_FIELD`] with each row's input line.
    keep_lines: bool,
    /// JSON: add [`CUT_FIELD`] with each row's splice under this edit.
    splice: Option<Arc<SpliceSpec>>,
}

/// A hidden column with each event's input line (JSON input, [`Decoder::keep_lines`]): lets a
/// runner write rows that a pipeline did not change as the input line itself. Its name cannot
/// be written in SPL.
pub const LINE_FIELD: &str = "\0line";

/// True for the engine's hidden columns ([`LINE_FIELD`], [`CUT_FIELD`]): never fields of a row.
pub fn is_hidden(name: &str) -> bool {
    name.starts_with('\0')
}

/// One decoded chunk.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The events of the chunk's good lines, in line order.
    pub batch: RecordBatch,
    /// Lines that could not be decoded, in line order.
    pub errors: Vec<InputError>,
    /// Lines that held invalid UTF-8 (decoded with U+FFFD).
    pub invalid_utf8_lines: u64,
    /// Lines in the chunk, blank ones included.
    pub lines: u64,
    /// Bytes in the chunk.
    pub bytes: u64,
}

/// A line that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// 1-based line number in the input.
    pub line: u64,
    /// What is wrong, with the (1-based, byte) column where known.
    pub message: String,
    /// The line as text (invalid UTF-8 replaced by U+FFFD), without its line end.
    pub text: String,
}

/// The first non-blank line of a chunk: what [`InputFormat::detect`] and
/// [`Decoder::set_header`] look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirstLine<'a> {
    /// The line without its line end.
    pub text: &'a [u8],
    /// Offset just after its line end: the rest of the chunk starts here.
    pub end: usize,
    /// Lines up to and including it (blank lines before it count).
    pub lines: u64,
}

/// Finds the first non-blank line of `chunk`, so that a caller can detect the format and take
/// a CSV header, then decode `&chunk[end..]` starting at line `first_line + lines`.
pub fn first_non_blank_line(chunk: &[u8]) -> Option<FirstLine<'_>> {
    for (lines, line) in (1..).zip(Lines::new(chunk)) {
        let text = if line.start == 0 {
            line.text.strip_prefix(BOM).unwrap_or(line.text)
        } else {
            line.text
        };
        if !is_blank(text) {
            return Some(FirstLine {
                text: line.text,
                end: line.end,
                lines,
            });
        }
    }
    None
}

impl Decoder {
    pub fn new(format: InputFormat) -> Decoder {
        Decoder {
            format,
            header: None,
            delimiter: b',',
            wanted: Arc::new(FieldSelection::All),
            keep_lines: false,
            splice: None,
        }
    }

    /// Makes JSON input record, in [`CUT_FIELD`], how each row's input line can be spliced
    /// into its output under `edit` (see `splice.rs`); needs [`Decoder::keep_lines`].
    pub fn splice(mut self, edit: Option<SpliceSpec>) -> Decoder {
        self.splice = edit.map(Arc::new);
        self
    }

    /// Makes JSON input keep each row's input line in [`LINE_FIELD`].
    pub fn keep_lines(mut self, keep: bool) -> Decoder {
        self.keep_lines = keep;
        self
    }

    /// Makes JSON input materialise only the selected fields (and the time fields), for
    /// pipelines whose plan observes nothing else ([`crate::plan::input_fields`]). Lines are
    /// still fully validated: which lines are errors never depends on the selection.
    pub fn select_fields(mut self, fields: FieldSelection) -> Decoder {
        self.wanted = Arc::new(fields);
        self
    }

    /// Uses `delimiter` between CSV values instead of `,` (e.g. `\t` for TSV).
    pub fn with_csv_delimiter(mut self, delimiter: u8) -> Decoder {
        self.delimiter = delimiter;
        self
    }

    pub fn format(&self) -> InputFormat {
        self.format
    }

    /// True for CSV until [`Decoder::set_header`] has been called.
    pub fn needs_header(&self) -> bool {
        self.format == InputFormat::Csv && self.header.is_none()
    }

    /// The CSV field names, once set.
    pub fn header(&self) -> Option<&[String]> {
        self.header.as_deref()
    }

    /// Sets the CSV field names from the header line (without its line end; a leading byte
    /// order mark is ignored). Empty names become `column_<N>`; a repeated name is an error.
    pub fn set_header(&mut self, line: &[u8]) -> Result<(), String> {
        let line = line.strip_prefix(BOM).unwrap_or(line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let text = String::from_utf8_lossy(line);
        let names = csv::header_names(&text, self.delimiter)?;
        self.header = Some(names.into());
        Ok(())
    }

    /// Decodes a chunk of whole lines whose first line has number `first_line` (1-based).
    /// The last line may lack its line end.
    pub fn decode(&self, chunk: &[u8], first_line: u64) -> Decoded {
        self.decode_in(chunk, None, first_line)
    }

    /// [`Decoder::decode`] for a chunk the caller already holds as an Arrow buffer: text
    /// columns become views into it without copying the chunk.
    pub fn decode_buffer(&self, chunk: &arrow::buffer::Buffer, first_line: u64) -> Decoded {
        self.decode_in(chunk.as_slice(), Some(chunk), first_line)
    }

    fn decode_in(
        &self,
        chunk: &[u8],
        buffer: Option<&arrow::buffer::Buffer>,
        first_line: u64,
    ) -> Decoded {
        let mut input = Input::new(chunk, first_line);
        input.buffer = buffer.cloned();
        let batch = match self.format {
            InputFormat::Raw => raw::decode(&mut input),
            InputFormat::Json => json::decode(
                &mut input,
                self.wanted.clone(),
                self.keep_lines,
                self.splice.as_deref(),
            ),
            InputFormat::Csv => csv::decode(&mut input, self.header.as_deref(), self.delimiter),
        };
        Decoded {
            batch,
            errors: input.errors,
            invalid_utf8_lines: input.invalid_utf8_lines,
            lines: input.lines,
            bytes: chunk.len() as u64,
        }
    }
}

/// The UTF-8 byte order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// True for a line that holds no event: empty or only spaces and tabs.
fn is_blank(line: &[u8]) -> bool {
    line.iter().all(|b| *b == b' ' || *b == b'\t')
}

/// One line of a chunk.
struct Line<'a> {
    /// Without the line end.
    text: &'a [u8],
    /// Offset of the line in the chunk.
    start: usize,
    /// Offset after the line end.
    end: usize,
}

/// The lines of a chunk, split at `\n` with a `\r` before it removed.
struct Lines<'a> {
    chunk: &'a [u8],
    pos: usize,
}

impl<'a> Lines<'a> {
    fn new(chunk: &'a [u8]) -> Lines<'a> {
        Lines { chunk, pos: 0 }
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = Line<'a>;

    fn next(&mut self) -> Option<Line<'a>> {
        let rest = self.chunk.get(self.pos..).filter(|r| !r.is_empty())?;
        let start = self.pos;
        let (text, end) = match memchr::memchr(b'\n', rest) {
            Some(i) => (&rest[..i], start + i + 1),
            None => (rest, self.chunk.len()),
        };
        self.pos = end;
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        Some(Line { text, start, end })
    }
}

/// The chunk being decoded: hands out its non-blank lines as text and collects the errors.
struct Input<'a> {
    chunk: &'a [u8],
    /// The chunk as an Arrow buffer, when the caller has one (views then need no copy).
    buffer: Option<arrow::buffer::Buffer>,
    first_line: u64,
    lines: u64,
    invalid_utf8_lines: u64,
    errors: Vec<InputError>,
}

/// A non-blank line as text, borrowed from the chunk when it is valid UTF-8.
struct TextLine<'a> {
    number: u64,
    text: Cow<'a, str>,
}

impl<'a> Input<'a> {
    fn new(chunk: &'a [u8], first_line: u64) -> Input<'a> {
        Input {
            chunk,
            buffer: None,
            first_line,
            lines: 0,
            invalid_utf8_lines: 0,
            errors: Vec::new(),
        }
    }

    /// Calls `f` on each non-blank line, in order.
    fn for_each_line(&mut self, mut f: impl FnMut(&mut Self, TextLine<'a>)) {
        let chunk = self.chunk;
        let at_input_start = self.first_line <= 1;
        // One check of the whole chunk is much faster than one per line; lines are checked
        // one by one only when the chunk holds invalid UTF-8 somewhere.
        let whole = simdutf8::basic::from_utf8(chunk).ok();
        for line in Lines::new(chunk) {
            let number = self.first_line + self.lines;
            self.lines += 1;
            let mut bytes = line.text;
            if line.start == 0 && at_input_start {
                bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
            }
            if is_blank(bytes) {
                continue;
            }
            let offset = bytes.as_ptr() as usize - chunk.as_ptr() as usize;
            let valid = match whole {
                // Line ends are character boundaries of valid text.
                Some(text) => text.get(offset..offset + bytes.len()).ok_or(()),
                None => simdutf8::basic::from_utf8(bytes).map_err(|_| ()),
            };
            let text = match valid {
                Ok(s) => Cow::Borrowed(s),
                Err(()) => {
                    self.invalid_utf8_lines += 1;
                    Cow::Owned(String::from_utf8_lossy(bytes).into_owned())
                }
            };
            f(self, TextLine { number, text });
        }
    }

    fn error(&mut self, line: &TextLine<'_>, message: String) {
        self.errors.push(InputError {
            line: line.number,
            message,
            text: line.text.to_string(),
        });
    }
}

/// The value of a time field (`__time__`, `__time_ns_part__`) from its text: an integer, or a
/// decimal number truncated toward zero. `None` for anything else.
fn time_value(text: &str) -> Option<i64> {
    if let Ok(i) = text.parse::<i64>() {
        return Some(i);
    }
    let first = text.bytes().next()?;
    if !(first.is_ascii_digit() || first == b'-' || first == b'+' || first == b'.') {
        return None; // rejects `NaN`, `inf` and friends, which f64 parsing accepts
    }
    let f = text.parse::<f64>().ok()?;
    // i64::MAX as f64 rounds up to 2^63, which is out of range.
    (f.is_finite() && f >= i64::MIN as f64 && f < i64::MAX as f64).then(|| f.trunc() as i64)
}

/// Which fields of its input events a program can observe.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum FieldSelection {
    /// Any field may matter.
    #[default]
    All,
    /// Only these (time fields are always kept by decoders and not listed).
    Only(Vec<String>),
    /// All but these: removed (`project-away`) before anything read them.
    AllBut(Vec<String>),
}

impl FieldSelection {
    /// True when the field `name` of an input event may matter.
    pub fn keeps(&self, name: &str) -> bool {
        match self {
            FieldSelection::All => true,
            FieldSelection::Only(names) => names.iter().any(|n| n == name),
            FieldSelection::AllBut(names) => !names.iter().any(|n| n == name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detect_looks_at_the_first_character() {
        assert_eq!(InputFormat::detect(b"{\"a\":1}"), InputFormat::Json);
        assert_eq!(InputFormat::detect(b"  {"), InputFormat::Json);
        assert_eq!(InputFormat::detect(b"\xEF\xBB\xBF{}"), InputFormat::Json);
        assert_eq!(InputFormat::detect(b"[1]"), InputFormat::Raw);
        assert_eq!(InputFormat::detect(b"a,b"), InputFormat::Raw);
        assert_eq!(InputFormat::detect(b""), InputFormat::Raw);
    }

    #[test]
    fn lines_split_at_lf_and_crlf() {
        let lines: Vec<&[u8]> = Lines::new(b"a\r\nb\n\nc").map(|l| l.text).collect();
        assert_eq!(lines, vec![&b"a"[..], b"b", b"", b"c"]);
        assert_eq!(Lines::new(b"").count(), 0);
        assert_eq!(Lines::new(b"\n").count(), 1);
    }

    #[test]
    fn first_non_blank_line_skips_blank_lines() {
        let f = first_non_blank_line(b"\n  \r\nname,age\n1,2\n").unwrap();
        assert_eq!(f.text, b"name,age");
        assert_eq!(f.lines, 3);
        assert_eq!(f.end, 14);
        assert!(first_non_blank_line(b"\n \n").is_none());
    }

    #[test]
    fn time_values() {
        assert_eq!(time_value("1700000000"), Some(1_700_000_000));
        assert_eq!(time_value("-5"), Some(-5));
        assert_eq!(time_value("1700000000.9"), Some(1_700_000_000));
        assert_eq!(time_value("1.7e9"), Some(1_700_000_000));
        assert_eq!(time_value("NaN"), None);
        assert_eq!(time_value("inf"), None);
        assert_eq!(time_value("1e300"), None);
        assert_eq!(time_value("abc"), None);
        assert_eq!(time_value(""), None);
    }
}
