//! The C ABI called from Rust exactly as C calls it: conformance cases, diagnostics, budgets
//! under each policy, tags and time fallback, bad pointers and bad input, and one pipeline
//! shared by eight threads.
use std::collections::BTreeMap;
use std::ffi::{c_char, CStr, CString};
use std::ptr;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BinaryArray, Float64Array, Int64Array, StringArray, StructArray,
};
use arrow::buffer::Buffer;
use arrow::datatypes::{DataType, Field, Fields};
use arrow::ffi::{from_ffi, FFI_ArrowArray, FFI_ArrowSchema};
use serde_json::Value;
use spl_capi::*;
use spl_engine::render::Renderer;

type Row = BTreeMap<String, String>;

/// One group of a result, decoded.
#[derive(Debug, Clone, PartialEq)]
struct Group {
    output: u32,
    is_error: bool,
    tags: Vec<(String, String)>,
    rows: Vec<Row>,
}

struct Compiled(*mut SplPipeline);

// The handle is a registry key; the library makes the pipeline thread-safe.
unsafe impl Send for Compiled {}
unsafe impl Sync for Compiled {}

impl Drop for Compiled {
    fn drop(&mut self) {
        assert_eq!(spl_pipeline_free(self.0), SplStatus::SPL_OK);
    }
}

fn last_error() -> String {
    unsafe { CStr::from_ptr(spl_last_error()) }
        .to_string_lossy()
        .into_owned()
}

struct Opts {
    profile: &'static str,
    timezone: Option<&'static str>,
    timeout_ms: i64,
    memory: i64,
    policy: i32,
    typed: bool,
}

impl Default for Opts {
    fn default() -> Self {
        Opts {
            profile: "cli",
            timezone: None,
            timeout_ms: -1,
            memory: -1,
            policy: SPL_POLICY_DEFAULT,
            typed: false,
        }
    }
}

fn try_compile(spl: &str, o: &Opts) -> (SplStatus, Option<Compiled>, Option<String>) {
    let spl = CString::new(spl).unwrap();
    let profile = CString::new(o.profile).unwrap();
    let tz = o.timezone.map(|t| CString::new(t).unwrap());
    let mut options = unsafe { std::mem::zeroed::<SplOptions>() };
    assert_eq!(
        unsafe { spl_options_default(&mut options) },
        SplStatus::SPL_OK
    );
    options.profile = profile.as_ptr();
    options.timezone = tz.as_ref().map_or(ptr::null(), |t| t.as_ptr());
    options.batch_timeout_ms = o.timeout_ms;
    options.max_batch_memory = o.memory;
    options.error_policy = o.policy;
    options.typed_output = i32::from(o.typed);
    let mut p = ptr::null_mut();
    let mut diags: *mut c_char = ptr::null_mut();
    let st = unsafe { spl_compile(spl.as_ptr(), &options, &mut p, &mut diags) };
    let json = (!diags.is_null()).then(|| {
        let s = unsafe { CStr::from_ptr(diags) }
            .to_str()
            .unwrap()
            .to_string();
        assert_eq!(spl_string_free(diags), SplStatus::SPL_OK);
        s
    });
    (st, (!p.is_null()).then(|| Compiled(p)), json)
}

fn compile(spl: &str, o: &Opts) -> Compiled {
    let (st, p, json) = try_compile(spl, o);
    assert_eq!(st, SplStatus::SPL_OK, "{spl}: {} {json:?}", last_error());
    p.unwrap()
}

/// A batch of text fields from JSON rows (`__time__` as int64), exported as C structs.
fn batch(rows: &[Value]) -> (FFI_ArrowArray, FFI_ArrowSchema) {
    let mut names: Vec<String> = Vec::new();
    for r in rows {
        for k in r.as_object().unwrap().keys() {
            if !names.contains(k) {
                names.push(k.clone());
            }
        }
    }
    let text = |r: &Value, n: &str| -> Option<String> {
        match r.get(n)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            v => Some(v.to_string()),
        }
    };
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for n in &names {
        if n == "__time__" || n == "__time_ns_part__" {
            let v: Int64Array = rows
                .iter()
                .map(|r| text(r, n).and_then(|t| t.parse().ok()))
                .collect();
            columns.push(Arc::new(v));
        } else {
            let v: StringArray = rows.iter().map(|r| text(r, n)).collect();
            columns.push(Arc::new(v));
        }
        fields.push(Field::new(
            n,
            columns.last().unwrap().data_type().clone(),
            true,
        ));
    }
    let st = if columns.is_empty() {
        StructArray::new_empty_fields(rows.len(), None)
    } else {
        StructArray::try_new(Fields::from(fields), columns, None).unwrap()
    };
    export(&st)
}

fn export(st: &StructArray) -> (FFI_ArrowArray, FFI_ArrowSchema) {
    (
        FFI_ArrowArray::new(&st.to_data()),
        FFI_ArrowSchema::try_from(st.data_type()).unwrap(),
    )
}

fn c_array(a: &mut FFI_ArrowArray) -> *mut ArrowArray {
    a as *mut FFI_ArrowArray as *mut ArrowArray
}

fn c_schema(s: &FFI_ArrowSchema) -> *const ArrowSchema {
    s as *const FFI_ArrowSchema as *const ArrowSchema
}

/// Calls `spl_process` and decodes the result (freeing it).
fn run_raw(
    p: *const SplPipeline,
    input: (FFI_ArrowArray, FFI_ArrowSchema),
    meta: Option<&SplBatchMeta>,
) -> (SplStatus, Option<(Vec<Group>, SplMetrics)>) {
    let (mut array, schema) = input;
    let mut result = ptr::null_mut();
    let st = unsafe {
        spl_process(
            p,
            c_array(&mut array),
            c_schema(&schema),
            meta.map_or(ptr::null(), |m| m as *const _),
            &mut result,
        )
    };
    assert!(array.is_released(), "the library takes the array");
    if result.is_null() {
        return (st, None);
    }
    let decoded = decode(result);
    assert_eq!(spl_result_free(result), SplStatus::SPL_OK);
    (st, Some(decoded))
}

fn run(p: &Compiled, rows: &[Value]) -> (SplStatus, Option<(Vec<Group>, SplMetrics)>) {
    run_raw(p.0, batch(rows), None)
}

fn decode(result: *mut SplResult) -> (Vec<Group>, SplMetrics) {
    let mut n = 0usize;
    assert_eq!(
        unsafe { spl_result_group_count(result, &mut n) },
        SplStatus::SPL_OK
    );
    let renderer = Renderer::default();
    let mut groups = Vec::new();
    for g in 0..n {
        let mut info = unsafe { std::mem::zeroed::<SplGroupInfo>() };
        assert_eq!(
            unsafe { spl_result_group_info(result, g, &mut info) },
            SplStatus::SPL_OK
        );
        let mut tags = Vec::new();
        for t in 0..info.tag_count {
            let mut k = SplStr {
                ptr: ptr::null(),
                len: 0,
            };
            let mut v = k;
            assert_eq!(
                unsafe { spl_result_group_tag(result, g, t, &mut k, &mut v) },
                SplStatus::SPL_OK
            );
            tags.push((str_of(k), str_of(v)));
        }
        let mut array = FFI_ArrowArray::empty();
        let mut schema = FFI_ArrowSchema::empty();
        assert_eq!(
            unsafe {
                spl_result_export(
                    result,
                    g,
                    &mut array as *mut FFI_ArrowArray as *mut ArrowArray,
                    &mut schema as *mut FFI_ArrowSchema as *mut ArrowSchema,
                )
            },
            SplStatus::SPL_OK
        );
        let data = unsafe { from_ffi(array, &schema) }.unwrap();
        data.validate_full().unwrap();
        let st = StructArray::from(data);
        assert_eq!(st.len() as u64, info.rows);
        let batch = arrow::record_batch::RecordBatch::from(st);
        groups.push(Group {
            output: info.output,
            is_error: info.is_error != 0,
            tags,
            rows: renderer.rows(&batch),
        });
    }
    let mut m = SplMetrics::default();
    assert_eq!(
        unsafe { spl_result_metrics(result, &mut m) },
        SplStatus::SPL_OK
    );
    (groups, m)
}

fn str_of(s: SplStr) -> String {
    let bytes = unsafe { std::slice::from_raw_parts(s.ptr as *const u8, s.len) };
    assert_eq!(unsafe { *s.ptr.add(s.len) }, 0, "NUL-terminated");
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// All rows of the non-error groups, tags folded back in as `__tag__:k` fields.
fn all_rows(groups: &[Group]) -> Vec<Row> {
    groups
        .iter()
        .filter(|g| !g.is_error)
        .flat_map(|g| {
            g.rows.iter().map(|r| {
                let mut r = r.clone();
                for (k, v) in &g.tags {
                    r.insert(format!("__tag__:{k}"), v.clone());
                }
                r
            })
        })
        .collect()
}

fn rows_of(v: &Value) -> Vec<Row> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| {
                    let t = match v {
                        Value::String(s) => s.clone(),
                        v => v.to_string(),
                    };
                    (k.clone(), t)
                })
                .collect()
        })
        .collect()
}

fn sorted(mut rows: Vec<Row>) -> Vec<Row> {
    rows.sort();
    rows
}

#[test]
fn conformance_cases_through_the_abi() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/conformance");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.push(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/cases.jsonl").into());
    let mut checked = 0;
    for file in files {
        for case in spl_engine::conformance::load(&file).unwrap() {
            let j = &case.json;
            if j.contains_key("compile_error") || j.contains_key("errors") {
                continue;
            }
            // Only cases the engine itself passes: this test is about the ABI path.
            if spl_engine::conformance::run(&case).failure.is_some() {
                continue;
            }
            let opts = j.get("options").and_then(Value::as_object);
            let o = Opts {
                profile: match opts.and_then(|o| o.get("profile")).and_then(Value::as_str) {
                    Some("scan") => "scan",
                    Some("logtail") => "logtail",
                    _ => "cli",
                },
                timezone: match opts.and_then(|o| o.get("timezone")).and_then(Value::as_str) {
                    Some(tz) => Some(Box::leak(tz.to_string().into_boxed_str())),
                    None => None,
                },
                ..Opts::default()
            };
            let p = compile(j["spl"].as_str().unwrap(), &o);
            let input = j["input"].as_array().unwrap();
            let (st, res) = run(&p, input);
            assert_eq!(st, SplStatus::SPL_OK, "{}: {}", case.id, last_error());
            let (groups, m) = res.unwrap();
            let expected: Vec<Row> = match j.get("outputs") {
                Some(per) => per.as_array().unwrap().iter().flat_map(rows_of).collect(),
                None => rows_of(j.get("output").unwrap_or(&Value::Array(vec![]))),
            };
            // The ABI always returns time fields (falling back to the input time, or the clock,
            // when a row has none); compare them only where the expectation has them.
            let had_time = expected.iter().any(|r| r.contains_key("__time__"));
            let strip = |rows: Vec<Row>| -> Vec<Row> {
                rows.into_iter()
                    .map(|mut r| {
                        if !had_time {
                            r.remove("__time__");
                            r.remove("__time_ns_part__");
                        }
                        r
                    })
                    .collect()
            };
            let actual = strip(all_rows(&groups));
            assert_eq!(sorted(actual), sorted(expected), "case {}", case.id);
            assert_eq!(m.rows_in, input.len() as u64);
            checked += 1;
        }
    }
    eprintln!("{checked} conformance cases ran through the ABI");
    assert!(checked >= 20, "only {checked} cases ran");
}

#[test]
fn bad_pipeline_gives_diagnostics_json() {
    let (st, p, json) = try_compile("* | where a >", &Opts::default());
    assert_eq!(st, SplStatus::SPL_ERR_COMPILE);
    assert!(p.is_none());
    let v: Value = serde_json::from_str(&json.unwrap()).unwrap();
    let d = &v.as_array().unwrap()[0];
    assert_eq!(d["severity"], "error");
    assert!(d["code"].as_str().unwrap().starts_with('E'));
    assert_eq!(d["labels"][0]["line"], 1);
    assert!(last_error().starts_with('E'), "{}", last_error());

    let (st, _, json) = try_compile("* | extend x = no_such_fn(a)", &Opts::default());
    assert_eq!(st, SplStatus::SPL_ERR_COMPILE);
    assert!(json.unwrap().contains("no_such_fn"));

    // Not in the profile: stats is scan-only.
    let o = Opts {
        profile: "logtail",
        ..Opts::default()
    };
    let (st, _, json) = try_compile("* | stats c = count(*)", &o);
    assert_eq!(st, SplStatus::SPL_ERR_COMPILE);
    assert!(json.unwrap().contains("logtail"));

    // Success: the diagnostics are the (possibly empty) warnings.
    let (st, p, json) = try_compile("* | where a = '1'", &Opts::default());
    assert_eq!(st, SplStatus::SPL_OK);
    assert!(p.is_some());
    assert!(serde_json::from_str::<Value>(&json.unwrap())
        .unwrap()
        .is_array());
}

fn many_rows(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| serde_json::json!({"content": format!("10.0.0.{} GET /p/{i} {}", i % 250, 200 + i % 300)}))
        .collect()
}

const HEAVY: &str = "* | parse-regexp content, '(\\S+) (\\S+) (\\S+) (\\d+)' as ip, m, path, st \
    | extend a = regexp_replace(content, '(\\d)', 'x'), b = upper(content), c = md5(content) \
    | extend d = regexp_replace(a, 'x', 'yy') | where length(d) > 0";

#[test]
fn deadline_under_pass_through_returns_the_original_batch() {
    // 1 ms for 20 000 rows through regexes in a debug build: over budget by orders of magnitude.
    let rows = many_rows(20_000);
    let p = compile(
        HEAVY,
        &Opts {
            profile: "logtail",
            timeout_ms: 1,
            ..Opts::default()
        },
    );
    let (st, res) = run(&p, &rows);
    assert_eq!(st, SplStatus::SPL_ERR_DEADLINE_EXCEEDED);
    assert!(last_error().contains("time budget"), "{}", last_error());
    let (groups, m) = res.expect("pass-through returns a result");
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].output, 0);
    let expected: Vec<String> = rows
        .iter()
        .map(|r| r["content"].as_str().unwrap().to_string())
        .collect();
    let got: Vec<String> = groups[0]
        .rows
        .iter()
        .map(|r| r["content"].clone())
        .collect();
    assert_eq!(got, expected);
    assert!(
        groups[0].rows.iter().all(|r| r.len() == 3),
        "content + time fields only"
    );
    assert_eq!(
        (m.budget_exceeded, m.deadline_exceeded, m.memory_exceeded),
        (1, 1, 0)
    );
    assert_eq!(m.rows_out, 20_000);
    assert_eq!(m.error_rows, 20_000);

    // Fail policy: an error and no result.
    let p = compile(
        HEAVY,
        &Opts {
            profile: "logtail",
            timeout_ms: 1,
            policy: SPL_POLICY_FAIL,
            ..Opts::default()
        },
    );
    let (st, res) = run(&p, &rows);
    assert_eq!(st, SplStatus::SPL_ERR_DEADLINE_EXCEEDED);
    assert!(res.is_none());
    let mut m = SplMetrics::default();
    assert_eq!(
        unsafe { spl_pipeline_metrics(p.0, &mut m) },
        SplStatus::SPL_OK
    );
    assert_eq!(
        (m.batches, m.failed_batches, m.deadline_exceeded),
        (1, 1, 1)
    );
}

#[test]
fn memory_ceiling_under_each_policy() {
    let rows = many_rows(1000);
    let o = |policy| Opts {
        profile: "logtail",
        memory: 4096,
        policy,
        ..Opts::default()
    };
    let p = compile(HEAVY, &o(SPL_POLICY_PASS_THROUGH));
    let (st, res) = run(&p, &rows);
    assert_eq!(st, SplStatus::SPL_ERR_MEMORY_EXCEEDED);
    assert!(last_error().contains("ceiling"), "{}", last_error());
    let (groups, m) = res.unwrap();
    assert_eq!(all_rows(&groups).len(), 1000);
    assert_eq!(
        groups[0].rows[7]["content"],
        rows[7]["content"].as_str().unwrap()
    );
    assert_eq!((m.memory_exceeded, m.budget_exceeded), (1, 1));
    assert!(m.peak_memory_bytes > 0);

    let p = compile(HEAVY, &o(SPL_POLICY_DROP));
    let (st, res) = run(&p, &rows);
    assert_eq!(st, SplStatus::SPL_ERR_MEMORY_EXCEEDED);
    let (groups, m) = res.unwrap();
    assert!(groups.is_empty());
    assert_eq!(m.error_rows, 1000);

    let p = compile(HEAVY, &o(SPL_POLICY_FAIL));
    let (st, res) = run(&p, &rows);
    assert_eq!(st, SplStatus::SPL_ERR_MEMORY_EXCEEDED);
    assert!(res.is_none());

    // Within budget: the same pipeline is fine.
    let p = compile(
        HEAVY,
        &Opts {
            profile: "logtail",
            ..Opts::default()
        },
    );
    let (st, res) = run(&p, &rows);
    assert_eq!(st, SplStatus::SPL_OK);
    assert_eq!(res.unwrap().1.rows_out, 1000);
}

#[test]
fn row_errors_follow_the_policy() {
    let rows = vec![
        serde_json::json!({"n": "12"}),
        serde_json::json!({"n": "abc"}),
    ];
    let spl = "* | extend m = cast(n as bigint) + 1";
    let o = |policy| Opts {
        profile: "logtail",
        policy,
        ..Opts::default()
    };
    let (st, res) = run(&compile(spl, &o(SPL_POLICY_DEFAULT)), &rows);
    assert_eq!(st, SplStatus::SPL_OK);
    let (groups, m) = res.unwrap();
    let got = sorted(all_rows(&groups))
        .into_iter()
        .map(|mut r| {
            r.remove("__time__");
            r.remove("__time_ns_part__");
            r
        })
        .collect::<Vec<_>>();
    assert_eq!(
        got,
        sorted(rows_of(
            &serde_json::json!([{"n": "12", "m": "13"}, {"n": "abc"}])
        ))
    );
    assert_eq!((m.error_rows, m.rows_out), (1, 2));

    let (st, res) = run(&compile(spl, &o(SPL_POLICY_DROP)), &rows);
    assert_eq!(st, SplStatus::SPL_OK);
    assert_eq!(res.unwrap().1.rows_out, 1);

    let (st, res) = run(&compile(spl, &o(SPL_POLICY_ERROR_STREAM)), &rows);
    assert_eq!(st, SplStatus::SPL_OK);
    let (groups, _) = res.unwrap();
    let errors: Vec<&Group> = groups.iter().filter(|g| g.is_error).collect();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].output, SPL_ERROR_OUTPUT);
    assert!(errors[0].rows[0]["__error__"].contains("E2"));

    let (st, res) = run(&compile(spl, &o(SPL_POLICY_FAIL)), &rows);
    assert_eq!(st, SplStatus::SPL_ERR_DATA);
    assert!(res.is_none());
}

#[test]
fn tags_split_groups_and_time_falls_back() {
    let p = compile(
        "* | extend \"__tag__:k\" = v | extend __time__ = if(v = 'b', 0, __time__)",
        &Opts::default(),
    );
    let rows = vec![
        serde_json::json!({"v": "a", "__time__": "100"}),
        serde_json::json!({"v": "b", "__time__": "100"}),
        serde_json::json!({"v": "a"}),
        serde_json::json!({"v": null}),
    ];
    let key = CString::new("host").unwrap();
    let value = CString::new("h1").unwrap();
    let tag = SplTag {
        key: key.as_ptr(),
        value: value.as_ptr(),
    };
    let meta = SplBatchMeta {
        tags: &tag,
        tags_len: 1,
        time_seconds: 555,
        time_nanos: 7,
    };
    let (st, res) = run_raw(p.0, batch(&rows), Some(&meta));
    assert_eq!(st, SplStatus::SPL_OK, "{}", last_error());
    let (groups, _) = res.unwrap();
    let tag = |k: &str, v: &str| (k.to_string(), v.to_string());
    assert_eq!(groups.len(), 3);
    assert_eq!(groups[0].tags, vec![tag("host", "h1"), tag("k", "a")]);
    assert_eq!(groups[0].rows.len(), 2);
    assert_eq!(groups[0].rows[0]["__time__"], "100");
    // A kept time without a nanosecond part: NULL, as in the engine and on the LogHub wire.
    assert!(!groups[0].rows[0].contains_key("__time_ns_part__"));
    // No input time: the batch's input time.
    assert_eq!(groups[0].rows[1]["__time__"], "555");
    assert_eq!(groups[0].rows[1]["__time_ns_part__"], "7");
    assert!(!groups[0].rows[0].contains_key("__tag__:k"));
    assert_eq!(groups[1].tags, vec![tag("host", "h1"), tag("k", "b")]);
    // __time__ set to 0 by the pipeline: the input time.
    assert_eq!(groups[1].rows[0]["__time__"], "555");
    // A NULL tag value: no such tag.
    assert_eq!(groups[2].tags, vec![tag("host", "h1")]);
}

#[test]
fn outputs_names_and_typed_output() {
    let p = compile(
        ".let a = * | where x = '1'; $a; * | extend n = 1, f = 0.5",
        &Opts {
            typed: true,
            ..Opts::default()
        },
    );
    let mut count = 0;
    assert_eq!(
        unsafe { spl_pipeline_output_count(p.0, &mut count) },
        SplStatus::SPL_OK
    );
    assert_eq!(count, 2);
    let mut name = SplStr {
        ptr: ptr::null(),
        len: 0,
    };
    assert_eq!(
        unsafe { spl_pipeline_output_name(p.0, 0, &mut name) },
        SplStatus::SPL_OK
    );
    assert_eq!(str_of(name), "a");
    assert_eq!(
        unsafe { spl_pipeline_output_name(p.0, 2, &mut name) },
        SplStatus::SPL_ERR_INVALID_ARGUMENT
    );
    let (mut array, schema) =
        batch(&[serde_json::json!({"x": "1"}), serde_json::json!({"x": "2"})]);
    let mut result = ptr::null_mut();
    let st = unsafe {
        spl_process(
            p.0,
            c_array(&mut array),
            c_schema(&schema),
            ptr::null(),
            &mut result,
        )
    };
    assert_eq!(st, SplStatus::SPL_OK);
    let mut info = unsafe { std::mem::zeroed::<SplGroupInfo>() };
    assert_eq!(
        unsafe { spl_result_group_info(result, 1, &mut info) },
        SplStatus::SPL_OK
    );
    assert_eq!((info.output, info.rows), (1, 2));
    assert_eq!(str_of(info.output_name), "output2");
    let mut out = FFI_ArrowArray::empty();
    let mut out_schema = FFI_ArrowSchema::empty();
    assert_eq!(
        unsafe {
            spl_result_export(
                result,
                1,
                &mut out as *mut FFI_ArrowArray as *mut ArrowArray,
                &mut out_schema as *mut FFI_ArrowSchema as *mut ArrowSchema,
            )
        },
        SplStatus::SPL_OK
    );
    // Exported arrays outlive the result.
    assert_eq!(spl_result_free(result), SplStatus::SPL_OK);
    let st = StructArray::from(unsafe { from_ffi(out, &out_schema) }.unwrap());
    assert_eq!(
        st.column_by_name("n").unwrap().data_type(),
        &DataType::Int64
    );
    assert_eq!(
        st.column_by_name("f").unwrap().data_type(),
        &DataType::Float64
    );
}

#[test]
fn null_and_garbage_pointers_are_errors() {
    let garbage = 0xdead_beef_usize as *mut SplPipeline;
    let p = compile("* | where a = '1'", &Opts::default());
    let mut out = ptr::null_mut();
    unsafe {
        assert_eq!(
            spl_compile(ptr::null(), ptr::null(), &mut out, ptr::null_mut()),
            SplStatus::SPL_ERR_NULL_POINTER
        );
        let spl = CString::new("* | where a = '1'").unwrap();
        assert_eq!(
            spl_compile(spl.as_ptr(), ptr::null(), ptr::null_mut(), ptr::null_mut()),
            SplStatus::SPL_ERR_NULL_POINTER
        );
        // NULL options are the defaults (logtail).
        assert_eq!(
            spl_compile(spl.as_ptr(), ptr::null(), &mut out, ptr::null_mut()),
            SplStatus::SPL_OK
        );
        assert_eq!(spl_pipeline_free(out), SplStatus::SPL_OK);
        assert_eq!(spl_pipeline_free(out), SplStatus::SPL_ERR_INVALID_HANDLE);
        assert!(last_error().contains("not a live handle"));
        assert_eq!(
            spl_pipeline_free(garbage),
            SplStatus::SPL_ERR_INVALID_HANDLE
        );
        assert_eq!(
            spl_pipeline_free(ptr::null_mut()),
            SplStatus::SPL_ERR_NULL_POINTER
        );
        assert_eq!(
            spl_options_default(ptr::null_mut()),
            SplStatus::SPL_ERR_NULL_POINTER
        );
        let mut n = 0;
        assert_eq!(
            spl_pipeline_output_count(garbage, &mut n),
            SplStatus::SPL_ERR_INVALID_HANDLE
        );
        assert_eq!(
            spl_pipeline_output_count(p.0, ptr::null_mut()),
            SplStatus::SPL_ERR_NULL_POINTER
        );
        assert_eq!(
            spl_result_group_count(garbage as *mut SplResult, &mut n),
            SplStatus::SPL_ERR_INVALID_HANDLE
        );
        assert_eq!(
            spl_result_free(garbage as *mut SplResult),
            SplStatus::SPL_ERR_INVALID_HANDLE
        );
        assert_eq!(
            spl_string_free(garbage as *mut c_char),
            SplStatus::SPL_ERR_INVALID_HANDLE
        );
        let mut m = SplMetrics::default();
        assert_eq!(
            spl_result_metrics(ptr::null(), &mut m),
            SplStatus::SPL_ERR_NULL_POINTER
        );
    }
    let rows = [serde_json::json!({"a": "1"})];
    // Garbage pipeline: the array is still taken (and released).
    let (st, res) = run_raw(garbage, batch(&rows), None);
    assert_eq!(st, SplStatus::SPL_ERR_INVALID_HANDLE);
    assert!(res.is_none());
    // NULL array, NULL schema, NULL result pointer, released array.
    unsafe {
        let (mut array, schema) = batch(&rows);
        let mut result = ptr::null_mut();
        assert_eq!(
            spl_process(
                p.0,
                ptr::null_mut(),
                c_schema(&schema),
                ptr::null(),
                &mut result
            ),
            SplStatus::SPL_ERR_NULL_POINTER
        );
        assert_eq!(
            spl_process(
                p.0,
                c_array(&mut array),
                ptr::null(),
                ptr::null(),
                &mut result
            ),
            SplStatus::SPL_ERR_NULL_POINTER
        );
        assert!(array.is_released());
        assert_eq!(
            spl_process(
                p.0,
                c_array(&mut array),
                c_schema(&schema),
                ptr::null(),
                &mut result
            ),
            SplStatus::SPL_ERR_INVALID_ARGUMENT
        );
        assert!(last_error().contains("released"));
        let (mut array, schema) = batch(&rows);
        assert_eq!(
            spl_process(
                p.0,
                c_array(&mut array),
                c_schema(&schema),
                ptr::null(),
                ptr::null_mut()
            ),
            SplStatus::SPL_ERR_NULL_POINTER
        );
        assert!(array.is_released());
    }
    // Results: out-of-range group, NULL out-pointers.
    let (mut array, schema) = batch(&rows);
    let mut result = ptr::null_mut();
    unsafe {
        assert_eq!(
            spl_process(
                p.0,
                c_array(&mut array),
                c_schema(&schema),
                ptr::null(),
                &mut result
            ),
            SplStatus::SPL_OK
        );
        let mut info = std::mem::zeroed::<SplGroupInfo>();
        assert_eq!(
            spl_result_group_info(result, 9, &mut info),
            SplStatus::SPL_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            spl_result_export(result, 0, ptr::null_mut(), ptr::null_mut()),
            SplStatus::SPL_ERR_NULL_POINTER
        );
        assert_eq!(spl_result_free(result), SplStatus::SPL_OK);
        assert_eq!(spl_result_free(result), SplStatus::SPL_ERR_INVALID_HANDLE);
    }
}

#[test]
fn bad_options_and_invalid_utf8() {
    let o = Opts {
        profile: "nope",
        ..Opts::default()
    };
    assert_eq!(try_compile("*", &o).0, SplStatus::SPL_ERR_INVALID_ARGUMENT);
    let o = Opts {
        timezone: Some("Mars/Olympus"),
        ..Opts::default()
    };
    assert_eq!(try_compile("*", &o).0, SplStatus::SPL_ERR_INVALID_ARGUMENT);
    let o = Opts {
        policy: 42,
        ..Opts::default()
    };
    assert_eq!(try_compile("*", &o).0, SplStatus::SPL_ERR_INVALID_ARGUMENT);
    // Invalid UTF-8 program text.
    let text = b"* | where a = '\xff'\0";
    let mut out = ptr::null_mut();
    assert_eq!(
        unsafe {
            spl_compile(
                text.as_ptr() as *const c_char,
                ptr::null(),
                &mut out,
                ptr::null_mut(),
            )
        },
        SplStatus::SPL_ERR_INVALID_UTF8
    );
    assert!(out.is_null());

    let p = compile("* | extend b = concat(a, '!')", &Opts::default());
    // Invalid UTF-8 in a text (`u`) column.
    let bad_text = unsafe {
        arrow::array::ArrayData::builder(DataType::Utf8)
            .len(2)
            .add_buffer(Buffer::from_slice_ref([0i32, 2, 4]))
            .add_buffer(Buffer::from(b"ok\xff\xfe".to_vec()))
            .build_unchecked()
    };
    let st = StructArray::try_new(
        Fields::from(vec![Field::new("a", DataType::Utf8, true)]),
        vec![arrow::array::make_array(bad_text)],
        None,
    )
    .unwrap();
    let (code, res) = run_raw(p.0, export(&st), None);
    assert_eq!(code, SplStatus::SPL_ERR_INVALID_UTF8, "{}", last_error());
    assert!(res.is_none());
    // The same bytes as a binary (`z`) column are repaired.
    let bin = BinaryArray::from(vec![Some(&b"ok"[..]), Some(&b"\xff\xfe"[..])]);
    let st = StructArray::try_new(
        Fields::from(vec![Field::new("a", DataType::Binary, true)]),
        vec![Arc::new(bin) as ArrayRef],
        None,
    )
    .unwrap();
    let (code, res) = run_raw(p.0, export(&st), None);
    assert_eq!(code, SplStatus::SPL_OK, "{}", last_error());
    let rows = all_rows(&res.unwrap().0);
    assert_eq!(rows[0]["b"], "ok!");
    assert_eq!(rows[1]["b"], "\u{fffd}\u{fffd}!");
    // Unsupported column type.
    let st = StructArray::try_new(
        Fields::from(vec![Field::new("a", DataType::Float64, true)]),
        vec![Arc::new(Float64Array::from(vec![1.0])) as ArrayRef],
        None,
    )
    .unwrap();
    let (code, _) = run_raw(p.0, export(&st), None);
    assert_eq!(code, SplStatus::SPL_ERR_INVALID_INPUT);
    assert!(last_error().contains("`a`"), "{}", last_error());
    // Not a struct.
    let a = StringArray::from(vec!["x"]);
    let input = (
        FFI_ArrowArray::new(&a.to_data()),
        FFI_ArrowSchema::try_from(a.data_type()).unwrap(),
    );
    assert_eq!(
        run_raw(p.0, input, None).0,
        SplStatus::SPL_ERR_INVALID_INPUT
    );
    // A child array with the wrong number of buffers, and a field name that is not UTF-8.
    let (mut array, schema) = batch(&[serde_json::json!({"a": "x"})]);
    unsafe {
        let raw = c_array(&mut array);
        let child = *(*raw).children;
        (*child).n_buffers = 2;
        let mut result = ptr::null_mut();
        assert_eq!(
            spl_process(p.0, raw, c_schema(&schema), ptr::null(), &mut result),
            SplStatus::SPL_ERR_INVALID_INPUT
        );
        assert!(last_error().contains("buffers"), "{}", last_error());
    }
    let (mut array, schema) = batch(&[serde_json::json!({"a": "x"})]);
    let bad_name = b"\xffa\0";
    unsafe {
        let raw_schema = c_schema(&schema) as *mut ArrowSchema;
        let child = *(*raw_schema).children;
        let saved = (*child).name;
        (*child).name = bad_name.as_ptr() as *const c_char;
        let mut result = ptr::null_mut();
        assert_eq!(
            spl_process(
                p.0,
                c_array(&mut array),
                raw_schema,
                ptr::null(),
                &mut result
            ),
            SplStatus::SPL_ERR_INVALID_UTF8
        );
        (*child).name = saved;
    }
    // Invalid UTF-8 in a tag.
    let (array, schema) = batch(&[serde_json::json!({"a": "x"})]);
    let key = b"k\xff\0";
    let tag = SplTag {
        key: key.as_ptr() as *const c_char,
        value: key.as_ptr() as *const c_char,
    };
    let meta = SplBatchMeta {
        tags: &tag,
        tags_len: 1,
        time_seconds: 0,
        time_nanos: 0,
    };
    assert_eq!(
        run_raw(p.0, (array, schema), Some(&meta)).0,
        SplStatus::SPL_ERR_INVALID_UTF8
    );
}

#[test]
fn one_pipeline_eight_threads_same_results() {
    let p = Arc::new(compile(
        "* | parse-regexp content, '(\\S+) (\\S+) (\\S+) (\\d+)' as ip, m, path, st \
         | where cast(st as bigint) >= 300 | extend \"__tag__:ip\" = ip, k = md5(path)",
        &Opts {
            profile: "logtail",
            ..Opts::default()
        },
    ));
    let batches: Arc<Vec<Vec<Value>>> = Arc::new((0..6)
        .map(|b| {
            (0..500)
                .map(|i| serde_json::json!({"content": format!("10.0.0.{} GET /p/{b}/{i} {}", i % 7, 200 + (i * 37) % 300), "__time__": "1700000000"}))
                .collect()
        })
        .collect());
    let one = move |p: &Compiled| -> Vec<Vec<Group>> {
        batches
            .iter()
            .map(|b| {
                let (st, res) = run(p, b);
                assert_eq!(st, SplStatus::SPL_OK);
                res.unwrap().0
            })
            .collect()
    };
    let reference = one(&p);
    assert!(reference.iter().all(|groups| groups.len() == 7));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let p = Arc::clone(&p);
            let one = one.clone();
            std::thread::spawn(move || (0..3).map(|_| one(&p)).collect::<Vec<_>>())
        })
        .collect();
    for t in threads {
        for run in t.join().unwrap() {
            assert_eq!(run, reference);
        }
    }
    let mut m = SplMetrics::default();
    assert_eq!(
        unsafe { spl_pipeline_metrics(p.0, &mut m) },
        SplStatus::SPL_OK
    );
    assert_eq!(m.batches, 6 * 25);
    assert_eq!(m.rows_in, 500 * 6 * 25);
    assert!(m.peak_memory_bytes > 0);
}

#[test]
fn version_and_status_names() {
    let v = unsafe { CStr::from_ptr(spl_version()) }.to_str().unwrap();
    assert_eq!(v, env!("CARGO_PKG_VERSION"));
    let name = |s: i32| {
        unsafe { CStr::from_ptr(spl_status_name(s)) }
            .to_str()
            .unwrap()
    };
    assert_eq!(name(0), "SPL_OK");
    assert_eq!(
        name(SplStatus::SPL_ERR_MEMORY_EXCEEDED as i32),
        "SPL_ERR_MEMORY_EXCEEDED"
    );
    assert_eq!(name(-5), "unknown");
}

/// Processes one batch and returns group 0's exported struct array.
fn export_group0(p: *const SplPipeline, st: &StructArray) -> StructArray {
    let (mut array, schema) = export(st);
    let mut result = ptr::null_mut();
    let code = unsafe {
        spl_process(
            p,
            c_array(&mut array),
            c_schema(&schema),
            ptr::null(),
            &mut result,
        )
    };
    assert_eq!(code, SplStatus::SPL_OK, "{}", last_error());
    let mut out = FFI_ArrowArray::empty();
    let mut out_schema = FFI_ArrowSchema::empty();
    assert_eq!(
        unsafe {
            spl_result_export(
                result,
                0,
                &mut out as *mut FFI_ArrowArray as *mut ArrowArray,
                &mut out_schema as *mut FFI_ArrowSchema as *mut ArrowSchema,
            )
        },
        SplStatus::SPL_OK
    );
    assert_eq!(spl_result_free(result), SplStatus::SPL_OK);
    let data = unsafe { from_ffi(out, &out_schema) }.unwrap();
    data.validate_full().unwrap();
    StructArray::from(data)
}

#[test]
fn bytes_that_are_not_utf8_pass_through_untouched_fields_byte_for_byte() {
    use arrow::array::{AsArray, BinaryArray, StringArray};
    let bin = BinaryArray::from(vec![Some(&b"\xff\xfe\x00x"[..]), Some(&b"ok"[..])]);
    let st = StructArray::try_new(
        Fields::from(vec![
            Field::new("k", DataType::Utf8, true),
            Field::new("blob", DataType::Binary, true),
        ]),
        vec![
            Arc::new(StringArray::from(vec!["a", "b"])) as ArrayRef,
            Arc::new(bin.clone()) as ArrayRef,
        ],
        None,
    )
    .unwrap();
    // No stage reads or writes `blob`: it leaves as binary with the same bytes.
    let p = compile(
        "* | where k = 'a' or k = 'b' | extend n = 1",
        &Opts::default(),
    );
    let out = export_group0(p.0, &st);
    let blob = out.column_by_name("blob").unwrap();
    assert_eq!(blob.data_type(), &DataType::Binary);
    let got: Vec<Option<&[u8]>> = blob.as_binary::<i32>().iter().collect();
    assert_eq!(got, bin.iter().collect::<Vec<_>>());
    // A stage reads it: it is text with U+FFFD for the invalid bytes.
    let p = compile("* | extend l = length(blob)", &Opts::default());
    let out = export_group0(p.0, &st);
    let blob = out.column_by_name("blob").unwrap();
    assert_eq!(blob.as_string::<i32>().value(0), "\u{fffd}\u{fffd}\u{0}x");
    assert_eq!(
        out.column_by_name("l").unwrap().as_string::<i32>().value(0),
        "4"
    );
}
