//! The executor's feed: every [`Source`] in turn, cut into chunks ([`ChunkReader`]), each handed
//! out with the decoder of its source. A source's format is the host's choice or, when it has
//! none, comes from its first non-blank line; a CSV header is taken out of the chunk that holds
//! it. Buffers of chunks that have been delivered come back ([`Feed::reuse`]) to be read into
//! again.
use std::io::Read;
use std::sync::Arc;

use super::chunks::ChunkReader;
use super::decode_plan::DecodePlan;
use super::run_error::{io_err, RunError};
use crate::codec::{first_non_blank_line, Decoder, InputFormat};

/// One input of a run: a byte stream (already decompressed) and its format.
pub struct Source {
    /// Put in front of read errors (a file name, `<stdin>`).
    pub name: String,
    pub reader: Box<dyn Read + Send>,
    /// `None`: JSON when the first non-blank line starts with `{`, else raw.
    pub format: Option<InputFormat>,
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source")
            .field("name", &self.name)
            .field("format", &self.format)
            .finish()
    }
}

/// The sources of a run, opened one at a time as the run reaches them.
pub type Sources<'a> = &'a mut dyn Iterator<Item = std::io::Result<Source>>;

/// One chunk to decode and process.
pub(super) struct Work {
    pub data: Vec<u8>,
    /// 1-based number of the first line of `data`.
    pub first_line: u64,
    pub decoder: Arc<Decoder>,
}

/// The source being read.
struct Open {
    reader: ChunkReader,
    /// The format when known before reading.
    format: Option<InputFormat>,
    /// Set once the first non-blank line has been seen.
    decoder: Option<Arc<Decoder>>,
}

pub(super) struct Feed<'a> {
    sources: Sources<'a>,
    chunk_size: usize,
    decode: &'a DecodePlan,
    open: Option<Open>,
}

impl<'a> Feed<'a> {
    pub fn new(sources: Sources<'a>, chunk_size: usize, decode: &'a DecodePlan) -> Feed<'a> {
        Feed {
            sources,
            chunk_size,
            decode,
            open: None,
        }
    }

    /// The next chunk of the input, or `None` after the last source.
    pub fn next(&mut self) -> Result<Option<Work>, RunError> {
        loop {
            let Some(open) = self.open.as_mut() else {
                let Some(source) = self.sources.next() else {
                    return Ok(None);
                };
                let source = source.map_err(io_err)?;
                self.open = Some(Open {
                    reader: ChunkReader::new(&source.name, source.reader, self.chunk_size),
                    format: source.format,
                    decoder: None,
                });
                continue;
            };
            let Some(mut chunk) = open.reader.next_chunk().map_err(io_err)? else {
                self.open = None;
                continue;
            };
            let decoder = match &open.decoder {
                Some(d) => d.clone(),
                None => match first_non_blank_line(&chunk.data) {
                    Some(line) => {
                        let format = open
                            .format
                            .unwrap_or_else(|| InputFormat::detect(line.text));
                        let mut d = self.decode.apply(Decoder::new(format));
                        if d.needs_header() {
                            let (end, lines) = (line.end, line.lines);
                            d.set_header(line.text).map_err(|e| {
                                // The decoder's message starts with "bad CSV header".
                                RunError::Failed(format!(
                                    "line {}: {e}",
                                    chunk.first_line + lines - 1
                                ))
                            })?;
                            chunk.data.drain(..end);
                            chunk.first_line += lines;
                        }
                        let d = Arc::new(d);
                        open.decoder = Some(d.clone());
                        d
                    }
                    // Only blank lines so far: any decoder counts them the same way.
                    None => Arc::new(
                        self.decode
                            .apply(Decoder::new(open.format.unwrap_or(InputFormat::Raw))),
                    ),
                },
            };
            return Ok(Some(Work {
                data: chunk.data,
                first_line: chunk.first_line,
                decoder,
            }));
        }
    }

    /// Hands back the buffer of a delivered chunk.
    pub fn reuse(&mut self, buffer: Vec<u8>) {
        if let Some(open) = self.open.as_mut() {
            open.reader.reuse(buffer);
        }
    }
}
