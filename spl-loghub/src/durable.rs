//! Files that a crash leaves either old or new: the fsync policy ([`Fsync`]) and atomic
//! replacement of small metadata files (logstore settings, consumer groups, checkpoints).
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// When writes are flushed to stable storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fsync {
    /// `fdatasync` every PutLogs before answering (default).
    Always,
    /// Leave flushing to the OS.
    Never,
}

/// Replaces `path` with `bytes` atomically: a temporary file is written (and synced under
/// [`Fsync::Always`]), renamed over `path`, and the directory synced.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], fsync: Fsync) -> io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::other("no parent directory"))?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut f = File::create(&tmp)?;
    f.write_all(bytes)?;
    if fsync == Fsync::Always {
        f.sync_all()?;
    }
    drop(f);
    fs::rename(&tmp, path)?;
    sync_dir(dir, fsync)
}

/// Syncs a directory (after a rename in it) under [`Fsync::Always`].
pub(crate) fn sync_dir(dir: &Path, fsync: Fsync) -> io::Result<()> {
    if fsync == Fsync::Always {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}
