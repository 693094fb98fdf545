//! Durable append-only storage of LogGroups: project → logstore → shards, each shard a directory
//! of segment files plus an in-memory index from cursor to file offset.
//!
//! Layout under the data directory:
//!
//! ```text
//! <project>/<logstore>/logstore.json        {"shards": N, "createTime": unix-seconds, "ttl": days?}
//! <project>/<logstore>/shard-<id>/<first-cursor, 20 digits>.seg
//! <project>/<logstore>/consumergroups/<group>.json   (see [`crate::consumer`])
//! ```
//!
//! Logstores are created by CreateLogStore ([`Store::create_logstore`]) or by their first
//! PutLogs, with names checked against the service's naming rules ([`valid_logstore_name`],
//! [`valid_project_name`]); a logstore's `ttl` (days) overrides the server's when set.
//!
//! A segment is a sequence of records `[payload length u32 LE][crc32 u32 LE][receive time u64 LE,
//! unix seconds][payload]`; the CRC covers the receive time and the payload; the payload is the
//! LogGroup protobuf exactly as received (after decompression). A shard's cursors are consecutive
//! integers; the first cursor of a new shard is its creation time in Unix nanoseconds (so a
//! recreated store never reuses an old consumer's checkpoints), and the file name of each segment
//! is the cursor of its first record.
//!
//! **Durability (fsync policy).** With [`Fsync::Always`] (the default) a PutLogs is answered only
//! after its record is written and `fdatasync`ed, and new files and directories are synced into
//! their parent directory, so an acknowledged write survives a crash or power loss. With
//! [`Fsync::Never`] writes reach the OS page cache only (they survive a process crash, not a
//! power loss). On open, records are scanned to rebuild the index; in the last segment of each
//! shard (the only one a crash can leave half-written) every record's CRC is checked and a torn or
//! corrupt tail is truncated away; earlier segments are checked for structure only.
//!
//! **Retention.** Segments roll at a size (default 64 MiB) or when their first record is older
//! than an hour; a segment whose newest record is older than the TTL is deleted as a whole.
//! Cursors below the oldest retained record are invalid (`InvalidCursor`).
use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::consumer::Groups;
pub use crate::durable::Fsync;
use crate::durable::{sync_dir, write_atomic};
pub use crate::names::{valid_logstore_name, valid_name, valid_project_name};

const HEADER: usize = 16;

/// Storage settings.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub data_dir: PathBuf,
    /// Shards of a logstore created by its first PutLogs.
    pub default_shards: u32,
    /// Shard counts for named logstores (by logstore name), overriding the default.
    pub logstore_shards: HashMap<String, u32>,
    /// Data older than this (by receive time) is deleted; `None` keeps everything.
    pub ttl: Option<Duration>,
    pub fsync: Fsync,
    /// A segment rolls once it holds this many bytes.
    pub segment_bytes: u64,
    /// A segment rolls once its first record is older than this.
    pub segment_age: Duration,
    /// Largest accepted LogGroup (uncompressed).
    pub max_record_bytes: usize,
    /// Fault injection for tests: while a file exists at this path, every segment write fails
    /// with ENOSPC (as on a full disk). `None` (the default) injects nothing.
    pub disk_full_when: Option<PathBuf>,
}

impl StoreConfig {
    pub fn new(data_dir: impl Into<PathBuf>) -> StoreConfig {
        StoreConfig {
            data_dir: data_dir.into(),
            default_shards: 2,
            logstore_shards: HashMap::new(),
            ttl: Some(Duration::from_secs(30 * 24 * 3600)),
            fsync: Fsync::Always,
            segment_bytes: 64 << 20,
            segment_age: Duration::from_secs(3600),
            max_record_bytes: 10 << 20,
            disk_full_when: None,
        }
    }
}

/// Why a storage call failed.
#[derive(Debug)]
pub enum StoreError {
    LogstoreNotFound,
    /// CreateLogStore of a logstore that exists.
    LogstoreExists,
    ShardNotFound,
    /// The cursor is outside `[begin, end]`; the message says why.
    InvalidCursor(String),
    InvalidName(String),
    Io(io::Error),
}

impl From<io::Error> for StoreError {
    fn from(e: io::Error) -> Self {
        StoreError::Io(e)
    }
}

/// All logstores under one data directory.
#[derive(Debug)]
pub struct Store {
    config: StoreConfig,
    logstores: RwLock<HashMap<(String, String), Arc<Logstore>>>,
    create: Mutex<()>,
}

/// One logstore: its shards and consumer groups.
#[derive(Debug)]
pub struct Logstore {
    pub project: String,
    pub name: String,
    /// Creation time, Unix seconds.
    pub created: u64,
    shards: Vec<Shard>,
    next_lb: AtomicUsize,
    dir: PathBuf,
    fsync: Fsync,
    /// The logstore's own retention in days (UpdateLogStore), `None` for the server's.
    ttl_days: Mutex<Option<u64>>,
    /// Last change of the logstore's settings, Unix seconds.
    modified: AtomicU64,
    /// The logstore's consumer groups.
    pub groups: Groups,
}

/// A shard: segments and their index.
#[derive(Debug)]
pub struct Shard {
    pub id: u32,
    dir: PathBuf,
    fsync: Fsync,
    segment_bytes: u64,
    segment_age: Duration,
    disk_full_when: Option<PathBuf>,
    state: RwLock<ShardState>,
}

#[derive(Debug)]
struct ShardState {
    /// Set (under the write lock) when the logstore is deleted: appends then fail.
    deleted: bool,
    segments: Vec<Segment>,
    /// The cursor the next record gets (the end cursor).
    next: u64,
}

#[derive(Debug)]
struct Segment {
    first: u64,
    path: PathBuf,
    /// Shared handle for positioned reads.
    file: Arc<File>,
    /// Bytes in the file (valid records only).
    len: u64,
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Offset of the payload in the file.
    offset: u64,
    len: u32,
    /// Receive time, Unix seconds.
    received: u64,
}

/// A LogGroup read back from a shard.
#[derive(Debug, Clone)]
pub struct Record {
    pub cursor: u64,
    pub received: u64,
    pub bytes: Vec<u8>,
}

/// Unix time now, in seconds.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX / 2))
}

impl Store {
    /// Opens (creating when needed) the data directory. Logstores are opened on first use.
    pub fn open(config: StoreConfig) -> io::Result<Store> {
        fs::create_dir_all(&config.data_dir)?;
        Ok(Store {
            config,
            logstores: RwLock::new(HashMap::new()),
            create: Mutex::new(()),
        })
    }

    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    fn dir(&self, project: &str, logstore: &str) -> PathBuf {
        self.config.data_dir.join(project).join(logstore)
    }

    /// An existing logstore.
    pub fn logstore(&self, project: &str, name: &str) -> Result<Arc<Logstore>, StoreError> {
        self.lookup(project, name, None)
    }

    /// A logstore, created with the configured shard count when it does not exist (PutLogs).
    pub fn logstore_or_create(
        &self,
        project: &str,
        name: &str,
    ) -> Result<Arc<Logstore>, StoreError> {
        let shards = self
            .config
            .logstore_shards
            .get(name)
            .copied()
            .unwrap_or(self.config.default_shards)
            .clamp(1, 256);
        self.lookup(project, name, Some((shards, None)))
    }

    /// CreateLogStore: a new logstore with `shards` shards (1–256) and an optional TTL in days;
    /// [`StoreError::LogstoreExists`] when it exists.
    pub fn create_logstore(
        &self,
        project: &str,
        name: &str,
        shards: u32,
        ttl_days: Option<u64>,
    ) -> Result<Arc<Logstore>, StoreError> {
        check_new_names(project, name)?;
        let _guard = self.create.lock().unwrap_or_else(|e| e.into_inner());
        if self
            .read_map()
            .contains_key(&(project.to_string(), name.to_string()))
            || self.dir(project, name).join("logstore.json").exists()
        {
            return Err(StoreError::LogstoreExists);
        }
        self.open_or_create(project, name, Some((shards.clamp(1, 256), ttl_days)))
    }

    /// DeleteLogStore: its data, consumer groups and checkpoints are removed. Appends still
    /// in flight on the deleted logstore fail.
    pub fn delete_logstore(&self, project: &str, name: &str) -> Result<(), StoreError> {
        let ls = self.logstore(project, name)?;
        let _guard = self.create.lock().unwrap_or_else(|e| e.into_inner());
        let mut states: Vec<_> = ls.shards.iter().map(Shard::write_state).collect();
        for st in &mut states {
            st.deleted = true;
        }
        self.logstores
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&(project.to_string(), name.to_string()));
        // The metadata goes first, so a crash half-way leaves no logstore behind.
        fs::remove_file(ls.dir.join("logstore.json"))?;
        sync_dir(&ls.dir, self.config.fsync)?;
        fs::remove_dir_all(&ls.dir)?;
        if let Some(parent) = ls.dir.parent() {
            sync_dir(parent, self.config.fsync)?;
        }
        Ok(())
    }

    /// Names of the logstores of `project`, sorted.
    pub fn list_logstores(&self, project: &str) -> Result<Vec<String>, StoreError> {
        if !valid_name(project) {
            return Ok(Vec::new());
        }
        let dir = self.config.data_dir.join(project);
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().join("logstore.json").is_file())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| valid_name(n))
            .collect();
        names.sort();
        Ok(names)
    }

    fn lookup(
        &self,
        project: &str,
        name: &str,
        create: Option<(u32, Option<u64>)>,
    ) -> Result<Arc<Logstore>, StoreError> {
        for n in [project, name] {
            if !valid_name(n) {
                return Err(StoreError::InvalidName(n.to_string()));
            }
        }
        let key = (project.to_string(), name.to_string());
        if let Some(ls) = self.read_map().get(&key) {
            return Ok(ls.clone());
        }
        let _guard = self.create.lock().unwrap_or_else(|e| e.into_inner());
        self.open_or_create(project, name, create)
    }

    /// Opens a logstore (or creates it with `create`'s shard count and TTL); the caller holds
    /// the creation lock.
    fn open_or_create(
        &self,
        project: &str,
        name: &str,
        create: Option<(u32, Option<u64>)>,
    ) -> Result<Arc<Logstore>, StoreError> {
        let key = (project.to_string(), name.to_string());
        if let Some(ls) = self.read_map().get(&key) {
            return Ok(ls.clone());
        }
        let dir = self.dir(project, name);
        let meta = dir.join("logstore.json");
        let info = if meta.exists() {
            read_meta(&meta)?
        } else if let Some((shards, ttl_days)) = create {
            check_new_names(project, name)?;
            let now = now_secs();
            let info = Meta {
                shards,
                created: now,
                modified: now,
                ttl_days,
            };
            fs::create_dir_all(&dir)?;
            write_meta(&dir, &info, self.config.fsync)?;
            if let Some(parent) = dir.parent() {
                sync_dir(parent, self.config.fsync)?;
                sync_dir(&self.config.data_dir, self.config.fsync)?;
            }
            info
        } else {
            return Err(StoreError::LogstoreNotFound);
        };
        let shards = (0..info.shards)
            .map(|id| Shard::open(dir.join(format!("shard-{id}")), id, &self.config))
            .collect::<io::Result<Vec<_>>>()?;
        let groups = Groups::open(dir.join("consumergroups"), info.shards, self.config.fsync)?;
        let ls = Arc::new(Logstore {
            project: project.to_string(),
            name: name.to_string(),
            created: info.created,
            shards,
            next_lb: AtomicUsize::new(0),
            fsync: self.config.fsync,
            ttl_days: Mutex::new(info.ttl_days),
            modified: AtomicU64::new(info.modified),
            groups,
            dir,
        });
        self.logstores
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, ls.clone());
        Ok(ls)
    }

    fn read_map(&self) -> std::sync::RwLockReadGuard<'_, HashMap<(String, String), Arc<Logstore>>> {
        self.logstores.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Deletes expired segments in every open logstore; returns how many were deleted.
    pub fn expire(&self, now: u64) -> io::Result<usize> {
        let logstores: Vec<Arc<Logstore>> = self.read_map().values().cloned().collect();
        let mut deleted = 0;
        for ls in logstores {
            let Some(ttl) = ls.ttl_secs(&self.config) else {
                continue;
            };
            let cutoff = now.saturating_sub(ttl);
            for shard in &ls.shards {
                deleted += shard.expire(cutoff)?;
            }
        }
        Ok(deleted)
    }
}

/// What `logstore.json` holds.
#[derive(Debug, Clone, Copy)]
struct Meta {
    shards: u32,
    created: u64,
    modified: u64,
    ttl_days: Option<u64>,
}

fn check_new_names(project: &str, name: &str) -> Result<(), StoreError> {
    if !valid_project_name(project) {
        return Err(StoreError::InvalidName(format!(
            "project `{project}`: 3 to 63 of a-z, 0-9 and `-`, starting and ending with a letter or digit"
        )));
    }
    if !valid_logstore_name(name) {
        return Err(StoreError::InvalidName(format!(
            "logstore `{name}`: 3 to 63 of a-z, 0-9, `_` and `-`, starting and ending with a letter or digit"
        )));
    }
    Ok(())
}

fn invalid_data(path: &Path, what: impl std::fmt::Display) -> StoreError {
    StoreError::Io(io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{}: {what}", path.display()),
    ))
}

fn read_meta(path: &Path) -> Result<Meta, StoreError> {
    let text = fs::read_to_string(path)?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| invalid_data(path, e))?;
    let shards = v["shards"]
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| (1..=256).contains(n))
        .ok_or_else(|| invalid_data(path, "no valid shard count"))?;
    let created = v["createTime"].as_u64().unwrap_or(0);
    Ok(Meta {
        shards,
        created,
        modified: v["lastModifyTime"].as_u64().unwrap_or(created),
        ttl_days: v["ttl"].as_u64(),
    })
}

/// Writes `logstore.json` atomically (temporary file, rename, directory sync).
fn write_meta(dir: &Path, meta: &Meta, fsync: Fsync) -> io::Result<()> {
    let mut v = serde_json::json!({
        "shards": meta.shards,
        "createTime": meta.created,
        "lastModifyTime": meta.modified,
    });
    if let Some(ttl) = meta.ttl_days {
        v["ttl"] = ttl.into();
    }
    write_atomic(&dir.join("logstore.json"), v.to_string().as_bytes(), fsync)
}

impl Logstore {
    pub fn shards(&self) -> &[Shard] {
        &self.shards
    }

    pub fn shard(&self, id: u32) -> Result<&Shard, StoreError> {
        self.shards
            .get(id as usize)
            .ok_or(StoreError::ShardNotFound)
    }

    /// The next shard for load-balanced writes (round robin).
    pub fn next_shard(&self) -> &Shard {
        let n = self.next_lb.fetch_add(1, Ordering::Relaxed);
        &self.shards[n % self.shards.len()]
    }

    /// The first hash key of shard `id`: `floor(id * 2^128 / n)` for `n` shards (exact for any
    /// `n`, including 1).
    fn hash_begin(&self, id: u32) -> u128 {
        hash_begin(id, self.shards.len() as u32)
    }

    /// The hash range `[begin, end)` of shard `id` as 32 hex digits each.
    pub fn hash_range(&self, id: u32) -> (String, String) {
        let begin = self.hash_begin(id);
        let end = if id as usize + 1 >= self.shards.len() {
            "ffffffffffffffffffffffffffffffff".to_string()
        } else {
            format!("{:032x}", self.hash_begin(id + 1))
        };
        (format!("{begin:032x}"), end)
    }

    /// The shard whose hash range holds `key` (32 hex digits, as `/shards/route?key=` sends).
    pub fn route(&self, key: &str) -> Option<&Shard> {
        if key.len() != 32 {
            return None;
        }
        let k = u128::from_str_radix(key, 16).ok()?;
        let n = self.shards.len() as u32;
        // The last shard whose range begins at or before the key.
        let id = (0..n).rev().find(|&id| hash_begin(id, n) <= k)?;
        self.shards.get(id as usize)
    }

    /// The logstore's TTL in days: its own (UpdateLogStore, CreateLogStore) or the server's
    /// (`None`: kept forever).
    pub fn ttl_days(&self, config: &StoreConfig) -> Option<u64> {
        match *self.ttl_days.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(d) => Some(d),
            None => config.ttl.map(|t| t.as_secs() / 86_400),
        }
    }

    fn ttl_secs(&self, config: &StoreConfig) -> Option<u64> {
        match *self.ttl_days.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(d) => Some(d.saturating_mul(86_400)),
            None => config.ttl.map(|t| t.as_secs()),
        }
    }

    /// Last change of the logstore's settings, Unix seconds.
    pub fn modified(&self) -> u64 {
        self.modified.load(Ordering::Relaxed)
    }

    /// UpdateLogStore: sets the logstore's TTL in days (durably).
    pub fn set_ttl_days(&self, days: u64) -> io::Result<()> {
        let mut ttl = self.ttl_days.lock().unwrap_or_else(|e| e.into_inner());
        let now = now_secs();
        let meta = Meta {
            shards: self.shards.len() as u32,
            created: self.created,
            modified: now,
            ttl_days: Some(days),
        };
        write_meta(&self.dir, &meta, self.fsync)?;
        *ttl = Some(days);
        self.modified.store(now, Ordering::Relaxed);
        Ok(())
    }
}

/// `floor(id * 2^128 / n)`: with `2^128 = n*q + r + 1`, that is `id*q + id*(r+1)/n`, and
/// nothing overflows for `id < n` (at most 256 shards).
fn hash_begin(id: u32, n: u32) -> u128 {
    let n = u128::from(n.max(1));
    let id = u128::from(id);
    let (q, r) = (u128::MAX / n, u128::MAX % n);
    id * q + id * (r + 1) / n
}

impl Shard {
    fn open(dir: PathBuf, id: u32, config: &StoreConfig) -> io::Result<Shard> {
        let created = !dir.exists();
        fs::create_dir_all(&dir)?;
        if created {
            if let Some(parent) = dir.parent() {
                sync_dir(parent, config.fsync)?;
            }
        }
        let mut names: Vec<(u64, PathBuf)> = fs::read_dir(&dir)?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let path = e.path();
                let first = path
                    .file_name()?
                    .to_str()?
                    .strip_suffix(".seg")?
                    .parse()
                    .ok()?;
                Some((first, path))
            })
            .collect();
        names.sort();
        let last = names.len().saturating_sub(1);
        let mut segments = Vec::with_capacity(names.len());
        for (i, (first, path)) in names.into_iter().enumerate() {
            segments.push(Segment::open(
                first,
                path,
                i == last,
                config.max_record_bytes,
            )?);
        }
        let next = match segments.last() {
            Some(s) => s.first + s.entries.len() as u64,
            None => {
                let first = now_nanos();
                let s = Segment::create(&dir, first, config.fsync)?;
                segments.push(s);
                first
            }
        };
        Ok(Shard {
            id,
            dir,
            fsync: config.fsync,
            segment_bytes: config.segment_bytes,
            segment_age: config.segment_age,
            disk_full_when: config.disk_full_when.clone(),
            state: RwLock::new(ShardState {
                deleted: false,
                segments,
                next,
            }),
        })
    }

    fn read_state(&self) -> std::sync::RwLockReadGuard<'_, ShardState> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write_state(&self) -> std::sync::RwLockWriteGuard<'_, ShardState> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The oldest retained cursor.
    pub fn begin(&self) -> u64 {
        let st = self.read_state();
        st.segments.first().map_or(st.next, |s| s.first)
    }

    /// The cursor after the newest record.
    pub fn end(&self) -> u64 {
        self.read_state().next
    }

    /// The first cursor whose record was received at or after `time` (Unix seconds); the end
    /// cursor when there is none.
    pub fn cursor_at(&self, time: u64) -> u64 {
        let st = self.read_state();
        for s in &st.segments {
            if s.entries.last().is_some_and(|e| e.received >= time) {
                let i = s.entries.partition_point(|e| e.received < time);
                return s.first + i as u64;
            }
        }
        st.next
    }

    /// The receive time of the record at `cursor` (the end cursor: the newest record's, or now).
    pub fn time_of(&self, cursor: u64) -> Result<u64, StoreError> {
        let st = self.read_state();
        st.check(cursor)?;
        if cursor == st.next {
            return Ok(st
                .segments
                .iter()
                .rev()
                .find_map(|s| s.entries.last())
                .map_or_else(now_secs, |e| e.received));
        }
        let (s, i) = st.locate(cursor).ok_or_else(|| gone(cursor))?;
        Ok(st.segments[s].entries[i].received)
    }

    /// Appends one LogGroup; returns its cursor.
    pub fn append(&self, payload: &[u8]) -> io::Result<u64> {
        let len = u32::try_from(payload.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "record too large"))?;
        let mut st = self.write_state();
        if st.deleted {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "the logstore was deleted",
            ));
        }
        let now = now_secs();
        let roll = st.segments.last().is_none_or(|s| {
            !s.entries.is_empty()
                && (s.len >= self.segment_bytes
                    || s.entries[0].received + self.segment_age.as_secs() <= now)
        });
        if roll {
            let next = st.next;
            st.segments
                .push(Segment::create(&self.dir, next, self.fsync)?);
        }
        let previous = st
            .segments
            .iter()
            .rev()
            .find_map(|s| s.entries.last())
            .map_or(0, |e| e.received);
        let received = now.max(previous);
        let seg = st
            .segments
            .last_mut()
            .ok_or_else(|| io::Error::other("no segment"))?;
        let mut record = Vec::with_capacity(HEADER + payload.len());
        record.extend_from_slice(&len.to_le_bytes());
        let mut crc = crc32fast::Hasher::new();
        crc.update(&received.to_le_bytes());
        crc.update(payload);
        record.extend_from_slice(&crc.finalize().to_le_bytes());
        record.extend_from_slice(&received.to_le_bytes());
        record.extend_from_slice(payload);
        let injected = match &self.disk_full_when {
            Some(flag) if flag.exists() => Err(io::Error::from_raw_os_error(28)),
            _ => Ok(()),
        };
        let written = injected
            .and_then(|()| seg.file.write_all_at(&record, seg.len))
            .and_then(|()| match self.fsync {
                Fsync::Always => seg.file.sync_data(),
                Fsync::Never => Ok(()),
            });
        if let Err(e) = written {
            // Leave no partial record behind for the next append to build on.
            let _ = seg.file.set_len(seg.len);
            return Err(e);
        }
        seg.entries.push(Entry {
            offset: seg.len + HEADER as u64,
            len,
            received,
        });
        seg.len += record.len() as u64;
        let cursor = st.next;
        st.next += 1;
        Ok(cursor)
    }

    /// Reads records from `cursor` up to `count` records, stopping before `end` (exclusive) and
    /// once `max_bytes` of payload have been read (at least one record is read when any is
    /// available).
    pub fn read(
        &self,
        cursor: u64,
        end: u64,
        count: usize,
        max_bytes: usize,
    ) -> Result<Vec<Record>, StoreError> {
        let mut plan: Vec<(u64, Arc<File>, Entry)> = Vec::new();
        {
            let st = self.read_state();
            st.check(cursor)?;
            let end = end.min(st.next);
            let mut bytes = 0usize;
            let mut c = cursor;
            while c < end && plan.len() < count && (plan.is_empty() || bytes < max_bytes) {
                let Some((s, i)) = st.locate(c) else {
                    return Err(gone(c));
                };
                let seg = &st.segments[s];
                for e in &seg.entries[i..] {
                    if c >= end || plan.len() >= count || (!plan.is_empty() && bytes >= max_bytes) {
                        break;
                    }
                    bytes += e.len as usize;
                    plan.push((c, seg.file.clone(), *e));
                    c += 1;
                }
            }
        }
        plan.into_iter()
            .map(|(cursor, file, e)| {
                let mut bytes = vec![0; e.len as usize];
                file.read_exact_at(&mut bytes, e.offset)?;
                Ok(Record {
                    cursor,
                    received: e.received,
                    bytes,
                })
            })
            .collect()
    }

    /// Deletes segments whose newest record was received before `cutoff`.
    fn expire(&self, cutoff: u64) -> io::Result<usize> {
        let mut st = self.write_state();
        let mut deleted = 0;
        while let Some(s) = st.segments.first() {
            let expired = s.entries.last().is_some_and(|e| e.received < cutoff);
            if !expired {
                break;
            }
            if st.segments.len() == 1 {
                // The active segment: start a fresh one at the end cursor first.
                let next = st.next;
                st.segments
                    .push(Segment::create(&self.dir, next, self.fsync)?);
            }
            let s = st.segments.remove(0);
            fs::remove_file(&s.path)?;
            deleted += 1;
        }
        if deleted > 0 {
            sync_dir(&self.dir, self.fsync)?;
        }
        Ok(deleted)
    }
}

fn gone(cursor: u64) -> StoreError {
    StoreError::InvalidCursor(format!("cursor {cursor} is no longer retained"))
}

impl ShardState {
    fn check(&self, cursor: u64) -> Result<(), StoreError> {
        let begin = self.segments.first().map_or(self.next, |s| s.first);
        if cursor < begin {
            return Err(StoreError::InvalidCursor(format!(
                "cursor {cursor} is before the oldest retained data (cursor {begin}); it may have expired"
            )));
        }
        if cursor > self.next {
            return Err(StoreError::InvalidCursor(format!(
                "cursor {cursor} is after the end of the shard (cursor {})",
                self.next
            )));
        }
        Ok(())
    }

    /// (segment index, entry index) of a cursor below `next`.
    fn locate(&self, cursor: u64) -> Option<(usize, usize)> {
        let s = self
            .segments
            .partition_point(|s| s.first <= cursor)
            .checked_sub(1)?;
        let i = usize::try_from(cursor - self.segments[s].first).ok()?;
        (i < self.segments[s].entries.len()).then_some((s, i))
    }
}

impl Segment {
    fn create(dir: &Path, first: u64, fsync: Fsync) -> io::Result<Segment> {
        let path = dir.join(format!("{first:020}.seg"));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        if fsync == Fsync::Always {
            file.sync_all()?;
        }
        sync_dir(dir, fsync)?;
        Ok(Segment {
            first,
            path,
            file: Arc::new(file),
            len: 0,
            entries: Vec::new(),
        })
    }

    /// Opens a segment and indexes its records; `verify` checks every CRC and truncates a bad
    /// tail (the last segment); otherwise only the record structure is checked.
    fn open(first: u64, path: PathBuf, verify: bool, max_record: usize) -> io::Result<Segment> {
        let file = OpenOptions::new().read(true).write(true).open(&path)?;
        let size = file.metadata()?.len();
        let mut entries = Vec::new();
        let mut pos = 0u64;
        let mut header = [0u8; HEADER];
        let mut payload = Vec::new();
        while pos + HEADER as u64 <= size {
            file.read_exact_at(&mut header, pos)?;
            let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
            let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
            let mut t = [0u8; 8];
            t.copy_from_slice(&header[8..16]);
            let received = u64::from_le_bytes(t);
            let end = pos + HEADER as u64 + u64::from(len);
            if len as usize > max_record.max(1) || end > size {
                break;
            }
            if verify {
                payload.resize(len as usize, 0);
                file.read_exact_at(&mut payload, pos + HEADER as u64)?;
                let mut h = crc32fast::Hasher::new();
                h.update(&t);
                h.update(&payload);
                if h.finalize() != crc {
                    break;
                }
            }
            entries.push(Entry {
                offset: pos + HEADER as u64,
                len,
                received,
            });
            pos = end;
        }
        if pos < size {
            // A torn or corrupt tail: cut it off so appends continue from a valid record.
            file.set_len(pos)?;
            file.sync_all()?;
        }
        Ok(Segment {
            first,
            path,
            file: Arc::new(file),
            len: pos,
            entries,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "spl-loghub-store-{name}-{}-{}",
            std::process::id(),
            now_nanos()
        ));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn appends_survive_reopen_and_a_torn_tail_is_truncated() {
        let dir = temp_dir("reopen");
        let config = StoreConfig::new(&dir);
        let (first, path) = {
            let store = Store::open(config.clone()).unwrap();
            let ls = store.logstore_or_create("proj", "logs").unwrap();
            let shard = ls.shard(1).unwrap();
            let first = shard.append(b"one").unwrap();
            assert_eq!(shard.append(b"two").unwrap(), first + 1);
            let path = shard.read_state().segments[0].path.clone();
            (first, path)
        };
        // Simulate a crash in the middle of a third record.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&[9, 0, 0, 0, 1, 2]).unwrap();
        drop(f);
        let store = Store::open(config).unwrap();
        let ls = store.logstore("proj", "logs").unwrap();
        assert_eq!(ls.shards().len(), 2);
        let shard = ls.shard(1).unwrap();
        assert_eq!((shard.begin(), shard.end()), (first, first + 2));
        let recs = shard.read(first, u64::MAX, 10, usize::MAX).unwrap();
        let bytes: Vec<&[u8]> = recs.iter().map(|r| &r.bytes[..]).collect();
        assert_eq!(bytes, vec![&b"one"[..], &b"two"[..]]);
        assert_eq!(shard.append(b"three").unwrap(), first + 2);
        assert_eq!(
            shard.read(first + 2, u64::MAX, 10, 0).unwrap()[0].bytes,
            b"three"
        );
        assert!(matches!(
            store.logstore("proj", "other"),
            Err(StoreError::LogstoreNotFound)
        ));
        assert!(matches!(
            store.logstore("proj", "../x"),
            Err(StoreError::InvalidName(_))
        ));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn reads_stop_at_count_end_and_bytes_and_segments_roll() {
        let dir = temp_dir("read");
        let mut config = StoreConfig::new(&dir);
        config.segment_bytes = 40; // a few records per segment
        config.fsync = Fsync::Never;
        let store = Store::open(config).unwrap();
        let ls = store.logstore_or_create("proj", "logs").unwrap();
        let shard = ls.shard(0).unwrap();
        let cursors: Vec<u64> = (0..10)
            .map(|i| shard.append(format!("record-{i}").as_bytes()).unwrap())
            .collect();
        let first = cursors[0];
        assert_eq!(cursors[9], first + 9);
        assert!(shard.read_state().segments.len() > 2);
        let all = shard.read(first, u64::MAX, 1000, usize::MAX).unwrap();
        assert_eq!(all.len(), 10);
        assert_eq!(all[7].bytes, b"record-7");
        assert_eq!(all[7].cursor, first + 7);
        assert_eq!(
            shard
                .read(first + 3, first + 5, 1000, usize::MAX)
                .unwrap()
                .len(),
            2
        );
        assert_eq!(shard.read(first, u64::MAX, 4, usize::MAX).unwrap().len(), 4);
        assert_eq!(shard.read(first, u64::MAX, 1000, 16).unwrap().len(), 2);
        assert_eq!(shard.read(first + 10, u64::MAX, 1000, 1).unwrap().len(), 0);
        assert!(matches!(
            shard.read(first + 11, u64::MAX, 1, 1),
            Err(StoreError::InvalidCursor(_))
        ));
        assert!(matches!(
            shard.read(first - 1, u64::MAX, 1, 1),
            Err(StoreError::InvalidCursor(_))
        ));
        assert_eq!(shard.cursor_at(0), first);
        assert_eq!(shard.cursor_at(u64::MAX), first + 10);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn expired_segments_are_deleted_and_their_cursors_become_invalid() {
        let dir = temp_dir("ttl");
        let mut config = StoreConfig::new(&dir);
        config.segment_bytes = 1;
        config.ttl = Some(Duration::from_secs(60));
        let store = Store::open(config).unwrap();
        let ls = store.logstore_or_create("proj", "logs").unwrap();
        let shard = ls.shard(0).unwrap();
        let first = shard.append(b"a").unwrap();
        shard.append(b"b").unwrap();
        assert_eq!(store.expire(now_secs()).unwrap(), 0);
        // Two hours later every segment is past the TTL.
        assert_eq!(store.expire(now_secs() + 7200).unwrap(), 2);
        assert_eq!(shard.begin(), first + 2);
        assert_eq!(shard.end(), first + 2);
        assert!(matches!(
            shard.read(first, u64::MAX, 1, 1),
            Err(StoreError::InvalidCursor(_))
        ));
        assert_eq!(shard.append(b"c").unwrap(), first + 2);
        drop(store);
        let store = Store::open(StoreConfig::new(&dir)).unwrap();
        let shard_begin = store
            .logstore("proj", "logs")
            .unwrap()
            .shard(0)
            .unwrap()
            .begin();
        assert_eq!(shard_begin, first + 2);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn hash_ranges_split_the_key_space_for_any_shard_count() {
        for n in 1..=256u32 {
            assert_eq!(hash_begin(0, n), 0);
            for id in 1..n {
                assert!(hash_begin(id, n) > hash_begin(id - 1, n), "{n} shards");
            }
            // Ranges are equal to within one key.
            let width = |id: u32| {
                let end = if id + 1 == n {
                    u128::MAX
                } else {
                    hash_begin(id + 1, n) - 1
                };
                end - hash_begin(id, n)
            };
            assert!(width(0).abs_diff(width(n - 1)) <= 1, "{n} shards");
        }
        assert_eq!(hash_begin(1, 2), 1u128 << 127);
    }

    #[test]
    fn hash_ranges_cover_the_key_space_and_route() {
        let dir = temp_dir("hash");
        let mut config = StoreConfig::new(&dir);
        config.default_shards = 3;
        let store = Store::open(config).unwrap();
        let ls = store.logstore_or_create("proj", "logs").unwrap();
        assert_eq!(ls.hash_range(0).0, "0".repeat(32));
        assert_eq!(ls.hash_range(0).1, ls.hash_range(1).0);
        assert_eq!(ls.hash_range(2).1, "f".repeat(32));
        assert_eq!(ls.route(&"0".repeat(32)).unwrap().id, 0);
        assert_eq!(ls.route(&"f".repeat(32)).unwrap().id, 2);
        assert_eq!(ls.route(&ls.hash_range(1).0).unwrap().id, 1);
        assert!(ls.route("xyz").is_none());
        fs::remove_dir_all(&dir).unwrap();
    }
}
