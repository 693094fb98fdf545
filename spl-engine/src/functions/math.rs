//! SLS math functions (spec §7.5): rounding, trigonometry, logarithms, base conversion, random
//! numbers, `width_bucket`, `greatest`/`least`.
//!
//! Types follow Presto: `abs`, `ceil`, `floor`, `round`, `sign` and `mod` keep BIGINT for integer
//! input and DOUBLE for everything else; the other functions compute in DOUBLE. VARCHAR
//! arguments are accepted where a number is expected and converted by the engine's cast (the
//! lenient reading of spec §18.2), so `round(latency, 2)` works on a text field.
//! Integer overflow (`abs(-9223372036854775808)`) and `mod(x, 0)` are row errors, never panics.
use std::sync::Arc;

use arrow::array::{
    make_array, Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array, StringViewArray,
};
use arrow::buffer::NullBuffer;
use arrow::compute::kernels::{cmp, zip::zip};
use arrow::compute::{binary, cast};
use arrow::datatypes::{DataType, Field, Float64Type, Int64Type};
use datafusion_common::{exec_err, plan_err, DataFusionError, Result};
use datafusion_expr::{ColumnarValue, ScalarFunctionArgs, Volatility};
use rand::RngExt;

use super::common::{ex, function_def, invoke_rowwise, op_udf, UdfOp};
use super::{Example, Family, FunctionDef};

/// Which math function an [`OpUdf`] computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Op {
    Abs,
    Ceil,
    Floor,
    Sign,
    Round,
    Truncate,
    Acos,
    Asin,
    Atan,
    Cbrt,
    Cos,
    Cosh,
    Degrees,
    Exp,
    Ln,
    Log2,
    Log10,
    Radians,
    Sin,
    Sqrt,
    Tan,
    Tanh,
    Atan2,
    Pow,
    Log,
    Mod,
    E,
    Pi,
    Infinity,
    Nan,
    IsFinite,
    IsInfinite,
    IsNan,
    FromBase,
    ToBase,
    Random,
    WidthBucket,
    Greatest,
    Least,
}

/// Broad class of an argument type, for coercion decisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Null,
    Int,
    Float,
    Text,
}

fn kind(t: &DataType) -> Option<Kind> {
    use DataType::*;
    match t {
        Null => Some(Kind::Null),
        Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64 => Some(Kind::Int),
        Float16 | Float32 | Float64 | Decimal32(..) | Decimal64(..) | Decimal128(..)
        | Decimal256(..) => Some(Kind::Float),
        Utf8 | Utf8View | LargeUtf8 => Some(Kind::Text),
        _ => None,
    }
}

/// A DOUBLE parameter: any number or text.
fn double_arg(name: &str, t: &DataType) -> Result<DataType> {
    match kind(t) {
        Some(_) => Ok(DataType::Float64),
        None => plan_err!("{name}: expected a number, got {t}"),
    }
}

/// A BIGINT parameter: integers, NULL or text (parsed by the cast); DOUBLE is refused.
fn bigint_arg(name: &str, t: &DataType) -> Result<DataType> {
    match kind(t) {
        Some(Kind::Null | Kind::Int | Kind::Text) => Ok(DataType::Int64),
        _ => plan_err!("{name}: expected an integer, got {t}"),
    }
}

/// A parameter whose integer type is kept: BIGINT for integers, DOUBLE otherwise.
fn keep_int_arg(name: &str, t: &DataType) -> Result<DataType> {
    match kind(t) {
        Some(Kind::Null | Kind::Int) => Ok(DataType::Int64),
        Some(_) => Ok(DataType::Float64),
        None => plan_err!("{name}: expected a number, got {t}"),
    }
}

fn arity(name: &str, args: &[DataType], min: usize, max: usize) -> Result<()> {
    if args.len() < min || args.len() > max {
        let want = if min == max {
            format!("{min}")
        } else {
            format!("{min} to {max}")
        };
        return plan_err!("{name}: expected {want} arguments, got {}", args.len());
    }
    Ok(())
}

/// The common type of `greatest`/`least` arguments: BIGINT when all are integers, DOUBLE when
/// numbers are mixed (or mixed with text), VARCHAR for text, else one shared orderable type.
fn common_ordered_type(name: &str, args: &[DataType]) -> Result<DataType> {
    let (mut int, mut float, mut text) = (false, false, false);
    let mut other: Option<&DataType> = None;
    for t in args {
        match kind(t) {
            Some(Kind::Null) => {}
            Some(Kind::Int) => int = true,
            Some(Kind::Float) => float = true,
            Some(Kind::Text) => text = true,
            None => {
                let orderable = matches!(
                    t,
                    DataType::Boolean
                        | DataType::Date32
                        | DataType::Date64
                        | DataType::Timestamp(..)
                        | DataType::Time32(_)
                        | DataType::Time64(_)
                );
                if !orderable || other.is_some_and(|o| o != t) {
                    return plan_err!("{name}: cannot compare values of types {args:?}");
                }
                other = Some(t);
            }
        }
    }
    if let Some(o) = other {
        if int || float || text {
            return plan_err!("{name}: cannot compare values of types {args:?}");
        }
        return Ok(o.clone());
    }
    Ok(if float || (int && text) {
        DataType::Float64
    } else if text {
        DataType::Utf8View
    } else {
        DataType::Int64
    })
}

impl Op {
    /// The argument types the engine must cast to (idempotent: coercing twice changes nothing).
    fn coerce_args(self, name: &str, args: &[DataType]) -> Result<Vec<DataType>> {
        use Op::*;
        match self {
            Abs | Ceil | Floor | Sign => {
                arity(name, args, 1, 1)?;
                Ok(vec![keep_int_arg(name, &args[0])?])
            }
            Round => {
                arity(name, args, 1, 2)?;
                let mut v = vec![keep_int_arg(name, &args[0])?];
                if let Some(d) = args.get(1) {
                    v.push(bigint_arg(name, d)?);
                }
                Ok(v)
            }
            Truncate => {
                arity(name, args, 1, 2)?;
                let mut v = vec![double_arg(name, &args[0])?];
                if let Some(d) = args.get(1) {
                    v.push(bigint_arg(name, d)?);
                }
                Ok(v)
            }
            Acos | Asin | Atan | Cbrt | Cos | Cosh | Degrees | Exp | Ln | Log2 | Log10
            | Radians | Sin | Sqrt | Tan | Tanh | IsFinite | IsInfinite | IsNan => {
                arity(name, args, 1, 1)?;
                Ok(vec![double_arg(name, &args[0])?])
            }
            Atan2 | Pow | Log => {
                arity(name, args, 2, 2)?;
                args.iter().map(|t| double_arg(name, t)).collect()
            }
            Mod => {
                arity(name, args, 2, 2)?;
                let a = keep_int_arg(name, &args[0])?;
                let b = keep_int_arg(name, &args[1])?;
                let t = if a == DataType::Int64 && b == DataType::Int64 {
                    DataType::Int64
                } else {
                    DataType::Float64
                };
                Ok(vec![t.clone(), t])
            }
            E | Pi | Infinity | Nan => {
                arity(name, args, 0, 0)?;
                Ok(vec![])
            }
            FromBase => {
                arity(name, args, 2, 2)?;
                if kind(&args[0]).is_none() {
                    return plan_err!("{name}: expected VARCHAR, got {}", args[0]);
                }
                Ok(vec![DataType::Utf8View, bigint_arg(name, &args[1])?])
            }
            ToBase => {
                arity(name, args, 2, 2)?;
                args.iter().map(|t| bigint_arg(name, t)).collect()
            }
            Random => {
                arity(name, args, 0, 1)?;
                args.iter().map(|t| bigint_arg(name, t)).collect()
            }
            WidthBucket => {
                arity(name, args, 2, 4)?;
                if args.len() == 4 {
                    return Ok(vec![
                        double_arg(name, &args[0])?,
                        double_arg(name, &args[1])?,
                        double_arg(name, &args[2])?,
                        bigint_arg(name, &args[3])?,
                    ]);
                }
                if args.len() != 2 {
                    return plan_err!("{name}: expected 2 or 4 arguments, got {}", args.len());
                }
                let bins = match &args[1] {
                    DataType::List(f)
                    | DataType::LargeList(f)
                    | DataType::FixedSizeList(f, _)
                    | DataType::ListView(f)
                    | DataType::LargeListView(f)
                        if kind(f.data_type()).is_some() =>
                    {
                        DataType::List(Arc::new(Field::new(f.name(), DataType::Float64, true)))
                    }
                    DataType::Null => {
                        DataType::List(Arc::new(Field::new_list_field(DataType::Float64, true)))
                    }
                    t => return plan_err!("{name}: expected ARRAY(DOUBLE) bins, got {t}"),
                };
                Ok(vec![double_arg(name, &args[0])?, bins])
            }
            Greatest | Least => {
                if args.is_empty() {
                    return plan_err!("{name}: expected at least 1 argument");
                }
                let t = common_ordered_type(name, args)?;
                Ok(vec![t; args.len()])
            }
        }
    }

    fn result_type(self, coerced: &[DataType]) -> DataType {
        use Op::*;
        match self {
            Abs | Ceil | Floor | Sign | Round | Mod | Greatest | Least => {
                coerced.first().cloned().unwrap_or(DataType::Float64)
            }
            IsFinite | IsInfinite | IsNan => DataType::Boolean,
            FromBase | WidthBucket => DataType::Int64,
            ToBase => DataType::Utf8View,
            Random if coerced.len() == 1 => DataType::Int64,
            _ => DataType::Float64,
        }
    }
}

impl UdfOp for Op {
    fn coerce(self, name: &str, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.coerce_args(name, arg_types)
    }

    fn return_type(self, name: &str, arg_types: &[DataType]) -> Result<DataType> {
        let coerced = self.coerce_args(name, arg_types)?;
        Ok(self.result_type(&coerced))
    }

    fn invoke(self, name: &str, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if self == Op::Random {
            // Volatile: one fresh value per row even when the bound is a constant.
            let rows = args.number_rows;
            let arrays = args
                .args
                .iter()
                .map(|a| a.to_array(rows))
                .collect::<Result<Vec<_>>>()?;
            return Ok(ColumnarValue::Array(random(&arrays, rows)?));
        }
        invoke_rowwise(&args, |arrays, rows| compute(self, name, arrays, rows))
    }
}

fn f64s(a: &ArrayRef) -> Result<Float64Array> {
    Ok(cast(a, &DataType::Float64)?
        .as_primitive::<Float64Type>()
        .clone())
}

fn i64s(a: &ArrayRef) -> Result<Int64Array> {
    Ok(cast(a, &DataType::Int64)?
        .as_primitive::<Int64Type>()
        .clone())
}

fn is_int(a: &ArrayRef) -> bool {
    matches!(kind(a.data_type()), Some(Kind::Int))
}

fn unary_f64(a: &ArrayRef, f: impl Fn(f64) -> f64) -> Result<ArrayRef> {
    Ok(Arc::new(f64s(a)?.unary::<_, Float64Type>(f)))
}

fn binary_f64(a: &ArrayRef, b: &ArrayRef, f: impl Fn(f64, f64) -> f64) -> Result<ArrayRef> {
    Ok(Arc::new(binary::<_, _, _, Float64Type>(
        &f64s(a)?,
        &f64s(b)?,
        f,
    )?))
}

fn constant_f64(v: f64, rows: usize) -> ArrayRef {
    Arc::new(Float64Array::from(vec![v; rows]))
}

/// Applies a fallible function to each row where every input is non-NULL.
fn try_map_i64<const N: usize>(
    cols: [&Int64Array; N],
    rows: usize,
    f: impl Fn([i64; N]) -> Result<Option<i64>>,
) -> Result<ArrayRef> {
    let out = (0..rows)
        .map(|i| {
            if cols.iter().any(|c| c.is_null(i)) {
                return Ok(None);
            }
            f(cols.map(|c| c.value(i)))
        })
        .collect::<Result<Int64Array>>()?;
    Ok(Arc::new(out))
}

fn compute(op: Op, name: &str, a: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    use Op::*;
    match op {
        Abs if is_int(&a[0]) => try_map_i64([&i64s(&a[0])?], rows, |[x]| {
            x.checked_abs()
                .map(Some)
                .ok_or_else(|| overflow(name, "bigint"))
        }),
        Abs => unary_f64(&a[0], f64::abs),
        Ceil | Floor if is_int(&a[0]) => Ok(a[0].clone()),
        Ceil => unary_f64(&a[0], f64::ceil),
        Floor => unary_f64(&a[0], f64::floor),
        Sign if is_int(&a[0]) => Ok(Arc::new(i64s(&a[0])?.unary::<_, Int64Type>(i64::signum))),
        Sign => unary_f64(&a[0], |x| {
            if x == 0.0 || x.is_nan() {
                x
            } else {
                x.signum()
            }
        }),
        Round => round(name, a, rows),
        Truncate => match a.get(1) {
            None => unary_f64(&a[0], f64::trunc),
            Some(d) => {
                let (x, d) = (f64s(&a[0])?, i64s(d)?);
                let out: Float64Array = (0..rows)
                    .map(|i| {
                        (x.is_valid(i) && d.is_valid(i))
                            .then(|| shift_decimal(x.value(i), d.value(i), false))
                    })
                    .collect();
                Ok(Arc::new(out))
            }
        },
        Acos => unary_f64(&a[0], f64::acos),
        Asin => unary_f64(&a[0], f64::asin),
        Atan => unary_f64(&a[0], f64::atan),
        Cbrt => unary_f64(&a[0], f64::cbrt),
        Cos => unary_f64(&a[0], f64::cos),
        Cosh => unary_f64(&a[0], f64::cosh),
        Degrees => unary_f64(&a[0], f64::to_degrees),
        Exp => unary_f64(&a[0], f64::exp),
        Ln => unary_f64(&a[0], f64::ln),
        Log2 => unary_f64(&a[0], f64::log2),
        Log10 => unary_f64(&a[0], f64::log10),
        Radians => unary_f64(&a[0], f64::to_radians),
        Sin => unary_f64(&a[0], f64::sin),
        Sqrt => unary_f64(&a[0], f64::sqrt),
        Tan => unary_f64(&a[0], f64::tan),
        Tanh => unary_f64(&a[0], f64::tanh),
        Atan2 => binary_f64(&a[0], &a[1], f64::atan2),
        Pow => binary_f64(&a[0], &a[1], f64::powf),
        Log => binary_f64(&a[0], &a[1], |base, x| x.ln() / base.ln()),
        Mod if is_int(&a[0]) && is_int(&a[1]) => {
            try_map_i64([&i64s(&a[0])?, &i64s(&a[1])?], rows, |[x, y]| {
                if y == 0 {
                    return exec_err!("{name}: division by zero");
                }
                // wrapping_rem: i64::MIN % -1 is 0, as in Java.
                Ok(Some(x.wrapping_rem(y)))
            })
        }
        Mod => binary_f64(&a[0], &a[1], |x, y| x % y),
        E => Ok(constant_f64(std::f64::consts::E, rows)),
        Pi => Ok(constant_f64(std::f64::consts::PI, rows)),
        Infinity => Ok(constant_f64(f64::INFINITY, rows)),
        Nan => Ok(constant_f64(f64::NAN, rows)),
        IsFinite | IsInfinite | IsNan => {
            let x = f64s(&a[0])?;
            let test = match op {
                IsFinite => f64::is_finite,
                IsInfinite => f64::is_infinite,
                _ => f64::is_nan,
            };
            let out: BooleanArray = x.iter().map(|v| v.map(test)).collect();
            Ok(Arc::new(out))
        }
        FromBase => from_base(name, a, rows),
        ToBase => to_base(name, a, rows),
        Random => random(a, rows),
        WidthBucket if a.len() == 4 => width_bucket_bounds(name, a, rows),
        WidthBucket => width_bucket_bins(name, a, rows),
        Greatest => extreme(name, a, true),
        Least => extreme(name, a, false),
    }
}

fn overflow(name: &str, ty: &str) -> DataFusionError {
    DataFusionError::Execution(format!("{name}: {ty} overflow"))
}

/// `round(x[, d])`: half away from zero; integers stay integers.
fn round(name: &str, a: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let int = is_int(&a[0]);
    match (a.get(1), int) {
        (None, true) => Ok(a[0].clone()),
        (None, false) => unary_f64(&a[0], f64::round),
        (Some(d), true) => try_map_i64([&i64s(&a[0])?, &i64s(d)?], rows, |[x, d]| {
            round_i64(x, d)
                .map(Some)
                .ok_or_else(|| overflow(name, "bigint"))
        }),
        (Some(d), false) => {
            let (x, d) = (f64s(&a[0])?, i64s(d)?);
            let out: Float64Array = (0..rows)
                .map(|i| {
                    (x.is_valid(i) && d.is_valid(i))
                        .then(|| shift_decimal(x.value(i), d.value(i), true))
                })
                .collect();
            Ok(Arc::new(out))
        }
    }
}

/// Rounds an integer to `d` decimal places (only negative `d` changes anything).
fn round_i64(x: i64, d: i64) -> Option<i64> {
    if d >= 0 {
        return Some(x);
    }
    if d < -19 {
        return Some(0);
    }
    let factor = 10i128.pow(u32::try_from(-d).ok()?);
    let magnitude = (i128::from(x).abs() + factor / 2) / factor * factor;
    i64::try_from(if x < 0 { -magnitude } else { magnitude }).ok()
}

/// Rounds (`round_half_up`) or truncates `x` to `d` decimal places (negative `d`: to tens,
/// hundreds, …). Works on the shortest decimal text of `x`, as Presto's `BigDecimal` rounding
/// does, so `round(2.675, 2)` is 2.68 and `truncate(0.29, 2)` is 0.29 despite binary floating
/// point.
fn shift_decimal(x: f64, d: i64, round_half_up: bool) -> f64 {
    if !x.is_finite() {
        return x;
    }
    let text = format!("{}", x.abs());
    let (int_part, frac_part) = text.split_once('.').unwrap_or((text.as_str(), ""));
    // Digits kept, and the first dropped digit.
    let (mut kept, next, zeros) = if d >= 0 {
        let d = usize::try_from(d).unwrap_or(usize::MAX);
        if frac_part.len() <= d {
            return x;
        }
        (
            format!("{int_part}.{}", &frac_part[..d]),
            frac_part.as_bytes()[d],
            0,
        )
    } else {
        let p = usize::try_from(d.unsigned_abs()).unwrap_or(usize::MAX);
        if p > int_part.len() {
            return 0.0f64.copysign(x);
        }
        let cut = int_part.len() - p;
        let next = int_part.as_bytes()[cut];
        (int_part[..cut].to_string(), next, p)
    };
    if round_half_up && next >= b'5' {
        kept = increment_decimal(&kept);
    }
    if kept.is_empty() || kept == "." {
        kept = "0".to_string();
    }
    kept.extend(std::iter::repeat_n('0', zeros));
    let magnitude: f64 = kept.trim_end_matches('.').parse().unwrap_or(0.0);
    magnitude.copysign(x)
}

/// Adds one unit in the last place to a decimal digit string (`"1.99"` → `"2.00"`).
fn increment_decimal(s: &str) -> String {
    let mut bytes = s.as_bytes().to_vec();
    let mut i = bytes.len();
    loop {
        if i == 0 {
            bytes.insert(0, b'1');
            break;
        }
        i -= 1;
        match bytes[i] {
            b'.' => continue,
            b'9' => bytes[i] = b'0',
            c => {
                bytes[i] = c + 1;
                break;
            }
        }
    }
    String::from_utf8(bytes).unwrap_or_default()
}

fn check_radix(name: &str, radix: i64) -> Result<u32> {
    match u32::try_from(radix) {
        Ok(r) if (2..=36).contains(&r) => Ok(r),
        _ => exec_err!("{name}: radix must be between 2 and 36, got {radix}"),
    }
}

/// `from_base(s, radix)`: parses `s` (optional sign, digits and letters) as a BIGINT.
fn from_base(name: &str, a: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let text = cast(&a[0], &DataType::Utf8View)?;
    let text = text.as_string_view();
    let radix = i64s(&a[1])?;
    let out = (0..rows)
        .map(|i| {
            if text.is_null(i) || radix.is_null(i) {
                return Ok(None);
            }
            let r = check_radix(name, radix.value(i))?;
            let s = text.value(i);
            match i64::from_str_radix(s, r) {
                Ok(v) => Ok(Some(v)),
                Err(_) => exec_err!("{name}: not a valid base-{r} number: '{s}'"),
            }
        })
        .collect::<Result<Int64Array>>()?;
    Ok(Arc::new(out))
}

/// `to_base(n, radix)`: the lower-case digits of `n` in `radix`, with a leading `-` when negative.
fn to_base(name: &str, a: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let (n, radix) = (i64s(&a[0])?, i64s(&a[1])?);
    let out = (0..rows)
        .map(|i| {
            if n.is_null(i) || radix.is_null(i) {
                return Ok(None);
            }
            let r = check_radix(name, radix.value(i))?;
            Ok(Some(int_to_base(n.value(i), r)))
        })
        .collect::<Result<StringViewArray>>()?;
    Ok(Arc::new(out))
}

fn int_to_base(n: i64, radix: u32) -> String {
    let mut magnitude = n.unsigned_abs();
    let mut digits = Vec::new();
    loop {
        let digit = u32::try_from(magnitude % u64::from(radix)).unwrap_or(0);
        digits.push(char::from_digit(digit, radix).unwrap_or('?'));
        magnitude /= u64::from(radix);
        if magnitude == 0 {
            break;
        }
    }
    if n < 0 {
        digits.push('-');
    }
    digits.iter().rev().collect()
}

/// `random()` / `rand()`: a DOUBLE in [0, 1); `random(n)`: a BIGINT in [0, n).
fn random(a: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let mut rng = rand::rng();
    match a.first() {
        None => {
            let out: Float64Array = (0..rows).map(|_| Some(rng.random::<f64>())).collect();
            Ok(Arc::new(out))
        }
        Some(bound) => {
            let bound = i64s(bound)?;
            let mut out = Int64Array::builder(rows);
            for n in bound.iter().take(rows) {
                match n {
                    None => out.append_null(),
                    Some(n) if n <= 0 => {
                        return exec_err!("random: bound must be positive, got {n}");
                    }
                    Some(n) => out.append_value(rng.random_range(0..n)),
                }
            }
            Ok(Arc::new(out.finish()))
        }
    }
}

/// `width_bucket(x, bound1, bound2, n)`: the bucket of `x` among `n` equal-width buckets
/// between the bounds (0 below, n + 1 above; the bounds may be given in descending order).
fn width_bucket_bounds(name: &str, a: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let (x, b1, b2, n) = (f64s(&a[0])?, f64s(&a[1])?, f64s(&a[2])?, i64s(&a[3])?);
    let out = (0..rows)
        .map(|i| {
            if x.is_null(i) || b1.is_null(i) || b2.is_null(i) || n.is_null(i) {
                return Ok(None);
            }
            let (x, b1, b2, n) = (x.value(i), b1.value(i), b2.value(i), n.value(i));
            if n <= 0 {
                return exec_err!("{name}: bucket count must be greater than 0");
            }
            if x.is_nan() {
                return exec_err!("{name}: operand must not be NaN");
            }
            if !b1.is_finite() || !b2.is_finite() {
                return exec_err!("{name}: bounds must be finite");
            }
            if b1 == b2 {
                return exec_err!("{name}: bounds cannot equal each other");
            }
            let (lower, upper) = (b1.min(b2), b1.max(b2));
            let bucket = if x < lower {
                0
            } else if x >= upper {
                n.checked_add(1)
                    .ok_or_else(|| overflow(name, "bucket count"))?
            } else {
                // In [1, n]: the float-to-int conversion saturates and the ratio is below 1.
                ((n as f64) * (x - lower) / (upper - lower) + 1.0) as i64
            };
            Ok(Some(if b1 > b2 { n - bucket + 1 } else { bucket }))
        })
        .collect::<Result<Int64Array>>()?;
    Ok(Arc::new(out))
}

/// `width_bucket(x, bins)`: the number of bins (sorted ascending) that are `<= x`.
fn width_bucket_bins(name: &str, a: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let x = f64s(&a[0])?;
    let Some(bins) = a[1].as_list_opt::<i32>() else {
        return exec_err!("{name}: expected ARRAY(DOUBLE) bins");
    };
    let out = (0..rows)
        .map(|i| {
            if x.is_null(i) || bins.is_null(i) {
                return Ok(None);
            }
            let values = f64s(&bins.value(i))?;
            if values.is_empty() {
                return exec_err!("{name}: bins cannot be an empty array");
            }
            if values.null_count() > 0 {
                return exec_err!("{name}: bin values cannot be NULL");
            }
            let values = values.values();
            if let Some(bad) = values.iter().find(|v| !v.is_finite()) {
                return exec_err!("{name}: bin value must be finite, got {bad}");
            }
            if values.windows(2).any(|w| w[0] > w[1]) {
                return exec_err!("{name}: bin values are not sorted in ascending order");
            }
            let x = x.value(i);
            Ok(Some(values.partition_point(|&b| b <= x) as i64))
        })
        .collect::<Result<Int64Array>>()?;
    Ok(Arc::new(out))
}

/// `greatest`/`least`: NULL when any argument is NULL; NaN is an error, as in Presto.
fn extreme(name: &str, a: &[ArrayRef], greatest: bool) -> Result<ArrayRef> {
    for c in a.iter().filter_map(|c| c.as_primitive_opt::<Float64Type>()) {
        if c.iter().flatten().any(f64::is_nan) {
            return exec_err!("{name}: invalid argument NaN");
        }
    }
    let mut acc = a[0].clone();
    for next in &a[1..] {
        let take_next = if greatest {
            cmp::gt(next, &acc)?
        } else {
            cmp::lt(next, &acc)?
        };
        acc = zip(&take_next, next, &acc)?;
    }
    let logical: Vec<Option<NullBuffer>> = a.iter().map(|c| c.logical_nulls()).collect();
    let nulls = NullBuffer::union_many(logical.iter().map(Option::as_ref));
    let data = acc.into_data().into_builder().nulls(nulls).build()?;
    Ok(make_array(data))
}

fn def(
    name: &'static str,
    aliases: &'static [&'static str],
    op: Op,
    signature: &'static str,
    summary: &'static str,
    examples: &'static [Example],
) -> FunctionDef {
    let volatility = if op == Op::Random {
        Volatility::Volatile
    } else {
        Volatility::Immutable
    };
    let udf = op_udf(name, &[], op, volatility);
    function_def(
        Family::Math,
        name,
        aliases,
        signature,
        summary,
        examples,
        udf,
    )
}

/// The functions of this family.
pub fn functions() -> Vec<FunctionDef> {
    use Op::*;
    vec![
        def(
            "abs",
            &[],
            Abs,
            "abs(x BIGINT) -> BIGINT; abs(x DOUBLE) -> DOUBLE",
            "Absolute value of x, keeping its type. NULL when x is NULL; an error when the BIGINT result overflows.",
            &[
                ex!("abs(-30)", Some("30")),
                ex!("abs(-1.5)", Some("1.5")),
                ex!("abs(NULL)", None),
            ],
        ),
        def(
            "acos",
            &[],
            Acos,
            "acos(x DOUBLE) -> DOUBLE",
            "Arc cosine of x in radians (NaN outside [-1, 1]). NULL when x is NULL.",
            &[ex!("acos(1)", Some("0.0"))],
        ),
        def(
            "asin",
            &[],
            Asin,
            "asin(x DOUBLE) -> DOUBLE",
            "Arc sine of x in radians (NaN outside [-1, 1]). NULL when x is NULL.",
            &[ex!("asin(0)", Some("0.0"))],
        ),
        def(
            "atan",
            &[],
            Atan,
            "atan(x DOUBLE) -> DOUBLE",
            "Arc tangent of x in radians. NULL when x is NULL.",
            &[ex!("atan(0)", Some("0.0"))],
        ),
        def(
            "atan2",
            &[],
            Atan2,
            "atan2(y DOUBLE, x DOUBLE) -> DOUBLE",
            "Arc tangent of y / x in radians, using the signs of both to pick the quadrant. NULL when an argument is NULL.",
            &[
                ex!("atan2(0, 1)", Some("0.0")),
                ex!("atan2(1, 1)", Some("0.7853981633974483")),
            ],
        ),
        def(
            "cbrt",
            &[],
            Cbrt,
            "cbrt(x DOUBLE) -> DOUBLE",
            "Cube root of x. NULL when x is NULL.",
            &[ex!("cbrt(27)", Some("3.0"))],
        ),
        def(
            "ceil",
            &["ceiling"],
            Ceil,
            "ceil(x BIGINT) -> BIGINT; ceil(x DOUBLE) -> DOUBLE",
            "x rounded up to the nearest integer, keeping its type. NULL when x is NULL.",
            &[
                ex!("ceil(3.2)", Some("4.0")),
                ex!("ceiling(-3.7)", Some("-3.0")),
                ex!("ceil(5)", Some("5")),
            ],
        ),
        def(
            "cos",
            &[],
            Cos,
            "cos(x DOUBLE) -> DOUBLE",
            "Cosine of x (radians). NULL when x is NULL.",
            &[ex!("cos(0)", Some("1.0"))],
        ),
        def(
            "cosh",
            &[],
            Cosh,
            "cosh(x DOUBLE) -> DOUBLE",
            "Hyperbolic cosine of x. NULL when x is NULL.",
            &[ex!("cosh(0)", Some("1.0"))],
        ),
        def(
            "degrees",
            &[],
            Degrees,
            "degrees(x DOUBLE) -> DOUBLE",
            "Converts the angle x from radians to degrees. NULL when x is NULL.",
            &[ex!("degrees(pi())", Some("180.0"))],
        ),
        def(
            "e",
            &[],
            E,
            "e() -> DOUBLE",
            "Euler's number.",
            &[ex!("e()", Some("2.718281828459045"))],
        ),
        def(
            "exp",
            &[],
            Exp,
            "exp(x DOUBLE) -> DOUBLE",
            "Euler's number raised to the power x. NULL when x is NULL.",
            &[ex!("exp(0)", Some("1.0"))],
        ),
        def(
            "floor",
            &[],
            Floor,
            "floor(x BIGINT) -> BIGINT; floor(x DOUBLE) -> DOUBLE",
            "x rounded down to the nearest integer, keeping its type. NULL when x is NULL.",
            &[
                ex!("floor(3.7)", Some("3.0")),
                ex!("floor(-3.2)", Some("-4.0")),
                ex!("floor(5)", Some("5")),
            ],
        ),
        def(
            "from_base",
            &[],
            FromBase,
            "from_base(s VARCHAR, radix BIGINT) -> BIGINT",
            "Parses s as an integer written in base radix (2 to 36; letters either case, optional sign). NULL when an argument is NULL; an error for invalid digits or radix.",
            &[
                ex!("from_base('312', 8)", Some("202")),
                ex!("from_base('ff', 16)", Some("255")),
                ex!("from_base('-101', 2)", Some("-5")),
            ],
        ),
        def(
            "to_base",
            &[],
            ToBase,
            "to_base(n BIGINT, radix BIGINT) -> VARCHAR",
            "Writes n in base radix (2 to 36) with lower-case letters. NULL when an argument is NULL; an error for an invalid radix.",
            &[
                ex!("to_base(19, 29)", Some("j")),
                ex!("to_base(255, 16)", Some("ff")),
                ex!("to_base(-5, 2)", Some("-101")),
            ],
        ),
        def(
            "ln",
            &[],
            Ln,
            "ln(x DOUBLE) -> DOUBLE",
            "Natural logarithm of x (NaN for negative x, -Infinity for 0). NULL when x is NULL.",
            &[ex!("ln(1)", Some("0.0"))],
        ),
        def(
            "log2",
            &[],
            Log2,
            "log2(x DOUBLE) -> DOUBLE",
            "Base-2 logarithm of x. NULL when x is NULL.",
            &[ex!("log2(8)", Some("3.0"))],
        ),
        def(
            "log10",
            &[],
            Log10,
            "log10(x DOUBLE) -> DOUBLE",
            "Base-10 logarithm of x. NULL when x is NULL.",
            &[ex!("log10(1000)", Some("3.0"))],
        ),
        def(
            "log",
            &[],
            Log,
            "log(b DOUBLE, x DOUBLE) -> DOUBLE",
            "Base-b logarithm of x, computed as ln(x) / ln(b). NULL when an argument is NULL.",
            &[ex!("log(2, 1024)", Some("10.0"))],
        ),
        def(
            "mod",
            &[],
            Mod,
            "mod(a BIGINT, b BIGINT) -> BIGINT; mod(a DOUBLE, b DOUBLE) -> DOUBLE",
            "Remainder of a divided by b, with the sign of a. NULL when an argument is NULL; an error when integer b is 0 (DOUBLE gives NaN).",
            &[
                ex!("mod(1321, 8)", Some("1")),
                ex!("mod(-7, 3)", Some("-1")),
                ex!("mod(7.5, 2)", Some("1.5")),
            ],
        ),
        def(
            "pi",
            &[],
            Pi,
            "pi() -> DOUBLE",
            "The constant π.",
            &[ex!("pi()", Some("3.141592653589793"))],
        ),
        def(
            "pow",
            &["power"],
            Pow,
            "pow(x DOUBLE, p DOUBLE) -> DOUBLE",
            "x raised to the power p. NULL when an argument is NULL.",
            &[
                ex!("pow(30, 3)", Some("27000.0")),
                ex!("power(2, -1)", Some("0.5")),
            ],
        ),
        def(
            "radians",
            &[],
            Radians,
            "radians(x DOUBLE) -> DOUBLE",
            "Converts the angle x from degrees to radians. NULL when x is NULL.",
            &[ex!("radians(180)", Some("3.141592653589793"))],
        ),
        def(
            "random",
            &["rand"],
            Random,
            "random() -> DOUBLE; random(n BIGINT) -> BIGINT",
            "A pseudo-random DOUBLE in [0, 1), or with n a pseudo-random BIGINT in [0, n); a new value for every row. NULL when n is NULL; an error when n <= 0.",
            &[
                ex!("floor(random())", Some("0.0")),
                ex!("floor(rand())", Some("0.0")),
                ex!("random(1)", Some("0")),
            ],
        ),
        def(
            "round",
            &[],
            Round,
            "round(x BIGINT[, d BIGINT]) -> BIGINT; round(x DOUBLE[, d BIGINT]) -> DOUBLE",
            "x rounded half away from zero to d decimal places (default 0; negative d rounds to tens, hundreds, …), keeping its type. NULL when an argument is NULL.",
            &[
                ex!("round(2.5)", Some("3.0")),
                ex!("round(3.14159, 2)", Some("3.14")),
                ex!("round(1250, -2)", Some("1300")),
            ],
        ),
        def(
            "sign",
            &[],
            Sign,
            "sign(x BIGINT) -> BIGINT; sign(x DOUBLE) -> DOUBLE",
            "-1, 0 or 1 by the sign of x, keeping its type (NaN stays NaN). NULL when x is NULL.",
            &[ex!("sign(-5)", Some("-1")), ex!("sign(2.5)", Some("1.0"))],
        ),
        def(
            "sin",
            &[],
            Sin,
            "sin(x DOUBLE) -> DOUBLE",
            "Sine of x (radians). NULL when x is NULL.",
            &[ex!("sin(0)", Some("0.0"))],
        ),
        def(
            "sqrt",
            &[],
            Sqrt,
            "sqrt(x DOUBLE) -> DOUBLE",
            "Square root of x (NaN for negative x). NULL when x is NULL.",
            &[ex!("sqrt(16)", Some("4.0")), ex!("sqrt(-1)", Some("NaN"))],
        ),
        def(
            "tan",
            &[],
            Tan,
            "tan(x DOUBLE) -> DOUBLE",
            "Tangent of x (radians). NULL when x is NULL.",
            &[ex!("tan(0)", Some("0.0"))],
        ),
        def(
            "tanh",
            &[],
            Tanh,
            "tanh(x DOUBLE) -> DOUBLE",
            "Hyperbolic tangent of x. NULL when x is NULL.",
            &[ex!("tanh(0)", Some("0.0"))],
        ),
        def(
            "truncate",
            &[],
            Truncate,
            "truncate(x DOUBLE[, n BIGINT]) -> DOUBLE",
            "x with the digits after n decimal places dropped (default 0; negative n zeroes tens, hundreds, …). NULL when an argument is NULL.",
            &[
                ex!("truncate(19.1234567)", Some("19.0")),
                ex!("truncate(19.1234567, 3)", Some("19.123")),
                ex!("truncate(-2.7)", Some("-2.0")),
            ],
        ),
        def(
            "width_bucket",
            &[],
            WidthBucket,
            "width_bucket(x DOUBLE, bound1 DOUBLE, bound2 DOUBLE, n BIGINT) -> BIGINT; width_bucket(x DOUBLE, bins ARRAY(DOUBLE)) -> BIGINT",
            "The bucket number of x among n equal-width buckets between bound1 and bound2 (0 below, n + 1 above), or among the ascending bin edges of bins (the number of edges <= x). NULL when an argument is NULL.",
            &[
                ex!("width_bucket(500, 100, 5000, 10)", Some("1")),
                ex!("width_bucket(3, ARRAY[0, 2, 4])", Some("2")),
            ],
        ),
        def(
            "infinity",
            &[],
            Infinity,
            "infinity() -> DOUBLE",
            "Positive infinity.",
            &[ex!("infinity()", Some("Infinity"))],
        ),
        def(
            "nan",
            &[],
            Nan,
            "nan() -> DOUBLE",
            "The not-a-number value.",
            &[ex!("nan()", Some("NaN"))],
        ),
        def(
            "is_finite",
            &[],
            IsFinite,
            "is_finite(x DOUBLE) -> BOOLEAN",
            "True when x is neither infinite nor NaN. NULL when x is NULL.",
            &[
                ex!("is_finite(1)", Some("true")),
                ex!("is_finite(infinity())", Some("false")),
            ],
        ),
        def(
            "is_infinite",
            &[],
            IsInfinite,
            "is_infinite(x DOUBLE) -> BOOLEAN",
            "True when x is positive or negative infinity. NULL when x is NULL.",
            &[ex!("is_infinite(infinity())", Some("true"))],
        ),
        def(
            "is_nan",
            &[],
            IsNan,
            "is_nan(x DOUBLE) -> BOOLEAN",
            "True when x is NaN. NULL when x is NULL.",
            &[
                ex!("is_nan(nan())", Some("true")),
                ex!("is_nan(30)", Some("false")),
            ],
        ),
        def(
            "greatest",
            &[],
            Greatest,
            "greatest(x T, ...) -> T",
            "The largest argument; integers mixed with decimals compare as DOUBLE. NULL when any argument is NULL; an error for NaN.",
            &[
                ex!("greatest(1342.2, 13.1, 8.9)", Some("1342.2")),
                ex!("greatest(1, 2.5)", Some("2.5")),
                ex!("greatest(3, NULL)", None),
            ],
        ),
        def(
            "least",
            &[],
            Least,
            "least(x T, ...) -> T",
            "The smallest argument; integers mixed with decimals compare as DOUBLE. NULL when any argument is NULL; an error for NaN.",
            &[
                ex!("least(1342.2, 13.1, 8.9)", Some("8.9")),
                ex!("least('b', 'a')", Some("a")),
            ],
        ),
        function_def(
            Family::Math,
            "cosine_similarity",
            &[],
            "cosine_similarity(x ARRAY(DOUBLE), y ARRAY(DOUBLE)) -> DOUBLE; cosine_similarity(x VARCHAR, y VARCHAR) -> DOUBLE",
            "The cosine of the angle between vectors x and y, in [-1, 1]. A vector is an array of numbers or text such as '[1, 2, 3]' or '(1, 2, 3)'. NULL if an argument or an element is NULL, or a vector is all zeros; an error if the vectors differ in length or the text is not a vector.",
            &[
                ex!("cosine_similarity(ARRAY[1.0, 2.0], ARRAY[2.0, 4.0])", Some("1.0")),
                ex!("cosine_similarity(ARRAY[1, 0], ARRAY[0, 1])", Some("0.0")),
                ex!("cosine_similarity('[1, 2, 3]', '(3, 2, 1)')", Some("0.7142857142857143")),
                ex!("cosine_similarity(ARRAY[0, 0], ARRAY[1, 1])", None),
            ],
            op_udf("cosine_similarity", &[], Cosine, Volatility::Immutable),
        ),
    ]
}

/// `cosine_similarity(x, y)` over arrays of numbers or vector text (SLS vector functions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Cosine;

fn vector_arg(name: &str, pos: usize, t: &DataType) -> Result<DataType> {
    match t {
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::FixedSizeList(f, _)
        | DataType::ListView(f)
        | DataType::LargeListView(f)
            if kind(f.data_type()).is_some() || f.data_type() == &DataType::Null =>
        {
            Ok(DataType::new_list(DataType::Float64, true))
        }
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 | DataType::Null => {
            Ok(DataType::Utf8View)
        }
        t => plan_err!(
            "{name}: argument {} must be ARRAY(DOUBLE) or VARCHAR, got {t}",
            pos + 1
        ),
    }
}

/// The numbers of vector text `[1, 2.5, 3]` or `(1, 2.5, 3)`.
fn parse_vector(name: &str, text: &str) -> Result<Vec<f64>> {
    let t = text.trim();
    let inner = t
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .or_else(|| t.strip_prefix('(').and_then(|r| r.strip_suffix(')')));
    let Some(inner) = inner else {
        return exec_err!("{name}: '{text}' is not a vector such as '[1, 2, 3]'");
    };
    if inner.trim().is_empty() {
        return Ok(Vec::new());
    }
    inner
        .split(',')
        .map(|x| {
            x.trim().parse::<f64>().map_err(|_| {
                DataFusionError::Execution(format!(
                    "{name}: '{}' in '{text}' is not a number",
                    x.trim()
                ))
            })
        })
        .collect()
}

/// Row `i` of a vector argument; `None` when the vector or one of its elements is NULL.
fn vector_at(name: &str, a: &ArrayRef, i: usize) -> Result<Option<Vec<f64>>> {
    if a.is_null(i) {
        return Ok(None);
    }
    if let Some(list) = a.as_list_opt::<i32>() {
        let v = f64s(&list.value(i))?;
        if v.null_count() > 0 {
            return Ok(None);
        }
        return Ok(Some(v.values().to_vec()));
    }
    match a.as_string_view_opt() {
        Some(s) => parse_vector(name, s.value(i)).map(Some),
        None => exec_err!("{name}: expected a vector, got {}", a.data_type()),
    }
}

fn cosine(name: &str, x: &[f64], y: &[f64]) -> Result<Option<f64>> {
    if x.len() != y.len() {
        return exec_err!(
            "{name}: the vectors have different lengths ({} and {})",
            x.len(),
            y.len()
        );
    }
    let dot: f64 = x.iter().zip(y).map(|(a, b)| a * b).sum();
    let nx: f64 = x.iter().map(|a| a * a).sum();
    let ny: f64 = y.iter().map(|b| b * b).sum();
    if nx == 0.0 || ny == 0.0 {
        return Ok(None);
    }
    // One square root of the product rounds once (parallel vectors give exactly 1.0).
    Ok(Some((dot / (nx * ny).sqrt()).clamp(-1.0, 1.0)))
}

impl UdfOp for Cosine {
    fn coerce(self, name: &str, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        arity(name, arg_types, 2, 2)?;
        arg_types
            .iter()
            .enumerate()
            .map(|(i, t)| vector_arg(name, i, t))
            .collect()
    }

    fn return_type(self, _name: &str, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke(self, name: &str, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        invoke_rowwise(&args, |a, rows| {
            let out = (0..rows)
                .map(
                    |i| match (vector_at(name, &a[0], i)?, vector_at(name, &a[1], i)?) {
                        (Some(x), Some(y)) => cosine(name, &x, &y),
                        _ => Ok(None),
                    },
                )
                .collect::<Result<Float64Array>>()?;
            Ok(Arc::new(out) as ArrayRef)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array, StringViewArray};
    use arrow::datatypes::{DataType, Float64Type, Int64Type};
    use datafusion_common::ScalarValue;
    use datafusion_expr::ColumnarValue;

    use datafusion_expr::ScalarUDF;

    use super::super::testing::{
        check_examples, invoke, invoke_arrays, render, run_rendered, udf_of,
    };
    use super::*;

    fn udf(name: &str) -> Arc<ScalarUDF> {
        udf_of(&functions(), name)
    }

    fn run(name: &str, args: Vec<ScalarValue>) -> Result<Option<String>> {
        run_rendered(&functions(), name, args)
    }

    fn int(v: i64) -> ScalarValue {
        ScalarValue::Int64(Some(v))
    }

    fn dbl(v: f64) -> ScalarValue {
        ScalarValue::Float64(Some(v))
    }

    fn text(v: &str) -> ScalarValue {
        ScalarValue::Utf8View(Some(v.to_string()))
    }

    fn err(name: &str, args: Vec<ScalarValue>) -> String {
        run(name, args).expect_err("expected an error").to_string()
    }

    #[test]
    fn examples_hold() {
        check_examples(&functions());
    }

    #[test]
    fn every_function_of_the_spec_list_exists() {
        let defs = functions();
        for name in [
            "abs",
            "acos",
            "asin",
            "atan",
            "atan2",
            "cbrt",
            "ceil",
            "ceiling",
            "cos",
            "cosh",
            "degrees",
            "e",
            "exp",
            "floor",
            "from_base",
            "to_base",
            "ln",
            "log2",
            "log10",
            "log",
            "mod",
            "pi",
            "pow",
            "power",
            "radians",
            "rand",
            "random",
            "round",
            "sign",
            "sin",
            "sqrt",
            "tan",
            "tanh",
            "truncate",
            "width_bucket",
            "infinity",
            "nan",
            "is_finite",
            "is_infinite",
            "is_nan",
            "greatest",
            "least",
        ] {
            assert!(
                defs.iter()
                    .any(|d| d.name == name || d.aliases.contains(&name)),
                "{name} missing"
            );
        }
    }

    #[test]
    fn integer_results_keep_bigint_and_doubles_stay_double() {
        let abs = udf("abs");
        assert_eq!(
            abs.return_type(&[DataType::Int64]).unwrap(),
            DataType::Int64
        );
        assert_eq!(
            abs.return_type(&[DataType::Int32]).unwrap(),
            DataType::Int64
        );
        assert_eq!(
            abs.return_type(&[DataType::Float64]).unwrap(),
            DataType::Float64
        );
        assert_eq!(
            udf("sqrt").return_type(&[DataType::Int64]).unwrap(),
            DataType::Float64
        );
        assert_eq!(udf("random").return_type(&[]).unwrap(), DataType::Float64);
        assert_eq!(
            udf("random").return_type(&[DataType::Int64]).unwrap(),
            DataType::Int64
        );
        assert_eq!(
            udf("mod")
                .coerce_types(&[DataType::Int64, DataType::Float64])
                .unwrap(),
            vec![DataType::Float64, DataType::Float64]
        );
        // Text fields are accepted where numbers are expected.
        assert_eq!(
            run("round", vec![text("2.5")]).unwrap().as_deref(),
            Some("3.0")
        );
        assert_eq!(
            run("abs", vec![text("-4")]).unwrap().as_deref(),
            Some("4.0")
        );
    }

    #[test]
    fn wrong_arity_and_types_are_plan_errors() {
        assert!(udf("abs").coerce_types(&[]).is_err());
        assert!(udf("pi").coerce_types(&[DataType::Int64]).is_err());
        assert!(udf("to_base")
            .coerce_types(&[DataType::Float64, DataType::Int64])
            .is_err());
        assert!(udf("sqrt").coerce_types(&[DataType::Boolean]).is_err());
        assert!(udf("greatest")
            .coerce_types(&[DataType::Int64, DataType::Boolean])
            .is_err());
    }

    #[test]
    fn abs_overflow_is_an_error() {
        let e = err("abs", vec![int(i64::MIN)]);
        assert!(e.contains("abs: bigint overflow"), "{e}");
        assert_eq!(
            run("abs", vec![int(i64::MAX)]).unwrap().as_deref(),
            Some("9223372036854775807")
        );
    }

    #[test]
    fn null_in_null_out() {
        for name in [
            "abs", "sqrt", "ceil", "round", "sign", "is_nan", "truncate", "exp",
        ] {
            assert_eq!(run(name, vec![ScalarValue::Null]).unwrap(), None, "{name}");
        }
        assert_eq!(run("mod", vec![int(1), ScalarValue::Null]).unwrap(), None);
        assert_eq!(
            run("round", vec![dbl(1.5), ScalarValue::Int64(None)]).unwrap(),
            None
        );
        assert_eq!(
            run("from_base", vec![ScalarValue::Null, int(2)]).unwrap(),
            None
        );
        assert_eq!(
            run("to_base", vec![int(3), ScalarValue::Null]).unwrap(),
            None
        );
        assert_eq!(run("random", vec![ScalarValue::Int64(None)]).unwrap(), None);
        assert_eq!(run("least", vec![ScalarValue::Null, int(1)]).unwrap(), None);
        assert_eq!(
            run(
                "width_bucket",
                vec![ScalarValue::Null, dbl(0.0), dbl(1.0), int(4)]
            )
            .unwrap(),
            None
        );
    }

    #[test]
    fn rounding_is_half_away_from_zero_on_the_decimal_value() {
        let cases: &[(f64, i64, &str)] = &[
            (2.5, 0, "3.0"),
            (-2.5, 0, "-3.0"),
            (2.675, 2, "2.68"),
            (-2.675, 2, "-2.68"),
            (1.005, 2, "1.01"),
            (0.5, 0, "1.0"),
            (9.995, 2, "10.0"),
            (1234.5678, -2, "1200.0"),
            (1250.0, -2, "1300.0"),
            (49.0, -2, "0.0"),
            (51.0, -2, "100.0"),
            (123.0, -5, "0.0"),
            (1e300, 2, "1e300"),
            (3.0, 400, "3.0"),
        ];
        for (x, d, want) in cases {
            let got = run("round", vec![dbl(*x), int(*d)]).unwrap().unwrap();
            let want = if *want == "1e300" {
                render(&dbl(1e300)).unwrap()
            } else {
                want.to_string()
            };
            assert_eq!(got, want, "round({x}, {d})");
        }
        assert_eq!(
            run("round", vec![dbl(f64::NAN), int(2)])
                .unwrap()
                .as_deref(),
            Some("NaN")
        );
        assert_eq!(
            run("round", vec![dbl(-0.4)]).unwrap().as_deref(),
            Some("-0.0")
        );
    }

    #[test]
    fn integer_rounding() {
        assert_eq!(
            run("round", vec![int(-1250), int(-2)]).unwrap().as_deref(),
            Some("-1300")
        );
        assert_eq!(
            run("round", vec![int(1249), int(-2)]).unwrap().as_deref(),
            Some("1200")
        );
        assert_eq!(
            run("round", vec![int(7), int(3)]).unwrap().as_deref(),
            Some("7")
        );
        assert_eq!(
            run("round", vec![int(5), int(-30)]).unwrap().as_deref(),
            Some("0")
        );
        assert_eq!(
            run("round", vec![int(4_000_000_000_000_000_000), int(-19)])
                .unwrap()
                .as_deref(),
            Some("0")
        );
        assert!(err("round", vec![int(i64::MAX), int(-19)]).contains("overflow"));
        let e = err("round", vec![int(i64::MAX), int(-1)]);
        assert!(e.contains("overflow"), "{e}");
    }

    #[test]
    fn truncation() {
        let cases: &[(f64, i64, &str)] = &[
            (0.29, 2, "0.29"),
            (19.1234567, 3, "19.123"),
            (-19.1299, 2, "-19.12"),
            (1299.0, -2, "1200.0"),
            (5.0, 10, "5.0"),
        ];
        for (x, n, want) in cases {
            assert_eq!(
                run("truncate", vec![dbl(*x), int(*n)]).unwrap().as_deref(),
                Some(*want),
                "truncate({x}, {n})"
            );
        }
        assert_eq!(
            run("truncate", vec![int(7)]).unwrap().as_deref(),
            Some("7.0")
        );
    }

    #[test]
    fn mod_follows_the_dividend_and_rejects_zero() {
        assert_eq!(
            run("mod", vec![int(7), int(-3)]).unwrap().as_deref(),
            Some("1")
        );
        assert_eq!(
            run("mod", vec![int(i64::MIN), int(-1)]).unwrap().as_deref(),
            Some("0")
        );
        let e = err("mod", vec![int(7), int(0)]);
        assert!(e.contains("mod: division by zero"), "{e}");
        assert_eq!(
            run("mod", vec![dbl(7.0), int(0)]).unwrap().as_deref(),
            Some("NaN")
        );
        assert_eq!(
            run("mod", vec![dbl(-7.5), int(2)]).unwrap().as_deref(),
            Some("-1.5")
        );
    }

    #[test]
    fn sign_edge_cases() {
        assert_eq!(run("sign", vec![int(0)]).unwrap().as_deref(), Some("0"));
        assert_eq!(run("sign", vec![dbl(0.0)]).unwrap().as_deref(), Some("0.0"));
        assert_eq!(
            run("sign", vec![dbl(-3.0)]).unwrap().as_deref(),
            Some("-1.0")
        );
        assert_eq!(
            run("sign", vec![dbl(f64::NAN)]).unwrap().as_deref(),
            Some("NaN")
        );
        assert_eq!(
            run("sign", vec![int(i64::MIN)]).unwrap().as_deref(),
            Some("-1")
        );
    }

    #[test]
    fn logarithms_of_special_values() {
        assert_eq!(
            run("ln", vec![int(0)]).unwrap().as_deref(),
            Some("-Infinity")
        );
        assert_eq!(run("ln", vec![int(-1)]).unwrap().as_deref(), Some("NaN"));
        assert_eq!(
            run("log10", vec![int(100)]).unwrap().as_deref(),
            Some("2.0")
        );
        assert_eq!(
            run("is_infinite", vec![dbl(f64::NEG_INFINITY)])
                .unwrap()
                .as_deref(),
            Some("true")
        );
        assert_eq!(
            run("is_finite", vec![dbl(f64::NAN)]).unwrap().as_deref(),
            Some("false")
        );
    }

    #[test]
    fn base_conversion() {
        assert_eq!(
            run("from_base", vec![text("FF"), int(16)])
                .unwrap()
                .as_deref(),
            Some("255")
        );
        assert_eq!(
            run("from_base", vec![text("+z"), int(36)])
                .unwrap()
                .as_deref(),
            Some("35")
        );
        assert_eq!(
            run("from_base", vec![text("-8000000000000000"), int(16)])
                .unwrap()
                .as_deref(),
            Some("-9223372036854775808")
        );
        for (s, r) in [("12", 2), ("", 10), ("1 ", 10), ("8000000000000000", 16)] {
            let e = err("from_base", vec![text(s), int(r)]);
            assert!(e.contains("not a valid base"), "{s}: {e}");
        }
        for r in [1, 37, -2] {
            let e = err("from_base", vec![text("1"), int(r)]);
            assert!(e.contains("radix must be between 2 and 36"), "{e}");
            let e = err("to_base", vec![int(1), int(r)]);
            assert!(e.contains("radix must be between 2 and 36"), "{e}");
        }
        assert_eq!(
            run("to_base", vec![int(0), int(2)]).unwrap().as_deref(),
            Some("0")
        );
        assert_eq!(
            run("to_base", vec![int(35), int(36)]).unwrap().as_deref(),
            Some("z")
        );
        assert_eq!(
            run("to_base", vec![int(i64::MIN), int(16)])
                .unwrap()
                .as_deref(),
            Some("-8000000000000000")
        );
    }

    #[test]
    fn random_values_are_in_range_and_per_row() {
        let rows = 200;
        let out = invoke(&udf("random"), vec![], rows)
            .unwrap()
            .to_array(rows)
            .unwrap();
        let out = out.as_primitive::<Float64Type>();
        assert_eq!(out.len(), rows);
        assert!(out.values().iter().all(|v| (0.0..1.0).contains(v)));
        assert!(
            out.values().iter().any(|v| *v != out.value(0)),
            "all rows equal"
        );

        let out = invoke(&udf("rand"), vec![ColumnarValue::Scalar(int(5))], rows)
            .unwrap()
            .to_array(rows)
            .unwrap();
        let out = out.as_primitive::<Int64Type>();
        assert_eq!(out.len(), rows);
        assert!(out.values().iter().all(|v| (0..5).contains(v)));
        let e = err("random", vec![int(0)]);
        assert!(e.contains("bound must be positive"), "{e}");
    }

    #[test]
    fn width_bucket_bounds_and_bins() {
        let wb = |x: f64, lo: f64, hi: f64, n: i64| {
            run("width_bucket", vec![dbl(x), dbl(lo), dbl(hi), int(n)])
        };
        assert_eq!(wb(3.5, 0.0, 4.0, 3).unwrap().as_deref(), Some("3"));
        assert_eq!(wb(-1.0, 0.0, 4.0, 3).unwrap().as_deref(), Some("0"));
        assert_eq!(wb(4.0, 0.0, 4.0, 3).unwrap().as_deref(), Some("4"));
        assert_eq!(wb(3.5, 4.0, 0.0, 3).unwrap().as_deref(), Some("1"));
        assert_eq!(wb(-1.0, 4.0, 0.0, 3).unwrap().as_deref(), Some("4"));
        assert!(wb(1.0, 0.0, 4.0, 0)
            .unwrap_err()
            .to_string()
            .contains("bucket count"));
        assert!(wb(1.0, 2.0, 2.0, 3)
            .unwrap_err()
            .to_string()
            .contains("cannot equal"));
        assert!(wb(f64::NAN, 0.0, 2.0, 3).is_err());
        assert!(wb(1.0, 0.0, f64::INFINITY, 3).is_err());
        assert!(wb(1.0, 0.0, 2.0, i64::MAX).unwrap().is_some());
        assert!(wb(5.0, 0.0, 2.0, i64::MAX).is_err());

        let bins = |v: Vec<Option<f64>>| {
            ScalarValue::List(ScalarValue::new_list_nullable(
                &v.into_iter().map(ScalarValue::Float64).collect::<Vec<_>>(),
                &DataType::Float64,
            ))
        };
        let f = |x: f64, b: Vec<Option<f64>>| run("width_bucket", vec![dbl(x), bins(b)]);
        assert_eq!(
            f(-1.0, vec![Some(0.0), Some(2.0)]).unwrap().as_deref(),
            Some("0")
        );
        assert_eq!(
            f(2.0, vec![Some(0.0), Some(2.0)]).unwrap().as_deref(),
            Some("2")
        );
        assert_eq!(
            f(1.0, vec![Some(0.0), Some(2.0)]).unwrap().as_deref(),
            Some("1")
        );
        assert!(f(1.0, vec![]).unwrap_err().to_string().contains("empty"));
        assert!(f(1.0, vec![Some(2.0), Some(0.0)])
            .unwrap_err()
            .to_string()
            .contains("sorted"));
        assert!(f(1.0, vec![Some(0.0), None])
            .unwrap_err()
            .to_string()
            .contains("NULL"));
        assert!(f(1.0, vec![Some(0.0), Some(f64::NAN)]).is_err());
    }

    #[test]
    fn greatest_and_least_over_columns() {
        let a: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), Some(5), None, Some(-3)]));
        let b: ArrayRef = Arc::new(Int64Array::from(vec![Some(2), Some(4), Some(1), Some(-3)]));
        let out = invoke_arrays(&udf("greatest"), vec![a.clone(), b.clone()]).unwrap();
        let out = out.as_primitive::<Int64Type>();
        assert_eq!(
            out.iter().collect::<Vec<_>>(),
            vec![Some(2), Some(5), None, Some(-3)]
        );
        let out = invoke_arrays(&udf("least"), vec![a, b]).unwrap();
        let out = out.as_primitive::<Int64Type>();
        assert_eq!(
            out.iter().collect::<Vec<_>>(),
            vec![Some(1), Some(4), None, Some(-3)]
        );

        let s: ArrayRef = Arc::new(StringViewArray::from(vec![Some("pear"), None]));
        let t: ArrayRef = Arc::new(StringViewArray::from(vec![Some("apple"), Some("x")]));
        let out = invoke_arrays(&udf("greatest"), vec![s, t]).unwrap();
        let out = out.as_string_view();
        assert_eq!(out.iter().collect::<Vec<_>>(), vec![Some("pear"), None]);

        assert_eq!(run("greatest", vec![int(7)]).unwrap().as_deref(), Some("7"));
        assert_eq!(
            run("least", vec![int(2), dbl(1.5), int(3)])
                .unwrap()
                .as_deref(),
            Some("1.5")
        );
        let e = err("greatest", vec![dbl(f64::NAN), dbl(1.0)]);
        assert!(e.contains("NaN"), "{e}");
    }

    #[test]
    fn columns_of_mixed_nulls() {
        let x: ArrayRef = Arc::new(Float64Array::from(vec![Some(4.0), None, Some(-9.0)]));
        let out = invoke_arrays(&udf("sqrt"), vec![x]).unwrap();
        let out = out.as_primitive::<Float64Type>();
        assert_eq!(out.value(0), 2.0);
        assert!(out.is_null(1));
        assert!(out.value(2).is_nan());

        let x: ArrayRef = Arc::new(Int64Array::from(vec![Some(-1), Some(i64::MIN)]));
        assert!(invoke_arrays(&udf("abs"), vec![x]).is_err());
    }
}
