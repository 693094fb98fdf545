//! The server loop: reads messages, keeps the open documents and settings, answers requests
//! (completion, hover, formatting, definition) and publishes diagnostics on open and change.
//! A request with bad parameters or an unknown method gets a JSON-RPC error; a panic inside a
//! handler becomes an internal error for that request and the server goes on.
use std::collections::HashMap;
use std::io::{self, BufRead, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use lsp_server::{ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{self as note, Notification as _};
use lsp_types::request::{self as req, Request as _};
use lsp_types::{
    CompletionOptions, CompletionParams, CompletionResponse, DocumentFormattingParams,
    GotoDefinitionParams, GotoDefinitionResponse, Hover, HoverContents, HoverParams,
    HoverProviderCapability, InitializeParams, InitializeResult, Location, MarkupContent,
    MarkupKind, OneOf, PublishDiagnosticsParams, ServerCapabilities, ServerInfo,
    TextDocumentSyncCapability, TextDocumentSyncKind, TextEdit, Uri,
};

use spl_engine::functions::geoip::GeoIpDb;

use crate::settings::{self, ClientSettings};
use crate::transport::{self, Incoming};
use crate::{complete, diagnostics, hover, text};

/// Server state.
#[derive(Default)]
pub struct Server {
    initialized: bool,
    shutdown: bool,
    root: Option<PathBuf>,
    client: ClientSettings,
    docs: HashMap<String, Doc>,
    /// The MaxMind database last opened, by path (opened once, not per keystroke).
    geoip: std::cell::RefCell<Option<(PathBuf, Opened)>>,
}

/// A MaxMind database as opened, or why it could not be.
type Opened = Result<Arc<GeoIpDb>, String>;

struct Doc {
    uri: Uri,
    text: String,
    version: Option<i32>,
}

/// Serves one client until `exit` or the end of input; returns the process exit code (0 when
/// `shutdown` came before `exit` or the input ended after it, 1 otherwise).
pub fn serve(input: &mut impl BufRead, output: &mut impl Write) -> io::Result<i32> {
    let mut server = Server::default();
    loop {
        match transport::read(input)? {
            Incoming::Eof => return Ok(if server.shutdown { 0 } else { 1 }),
            Incoming::Bad { id, code, message } => {
                transport::write_error(output, &id, code, &message)?
            }
            Incoming::Message(Message::Request(r)) => {
                let id = r.id.clone();
                let out = catch_unwind(AssertUnwindSafe(|| server.request(r)));
                let resp = match out {
                    Ok(resp) => resp,
                    Err(_) => Response::new_err(
                        id,
                        ErrorCode::InternalError as i32,
                        "internal error while handling the request".into(),
                    ),
                };
                transport::write(output, &Message::Response(resp))?;
            }
            Incoming::Message(Message::Notification(n)) => {
                if n.method == note::Exit::METHOD {
                    return Ok(if server.shutdown { 0 } else { 1 });
                }
                let out = catch_unwind(AssertUnwindSafe(|| server.notification(n)));
                for m in out.unwrap_or_default() {
                    transport::write(output, &m)?;
                }
            }
            // The server sends no requests, so responses are not expected; ignore them.
            Incoming::Message(Message::Response(_)) => {}
        }
    }
}

fn err(id: RequestId, code: ErrorCode, message: impl Into<String>) -> Response {
    Response::new_err(id, code as i32, message.into())
}

impl Server {
    fn request(&mut self, r: Request) -> Response {
        let id = r.id.clone();
        if r.method == req::Initialize::METHOD {
            if self.initialized {
                return err(
                    id,
                    ErrorCode::InvalidRequest,
                    "initialize was already received",
                );
            }
            return match serde_json::from_value::<InitializeParams>(r.params) {
                Ok(p) => Response::new_ok(id, self.initialize(p)),
                Err(e) => err(id, ErrorCode::InvalidParams, format!("initialize: {e}")),
            };
        }
        if !self.initialized {
            return err(id, ErrorCode::ServerNotInitialized, "initialize first");
        }
        if self.shutdown {
            return err(id, ErrorCode::InvalidRequest, "the server is shutting down");
        }
        let method = r.method.clone();
        let result = match method.as_str() {
            req::Shutdown::METHOD => {
                self.shutdown = true;
                Ok(serde_json::Value::Null)
            }
            req::Completion::METHOD => self.with(r, Self::completion),
            req::HoverRequest::METHOD => self.with(r, Self::hover),
            req::Formatting::METHOD => self.with(r, Self::formatting),
            req::GotoDefinition::METHOD => self.with(r, Self::definition),
            m => Err((ErrorCode::MethodNotFound, format!("unknown method `{m}`"))),
        };
        match result {
            Ok(v) => Response::new_ok(id, v),
            Err((code, msg)) => err(id, code, msg),
        }
    }

    /// Decodes the parameters and runs a handler; its result becomes JSON.
    fn with<P: serde::de::DeserializeOwned, R: serde::Serialize>(
        &mut self,
        r: Request,
        f: fn(&mut Self, P) -> Result<R, String>,
    ) -> Result<serde_json::Value, (ErrorCode, String)> {
        let params: P = serde_json::from_value(r.params)
            .map_err(|e| (ErrorCode::InvalidParams, format!("{}: {e}", r.method)))?;
        let out = f(self, params).map_err(|e| (ErrorCode::InvalidParams, e))?;
        serde_json::to_value(out).map_err(|e| (ErrorCode::InternalError, e.to_string()))
    }

    fn initialize(&mut self, p: InitializeParams) -> InitializeResult {
        self.initialized = true;
        #[allow(deprecated)]
        let root = p
            .workspace_folders
            .as_ref()
            .and_then(|f| f.first())
            .map(|f| f.uri.clone())
            .or(p.root_uri.clone());
        self.root = root.as_ref().and_then(|u| file_path(u.as_str()));
        if let Some(o) = &p.initialization_options {
            self.client = ClientSettings::from_json(o);
        }
        InitializeResult {
            capabilities: ServerCapabilities {
                text_document_sync: Some(TextDocumentSyncCapability::Kind(
                    TextDocumentSyncKind::INCREMENTAL,
                )),
                completion_provider: Some(CompletionOptions {
                    trigger_characters: Some(vec!["-".into(), "$".into(), "|".into()]),
                    ..CompletionOptions::default()
                }),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                document_formatting_provider: Some(OneOf::Left(true)),
                definition_provider: Some(OneOf::Left(true)),
                ..ServerCapabilities::default()
            },
            server_info: Some(ServerInfo {
                name: "spl".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
        }
    }

    fn notification(&mut self, n: Notification) -> Vec<Message> {
        if !self.initialized || self.shutdown {
            return Vec::new();
        }
        match n.method.as_str() {
            note::DidOpenTextDocument::METHOD => {
                let Ok(p) =
                    serde_json::from_value::<lsp_types::DidOpenTextDocumentParams>(n.params)
                else {
                    return Vec::new();
                };
                let key = p.text_document.uri.as_str().to_string();
                self.docs.insert(
                    key.clone(),
                    Doc {
                        uri: p.text_document.uri,
                        text: p.text_document.text,
                        version: Some(p.text_document.version),
                    },
                );
                self.publish(&key)
            }
            note::DidChangeTextDocument::METHOD => {
                let Ok(p) =
                    serde_json::from_value::<lsp_types::DidChangeTextDocumentParams>(n.params)
                else {
                    return Vec::new();
                };
                let key = p.text_document.uri.as_str().to_string();
                let Some(doc) = self.docs.get_mut(&key) else {
                    return Vec::new();
                };
                for c in p.content_changes {
                    text::apply(&mut doc.text, c.range, &c.text);
                }
                doc.version = Some(p.text_document.version);
                self.publish(&key)
            }
            note::DidCloseTextDocument::METHOD => {
                let Ok(p) =
                    serde_json::from_value::<lsp_types::DidCloseTextDocumentParams>(n.params)
                else {
                    return Vec::new();
                };
                let Some(doc) = self.docs.remove(p.text_document.uri.as_str()) else {
                    return Vec::new();
                };
                vec![publish_message(doc.uri, Vec::new(), None)]
            }
            note::DidChangeConfiguration::METHOD => {
                let Ok(p) =
                    serde_json::from_value::<lsp_types::DidChangeConfigurationParams>(n.params)
                else {
                    return Vec::new();
                };
                self.client = ClientSettings::from_json(&p.settings);
                let keys: Vec<String> = self.docs.keys().cloned().collect();
                keys.iter().flat_map(|k| self.publish(k)).collect()
            }
            _ => Vec::new(),
        }
    }

    /// The settings of a document: client settings over its `spl.toml`.
    fn settings_of(&self, uri: &str) -> settings::Effective {
        let path = file_path(uri);
        settings::effective(&self.client, self.root.as_deref(), path.as_deref())
    }

    /// The MaxMind database at `path`, opened on first use and kept while the setting stays.
    fn geoip_at(&self, path: &Path) -> Opened {
        let mut cached = self.geoip.borrow_mut();
        match &*cached {
            Some((p, db)) if p == path => db.clone(),
            _ => {
                let db = GeoIpDb::open(path);
                *cached = Some((path.to_path_buf(), db.clone()));
                db
            }
        }
    }

    /// Diagnostics of a document (and a log message per settings problem).
    fn publish(&self, key: &str) -> Vec<Message> {
        let Some(doc) = self.docs.get(key) else {
            return Vec::new();
        };
        let eff = self.settings_of(key);
        let mut out: Vec<Message> = eff.warnings.iter().map(|w| log(w)).collect();
        let geoip = match eff.geoip.as_deref().map(|p| self.geoip_at(p)) {
            Some(Err(e)) => {
                out.push(log(&e));
                None
            }
            Some(Ok(db)) => Some(db),
            None => None,
        };
        let diags = diagnostics::check(&doc.uri, &doc.text, eff.profile, geoip);
        out.push(publish_message(doc.uri.clone(), diags, doc.version));
        out
    }

    fn doc(&self, uri: &Uri) -> Result<&Doc, String> {
        self.docs
            .get(uri.as_str())
            .ok_or_else(|| format!("document {} is not open", uri.as_str()))
    }

    fn completion(&mut self, p: CompletionParams) -> Result<CompletionResponse, String> {
        let pos = &p.text_document_position;
        let doc = self.doc(&pos.text_document.uri)?;
        let offset = text::offset(&doc.text, pos.position);
        let eff = self.settings_of(pos.text_document.uri.as_str());
        let sample = eff
            .sample
            .as_deref()
            .map(|s| settings::sample_fields(s).unwrap_or_default())
            .unwrap_or_default();
        Ok(CompletionResponse::Array(complete::complete(
            &doc.text, offset, &sample,
        )))
    }

    fn hover(&mut self, p: HoverParams) -> Result<Option<Hover>, String> {
        let pos = &p.text_document_position_params;
        let doc = self.doc(&pos.text_document.uri)?;
        let offset = text::offset(&doc.text, pos.position);
        Ok(hover::hover(&doc.text, offset).map(|(value, a, e)| Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value,
            }),
            range: Some(text::range(&doc.text, a, e)),
        }))
    }

    fn formatting(&mut self, p: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>, String> {
        let doc = self.doc(&p.text_document.uri)?;
        let Some(formatted) = diagnostics::format(&doc.text) else {
            return Ok(None);
        };
        if formatted == doc.text {
            return Ok(Some(Vec::new()));
        }
        Ok(Some(vec![TextEdit {
            range: text::range(&doc.text, 0, doc.text.len()),
            new_text: formatted,
        }]))
    }

    fn definition(
        &mut self,
        p: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>, String> {
        let pos = &p.text_document_position_params;
        let doc = self.doc(&pos.text_document.uri)?;
        let offset = text::offset(&doc.text, pos.position);
        Ok(hover::definition(&doc.text, offset).map(|(a, e)| {
            GotoDefinitionResponse::Scalar(Location {
                uri: doc.uri.clone(),
                range: text::range(&doc.text, a, e),
            })
        }))
    }
}

fn publish_message(
    uri: Uri,
    diagnostics: Vec<lsp_types::Diagnostic>,
    version: Option<i32>,
) -> Message {
    Message::Notification(Notification::new(
        note::PublishDiagnostics::METHOD.into(),
        PublishDiagnosticsParams {
            uri,
            diagnostics,
            version,
        },
    ))
}

fn log(message: &str) -> Message {
    Message::Notification(Notification::new(
        note::LogMessage::METHOD.into(),
        lsp_types::LogMessageParams {
            typ: lsp_types::MessageType::WARNING,
            message: message.into(),
        },
    ))
}

/// The local path of a `file:` URI.
pub fn file_path(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    let path = rest.find('/').map(|i| &rest[i..])?;
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .ok()?
        .into_owned();
    Some(Path::new(&decoded).to_path_buf())
}
