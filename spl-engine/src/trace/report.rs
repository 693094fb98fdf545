//! Renders a trace: one input row's path as text or JSON, and the per-stage summary as a table
//! or JSON. Rows print as compact JSON objects in field order.
use serde_json::{json, Map, Value};

use super::model::{Row, RowTrace, Step, Trace};

/// A row as a JSON object.
pub fn row_object(row: &Row) -> Value {
    Value::Object(row.iter().cloned().collect::<Map<String, Value>>())
}

/// `statement.stage` when the program has several statements, else the stage number.
fn label(trace: &Trace, statement: usize, stage: usize) -> String {
    if trace.statements.len() > 1 {
        format!("{}.{}", statement + 1, stage + 1)
    } else {
        format!("{}", stage + 1)
    }
}

fn stage_text<'a>(trace: &'a Trace, step: &Step) -> &'a str {
    trace
        .statements
        .get(step.statement)
        .and_then(|s| s.stages.get(step.stage))
        .map_or("", |(_, text, _)| text.as_str())
}

/// One input row's path as text: the row, then per stage its text, outcome, the row out and
/// the reason; then the outputs it reached.
pub fn row_text(trace: &Trace, rt: &RowTrace<'_>) -> String {
    let mut s = format!("row {}: {}\n", rt.row + 1, row_object(rt.input));
    let mut statement = usize::MAX;
    for step in &rt.steps {
        if trace.statements.len() > 1 && step.statement != statement {
            statement = step.statement;
            let info = &trace.statements[statement];
            let name = info
                .name
                .as_ref()
                .map_or(String::new(), |n| format!(" .let {n}"));
            s.push_str(&format!(
                "  statement {}{name} (reads {}):\n",
                statement + 1,
                info.source
            ));
        }
        s.push_str(&format!(
            "  [{}] {} → {}\n",
            label(trace, step.statement, step.stage),
            stage_text(trace, step),
            step.outcome.name()
        ));
        if step.origins.len() > 1 {
            s.push_str(&format!(
                "      from input rows: {}\n",
                origins_text(&step.origins)
            ));
        }
        s.push_str(&format!("      in:  {}\n", row_object(&step.input)));
        let changed = step.outputs.len() != 1 || step.outputs[0] != step.input;
        if changed {
            for out in &step.outputs {
                s.push_str(&format!("      out: {}\n", row_object(out)));
            }
        }
        if let Some(r) = &step.reason {
            s.push_str(&format!("      why: {}\n", r.text));
        }
    }
    if rt.emitted.is_empty() {
        s.push_str("  → reaches no output\n");
    }
    for e in &rt.emitted {
        s.push_str(&format!("  → {}: {}\n", e.output, row_object(&e.row)));
    }
    s
}

fn origins_text(origins: &[usize]) -> String {
    const SHOWN: usize = 10;
    let mut v: Vec<String> = origins
        .iter()
        .take(SHOWN)
        .map(|o| (o + 1).to_string())
        .collect();
    if origins.len() > SHOWN {
        v.push(format!("… ({} in all)", origins.len()));
    }
    v.join(", ")
}

/// One step as JSON.
pub fn step_json(trace: &Trace, step: &Step) -> Value {
    let mut o = json!({
        "statement": step.statement + 1,
        "stage": step.stage + 1,
        "instruction": trace.statements.get(step.statement)
            .and_then(|s| s.stages.get(step.stage)).map(|(n, _, _)| *n),
        "text": stage_text(trace, step),
        "outcome": step.outcome.name(),
        "in": row_object(&step.input),
        "out": step.outputs.iter().map(row_object).collect::<Vec<_>>(),
    });
    if step.origins.len() > 1 {
        o["from_rows"] = json!(step.origins.iter().map(|r| r + 1).collect::<Vec<_>>());
    }
    if let Some(r) = &step.reason {
        o["reason"] = json!(r.text);
        if let Some(code) = r.code {
            o["code"] = json!(code);
        }
        if !r.values.is_empty() {
            o["values"] = row_object(&r.values);
        }
    }
    o
}

/// One input row's path as JSON: `{row, input, steps, outputs}`.
pub fn row_json(trace: &Trace, rt: &RowTrace<'_>) -> Value {
    json!({
        "row": rt.row + 1,
        "input": row_object(rt.input),
        "steps": rt.steps.iter().map(|s| step_json(trace, s)).collect::<Vec<_>>(),
        "outputs": rt.emitted.iter().map(|e| json!({"output": e.output, "row": row_object(&e.row)})).collect::<Vec<_>>(),
    })
}

/// The paths of `rows` (0-based) as text, one block each.
pub fn trace_text(trace: &Trace, rows: &[usize]) -> String {
    rows.iter()
        .filter_map(|&r| trace.row(r))
        .map(|rt| row_text(trace, &rt))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The paths of `rows` (0-based) as JSON lines, one object per row.
pub fn trace_json(trace: &Trace, rows: &[usize]) -> String {
    rows.iter()
        .filter_map(|&r| trace.row(r))
        .map(|rt| format!("{}\n", row_json(trace, &rt)))
        .collect()
}

/// The top reasons shown per stage.
const TOP_REASONS: usize = 3;

/// Per stage: rows in, out, dropped, failed, split, and the most frequent reasons.
pub fn summary_text(trace: &Trace) -> String {
    let mut s = format!(
        "{:<40} {:>8} {:>8} {:>8} {:>8} {:>8}\n",
        "stage", "in", "out", "dropped", "failed", "split"
    );
    for (ci, stages) in trace.summary.iter().enumerate() {
        for (si, st) in stages.iter().enumerate() {
            let text = &trace.statements[ci].stages[si].1;
            let mut name = format!("{} {}", label(trace, ci, si), text);
            if name.chars().count() > 40 {
                name = name.chars().take(39).collect::<String>() + "…";
            }
            s.push_str(&format!(
                "{:<40} {:>8} {:>8} {:>8} {:>8} {:>8}\n",
                name, st.rows_in, st.rows_out, st.dropped, st.failed, st.split
            ));
            for (reason, n) in st.reasons.iter().take(TOP_REASONS) {
                s.push_str(&format!("    {n:>6} × {reason}\n"));
            }
        }
    }
    s.push_str(&format!(
        "failed rows under this profile's policy: {}\n",
        trace.policy
    ));
    s
}

/// The summary as JSON: `{policy, stages: [{statement, stage, instruction, text, rows_in, …,
/// reasons: [{reason, rows}]}]}`.
pub fn summary_json(trace: &Trace) -> Value {
    let mut stages = Vec::new();
    for (ci, ss) in trace.summary.iter().enumerate() {
        for (si, st) in ss.iter().enumerate() {
            let (instruction, text, span) = &trace.statements[ci].stages[si];
            stages.push(json!({
                "statement": ci + 1,
                "stage": si + 1,
                "instruction": instruction,
                "text": text,
                "span": [span.0, span.1],
                "rows_in": st.rows_in,
                "rows_out": st.rows_out,
                "dropped": st.dropped,
                "failed": st.failed,
                "split": st.split,
                "reasons": st.reasons.iter().take(TOP_REASONS)
                    .map(|(r, n)| json!({"reason": r, "rows": n})).collect::<Vec<_>>(),
            }));
        }
    }
    json!({"policy": trace.policy, "stages": stages})
}
