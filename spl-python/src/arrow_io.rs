//! Arrow in and out of Python without copies, through the Arrow PyCapsule interface: any object
//! with `__arrow_c_stream__` (pyarrow tables and readers, Polars, DuckDB, pandas ≥ 2.2) or
//! `__arrow_c_array__` (a record batch) is read as record batches whose buffers stay the
//! producer's; results go out as [`ArrowStream`] objects (`__arrow_c_stream__`) that pyarrow
//! (or any consumer) imports in place. Batches of one output may differ in schema (the engine's
//! schema is per batch); [`one_schema`] gives them one, as a table needs.
use std::collections::HashMap;
use std::ffi::CStr;
use std::sync::{Arc, Mutex};

use arrow::array::{
    new_null_array, Array, ArrayRef, RecordBatch, RecordBatchIterator, StructArray,
};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::error::ArrowError;
use arrow::ffi::{from_ffi, to_ffi, FFI_ArrowArray, FFI_ArrowSchema};
use arrow::ffi_stream::{ArrowArrayStreamReader, FFI_ArrowArrayStream};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyCapsuleMethods, PyTuple};
use spl_engine::codec::LINE_FIELD;

const STREAM: &CStr = c"arrow_array_stream";
const SCHEMA: &CStr = c"arrow_schema";
const ARRAY: &CStr = c"arrow_array";

/// Record batches read from a Python object.
pub enum Imported {
    /// A stream, read lazily (the producer may compute while it is read).
    Stream(ArrowArrayStreamReader),
    /// One batch.
    Batch(RecordBatch),
}

impl Imported {
    /// All batches (reading the stream to its end); no copy of their buffers.
    pub fn batches(self) -> Result<(SchemaRef, Vec<RecordBatch>), ArrowError> {
        match self {
            Imported::Batch(b) => Ok((b.schema(), vec![b])),
            Imported::Stream(reader) => {
                let schema = arrow::record_batch::RecordBatchReader::schema(&reader);
                let batches = reader.collect::<Result<Vec<_>, _>>()?;
                Ok((schema, batches))
            }
        }
    }
}

/// Reads `data` through the PyCapsule interface: `__arrow_c_stream__` first, then
/// `__arrow_c_array__` (which must hold a struct, i.e. a record batch).
pub fn import(data: &Bound<'_, PyAny>) -> PyResult<Imported> {
    if data.hasattr("__arrow_c_stream__")? {
        let capsule = data.call_method0("__arrow_c_stream__")?;
        let capsule = capsule
            .cast::<PyCapsule>()
            .map_err(|_| PyTypeError::new_err("__arrow_c_stream__ did not return a PyCapsule"))?;
        let ptr = capsule.pointer_checked(Some(STREAM))?;
        // SAFETY: the capsule holds an ArrowArrayStream (checked by its name); `from_raw` moves
        // it out and marks the original released, so the capsule's destructor does nothing.
        let reader = unsafe { ArrowArrayStreamReader::from_raw(ptr.as_ptr().cast()) }
            .map_err(value_error)?;
        return Ok(Imported::Stream(reader));
    }
    if data.hasattr("__arrow_c_array__")? {
        let pair = data.call_method0("__arrow_c_array__")?;
        let pair = pair
            .cast::<PyTuple>()
            .map_err(|_| PyTypeError::new_err("__arrow_c_array__ did not return a tuple"))?;
        if pair.len() != 2 {
            return Err(PyTypeError::new_err(
                "__arrow_c_array__ must return (schema capsule, array capsule)",
            ));
        }
        let schema = pair.get_item(0)?;
        let array = pair.get_item(1)?;
        let schema = schema
            .cast::<PyCapsule>()
            .map_err(|_| PyTypeError::new_err("expected an arrow_schema PyCapsule"))?;
        let array = array
            .cast::<PyCapsule>()
            .map_err(|_| PyTypeError::new_err("expected an arrow_array PyCapsule"))?;
        let schema_ptr = schema.pointer_checked(Some(SCHEMA))?;
        let array_ptr = array.pointer_checked(Some(ARRAY))?;
        // SAFETY: the capsules hold an ArrowSchema and an ArrowArray (checked by name); the
        // array is moved out (its original marked released), the schema only borrowed.
        let data = unsafe {
            let array = FFI_ArrowArray::from_raw(array_ptr.as_ptr().cast());
            let schema = &*(schema_ptr.as_ptr() as *const FFI_ArrowSchema);
            from_ffi(array, schema)
        }
        .map_err(value_error)?;
        if !matches!(data.data_type(), DataType::Struct(_)) {
            return Err(PyTypeError::new_err(format!(
                "expected a record batch (struct array), got an array of {}",
                data.data_type()
            )));
        }
        let batch = RecordBatch::from(StructArray::from(data));
        return Ok(Imported::Batch(batch));
    }
    let kind = data.get_type().name()?;
    Err(PyTypeError::new_err(format!(
        "expected Arrow data (an object with __arrow_c_stream__ or __arrow_c_array__, such as \
         a pyarrow Table or RecordBatch, a Polars DataFrame or a DuckDB relation), got {kind}"
    )))
}

pub fn value_error(e: ArrowError) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// Record batches handed to Python as an Arrow C stream (`__arrow_c_stream__`), once; pyarrow
/// imports it without copying (`pyarrow.table(stream)`, `pyarrow.RecordBatchReader.from_stream`).
#[pyclass(frozen, module = "spl")]
pub struct ArrowStream {
    schema: SchemaRef,
    batches: Mutex<Option<Vec<RecordBatch>>>,
}

impl ArrowStream {
    pub fn new(schema: SchemaRef, batches: Vec<RecordBatch>) -> ArrowStream {
        ArrowStream {
            schema,
            batches: Mutex::new(Some(batches)),
        }
    }
}

#[pymethods]
impl ArrowStream {
    /// The batches as an `arrow_array_stream` PyCapsule (the stream can be taken once).
    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        // A requested schema is a hint the protocol lets a producer ignore.
        let _ = requested_schema;
        let batches = self
            .batches
            .lock()
            .map_err(|_| PyValueError::new_err("stream lock poisoned"))?
            .take()
            .ok_or_else(|| PyValueError::new_err("this Arrow stream was already consumed"))?;
        let reader = RecordBatchIterator::new(batches.into_iter().map(Ok), self.schema.clone());
        let stream = FFI_ArrowArrayStream::new(Box::new(reader));
        PyCapsule::new_with_value(py, stream, STREAM)
    }

    /// The schema as an `arrow_schema` PyCapsule.
    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        let schema = FFI_ArrowSchema::try_from(self.schema.as_ref()).map_err(value_error)?;
        PyCapsule::new_with_value(py, schema, SCHEMA)
    }
}

/// One record batch for Python (`__arrow_c_array__`), as `pyarrow.record_batch` imports it.
#[pyclass(frozen, module = "spl")]
pub struct ArrowBatch {
    batch: RecordBatch,
}

#[pymethods]
impl ArrowBatch {
    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_array__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let _ = requested_schema;
        let data = StructArray::from(self.batch.clone()).into_data();
        let (array, schema) = to_ffi(&data).map_err(value_error)?;
        let schema = PyCapsule::new_with_value(py, schema, SCHEMA)?;
        let array = PyCapsule::new_with_value(py, array, ARRAY)?;
        PyTuple::new(py, [schema.into_any(), array.into_any()])
    }

    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        let schema =
            FFI_ArrowSchema::try_from(self.batch.schema().as_ref()).map_err(value_error)?;
        PyCapsule::new_with_value(py, schema, SCHEMA)
    }
}

/// `pyarrow.table(...)` over `batches` (one schema, see [`one_schema`]).
pub fn to_pyarrow_table<'py>(
    py: Python<'py>,
    batches: Vec<RecordBatch>,
) -> PyResult<Bound<'py, PyAny>> {
    let (schema, batches) = one_schema(batches).map_err(value_error)?;
    let stream = Bound::new(py, ArrowStream::new(schema, batches))?;
    py.import("pyarrow")?.getattr("table")?.call1((stream,))
}

/// `pyarrow.record_batch(...)` over `batch`.
pub fn to_pyarrow_batch<'py>(py: Python<'py>, batch: RecordBatch) -> PyResult<Bound<'py, PyAny>> {
    let batch = Bound::new(py, ArrowBatch { batch })?;
    py.import("pyarrow")?
        .getattr("record_batch")?
        .call1((batch,))
}

/// `batch` without the decoder's hidden input-line column.
pub fn without_line_field(batch: RecordBatch) -> RecordBatch {
    match batch.schema().index_of(LINE_FIELD) {
        Ok(i) => {
            let mut b = batch;
            b.remove_column(i);
            b
        }
        Err(_) => batch,
    }
}

/// `batches` with one schema: the union of their fields in first-seen order, a field missing
/// from a batch NULL there, a field whose type differs between batches as text (VARCHAR). Empty
/// batches are left out unless all are empty; the hidden input-line column is dropped.
pub fn one_schema(batches: Vec<RecordBatch>) -> Result<(SchemaRef, Vec<RecordBatch>), ArrowError> {
    let batches: Vec<RecordBatch> = batches.into_iter().map(without_line_field).collect();
    let nonempty: Vec<RecordBatch> = batches
        .iter()
        .filter(|b| b.num_rows() > 0)
        .cloned()
        .collect();
    let batches = if nonempty.is_empty() {
        batches.into_iter().take(1).collect()
    } else {
        nonempty
    };
    let Some(first) = batches.first() else {
        return Ok((Arc::new(Schema::empty()), Vec::new()));
    };
    let plain = |s: &Schema| Schema::new(s.fields().clone());
    let first_schema = plain(&first.schema());
    if batches.iter().all(|b| plain(&b.schema()) == first_schema) {
        return Ok((first.schema(), batches));
    }
    let mut order: Vec<String> = Vec::new();
    let mut types: HashMap<String, DataType> = HashMap::new();
    for b in &batches {
        for f in b.schema().fields() {
            match types.get_mut(f.name()) {
                None => {
                    order.push(f.name().clone());
                    types.insert(f.name().clone(), f.data_type().clone());
                }
                Some(t) if t == f.data_type() || f.data_type() == &DataType::Null => {}
                Some(t) if t == &DataType::Null => *t = f.data_type().clone(),
                Some(t) => *t = DataType::Utf8View,
            }
        }
    }
    let schema = Arc::new(Schema::new(
        order
            .iter()
            .map(|n| Field::new(n, types[n].clone(), true))
            .collect::<Vec<_>>(),
    ));
    let mut out = Vec::with_capacity(batches.len());
    for b in &batches {
        let columns: Vec<ArrayRef> = schema
            .fields()
            .iter()
            .map(|f| match b.column_by_name(f.name()) {
                Some(c) if c.data_type() == f.data_type() => Ok(c.clone()),
                Some(c) => cast(c, f.data_type()),
                None => Ok(new_null_array(f.data_type(), b.num_rows())),
            })
            .collect::<Result<_, _>>()?;
        out.push(RecordBatch::try_new(schema.clone(), columns)?);
    }
    Ok((schema, out))
}
