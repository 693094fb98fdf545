//! The logical plan, owned by the engine: a program as statements (chains) over `*` or a
//! `.let` dataset, each a list of typed stages. A stage says what it computes (its expressions
//! and outputs), which fields it reads, writes and removes, whether it can fail, and which
//! stages as written it runs. The plan is built from the AST ([`lower()`]), rewritten by
//! the optimizer (`optimize/`) as plain functions over these types, and turned into operators last
//! ([`physical`]). `spl explain` renders it ([`render()`]).
mod analysis;
mod fields;
mod lower;
pub mod physical;
mod render;

use spl_parser::ast::{
    Assignment, Expr, ExprKind, GroupKey, Ident, Instruction, InstructionKind, ProjectItem, Rename,
    SortKey,
};

pub use analysis::{
    input_fields, observed_dynamic_outputs, rows_unchanged, splice_edit, unused_outputs,
    FieldSelection,
};
pub use fields::{columns, Fields};
pub use lower::lower;
pub use render::{render, render_chain};

/// A program: its statements in order and the datasets it emits.
#[derive(Debug, Clone)]
pub struct Program {
    pub chains: Vec<Chain>,
    pub outputs: Vec<Output>,
}

/// An emitted dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// The dataset name for `$name;`, else `output<N>` (1-based among outputs).
    pub name: String,
    /// Index into [`Program::chains`].
    pub chain: usize,
}

/// One statement: its input, its stages, and its dataset name when it is a `.let`.
#[derive(Debug, Clone)]
pub struct Chain {
    /// `.let` name.
    pub name: Option<String>,
    pub source: Source,
    pub stages: Vec<Stage>,
    /// Index of the statement in the program (0-based).
    pub statement: usize,
}

/// Where a chain's rows come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `*`: the input.
    Input,
    /// `$name`: the chain at this index of [`Program::chains`].
    Dataset { name: String, chain: usize },
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Input => f.write_str("*"),
            Source::Dataset { name, .. } => write!(f, "${name}"),
        }
    }
}

/// A stage as written in the statement: its 0-based index and its instruction name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Part {
    pub stage: usize,
    pub instruction: &'static str,
}

/// One stage of a chain.
#[derive(Debug, Clone)]
pub struct Stage {
    pub op: Op,
    /// The stages as written that this stage runs, in the order [`crate::ops::ErrorRows::part`]
    /// numbers them: one, unless the optimizer combined several.
    pub parts: Vec<Part>,
}

/// A `where` condition with the part (index into [`Stage::parts`]) it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Predicate {
    pub expr: Expr,
    pub part: usize,
}

/// An `extend` assignment with the part (index into [`Stage::parts`]) it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Assign {
    pub assignment: Assignment,
    pub part: usize,
}

/// A `parse-regexp` stage.
#[derive(Debug, Clone)]
pub struct ParseRegexp {
    pub instr: Box<Instruction>,
    pub field: String,
    /// The pattern in RE2 syntax with `-flags` inline (`(?i)…`).
    pub source: String,
    /// The output names, from `as` or the named groups (`None` when the pattern does not
    /// compile: the physical step reports it).
    pub outputs: Option<Vec<String>>,
    /// The number of capture groups (with the whole match), 0 when it does not compile.
    pub groups: usize,
    /// Outputs the optimizer found nothing reads: not extracted.
    pub pruned: Vec<String>,
    /// A literal every match contains: rows without it skip the regex.
    pub prefilter: Option<Vec<u8>>,
}

/// What a stage computes: one variant per instruction, and the ones the optimizer makes.
#[derive(Debug, Clone)]
pub enum Op {
    /// `where`; several conditions when the optimizer merged adjacent `where`s: each runs on
    /// the rows the previous one kept.
    Where(Vec<Predicate>),
    /// `extend`; the assignments of adjacent `extend`s when merged, in order.
    Extend(Vec<Assign>),
    Project {
        items: Vec<ProjectItem>,
        wildcard: bool,
    },
    ProjectAway {
        patterns: Vec<Ident>,
        wildcard: bool,
    },
    ProjectRename {
        renames: Vec<Rename>,
    },
    ParseRegexp(Box<ParseRegexp>),
    ParseCsv {
        instr: Box<Instruction>,
        field: String,
        outputs: Vec<String>,
    },
    ParseJson {
        instr: Box<Instruction>,
        field: String,
        prefix: String,
        /// Set by the optimizer: only these output fields are written.
        only: Option<Vec<String>>,
    },
    ParseKv {
        instr: Box<Instruction>,
        field: String,
    },
    ExpandValues {
        instr: Box<Instruction>,
        field: String,
        output: String,
    },
    PackFields {
        instr: Box<Instruction>,
        output: String,
        keep: bool,
    },
    LogToMetric {
        instr: Box<Instruction>,
    },
    MetricToMetric {
        instr: Box<Instruction>,
    },
    Stats {
        aggregates: Vec<Assignment>,
        group_by: Vec<GroupKey>,
        /// At most this many groups (scan profiles without a later `limit`).
        max_groups: Option<usize>,
    },
    Sort {
        keys: Vec<SortKey>,
    },
    Limit {
        offset: Option<u64>,
        count: u64,
    },
    /// `make-series`: one row per `by` group.
    MakeSeries {
        instr: Box<Instruction>,
    },
    /// `render`: rows pass unchanged; the output carries the chart spec.
    Render {
        instr: Box<Instruction>,
    },
    /// A `where` moved ahead of the stages that preceded it (filter pushdown): the filter runs
    /// first, then `stages`; when the filter fails on a row of a batch, the batch runs in the
    /// order written. Parts: the `where`'s, then each stage's in turn.
    FilterFirst {
        filter: Vec<Predicate>,
        stages: Vec<Stage>,
    },
    /// A `parse-regexp` (`extract`, an [`Op::ParseRegexp`] stage) and the `where` right after
    /// it that reads some of its outputs (late extraction): the outputs the condition does not
    /// read are written only for the rows it keeps. Parts: the extraction's, then the
    /// `where`'s (its conditions numbered after the extraction's parts).
    LateExtract {
        extract: Box<Stage>,
        filter: Vec<Predicate>,
    },
}

impl Stage {
    /// The stage as written at `index` of its statement.
    pub fn written(op: Op, index: usize) -> Stage {
        let instruction = op.name();
        Stage {
            op,
            parts: vec![Part {
                stage: index,
                instruction,
            }],
        }
    }

    /// The instruction name.
    pub fn name(&self) -> &'static str {
        self.op.name()
    }

    /// The stage in canonical SPL (merged `where`s one after the other; for a pushed-down
    /// `where`, its condition).
    pub fn text(&self) -> String {
        render::text(self)
    }

    /// True when the stage keeps every row and fails for no row and no batch (beyond internal
    /// Arrow errors): a `where` may then run before it without changing results.
    pub fn never_fails(&self) -> bool {
        match &self.op {
            Op::Project { .. }
            | Op::ProjectAway { .. }
            | Op::ProjectRename { .. }
            | Op::ParseRegexp(_)
            | Op::ParseCsv { .. }
            | Op::Render { .. } => true,
            // Copies of fields and literals into fields other than the time fields.
            Op::Extend(assignments) => assignments.iter().all(|a| {
                !crate::batch::is_time_field(&a.assignment.output.name)
                    && matches!(
                        a.assignment.value.kind,
                        ExprKind::Column(_) | ExprKind::Literal(_)
                    )
            }),
            _ => false,
        }
    }

    /// True when the stage can fail for a row or a batch, or drop rows.
    pub fn can_fail(&self) -> bool {
        !self.never_fails()
    }

    /// True for stages that keep state across batches (`stats`, `sort`, `limit`).
    pub fn is_buffering(&self) -> bool {
        matches!(
            self.op,
            Op::Stats { .. } | Op::Sort { .. } | Op::Limit { .. } | Op::MakeSeries { .. }
        )
    }

    /// True when the stage only chooses rows and leaves them unchanged (`where`, `limit`).
    pub fn only_chooses_rows(&self) -> bool {
        matches!(self.op, Op::Where(_) | Op::Limit { .. })
    }

    /// True when the stage writes each of its fields on every row it outputs (`extend`), so
    /// a later stage can never see the input's value of one. The others (`parse-*` when
    /// nothing matches or a key is missing, `expand-values`, `project-rename` without its
    /// source, ...) may leave a field as it came.
    pub fn writes_every_row(&self) -> bool {
        matches!(self.op, Op::Extend(_))
    }

    /// True when the stage drops every field it does not name (`project`, `stats`).
    pub fn keeps_only_named(&self) -> bool {
        matches!(
            self.op,
            Op::Project { .. } | Op::Stats { .. } | Op::MakeSeries { .. }
        )
    }

    /// True when the stage makes field `name` disappear before any later stage could read it:
    /// `project` or `stats` (which keep only what they name and read), or a `project-away` that
    /// names it (not by pattern).
    pub fn drops(&self, name: &str) -> bool {
        match &self.op {
            Op::Project { .. } | Op::Stats { .. } | Op::MakeSeries { .. } => true,
            Op::ProjectAway {
                patterns,
                wildcard: false,
            } => patterns.iter().any(|p| p.name == name),
            _ => false,
        }
    }

    /// The expressions of the stage that rewrites may change while keeping their value
    /// (`where` conditions, `extend` values).
    pub fn expressions_mut(&mut self) -> Vec<&mut Expr> {
        match &mut self.op {
            Op::Where(predicates)
            | Op::FilterFirst {
                filter: predicates, ..
            }
            | Op::LateExtract {
                filter: predicates, ..
            } => predicates.iter_mut().map(|p| &mut p.expr).collect(),
            Op::Extend(assignments) => assignments
                .iter_mut()
                .map(|a| &mut a.assignment.value)
                .collect(),
            _ => Vec::new(),
        }
    }
}

impl Op {
    /// The instruction name (a pushed-down `where` is `where`).
    pub fn name(&self) -> &'static str {
        match self {
            Op::Where(_) | Op::FilterFirst { .. } => "where",
            Op::Extend(_) => "extend",
            Op::Project { .. } => "project",
            Op::ProjectAway { .. } => "project-away",
            Op::ProjectRename { .. } => "project-rename",
            Op::ParseRegexp(_) | Op::LateExtract { .. } => "parse-regexp",
            Op::ParseCsv { .. } => "parse-csv",
            Op::ParseJson { .. } => "parse-json",
            Op::ParseKv { .. } => "parse-kv",
            Op::ExpandValues { .. } => "expand-values",
            Op::PackFields { .. } => "pack-fields",
            Op::LogToMetric { .. } => "log-to-metric",
            Op::MetricToMetric { .. } => "metric-to-metric",
            Op::Stats { .. } => "stats",
            Op::Sort { .. } => "sort",
            Op::Limit { .. } => "limit",
            Op::MakeSeries { .. } => "make-series",
            Op::Render { .. } => "render",
        }
    }
}

/// The outputs of `extract` (a `parse-regexp`) that `filter` (a `where` right after it) does
/// not read, when there are some and the names are known.
pub fn late_outputs(extract: &Stage, filter: &Stage) -> Option<Vec<String>> {
    let (Op::ParseRegexp(_), Op::Where(_)) = (&extract.op, &filter.op) else {
        return None;
    };
    let (Fields::Named(writes), Fields::Named(reads)) = (extract.writes(), filter.reads()) else {
        return None;
    };
    let late: Vec<String> = writes.into_iter().filter(|w| !reads.contains(w)).collect();
    (!late.is_empty()).then_some(late)
}

/// The instruction of a stage with expressions, for its canonical text.
fn instruction(kind: InstructionKind) -> Instruction {
    Instruction {
        kind,
        options: Vec::new(),
        span: spl_parser::Span::new(0, 0),
    }
}
