//! Signed requests: with access keys configured, every request must carry the SDKs' v1
//! signature (`Authorization: LOG <AccessKeyId>:<Signature>`), an HMAC-SHA1 under the key's
//! secret of
//!
//! ```text
//! VERB \n Content-MD5 \n Content-Type \n Date \n
//! <x-log-* and x-acs-* headers, sorted, "name:value\n" each; not x-log-meta-*>
//! <path>[?<parameters sorted by name, "name=value" joined by "&", values decoded>]
//! ```
//!
//! (the string of the SDKs' `auth.py`/`client.js`), a `Date` (or `x-log-date`) within 15 minutes
//! of the server's clock, and a body whose MD5 is its `Content-MD5`. The Python SDK signs before
//! it adds `x-log-date`, other clients sign with it: a signature over either header set is
//! accepted. STS tokens (`x-acs-security-token`) are signed over but not checked.
use std::collections::HashMap;
use std::path::Path;

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use hyper::HeaderMap;
use md5::{Digest, Md5};
use sha1::Sha1;

/// How far a request's `Date` may be from the server's clock, in seconds (as the service).
pub const MAX_CLOCK_SKEW_SECS: i64 = 15 * 60;

/// Access key ids and their secrets.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Keys {
    secrets: HashMap<String, String>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets stay out of debug output.
        let mut ids: Vec<&String> = self.secrets.keys().collect();
        ids.sort();
        f.debug_struct("Keys").field("ids", &ids).finish()
    }
}

/// Why a request was refused: HTTP status, the service's error code, a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

fn refused(status: u16, code: &'static str, message: impl Into<String>) -> Refused {
    Refused {
        status,
        code,
        message: message.into(),
    }
}

impl Keys {
    /// One key pair.
    pub fn single(id: &str, secret: &str) -> Keys {
        let mut keys = Keys::default();
        keys.secrets.insert(id.to_string(), secret.to_string());
        keys
    }

    /// Adds a key pair.
    pub fn add(&mut self, id: &str, secret: &str) {
        self.secrets.insert(id.to_string(), secret.to_string());
    }

    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// Reads a keys file: one `ID:SECRET` per line; blank lines and lines starting with `#`
    /// are skipped.
    pub fn from_file(path: &Path) -> Result<Keys, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read keys file {}: {e}", path.display()))?;
        let mut keys = Keys::default();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (id, secret) = line
                .split_once(':')
                .filter(|(id, secret)| !id.trim().is_empty() && !secret.trim().is_empty())
                .ok_or_else(|| {
                    format!(
                        "{} line {}: expected ACCESS_KEY_ID:ACCESS_KEY_SECRET",
                        path.display(),
                        n + 1
                    )
                })?;
            keys.add(id.trim(), secret.trim());
        }
        if keys.is_empty() {
            return Err(format!("keys file {} holds no key", path.display()));
        }
        Ok(keys)
    }

    /// Checks a request: `path` as sent (not decoded), `params` decoded, `now` in Unix seconds.
    pub fn verify(
        &self,
        method: &str,
        path: &str,
        params: &HashMap<String, String>,
        headers: &HeaderMap,
        body: &[u8],
        now: i64,
    ) -> Result<(), Refused> {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let auth = header("authorization").ok_or_else(|| {
            refused(
                401,
                "Unauthorized",
                "the request is not signed (no Authorization header)",
            )
        })?;
        let Some((id, signature)) = auth
            .strip_prefix("LOG ")
            .and_then(|rest| rest.trim().rsplit_once(':'))
        else {
            return Err(refused(
                401,
                "Unauthorized",
                "unsupported Authorization: only the `LOG <AccessKeyId>:<Signature>` (v1) scheme is verified here",
            ));
        };
        let secret = self.secrets.get(id).ok_or_else(|| {
            refused(
                401,
                "Unauthorized",
                format!("AccessKeyId `{id}` is not known"),
            )
        })?;
        let date = header("date")
            .or_else(|| header("x-log-date"))
            .ok_or_else(|| refused(400, "MissingDate", "Date does not exist in http header"))?;
        let sent = chrono::DateTime::parse_from_rfc2822(date)
            .map_err(|_| {
                refused(
                    400,
                    "InvalidDateFormat",
                    format!("Date {date} must follow RFC822"),
                )
            })?
            .timestamp();
        if (sent - now).abs() > MAX_CLOCK_SKEW_SECS {
            return Err(refused(
                400,
                "RequestTimeExpired",
                format!("Request time {date} has been expired while server time is {now} (more than 15 minutes apart)"),
            ));
        }
        let md5 = header("content-md5").unwrap_or("");
        if !body.is_empty() || !md5.is_empty() {
            let actual = hex_upper(&Md5::digest(body));
            if !md5.eq_ignore_ascii_case(&actual) {
                return Err(refused(
                    400,
                    "InvalidContentMD5",
                    if md5.is_empty() {
                        "a signed request with a body needs Content-MD5".to_string()
                    } else {
                        format!("Content-MD5 {md5} does not match the body ({actual})")
                    },
                ));
            }
        }
        let content_type = header("content-type").unwrap_or("");
        let pairs: Vec<(&str, &str)> = headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)))
            .collect();
        let params: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        for with_log_date in [false, true] {
            let signed: Vec<(&str, &str)> = pairs
                .iter()
                .copied()
                .filter(|(k, _)| with_log_date || *k != "x-log-date")
                .collect();
            let text = string_to_sign(method, md5, content_type, date, &signed, path, &params);
            if constant_time_eq(sign(secret, &text).as_bytes(), signature.as_bytes()) {
                return Ok(());
            }
        }
        Err(refused(
            401,
            "SignatureNotMatch",
            format!("signature {signature} does not match (for AccessKeyId `{id}`)"),
        ))
    }
}

/// The base64 HMAC-SHA1 of `text` under `secret`.
pub fn sign(secret: &str, text: &str) -> String {
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(text.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// The v1 string-to-sign of a request (the one text both the server's check and the client's
/// signature are made from): `headers` are all the request's headers (names lower case; only
/// `x-log-*` but not `x-log-meta-*`, and `x-acs-*`, are signed), `params` its decoded query
/// parameters, `path` as sent.
pub fn string_to_sign(
    method: &str,
    content_md5: &str,
    content_type: &str,
    date: &str,
    headers: &[(&str, &str)],
    path: &str,
    params: &[(&str, &str)],
) -> String {
    let mut signed: Vec<(&str, &str)> = headers
        .iter()
        .copied()
        .filter(|(k, _)| {
            k.starts_with("x-acs-") || (k.starts_with("x-log-") && !k.starts_with("x-log-meta-"))
        })
        .collect();
    signed.sort();
    let mut text = format!("{method}\n{content_md5}\n{content_type}\n{date}\n");
    for (k, v) in signed {
        text.push_str(&format!("{k}:{v}\n"));
    }
    text.push_str(path);
    if !params.is_empty() {
        let mut pairs = params.to_vec();
        pairs.sort();
        let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        text.push('?');
        text.push_str(&query.join("&"));
    }
    text
}

/// The upper-case hex MD5 of a body (its `Content-MD5`, as the SDKs send it).
pub fn content_md5(body: &[u8]) -> String {
    hex_upper(&Md5::digest(body))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    /// A request signed as the Python SDK signs it (x-log-date added after signing).
    fn signed(secret: &str, body: &[u8], date: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        let md5 = hex_upper(&Md5::digest(body));
        h.insert("content-md5", HeaderValue::from_str(&md5).unwrap());
        h.insert("content-type", HeaderValue::from_static("application/json"));
        h.insert("date", HeaderValue::from_str(date).unwrap());
        h.insert("x-log-apiversion", HeaderValue::from_static("0.6.0"));
        h.insert(
            "x-log-signaturemethod",
            HeaderValue::from_static("hmac-sha1"),
        );
        h.insert("x-log-bodyrawsize", HeaderValue::from_static("0"));
        let text = format!(
            "POST\n{md5}\napplication/json\n{date}\nx-log-apiversion:0.6.0\nx-log-bodyrawsize:0\nx-log-signaturemethod:hmac-sha1\n/logstores/web/consumergroups/cg?consumer=c1&forceSuccess=True&type=checkpoint"
        );
        let auth = format!("LOG ak:{}", sign(secret, &text));
        h.insert("authorization", HeaderValue::from_str(&auth).unwrap());
        h.insert("x-log-date", HeaderValue::from_str(date).unwrap());
        h
    }

    #[test]
    fn signatures_dates_and_bodies_are_checked() {
        let keys = Keys::single("ak", "secret");
        let params: HashMap<String, String> = [
            ("type", "checkpoint"),
            ("consumer", "c1"),
            ("forceSuccess", "True"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let date = "Fri, 04 Dec 2026 09:13:50 GMT";
        let now = chrono::DateTime::parse_from_rfc2822(date)
            .unwrap()
            .timestamp();
        let body = br#"{"shard":0,"checkpoint":"MTA="}"#;
        let path = "/logstores/web/consumergroups/cg";
        let h = signed("secret", body, date);
        assert_eq!(
            keys.verify("POST", path, &params, &h, body, now + 60),
            Ok(())
        );
        let code = |r: Result<(), Refused>| r.unwrap_err().code;
        assert_eq!(
            code(keys.verify("POST", path, &params, &h, b"{}", now)),
            "InvalidContentMD5"
        );
        assert_eq!(
            code(keys.verify("GET", path, &params, &h, body, now)),
            "SignatureNotMatch"
        );
        assert_eq!(
            code(keys.verify("POST", "/other", &params, &h, body, now)),
            "SignatureNotMatch"
        );
        assert_eq!(
            code(keys.verify("POST", path, &params, &h, body, now + 901)),
            "RequestTimeExpired"
        );
        let wrong = signed("not-the-secret", body, date);
        assert_eq!(
            code(keys.verify("POST", path, &params, &wrong, body, now)),
            "SignatureNotMatch"
        );
        let mut unsigned = h.clone();
        unsigned.remove("authorization");
        assert_eq!(
            code(keys.verify("POST", path, &params, &unsigned, body, now)),
            "Unauthorized"
        );
        assert_eq!(
            code(Keys::single("other", "secret").verify("POST", path, &params, &h, body, now)),
            "Unauthorized"
        );
        assert!(format!("{keys:?}").contains("ak") && !format!("{keys:?}").contains("secret"));
    }
}
