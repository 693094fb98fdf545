//! Test support shared by the function families' tests: calls UDFs the way the engine does,
//! and evaluates and renders the literal-only example expressions of [`FunctionDef`]s.
use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::datatypes::{DataType, Field, FieldRef};
use base64::Engine as _;
use datafusion_common::config::ConfigOptions;
use datafusion_common::{Result, ScalarValue};
use datafusion_expr::type_coercion::functions::fields_with_udf;
use datafusion_expr::{ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF};

use super::FunctionDef;

/// Calls `udf` on already-coerced arguments, the way the engine does.
pub(crate) fn invoke(
    udf: &ScalarUDF,
    args: Vec<ColumnarValue>,
    rows: usize,
) -> Result<ColumnarValue> {
    Ok(invoke_with(udf, args, rows, ConfigOptions::default())?.0)
}

/// Calls `udf` on already-coerced arguments with the session `config`, the way the engine does;
/// returns the result and the return field the UDF announced.
pub(crate) fn invoke_with(
    udf: &ScalarUDF,
    args: Vec<ColumnarValue>,
    rows: usize,
    config: ConfigOptions,
) -> Result<(ColumnarValue, FieldRef)> {
    let arg_fields: Vec<_> = args
        .iter()
        .map(|a| Arc::new(Field::new("a", a.data_type(), true)))
        .collect();
    let scalars: Vec<Option<&ScalarValue>> = args
        .iter()
        .map(|a| match a {
            ColumnarValue::Scalar(s) => Some(s),
            ColumnarValue::Array(_) => None,
        })
        .collect();
    let return_field = udf.return_field_from_args(ReturnFieldArgs {
        arg_fields: &arg_fields,
        scalar_arguments: &scalars,
    })?;
    let out = udf.invoke_with_args(ScalarFunctionArgs {
        args,
        arg_fields,
        number_rows: rows,
        return_field: Arc::clone(&return_field),
        config_options: Arc::new(config),
    })?;
    Ok((out, return_field))
}

/// The row count of a call: the length of its array arguments, 1 when all are scalars.
pub(crate) fn rows_of(args: &[ColumnarValue]) -> usize {
    args.iter()
        .find_map(|a| match a {
            ColumnarValue::Array(a) => Some(a.len()),
            ColumnarValue::Scalar(_) => None,
        })
        .unwrap_or(1)
}

/// Calls `udf` on array arguments and returns the result as an array.
pub(crate) fn invoke_arrays(udf: &ScalarUDF, args: Vec<ArrayRef>) -> Result<ArrayRef> {
    let rows = args.first().map_or(1, |a| a.len());
    let args = args.into_iter().map(ColumnarValue::Array).collect();
    invoke(udf, args, rows)?.to_array(rows)
}

/// Calls `udf` on scalar arguments after the engine's coercion and casts.
pub(crate) fn call(udf: &ScalarUDF, args: Vec<ScalarValue>) -> Result<ScalarValue> {
    let fields: Vec<_> = args
        .iter()
        .map(|v| Arc::new(Field::new("a", v.data_type(), true)))
        .collect();
    let coerced: Vec<DataType> = fields_with_udf(&fields, udf)?
        .iter()
        .map(|f| f.data_type().clone())
        .collect();
    let args = args
        .iter()
        .zip(&coerced)
        .map(|(v, t)| v.cast_to(t).map(ColumnarValue::Scalar))
        .collect::<Result<Vec<_>>>()?;
    let out = invoke(udf, args, 1)?.to_array(1)?;
    ScalarValue::try_from_array(&out, 0)
}

/// Renders a value as text per spec §18.4 (`None` for NULL).
pub(crate) fn render(v: &ScalarValue) -> Option<String> {
    if v.is_null() {
        return None;
    }
    Some(match v {
        ScalarValue::Float64(Some(x)) => render_double(*x),
        ScalarValue::Utf8(Some(s))
        | ScalarValue::Utf8View(Some(s))
        | ScalarValue::LargeUtf8(Some(s)) => s.clone(),
        ScalarValue::Binary(Some(b)) => base64::engine::general_purpose::STANDARD.encode(b),
        other => other.to_string(),
    })
}

fn render_double(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        let s = format!("{x}");
        if s.contains('.') {
            s
        } else {
            format!("{s}.0")
        }
    }
}

/// A parsed example expression: literals and calls only.
enum Node {
    Lit(ScalarValue),
    Array(Vec<Node>),
    Call(String, Vec<Node>),
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.s[self.pos..].starts_with(' ') {
            self.pos += 1;
        }
    }

    fn eat(&mut self, t: &str) -> bool {
        self.ws();
        if self.s[self.pos..].starts_with(t) {
            self.pos += t.len();
            true
        } else {
            false
        }
    }

    fn list(&mut self, close: &str) -> Vec<Node> {
        let mut items = Vec::new();
        if self.eat(close) {
            return items;
        }
        loop {
            items.push(self.node());
            if self.eat(close) {
                return items;
            }
            assert!(self.eat(","), "expected ',' at {} in {}", self.pos, self.s);
        }
    }

    fn node(&mut self) -> Node {
        self.ws();
        let rest = &self.s[self.pos..];
        if let Some(body) = rest.strip_prefix('\'') {
            let mut text = String::new();
            let mut chars = body.char_indices().peekable();
            while let Some((i, c)) = chars.next() {
                if c == '\'' {
                    if chars.peek().map(|p| p.1) == Some('\'') {
                        chars.next();
                        text.push('\'');
                        continue;
                    }
                    self.pos += i + 2;
                    return Node::Lit(ScalarValue::Utf8View(Some(text)));
                }
                text.push(c);
            }
            panic!("unterminated string in {}", self.s);
        }
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || "_.-".contains(c)))
            .unwrap_or(rest.len());
        let word = &rest[..end];
        self.pos += end;
        if word.eq_ignore_ascii_case("null") {
            return Node::Lit(ScalarValue::Null);
        }
        if word.eq_ignore_ascii_case("true") || word.eq_ignore_ascii_case("false") {
            return Node::Lit(ScalarValue::Boolean(Some(
                word.eq_ignore_ascii_case("true"),
            )));
        }
        if word.eq_ignore_ascii_case("array") && self.eat("[") {
            return Node::Array(self.list("]"));
        }
        if word.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
            return Node::Lit(match word.parse::<i64>() {
                Ok(i) => ScalarValue::Int64(Some(i)),
                Err(_) => ScalarValue::Float64(Some(word.parse().expect(word))),
            });
        }
        assert!(self.eat("("), "expected '(' after {word} in {}", self.s);
        Node::Call(word.to_ascii_lowercase(), self.list(")"))
    }
}

fn eval_node(defs: &[FunctionDef], node: &Node) -> Result<ScalarValue> {
    match node {
        Node::Lit(v) => Ok(v.clone()),
        Node::Array(items) => {
            let values = items
                .iter()
                .map(|n| eval_node(defs, n))
                .collect::<Result<Vec<_>>>()?;
            let t = if values.iter().any(|v| v.data_type() == DataType::Float64) {
                DataType::Float64
            } else {
                values
                    .first()
                    .map_or(DataType::Int64, ScalarValue::data_type)
            };
            let values = values
                .iter()
                .map(|v| v.cast_to(&t))
                .collect::<Result<Vec<_>>>()?;
            Ok(ScalarValue::List(ScalarValue::new_list_nullable(
                &values, &t,
            )))
        }
        Node::Call(name, args) => {
            let def = defs
                .iter()
                .find(|d| d.name == name || d.aliases.contains(&name.as_str()))
                .unwrap_or_else(|| panic!("unknown function {name}"));
            let args = args
                .iter()
                .map(|n| eval_node(defs, n))
                .collect::<Result<Vec<_>>>()?;
            call(&def.udf, args)
        }
    }
}

/// Evaluates a literal-only example expression using the functions in `defs`.
pub(crate) fn eval(defs: &[FunctionDef], expr: &str) -> Result<Option<String>> {
    let mut p = Parser { s: expr, pos: 0 };
    let node = p.node();
    p.ws();
    assert_eq!(p.pos, expr.len(), "trailing text in {expr}");
    Ok(render(&eval_node(defs, &node)?))
}

/// Runs every example of every function in `defs` and fails listing the mismatches.
pub(crate) fn check_examples(defs: &[FunctionDef]) {
    let mut failures = Vec::new();
    for def in defs {
        assert!(!def.examples.is_empty(), "{} has no examples", def.name);
        for example in def.examples {
            match eval(defs, example.expr) {
                Ok(got) if got.as_deref() == example.result => {}
                got => failures.push(format!(
                    "{}: expected {:?}, got {got:?}",
                    example.expr, example.result
                )),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The UDF of the function `name` (or an alias) among `defs`.
pub(crate) fn udf_of(defs: &[FunctionDef], name: &str) -> Arc<ScalarUDF> {
    defs.iter()
        .find(|d| d.name == name || d.aliases.contains(&name))
        .unwrap_or_else(|| panic!("no function {name}"))
        .udf
        .clone()
}

/// Calls the function `name` of `defs` on scalar arguments and renders the result.
pub(crate) fn run_rendered(
    defs: &[FunctionDef],
    name: &str,
    args: Vec<ScalarValue>,
) -> Result<Option<String>> {
    call(&udf_of(defs, name), args).map(|v| render(&v))
}
