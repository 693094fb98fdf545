//! Arbitrary bytes as the description of an Arrow C Data Interface batch (a struct array and
//! its schema) handed to `spl_process`: fuzzer-chosen formats, names, lengths, offsets, null
//! counts, buffer and child counts, offsets and views. Every buffer is memory this target
//! allocated and large enough for any length/offset it declares (lengths and offsets ≤ 64,
//! offset values and view positions < the buffer size), so what is tested is the library's
//! validation, not reads of wild pointers. The expected answer is `SPL_OK`,
//! `SPL_ERR_INVALID_INPUT` or `SPL_ERR_INVALID_UTF8` — never a panic (libFuzzer aborts on one,
//! even when the library catches it) nor `SPL_ERR_INTERNAL`; every output group exports as valid
//! Arrow data.
#![no_main]
use std::ffi::{c_char, c_void, CString};
use std::mem::MaybeUninit;
use std::ptr;
use std::sync::OnceLock;

use arrow::ffi::{from_ffi, FFI_ArrowArray, FFI_ArrowSchema};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use spl_capi::abi::{
    spl_compile, spl_options_default, spl_process, spl_result_export, spl_result_free,
    spl_result_group_count, ArrowArray, ArrowSchema, SplOptions, SplPipeline, SplResult, SplStatus,
};

/// Each buffer's size; every offset value and view position the target writes stays below it.
const BUF_BYTES: usize = 16 * 1024;
/// Largest array length and offset (buffers hold 2 × 64 rows of the widest layout).
const MAX_ROWS: i64 = 64;
/// Slots in every buffer and child pointer list, so a declared count up to this stays inside.
const SLOTS: usize = 8;

/// Everything the root array owns, freed by its release callback.
#[derive(Default)]
struct Arena {
    buffers: Vec<Box<[u64]>>,
    pointer_lists: Vec<Box<[*const c_void]>>,
    arrays: Vec<Box<ArrowArray>>,
    child_lists: Vec<Box<[*mut ArrowArray]>>,
}

/// The schema side, only borrowed by the library; dropped after the call.
#[derive(Default)]
struct Schemas {
    names: Vec<CString>,
    schemas: Vec<Box<ArrowSchema>>,
    child_lists: Vec<Box<[*mut ArrowSchema]>>,
}

unsafe extern "C" fn release_root(array: *mut ArrowArray) {
    // SAFETY: private_data is the arena boxed in `build`, released once (release is then None).
    unsafe {
        drop(Box::from_raw((*array).private_data as *mut Arena));
        (*array).release = None;
    }
}

unsafe extern "C" fn release_owned(array: *mut ArrowArray) {
    // SAFETY: children and dictionaries are owned by the root's arena.
    unsafe { (*array).release = None };
}

unsafe extern "C" fn release_schema(schema: *mut ArrowSchema) {
    // SAFETY: the schema structs are owned by `Schemas`.
    unsafe { (*schema).release = None };
}

fn empty_array() -> ArrowArray {
    ArrowArray {
        length: 0,
        null_count: 0,
        offset: 0,
        n_buffers: 0,
        n_children: 0,
        buffers: ptr::null_mut(),
        children: ptr::null_mut(),
        dictionary: ptr::null_mut(),
        release: Some(release_owned),
        private_data: ptr::null_mut(),
    }
}

fn empty_schema() -> ArrowSchema {
    ArrowSchema {
        format: ptr::null(),
        name: ptr::null(),
        metadata: ptr::null(),
        flags: 0,
        n_children: 0,
        children: ptr::null_mut(),
        dictionary: ptr::null_mut(),
        release: Some(release_schema),
        private_data: ptr::null_mut(),
    }
}

const FORMATS: &[&str] = &[
    "u", "U", "z", "Z", "vu", "vz", "n", "l", "i", "L", "I", "+s", "d:10,2", "", "u\u{ff}",
];
const NAMES: &[&[u8]] = &[
    b"content",
    b"level",
    b"__time__",
    b"__time_ns_part__",
    b"__tag__:host",
    b"a",
    b"",
    b"\xff\xfe",
];

impl Schemas {
    fn text(&mut self, bytes: &[u8]) -> *const c_char {
        let s = CString::new(bytes).unwrap_or_default();
        let p = s.as_ptr();
        self.names.push(s);
        p
    }

    fn schema(&mut self, schema: ArrowSchema) -> *mut ArrowSchema {
        let mut b = Box::new(schema);
        let p = &mut *b as *mut ArrowSchema;
        self.schemas.push(b);
        p
    }
}

impl Arena {
    /// A zeroed buffer whose start is `fill`.
    fn buffer(&mut self, fill: &[u8]) -> *const c_void {
        let mut b = vec![0u64; BUF_BYTES / 8].into_boxed_slice();
        // SAFETY: the byte view of a u64 slice of BUF_BYTES bytes.
        let bytes = unsafe { std::slice::from_raw_parts_mut(b.as_mut_ptr() as *mut u8, BUF_BYTES) };
        let n = fill.len().min(BUF_BYTES);
        bytes[..n].copy_from_slice(&fill[..n]);
        let p = b.as_ptr() as *const c_void;
        self.buffers.push(b);
        p
    }

    fn pointers(&mut self, list: &[*const c_void]) -> *mut *const c_void {
        let mut slots = vec![ptr::null::<c_void>(); SLOTS].into_boxed_slice();
        slots[..list.len().min(SLOTS)].copy_from_slice(&list[..list.len().min(SLOTS)]);
        let p = slots.as_mut_ptr();
        self.pointer_lists.push(slots);
        p
    }

    fn array(&mut self, array: ArrowArray) -> *mut ArrowArray {
        let mut b = Box::new(array);
        let p = &mut *b as *mut ArrowArray;
        self.arrays.push(b);
        p
    }
}

/// A value in `-(BUF_BYTES/2)..BUF_BYTES/2`: offsets and view positions (negative ones test
/// validation; positive ones stay inside the buffer).
fn position(u: &mut Unstructured) -> Result<i64> {
    Ok(i64::from(u.arbitrary::<i16>()?) >> 2)
}

fn count(u: &mut Unstructured, rows: i64) -> Result<i64> {
    Ok(match u.int_in_range(0..=5u8)? {
        0 | 1 => 0,
        2 => rows,
        3 => -1,
        4 => 1,
        _ => u.int_in_range(-2..=MAX_ROWS * 2)?,
    })
}

fn bytes<'a>(u: &mut Unstructured<'a>, max: usize) -> Result<&'a [u8]> {
    let n = u.int_in_range(0..=max)?;
    u.bytes(n.min(u.len()))
}

/// The buffers of one column of `format` covering `rows` rows (offset included).
fn column_buffers(
    u: &mut Unstructured,
    arena: &mut Arena,
    format: &str,
    rows: usize,
) -> Result<Vec<*const c_void>> {
    let validity = if u.ratio(1, 3)? {
        ptr::null()
    } else {
        let fill = bytes(u, rows.div_ceil(8))?;
        arena.buffer(fill)
    };
    let mut out = vec![validity];
    match format {
        "u" | "z" | "U" | "Z" => {
            let wide = matches!(format, "U" | "Z");
            let mut offsets = Vec::new();
            let mut at = 0i64;
            for _ in 0..=rows {
                at = if u.ratio(1, 16)? {
                    position(u)?
                } else {
                    (at + i64::from(u.int_in_range(0..=8u8)?)).min(BUF_BYTES as i64 / 2 - 1)
                };
                if wide {
                    offsets.extend_from_slice(&at.to_le_bytes());
                } else {
                    offsets.extend_from_slice(&(at as i32).to_le_bytes());
                }
            }
            out.push(arena.buffer(&offsets));
            let data = bytes(u, 512)?;
            out.push(arena.buffer(data));
        }
        "vu" | "vz" => {
            let data_buffers = u.int_in_range(0..=2usize)?;
            let mut views = Vec::new();
            for _ in 0..rows {
                let len = position(u)? as i32;
                views.extend_from_slice(&len.to_le_bytes());
                if len <= 12 {
                    let inline = bytes(u, 12)?;
                    let mut b = [0u8; 12];
                    b[..inline.len()].copy_from_slice(inline);
                    views.extend_from_slice(&b);
                } else {
                    let prefix = bytes(u, 4)?;
                    let mut b = [0u8; 4];
                    b[..prefix.len()].copy_from_slice(prefix);
                    views.extend_from_slice(&b);
                    let index = u.int_in_range(0..=data_buffers as u32 + 1)?;
                    views.extend_from_slice(&index.to_le_bytes());
                    views.extend_from_slice(&(position(u)? as i32).to_le_bytes());
                }
            }
            out.push(arena.buffer(&views));
            let mut sizes = Vec::new();
            for _ in 0..data_buffers {
                let data = bytes(u, 512)?;
                out.push(arena.buffer(data));
                let size = u.int_in_range(0..=BUF_BYTES as i64)?;
                sizes.extend_from_slice(&size.to_le_bytes());
            }
            out.push(arena.buffer(&sizes));
        }
        "n" => out.clear(),
        _ => {
            let data = bytes(u, rows * 8)?;
            out.push(arena.buffer(data));
        }
    }
    Ok(out)
}

/// One array (not the root) of `format` with fuzzer-chosen shape.
fn array(u: &mut Unstructured, arena: &mut Arena, format: &str) -> Result<*mut ArrowArray> {
    let length = u.int_in_range(0..=MAX_ROWS)?;
    let offset = if u.ratio(1, 4)? {
        u.int_in_range(0..=MAX_ROWS)?
    } else {
        0
    };
    let buffers = column_buffers(u, arena, format, (length + offset) as usize)?;
    let n_buffers = if u.ratio(1, 8)? {
        u.int_in_range(0..=SLOTS as i64)?
    } else {
        buffers.len() as i64
    };
    let list = arena.pointers(&buffers);
    let mut a = empty_array();
    a.length = length;
    a.offset = offset;
    a.null_count = count(u, length)?;
    a.n_buffers = n_buffers;
    a.buffers = list;
    if u.ratio(1, 32)? {
        a.release = None;
    }
    Ok(arena.array(a))
}

fn build(u: &mut Unstructured, schemas: &mut Schemas) -> Result<(ArrowArray, ArrowSchema)> {
    let mut arena = Box::new(Arena::default());
    let columns = u.int_in_range(0..=4usize)?;
    let mut child_arrays = Vec::new();
    let mut child_schemas = Vec::new();
    for _ in 0..columns {
        let mut format = *u.choose(FORMATS)?;
        let dictionary = format == "i" && u.ratio(1, 3)?;
        let name = *u.choose(NAMES)?;
        let mut s = empty_schema();
        s.name = if u.ratio(1, 32)? {
            ptr::null()
        } else {
            schemas.text(name)
        };
        s.flags = if u.ratio(1, 2)? { 2 } else { 0 };
        let a = if dictionary {
            let values_format = *u.choose(&["u", "U", "vu", "z"])?;
            let mut d = empty_schema();
            d.format = schemas.text(values_format.as_bytes());
            s.dictionary = schemas.schema(d);
            let values = array(u, &mut arena, values_format)?;
            let keys = array(u, &mut arena, "i")?;
            // SAFETY: both point into the arena.
            unsafe { (*keys).dictionary = values };
            keys
        } else {
            if format == "+s" && u.ratio(1, 2)? {
                format = "u";
            }
            array(u, &mut arena, format)?
        };
        s.format = schemas.text(format.as_bytes());
        if u.ratio(1, 32)? {
            s.n_children = 1;
        }
        child_schemas.push(schemas.schema(s));
        child_arrays.push(a);
    }
    let length = u.int_in_range(0..=MAX_ROWS)?;
    let offset = if u.ratio(1, 4)? {
        u.int_in_range(0..=MAX_ROWS)?
    } else {
        0
    };
    let validity = if u.ratio(1, 4)? {
        let fill = bytes(u, MAX_ROWS as usize / 4)?;
        arena.buffer(fill)
    } else {
        ptr::null()
    };
    let n_children = if u.ratio(1, 8)? {
        u.int_in_range(0..=SLOTS as i64)?
    } else {
        columns as i64
    };
    let mut children = vec![ptr::null_mut::<ArrowArray>(); SLOTS].into_boxed_slice();
    children[..columns].copy_from_slice(&child_arrays);
    let mut root = empty_array();
    root.length = length;
    root.offset = offset;
    root.null_count = count(u, length)?;
    root.n_buffers = if u.ratio(1, 8)? {
        u.int_in_range(0..=SLOTS as i64)?
    } else {
        1
    };
    root.buffers = arena.pointers(&[validity]);
    root.n_children = n_children;
    root.children = children.as_mut_ptr();
    arena.child_lists.push(children);
    root.release = Some(release_root);

    let mut schema_children = vec![ptr::null_mut::<ArrowSchema>(); SLOTS].into_boxed_slice();
    schema_children[..columns].copy_from_slice(&child_schemas);
    let mut schema = empty_schema();
    schema.format = schemas.text(if u.ratio(1, 16)? { b"+l" } else { b"+s" });
    schema.name = schemas.text(b"");
    schema.n_children = if u.ratio(1, 8)? {
        u.int_in_range(0..=SLOTS as i64)?
    } else {
        columns as i64
    };
    schema.children = schema_children.as_mut_ptr();
    schemas.child_lists.push(schema_children);
    root.private_data = Box::into_raw(arena) as *mut c_void;
    Ok((root, schema))
}

/// The pipeline, compiled once per output mode (text or typed): the default (logtail) profile
/// and policy, no time budget (the fuzzer's scheduling is not the library's business).
fn pipeline(typed: bool) -> usize {
    static PIPELINES: OnceLock<[usize; 2]> = OnceLock::new();
    PIPELINES.get_or_init(|| {
        [0, 1].map(|typed_output| {
            let spl = c"* | extend x = concat(content, '!'), t = __time__ | where level <> 'skip'";
            let mut options = MaybeUninit::<SplOptions>::uninit();
            // SAFETY: writable memory for the options.
            assert_eq!(
                unsafe { spl_options_default(options.as_mut_ptr()) },
                SplStatus::SPL_OK
            );
            // SAFETY: filled in above.
            let mut options = unsafe { options.assume_init() };
            options.batch_timeout_ms = 0;
            options.typed_output = typed_output;
            let mut p: *mut SplPipeline = ptr::null_mut();
            // SAFETY: a NUL-terminated program, valid options, a writable out-pointer.
            let status = unsafe { spl_compile(spl.as_ptr(), &options, &mut p, ptr::null_mut()) };
            assert_eq!(status, SplStatus::SPL_OK);
            p as usize
        })
    })[usize::from(typed)]
}

/// Exports every group of `result` and checks that what the host gets is valid Arrow data.
fn check_export(result: *const SplResult) {
    let mut groups = 0usize;
    // SAFETY: a live result and a writable count.
    assert_eq!(
        unsafe { spl_result_group_count(result, &mut groups) },
        SplStatus::SPL_OK
    );
    for index in 0..groups {
        let mut array = MaybeUninit::<FFI_ArrowArray>::uninit();
        let mut schema = MaybeUninit::<FFI_ArrowSchema>::uninit();
        // SAFETY: a live result, an index below the count, writable out-structs (the FFI types
        // have the C Data Interface layout).
        let status = unsafe {
            spl_result_export(
                result,
                index,
                array.as_mut_ptr() as *mut ArrowArray,
                schema.as_mut_ptr() as *mut ArrowSchema,
            )
        };
        assert_eq!(status, SplStatus::SPL_OK);
        // SAFETY: both were written by the export.
        let (array, schema) = unsafe { (array.assume_init(), schema.assume_init()) };
        // SAFETY: an exported array and its schema; from_ffi takes the array.
        let data = unsafe { from_ffi(array, &schema) }.expect("the exported batch imports");
        data.validate_full().expect("the exported batch is valid");
    }
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(typed) = u.arbitrary::<bool>() else {
        return;
    };
    let mut schemas = Schemas::default();
    let Ok((mut root, schema)) = build(&mut u, &mut schemas) else {
        return;
    };
    let mut result: *mut SplResult = ptr::null_mut();
    // SAFETY: the array and schema are valid C Data Interface structs over memory owned above.
    let status = unsafe {
        spl_process(
            pipeline(typed) as *const SplPipeline,
            &mut root,
            &schema,
            ptr::null(),
            &mut result,
        )
    };
    if let Some(release) = root.release {
        // SAFETY: the library did not take the array; release it ourselves.
        unsafe { release(&mut root) };
    }
    if !result.is_null() {
        check_export(result);
        assert_eq!(spl_result_free(result), SplStatus::SPL_OK);
    }
    // A batch is processed or refused as invalid input (or invalid UTF-8 in a name or text
    // column); never an internal error. The pipeline's budgets are the default profile's, far
    // above what a 64-row batch needs.
    assert!(
        matches!(
            status,
            SplStatus::SPL_OK | SplStatus::SPL_ERR_INVALID_INPUT | SplStatus::SPL_ERR_INVALID_UTF8
        ),
        "{status:?}: {:?}",
        // SAFETY: a NUL-terminated, thread-local message.
        unsafe { std::ffi::CStr::from_ptr(spl_capi::abi::spl_last_error()) }
    );
    drop(schemas);
});
