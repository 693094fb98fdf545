//! ARRAY functions (spec §7.9) with Presto semantics: 1-based positions, NULL in → NULL out
//! unless a function says otherwise, set operations that treat NULL as a value. Also the
//! engine-internal UDFs behind `ARRAY[...]`, `a[i]`, row constructors `(a, b)` and
//! `CAST(json AS ARRAY(...)/MAP(...))`, and the ARRAY overloads of `concat` and `reverse`.
//!
//! The higher-order functions (`transform`, `filter`, `reduce`, `*_match`, `zip_with`) are
//! DataFusion higher-order UDFs ([`crate::expr::lambda`]); this file holds their kernels, which
//! evaluate the lambda body once over the flattened elements of the whole batch.
//!
//! Element equality and order (for `contains`, `array_distinct`, `array_sort`, set operations)
//! use Arrow's row format, so they work for every element type, nested ones included.
//!
//! Budgets: every loop that builds elements reports them to [`crate::budget`] ([`spend`]: the
//! elements handled and the bytes built), so the deadline and the memory ceiling of the batch
//! stop a runaway `sequence`, `transform`, `reduce` or `combinations` while it runs; a hit is a
//! `ResourcesExhausted` error here and is reported by the pipeline runner as the budget's error.
use std::collections::HashSet;
use std::ops::Range;
use std::sync::Arc;

use arrow::array::{
    new_empty_array, Array, ArrayRef, AsArray, BinaryArray, BooleanArray, Float64Array, Int64Array,
    LargeStringArray, ListArray, StringViewBuilder, StructArray, UInt32Array,
};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::compute::{cast, concat, interleave, take, take_arrays};
use arrow::datatypes::{DataType, Field, FieldRef, Fields};
use arrow::row::{RowConverter, Rows, SortField};
use datafusion_common::config::ConfigOptions;
use datafusion_common::{exec_err, plan_err, DataFusionError, Result, ScalarValue};
use datafusion_expr::{ColumnarValue, LambdaArgument, ScalarFunctionArgs, ScalarUDF, Volatility};
use rand::seq::SliceRandom;
use serde_json::Value;

use super::common::{ex, function_def, invoke_rowwise, op_udf, UdfOp, MAX_RESULT_BYTES};
use super::{Family, FunctionDef};
use crate::budget;
use crate::render::Renderer;
use crate::timezone::SessionTz;
use crate::types;

/// Most elements `sequence` produces for one row (Presto's limit).
const MAX_SEQUENCE: i128 = 10_000;
/// Most elements `combinations` produces for one row.
const MAX_COMBINATION_ELEMENTS: u128 = 1_000_000;
/// Largest `n` of `combinations` (Presto's limit).
const MAX_COMBINATION_SIZE: i64 = 5;

// ---------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------

/// ARRAY(t) as the engine builds it: a nullable `item` field.
pub(crate) fn list_of(t: DataType) -> DataType {
    DataType::new_list(t, true)
}

/// The element type of a list type.
pub(crate) fn element_type(t: &DataType) -> Option<&DataType> {
    match t {
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::FixedSizeList(f, _)
        | DataType::ListView(f)
        | DataType::LargeListView(f) => Some(f.data_type()),
        _ => None,
    }
}

/// The type two values can both take: equal types stay, NULL takes the other, numbers widen,
/// text becomes VARCHAR (JSON only with JSON), arrays and maps combine element-wise.
pub(crate) fn common_type(a: &DataType, b: &DataType) -> Option<DataType> {
    if a == b {
        return Some(a.clone());
    }
    match (a, b) {
        (DataType::Null, t) | (t, DataType::Null) => Some(t.clone()),
        _ if types::is_numeric(a) && types::is_numeric(b) => Some(types::numeric_common(a, b)),
        _ if types::is_text(a) && types::is_text(b) => Some(types::VARCHAR),
        _ => match (element_type(a), element_type(b)) {
            (Some(x), Some(y)) => common_type(x, y).map(list_of),
            _ => match (types::key_value_types(a), types::key_value_types(b)) {
                (Some((ka, va)), Some((kb, vb))) => Some(types::map_type(
                    common_type(&ka, &kb)?,
                    common_type(&va, &vb)?,
                )),
                _ => None,
            },
        },
    }
}

/// The common type of several types (`None` when two of them do not combine).
fn common_of<'a>(ts: impl IntoIterator<Item = &'a DataType>) -> Option<DataType> {
    ts.into_iter()
        .try_fold(DataType::Null, |acc, t| common_type(&acc, t))
}

/// The ARRAY type an argument is coerced to: any list becomes `List(item)`; NULL becomes
/// ARRAY(NULL); JSON is read as ARRAY(JSON) (a JSON array; anything else is a row error).
pub(crate) fn coerce_list(name: &str, pos: usize, t: &DataType) -> Result<DataType> {
    match (element_type(t), t) {
        (Some(e), _) => Ok(list_of(e.clone())),
        (None, DataType::Null) => Ok(list_of(DataType::Null)),
        (None, t) if types::is_json(t) => Ok(list_of(types::JSON)),
        _ => plan_err!("{name}: argument {} must be an ARRAY, got {t}", pos + 1),
    }
}

fn check_count(name: &str, n: usize, min: usize, max: usize) -> Result<()> {
    if n < min || n > max {
        let want = if min == max {
            format!("{min}")
        } else if max == usize::MAX {
            format!("at least {min}")
        } else {
            format!("{min} to {max}")
        };
        return plan_err!("{name}: expected {want} argument(s), got {n}");
    }
    Ok(())
}

fn integer_arg(name: &str, pos: usize, t: &DataType) -> Result<DataType> {
    if t.is_integer() || *t == DataType::Null {
        Ok(DataType::Int64)
    } else {
        plan_err!("{name}: argument {} must be an integer, got {t}", pos + 1)
    }
}

fn text_arg(name: &str, pos: usize, t: &DataType) -> Result<DataType> {
    if types::is_text(t) || *t == DataType::Null {
        Ok(types::VARCHAR)
    } else {
        plan_err!("{name}: argument {} must be VARCHAR, got {t}", pos + 1)
    }
}

// ---------------------------------------------------------------------------------------------
// Reading and building list columns
// ---------------------------------------------------------------------------------------------

/// The list column `a`, or an error naming the function.
pub(crate) fn list_arg<'a>(name: &str, a: &'a ArrayRef) -> Result<&'a ListArray> {
    a.as_list_opt::<i32>().ok_or_else(|| {
        DataFusionError::Execution(format!("{name}: expected an ARRAY, got {}", a.data_type()))
    })
}

/// The element positions of row `i` in the list's values (empty for a NULL row).
pub(crate) fn range(l: &ListArray, i: usize) -> Range<usize> {
    if l.is_null(i) {
        return 0..0;
    }
    let o = l.value_offsets();
    let start = usize::try_from(o[i]).unwrap_or(0);
    let end = usize::try_from(o[i + 1]).unwrap_or(start);
    start..end.max(start)
}

/// An index into a values array as `u32` (list offsets are `i32`, so this always fits).
pub(crate) fn idx(j: usize) -> Result<u32> {
    u32::try_from(j).map_err(|_| DataFusionError::Execution("array too large".into()))
}

/// Reports `elements` handled and `bytes` built to the current budget; an error once a budget
/// is exceeded.
#[inline]
pub(crate) fn spend(elements: usize, bytes: usize) -> Result<()> {
    budget::tick(elements)
        .and_then(|()| budget::charge(bytes))
        .map_err(|e| DataFusionError::ResourcesExhausted(e.to_string()))
}

/// `v` as an array of `n` rows; a scalar (a lambda body that reads no parameter, a literal
/// argument) is charged for its `n` copies before they are made.
pub(crate) fn materialize(v: ColumnarValue, n: usize) -> Result<ArrayRef> {
    if let ColumnarValue::Scalar(s) = &v {
        spend(n, s.size().saturating_mul(n))?;
    }
    v.into_array(n)
}

/// Builds a list column row by row from positions in a values array (`None` = a NULL element).
#[derive(Default)]
pub(crate) struct ListOut {
    indices: Vec<Option<u32>>,
    lengths: Vec<usize>,
    valid: Vec<bool>,
}

impl ListOut {
    pub(crate) fn with_rows(rows: usize) -> ListOut {
        ListOut {
            indices: Vec::new(),
            lengths: Vec::with_capacity(rows),
            valid: Vec::with_capacity(rows),
        }
    }

    pub(crate) fn push_null(&mut self) {
        self.lengths.push(0);
        self.valid.push(false);
    }

    pub(crate) fn push_row(
        &mut self,
        items: impl IntoIterator<Item = Option<usize>>,
    ) -> Result<()> {
        let before = self.indices.len();
        for j in items {
            self.indices.push(j.map(idx).transpose()?);
        }
        let len = self.indices.len() - before;
        spend(len, len * std::mem::size_of::<Option<u32>>())?;
        self.lengths.push(len);
        self.valid.push(true);
        Ok(())
    }

    /// The list column taking its elements from `values`.
    pub(crate) fn finish(mut self, values: &dyn Array) -> Result<ArrayRef> {
        let indices = std::mem::take(&mut self.indices);
        let taken = take(values, &UInt32Array::from(indices), None)?;
        self.finish_with(taken)
    }

    /// The list column whose elements are `values` in order.
    pub(crate) fn finish_with(self, values: ArrayRef) -> Result<ArrayRef> {
        let field = Arc::new(Field::new_list_field(values.data_type().clone(), true));
        let nulls = if self.valid.iter().all(|v| *v) {
            None
        } else {
            Some(NullBuffer::from(self.valid))
        };
        Ok(Arc::new(ListArray::try_new(
            field,
            OffsetBuffer::from_lengths(self.lengths),
            values,
            nulls,
        )?))
    }
}

/// Comparable rows (Arrow row format) of `arrays`, all of one type: equal values (NULLs
/// included) have equal rows, and rows order like the values with NULLs first.
fn comparable(arrays: &[&ArrayRef]) -> Result<Vec<Rows>> {
    let t = arrays
        .first()
        .map_or(DataType::Null, |a| a.data_type().clone());
    let converter = RowConverter::new(vec![SortField::new(t)])?;
    arrays
        .iter()
        .map(|a| Ok(converter.convert_columns(&[Arc::clone(a)])?))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The scalar operations
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Op {
    Cardinality,
    Contains,
    ElementAt,
    Join,
    Distinct,
    Max,
    Min,
    Position,
    Remove,
    Sort,
    Union,
    Intersect,
    Except,
    Overlap,
    Concat,
    Flatten,
    Reverse,
    Sequence,
    Slice,
    Sum,
    Average,
    Normalize,
    Combinations,
    Shuffle,
    Zip,
    Construct,
    Row,
    JsonCast { strict: bool },
    EmptyApproxSet,
}

impl UdfOp for Op {
    fn coerce(self, name: &str, t: &[DataType]) -> Result<Vec<DataType>> {
        let n = t.len();
        let list = |i: usize| coerce_list(name, i, &t[i]);
        Ok(match self {
            Op::Cardinality => {
                check_count(name, n, 1, 1)?;
                if types::key_value_types(&t[0]).is_some() {
                    vec![t[0].clone()]
                } else {
                    vec![list(0)?]
                }
            }
            Op::ElementAt => {
                check_count(name, n, 2, 2)?;
                if let Some((k, _)) = types::key_value_types(&t[0]) {
                    vec![t[0].clone(), k]
                } else if t[0] == DataType::Null {
                    // Unknown container (a missing field): NULL whatever the key.
                    vec![DataType::Null, t[1].clone()]
                } else {
                    vec![list(0)?, integer_arg(name, 1, &t[1])?]
                }
            }
            Op::Contains | Op::Position | Op::Remove => {
                let max = if self == Op::Position { 3 } else { 2 };
                check_count(name, n, 2, max)?;
                let l = list(0)?;
                let e = element_type(&l).cloned().unwrap_or(DataType::Null);
                let Some(c) = common_type(&e, &t[1]) else {
                    return plan_err!("{name}: cannot look for {} in an ARRAY({e})", t[1]);
                };
                let mut v = vec![list_of(c.clone()), c];
                if n == 3 {
                    v.push(integer_arg(name, 2, &t[2])?);
                }
                v
            }
            Op::Join => {
                check_count(name, n, 2, 3)?;
                let mut v = vec![list(0)?];
                for (i, ti) in t.iter().enumerate().skip(1) {
                    v.push(text_arg(name, i, ti)?);
                }
                v
            }
            Op::Distinct | Op::Max | Op::Min | Op::Sort | Op::Reverse | Op::Shuffle => {
                check_count(name, n, 1, 1)?;
                vec![list(0)?]
            }
            Op::Union | Op::Intersect | Op::Except | Op::Overlap | Op::Concat => {
                let max = if self == Op::Concat { usize::MAX } else { 2 };
                check_count(name, n, if self == Op::Concat { 1 } else { 2 }, max)?;
                let lists = (0..n).map(list).collect::<Result<Vec<_>>>()?;
                let Some(c) = common_of(lists.iter()) else {
                    return plan_err!("{name}: the ARRAY arguments have incompatible types");
                };
                vec![c; n]
            }
            Op::Flatten => {
                check_count(name, n, 1, 1)?;
                let l = list(0)?;
                match element_type(&l) {
                    Some(DataType::Null) => vec![list_of(list_of(DataType::Null))],
                    Some(e) if element_type(e).is_some() => vec![list_of(coerce_list(name, 0, e)?)],
                    _ => return plan_err!("{name}: expected an ARRAY of ARRAYs, got {}", t[0]),
                }
            }
            Op::Sequence => {
                check_count(name, n, 2, 3)?;
                (0..n)
                    .map(|i| integer_arg(name, i, &t[i]))
                    .collect::<Result<_>>()?
            }
            Op::Slice => {
                check_count(name, n, 3, 3)?;
                vec![
                    list(0)?,
                    integer_arg(name, 1, &t[1])?,
                    integer_arg(name, 2, &t[2])?,
                ]
            }
            Op::Sum | Op::Average | Op::Normalize => {
                check_count(name, n, if self == Op::Normalize { 2 } else { 1 }, 2)?;
                if self != Op::Normalize && n != 1 {
                    return plan_err!("{name}: expected 1 argument(s), got {n}");
                }
                let l = list(0)?;
                let e = element_type(&l).cloned().unwrap_or(DataType::Null);
                let to = match e {
                    DataType::Null => DataType::Float64,
                    ref e if types::is_integral(e) && self == Op::Sum => DataType::Int64,
                    ref e if types::is_numeric(e) => DataType::Float64,
                    e => return plan_err!("{name}: expected an ARRAY of numbers, got ARRAY({e})"),
                };
                let mut v = vec![list_of(to)];
                if n == 2 {
                    if !(types::is_numeric(&t[1]) || t[1] == DataType::Null) {
                        return plan_err!("{name}: p must be a number, got {}", t[1]);
                    }
                    v.push(DataType::Float64);
                }
                v
            }
            Op::Combinations => {
                check_count(name, n, 2, 2)?;
                vec![list(0)?, integer_arg(name, 1, &t[1])?]
            }
            Op::Zip => {
                check_count(name, n, 2, 7)?;
                (0..n).map(list).collect::<Result<_>>()?
            }
            Op::Construct => {
                let Some(c) = common_of(t.iter()) else {
                    return plan_err!("ARRAY elements have incompatible types");
                };
                vec![c; n]
            }
            Op::Row => t.to_vec(),
            Op::JsonCast { .. } => {
                check_count(name, n, 2, 2)?;
                if !(types::is_text(&t[0]) || t[0] == DataType::Null) {
                    return plan_err!("{name}: cannot cast {} from JSON", t[0]);
                }
                vec![types::JSON, t[1].clone()]
            }
            Op::EmptyApproxSet => {
                check_count(name, n, 0, 0)?;
                vec![]
            }
        })
    }

    fn return_type(self, name: &str, t: &[DataType]) -> Result<DataType> {
        let elem = || {
            t.first()
                .and_then(element_type)
                .cloned()
                .unwrap_or(DataType::Null)
        };
        Ok(match self {
            Op::Cardinality | Op::Position => DataType::Int64,
            Op::Contains | Op::Overlap => DataType::Boolean,
            Op::ElementAt => match t.first().and_then(types::key_value_types) {
                Some((_, v)) => v,
                None => elem(),
            },
            Op::Max | Op::Min => elem(),
            Op::Join => types::VARCHAR,
            Op::Distinct
            | Op::Sort
            | Op::Reverse
            | Op::Shuffle
            | Op::Remove
            | Op::Union
            | Op::Intersect
            | Op::Except
            | Op::Concat
            | Op::Slice => match t.first() {
                Some(l) => l.clone(),
                None => return plan_err!("{name}: missing argument"),
            },
            Op::Flatten => {
                let inner = elem();
                match inner {
                    DataType::Null => list_of(DataType::Null),
                    other => other,
                }
            }
            Op::Sequence => list_of(DataType::Int64),
            Op::Sum => match elem() {
                DataType::Int64 => DataType::Int64,
                _ => DataType::Float64,
            },
            Op::Average => DataType::Float64,
            Op::Normalize => list_of(DataType::Float64),
            Op::Combinations => list_of(t.first().cloned().unwrap_or(DataType::Null)),
            Op::Zip => list_of(zip_struct(
                &t.iter()
                    .map(|l| element_type(l).cloned().unwrap_or(DataType::Null))
                    .collect::<Vec<_>>(),
            )),
            Op::Construct => list_of(t.first().cloned().unwrap_or(DataType::Null)),
            Op::Row => zip_struct(t),
            Op::JsonCast { .. } => t.get(1).cloned().unwrap_or(DataType::Null),
            Op::EmptyApproxSet => DataType::Binary,
        })
    }

    fn invoke(self, name: &str, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let config = Arc::clone(&args.config_options);
        let target = args.return_field.data_type().clone();
        invoke_rowwise(&args, |a, rows| match self {
            Op::Cardinality => cardinality(name, a, rows),
            Op::Contains => contains(name, a, rows),
            Op::ElementAt => element_at(name, a, rows),
            Op::Join => array_join(name, a, rows, &config),
            Op::Distinct => distinct(name, a, rows),
            Op::Max | Op::Min => extreme(name, a, rows, self == Op::Max),
            Op::Position => position(name, a, rows),
            Op::Remove => remove(name, a, rows),
            Op::Sort => sort(name, a, rows),
            Op::Union | Op::Intersect | Op::Except => set_op(name, self, a, rows),
            Op::Overlap => overlap(name, a, rows),
            Op::Concat => concat_arrays(name, a, rows),
            Op::Flatten => flatten(name, a, rows),
            Op::Reverse => reverse(name, a, rows),
            Op::Sequence => sequence(name, a, rows),
            Op::Slice => slice(name, a, rows),
            Op::Sum => sum(name, a, rows),
            Op::Average => average(name, a, rows),
            Op::Normalize => normalize(name, a, rows),
            Op::Combinations => combinations(name, a, rows),
            Op::Shuffle => shuffle(name, a, rows),
            Op::Zip => zip(name, a, rows),
            Op::Construct => construct(a, rows),
            Op::Row => row(a, rows),
            Op::JsonCast { strict } => json_cast(name, a, rows, &target, strict),
            Op::EmptyApproxSet => Ok(Arc::new(BinaryArray::from_iter_values(
                std::iter::repeat_n(EMPTY_HLL, rows),
            ))),
        })
    }
}

/// A serialised empty HyperLogLog in Presto's sparse format: format tag 2, 11 index bits
/// (2048 buckets, standard error 2.3%), zero entries.
const EMPTY_HLL: &[u8] = &[2, 11, 0, 0];

/// A ROW type with fields `field0`, `field1`, ….
fn zip_struct(ts: &[DataType]) -> DataType {
    DataType::Struct(Fields::from(
        ts.iter()
            .enumerate()
            .map(|(i, t)| Field::new(format!("field{i}"), t.clone(), true))
            .collect::<Vec<_>>(),
    ))
}

fn cardinality(name: &str, a: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    if let Some(m) = a[0].as_map_opt() {
        return Ok(Arc::new(
            (0..rows)
                .map(|i| (!m.is_null(i)).then(|| i64::from(m.value_length(i))))
                .collect::<Int64Array>(),
        ));
    }
    let l = list_arg(name, &a[0])?;
    Ok(Arc::new(
        (0..rows)
            .map(|i| (!l.is_null(i)).then(|| i64::try_from(range(l, i).len()).unwrap_or(0)))
            .collect::<Int64Array>(),
    ))
}

fn contains(name: &str, a: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let l = list_arg(name, &a[0])?;
    let r = comparable(&[l.values(), &a[1]])?;
    let values = l.values();
    let out: BooleanArray = (0..rows)
        .map(|i| {
            if l.is_null(i) || a[1].is_null(i) {
                return None;
            }
            let mut saw_null = false;
            for j in range(l, i) {
                if values.is_null(j) {
                    saw_null = true;
                } else if r[0].row(j) == r[1].row(i) {
                    return Some(true);
                }
            }
            (!saw_null).then_some(false)
        })
        .collect();
    Ok(Arc::new(out))
}

/// `element_at(a, i)` and `a[i]`: 1-based, negative counts from the end, out of range → NULL,
/// 0 → error. Maps: the value of key `i`, NULL when absent.
fn element_at(name: &str, a: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    if a[0].as_map_opt().is_some() {
        return map_element_at(name, a, rows);
    }
    if a[0].data_type() == &DataType::Null {
        return Ok(arrow::array::new_null_array(&DataType::Null, rows));
    }
    let l = list_arg(name, &a[0])?;
    let index = a[1].as_primitive_opt::<arrow::datatypes::Int64Type>();
    let mut out = Vec::with_capacity(rows);
    for i in 0..rows {
        let at = index.and_then(|x| x.is_valid(i).then(|| x.value(i)));
        let (Some(at), false) = (at, l.is_null(i)) else {
            out.push(None);
            continue;
        };
        let r = range(l, i);
        let len = i64::try_from(r.len()).unwrap_or(i64::MAX);
        let pos = match at {
            0 => return exec_err!("{name}: SQL array indices start at 1"),
            p if p > 0 && p <= len => Some(p - 1),
            p if p < 0 && -p <= len => Some(len + p),
            _ => None,
        };
        out.push(
            pos.and_then(|p| usize::try_from(p).ok())
                .map(|p| idx(r.start + p))
                .transpose()?,
        );
    }
    Ok(take(l.values().as_ref(), &UInt32Array::from(out), None)?)
}

fn array_join(name: &str, a: &[ArrayRef], rows: usize, config: &ConfigOptions) -> Result<ArrayRef> {
    let l = list_arg(name, &a[0])?;
    let renderer = Renderer::new(SessionTz::from_config(config)?);
    let sep = a[1].as_string_view();
    let null_rep = a.get(2).map(|x| x.as_string_view());
    let values = l.values();
    let mut out = StringViewBuilder::with_capacity(rows);
    for i in 0..rows {
        if l.is_null(i) || sep.is_null(i) || null_rep.is_some_and(|n| n.is_null(i)) {
            out.append_null();
            continue;
        }
        let mut s = String::new();
        let mut first = true;
        for j in range(l, i) {
            let text = match renderer.text(values.as_ref(), j) {
                Some(t) => t,
                None => match null_rep {
                    Some(n) => n.value(i).to_string(),
                    None => continue,
                },
            };
            if !first {
                s.push_str(sep.value(i));
            }
            first = false;
            s.push_str(&text);
            if s.len() > MAX_RESULT_BYTES {
                return exec_err!("{name}: result exceeds {MAX_RESULT_BYTES} bytes");
            }
        }
        out.append_value(s);
    }
    Ok(Arc::new(out.finish()))
}

fn distinct(name: &str, a: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let l = list_arg(name, &a[0])?;
    let r = comparable(&[l.values()])?;
    let mut out = ListOut::with_rows(rows);
    for i in 0..rows {
        if l.is_null(i) {
            out.push_null();
            continue;
        }
        let mut seen = HashSet::new();
        out.push_row(range(l, i).filter(|j| seen.insert(r[0].row(*j))).map(Some))?;
    }
    out.finish(l.values().as_ref())
}

/// `array_max`/`array_min`: NULL when the array is empty or holds a NULL (Presto).
fn extreme(name: &str, a: &[ArrayRef], rows: usize, max: bool) -> Result<ArrayRef> {
    let l = list_arg(name, &a[0])?;
    let values = l.values();
    let r = comparable(&[values])?;
    let mut picks = Vec::with_capacity(rows);
    for i in 0..rows {
        let rg = range(l, i);
        if rg.is_empty() || rg.clone().any(|j| values.is_null(j)) {
            picks.push(None);
            continue;
        }
        let best = rg.reduce(|b, j| {
            let better = if max {
                r[0].row(j) > r[0].row(b)
            } else {
                r[0].row(j) < r[0].row(b)
            };
            if better {
                j
            } else {
                b
            }
        });
        picks.push(best.map(idx).transpose()?);
    }
    Ok(take(values.as_ref(), &UInt32Array::from(picks), None)?)
}

/// `array_position(a, x[, instance])`: the 1-based position of the instance-th occurrence
/// (negative: counting from the end), 0 when absent.
fn position(name: &str, a: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let l = list_arg(name, &a[0])?;
    let values = l.values();
    let r = comparable(&[values, &a[1]])?;
    let instance = a
        .get(2)
        .map(|x| x.as_primitive::<arrow::datatypes::Int64Type>());
    let mut out = Int64Array::builder(rows);
    for i in 0..rows {
        let inst = match instance {
            None => Some(1),
            Some(x) => x.is_valid(i).then(|| x.value(i)),
        };
        let (Some(inst), false, false) = (inst, l.is_null(i), a[1].is_null(i)) else {
            out.append_null();
            continue;
        };
        if inst == 0 {
            return exec_err!("{name}: 0 is an invalid instance position");
        }
        let rg = range(l, i);
        let start = rg.start;
        let matches = |j: &usize| values.is_valid(*j) && r[0].row(*j) == r[1].row(i);
        let wanted = usize::try_from(inst.unsigned_abs()).unwrap_or(usize::MAX);
        let found = if inst > 0 {
            rg.filter(matches).nth(wanted - 1)
        } else {
            rg.rev().filter(matches).nth(wanted - 1)
        };
        out.append_value(found.map_or(0, |j| i64::try_from(j - start + 1).unwrap_or(0)));
    }
    Ok(Arc::new(out.finish()))
}

/// `array_remove(a, x)`: drops the elements equal to x; NULL elements stay.
fn remove(name: &str, a: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let l = list_arg(name, &a[0])?;
    let values = l.values();
    let r = comparable(&[values, &a[1]])?;
    let mut out = ListOut::with_rows(rows);
    for i in 0..rows {
        if l.is_null(i) || a[1].is_null(i) {
            out.push_null();
            continue;
        }
        out.push_row(
            range(l, i)
                .filter(|j| values.is_null(*j) || r[0].row(*j) != r[1].row(i))
                .map(Some),
        )?;
    }
    out.finish(values.as_ref())
}

/// `array_sort(a)`: ascending, NULLs last.
fn sort(name: &str, a: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let l = list_arg(name, &a[0])?;
    let values = l.values();
    let r = comparable(&[values])?;
    let mut out = ListOut::with_rows(rows);
    for i in 0..rows {
        if l.is_null(i) {
            out.push_null();
            continue;
        }
        let mut items: Vec<usize> = range(l, i).collect();
        items.sort_by(|x, y| {
            (values.is_null(*x), r[0].row(*x)).cmp(&(values.is_null(*y), r[0].row(*y)))
        });
        out.push_row(items.into_iter().map(Some))?;
    }
    out.finish(values.as_ref())
}

/// `array_union`/`array_intersect`/`array_except`: distinct elements, in first-seen order.
fn set_op(name: &str, op: Op, a: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let (x, y) = (list_arg(name, &a[0])?, list_arg(name, &a[1])?);
    let r = comparable(&[x.values(), y.values()])?;
    let shift = x.values().len();
    let both = concat(&[x.values().as_ref(), y.values().as_ref()])?;
    let mut out = ListOut::with_rows(rows);
    for i in 0..rows {
        if x.is_null(i) || y.is_null(i) {
            out.push_null();
            continue;
        }
        let mut seen = HashSet::new();
        let mut items = Vec::new();
        match op {
            Op::Union => {
                for j in range(x, i) {
                    if seen.insert(r[0].row(j)) {
                        items.push(Some(j));
                    }
                }
                for j in range(y, i) {
                    if seen.insert(r[1].row(j)) {
                        items.push(Some(shift + j));
                    }
                }
            }
            _ => {
                let other: HashSet<_> = range(y, i).map(|j| r[1].row(j)).collect();
                let keep_if_in_other = op == Op::Intersect;
                for j in range(x, i) {
                    let row = r[0].row(j);
                    if other.contains(&row) == keep_if_in_other && seen.insert(row) {
                        items.push(Some(j));
                    }
                }
            }
        }
        out.push_row(items)?;
    }
    out.finish(both.as_ref())
}

/// `arrays_overlap(x, y)`: true when they share a non-NULL element; NULL when they do not
/// but either holds a NULL; false otherwise.
fn overlap(name: &str, a: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let (x, y) = (list_arg(name, &a[0])?, list_arg(name, &a[1])?);
    let r = comparable(&[x.values(), y.values()])?;
    let out: BooleanArray = (0..rows)
        .map(|i| {
            if x.is_null(i) || y.is_null(i) {
                return None;
            }
            let mut saw_null = false;
            let mut set = HashSet::new();
            for j in range(x, i) {
                if x.values().is_null(j) {
                    saw_null = true;
                } else {
                    set.insert(r[0].row(j));
                }
            }
            for j in range(y, i) {
                if y.values().is_null(j) {
                    saw_null = true;
                } else if set.contains(&r[1].row(j)) {
                    return Some(true);
                }
            }
            (!saw_null).then_some(false)
        })
        .collect();
    Ok(Arc::new(out))
}

/// `concat(a1, a2, ...)` on arrays: NULL when any argument is NULL.
fn concat_arrays(name: &str, a: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let lists = a
        .iter()
        .map(|x| list_arg(name, x))
        .collect::<Result<Vec<_>>>()?;
    let mut shifts = Vec::with_capacity(lists.len());
    let mut total = 0;
    for l in &lists {
        shifts.push(total);
        total += l.values().len();
    }
    let parts: Vec<&dyn Array> = lists.iter().map(|l| l.values().as_ref()).collect();
    let all = concat(&parts)?;
    let mut out = ListOut::with_rows(rows);
    for i in 0..rows {
        if lists.iter().any(|l| l.is_null(i)) {
            out.push_null();
            continue;
        }
        let items: Vec<Option<usize>> = lists
            .iter()
            .zip(&shifts)
            .flat_map(|(l, s)| range(l, i).map(move |j| Some(s + j)))
            .collect();
        out.push_row(items)?;
    }
    out.finish(all.as_ref())
}

/// `flatten(a)`: the elements of the inner arrays; NULL inner arrays are skipped.
fn flatten(name: &str, a: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let outer = list_arg(name, &a[0])?;
    let inner = list_arg(name, outer.values())?;
    let mut out = ListOut::with_rows(rows);
    for i in 0..rows {
        if outer.is_null(i) {
            out.push_null();
            continue;
        }
        let items: Vec<Option<usize>> = range(outer, i)
            .flat_map(|j| range(inner, j).map(Some))
            .collect();
        out.push_row(items)?;
    }
    out.finish(inner.values().as_ref())
}

fn reverse(name: &str, a: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let l = list_arg(name, &a[0])?;
    let mut out = ListOut::with_rows(rows);
    for i in 0..rows {
        if l.is_null(i) {
            out.push_null();
        } else {
            out.push_row(range(l, i).rev().map(Some))?;
        }
    }
    out.finish(l.values().as_ref())
}

fn int_col<'a>(name: &str, a: &'a ArrayRef) -> Result<&'a arrow::array::Int64Array> {
    a.as_primitive_opt::<arrow::datatypes::Int64Type>()
        .ok_or_else(|| DataFusionError::Execution(format!("{name}: expected BIGINT")))
}

/// `sequence(start, stop[, step])`: step defaults to 1 (or -1 when stop < start); at most
/// 10000 elements.
fn sequence(name: &str, a: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let start = int_col(name, &a[0])?;
    let stop = int_col(name, &a[1])?;
    let step = a.get(2).map(|s| int_col(name, s)).transpose()?;
    let mut lengths = Vec::with_capacity(rows);
    let mut valid = Vec::with_capacity(rows);
    let mut values = Vec::new();
    for i in 0..rows {
        let st = match step {
            None => Some(1),
            Some(s) => s.is_valid(i).then(|| s.value(i)),
        };
        let (Some(st), true, true) = (st, start.is_valid(i), stop.is_valid(i)) else {
            lengths.push(0);
            valid.push(false);
            continue;
        };
        let (from, to) = (i128::from(start.value(i)), i128::from(stop.value(i)));
        let st = match (step.is_some(), i128::from(st)) {
            (false, _) if to < from => -1,
            (_, 0) => return exec_err!("{name}: step must not be zero"),
            (_, s) if (s > 0 && to < from) || (s < 0 && to > from) => {
                return exec_err!(
                    "{name}: stop must be reached from start in the direction of step"
                )
            }
            (_, s) => s,
        };
        let count = (to - from) / st + 1;
        if count > MAX_SEQUENCE {
            return exec_err!("{name}: result must not have more than {MAX_SEQUENCE} entries");
        }
        let n = usize::try_from(count).unwrap_or(0);
        spend(n, n * std::mem::size_of::<i64>())?;
        let mut v = from;
        for _ in 0..count {
            values.push(i64::try_from(v).unwrap_or_default());
            v += st;
        }
        lengths.push(usize::try_from(count).unwrap_or(0));
        valid.push(true);
    }
    let out = ListOut {
        indices: Vec::new(),
        lengths,
        valid,
    };
    out.finish_with(Arc::new(Int64Array::from(values)))
}

/// `slice(a, start, length)`: start is 1-based (negative: from the end); 0 is an error.
fn slice(name: &str, a: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let l = list_arg(name, &a[0])?;
    let start = int_col(name, &a[1])?;
    let length = int_col(name, &a[2])?;
    let mut out = ListOut::with_rows(rows);
    for i in 0..rows {
        if l.is_null(i) || start.is_null(i) || length.is_null(i) {
            out.push_null();
            continue;
        }
        let (s, n) = (start.value(i), length.value(i));
        if s == 0 {
            return exec_err!("{name}: SQL array indices start at 1");
        }
        if n < 0 {
            return exec_err!("{name}: length must be greater than or equal to 0");
        }
        let rg = range(l, i);
        let len = i64::try_from(rg.len()).unwrap_or(i64::MAX);
        let from = if s > 0 { s - 1 } else { len + s };
        if from < 0 || from >= len {
            out.push_row(std::iter::empty())?;
            continue;
        }
        let to = from.saturating_add(n).min(len);
        let (from, to) = (
            usize::try_from(from).unwrap_or(0),
            usize::try_from(to).unwrap_or(0),
        );
        out.push_row((rg.start + from..rg.start + to).map(Some))?;
    }
    out.finish(l.values().as_ref())
}

/// `array_sum(a)`: the sum of the non-NULL elements (0 when there are none); BIGINT for
/// integer arrays (overflow is an error), DOUBLE otherwise.
fn sum(name: &str, a: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let l = list_arg(name, &a[0])?;
    let values = l.values();
    if let Some(v) = values.as_primitive_opt::<arrow::datatypes::Int64Type>() {
        let mut out = Int64Array::builder(rows);
        for i in 0..rows {
            if l.is_null(i) {
                out.append_null();
                continue;
            }
            let mut s: i64 = 0;
            for j in range(l, i).filter(|j| v.is_valid(*j)) {
                s = s.checked_add(v.value(j)).ok_or_else(|| {
                    DataFusionError::Execution(format!("{name}: BIGINT overflow"))
                })?;
            }
            out.append_value(s);
        }
        return Ok(Arc::new(out.finish()));
    }
    let v = float_values(name, values)?;
    let out: Float64Array = (0..rows)
        .map(|i| {
            (!l.is_null(i)).then(|| {
                range(l, i)
                    .filter(|j| v.is_valid(*j))
                    .map(|j| v.value(j))
                    .sum::<f64>()
            })
        })
        .collect();
    Ok(Arc::new(out))
}

fn float_values(name: &str, values: &ArrayRef) -> Result<Float64Array> {
    let v = cast(values, &DataType::Float64)?;
    v.as_primitive_opt::<arrow::datatypes::Float64Type>()
        .cloned()
        .ok_or_else(|| DataFusionError::Execution(format!("{name}: expected numbers")))
}

/// `array_average(a)`: the mean of the non-NULL elements; NULL when there are none.
fn average(name: &str, a: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let l = list_arg(name, &a[0])?;
    let v = float_values(name, l.values())?;
    let out: Float64Array = (0..rows)
        .map(|i| {
            let (mut s, mut n) = (0.0, 0u32);
            for j in range(l, i).filter(|j| v.is_valid(*j)) {
                s += v.value(j);
                n += 1;
            }
            (n > 0).then(|| s / f64::from(n))
        })
        .collect();
    Ok(Arc::new(out))
}

/// `array_normalize(a, p)`: each element divided by the array's p-norm; the array unchanged
/// when the norm is 0 or p is 0; NULL when an element is NULL.
fn normalize(name: &str, a: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let l = list_arg(name, &a[0])?;
    let v = float_values(name, l.values())?;
    let p = a[1].as_primitive::<arrow::datatypes::Float64Type>();
    let mut lengths = Vec::with_capacity(rows);
    let mut valid = Vec::with_capacity(rows);
    let mut values = Vec::new();
    for i in 0..rows {
        let rg = range(l, i);
        if l.is_null(i) || p.is_null(i) || rg.clone().any(|j| v.is_null(j)) {
            lengths.push(0);
            valid.push(false);
            continue;
        }
        let p = p.value(i);
        if p < 0.0 {
            return exec_err!("{name}: p must be non-negative, got {p}");
        }
        let norm = if p == 0.0 {
            0.0
        } else {
            rg.clone()
                .map(|j| v.value(j).abs().powf(p))
                .sum::<f64>()
                .powf(1.0 / p)
        };
        lengths.push(rg.len());
        valid.push(true);
        values.extend(rg.map(|j| {
            if norm == 0.0 {
                v.value(j)
            } else {
                v.value(j) / norm
            }
        }));
    }
    ListOut {
        indices: Vec::new(),
        lengths,
        valid,
    }
    .finish_with(Arc::new(Float64Array::from(values)))
}

/// `combinations(a, n)`: the n-element combinations of the array's positions, in
/// lexicographic order of positions; n at most 5.
fn combinations(name: &str, a: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let l = list_arg(name, &a[0])?;
    let n = int_col(name, &a[1])?;
    let mut inner = ListOut::default();
    let mut outer_lengths = Vec::with_capacity(rows);
    let mut outer_valid = Vec::with_capacity(rows);
    for i in 0..rows {
        if l.is_null(i) || n.is_null(i) {
            outer_lengths.push(0);
            outer_valid.push(false);
            continue;
        }
        let k = n.value(i);
        if !(0..=MAX_COMBINATION_SIZE).contains(&k) {
            return exec_err!(
                "{name}: combination size must be between 0 and {MAX_COMBINATION_SIZE}, got {k}"
            );
        }
        let k = usize::try_from(k).unwrap_or(0);
        let rg = range(l, i);
        let len = rg.len();
        let count = binomial(len, k);
        if count.saturating_mul(k as u128) > MAX_COMBINATION_ELEMENTS {
            return exec_err!("{name}: too many combinations ({count})");
        }
        let mut produced = 0;
        if k <= len {
            let mut pick: Vec<usize> = (0..k).collect();
            loop {
                inner.push_row(pick.iter().map(|p| Some(rg.start + p)))?;
                produced += 1;
                // Advance to the next combination of positions.
                let Some(t) = (0..k).rev().find(|&t| pick[t] != t + len - k) else {
                    break;
                };
                pick[t] += 1;
                for u in t + 1..k {
                    pick[u] = pick[u - 1] + 1;
                }
            }
        }
        outer_lengths.push(produced);
        outer_valid.push(true);
    }
    let inner = inner.finish(l.values().as_ref())?;
    ListOut {
        indices: Vec::new(),
        lengths: outer_lengths,
        valid: outer_valid,
    }
    .finish_with(inner)
}

fn binomial(n: usize, k: usize) -> u128 {
    if k > n {
        return 0;
    }
    let mut c: u128 = 1;
    for i in 0..k {
        c = c.saturating_mul((n - i) as u128) / (i as u128 + 1);
    }
    c
}

fn shuffle(name: &str, a: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let l = list_arg(name, &a[0])?;
    let mut rng = rand::rng();
    let mut out = ListOut::with_rows(rows);
    for i in 0..rows {
        if l.is_null(i) {
            out.push_null();
            continue;
        }
        let mut items: Vec<usize> = range(l, i).collect();
        items.shuffle(&mut rng);
        out.push_row(items.into_iter().map(Some))?;
    }
    out.finish(l.values().as_ref())
}

/// `zip(a1, a2, ...)`: an array of rows; shorter arrays are padded with NULLs.
fn zip(name: &str, a: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let lists = a
        .iter()
        .map(|x| list_arg(name, x))
        .collect::<Result<Vec<_>>>()?;
    let mut picks: Vec<Vec<Option<u32>>> = vec![Vec::new(); lists.len()];
    let mut out = ListOut::with_rows(rows);
    let mut width = 0;
    for i in 0..rows {
        if lists.iter().any(|l| l.is_null(i)) {
            out.push_null();
            continue;
        }
        let ranges: Vec<Range<usize>> = lists.iter().map(|l| range(l, i)).collect();
        let len = ranges.iter().map(|r| r.len()).max().unwrap_or(0);
        for k in 0..len {
            for (p, r) in picks.iter_mut().zip(&ranges) {
                p.push((k < r.len()).then(|| idx(r.start + k)).transpose()?);
            }
        }
        out.push_row((width..width + len).map(Some))?;
        width += len;
    }
    let children = lists
        .iter()
        .zip(picks)
        .map(|(l, p)| Ok(take(l.values().as_ref(), &UInt32Array::from(p), None)?))
        .collect::<Result<Vec<ArrayRef>>>()?;
    out.finish_with(struct_of(children, width)?)
}

/// A ROW column with fields `field0`, `field1`, … holding `children`.
fn struct_of(children: Vec<ArrayRef>, rows: usize) -> Result<ArrayRef> {
    let DataType::Struct(fields) = zip_struct(
        &children
            .iter()
            .map(|c| c.data_type().clone())
            .collect::<Vec<_>>(),
    ) else {
        return exec_err!("row: not a struct");
    };
    if children.is_empty() {
        return Ok(Arc::new(StructArray::new_empty_fields(rows, None)));
    }
    Ok(Arc::new(StructArray::try_new(fields, children, None)?))
}

/// `ARRAY[e1, e2, ...]`.
fn construct(a: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let n = a.len();
    let mut out = ListOut::with_rows(rows);
    for i in 0..rows {
        out.push_row((i * n..(i + 1) * n).map(Some))?;
    }
    if n == 0 {
        return out.finish_with(new_empty_array(&DataType::Null));
    }
    let parts: Vec<&dyn Array> = a.iter().map(|x| x.as_ref()).collect();
    let order: Vec<(usize, usize)> = (0..rows)
        .flat_map(|i| (0..n).map(move |j| (j, i)))
        .collect();
    out.finish_with(interleave(&parts, &order)?)
}

/// `(e1, e2, ...)`: a ROW.
fn row(a: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    struct_of(a.to_vec(), rows)
}

// ---------------------------------------------------------------------------------------------
// CAST(json AS ARRAY(...)/MAP(...))
// ---------------------------------------------------------------------------------------------

/// Reads JSON text as a value of type `target` (ARRAY and MAP of scalars, nested freely).
/// A value that does not fit is a row error for CAST and NULL for TRY_CAST.
fn json_cast(
    name: &str,
    a: &[ArrayRef],
    rows: usize,
    target: &DataType,
    strict: bool,
) -> Result<ArrayRef> {
    let text = cast(&a[0], &DataType::LargeUtf8)?;
    let text: &LargeStringArray = text.as_string::<i64>();
    let mut parsed: Vec<Option<Value>> = Vec::with_capacity(rows);
    for i in 0..rows {
        if text.is_null(i) {
            parsed.push(None);
            continue;
        }
        let v = serde_json::from_str::<Value>(text.value(i))
            .ok()
            .filter(|v| json_fits(v, target));
        if v.is_none() && strict {
            return exec_err!("{name}: cannot cast '{}' to {target}", text.value(i));
        }
        parsed.push(v);
    }
    let refs: Vec<Option<&Value>> = parsed.iter().map(|v| v.as_ref()).collect();
    json_build(&refs, target)
}

/// True when `v` converts to type `t` (JSON null fits every type).
fn json_fits(v: &Value, t: &DataType) -> bool {
    if v.is_null() {
        return true;
    }
    if let Some(e) = element_type(t) {
        return v
            .as_array()
            .is_some_and(|items| items.iter().all(|x| json_fits(x, e)));
    }
    if let Some((k, val)) = types::key_value_types(t) {
        return v.as_object().is_some_and(|o| {
            o.iter().all(|(key, x)| {
                json_scalar(&Value::String(key.clone()), &k).is_some_and(|s| !s.is_null())
                    && json_fits(x, &val)
            })
        });
    }
    json_scalar(v, t).is_some()
}

/// A JSON scalar as a value of scalar type `t`, `None` when it does not convert.
fn json_scalar(v: &Value, t: &DataType) -> Option<ScalarValue> {
    if v.is_null() {
        return ScalarValue::try_from(t).ok();
    }
    let s = match t {
        DataType::Null => ScalarValue::Null,
        t if t.is_integer() => {
            let i = match v {
                Value::Number(n) => match n.as_i64() {
                    Some(i) => i,
                    None => {
                        let f = n.as_f64()?.round();
                        (f.is_finite() && f.abs() < 9.2e18).then_some(f as i64)?
                    }
                },
                Value::String(s) => s.trim().parse().ok()?,
                Value::Bool(b) => i64::from(*b),
                _ => return None,
            };
            ScalarValue::Int64(Some(i)).cast_to(t).ok()?
        }
        DataType::Float64 | DataType::Float32 => {
            let f = match v {
                Value::Number(n) => n.as_f64()?,
                Value::String(s) => s.trim().parse().ok()?,
                Value::Bool(b) => f64::from(u8::from(*b)),
                _ => return None,
            };
            ScalarValue::Float64(Some(f)).cast_to(t).ok()?
        }
        DataType::Boolean => ScalarValue::Boolean(Some(match v {
            Value::Bool(b) => *b,
            Value::Number(n) => n.as_f64()? != 0.0,
            Value::String(s) if s.eq_ignore_ascii_case("true") => true,
            Value::String(s) if s.eq_ignore_ascii_case("false") => false,
            _ => return None,
        })),
        DataType::Utf8View | DataType::Utf8 => {
            let s = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            ScalarValue::Utf8View(Some(s)).cast_to(t).ok()?
        }
        DataType::LargeUtf8 => ScalarValue::LargeUtf8(Some(v.to_string())),
        _ => return None,
    };
    Some(s)
}

/// Builds a column of type `t` from JSON values already checked with [`json_fits`]
/// (`None` and values that do not fit become NULL).
fn json_build(vals: &[Option<&Value>], t: &DataType) -> Result<ArrayRef> {
    if let DataType::List(f) = t {
        let mut items = Vec::new();
        let mut lengths = Vec::with_capacity(vals.len());
        let mut valid = Vec::with_capacity(vals.len());
        for v in vals {
            match v.and_then(|v| v.as_array()) {
                Some(xs) => {
                    items.extend(xs.iter().map(Some));
                    lengths.push(xs.len());
                    valid.push(true);
                }
                None => {
                    lengths.push(0);
                    valid.push(false);
                }
            }
        }
        let child = json_build(&items, f.data_type())?;
        return Ok(Arc::new(ListArray::try_new(
            Arc::clone(f),
            OffsetBuffer::from_lengths(lengths),
            child,
            Some(NullBuffer::from(valid)),
        )?));
    }
    if let DataType::Map(entries, sorted) = t {
        let (DataType::Struct(fields), Some((kt, vt))) =
            (entries.data_type(), types::key_value_types(t))
        else {
            return exec_err!("map type without entries");
        };
        let (kt, vt) = (&kt, &vt);
        let mut keys = Vec::new();
        let mut values = Vec::new();
        let mut lengths = Vec::with_capacity(vals.len());
        let mut valid = Vec::with_capacity(vals.len());
        for v in vals {
            match v.and_then(|v| v.as_object()) {
                Some(o) => {
                    for (k, x) in o {
                        keys.push(Value::String(k.clone()));
                        values.push(Some(x));
                    }
                    lengths.push(o.len());
                    valid.push(true);
                }
                None => {
                    lengths.push(0);
                    valid.push(false);
                }
            }
        }
        let key_refs: Vec<Option<&Value>> = keys.iter().map(Some).collect();
        let entries_array = StructArray::try_new(
            fields.clone(),
            vec![json_build(&key_refs, kt)?, json_build(&values, vt)?],
            None,
        )?;
        return Ok(Arc::new(arrow::array::MapArray::try_new(
            Arc::clone(entries),
            OffsetBuffer::from_lengths(lengths),
            entries_array,
            Some(NullBuffer::from(valid)),
            *sorted,
        )?));
    }
    if vals.is_empty() {
        return Ok(new_empty_array(t));
    }
    let null = ScalarValue::try_from(t)?;
    let scalars = vals.iter().map(|v| {
        v.and_then(|v| json_scalar(v, t))
            .unwrap_or_else(|| null.clone())
    });
    ScalarValue::iter_to_array(scalars)
}

// ---------------------------------------------------------------------------------------------
// Engine-internal UDFs
// ---------------------------------------------------------------------------------------------

fn internal(name: &'static str, op: Op) -> Arc<ScalarUDF> {
    op_udf(name, &[], op, Volatility::Immutable)
}

/// The UDF behind `ARRAY[...]`.
pub(crate) fn constructor() -> Arc<ScalarUDF> {
    internal("array", Op::Construct)
}

/// The UDF behind row constructors `(a, b, ...)`.
pub(crate) fn row_constructor() -> Arc<ScalarUDF> {
    internal("row", Op::Row)
}

/// The UDF behind subscripts `a[i]` / `m[k]` (the same rules as `element_at`).
pub(crate) fn subscript() -> Arc<ScalarUDF> {
    internal("element_at", Op::ElementAt)
}

/// The UDF behind `CAST(json AS ARRAY(...)/MAP(...))`; the target type is given by a typed
/// NULL second argument.
pub(crate) fn json_cast_udf(strict: bool) -> Arc<ScalarUDF> {
    let name = if strict { "cast" } else { "try_cast" };
    internal(name, Op::JsonCast { strict })
}

/// The ARRAY implementation of a function whose library entry is for another type
/// (`concat`, `reverse` of arrays), when the first argument is an ARRAY.
pub(crate) fn overload(name: &str, arg_types: &[DataType]) -> Option<Arc<ScalarUDF>> {
    if arg_types.first().is_none_or(|t| element_type(t).is_none()) {
        return None;
    }
    match name {
        "concat" => Some(internal("concat", Op::Concat)),
        "reverse" => Some(internal("reverse", Op::Reverse)),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Kernels of the higher-order functions
// ---------------------------------------------------------------------------------------------

/// The flattened elements of a list column (only the reachable ones) and, per element, its
/// row number (to repeat captured outer columns per element).
pub(crate) struct Flat {
    pub(crate) values: ArrayRef,
    pub(crate) rows: UInt32Array,
    /// Offsets of each row into `values`.
    pub(crate) offsets: OffsetBuffer<i32>,
}

/// Flattens `l`: NULL rows contribute no elements.
pub(crate) fn flat(l: &ListArray) -> Result<Flat> {
    let mut positions = Vec::new();
    let mut rows = Vec::new();
    let mut lengths = Vec::with_capacity(l.len());
    for i in 0..l.len() {
        let r = range(l, i);
        spend(r.len(), r.len() * 2 * std::mem::size_of::<u32>())?;
        lengths.push(r.len());
        rows.extend(std::iter::repeat_n(idx(i)?, r.len()));
        positions.extend(r.map(idx).collect::<Result<Vec<_>>>()?);
    }
    let values = take(l.values().as_ref(), &UInt32Array::from(positions), None)?;
    spend(0, values.get_array_memory_size())?;
    Ok(Flat {
        values,
        rows: UInt32Array::from(rows),
        offsets: OffsetBuffer::from_lengths(lengths),
    })
}

/// Evaluates `lambda` with `params` (arrays of one length) and captured columns repeated by
/// `rows`.
pub(crate) fn apply(
    lambda: &LambdaArgument,
    params: &[ArrayRef],
    rows: &UInt32Array,
) -> Result<ArrayRef> {
    let n = params.first().map_or(0, |p| p.len());
    let closures: Vec<Box<dyn Fn() -> Result<ArrayRef> + '_>> = params
        .iter()
        .map(|p| Box::new(move || Ok(Arc::clone(p))) as Box<dyn Fn() -> Result<ArrayRef>>)
        .collect();
    let refs: Vec<&dyn Fn() -> Result<ArrayRef>> = closures.iter().map(|c| c.as_ref()).collect();
    let out = lambda.evaluate(&refs, |caps| {
        // Captured columns repeated per element.
        let repeated = take_arrays(caps, rows, None)?;
        spend(0, repeated.iter().map(|a| a.get_array_memory_size()).sum())?;
        Ok(repeated)
    })?;
    let out = materialize(out, n)?;
    spend(n, out.get_array_memory_size())?;
    Ok(out)
}

/// `transform(a, x -> f(x))`.
pub(crate) fn transform(l: &ListArray, f: &LambdaArgument) -> Result<ArrayRef> {
    let flat = flat(l)?;
    let out = apply(f, &[flat.values], &flat.rows)?;
    let field = Arc::new(Field::new_list_field(out.data_type().clone(), true));
    Ok(Arc::new(ListArray::try_new(
        field,
        flat.offsets,
        out,
        l.nulls().cloned(),
    )?))
}

/// The lambda results as booleans (NULL stays NULL).
fn booleans(a: &ArrayRef) -> Result<BooleanArray> {
    Ok(cast(a, &DataType::Boolean)?.as_boolean().clone())
}

/// `filter(a, x -> p(x))`: the elements for which p is true.
pub(crate) fn filter(l: &ListArray, f: &LambdaArgument) -> Result<ArrayRef> {
    let flat = flat(l)?;
    let keep = booleans(&apply(f, &[Arc::clone(&flat.values)], &flat.rows)?)?;
    let mut out = ListOut::with_rows(l.len());
    for (i, w) in flat.offsets.windows(2).enumerate() {
        if l.is_null(i) {
            out.push_null();
            continue;
        }
        let (s, e) = (
            usize::try_from(w[0]).unwrap_or(0),
            usize::try_from(w[1]).unwrap_or(0),
        );
        out.push_row(
            (s..e)
                .filter(|j| keep.is_valid(*j) && keep.value(*j))
                .map(Some),
        )?;
    }
    out.finish(flat.values.as_ref())
}

/// Which of `any_match`, `all_match`, `none_match`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Match {
    Any,
    All,
    None,
}

/// `any_match`/`all_match`/`none_match(a, x -> p(x))` with Presto's NULL rules: a deciding
/// element decides; otherwise NULL when p was NULL for some element.
pub(crate) fn matches(l: &ListArray, f: &LambdaArgument, kind: Match) -> Result<ArrayRef> {
    let flat = flat(l)?;
    let p = booleans(&apply(f, &[Arc::clone(&flat.values)], &flat.rows)?)?;
    let out: BooleanArray = flat
        .offsets
        .windows(2)
        .enumerate()
        .map(|(i, w)| {
            if l.is_null(i) {
                return None;
            }
            let (s, e) = (
                usize::try_from(w[0]).unwrap_or(0),
                usize::try_from(w[1]).unwrap_or(0),
            );
            let mut saw_null = false;
            for j in s..e {
                if p.is_null(j) {
                    saw_null = true;
                    continue;
                }
                match (kind, p.value(j)) {
                    (Match::Any, true) => return Some(true),
                    (Match::All, false) => return Some(false),
                    (Match::None, true) => return Some(false),
                    _ => {}
                }
            }
            (!saw_null).then_some(kind != Match::Any)
        })
        .collect();
    Ok(Arc::new(out))
}

/// `reduce(a, init, (s, x) -> merge, s -> finish)`: the merge lambda runs once per element
/// position over all rows that still have elements there, then finish runs over all rows.
pub(crate) fn reduce(
    l: &ListArray,
    init: ArrayRef,
    merge: &LambdaArgument,
    finish: &LambdaArgument,
) -> Result<ArrayRef> {
    let rows = l.len();
    let values = l.values();
    let lens: Vec<usize> = (0..rows).map(|i| range(l, i).len()).collect();
    let starts: Vec<usize> = (0..rows).map(|i| range(l, i).start).collect();
    // Where each row's final state lives: (piece, position in piece).
    let mut last: Vec<(usize, usize)> = (0..rows).map(|i| (0, i)).collect();
    let mut pieces: Vec<ArrayRef> = vec![Arc::clone(&init)];
    let mut active: Vec<usize> = (0..rows).filter(|&i| lens[i] > 0).collect();
    let mut state = take(init.as_ref(), &to_u32(&active)?, None)?;
    let mut k = 0;
    while !active.is_empty() {
        spend(active.len(), 0)?;
        let elems = take(
            values.as_ref(),
            &UInt32Array::from(
                active
                    .iter()
                    .map(|&r| idx(starts[r] + k))
                    .collect::<Result<Vec<_>>>()?,
            ),
            None,
        )?;
        let mut next = apply(merge, &[state, elems], &to_u32(&active)?)?;
        if next.data_type() != init.data_type() {
            next = cast(&next, init.data_type())?;
        }
        k += 1;
        pieces.push(Arc::clone(&next));
        let piece = pieces.len() - 1;
        let mut keep = Vec::with_capacity(active.len());
        for (pos, &r) in active.iter().enumerate() {
            if lens[r] == k {
                last[r] = (piece, pos);
            } else {
                keep.push(pos);
            }
        }
        state = take(next.as_ref(), &to_u32(&keep)?, None)?;
        active = keep.iter().map(|&p| active[p]).collect();
    }
    let parts: Vec<&dyn Array> = pieces.iter().map(|p| p.as_ref()).collect();
    let finals = interleave(&parts, &last)?;
    let all_rows = to_u32(&(0..rows).collect::<Vec<_>>())?;
    let out = apply(finish, &[finals], &all_rows)?;
    match l.logical_nulls() {
        Some(nulls) => {
            let is_null = BooleanArray::from(nulls.iter().map(|v| !v).collect::<Vec<_>>());
            Ok(arrow::compute::nullif(out.as_ref(), &is_null)?)
        }
        None => Ok(out),
    }
}

fn to_u32(v: &[usize]) -> Result<UInt32Array> {
    Ok(UInt32Array::from(
        v.iter().map(|&j| idx(j)).collect::<Result<Vec<_>>>()?,
    ))
}

/// `zip_with(a, b, (x, y) -> f)`: the shorter array is padded with NULLs.
pub(crate) fn zip_with(a: &ListArray, b: &ListArray, f: &LambdaArgument) -> Result<ArrayRef> {
    let rows = a.len();
    let (mut xa, mut xb, mut owner) = (Vec::new(), Vec::new(), Vec::new());
    let mut out = ListOut::with_rows(rows);
    let mut width = 0;
    for i in 0..rows {
        if a.is_null(i) || b.is_null(i) {
            out.push_null();
            continue;
        }
        let (ra, rb) = (range(a, i), range(b, i));
        let len = ra.len().max(rb.len());
        spend(len, len * 3 * std::mem::size_of::<u32>())?;
        for k in 0..len {
            xa.push((k < ra.len()).then(|| idx(ra.start + k)).transpose()?);
            xb.push((k < rb.len()).then(|| idx(rb.start + k)).transpose()?);
            owner.push(idx(i)?);
        }
        out.push_row((width..width + len).map(Some))?;
        width += len;
    }
    let va = take(a.values().as_ref(), &UInt32Array::from(xa), None)?;
    let vb = take(b.values().as_ref(), &UInt32Array::from(xb), None)?;
    let res = apply(f, &[va, vb], &UInt32Array::from(owner))?;
    out.finish_with(res)
}

/// The [`FieldRef`] of ARRAY(t) elements as the higher-order functions declare them.
pub(crate) fn param_field(t: &DataType) -> FieldRef {
    Arc::new(Field::new("", t.clone(), true))
}

// ---------------------------------------------------------------------------------------------
// Metadata
// ---------------------------------------------------------------------------------------------

fn def(
    name: &'static str,
    op: Op,
    signature: &'static str,
    summary: &'static str,
    examples: &'static [super::Example],
) -> FunctionDef {
    let volatility = if op == Op::Shuffle {
        Volatility::Volatile
    } else {
        Volatility::Immutable
    };
    let udf = op_udf(name, &[], op, volatility);
    function_def(Family::Array, name, &[], signature, summary, examples, udf)
}

/// A library entry for a higher-order function (lowered by [`crate::expr::lambda`]).
fn hof(
    name: &'static str,
    signature: &'static str,
    summary: &'static str,
    examples: &'static [super::Example],
) -> FunctionDef {
    function_def(
        Family::Array,
        name,
        &[],
        signature,
        summary,
        examples,
        super::common::lambda_placeholder(name),
    )
}

/// The functions of this family.
pub fn functions() -> Vec<FunctionDef> {
    vec![
        def(
            "array_average",
            Op::Average,
            "array_average(a ARRAY(T)) -> DOUBLE",
            "The mean of the non-NULL elements of a numeric array; NULL when there are none or a is NULL.",
            &[ex!("array_average(ARRAY[10, 20, 30])", Some("20.0")), ex!("array_average(ARRAY[NULL, 4])", Some("4.0"))],
        ),
        def(
            "array_distinct",
            Op::Distinct,
            "array_distinct(a ARRAY(T)) -> ARRAY(T)",
            "The elements of a without duplicates, in first-seen order (NULL counts as one value). NULL if a is NULL.",
            &[ex!("array_distinct(ARRAY[1, 2, 1, NULL, NULL])", Some("[1,2,null]"))],
        ),
        def(
            "array_except",
            Op::Except,
            "array_except(x ARRAY(T), y ARRAY(T)) -> ARRAY(T)",
            "The distinct elements of x that are not in y, in x's order. NULL if either is NULL.",
            &[ex!("array_except(ARRAY[10, 20, 30], ARRAY[20, 40, 50])", Some("[10,30]"))],
        ),
        def(
            "array_intersect",
            Op::Intersect,
            "array_intersect(x ARRAY(T), y ARRAY(T)) -> ARRAY(T)",
            "The distinct elements in both x and y, in x's order. NULL if either is NULL.",
            &[ex!("array_intersect(ARRAY[10, 20, 30, 20], ARRAY[20, 40, 10])", Some("[10,20]"))],
        ),
        def(
            "array_join",
            Op::Join,
            "array_join(a ARRAY(T), sep VARCHAR[, null_rep VARCHAR]) -> VARCHAR",
            "The elements rendered as text and joined with sep; NULL elements are skipped, or replaced by null_rep when given. NULL if an argument is NULL.",
            &[
                ex!("array_join(ARRAY[1, NULL, 2], ',')", Some("1,2")),
                ex!("array_join(ARRAY[1, NULL, 2], ',', '0')", Some("1,0,2")),
                ex!("array_join(ARRAY[1.5, 2.0], ' ')", Some("1.5 2.0")),
            ],
        ),
        def(
            "array_max",
            Op::Max,
            "array_max(a ARRAY(T)) -> T",
            "The largest element; NULL if a is empty, NULL, or holds a NULL element.",
            &[ex!("array_max(ARRAY[10, 20, 30, 30, 40])", Some("40")), ex!("array_max(ARRAY[1, NULL])", None)],
        ),
        def(
            "array_min",
            Op::Min,
            "array_min(a ARRAY(T)) -> T",
            "The smallest element; NULL if a is empty, NULL, or holds a NULL element.",
            &[ex!("array_min(ARRAY['b', 'a', 'c'])", Some("a"))],
        ),
        def(
            "array_normalize",
            Op::Normalize,
            "array_normalize(a ARRAY(DOUBLE), p DOUBLE) -> ARRAY(DOUBLE)",
            "Each element divided by the array's p-norm (sum of |x|^p)^(1/p); the array unchanged when the norm or p is 0. NULL if an argument or an element is NULL; an error if p is negative.",
            &[ex!("array_normalize(ARRAY[3, 4], 2)", Some("[0.6,0.8]"))],
        ),
        def(
            "array_position",
            Op::Position,
            "array_position(a ARRAY(T), x T[, instance BIGINT]) -> BIGINT",
            "The 1-based position of the instance-th occurrence of x (default the first; negative counts from the end), 0 when absent. NULL if an argument is NULL; an error if instance is 0.",
            &[
                ex!("array_position(ARRAY[1, 3, 2], 3)", Some("2")),
                ex!("array_position(ARRAY[1, 3, 2], 3, 2)", Some("0")),
                ex!("array_position(ARRAY[3, 1, 3], 3, -1)", Some("3")),
            ],
        ),
        def(
            "array_remove",
            Op::Remove,
            "array_remove(a ARRAY(T), x T) -> ARRAY(T)",
            "a without the elements equal to x (NULL elements are kept). NULL if a or x is NULL.",
            &[ex!("array_remove(ARRAY[1, 2, 1, 3], 1)", Some("[2,3]"))],
        ),
        def(
            "array_sort",
            Op::Sort,
            "array_sort(a ARRAY(T)) -> ARRAY(T)",
            "The elements in ascending order with NULLs last. NULL if a is NULL.",
            &[ex!("array_sort(ARRAY[3, NULL, 1, 2])", Some("[1,2,3,null]")), ex!("array_sort(ARRAY['b', 'a'])", Some("[\"a\",\"b\"]"))],
        ),
        def(
            "array_sum",
            Op::Sum,
            "array_sum(a ARRAY(T)) -> BIGINT | DOUBLE",
            "The sum of the non-NULL elements, 0 when there are none: BIGINT for integer arrays (overflow is an error), DOUBLE otherwise. NULL if a is NULL.",
            &[ex!("array_sum(ARRAY[10, 20, NULL, 30])", Some("60")), ex!("array_sum(ARRAY[1.5, 2])", Some("3.5"))],
        ),
        def(
            "array_union",
            Op::Union,
            "array_union(x ARRAY(T), y ARRAY(T)) -> ARRAY(T)",
            "The distinct elements of x and then y, in first-seen order. NULL if either is NULL.",
            &[ex!("array_union(ARRAY[1, 2, 2], ARRAY[3, 1])", Some("[1,2,3]"))],
        ),
        def(
            "arrays_overlap",
            Op::Overlap,
            "arrays_overlap(x ARRAY(T), y ARRAY(T)) -> BOOLEAN",
            "True when x and y share a non-NULL element; NULL when they share none but either holds a NULL; false otherwise.",
            &[
                ex!("arrays_overlap(ARRAY[10, 20, 30], ARRAY[20, 40, 50])", Some("true")),
                ex!("arrays_overlap(ARRAY[1, NULL], ARRAY[2])", None),
            ],
        ),
        def(
            "cardinality",
            Op::Cardinality,
            "cardinality(a ARRAY(T)) -> BIGINT; cardinality(m MAP(K, V)) -> BIGINT",
            "The number of elements of an array or entries of a map. NULL if the argument is NULL.",
            &[
                ex!("cardinality(ARRAY[10, 20, 30, 30, 40])", Some("5")),
                ex!("cardinality(map(ARRAY[1, 3], ARRAY[2, 4]))", Some("2")),
            ],
        ),
        def(
            "combinations",
            Op::Combinations,
            "combinations(a ARRAY(T), n BIGINT) -> ARRAY(ARRAY(T))",
            "The n-element combinations of the array's elements (by position, in order). Empty when n exceeds the length; an error when n is negative or above 5.",
            &[ex!("combinations(ARRAY['cat', 'leopard', 'mouse'], 2)", Some("[[\"cat\",\"leopard\"],[\"cat\",\"mouse\"],[\"leopard\",\"mouse\"]]"))],
        ),
        def(
            "contains",
            Op::Contains,
            "contains(a ARRAY(T), x T) -> BOOLEAN",
            "True when a holds x; NULL when it does not but holds a NULL element, or when a or x is NULL; false otherwise.",
            &[ex!("contains(ARRAY[1, 3, 2], 3)", Some("true")), ex!("contains(ARRAY[1, NULL], 3)", None)],
        ),
        def(
            "element_at",
            Op::ElementAt,
            "element_at(a ARRAY(T), i BIGINT) -> T; element_at(m MAP(K, V), k K) -> V",
            "The i-th element (1-based; negative counts from the end), NULL when out of range; an error when i is 0. For a map, the value of key k, NULL when absent. `a[i]` and `m[k]` are the same.",
            &[
                ex!("element_at(ARRAY['cat', 'leopard', 'mouse'], 2)", Some("leopard")),
                ex!("element_at(ARRAY[1, 2, 3], -1)", Some("3")),
                ex!("element_at(ARRAY[1, 2, 3], 5)", None),
                ex!("element_at(map(ARRAY[1, 3], ARRAY[2, 4]), 3)", Some("4")),
            ],
        ),
        def(
            "flatten",
            Op::Flatten,
            "flatten(a ARRAY(ARRAY(T))) -> ARRAY(T)",
            "The inner arrays' elements in order (NULL inner arrays are skipped). NULL if a is NULL.",
            &[ex!("flatten(ARRAY[ARRAY[1, 2], ARRAY[3]])", Some("[1,2,3]"))],
        ),
        def(
            "sequence",
            Op::Sequence,
            "sequence(start BIGINT, stop BIGINT[, step BIGINT]) -> ARRAY(BIGINT)",
            "The integers from start to stop by step (default 1, or -1 when stop < start). NULL if an argument is NULL; an error when step is 0 or points away from stop, or beyond 10000 elements.",
            &[ex!("sequence(0, 10, 2)", Some("[0,2,4,6,8,10]")), ex!("sequence(3, 1)", Some("[3,2,1]"))],
        ),
        def(
            "shuffle",
            Op::Shuffle,
            "shuffle(a ARRAY(T)) -> ARRAY(T)",
            "The elements in a random order. NULL if a is NULL.",
            &[ex!("shuffle(ARRAY[7])", Some("[7]"))],
        ),
        def(
            "slice",
            Op::Slice,
            "slice(a ARRAY(T), start BIGINT, length BIGINT) -> ARRAY(T)",
            "Up to length elements from position start (1-based; negative counts from the end). NULL if an argument is NULL; an error when start is 0 or length negative.",
            &[ex!("slice(ARRAY[5, 20, NULL, 50], 2, 2)", Some("[20,null]")), ex!("slice(ARRAY[1, 2, 3, 4], -2, 5)", Some("[3,4]"))],
        ),
        def(
            "zip",
            Op::Zip,
            "zip(a1 ARRAY(T1), a2 ARRAY(T2), ...) -> ARRAY(ROW(T1, T2, ...))",
            "The arrays merged element-wise into rows (rendered as JSON arrays); shorter arrays are padded with NULL. NULL if an argument is NULL.",
            &[ex!("zip(ARRAY[1, 2], ARRAY['1b', NULL, '3b'])", Some("[[1,\"1b\"],[2,null],[null,\"3b\"]]"))],
        ),
        hof(
            "transform",
            "transform(a ARRAY(T), x -> U) -> ARRAY(U)",
            "The lambda applied to each element. NULL if a is NULL.",
            &[
                ex!("transform(ARRAY[5, NULL, 6], x -> COALESCE(x, 0) + 1)", Some("[6,1,7]")),
                ex!("transform(ARRAY['a', 'b'], x -> upper(x))", Some("[\"A\",\"B\"]")),
            ],
        ),
        hof(
            "filter",
            "filter(a ARRAY(T), x -> BOOLEAN) -> ARRAY(T)",
            "The elements for which the lambda is true. NULL if a is NULL.",
            &[ex!("filter(ARRAY['cat', NULL, 'leopard', 'mouse'], x -> x IS NOT NULL)", Some("[\"cat\",\"leopard\",\"mouse\"]"))],
        ),
        hof(
            "reduce",
            "reduce(a ARRAY(T), init S, (s, x) -> S, s -> R) -> R",
            "Folds the elements into a state starting at init, then applies the finishing lambda. NULL if a is NULL.",
            &[ex!("reduce(ARRAY[5, 20, NULL, 50], 0, (s, x) -> IF(x IS NULL, s, s + x), s -> s)", Some("75"))],
        ),
        hof(
            "all_match",
            "all_match(a ARRAY(T), x -> BOOLEAN) -> BOOLEAN",
            "True when the lambda is true for every element (and for an empty array); false when it is false for one; otherwise NULL.",
            &[ex!("all_match(ARRAY[1, 3, 5], x -> x > 3)", Some("false")), ex!("all_match(ARRAY[4, 5], x -> x > 3)", Some("true"))],
        ),
        hof(
            "any_match",
            "any_match(a ARRAY(T), x -> BOOLEAN) -> BOOLEAN",
            "True when the lambda is true for some element; false when it is false for all (and for an empty array); otherwise NULL.",
            &[ex!("any_match(ARRAY[1, 3, 5], x -> x > 3)", Some("true"))],
        ),
        hof(
            "none_match",
            "none_match(a ARRAY(T), x -> BOOLEAN) -> BOOLEAN",
            "True when the lambda is true for no element (and for an empty array); false when it is true for one; otherwise NULL.",
            &[ex!("none_match(ARRAY[1, 3, 5], x -> x > 3)", Some("false"))],
        ),
        hof(
            "zip_with",
            "zip_with(a ARRAY(T), b ARRAY(U), (x, y) -> R) -> ARRAY(R)",
            "The lambda applied to the elements of a and b pairwise; the shorter array is padded with NULL. NULL if a or b is NULL.",
            &[
                ex!("zip_with(ARRAY[1, 3, 5], ARRAY['a', 'b', 'c'], (x, y) -> (y, x))", Some("[[\"a\",1],[\"b\",3],[\"c\",5]]")),
                ex!("zip_with(ARRAY[1, 2], ARRAY[10, 20, 30], (x, y) -> x + y)", Some("[11,22,null]")),
            ],
        ),
        function_def(
            Family::Other,
            "empty_approx_set",
            &[],
            "empty_approx_set() -> HYPERLOGLOG",
            "An empty HyperLogLog sketch (VARBINARY in Presto's sparse serialisation, standard error 2.3%). No approx_set function exists to combine it with.",
            &[ex!("empty_approx_set()", Some("AgsAAA=="))],
            internal("empty_approx_set", Op::EmptyApproxSet),
        ),
    ]
}

/// `element_at(m, k)` / `m[k]`: the value of key k, NULL when absent.
fn map_element_at(name: &str, a: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let Some(m) = a[0].as_map_opt() else {
        return exec_err!("{name}: expected a MAP, got {}", a[0].data_type());
    };
    let key = if a[1].data_type() == m.keys().data_type() {
        Arc::clone(&a[1])
    } else {
        cast(&a[1], m.keys().data_type())?
    };
    let converter = RowConverter::new(vec![SortField::new(m.keys().data_type().clone())])?;
    let map_rows = converter.convert_columns(&[Arc::clone(m.keys())])?;
    let key_rows = converter.convert_columns(&[Arc::clone(&key)])?;
    let mut picks = Vec::with_capacity(rows);
    for i in 0..rows {
        let found = if key.is_null(i) {
            None
        } else {
            types::map_entries(m, i).find(|j| map_rows.row(*j) == key_rows.row(i))
        };
        picks.push(found.map(idx).transpose()?);
    }
    Ok(take(m.values().as_ref(), &UInt32Array::from(picks), None)?)
}

#[cfg(test)]
mod tests {
    use arrow::array::{Int64Array, ListArray};
    use arrow::datatypes::Int64Type;

    use super::super::testing::{invoke_arrays, udf_of};
    use super::*;

    fn ints(rows: &[Option<&[Option<i64>]>]) -> ArrayRef {
        Arc::new(ListArray::from_iter_primitive::<Int64Type, _, _>(
            rows.iter().map(|r| r.map(|v| v.to_vec())),
        ))
    }

    fn scalars(v: &[Option<i64>]) -> ArrayRef {
        Arc::new(Int64Array::from(v.to_vec()))
    }

    fn run(name: &str, args: Vec<ArrayRef>) -> Result<Vec<Option<String>>> {
        let out = invoke_arrays(&udf_of(&functions(), name), args)?;
        let r = Renderer::default();
        Ok((0..out.len()).map(|i| r.text(out.as_ref(), i)).collect())
    }

    fn texts(v: &[Option<&str>]) -> Vec<Option<String>> {
        v.iter().map(|s| s.map(str::to_string)).collect()
    }

    #[test]
    fn contains_follows_presto_null_rules() {
        let a = ints(&[
            Some(&[Some(1), Some(2)]),
            Some(&[Some(1), None]),
            Some(&[Some(3), None]),
            None,
            Some(&[]),
        ]);
        let x = scalars(&[Some(2), Some(2), Some(3), Some(1), None]);
        assert_eq!(
            run("contains", vec![a, x]).unwrap(),
            texts(&[Some("true"), None, Some("true"), None, None])
        );
    }

    #[test]
    fn element_at_counts_from_both_ends_and_rejects_zero() {
        let a = ints(&[Some(&[Some(1), Some(2), Some(3)][..]); 4]);
        let i = scalars(&[Some(1), Some(-1), Some(4), Some(-4)]);
        assert_eq!(
            run("element_at", vec![Arc::clone(&a), i]).unwrap(),
            texts(&[Some("1"), Some("3"), None, None])
        );
        let zero = scalars(&[Some(1), Some(0), Some(1), Some(1)]);
        let err = run("element_at", vec![a, zero]).unwrap_err().to_string();
        assert!(err.contains("indices start at 1"), "{err}");
    }

    #[test]
    fn position_finds_instances_from_either_end() {
        let a = ints(&[Some(&[Some(3), Some(1), Some(3), None][..]); 4]);
        let x = scalars(&[Some(3); 4]);
        let inst = scalars(&[Some(1), Some(2), Some(-1), Some(3)]);
        assert_eq!(
            run("array_position", vec![Arc::clone(&a), Arc::clone(&x), inst]).unwrap(),
            texts(&[Some("1"), Some("3"), Some("3"), Some("0")])
        );
        let err = run("array_position", vec![a, x, scalars(&[Some(0); 4])]).unwrap_err();
        assert!(err.to_string().contains("invalid instance"));
    }

    #[test]
    fn sort_distinct_and_set_operations_treat_null_as_a_value() {
        let a = ints(&[Some(&[Some(3), None, Some(1), Some(3), None]), None]);
        assert_eq!(
            run("array_sort", vec![Arc::clone(&a)]).unwrap(),
            texts(&[Some("[1,3,3,null,null]"), None])
        );
        assert_eq!(
            run("array_distinct", vec![Arc::clone(&a)]).unwrap(),
            texts(&[Some("[3,null,1]"), None])
        );
        let b = ints(&[Some(&[None, Some(1), Some(7)]), Some(&[Some(1)])]);
        assert_eq!(
            run("array_intersect", vec![Arc::clone(&a), Arc::clone(&b)]).unwrap(),
            texts(&[Some("[null,1]"), None])
        );
        assert_eq!(
            run("array_except", vec![Arc::clone(&a), Arc::clone(&b)]).unwrap(),
            texts(&[Some("[3]"), None])
        );
        assert_eq!(
            run("array_union", vec![a, b]).unwrap(),
            texts(&[Some("[3,null,1,7]"), None])
        );
    }

    #[test]
    fn max_and_min_are_null_with_a_null_element_or_when_empty() {
        let a = ints(&[Some(&[Some(3), Some(9)]), Some(&[Some(3), None]), Some(&[])]);
        assert_eq!(
            run("array_max", vec![Arc::clone(&a)]).unwrap(),
            texts(&[Some("9"), None, None])
        );
        assert_eq!(
            run("array_min", vec![a]).unwrap(),
            texts(&[Some("3"), None, None])
        );
    }

    #[test]
    fn sum_overflow_is_an_error_and_empty_sums_to_zero() {
        let a = ints(&[Some(&[]), Some(&[None])]);
        assert_eq!(
            run("array_sum", vec![a]).unwrap(),
            texts(&[Some("0"), Some("0")])
        );
        let big = ints(&[Some(&[Some(i64::MAX), Some(1)])]);
        assert!(run("array_sum", vec![big])
            .unwrap_err()
            .to_string()
            .contains("overflow"));
        let avg = ints(&[Some(&[None]), Some(&[Some(1), Some(2)])]);
        let avg = cast(&avg, &list_of(DataType::Float64)).unwrap();
        assert_eq!(
            run("array_average", vec![avg]).unwrap(),
            texts(&[None, Some("1.5")])
        );
    }

    #[test]
    fn sequence_checks_step_direction_and_size() {
        let s = |a: i64, b: i64, c: Option<i64>| {
            let mut args = vec![scalars(&[Some(a)]), scalars(&[Some(b)])];
            if let Some(c) = c {
                args.push(scalars(&[Some(c)]));
            }
            run("sequence", args).map(|v| v[0].clone())
        };
        assert_eq!(s(1, 3, None).unwrap().as_deref(), Some("[1,2,3]"));
        assert_eq!(s(3, 1, None).unwrap().as_deref(), Some("[3,2,1]"));
        assert_eq!(s(5, 5, Some(-2)).unwrap().as_deref(), Some("[5]"));
        assert!(s(1, 3, Some(0)).is_err());
        assert!(s(1, 3, Some(-1)).is_err());
        assert!(s(0, 10_000, None)
            .unwrap_err()
            .to_string()
            .contains("10000"));
        assert!(s(i64::MIN, i64::MAX, Some(i64::MAX)).is_ok());
        assert!(s(i64::MIN, i64::MAX, None).is_err());
    }

    #[test]
    fn slice_handles_negative_starts_and_rejects_zero() {
        let a = ints(&[Some(&[Some(1), Some(2), Some(3), Some(4)][..]); 4]);
        let start = scalars(&[Some(2), Some(-3), Some(9), Some(-9)]);
        let len = scalars(&[Some(2), Some(10), Some(1), Some(1)]);
        assert_eq!(
            run("slice", vec![Arc::clone(&a), start, Arc::clone(&len)]).unwrap(),
            texts(&[Some("[2,3]"), Some("[2,3,4]"), Some("[]"), Some("[]")])
        );
        assert!(run("slice", vec![a, scalars(&[Some(0); 4]), len]).is_err());
    }

    #[test]
    fn combinations_are_capped() {
        let a = ints(&[Some(&[Some(1), Some(2), Some(3)])]);
        let n = |k: i64| scalars(&[Some(k)]);
        assert_eq!(
            run("combinations", vec![Arc::clone(&a), n(2)]).unwrap(),
            texts(&[Some("[[1,2],[1,3],[2,3]]")])
        );
        assert_eq!(
            run("combinations", vec![Arc::clone(&a), n(0)]).unwrap(),
            texts(&[Some("[[]]")])
        );
        assert_eq!(
            run("combinations", vec![Arc::clone(&a), n(4)]).unwrap(),
            texts(&[Some("[]")])
        );
        assert!(run("combinations", vec![Arc::clone(&a), n(6)]).is_err());
        assert!(run("combinations", vec![a, n(-1)]).is_err());
        let many: Vec<Option<i64>> = (0..2000).map(Some).collect();
        let big = ints(&[Some(&many)]);
        assert!(run("combinations", vec![big, n(5)])
            .unwrap_err()
            .to_string()
            .contains("too many"));
    }

    #[test]
    fn flatten_skips_null_inner_arrays() {
        let inner = ints(&[Some(&[Some(1)]), None, Some(&[Some(2), None])]);
        let outer = ListArray::try_new(
            Arc::new(Field::new_list_field(inner.data_type().clone(), true)),
            OffsetBuffer::from_lengths([3]),
            inner,
            None,
        )
        .unwrap();
        assert_eq!(
            run("flatten", vec![Arc::new(outer)]).unwrap(),
            texts(&[Some("[1,2,null]")])
        );
    }

    #[test]
    fn json_cast_reads_arrays_and_maps() {
        let t = |text: &str, to: &DataType, strict: bool| {
            let a: ArrayRef = Arc::new(LargeStringArray::from(vec![text]));
            json_cast("cast", &[a], 1, to, strict)
                .map(|out| Renderer::default().text(out.as_ref(), 0))
        };
        let bigints = list_of(DataType::Int64);
        assert_eq!(
            t("[1, 2.5, \"3\", null]", &bigints, true)
                .unwrap()
                .as_deref(),
            Some("[1,3,3,null]")
        );
        assert!(t("[1, \"x\"]", &bigints, true).is_err());
        assert_eq!(t("[1, \"x\"]", &bigints, false).unwrap(), None);
        assert_eq!(t("{\"a\": 1}", &bigints, false).unwrap(), None);
        let texts_t = list_of(types::VARCHAR);
        assert_eq!(
            t("[\"a\", 1, true, {\"x\": [1]}]", &texts_t, true)
                .unwrap()
                .as_deref(),
            Some("[\"a\",\"1\",\"true\",\"{\\\"x\\\":[1]}\"]")
        );
        let m = types::map_type(types::VARCHAR, list_of(DataType::Int64));
        assert_eq!(
            t("{\"a\": [1], \"b\": []}", &m, true).unwrap().as_deref(),
            Some("{\"a\":[1],\"b\":[]}")
        );
        assert!(t("not json", &m, true).is_err());
    }
}
