//! Consumer groups of one logstore: their settings and checkpoints (durable, one JSON file per
//! group), and the heartbeat protocol that spreads the shards over the group's live consumers.
//!
//! **Membership.** A consumer joins with its first heartbeat and is *live* while heartbeats
//! arrive within the group's `timeout` (seconds). A dead consumer stops counting for the balance
//! at once, but the shards it held stay blocked for one more of its heartbeat intervals (as
//! observed, at most `timeout`): the SDKs keep working a shard until `timeout + interval` after
//! their last successful heartbeat.
//!
//! **Assignment.** Each live consumer's share is `shards / live` (the first `shards % live`
//! consumers, by shards owned then name, get one more). A consumer over its share has the excess
//! taken away (the shards it does not report yet first, then the highest ids). A shard is granted
//! to a consumer, at that consumer's heartbeat, only when no other consumer *holds* it: a
//! consumer holds the shards its last heartbeat reported plus those its last answer assigned. So a
//! shard moves only after its previous holder stopped reporting it (the SDKs do that once they
//! have shut the shard's worker down and saved its checkpoint), and no row is processed twice by a
//! rebalance.
//!
//! **Restart.** Membership is not stored. For `timeout` seconds after a group is loaded from disk
//! a consumer is granted only shards it reports itself, because consumers from before the restart
//! may still be working on theirs; after that the group balances as usual.
//!
//! **Checkpoints.** A checkpoint is stored per shard with its consumer and update time
//! (microseconds). An update is refused with `ConsumerNotMatch` while another live consumer
//! owns the shard (a consumer that lost the shard cannot move it back); without `forceSuccess`
//! the consumer must also hold the shard (`ConsumerNotExsit` when it is not in the group).
//!
//! Shards here have no parents (no split or merge), so `order` is stored and returned but
//! changes nothing.
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::durable::{write_atomic, Fsync};
use crate::names::rule_name;

/// Largest group timeout, in seconds (one day).
pub const MAX_TIMEOUT_SECS: u64 = 86_400;

/// Why a consumer-group call failed.
#[derive(Debug)]
pub enum GroupError {
    NotFound,
    Exists,
    /// The group name breaks the naming rules (the message says which).
    InvalidName(String),
    /// A parameter is out of range (the message says which).
    Invalid(String),
    /// The consumer is not in the group (checkpoint without `forceSuccess`).
    ConsumerNotExist,
    /// Another consumer owns the shard, or this one does not hold it.
    ConsumerNotMatch(String),
    ShardNotFound,
    Io(io::Error),
}

impl From<io::Error> for GroupError {
    fn from(e: io::Error) -> Self {
        GroupError::Io(e)
    }
}

/// A group's settings as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInfo {
    pub name: String,
    pub timeout: u64,
    pub order: bool,
}

/// A stored checkpoint (empty `cursor` when none was stored).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Checkpoint {
    pub shard: u32,
    pub cursor: String,
    /// Unix time in microseconds (0 when none was stored).
    pub update_time: u64,
    pub consumer: String,
}

/// The consumer groups of one logstore.
#[derive(Debug)]
pub struct Groups {
    dir: PathBuf,
    shards: u32,
    fsync: Fsync,
    groups: Mutex<BTreeMap<String, Group>>,
}

#[derive(Debug)]
struct Group {
    timeout: u64,
    order: bool,
    created: u64,
    checkpoints: BTreeMap<u32, Checkpoint>,
    members: BTreeMap<String, Member>,
    /// shard → the consumer it is assigned to.
    owner: BTreeMap<u32, String>,
    /// Until then only reported shards are granted (the group was loaded from disk).
    grace_until: Option<Instant>,
}

#[derive(Debug)]
struct Member {
    last: Instant,
    /// Time between its last two heartbeats.
    gap: Duration,
    /// Shards its last heartbeat reported.
    reported: BTreeSet<u32>,
    /// Reported plus last assigned: what it may be working on.
    held: BTreeSet<u32>,
}

/// Consumer group names: 2–128 of `a-z 0-9 _ -`, starting and ending with a letter or digit.
pub fn valid_group_name(name: &str) -> bool {
    rule_name(name, 2..=128, b"_-")
}

/// Consumer names: 1–256 bytes of text without control characters.
pub fn valid_consumer_name(name: &str) -> bool {
    (1..=256).contains(&name.len()) && !name.chars().any(char::is_control)
}

fn micros_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

impl Groups {
    /// Loads the groups stored under `dir` (missing: none) for a logstore of `shards` shards.
    pub fn open(dir: PathBuf, shards: u32, fsync: Fsync) -> io::Result<Groups> {
        let mut groups = BTreeMap::new();
        let now = Instant::now();
        match fs::read_dir(&dir) {
            Ok(entries) => {
                for e in entries.filter_map(|e| e.ok()) {
                    let path = e.path();
                    let Some(name) = path
                        .file_name()
                        .and_then(|n| n.to_str())
                        .and_then(|n| n.strip_suffix(".json"))
                        .filter(|n| valid_group_name(n))
                        .map(str::to_string)
                    else {
                        continue;
                    };
                    let mut g = read_group(&path)?;
                    g.grace_until = Some(now + Duration::from_secs(g.timeout));
                    groups.insert(name, g);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        Ok(Groups {
            dir,
            shards,
            fsync,
            groups: Mutex::new(groups),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Group>> {
        self.groups.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn save(&self, name: &str, g: &Group) -> io::Result<()> {
        if !self.dir.exists() {
            // Not `create_dir_all`: a logstore deleted meanwhile must not come back as a
            // directory holding only this group.
            match fs::create_dir(&self.dir) {
                Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e),
                _ => {}
            }
            if let Some(parent) = self.dir.parent() {
                if self.fsync == Fsync::Always {
                    fs::File::open(parent)?.sync_all()?;
                }
            }
        }
        let checkpoints: Vec<serde_json::Value> = g
            .checkpoints
            .values()
            .map(|c| {
                serde_json::json!({
                    "shard": c.shard,
                    "checkpoint": c.cursor,
                    "updateTime": c.update_time,
                    "consumer": c.consumer,
                })
            })
            .collect();
        let v = serde_json::json!({
            "consumerGroup": name,
            "timeout": g.timeout,
            "order": g.order,
            "createTime": g.created,
            "checkpoints": checkpoints,
        });
        write_atomic(
            &self.dir.join(format!("{name}.json")),
            v.to_string().as_bytes(),
            self.fsync,
        )
    }

    /// CreateConsumerGroup.
    pub fn create(&self, name: &str, timeout: u64, order: bool) -> Result<(), GroupError> {
        check_name(name)?;
        check_timeout(timeout)?;
        let mut groups = self.lock();
        if groups.contains_key(name) {
            return Err(GroupError::Exists);
        }
        let g = Group {
            timeout,
            order,
            created: micros_now() / 1_000_000,
            checkpoints: BTreeMap::new(),
            members: BTreeMap::new(),
            owner: BTreeMap::new(),
            grace_until: None,
        };
        self.save(name, &g)?;
        groups.insert(name.to_string(), g);
        Ok(())
    }

    /// UpdateConsumerGroup: a new timeout and/or order.
    pub fn update(
        &self,
        name: &str,
        timeout: Option<u64>,
        order: Option<bool>,
    ) -> Result<(), GroupError> {
        if let Some(t) = timeout {
            check_timeout(t)?;
        }
        let mut groups = self.lock();
        let g = groups.get_mut(name).ok_or(GroupError::NotFound)?;
        let before = (g.timeout, g.order);
        g.timeout = timeout.unwrap_or(g.timeout);
        g.order = order.unwrap_or(g.order);
        if let Err(e) = self.save(name, g) {
            (g.timeout, g.order) = before;
            return Err(e.into());
        }
        Ok(())
    }

    /// DeleteConsumerGroup (its checkpoints go with it).
    pub fn delete(&self, name: &str) -> Result<(), GroupError> {
        let mut groups = self.lock();
        if !groups.contains_key(name) {
            return Err(GroupError::NotFound);
        }
        fs::remove_file(self.dir.join(format!("{name}.json")))?;
        if self.fsync == Fsync::Always {
            fs::File::open(&self.dir)?.sync_all()?;
        }
        groups.remove(name);
        Ok(())
    }

    /// ListConsumerGroup, by name.
    pub fn list(&self) -> Vec<GroupInfo> {
        self.lock()
            .iter()
            .map(|(name, g)| GroupInfo {
                name: name.clone(),
                timeout: g.timeout,
                order: g.order,
            })
            .collect()
    }

    /// GetCheckPoint: one entry per shard (or for `shard` only; none when it does not exist),
    /// with an empty cursor where none was stored.
    pub fn checkpoints(
        &self,
        name: &str,
        shard: Option<u32>,
    ) -> Result<Vec<Checkpoint>, GroupError> {
        let groups = self.lock();
        let g = groups.get(name).ok_or(GroupError::NotFound)?;
        let ids: Vec<u32> = match shard {
            Some(s) if s < self.shards => vec![s],
            Some(_) => Vec::new(),
            None => (0..self.shards).collect(),
        };
        Ok(ids
            .into_iter()
            .map(|s| {
                g.checkpoints.get(&s).cloned().unwrap_or(Checkpoint {
                    shard: s,
                    ..Checkpoint::default()
                })
            })
            .collect())
    }

    /// ConsumerGroupUpdateCheckPoint (the cursor was checked by the caller).
    pub fn update_checkpoint(
        &self,
        name: &str,
        consumer: &str,
        force: bool,
        shard: u32,
        cursor: &str,
        now: Instant,
    ) -> Result<(), GroupError> {
        if shard >= self.shards {
            return Err(GroupError::ShardNotFound);
        }
        let mut groups = self.lock();
        let g = groups.get_mut(name).ok_or(GroupError::NotFound)?;
        if consumer.is_empty() && !force {
            return Err(GroupError::Invalid(
                "a checkpoint without `consumer` needs forceSuccess=true".to_string(),
            ));
        }
        if !consumer.is_empty() {
            let timeout = Duration::from_secs(g.timeout);
            if let Some(owner) = g.owner.get(&shard).filter(|o| *o != consumer) {
                let live = g
                    .members
                    .get(owner)
                    .is_some_and(|m| now.saturating_duration_since(m.last) <= timeout);
                if live {
                    return Err(GroupError::ConsumerNotMatch(format!(
                        "shard {shard} is assigned to consumer `{owner}`, not `{consumer}`"
                    )));
                }
            }
            if !force {
                let m = g
                    .members
                    .get(consumer)
                    .ok_or(GroupError::ConsumerNotExist)?;
                if !m.held.contains(&shard) {
                    return Err(GroupError::ConsumerNotMatch(format!(
                        "consumer `{consumer}` does not hold shard {shard}"
                    )));
                }
            }
        }
        let before = g.checkpoints.insert(
            shard,
            Checkpoint {
                shard,
                cursor: cursor.to_string(),
                update_time: micros_now(),
                consumer: consumer.to_string(),
            },
        );
        if let Err(e) = self.save(name, g) {
            match before {
                Some(c) => g.checkpoints.insert(shard, c),
                None => g.checkpoints.remove(&shard),
            };
            return Err(e.into());
        }
        Ok(())
    }

    /// ConsumerGroupHeartBeat: `consumer` reports the shards it holds; the answer is the shards
    /// assigned to it, ascending. Reported ids that are not shards are ignored.
    pub fn heartbeat(
        &self,
        name: &str,
        consumer: &str,
        reported: &[i64],
        now: Instant,
    ) -> Result<Vec<u32>, GroupError> {
        let mut groups = self.lock();
        let g = groups.get_mut(name).ok_or(GroupError::NotFound)?;
        let reported: BTreeSet<u32> = reported
            .iter()
            .filter_map(|&s| u32::try_from(s).ok())
            .filter(|&s| s < self.shards)
            .collect();
        Ok(g.heartbeat(consumer, reported, self.shards, now))
    }
}

impl Group {
    fn heartbeat(
        &mut self,
        consumer: &str,
        reported: BTreeSet<u32>,
        shards: u32,
        now: Instant,
    ) -> Vec<u32> {
        let timeout = Duration::from_secs(self.timeout);
        let age = |m: &Member| now.saturating_duration_since(m.last);
        // Forget consumers past their timeout and linger; dead consumers own nothing.
        self.members
            .retain(|name, m| name == consumer || age(m) <= timeout + m.gap.min(timeout));
        let dead: BTreeSet<String> = self
            .members
            .iter()
            .filter(|(name, m)| *name != consumer && age(m) > timeout)
            .map(|(name, _)| name.clone())
            .collect();
        let members = &self.members;
        self.owner
            .retain(|_, o| members.contains_key(o.as_str()) && !dead.contains(o.as_str()));

        let me = self
            .members
            .entry(consumer.to_string())
            .or_insert_with(|| Member {
                last: now,
                gap: Duration::ZERO,
                reported: BTreeSet::new(),
                held: BTreeSet::new(),
            });
        me.gap = now.saturating_duration_since(me.last);
        me.last = now;
        me.reported = reported.clone();
        me.held = reported.clone();

        // Shares: live consumers ranked by shards owned (most first), then name.
        let mut owned: BTreeMap<&str, Vec<u32>> = self
            .members
            .keys()
            .filter(|n| !dead.contains(n.as_str()))
            .map(|n| (n.as_str(), Vec::new()))
            .collect();
        for (&s, o) in &self.owner {
            if let Some(v) = owned.get_mut(o.as_str()) {
                v.push(s);
            }
        }
        let mut ranked: Vec<(&str, usize)> = owned.iter().map(|(n, v)| (*n, v.len())).collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let live = ranked.len().max(1);
        let (base, extra) = (shards as usize / live, shards as usize % live);
        let share: BTreeMap<String, usize> = ranked
            .iter()
            .enumerate()
            .map(|(i, (n, _))| (n.to_string(), base + usize::from(i < extra)))
            .collect();

        // Take the excess away: shards the owner does not report yet first, then the highest.
        let mut release = Vec::new();
        for (name, list) in &owned {
            let keep = share.get(*name).copied().unwrap_or(0);
            if list.len() > keep {
                let m = &self.members[*name];
                let mut l = list.clone();
                l.sort_by_key(|s| (m.reported.contains(s), std::cmp::Reverse(*s)));
                release.extend(l.into_iter().take(list.len() - keep));
            }
        }
        for s in release {
            self.owner.remove(&s);
        }

        // Grant free shards up to the share: reported ones first, then by id; never a shard
        // another consumer holds; in the grace period only reported ones.
        let in_grace = self.grace_until.is_some_and(|t| now < t);
        if !in_grace {
            self.grace_until = None;
        }
        let mine = share.get(consumer).copied().unwrap_or(0);
        let have = self.owner.values().filter(|o| *o == consumer).count();
        let held_by_others: BTreeSet<u32> = self
            .members
            .iter()
            .filter(|(n, _)| *n != consumer)
            .flat_map(|(_, m)| m.held.iter().copied())
            .collect();
        let mut candidates: Vec<u32> = (0..shards)
            .filter(|s| !self.owner.contains_key(s) && !held_by_others.contains(s))
            .filter(|s| !in_grace || reported.contains(s))
            .collect();
        candidates.sort_by_key(|s| (!reported.contains(s), *s));
        for s in candidates.into_iter().take(mine.saturating_sub(have)) {
            self.owner.insert(s, consumer.to_string());
        }

        let answer: Vec<u32> = self
            .owner
            .iter()
            .filter(|(_, o)| *o == consumer)
            .map(|(&s, _)| s)
            .collect();
        if let Some(me) = self.members.get_mut(consumer) {
            me.held.extend(answer.iter().copied());
        }
        answer
    }
}

fn check_name(name: &str) -> Result<(), GroupError> {
    if valid_group_name(name) {
        Ok(())
    } else {
        Err(GroupError::InvalidName(format!(
            "consumer group `{name}`: 2 to 128 of a-z, 0-9, `_` and `-`, starting and ending with a letter or digit"
        )))
    }
}

fn check_timeout(timeout: u64) -> Result<(), GroupError> {
    if (1..=MAX_TIMEOUT_SECS).contains(&timeout) {
        Ok(())
    } else {
        Err(GroupError::Invalid(format!(
            "`timeout` must be 1 to {MAX_TIMEOUT_SECS} seconds, not {timeout}"
        )))
    }
}

fn read_group(path: &Path) -> io::Result<Group> {
    let bad = |what: &str| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {what}", path.display()),
        )
    };
    let v: serde_json::Value =
        serde_json::from_slice(&fs::read(path)?).map_err(|e| bad(&e.to_string()))?;
    let timeout = v["timeout"]
        .as_u64()
        .filter(|t| (1..=MAX_TIMEOUT_SECS).contains(t))
        .ok_or_else(|| bad("no valid timeout"))?;
    let mut checkpoints = BTreeMap::new();
    for c in v["checkpoints"].as_array().into_iter().flatten() {
        let shard = c["shard"]
            .as_u64()
            .and_then(|s| u32::try_from(s).ok())
            .ok_or_else(|| bad("a checkpoint without a shard"))?;
        checkpoints.insert(
            shard,
            Checkpoint {
                shard,
                cursor: c["checkpoint"].as_str().unwrap_or("").to_string(),
                update_time: c["updateTime"].as_u64().unwrap_or(0),
                consumer: c["consumer"].as_str().unwrap_or("").to_string(),
            },
        );
    }
    Ok(Group {
        timeout,
        order: v["order"].as_bool().unwrap_or(false),
        created: v["createTime"].as_u64().unwrap_or(0),
        checkpoints,
        members: BTreeMap::new(),
        owner: BTreeMap::new(),
        grace_until: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(name: &str, shards: u32) -> (Groups, PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "spl-loghub-cg-{name}-{}-{}",
            std::process::id(),
            micros_now()
        ));
        fs::create_dir_all(&dir).unwrap();
        (
            Groups::open(dir.join("consumergroups"), shards, Fsync::Never).unwrap(),
            dir,
        )
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn shards_spread_and_move_only_after_their_holder_lets_go() {
        let (g, dir) = groups("spread", 4);
        g.create("cg", 10, false).unwrap();
        let t0 = Instant::now();
        assert_eq!(g.heartbeat("cg", "a", &[], t0).unwrap(), vec![0, 1, 2, 3]);
        // b joins: nothing is free yet, a is told to give up two shards.
        assert_eq!(
            g.heartbeat("cg", "b", &[], t0 + secs(1)).unwrap(),
            Vec::<u32>::new()
        );
        assert_eq!(
            g.heartbeat("cg", "a", &[0, 1, 2, 3], t0 + secs(2)).unwrap(),
            vec![0, 1]
        );
        // a still reports 2 and 3 (its workers are shutting down): b still waits.
        assert_eq!(
            g.heartbeat("cg", "b", &[], t0 + secs(3)).unwrap(),
            Vec::<u32>::new()
        );
        assert_eq!(
            g.heartbeat("cg", "a", &[0, 1, 2, 3], t0 + secs(4)).unwrap(),
            vec![0, 1]
        );
        // a let go of 3 only: b gets 3, then 2 once a stops reporting it.
        assert_eq!(
            g.heartbeat("cg", "a", &[0, 1, 2], t0 + secs(5)).unwrap(),
            vec![0, 1]
        );
        assert_eq!(g.heartbeat("cg", "b", &[], t0 + secs(6)).unwrap(), vec![3]);
        assert_eq!(
            g.heartbeat("cg", "a", &[0, 1], t0 + secs(7)).unwrap(),
            vec![0, 1]
        );
        assert_eq!(
            g.heartbeat("cg", "b", &[3], t0 + secs(8)).unwrap(),
            vec![2, 3]
        );
        // a dies: after the timeout b counts alone, after a's interval more its shards move.
        assert_eq!(
            g.heartbeat("cg", "a", &[0, 1], t0 + secs(9)).unwrap(),
            vec![0, 1]
        );
        assert_eq!(
            g.heartbeat("cg", "b", &[2, 3], t0 + secs(20)).unwrap(),
            vec![2, 3]
        );
        assert_eq!(
            g.heartbeat("cg", "b", &[2, 3], t0 + secs(21)).unwrap(),
            vec![2, 3],
            "a held 0 and 1 until one interval (2 s) past its timeout"
        );
        assert_eq!(
            g.heartbeat("cg", "b", &[2, 3], t0 + secs(22)).unwrap(),
            vec![0, 1, 2, 3]
        );
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn checkpoints_are_durable_and_guarded() {
        let (g, dir) = groups("ckpt", 2);
        assert!(matches!(
            g.create("X", 10, false),
            Err(GroupError::InvalidName(_))
        ));
        assert!(matches!(
            g.create("cg", 0, false),
            Err(GroupError::Invalid(_))
        ));
        g.create("cg", 10, true).unwrap();
        assert!(matches!(g.create("cg", 10, true), Err(GroupError::Exists)));
        let t0 = Instant::now();
        let empty = g.checkpoints("cg", None).unwrap();
        assert_eq!(empty.len(), 2);
        assert!(empty.iter().all(|c| c.cursor.is_empty()));
        assert_eq!(g.heartbeat("cg", "a", &[], t0).unwrap(), vec![0, 1]);
        g.update_checkpoint("cg", "a", false, 1, "MTA=", t0)
            .unwrap();
        assert!(matches!(
            g.update_checkpoint("cg", "b", true, 1, "MTE=", t0),
            Err(GroupError::ConsumerNotMatch(_))
        ));
        assert!(matches!(
            g.update_checkpoint("cg", "b", false, 1, "MTE=", t0 + secs(30)),
            Err(GroupError::ConsumerNotExist)
        ));
        assert!(matches!(
            g.update_checkpoint("cg", "a", true, 2, "MTE=", t0),
            Err(GroupError::ShardNotFound)
        ));
        g.update("cg", Some(20), None).unwrap();
        let again = Groups::open(dir.join("consumergroups"), 2, Fsync::Never).unwrap();
        assert_eq!(
            again.list(),
            vec![GroupInfo {
                name: "cg".into(),
                timeout: 20,
                order: true
            }]
        );
        let c = again.checkpoints("cg", Some(1)).unwrap();
        assert_eq!(
            (c[0].cursor.as_str(), c[0].consumer.as_str()),
            ("MTA=", "a")
        );
        assert!(again.checkpoints("cg", Some(5)).unwrap().is_empty());
        // After a restart only reported shards are granted until the timeout has passed.
        let t1 = Instant::now();
        assert_eq!(again.heartbeat("cg", "b", &[1], t1).unwrap(), vec![1]);
        assert_eq!(
            again.heartbeat("cg", "b", &[1], t1 + secs(21)).unwrap(),
            vec![0, 1]
        );
        again.delete("cg").unwrap();
        assert!(matches!(again.delete("cg"), Err(GroupError::NotFound)));
        assert!(Groups::open(dir.join("consumergroups"), 2, Fsync::Never)
            .unwrap()
            .list()
            .is_empty());
        fs::remove_dir_all(dir).unwrap();
    }
}
