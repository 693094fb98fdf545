//! Hostile Arrow input through `spl_process`: every malformed array (lengths, offsets, null
//! counts, missing buffers, child counts, bad offsets or views) is `SPL_ERR_INVALID_INPUT` with a
//! message in `spl_last_error`, never a panic; and the whole run, repeated in a child process,
//! prints nothing to stderr.
use std::ffi::{CStr, CString};
use std::process::Command;
use std::ptr;
use std::sync::Arc;

use arrow::array::{make_array, Array, ArrayData, ArrayRef, Int64Array, StringArray, StructArray};
use arrow::buffer::Buffer;
use arrow::datatypes::{DataType, Field, Fields};
use arrow::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use spl_capi::*;

struct Pipeline(*mut SplPipeline);

impl Drop for Pipeline {
    fn drop(&mut self) {
        assert_eq!(spl_pipeline_free(self.0), SplStatus::SPL_OK);
    }
}

fn last_error() -> String {
    unsafe { CStr::from_ptr(spl_last_error()) }
        .to_string_lossy()
        .into_owned()
}

fn compile() -> Pipeline {
    let spl = CString::new("* | extend b = concat(a, '!')").unwrap();
    let profile = CString::new("cli").unwrap();
    let mut options = unsafe { std::mem::zeroed::<SplOptions>() };
    assert_eq!(
        unsafe { spl_options_default(&mut options) },
        SplStatus::SPL_OK
    );
    options.profile = profile.as_ptr();
    let mut p = ptr::null_mut();
    let st = unsafe { spl_compile(spl.as_ptr(), &options, &mut p, ptr::null_mut()) };
    assert_eq!(st, SplStatus::SPL_OK, "{}", last_error());
    Pipeline(p)
}

/// A valid batch of three rows: text `a`, `__time__` as int64.
fn valid() -> StructArray {
    let a: ArrayRef = Arc::new(StringArray::from(vec!["x", "y", "z"]));
    let t: ArrayRef = Arc::new(Int64Array::from(vec![1_700_000_000; 3]));
    StructArray::try_new(
        Fields::from(vec![
            Field::new("a", DataType::Utf8, true),
            Field::new("__time__", DataType::Int64, true),
        ]),
        vec![a, t],
        None,
    )
    .unwrap()
}

/// One column `a` holding `data` (built without validation), as a struct.
fn with_column(data: ArrayData) -> StructArray {
    let field = Field::new("a", data.data_type().clone(), true);
    StructArray::try_new(Fields::from(vec![field]), vec![make_array(data)], None).unwrap()
}

/// Exports `st`, lets `mutate` break the raw C structs, and processes the result.
fn process(
    p: &Pipeline,
    st: &StructArray,
    mutate: impl FnOnce(&mut ArrowArray, &mut ArrowSchema),
) -> SplStatus {
    let mut array = FFI_ArrowArray::new(&st.to_data());
    let mut schema = FFI_ArrowSchema::try_from(st.data_type()).unwrap();
    let raw = &mut array as *mut FFI_ArrowArray as *mut ArrowArray;
    let raw_schema = &mut schema as *mut FFI_ArrowSchema as *mut ArrowSchema;
    // SAFETY: same layout; the test only changes counts and pointers the release callbacks do not
    // use to free.
    unsafe { mutate(&mut *raw, &mut *raw_schema) };
    let mut result = ptr::null_mut();
    let status = unsafe { spl_process(p.0, raw, raw_schema, ptr::null(), &mut result) };
    if !result.is_null() {
        assert_eq!(spl_result_free(result), SplStatus::SPL_OK);
    }
    status
}

fn child(a: &mut ArrowArray, i: usize) -> &mut ArrowArray {
    // SAFETY: an exported struct array has `n_children` valid child pointers.
    unsafe { &mut **a.children.add(i) }
}

fn set_buffer(a: &mut ArrowArray, i: usize, to: *const std::ffi::c_void) {
    // SAFETY: an exported array has `n_buffers` buffer slots.
    unsafe { *a.buffers.add(i) = to };
}

type Case = (
    &'static str,
    Box<dyn Fn(&Pipeline) -> SplStatus>,
    &'static str,
);

/// Every malformed input, with the words its message must contain.
fn cases() -> Vec<Case> {
    let utf8 = |offsets: Vec<i32>, values: &[u8], len: usize| unsafe {
        ArrayData::builder(DataType::Utf8)
            .len(len)
            .add_buffer(Buffer::from_vec(offsets))
            .add_buffer(Buffer::from(values.to_vec()))
            .build_unchecked()
    };
    vec![
        (
            "struct offset + length beyond its children",
            Box::new(|p| process(p, &valid(), |a, _| a.offset = 2)),
            "offset 2 + length 3",
        ),
        (
            "struct length beyond its children",
            Box::new(|p| process(p, &valid(), |a, _| a.length = 4)),
            "has 3 rows",
        ),
        (
            "struct null count without a validity bitmap",
            Box::new(|p| process(p, &valid(), |a, _| a.null_count = 1)),
            "no validity bitmap",
        ),
        (
            "child null count without a validity bitmap",
            Box::new(|p| process(p, &valid(), |a, _| child(a, 0).null_count = 1)),
            "no validity bitmap",
        ),
        (
            "null count larger than the length",
            Box::new(|p| process(p, &valid(), |a, _| child(a, 1).null_count = 9)),
            "larger than the length",
        ),
        (
            "null count that the bitmap does not match",
            Box::new(|p| {
                let a = StringArray::from(vec![Some("x"), None, Some("z")]);
                process(p, &with_column(a.into_data()), |a, _| {
                    child(a, 0).null_count = 2
                })
            }),
            "null",
        ),
        (
            "negative child length",
            Box::new(|p| process(p, &valid(), |a, _| child(a, 0).length = -1)),
            "negative",
        ),
        (
            "negative struct offset",
            Box::new(|p| process(p, &valid(), |a, _| a.offset = -5)),
            "negative",
        ),
        (
            "length that overflows",
            Box::new(|p| {
                process(p, &valid(), |a, _| {
                    let c = child(a, 1);
                    c.offset = i64::MAX;
                    c.length = 3;
                })
            }),
            "rows",
        ),
        (
            "NULL offsets buffer",
            Box::new(|p| {
                process(p, &valid(), |a, _| {
                    set_buffer(child(a, 0), 1, ptr::null());
                })
            }),
            "offsets buffer is NULL",
        ),
        (
            "NULL values buffer of an integer time field",
            Box::new(|p| {
                process(p, &valid(), |a, _| {
                    set_buffer(child(a, 1), 1, ptr::null());
                })
            }),
            "values buffer is NULL",
        ),
        (
            "wrong buffer count",
            Box::new(|p| process(p, &valid(), |a, _| child(a, 0).n_buffers = 2)),
            "buffers where 3",
        ),
        (
            "array and schema child counts differ",
            Box::new(|p| process(p, &valid(), |a, _| a.n_children = 1)),
            "fields",
        ),
        (
            "a child that has children",
            Box::new(|p| process(p, &valid(), |a, _| child(a, 0).n_children = 1)),
            "has children",
        ),
        (
            "offsets that go backwards",
            Box::new(move |p| {
                process(
                    p,
                    &with_column(utf8(vec![0, 3, 1, 4], b"abcd", 3)),
                    |_, _| {},
                )
            }),
            "offset",
        ),
        (
            // Found by fuzzing: arrow's importer sized the data buffer by the last offset
            // before anything validated it (a slice of ~2^64 bytes; an abort in debug builds).
            "a negative last offset",
            Box::new(move |p| process(p, &with_column(utf8(vec![0, 1, -5], b"ab", 2)), |_, _| {})),
            "last offset is negative",
        ),
        (
            "a negative last offset (64-bit offsets)",
            Box::new(|p| {
                let data = unsafe {
                    ArrayData::builder(DataType::LargeUtf8)
                        .len(1)
                        .offset(1)
                        .add_buffer(Buffer::from_vec(vec![0i64, 1, i64::MIN]))
                        .add_buffer(Buffer::from(b"ab".to_vec()))
                        .build_unchecked()
                };
                process(p, &with_column(data), |_, _| {})
            }),
            "last offset is negative",
        ),
        (
            "a view into a data buffer that is too short",
            Box::new(|p| {
                // One view of 20 bytes (not inlined) into buffer 0 at offset 0, which has 4.
                let mut view = [0u8; 16];
                view[..4].copy_from_slice(&20u32.to_le_bytes());
                let data = unsafe {
                    ArrayData::builder(DataType::Utf8View)
                        .len(1)
                        .add_buffer(Buffer::from(view.to_vec()))
                        .add_buffer(Buffer::from(b"abcd".to_vec()))
                        .build_unchecked()
                };
                process(p, &with_column(data), |_, _| {})
            }),
            "",
        ),
        (
            "a negative variadic buffer length",
            Box::new(|p| {
                let a =
                    arrow::array::StringViewArray::from(vec!["a string longer than twelve bytes"]);
                process(p, &with_column(a.into_data()), |a, _| {
                    let c = child(a, 0);
                    let lengths = Box::leak(Box::new([-7i64]));
                    let last = (c.n_buffers - 1) as usize;
                    set_buffer(c, last, lengths.as_ptr() as *const _);
                })
            }),
            "negative length",
        ),
    ]
}

const CHILD: &str = "SPL_INVALID_INPUT_CHILD";

#[test]
fn every_malformed_array_is_invalid_input_with_a_message() {
    let p = compile();
    for (name, run, words) in cases() {
        let status = run(&p);
        let message = last_error();
        assert_eq!(
            status,
            SplStatus::SPL_ERR_INVALID_INPUT,
            "{name}: {message}"
        );
        assert!(!message.is_empty(), "{name}");
        assert!(
            message.contains(words),
            "{name}: `{message}` lacks `{words}`"
        );
        assert!(!message.contains("panic"), "{name}: {message}");
    }
    // The pipeline still works after all of them.
    assert_eq!(process(&p, &valid(), |_, _| {}), SplStatus::SPL_OK);
}

/// Run by the test below in a child process: the same cases, then nothing else.
#[test]
fn child_process_runs_the_cases() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let p = compile();
    for (_, run, _) in cases() {
        assert_eq!(run(&p), SplStatus::SPL_ERR_INVALID_INPUT);
    }
    assert_eq!(process(&p, &valid(), |_, _| {}), SplStatus::SPL_OK);
}

#[test]
fn malformed_input_prints_nothing_to_stderr() {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_process_runs_the_cases",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("1 passed"), "{stdout}");
    assert!(
        out.stderr.is_empty(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
