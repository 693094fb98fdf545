//! Opening input files for the engine's executor ([`spl_engine::exec::run`]): a file or stdin
//! (`-`), decompressed on the fly when it starts with the gzip or zstd magic bytes, and its
//! format from the caller's choice or the file name ([`source`]). The one place every host
//! that reads files (the `spl` CLI, the Python package) opens them, so they read the same bytes
//! the same way; the executor cuts the stream into chunks ([`spl_engine::exec::ChunkReader`]).
use std::fs::File;
use std::io::{self, Cursor, Read};
use std::path::Path;

use spl_engine::codec::InputFormat;
use spl_engine::exec::chunks::with_name;
use spl_engine::exec::Source;
pub use spl_engine::exec::DEFAULT_CHUNK_SIZE;

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];

/// How the input was compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// Opens a file, or stdin for `-`, decompressed.
pub fn open(path: &str) -> io::Result<(Box<dyn Read + Send>, Compression)> {
    if path == "-" {
        return decompressed("<stdin>", io::stdin());
    }
    let file = File::open(path).map_err(|e| with_name(path, e))?;
    decompressed(path, file)
}

/// `reader` decompressed when it starts with the gzip or zstd magic bytes; `name` is used in
/// error messages.
pub fn decompressed(
    name: &str,
    mut reader: impl Read + Send + 'static,
) -> io::Result<(Box<dyn Read + Send>, Compression)> {
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
    Ok((reader, compression))
}

/// The executor's [`Source`] for `path` (`-`: stdin), opened and decompressed. `format`:
/// the caller's choice; `None` takes CSV for `.csv` files (also compressed) and leaves the rest
/// to the executor, which reads JSON when the first non-blank line starts with `{`, else raw.
pub fn source(path: &Path, format: Option<InputFormat>) -> io::Result<Source> {
    let name = path.to_string_lossy();
    let (reader, _) = open(&name)?;
    Ok(Source {
        name: if name == "-" {
            "<stdin>".to_string()
        } else {
            name.into_owned()
        },
        reader,
        format: format.or_else(|| by_extension(path)),
    })
}

/// Auto mode: `.csv` files (also `.csv.gz`, `.csv.zst`) are CSV; others are detected from
/// their content by the executor.
pub fn by_extension(path: &Path) -> Option<InputFormat> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    let name = name
        .strip_suffix(".gz")
        .or_else(|| name.strip_suffix(".zst"))
        .unwrap_or(&name);
    name.ends_with(".csv").then_some(InputFormat::Csv)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use spl_engine::exec::{Chunk, ChunkReader};

    use super::*;

    /// A file in the temp dir with an unpredictable name, removed when dropped.
    struct TempFile(tempfile::TempPath);

    impl TempFile {
        fn new(name: &str, contents: &[u8]) -> TempFile {
            let mut f = tempfile::Builder::new()
                .prefix("spl-input-")
                .suffix(&format!("-{name}"))
                .tempfile()
                .unwrap();
            f.write_all(contents).unwrap();
            TempFile(f.into_temp_path())
        }

        fn path(&self) -> &str {
            self.0.to_str().unwrap()
        }
    }

    /// The file at `path`, opened and cut into chunks of `chunk_size`.
    fn open_chunks(path: &str, chunk_size: usize) -> io::Result<(ChunkReader, Compression)> {
        let (reader, compression) = open(path)?;
        Ok((ChunkReader::new(path, reader, chunk_size), compression))
    }

    fn chunks_of(bytes: &[u8], chunk_size: usize) -> Vec<Chunk> {
        let (reader, _) = decompressed("test", Cursor::new(bytes.to_vec())).unwrap();
        ChunkReader::new("test", reader, chunk_size)
            .collect::<io::Result<Vec<_>>>()
            .unwrap()
    }

    /// Chunks join back into the input, each but the last ends at a line end, and line numbers
    /// run on without gaps.
    fn check_chunks(input: &[u8], chunks: &[Chunk]) {
        let mut joined = Vec::new();
        let mut next_line = 1;
        for (i, c) in chunks.iter().enumerate() {
            if i + 1 < chunks.len() {
                assert_eq!(c.data.last(), Some(&b'\n'), "chunk {i} splits a line");
            }
            assert_eq!(c.first_line, next_line);
            next_line += c.lines;
            joined.extend_from_slice(&c.data);
        }
        assert_eq!(joined, input);
    }

    fn sample() -> Vec<u8> {
        (0..500)
            .map(|i| format!("line {i} {}\r\n", "x".repeat(i % 37)))
            .collect::<String>()
            .into_bytes()
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
        let (reader, compression) = open_chunks(file.path(), 256).unwrap();
        assert_eq!(compression, Compression::Gzip);
        let chunks: Vec<Chunk> = reader.collect::<io::Result<_>>().unwrap();
        check_chunks(&input, &chunks);
    }

    #[test]
    fn zstd_files_are_decompressed() {
        let input = sample();
        let zst = zstd::encode_all(Cursor::new(&input), 3).unwrap();
        let file = TempFile::new("sample.log.zst", &zst);
        let (reader, compression) = open_chunks(file.path(), 300).unwrap();
        assert_eq!(compression, Compression::Zstd);
        let chunks: Vec<Chunk> = reader.collect::<io::Result<_>>().unwrap();
        check_chunks(&input, &chunks);
    }

    #[test]
    fn plain_files_and_short_files_are_read_as_they_are() {
        let file = TempFile::new("plain.log", b"{\"a\":1}\n");
        let (reader, compression) = open_chunks(file.path(), DEFAULT_CHUNK_SIZE).unwrap();
        assert_eq!(compression, Compression::None);
        let chunks: Vec<Chunk> = reader.collect::<io::Result<_>>().unwrap();
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].data, b"{\"a\":1}\n");
        // Shorter than a magic number.
        assert_eq!(chunks_of(b"\x1f", 10)[0].data, b"\x1f");
    }

    #[test]
    fn errors_name_the_file() {
        let err = open("/nonexistent/dir/x.log").map(|_| ()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(
            err.to_string().starts_with("/nonexistent/dir/x.log: "),
            "{err}"
        );
        let file = TempFile::new("broken.gz", b"\x1f\x8b\x08\x00garbage that is not deflate");
        let (mut reader, _) = open_chunks(file.path(), 10).unwrap();
        assert_eq!(reader.name(), file.path());
        let err = reader.next_chunk().unwrap_err();
        assert!(err.to_string().starts_with(file.path()), "{err}");
    }

    #[test]
    fn csv_by_extension_also_when_compressed() {
        for (name, csv) in [
            ("a.csv", true),
            ("A.CSV.GZ", true),
            ("x/b.csv.zst", true),
            ("c.log", false),
            ("d.csv.bz2", false),
            ("csv", false),
        ] {
            assert_eq!(
                by_extension(Path::new(name)) == Some(InputFormat::Csv),
                csv,
                "{name}"
            );
        }
    }

    #[test]
    fn a_source_is_decompressed_and_named_after_its_file() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"a,b\n1,2\n").unwrap();
        let file = TempFile::new("t.csv.gz", &gz.finish().unwrap());
        let mut s = source(Path::new(file.path()), None).unwrap();
        assert_eq!(s.name, file.path());
        assert_eq!(s.format, Some(InputFormat::Csv));
        let mut text = String::new();
        s.reader.read_to_string(&mut text).unwrap();
        assert_eq!(text, "a,b\n1,2\n");
        let s = source(Path::new(file.path()), Some(InputFormat::Raw)).unwrap();
        assert_eq!(s.format, Some(InputFormat::Raw));
    }
}
