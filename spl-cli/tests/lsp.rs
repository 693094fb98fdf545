//! `spl lsp` driven as an editor drives it: JSON-RPC over the binary's stdin/stdout.
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde_json::{json, Value};

struct Client {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next_id: i64,
    /// Notifications received while waiting for responses.
    notes: Vec<Value>,
}

impl Client {
    fn start() -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_spl"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn spl lsp");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Client {
            child,
            stdin,
            stdout,
            next_id: 1,
            notes: Vec::new(),
        }
    }

    fn send_raw(&mut self, body: &[u8]) {
        write!(self.stdin, "Content-Length: {}\r\n\r\n", body.len()).unwrap();
        self.stdin.write_all(body).unwrap();
        self.stdin.flush().unwrap();
    }

    fn send(&mut self, v: &Value) {
        self.send_raw(v.to_string().as_bytes());
    }

    fn read(&mut self) -> Value {
        let mut len = None;
        loop {
            let mut line = String::new();
            assert!(
                self.stdout.read_line(&mut line).unwrap() > 0,
                "server closed"
            );
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(v) = line.strip_prefix("Content-Length: ") {
                len = Some(v.parse::<usize>().unwrap());
            }
        }
        let mut body = vec![0; len.expect("Content-Length")];
        self.stdout.read_exact(&mut body).unwrap();
        serde_json::from_slice(&body).unwrap()
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.response(json!(id))
    }

    fn response(&mut self, id: Value) -> Value {
        loop {
            let m = self.read();
            if m.get("method").is_some() {
                self.notes.push(m);
            } else {
                assert_eq!(m["id"], id, "{m}");
                return m;
            }
        }
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// The next `publishDiagnostics` for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        loop {
            if let Some(i) = self.notes.iter().position(|n| {
                n["method"] == "textDocument/publishDiagnostics" && n["params"]["uri"] == uri
            }) {
                let n = self.notes.remove(i);
                return n["params"]["diagnostics"].as_array().unwrap().clone();
            }
            let m = self.read();
            self.notes.push(m);
        }
    }

    fn finish(mut self) -> i32 {
        let r = self.request("shutdown", Value::Null);
        assert_eq!(r["result"], Value::Null, "{r}");
        self.notify("exit", Value::Null);
        self.child.wait().unwrap().code().unwrap()
    }
}

fn pos(text: &str, needle: &str, delta: usize) -> Value {
    // UTF-16 column of `needle` (+delta bytes, ASCII) on its line.
    let at = text.find(needle).unwrap() + delta;
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = text[..at].matches('\n').count();
    let character: usize = text[line_start..at].encode_utf16().count();
    json!({"line": line, "character": character})
}

fn labels(items: &Value) -> Vec<String> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap().to_string())
        .collect()
}

fn initialize(c: &mut Client, root: &std::path::Path, options: Value) {
    let r = c.request(
        "initialize",
        json!({"processId": null, "rootUri": format!("file://{}", root.display()),
               "capabilities": {}, "initializationOptions": options}),
    );
    let caps = &r["result"]["capabilities"];
    assert_eq!(caps["hoverProvider"], true, "{r}");
    assert_eq!(caps["documentFormattingProvider"], true);
    assert_eq!(caps["definitionProvider"], true);
    c.notify("initialized", json!({}));
}

#[test]
fn a_client_session_gets_diagnostics_completion_hover_formatting_and_definitions() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sample.jsonl"),
        "{\"status\":\"200\",\"uri\":\"/a\",\"ua\":\"x\"}\n{\"status\":\"500\",\"référent\":\"y\"}\n",
    )
    .unwrap();
    let mut c = Client::start();
    initialize(&mut c, dir.path(), json!({"sample": "sample.jsonl"}));
    let uri = format!("file://{}/q.spl", dir.path().display());

    // An error: the same diagnostic as `spl check`, at the right UTF-16 range.
    let bad = "* | where 'é😀' = 'x' | extend a = nosuchfn(1)";
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "spl", "version": 1, "text": bad}}),
    );
    let d = c.diagnostics(&uri);
    let check = Command::new(env!("CARGO_BIN_EXE_spl"))
        .args(["check", "--format", "json", bad])
        .output()
        .unwrap();
    let expected: Value = serde_json::from_slice(&check.stdout).unwrap();
    assert_eq!(d.len(), expected.as_array().unwrap().len(), "{d:?}");
    assert!(!d.is_empty());
    assert_eq!(d[0]["code"], expected[0]["code"]);
    assert_eq!(d[0]["source"], "spl");
    assert_eq!(d[0]["range"]["start"], pos(bad, "nosuchfn", 0), "{d:?}");
    assert!(d[0]["message"]
        .as_str()
        .unwrap()
        .contains(expected[0]["message"].as_str().unwrap()));

    // Fixed by an incremental change (range in UTF-16 units): no diagnostics.
    let start = pos(bad, "nosuchfn", 0);
    let end = pos(bad, "nosuchfn(1)", 11);
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2},
               "contentChanges": [{"range": {"start": start, "end": end}, "text": "lower(uri)"}]}),
    );
    assert_eq!(c.diagnostics(&uri), Vec::<Value>::new());

    // A whole-text change with a `.let` dataset and a parse stage.
    let text = ".let web = * | parse-regexp uri, '/(?<section>\\w+)' | where status = '500';\n$web |  extend n = ";
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 3}, "contentChanges": [{"text": text}]}),
    );
    let d = c.diagnostics(&uri);
    assert!(!d.is_empty(), "incomplete extend is an error");

    // Completion in an expression: sample fields, fields written earlier, functions.
    let r = c.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": uri}, "position": pos(text, "extend n = ", 11)}),
    );
    let items = &r["result"];
    let l = labels(items);
    for want in [
        "status",
        "uri",
        "ua",
        "référent",
        "section",
        "lower",
        "regexp_like",
    ] {
        assert!(l.contains(&want.to_string()), "{want} missing from {l:?}");
    }
    let section = items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["label"] == "section")
        .unwrap();
    assert!(section["detail"].as_str().unwrap().contains("parse-regexp"));
    let lower = items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["label"] == "lower")
        .unwrap();
    assert!(
        lower["detail"].as_str().unwrap().starts_with("lower("),
        "{lower}"
    );

    // Instructions at a stage's start; options after `-`.
    let text2 = "* | \n* | parse-json -";
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 4}, "contentChanges": [{"text": text2}]}),
    );
    assert!(!c.diagnostics(&uri).is_empty());
    let r = c.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 4}}),
    );
    let l = labels(&r["result"]);
    assert!(l.contains(&"parse-regexp".to_string()) && l.contains(&"where".to_string()));
    let r = c.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": uri}, "position": pos(text2, "-", text2.rfind('-').unwrap() - text2.find('-').unwrap() + 1)}),
    );
    let l = labels(&r["result"]);
    assert!(
        l.contains(&"-mode".to_string()) && l.contains(&"-prefix".to_string()),
        "{l:?}"
    );

    // Hover: function docs with examples; a stage's fields; go to a dataset's definition.
    let text3 = ".let t = * | extend s = upper(msg) | project s;\n$t | where s <> ''";
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 5}, "contentChanges": [{"text": text3}]}),
    );
    assert_eq!(c.diagnostics(&uri), Vec::<Value>::new());
    let r = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": pos(text3, "upper", 2)}),
    );
    let h = r["result"]["contents"]["value"].as_str().unwrap();
    assert!(
        h.contains("upper(") && h.contains("| expression | result |"),
        "{h}"
    );
    let r = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": pos(text3, "extend", 1)}),
    );
    let h = r["result"]["contents"]["value"].as_str().unwrap();
    assert!(
        h.contains("- reads: `msg`") && h.contains("- writes: `s`"),
        "{h}"
    );
    let r = c.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": uri}, "position": pos(text3, "$t", 1)}),
    );
    assert_eq!(r["result"]["range"]["start"], pos(text3, "t =", 0), "{r}");

    // Formatting: the same text as `spl fmt`.
    let messy = "*|where a=1|project  a";
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 6}, "contentChanges": [{"text": messy}]}),
    );
    let r = c.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri}, "options": {"tabSize": 4, "insertSpaces": true}}),
    );
    let fmt = Command::new(env!("CARGO_BIN_EXE_spl"))
        .args(["fmt", messy])
        .output()
        .unwrap();
    assert_eq!(
        r["result"][0]["newText"],
        String::from_utf8(fmt.stdout).unwrap()
    );

    assert_eq!(c.finish(), 0);
}

#[test]
fn profile_comes_from_spl_toml_and_client_settings_win() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("spl.toml"), "profile = \"logtail\"\n").unwrap();
    let text = "* | stats n = count()";
    let uri = format!("file://{}/q.spl", dir.path().display());
    let expected = |profile: &str| -> Value {
        let out = Command::new(env!("CARGO_BIN_EXE_spl"))
            .args(["check", "--format", "json", "--profile", profile, text])
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let mut c = Client::start();
    initialize(&mut c, dir.path(), Value::Null);
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "spl", "version": 1, "text": text}}),
    );
    let d = c.diagnostics(&uri);
    let logtail = expected("logtail");
    assert!(!logtail.as_array().unwrap().is_empty());
    assert_eq!(d.len(), logtail.as_array().unwrap().len());
    assert_eq!(d[0]["code"], logtail[0]["code"]);
    // The client's setting overrides spl.toml.
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"spl": {"profile": "scan"}}}),
    );
    let d = c.diagnostics(&uri);
    assert_eq!(d.len(), expected("scan").as_array().unwrap().len(), "{d:?}");
    assert_eq!(c.finish(), 0);
}

#[test]
fn the_geoip_database_comes_from_spl_toml_or_the_client() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("city.mmdb"),
        spl_engine::functions::geoip::mmdb::sample(),
    )
    .unwrap();
    let text = "* | extend c = ip_to_country(ip)";
    let uri = format!("file://{}/q.spl", dir.path().display());
    let codes = |d: &[Value]| -> Vec<String> {
        d.iter()
            .map(|x| x["code"].as_str().unwrap_or("").to_string())
            .collect()
    };
    let mut c = Client::start();
    initialize(&mut c, dir.path(), Value::Null);
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "spl", "version": 1, "text": text}}),
    );
    // Without a database the call is E1015, as `spl check` says.
    assert_eq!(codes(&c.diagnostics(&uri)), ["E1015"]);
    std::fs::write(dir.path().join("spl.toml"), "geoip = \"city.mmdb\"\n").unwrap();
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2},
               "contentChanges": [{"text": text}]}),
    );
    assert_eq!(codes(&c.diagnostics(&uri)), Vec::<String>::new());
    // A client setting naming a file that is not a database: E1015 again.
    std::fs::write(dir.path().join("bad.mmdb"), "not a database").unwrap();
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"spl": {"geoip": dir.path().join("bad.mmdb")}}}),
    );
    assert_eq!(codes(&c.diagnostics(&uri)), ["E1015"]);
    assert_eq!(c.finish(), 0);
}

#[test]
fn hostile_messages_get_json_rpc_errors_and_the_server_keeps_going() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::start();
    // Before initialize.
    let r = c.request("textDocument/hover", json!({}));
    assert_eq!(r["error"]["code"], -32002);
    // Not JSON; JSON but not a message.
    c.send_raw(b"{not json");
    assert_eq!(c.read()["error"]["code"], -32700);
    c.send_raw(b"[1,2]");
    assert_eq!(c.read()["error"]["code"], -32600);
    c.send_raw("\u{0}\u{ffff}é".as_bytes());
    assert_eq!(c.read()["error"]["code"], -32700);
    initialize(&mut c, dir.path(), json!({"profile": 42, "sample": ["x"]}));
    // Unknown method; bad params; unknown document; positions far out of range.
    assert_eq!(c.request("spl/nothing", json!({}))["error"]["code"], -32601);
    assert_eq!(
        c.request("textDocument/hover", json!({"textDocument": 7}))["error"]["code"],
        -32602
    );
    let uri = "file:///nowhere/q.spl";
    let r = c.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}}),
    );
    assert_eq!(r["error"]["code"], -32602);
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "spl", "version": 1, "text": "* | where '😀"}}),
    );
    assert!(!c.diagnostics(uri).is_empty());
    for (line, character) in [(0, 11), (0, 12), (0, 4_000_000_000u64), (99, 3)] {
        for method in [
            "textDocument/hover",
            "textDocument/completion",
            "textDocument/definition",
        ] {
            let r = c.request(
                method,
                json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}),
            );
            assert!(r.get("result").is_some(), "{method} {r}");
        }
    }
    // A bad change range does not break the document.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2},
               "contentChanges": [{"range": {"start": {"line": 9, "character": 9}, "end": {"line": 0, "character": 0}}, "text": "x"}]}),
    );
    let _ = c.diagnostics(uri);
    assert_eq!(c.finish(), 0);
}

#[test]
fn exit_without_shutdown_is_exit_code_1() {
    let mut c = Client::start();
    c.notify("exit", Value::Null);
    assert_eq!(c.child.wait().unwrap().code(), Some(1));
}
