//! The input batch: an `ArrowArray`/`ArrowSchema` pair holding a struct (format `+s`) whose
//! children are the fields. Before arrow's importer sees them, the raw structs are checked
//! (formats, names as UTF-8, buffer and child counts, released markers) because the importer
//! trusts its input; after import the data is validated in full (offsets, views, UTF-8).
//! The raw checks cover what arrow would otherwise trust or panic on: lengths, offsets and null
//! counts in range (offset + length within every child of the struct), a validity bitmap
//! whenever nulls are declared, the buffers the importer dereferences present, child and buffer
//! counts per format.
//!
//! | child format | becomes |
//! |---|---|
//! | `u`, `U`, `vu` (text) | VARCHAR (Utf8View; `vu` is taken as is, `u`/`U` get views over the caller's buffer — no copy of the text) |
//! | `z`, `Z`, `vz` (bytes) | VARCHAR when valid UTF-8 (reinterpreted in place); otherwise bytes (`BinaryView`) that leave unchanged unless a stage reads or writes the field, which then sees text with U+FFFD |
//! | dictionary of text | VARCHAR |
//! | `n` (all NULL) | VARCHAR, every row absent |
//! | `l`, `i`, `L`, `I` | only for `__time__`/`__time_ns_part__` → BIGINT |
//!
//! Time fields may also be given as text (non-integers become NULL, then the input time).
use std::ffi::{c_char, CStr};
use std::sync::Arc;

use arrow::array::{new_null_array, Array, ArrayRef, AsArray, BinaryViewArray, StructArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field};
use arrow::ffi::{from_ffi, FFI_ArrowArray, FFI_ArrowSchema};
use arrow::record_batch::RecordBatch;
use spl_engine::batch::{from_columns, is_time_field};

use crate::guard::Failure;
use crate::status::{ArrowArray, ArrowSchema, SplStatus};

/// At most this many fields per batch.
pub(crate) const MAX_FIELDS: i64 = 65_536;

fn invalid(message: impl Into<String>) -> Failure {
    Failure::new(SplStatus::SPL_ERR_INVALID_INPUT, message)
}

/// What a child column holds, from its format string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Text or bytes with this many buffers (at least, for views); `large`: 64-bit offsets.
    Bytes {
        buffers: i64,
        view: bool,
        large: bool,
    },
    Int,
    Null,
    Dictionary,
}

fn kind(format: &str) -> Option<Kind> {
    Some(match format {
        "u" | "U" | "z" | "Z" => Kind::Bytes {
            buffers: 3,
            view: false,
            large: matches!(format, "U" | "Z"),
        },
        "vu" | "vz" => Kind::Bytes {
            buffers: 3,
            view: true,
            large: false,
        },
        "l" | "i" | "L" | "I" => Kind::Int,
        "n" => Kind::Null,
        _ => return None,
    })
}

/// Reads a C string of a schema; NULL is `None`.
///
/// # Safety
/// `p` must be NULL or a NUL-terminated string.
unsafe fn schema_text<'a>(p: *const c_char, what: &str) -> Result<Option<&'a str>, Failure> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: non-null and NUL-terminated per the C Data Interface.
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str().map(Some).map_err(|_| {
        Failure::new(
            SplStatus::SPL_ERR_INVALID_UTF8,
            format!("the {what} in the ArrowSchema is not valid UTF-8"),
        )
    })
}

/// Checks one child schema and the matching child array; returns its kind.
///
/// # Safety
/// Both pointers must be NULL or point to C Data Interface structs.
unsafe fn check_child(
    schema: *const ArrowSchema,
    array: *const ArrowArray,
    index: usize,
) -> Result<(String, Kind), Failure> {
    if schema.is_null() || array.is_null() {
        return Err(invalid(format!("child {index} of the batch is NULL")));
    }
    // SAFETY: non-null; the caller promises valid structs.
    let (s, a) = unsafe { (&*schema, &*array) };
    // SAFETY: pointers of a C Data Interface schema.
    let name = unsafe { schema_text(s.name, "field name")? }
        .ok_or_else(|| invalid(format!("child {index} of the batch has no name")))?;
    // SAFETY: as above.
    let format = unsafe { schema_text(s.format, "format")? }
        .ok_or_else(|| invalid(format!("field `{name}` has no format")))?;
    let (kind, dict_values) = if s.dictionary.is_null() {
        let k = kind(format).ok_or_else(|| unsupported(name, format))?;
        (k, None)
    } else {
        if !matches!(format, "c" | "C" | "s" | "S" | "i" | "I" | "l" | "L") {
            return Err(invalid(format!(
                "field `{name}`: dictionary index format `{format}` is not an integer"
            )));
        }
        // SAFETY: non-null dictionary schema.
        let d = unsafe { &*s.dictionary };
        // SAFETY: as above.
        let dformat = unsafe { schema_text(d.format, "format")? }.unwrap_or("");
        match kind(dformat) {
            Some(k @ Kind::Bytes { .. }) if matches!(dformat, "u" | "U" | "vu") => {
                (Kind::Dictionary, Some(k))
            }
            _ => {
                return Err(invalid(format!(
                    "field `{name}`: only dictionaries of text are accepted, not `{dformat}`"
                )))
            }
        }
    };
    if !is_time_field(name) && kind == Kind::Int {
        return Err(unsupported(name, format));
    }
    let expect_buffers = match kind {
        Kind::Bytes { buffers, .. } => buffers,
        Kind::Int | Kind::Dictionary => 2,
        Kind::Null => 0,
    };
    check_array(a, name, kind, expect_buffers)?;
    if s.n_children != 0 || a.n_children != 0 {
        return Err(invalid(format!("field `{name}` has children")));
    }
    if let Some(values) = dict_values {
        if a.dictionary.is_null() {
            return Err(invalid(format!(
                "field `{name}`: the array has no dictionary"
            )));
        }
        // SAFETY: non-null dictionary array.
        let d = unsafe { &*a.dictionary };
        let Kind::Bytes { buffers, .. } = values else {
            return Err(invalid(format!("field `{name}`: bad dictionary")));
        };
        check_array(d, name, values, buffers)?;
    }
    Ok((name.to_string(), kind))
}

fn unsupported(name: &str, format: &str) -> Failure {
    invalid(format!(
        "field `{name}` has Arrow format `{format}`; fields must be text (u, U, vu), bytes (z, Z, vz), \
         dictionaries of text or all-NULL (n), and only `__time__`/`__time_ns_part__` may be integers"
    ))
}

/// At most this many rows (offset + length) per array, so buffer sizes computed from them
/// cannot overflow.
pub(crate) const MAX_ROWS: i64 = i32::MAX as i64;

/// Reads buffer `i` of `a` (the caller checked `i < n_buffers` and a non-NULL list).
fn buffer(a: &ArrowArray, i: i64) -> *const std::ffi::c_void {
    // SAFETY: `buffers` holds `n_buffers` pointers per the C Data Interface; callers check the
    // index and that the list is not NULL.
    unsafe { *a.buffers.add(i as usize) }
}

/// Checks the counts and pointers of one array against its kind, so arrow's importer (which
/// trusts its input and reads the offsets and variadic lengths buffers to size the others) only
/// sees consistent structs: lengths, offsets and null counts in range, a validity bitmap
/// whenever nulls are declared, the buffers arrow dereferences present, a last offset and
/// variadic lengths that are not negative.
fn check_array(a: &ArrowArray, name: &str, kind: Kind, buffers: i64) -> Result<(), Failure> {
    check_counts(a, &format!("field `{name}`"))?;
    let view = matches!(kind, Kind::Bytes { view: true, .. });
    let ok = if view {
        a.n_buffers >= buffers && a.n_buffers < 1 << 20
    } else {
        a.n_buffers == buffers
    };
    if !ok {
        return Err(invalid(format!(
            "field `{name}`: {} buffers where {}{buffers} are expected",
            a.n_buffers,
            if view { "at least " } else { "" }
        )));
    }
    if a.n_buffers > 0 && a.buffers.is_null() {
        return Err(invalid(format!("field `{name}`: the buffer list is NULL")));
    }
    if kind == Kind::Null {
        return Ok(());
    }
    check_nulls(a, &format!("field `{name}`"))?;
    let rows = a.offset + a.length;
    let missing = |what: &str| invalid(format!("field `{name}`: the {what} buffer is NULL"));
    match kind {
        // Offsets hold offset + length + 1 entries, so they are needed even for no rows.
        Kind::Bytes { view: false, .. } if buffer(a, 1).is_null() => Err(missing("offsets")),
        // The importer sizes the data buffer by the last offset: a negative one would become
        // a huge length before any validation (the other offsets are validated after import).
        Kind::Bytes {
            view: false, large, ..
        } if a.length > 0 => {
            let offsets = buffer(a, 1);
            // SAFETY: the offsets buffer holds offset + length + 1 entries per the C Data
            // Interface; read unaligned since C callers need not align it.
            let last = unsafe {
                if large {
                    (offsets as *const i64).add(rows as usize).read_unaligned()
                } else {
                    i64::from((offsets as *const i32).add(rows as usize).read_unaligned())
                }
            };
            if last < 0 {
                return Err(invalid(format!(
                    "field `{name}`: the last offset is negative ({last})"
                )));
            }
            Ok(())
        }
        Kind::Bytes { view: true, .. } => {
            if rows > 0 && buffer(a, 1).is_null() {
                return Err(missing("views"));
            }
            let data = a.n_buffers - 3;
            if data > 0 {
                let lengths = buffer(a, a.n_buffers - 1) as *const i64;
                if lengths.is_null() {
                    return Err(missing("variadic lengths"));
                }
                for i in 0..data {
                    // SAFETY: the lengths buffer holds one i64 per data buffer per the C Data
                    // Interface; read unaligned since C callers need not align it.
                    let len = unsafe { lengths.add(i as usize).read_unaligned() };
                    if len < 0 {
                        return Err(invalid(format!(
                            "field `{name}`: data buffer {i} has a negative length ({len})"
                        )));
                    }
                    if len > 0 && buffer(a, 2 + i).is_null() {
                        return Err(missing(&format!("data {i}")));
                    }
                }
            }
            Ok(())
        }
        Kind::Int | Kind::Dictionary if rows > 0 && buffer(a, 1).is_null() => {
            Err(missing("values"))
        }
        _ => Ok(()),
    }
}

/// Length, offset and null count in range: not negative, offset + length at most
/// [`MAX_ROWS`], the null count at most the length (or -1, unknown).
fn check_counts(a: &ArrowArray, what: &str) -> Result<(), Failure> {
    if a.length < 0 || a.offset < 0 || a.null_count < -1 {
        return Err(invalid(format!(
            "{what}: negative length ({}), offset ({}) or null count ({})",
            a.length, a.offset, a.null_count
        )));
    }
    if a.length.checked_add(a.offset).is_none_or(|n| n > MAX_ROWS) {
        return Err(invalid(format!(
            "{what}: offset {} + length {} is over {MAX_ROWS} rows",
            a.offset, a.length
        )));
    }
    if a.null_count > a.length {
        return Err(invalid(format!(
            "{what}: null count {} is larger than the length {}",
            a.null_count, a.length
        )));
    }
    Ok(())
}

/// Nulls declared (null count > 0) need a validity bitmap (buffer 0).
fn check_nulls(a: &ArrowArray, what: &str) -> Result<(), Failure> {
    if a.null_count > 0 && (a.n_buffers == 0 || a.buffers.is_null() || buffer(a, 0).is_null()) {
        return Err(invalid(format!(
            "{what}: null count {} but no validity bitmap",
            a.null_count
        )));
    }
    Ok(())
}

/// Imports the batch: takes ownership of `array` (it is released by the library), borrows
/// `schema`. Returns an engine batch of VARCHAR fields and BIGINT time fields.
///
/// # Safety
/// `array` must point to a non-released C Data Interface array and `schema` to its schema.
pub(crate) unsafe fn import(
    array: FFI_ArrowArray,
    schema: *const ArrowSchema,
) -> Result<RecordBatch, Failure> {
    crate::guard::non_null(schema, "schema")?;
    // SAFETY: checked non-null; a C Data Interface schema per the caller.
    let s = unsafe { &*schema };
    if s.release.is_none() {
        return Err(Failure::new(
            SplStatus::SPL_ERR_INVALID_ARGUMENT,
            "the schema was already released",
        ));
    }
    // SAFETY: as above.
    let format = unsafe { schema_text(s.format, "format")? }.unwrap_or("");
    if format != "+s" {
        return Err(invalid(format!(
            "the batch must be a struct array (format `+s`), not `{format}`"
        )));
    }
    // SAFETY: FFI_ArrowArray has the C Data Interface layout, as does `ArrowArray`.
    let a = unsafe { &*(&array as *const FFI_ArrowArray as *const ArrowArray) };
    if !(0..=MAX_FIELDS).contains(&s.n_children) || s.n_children != a.n_children {
        return Err(invalid(format!(
            "the schema has {} fields and the array {} (at most {MAX_FIELDS})",
            s.n_children, a.n_children
        )));
    }
    if a.n_buffers != 1 || a.buffers.is_null() {
        return Err(invalid(
            "the struct array needs exactly one (validity) buffer",
        ));
    }
    check_counts(a, "the struct array")?;
    check_nulls(a, "the struct array")?;
    let n = usize::try_from(s.n_children).unwrap_or(0);
    if n > 0 && (s.children.is_null() || a.children.is_null()) {
        return Err(invalid("the batch's child lists are NULL"));
    }
    let mut names = Vec::with_capacity(n);
    for i in 0..n {
        // SAFETY: child lists hold n_children pointers each.
        let (cs, ca) = unsafe { (*s.children.add(i), *a.children.add(i)) };
        // SAFETY: C Data Interface children.
        let (name, _) = unsafe { check_child(cs, ca, i)? };
        // SAFETY: checked non-null by `check_child`.
        let child_len = unsafe { (*ca).length };
        // Children are indexed through the struct's offset.
        if child_len < a.offset + a.length {
            return Err(invalid(format!(
                "field `{name}` has {child_len} rows but the struct array needs offset {} + length {} = {}",
                a.offset,
                a.length,
                a.offset + a.length
            )));
        }
        if names.contains(&name) {
            return Err(invalid(format!("field `{name}` appears twice")));
        }
        names.push(name);
    }
    // SAFETY: the structs were checked above; FFI_ArrowSchema has the C layout.
    let data = unsafe { from_ffi(array, &*(schema as *const FFI_ArrowSchema)) }
        .map_err(|e| invalid(format!("cannot import the batch: {e}")))?;
    data.validate()
        .and_then(|()| data.validate_nulls())
        .map_err(|e| invalid(format!("invalid batch: {e}")))?;
    for (child, name) in data.child_data().iter().zip(&names) {
        child.validate_full().map_err(|e| {
            let text = e.to_string();
            let status = if text.to_ascii_lowercase().contains("utf") {
                SplStatus::SPL_ERR_INVALID_UTF8
            } else {
                SplStatus::SPL_ERR_INVALID_INPUT
            };
            Failure::new(status, format!("field `{name}`: {text}"))
        })?;
    }
    let st = StructArray::from(data);
    if st.null_count() > 0 {
        return Err(invalid(
            "the batch has NULL rows; give absent fields as NULL children instead",
        ));
    }
    let rows = st.len();
    let (_, columns, _) = st.into_parts();
    let mut fields = Vec::with_capacity(n);
    let mut out = Vec::with_capacity(n);
    for (name, column) in names.into_iter().zip(columns) {
        let column = if is_time_field(&name) {
            cast(&column, &DataType::Int64).map_err(|e| invalid(format!("`{name}`: {e}")))?
        } else {
            to_varchar(column).map_err(|e| invalid(format!("`{name}`: {e}")))?
        };
        fields.push(Field::new(name, column.data_type().clone(), true));
        out.push(column);
    }
    from_columns(fields, out, rows).map_err(|e| invalid(e.to_string()))
}

/// True when every value of `view` is UTF-8. An agent's views point into a few large blocks
/// (its read buffers): each block is checked once, whole, with SIMD, and then a value is text
/// when it starts and ends at character boundaries of its block; a block that is not text
/// as a whole, and inline values, are checked value by value.
fn all_utf8(view: &BinaryViewArray) -> bool {
    let blocks: Vec<bool> = view
        .data_buffers()
        .iter()
        .map(|b| simdutf8::basic::from_utf8(b).is_ok())
        .collect();
    let boundary = |block: &[u8], at: usize| block.get(at).is_none_or(|b| (*b as i8) >= -0x40);
    view.views().iter().enumerate().all(|(row, raw)| {
        let len = *raw as u32;
        if len <= 12 || view.is_null(row) {
            return view.is_null(row) || simdutf8::basic::from_utf8(view.value(row)).is_ok();
        }
        let v = arrow::array::ByteView::from(*raw);
        let (start, end) = (v.offset as usize, v.offset as usize + len as usize);
        match blocks.get(v.buffer_index as usize) {
            Some(true) => {
                let block = &view.data_buffers()[v.buffer_index as usize];
                boundary(block, start) && boundary(block, end)
            }
            _ => simdutf8::basic::from_utf8(view.value(row)).is_ok(),
        }
    })
}

/// Any accepted column as Utf8View, sharing the caller's bytes where possible.
fn to_varchar(column: ArrayRef) -> Result<ArrayRef, arrow::error::ArrowError> {
    Ok(match column.data_type() {
        DataType::Utf8View => column,
        DataType::Null => new_null_array(&DataType::Utf8View, column.len()),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => {
            let view: BinaryViewArray = match column.data_type() {
                DataType::BinaryView => column.as_binary_view().clone(),
                _ => cast(&column, &DataType::BinaryView)?
                    .as_binary_view()
                    .clone(),
            };
            // Bytes that are not UTF-8 stay bytes: the engine's group merge turns them into
            // text (U+FFFD) only for fields a stage reads or writes.
            if all_utf8(&view) {
                // SAFETY: `all_utf8` checked every value.
                Arc::new(unsafe { view.to_string_view_unchecked() })
            } else {
                Arc::new(view)
            }
        }
        _ => cast(&column, &DataType::Utf8View)?,
    })
}
