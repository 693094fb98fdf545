//! Metadata of every SPL instruction: name, syntax, summary and options with their value kinds.
//! The parser validates options against this table; `docs/instructions.md` is generated from it.

/// What kind of value an option takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptKind {
    /// No value: `-keep`.
    Switch,
    /// A single-quoted string, kept raw (backslashes are literal): `-path='$.a'`.
    Str,
    /// One character with C-like escapes (`\t`, `\11`, `\x09`, a lone `\`): `-quote='"'`.
    Char,
    /// One to three characters with C-like escapes: `-delim='|'`.
    Delim,
    /// A set of characters with C-like escapes: `-delims='&?'`.
    CharSet,
    /// A non-negative integer: `-limit=10`.
    Int,
    /// One of the listed words, single-quoted: `-mode='preserve'`.
    Enum(&'static [&'static str]),
    /// A list of names: `-names='a, b'` or `-names=["a", "b"]`.
    List,
}

impl OptKind {
    /// How the value is written, for messages and docs.
    pub fn describe(self) -> String {
        match self {
            OptKind::Switch => "a switch (no value)".into(),
            OptKind::Str => "a single-quoted string".into(),
            OptKind::Char => {
                "a single character in single quotes (escapes \\t, \\NNN, \\xHH allowed)".into()
            }
            OptKind::Delim => {
                "one to three characters in single quotes (escapes \\t, \\NNN, \\xHH allowed)"
                    .into()
            }
            OptKind::CharSet => "a set of characters in single quotes".into(),
            OptKind::Int => "a non-negative integer".into(),
            OptKind::Enum(values) => {
                let v: Vec<String> = values.iter().map(|v| format!("'{v}'")).collect();
                format!("one of {}", v.join(", "))
            }
            OptKind::List => "a list of names: '<a>, <b>' or [\"a\", \"b\"]".into(),
        }
    }
}

/// One option of an instruction.
#[derive(Debug, Clone, Copy)]
pub struct OptionDef {
    /// Name without the leading `-`.
    pub name: &'static str,
    pub kind: OptKind,
    pub summary: &'static str,
    /// An extension of this implementation (reported by `spl check` as non-portable).
    pub extension: bool,
    /// An older spelling that current documentation replaced.
    pub legacy: bool,
}

/// One instruction.
#[derive(Debug, Clone, Copy)]
pub struct InstructionDef {
    pub name: &'static str,
    pub syntax: &'static str,
    pub summary: &'static str,
    pub options: &'static [OptionDef],
    /// Buffers all input (scan mode only).
    pub stateful: bool,
}

impl InstructionDef {
    pub fn option(&self, name: &str) -> Option<&'static OptionDef> {
        self.options.iter().find(|o| o.name == name)
    }
}

const fn opt(name: &'static str, kind: OptKind, summary: &'static str) -> OptionDef {
    OptionDef {
        name,
        kind,
        summary,
        extension: false,
        legacy: false,
    }
}
const fn ext(name: &'static str, kind: OptKind, summary: &'static str) -> OptionDef {
    OptionDef {
        name,
        kind,
        summary,
        extension: true,
        legacy: false,
    }
}
const fn legacy(name: &'static str, kind: OptKind, summary: &'static str) -> OptionDef {
    OptionDef {
        name,
        kind,
        summary,
        extension: false,
        legacy: true,
    }
}

const MODES: &[&str] = &["overwrite", "preserve"];

/// Every instruction, in documentation order.
pub const INSTRUCTIONS: &[InstructionDef] = &[
    InstructionDef {
        name: "project",
        syntax: "project [-wildcard] <field>, <output>=<field>, ...",
        summary: "Keeps only the listed fields (time fields are always kept), optionally renaming.",
        options: &[opt("wildcard", OptKind::Switch, "Field names are glob patterns where `*` matches any run of characters.")],
        stateful: false,
    },
    InstructionDef {
        name: "project-away",
        syntax: "project-away [-wildcard] <field>, ...",
        summary: "Removes the listed fields and keeps all others (time fields are always kept).",
        options: &[
            opt("wildcard", OptKind::Switch, "Field names are glob patterns where `*` matches any run of characters."),
            legacy("wildcard-off", OptKind::Switch, "Older spelling: exact names (the current default)."),
        ],
        stateful: false,
    },
    InstructionDef {
        name: "project-rename",
        syntax: "project-rename <output>=<field>, ...",
        summary: "Renames fields and keeps all others. Time fields cannot be renamed or overwritten.",
        options: &[],
        stateful: false,
    },
    InstructionDef {
        name: "expand-values",
        syntax: "expand-values [-path=<jsonpath>] [-keep] [-limit=<n>] <field> [as <output>]",
        summary: "Expands the first level of a JSON array (or object) in a field into one row per element.",
        options: &[
            opt("path", OptKind::Str, "JSONPath of the value to expand inside the field (default: the whole field)."),
            opt("keep", OptKind::Switch, "Keep the source field next to the output."),
            opt("limit", OptKind::Int, "At most this many rows per input row."),
            ext("keys", OptKind::Switch, "For objects, also output the key as `<output>_key`."),
        ],
        stateful: false,
    },
    InstructionDef {
        name: "extend",
        syntax: "extend <output>=<expr>, ...",
        summary: "Computes fields from SQL expressions, left to right; a NULL result removes the field.",
        options: &[],
        stateful: false,
    },
    InstructionDef {
        name: "where",
        syntax: "where <expr>",
        summary: "Keeps the rows for which the boolean expression is true.",
        options: &[],
        stateful: false,
    },
    InstructionDef {
        name: "parse-regexp",
        syntax: "parse-regexp [-flags=<flags>] <field>, <pattern> [as <output>, ...]",
        summary: "Extracts capture groups of an RE2 regular expression (first match) into fields.",
        options: &[opt("flags", OptKind::Str, "Regex flags: i (case-insensitive), m (multi-line), s (dot matches newline), U (ungreedy), x (verbose).")],
        stateful: false,
    },
    InstructionDef {
        name: "parse-csv",
        syntax: "parse-csv [-delim=<delim>] [-quote=<char>] [-strict] <field> as <output>, ...",
        summary: "Splits a delimited text field into the named output fields.",
        options: &[
            opt("delim", OptKind::Delim, "Delimiter of one to three characters (default `,`)."),
            opt("quote", OptKind::Char, "Quote character enclosing values (default `\"`)."),
            opt("strict", OptKind::Switch, "Leave the row unchanged unless the value count equals the output count."),
        ],
        stateful: false,
    },
    InstructionDef {
        name: "parse-json",
        syntax: "parse-json [-mode=<mode>] [-path=<jsonpath>] [-prefix=<prefix>] <field>",
        summary: "Extracts the first level of a JSON object into fields.",
        options: &[
            opt("mode", OptKind::Enum(MODES), "`overwrite` (default) replaces existing fields; `preserve` keeps them."),
            opt("path", OptKind::Str, "JSONPath of the object to extract (default: the root)."),
            opt("prefix", OptKind::Str, "Prefix added to every extracted key."),
        ],
        stateful: false,
    },
    InstructionDef {
        name: "parse-kv",
        syntax: "parse-kv [-mode=<mode>] [-prefix=<p>] [-greedy] <field>, <delim>, <kv-sep> | parse-kv -regexp <field>, <pattern> | parse-kv [-delims=<chars>] [-kv-sep=<sep>] <field>",
        summary: "Extracts key-value pairs from a text field.",
        options: &[
            opt("mode", OptKind::Enum(MODES), "`overwrite` (default) replaces existing fields; `preserve` keeps them."),
            opt("prefix", OptKind::Str, "Prefix added to every extracted key."),
            opt("greedy", OptKind::Switch, "A value runs up to the next `key<kv-sep>` instead of the next delimiter."),
            opt("regexp", OptKind::Switch, "The argument is a regex with two groups (key, value), applied repeatedly."),
            opt("delims", OptKind::CharSet, "Older form: a set of single-character pair delimiters."),
            opt("kv-sep", OptKind::Str, "Older form: the key/value separator (default `=`)."),
            ext("strip-quotes", OptKind::Switch, "Remove surrounding double quotes from values."),
        ],
        stateful: false,
    },
    InstructionDef {
        name: "pack-fields",
        syntax: "pack-fields [-keep] [-ltrim=<prefix>] [-include=<regex>] [-exclude=<regex>] as <output>",
        summary: "Packs VARCHAR fields into one JSON object text field.",
        options: &[
            opt("keep", OptKind::Switch, "Keep the packed source fields."),
            opt("ltrim", OptKind::Str, "Prefix removed from keys inside the JSON."),
            opt("include", OptKind::Str, "Regex (full match on the field name) of fields to pack (default `.*`)."),
            opt("exclude", OptKind::Str, "Regex (full match on the field name) of fields not to pack; wins over -include."),
        ],
        stateful: false,
    },
    InstructionDef {
        name: "log-to-metric",
        syntax: "log-to-metric -names=<fields> [-labels=<fields>] [-time_field=<field>] [-wildcard] [-format]",
        summary: "Turns log rows into metric rows (__name__, __labels__, __time_nano__, __value__).",
        options: &[
            opt("names", OptKind::List, "Fields whose values become metric samples."),
            opt("labels", OptKind::List, "Fields copied into __labels__."),
            opt("time_field", OptKind::Str, "Field holding the sample time (default: the event time)."),
            opt("wildcard", OptKind::Switch, "Names and labels are glob patterns."),
            opt("format", OptKind::Switch, "Normalise labels: drop invalid keys, escape invalid values."),
        ],
        stateful: false,
    },
    InstructionDef {
        name: "metric-to-metric",
        syntax: "metric-to-metric [-add_labels=<fields>] [-del_labels=<labels>] [-rename_label=<old=new,...>] [-format]",
        summary: "Edits the labels of metric rows.",
        options: &[
            opt("add_labels", OptKind::List, "Fields added as labels."),
            opt("del_labels", OptKind::List, "Labels removed."),
            opt("rename_label", OptKind::List, "Label renames written `old=new`."),
            opt("format", OptKind::Switch, "Normalise labels: drop invalid keys, escape invalid values."),
        ],
        stateful: false,
    },
    InstructionDef {
        name: "stats",
        syntax: "stats <output>=<aggregate>, ... [by <key>, ...]",
        summary: "Aggregates rows per group (scan mode only).",
        options: &[],
        stateful: true,
    },
    InstructionDef {
        name: "sort",
        syntax: "sort <key> [asc|desc], ...",
        summary: "Sorts rows (scan mode only).",
        options: &[],
        stateful: true,
    },
    InstructionDef {
        name: "limit",
        syntax: "limit [<offset>,] <count>",
        summary: "Keeps at most `count` rows after skipping `offset` (scan mode only).",
        options: &[],
        stateful: true,
    },
    InstructionDef {
        name: "make-series",
        syntax: "make-series <output>=<field> [default=<fill>], ... on <time-field> [from <begin> to <end> step <step>] [by <tag>, ...]",
        summary: "Turns rows into time series: one row per `by` group, each output an array over the time axis (scan mode only).",
        options: &[],
        stateful: true,
    },
    InstructionDef {
        name: "render",
        syntax: "render <chart> [with (<property> = <value>, ...)]",
        summary: "Passes rows unchanged and has the host draw them as a chart: linechart, timechart, areachart, barchart, columnchart, scatterchart or piechart; properties title, xcolumn, ycolumns, series, xtitle, ytitle, legend, ymin, ymax (scan mode only; the statement's last stage).",
        options: &[],
        stateful: false,
    },
];

/// Looks an instruction up by its exact (lower-case) name.
pub fn lookup(name: &str) -> Option<&'static InstructionDef> {
    INSTRUCTIONS.iter().find(|i| i.name == name)
}
