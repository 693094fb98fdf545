//! The typed SPL syntax tree. Every node carries a byte [`Span`] into the source text; spans are
//! ignored by equality and hashing, so trees compare by structure (as sqlparser-rs does).
//! `Display` on these types is the canonical printer (see [`crate::print`]).
use std::hash::{Hash, Hasher};

use serde::Serialize;

/// A byte range `start..end` in the SPL source. Always equal to every other span.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }
    /// The smallest span covering both.
    pub fn join(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

impl PartialEq for Span {
    fn eq(&self, _: &Span) -> bool {
        true
    }
}
impl Eq for Span {}
impl Hash for Span {
    fn hash<H: Hasher>(&self, _: &mut H) {}
}

/// A whole program: `;`-separated statements.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Program {
    pub statements: Vec<Statement>,
    pub span: Span,
}

/// `.let name = pipeline` (when `name` is set) or a pipeline whose result is emitted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Statement {
    pub name: Option<Ident>,
    pub pipeline: Pipeline,
    pub span: Span,
}

/// A source and its stages.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Pipeline {
    pub source: Source,
    pub stages: Vec<Instruction>,
    pub span: Span,
}

/// Where a pipeline's rows come from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum Source {
    /// `*`: the input events of the scenario.
    Star(Span),
    /// `$name`: a dataset defined earlier by `.let`.
    Dataset(Ident),
}

/// A name: a field, a dataset, an output. Quoting is not kept: the printer quotes when needed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A single-quoted string literal, already unescaped (`''` → `'`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct StrLit {
    pub value: String,
    pub span: Span,
}

/// One pipeline stage with its validated options.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Instruction {
    pub kind: InstructionKind,
    pub options: Vec<Opt>,
    pub span: Span,
}

impl Instruction {
    /// The option with this canonical name (without `-`), if given.
    pub fn option(&self, name: &str) -> Option<&Opt> {
        self.options.iter().find(|o| o.name == name)
    }
    /// True when the switch (or valued option) `name` is present.
    pub fn has(&self, name: &str) -> bool {
        self.option(name).is_some()
    }
    /// The text value of option `name` (string, char or word options).
    pub fn text(&self, name: &str) -> Option<&str> {
        self.option(name).and_then(|o| match &o.value {
            OptValue::Text(s) => Some(s.as_str()),
            _ => None,
        })
    }
    /// The list value of option `name`.
    pub fn list(&self, name: &str) -> Option<&[String]> {
        self.option(name).and_then(|o| match &o.value {
            OptValue::List(v) => Some(v.as_slice()),
            _ => None,
        })
    }
    /// The integer value of option `name`.
    pub fn int(&self, name: &str) -> Option<i64> {
        self.option(name).and_then(|o| match o.value {
            OptValue::Int(i) => Some(i),
            _ => None,
        })
    }
}

/// An instruction option such as `-wildcard` or `-delim='|'`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Opt {
    /// Canonical name without the leading `-` (e.g. `delim`, `kv-sep`).
    pub name: &'static str,
    pub value: OptValue,
    pub span: Span,
}

/// A validated option value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum OptValue {
    /// A switch: present, no value.
    Switch,
    /// Text: string options are raw (backslashes kept); char options are escape-decoded.
    Text(String),
    /// An integer option.
    Int(i64),
    /// A list of names (`-names='a, b'` or `-names=[a, b]`).
    List(Vec<String>),
}

/// The instruction-specific part of a stage (options are on [`Instruction`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum InstructionKind {
    Project {
        items: Vec<ProjectItem>,
    },
    ProjectAway {
        patterns: Vec<Ident>,
    },
    ProjectRename {
        renames: Vec<Rename>,
    },
    ExpandValues {
        field: Ident,
        output: Option<Ident>,
    },
    Extend {
        assignments: Vec<Assignment>,
    },
    Where {
        predicate: Expr,
    },
    /// `outputs` empty: outputs come from the pattern's named groups.
    ParseRegexp {
        field: Ident,
        pattern: StrLit,
        outputs: Vec<Ident>,
    },
    ParseCsv {
        field: Ident,
        outputs: Vec<Ident>,
    },
    ParseJson {
        field: Ident,
    },
    /// `args`: none (old `-delims` form), `[pattern]` (with `-regexp`) or `[delim, kv_sep]`.
    ParseKv {
        field: Ident,
        args: Vec<StrLit>,
    },
    PackFields {
        output: Ident,
    },
    LogToMetric,
    MetricToMetric,
    Stats {
        aggregates: Vec<Assignment>,
        group_by: Vec<GroupKey>,
    },
    Sort {
        keys: Vec<SortKey>,
    },
    Limit {
        offset: Option<u64>,
        count: u64,
    },
    /// `make-series` (scan mode): `series` outputs over the time axis `time`, one row per
    /// `by` group.
    MakeSeries {
        series: Vec<SeriesItem>,
        time: Ident,
        range: Option<SeriesRange>,
        by: Vec<Ident>,
    },
    /// `render <chart> [with (...)]` (scan mode, last stage): the rows pass unchanged and the
    /// host draws them as a `chart` (its name as written, lower-cased).
    Render {
        chart: Ident,
        properties: Vec<RenderProperty>,
    },
}

impl InstructionKind {
    /// The instruction's name as written in SPL.
    pub fn name(&self) -> &'static str {
        match self {
            InstructionKind::Project { .. } => "project",
            InstructionKind::ProjectAway { .. } => "project-away",
            InstructionKind::ProjectRename { .. } => "project-rename",
            InstructionKind::ExpandValues { .. } => "expand-values",
            InstructionKind::Extend { .. } => "extend",
            InstructionKind::Where { .. } => "where",
            InstructionKind::ParseRegexp { .. } => "parse-regexp",
            InstructionKind::ParseCsv { .. } => "parse-csv",
            InstructionKind::ParseJson { .. } => "parse-json",
            InstructionKind::ParseKv { .. } => "parse-kv",
            InstructionKind::PackFields { .. } => "pack-fields",
            InstructionKind::LogToMetric => "log-to-metric",
            InstructionKind::MetricToMetric => "metric-to-metric",
            InstructionKind::Stats { .. } => "stats",
            InstructionKind::Sort { .. } => "sort",
            InstructionKind::Limit { .. } => "limit",
            InstructionKind::MakeSeries { .. } => "make-series",
            InstructionKind::Render { .. } => "render",
        }
    }
}

/// `field` (keep) or `output=field` (keep under a new name) in `project`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ProjectItem {
    pub output: Option<Ident>,
    pub field: Ident,
}

/// `output=field` in `project-rename`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Rename {
    pub output: Ident,
    pub field: Ident,
}

/// `output = expr` in `extend` and `stats`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Assignment {
    pub output: Ident,
    pub value: Expr,
}

/// A `stats ... by` key: an expression with an optional output name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct GroupKey {
    pub output: Option<Ident>,
    pub value: Expr,
}

/// `[output =] field [default = value]` in `make-series`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct SeriesItem {
    pub output: Ident,
    pub field: Ident,
    /// The fill strategy as written (`'last'`, `0`, `null`), if any.
    pub default: Option<SeriesValue>,
}

/// `from <begin> to <end> step <step>` in `make-series`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct SeriesRange {
    pub from: SeriesValue,
    pub to: SeriesValue,
    pub step: SeriesValue,
}

/// A `make-series` value: a quoted string (unescaped) or a bare word/number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct SeriesValue {
    pub text: String,
    /// Written in single quotes.
    pub quoted: bool,
    pub span: Span,
}

/// `name = value[, value ...]` in `render ... with (...)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct RenderProperty {
    /// The property name as written, lower-cased.
    pub name: Ident,
    /// One value, or several for a list property (`ycolumns = a, b`).
    pub values: Vec<SeriesValue>,
}

/// A `sort` key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct SortKey {
    pub value: Expr,
    pub descending: bool,
}

/// An SQL expression (§6).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

impl Expr {
    /// Calls `f(child, is_lambda_body)` for each direct child expression.
    pub fn for_each_child(&self, f: &mut dyn FnMut(&Expr, bool)) {
        use ExprKind as K;
        match &self.kind {
            K::Column(_) | K::Literal(_) => {}
            K::Unary { expr, .. } | K::IsNull { expr, .. } => f(expr, false),
            K::Cast { expr, .. } => f(expr, false),
            K::Binary { left, right, .. } => {
                f(left, false);
                f(right, false);
            }
            K::Like {
                expr,
                pattern,
                escape,
                ..
            } => {
                f(expr, false);
                f(pattern, false);
                if let Some(x) = escape {
                    f(x, false);
                }
            }
            K::InList { expr, list, .. } => {
                f(expr, false);
                list.iter().for_each(|x| f(x, false));
            }
            K::Between {
                expr, low, high, ..
            } => {
                f(expr, false);
                f(low, false);
                f(high, false);
            }
            K::Subscript { expr, index } => {
                f(expr, false);
                f(index, false);
            }
            K::Case {
                operand,
                whens,
                otherwise,
            } => {
                if let Some(x) = operand {
                    f(x, false);
                }
                for (w, t) in whens {
                    f(w, false);
                    f(t, false);
                }
                if let Some(x) = otherwise {
                    f(x, false);
                }
            }
            K::Array(items) | K::Row(items) => items.iter().for_each(|x| f(x, false)),
            K::Call { args, .. } => args.iter().for_each(|x| f(x, false)),
            K::Lambda { body, .. } => f(body, true),
        }
    }

    /// Calls `f(child, is_lambda_body)` for each direct child expression, mutably.
    pub fn for_each_child_mut(&mut self, f: &mut dyn FnMut(&mut Expr, bool)) {
        use ExprKind as K;
        match &mut self.kind {
            K::Column(_) | K::Literal(_) => {}
            K::Unary { expr, .. } | K::IsNull { expr, .. } => f(expr, false),
            K::Cast { expr, .. } => f(expr, false),
            K::Binary { left, right, .. } => {
                f(left, false);
                f(right, false);
            }
            K::Like {
                expr,
                pattern,
                escape,
                ..
            } => {
                f(expr, false);
                f(pattern, false);
                if let Some(x) = escape {
                    f(x, false);
                }
            }
            K::InList { expr, list, .. } => {
                f(expr, false);
                list.iter_mut().for_each(|x| f(x, false));
            }
            K::Between {
                expr, low, high, ..
            } => {
                f(expr, false);
                f(low, false);
                f(high, false);
            }
            K::Subscript { expr, index } => {
                f(expr, false);
                f(index, false);
            }
            K::Case {
                operand,
                whens,
                otherwise,
            } => {
                if let Some(x) = operand {
                    f(x, false);
                }
                for (w, t) in whens {
                    f(w, false);
                    f(t, false);
                }
                if let Some(x) = otherwise {
                    f(x, false);
                }
            }
            K::Array(items) | K::Row(items) => items.iter_mut().for_each(|x| f(x, false)),
            K::Call { args, .. } => args.iter_mut().for_each(|x| f(x, false)),
            K::Lambda { body, .. } => f(body, true),
        }
    }

    pub fn new(kind: ExprKind, span: Span) -> Expr {
        Expr { kind, span }
    }
}

/// The kinds of expression.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum ExprKind {
    /// A field reference; a missing field is NULL.
    Column(String),
    Literal(Literal),
    Unary {
        op: UnaryOp,
        expr: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
    Like {
        expr: Box<Expr>,
        pattern: Box<Expr>,
        escape: Option<Box<Expr>>,
        negated: bool,
    },
    InList {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    Between {
        expr: Box<Expr>,
        low: Box<Expr>,
        high: Box<Expr>,
        negated: bool,
    },
    /// `expr[index]`: 1-based for arrays, a key for maps.
    Subscript {
        expr: Box<Expr>,
        index: Box<Expr>,
    },
    Case {
        operand: Option<Box<Expr>>,
        whens: Vec<(Expr, Expr)>,
        otherwise: Option<Box<Expr>>,
    },
    Cast {
        expr: Box<Expr>,
        ty: TypeName,
        try_cast: bool,
    },
    /// `ARRAY[...]`
    Array(Vec<Expr>),
    /// `(a, b, ...)`: a row constructor.
    Row(Vec<Expr>),
    /// A function call. `name` is lower case. `niladic`: written without parentheses
    /// (`current_date`).
    Call {
        name: String,
        args: Vec<Expr>,
        distinct: bool,
        star: bool,
        niladic: bool,
    },
    /// `x -> body` / `(a, b) -> body`, only as a function argument.
    Lambda {
        params: Vec<String>,
        body: Box<Expr>,
    },
}

/// A literal value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum Literal {
    /// Unescaped string content.
    String(String),
    /// Number text as written (`23`, `3.14`, `1e3`).
    Number(String),
    Bool(bool),
    Null,
}

/// Prefix operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum UnaryOp {
    Not,
    Neg,
    Plus,
}

/// Infix operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    IsDistinctFrom,
    IsNotDistinctFrom,
    Concat,
    Plus,
    Minus,
    Multiply,
    Divide,
    Modulo,
}

impl BinaryOp {
    /// The operator as written canonically.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "OR",
            BinaryOp::And => "AND",
            BinaryOp::Eq => "=",
            BinaryOp::NotEq => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::LtEq => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::GtEq => ">=",
            BinaryOp::IsDistinctFrom => "IS DISTINCT FROM",
            BinaryOp::IsNotDistinctFrom => "IS NOT DISTINCT FROM",
            BinaryOp::Concat => "||",
            BinaryOp::Plus => "+",
            BinaryOp::Minus => "-",
            BinaryOp::Multiply => "*",
            BinaryOp::Divide => "/",
            BinaryOp::Modulo => "%",
        }
    }
}

/// A type in `CAST(x AS type)`: lower-case base name and parameters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct TypeName {
    pub name: String,
    pub params: Vec<TypeParam>,
    pub span: Span,
}

/// A type parameter: a length/precision or a nested type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum TypeParam {
    Int(u64),
    Type(TypeName),
}
