//! `spl play`: starts the local web playground (`crate::play`) on 127.0.0.1 with an optional
//! sample file and prints its address.
use std::path::Path;
use std::process::ExitCode;

/// The sample shown when none is given.
const DEFAULT_SAMPLE: &str = r#"{"status":"200","method":"GET","uri":"/index.html","content":"10.0.0.1 GET /index.html 200"}
{"status":"500","method":"POST","uri":"/login","content":"10.0.0.2 POST /login 500"}
{"status":"404","method":"GET","uri":"/missing","content":"10.0.0.3 GET /missing 404"}
{"status":"503","method":"GET","uri":"/api","content":"bad line"}
"#;

pub fn run(
    sample: Option<&Path>,
    port: u16,
    geoip: Option<std::sync::Arc<spl_engine::functions::geoip::GeoIpDb>>,
) -> ExitCode {
    crate::play::set_geoip(geoip);
    let sample = match sample {
        Some(p) => match super::trace::read_sample(p) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(1);
            }
        },
        None => DEFAULT_SAMPLE.to_string(),
    };
    let served = crate::play::serve(port, sample, |addr| {
        use std::io::Write as _;
        // Tests and scripts read this line to find the port.
        println!("spl play: listening on http://{addr}/ (Ctrl-C to stop)");
        let _ = std::io::stdout().flush();
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot serve on 127.0.0.1:{port}: {e}");
            ExitCode::from(1)
        }
    }
}
