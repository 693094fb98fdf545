//! The one registry of diagnostic codes. A code is never reused or renumbered: retired codes stay
//! listed with `retired: true`. `E0xxx` are parse/validation errors, `E1xxx` compile errors from
//! the engine, `W0xxx` warnings. `docs/diagnostics.md` is generated from this table.
use serde::Serialize;

/// A stable diagnostic code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Code {
    /// `E0001`
    pub id: &'static str,
    /// Short kebab-case name: `syntax-error`.
    pub name: &'static str,
    /// What the code means, for the docs.
    pub summary: &'static str,
    pub retired: bool,
}

macro_rules! codes {
    ($($konst:ident = $id:literal, $name:literal, $summary:literal;)*) => {
        $(
            #[doc = $summary]
            pub const $konst: Code = Code { id: $id, name: $name, summary: $summary, retired: false };
        )*
        /// Every code, in registry order.
        pub const ALL: &[Code] = &[$($konst),*];
    };
}

codes! {
    SYNTAX = "E0001", "syntax-error", "The text does not follow SPL syntax at this point.";
    UNTERMINATED_STRING = "E0002", "unterminated-string", "A single-quoted string has no closing quote.";
    UNTERMINATED_NAME = "E0003", "unterminated-name", "A double-quoted field name has no closing quote.";
    UNTERMINATED_COMMENT = "E0004", "unterminated-comment", "A `/*` comment has no closing `*/`.";
    UNKNOWN_INSTRUCTION = "E0005", "unknown-instruction", "The word after `|` is not an SPL instruction.";
    UNKNOWN_OPTION = "E0006", "unknown-option", "The instruction has no option of this name.";
    BAD_OPTION_VALUE = "E0007", "bad-option-value", "An option's value has the wrong form or is out of range.";
    MISSING_OPTION_VALUE = "E0008", "missing-option-value", "A valued option is written without `=value`, or a switch is given a value.";
    DUPLICATE_OPTION = "E0009", "duplicate-option", "The same option is given twice.";
    OPTION_QUOTES = "E0010", "option-quotes", "Option values are single-quoted literals.";
    FIELD_QUOTES = "E0011", "field-quotes", "A field name is written in single quotes; field names are bare or double-quoted.";
    DANGLING_PIPE = "E0012", "dangling-pipe", "A `|` is not followed by an instruction.";
    EMPTY_PROGRAM = "E0013", "empty-program", "The program contains no statement.";
    UNKNOWN_DATASET = "E0014", "unknown-dataset", "`$name` refers to a dataset no earlier `.let` defines.";
    DUPLICATE_DATASET = "E0015", "duplicate-dataset", "Two `.let` statements define the same dataset.";
    LET_WITHOUT_BODY = "E0016", "let-without-body", "`.let name =` is not followed by a pipeline.";
    MISSING_AS = "E0017", "missing-as", "The instruction needs `as` before its output names.";
    UNKNOWN_TYPE = "E0018", "unknown-type", "The type name in CAST is not an SPL type.";
    TYPE_ARGUMENTS = "E0019", "type-arguments", "A type has the wrong number or kind of parameters.";
    TOO_DEEP = "E0020", "nesting-too-deep", "Expressions are nested more deeply than the parser allows.";
    BAD_CHAR_LITERAL = "E0021", "bad-char-literal", "A character option (`-delim`, `-quote`) has an invalid escape or length.";
    DUPLICATE_OUTPUT = "E0022", "duplicate-output", "Two items of one instruction write the same output field.";
    TIME_FIELD = "E0023", "time-field", "The instruction may not rename, overwrite or drop a time field.";
    WILDCARD_WITHOUT_FLAG = "E0024", "wildcard-without-flag", "A bare field name contains `*` but `-wildcard` is not given.";
    MISSING_EXPRESSION = "E0025", "missing-expression", "An expression is expected here.";
    NUMBER_RANGE = "E0026", "number-out-of-range", "An integer is too large.";
    BAD_ARGUMENTS = "E0027", "bad-arguments", "The instruction's positional arguments do not match any of its forms.";
    MISPLACED_LAMBDA = "E0028", "misplaced-lambda", "A lambda appears outside a function argument.";
    EMPTY_INPUT_SOURCE = "E0029", "missing-source", "A statement must start with `*` or `$dataset`.";
    UNUSED_DATASET = "W0001", "unused-dataset", "A `.let` dataset is never used or emitted.";
    NON_PORTABLE = "W0002", "non-portable", "An extension of this implementation that the reference engine does not accept.";
    LEGACY_SYNTAX = "W0003", "legacy-syntax", "An older syntax form that current SLS documentation replaced.";
    NOT_ON_SERVICE = "W0004", "not-on-service", "A function the hosted SLS service does not run in SPL (an extension of this implementation, or documented as unavailable in SPL); reported under the logtail, consumer and transform profiles.";
    UNKNOWN_FUNCTION = "E1001", "unknown-function", "No SPL function has this name.";
    FUNCTION_ARGUMENTS = "E1002", "function-arguments", "A function is called with arguments it does not accept.";
    TYPE_MISMATCH = "E1003", "type-mismatch", "An operand has a type the operator or instruction cannot use.";
    INVALID_REGEX = "E1004", "invalid-regex", "A regular expression does not compile (RE2 syntax).";
    INVALID_JSONPATH = "E1005", "invalid-jsonpath", "A JSONPath expression is malformed.";
    NOT_IN_PROFILE = "E1006", "not-in-profile", "The instruction or function is not available in the selected profile.";
    LIMIT_EXCEEDED = "E1007", "limit-exceeded", "The program exceeds a limit of the selected profile (length, stages).";
    AGGREGATE_OUTSIDE_STATS = "E1008", "aggregate-outside-stats", "An aggregate function is used outside `stats`.";
    UNSUPPORTED = "E1009", "unsupported", "A language feature this implementation does not support.";
    SERIES_SPEC = "E1010", "series-spec", "A `make-series` step, time bound or fill strategy is not valid.";
    CHART_KIND = "E1011", "chart-kind", "`render` names a chart kind this implementation cannot draw.";
    RENDER_PROPERTY = "E1012", "render-property", "A `render ... with (...)` property is unknown, repeated or has a value it does not accept.";
    RENDER_POSITION = "E1013", "render-position", "`render` is not the last stage of its statement.";
    EXTRACT_FIELD = "E1014", "extract-field", "The field of `extract(field FROM x)` is not one of the date and time fields.";
    NO_GEOIP_DATABASE = "E1015", "no-geoip-database", "An IP geolocation function (`ip_to_country`, …) is used but no MaxMind DB file is configured (`--geoip FILE`).";
    DATA_ERROR = "E2001", "data-error", "A value made an expression fail for one row (e.g. `cast('abc' as bigint)`); the row goes to the error stream.";
    MALFORMED_INPUT = "E2002", "malformed-input", "An input line could not be decoded (broken JSON, wrong CSV); the line goes to the error stream.";
    DEADLINE_EXCEEDED = "E2003", "deadline-exceeded", "A batch took longer than the per-batch time budget.";
    MEMORY_EXCEEDED = "E2004", "memory-exceeded", "A batch needed more memory than the per-batch ceiling.";
    BATCH_FAILED = "E2005", "batch-failed", "A stage failed for a whole batch (e.g. a time field set to a non-integer).";
}

/// Looks a code up by id (`E0005`) or name (`unknown-instruction`).
pub fn lookup(key: &str) -> Option<Code> {
    ALL.iter().copied().find(|c| c.id == key || c.name == key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_and_names_are_unique_and_well_formed() {
        let mut ids = HashSet::new();
        let mut names = HashSet::new();
        for c in ALL {
            assert!(ids.insert(c.id), "duplicate id {}", c.id);
            assert!(names.insert(c.name), "duplicate name {}", c.name);
            assert!(c.id.len() == 5 && (c.id.starts_with('E') || c.id.starts_with('W')));
            assert!(c.id[1..].chars().all(|ch| ch.is_ascii_digit()));
        }
        assert_eq!(lookup("E0005"), Some(UNKNOWN_INSTRUCTION));
        assert_eq!(lookup("dangling-pipe"), Some(DANGLING_PIPE));
    }
}
