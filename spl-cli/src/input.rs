//! Reading `spl run` input: a file or stdin (`-`), decompressed on the fly when it starts with
//! the gzip or zstd magic bytes, cut into chunks of about `chunk_size` bytes that always end at a
//! line end, each with the number of its first line. Memory stays bounded by one chunk plus the
//! longest line (capped at 1 GiB).
// The `run` command (issue 4) is the user; until it lands only the tests call this.

use std::fs::File;
use std::io::{self, Cursor, Read};

/// Default chunk size: 1 MiB.
pub const DEFAULT_CHUNK_SIZE: usize = 1 << 20;
/// Default longest line: 1 GiB.
pub const DEFAULT_MAX_LINE: usize = 1 << 30;

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];

/// How the input was compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// A run of whole lines (the last line of the input may lack its `\n`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub data: Vec<u8>,
    /// 1-based number of the chunk's first line.
    pub first_line: u64,
    /// Lines in the chunk.
    pub lines: u64,
    /// Bytes in the chunk (after decompression).
    pub bytes: u64,
}

/// Yields the input as [`Chunk`]s.
pub struct ChunkReader {
    name: String,
    reader: Box<dyn Read + Send>,
    compression: Compression,
    chunk_size: usize,
    max_line: usize,
    /// Bytes read after the last line end handed out.
    pending: Vec<u8>,
    next_line: u64,
    eof: bool,
    /// Buffers of chunks handed back ([`ChunkReader::reuse`]), filled again before new ones
    /// are allocated: their memory is already mapped, so reading into them faults no pages.
    spare: Vec<Vec<u8>>,
}

/// Spare buffers kept at most (more are dropped).
const MAX_SPARE: usize = 16;

impl std::fmt::Debug for ChunkReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkReader")
            .field("name", &self.name)
            .field("compression", &self.compression)
            .field("next_line", &self.next_line)
            .finish()
    }
}

impl ChunkReader {
    /// Opens a file, or stdin for `-`.
    pub fn open(path: &str, chunk_size: usize) -> io::Result<ChunkReader> {
        if path == "-" {
            return ChunkReader::from_reader("<stdin>", io::stdin(), chunk_size);
        }
        let file = File::open(path).map_err(|e| with_name(path, e))?;
        ChunkReader::from_reader(path, file, chunk_size)
    }

    /// Reads from `reader`; `name` is used in error messages.
    pub fn from_reader(
        name: &str,
        mut reader: impl Read + Send + 'static,
        chunk_size: usize,
    ) -> io::Result<ChunkReader> {
        let mut magic = Vec::with_capacity(ZSTD_MAGIC.len());
        (&mut reader)
            .take(ZSTD_MAGIC.len() as u64)
            .read_to_end(&mut magic)
            .map_err(|e| with_name(name, e))?;
        let compression = if magic.starts_with(GZIP_MAGIC) {
            Compression::Gzip
        } else if magic.starts_with(ZSTD_MAGIC) {
            Compression::Zstd
        } else {
            Compression::None
        };
        let whole = Cursor::new(magic).chain(reader);
        let reader: Box<dyn Read + Send> = match compression {
            Compression::None => Box::new(whole),
            // Concatenated gzip members read as one stream, as `zcat` does.
            Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(whole)),
            Compression::Zstd => {
                Box::new(zstd::stream::read::Decoder::new(whole).map_err(|e| with_name(name, e))?)
            }
        };
        Ok(ChunkReader {
            name: name.to_string(),
            reader,
            compression,
            chunk_size: chunk_size.max(1),
            max_line: DEFAULT_MAX_LINE,
            pending: Vec::new(),
            next_line: 1,
            eof: false,
            spare: Vec::new(),
        })
    }

    #[cfg(test)]
    /// Fails on a line longer than `max_line` bytes instead of growing a chunk without bound.
    pub fn with_max_line(mut self, max_line: usize) -> ChunkReader {
        self.max_line = max_line.max(1);
        self
    }

    #[cfg(test)]
    pub fn name(&self) -> &str {
        &self.name
    }

    #[cfg(test)]
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// Takes back the buffer of a chunk that is no longer used, to read a later chunk into. A
    /// buffer that grew far beyond the chunk size (a very long line) is dropped instead, so
    /// memory stays bounded.
    pub fn reuse(&mut self, mut buffer: Vec<u8>) {
        if self.spare.len() < MAX_SPARE && buffer.capacity() <= 2 * self.chunk_size + (64 << 10) {
            buffer.clear();
            self.spare.push(buffer);
        }
    }

    /// The next chunk, or `None` at the end of the input.
    pub fn next_chunk(&mut self) -> io::Result<Option<Chunk>> {
        let result = self.read_chunk();
        if result.is_err() {
            // Stop after an error rather than reporting it again on every call.
            self.eof = true;
            self.pending = Vec::new();
        }
        result
    }

    fn read_chunk(&mut self) -> io::Result<Option<Chunk>> {
        let mut data = self.spare.pop().unwrap_or_default();
        data.extend_from_slice(&self.pending);
        self.pending.clear();
        // Bytes of `data` known to hold no `\n` (the pending tail never does).
        let mut searched = data.len();
        let mut target = self.chunk_size.max(data.len());
        loop {
            if !self.eof && data.len() < target {
                let want = (target - data.len()) as u64;
                data.reserve(want as usize);
                let got = (&mut self.reader)
                    .take(want)
                    .read_to_end(&mut data)
                    .map_err(|e| with_name(&self.name, e))?;
                if (got as u64) < want {
                    self.eof = true;
                }
            }
            if self.eof {
                return Ok((!data.is_empty()).then(|| self.emit(data)));
            }
            match memchr::memrchr(b'\n', data.get(searched..).unwrap_or_default()) {
                Some(at) => {
                    let end = searched + at + 1;
                    self.pending
                        .extend_from_slice(data.get(end..).unwrap_or_default());
                    data.truncate(end);
                    return Ok(Some(self.emit(data)));
                }
                None => {
                    // One line longer than the chunk: grow the chunk.
                    if data.len() > self.max_line {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!(
                                "{}: line {} is longer than {} bytes",
                                self.name, self.next_line, self.max_line
                            ),
                        ));
                    }
                    searched = data.len();
                    target = data.len() + self.chunk_size;
                }
            }
        }
    }

    fn emit(&mut self, data: Vec<u8>) -> Chunk {
        let newlines = memchr::memchr_iter(b'\n', &data).count() as u64;
        let unterminated = u64::from(data.last().is_some_and(|b| *b != b'\n'));
        let lines = newlines + unterminated;
        let chunk = Chunk {
            bytes: data.len() as u64,
            data,
            first_line: self.next_line,
            lines,
        };
        self.next_line += lines;
        chunk
    }
}

impl Iterator for ChunkReader {
    type Item = io::Result<Chunk>;

    fn next(&mut self) -> Option<io::Result<Chunk>> {
        self.next_chunk().transpose()
    }
}

/// The error with the input's name in front.
fn with_name(name: &str, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{name}: {e}"))
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::path::PathBuf;

    use super::*;

    /// A file in the temp dir, removed when dropped.
    struct TempFile(PathBuf);

    impl TempFile {
        fn new(name: &str, contents: &[u8]) -> TempFile {
            let path =
                std::env::temp_dir().join(format!("spl-input-{}-{name}", std::process::id()));
            std::fs::write(&path, contents).unwrap();
            TempFile(path)
        }

        fn path(&self) -> &str {
            self.0.to_str().unwrap()
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    fn chunks_of(bytes: &[u8], chunk_size: usize) -> Vec<Chunk> {
        ChunkReader::from_reader("test", Cursor::new(bytes.to_vec()), chunk_size)
            .unwrap()
            .collect::<io::Result<Vec<_>>>()
            .unwrap()
    }

    /// Every chunk ends at a line end (but the input's last), chunks join back into the input,
    /// and line numbers run on without gaps.
    fn check_chunks(input: &[u8], chunks: &[Chunk]) {
        let mut joined = Vec::new();
        let mut next_line = 1;
        for (i, c) in chunks.iter().enumerate() {
            assert!(!c.data.is_empty());
            if i + 1 < chunks.len() {
                assert_eq!(c.data.last(), Some(&b'\n'), "chunk {i} splits a line");
            }
            assert_eq!(c.first_line, next_line);
            assert_eq!(c.bytes, c.data.len() as u64);
            next_line += c.lines;
            joined.extend_from_slice(&c.data);
        }
        assert_eq!(joined, input);
        let total = input.split(|b| *b == b'\n').count() as u64
            - u64::from(input.last() == Some(&b'\n') || input.is_empty());
        assert_eq!(next_line - 1, total);
    }

    fn sample() -> Vec<u8> {
        (0..500)
            .map(|i| format!("line {i} {}\r\n", "x".repeat(i % 37)))
            .collect::<String>()
            .into_bytes()
    }

    #[test]
    fn chunks_end_at_line_ends_for_any_chunk_size() {
        let input = sample();
        for size in [1, 2, 7, 64, 1000, 4096, 1 << 20] {
            let chunks = chunks_of(&input, size);
            check_chunks(&input, &chunks);
            if size >= 64 {
                // About `size` bytes each: never more than the size plus one line.
                assert!(chunks.iter().all(|c| c.data.len() < size + 64));
            }
        }
        assert_eq!(chunks_of(&input, 1 << 20).len(), 1);
        // A CRLF line end is never split between chunks.
        assert!(chunks_of(&input, 7)
            .iter()
            .all(|c| !c.data.starts_with(b"\n")));
    }

    #[test]
    fn reused_buffers_hold_the_next_chunks_and_oversized_ones_are_dropped() {
        let input = sample();
        for size in [7, 64, 1000] {
            let mut reader =
                ChunkReader::from_reader("test", Cursor::new(input.clone()), size).unwrap();
            let mut chunks = Vec::new();
            let mut reused = 0;
            let mut last_buffer = None;
            while let Some(c) = reader.next_chunk().unwrap() {
                if last_buffer == Some(c.data.as_ptr()) {
                    reused += 1;
                }
                last_buffer = Some(c.data.as_ptr());
                chunks.push(Chunk {
                    data: c.data.clone(),
                    ..c.clone()
                });
                // Scribble over the buffer before handing it back: nothing may leak into
                // the next chunk.
                let mut buffer = c.data;
                buffer.iter_mut().for_each(|b| *b = b'#');
                reader.reuse(buffer);
            }
            check_chunks(&input, &chunks);
            assert!(
                reused * 2 >= chunks.len(),
                "{size}: {reused} of {}",
                chunks.len()
            );
        }
        let mut reader = ChunkReader::from_reader("test", Cursor::new(input), 64).unwrap();
        reader.reuse(Vec::with_capacity(1 << 20));
        assert!(
            reader.spare.is_empty(),
            "a buffer 16000 times the chunk size is not kept"
        );
    }

    #[test]
    fn the_last_line_may_lack_a_newline() {
        let chunks = chunks_of(b"a\nb\nlast", 3);
        check_chunks(b"a\nb\nlast", &chunks);
        assert_eq!(chunks.last().unwrap().data, b"last");
        assert_eq!(chunks.last().unwrap().first_line, 3);
        assert!(chunks_of(b"", 10).is_empty());
        let blank = chunks_of(b"\n\n\n", 1);
        check_chunks(b"\n\n\n", &blank);
    }

    #[test]
    fn a_line_longer_than_the_chunk_grows_the_chunk() {
        let long = "y".repeat(10 * 1024 * 1024);
        let input = format!("short\n{long}\nafter\n").into_bytes();
        let chunks = chunks_of(&input, 1024);
        check_chunks(&input, &chunks);
        let big = chunks.iter().find(|c| c.data.len() > long.len()).unwrap();
        assert_eq!(big.first_line, 2);
    }

    #[test]
    fn overlong_lines_are_an_error_with_the_name_and_line() {
        let input = format!("ok\n{}\n", "z".repeat(5000));
        let mut reader = ChunkReader::from_reader("big.log", Cursor::new(input), 100)
            .unwrap()
            .with_max_line(1000);
        assert_eq!(reader.next_chunk().unwrap().unwrap().data, b"ok\n");
        let err = reader.next_chunk().unwrap_err();
        assert_eq!(err.to_string(), "big.log: line 2 is longer than 1000 bytes");
        assert!(reader.next_chunk().unwrap().is_none());
    }

    #[test]
    fn gzip_files_are_decompressed() {
        let input = sample();
        // Two gzip members back to back read as one stream.
        let (first, second) = input.split_at(1000);
        let mut gz = Vec::new();
        for part in [first, second] {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(part).unwrap();
            gz.extend(e.finish().unwrap());
        }
        let file = TempFile::new("sample.log.gz", &gz);
        let reader = ChunkReader::open(file.path(), 256).unwrap();
        assert_eq!(reader.compression(), Compression::Gzip);
        let chunks: Vec<Chunk> = reader.collect::<io::Result<_>>().unwrap();
        check_chunks(&input, &chunks);
    }

    #[test]
    fn zstd_files_are_decompressed() {
        let input = sample();
        let zst = zstd::encode_all(Cursor::new(&input), 3).unwrap();
        let file = TempFile::new("sample.log.zst", &zst);
        let reader = ChunkReader::open(file.path(), 300).unwrap();
        assert_eq!(reader.compression(), Compression::Zstd);
        let chunks: Vec<Chunk> = reader.collect::<io::Result<_>>().unwrap();
        check_chunks(&input, &chunks);
    }

    #[test]
    fn plain_files_and_short_files_are_read_as_they_are() {
        let file = TempFile::new("plain.log", b"{\"a\":1}\n");
        let reader = ChunkReader::open(file.path(), DEFAULT_CHUNK_SIZE).unwrap();
        assert_eq!(reader.compression(), Compression::None);
        let chunks: Vec<Chunk> = reader.collect::<io::Result<_>>().unwrap();
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].data, b"{\"a\":1}\n");
        // Shorter than a magic number.
        assert_eq!(chunks_of(b"\x1f", 10)[0].data, b"\x1f");
    }

    #[test]
    fn errors_name_the_file() {
        let err = ChunkReader::open("/nonexistent/dir/x.log", 10).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(
            err.to_string().starts_with("/nonexistent/dir/x.log: "),
            "{err}"
        );
        let file = TempFile::new("broken.gz", b"\x1f\x8b\x08\x00garbage that is not deflate");
        let mut reader = ChunkReader::open(file.path(), 10).unwrap();
        assert_eq!(reader.name(), file.path());
        let err = reader.next_chunk().unwrap_err();
        assert!(err.to_string().starts_with(file.path()), "{err}");
    }
}
