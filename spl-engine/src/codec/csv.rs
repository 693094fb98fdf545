//! CSV input (RFC 4180): the header line names the fields, each later non-blank line is one
//! record, one event. Values are VARCHAR (an empty value is the empty string); a column named
//! `__time__`/`__time_ns_part__` is BIGINT (an empty value leaves it absent).
//!
//! - A value that starts with `"` runs to the closing `"`; `""` inside stands for one `"`. After
//!   the closing quote only the delimiter or the line end may follow.
//! - A quoted value cannot span lines: the input is cut into chunks at line ends, so an
//!   unterminated quote makes the line an input error.
//! - A `"` inside an unquoted value is kept as it is (`5" screen`).
//! - A record with fewer values than the header leaves the remaining fields absent; a record
//!   with more values is an input error (nothing is dropped silently).
//! - Without a header (never set), values are named `column_1`, `column_2`, …
use std::borrow::Cow;

use arrow::record_batch::RecordBatch;

use super::columns::{Cell, Columns};
use super::{time_value, Input};

/// The field names of a header line: empty names become `column_<N>`; a repeated name is an
/// error.
pub(super) fn header_names(text: &str, delimiter: u8) -> Result<Vec<String>, String> {
    let values = split_record(text, delimiter).map_err(|e| format!("bad CSV header: {e}"))?;
    let mut names: Vec<String> = Vec::with_capacity(values.len());
    for (i, value) in values.into_iter().enumerate() {
        let name = if value.is_empty() {
            generated_name(i)
        } else {
            value.into_owned()
        };
        if let Some(first) = names.iter().position(|n| *n == name) {
            return Err(format!(
                "bad CSV header: the name `{name}` appears twice (columns {} and {})",
                first + 1,
                i + 1
            ));
        }
        names.push(name);
    }
    Ok(names)
}

fn generated_name(index: usize) -> String {
    format!("column_{}", index + 1)
}

pub(super) fn decode(
    input: &mut Input<'_>,
    header: Option<&[String]>,
    delimiter: u8,
) -> RecordBatch {
    let mut columns = Columns::new(input.chunk, input.buffer.clone());
    let mut names: Vec<(usize, bool)> = header
        .unwrap_or_default()
        .iter()
        .map(|n| (columns.declare(n), Columns::is_time(n)))
        .collect();
    input.for_each_line(|input, line| {
        let record = split_record(&line.text, delimiter).and_then(|values| {
            if let Some(header) = header {
                if values.len() > header.len() {
                    return Err(format!(
                        "the record has {} values but the header has {} fields",
                        values.len(),
                        header.len()
                    ));
                }
            } else {
                while names.len() < values.len() {
                    let name = generated_name(names.len());
                    names.push((columns.declare(&name), false));
                }
            }
            values
                .into_iter()
                .zip(&names)
                .map(|(value, &(column, time))| Ok((column, cell(value, time, header, column)?)))
                .collect::<Result<Vec<_>, String>>()
        });
        match record {
            Ok(cells) => columns.push_indexed(cells.into_iter()),
            Err(message) => input.error(&line, message),
        }
    });
    columns.finish()
}

fn cell<'a>(
    value: Cow<'a, str>,
    time: bool,
    header: Option<&[String]>,
    column: usize,
) -> Result<Cell<'a>, String> {
    if !time {
        return Ok(Cell::Text(value));
    }
    if value.is_empty() {
        return Ok(Cell::Absent);
    }
    let name = header
        .and_then(|h| h.get(column))
        .map_or("", String::as_str);
    time_value(&value).map(Cell::Time).ok_or_else(|| {
        let shown: String = value.chars().take(40).collect();
        format!("`{name}` must be an integer number of seconds, found `{shown}`")
    })
}

/// Splits one record into values. Errors name the 1-based byte column.
pub(super) fn split_record(line: &str, delimiter: u8) -> Result<Vec<Cow<'_, str>>, String> {
    let bytes = line.as_bytes();
    let slice = |from: usize, to: usize| line.get(from..to).unwrap_or_default();
    let mut values = Vec::new();
    let mut i = 0;
    loop {
        if bytes.get(i) != Some(&b'"') {
            match memchr::memchr(delimiter, bytes.get(i..).unwrap_or_default()) {
                Some(k) => {
                    values.push(Cow::Borrowed(slice(i, i + k)));
                    i += k + 1;
                    continue;
                }
                None => {
                    values.push(Cow::Borrowed(slice(i, bytes.len())));
                    return Ok(values);
                }
            }
        }
        // A quoted value: up to the closing quote, `""` standing for one quote.
        let open = i;
        let start = i + 1;
        let mut owned: Option<String> = None;
        let mut piece = start;
        let mut j = start;
        loop {
            let Some(k) = memchr::memchr(b'"', bytes.get(j..).unwrap_or_default()) else {
                return Err(format!(
                    "unterminated quoted value starting at column {} (a quoted value cannot span lines)",
                    open + 1
                ));
            };
            let quote = j + k;
            if bytes.get(quote + 1) == Some(&b'"') {
                owned
                    .get_or_insert_with(String::new)
                    .push_str(slice(piece, quote + 1));
                j = quote + 2;
                piece = j;
                continue;
            }
            values.push(match owned.take() {
                None => Cow::Borrowed(slice(start, quote)),
                Some(mut s) => {
                    s.push_str(slice(piece, quote));
                    Cow::Owned(s)
                }
            });
            i = quote + 1;
            break;
        }
        match bytes.get(i) {
            None => return Ok(values),
            Some(&d) if d == delimiter => i += 1,
            Some(_) => {
                return Err(format!(
                    "unexpected text after the closing quote at column {}",
                    i + 1
                ))
            }
        }
        if i == bytes.len() {
            values.push(Cow::Borrowed(""));
            return Ok(values);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(line: &str) -> Result<Vec<String>, String> {
        split_record(line, b',').map(|v| v.into_iter().map(Cow::into_owned).collect())
    }

    #[test]
    fn rfc4180_quotes() {
        assert_eq!(
            split(r##"a,"b,c","say ""hi""",,""""##).unwrap_err(),
            "unterminated quoted value starting at column 23 (a quoted value cannot span lines)"
        );
        assert_eq!(
            split(r##"a,"b,c","say ""hi""",,"""""##).unwrap(),
            vec!["a", "b,c", r#"say "hi""#, "", r#"""#]
        );
        assert!(split(r#""a","b"#).unwrap_err().contains("column 5"));
        assert_eq!(split(r#""a","#).unwrap(), vec!["a", ""]);
        assert_eq!(split("a,").unwrap(), vec!["a", ""]);
        assert_eq!(split(r#"5" screen,x"#).unwrap(), vec![r#"5" screen"#, "x"]);
        assert_eq!(
            split(r#""a"b,c"#).unwrap_err(),
            "unexpected text after the closing quote at column 4"
        );
        assert_eq!(split("").unwrap(), vec![""]);
    }

    #[test]
    fn header_names_are_checked() {
        assert_eq!(
            header_names("a,,c", b',').unwrap(),
            vec!["a", "column_2", "c"]
        );
        assert_eq!(
            header_names("a,b,a", b',').unwrap_err(),
            "bad CSV header: the name `a` appears twice (columns 1 and 3)"
        );
    }
}
