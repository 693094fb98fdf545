//! Stage 1: SPL text → AST. Runs the lexical pre-check, the pest grammar (`grammar/spl.pest`),
//! then builds typed nodes with spans, validating options and structure as it goes.
use std::sync::LazyLock;

use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};
use pest::Parser;

use crate::ast::*;
use crate::codes;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::instructions::{self, InstructionDef, OptKind};
use crate::{charlit, prescan, syntax_error};

use crate::grammar::Rule;
use crate::grammar::SplGrammar;

/// Parses a program. Errors (and any warnings found before them) come back as diagnostics.
pub fn parse(src: &str) -> Result<Program, Diagnostics> {
    match parse_with_warnings(src) {
        (Some(p), d) if !d.has_errors() => Ok(p),
        (_, d) => Err(d),
    }
}

/// Parses a program and returns it (when there is no error) with all diagnostics, warnings
/// included.
pub fn parse_with_warnings(src: &str) -> (Option<Program>, Diagnostics) {
    let mut diags = Diagnostics::new();
    if let Err(d) = prescan::check(src) {
        diags.push(d);
        return (None, diags);
    }
    if src.trim().is_empty() || only_comments(src) {
        diags.push(
            Diagnostic::error(
                codes::EMPTY_PROGRAM,
                "the program is empty",
                Span::new(0, src.len()),
                "no statement here",
            )
            .with_help("a minimal program is `*`, which passes every row through"),
        );
        return (None, diags);
    }
    let pairs = match SplGrammar::parse(Rule::program, src) {
        Ok(p) => p,
        Err(_) => {
            diags.push(syntax_error::translate(src, &parse_with_detail(src)));
            return (None, diags);
        }
    };
    let mut builder = Builder {
        src,
        diags: Diagnostics::new(),
    };
    let mut program = builder.program(pairs);
    normal_form_words(&mut program);
    diags.extend(builder.diags);
    if !diags.has_errors() {
        crate::validate::program(&program, &mut diags);
    }
    let ok = !diags.has_errors();
    (ok.then_some(program), diags)
}

/// Re-parses a text that failed, with pest's attempt tracking on (it costs several times the
/// parse, so valid programs never pay for it). The switch is process-global: a parse running
/// concurrently on another thread may also track attempts, which only costs it time.
fn parse_with_detail(src: &str) -> pest::error::Error<Rule> {
    pest::set_error_detail(true);
    let result = SplGrammar::parse(Rule::program, src);
    pest::set_error_detail(false);
    match result {
        Err(e) => e,
        Ok(_) => unreachable!("the grammar is deterministic: a text that failed fails again"),
    }
}

fn only_comments(src: &str) -> bool {
    SplGrammar::parse(Rule::only_trivia, src).is_ok()
}

fn span_of(p: &Pair<'_, Rule>) -> Span {
    let s = p.as_span();
    Span::new(s.start(), s.end())
}

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::op_or, Assoc::Left))
        .op(Op::infix(Rule::op_and, Assoc::Left))
        .op(Op::prefix(Rule::op_not))
        .op(Op::infix(Rule::op_eq, Assoc::Left)
            | Op::infix(Rule::op_ne, Assoc::Left)
            | Op::infix(Rule::op_lt, Assoc::Left)
            | Op::infix(Rule::op_le, Assoc::Left)
            | Op::infix(Rule::op_gt, Assoc::Left)
            | Op::infix(Rule::op_ge, Assoc::Left)
            | Op::infix(Rule::op_is_distinct, Assoc::Left)
            | Op::infix(Rule::op_is_not_distinct, Assoc::Left)
            | Op::postfix(Rule::is_null)
            | Op::postfix(Rule::like)
            | Op::postfix(Rule::in_list)
            | Op::postfix(Rule::between))
        .op(Op::infix(Rule::op_concat, Assoc::Left))
        .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
        .op(Op::infix(Rule::op_mul, Assoc::Left)
            | Op::infix(Rule::op_div, Assoc::Left)
            | Op::infix(Rule::op_mod, Assoc::Left))
        .op(Op::prefix(Rule::op_neg) | Op::prefix(Rule::op_plus))
        .op(Op::postfix(Rule::subscript))
});

/// Names that, written bare without parentheses, are calls of niladic functions.
const NILADIC: &[&str] = &[
    "current_date",
    "current_time",
    "current_timestamp",
    "localtime",
    "localtimestamp",
];

/// The fields of `EXTRACT(field FROM x)` (Presto's list), lower case.
pub const EXTRACT_FIELDS: &[&str] = &[
    "year",
    "quarter",
    "month",
    "week",
    "day",
    "day_of_month",
    "day_of_week",
    "dow",
    "day_of_year",
    "doy",
    "year_of_week",
    "yow",
    "hour",
    "minute",
    "second",
    "timezone_hour",
    "timezone_minute",
];

/// The field of `EXTRACT(field FROM x)` as a string literal, checked (E1014), and the operand.
/// Kept out of the recursive `primary` so that its frame stays small.
#[inline(never)]
fn extract_parts(p: Pair<'_, Rule>) -> Result<(Expr, Pair<'_, Rule>), Diagnostic> {
    let mut it = p
        .into_inner()
        .filter(|x| !matches!(x.as_rule(), Rule::kw_extract | Rule::kw_from));
    let field = it.next().expect("extract field");
    let lower = field.as_str().to_ascii_lowercase();
    if !EXTRACT_FIELDS.contains(&lower.as_str()) {
        let help = crate::suggest::did_you_mean(&lower, EXTRACT_FIELDS.iter().copied())
            .map(|s| format!("did you mean `{s}`?"));
        return Err(Diagnostic::error(
            codes::EXTRACT_FIELD,
            format!("`{}` is not a field of EXTRACT", field.as_str()),
            span_of(&field),
            "unknown field",
        )
        .with_note(format!("fields: {}", EXTRACT_FIELDS.join(", ")))
        .with_help_opt(help));
    }
    let field_expr = Expr::new(ExprKind::Literal(Literal::String(lower)), span_of(&field));
    Ok((field_expr, it.next().expect("extract operand")))
}

/// `normalize(s, NFKC)`: the form is a keyword in Presto, a string here. A pass over the
/// built program (the recursive builder's frames stay as small as they were).
fn normal_form_words(program: &mut Program) {
    fn walk(e: &mut Expr) {
        if let ExprKind::Call { name, args, .. } = &mut e.kind {
            if name == "normalize" && args.len() == 2 {
                if let ExprKind::Column(c) = &args[1].kind {
                    let upper = c.to_ascii_uppercase();
                    if NORMAL_FORMS.contains(&upper.as_str()) {
                        args[1].kind = ExprKind::Literal(Literal::String(upper));
                    }
                }
            }
        }
        e.for_each_child_mut(&mut |c, _| walk(c));
    }
    for st in &mut program.statements {
        for stage in &mut st.pipeline.stages {
            match &mut stage.kind {
                InstructionKind::Where { predicate } => walk(predicate),
                InstructionKind::Extend { assignments } => {
                    assignments.iter_mut().for_each(|a| walk(&mut a.value))
                }
                InstructionKind::Stats {
                    aggregates,
                    group_by,
                } => {
                    aggregates.iter_mut().for_each(|a| walk(&mut a.value));
                    group_by.iter_mut().for_each(|g| walk(&mut g.value));
                }
                InstructionKind::Sort { keys } => keys.iter_mut().for_each(|k| walk(&mut k.value)),
                _ => {}
            }
        }
    }
}

/// The normalization forms `normalize(s, NFKC)` accepts as a bare word.
const NORMAL_FORMS: &[&str] = &["NFC", "NFD", "NFKC", "NFKD"];

/// Unescapes a single-quoted literal's text (with its quotes): `'it''s'` → `it's`.
pub(crate) fn unquote_string(raw: &str) -> String {
    raw[1..raw.len() - 1].replace("''", "'")
}

/// Unescapes a double-quoted name (with its quotes): `"a""b"` → `a"b`.
pub(crate) fn unquote_name(raw: &str) -> String {
    raw[1..raw.len() - 1].replace("\"\"", "\"")
}

/// The highest expression tree accepted: a node's height is one more than its highest child's, so
/// a chain `a + b + c + …` of n terms (left-deep) is n levels high, like n nested brackets. Every
/// later pass (printing, validation, lowering, folding, planning, evaluation) recurses over the
/// tree; this bound keeps all of them within a 2 MiB thread stack in debug builds with a wide
/// margin (measured: see docs/decisions.md, "Expression depth limit").
pub const MAX_EXPR_DEPTH: usize = 256;

/// Returns `height` if it is within [`MAX_EXPR_DEPTH`], else E0020 pointing at `at`.
fn depth_checked(height: usize, at: Span) -> R<usize> {
    if height > MAX_EXPR_DEPTH {
        return Err(Diagnostic::error(
            codes::TOO_DEEP,
            format!("expression more than {MAX_EXPR_DEPTH} levels deep"),
            at,
            "too deep here",
        )
        .with_note(format!(
            "each operator of a chain such as `a AND b AND …` or `1 + 2 + …` counts as one level, \
             like a bracket; the limit is {MAX_EXPR_DEPTH}"
        ))
        .with_help(
            "use `IN (…)` for long lists of alternatives, or split the expression over several \
             `extend` stages",
        ));
    }
    Ok(height)
}

struct Builder<'s> {
    src: &'s str,
    diags: Diagnostics,
}

type R<T> = Result<T, Diagnostic>;

impl<'s> Builder<'s> {
    fn program(&mut self, mut pairs: Pairs<'_, Rule>) -> Program {
        let program = pairs.next().expect("program rule");
        let span = Span::new(0, self.src.len());
        let mut statements = Vec::new();
        for p in program.into_inner() {
            if p.as_rule() == Rule::statement {
                match self.statement(p) {
                    Ok(s) => statements.push(s),
                    Err(d) => self.diags.push(d),
                }
            }
        }
        Program { statements, span }
    }

    fn statement(&mut self, p: Pair<'_, Rule>) -> R<Statement> {
        let span = span_of(&p);
        let inner = p.into_inner().next().expect("statement body");
        match inner.as_rule() {
            Rule::let_statement => {
                let mut it = inner.into_inner();
                let _kw = it.next();
                let name = it.next().expect("dataset name");
                let name = Ident {
                    name: name.as_str().to_string(),
                    span: span_of(&name),
                };
                let pipeline = self.pipeline(it.next().expect("pipeline"))?;
                Ok(Statement {
                    name: Some(name),
                    pipeline,
                    span,
                })
            }
            Rule::pipeline => Ok(Statement {
                name: None,
                pipeline: self.pipeline(inner)?,
                span,
            }),
            r => unreachable!("statement: {r:?}"),
        }
    }

    fn pipeline(&mut self, p: Pair<'_, Rule>) -> R<Pipeline> {
        let span = span_of(&p);
        let mut it = p.into_inner();
        let src = it.next().expect("source");
        let source = match src.as_rule() {
            Rule::star_source => Source::Star(span_of(&src)),
            Rule::dataset_ref => {
                let name = src.into_inner().next().expect("dataset name");
                Source::Dataset(Ident {
                    name: name.as_str().to_string(),
                    span: span_of(&name),
                })
            }
            r => unreachable!("source: {r:?}"),
        };
        let mut stages = Vec::new();
        for stage in it {
            match self.instruction(stage) {
                Ok(i) => stages.push(i),
                Err(d) => self.diags.push(d),
            }
        }
        Ok(Pipeline {
            source,
            stages,
            span,
        })
    }

    fn instruction(&mut self, p: Pair<'_, Rule>) -> R<Instruction> {
        let span = span_of(&p);
        let rule = p.as_rule();
        let mut it = p.into_inner().peekable();
        let kw = it.next().expect("keyword");
        let name = kw.as_str().to_ascii_lowercase();
        let def = instructions::lookup(&name).expect("grammar keyword is an instruction");
        let mut options = Vec::new();
        while let Some(o) = it.next_if(|p| p.as_rule() == Rule::option) {
            if let Some(opt) = self.option(def, o, &options)? {
                options.push(opt);
            }
        }
        let rest: Vec<Pair<'_, Rule>> = it.collect();
        let wildcard = options.iter().any(|o| o.name == "wildcard");
        let kind = match rule {
            Rule::project => InstructionKind::Project {
                items: rest
                    .into_iter()
                    .map(|item| {
                        let mut parts: Vec<Ident> = item
                            .into_inner()
                            .map(|x| self.pattern(x, wildcard))
                            .collect::<R<_>>()?;
                        let field = parts.pop().expect("field");
                        Ok(ProjectItem {
                            output: parts.pop(),
                            field,
                        })
                    })
                    .collect::<R<_>>()?,
            },
            Rule::project_away => InstructionKind::ProjectAway {
                patterns: rest
                    .into_iter()
                    .map(|x| self.pattern(x, wildcard))
                    .collect::<R<_>>()?,
            },
            Rule::project_rename => InstructionKind::ProjectRename {
                renames: rest
                    .into_iter()
                    .map(|item| {
                        let mut parts = item.into_inner();
                        let output = self.field(parts.next().expect("output"));
                        let field = self.field(parts.next().expect("field"));
                        Rename { output, field }
                    })
                    .collect(),
            },
            Rule::expand_values => {
                let mut names = rest
                    .into_iter()
                    .filter(|p| p.as_rule() != Rule::kw_as)
                    .map(|p| self.field(p));
                let field = names.next().expect("field");
                InstructionKind::ExpandValues {
                    field,
                    output: names.next(),
                }
            }
            Rule::extend => InstructionKind::Extend {
                assignments: rest
                    .into_iter()
                    .map(|a| self.assignment(a))
                    .collect::<R<_>>()?,
            },
            Rule::where_instr => InstructionKind::Where {
                predicate: self.expr(rest.into_iter().next().expect("predicate"))?,
            },
            Rule::parse_regexp => {
                let mut it = rest.into_iter();
                let field = self.field(it.next().expect("field"));
                let pattern = self.string(it.next().expect("pattern"));
                let outputs = it
                    .find(|p| p.as_rule() == Rule::field_list)
                    .map(|l| self.field_list(l))
                    .unwrap_or_default();
                InstructionKind::ParseRegexp {
                    field,
                    pattern,
                    outputs,
                }
            }
            Rule::parse_csv => {
                let mut it = rest.into_iter();
                let field = self.field(it.next().expect("field"));
                let outputs = it
                    .find(|p| p.as_rule() == Rule::field_list)
                    .map(|l| self.field_list(l))
                    .unwrap_or_default();
                InstructionKind::ParseCsv { field, outputs }
            }
            Rule::parse_json => InstructionKind::ParseJson {
                field: self.field(rest.into_iter().next().expect("field")),
            },
            Rule::parse_kv => {
                let mut it = rest.into_iter();
                let field = self.field(it.next().expect("field"));
                let args: Vec<StrLit> = it.map(|s| self.string(s)).collect();
                InstructionKind::ParseKv { field, args }
            }
            Rule::pack_fields => {
                let output = rest
                    .into_iter()
                    .find(|p| p.as_rule() != Rule::kw_as)
                    .expect("output");
                InstructionKind::PackFields {
                    output: self.field(output),
                }
            }
            Rule::log_to_metric => InstructionKind::LogToMetric,
            Rule::metric_to_metric => InstructionKind::MetricToMetric,
            Rule::stats => {
                let mut aggregates = Vec::new();
                let mut group_by = Vec::new();
                for p in rest {
                    match p.as_rule() {
                        Rule::stats_item => aggregates.push(self.assignment(p)?),
                        Rule::group_item => {
                            let parts: Vec<Pair<'_, Rule>> = p.into_inner().collect();
                            let (output, value) = match parts.len() {
                                2 => (
                                    Some(self.field(parts[0].clone())),
                                    self.expr(parts[1].clone())?,
                                ),
                                _ => (None, self.expr(parts[0].clone())?),
                            };
                            group_by.push(GroupKey { output, value });
                        }
                        _ => {}
                    }
                }
                InstructionKind::Stats {
                    aggregates,
                    group_by,
                }
            }
            Rule::sort => InstructionKind::Sort {
                keys: rest
                    .into_iter()
                    .map(|k| {
                        let mut parts = k.into_inner();
                        let value = self.expr(parts.next().expect("sort key"))?;
                        let descending = parts
                            .next()
                            .is_some_and(|o| o.as_str().eq_ignore_ascii_case("desc"));
                        Ok(SortKey { value, descending })
                    })
                    .collect::<R<_>>()?,
            },
            Rule::limit => {
                let nums: Vec<u64> = rest.iter().map(|n| self.integer(n)).collect::<R<_>>()?;
                match nums.as_slice() {
                    [count] => InstructionKind::Limit {
                        offset: None,
                        count: *count,
                    },
                    [offset, count] => InstructionKind::Limit {
                        offset: Some(*offset),
                        count: *count,
                    },
                    _ => unreachable!("limit arguments"),
                }
            }
            Rule::make_series => self.make_series(rest),
            Rule::render => self.render(rest),
            r => unreachable!("instruction: {r:?}"),
        };
        Ok(Instruction {
            kind,
            options,
            span,
        })
    }

    fn integer(&self, p: &Pair<'_, Rule>) -> R<u64> {
        p.as_str().parse::<u64>().map_err(|_| {
            Diagnostic::error(
                codes::NUMBER_RANGE,
                "integer too large",
                span_of(p),
                "does not fit in 64 bits",
            )
        })
    }

    /// Validates one option against the instruction's table; warnings go to `self.diags`.
    fn option(&mut self, def: &InstructionDef, p: Pair<'_, Rule>, seen: &[Opt]) -> R<Option<Opt>> {
        let span = span_of(&p);
        let mut it = p.into_inner();
        let name_pair = it.next().expect("option name");
        let written = &name_pair.as_str()[1..];
        let lower = written.to_ascii_lowercase();
        let Some(odef) = def.option(&lower) else {
            let names: Vec<&str> = def.options.iter().map(|o| o.name).collect();
            let d = if names.is_empty() {
                Diagnostic::error(
                    codes::UNKNOWN_OPTION,
                    format!("`{}` takes no options", def.name),
                    span_of(&name_pair),
                    "unexpected option",
                )
                .with_note(format!("syntax: {}", def.syntax))
            } else {
                let help = crate::suggest::did_you_mean(&lower, names.iter().copied())
                    .map(|s| format!("did you mean `-{s}`?"));
                let list: Vec<String> = names.iter().map(|n| format!("-{n}")).collect();
                Diagnostic::error(
                    codes::UNKNOWN_OPTION,
                    format!("unknown option `-{written}` for `{}`", def.name),
                    span_of(&name_pair),
                    "unknown option",
                )
                .with_note(format!("`{}` accepts: {}", def.name, list.join(", ")))
                .with_help_opt(help)
            };
            return Err(d);
        };
        if let Some(prev) = seen.iter().find(|o| o.name == odef.name) {
            return Err(Diagnostic::error(
                codes::DUPLICATE_OPTION,
                format!("option `-{}` is given twice", odef.name),
                span,
                "second time here",
            )
            .with_label(prev.span, "first given here"));
        }
        if odef.extension {
            self.diags.push(Diagnostic::warning(
                codes::NON_PORTABLE,
                format!("`-{}` is an extension of this implementation", odef.name),
                span,
                "not accepted by the SLS engine",
            ));
        }
        if odef.legacy {
            self.diags.push(Diagnostic::warning(
                codes::LEGACY_SYNTAX,
                format!("`-{}` is an older form", odef.name),
                span,
                "older syntax",
            ));
        }
        let value_pair = it.next();
        let value = match (odef.kind, value_pair) {
            (OptKind::Switch, None) => OptValue::Switch,
            (OptKind::Switch, Some(v)) => {
                return Err(Diagnostic::error(
                    codes::MISSING_OPTION_VALUE,
                    format!("`-{}` is a switch and takes no value", odef.name),
                    span_of(&v),
                    "unexpected value",
                )
                .with_help(format!("write just `-{}`", odef.name)))
            }
            (kind, None) => {
                return Err(Diagnostic::error(
                    codes::MISSING_OPTION_VALUE,
                    format!("option `-{}` needs a value", odef.name),
                    span,
                    "no value given",
                )
                .with_help(format!(
                    "write `-{}=<value>` where the value is {}",
                    odef.name,
                    kind.describe()
                )))
            }
            (kind, Some(v)) => option_value(odef.name, kind, v)?,
        };
        Ok(Some(Opt {
            name: odef.name,
            value,
            span,
        }))
    }

    fn field(&self, p: Pair<'_, Rule>) -> Ident {
        let span = span_of(&p);
        let name = match p.as_rule() {
            Rule::quoted_ident => unquote_name(p.as_str()),
            _ => p.as_str().to_string(),
        };
        Ident { name, span }
    }

    /// A field name or pattern; a bare name may contain `*` only with `-wildcard`.
    fn pattern(&self, p: Pair<'_, Rule>, wildcard: bool) -> R<Ident> {
        if p.as_rule() == Rule::pattern_word && p.as_str().contains('*') && !wildcard {
            return Err(Diagnostic::error(
                codes::WILDCARD_WITHOUT_FLAG,
                format!("`{}` is a pattern but `-wildcard` is not given", p.as_str()),
                span_of(&p),
                "contains `*`",
            )
            .with_help(format!("add `-wildcard` to match by pattern, or write \"{}\" for a field literally named so", p.as_str())));
        }
        if p.as_rule() == Rule::pattern_word
            && p.as_str().starts_with(|c: char| c.is_ascii_digit())
            && !wildcard
        {
            return Err(Diagnostic::error(
                codes::SYNTAX,
                format!(
                    "`{}` is not a field name: bare names start with a letter or `_`",
                    p.as_str()
                ),
                span_of(&p),
                "starts with a digit",
            )
            .with_help(format!("double-quote it: \"{}\"", p.as_str())));
        }
        Ok(self.field(p))
    }

    fn field_list(&self, p: Pair<'_, Rule>) -> Vec<Ident> {
        p.into_inner().map(|f| self.field(f)).collect()
    }

    /// The parts of `make-series` after its keyword and options.
    fn make_series(&self, rest: Vec<Pair<'_, Rule>>) -> InstructionKind {
        let mut series = Vec::new();
        let mut time = None;
        let mut values = Vec::new();
        let mut by = Vec::new();
        let mut after_by = false;
        for p in rest {
            match p.as_rule() {
                Rule::series_item => {
                    let mut names = Vec::new();
                    let mut default = None;
                    for part in p.into_inner() {
                        match part.as_rule() {
                            Rule::series_value => default = Some(self.series_value(part)),
                            Rule::kw_default => {}
                            _ => names.push(self.field(part)),
                        }
                    }
                    let field = names.pop().expect("series field");
                    let output = names.pop().unwrap_or_else(|| field.clone());
                    series.push(SeriesItem {
                        output,
                        field,
                        default,
                    });
                }
                Rule::series_value => values.push(self.series_value(p)),
                Rule::kw_by => after_by = true,
                Rule::kw_on | Rule::kw_from | Rule::kw_to | Rule::kw_step => {}
                _ if after_by => by.push(self.field(p)),
                _ => time = Some(self.field(p)),
            }
        }
        let range = match <[SeriesValue; 3]>::try_from(values) {
            Ok([from, to, step]) => Some(SeriesRange { from, to, step }),
            Err(_) => None,
        };
        InstructionKind::MakeSeries {
            series,
            time: time.expect("time column"),
            range,
            by,
        }
    }

    /// The parts of `render` after its keyword and options.
    fn render(&self, rest: Vec<Pair<'_, Rule>>) -> InstructionKind {
        let mut chart = None;
        let mut properties = Vec::new();
        for p in rest {
            match p.as_rule() {
                Rule::chart_kind => {
                    chart = Some(Ident {
                        name: p.as_str().to_ascii_lowercase(),
                        span: span_of(&p),
                    })
                }
                Rule::render_property => {
                    let mut parts = p.into_inner();
                    let name = parts.next().expect("property name");
                    properties.push(RenderProperty {
                        name: Ident {
                            name: name.as_str().to_ascii_lowercase(),
                            span: span_of(&name),
                        },
                        values: parts.map(|v| self.series_value(v)).collect(),
                    });
                }
                _ => {}
            }
        }
        InstructionKind::Render {
            chart: chart.expect("chart kind"),
            properties,
        }
    }

    fn series_value(&self, p: Pair<'_, Rule>) -> SeriesValue {
        let span = span_of(&p);
        let inner = p.into_inner().next().expect("value");
        match inner.as_rule() {
            Rule::string => SeriesValue {
                text: unquote_string(inner.as_str()),
                quoted: true,
                span,
            },
            _ => SeriesValue {
                text: inner.as_str().to_string(),
                quoted: false,
                span,
            },
        }
    }

    fn string(&self, p: Pair<'_, Rule>) -> StrLit {
        StrLit {
            value: unquote_string(p.as_str()),
            span: span_of(&p),
        }
    }

    fn assignment(&self, p: Pair<'_, Rule>) -> R<Assignment> {
        let mut it = p.into_inner();
        let output = self.field(it.next().expect("output"));
        let value = self.expr(it.next().expect("value"))?;
        Ok(Assignment { output, value })
    }

    /// Builds an expression from an `expr` or `value_expr` pair.
    fn expr(&self, p: Pair<'_, Rule>) -> R<Expr> {
        self.expr_h(p).map(|(e, _)| e)
    }

    /// Builds an expression and returns it with its height (see [`MAX_EXPR_DEPTH`]). Every node
    /// is checked as it is built, so no tree deeper than the limit ever exists (dropping one
    /// would recurse as deeply as building it).
    fn expr_h(&self, p: Pair<'_, Rule>) -> R<(Expr, usize)> {
        debug_assert!(matches!(p.as_rule(), Rule::expr | Rule::value_expr));
        PRATT
            .map_primary(|prim| self.primary(prim))
            .map_prefix(|op, rhs| {
                let (rhs, h) = rhs?;
                let h = depth_checked(h + 1, span_of(&op))?;
                let span = span_of(&op).join(rhs.span);
                let uop = match op.as_rule() {
                    Rule::op_not => UnaryOp::Not,
                    Rule::op_neg => UnaryOp::Neg,
                    Rule::op_plus => UnaryOp::Plus,
                    r => unreachable!("prefix {r:?}"),
                };
                Ok((
                    Expr::new(
                        ExprKind::Unary {
                            op: uop,
                            expr: Box::new(rhs),
                        },
                        span,
                    ),
                    h,
                ))
            })
            .map_postfix(|lhs, op| {
                let (lhs, lh) = lhs?;
                let op_span = span_of(&op);
                let span = lhs.span.join(op_span);
                let rule = op.as_rule();
                let mut parts: Vec<Pair<'_, Rule>> = op.into_inner().collect();
                let negated = parts.iter().any(|p| p.as_rule() == Rule::negated);
                parts.retain(|p| matches!(p.as_rule(), Rule::expr | Rule::value_expr));
                let h = std::cell::Cell::new(lh);
                let mut exprs = parts.into_iter().map(|p| {
                    self.expr_h(p).map(|(e, eh)| {
                        h.set(h.get().max(eh));
                        e
                    })
                });
                let expr = Box::new(lhs);
                let kind = match rule {
                    Rule::subscript => ExprKind::Subscript {
                        expr,
                        index: Box::new(exprs.next().expect("index")?),
                    },
                    Rule::is_null => ExprKind::IsNull { expr, negated },
                    Rule::like => {
                        let pattern = Box::new(exprs.next().expect("pattern")?);
                        let escape = exprs.next().transpose()?.map(Box::new);
                        ExprKind::Like {
                            expr,
                            pattern,
                            escape,
                            negated,
                        }
                    }
                    Rule::in_list => ExprKind::InList {
                        expr,
                        list: exprs.collect::<R<_>>()?,
                        negated,
                    },
                    Rule::between => {
                        let low = Box::new(exprs.next().expect("low")?);
                        let high = Box::new(exprs.next().expect("high")?);
                        ExprKind::Between {
                            expr,
                            low,
                            high,
                            negated,
                        }
                    }
                    r => unreachable!("postfix {r:?}"),
                };
                let h = depth_checked(h.get() + 1, op_span)?;
                Ok((Expr::new(kind, span), h))
            })
            .map_infix(|lhs, op, rhs| {
                let ((lhs, lh), (rhs, rh)) = (lhs?, rhs?);
                let h = depth_checked(lh.max(rh) + 1, span_of(&op))?;
                let span = lhs.span.join(rhs.span);
                let bop = match op.as_rule() {
                    Rule::op_or => BinaryOp::Or,
                    Rule::op_and => BinaryOp::And,
                    Rule::op_eq => BinaryOp::Eq,
                    Rule::op_ne => BinaryOp::NotEq,
                    Rule::op_lt => BinaryOp::Lt,
                    Rule::op_le => BinaryOp::LtEq,
                    Rule::op_gt => BinaryOp::Gt,
                    Rule::op_ge => BinaryOp::GtEq,
                    Rule::op_is_distinct => BinaryOp::IsDistinctFrom,
                    Rule::op_is_not_distinct => BinaryOp::IsNotDistinctFrom,
                    Rule::op_concat => BinaryOp::Concat,
                    Rule::op_add => BinaryOp::Plus,
                    Rule::op_sub => BinaryOp::Minus,
                    Rule::op_mul => BinaryOp::Multiply,
                    Rule::op_div => BinaryOp::Divide,
                    Rule::op_mod => BinaryOp::Modulo,
                    r => unreachable!("infix {r:?}"),
                };
                Ok((
                    Expr::new(
                        ExprKind::Binary {
                            op: bop,
                            left: Box::new(lhs),
                            right: Box::new(rhs),
                        },
                        span,
                    ),
                    h,
                ))
            })
            .parse(p.into_inner())
    }

    /// Builds an operand and returns it with its height.
    /// `EXTRACT(field FROM x)` and `POSITION(sub IN s)` as the calls `extract('field', x)` and
    /// `position(sub, s)`, with the height of the deepest operand. Kept out of [`Self::primary`]
    /// so that the frame of that recursive function stays small.
    #[inline(never)]
    fn special_form(&self, p: Pair<'_, Rule>) -> R<(Expr, usize)> {
        let span = span_of(&p);
        let (name, args, h) = if p.as_rule() == Rule::extract_expr {
            let (field, operand) = extract_parts(p)?;
            let (x, h) = self.expr_h(operand)?;
            ("extract", vec![field, x], h)
        } else {
            let mut it = p
                .into_inner()
                .filter(|x| !matches!(x.as_rule(), Rule::kw_position | Rule::kw_in));
            let (needle, h1) = self.expr_h(it.next().expect("position substring"))?;
            let (haystack, h2) = self.expr_h(it.next().expect("position string"))?;
            ("position", vec![needle, haystack], h1.max(h2))
        };
        let kind = ExprKind::Call {
            name: name.to_string(),
            args,
            distinct: false,
            star: false,
            niladic: false,
        };
        let h = depth_checked(h + 1, span)?;
        Ok((Expr::new(kind, span), h))
    }

    fn primary(&self, p: Pair<'_, Rule>) -> R<(Expr, usize)> {
        if matches!(p.as_rule(), Rule::extract_expr | Rule::position_expr) {
            return self.special_form(p);
        }
        let span = span_of(&p);
        // The height of the deepest child built so far.
        let h = std::cell::Cell::new(0usize);
        let sub = |p: Pair<'_, Rule>| -> R<Expr> {
            let (e, eh) = self.expr_h(p)?;
            h.set(h.get().max(eh));
            Ok(e)
        };
        let kind = match p.as_rule() {
            Rule::string => ExprKind::Literal(Literal::String(unquote_string(p.as_str()))),
            Rule::number => ExprKind::Literal(Literal::Number(p.as_str().to_string())),
            Rule::kw_true => ExprKind::Literal(Literal::Bool(true)),
            Rule::kw_false => ExprKind::Literal(Literal::Bool(false)),
            Rule::kw_null => ExprKind::Literal(Literal::Null),
            Rule::expr | Rule::value_expr => return self.expr_h(p),
            Rule::column => {
                let inner = p.into_inner().next().expect("column name");
                match inner.as_rule() {
                    Rule::quoted_ident => ExprKind::Column(unquote_name(inner.as_str())),
                    _ => {
                        let lower = inner.as_str().to_ascii_lowercase();
                        if NILADIC.contains(&lower.as_str()) {
                            ExprKind::Call {
                                name: lower,
                                args: vec![],
                                distinct: false,
                                star: false,
                                niladic: true,
                            }
                        } else {
                            ExprKind::Column(inner.as_str().to_string())
                        }
                    }
                }
            }
            Rule::paren_expr => {
                let mut items: Vec<Expr> = p.into_inner().map(&sub).collect::<R<_>>()?;
                if items.len() == 1 {
                    let mut e = items.pop().expect("one item");
                    e.span = span;
                    return Ok((e, h.get()));
                }
                ExprKind::Row(items)
            }
            Rule::array_expr => ExprKind::Array(
                p.into_inner()
                    .filter(|x| x.as_rule() == Rule::expr)
                    .map(&sub)
                    .collect::<R<_>>()?,
            ),
            Rule::case_expr => {
                let mut operand = None;
                let mut whens = Vec::new();
                let mut otherwise = None;
                for part in p.into_inner() {
                    match part.as_rule() {
                        Rule::case_operand => {
                            operand =
                                Some(Box::new(sub(part.into_inner().next().expect("operand"))?))
                        }
                        Rule::when_clause => {
                            let mut e = part.into_inner().filter(|x| x.as_rule() == Rule::expr);
                            let cond = sub(e.next().expect("when"))?;
                            let then = sub(e.next().expect("then"))?;
                            whens.push((cond, then));
                        }
                        Rule::else_clause => {
                            let e = part
                                .into_inner()
                                .find(|x| x.as_rule() == Rule::expr)
                                .expect("else");
                            otherwise = Some(Box::new(sub(e)?));
                        }
                        _ => {}
                    }
                }
                ExprKind::Case {
                    operand,
                    whens,
                    otherwise,
                }
            }
            Rule::cast_expr => {
                let mut it = p.into_inner();
                let try_cast = it
                    .next()
                    .expect("cast kind")
                    .as_str()
                    .eq_ignore_ascii_case("try_cast");
                let expr = Box::new(sub(it.next().expect("cast operand"))?);
                let ty_pair = it.find(|x| x.as_rule() == Rule::type_name).expect("type");
                let ty = crate::types::build(ty_pair)?;
                ExprKind::Cast { expr, ty, try_cast }
            }
            Rule::function_call => {
                let mut it = p.into_inner();
                let name = it
                    .next()
                    .expect("function name")
                    .as_str()
                    .to_ascii_lowercase();
                let mut args = Vec::new();
                let mut distinct = false;
                let mut star = false;
                if let Some(call_args) = it.next() {
                    for a in call_args.into_inner() {
                        match a.as_rule() {
                            Rule::star_arg => star = true,
                            Rule::distinct => distinct = true,
                            _ => {
                                let (e, eh) = self.primary(a)?;
                                h.set(h.get().max(eh));
                                args.push(e)
                            }
                        }
                    }
                }
                ExprKind::Call {
                    name,
                    args,
                    distinct,
                    star,
                    niladic: false,
                }
            }
            Rule::extract_expr | Rule::position_expr => unreachable!("handled above"),
            Rule::lambda => {
                let mut it = p.into_inner();
                let params = it
                    .next()
                    .expect("params")
                    .into_inner()
                    .map(|x| x.as_str().to_string())
                    .collect();
                let body = Box::new(sub(it.next().expect("body"))?);
                ExprKind::Lambda { params, body }
            }
            r => unreachable!("primary {r:?}"),
        };
        let h = depth_checked(h.get() + 1, span)?;
        Ok((Expr::new(kind, span), h))
    }
}

/// Validates an option value of the given kind.
fn option_value(name: &str, kind: OptKind, v: Pair<'_, Rule>) -> R<OptValue> {
    let span = span_of(&v);
    let inner = v.into_inner().next().expect("option value");
    let raw = inner.as_str();
    let bad = |msg: String| {
        Diagnostic::error(
            codes::BAD_OPTION_VALUE,
            format!("invalid value for `-{name}`: {msg}"),
            span,
            "invalid value",
        )
        .with_help(format!("`-{name}` takes {}", kind.describe()))
    };
    let quotes = |shown: &str| {
        Diagnostic::error(
            codes::OPTION_QUOTES,
            format!("option values are single-quoted literals: `-{name}='{shown}'`"),
            span,
            "not single-quoted",
        )
        .with_help(format!("write `-{name}='{}'`", shown.replace('\'', "''")))
    };
    match (kind, inner.as_rule()) {
        (OptKind::Int, Rule::number) | (OptKind::Int, Rule::string) => {
            let text = if inner.as_rule() == Rule::string {
                unquote_string(raw)
            } else {
                raw.to_string()
            };
            text.trim()
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .map(OptValue::Int)
                .ok_or_else(|| bad(format!("`{text}` is not a non-negative integer")))
        }
        (OptKind::List, Rule::option_list) => {
            let mut items = Vec::new();
            for item in inner.into_inner() {
                let x = item.into_inner().next().expect("list item");
                items.push(match x.as_rule() {
                    Rule::string => unquote_string(x.as_str()),
                    Rule::quoted_ident => unquote_name(x.as_str()),
                    Rule::bare_word | Rule::number => x.as_str().to_string(),
                    _ => return Err(bad("list items are names".into())),
                });
            }
            Ok(OptValue::List(items))
        }
        (OptKind::List, Rule::string) => {
            let text = unquote_string(raw);
            Ok(OptValue::List(split_list(&text)))
        }
        (_, Rule::string) => {
            let text = unquote_string(raw);
            match kind {
                OptKind::Str => Ok(OptValue::Text(text)),
                OptKind::Char | OptKind::Delim | OptKind::CharSet => {
                    let decoded = charlit::decode(&text, kind == OptKind::CharSet).map_err(|m| {
                        Diagnostic::error(codes::BAD_CHAR_LITERAL, format!("invalid character literal for `-{name}`: {m}"), span, "here")
                            .with_help("use a plain character or an escape: \\t, \\n, \\r, \\\\, \\NNN (octal), \\xHH (hex)")
                    })?;
                    let n = decoded.chars().count();
                    let ok = match kind {
                        OptKind::Char => n == 1,
                        OptKind::Delim => (1..=3).contains(&n),
                        _ => n >= 1,
                    };
                    if !ok {
                        return Err(Diagnostic::error(
                            codes::BAD_CHAR_LITERAL,
                            format!("`-{name}` takes {}, found {n} characters", kind.describe()),
                            span,
                            "wrong length",
                        ));
                    }
                    Ok(OptValue::Text(decoded))
                }
                OptKind::Enum(values) => {
                    let lower = text.to_ascii_lowercase();
                    match values.iter().find(|v| **v == lower) {
                        Some(v) => Ok(OptValue::Text((*v).to_string())),
                        None => Err(bad(format!("`{text}` is not one of the accepted values"))
                            .with_help_opt(
                                crate::suggest::did_you_mean(&lower, values.iter().copied())
                                    .map(|s| format!("did you mean '{s}'?")),
                            )),
                    }
                }
                OptKind::Int | OptKind::List | OptKind::Switch => unreachable!("handled above"),
            }
        }
        (OptKind::Int, _) => Err(bad(format!("`{raw}` is not a non-negative integer"))),
        (_, Rule::quoted_ident) => Err(quotes(&unquote_name(raw))),
        (_, Rule::bare_word) | (_, Rule::number) => Err(quotes(raw)),
        (_, Rule::option_list) => Err(bad("a list is not accepted here".into())),
        (_, r) => unreachable!("option value {r:?}"),
    }
}

/// Splits a list option written as text: `a, b` or a JSON-like `["a", "b"]`.
fn split_list(text: &str) -> Vec<String> {
    let t = text.trim();
    let t = t
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(t);
    t.split(',')
        .map(|s| s.trim().trim_matches('"').trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}
