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
//! The journal is kept in segments, each starting at a snapshot of the world
//! (`snapshot.rs`), so a start loads the newest snapshot and replays only the records after it.
//! Format and guarantees: docs/state-journal.md.

mod format;
mod open;
mod restore;
mod snapshot;
mod sync;
#[cfg(test)]
mod tests;

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError};
use std::thread::JoinHandle;

use conform_model::restore::Counters;
use conform_model::{Caller, Decoded, Service, World};

use crate::fixtures::Account;
use crate::{apply_all, Error, Failure, Inner, Simulator};
use conform_model::{Event, Reply};
pub(crate) use format::{Body, Change, Header, Record, Setup};
pub use snapshot::SNAPSHOT_EVERY;
pub(crate) use sync::Durability;
pub use sync::{SyncMode, BATCH_INTERVAL};

/// The lock file that keeps a second server off the same directory.
const LOCK_FILE: &str = "lock";

/// Where and how the world is kept on disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateConfig {
    pub dir: PathBuf,
    pub sync: SyncMode,
    /// A snapshot starts a new segment once the current one holds this many records: a
    /// restart replays at most this many (twice as many if it was killed mid-snapshot).
    pub snapshot_every: u64,
}

impl StateConfig {
    /// `dir` with `sync` and a snapshot every `SNAPSHOT_EVERY` records.
    pub fn new(dir: PathBuf, sync: SyncMode) -> StateConfig {
        StateConfig {
            dir,
            sync,
            snapshot_every: SNAPSHOT_EVERY,
        }
    }
}

/// What a start restored: the snapshot it loaded and how many records it replayed after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Restored {
    pub(crate) snapshot: Option<u64>,
    pub(crate) records: usize,
}

/// The open journal, kept under the world lock so records go in the order the model saw them.
pub(crate) struct Store {
    dir: PathBuf,
    /// The current segment, `journal.N`.
    path: PathBuf,
    file: Arc<File>,
    /// The current segment's header.
    header: Header,
    /// Records appended since the start (what replies wait for is counted in these).
    records: u64,
    /// Records in the segments a restart would replay: since the last snapshot.
    since_snapshot: u64,
    snapshot_every: u64,
    /// `since_snapshot` at which the next snapshot starts (later after a failed one).
    snapshot_due: u64,
    /// The snapshot being written, if any.
    writer: Option<JoinHandle<()>>,
    pub(crate) restored: Option<Restored>,
    pub(crate) durability: Arc<sync::Durability>,
    /// Held (locked) for the store's life.
    _lock: File,
}

fn io(path: &Path, what: &str, e: std::io::Error) -> Error {
    Error::State(format!("{}: {what}: {e}", path.display()))
}

impl Store {
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
        self.since_snapshot += 1;
        self.durability.wrote(self.records);
        Ok(())
    }

    /// Waits for the snapshot being written, if any.
    fn finish_snapshot(&mut self) {
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }

    /// Starts segment N+1 and writes the snapshot of `world` (the world after every record of
    /// segment N) on a thread of its own. Called under the world lock once the segment is full;
    /// if the last snapshot is still being written it is waited for first, so no segment
    /// outgrows `snapshot_every`.
    fn snapshot(
        &mut self,
        world: World,
        accounts: Vec<Account>,
        fault_ids: conform_model::ids::StreamPositions,
    ) {
        self.finish_snapshot();
        let generation = self.header.generation + 1;
        let header = Header {
            generation,
            start_ms: world.now_ms(),
            ..self.header.clone()
        };
        let path = snapshot::segment_path(&self.dir, generation);
        // Renamed into place whole, so a kill never leaves a segment without its header; the
        // sync thread (before an `always` reply) or the snapshot makes it durable.
        let tmp = snapshot::temp_path(&path);
        let made = std::fs::write(&tmp, format::line(&header))
            .and_then(|()| std::fs::rename(&tmp, &path))
            .and_then(|()| OpenOptions::new().append(true).open(&path));
        let file = match made {
            Ok(file) => Arc::new(file),
            Err(e) => {
                tracing::warn!(target: "conform::state", "{}: cannot start a new segment, no snapshot this time: {e}", path.display());
                self.snapshot_due = self.since_snapshot + self.snapshot_every;
                return;
            }
        };
        self.durability.switch_file(file.clone(), self.dir.clone());
        self.file = file.clone();
        self.path = path;
        self.header = header;
        self.since_snapshot = 0;
        self.snapshot_due = self.snapshot_every;
        let job = snapshot::Job {
            dir: self.dir.clone(),
            generation,
            setup: self.header.setup.clone(),
            world,
            accounts,
            fault_ids,
            segment: file,
        };
        let spawned = std::thread::Builder::new()
            .name("conform-state-snapshot".into())
            .spawn(move || match snapshot::write(job) {
                Ok(w) => tracing::info!(
                    target: "conform::state",
                    "wrote snapshot {generation}: {} bytes in {} ms ({} ms encoding)",
                    w.bytes,
                    w.total_ms,
                    w.encode_ms
                ),
                Err(m) => tracing::warn!(target: "conform::state", "no snapshot {generation}: {m}; the journal before it is kept"),
            });
        match spawned {
            Ok(handle) => self.writer = Some(handle),
            Err(e) => {
                tracing::warn!(target: "conform::state", "no snapshot {generation}: {e}; the journal before it is kept")
            }
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.finish_snapshot();
        let _ = self.durability.stop();
    }
}

/// Writes `bytes` as the file at `path` atomically: a temporary file, synced, renamed over it,
/// and the directory synced.
fn write_new(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let tmp = snapshot::temp_path(path);
    let mut f = File::create(&tmp).map_err(|e| io(&tmp, "cannot create", e))?;
    f.write_all(bytes).map_err(|e| io(&tmp, "cannot write", e))?;
    f.sync_all().map_err(|e| io(&tmp, "cannot sync", e))?;
    std::fs::rename(&tmp, path).map_err(|e| io(path, "cannot rename the new journal into place", e))?;
    if let Some(dir) = path.parent() {
        snapshot::sync_dir(dir).map_err(|e| io(dir, "cannot sync", e))?;
    }
    Ok(())
}

impl Simulator {
    /// Once the journal's segment is full: a snapshot of the world as it is now, which starts
    /// the next segment (`Store::snapshot`). Called under the world lock after a change.
    pub(crate) fn snapshot_if_due(&self, inner: &mut Inner) {
        let Some(store) = inner.store.as_mut() else {
            return;
        };
        if store.since_snapshot < store.snapshot_due || store.durability.failed().is_some() {
            return;
        }
        let accounts = self
            .accounts
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        let fault_ids = self
            .fault_ids
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .positions();
        store.snapshot(inner.world.clone(), accounts, fault_ids);
    }

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
        drop(known);
        self.snapshot_if_due(&mut inner);
        let ticket = inner.store.as_ref().and_then(|s| s.durability.ticket());
        Ok((replies, ticket))
    }

    /// Answers one AWS call: the dispatch of `decoded` (what `World::decode` made of `body`) to
    /// the model, journaled (`--state-dir`) unless the model refused it, then the rewrites of
    /// the wire faults switched on (`faults` feature). Returns what the reply must wait for
    /// before it goes out.
    pub(crate) fn answer(
        &self,
        inner: &mut Inner,
        caller: &Caller,
        operation: &str,
        body: &[u8],
        decoded: Decoded,
    ) -> (Result<Reply, Failure>, Option<u64>) {
        let service = decoded.service();
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
            (self.dispatch)(world, caller, operation, decoded)
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
        self.snapshot_if_due(inner);
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
