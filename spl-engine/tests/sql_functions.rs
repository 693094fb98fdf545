//! The IP, geolocation and other SQL functions of issue 19 through the engine's real path
//! (parse → compile → evaluate): values, row errors, compile diagnostics (E1014, E1015) and the
//! portability warning (W0004).
use std::sync::Arc;

use arrow::datatypes::Schema;
use arrow::record_batch::{RecordBatch, RecordBatchOptions};
use spl_engine::expr::{evaluate, Session};
use spl_engine::functions::geoip::mmdb;
use spl_engine::pipeline::{Options, Pipeline, Profile};
use spl_engine::render::Renderer;
use spl_parser::InstructionKind;

fn parse_expr(text: &str) -> spl_parser::Expr {
    let program = spl_parser::parse(&format!("* | extend x = {text}"))
        .unwrap_or_else(|d| panic!("{text}: {d}"));
    match &program.statements[0].pipeline.stages[0].kind {
        InstructionKind::Extend { assignments } => assignments[0].value.clone(),
        _ => unreachable!(),
    }
}

/// The value of `text` on one empty row, as text; `Err` with the message on failure.
fn eval_with(text: &str, session: &Session) -> Result<Option<String>, String> {
    let one_row = RecordBatch::try_new_with_options(
        Arc::new(Schema::empty()),
        vec![],
        &RecordBatchOptions::new().with_row_count(Some(1)),
    )
    .unwrap();
    evaluate(&parse_expr(text), &one_row, session)
        .map(|a| Renderer::default().text(a.as_ref(), 0))
        .map_err(|e| e.to_string())
}

fn eval(text: &str) -> Result<Option<String>, String> {
    eval_with(
        text,
        &Session::default().with_geoip(Some(mmdb::sample_db())),
    )
}

fn value(text: &str) -> Option<String> {
    eval(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn error(text: &str) -> String {
    match eval(text) {
        Ok(v) => panic!("{text}: expected an error, got {v:?}"),
        Err(e) => e,
    }
}

#[test]
fn ip_subnet_functions() {
    assert_eq!(
        value("ip_prefix('10.1.2.3', 0)").as_deref(),
        Some("0.0.0.0/0")
    );
    assert_eq!(
        value("ip_prefix('10.1.2.3', 32)").as_deref(),
        Some("10.1.2.3/32")
    );
    assert_eq!(value("ip_prefix('::1', 128)").as_deref(), Some("::1/128"));
    assert!(error("ip_prefix('::1', 129)").contains("between 0 and 128"));
    assert_eq!(value("ip_prefix(NULL, 8)"), None);
    assert_eq!(
        value("ip_subnet_min('10.1.2.3')").as_deref(),
        Some("10.1.2.3")
    );
    assert_eq!(
        value("ip_subnet_max('10.0.0.0/8')").as_deref(),
        Some("10.255.255.255")
    );
    assert_eq!(value("ip_subnet_max('10.0.0.0/33')"), None);
    assert_eq!(value("ip_subnet_range('bad')"), None);
    assert_eq!(
        value("is_subnet_of('10.0.0.0/8', '10.2.0.0/16')").as_deref(),
        Some("true")
    );
    assert_eq!(value("is_subnet_of('10.0.0.0/8', 'x')"), None);
    assert_eq!(
        value("is_prefix_subnet_of('10.0.0.0/8', '10.0.0.0/8')").as_deref(),
        Some("true")
    );
    assert_eq!(
        value("ip_to_domain('172.20.1.1')").as_deref(),
        Some("intranet")
    );
    assert_eq!(
        value("ip_to_domain('2001:4860::8888')").as_deref(),
        Some("internet")
    );
}

#[test]
fn geolocation_needs_a_database() {
    // Evaluated directly without one: a clear row error.
    let e = eval_with("ip_to_country('1.0.1.1')", &Session::default()).unwrap_err();
    assert!(
        e.contains("ip_to_country needs an IP geolocation database"),
        "{e}"
    );
    // Compiled without one: E1015 at the call.
    let spl = "* | extend c = upper(ip_to_city(ip))";
    let d = Pipeline::compile(spl, &Options::new(Profile::Cli)).unwrap_err();
    let diag = d
        .items
        .iter()
        .find(|d| d.code.id == "E1015")
        .expect("E1015");
    assert_eq!(&spl[diag.span().start..diag.span().end], "ip_to_city(ip)");
    // ip_to_domain needs none.
    assert!(Pipeline::compile(
        "* | extend d = ip_to_domain(ip)",
        &Options::new(Profile::Cli)
    )
    .is_ok());
    let with_db = Options {
        geoip: Some(mmdb::sample_db()),
        ..Options::new(Profile::Cli)
    };
    assert!(Pipeline::compile(spl, &with_db).is_ok());
}

#[test]
fn geolocation_answers() {
    assert_eq!(value("ip_to_country('1.0.1.9')").as_deref(), Some("中国"));
    assert_eq!(
        value("ip_to_country(' 1.0.1.9 ', 'en')").as_deref(),
        Some("CN")
    );
    assert_eq!(value("ip_to_country('1.0.1.9', NULL)"), None);
    assert_eq!(value("ip_to_city('8.8.8.8')").as_deref(), Some("美国"));
    assert_eq!(
        value("ip_to_city('2001:db8::5', 'en')").as_deref(),
        Some("Berlin")
    );
    assert_eq!(value("ip_to_provider('8.8.4.4')"), None);
    assert_eq!(value("ip_to_geo('nonsense')"), None);
    assert!(error("ip_to_geo('1.1.1.1', 'en')").contains("expected 1"));
}

#[test]
fn other_functions() {
    assert!(error("normalize('x', 'NFX')").contains("NFC, NFD, NFKC or NFKD"));
    assert_eq!(
        value("normalize('Å', nfkd) = normalize('Å', 'NFKD')").as_deref(),
        Some("true")
    );
    assert_eq!(value("position('' IN 'abc')").as_deref(), Some("1"));
    assert_eq!(value("position(NULL IN 'abc')"), None);
    assert_eq!(value("position('b', 'abc')").as_deref(), Some("2"));
    assert!(error("cosine_similarity(ARRAY[1, 2], ARRAY[1])").contains("different lengths"));
    assert!(error("cosine_similarity('1, 2', '[1, 2]')").contains("is not a vector"));
    assert!(error("cosine_similarity('[1, x]', '[1, 2]')").contains("'x'"));
    assert_eq!(
        value("cosine_similarity(ARRAY[1, NULL], ARRAY[1, 2])"),
        None
    );
    assert_eq!(
        value("cosine_similarity(ARRAY[1, 0], ARRAY[-1, 0])").as_deref(),
        Some("-1.0")
    );
    assert!(error("map_from_entries(ARRAY[(1, 'a'), (1, 'b')])").contains("duplicate"));
    let e = error("map_from_entries(ARRAY[(NULL, 'a')])");
    assert!(e.contains("NULL"), "{e}");
    assert_eq!(value("map_from_entries(NULL)"), None);
    assert_eq!(
        value("cardinality(map_from_entries(ARRAY[(1, 'a'), (2, 'b')]))").as_deref(),
        Some("2")
    );
    assert_eq!(
        value("extract(doy FROM '2024-02-01 00:00:00')").as_deref(),
        Some("32")
    );
    assert_eq!(value("extract(year FROM NULL)"), None);
}

#[test]
fn unknown_extract_field_is_a_compile_error_at_the_field() {
    let spl = "* | extend y = extract(yeer FROM t)";
    let d = spl_parser::parse(spl).unwrap_err();
    let diag = d
        .items
        .iter()
        .find(|d| d.code.id == "E1014")
        .expect("E1014");
    assert_eq!(&spl[diag.span().start..diag.span().end], "yeer");
    assert!(
        diag.help.as_deref().unwrap_or("").contains("year"),
        "{diag:?}"
    );
}

#[test]
fn sql_syntax_round_trips_through_the_printer() {
    for (text, canonical) in [
        (
            "* | extend y = EXTRACT(Year FROM from_unixtime(t))",
            "* | extend y = extract(year FROM from_unixtime(t))",
        ),
        (
            "* | extend p = position(a || 'x' IN upper(s))",
            "* | extend p = position(a || 'x' IN upper(s))",
        ),
        (
            "* | extend p = position('a', s)",
            "* | extend p = position('a' IN s)",
        ),
        (
            "* | extend n = normalize(s, nfkc)",
            "* | extend n = normalize(s, 'NFKC')",
        ),
    ] {
        let printed = spl_parser::parse(text).unwrap().to_string();
        assert_eq!(printed, canonical);
        assert_eq!(spl_parser::parse(&printed).unwrap().to_string(), canonical);
    }
    // `position` and `extract` stay usable as field names.
    assert!(spl_parser::parse("* | where position > 3 and extract = 'x'").is_ok());
}

#[test]
fn hosted_profiles_warn_about_functions_the_service_does_not_run() {
    let spl = "* | extend a = ip_prefix(ip, 24), b = strpos(s, 'x'), c = starts_with(s, 'x')";
    for profile in [Profile::Logtail, Profile::Consumer, Profile::Transform] {
        let p = Pipeline::compile(spl, &Options::new(profile)).unwrap();
        let w: Vec<&str> = p
            .warnings
            .items
            .iter()
            .filter(|d| d.code.id == "W0004")
            .map(|d| &spl[d.span().start..d.span().end])
            .collect();
        assert_eq!(w, ["ip_prefix(ip, 24)", "starts_with(s, 'x')"], "{profile}");
    }
    let p = Pipeline::compile(spl, &Options::new(Profile::Cli)).unwrap();
    assert!(p.warnings.items.iter().all(|d| d.code.id != "W0004"));
}
