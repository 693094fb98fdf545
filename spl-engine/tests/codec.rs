//! Input and output codecs: every input format and its line rules (line ends, blank lines,
//! invalid UTF-8, very long lines, malformed lines with their line numbers) and both output line
//! formats (json, raw). Table and CSV presentation is the CLI's (`spl-cli/src/present/`).
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array, LargeStringArray,
    StringViewArray, TimestampNanosecondArray,
};
use arrow::datatypes::{DataType, Field, Int64Type, Schema};
use arrow::record_batch::RecordBatch;
use spl_engine::codec::{
    first_non_blank_line, Decoded, Decoder, Encoder, InputError, InputFormat, LineFormat,
};
use spl_engine::render::Renderer;
use spl_engine::timezone::SessionTz;

// ---------- helpers ----------

fn decode(format: InputFormat, chunk: &[u8], first_line: u64) -> Decoded {
    Decoder::new(format).decode(chunk, first_line)
}

fn csv_decoder(header: &str) -> Decoder {
    let mut d = Decoder::new(InputFormat::Csv);
    assert!(d.needs_header());
    d.set_header(header.as_bytes()).unwrap();
    assert!(!d.needs_header());
    d
}

/// The batch as rows of (field, text) pairs, NULL fields left out.
fn rows(batch: &RecordBatch) -> Vec<Vec<(String, String)>> {
    let r = Renderer::default();
    (0..batch.num_rows())
        .map(|row| {
            batch
                .schema()
                .fields()
                .iter()
                .zip(batch.columns())
                .filter_map(|(f, c)| r.text(c.as_ref(), row).map(|t| (f.name().clone(), t)))
                .collect()
        })
        .collect()
}

fn row(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn field_types(batch: &RecordBatch) -> Vec<(String, DataType)> {
    batch
        .schema()
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().clone()))
        .collect()
}

fn error_lines(errors: &[InputError]) -> Vec<u64> {
    errors.iter().map(|e| e.line).collect()
}

fn encode(format: LineFormat, batches: &[RecordBatch]) -> String {
    let encoder = Encoder::new(format, Renderer::default());
    let mut out = Vec::new();
    for b in batches {
        encoder.write_batch(b, &mut out).unwrap();
    }
    String::from_utf8(out).unwrap()
}

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(n, c)| Field::new(*n, c.data_type().clone(), true))
        .collect();
    RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns.into_iter().map(|(_, c)| c).collect(),
    )
    .unwrap()
}

fn text_col(values: &[Option<&str>]) -> ArrayRef {
    Arc::new(StringViewArray::from(values.to_vec()))
}

// ---------- shared line rules ----------

#[test]
fn decoder_is_shareable_between_threads() {
    fn shareable<T: Clone + Send + Sync>() {}
    shareable::<Decoder>();
    let decoder = csv_decoder("a,b");
    let handles: Vec<_> = (0..2)
        .map(|i| {
            let d = decoder.clone();
            std::thread::spawn(move || d.decode(format!("{i},x\n").as_bytes(), 1).batch.num_rows())
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), 1);
    }
}

#[test]
fn raw_lines_end_with_lf_or_crlf_and_the_last_may_lack_one() {
    let d = decode(InputFormat::Raw, b"first\r\nsecond\nthird\r\nlast", 1);
    assert_eq!(
        rows(&d.batch),
        vec![
            row(&[("content", "first")]),
            row(&[("content", "second")]),
            row(&[("content", "third")]),
            row(&[("content", "last")]),
        ]
    );
    assert_eq!(
        field_types(&d.batch),
        vec![("content".into(), DataType::Utf8View)]
    );
    assert_eq!((d.lines, d.bytes), (4, 25));
    assert!(d.errors.is_empty());
}

#[test]
fn blank_lines_are_no_events_but_count_as_lines() {
    // A bad line after blank lines still gets its true line number.
    let d = decode(InputFormat::Json, b"{\"a\":\"1\"}\n\n  \t\n\r\n{oops\n", 10);
    assert_eq!(rows(&d.batch), vec![row(&[("a", "1")])]);
    assert_eq!(d.lines, 5);
    assert_eq!(error_lines(&d.errors), vec![14]);
    let raw = decode(InputFormat::Raw, b"a\n\n \nb\n", 1);
    assert_eq!(raw.batch.num_rows(), 2);
    // A line with other whitespace is not blank for raw input.
    let raw = decode(InputFormat::Raw, b"\x0b\n", 1);
    assert_eq!(raw.batch.num_rows(), 1);
}

#[test]
fn invalid_utf8_is_replaced_and_counted_never_dropped() {
    let d = decode(InputFormat::Raw, b"ok\nbad \xff\xfe here\nalso \xc3\n", 1);
    assert_eq!(
        rows(&d.batch),
        vec![
            row(&[("content", "ok")]),
            row(&[("content", "bad \u{FFFD}\u{FFFD} here")]),
            row(&[("content", "also \u{FFFD}")]),
        ]
    );
    assert_eq!(d.invalid_utf8_lines, 2);
    let j = decode(InputFormat::Json, b"{\"msg\":\"caf\xe9\"}\n", 1);
    assert_eq!(rows(&j.batch), vec![row(&[("msg", "caf\u{FFFD}")])]);
    assert_eq!(j.invalid_utf8_lines, 1);
    // A malformed line keeps its (repaired) text in the error.
    let e = decode(InputFormat::Json, b"{\"a\":\xff}\n", 3);
    assert_eq!(e.errors.len(), 1);
    assert_eq!(e.errors[0].line, 3);
    assert_eq!(e.errors[0].text, "{\"a\":\u{FFFD}}");
}

#[test]
fn a_byte_order_mark_is_ignored_at_the_start_of_the_input_only() {
    let d = decode(InputFormat::Json, b"\xEF\xBB\xBF{\"a\":\"1\"}\n", 1);
    assert_eq!(rows(&d.batch), vec![row(&[("a", "1")])]);
    let later = decode(InputFormat::Raw, b"\xEF\xBB\xBFx\n", 7);
    assert_eq!(rows(&later.batch), vec![row(&[("content", "\u{FEFF}x")])]);
    let mut csv = Decoder::new(InputFormat::Csv);
    csv.set_header(b"\xEF\xBB\xBFname,age\r").unwrap();
    assert_eq!(csv.header().unwrap(), ["name", "age"]);
}

#[test]
fn a_10_mb_line_decodes_in_every_format() {
    let long = "x".repeat(10 * 1024 * 1024);
    let raw = decode(
        InputFormat::Raw,
        format!("short\n{long}\nend").as_bytes(),
        1,
    );
    assert_eq!(raw.batch.num_rows(), 3);
    assert_eq!(
        raw.batch.column(0).as_string_view().value(1).len(),
        long.len()
    );

    let json = decode(
        InputFormat::Json,
        format!("{{\"big\":\"{long}\",\"n\":1}}\n").as_bytes(),
        1,
    );
    assert!(json.errors.is_empty());
    assert_eq!(json.batch.column(0).as_string_view().value(0), long);

    let csv = csv_decoder("a,b").decode(format!("\"{long}\",{long}\n").as_bytes(), 2);
    assert!(csv.errors.is_empty());
    assert_eq!(csv.batch.column(0).as_string_view().value(0), long);
    assert_eq!(csv.batch.column(1).as_string_view().value(0), long);
}

#[test]
fn text_is_stored_as_views_into_one_copy_of_the_chunk() {
    let chunk = b"a line that is longer than twelve bytes\nanother line longer than twelve\n";
    let d = decode(InputFormat::Raw, chunk, 1);
    let col = d.batch.column(0).as_string_view();
    assert_eq!(col.data_buffers().len(), 1);
    assert_eq!(col.data_buffers()[0].len(), chunk.len());
    // Columns of one JSON chunk share that copy.
    let j = decode(
        InputFormat::Json,
        br#"{"a":"a value longer than twelve","b":"b value longer than twelve"}"#,
        1,
    );
    let (a, b) = (
        j.batch.column(0).as_string_view(),
        j.batch.column(1).as_string_view(),
    );
    assert_eq!(a.data_buffers()[0].as_ptr(), b.data_buffers()[0].as_ptr());
}

#[test]
fn first_non_blank_line_lets_the_caller_detect_and_take_the_header() {
    let chunk = b"\n\nname,age\nann,3\n";
    let first = first_non_blank_line(chunk).unwrap();
    assert_eq!(InputFormat::detect(first.text), InputFormat::Raw);
    let mut d = Decoder::new(InputFormat::Csv);
    d.set_header(first.text).unwrap();
    let rest = d.decode(&chunk[first.end..], 1 + first.lines);
    assert_eq!(
        rows(&rest.batch),
        vec![row(&[("name", "ann"), ("age", "3")])]
    );
    let bad = d.decode(b"a,b,c\n", 1 + first.lines);
    assert_eq!(error_lines(&bad.errors), vec![4]);
    assert_eq!(
        InputFormat::detect(first_non_blank_line(b"\r\n{\"a\":1}").unwrap().text),
        InputFormat::Json
    );
}

// ---------- json ----------

#[test]
fn json_values_become_text_fields() {
    let d = decode(
        InputFormat::Json,
        br#"{"s":"text","i":42,"f":1.50,"e":1e3,"b":true,"o":{"k": [1, "two", null]},"a":[ ],"n":null,"u":"\u00e9\n"}"#,
        1,
    );
    assert_eq!(
        rows(&d.batch),
        vec![row(&[
            ("s", "text"),
            ("i", "42"),
            ("f", "1.50"),
            ("e", "1e3"),
            ("b", "true"),
            ("o", r#"{"k":[1,"two",null]}"#),
            ("a", "[]"),
            ("u", "é\n"),
        ])]
    );
    assert!(d
        .batch
        .schema()
        .fields()
        .iter()
        .all(|f| f.data_type() == &DataType::Utf8View));
    // `n` was only ever null: not a field.
    assert!(d.batch.schema().index_of("n").is_err());
}

#[test]
fn json_rows_with_different_keys_make_the_union_of_fields() {
    let d = decode(
        InputFormat::Json,
        b"{\"a\":\"1\",\"b\":\"2\"}\n{\"c\":\"3\",\"a\":\"4\"}\n{\"b\":null,\"a\":\"5\"}\n{}\n",
        1,
    );
    assert_eq!(
        field_types(&d.batch)
            .into_iter()
            .map(|(n, _)| n)
            .collect::<Vec<_>>(),
        ["a", "b", "c"]
    );
    assert_eq!(
        rows(&d.batch),
        vec![
            row(&[("a", "1"), ("b", "2")]),
            row(&[("a", "4"), ("c", "3")]),
            row(&[("a", "5")]),
            row(&[]),
        ]
    );
}

#[test]
fn json_repeated_key_keeps_the_last_value() {
    let d = decode(InputFormat::Json, br#"{"a":"1","b":"x","a":"2"}"#, 1);
    assert_eq!(rows(&d.batch), vec![row(&[("a", "2"), ("b", "x")])]);
    let d = decode(InputFormat::Json, br#"{"a":"1","a":null}"#, 1);
    assert_eq!(rows(&d.batch), vec![row(&[])]);
}

#[test]
fn json_time_fields_are_bigint_columns() {
    let d = decode(
        InputFormat::Json,
        b"{\"__time__\":1700000000,\"__time_ns_part__\":\"123\",\"m\":\"x\"}\n{\"__time__\":\"1700000001\"}\n{\"__time__\":1700000002.9}\n{\"m\":\"no time\"}\n",
        1,
    );
    assert_eq!(
        field_types(&d.batch),
        vec![
            ("__time__".into(), DataType::Int64),
            ("__time_ns_part__".into(), DataType::Int64),
            ("m".into(), DataType::Utf8View),
        ]
    );
    let t = d.batch.column(0).as_primitive::<Int64Type>();
    assert_eq!(
        t.iter().collect::<Vec<_>>(),
        vec![
            Some(1_700_000_000),
            Some(1_700_000_001),
            Some(1_700_000_002),
            None
        ]
    );
    let bad = decode(
        InputFormat::Json,
        b"{\"__time__\":\"yesterday\"}\n{\"__time__\":true}\n{\"__time__\":null,\"a\":\"1\"}\n",
        5,
    );
    assert_eq!(error_lines(&bad.errors), vec![5, 6]);
    assert!(bad.errors[0]
        .message
        .contains("`__time__` must be an integer"));
    assert_eq!(rows(&bad.batch), vec![row(&[("a", "1")])]);
}

#[test]
fn malformed_json_lines_become_errors_with_line_and_column() {
    let d = decode(
        InputFormat::Json,
        b"{\"a\":\"1\"}\n{\"a\":\"2\",}\n[1,2]\n\"text\"\nnot json\n{\"a\":\"3\"} trailing\n{\"a\":\"4\"}\r\n",
        100,
    );
    assert_eq!(rows(&d.batch), vec![row(&[("a", "1")]), row(&[("a", "4")])]);
    assert_eq!(error_lines(&d.errors), vec![101, 102, 103, 104, 105]);
    assert_eq!(
        d.errors[0],
        InputError {
            line: 101,
            message: "invalid JSON at column 10: trailing comma".into(),
            text: "{\"a\":\"2\",}".into(),
        }
    );
    assert_eq!(
        d.errors[1].message,
        "expected a JSON object at column 1, found an array"
    );
    assert_eq!(
        d.errors[2].message,
        "expected a JSON object at column 1, found a string"
    );
    assert_eq!(
        d.errors[3].message,
        "invalid JSON at column 2: expected a JSON value"
    );
    assert!(d.errors[4].message.contains("trailing characters"));
    assert_eq!(d.lines, 7);
}

// ---------- csv ----------

#[test]
fn csv_records_follow_the_header() {
    let d = csv_decoder("name,msg,n").decode(
        b"ann,hello,1\r\n\"bob, jr\",\"say \"\"hi\"\"\",2\n\"\",,3\ncy,5\" screen,4\n",
        2,
    );
    assert!(d.errors.is_empty(), "{:?}", d.errors);
    assert_eq!(
        rows(&d.batch),
        vec![
            row(&[("name", "ann"), ("msg", "hello"), ("n", "1")]),
            row(&[("name", "bob, jr"), ("msg", "say \"hi\""), ("n", "2")]),
            row(&[("name", ""), ("msg", ""), ("n", "3")]),
            row(&[("name", "cy"), ("msg", "5\" screen"), ("n", "4")]),
        ]
    );
}

#[test]
fn csv_short_records_leave_fields_absent_and_long_ones_are_errors() {
    let d = csv_decoder("a,b,c").decode(b"1\n1,2\n1,2,3,4\n1,2,3\n", 2);
    assert_eq!(
        rows(&d.batch),
        vec![
            row(&[("a", "1")]),
            row(&[("a", "1"), ("b", "2")]),
            row(&[("a", "1"), ("b", "2"), ("c", "3")]),
        ]
    );
    assert_eq!(d.errors.len(), 1);
    assert_eq!(
        d.errors[0],
        InputError {
            line: 4,
            message: "the record has 4 values but the header has 3 fields".into(),
            text: "1,2,3,4".into(),
        }
    );
    // Every header field is a column, even when no record fills it.
    let d = csv_decoder("a,b,c").decode(b"1\n", 2);
    assert_eq!(d.batch.num_columns(), 3);
}

#[test]
fn csv_bad_quotes_are_errors_with_the_column() {
    let d = csv_decoder("a,b").decode(b"x,\"open\n\"y\"z,1\nok,1\n", 2);
    assert_eq!(rows(&d.batch), vec![row(&[("a", "ok"), ("b", "1")])]);
    assert_eq!(error_lines(&d.errors), vec![2, 3]);
    assert_eq!(
        d.errors[0].message,
        "unterminated quoted value starting at column 3 (a quoted value cannot span lines)"
    );
    assert_eq!(
        d.errors[1].message,
        "unexpected text after the closing quote at column 4"
    );
}

#[test]
fn csv_header_rules() {
    let mut d = Decoder::new(InputFormat::Csv);
    assert!(d
        .set_header(b"a,b,a")
        .unwrap_err()
        .contains("appears twice"));
    assert!(d.set_header(b"a,\"b").unwrap_err().contains("unterminated"));
    d.set_header(b"a,,\"c d\"").unwrap();
    assert_eq!(d.header().unwrap(), ["a", "column_2", "c d"]);
}

#[test]
fn csv_time_columns_are_bigint() {
    let d = csv_decoder("__time__,msg").decode(b"1700000000,a\n,b\nsoon,c\n", 2);
    assert_eq!(d.batch.schema().field(0).data_type(), &DataType::Int64);
    assert_eq!(
        rows(&d.batch),
        vec![
            row(&[("__time__", "1700000000"), ("msg", "a")]),
            row(&[("msg", "b")]),
        ]
    );
    assert_eq!(error_lines(&d.errors), vec![4]);
}

#[test]
fn csv_without_a_header_names_values_by_position() {
    let d = Decoder::new(InputFormat::Csv).decode(b"a,b\nc,d,e\n", 1);
    assert_eq!(
        rows(&d.batch),
        vec![
            row(&[("column_1", "a"), ("column_2", "b")]),
            row(&[("column_1", "c"), ("column_2", "d"), ("column_3", "e")]),
        ]
    );
}

#[test]
fn tsv_uses_a_tab_delimiter() {
    let mut d = Decoder::new(InputFormat::Csv).with_csv_delimiter(b'\t');
    d.set_header(b"a\tb").unwrap();
    let out = d.decode(b"1,2\t3\n", 2);
    assert_eq!(rows(&out.batch), vec![row(&[("a", "1,2"), ("b", "3")])]);
}

// ---------- output ----------

fn typed_batch() -> RecordBatch {
    batch(vec![
        ("msg", text_col(&[Some("hi \"there\""), None])),
        ("n", Arc::new(Int64Array::from(vec![Some(5), Some(-1)]))),
        (
            "f",
            Arc::new(Float64Array::from(vec![Some(1.5), Some(2.0)])),
        ),
        ("ok", Arc::new(BooleanArray::from(vec![Some(true), None]))),
        (
            "j",
            Arc::new(LargeStringArray::from(vec![Some(r#"{"a":1}"#), None])),
        ),
        (
            "ts",
            Arc::new(TimestampNanosecondArray::from(vec![
                Some(1_695_191_402_000_000_000),
                None,
            ])),
        ),
    ])
}

#[test]
fn json_output_is_one_typed_object_per_line() {
    assert_eq!(
        encode(LineFormat::Json, &[typed_batch()]),
        concat!(
            r#"{"msg":"hi \"there\"","n":5,"f":1.5,"ok":true,"j":"{\"a\":1}","ts":"2023-09-20 06:30:02.000"}"#,
            "\n",
            r#"{"n":-1,"f":2.0,"#,
            "}\n"
        )
        .replace(",}", "}")
    );
}

#[test]
fn json_output_renders_timestamps_in_the_session_zone() {
    let b = batch(vec![(
        "ts",
        Arc::new(TimestampNanosecondArray::from(vec![
            1_695_191_402_000_000_000,
        ])) as ArrayRef,
    )]);
    let e = Encoder::new(
        LineFormat::Json,
        Renderer::new(SessionTz::parse("+08:00").unwrap()),
    );
    let mut out = Vec::new();
    e.write_batch(&b, &mut out).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "{\"ts\":\"2023-09-20 14:30:02.000\"}\n"
    );
}

#[test]
fn json_input_round_trips_through_json_output() {
    let input = "{\"a\":\"x\",\"b\":\"1.50\"}\n{\"b\":\"{\\\"k\\\":1}\",\"c\":\"é\"}\n";
    let d = decode(InputFormat::Json, input.as_bytes(), 1);
    assert_eq!(encode(LineFormat::Json, &[d.batch]), input);
}

#[test]
fn raw_output_writes_content_or_the_row_as_json() {
    let with = batch(vec![
        ("content", text_col(&[Some("GET /a 200"), None])),
        ("status", text_col(&[Some("200"), Some("500")])),
    ]);
    let without = batch(vec![("status", text_col(&[Some("404")]))]);
    assert_eq!(
        encode(LineFormat::Raw, &[with, without]),
        "GET /a 200\n{\"status\":\"500\"}\n{\"status\":\"404\"}\n"
    );
}

#[test]
fn raw_input_round_trips_through_raw_output() {
    let input = "a b c\nsecond line\n";
    let d = decode(InputFormat::Raw, input.as_bytes(), 1);
    assert_eq!(d.batch.num_rows(), 2);
    assert_eq!(encode(LineFormat::Raw, &[d.batch]), input);
}
