//! The playground's HTTP server: binds 127.0.0.1 only, serves the embedded page and answers
//! `GET /api/vocabulary`, `GET /api/sample` and `POST /api/run` (`{spl, sample, profile}`).
//! Runs execute on blocking threads; request bodies are capped.
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};

use super::api;

/// Largest request body: the SPL and the sample.
const MAX_BODY: usize = 4 << 20;

const INDEX: &str = include_str!("assets/index.html");
const APP_JS: &str = include_str!("assets/app.js");
const APP_CSS: &str = include_str!("assets/app.css");

/// Serves the playground on 127.0.0.1:`port` (0: any free port) until the process ends;
/// `ready` gets the bound address.
pub fn serve(port: u16, sample: String, ready: impl FnOnce(SocketAddr)) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        ready(listener.local_addr()?);
        let sample = Arc::new(sample);
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(s) => s,
                Err(_) => continue,
            };
            let sample = sample.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req| {
                    let sample = sample.clone();
                    async move { Ok::<_, Infallible>(handle(req, sample).await) }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    })
}

fn answer(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("cache-control", "no-store")
        .body(Full::new(body.into()))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

fn json_answer(status: StatusCode, v: &Value) -> Response<Full<Bytes>> {
    answer(status, "application/json", v.to_string())
}

async fn handle(req: Request<Incoming>, sample: Arc<String>) -> Response<Full<Bytes>> {
    match (req.method(), req.uri().path()) {
        (&Method::GET, "/") => answer(StatusCode::OK, "text/html; charset=utf-8", INDEX),
        (&Method::GET, "/app.js") => {
            answer(StatusCode::OK, "text/javascript; charset=utf-8", APP_JS)
        }
        (&Method::GET, "/app.css") => answer(StatusCode::OK, "text/css; charset=utf-8", APP_CSS),
        (&Method::GET, "/api/vocabulary") => json_answer(StatusCode::OK, &api::vocabulary()),
        (&Method::GET, "/api/sample") => {
            json_answer(StatusCode::OK, &json!({"sample": sample.as_str()}))
        }
        (&Method::POST, "/api/run") => {
            let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
                Ok(b) => b.to_bytes(),
                Err(e) => {
                    return json_answer(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        &json!({"fatal": format!("request body: {e}")}),
                    )
                }
            };
            let request: Value = match serde_json::from_slice(&body) {
                Ok(v) => v,
                Err(e) => {
                    return json_answer(
                        StatusCode::BAD_REQUEST,
                        &json!({"fatal": format!("request is not JSON: {e}")}),
                    )
                }
            };
            let field = |k: &str| request[k].as_str().unwrap_or("").to_string();
            let (spl, text, profile) = (field("spl"), field("sample"), field("profile"));
            let profile = if profile.is_empty() {
                "cli".to_string()
            } else {
                profile
            };
            match tokio::task::spawn_blocking(move || api::run(&spl, &text, &profile)).await {
                Ok(v) => json_answer(StatusCode::OK, &v),
                Err(e) => json_answer(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &json!({"fatal": format!("the run failed: {e}")}),
                ),
            }
        }
        _ => json_answer(StatusCode::NOT_FOUND, &json!({"fatal": "not found"})),
    }
}
