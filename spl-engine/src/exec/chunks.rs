//! Cutting a byte stream into chunks that end at line ends ([`ChunkReader`]), each with the
//! number of its first line. Memory stays bounded by one chunk plus the longest line (capped at
//! 1 GiB); buffers of delivered chunks come back ([`ChunkReader::reuse`]) and are read into
//! again. The reader is any `Read`: opening files, stdin and decompression are the host's job.
use std::io::{self, Read};

/// Default chunk size: 1 MiB.
pub const DEFAULT_CHUNK_SIZE: usize = 1 << 20;
/// Default longest line: 1 GiB.
pub const DEFAULT_MAX_LINE: usize = 1 << 30;

/// A run of whole lines (the last line of the input may lack its `\n`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub data: Vec<u8>,
    /// 1-based number of the chunk's first line.
    pub first_line: u64,
    /// Lines in the chunk.
    pub lines: u64,
    /// Bytes in the chunk.
    pub bytes: u64,
}

/// Yields a byte stream as [`Chunk`]s.
pub struct ChunkReader {
    name: String,
    reader: Box<dyn Read + Send>,
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
            .field("next_line", &self.next_line)
            .finish()
    }
}

impl ChunkReader {
    /// Reads `reader` in chunks of about `chunk_size` bytes; `name` is put in front of error
    /// messages.
    pub fn new(name: &str, reader: Box<dyn Read + Send>, chunk_size: usize) -> ChunkReader {
        ChunkReader {
            name: name.to_string(),
            reader,
            chunk_size: chunk_size.max(1),
            max_line: DEFAULT_MAX_LINE,
            pending: Vec::new(),
            next_line: 1,
            eof: false,
            spare: Vec::new(),
        }
    }

    /// Fails on a line longer than `max_line` bytes instead of growing a chunk without bound.
    pub fn with_max_line(mut self, max_line: usize) -> ChunkReader {
        self.max_line = max_line.max(1);
        self
    }

    /// The name given at creation.
    pub fn name(&self) -> &str {
        &self.name
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
pub fn with_name(name: &str, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{name}: {e}"))
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    fn reader(bytes: &[u8], chunk_size: usize) -> ChunkReader {
        ChunkReader::new("test", Box::new(Cursor::new(bytes.to_vec())), chunk_size)
    }

    fn chunks_of(bytes: &[u8], chunk_size: usize) -> Vec<Chunk> {
        reader(bytes, chunk_size)
            .collect::<io::Result<Vec<_>>>()
            .unwrap()
    }

    /// Every chunk ends at a line end (but the input's last), chunks join back into the input,
    /// and line numbers run on without gaps.
    pub(crate) fn check_chunks(input: &[u8], chunks: &[Chunk]) {
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
            let mut reader = reader(&input, size);
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
        let mut reader = reader(&input, 64);
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
        let mut reader =
            ChunkReader::new("big.log", Box::new(Cursor::new(input)), 100).with_max_line(1000);
        assert_eq!(reader.next_chunk().unwrap().unwrap().data, b"ok\n");
        let err = reader.next_chunk().unwrap_err();
        assert_eq!(err.to_string(), "big.log: line 2 is longer than 1000 bytes");
        assert!(reader.next_chunk().unwrap().is_none());
    }
}
