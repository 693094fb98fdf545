use pest::Parser;
fn main() {
    let q = std::env::args().nth(1).unwrap();
    pest::set_error_detail(true);
    match spl_parser::__grammar_for_debug(&q) { Err(e) => println!("{:?}\n{:?}", e.variant, e.parse_attempts().map(|a| a.call_stacks.iter().map(|c| format!("{:?}/{:?}", c.deepest, c.parent)).collect::<Vec<_>>())), Ok(_) => println!("ok") }
    let _ = pest::set_error_detail;
    let _ = <spl_parser::__G as Parser<_>>::parse;
}
