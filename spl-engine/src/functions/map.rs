//! MAP functions (spec §7.10) with Presto semantics: `map(keys, values)` rejects NULL and
//! duplicate keys, `element_at`/`m[k]` give NULL for an absent key, `map_concat` lets the last
//! map win. Maps keep their entries in insertion order and render as JSON objects (§18.4).
//!
//! The higher-order map functions (`map_filter`, `transform_keys`, `transform_values`,
//! `map_zip_with`) are lowered by [`crate::expr::lambda`]; their kernels are here.
use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{
    new_empty_array, Array, ArrayRef, AsArray, BooleanArray, ListArray, MapArray, StructArray,
    UInt32Array,
};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::compute::{cast, concat, filter_record_batch, take};
use arrow::datatypes::{DataType, Field, Fields};
use arrow::record_batch::RecordBatch;
use arrow::row::{RowConverter, SortField};
use datafusion_common::{exec_err, plan_err, Result};
use datafusion_expr::{ColumnarValue, LambdaArgument, ScalarFunctionArgs, Volatility};

use super::array::{apply, coerce_list, common_type, element_type, idx, list_arg, list_of, range};
use super::common::{ex, function_def, invoke_rowwise, op_udf, UdfOp};
use super::{Family, FunctionDef};
use crate::types;

pub(crate) use crate::types::{key_value_types, map_entries as entries, map_type};

/// The MAP type an argument is coerced to (NULL becomes MAP(VARCHAR, VARCHAR)).
pub(crate) fn coerce_map(name: &str, pos: usize, t: &DataType) -> Result<DataType> {
    match (key_value_types(t), t) {
        (Some((k, v)), _) => Ok(map_type(k, v)),
        (None, DataType::Null) => Ok(map_type(types::VARCHAR, types::VARCHAR)),
        _ => plan_err!("{name}: argument {} must be a MAP, got {t}", pos + 1),
    }
}

/// A map column from `keys`/`values` children and per-row entry counts.
pub(crate) fn build_map(
    keys: ArrayRef,
    values: ArrayRef,
    lengths: Vec<usize>,
    valid: Vec<bool>,
) -> Result<ArrayRef> {
    let DataType::Map(entries_field, _) =
        map_type(keys.data_type().clone(), values.data_type().clone())
    else {
        return exec_err!("map: bad map type");
    };
    let DataType::Struct(fields) = entries_field.data_type() else {
        return exec_err!("map: bad entries type");
    };
    let entries = StructArray::try_new(fields.clone(), vec![keys, values], None)?;
    let nulls = if valid.iter().all(|v| *v) {
        None
    } else {
        Some(NullBuffer::from(valid))
    };
    Ok(Arc::new(MapArray::try_new(
        entries_field,
        OffsetBuffer::from_lengths(lengths),
        entries,
        nulls,
        false,
    )?))
}

fn map_arg<'a>(name: &str, a: &'a ArrayRef) -> Result<&'a MapArray> {
    match a.as_map_opt() {
        Some(m) => Ok(m),
        None => exec_err!("{name}: expected a MAP, got {}", a.data_type()),
    }
}

/// Takes the entries at `positions` from `keys`/`values`.
fn take_entries(
    keys: &ArrayRef,
    values: &ArrayRef,
    positions: Vec<u32>,
) -> Result<(ArrayRef, ArrayRef)> {
    let positions = UInt32Array::from(positions);
    Ok((
        take(keys.as_ref(), &positions, None)?,
        take(values.as_ref(), &positions, None)?,
    ))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Op {
    Map,
    Keys,
    Values,
    Entries,
    FromEntries,
    Concat,
}

impl UdfOp for Op {
    fn coerce(self, name: &str, t: &[DataType]) -> Result<Vec<DataType>> {
        let n = t.len();
        match self {
            Op::Map => match n {
                0 => Ok(vec![]),
                2 => Ok(vec![
                    coerce_list(name, 0, &t[0])?,
                    coerce_list(name, 1, &t[1])?,
                ]),
                _ => plan_err!("{name}: expected 0 or 2 arguments, got {n}"),
            },
            Op::Keys | Op::Values | Op::Entries => {
                if n != 1 {
                    return plan_err!("{name}: expected 1 argument, got {n}");
                }
                Ok(vec![coerce_map(name, 0, &t[0])?])
            }
            Op::FromEntries => {
                if n != 1 {
                    return plan_err!("{name}: expected 1 argument, got {n}");
                }
                Ok(vec![coerce_entries(name, &t[0])?])
            }
            Op::Concat => {
                if n == 0 {
                    return plan_err!("{name}: expected at least 1 argument");
                }
                let maps = (0..n)
                    .map(|i| coerce_map(name, i, &t[i]))
                    .collect::<Result<Vec<_>>>()?;
                let mut acc = maps[0].clone();
                for m in &maps[1..] {
                    match common_type(&acc, m) {
                        Some(c) => acc = c,
                        None => return plan_err!("{name}: the maps have incompatible types"),
                    }
                }
                Ok(vec![acc; n])
            }
        }
    }

    fn return_type(self, name: &str, t: &[DataType]) -> Result<DataType> {
        let kv = || {
            t.first()
                .and_then(key_value_types)
                .unwrap_or((types::VARCHAR, types::VARCHAR))
        };
        Ok(match self {
            Op::Map => match t {
                [] => map_type(types::VARCHAR, types::VARCHAR),
                [k, v] => {
                    let elem = |x: &DataType| element_type(x).cloned().unwrap_or(DataType::Null);
                    map_type(elem(k), elem(v))
                }
                _ => return plan_err!("{name}: expected 0 or 2 arguments"),
            },
            Op::Keys => list_of(kv().0),
            Op::Values => list_of(kv().1),
            Op::Entries => {
                let (k, v) = kv();
                list_of(DataType::Struct(Fields::from(vec![
                    Field::new("key", k, true),
                    Field::new("value", v, true),
                ])))
            }
            Op::FromEntries => match t.first().and_then(entry_types) {
                Some((k, v)) => map_type(k, v),
                None => map_type(types::VARCHAR, types::VARCHAR),
            },
            Op::Concat => t.first().cloned().unwrap_or(DataType::Null),
        })
    }

    fn invoke(self, name: &str, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let target = args.return_field.data_type().clone();
        invoke_rowwise(&args, |a, rows| match self {
            Op::Map if a.is_empty() => {
                let (k, v) = key_value_types(&target).unwrap_or((types::VARCHAR, types::VARCHAR));
                build_map(
                    new_empty_array(&k),
                    new_empty_array(&v),
                    vec![0; rows],
                    vec![true; rows],
                )
            }
            Op::Map => from_arrays(name, a, rows),
            Op::Keys | Op::Values => {
                let m = map_arg(name, &a[0])?;
                let part = if self == Op::Keys {
                    m.keys()
                } else {
                    m.values()
                };
                let field = Arc::new(Field::new_list_field(part.data_type().clone(), true));
                Ok(Arc::new(ListArray::try_new(
                    field,
                    m.offsets().clone(),
                    Arc::clone(part),
                    m.nulls().cloned(),
                )?))
            }
            Op::Entries => {
                let m = map_arg(name, &a[0])?;
                let DataType::List(field) = &target else {
                    return exec_err!("{name}: bad return type");
                };
                let DataType::Struct(fields) = field.data_type() else {
                    return exec_err!("{name}: bad return type");
                };
                let rows_of = StructArray::try_new(
                    fields.clone(),
                    vec![Arc::clone(m.keys()), Arc::clone(m.values())],
                    None,
                )?;
                Ok(Arc::new(ListArray::try_new(
                    Arc::clone(field),
                    m.offsets().clone(),
                    Arc::new(rows_of),
                    m.nulls().cloned(),
                )?))
            }
            Op::FromEntries => from_entries(name, &a[0], rows),
            Op::Concat => concat_maps(name, a, rows),
        })
    }
}

/// The key and value types of an ARRAY(ROW(K, V)).
fn entry_types(t: &DataType) -> Option<(DataType, DataType)> {
    let DataType::List(f) = t else {
        return None;
    };
    match f.data_type() {
        DataType::Struct(fields) if fields.len() == 2 => {
            Some((fields[0].data_type().clone(), fields[1].data_type().clone()))
        }
        _ => None,
    }
}

/// The argument of `map_from_entries`: an ARRAY(ROW(K, V)) (NULL reads as an empty-typed one).
fn coerce_entries(name: &str, t: &DataType) -> Result<DataType> {
    match t {
        DataType::Null => Ok(list_of(DataType::Struct(Fields::from(vec![
            Field::new("key", types::VARCHAR, true),
            Field::new("value", types::VARCHAR, true),
        ])))),
        DataType::List(_) if entry_types(t).is_some() => Ok(t.clone()),
        DataType::LargeList(f) | DataType::FixedSizeList(f, _)
            if entry_types(&DataType::List(Arc::clone(f))).is_some() =>
        {
            Ok(DataType::List(Arc::clone(f)))
        }
        _ => plan_err!("{name}: expected an ARRAY of ROW(key, value) entries, got {t}"),
    }
}

/// `map_from_entries(entries)`: an error on a NULL entry, a NULL key or a duplicate key, as in
/// Presto. NULL if the array is NULL.
fn from_entries(name: &str, a: &ArrayRef, rows: usize) -> Result<ArrayRef> {
    let list = list_arg(name, a)?;
    let Some(entries) = list.values().as_struct_opt() else {
        return exec_err!(
            "{name}: expected ROW entries, got {}",
            list.values().data_type()
        );
    };
    let (keys, values) = (entries.column(0), entries.column(1));
    let converter = RowConverter::new(vec![SortField::new(keys.data_type().clone())])?;
    let key_rows = converter.convert_columns(&[Arc::clone(keys)])?;
    // Logical nulls: a key column of type NULL has no null buffer.
    let key_nulls = keys.logical_nulls();
    let mut positions = Vec::new();
    let (mut lengths, mut valid) = (Vec::with_capacity(rows), Vec::with_capacity(rows));
    for i in 0..rows {
        if list.is_null(i) {
            lengths.push(0);
            valid.push(false);
            continue;
        }
        let r = range(list, i);
        let mut seen = std::collections::HashSet::new();
        for j in r.clone() {
            if entries.is_null(j) {
                return exec_err!("{name}: map entry cannot be NULL");
            }
            if key_nulls.as_ref().is_some_and(|n| n.is_null(j)) {
                return exec_err!("{name}: map key cannot be NULL");
            }
            if !seen.insert(key_rows.row(j)) {
                return exec_err!("{name}: duplicate map keys are not allowed");
            }
            positions.push(idx(j)?);
        }
        lengths.push(r.len());
        valid.push(true);
    }
    let (k, v) = take_entries(keys, values, positions)?;
    build_map(k, v, lengths, valid)
}

/// `map(keys, values)`: an error on NULL or duplicate keys or different lengths.
fn from_arrays(name: &str, a: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let (k, v) = (list_arg(name, &a[0])?, list_arg(name, &a[1])?);
    let converter = RowConverter::new(vec![SortField::new(k.values().data_type().clone())])?;
    let key_rows = converter.convert_columns(&[Arc::clone(k.values())])?;
    let (mut kp, mut vp) = (Vec::new(), Vec::new());
    let (mut lengths, mut valid) = (Vec::with_capacity(rows), Vec::with_capacity(rows));
    for i in 0..rows {
        if k.is_null(i) || v.is_null(i) {
            lengths.push(0);
            valid.push(false);
            continue;
        }
        let (rk, rv) = (range(k, i), range(v, i));
        if rk.len() != rv.len() {
            return exec_err!("{name}: key and value arrays must have the same length");
        }
        let mut seen = std::collections::HashSet::new();
        for (kj, vj) in rk.clone().zip(rv) {
            if k.values().is_null(kj) {
                return exec_err!("{name}: map key cannot be NULL");
            }
            if !seen.insert(key_rows.row(kj)) {
                return exec_err!("{name}: duplicate map keys are not allowed");
            }
            kp.push(idx(kj)?);
            vp.push(idx(vj)?);
        }
        lengths.push(rk.len());
        valid.push(true);
    }
    let keys = take(k.values().as_ref(), &UInt32Array::from(kp), None)?;
    let values = take(v.values().as_ref(), &UInt32Array::from(vp), None)?;
    build_map(keys, values, lengths, valid)
}

/// `map_concat(m1, m2, ...)`: the union of the maps; for a key in several maps the last value
/// wins (at the key's first position). NULL if any map is NULL.
fn concat_maps(name: &str, a: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let maps = a
        .iter()
        .map(|x| map_arg(name, x))
        .collect::<Result<Vec<_>>>()?;
    let keys: Vec<&dyn Array> = maps.iter().map(|m| m.keys().as_ref()).collect();
    let values: Vec<&dyn Array> = maps.iter().map(|m| m.values().as_ref()).collect();
    let (all_keys, all_values) = (concat(&keys)?, concat(&values)?);
    let converter = RowConverter::new(vec![SortField::new(all_keys.data_type().clone())])?;
    let key_rows = converter.convert_columns(&[Arc::clone(&all_keys)])?;
    let mut shifts = Vec::with_capacity(maps.len());
    let mut total = 0;
    for m in &maps {
        shifts.push(total);
        total += m.keys().len();
    }
    let (mut kp, mut vp) = (Vec::new(), Vec::new());
    let (mut lengths, mut valid) = (Vec::with_capacity(rows), Vec::with_capacity(rows));
    for i in 0..rows {
        if maps.iter().any(|m| m.is_null(i)) {
            lengths.push(0);
            valid.push(false);
            continue;
        }
        let before = kp.len();
        let mut slot = HashMap::new();
        for (m, s) in maps.iter().zip(&shifts) {
            for j in entries(m, i) {
                let at = s + j;
                match slot.get(&key_rows.row(at)) {
                    Some(&p) => vp[p] = idx(at)?,
                    None => {
                        slot.insert(key_rows.row(at), kp.len());
                        kp.push(idx(at)?);
                        vp.push(idx(at)?);
                    }
                }
            }
        }
        lengths.push(kp.len() - before);
        valid.push(true);
    }
    let keys = take(all_keys.as_ref(), &UInt32Array::from(kp), None)?;
    let values = take(all_values.as_ref(), &UInt32Array::from(vp), None)?;
    build_map(keys, values, lengths, valid)
}

// ---------------------------------------------------------------------------------------------
// Kernels of the higher-order map functions
// ---------------------------------------------------------------------------------------------

/// The reachable entries of `m` flattened, with each entry's row and the new per-row lengths.
struct FlatMap {
    keys: ArrayRef,
    values: ArrayRef,
    rows: UInt32Array,
    lengths: Vec<usize>,
}

fn flat_map(m: &MapArray) -> Result<FlatMap> {
    let mut positions = Vec::new();
    let mut rows = Vec::new();
    let mut lengths = Vec::with_capacity(m.len());
    for i in 0..m.len() {
        let r = entries(m, i);
        lengths.push(r.len());
        for j in r {
            positions.push(idx(j)?);
            rows.push(idx(i)?);
        }
    }
    let (keys, values) = take_entries(m.keys(), m.values(), positions)?;
    Ok(FlatMap {
        keys,
        values,
        rows: UInt32Array::from(rows),
        lengths,
    })
}

fn validity(m: &MapArray) -> Vec<bool> {
    (0..m.len()).map(|i| m.is_valid(i)).collect()
}

/// `map_filter(m, (k, v) -> p)`: the entries for which p is true.
pub(crate) fn map_filter(m: &MapArray, f: &LambdaArgument) -> Result<ArrayRef> {
    let flat = flat_map(m)?;
    let p = apply(
        f,
        &[Arc::clone(&flat.keys), Arc::clone(&flat.values)],
        &flat.rows,
    )?;
    let p = cast(&p, &DataType::Boolean)?;
    let keep: BooleanArray = p
        .as_boolean()
        .iter()
        .map(|b| Some(b.unwrap_or(false)))
        .collect();
    let mut lengths = Vec::with_capacity(m.len());
    let mut at = 0;
    for n in &flat.lengths {
        lengths.push((at..at + n).filter(|j| keep.value(*j)).count());
        at += n;
    }
    let batch = RecordBatch::try_from_iter(vec![("k", flat.keys), ("v", flat.values)])?;
    let kept = filter_record_batch(&batch, &keep)?;
    build_map(
        Arc::clone(kept.column(0)),
        Arc::clone(kept.column(1)),
        lengths,
        validity(m),
    )
}

/// `transform_values(m, (k, v) -> f)`.
pub(crate) fn transform_values(m: &MapArray, f: &LambdaArgument) -> Result<ArrayRef> {
    let flat = flat_map(m)?;
    let out = apply(f, &[Arc::clone(&flat.keys), flat.values], &flat.rows)?;
    build_map(flat.keys, out, flat.lengths, validity(m))
}

/// `transform_keys(m, (k, v) -> f)`: an error when a new key is NULL or repeats in a map.
pub(crate) fn transform_keys(m: &MapArray, f: &LambdaArgument) -> Result<ArrayRef> {
    let flat = flat_map(m)?;
    let out = apply(f, &[flat.keys, Arc::clone(&flat.values)], &flat.rows)?;
    if out.null_count() > 0 {
        return exec_err!("transform_keys: map key cannot be NULL");
    }
    let converter = RowConverter::new(vec![SortField::new(out.data_type().clone())])?;
    let rows = converter.convert_columns(&[Arc::clone(&out)])?;
    let mut at = 0;
    for n in &flat.lengths {
        let mut seen = std::collections::HashSet::new();
        for j in at..at + n {
            if !seen.insert(rows.row(j)) {
                return exec_err!("transform_keys: duplicate map keys are not allowed");
            }
        }
        at += n;
    }
    build_map(out, flat.values, flat.lengths, validity(m))
}

/// `map_zip_with(m1, m2, (k, v1, v2) -> f)`: over the union of the keys (m1's first), with
/// NULL for a key missing from one map. NULL if either map is NULL.
pub(crate) fn map_zip_with(a: &MapArray, b: &MapArray, f: &LambdaArgument) -> Result<ArrayRef> {
    let all_keys = concat(&[a.keys().as_ref(), b.keys().as_ref()])?;
    let converter = RowConverter::new(vec![SortField::new(all_keys.data_type().clone())])?;
    let key_rows = converter.convert_columns(&[Arc::clone(&all_keys)])?;
    let shift = a.keys().len();
    let (mut kp, mut p1, mut p2, mut owner) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut lengths, mut valid) = (Vec::with_capacity(a.len()), Vec::with_capacity(a.len()));
    for i in 0..a.len() {
        if a.is_null(i) || b.is_null(i) {
            lengths.push(0);
            valid.push(false);
            continue;
        }
        let before = kp.len();
        let mut slot = HashMap::new();
        for j in entries(a, i) {
            slot.insert(key_rows.row(j), kp.len());
            kp.push(idx(j)?);
            p1.push(Some(idx(j)?));
            p2.push(None);
            owner.push(idx(i)?);
        }
        for j in entries(b, i) {
            match slot.get(&key_rows.row(shift + j)) {
                Some(&p) => p2[p] = Some(idx(j)?),
                None => {
                    kp.push(idx(shift + j)?);
                    p1.push(None);
                    p2.push(Some(idx(j)?));
                    owner.push(idx(i)?);
                }
            }
        }
        lengths.push(kp.len() - before);
        valid.push(true);
    }
    let keys = take(all_keys.as_ref(), &UInt32Array::from(kp), None)?;
    let v1 = take(a.values().as_ref(), &UInt32Array::from(p1), None)?;
    let v2 = take(b.values().as_ref(), &UInt32Array::from(p2), None)?;
    let out = apply(f, &[Arc::clone(&keys), v1, v2], &UInt32Array::from(owner))?;
    build_map(keys, out, lengths, valid)
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
    let udf = op_udf(name, &[], op, Volatility::Immutable);
    function_def(Family::Map, name, &[], signature, summary, examples, udf)
}

fn hof(
    name: &'static str,
    signature: &'static str,
    summary: &'static str,
    examples: &'static [super::Example],
) -> FunctionDef {
    function_def(
        Family::Map,
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
            "map",
            Op::Map,
            "map() -> MAP; map(keys ARRAY(K), values ARRAY(V)) -> MAP(K, V)",
            "A map from the keys to the values, pairwise. NULL if an argument is NULL; an error when the arrays differ in length or a key is NULL or repeated.",
            &[
                ex!("map(ARRAY[1, 3], ARRAY[2, 4])", Some("{\"1\":2,\"3\":4}")),
                ex!("map()", Some("{}")),
            ],
        ),
        def(
            "map_concat",
            Op::Concat,
            "map_concat(m1 MAP(K, V), m2 MAP(K, V), ...) -> MAP(K, V)",
            "The union of the maps; when a key is in several maps the last one's value wins. NULL if any map is NULL.",
            &[ex!(
                "map_concat(map(ARRAY[1, 3], ARRAY[2, 4]), map(ARRAY[1, 30], ARRAY[21, 4]))",
                Some("{\"1\":21,\"3\":4,\"30\":4}")
            )],
        ),
        def(
            "map_entries",
            Op::Entries,
            "map_entries(m MAP(K, V)) -> ARRAY(ROW(K, V))",
            "The entries as rows of key and value (rendered as JSON arrays). NULL if m is NULL.",
            &[ex!("map_entries(map(ARRAY[1, 3], ARRAY[2, 4]))", Some("[[1,2],[3,4]]"))],
        ),
        def(
            "map_from_entries",
            Op::FromEntries,
            "map_from_entries(entries ARRAY(ROW(K, V))) -> MAP(K, V)",
            "The map of the (key, value) rows of entries. NULL if entries is NULL; an error on a NULL entry, a NULL key or a duplicate key.",
            &[
                ex!("map_from_entries(ARRAY[(1, 'x'), (2, 'y')])", Some(r#"{"1":"x","2":"y"}"#)),
                ex!("map_from_entries(map_entries(map(ARRAY['a'], ARRAY[10])))", Some(r#"{"a":10}"#)),
            ],
        ),
        def(
            "map_keys",
            Op::Keys,
            "map_keys(m MAP(K, V)) -> ARRAY(K)",
            "The keys of m. NULL if m is NULL.",
            &[ex!("map_keys(map(ARRAY[1, 3], ARRAY[2, 4]))", Some("[1,3]"))],
        ),
        def(
            "map_values",
            Op::Values,
            "map_values(m MAP(K, V)) -> ARRAY(V)",
            "The values of m. NULL if m is NULL.",
            &[ex!("map_values(map(ARRAY[1, 3], ARRAY[2, 4]))", Some("[2,4]"))],
        ),
        hof(
            "map_filter",
            "map_filter(m MAP(K, V), (k, v) -> BOOLEAN) -> MAP(K, V)",
            "The entries for which the lambda is true. NULL if m is NULL.",
            &[ex!(
                "map_filter(map(ARRAY[1, 3], ARRAY[2, NULL]), (k, v) -> v IS NOT NULL)",
                Some("{\"1\":2}")
            )],
        ),
        hof(
            "map_zip_with",
            "map_zip_with(m1 MAP(K, V1), m2 MAP(K, V2), (k, v1, v2) -> R) -> MAP(K, R)",
            "The lambda applied over the union of the keys, with NULL for a value missing from one map. NULL if either map is NULL.",
            &[ex!(
                "map_zip_with(MAP(ARRAY[1, 2, 3], ARRAY['a', 'b', 'c']), MAP(ARRAY[1, 2, 3], ARRAY['d', 'e', 'f']), (k, v1, v2) -> concat(v1, v2))",
                Some("{\"1\":\"ad\",\"2\":\"be\",\"3\":\"cf\"}")
            )],
        ),
        hof(
            "transform_keys",
            "transform_keys(m MAP(K, V), (k, v) -> K2) -> MAP(K2, V)",
            "The map with each key replaced by the lambda's result. NULL if m is NULL; an error when a new key is NULL or repeated.",
            &[ex!(
                "transform_keys(MAP(ARRAY[1, 2, 3], ARRAY['a', 'b', 'c']), (k, v) -> k + 1)",
                Some("{\"2\":\"a\",\"3\":\"b\",\"4\":\"c\"}")
            )],
        ),
        hof(
            "transform_values",
            "transform_values(m MAP(K, V), (k, v) -> V2) -> MAP(K, V2)",
            "The map with each value replaced by the lambda's result. NULL if m is NULL.",
            &[ex!(
                "transform_values(MAP(ARRAY[1, 2, 3], ARRAY['a', 'b', 'c']), (k, v) -> k * k)",
                Some("{\"1\":1,\"2\":4,\"3\":9}")
            )],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use arrow::array::{Int64Array, ListArray};
    use arrow::datatypes::Int64Type;

    use super::super::testing::{invoke_arrays, udf_of};
    use super::*;
    use crate::render::Renderer;

    fn ints(rows: &[Option<&[Option<i64>]>]) -> ArrayRef {
        Arc::new(ListArray::from_iter_primitive::<Int64Type, _, _>(
            rows.iter().map(|r| r.map(|v| v.to_vec())),
        ))
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
    fn map_rejects_bad_keys() {
        let keys = ints(&[Some(&[Some(1), Some(2)]), None]);
        let values = ints(&[Some(&[Some(10), None]), Some(&[])]);
        assert_eq!(
            run("map", vec![Arc::clone(&keys), values]).unwrap(),
            texts(&[Some("{\"1\":10,\"2\":null}"), None])
        );
        let err = |k: &[Option<i64>], v: &[Option<i64>]| {
            run("map", vec![ints(&[Some(k)]), ints(&[Some(v)])])
                .unwrap_err()
                .to_string()
        };
        assert!(err(&[Some(1), Some(1)], &[Some(1), Some(2)]).contains("duplicate"));
        assert!(err(&[None], &[Some(1)]).contains("cannot be NULL"));
        assert!(err(&[Some(1)], &[]).contains("same length"));
    }

    fn map_of(k: &[Option<&[Option<i64>]>], v: &[Option<&[Option<i64>]>]) -> ArrayRef {
        run_map(ints(k), ints(v))
    }

    fn run_map(k: ArrayRef, v: ArrayRef) -> ArrayRef {
        invoke_arrays(&udf_of(&functions(), "map"), vec![k, v]).unwrap()
    }

    #[test]
    fn map_concat_lets_the_last_map_win() {
        let a = map_of(
            &[Some(&[Some(1), Some(2)]), Some(&[])],
            &[Some(&[Some(1), Some(2)]), Some(&[])],
        );
        let b = map_of(
            &[Some(&[Some(2), Some(3)]), None],
            &[Some(&[Some(20), Some(30)]), None],
        );
        assert_eq!(
            run("map_concat", vec![a, b]).unwrap(),
            texts(&[Some("{\"1\":1,\"2\":20,\"3\":30}"), None])
        );
    }

    #[test]
    fn element_at_finds_keys_per_row() {
        let m = map_of(
            &[Some(&[Some(1), Some(2)]), Some(&[Some(2)]), None],
            &[Some(&[Some(10), Some(20)]), Some(&[Some(5)]), None],
        );
        let k: ArrayRef = Arc::new(Int64Array::from(vec![Some(2), Some(1), Some(2)]));
        // Through the registry: `element_at` dispatches maps to its map kernel.
        let out =
            invoke_arrays(&udf_of(crate::functions::all(), "element_at"), vec![m, k]).unwrap();
        let r = Renderer::default();
        let got: Vec<_> = (0..3).map(|i| r.text(out.as_ref(), i)).collect();
        assert_eq!(got, texts(&[Some("20"), None, None]));
    }

    #[test]
    fn keys_values_and_entries_keep_insertion_order() {
        let m = map_of(
            &[Some(&[Some(3), Some(1)]), None],
            &[Some(&[Some(30), None]), None],
        );
        assert_eq!(
            run("map_keys", vec![Arc::clone(&m)]).unwrap(),
            texts(&[Some("[3,1]"), None])
        );
        assert_eq!(
            run("map_values", vec![Arc::clone(&m)]).unwrap(),
            texts(&[Some("[30,null]"), None])
        );
        assert_eq!(
            run("map_entries", vec![m]).unwrap(),
            texts(&[Some("[[3,30],[1,null]]"), None])
        );
    }
}
