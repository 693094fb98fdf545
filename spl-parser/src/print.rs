//! The canonical printer: `Display` for the AST. One layout: instructions and their keywords in
//! lower case, SQL keywords in upper case, minimal parentheses, names quoted only when needed;
//! a pipeline stays on one line up to [`LINE_WIDTH`] characters, else one stage per line.
//! `parse(print(parse(x))) == parse(x)` holds for every program (tested over the corpora).
use std::fmt::{self, Display, Formatter, Write};

use crate::ast::*;
use crate::charlit;
use crate::instructions::{self, OptKind};

/// Pipelines longer than this are printed one stage per line.
pub const LINE_WIDTH: usize = 100;

/// Words that must be double-quoted when used as a field name.
const RESERVED: &[&str] = &[
    "and",
    "or",
    "not",
    "is",
    "null",
    "true",
    "false",
    "case",
    "when",
    "then",
    "else",
    "end",
    "like",
    "in",
    "between",
    "distinct",
    "from",
    "as",
    "by",
    "escape",
    "cast",
    "try_cast",
    "current_date",
    "current_time",
    "current_timestamp",
    "localtime",
    "localtimestamp",
    "array",
    "asc",
    "desc",
];

/// Writes a field name, quoting it unless it is a plain, non-reserved identifier.
pub fn write_name(out: &mut impl Write, name: &str) -> fmt::Result {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !RESERVED.contains(&name.to_ascii_lowercase().as_str());
    if plain {
        out.write_str(name)
    } else {
        write!(out, "\"{}\"", name.replace('"', "\"\""))
    }
}

/// Writes a single-quoted SQL string literal.
pub fn write_string(out: &mut impl Write, value: &str) -> fmt::Result {
    write!(out, "'{}'", value.replace('\'', "''"))
}

impl Display for Program {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let multi = self.statements.len() > 1 || self.statements.iter().any(|s| s.name.is_some());
        for (i, s) in self.statements.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{s}")?;
            if multi {
                f.write_str(";")?;
            }
        }
        Ok(())
    }
}

impl Display for Statement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if let Some(name) = &self.name {
            write!(f, ".let {} = ", name.name)?;
        }
        write!(f, "{}", self.pipeline)
    }
}

impl Display for Pipeline {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let mut parts = vec![match &self.source {
            Source::Star(_) => "*".to_string(),
            Source::Dataset(n) => format!("${}", n.name),
        }];
        parts.extend(self.stages.iter().map(|s| s.to_string()));
        let one_line = parts.join(" | ");
        if one_line.len() <= LINE_WIDTH && !one_line.contains('\n') {
            f.write_str(&one_line)
        } else {
            f.write_str(&parts.join("\n| "))
        }
    }
}

impl Display for Ident {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_name(f, &self.name)
    }
}

fn list<T: Display>(f: &mut Formatter<'_>, items: &[T]) -> fmt::Result {
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{it}")?;
    }
    Ok(())
}

impl Display for Instruction {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let name = self.kind.name();
        f.write_str(name)?;
        let def = instructions::lookup(name);
        for o in &self.options {
            f.write_str(" -")?;
            f.write_str(o.name)?;
            let kind = def
                .and_then(|d| d.option(o.name))
                .map(|d| d.kind)
                .unwrap_or(OptKind::Str);
            match &o.value {
                OptValue::Switch => {}
                OptValue::Int(i) => write!(f, "={i}")?,
                OptValue::Text(t) => {
                    f.write_str("=")?;
                    match kind {
                        OptKind::Char | OptKind::Delim | OptKind::CharSet => {
                            write_string(f, &charlit::encode(t))?
                        }
                        _ => write_string(f, t)?,
                    }
                }
                OptValue::List(items) => {
                    let plain = items.iter().all(|s| {
                        !s.is_empty() && !s.contains([',', '"', '\'', '[', ']']) && s.trim() == s
                    });
                    if plain {
                        f.write_str("=")?;
                        write_string(f, &items.join(", "))?;
                    } else {
                        f.write_str("=[")?;
                        for (i, s) in items.iter().enumerate() {
                            if i > 0 {
                                f.write_str(", ")?;
                            }
                            write!(f, "\"{}\"", s.replace('"', "\"\""))?;
                        }
                        f.write_str("]")?;
                    }
                }
            }
        }
        match &self.kind {
            InstructionKind::Project { items } => {
                f.write_str(" ")?;
                list(f, items)
            }
            InstructionKind::ProjectAway { patterns } => {
                f.write_str(" ")?;
                list(f, patterns)
            }
            InstructionKind::ProjectRename { renames } => {
                f.write_str(" ")?;
                list(f, renames)
            }
            InstructionKind::ExpandValues { field, output } => {
                write!(f, " {field}")?;
                if let Some(o) = output {
                    write!(f, " as {o}")?;
                }
                Ok(())
            }
            InstructionKind::Extend { assignments } => {
                f.write_str(" ")?;
                list(f, assignments)
            }
            InstructionKind::Where { predicate } => {
                f.write_str(" ")?;
                after_instruction_name(f, predicate)
            }
            InstructionKind::ParseRegexp {
                field,
                pattern,
                outputs,
            } => {
                write!(f, " {field}, ")?;
                write_string(f, &pattern.value)?;
                if !outputs.is_empty() {
                    f.write_str(" as ")?;
                    list(f, outputs)?;
                }
                Ok(())
            }
            InstructionKind::ParseCsv { field, outputs } => {
                write!(f, " {field} as ")?;
                list(f, outputs)
            }
            InstructionKind::ParseJson { field } => write!(f, " {field}"),
            InstructionKind::ParseKv { field, args } => {
                write!(f, " {field}")?;
                for a in args {
                    f.write_str(", ")?;
                    write_string(f, &a.value)?;
                }
                Ok(())
            }
            InstructionKind::PackFields { output } => write!(f, " as {output}"),
            InstructionKind::LogToMetric | InstructionKind::MetricToMetric => Ok(()),
            InstructionKind::Stats {
                aggregates,
                group_by,
            } => {
                f.write_str(" ")?;
                list(f, aggregates)?;
                if !group_by.is_empty() {
                    f.write_str(" by ")?;
                    list(f, group_by)?;
                }
                Ok(())
            }
            InstructionKind::Sort { keys } => {
                f.write_str(" ")?;
                if let Some((first, rest)) = keys.split_first() {
                    after_instruction_name(f, &first.value)?;
                    if first.descending {
                        f.write_str(" desc")?;
                    }
                    for k in rest {
                        write!(f, ", {k}")?;
                    }
                }
                Ok(())
            }
            InstructionKind::Limit { offset, count } => match offset {
                Some(o) => write!(f, " {o}, {count}"),
                None => write!(f, " {count}"),
            },
            InstructionKind::MakeSeries {
                series,
                time,
                range,
                by,
            } => {
                for (i, s) in series.iter().enumerate() {
                    f.write_str(if i == 0 { " " } else { ", " })?;
                    write!(f, "{} = {}", s.output, s.field)?;
                    if let Some(d) = &s.default {
                        write!(f, " default = {d}")?;
                    }
                }
                write!(f, " on {time}")?;
                if let Some(r) = range {
                    write!(f, " from {} to {} step {}", r.from, r.to, r.step)?;
                }
                if !by.is_empty() {
                    f.write_str(" by ")?;
                    list(f, by)?;
                }
                Ok(())
            }
            InstructionKind::Render { chart, properties } => {
                write!(f, " {}", chart.name)?;
                if !properties.is_empty() {
                    f.write_str(" with (")?;
                    for (i, p) in properties.iter().enumerate() {
                        if i > 0 {
                            f.write_str(", ")?;
                        }
                        write!(f, "{} = ", p.name.name)?;
                        list(f, &p.values)?;
                    }
                    f.write_str(")")?;
                }
                Ok(())
            }
        }
    }
}

impl Display for SeriesValue {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.quoted {
            write!(f, "'{}'", self.text.replace('\'', "''"))
        } else {
            f.write_str(&self.text)
        }
    }
}

impl Display for ProjectItem {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if let Some(o) = &self.output {
            write!(f, "{o}=")?;
        }
        write!(f, "{}", self.field)
    }
}

impl Display for Rename {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.output, self.field)
    }
}

impl Display for Assignment {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{} = {}", self.output, self.value)
    }
}

impl Display for GroupKey {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if let Some(o) = &self.output {
            write!(f, "{o} = ")?;
        }
        write!(f, "{}", self.value)
    }
}

impl Display for SortKey {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}",
            self.value,
            if self.descending { " desc" } else { "" }
        )
    }
}

impl Display for TypeName {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name.to_uppercase())?;
        if !self.params.is_empty() {
            f.write_str("(")?;
            for (i, p) in self.params.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                match p {
                    TypeParam::Int(n) => write!(f, "{n}")?,
                    TypeParam::Type(t) => write!(f, "{t}")?,
                }
            }
            f.write_str(")")?;
        }
        Ok(())
    }
}

// Precedence levels, loosest first (must agree with the Pratt table in parse.rs).
const P_OR: u8 = 1;
const P_AND: u8 = 2;
const P_NOT: u8 = 3;
const P_CMP: u8 = 4;
const P_CONCAT: u8 = 5;
const P_ADD: u8 = 6;
const P_MUL: u8 = 7;
const P_UNARY: u8 = 8;
const P_PRIMARY: u8 = 9;

fn binary_prec(op: BinaryOp) -> u8 {
    match op {
        BinaryOp::Or => P_OR,
        BinaryOp::And => P_AND,
        BinaryOp::Concat => P_CONCAT,
        BinaryOp::Plus | BinaryOp::Minus => P_ADD,
        BinaryOp::Multiply | BinaryOp::Divide | BinaryOp::Modulo => P_MUL,
        _ => P_CMP,
    }
}

fn prec(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Binary { op, .. } => binary_prec(*op),
        ExprKind::Unary {
            op: UnaryOp::Not, ..
        } => P_NOT,
        ExprKind::Unary { .. } => P_UNARY,
        ExprKind::IsNull { .. }
        | ExprKind::Like { .. }
        | ExprKind::InList { .. }
        | ExprKind::Between { .. } => P_CMP,
        _ => P_PRIMARY,
    }
}

/// Writes an expression that directly follows an instruction name, where options may stand: one
/// whose text starts like an option (`-a`, from a leading unary minus) is parenthesised, which
/// parses back to the same tree.
fn after_instruction_name(f: &mut Formatter<'_>, e: &Expr) -> fmt::Result {
    let text = e.to_string();
    let b = text.as_bytes();
    if b.first() == Some(&b'-') && b.get(1).is_some_and(u8::is_ascii_alphabetic) {
        write!(f, "({text})")
    } else {
        f.write_str(&text)
    }
}

/// Writes `e`, parenthesised when its precedence is below `min`.
fn operand(f: &mut Formatter<'_>, e: &Expr, min: u8) -> fmt::Result {
    if prec(e) < min {
        write!(f, "({e})")
    } else {
        write!(f, "{e}")
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Column(name) => write_name(f, name),
            ExprKind::Literal(l) => match l {
                Literal::String(s) => write_string(f, s),
                Literal::Number(n) => f.write_str(n),
                Literal::Bool(true) => f.write_str("TRUE"),
                Literal::Bool(false) => f.write_str("FALSE"),
                Literal::Null => f.write_str("NULL"),
            },
            ExprKind::Unary { op, expr } => match op {
                UnaryOp::Not => {
                    f.write_str("NOT ")?;
                    operand(f, expr, P_NOT)
                }
                UnaryOp::Neg | UnaryOp::Plus => {
                    let sym = if *op == UnaryOp::Neg { "-" } else { "+" };
                    let inner = if prec(expr) < P_UNARY {
                        format!("({expr})")
                    } else {
                        expr.to_string()
                    };
                    if *op == UnaryOp::Neg && inner.starts_with('-') {
                        // `--` would start a comment.
                        write!(f, "- {inner}")
                    } else {
                        write!(f, "{sym}{inner}")
                    }
                }
            },
            ExprKind::Binary { op, left, right } => {
                let p = binary_prec(*op);
                operand(f, left, p)?;
                write!(f, " {} ", op.symbol())?;
                operand(f, right, p + 1)
            }
            ExprKind::IsNull { expr, negated } => {
                operand(f, expr, P_CMP)?;
                f.write_str(if *negated { " IS NOT NULL" } else { " IS NULL" })
            }
            ExprKind::Like {
                expr,
                pattern,
                escape,
                negated,
            } => {
                operand(f, expr, P_CMP)?;
                f.write_str(if *negated { " NOT LIKE " } else { " LIKE " })?;
                operand(f, pattern, P_CONCAT)?;
                if let Some(e) = escape {
                    f.write_str(" ESCAPE ")?;
                    operand(f, e, P_CONCAT)?;
                }
                Ok(())
            }
            ExprKind::InList {
                expr,
                list: items,
                negated,
            } => {
                operand(f, expr, P_CMP)?;
                f.write_str(if *negated { " NOT IN (" } else { " IN (" })?;
                list(f, items)?;
                f.write_str(")")
            }
            ExprKind::Between {
                expr,
                low,
                high,
                negated,
            } => {
                operand(f, expr, P_CMP)?;
                f.write_str(if *negated {
                    " NOT BETWEEN "
                } else {
                    " BETWEEN "
                })?;
                operand(f, low, P_CONCAT)?;
                f.write_str(" AND ")?;
                operand(f, high, P_CONCAT)
            }
            ExprKind::Subscript { expr, index } => {
                operand(f, expr, P_PRIMARY)?;
                write!(f, "[{index}]")
            }
            ExprKind::Case {
                operand: op,
                whens,
                otherwise,
            } => {
                f.write_str("CASE")?;
                if let Some(o) = op {
                    write!(f, " {o}")?;
                }
                for (w, t) in whens {
                    write!(f, " WHEN {w} THEN {t}")?;
                }
                if let Some(e) = otherwise {
                    write!(f, " ELSE {e}")?;
                }
                f.write_str(" END")
            }
            ExprKind::Cast { expr, ty, try_cast } => {
                write!(
                    f,
                    "{}({expr} AS {ty})",
                    if *try_cast { "TRY_CAST" } else { "CAST" }
                )
            }
            ExprKind::Array(items) => {
                f.write_str("ARRAY[")?;
                list(f, items)?;
                f.write_str("]")
            }
            ExprKind::Row(items) => {
                f.write_str("(")?;
                list(f, items)?;
                f.write_str(")")
            }
            ExprKind::Call {
                name,
                args,
                distinct,
                star,
                niladic,
            } => {
                if let Some(text) = special_call(name, args, *distinct || *star) {
                    return f.write_str(&text);
                }
                f.write_str(name)?;
                if *niladic {
                    return Ok(());
                }
                f.write_str("(")?;
                if *star {
                    f.write_str("*")?;
                } else {
                    if *distinct {
                        f.write_str("DISTINCT ")?;
                    }
                    list(f, args)?;
                }
                f.write_str(")")
            }
            ExprKind::Lambda { params, body } => {
                if params.len() == 1 {
                    f.write_str(&params[0])?;
                } else {
                    write!(f, "({})", params.join(", "))?;
                }
                write!(f, " -> {body}")
            }
        }
    }
}

/// `EXTRACT(field FROM x)` and `POSITION(sub IN s)`, which parse as the calls
/// `extract('field', x)` and `position(sub, s)`, printed back in their SQL syntax.
#[inline(never)] // keeps the recursive `fmt` frame small (deep expressions, small stacks)
fn special_call(name: &str, args: &[Expr], modified: bool) -> Option<String> {
    if modified || args.len() != 2 {
        return None;
    }
    match name {
        "extract" => match &args[0].kind {
            ExprKind::Literal(Literal::String(field))
                if crate::EXTRACT_FIELDS.contains(&field.as_str()) =>
            {
                Some(format!("extract({field} FROM {})", args[1]))
            }
            _ => None,
        },
        "position" => Some(format!(
            "position({} IN {})",
            value_operand(&args[0]),
            value_operand(&args[1])
        )),
        _ => None,
    }
}

/// An operand of `IN` in `POSITION`, which takes arithmetic and `||` only: anything else is
/// parenthesized.
#[inline(never)]
fn value_operand(e: &Expr) -> String {
    let simple = match &e.kind {
        ExprKind::Binary { op, .. } => matches!(
            op,
            BinaryOp::Concat
                | BinaryOp::Plus
                | BinaryOp::Minus
                | BinaryOp::Multiply
                | BinaryOp::Divide
                | BinaryOp::Modulo
        ),
        ExprKind::Unary { op, .. } => !matches!(op, UnaryOp::Not),
        ExprKind::IsNull { .. }
        | ExprKind::Like { .. }
        | ExprKind::InList { .. }
        | ExprKind::Between { .. }
        | ExprKind::Lambda { .. } => false,
        _ => true,
    };
    if simple {
        e.to_string()
    } else {
        format!("({e})")
    }
}
