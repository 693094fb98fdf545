//! The C functions and types of `include/spl.h`.
//!
//! Conventions: every function returns an `SplStatus` (or a static string); after a status
//! other than `SPL_OK` the thread's `spl_last_error()` says why. Out-parameters are cleared on entry. Handles
//! (`SplPipeline *`, `SplResult *`, strings returned by the library) are checked against the
//! live set, so NULL, freed or garbage handles give `SPL_ERR_INVALID_HANDLE` instead of a crash.
//! Pointers *into* caller memory (Arrow buffers, strings) cannot be checked beyond NULL.
use std::ffi::c_char;
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::{Array, StructArray};
use arrow::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use arrow::record_batch::RecordBatch;
use spl_engine::exec::run_batch;
use spl_engine::groups::{self, EventGroup, EventTime, GroupFields, Splitter, Touched};
use spl_engine::pipeline::{ErrorPolicy, Options, Pipeline, ProcessError, Profile};
use spl_engine::render::Renderer;
use spl_engine::timezone::SessionTz;

use crate::guard::{c_str, guard, non_null, Failure};
use crate::registry::{free_string, give_string, Registry};
pub use crate::status::{ArrowArray, ArrowSchema, SplStatus};

/// `SplOptions.error_policy`: the profile's default (pass-through for `logtail`).
pub const SPL_POLICY_DEFAULT: i32 = 0;
/// A failing row, or a whole batch over budget, is emitted unchanged on output 0.
pub const SPL_POLICY_PASS_THROUGH: i32 = 1;
/// Failing rows (or an over-budget batch) are counted and dropped.
pub const SPL_POLICY_DROP: i32 = 2;
/// The first error fails the call; no result.
pub const SPL_POLICY_FAIL: i32 = 3;
/// Failing rows go to error groups (`is_error`) with an `__error__` field.
pub const SPL_POLICY_ERROR_STREAM: i32 = 4;

/// `SplGroupInfo.output` of a group on the error stream.
pub const SPL_ERROR_OUTPUT: u32 = u32::MAX;

/// How a pipeline is compiled. Fill with `spl_options_default` first.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SplOptions {
    /// `"logtail"` (alias `"agent"`, the default when NULL), `"consumer"`, `"transform"`,
    /// `"scan"` or `"cli"`: instructions allowed, limits and default error policy.
    pub profile: *const c_char,
    /// Session time zone, e.g. `"UTC"` (default when NULL), `"+08:00"`, `"Asia/Shanghai"`.
    pub timezone: *const c_char,
    /// Per-batch time budget in milliseconds; < 0: the profile's (1000 for logtail); 0: none.
    pub batch_timeout_ms: i64,
    /// Per-batch memory ceiling in bytes; < 0: the profile's (50 MiB for logtail); 0: none.
    pub max_batch_memory: i64,
    /// One of `SPL_POLICY_*`.
    pub error_policy: i32,
    /// 0: every field but the time fields is exported as UTF-8 text (§18.4 rendering);
    /// 1: fields keep the engine's Arrow types (int64, double, bool, timestamp, list, map…).
    pub typed_output: i32,
}

/// A group tag given with a batch: `key` without the `__tag__:` prefix.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SplTag {
    pub key: *const c_char,
    pub value: *const c_char,
}

/// What comes with a batch besides its rows. All members may be zero.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SplBatchMeta {
    /// Group tags, added to every row as `__tag__:<key>` (a row's own non-NULL value wins).
    pub tags: *const SplTag,
    pub tags_len: usize,
    /// The input time (Unix seconds) given to output rows whose `__time__` is absent, NULL, 0
    /// or 4294967295 after the pipeline; <= 0 uses the wall-clock time of the call.
    pub time_seconds: i64,
    /// Nanosecond part of the input time.
    pub time_nanos: i64,
}

/// A borrowed UTF-8 string: `len` bytes at `ptr`, followed by a NUL (so `ptr` is also a C
/// string when the text has no NUL inside). Valid as long as its owner (result or pipeline).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SplStr {
    pub ptr: *const c_char,
    pub len: usize,
}

/// One output group of a result.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SplGroupInfo {
    /// Index of the emitted dataset (see `spl_pipeline_output_name`), or `SPL_ERROR_OUTPUT`.
    pub output: u32,
    /// 1 for a group of the error stream (rows carry `__error__`), else 0.
    pub is_error: i32,
    /// Rows in the group.
    pub rows: u64,
    /// Tags of the group (`spl_result_group_tag`).
    pub tag_count: usize,
    /// The dataset's name (`output1`… or the `$name` emitted), `"errors"` for the error stream.
    pub output_name: SplStr,
}

/// Counters of one call (`spl_result_metrics`) or, summed, of a pipeline's life
/// (`spl_pipeline_metrics`; `peak_memory_bytes` is then the highest of any call).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SplMetrics {
    /// Calls of `spl_process` that got as far as the engine.
    pub batches: u64,
    /// Calls that failed without a result (fail policy).
    pub failed_batches: u64,
    pub rows_in: u64,
    /// Rows in the output groups (error stream excluded).
    pub rows_out: u64,
    /// Rows that failed: passed through, dropped or on the error stream.
    pub error_rows: u64,
    /// Batches over a budget (time or memory), whatever the policy.
    pub budget_exceeded: u64,
    pub deadline_exceeded: u64,
    pub memory_exceeded: u64,
    /// Wall-clock time inside `spl_process`, import and export included.
    pub process_ns: u64,
    /// Peak bytes allocated by the library during the call (see docs/embedding.md).
    pub peak_memory_bytes: u64,
}

/// A compiled pipeline. Thread-safe: any number of threads may call `spl_process` on it.
pub struct SplPipeline {
    pipeline: Pipeline,
    names: Arc<Vec<Vec<u8>>>,
    typed: bool,
    renderer: Renderer,
    /// Fields the program's stages read or write (byte fields elsewhere keep their bytes).
    touched: Touched,
    totals: Totals,
}

/// The outcome of one `spl_process` call.
pub struct SplResult {
    groups: Vec<GroupOut>,
    names: Arc<Vec<Vec<u8>>>,
    metrics: SplMetrics,
}

struct GroupOut {
    output: u32,
    is_error: bool,
    /// Key and value, each with a trailing NUL.
    tags: Vec<(Vec<u8>, Vec<u8>)>,
    rows: StructArray,
}

#[derive(Default)]
struct Totals {
    batches: AtomicU64,
    failed_batches: AtomicU64,
    rows_in: AtomicU64,
    rows_out: AtomicU64,
    error_rows: AtomicU64,
    budget_exceeded: AtomicU64,
    deadline_exceeded: AtomicU64,
    memory_exceeded: AtomicU64,
    process_ns: AtomicU64,
    peak_memory_bytes: AtomicU64,
}

impl Totals {
    fn add(&self, m: &SplMetrics) {
        let r = Ordering::Relaxed;
        self.batches.fetch_add(m.batches, r);
        self.failed_batches.fetch_add(m.failed_batches, r);
        self.rows_in.fetch_add(m.rows_in, r);
        self.rows_out.fetch_add(m.rows_out, r);
        self.error_rows.fetch_add(m.error_rows, r);
        self.budget_exceeded.fetch_add(m.budget_exceeded, r);
        self.deadline_exceeded.fetch_add(m.deadline_exceeded, r);
        self.memory_exceeded.fetch_add(m.memory_exceeded, r);
        self.process_ns.fetch_add(m.process_ns, r);
        self.peak_memory_bytes.fetch_max(m.peak_memory_bytes, r);
    }

    fn get(&self) -> SplMetrics {
        let r = Ordering::Relaxed;
        SplMetrics {
            batches: self.batches.load(r),
            failed_batches: self.failed_batches.load(r),
            rows_in: self.rows_in.load(r),
            rows_out: self.rows_out.load(r),
            error_rows: self.error_rows.load(r),
            budget_exceeded: self.budget_exceeded.load(r),
            deadline_exceeded: self.deadline_exceeded.load(r),
            memory_exceeded: self.memory_exceeded.load(r),
            process_ns: self.process_ns.load(r),
            peak_memory_bytes: self.peak_memory_bytes.load(r),
        }
    }
}

static PIPELINES: Registry<SplPipeline> = Registry::new("pipeline");
static RESULTS: Registry<SplResult> = Registry::new("result");

/// Bytes with a trailing NUL.
fn nul_terminated(text: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(text.len() + 1);
    v.extend_from_slice(text);
    v.push(0);
    v
}

fn spl_str(bytes: &[u8]) -> SplStr {
    SplStr {
        ptr: bytes.as_ptr() as *const c_char,
        len: bytes.len().saturating_sub(1),
    }
}

/// Writes `value` through an out-pointer after checking it.
///
/// # Safety
/// `out` must be NULL or point to writable memory for a `T`.
unsafe fn put<T>(out: *mut T, value: T, what: &str) -> Result<(), Failure> {
    non_null(out, what)?;
    // SAFETY: non-null, writable per the caller; the old content is not dropped.
    unsafe { ptr::write(out, value) };
    Ok(())
}

fn internal(e: impl std::fmt::Display) -> Failure {
    Failure::new(SplStatus::SPL_ERR_INTERNAL, e.to_string())
}

/// The library version, e.g. `"0.1.0"` (a static string).
#[no_mangle]
pub extern "C" fn spl_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr() as *const c_char
}

/// The message of the last call on this thread that returned a status other than `SPL_OK`
/// (successful calls leave it unchanged, like `errno`; empty before any failure). Valid until
/// the next failing call on this thread.
#[no_mangle]
pub extern "C" fn spl_last_error() -> *const c_char {
    crate::guard::last_error_ptr()
}

/// The name of a status code (`"SPL_ERR_NULL_POINTER"`), `"unknown"` for other values.
#[no_mangle]
pub extern "C" fn spl_status_name(status: i32) -> *const c_char {
    let name: &'static std::ffi::CStr = match status {
        0 => c"SPL_OK",
        1 => c"SPL_ERR_NULL_POINTER",
        2 => c"SPL_ERR_INVALID_HANDLE",
        3 => c"SPL_ERR_INVALID_UTF8",
        4 => c"SPL_ERR_INVALID_ARGUMENT",
        5 => c"SPL_ERR_COMPILE",
        6 => c"SPL_ERR_INVALID_INPUT",
        7 => c"SPL_ERR_DEADLINE_EXCEEDED",
        8 => c"SPL_ERR_MEMORY_EXCEEDED",
        9 => c"SPL_ERR_DATA",
        10 => c"SPL_ERR_BATCH",
        11 => c"SPL_ERR_INTERNAL",
        _ => c"unknown",
    };
    name.as_ptr()
}

/// Fills `options` with the defaults: logtail profile, UTC, the profile's budgets and error
/// policy, text output.
///
/// # Safety
/// `options` must be NULL or point to writable memory for an `SplOptions`.
#[no_mangle]
pub unsafe extern "C" fn spl_options_default(options: *mut SplOptions) -> SplStatus {
    guard(|_| {
        // SAFETY: per the contract.
        unsafe { put(options, default_options(), "options")? };
        Ok(SplStatus::SPL_OK)
    })
}

fn default_options() -> SplOptions {
    SplOptions {
        profile: ptr::null(),
        timezone: ptr::null(),
        batch_timeout_ms: -1,
        max_batch_memory: -1,
        error_policy: SPL_POLICY_DEFAULT,
        typed_output: 0,
    }
}

/// Compiles an SPL program. On success `*pipeline_out` is a new pipeline (free it with
/// `spl_pipeline_free`). When `diagnostics_out` is not NULL it receives the diagnostics as a
/// JSON array (`[{"severity","code","name","message","labels":[{"line","column",…}],"notes",
/// "help"}]`; warnings on success, errors on `SPL_ERR_COMPILE`); free it with
/// `spl_string_free`. `options` may be NULL for the defaults.
///
/// # Safety
/// `spl` must be NULL or a NUL-terminated string; `options` NULL or a valid `SplOptions` whose
/// strings are NULL or NUL-terminated; the out-pointers NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn spl_compile(
    spl: *const c_char,
    options: *const SplOptions,
    pipeline_out: *mut *mut SplPipeline,
    diagnostics_out: *mut *mut c_char,
) -> SplStatus {
    guard(|_| {
        if !diagnostics_out.is_null() {
            // SAFETY: writable per the contract.
            unsafe { *diagnostics_out = ptr::null_mut() };
        }
        // SAFETY: per the contract.
        unsafe { put(pipeline_out, ptr::null_mut(), "pipeline_out")? };
        // SAFETY: per the contract.
        let text = unsafe { c_str(spl, "spl")? };
        let o = if options.is_null() {
            default_options()
        } else {
            // SAFETY: non-null, valid per the contract.
            unsafe { *options }
        };
        // SAFETY: strings of the options per the contract.
        let opts = unsafe { engine_options(&o)? };
        match Pipeline::compile(text, &opts) {
            Err(diags) => {
                let first = diags
                    .errors()
                    .next()
                    .map(|d| format!("{}: {}", d.code.id, d.message))
                    .unwrap_or_else(|| "the program does not compile".into());
                if !diagnostics_out.is_null() {
                    // SAFETY: writable per the contract.
                    unsafe { *diagnostics_out = give_string(diags.to_json(text).to_string()) };
                }
                Err(Failure::new(SplStatus::SPL_ERR_COMPILE, first))
            }
            Ok(pipeline) => {
                if !diagnostics_out.is_null() {
                    let json = pipeline.warnings.to_json(text).to_string();
                    // SAFETY: writable per the contract.
                    unsafe { *diagnostics_out = give_string(json) };
                }
                let names = pipeline
                    .outputs()
                    .iter()
                    .map(|o| nul_terminated(o.name.as_bytes()))
                    .collect();
                let handle = PIPELINES.insert(SplPipeline {
                    renderer: Renderer::new(opts.timezone),
                    touched: Touched::of(pipeline.plan()),
                    pipeline,
                    names: Arc::new(names),
                    typed: o.typed_output != 0,
                    totals: Totals::default(),
                });
                // SAFETY: checked writable above.
                unsafe { *pipeline_out = handle };
                Ok(SplStatus::SPL_OK)
            }
        }
    })
}

/// # Safety
/// The strings of `o` must be NULL or NUL-terminated.
unsafe fn engine_options(o: &SplOptions) -> Result<Options, Failure> {
    let bad = |m: String| Failure::new(SplStatus::SPL_ERR_INVALID_ARGUMENT, m);
    let profile = if o.profile.is_null() {
        Profile::Logtail
    } else {
        // SAFETY: per the contract.
        let name = unsafe { c_str(o.profile, "options.profile")? };
        Profile::parse(name).ok_or_else(|| {
            bad(format!(
                "unknown profile `{name}` (logtail, consumer, transform, scan, cli)"
            ))
        })?
    };
    let mut opts = Options::new(profile);
    if !o.timezone.is_null() {
        // SAFETY: per the contract.
        let tz = unsafe { c_str(o.timezone, "options.timezone")? };
        opts.timezone = SessionTz::parse(tz).map_err(bad)?;
    }
    opts.batch_timeout = match o.batch_timeout_ms {
        t if t < 0 => None,
        0 => Some(Duration::MAX),
        t => Some(Duration::from_millis(t.unsigned_abs())),
    };
    opts.max_batch_memory = match o.max_batch_memory {
        m if m < 0 => None,
        0 => Some(usize::MAX),
        m => Some(usize::try_from(m).unwrap_or(usize::MAX)),
    };
    opts.error_policy = match o.error_policy {
        SPL_POLICY_DEFAULT => None,
        SPL_POLICY_PASS_THROUGH => Some(ErrorPolicy::PassThrough),
        SPL_POLICY_DROP => Some(ErrorPolicy::Drop),
        SPL_POLICY_FAIL => Some(ErrorPolicy::Fail),
        SPL_POLICY_ERROR_STREAM => Some(ErrorPolicy::ErrorStream),
        p => return Err(bad(format!("unknown error policy {p}"))),
    };
    if !(0..=1).contains(&o.typed_output) {
        return Err(bad(format!(
            "typed_output must be 0 or 1, not {}",
            o.typed_output
        )));
    }
    Ok(opts)
}

/// Frees a pipeline. Calls already running on other threads finish first.
#[no_mangle]
pub extern "C" fn spl_pipeline_free(pipeline: *mut SplPipeline) -> SplStatus {
    guard(|_| {
        PIPELINES.remove(pipeline)?;
        Ok(SplStatus::SPL_OK)
    })
}

/// The number of emitted datasets (outputs) of the program.
///
/// # Safety
/// `count_out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn spl_pipeline_output_count(
    pipeline: *const SplPipeline,
    count_out: *mut usize,
) -> SplStatus {
    guard(|_| {
        let p = PIPELINES.get(pipeline)?;
        // SAFETY: per the contract.
        unsafe { put(count_out, p.names.len(), "count_out")? };
        Ok(SplStatus::SPL_OK)
    })
}

/// The name of output `index` (`output1`…, or the dataset name of `$name;`), valid while the
/// pipeline lives.
///
/// # Safety
/// `name_out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn spl_pipeline_output_name(
    pipeline: *const SplPipeline,
    index: usize,
    name_out: *mut SplStr,
) -> SplStatus {
    guard(|_| {
        let p = PIPELINES.get(pipeline)?;
        let name = p.names.get(index).ok_or_else(|| {
            Failure::new(
                SplStatus::SPL_ERR_INVALID_ARGUMENT,
                format!("output {index} does not exist ({} outputs)", p.names.len()),
            )
        })?;
        // SAFETY: per the contract.
        unsafe { put(name_out, spl_str(name), "name_out")? };
        Ok(SplStatus::SPL_OK)
    })
}

/// Counters summed over every call on the pipeline so far.
///
/// # Safety
/// `metrics_out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn spl_pipeline_metrics(
    pipeline: *const SplPipeline,
    metrics_out: *mut SplMetrics,
) -> SplStatus {
    guard(|_| {
        let p = PIPELINES.get(pipeline)?;
        // SAFETY: per the contract.
        unsafe { put(metrics_out, p.totals.get(), "metrics_out")? };
        Ok(SplStatus::SPL_OK)
    })
}

/// Processes one batch: a struct array (format `+s`) whose children are the fields — text
/// (`u`, `U`, `vu`), bytes (`z`, `Z`, `vz`: bytes that are not UTF-8 leave unchanged, as `z`, when
/// no stage reads or writes the field; a stage that does sees U+FFFD), dictionaries of text,
/// all-NULL (`n`), and integer `__time__`/`__time_ns_part__`.
///
/// Ownership: the library takes `array` whenever it is not NULL and not released (it calls
/// `array->release` when done and marks the caller's struct released), whatever the status;
/// the text is read in place (zero copy). `schema` is only borrowed. `meta` may be NULL.
///
/// `*result_out` receives a result on `SPL_OK` and also on `SPL_ERR_DEADLINE_EXCEEDED` /
/// `SPL_ERR_MEMORY_EXCEEDED` unless the policy is fail (the original batch on output 0 under
/// pass-through). Always free a non-NULL result with `spl_result_free`.
///
/// # Safety
/// `array` and `schema` must be NULL or C Data Interface structs; `meta` NULL or valid with
/// `tags_len` readable tags of NUL-terminated strings; `result_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn spl_process(
    pipeline: *const SplPipeline,
    array: *mut ArrowArray,
    schema: *const ArrowSchema,
    meta: *const SplBatchMeta,
    result_out: *mut *mut SplResult,
) -> SplStatus {
    guard(|note| {
        // Take the array first so it is released on every path.
        let owned = if array.is_null() {
            None
        } else {
            // SAFETY: non-null C Data Interface array per the contract.
            let released = unsafe { (*array).release.is_none() };
            // SAFETY: same layout; `from_raw` moves it out and marks the source released.
            (!released).then(|| unsafe { FFI_ArrowArray::from_raw(array as *mut FFI_ArrowArray) })
        };
        // SAFETY: per the contract.
        unsafe { put(result_out, ptr::null_mut(), "result_out")? };
        non_null(array, "array")?;
        let owned = owned.ok_or_else(|| {
            Failure::new(
                SplStatus::SPL_ERR_INVALID_ARGUMENT,
                "the array was already released",
            )
        })?;
        let p = PIPELINES.get(pipeline)?;
        // SAFETY: per the contract.
        let (tags, time) = unsafe { read_meta(meta)? };
        let baseline = crate::alloc::start();
        let started = Instant::now();
        // SAFETY: per the contract.
        let batch = unsafe { crate::import::import(owned, schema)? };
        let rows_in = batch.num_rows() as u64;
        let input_bytes = batch.get_array_memory_size();
        let fallback = time.unwrap_or_else(EventTime::now);
        let input = EventGroup {
            tags: tags.into_iter().map(|(k, v)| (k, v.into_bytes())).collect(),
            ..EventGroup::new(batch, fallback)
        };
        let batch = groups::merge(
            std::slice::from_ref(&input),
            GroupFields::Tags,
            &p.touched,
            &p.renderer,
        )
        .map_err(|e| Failure::new(SplStatus::SPL_ERR_INVALID_INPUT, e.to_string()))?;
        let outcome = run_batch(&p.pipeline, batch);
        let mut m = SplMetrics {
            batches: 1,
            rows_in,
            ..SplMetrics::default()
        };
        let finish = |m: &mut SplMetrics, output_bytes: usize| {
            m.process_ns = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
            m.peak_memory_bytes =
                crate::alloc::peak_since(baseline).unwrap_or(input_bytes.max(output_bytes) as u64);
        };
        let out = match outcome {
            Ok(out) => out,
            Err(e) => {
                m.failed_batches = 1;
                m.error_rows = rows_in;
                count_budget(&mut m, &e);
                finish(&mut m, 0);
                p.totals.add(&m);
                return Err(Failure::new(status_of(&e), format!("{}: {e}", e.code())));
            }
        };
        let mut groups = Vec::new();
        for (i, batches) in out.datasets.iter().enumerate() {
            let output = u32::try_from(i).unwrap_or(u32::MAX - 1);
            collect_groups(&p, &input, batches, output, false, &mut groups)?;
        }
        collect_groups(
            &p,
            &input,
            &out.error_rows,
            SPL_ERROR_OUTPUT,
            true,
            &mut groups,
        )?;
        m.error_rows = out.policy_error_rows;
        for g in &groups {
            if g.is_error {
                m.error_rows += g.rows.len() as u64;
            } else {
                m.rows_out += g.rows.len() as u64;
            }
        }
        m.budget_exceeded = out.budget_exceeded;
        let status = match &out.budget_error {
            Some(e) => {
                count_budget(&mut m, e);
                *note = Some(format!("{}: {e}", e.code()));
                status_of(e)
            }
            None => SplStatus::SPL_OK,
        };
        let output_bytes = groups.iter().map(|g| g.rows.get_array_memory_size()).sum();
        finish(&mut m, output_bytes);
        p.totals.add(&m);
        let handle = RESULTS.insert(SplResult {
            groups,
            names: Arc::clone(&p.names),
            metrics: m,
        });
        // SAFETY: checked writable above.
        unsafe { *result_out = handle };
        Ok(status)
    })
}

fn count_budget(m: &mut SplMetrics, e: &ProcessError) {
    match e {
        ProcessError::DeadlineExceeded { .. } => {
            m.budget_exceeded = 1;
            m.deadline_exceeded = 1;
        }
        ProcessError::MemoryExceeded { .. } => {
            m.budget_exceeded = 1;
            m.memory_exceeded = 1;
        }
        _ => {}
    }
}

fn status_of(e: &ProcessError) -> SplStatus {
    match e {
        ProcessError::DeadlineExceeded { .. } => SplStatus::SPL_ERR_DEADLINE_EXCEEDED,
        ProcessError::MemoryExceeded { .. } => SplStatus::SPL_ERR_MEMORY_EXCEEDED,
        ProcessError::Data { .. } => SplStatus::SPL_ERR_DATA,
        ProcessError::Batch { .. } => SplStatus::SPL_ERR_BATCH,
    }
}

/// Splits the batches of one output into groups by tags (rows of one tag combination from
/// several batches form one group), starting from the input's tags and time.
fn collect_groups(
    p: &SplPipeline,
    input: &EventGroup,
    batches: &[RecordBatch],
    output: u32,
    is_error: bool,
    into: &mut Vec<GroupOut>,
) -> Result<(), Failure> {
    let mut split = Splitter::new(input, GroupFields::Tags, &p.renderer);
    for b in batches {
        split.add(b).map_err(internal)?;
    }
    for g in split.finish().map_err(internal)? {
        let rows = crate::export::to_struct(&g.rows, &p.renderer, p.typed).map_err(internal)?;
        into.push(GroupOut {
            output,
            is_error,
            tags: g
                .tags
                .iter()
                .map(|(k, v)| (nul_terminated(k.as_bytes()), nul_terminated(v)))
                .collect(),
            rows,
        });
    }
    Ok(())
}

/// The tags and input time given with a batch.
type BatchMeta = (Vec<(String, String)>, Option<EventTime>);

/// # Safety
/// `meta` must be NULL or valid with readable tags.
unsafe fn read_meta(meta: *const SplBatchMeta) -> Result<BatchMeta, Failure> {
    if meta.is_null() {
        return Ok((Vec::new(), None));
    }
    // SAFETY: non-null per the contract.
    let m = unsafe { &*meta };
    let mut tags = Vec::with_capacity(m.tags_len.min(1024));
    if m.tags_len > 0 {
        non_null(m.tags, "meta.tags")?;
        for i in 0..m.tags_len {
            // SAFETY: `tags_len` readable tags per the contract.
            let t = unsafe { &*m.tags.add(i) };
            // SAFETY: NUL-terminated per the contract.
            let key = unsafe { c_str(t.key, "tag key")? };
            // SAFETY: as above.
            let value = unsafe { c_str(t.value, "tag value")? };
            tags.push((key.to_string(), value.to_string()));
        }
    }
    let time = (m.time_seconds > 0).then_some(EventTime {
        seconds: m.time_seconds,
        nanos: m.time_nanos.clamp(0, 999_999_999),
    });
    Ok((tags, time))
}

/// The number of groups in a result.
///
/// # Safety
/// `count_out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn spl_result_group_count(
    result: *const SplResult,
    count_out: *mut usize,
) -> SplStatus {
    guard(|_| {
        let r = RESULTS.get(result)?;
        // SAFETY: per the contract.
        unsafe { put(count_out, r.groups.len(), "count_out")? };
        Ok(SplStatus::SPL_OK)
    })
}

fn group(r: &SplResult, index: usize) -> Result<&GroupOut, Failure> {
    r.groups.get(index).ok_or_else(|| {
        Failure::new(
            SplStatus::SPL_ERR_INVALID_ARGUMENT,
            format!("group {index} does not exist ({} groups)", r.groups.len()),
        )
    })
}

/// Describes group `index` of a result (groups are in output order, then by first row).
///
/// # Safety
/// `info_out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn spl_result_group_info(
    result: *const SplResult,
    index: usize,
    info_out: *mut SplGroupInfo,
) -> SplStatus {
    guard(|_| {
        let r = RESULTS.get(result)?;
        let g = group(&r, index)?;
        let name = match r.names.get(g.output as usize) {
            Some(n) if !g.is_error => spl_str(n),
            _ => spl_str(b"errors\0"),
        };
        let info = SplGroupInfo {
            output: g.output,
            is_error: i32::from(g.is_error),
            rows: g.rows.len() as u64,
            tag_count: g.tags.len(),
            output_name: name,
        };
        // SAFETY: per the contract.
        unsafe { put(info_out, info, "info_out")? };
        Ok(SplStatus::SPL_OK)
    })
}

/// Tag `tag` of group `group`: its key (without `__tag__:`) and value, valid while the
/// result lives.
///
/// # Safety
/// The out-pointers must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn spl_result_group_tag(
    result: *const SplResult,
    group_index: usize,
    tag: usize,
    key_out: *mut SplStr,
    value_out: *mut SplStr,
) -> SplStatus {
    guard(|_| {
        let r = RESULTS.get(result)?;
        let g = group(&r, group_index)?;
        let (k, v) = g.tags.get(tag).ok_or_else(|| {
            Failure::new(
                SplStatus::SPL_ERR_INVALID_ARGUMENT,
                format!("tag {tag} does not exist ({} tags)", g.tags.len()),
            )
        })?;
        non_null(value_out, "value_out")?;
        // SAFETY: per the contract.
        unsafe {
            put(key_out, spl_str(k), "key_out")?;
            put(value_out, spl_str(v), "value_out")?;
        }
        Ok(SplStatus::SPL_OK)
    })
}

/// Exports the rows of group `index` as a struct array (one child per field, see
/// `SplOptions.typed_output`). The caller owns both structs and must call their `release`
/// callbacks; they stay valid after `spl_result_free`. The out-structs are overwritten
/// without being released.
///
/// # Safety
/// The out-pointers must be NULL or writable memory for the structs.
#[no_mangle]
pub unsafe extern "C" fn spl_result_export(
    result: *const SplResult,
    index: usize,
    array_out: *mut ArrowArray,
    schema_out: *mut ArrowSchema,
) -> SplStatus {
    guard(|_| {
        non_null(array_out, "array_out")?;
        non_null(schema_out, "schema_out")?;
        let r = RESULTS.get(result)?;
        let g = group(&r, index)?;
        let schema = FFI_ArrowSchema::try_from(g.rows.data_type()).map_err(internal)?;
        let array = FFI_ArrowArray::new(&g.rows.to_data());
        // SAFETY: checked non-null; the FFI types have the C Data Interface layout.
        unsafe {
            ptr::write(schema_out as *mut FFI_ArrowSchema, schema);
            ptr::write(array_out as *mut FFI_ArrowArray, array);
        }
        Ok(SplStatus::SPL_OK)
    })
}

/// Counters of the call that produced the result.
///
/// # Safety
/// `metrics_out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn spl_result_metrics(
    result: *const SplResult,
    metrics_out: *mut SplMetrics,
) -> SplStatus {
    guard(|_| {
        let r = RESULTS.get(result)?;
        // SAFETY: per the contract.
        unsafe { put(metrics_out, r.metrics, "metrics_out")? };
        Ok(SplStatus::SPL_OK)
    })
}

/// Frees a result (exported Arrow arrays stay valid until released).
#[no_mangle]
pub extern "C" fn spl_result_free(result: *mut SplResult) -> SplStatus {
    guard(|_| {
        RESULTS.remove(result)?;
        Ok(SplStatus::SPL_OK)
    })
}

/// Frees a string returned by the library (diagnostics JSON).
#[no_mangle]
pub extern "C" fn spl_string_free(text: *mut c_char) -> SplStatus {
    guard(|_| {
        free_string(text)?;
        Ok(SplStatus::SPL_OK)
    })
}

// Keeps the compiler honest about the handles crossing threads.
const _: fn() = || {
    fn shared<T: Send + Sync>() {}
    shared::<SplPipeline>();
    shared::<SplResult>();
};
