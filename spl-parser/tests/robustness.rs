//! Bad input never panics: random mutations and truncations of the corpus yield an AST or a
//! diagnostic; deep nesting and very long programs are handled. No timing assertions.
mod common;

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const PIECES: &[&str] = &[
    "'",
    "\"",
    "(",
    ")",
    "[",
    "]",
    "|",
    ";",
    "-",
    "--",
    "/*",
    "*/",
    "*",
    "=",
    ",",
    " as ",
    " and ",
    " not ",
    "$",
    ".let ",
    "case ",
    " end",
    "->",
    "\\",
    "é",
    "\u{0}",
    "\n",
    "-delim=",
    "'\\x",
    " where ",
    " extend ",
    "99999999999999999999999",
];

fn check(text: &str) {
    match spl_parser::parse_with_warnings(text) {
        (Some(p), d) => {
            assert!(!d.has_errors());
            // Whatever parses must print to something that parses to the same tree.
            let printed = p.to_string();
            assert_eq!(
                spl_parser::parse(&printed).as_ref().ok(),
                Some(&p),
                "round trip of\n{text}\n=> {printed}"
            );
        }
        (None, d) => {
            assert!(d.has_errors(), "no program and no error for {text:?}");
            let rendered = d.render("fuzz", text, false);
            assert!(!rendered.is_empty());
        }
    }
}

fn char_boundaries(s: &str) -> Vec<usize> {
    (0..=s.len()).filter(|i| s.is_char_boundary(*i)).collect()
}

#[test]
fn truncations_never_panic() {
    for (_, text) in common::corpus().iter().step_by(3) {
        for cut in char_boundaries(text) {
            check(&text[..cut]);
        }
    }
}

#[test]
fn random_mutations_never_panic() {
    let corpus = common::corpus();
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    for _ in 0..4000 {
        let (_, base) = &corpus[rng.below(corpus.len())];
        let mut text = base.clone();
        for _ in 0..1 + rng.below(4) {
            let cuts = char_boundaries(&text);
            let at = cuts[rng.below(cuts.len())];
            match rng.below(3) {
                0 => text.insert_str(at, PIECES[rng.below(PIECES.len())]),
                1 => {
                    let end = cuts.iter().copied().find(|c| *c > at).unwrap_or(at);
                    text.replace_range(at..end, "");
                }
                _ => {
                    let (_, other) = &corpus[rng.below(corpus.len())];
                    let oc = char_boundaries(other);
                    let from = oc[rng.below(oc.len())];
                    let piece: String = other[from..].chars().take(1 + rng.below(12)).collect();
                    text.insert_str(at, &piece);
                }
            }
        }
        check(&text);
    }
}

#[test]
fn deep_nesting_is_a_diagnostic_not_a_crash() {
    for depth in [10, 63, 64, 65, 100, 1000, 100_000] {
        check(&format!(
            "* | where {}a{}",
            "(".repeat(depth),
            ")".repeat(depth)
        ));
        check(&format!("* | extend a = {}1", "-".repeat(depth)));
        check(&format!("* | extend a = {}1", "- ".repeat(depth)));
        check(&format!("* | where {}a", "not ".repeat(depth)));
        check(&format!(
            "* | extend a = {}1{}",
            "case when x then ".repeat(depth.min(5000)),
            " end".repeat(depth.min(5000))
        ));
        check(&format!(
            "* | extend a = {}1{}",
            "f(".repeat(depth),
            ")".repeat(depth)
        ));
        check(&format!(
            "* | extend a = {}1{}",
            "ARRAY[".repeat(depth),
            "]".repeat(depth)
        ));
    }
}

#[test]
fn large_programs_parse() {
    // 64 KiB of SPL: a long pipeline and a long flat expression.
    let stage = " | where status >= 500 and uri like '/api/%' | extend a = concat(x, 'y')";
    let text = format!("*{}", stage.repeat(65536 / stage.len() + 1));
    assert!(text.len() >= 65536);
    let p = spl_parser::parse(&text).expect("long pipeline parses");
    assert!(p.statements[0].pipeline.stages.len() > 1000);
    let expr = format!("* | where a in (0{})", ", 1".repeat(22000));
    assert!(expr.len() >= 65536);
    spl_parser::parse(&expr).expect("long expression parses");
    // As long a chain of `or` is an expression 7,300 levels deep: a diagnostic.
    let chain = format!("* | where a = 0{}", " or a = 1".repeat(7300));
    let d = spl_parser::parse(&chain).expect_err("too deep");
    assert_eq!(d.errors().next().unwrap().code.id, "E0020");
}

#[test]
fn long_operator_chains_are_bounded_by_the_depth_limit() {
    let max = spl_parser::MAX_EXPR_DEPTH;
    let code = |text: &str| {
        spl_parser::parse(text)
            .err()
            .map(|d| d.errors().next().unwrap().code.id)
    };
    // n terms of a left-deep chain are n levels.
    let plus = |n: usize| format!("* | extend x = {}", vec!["1"; n].join("+"));
    assert_eq!(code(&plus(max)), None);
    assert_eq!(code(&plus(max + 1)), Some("E0020"));
    assert_eq!(code(&plus(10_000)), Some("E0020"));
    // `a = '1'` is two levels, so `max - 1` of them joined by AND are `max`.
    let and = |n: usize| format!("* | where {}", vec!["a = '1'"; n].join(" AND "));
    assert_eq!(code(&and(max - 1)), None);
    assert_eq!(code(&and(max)), Some("E0020"));
    assert_eq!(code(&and(10_000)), Some("E0020"));
    // Brackets, calls, lambdas and CASE add up with the chains inside them.
    let nested = |n: usize| {
        format!(
            "* | extend x = {}transform(array[1], v -> case when v > 0 then {} end){}",
            "abs(".repeat(10),
            vec!["v"; n].join(" * "),
            ")".repeat(10)
        )
    };
    assert_eq!(code(&nested(max - 15)), None);
    assert_eq!(code(&nested(max)), Some("E0020"));
    // The diagnostic points into the chain and says what counts.
    let d = spl_parser::parse(&plus(max + 1)).unwrap_err();
    let e = d.errors().next().unwrap();
    assert!(e.message.contains(&max.to_string()), "{}", e.message);
    assert!(e.labels[0].span.start > "* | extend x = ".len());
    // A flat CASE with many arms is wide, not deep.
    let arms: String = (0..2000)
        .map(|i| format!(" when a = {i} then {i}"))
        .collect();
    assert_eq!(code(&format!("* | extend x = case{arms} end")), None);
}

#[test]
fn invalid_utf8_is_the_callers_problem_but_odd_unicode_is_fine() {
    check("* | where \"名字\" = '张三' | extend \"é\" = '\u{1F600}'");
    check("\u{feff}* | where a = 1");
    check("*\u{3000}|\u{a0}where a = 1");
    // A full-width punctuation mark right before the error position (found by the mutations).
    check("* | parse-kv c, '；',-- '：");
    check("* | where a =：and");
}
