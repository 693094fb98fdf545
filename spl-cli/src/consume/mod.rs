//! `spl consume`: a consumer-group worker. It creates the group when missing, heartbeats, pulls
//! the shards the heartbeat assigns it (with the SPL pushed down as `query`, or run here with
//! `--local`), writes the rows, and checkpoints each shard only after its rows are written and
//! flushed (at-least-once: a worker killed between the two leaves at most its last batch per
//! shard to be read again by the next holder). Shards no longer assigned are checkpointed and
//! released; SIGINT/SIGTERM stop it after the batch in hand, with a final checkpoint. A call
//! that fails for a reason that may pass (no connection, HTTP 5xx, 429 throttling) is retried
//! with backoff for up to `--retry-for`, so a server restart or a network blip costs a wait,
//! not the worker; other refusals end it with the service's error.
mod args;
mod output;
mod signal;

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use prost::Message;
use spl_engine::pipeline::{Options, Profile};
use spl_engine::pushdown::Pushdown;
use spl_loghub::client::{Client, Response};
use spl_loghub::proto::{LogGroup, LogGroupList};

pub use args::{ConsumeArgs, ConsumeConfig};
use output::Sink;

/// One held shard: the next cursor to read and the last one checkpointed.
struct Held {
    cursor: String,
    saved: String,
}

#[derive(Default)]
struct Stats {
    pulls: u64,
    groups: u64,
    rows: u64,
    checkpoints: u64,
    acquired: u64,
    released: u64,
}

struct Worker<'a> {
    cfg: &'a ConsumeConfig,
    stop: &'a AtomicBool,
    client: Client,
    group_path: String,
    local: Option<Pushdown>,
    sink: Sink,
    held: BTreeMap<u32, Held>,
    stats: Stats,
}

pub fn run(cfg: ConsumeConfig) -> ExitCode {
    match consume(&cfg) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn consume(cfg: &ConsumeConfig) -> Result<(), String> {
    let stop = signal::stop_flag()?;
    let local = match (&cfg.query, cfg.local) {
        (Some(q), true) => Some(
            Pushdown::with_options(q, &Options::new(Profile::Consumer))
                .map_err(|d| d.render("query", q, false).trim_end().to_string())?,
        ),
        _ => None,
    };
    let mut w = Worker {
        cfg,
        stop: &stop,
        client: Client::new(&cfg.endpoint, &cfg.project, cfg.key.clone())?,
        group_path: format!("/logstores/{}/consumergroups/{}", cfg.logstore, cfg.group),
        local,
        sink: Sink::new(cfg.output_dir.clone())?,
        held: BTreeMap::new(),
        stats: Stats::default(),
    };
    w.create_group()?;
    let result = w.work();
    // Final checkpoint of what was written, also after an error.
    let saved = w.save_all();
    if cfg.stats || stop.load(Ordering::SeqCst) {
        let s = &w.stats;
        eprintln!(
            "consumer {}: stopped; {} pulls, {} groups, {} rows, {} checkpoints, {} shards acquired, {} released",
            cfg.consumer, s.pulls, s.groups, s.rows, s.checkpoints, s.acquired, s.released
        );
    }
    result.and(saved)
}

impl Worker<'_> {
    /// One request, retried with backoff while it fails for a reason that may pass (no
    /// connection, HTTP 5xx, 429) and `--retry-for` allows; never retried once stopping.
    fn call(
        &self,
        method: &str,
        path: &str,
        params: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Response, String> {
        let started = Instant::now();
        let mut delay = Duration::from_millis(100);
        loop {
            let outcome = self.client.request(method, path, params, body);
            let why = match &outcome {
                Err(e) => e.clone(),
                Ok(r) if r.status == 429 || r.status >= 500 => r.error_text(),
                Ok(_) => return outcome,
            };
            let stopping = self.stop.load(Ordering::SeqCst);
            if stopping || started.elapsed() + delay > self.cfg.retry_for {
                return match outcome {
                    Err(e) if !stopping && !self.cfg.retry_for.is_zero() => Err(format!(
                        "{e} (retried for {} s)",
                        started.elapsed().as_secs()
                    )),
                    other => other,
                };
            }
            eprintln!(
                "consumer {}: {method} {path} failed ({why}); retrying in {:.1} s",
                self.cfg.consumer,
                delay.as_secs_f64()
            );
            let until = Instant::now() + delay;
            while Instant::now() < until && !self.stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(20));
            }
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    }

    fn create_group(&self) -> Result<(), String> {
        let body = serde_json::json!({
            "consumerGroup": self.cfg.group,
            "timeout": self.cfg.timeout,
            "order": false,
        })
        .to_string();
        let path = format!("/logstores/{}/consumergroups", self.cfg.logstore);
        let r = self.call("POST", &path, &[], body.as_bytes())?;
        if r.status == 200 || r.error_code().as_deref() == Some("ConsumerGroupAlreadyExist") {
            Ok(())
        } else {
            Err(format!(
                "cannot create consumer group `{}`: {}",
                self.cfg.group,
                r.error_text()
            ))
        }
    }

    fn work(&mut self) -> Result<(), String> {
        let stop = self.stop;
        let mut next_beat = Instant::now();
        while !stop.load(Ordering::SeqCst) {
            if Instant::now() >= next_beat {
                self.heartbeat()?;
                next_beat = Instant::now() + self.cfg.heartbeat_interval;
            }
            let mut progressed = false;
            let shards: Vec<u32> = self.held.keys().copied().collect();
            for shard in shards {
                if stop.load(Ordering::SeqCst) || Instant::now() >= next_beat {
                    break;
                }
                progressed |= self.pull_once(shard)?;
            }
            if !progressed {
                // Idle: wait for data or the next heartbeat, a little at a time.
                let until = next_beat.min(Instant::now() + Duration::from_millis(200));
                while Instant::now() < until && !stop.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        }
        Ok(())
    }

    /// Reports the held shards; releases those no longer assigned (after checkpointing them)
    /// and takes up the new ones at their checkpoint (or at --from).
    fn heartbeat(&mut self) -> Result<(), String> {
        let held: Vec<u32> = self.held.keys().copied().collect();
        let body = serde_json::to_vec(&held).map_err(|e| e.to_string())?;
        let r = self.call(
            "POST",
            &self.group_path,
            &[("type", "heartbeat"), ("consumer", &self.cfg.consumer)],
            &body,
        )?;
        if r.status != 200 {
            return Err(format!("heartbeat refused: {}", r.error_text()));
        }
        let assigned: Vec<u32> = serde_json::from_slice(&r.body)
            .map_err(|e| format!("heartbeat answer is not a list of shard ids: {e}"))?;
        for shard in held.iter().filter(|s| !assigned.contains(s)) {
            self.save(*shard)?;
            self.held.remove(shard);
            self.stats.released += 1;
            eprintln!("consumer {}: released shard {shard}", self.cfg.consumer);
        }
        let new: Vec<u32> = assigned
            .iter()
            .copied()
            .filter(|s| !self.held.contains_key(s))
            .collect();
        for shard in new {
            let cursor = self.start_cursor(shard)?;
            self.held.insert(
                shard,
                Held {
                    saved: cursor.clone(),
                    cursor,
                },
            );
            self.stats.acquired += 1;
            eprintln!("consumer {}: acquired shard {shard}", self.cfg.consumer);
        }
        if self.cfg.stats {
            let s = &self.stats;
            eprintln!(
                "consumer {}: shards {:?}; {} pulls, {} groups, {} rows, {} checkpoints",
                self.cfg.consumer,
                self.held.keys().collect::<Vec<_>>(),
                s.pulls,
                s.groups,
                s.rows,
                s.checkpoints
            );
        }
        Ok(())
    }

    /// The shard's stored checkpoint, or the cursor of --from.
    fn start_cursor(&self, shard: u32) -> Result<String, String> {
        let id = shard.to_string();
        let r = self.call("GET", &self.group_path, &[("shard", &id)], &[])?;
        if r.status != 200 {
            return Err(format!(
                "cannot read the checkpoint of shard {shard}: {}",
                r.error_text()
            ));
        }
        let v: serde_json::Value = serde_json::from_slice(&r.body).map_err(|e| e.to_string())?;
        if let Some(c) = v
            .as_array()
            .and_then(|a| a.iter().find(|e| e["shard"].as_u64() == Some(shard as u64)))
            .and_then(|e| e["checkpoint"].as_str())
            .filter(|c| !c.is_empty())
        {
            return Ok(c.to_string());
        }
        let from = self.cfg.from.param();
        let path = format!("/logstores/{}/shards/{shard}", self.cfg.logstore);
        let r = self.call("GET", &path, &[("type", "cursor"), ("from", &from)], &[])?;
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
        match (r.status, v["cursor"].as_str()) {
            (200, Some(c)) => Ok(c.to_string()),
            _ => Err(format!(
                "cannot get a cursor for shard {shard}: {}",
                r.error_text()
            )),
        }
    }

    /// One pull of `shard`: rows written, then the checkpoint. True when it read anything.
    fn pull_once(&mut self, shard: u32) -> Result<bool, String> {
        let cursor = self.held[&shard].cursor.clone();
        let count = self.cfg.batch.to_string();
        let mut params = vec![
            ("type", "logs"),
            ("cursor", cursor.as_str()),
            ("count", count.as_str()),
        ];
        if let (Some(q), false) = (&self.cfg.query, self.cfg.local) {
            params.push(("query", q.as_str()));
        }
        let path = format!("/logstores/{}/shards/{shard}", self.cfg.logstore);
        let r = self.call("GET", &path, &params, &[])?;
        if r.status != 200 {
            return Err(format!("pull of shard {shard} failed: {}", r.error_text()));
        }
        let next = r
            .header("x-log-cursor")
            .ok_or("a pull answer without x-log-cursor")?
            .to_string();
        let list = LogGroupList::decode(&r.body[..])
            .map_err(|e| format!("pull of shard {shard}: bad LogGroupList: {e}"))?;
        self.stats.pulls += 1;

        self.stats.groups += list.log_groups.len() as u64;
        let groups: Vec<LogGroup> = match &self.local {
            None => list.log_groups,
            Some(p) => {
                let mut out = Vec::new();
                for g in &list.log_groups {
                    let (gs, _) =
                        spl_loghub::scan::apply(p, g).map_err(|e| format!("shard {shard}: {e}"))?;
                    out.extend(gs);
                }
                out
            }
        };
        self.stats.rows += self.sink.write(shard, &groups)?;
        if next == cursor {
            return Ok(false);
        }
        self.held.get_mut(&shard).expect("held").cursor = next;
        self.save(shard)?;
        Ok(true)
    }

    /// Checkpoints `shard` at its cursor if that moved. A shard taken over by another consumer
    /// meanwhile is dropped (its rows since the checkpoint may be read again: at-least-once).
    fn save(&mut self, shard: u32) -> Result<(), String> {
        let Some(h) = self.held.get(&shard) else {
            return Ok(());
        };
        if h.cursor == h.saved {
            return Ok(());
        }
        let body = serde_json::json!({"shard": shard, "checkpoint": h.cursor}).to_string();
        let cursor = h.cursor.clone();
        let r = self.call(
            "POST",
            &self.group_path,
            &[
                ("type", "checkpoint"),
                ("consumer", &self.cfg.consumer),
                ("forceSuccess", "false"),
            ],
            body.as_bytes(),
        )?;
        match (r.status, r.error_code().as_deref()) {
            (200, _) => {
                self.held.get_mut(&shard).expect("held").saved = cursor;
                self.stats.checkpoints += 1;
                Ok(())
            }
            (_, Some("ConsumerNotMatch" | "ConsumerNotExsit")) => {
                eprintln!(
                    "consumer {}: shard {shard} was taken over; dropping it ({})",
                    self.cfg.consumer,
                    r.error_text()
                );
                self.held.remove(&shard);
                Ok(())
            }
            _ => Err(format!(
                "checkpoint of shard {shard} failed: {}",
                r.error_text()
            )),
        }
    }

    fn save_all(&mut self) -> Result<(), String> {
        let shards: Vec<u32> = self.held.keys().copied().collect();
        let mut result = Ok(());
        for shard in shards {
            if let Err(e) = self.save(shard) {
                result = Err(e);
            }
        }
        result
    }
}
