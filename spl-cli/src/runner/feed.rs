//! The runner's feed: every input file in turn, cut into chunks ([`ChunkReader`]), each handed
//! out with the decoder of its file. A file's format comes from `--input-format`, its extension,
//! or its first non-blank line; a CSV header is taken out of the chunk that holds it. Buffers of
//! chunks that have been delivered come back ([`Feed::reuse`]) to be read into again.
use std::path::PathBuf;
use std::sync::Arc;

use spl_engine::codec::{first_non_blank_line, Decoder, InputFormat};

use super::{io_err, Input, RunError};
use crate::input::ChunkReader;

/// One chunk to decode and process.
pub(super) struct Work {
    pub data: Vec<u8>,
    /// 1-based number of the first line of `data`.
    pub first_line: u64,
    pub decoder: Arc<Decoder>,
}

/// The file being read.
struct File {
    reader: ChunkReader,
    /// The format when known before reading (flag or extension).
    format: Option<InputFormat>,
    /// Set once the first non-blank line has been seen (or the file ended without one).
    decoder: Option<Arc<Decoder>>,
}

pub(super) struct Feed<'a> {
    input: &'a Input,
    files: std::slice::Iter<'a, PathBuf>,
    file: Option<File>,
}

impl<'a> Feed<'a> {
    pub fn new(input: &'a Input) -> Feed<'a> {
        Feed {
            input,
            files: input.files.iter(),
            file: None,
        }
    }

    /// The next chunk of the input, or `None` after the last file.
    pub fn next(&mut self) -> Result<Option<Work>, RunError> {
        loop {
            let Some(file) = self.file.as_mut() else {
                let Some(path) = self.files.next() else {
                    return Ok(None);
                };
                self.file = Some(File {
                    reader: ChunkReader::open(&path.to_string_lossy(), self.input.chunk_size)
                        .map_err(io_err)?,
                    format: self.input.format.or_else(|| by_extension(path)),
                    decoder: None,
                });
                continue;
            };
            let Some(mut chunk) = file.reader.next_chunk().map_err(io_err)? else {
                self.file = None;
                continue;
            };
            let decoder = match &file.decoder {
                Some(d) => d.clone(),
                None => match first_non_blank_line(&chunk.data) {
                    Some(line) => {
                        let format = file
                            .format
                            .unwrap_or_else(|| InputFormat::detect(line.text));
                        let mut d = self.input.decode.apply(Decoder::new(format));
                        if d.needs_header() {
                            let (end, lines) = (line.end, line.lines);
                            d.set_header(line.text).map_err(|e| {
                                RunError::Failed(format!(
                                    "line {}: bad CSV header: {e}",
                                    chunk.first_line + lines - 1
                                ))
                            })?;
                            chunk.data.drain(..end);
                            chunk.first_line += lines;
                        }
                        let d = Arc::new(d);
                        file.decoder = Some(d.clone());
                        d
                    }
                    // Only blank lines so far: any decoder counts them the same way.
                    None => Arc::new(
                        self.input
                            .decode
                            .apply(Decoder::new(file.format.unwrap_or(InputFormat::Raw))),
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
        if let Some(file) = self.file.as_mut() {
            file.reader.reuse(buffer);
        }
    }
}

/// Auto mode: `.csv` files (also compressed) are CSV; others are detected from their content.
fn by_extension(path: &std::path::Path) -> Option<InputFormat> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    let name = name
        .strip_suffix(".gz")
        .or_else(|| name.strip_suffix(".zst"))
        .unwrap_or(&name);
    name.ends_with(".csv").then_some(InputFormat::Csv)
}
