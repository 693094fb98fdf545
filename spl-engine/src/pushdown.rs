//! Server-side pushdown: a consumer's SPL applied to the event groups a shard server is about
//! to return from a pull, so only matching, projected rows cross the wire.
//!
//! The program is compiled once under the consumer profile ([`Pushdown::compile`]; `stats`,
//! `sort` and `limit` are rejected there with `E1006`). Each [`EventGroup`] becomes one batch
//! through [`groups::merge`] (`__topic__`, `__source__` and every `__tag__:<key>` as columns; a
//! row's own value for such a field overrides the group's), the pipeline runs, and the output
//! rows are split back into groups by [`groups::Splitter`]: rows keep the input group's topic,
//! source and tags unless they write new values, which moves them into the group of those values;
//! groups left without rows are dropped. Rows that fail follow the consumer profile's
//! pass-through policy: the original row is returned and counted in
//! [`PushdownStats::rows_failed`].
//!
//! Field values that are not UTF-8 keep their bytes when no stage reads or writes the field
//! ([`Touched`]). This module knows nothing of a wire format: `spl-loghub` converts its
//! protobuf LogGroups to and from [`EventGroup`] and adds the byte statistics.
use spl_parser::Diagnostics;

use crate::exec::run_batch;
use crate::groups::{self, EventGroup, GroupFields, Splitter, Touched};
use crate::pipeline::{Options, Pipeline, ProcessError, Profile};
use crate::render::Renderer;

/// A group produced by the pushdown, with the index of the input group it came from.
#[derive(Debug, Clone)]
pub struct OutputGroup {
    /// Index of the input group (in the slice given to [`Pushdown::apply`]).
    pub origin: usize,
    pub group: EventGroup,
}

/// Counters of one pushdown call (or of several, added up).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PushdownStats {
    /// Groups scanned.
    pub raw_groups: u64,
    /// Rows (events) scanned.
    pub raw_rows: u64,
    /// Groups returned (non-empty).
    pub groups_returned: u64,
    /// Rows returned, including failed rows passed through.
    pub rows_returned: u64,
    /// Rows that failed in the program and were returned unchanged (pass-through policy) or
    /// dropped/kept aside by another policy.
    pub rows_failed: u64,
    /// Groups that exceeded the time or memory budget (returned unchanged under pass-through).
    pub budget_exceeded: u64,
}

impl PushdownStats {
    /// Adds another call's counters.
    pub fn add(&mut self, other: &PushdownStats) {
        self.raw_groups += other.raw_groups;
        self.raw_rows += other.raw_rows;
        self.groups_returned += other.groups_returned;
        self.rows_returned += other.rows_returned;
        self.rows_failed += other.rows_failed;
        self.budget_exceeded += other.budget_exceeded;
    }
}

/// The result of applying a program to a list of groups.
#[derive(Debug, Clone, Default)]
pub struct PushdownOutput {
    /// Non-empty output groups, in input order (rows that moved to new metadata values follow
    /// the group they came from).
    pub groups: Vec<OutputGroup>,
    pub stats: PushdownStats,
}

/// A compiled consumer program, shareable across threads.
#[derive(Debug)]
pub struct Pushdown {
    pipeline: Pipeline,
    renderer: Renderer,
    touched: Touched,
}

impl Pushdown {
    /// Compiles `text` under the consumer profile (limits and availability of §18.12).
    pub fn compile(text: &str) -> Result<Pushdown, Diagnostics> {
        Pushdown::with_options(text, &Options::new(Profile::Consumer))
    }

    /// Compiles `text` with explicit options (profile, time zone, budgets, error policy).
    pub fn with_options(text: &str, options: &Options) -> Result<Pushdown, Diagnostics> {
        let pipeline = Pipeline::compile(text, options)?;
        let touched = Touched::of(pipeline.plan());
        Ok(Pushdown {
            pipeline,
            renderer: Renderer::new(options.timezone),
            touched,
        })
    }

    /// The compiled pipeline.
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// How typed output values are rendered as text ([`EventGroup::events`]).
    pub fn renderer(&self) -> &Renderer {
        &self.renderer
    }

    /// The fields the program's stages read or write.
    pub fn touched(&self) -> &Touched {
        &self.touched
    }

    /// Applies the program to every group. Each group is processed on its own; every output
    /// dataset of the program contributes rows (in statement order).
    pub fn apply(&self, groups: &[EventGroup]) -> Result<PushdownOutput, ProcessError> {
        let mut out = PushdownOutput::default();
        for (origin, group) in groups.iter().enumerate() {
            let (produced, stats) = self.apply_group(group)?;
            out.stats.add(&stats);
            out.groups.extend(
                produced
                    .into_iter()
                    .map(|group| OutputGroup { origin, group }),
            );
        }
        Ok(out)
    }

    /// Applies the program to one group: the groups it turns into (none when every row was
    /// filtered out) and the counters.
    pub fn apply_group(
        &self,
        group: &EventGroup,
    ) -> Result<(Vec<EventGroup>, PushdownStats), ProcessError> {
        let mut stats = PushdownStats {
            raw_groups: 1,
            raw_rows: group.rows.num_rows() as u64,
            ..PushdownStats::default()
        };
        if group.rows.num_rows() == 0 {
            return Ok((Vec::new(), stats));
        }
        let internal = |e: arrow::error::ArrowError| ProcessError::Batch {
            message: e.to_string(),
            stage: "event groups".to_string(),
        };
        let batch = groups::merge(
            std::slice::from_ref(group),
            GroupFields::TopicSourceTags,
            &self.touched,
            &self.renderer,
        )
        .map_err(internal)?;
        let outputs = run_batch(&self.pipeline, batch)?;
        stats.rows_failed = outputs.policy_error_rows
            + outputs
                .error_rows
                .iter()
                .map(|rows| rows.num_rows() as u64)
                .sum::<u64>();
        stats.budget_exceeded = outputs.budget_exceeded;
        let mut split = Splitter::new(group, GroupFields::TopicSourceTags, &self.renderer);
        for batch in outputs.datasets.iter().flatten() {
            split.add(batch).map_err(internal)?;
        }
        let groups = split.finish().map_err(internal)?;
        stats.groups_returned = groups.len() as u64;
        stats.rows_returned = groups.iter().map(|g| g.rows.num_rows() as u64).sum();
        Ok((groups, stats))
    }
}
