//! The aggregate functions of `stats` (spec §5.15): the table of names and accepted forms
//! ([`AggSpec::parse`]) and the column accumulators that keep one state per group
//! ([`ColumnAcc`]). HyperLogLog (`approx_distinct`), `avg`, `bool_and`/`bool_or`/`every` and
//! `arbitrary` run DataFusion accumulators; `approx_percentile` keeps DataFusion's t-digest per
//! group but feeds it itself (buffered values, one digest for all percentiles); the rest are
//! small accumulators of our own because their SLS semantics differ from DataFusion's (numbers
//! in VARCHAR text, BIGINT-vs-DOUBLE results decided by the data, NULLs kept by `array_agg`,
//! Presto's moment formulas for `skewness`/`kurtosis`).
//!
//! Argument types may change from batch to batch (a field missing in one batch is NULL-typed
//! there): numeric aggregates read integers, floats and numeric text per value; the others fix
//! the argument type at the first batch where it is not NULL and cast later batches to it.
use std::collections::HashSet;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array, StringViewArray, UInt32Array,
};
use arrow::compute::{cast_with_options, CastOptions};
use arrow::datatypes::{DataType, Field, FieldRef, Float64Type, Int64Type, Schema};
use datafusion_common::ScalarValue;
use datafusion_expr::function::AccumulatorArgs;
use datafusion_expr::{Accumulator, AggregateUDF};
use datafusion_functions_aggregate_common::tdigest::{
    TDigest, DEFAULT_MAX_SIZE as TDIGEST_MAX_SIZE,
};
use datafusion_physical_expr::expressions::{Column, Literal};
use datafusion_physical_expr::PhysicalExpr;
use spl_parser::{codes, Diagnostic, Expr, ExprKind};

pub use crate::functions::aggregates::AGGREGATES;

/// Most values `array_agg` keeps for one group: its memory grows with rows, not groups.
pub const ARRAY_AGG_MAX: usize = 100_000;
/// Most percentiles in one `approx_percentile(x, ARRAY[...])`.
const MAX_PERCENTILES: usize = 100;

/// Which aggregate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggKind {
    CountStar,
    Count,
    CountDistinct,
    CountIf,
    Min,
    Max,
    Sum,
    Avg,
    Skewness,
    Kurtosis,
    ApproxPercentile,
    ApproxDistinct,
    BoolAnd,
    BoolOr,
    Arbitrary,
    ArrayAgg,
}

/// One aggregate call of a `stats` item, checked at build time.
#[derive(Debug, Clone)]
pub struct AggSpec {
    pub kind: AggKind,
    /// The function name as written (lower case), for messages.
    pub name: String,
    /// The evaluated argument (none for `count(*)`).
    pub arg: Option<Expr>,
    /// `approx_percentile`: the percentiles, and whether they were given as an ARRAY.
    percentiles: Vec<f64>,
    percentile_array: bool,
}

fn arguments_error(e: &Expr, message: String) -> Box<Diagnostic> {
    Box::new(Diagnostic::error(
        codes::FUNCTION_ARGUMENTS,
        message,
        e.span,
        "in this aggregate",
    ))
}

fn aggregate_list() -> String {
    format!("aggregates: {}", AGGREGATES.join(", "))
}

impl AggSpec {
    /// Reads `out=<this>` of a `stats` item: one aggregate call.
    pub fn parse(e: &Expr) -> Result<AggSpec, Box<Diagnostic>> {
        let ExprKind::Call {
            name,
            args,
            distinct,
            star,
            ..
        } = &e.kind
        else {
            return Err(Box::new(
                Diagnostic::error(
                    codes::BAD_ARGUMENTS,
                    "each `stats` output must be one aggregate call, e.g. `pv=count(*)`",
                    e.span,
                    "not an aggregate call",
                )
                .with_help("compute further values with `extend` after `stats`")
                .with_note(aggregate_list()),
            ));
        };
        let kind = match name.as_str() {
            "count" if *star || args.is_empty() => AggKind::CountStar,
            "count" if *distinct => AggKind::CountDistinct,
            "count" => AggKind::Count,
            "count_if" => AggKind::CountIf,
            "min" => AggKind::Min,
            "max" => AggKind::Max,
            "sum" => AggKind::Sum,
            "avg" => AggKind::Avg,
            "skewness" => AggKind::Skewness,
            "kurtosis" => AggKind::Kurtosis,
            "approx_percentile" => AggKind::ApproxPercentile,
            "approx_distinct" => AggKind::ApproxDistinct,
            "bool_and" | "every" => AggKind::BoolAnd,
            "bool_or" => AggKind::BoolOr,
            "arbitrary" => AggKind::Arbitrary,
            "array_agg" => AggKind::ArrayAgg,
            other => return Err(unknown_aggregate(e, other)),
        };
        if *star && kind != AggKind::CountStar {
            return Err(arguments_error(
                e,
                format!("`{name}(*)`: `*` is only allowed in `count(*)`"),
            ));
        }
        if *distinct && kind != AggKind::CountDistinct {
            return Err(Box::new(
                Diagnostic::error(
                    codes::UNSUPPORTED,
                    format!("`{name}(DISTINCT ...)` is not supported"),
                    e.span,
                    "DISTINCT here",
                )
                .with_help("DISTINCT is supported in `count(DISTINCT x)`"),
            ));
        }
        let arity = match kind {
            AggKind::CountStar => 0,
            AggKind::ApproxPercentile => 2,
            _ => 1,
        };
        if args.len() != arity && !(kind == AggKind::CountStar && *star) {
            let form = match kind {
                AggKind::ApproxPercentile => "approx_percentile(x, percentile)".to_string(),
                _ => format!("{name}(x)"),
            };
            return Err(arguments_error(
                e,
                format!(
                    "`{name}` takes {arity} argument{} here, got {}",
                    if arity == 1 { "" } else { "s" },
                    args.len()
                ),
            )
            .with_help_box(format!("write `{form}`")));
        }
        let mut spec = AggSpec {
            kind,
            name: name.clone(),
            arg: args.first().cloned(),
            percentiles: Vec::new(),
            percentile_array: false,
        };
        if kind == AggKind::ApproxPercentile {
            let p = &args[1];
            let items: Vec<&Expr> = match &p.kind {
                ExprKind::Array(items) => {
                    spec.percentile_array = true;
                    items.iter().collect()
                }
                _ => vec![p],
            };
            if items.is_empty() || items.len() > MAX_PERCENTILES {
                return Err(arguments_error(
                    p,
                    format!("`approx_percentile` takes 1 to {MAX_PERCENTILES} percentiles"),
                ));
            }
            for item in items {
                let value = match &item.kind {
                    ExprKind::Literal(spl_parser::Literal::Number(n)) => n.parse::<f64>().ok(),
                    _ => None,
                };
                match value {
                    Some(v) if (0.0..=1.0).contains(&v) => spec.percentiles.push(v),
                    _ => {
                        return Err(arguments_error(
                            item,
                            "the percentile must be a number literal between 0 and 1".into(),
                        ))
                    }
                }
            }
        }
        Ok(spec)
    }

    /// A fresh accumulator for this aggregate over all groups of one run.
    pub fn accumulator(&self) -> Box<dyn ColumnAcc> {
        use datafusion_functions_aggregate as f;
        match self.kind {
            AggKind::CountStar => Box::new(CountAcc::new(CountMode::Rows)),
            AggKind::Count => Box::new(CountAcc::new(CountMode::NonNull)),
            AggKind::CountIf => Box::new(CountAcc::new(CountMode::True)),
            AggKind::CountDistinct => Box::new(DistinctAcc::default()),
            AggKind::Sum => Box::new(SumAcc::default()),
            AggKind::Min => Box::new(MinMaxAcc::new(false)),
            AggKind::Max => Box::new(MinMaxAcc::new(true)),
            AggKind::Skewness => Box::new(MomentsAcc::new(false)),
            AggKind::Kurtosis => Box::new(MomentsAcc::new(true)),
            AggKind::ArrayAgg => Box::new(ArrayAggAcc::default()),
            AggKind::Avg => Box::new(DfColumn {
                input: Input::Double,
                df: DfAcc::new(f::average::avg_udaf(), vec![], DataType::Float64),
            }),
            AggKind::BoolAnd => Box::new(DfColumn {
                input: Input::Boolean(self.name.clone()),
                df: DfAcc::new(f::bool_and_or::bool_and_udaf(), vec![], DataType::Boolean),
            }),
            AggKind::BoolOr => Box::new(DfColumn {
                input: Input::Boolean(self.name.clone()),
                df: DfAcc::new(f::bool_and_or::bool_or_udaf(), vec![], DataType::Boolean),
            }),
            AggKind::Arbitrary => Box::new(DfColumn {
                input: Input::AsIs,
                df: DfAcc::new(f::any_value::any_value_udaf(), vec![], DataType::Null),
            }),
            AggKind::ApproxDistinct => Box::new(DfColumn {
                input: Input::AsIs,
                df: DfAcc::new(
                    f::approx_distinct::approx_distinct_udaf(),
                    vec![],
                    DataType::UInt64,
                ),
            }),
            AggKind::ApproxPercentile => Box::new(PercentileAcc {
                percentiles: self.percentiles.clone(),
                array: self.percentile_array,
                all_int: true,
                groups: Vec::new(),
            }),
        }
    }
}

trait WithHelpBox {
    fn with_help_box(self, help: String) -> Self;
}
impl WithHelpBox for Box<Diagnostic> {
    fn with_help_box(self, help: String) -> Self {
        Box::new((*self).with_help(help))
    }
}

fn unknown_aggregate(e: &Expr, name: &str) -> Box<Diagnostic> {
    if crate::functions::lookup(name).is_some() {
        return Box::new(
            Diagnostic::error(
                codes::BAD_ARGUMENTS,
                format!("`{name}` is not an aggregate function"),
                e.span,
                "not an aggregate",
            )
            .with_help("apply scalar functions with `extend` before or after `stats`")
            .with_note(aggregate_list()),
        );
    }
    let help = spl_parser::suggest::did_you_mean(name, AGGREGATES.iter().copied())
        .map(|s| format!("did you mean `{s}`?"));
    Box::new(
        Diagnostic::error(
            codes::UNKNOWN_FUNCTION,
            format!("unknown aggregate function `{name}`"),
            e.span,
            "no such aggregate",
        )
        .with_help_opt(help)
        .with_note(aggregate_list()),
    )
}

/// The rows of one batch by group: `gids[row]` is the row's group (`None`: the row is not
/// aggregated, e.g. beyond the group cap); `parts` lists each group's rows in first-seen order.
pub struct Grouping {
    pub gids: Vec<Option<usize>>,
    pub parts: Vec<(usize, UInt32Array)>,
    /// Number of groups so far (all runs of the state).
    pub groups: usize,
    /// True when `parts` has one group holding every row of the batch (no `take` needed).
    pub whole: bool,
}

impl Grouping {
    /// The rows of `values` in `part`.
    fn slice(&self, values: &ArrayRef, rows: &UInt32Array) -> Result<ArrayRef, String> {
        if self.whole {
            Ok(Arc::clone(values))
        } else {
            arrow::compute::take(values.as_ref(), rows, None).map_err(|e| e.to_string())
        }
    }

    /// `(row, group)` for every aggregated row.
    fn rows(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.gids
            .iter()
            .enumerate()
            .filter_map(|(r, g)| g.map(|g| (r, g)))
    }
}

/// Reports `elements` handled and `bytes` an accumulator grew by to the budget in force.
fn spend(elements: usize, bytes: usize) -> Result<(), String> {
    crate::budget::tick(elements)
        .and_then(|()| crate::budget::charge(bytes))
        .map_err(|e| e.to_string())
}

/// The state of one aggregate over all groups of a run.
pub trait ColumnAcc: Send {
    /// Adds one batch: `arg` is the evaluated argument for every row of the batch (`None` for
    /// `count(*)`).
    fn update(&mut self, groups: &Grouping, arg: Option<&ArrayRef>) -> Result<(), String>;
    /// One value per group `0..groups`.
    fn finish(&mut self, groups: usize) -> Result<ArrayRef, String>;
}

/// The SPL name of an Arrow type, for messages.
pub fn spl_type(t: &DataType) -> String {
    match t {
        DataType::Utf8 | DataType::Utf8View => "VARCHAR".into(),
        DataType::LargeUtf8 => "JSON".into(),
        DataType::Boolean => "BOOLEAN".into(),
        DataType::Int8 => "TINYINT".into(),
        DataType::Int16 => "SMALLINT".into(),
        DataType::Int32 => "INTEGER".into(),
        DataType::Int64 => "BIGINT".into(),
        DataType::Float32 => "REAL".into(),
        DataType::Float64 => "DOUBLE".into(),
        DataType::Timestamp(_, _) => "TIMESTAMP".into(),
        DataType::Date32 => "DATE".into(),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => "VARBINARY".into(),
        DataType::List(_) | DataType::LargeList(_) => "ARRAY".into(),
        DataType::Map(_, _) => "MAP".into(),
        DataType::Struct(_) => "ROW".into(),
        other => other.to_string(),
    }
}

fn safe_cast(a: &ArrayRef, to: &DataType) -> Result<ArrayRef, String> {
    let options = CastOptions {
        safe: true,
        ..Default::default()
    };
    cast_with_options(a.as_ref(), to, &options).map_err(|e| e.to_string())
}

/// `a` in the type fixed by the first batch where the argument was not NULL-typed; `None` when
/// `a` is all NULL by type.
fn conform(a: &ArrayRef, ty: &mut Option<DataType>) -> Result<Option<ArrayRef>, String> {
    if a.data_type() == &DataType::Null {
        return Ok(None);
    }
    match ty {
        None => {
            *ty = Some(a.data_type().clone());
            Ok(Some(Arc::clone(a)))
        }
        Some(t) if t == a.data_type() => Ok(Some(Arc::clone(a))),
        Some(t) => safe_cast(a, t).map(Some).map_err(|e| {
            format!(
                "argument type changed from {} to {}: {e}",
                spl_type(t),
                spl_type(a.data_type())
            )
        }),
    }
}

/// Validity of each row, `NullArray` included (its `is_valid` says true).
fn validity(a: &dyn Array) -> impl Fn(usize) -> bool + '_ {
    let nulls = a.logical_nulls();
    let all_null = a.data_type() == &DataType::Null;
    move |row| !all_null && nulls.as_ref().is_none_or(|n| n.is_valid(row))
}

/// A number read from an argument: integers stay exact.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    I(i64),
    F(f64),
}

impl Num {
    pub fn to_f64(self) -> f64 {
        match self {
            Num::I(i) => i as f64,
            Num::F(f) => f,
        }
    }

    fn total_cmp(self, other: Num) -> std::cmp::Ordering {
        match (self, other) {
            (Num::I(a), Num::I(b)) => a.cmp(&b),
            (a, b) => a.to_f64().total_cmp(&b.to_f64()),
        }
    }
}

/// Reads text as a number per spec §18.2: an integer when it is one, a DOUBLE otherwise,
/// `None` when it is not a number. Surrounding whitespace is ignored.
pub fn parse_number(s: &str) -> Option<Num> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    if let Ok(i) = t.parse::<i64>() {
        return Some(Num::I(i));
    }
    t.parse::<f64>().ok().map(Num::F)
}

/// An argument read as numbers: integer and floating columns, or text parsed per value.
enum NumCol {
    Null,
    Int(Int64Array),
    Float(Float64Array),
    Text(StringViewArray),
}

impl NumCol {
    /// `None` when the type holds neither numbers nor text.
    fn of(a: &ArrayRef) -> Result<Option<NumCol>, String> {
        let t = a.data_type();
        Ok(Some(if t == &DataType::Null {
            NumCol::Null
        } else if crate::expr::coerce::is_integral(t) {
            NumCol::Int(
                safe_cast(a, &DataType::Int64)?
                    .as_primitive::<Int64Type>()
                    .clone(),
            )
        } else if crate::expr::coerce::is_numeric(t) {
            NumCol::Float(
                safe_cast(a, &DataType::Float64)?
                    .as_primitive::<Float64Type>()
                    .clone(),
            )
        } else if matches!(t, DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8) {
            NumCol::Text(safe_cast(a, &DataType::Utf8View)?.as_string_view().clone())
        } else {
            return Ok(None);
        }))
    }

    /// The same, or an error naming the aggregate when the type is not numeric.
    fn require(a: &ArrayRef, name: &str) -> Result<NumCol, String> {
        NumCol::of(a)?
            .ok_or_else(|| format!("`{name}` needs a number, got {}", spl_type(a.data_type())))
    }

    fn num(&self, row: usize) -> Option<Num> {
        match self {
            NumCol::Null => None,
            NumCol::Int(a) => a.is_valid(row).then(|| Num::I(a.value(row))),
            NumCol::Float(a) => a.is_valid(row).then(|| Num::F(a.value(row))),
            NumCol::Text(a) => {
                if a.is_valid(row) {
                    parse_number(a.value(row))
                } else {
                    None
                }
            }
        }
    }

    /// The numbers as DOUBLE (non-numeric text → NULL), and whether all of them are integers.
    fn doubles(&self, rows: usize) -> (ArrayRef, bool) {
        let mut all_int = true;
        let values: Float64Array = (0..rows)
            .map(|r| {
                self.num(r).map(|n| {
                    all_int &= matches!(n, Num::I(_));
                    n.to_f64()
                })
            })
            .collect();
        (Arc::new(values), all_int)
    }
}

fn grow<T: Default>(v: &mut Vec<T>, n: usize) {
    if v.len() < n {
        v.resize_with(n, T::default);
    }
}

/// The argument as BOOLEAN: booleans as they are, text `true`/`false` cast (other text NULL).
fn booleans(a: &ArrayRef, name: &str) -> Result<Option<BooleanArray>, String> {
    match a.data_type() {
        DataType::Null => Ok(None),
        DataType::Boolean => Ok(Some(a.as_boolean().clone())),
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 => {
            Ok(Some(safe_cast(a, &DataType::Boolean)?.as_boolean().clone()))
        }
        other => Err(format!("`{name}` needs a boolean, got {}", spl_type(other))),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CountMode {
    /// `count(*)`: every row.
    Rows,
    /// `count(x)`: non-NULL values.
    NonNull,
    /// `count_if(b)`: TRUE values.
    True,
}

struct CountAcc {
    mode: CountMode,
    counts: Vec<i64>,
}

impl CountAcc {
    fn new(mode: CountMode) -> CountAcc {
        CountAcc {
            mode,
            counts: Vec::new(),
        }
    }
}

impl ColumnAcc for CountAcc {
    fn update(&mut self, groups: &Grouping, arg: Option<&ArrayRef>) -> Result<(), String> {
        grow(&mut self.counts, groups.groups);
        match (self.mode, arg) {
            (CountMode::Rows, _) | (_, None) => {
                for (_, g) in groups.rows() {
                    self.counts[g] += 1;
                }
            }
            (CountMode::NonNull, Some(a)) => {
                let valid = validity(a.as_ref());
                for (r, g) in groups.rows() {
                    self.counts[g] += i64::from(valid(r));
                }
            }
            (CountMode::True, Some(a)) => {
                if let Some(b) = booleans(a, "count_if")? {
                    for (r, g) in groups.rows() {
                        self.counts[g] += i64::from(b.is_valid(r) && b.value(r));
                    }
                }
            }
        }
        Ok(())
    }

    fn finish(&mut self, groups: usize) -> Result<ArrayRef, String> {
        grow(&mut self.counts, groups);
        Ok(Arc::new(Int64Array::from(self.counts[..groups].to_vec())))
    }
}

/// `count(DISTINCT x)`: exact, so its memory grows with the distinct values.
#[derive(Default)]
struct DistinctAcc {
    ty: Option<DataType>,
    sets: Vec<HashSet<ScalarValue>>,
}

impl ColumnAcc for DistinctAcc {
    fn update(&mut self, groups: &Grouping, arg: Option<&ArrayRef>) -> Result<(), String> {
        grow(&mut self.sets, groups.groups);
        let Some(a) = arg.map(|a| conform(a, &mut self.ty)).transpose()?.flatten() else {
            return Ok(());
        };
        for (r, g) in groups.rows() {
            if a.is_valid(r) {
                let v = ScalarValue::try_from_array(a.as_ref(), r).map_err(|e| e.to_string())?;
                let bytes = v.size() + 16;
                if self.sets[g].insert(v) {
                    spend(1, bytes)?;
                }
            }
        }
        Ok(())
    }

    fn finish(&mut self, groups: usize) -> Result<ArrayRef, String> {
        grow(&mut self.sets, groups);
        Ok(Arc::new(Int64Array::from_iter_values(
            self.sets[..groups].iter().map(|s| s.len() as i64),
        )))
    }
}

#[derive(Default, Clone, Copy)]
struct SumState {
    int: i128,
    float: f64,
    n: u64,
}

/// `sum`: BIGINT when every value of the column was an integer (and the sums fit), DOUBLE
/// otherwise; numeric text counts, other text is ignored.
struct SumAcc {
    st: Vec<SumState>,
    all_int: bool,
}

impl Default for SumAcc {
    fn default() -> Self {
        SumAcc {
            st: Vec::new(),
            all_int: true,
        }
    }
}

impl ColumnAcc for SumAcc {
    fn update(&mut self, groups: &Grouping, arg: Option<&ArrayRef>) -> Result<(), String> {
        grow(&mut self.st, groups.groups);
        let Some(a) = arg else { return Ok(()) };
        let col = NumCol::require(a, "sum")?;
        for (r, g) in groups.rows() {
            let s = &mut self.st[g];
            match col.num(r) {
                Some(Num::I(i)) => s.int = s.int.saturating_add(i128::from(i)),
                Some(Num::F(f)) => {
                    s.float += f;
                    self.all_int = false;
                }
                None => continue,
            }
            s.n += 1;
        }
        Ok(())
    }

    fn finish(&mut self, groups: usize) -> Result<ArrayRef, String> {
        grow(&mut self.st, groups);
        let st = &self.st[..groups];
        let fits = st.iter().all(|s| i64::try_from(s.int).is_ok());
        Ok(if self.all_int && fits {
            Arc::new(
                st.iter()
                    .map(|s| (s.n > 0).then_some(s.int as i64))
                    .collect::<Int64Array>(),
            )
        } else {
            Arc::new(
                st.iter()
                    .map(|s| (s.n > 0).then_some(s.int as f64 + s.float))
                    .collect::<Float64Array>(),
            )
        })
    }
}

/// `min`/`max`. The result keeps the argument's type, like `sort`: numbers compare numerically
/// and give BIGINT (every value an integer) or DOUBLE; VARCHAR (and JSON text) compares as text
/// in byte order and gives the text — numeric-looking text is not read as a number; other types
/// (TIMESTAMP, DATE, BOOLEAN …) compare in their own order. Whether the argument is text or a
/// number is fixed by the first batch where it is typed; a later batch of the other kind is
/// read that way (numbers as their text, text as numbers with non-numeric text skipped).
struct MinMaxAcc {
    max: bool,
    num: Vec<Option<Num>>,
    text: Vec<Option<String>>,
    other: Vec<Option<ScalarValue>>,
    other_ty: Option<DataType>,
    /// The text type of the argument when it is compared as text (`None`: as numbers).
    text_ty: Option<Option<DataType>>,
    all_int: bool,
    any_num: bool,
}

impl MinMaxAcc {
    fn new(max: bool) -> MinMaxAcc {
        MinMaxAcc {
            max,
            num: Vec::new(),
            text: Vec::new(),
            other: Vec::new(),
            other_ty: None,
            text_ty: None,
            all_int: true,
            any_num: false,
        }
    }

    fn better(&self, ord: std::cmp::Ordering) -> bool {
        if self.max {
            ord == std::cmp::Ordering::Greater
        } else {
            ord == std::cmp::Ordering::Less
        }
    }
}

impl ColumnAcc for MinMaxAcc {
    fn update(&mut self, groups: &Grouping, arg: Option<&ArrayRef>) -> Result<(), String> {
        grow(&mut self.num, groups.groups);
        grow(&mut self.text, groups.groups);
        grow(&mut self.other, groups.groups);
        let Some(a) = arg else { return Ok(()) };
        let t = a.data_type();
        let is_text = matches!(t, DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8);
        if is_text || crate::expr::coerce::is_numeric(t) {
            let as_text = self
                .text_ty
                .get_or_insert_with(|| is_text.then(|| t.clone()))
                .is_some();
            if as_text {
                let col = safe_cast(a, &DataType::Utf8View)?;
                let col = col.as_string_view();
                for (r, g) in groups.rows() {
                    if !col.is_valid(r) {
                        continue;
                    }
                    let s = col.value(r);
                    let take = self.text[g]
                        .as_deref()
                        .is_none_or(|old| self.better(s.cmp(old)));
                    if take {
                        self.text[g] = Some(s.to_string());
                    }
                }
                return Ok(());
            }
            let col = NumCol::require(a, if self.max { "max" } else { "min" })?;
            for (r, g) in groups.rows() {
                if let Some(n) = col.num(r) {
                    self.any_num = true;
                    self.all_int &= matches!(n, Num::I(_));
                    let take = self.num[g].is_none_or(|old| self.better(n.total_cmp(old)));
                    if take {
                        self.num[g] = Some(n);
                    }
                }
            }
            return Ok(());
        }
        let Some(a) = conform(a, &mut self.other_ty)? else {
            return Ok(());
        };
        for (r, g) in groups.rows() {
            if !a.is_valid(r) {
                continue;
            }
            let v = ScalarValue::try_from_array(a.as_ref(), r).map_err(|e| e.to_string())?;
            let take = match &self.other[g] {
                None => true,
                Some(old) => v.partial_cmp(old).is_some_and(|o| self.better(o)),
            };
            if take {
                self.other[g] = Some(v);
            }
        }
        Ok(())
    }

    fn finish(&mut self, groups: usize) -> Result<ArrayRef, String> {
        grow(&mut self.num, groups);
        grow(&mut self.text, groups);
        grow(&mut self.other, groups);
        if let Some(Some(ty)) = &self.text_ty {
            let text: ArrayRef = Arc::new(StringViewArray::from_iter(
                self.text[..groups].iter().map(|s| s.as_deref()),
            ));
            return if ty == &DataType::LargeUtf8 {
                safe_cast(&text, ty)
            } else {
                Ok(text)
            };
        }
        if self.any_num {
            return Ok(if self.all_int {
                Arc::new(
                    self.num[..groups]
                        .iter()
                        .map(|n| match n {
                            Some(Num::I(i)) => Some(*i),
                            _ => None,
                        })
                        .collect::<Int64Array>(),
                )
            } else {
                Arc::new(
                    self.num[..groups]
                        .iter()
                        .map(|n| n.map(Num::to_f64))
                        .collect::<Float64Array>(),
                )
            });
        }
        if let Some(ty) = &self.other_ty {
            let null = ScalarValue::try_new_null(ty).map_err(|e| e.to_string())?;
            let values = self.other[..groups]
                .iter()
                .map(|v| v.clone().unwrap_or_else(|| null.clone()));
            return ScalarValue::iter_to_array(values).map_err(|e| e.to_string());
        }
        Ok(arrow::array::new_null_array(&DataType::Null, groups))
    }
}

/// Central moments, updated per value (numerically stable one-pass form).
#[derive(Default, Clone, Copy)]
struct Moments {
    n: f64,
    mean: f64,
    m2: f64,
    m3: f64,
    m4: f64,
}

impl Moments {
    fn add(&mut self, x: f64) {
        let n1 = self.n;
        self.n += 1.0;
        let n = self.n;
        let delta = x - self.mean;
        let delta_n = delta / n;
        let delta_n2 = delta_n * delta_n;
        let term1 = delta * delta_n * n1;
        self.mean += delta_n;
        self.m4 += term1 * delta_n2 * (n * n - 3.0 * n + 3.0) + 6.0 * delta_n2 * self.m2
            - 4.0 * delta_n * self.m3;
        self.m3 += term1 * delta_n * (n - 2.0) - 3.0 * delta_n * self.m2;
        self.m2 += term1;
    }

    /// Presto's `skewness`: NULL below 3 values.
    fn skewness(&self) -> Option<f64> {
        (self.n >= 3.0).then(|| self.n.sqrt() * self.m3 / self.m2.powf(1.5))
    }

    /// Presto's `kurtosis` (excess, sample-corrected): NULL below 4 values.
    fn kurtosis(&self) -> Option<f64> {
        let n = self.n;
        (n >= 4.0).then(|| {
            ((n - 1.0) * n * (n + 1.0)) / ((n - 2.0) * (n - 3.0)) * self.m4 / (self.m2 * self.m2)
                - 3.0 * ((n - 1.0) * (n - 1.0)) / ((n - 2.0) * (n - 3.0))
        })
    }
}

struct MomentsAcc {
    kurtosis: bool,
    st: Vec<Moments>,
}

impl MomentsAcc {
    fn new(kurtosis: bool) -> MomentsAcc {
        MomentsAcc {
            kurtosis,
            st: Vec::new(),
        }
    }
}

impl ColumnAcc for MomentsAcc {
    fn update(&mut self, groups: &Grouping, arg: Option<&ArrayRef>) -> Result<(), String> {
        grow(&mut self.st, groups.groups);
        let Some(a) = arg else { return Ok(()) };
        let name = if self.kurtosis {
            "kurtosis"
        } else {
            "skewness"
        };
        let col = NumCol::require(a, name)?;
        for (r, g) in groups.rows() {
            if let Some(n) = col.num(r) {
                self.st[g].add(n.to_f64());
            }
        }
        Ok(())
    }

    fn finish(&mut self, groups: usize) -> Result<ArrayRef, String> {
        grow(&mut self.st, groups);
        Ok(Arc::new(
            self.st[..groups]
                .iter()
                .map(|m| {
                    if self.kurtosis {
                        m.kurtosis()
                    } else {
                        m.skewness()
                    }
                })
                .collect::<Float64Array>(),
        ))
    }
}

/// `array_agg`: every value in arrival order, NULLs included (Presto).
#[derive(Default)]
struct ArrayAggAcc {
    ty: Option<DataType>,
    lists: Vec<Option<Vec<ScalarValue>>>,
}

impl ColumnAcc for ArrayAggAcc {
    fn update(&mut self, groups: &Grouping, arg: Option<&ArrayRef>) -> Result<(), String> {
        grow(&mut self.lists, groups.groups);
        let Some(a) = arg else { return Ok(()) };
        let a = conform(a, &mut self.ty)?;
        for (r, g) in groups.rows() {
            let v = match &a {
                Some(a) => ScalarValue::try_from_array(a.as_ref(), r).map_err(|e| e.to_string())?,
                None => ScalarValue::Null,
            };
            spend(1, v.size())?;
            let list = self.lists[g].get_or_insert_with(Vec::new);
            if list.len() >= ARRAY_AGG_MAX {
                return Err(format!(
                    "`array_agg` collected more than {ARRAY_AGG_MAX} values in one group"
                ));
            }
            list.push(v);
        }
        Ok(())
    }

    fn finish(&mut self, groups: usize) -> Result<ArrayRef, String> {
        grow(&mut self.lists, groups);
        let ty = self.ty.clone().unwrap_or(DataType::Null);
        let null = ScalarValue::try_new_null(&ty).map_err(|e| e.to_string())?;
        let lists = self.lists[..groups].iter().map(|l| match l {
            None => ScalarValue::try_new_null(&DataType::new_list(ty.clone(), true))
                .unwrap_or(ScalarValue::Null),
            Some(values) => {
                let values: Vec<ScalarValue> = values
                    .iter()
                    .map(|v| if v.is_null() { null.clone() } else { v.clone() })
                    .collect();
                ScalarValue::List(ScalarValue::new_list_nullable(&values, &ty))
            }
        });
        ScalarValue::iter_to_array(lists).map_err(|e| e.to_string())
    }
}

/// A DataFusion aggregate with one accumulator per group, created on the group's first value.
struct DfAcc {
    udaf: Arc<AggregateUDF>,
    literals: Vec<ScalarValue>,
    /// The argument type, fixed by the first batch where it is not NULL-typed.
    ty: Option<DataType>,
    /// The result type when the argument never had a type.
    fallback: DataType,
    proto: Option<Proto>,
    accs: Vec<Option<Box<dyn Accumulator>>>,
}

/// What a DataFusion accumulator is created from.
struct Proto {
    schema: Schema,
    exprs: Vec<Arc<dyn PhysicalExpr>>,
    fields: Vec<FieldRef>,
    ret: FieldRef,
}

impl DfAcc {
    fn new(udaf: Arc<AggregateUDF>, literals: Vec<ScalarValue>, fallback: DataType) -> DfAcc {
        DfAcc {
            udaf,
            literals,
            ty: None,
            fallback,
            proto: None,
            accs: Vec::new(),
        }
    }

    fn proto(&mut self, ty: &DataType) -> Result<&Proto, String> {
        if self.proto.is_none() {
            let mut fields: Vec<FieldRef> = vec![Arc::new(Field::new("x", ty.clone(), true))];
            let mut exprs: Vec<Arc<dyn PhysicalExpr>> = vec![Arc::new(Column::new("x", 0))];
            for (i, l) in self.literals.iter().enumerate() {
                fields.push(Arc::new(Field::new(format!("l{i}"), l.data_type(), true)));
                exprs.push(Arc::new(Literal::new(l.clone())));
            }
            let ret = self.udaf.return_field(&fields).map_err(|e| e.to_string())?;
            let schema = Schema::new(fields.clone());
            self.proto = Some(Proto {
                schema,
                exprs,
                fields,
                ret,
            });
        }
        self.proto
            .as_ref()
            .ok_or_else(|| "no accumulator".to_string())
    }

    fn create(&self) -> Result<Box<dyn Accumulator>, String> {
        let p = self
            .proto
            .as_ref()
            .ok_or_else(|| "no accumulator".to_string())?;
        self.udaf
            .accumulator(AccumulatorArgs {
                return_field: Arc::clone(&p.ret),
                schema: &p.schema,
                ignore_nulls: true,
                order_bys: &[],
                is_reversed: false,
                name: self.udaf.name(),
                is_distinct: false,
                exprs: &p.exprs,
                expr_fields: &p.fields,
            })
            .map_err(|e| e.to_string())
    }

    fn update(&mut self, groups: &Grouping, values: &ArrayRef) -> Result<(), String> {
        grow(&mut self.accs, groups.groups);
        let Some(values) = conform(values, &mut self.ty)? else {
            return Ok(());
        };
        let ty = values.data_type().clone();
        self.proto(&ty)?;
        for (g, rows) in &groups.parts {
            let part = groups.slice(&values, rows)?;
            if self.accs[*g].is_none() {
                self.accs[*g] = Some(self.create()?);
                spend(0, self.accs[*g].as_ref().map_or(0, |a| a.size()))?;
            }
            if let Some(acc) = self.accs[*g].as_mut() {
                let before = acc.size();
                acc.update_batch(&[part]).map_err(|e| e.to_string())?;
                spend(rows.len(), acc.size().saturating_sub(before))?;
            }
        }
        Ok(())
    }

    fn finish(&mut self, groups: usize) -> Result<ArrayRef, String> {
        grow(&mut self.accs, groups);
        if self.proto.is_none() {
            return Ok(arrow::array::new_null_array(&self.fallback, groups));
        }
        let mut values = Vec::with_capacity(groups);
        for g in 0..groups {
            let mut acc = match self.accs[g].take() {
                Some(acc) => acc,
                None => self.create()?,
            };
            values.push(acc.evaluate().map_err(|e| e.to_string())?);
        }
        if values.is_empty() {
            let ty = self.proto.as_ref().map(|p| p.ret.data_type().clone());
            return Ok(arrow::array::new_empty_array(&ty.unwrap_or(DataType::Null)));
        }
        ScalarValue::iter_to_array(values).map_err(|e| e.to_string())
    }
}

/// How a DataFusion-backed aggregate reads its argument.
enum Input {
    /// Numbers and numeric text as DOUBLE.
    Double,
    /// BOOLEAN (text `true`/`false` cast); the aggregate's name for messages.
    Boolean(String),
    /// Any type, fixed by the first typed batch.
    AsIs,
}

struct DfColumn {
    input: Input,
    df: DfAcc,
}

impl ColumnAcc for DfColumn {
    fn update(&mut self, groups: &Grouping, arg: Option<&ArrayRef>) -> Result<(), String> {
        let Some(a) = arg else { return Ok(()) };
        let values: ArrayRef = match &self.input {
            Input::Double => NumCol::require(a, "avg")?.doubles(a.len()).0,
            Input::Boolean(name) => match booleans(a, name)? {
                Some(b) => Arc::new(b),
                None => return Ok(()),
            },
            Input::AsIs => Arc::clone(a),
        };
        self.df.update(groups, &values)
    }

    fn finish(&mut self, groups: usize) -> Result<ArrayRef, String> {
        let out = self.df.finish(groups)?;
        // approx_distinct counts in UInt64; SPL has BIGINT.
        if out.data_type() == &DataType::UInt64 {
            return safe_cast(&out, &DataType::Int64);
        }
        Ok(out)
    }
}

/// `approx_percentile(x, p)` / `approx_percentile(x, ARRAY[p, ...])`: one t-digest per group
/// (DataFusion's, as its `approx_percentile_cont` keeps, 100 centroids) serves every
/// percentile; BIGINT (rounded) when every value was an integer, DOUBLE otherwise.
///
/// A group's values wait in a buffer of up to [`PENDING_VALUES`] and are merged into its digest
/// sorted, together: merging costs about the digest's size each time, so merging a few values
/// per batch (a group's share of one chunk) spent more on merging than on the values. A group
/// with no more than that many values is exactly one merge of all of them.
struct PercentileAcc {
    percentiles: Vec<f64>,
    array: bool,
    all_int: bool,
    groups: Vec<GroupDigest>,
}

/// Values a group keeps before merging them into its digest.
const PENDING_VALUES: usize = 256;

#[derive(Default)]
struct GroupDigest {
    digest: Option<TDigest>,
    pending: Vec<f64>,
}

impl GroupDigest {
    fn merge_pending(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        self.pending.sort_unstable_by(f64::total_cmp);
        let digest = self
            .digest
            .get_or_insert_with(|| TDigest::new(TDIGEST_MAX_SIZE));
        *digest = digest.merge_sorted_f64(&self.pending);
        self.pending.clear();
    }
}

impl ColumnAcc for PercentileAcc {
    fn update(&mut self, groups: &Grouping, arg: Option<&ArrayRef>) -> Result<(), String> {
        let Some(a) = arg else { return Ok(()) };
        let col = NumCol::require(a, "approx_percentile")?;
        grow(&mut self.groups, groups.groups);
        let mut grew = 0;
        for (row, g) in groups.rows() {
            let Some(n) = col.num(row) else { continue };
            self.all_int &= matches!(n, Num::I(_));
            let group = &mut self.groups[g];
            if group.pending.capacity() == 0 {
                group.pending.reserve_exact(PENDING_VALUES);
                grew += PENDING_VALUES * std::mem::size_of::<f64>()
                    + std::mem::size_of::<TDigest>()
                    + TDIGEST_MAX_SIZE * 2 * std::mem::size_of::<f64>();
            }
            group.pending.push(n.to_f64());
            if group.pending.len() == PENDING_VALUES {
                group.merge_pending();
            }
        }
        spend(a.len(), grew)
    }

    fn finish(&mut self, groups: usize) -> Result<ArrayRef, String> {
        grow(&mut self.groups, groups);
        for g in &mut self.groups {
            g.merge_pending();
        }
        let mut columns = Vec::with_capacity(self.percentiles.len());
        for &p in &self.percentiles {
            let c: ArrayRef = Arc::new(
                self.groups[..groups]
                    .iter()
                    .map(|g| {
                        g.digest
                            .as_ref()
                            .filter(|d| d.count() > 0.0)
                            .map(|d| d.estimate_quantile(p))
                    })
                    .collect::<Float64Array>(),
            );
            columns.push(if self.all_int {
                let rounded: Int64Array = c
                    .as_primitive::<Float64Type>()
                    .iter()
                    .map(|v| v.map(|v| v.round() as i64))
                    .collect();
                Arc::new(rounded) as ArrayRef
            } else {
                c
            });
        }
        if !self.array {
            return columns
                .pop()
                .ok_or_else(|| "approx_percentile without a percentile".to_string());
        }
        let ty = if self.all_int {
            DataType::Int64
        } else {
            DataType::Float64
        };
        let mut lists = Vec::with_capacity(groups);
        for g in 0..groups {
            let values = columns
                .iter()
                .map(|c| ScalarValue::try_from_array(c.as_ref(), g))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())?;
            lists.push(if values.iter().all(ScalarValue::is_null) {
                ScalarValue::try_new_null(&DataType::new_list(ty.clone(), true))
                    .map_err(|e| e.to_string())?
            } else {
                ScalarValue::List(ScalarValue::new_list_nullable(&values, &ty))
            });
        }
        if lists.is_empty() {
            return Ok(arrow::array::new_empty_array(&DataType::new_list(ty, true)));
        }
        ScalarValue::iter_to_array(lists).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expr(spl_expr: &str) -> Expr {
        let program = spl_parser::parse(&format!("* | stats x={spl_expr}")).unwrap();
        match &program.statements[0].pipeline.stages[0].kind {
            spl_parser::InstructionKind::Stats { aggregates, .. } => aggregates[0].value.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn numbers_in_text() {
        assert_eq!(parse_number("42"), Some(Num::I(42)));
        assert_eq!(parse_number(" -7 "), Some(Num::I(-7)));
        assert_eq!(parse_number("1.5"), Some(Num::F(1.5)));
        assert_eq!(parse_number("1e3"), Some(Num::F(1000.0)));
        assert_eq!(parse_number("-"), None);
        assert_eq!(parse_number(""), None);
        assert_eq!(parse_number("12abc"), None);
        // Beyond BIGINT: read as DOUBLE rather than lost.
        assert_eq!(parse_number("99999999999999999999"), Some(Num::F(1e20)));
    }

    #[test]
    fn mixed_numbers_compare_by_value() {
        use std::cmp::Ordering;
        assert_eq!(Num::I(10).total_cmp(Num::I(9)), Ordering::Greater);
        assert_eq!(Num::I(2).total_cmp(Num::F(2.5)), Ordering::Less);
        assert_eq!(Num::F(-0.5).total_cmp(Num::I(0)), Ordering::Less);
    }

    #[test]
    fn one_pass_moments_match_the_two_pass_sums() {
        let xs = [3.0, 7.5, -2.0, 11.0, 4.25, 4.25, 100.0];
        let mut m = Moments::default();
        for x in xs {
            m.add(x);
        }
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let central = |p: i32| xs.iter().map(|x| (x - mean).powi(p)).sum::<f64>();
        assert!((m.m2 - central(2)).abs() < 1e-6);
        assert!((m.m3 - central(3)).abs() < 1e-4);
        assert!((m.m4 - central(4)).abs() < 1e-2);
        let mut two = Moments::default();
        two.add(1.0);
        two.add(2.0);
        assert_eq!(two.skewness(), None);
        assert_eq!(two.kurtosis(), None);
    }

    #[test]
    fn aggregate_forms() {
        assert_eq!(
            AggSpec::parse(&expr("count(*)")).unwrap().kind,
            AggKind::CountStar
        );
        assert_eq!(
            AggSpec::parse(&expr("count(a)")).unwrap().kind,
            AggKind::Count
        );
        assert_eq!(
            AggSpec::parse(&expr("count(distinct a)")).unwrap().kind,
            AggKind::CountDistinct
        );
        assert_eq!(
            AggSpec::parse(&expr("every(a = 1)")).unwrap().kind,
            AggKind::BoolAnd
        );
        let p = AggSpec::parse(&expr("approx_percentile(a, ARRAY[0.5, 0.99])")).unwrap();
        assert_eq!(p.percentiles, vec![0.5, 0.99]);
        assert!(p.percentile_array);
        for bad in [
            "sum(*)",
            "approx_percentile(a, b)",
            "approx_percentile(a)",
            "min(a, 3)",
            "avg(distinct a)",
        ] {
            assert!(AggSpec::parse(&expr(bad)).is_err(), "{bad}");
        }
        let d = AggSpec::parse(&expr("approx_distnct(a)")).unwrap_err();
        assert_eq!(d.help.as_deref(), Some("did you mean `approx_distinct`?"));
    }
}
