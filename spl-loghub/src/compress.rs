//! Body compression of the LogHub protocol (`x-log-compresstype` + `x-log-bodyrawsize`):
//! `lz4` is a raw LZ4 block (no frame, no size prefix), `zstd` a standard frame, `deflate` a zlib
//! stream. Decompression never allocates more than the declared raw size, which the caller caps,
//! and the result must have exactly that size.
use std::io::Read;

/// A compression of request or response bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Lz4,
    Zstd,
    Deflate,
}

impl Compression {
    /// From an `x-log-compresstype` value; `None` (outer) for an unknown name.
    pub fn from_header(value: Option<&str>) -> Option<Compression> {
        match value.map(|v| v.trim().to_ascii_lowercase()) {
            None => Some(Compression::None),
            Some(v) => match v.as_str() {
                "" | "none" => Some(Compression::None),
                "lz4" => Some(Compression::Lz4),
                "zstd" => Some(Compression::Zstd),
                "deflate" | "zlib" => Some(Compression::Deflate),
                _ => None,
            },
        }
    }

    /// The response compression for an `Accept-Encoding` value: the first supported token;
    /// absent, empty or unknown → uncompressed.
    pub fn from_accept(value: Option<&str>) -> Compression {
        value
            .into_iter()
            .flat_map(|v| v.split(','))
            .map(|t| {
                t.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .find_map(|t| match t.as_str() {
                "lz4" => Some(Compression::Lz4),
                "zstd" => Some(Compression::Zstd),
                "deflate" => Some(Compression::Deflate),
                _ => None,
            })
            .unwrap_or(Compression::None)
    }

    /// The `x-log-compresstype` value, `None` for uncompressed bodies.
    pub fn header(self) -> Option<&'static str> {
        match self {
            Compression::None => None,
            Compression::Lz4 => Some("lz4"),
            Compression::Zstd => Some("zstd"),
            Compression::Deflate => Some("deflate"),
        }
    }

    /// Compresses a body.
    pub fn compress(self, raw: &[u8]) -> Vec<u8> {
        match self {
            Compression::None => raw.to_vec(),
            Compression::Lz4 => lz4_flex::block::compress(raw),
            // Level 1 as the SDKs use; compressing into memory cannot fail.
            Compression::Zstd => zstd::bulk::compress(raw, 1).unwrap_or_default(),
            Compression::Deflate => {
                use std::io::Write;
                let mut e =
                    flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
                let _ = e.write_all(raw);
                e.finish().unwrap_or_default()
            }
        }
    }

    /// Decompresses a body whose uncompressed size is `raw_size` (`x-log-bodyrawsize`), which
    /// the caller has checked against its limit.
    pub fn decompress(self, body: &[u8], raw_size: Option<usize>) -> Result<Vec<u8>, String> {
        if self == Compression::None {
            if let Some(n) = raw_size {
                if n != body.len() {
                    return Err(format!(
                        "x-log-bodyrawsize is {n} but the uncompressed body has {} bytes",
                        body.len()
                    ));
                }
            }
            return Ok(body.to_vec());
        }
        let n = raw_size.ok_or("a compressed body needs x-log-bodyrawsize")?;
        let out = match self {
            Compression::Lz4 => {
                let mut out = vec![0; n];
                let got = lz4_flex::block::decompress_into(body, &mut out)
                    .map_err(|e| format!("invalid lz4 block: {e}"))?;
                out.truncate(got);
                out
            }
            Compression::Zstd => {
                // One byte more than declared, so a longer body is seen as a size mismatch.
                zstd::bulk::decompress(body, n + 1)
                    .map_err(|e| format!("invalid zstd frame: {e}"))?
            }
            Compression::Deflate => {
                let mut out = Vec::with_capacity(n.min(1 << 20));
                flate2::read::ZlibDecoder::new(body)
                    .take(n as u64 + 1)
                    .read_to_end(&mut out)
                    .map_err(|e| format!("invalid deflate stream: {e}"))?;
                out
            }
            Compression::None => unreachable!("handled above"),
        };
        if out.len() != n {
            return Err(format!(
                "x-log-bodyrawsize is {n} but the body decompresses to {}{} bytes",
                if out.len() > n { "more than " } else { "" },
                out.len().min(n)
            ));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_checks_the_raw_size() {
        let raw = b"hello hello hello hello hello, log groups".repeat(20);
        for c in [
            Compression::None,
            Compression::Lz4,
            Compression::Zstd,
            Compression::Deflate,
        ] {
            let body = c.compress(&raw);
            assert_eq!(c.decompress(&body, Some(raw.len())).unwrap(), raw, "{c:?}");
            assert!(c.decompress(&body, Some(raw.len() - 1)).is_err(), "{c:?}");
            assert!(c.decompress(&body, Some(raw.len() + 1)).is_err(), "{c:?}");
        }
        assert!(Compression::Lz4
            .decompress(b"\xff\xff\xff", Some(10))
            .is_err());
        assert!(Compression::Zstd.decompress(b"nope", Some(10)).is_err());
        assert!(Compression::Lz4.decompress(b"x", None).is_err());
    }

    #[test]
    fn lz4_is_a_raw_block_without_size_prefix() {
        // A literal-only block: token 0x50 (5 literals, no match) then the bytes.
        let body = [0x50, b'h', b'e', b'l', b'l', b'o'];
        assert_eq!(
            Compression::Lz4.decompress(&body, Some(5)).unwrap(),
            b"hello"
        );
    }

    #[test]
    fn accept_encoding_picks_the_first_supported_token() {
        assert_eq!(Compression::from_accept(None), Compression::None);
        assert_eq!(Compression::from_accept(Some("")), Compression::None);
        assert_eq!(
            Compression::from_accept(Some("gzip, zstd")),
            Compression::Zstd
        );
        assert_eq!(Compression::from_accept(Some("lz4")), Compression::Lz4);
        assert_eq!(
            Compression::from_header(Some("LZ4")),
            Some(Compression::Lz4)
        );
        assert_eq!(Compression::from_header(Some("snappy")), None);
    }
}
