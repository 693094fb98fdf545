//! Turns pest's raw "expected X, Y, Z" into messages a person understands: what was found, what
//! fits here in words, and a hint for the common mistakes (unknown instruction, dangling `|`,
//! missing `as`, single-quoted field names, missing source, `.let` without a body…).
use std::collections::BTreeSet;

use pest::error::{Error, InputLocation};

use crate::ast::Span;
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::grammar::Rule;
use crate::instructions::INSTRUCTIONS;
use crate::suggest::did_you_mean;

/// Literal tokens worth naming in an "expected" list (the rest are named by their rules).
const PUNCTUATION: &[&str] = &["=", ",", "(", ")", "[", "]", "|", ";", "->", "*", "$"];

/// Words people bring from other languages, and the SPL instruction they want.
const FOREIGN: &[(&str, &str)] = &[
    ("select", "project"),
    ("fields", "project"),
    ("keep", "project"),
    ("table", "project"),
    ("rename", "project-rename"),
    ("drop", "project-away"),
    ("remove", "project-away"),
    ("filter", "where"),
    ("search", "where"),
    ("eval", "extend"),
    ("set", "extend"),
    ("let", "extend"),
    ("rex", "parse-regexp"),
    ("regex", "parse-regexp"),
    ("parse-regex", "parse-regexp"),
    ("spath", "parse-json"),
    ("json", "parse-json"),
    ("csv", "parse-csv"),
    ("kv", "parse-kv"),
    ("head", "limit"),
    ("top", "limit"),
    ("order", "sort"),
    ("group", "stats"),
    ("aggregate", "stats"),
    ("mvexpand", "expand-values"),
];

/// Translates a pest error on `src` into a diagnostic.
pub fn translate(src: &str, e: &Error<Rule>) -> Diagnostic {
    let mut pos = match e.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let mut rules: BTreeSet<Rule> = match &e.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => {
            positives.iter().copied().collect()
        }
        pest::error::ErrorVariant::CustomError { .. } => BTreeSet::new(),
    };
    // The deepest rules attempted at the error position (pest reports only the outermost ones
    // in `positives`). pest does not export the attempt type; its Debug form is `Rule(name)`.
    if let Some(attempts) = e.parse_attempts() {
        // A literal token (`,`, `)`) that failed further right than any rule wins: report there.
        if attempts.max_position > pos && attempts.max_position <= src.len() {
            pos = attempts.max_position;
            rules.clear();
        }
        for stack in &attempts.call_stacks {
            let deepest = format!("{:?}", stack.deepest);
            if let Some(name) = deepest
                .strip_prefix("Rule(")
                .and_then(|s| s.strip_suffix(')'))
            {
                if let Some(r) = Rule::all_rules().iter().find(|r| format!("{r:?}") == name) {
                    rules.insert(*r);
                }
            }
        }
    }
    let tokens: BTreeSet<String> = e
        .parse_attempts()
        .map(|a| {
            a.expected_tokens()
                .into_iter()
                .filter_map(|t| token_text(&format!("{t:?}")))
                .filter(|t| PUNCTUATION.contains(&t.as_str()))
                .collect()
        })
        .unwrap_or_default();
    let (found, found_span) = found_at(src, pos);
    let prev = previous_token(src, pos);

    let instruction_expected = rules.iter().any(|r| is_instruction_keyword(*r));
    let source_expected = rules.contains(&Rule::star_source) || rules.contains(&Rule::dataset_ref);

    if instruction_expected {
        let rest = src[pos..].trim_start();
        if rest.is_empty() || rest.starts_with('|') || rest.starts_with(';') {
            let pipe = src[..pos].rfind('|').unwrap_or(pos.saturating_sub(1));
            return Diagnostic::error(
                codes::DANGLING_PIPE,
                "`|` must be followed by an instruction",
                Span::new(pipe, pipe + 1),
                "nothing follows this pipe",
            )
            .with_help("remove the `|` or add an instruction such as `where`, `extend` or `project` after it");
        }
        let word = word_at(src, pos);
        let lower = word.to_ascii_lowercase();
        let names = INSTRUCTIONS.iter().map(|i| i.name);
        let help = FOREIGN
            .iter()
            .find(|(w, _)| *w == lower)
            .map(|(_, i)| format!("SPL uses `{i}` for this"))
            .or_else(|| did_you_mean(&lower, names).map(|s| format!("did you mean `{s}`?")));
        let list: Vec<&str> = INSTRUCTIONS.iter().map(|i| i.name).collect();
        return Diagnostic::error(
            codes::UNKNOWN_INSTRUCTION,
            format!("unknown instruction `{word}`"),
            Span::new(pos, pos + word.len().max(1)),
            "not an SPL instruction",
        )
        .with_note(format!("instructions: {}", list.join(", ")))
        .with_help_opt(help);
    }

    if source_expected {
        if prev == "=" && statement_starts_with_let(src, pos) {
            return Diagnostic::error(
                codes::LET_WITHOUT_BODY,
                "`.let` needs a pipeline after `=`",
                found_span,
                format!("expected `*` or `$dataset`, found {found}"),
            )
            .with_help("write `.let name = * | where ...`");
        }
        let word = word_at(src, pos).to_ascii_lowercase();
        let help = if src[pos..].trim_start().starts_with('|')
            || INSTRUCTIONS.iter().any(|i| i.name == word)
        {
            "start the statement with a source: `* | ...` for the input rows, `$name | ...` for a dataset"
        } else {
            "a statement starts with `*` (the input rows) or `$name` (a dataset defined by `.let`)"
        };
        return Diagnostic::error(
            codes::EMPTY_INPUT_SOURCE,
            format!("expected `*` or `$dataset` to start a statement, found {found}"),
            found_span,
            "statement must start with a source",
        )
        .with_help(help);
    }

    let field_expected = rules.iter().any(|r| {
        matches!(
            r,
            Rule::ident
                | Rule::tag_ident
                | Rule::quoted_ident
                | Rule::pattern_word
                | Rule::field_list
        )
    });
    if field_expected && src[pos..].starts_with('\'') {
        let end = string_end(src, pos);
        let inner = &src[pos + 1..end.saturating_sub(1).max(pos + 1)];
        return Diagnostic::error(
            codes::FIELD_QUOTES,
            "field names are bare or double-quoted; single quotes make a string",
            Span::new(pos, end),
            "this is a string literal",
        )
        .with_help(format!(
            "write the field name as `{inner}` or `\"{inner}\"`"
        ));
    }

    if rules.contains(&Rule::kw_as) && !rules.contains(&Rule::expr) && !field_expected {
        let what = instruction_before(src, pos).unwrap_or("this instruction");
        return Diagnostic::error(
            codes::MISSING_AS,
            format!("`{what}` needs `as` before its output field names"),
            found_span,
            format!("expected `as`, found {found}"),
        )
        .with_help(format!("write `{what} ... as <name>, ...`"));
    }

    let expr_expected = rules.iter().any(|r| {
        matches!(
            r,
            Rule::expr | Rule::value_expr | Rule::column | Rule::function_call | Rule::case_expr
        )
    });
    let operand_ended = rules.iter().any(|r| describe(*r) == Some("an operator"));
    if let Some((kw, span)) = reserved_before(src, pos) {
        if expr_expected || tokens.contains("(") {
            return Diagnostic::error(
                codes::MISSING_EXPRESSION,
                format!("`{kw}` is a reserved word and cannot name a field here"),
                span,
                "reserved word",
            )
            .with_help(format!("double-quote a field of that name: \"{kw}\""));
        }
    }
    if expr_expected && !operand_ended {
        let mut d = Diagnostic::error(
            codes::MISSING_EXPRESSION,
            format!("expected an expression, found {found}"),
            found_span,
            "expected an expression here",
        );
        if src[pos..].starts_with('=') && prev == "=" {
            d = d.with_help("SQL compares with a single `=`");
        } else if src[pos..].trim_start().is_empty() || src[pos..].starts_with('|') {
            d = d.with_help("the expression is missing; write e.g. `status >= 500`");
        } else if let Some(kw) = reserved_word(&word_at(src, pos)) {
            d = d.with_help(format!(
                "`{kw}` is a reserved word; quote a field of that name: \"{kw}\""
            ));
        }
        return d;
    }

    let option_value_expected = rules
        .iter()
        .any(|r| matches!(r, Rule::option_value | Rule::option_list | Rule::bare_word));
    if option_value_expected {
        return Diagnostic::error(
            codes::BAD_OPTION_VALUE,
            format!("expected an option value after `=`, found {found}"),
            found_span,
            "expected a value",
        )
        .with_help("option values are single-quoted: `-name='value'`");
    }

    let mut expected: Vec<String> = rules
        .iter()
        .filter_map(|r| describe(*r))
        .map(str::to_string)
        .collect();
    expected.extend(tokens.iter().map(|t| format!("`{t}`")));
    if operand_ended {
        // After a complete operand, "an operator" already covers `*`, `=` and friends.
        expected.retain(|e| {
            !matches!(
                e.as_str(),
                "an expression" | "`*`" | "`=`" | "`[`" | "`AND`" | "`OR`" | "`IS`"
            )
        });
    }
    expected.sort();
    expected.dedup();
    let expected_text = match expected.len() {
        0 => String::new(),
        1 => format!("; expected {}", expected[0]),
        n => format!(
            "; expected {} or {}",
            expected[..n - 1].join(", "),
            expected[n - 1]
        ),
    };
    let mut d = Diagnostic::error(
        codes::SYNTAX,
        format!("unexpected {found}{expected_text}"),
        found_span,
        "unexpected here",
    );
    if found.starts_with("`\"") && tokens.is_empty() {
        d = d.with_help("double quotes name fields; strings use single quotes");
    } else if src[pos..].starts_with("==") {
        d = d.with_help("SQL compares with a single `=`");
    } else if let Some(stmt_end) = unclosed_paren_hint(src, pos) {
        d = d.with_help(stmt_end);
    }
    d
}

fn is_instruction_keyword(r: Rule) -> bool {
    matches!(
        r,
        Rule::kw_project
            | Rule::kw_project_away
            | Rule::kw_project_rename
            | Rule::kw_expand_values
            | Rule::kw_extend
            | Rule::kw_where
            | Rule::kw_parse_regexp
            | Rule::kw_parse_csv
            | Rule::kw_parse_json
            | Rule::kw_parse_kv
            | Rule::kw_pack_fields
            | Rule::kw_log_to_metric
            | Rule::kw_metric_to_metric
            | Rule::kw_stats
            | Rule::kw_sort
            | Rule::kw_limit
            | Rule::kw_render
    )
}

/// Words for the rules that may appear in an "expected" list.
fn describe(r: Rule) -> Option<&'static str> {
    Some(match r {
        Rule::ident => "a field name",
        Rule::quoted_ident => "a double-quoted field name",
        Rule::pattern_word => "a field name or pattern",
        Rule::string => "a string literal",
        Rule::number => "a number",
        Rule::integer => "an integer",
        Rule::expr | Rule::value_expr => "an expression",
        Rule::option => "an option",
        Rule::field_list => "output field names",
        Rule::kw_as => "`as`",
        Rule::kw_by => "`by`",
        Rule::kw_with => "`with`",
        Rule::chart_kind => "a chart kind",
        Rule::kw_when => "`WHEN`",
        Rule::kw_then => "`THEN`",
        Rule::kw_else => "`ELSE`",
        Rule::kw_end => "`END`",
        Rule::kw_and => "`AND`",
        Rule::kw_from => "`FROM`",
        Rule::kw_null => "`NULL`",
        Rule::kw_distinct => "`DISTINCT`",
        Rule::type_name => "a type name",
        Rule::lambda => "a lambda",
        Rule::op_or
        | Rule::op_and
        | Rule::op_eq
        | Rule::op_ne
        | Rule::op_lt
        | Rule::op_le
        | Rule::op_gt
        | Rule::op_ge => "an operator",
        Rule::op_concat
        | Rule::op_add
        | Rule::op_sub
        | Rule::op_mul
        | Rule::op_div
        | Rule::op_mod => "an operator",
        Rule::is_null | Rule::like | Rule::in_list | Rule::between | Rule::subscript => {
            "an operator"
        }
        Rule::op_is_distinct | Rule::op_is_not_distinct => "an operator",
        Rule::sort_order => "`asc` or `desc`",
        Rule::EOI => "end of input",
        Rule::dataset_name => "a dataset name",
        Rule::statement | Rule::star_source | Rule::dataset_ref => "a statement",
        r => return keyword_text(r),
    })
}

/// `kw_between` → "`BETWEEN`"; instruction keywords are listed elsewhere.
fn keyword_text(r: Rule) -> Option<&'static str> {
    const KW: &[(Rule, &str)] = &[
        (Rule::kw_or, "`OR`"),
        (Rule::kw_not, "`NOT`"),
        (Rule::kw_is, "`IS`"),
        (Rule::kw_like, "`LIKE`"),
        (Rule::kw_in, "`IN`"),
        (Rule::kw_between, "`BETWEEN`"),
        (Rule::kw_escape, "`ESCAPE`"),
        (Rule::kw_let, "`.let`"),
        (Rule::kw_asc, "`asc`"),
        (Rule::kw_desc, "`desc`"),
    ];
    KW.iter().find(|(k, _)| *k == r).map(|(_, t)| *t)
}

/// Describes what is at `pos` and the span to underline.
fn found_at(src: &str, pos: usize) -> (String, Span) {
    let rest = &src[pos..];
    if rest.is_empty() {
        return ("end of input".into(), Span::new(pos, pos));
    }
    if rest.starts_with('\'') {
        let end = string_end(src, pos);
        return (
            format!("string {}", shorten(&src[pos..end])),
            Span::new(pos, end),
        );
    }
    if rest.starts_with('"') {
        let end = src[pos + 1..]
            .find('"')
            .map(|e| pos + e + 2)
            .unwrap_or(src.len());
        return (
            format!("`{}`", shorten(&src[pos..end])),
            Span::new(pos, end),
        );
    }
    let word = word_at(src, pos);
    if !word.is_empty() {
        return (
            format!("`{}`", shorten(&word)),
            Span::new(pos, pos + word.len()),
        );
    }
    let c = rest.chars().next().unwrap_or(' ');
    let shown = match c {
        '\n' => "a line break".to_string(),
        _ => format!("`{c}`"),
    };
    (shown, Span::new(pos, pos + c.len_utf8()))
}

fn shorten(s: &str) -> String {
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s.to_string()
    }
}

/// The word (letters, digits, `_`, `-`, `.`) starting at `pos`.
fn word_at(src: &str, pos: usize) -> String {
    src[pos..]
        .chars()
        .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
        .collect()
}

fn string_end(src: &str, pos: usize) -> usize {
    let b = src.as_bytes();
    let mut i = pos + 1;
    while i < b.len() {
        if b[i] == b'\'' {
            if b.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    src.len()
}

/// The last non-space character before `pos` (as a string), ignoring comments roughly.
fn previous_token(src: &str, pos: usize) -> String {
    src[..pos]
        .trim_end()
        .chars()
        .last()
        .map(|c| c.to_string())
        .unwrap_or_default()
}

fn statement_starts_with_let(src: &str, pos: usize) -> bool {
    let start = src[..pos].rfind(';').map(|i| i + 1).unwrap_or(0);
    strip_comments(&src[start..pos])
        .trim_start()
        .to_ascii_lowercase()
        .starts_with(".let")
}

fn strip_comments(s: &str) -> String {
    s.lines()
        .map(|l| l.split("--").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The instruction whose stage contains `pos`.
fn instruction_before(src: &str, pos: usize) -> Option<&'static str> {
    let start = src[..pos].rfind('|').map(|i| i + 1)?;
    let word = word_at(
        src,
        start + (src[start..].len() - src[start..].trim_start().len()),
    )
    .to_ascii_lowercase();
    INSTRUCTIONS.iter().find(|i| i.name == word).map(|i| i.name)
}

fn reserved_word(word: &str) -> Option<String> {
    const RESERVED: &[&str] = &[
        "and", "or", "not", "is", "null", "true", "false", "case", "when", "then", "else", "end",
        "like", "in", "between", "distinct", "from", "as", "by", "escape", "cast", "try_cast",
    ];
    let lower = word.to_ascii_lowercase();
    RESERVED.contains(&lower.as_str()).then_some(lower)
}

fn unclosed_paren_hint(src: &str, pos: usize) -> Option<String> {
    let before = &src[..pos];
    if before.matches('(').count() > before.matches(')').count() {
        return Some("a `(` before this point is not closed".to_string());
    }
    (before.matches('[').count() > before.matches(']').count())
        .then(|| "a `[` before this point is not closed".to_string())
}

/// pest does not export its token type; its Debug form is `Sensitive { token: "=" }`.
fn token_text(debug: &str) -> Option<String> {
    let start = debug.find("token: \"")? + "token: \"".len();
    let body = &debug[start..debug.rfind('"')?];
    let mut out = String::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some(o) => out.push(o),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// A reserved word that ends right before `pos` (a field named like a keyword).
fn reserved_before(src: &str, pos: usize) -> Option<(String, Span)> {
    let before = src[..pos].trim_end();
    // Just after the last character that cannot be part of a word (which may be multi-byte).
    let start = before
        .char_indices()
        .rev()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let word = &before[start..];
    let kw = reserved_word(word)?;
    // Only when the word stands where an operand belongs (after an operator, `(`, `,` or `where`).
    let prev = before[..start].trim_end();
    let operand_slot = prev.ends_with(['=', '(', ',', '<', '>', '+', '-', '*', '/', '%'])
        || prev.to_ascii_lowercase().ends_with("where");
    operand_slot.then(|| (kw, Span::new(start, start + word.len())))
}
