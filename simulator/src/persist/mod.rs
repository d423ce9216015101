//! State that survives restarts (`conform serve --state-dir DIR`, issue #18): every change to
//! the world goes to an append-only journal before its reply, and a start replays the journal.
//!
//! The model is deterministic, so a record holds what replay needs to do the same thing again:
//! the change (an AWS request the model did not refuse, with caller, service, operation and
//! body bytes; or control-plane events and fixtures), the clock instant the model saw, and the
//! world's counters (`conform_model::restore::Counters`) before it, which makes the refusals
//! that were not journaled irrelevant to the ids that follow. Replay checks each AWS record's
//! status against the one journaled and refuses the journal on any difference.
//!
//! The world cannot be snapshotted (see `conform_model::restore`); the journal is bounded by
//! compaction at resets instead (`COMPACT_BYTES`). Format and guarantees: docs/state-journal.md.

mod format;
mod restore;
mod sync;
#[cfg(test)]
mod tests;

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError};

use conform_model::restore::Counters;
use conform_model::{Caller, Service, World};

use crate::fixtures::Account;
use crate::{apply_all, Error, Failure, Inner, Simulator};
use conform_model::{Event, Reply};
pub(crate) use format::{Body, Change, Header, Record, Setup};
pub(crate) use sync::Durability;
pub use sync::{SyncMode, BATCH_INTERVAL};

/// The journal's file name inside `--state-dir`.
pub const JOURNAL_FILE: &str = "journal";
/// The lock file that keeps a second server off the same directory.
const LOCK_FILE: &str = "lock";
/// A reset compacts the journal when it has grown past this many bytes (by default).
pub const COMPACT_BYTES: u64 = 4 << 20;

/// Where and how the world is kept on disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateConfig {
    pub dir: PathBuf,
    pub sync: SyncMode,
    /// A reset compacts a journal larger than this.
    pub compact_bytes: u64,
}

impl StateConfig {
    /// `dir` with `sync` and the default compaction threshold.
    pub fn new(dir: PathBuf, sync: SyncMode) -> StateConfig {
        StateConfig {
            dir,
            sync,
            compact_bytes: COMPACT_BYTES,
        }
    }
}

/// The open journal, kept under the world lock so records go in the order the model saw them.
pub(crate) struct Store {
    path: PathBuf,
    file: Arc<File>,
    header: Header,
    /// Records appended since the journal was made, compacted ones included (what replies
    /// wait for is counted in these).
    records: u64,
    bytes: u64,
    compact_bytes: u64,
    pub(crate) durability: Arc<sync::Durability>,
    /// Held (locked) for the store's life.
    _lock: File,
}

/// A journal opened at start: the store, and the records to replay if it was not new.
pub(crate) struct Opened {
    pub(crate) store: Store,
    pub(crate) replay: Option<Vec<Record>>,
}

fn io(path: &Path, what: &str, e: std::io::Error) -> Error {
    Error::State(format!("{}: {what}: {e}", path.display()))
}

impl Store {
    /// Opens (or makes) the journal in `config.dir`. A new journal's header records `fresh`, the
    /// world the records will replay onto; an existing one must have been written with `setup`.
    pub(crate) fn open(
        config: &StateConfig,
        setup: Setup,
        fresh: &World,
        wall_ms: i64,
    ) -> Result<Opened, Error> {
        let dir = &config.dir;
        std::fs::create_dir_all(dir).map_err(|e| io(dir, "cannot create the state directory", e))?;
        let lock_path = dir.join(LOCK_FILE);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| io(&lock_path, "cannot open", e))?;
        if lock.try_lock().is_err() {
            return Err(Error::State(format!(
                "{} is in use by another conform serve (its lock file is held)",
                dir.display()
            )));
        }
        let path = dir.join(JOURNAL_FILE);
        let shown = path.display().to_string();
        let (header, replay, bytes, records) = match std::fs::read(&path) {
            Ok(bytes) => {
                let read = format::read(&shown, &bytes).map_err(Error::State)?;
                if let Some(diff) = setup.differences(&read.header.setup) {
                    return Err(Error::State(format!(
                        "{shown} was written by a conform started differently: {diff}; start with the same flags, or use another --state-dir"
                    )));
                }
                if let Some(torn) = read.torn {
                    tracing::warn!(
                        target: "conform::state",
                        "{shown}: dropped a torn last record ({torn} bytes): a write the process did not finish, never acknowledged"
                    );
                    let f = OpenOptions::new()
                        .write(true)
                        .open(&path)
                        .map_err(|e| io(&path, "cannot open", e))?;
                    f.set_len(read.good_len)
                        .map_err(|e| io(&path, "cannot drop the torn record", e))?;
                    f.sync_all().map_err(|e| io(&path, "cannot sync", e))?;
                }
                let n = read.records.len() as u64;
                (read.header, Some(read.records), read.good_len, n)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let header = Header {
                    format: format::FORMAT.into(),
                    version: format::VERSION,
                    setup,
                    start_ms: fresh.now_ms(),
                    wall_offset_ms: fresh.now_ms().saturating_sub(wall_ms),
                };
                let line = format::line(&header);
                write_new(&path, &line)?;
                (header, None, line.len() as u64, 0)
            }
            Err(e) => return Err(io(&path, "cannot read", e)),
        };
        let file = Arc::new(
            OpenOptions::new()
                .append(true)
                .open(&path)
                .map_err(|e| io(&path, "cannot open", e))?,
        );
        let durability = sync::Durability::start(config.sync, file.clone(), records).map_err(Error::Io)?;
        let store = Store {
            path,
            file,
            header,
            records,
            bytes,
            compact_bytes: config.compact_bytes,
            durability,
            _lock: lock,
        };
        Ok(Opened { store, replay })
    }

    pub(crate) fn header(&self) -> &Header {
        &self.header
    }

    /// Appends one record (to the kernel: `SyncMode` says when it reaches the disk). A failed
    /// write stops the journal: nothing after it could be replayed.
    pub(crate) fn append(&mut self, record: &Record) -> Result<(), String> {
        if let Some(m) = self.durability.failed() {
            return Err(m);
        }
        let line = format::line(record);
        if let Err(e) = (&*self.file).write_all(&line) {
            let m = format!(
                "the state journal {} could not be written: {e}",
                self.path.display()
            );
            self.durability.fail(m.clone());
            return Err(m);
        }
        self.records += 1;
        self.bytes += line.len() as u64;
        self.durability.wrote(self.records);
        Ok(())
    }

    /// After a reset, once the journal is large: rewrites it as its header, the accounts
    /// known, and `reset` (a record whose events start with `Reset`, already appended), since
    /// nothing before a reset reaches the world after it but the accounts.
    pub(crate) fn compact_at(&mut self, reset: &Record, accounts: Vec<Account>) -> Result<(), String> {
        if self.bytes < self.compact_bytes {
            return Ok(());
        }
        // A fresh world's counters: they depend on the seed alone.
        let fresh = World::new(self.header.setup.seed, conform_model::Policy::default());
        let keep = Record {
            at_ms: self.header.start_ms,
            counters: fresh.counters(),
            change: Change::Control {
                accounts,
                events: Vec::new(),
            },
        };
        let mut bytes = format::line(&self.header);
        bytes.extend(format::line(&keep));
        bytes.extend(format::line(reset));
        write_new(&self.path, &bytes).map_err(|e| e.to_string())?;
        let file = OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(|e| format!("{}: cannot open: {e}", self.path.display()))?;
        self.file = Arc::new(file);
        self.bytes = bytes.len() as u64;
        self.durability.replace_file(self.file.clone(), self.records);
        tracing::info!(target: "conform::state", "{}: compacted at a reset to {} bytes", self.path.display(), self.bytes);
        Ok(())
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        let _ = self.durability.stop();
    }
}

/// Writes `bytes` as the file at `path` atomically: a temporary file, synced, renamed over it,
/// and the directory synced.
fn write_new(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let tmp = path.with_extension("new");
    let mut f = File::create(&tmp).map_err(|e| io(&tmp, "cannot create", e))?;
    f.write_all(bytes).map_err(|e| io(&tmp, "cannot write", e))?;
    f.sync_all().map_err(|e| io(&tmp, "cannot sync", e))?;
    std::fs::rename(&tmp, path).map_err(|e| io(path, "cannot rename the new journal into place", e))?;
    if let Some(dir) = path.parent() {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io(dir, "cannot sync", e))?;
    }
    Ok(())
}

impl Simulator {
    /// A control-plane change, journaled (`--state-dir`) before it takes effect; what its reply
    /// waits for is returned beside the events' replies.
    pub(crate) fn change(
        &self,
        accounts: Vec<Account>,
        events: Vec<Event>,
    ) -> Result<(Vec<serde_json::Value>, Option<u64>), String> {
        if accounts.is_empty() && events.is_empty() {
            return Ok((Vec::new(), None));
        }
        let mut inner = self.lock();
        let journaled = inner.store.is_some().then(|| events.clone());
        let (world, replies) = apply_all(&inner.world, events)?;
        if let Some(events) = journaled {
            self.journal_control(&mut inner, &accounts, events)?;
        }
        inner.world = world;
        let mut known = self.accounts.write().unwrap_or_else(PoisonError::into_inner);
        for a in accounts {
            known.insert(a.access_key_id.clone(), a);
        }
        let ticket = inner.store.as_ref().and_then(|s| s.durability.ticket());
        Ok((replies, ticket))
    }

    /// Answers one AWS call: the dispatch to the model, journaled (`--state-dir`) unless the
    /// model refused it, then the rewrites of the wire faults switched on (`faults` feature).
    /// Returns what the reply must wait for before it goes out.
    pub(crate) fn answer(
        &self,
        inner: &mut Inner,
        caller: &Caller,
        service: Service,
        operation: &str,
        body: &[u8],
    ) -> (Result<Reply, Failure>, Option<u64>) {
        let before = match &inner.store {
            Some(store) => match store.durability.failed() {
                Some(m) => return (Err(Failure::Journal(m)), None),
                None => Some((inner.world.now_ms(), inner.world.counters())),
            },
            None => None,
        };
        let world = &mut inner.world;
        #[allow(unused_mut)] // rewritten only by wire faults
        let mut reply = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            (self.dispatch)(world, caller, service, operation, body)
        }));
        if let (Some(store), Some((at, counters))) = (inner.store.as_mut(), before) {
            let status = match &reply {
                Ok(r) if r.is_error() => None,
                Ok(r) => Some(r.status),
                Err(_) => Some(500),
            };
            if let Some(status) = status {
                let record = aws_record(at, counters, caller, service, operation, status, body);
                if let Err(m) = store.append(&record) {
                    return (Err(Failure::Journal(m)), None);
                }
            }
        }
        let ticket = inner.store.as_ref().and_then(|s| s.durability.ticket());
        #[cfg(feature = "faults")]
        if let Ok(r) = &mut reply {
            self.wire_faults.rewrite(operation, r);
        }
        (reply.map_err(|_| Failure::Panicked), ticket)
    }
}

/// The record of an AWS request the model answered with `status` (not refused).
pub(crate) fn aws_record(
    at_ms: i64,
    counters: Counters,
    caller: &Caller,
    service: Service,
    operation: &str,
    status: u16,
    body: &[u8],
) -> Record {
    Record {
        at_ms,
        counters,
        change: Change::Aws {
            account: caller.account.clone(),
            region: caller.region.clone(),
            service,
            operation: operation.to_string(),
            status,
            body: Body::of(body),
        },
    }
}
