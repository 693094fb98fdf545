//! Scaffolding shared by the function families: the [`ex!`] example literal, the row-wise
//! invocation of a UDF ([`invoke_rowwise`]), two UDF wrappers ([`SplUdf`], described by an
//! argument list, and [`OpUdf`], driven by a family's operation enum), argument coercion, typed
//! column readers and result builders.
//!
//! Functions that can amplify their input fail with an error rather than produce more than
//! [`MAX_RESULT_BYTES`].
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayAccessor, ArrayRef, BinaryArray, Int64Array, LargeBinaryArray, LargeStringArray,
    ListBuilder, MapBuilder, MapFieldNames, StringArray, StringViewArray, StringViewBuilder,
};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Fields};
use datafusion_common::{exec_err, plan_err, Result, ScalarValue};
use datafusion_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::{Example, Family, FunctionDef};
use crate::budget;

/// An [`Example`](super::Example) literal (a macro so that the example arrays are promoted to
/// `'static`).
macro_rules! ex {
    ($expr:expr, $result:expr $(,)?) => {
        $crate::functions::Example {
            expr: $expr,
            result: $result,
        }
    };
}
pub(crate) use ex;

/// Runs one function call under the budget in force ([`crate::budget`]): its `rows` are
/// counted (the clock is read every 1,024), and the Arrow buffers of its result are charged —
/// what the result actually holds, beyond the estimates its kernel charged per row while
/// building it ([`spend`]). Outside a budget, one thread-local read.
pub(crate) fn budgeted(
    rows: usize,
    f: impl FnOnce() -> Result<ColumnarValue>,
) -> Result<ColumnarValue> {
    if !budget::active() {
        return f();
    }
    spend(rows, 0)?;
    let before = budget::used();
    let out = f()?;
    if let ColumnarValue::Array(a) = &out {
        budget::top_up(before, &[a.as_ref()]).map_err(exceeded)?;
    }
    Ok(out)
}

/// The error a function returns when a budget is exceeded (the runner reports the budget).
pub(crate) fn exceeded(e: budget::Exceeded) -> datafusion_common::DataFusionError {
    datafusion_common::DataFusionError::ResourcesExhausted(e.to_string())
}

/// Reports `elements` handled and `bytes` about to be built to the budget in force; an error
/// once a budget is exceeded. Kernels whose output can be much larger than their input
/// (`repeat`, the pads, `replace`, `regexp_replace`, `concat`, splits) call it per row with
/// the row's result size before building it, so a runaway stops at the row that crosses the
/// ceiling, not after the whole batch.
#[inline]
pub(crate) fn spend(elements: usize, bytes: usize) -> Result<()> {
    budget::tick(elements)
        .and_then(|()| budget::charge(bytes))
        .map_err(exceeded)
}

/// Runs `f` on the arguments as arrays. When every argument is a constant, `f` sees one row and
/// the result is returned as a constant.
pub(crate) fn invoke_rowwise(
    args: &ScalarFunctionArgs,
    f: impl FnOnce(&[ArrayRef], usize) -> Result<ArrayRef>,
) -> Result<ColumnarValue> {
    let constant = args
        .args
        .iter()
        .all(|a| matches!(a, ColumnarValue::Scalar(_)));
    let rows = if constant { 1 } else { args.number_rows };
    let arrays = args
        .args
        .iter()
        .map(|a| a.to_array(rows))
        .collect::<Result<Vec<_>>>()?;
    let out = f(&arrays, rows)?;
    if constant {
        Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?))
    } else {
        Ok(ColumnarValue::Array(out))
    }
}

// ---------------------------------------------------------------------------------------------
// Operation-driven UDFs
// ---------------------------------------------------------------------------------------------

/// The operation a family's [`OpUdf`] computes: its coercion, return type and evaluation.
pub(crate) trait UdfOp:
    fmt::Debug + Copy + PartialEq + Eq + Hash + Send + Sync + 'static
{
    /// The types the arguments are coerced to (errors name the function `name`).
    fn coerce(self, name: &str, arg_types: &[DataType]) -> Result<Vec<DataType>>;
    /// The result type for the argument types.
    fn return_type(self, name: &str, arg_types: &[DataType]) -> Result<DataType>;
    /// Evaluates the function.
    fn invoke(self, name: &str, args: ScalarFunctionArgs) -> Result<ColumnarValue>;
}

/// One function of a family as a DataFusion UDF, computing the operation `op`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct OpUdf<O> {
    name: &'static str,
    aliases: Vec<String>,
    op: O,
    signature: Signature,
}

/// The UDF `name` (also answering to `aliases`) computing `op`, with user-defined coercion.
pub(crate) fn op_udf<O: UdfOp>(
    name: &'static str,
    aliases: &[&str],
    op: O,
    volatility: Volatility,
) -> Arc<ScalarUDF> {
    Arc::new(ScalarUDF::new_from_impl(OpUdf {
        name,
        aliases: aliases.iter().map(|a| a.to_string()).collect(),
        op,
        signature: Signature::user_defined(volatility),
    }))
}

impl<O: UdfOp> ScalarUDFImpl for OpUdf<O> {
    fn name(&self) -> &str {
        self.name
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.op.coerce(self.name, arg_types)
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.op.return_type(self.name, arg_types)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        budgeted(args.number_rows, || self.op.invoke(self.name, args))
    }
}

/// A [`FunctionDef`] of `family` for the UDF `udf`.
pub(crate) fn function_def(
    family: Family,
    name: &'static str,
    aliases: &'static [&'static str],
    signature: &'static str,
    summary: &'static str,
    examples: &'static [Example],
    udf: Arc<ScalarUDF>,
) -> FunctionDef {
    FunctionDef {
        name,
        aliases,
        family,
        signature,
        summary,
        examples,
        udf,
    }
}

/// A [`FunctionDef`] of `family` for an immutable [`OpUdf`] computing `op`, without aliases.
pub(crate) fn op_def<O: UdfOp>(
    family: Family,
    name: &'static str,
    op: O,
    signature: &'static str,
    summary: &'static str,
    examples: &'static [Example],
) -> FunctionDef {
    let udf = op_udf(name, &[], op, Volatility::Immutable);
    function_def(family, name, &[], signature, summary, examples, udf)
}

/// Checks that exactly `n` arguments were given.
pub(crate) fn check_arity(name: &str, n: usize, arg_types: &[DataType]) -> Result<()> {
    if arg_types.len() != n {
        return plan_err!("{name}: expected {n} arguments, got {}", arg_types.len());
    }
    Ok(())
}

/// Coerces exactly `n` arguments, each of which must satisfy `accepts`, to `to`; `want` names
/// the accepted types in the error.
pub(crate) fn coerce_all(
    name: &str,
    n: usize,
    arg_types: &[DataType],
    accepts: impl Fn(&DataType) -> bool,
    to: &DataType,
    want: &str,
) -> Result<Vec<DataType>> {
    check_arity(name, n, arg_types)?;
    arg_types
        .iter()
        .map(|t| {
            if accepts(t) {
                Ok(to.clone())
            } else {
                plan_err!("{name}: expected {want}, got {t}")
            }
        })
        .collect()
}

/// Casts every argument column to `to` and downcasts it to the array type `A`.
pub(crate) fn cast_all<A: Array + Clone + 'static>(
    arrays: &[ArrayRef],
    to: &DataType,
) -> Result<Vec<A>> {
    arrays
        .iter()
        .map(|a| {
            Ok(cast(a, to)?
                .as_any()
                .downcast_ref::<A>()
                .expect("cast to the array's type")
                .clone())
        })
        .collect()
}

/// The values of row `i` of `cols`, `None` when any is NULL.
pub(crate) fn row_values<'a, A>(
    cols: &'a [A],
    i: usize,
) -> Option<Vec<<&'a A as ArrayAccessor>::Item>>
where
    &'a A: ArrayAccessor,
{
    cols.iter()
        .map(|c| c.is_valid(i).then(|| c.value(i)))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Argument-list UDFs, column readers and result builders
// ---------------------------------------------------------------------------------------------
/// Largest string (in bytes) a function may build from user input; larger results are errors.
pub(crate) const MAX_RESULT_BYTES: usize = 16 * 1024 * 1024;

/// What an argument position accepts, and the Arrow type it is coerced to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arg {
    /// VARCHAR (any string type, or NULL) → `Utf8View`.
    Str,
    /// An integer type (or NULL) → `Int64`.
    Int,
    /// VARBINARY (any binary type, or NULL) → `Binary`.
    Bin,
    /// An integer → `Int64`, otherwise VARCHAR → `Utf8View`.
    StrOrInt,
    /// VARBINARY stays `Binary`, otherwise VARCHAR → `Utf8View`.
    StrOrBin,
    /// VARCHAR, or ARRAY(VARCHAR) → `List(Utf8View)`.
    StrOrStrList,
}

/// The row-wise evaluation of a function: evaluated argument columns (all of the same length)
/// and that length; returns the result column.
pub(crate) type EvalFn = fn(&[ArrayRef], usize) -> Result<ArrayRef>;

/// One SPL function as a DataFusion scalar UDF.
pub(crate) struct SplUdf {
    pub(crate) name: &'static str,
    aliases: Vec<String>,
    signature: Signature,
    /// Accepted kinds of the fixed arguments; the first `required` of them are mandatory.
    args: &'static [Arg],
    required: usize,
    /// Kind of any further arguments (variadic functions), if allowed.
    rest: Option<Arg>,
    ret: fn(&[DataType]) -> DataType,
    eval: EvalFn,
}

impl SplUdf {
    /// A function with `args` (the first `required` mandatory) returning `ret`.
    pub(crate) fn new(
        name: &'static str,
        args: &'static [Arg],
        required: usize,
        ret: fn(&[DataType]) -> DataType,
        eval: EvalFn,
    ) -> Self {
        SplUdf {
            name,
            aliases: Vec::new(),
            signature: Signature::user_defined(Volatility::Immutable),
            args,
            required,
            rest: None,
            ret,
            eval,
        }
    }

    /// Allows any number of further arguments of kind `rest`.
    pub(crate) fn variadic(mut self, rest: Arg) -> Self {
        self.rest = Some(rest);
        self
    }

    /// Adds other names the UDF answers to.
    pub(crate) fn aliases(mut self, aliases: &[&str]) -> Self {
        self.aliases = aliases.iter().map(|a| a.to_string()).collect();
        self
    }

    /// The [`FunctionDef`] of this UDF in `family`, listed as `name`.
    pub(crate) fn into_def(
        self,
        family: Family,
        name: &'static str,
        signature: &'static str,
        summary: &'static str,
        examples: &'static [Example],
    ) -> FunctionDef {
        function_def(
            family,
            name,
            &[],
            signature,
            summary,
            examples,
            self.into_udf(),
        )
    }

    /// Wraps the implementation into a shareable `ScalarUDF`.
    pub(crate) fn into_udf(self) -> Arc<ScalarUDF> {
        Arc::new(ScalarUDF::new_from_impl(self))
    }
}

impl fmt::Debug for SplUdf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SplUdf").field("name", &self.name).finish()
    }
}

impl PartialEq for SplUdf {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for SplUdf {}

impl Hash for SplUdf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

pub(crate) fn is_string_type(t: &DataType) -> bool {
    matches!(t, DataType::Utf8View | DataType::Utf8 | DataType::LargeUtf8)
}

pub(crate) fn is_binary_type(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView
    )
}

/// The Arrow type an argument of kind `kind` and actual type `t` is coerced to.
pub(crate) fn coerce_one(fname: &str, pos: usize, kind: Arg, t: &DataType) -> Result<DataType> {
    let ok = match (kind, t) {
        (_, DataType::Null) => Some(match kind {
            Arg::Int => DataType::Int64,
            Arg::Bin => DataType::Binary,
            _ => DataType::Utf8View,
        }),
        (Arg::Str | Arg::StrOrInt | Arg::StrOrBin | Arg::StrOrStrList, t) if is_string_type(t) => {
            Some(DataType::Utf8View)
        }
        (Arg::Int | Arg::StrOrInt, t) if t.is_integer() => Some(DataType::Int64),
        (Arg::Bin | Arg::StrOrBin, t) if is_binary_type(t) => Some(DataType::Binary),
        (
            Arg::StrOrStrList,
            DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _),
        ) if is_string_type(f.data_type()) || f.data_type() == &DataType::Null => {
            Some(varchar_list_type())
        }
        _ => None,
    };
    match ok {
        Some(t) => Ok(t),
        None => {
            let want = match kind {
                Arg::Str => "VARCHAR",
                Arg::Int => "an integer",
                Arg::Bin => "VARBINARY",
                Arg::StrOrInt => "VARCHAR or an integer",
                Arg::StrOrBin => "VARCHAR or VARBINARY",
                Arg::StrOrStrList => "VARCHAR or ARRAY(VARCHAR)",
            };
            plan_err!("{fname}: argument {} must be {want}, got {t}", pos + 1)
        }
    }
}

impl ScalarUDFImpl for SplUdf {
    fn name(&self) -> &str {
        self.name
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let n = arg_types.len();
        let max_ok = self.rest.is_some() || n <= self.args.len();
        if n < self.required || !max_ok {
            let expected = match (self.rest.is_some(), self.required == self.args.len()) {
                (true, _) => format!("at least {}", self.required),
                (false, true) => format!("{}", self.required),
                (false, false) => format!("{} to {}", self.required, self.args.len()),
            };
            return plan_err!("{}: expected {expected} argument(s), got {n}", self.name);
        }
        arg_types
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let kind = self.args.get(i).copied().or(self.rest).unwrap_or(Arg::Str);
                coerce_one(self.name, i, kind, t)
            })
            .collect()
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok((self.ret)(arg_types))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        budgeted(args.number_rows, || invoke_rowwise(&args, self.eval))
    }
}

/// Read access to a VARCHAR argument column.
pub(crate) enum StrCol<'a> {
    View(&'a StringViewArray),
    Utf8(&'a StringArray),
    Large(&'a LargeStringArray),
    Null,
}

impl<'a> StrCol<'a> {
    /// The value of row `i`, `None` when NULL.
    pub(crate) fn get(&self, i: usize) -> Option<&'a str> {
        match self {
            StrCol::View(a) => (!a.is_null(i)).then(|| a.value(i)),
            StrCol::Utf8(a) => (!a.is_null(i)).then(|| a.value(i)),
            StrCol::Large(a) => (!a.is_null(i)).then(|| a.value(i)),
            StrCol::Null => None,
        }
    }
}

/// Views `a` as a VARCHAR column.
pub(crate) fn str_col<'a>(fname: &str, a: &'a ArrayRef) -> Result<StrCol<'a>> {
    let any = a.as_any();
    Ok(match a.data_type() {
        DataType::Utf8View => StrCol::View(any.downcast_ref().expect("Utf8View")),
        DataType::Utf8 => StrCol::Utf8(any.downcast_ref().expect("Utf8")),
        DataType::LargeUtf8 => StrCol::Large(any.downcast_ref().expect("LargeUtf8")),
        DataType::Null => StrCol::Null,
        t => return exec_err!("{fname}: expected a VARCHAR argument, got {t}"),
    })
}

/// Read access to a BIGINT argument column.
pub(crate) enum IntCol<'a> {
    I64(&'a Int64Array),
    Null,
}

impl IntCol<'_> {
    /// The value of row `i`, `None` when NULL.
    pub(crate) fn get(&self, i: usize) -> Option<i64> {
        match self {
            IntCol::I64(a) => (!a.is_null(i)).then(|| a.value(i)),
            IntCol::Null => None,
        }
    }
}

/// Views `a` as a BIGINT column.
pub(crate) fn int_col<'a>(fname: &str, a: &'a ArrayRef) -> Result<IntCol<'a>> {
    Ok(match a.data_type() {
        DataType::Int64 => IntCol::I64(a.as_any().downcast_ref().expect("Int64")),
        DataType::Null => IntCol::Null,
        t => return exec_err!("{fname}: expected a BIGINT argument, got {t}"),
    })
}

/// Read access to a VARBINARY argument column.
pub(crate) enum BinCol<'a> {
    Bin(&'a BinaryArray),
    Large(&'a LargeBinaryArray),
    Null,
}

impl<'a> BinCol<'a> {
    /// The value of row `i`, `None` when NULL.
    pub(crate) fn get(&self, i: usize) -> Option<&'a [u8]> {
        match self {
            BinCol::Bin(a) => (!a.is_null(i)).then(|| a.value(i)),
            BinCol::Large(a) => (!a.is_null(i)).then(|| a.value(i)),
            BinCol::Null => None,
        }
    }
}

pub(crate) fn bin_col<'a>(fname: &str, a: &'a ArrayRef) -> Result<BinCol<'a>> {
    let any = a.as_any();
    Ok(match a.data_type() {
        DataType::Binary => BinCol::Bin(any.downcast_ref().expect("Binary")),
        DataType::LargeBinary => BinCol::Large(any.downcast_ref().expect("LargeBinary")),
        DataType::Null => BinCol::Null,
        t => return exec_err!("{fname}: expected a VARBINARY argument, got {t}"),
    })
}

/// ARRAY(VARCHAR): `List(Utf8View)` with the standard nullable `item` field.
pub(crate) fn varchar_list_type() -> DataType {
    DataType::new_list(DataType::Utf8View, true)
}

/// MAP(VARCHAR, VARCHAR) with DataFusion's field names (`entries`, `key`, `value`).
pub(crate) fn varchar_map_type() -> DataType {
    let entries = DataType::Struct(Fields::from(vec![
        Field::new("key", DataType::Utf8View, false),
        Field::new("value", DataType::Utf8View, true),
    ]));
    DataType::Map(Arc::new(Field::new("entries", entries, false)), false)
}

/// Builder for ARRAY(VARCHAR) results matching [`varchar_list_type`].
pub(crate) fn varchar_list_builder(rows: usize) -> ListBuilder<StringViewBuilder> {
    ListBuilder::with_capacity(StringViewBuilder::new(), rows)
}

pub(crate) fn varchar_map_builder() -> MapBuilder<StringViewBuilder, StringViewBuilder> {
    let names = MapFieldNames {
        entry: "entries".to_string(),
        key: "key".to_string(),
        value: "value".to_string(),
    };
    MapBuilder::new(
        Some(names),
        StringViewBuilder::new(),
        StringViewBuilder::new(),
    )
}

pub(crate) fn ret_varchar(_: &[DataType]) -> DataType {
    DataType::Utf8View
}
pub(crate) fn ret_bigint(_: &[DataType]) -> DataType {
    DataType::Int64
}
pub(crate) fn ret_boolean(_: &[DataType]) -> DataType {
    DataType::Boolean
}
pub(crate) fn ret_varchar_list(_: &[DataType]) -> DataType {
    varchar_list_type()
}
pub(crate) fn ret_integer(_: &[DataType]) -> DataType {
    DataType::Int32
}
pub(crate) fn ret_varbinary(_: &[DataType]) -> DataType {
    DataType::Binary
}
pub(crate) fn ret_varchar_map(_: &[DataType]) -> DataType {
    varchar_map_type()
}
pub(crate) fn ret_same_as_first(args: &[DataType]) -> DataType {
    match args.first() {
        Some(t) if is_binary_type(t) => DataType::Binary,
        _ => DataType::Utf8View,
    }
}

/// The error for a result larger than [`MAX_RESULT_BYTES`].
pub(crate) fn too_large<T>(fname: &str) -> Result<T> {
    exec_err!("{fname}: result would exceed {MAX_RESULT_BYTES} bytes")
}

/// The placeholder scalar UDF of a higher-order function's library entry: calls are lowered
/// here, never through it; used without a lambda it explains what is missing.
pub(crate) fn lambda_placeholder(name: &'static str) -> Arc<ScalarUDF> {
    op_udf(name, &[], NeedsLambda, Volatility::Immutable)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct NeedsLambda;

impl UdfOp for NeedsLambda {
    fn coerce(self, name: &str, _: &[DataType]) -> Result<Vec<DataType>> {
        plan_err!("{name} takes a lambda argument")
    }
    fn return_type(self, name: &str, _: &[DataType]) -> Result<DataType> {
        plan_err!("{name} takes a lambda argument")
    }
    fn invoke(self, name: &str, _: ScalarFunctionArgs) -> Result<ColumnarValue> {
        exec_err!("{name} takes a lambda argument")
    }
}
