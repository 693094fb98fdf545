//! `spl play`'s web playground: a small HTTP server on 127.0.0.1 (`server.rs`, hyper over
//! tokio, already in the tree through spl-loghub) that serves one page built into the binary
//! (`assets/`: HTML, CSS and JavaScript, no CDN) and the JSON the page asks for (`api.rs`:
//! keywords from the parser's instruction metadata and the function library; a run of the SPL
//! over the sample with diagnostics, outputs, error rows, per-stage counts and row traces).
mod api;
mod server;

pub use api::set_geoip;
pub use server::serve;
