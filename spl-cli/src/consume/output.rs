//! Where consumed rows go: JSON lines on stdout, or one appended `shard-N.jsonl` per shard. A
//! batch is flushed before its checkpoint is sent (at-least-once).
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use spl_loghub::proto::LogGroup;

pub enum Sink {
    Stdout(BufWriter<std::io::Stdout>),
    Dir {
        dir: PathBuf,
        files: HashMap<u32, BufWriter<File>>,
    },
}

impl Sink {
    pub fn new(dir: Option<PathBuf>) -> Result<Sink, String> {
        match dir {
            None => Ok(Sink::Stdout(BufWriter::new(std::io::stdout()))),
            Some(dir) => {
                std::fs::create_dir_all(&dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                Ok(Sink::Dir {
                    dir,
                    files: HashMap::new(),
                })
            }
        }
    }

    /// Writes the rows of `groups` (pulled from `shard`) and flushes them; the number of rows.
    pub fn write(&mut self, shard: u32, groups: &[LogGroup]) -> Result<u64, String> {
        let mut text = Vec::new();
        let mut rows = 0u64;
        for g in groups {
            for log in &g.logs {
                text.push(b'{');
                for (i, c) in log.contents.iter().enumerate() {
                    if i > 0 {
                        text.push(b',');
                    }
                    let key = String::from_utf8_lossy(&c.key);
                    let value = String::from_utf8_lossy(&c.value);
                    serde_json::to_writer(&mut text, &key).map_err(|e| e.to_string())?;
                    text.push(b':');
                    serde_json::to_writer(&mut text, &value).map_err(|e| e.to_string())?;
                }
                text.extend_from_slice(b"}\n");
                rows += 1;
            }
        }
        let out: &mut dyn Write = match self {
            Sink::Stdout(w) => w,
            Sink::Dir { dir, files } => match files.entry(shard) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    let path = dir.join(format!("shard-{shard}.jsonl"));
                    let f = OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(&path)
                        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
                    e.insert(BufWriter::new(f))
                }
            },
        };
        out.write_all(&text)
            .and_then(|()| out.flush())
            .map_err(|e| format!("cannot write rows: {e}"))?;
        Ok(rows)
    }
}
