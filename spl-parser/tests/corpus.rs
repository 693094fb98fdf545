//! Every SPL text of the corpora parses, and the canonical printer round-trips it:
//! `parse(fmt(parse(x))) == parse(x)` and `fmt` is idempotent.
mod common;

#[test]
fn corpus_parses_and_round_trips() {
    let texts = common::corpus();
    assert!(texts.len() >= 222, "corpus too small: {}", texts.len());
    let mut failures = Vec::new();
    for (name, text) in &texts {
        let program = match spl_parser::parse(text) {
            Ok(p) => p,
            Err(d) => {
                failures.push(format!(
                    "{name}: does not parse\n{}",
                    d.render(name, text, false)
                ));
                continue;
            }
        };
        let printed = program.to_string();
        match spl_parser::parse(&printed) {
            Ok(again) if again == program => {
                if again.to_string() != printed {
                    failures.push(format!("{name}: fmt not idempotent\n{printed}\n{again}"));
                }
            }
            Ok(_) => failures.push(format!(
                "{name}: round trip changed the AST\n{text}\n=> {printed}"
            )),
            Err(d) => failures.push(format!(
                "{name}: printed text does not parse\n{printed}\n{}",
                d.render(name, &printed, false)
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_loongcollector_statement_is_in_the_corpus() {
    let texts = common::corpus();
    let n = texts
        .iter()
        .filter(|(n, _)| n.contains("loongcollector-init-corpus"))
        .count();
    // 222 statements in the copy under testdata/, and again in ../shared when present.
    assert!(n == 222 || n == 444, "loongcollector statements: {n}");
}
