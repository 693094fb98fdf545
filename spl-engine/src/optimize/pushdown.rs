//! Filter pushdown: a `where` runs before the stages in front of it when that cannot change
//! any result, so rows it drops are never parsed or extended.
//!
//! A `where` moves ahead of a stage only when the stage
//! - keeps every row and never fails, for any row or batch ([`Operator::never_fails`]:
//!   `parse-regexp`, `parse-csv`, `project-rename`, `project-away`, and `extend` of literals and
//!   field copies) — so no error row and no pass-through row depends on which rows reach it;
//! - writes, removes and renames only fields known at compile time (not `parse-json`/`parse-kv`
//!   keys or `-wildcard` patterns), none of which the `where` reads — so the predicate sees the
//!   same values before the stage as after it.
//!
//! The predicate can still fail on some rows, and such an error row must carry the fields the
//! stages wrote before it. So the moved stage ([`FilterFirst`]) evaluates the predicate first
//! and, when it fails on any row of the batch (or does not compile for it), runs the batch in
//! the order written instead; the fast path is for batches without row errors.
use arrow::record_batch::RecordBatch;

use crate::expr::Session;
use crate::ops::{BatchError, Operator, Stage, StageOutput, Where};
use crate::pipeline::Chain;
use crate::plan::{ChainPlan, Fields};

/// A `where` moved ahead of the stages that preceded it.
#[derive(Debug)]
pub struct FilterFirst {
    filter: Where,
    /// The stages it moved ahead of, in order, each with the part number of its first part.
    stages: Vec<(Box<dyn Operator>, usize)>,
}

impl FilterFirst {
    /// Runs the stages in order over `batch` (never over an empty batch, as the runner).
    fn run_stages(&self, batch: RecordBatch, session: &Session) -> Result<StageOutput, BatchError> {
        let mut batches = vec![batch];
        let mut errors = Vec::new();
        for (op, offset) in &self.stages {
            let mut next = Vec::with_capacity(batches.len());
            for b in batches {
                if b.num_rows() == 0 {
                    continue;
                }
                let out = op.process(b, session).map_err(|mut e| {
                    e.part += offset;
                    e
                })?;
                errors.extend(out.errors.into_iter().map(|mut e| {
                    e.part += offset;
                    e
                }));
                next.extend(out.batches);
            }
            batches = next;
        }
        Ok(StageOutput { batches, errors })
    }
}

impl Operator for FilterFirst {
    fn name(&self) -> &'static str {
        "where (pushed down)"
    }

    fn process(&self, batch: RecordBatch, session: &Session) -> Result<StageOutput, BatchError> {
        if let Some(kept) = self.filter.try_filter(&batch, session) {
            return self.run_stages(kept, session);
        }
        // Some row fails the predicate: the order as written gives the error rows.
        let out = self.run_stages(batch, session)?;
        let mut errors = out.errors;
        let mut batches = Vec::with_capacity(out.batches.len());
        for b in out.batches {
            if b.num_rows() == 0 {
                continue;
            }
            let filtered = self.filter.process(b, session)?;
            errors.extend(filtered.errors);
            batches.extend(filtered.batches);
        }
        Ok(StageOutput { batches, errors })
    }

    fn expressions_mut(&mut self) -> Vec<&mut spl_parser::Expr> {
        self.filter.expressions_mut()
    }
}

/// Moves each `where` ahead of the run of stages before it that it may skip; a note per move.
pub(super) fn run(chain: &mut Chain, plan: &ChainPlan) -> Vec<String> {
    let mut notes = Vec::new();
    let mut i = 0;
    while i < chain.stages.len() {
        let Some(reads) = where_reads(&chain.stages[i]) else {
            i += 1;
            continue;
        };
        let mut k = i;
        while k > 0 && may_skip(&chain.stages[k - 1], &chain.parts[k - 1], plan, &reads) {
            k -= 1;
        }
        if k == i {
            i += 1;
            continue;
        }
        let where_parts = chain.parts.remove(i);
        let Stage::Row(mut op) = chain.stages.remove(i) else {
            // `where_reads` said it is a row stage.
            i += 1;
            continue;
        };
        let Some(filter) = op.as_mut().as_any_mut().downcast_mut::<Where>() else {
            i += 1;
            continue;
        };
        let filter = filter.take();
        let skipped_parts: Vec<Vec<(usize, &'static str)>> = chain.parts.drain(k..i).collect();
        let skipped: Vec<Stage> = chain.stages.drain(k..i).collect();
        let mut parts = where_parts.clone();
        let mut stages = Vec::new();
        for (stage, p) in skipped.into_iter().zip(&skipped_parts) {
            if let Stage::Row(op) = stage {
                stages.push((op, parts.len()));
            }
            parts.extend(p.iter().copied());
        }
        let skipped_flat: Vec<(usize, &'static str)> =
            skipped_parts.into_iter().flatten().collect();
        let fields = if reads.is_empty() {
            "no field".to_string()
        } else {
            reads.join(", ")
        };
        notes.push(format!(
            "{}: runs before {}, which {} none of the fields it reads ({fields}) and never {}",
            super::label(chain.statement, &where_parts),
            super::stages(&skipped_flat),
            if skipped_flat.len() == 1 {
                "changes"
            } else {
                "change"
            },
            if skipped_flat.len() == 1 {
                "fails"
            } else {
                "fail"
            },
        ));
        chain
            .stages
            .insert(k, Stage::Row(Box::new(FilterFirst { filter, stages })));
        chain.parts.insert(k, parts);
        i = k + 1;
    }
    notes
}

/// The fields a `where` stage reads; `None` for other stages.
fn where_reads(stage: &Stage) -> Option<Vec<String>> {
    let Stage::Row(op) = stage else { return None };
    let w = op.as_ref().as_any().downcast_ref::<Where>()?;
    let mut reads: Vec<String> = Vec::new();
    for p in w.predicates() {
        for c in crate::plan::columns(p) {
            if !reads.contains(&c) {
                reads.push(c);
            }
        }
    }
    Some(reads)
}

/// True when a `where` reading `reads` may run before `stage` (see the module documentation).
fn may_skip(
    stage: &Stage,
    parts: &[(usize, &'static str)],
    plan: &ChainPlan,
    reads: &[String],
) -> bool {
    let Stage::Row(op) = stage else { return false };
    if !op.never_fails() {
        return false;
    }
    parts.iter().all(|(idx, _)| {
        let Some(st) = plan.stages.get(*idx) else {
            return false;
        };
        let mut touched = vec![&st.writes, &st.removes];
        if st.instruction == "project-rename" {
            touched.push(&st.reads);
        }
        if st.instruction == "project-away" && st.text.contains("-wildcard") {
            return false;
        }
        touched.iter().all(|f| match f {
            Fields::Named(names) => !names.iter().any(|n| reads.contains(n)),
            Fields::Dynamic(_) => false,
        })
    })
}
