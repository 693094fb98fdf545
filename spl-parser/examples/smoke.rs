fn main() {
    let mut texts: Vec<String> = Vec::new();
    for l in std::fs::read_to_string("testdata/corpus/loongcollector-init-corpus.txt").unwrap().lines() {
        if !l.trim().is_empty() && !l.starts_with('#') { texts.push(l.to_string()); }
    }
    for l in std::fs::read_to_string("../shared/conformance/doc-cases.jsonl").unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        texts.push(v["spl"].as_str().unwrap().to_string());
    }
    let mut bad = 0;
    for t in &texts {
        match spl_parser::parse(t) {
            Ok(p) => {
                let printed = p.to_string();
                match spl_parser::parse(&printed) {
                    Ok(p2) if p2 == p => {}
                    Ok(_) => { bad += 1; println!("ROUNDTRIP MISMATCH:\n{t}\n=> {printed}\n"); }
                    Err(d) => { bad += 1; println!("REPARSE FAIL:\n{t}\n=> {printed}\n{}", d.render("x", &printed, false)); }
                }
            }
            Err(d) => { bad += 1; println!("FAIL: {t}\n{}", d.render("spl", t, false)); }
        }
    }
    println!("{} texts, {} bad", texts.len(), bad);
}
