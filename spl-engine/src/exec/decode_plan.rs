//! Which fields a decoder materialises for a pipeline ([`DecodePlan`]): only the fields that
//! can matter under the pipeline's error policy, plus each row's input line when rows are
//! written as their line or error rows need their other fields back ([`super::errors`]).
use crate::codec::{Decoder, SpliceSpec};
use crate::pipeline::{ErrorPolicy, Pipeline};
use crate::plan::FieldSelection;

/// The fields a JSON decoder materialises, from the pipeline's plan.
#[derive(Debug, Clone, Default)]
pub struct DecodePlan {
    /// The fields that may matter (time fields are always decoded).
    pub fields: FieldSelection,
    /// Keep each row's input line ([`crate::codec::LINE_FIELD`]): for writing unchanged rows
    /// as their line, and for giving error rows all their fields back.
    pub keep_lines: bool,
    /// Record how each row's line can be spliced into its output row under this edit
    /// ([`crate::codec::CUT_FIELD`]; the encoder's `with_splice`).
    pub splice: Option<SpliceSpec>,
}

impl DecodePlan {
    /// Every field, no input lines: what a host without line text (a C ABI batch) decodes.
    pub fn all() -> DecodePlan {
        DecodePlan {
            fields: FieldSelection::All,
            keep_lines: false,
            splice: None,
        }
    }

    /// The plan for `pipeline`: `lines_out` says the output writes rows that carry their input
    /// line as that line, or spliced from it (JSON output). A pipeline that never changes a row then needs only the
    /// fields its filters read; one that drops all other fields (`project`, `stats`) needs only
    /// the fields read before that. Rows passed through by the error policy are written whole,
    /// so they need every field unless they are written as their line.
    pub fn for_pipeline(pipeline: &Pipeline, lines_out: bool) -> DecodePlan {
        let whole = DecodePlan::rows_as_lines(pipeline, lines_out);
        let mut fields = crate::plan::input_fields(pipeline.plan(), whole);
        if pipeline.error_policy() == ErrorPolicy::PassThrough && !whole {
            fields = FieldSelection::All;
        }
        // Rows the pipeline edits only by removing and adding fields are spliced from their
        // line (JSON output).
        let splice = (lines_out && !whole)
            .then(|| crate::plan::splice_edit(pipeline.plan()))
            .flatten();
        DecodePlan {
            keep_lines: whole || splice.is_some() || fields != FieldSelection::All,
            fields,
            splice,
        }
    }

    /// True when output rows are to be written as their input lines: the pipeline never
    /// changes a row and the output can write lines (JSON). Only then may an encoder use
    /// `LINE_FIELD` for output; otherwise the column only serves error rows.
    pub fn rows_as_lines(pipeline: &Pipeline, lines_out: bool) -> bool {
        lines_out && crate::plan::rows_unchanged(pipeline.plan())
    }

    /// `decoder` set up to materialise what this plan asks for.
    pub fn apply(&self, decoder: Decoder) -> Decoder {
        decoder
            .select_fields(self.fields.clone())
            .keep_lines(self.keep_lines)
            .splice(self.splice.clone())
    }
}
