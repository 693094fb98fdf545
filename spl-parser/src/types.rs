//! Type names of `CAST(x AS type)` (spec §4): validation of base names and parameters.
use pest::iterators::Pair;

use crate::ast::{Span, TypeName, TypeParam};
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::grammar::Rule;

/// Base type names with how many parameters they take: (name, min, max, params are types).
const TYPES: &[(&str, usize, usize, bool)] = &[
    ("boolean", 0, 0, false),
    ("tinyint", 0, 0, false),
    ("smallint", 0, 0, false),
    ("integer", 0, 0, false),
    ("bigint", 0, 0, false),
    ("hugeint", 0, 0, false),
    ("real", 0, 0, false),
    ("double", 0, 0, false),
    ("timestamp", 0, 0, false),
    ("date", 0, 0, false),
    ("varchar", 0, 1, false),
    ("varbinary", 0, 0, false),
    ("json", 0, 0, false),
    ("array", 1, 1, true),
    ("map", 2, 2, true),
];

/// Accepted spellings that mean another type.
const ALIASES: &[(&str, &str)] = &[
    ("int", "integer"),
    ("bool", "boolean"),
    ("string", "varchar"),
];

/// The canonical base type names.
pub fn names() -> impl Iterator<Item = &'static str> {
    TYPES.iter().map(|t| t.0)
}

/// Builds and validates a `type_name` pair.
pub(crate) fn build(p: Pair<'_, Rule>) -> Result<TypeName, Diagnostic> {
    let s = p.as_span();
    let span = Span::new(s.start(), s.end());
    let mut it = p.into_inner();
    let name_pair = it.next().expect("type name");
    let written = name_pair.as_str().to_ascii_lowercase();
    let name = ALIASES
        .iter()
        .find(|(a, _)| *a == written)
        .map(|(_, t)| t.to_string())
        .unwrap_or(written.clone());
    let Some(&(_, min, max, typed)) = TYPES.iter().find(|t| t.0 == name) else {
        let help = crate::suggest::did_you_mean(&written, names())
            .map(|s| format!("did you mean `{}`?", s.to_uppercase()));
        let list: Vec<String> = names().map(str::to_uppercase).collect();
        return Err(Diagnostic::error(
            codes::UNKNOWN_TYPE,
            format!("unknown type `{}`", name_pair.as_str()),
            Span::new(name_pair.as_span().start(), name_pair.as_span().end()),
            "not an SPL type",
        )
        .with_note(format!("SPL types: {}", list.join(", ")))
        .with_help_opt(help));
    };
    let mut params = Vec::new();
    for param in it {
        params.push(match param.as_rule() {
            Rule::integer => {
                let n = param.as_str().parse::<u64>().map_err(|_| {
                    Diagnostic::error(
                        codes::NUMBER_RANGE,
                        "type parameter too large",
                        span,
                        "here",
                    )
                })?;
                if typed {
                    return Err(arity(&name, span, "element types, not numbers"));
                }
                TypeParam::Int(n)
            }
            _ => {
                if !typed {
                    return Err(arity(&name, span, "a length, not a type"));
                }
                TypeParam::Type(build(param)?)
            }
        });
    }
    if params.len() < min || params.len() > max {
        let want = match (min, max) {
            (0, 0) => "no parameters".to_string(),
            (0, m) => format!("at most {m} parameter"),
            (a, b) if a == b => format!("{a} parameter{}", if a == 1 { "" } else { "s" }),
            (a, b) => format!("{a} to {b} parameters"),
        };
        return Err(arity(&name, span, &want));
    }
    Ok(TypeName { name, params, span })
}

fn arity(name: &str, span: Span, want: &str) -> Diagnostic {
    let example = match name {
        "array" => " (e.g. ARRAY(BIGINT))",
        "map" => " (e.g. MAP(VARCHAR, BIGINT))",
        _ => "",
    };
    Diagnostic::error(
        codes::TYPE_ARGUMENTS,
        format!("type `{}` takes {want}{example}", name.to_uppercase()),
        span,
        "wrong type parameters",
    )
}
