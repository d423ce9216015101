//! Snapshots in the state directory (docs/state-journal.md, "Snapshots"): the journal is kept
//! in segments, `journal.N`; `snapshot.N` is the world at the start of segment N, so a start
//! loads the newest whole snapshot and replays only the segments from it on.
//!
//! A snapshot is written off the request path: under the world lock the server starts the next
//! segment and clones the world; a thread of its own encodes the clone, writes
//! `snapshot.N.tmp`, syncs it, renames it to `snapshot.N` and syncs the directory. Only then are
//! the older segments and snapshots removed, so at every moment the directory restores every
//! record written: a `.tmp` is never read, and a damaged snapshot falls back to the one before
//! it while the segments it needs are still there.
//!
//! The file is one header line as in the journal (`CHECK SP JSON LF`) and then the body: CBOR
//! of `Saved`. The header carries the body's length and SHA-256, and the journal's `Setup`.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use conform_model::ids::StreamPositions;
use conform_model::World;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::format::{self, Setup};
use crate::fixtures::Account;

/// The `format` member of a snapshot's header.
pub(crate) const FORMAT: &str = "conform-state-snapshot";
/// The snapshot file version this build writes and reads; any other is refused.
pub(crate) const VERSION: u32 = 1;
/// A segment (and so a restart's replay) holds at most this many records by default before a
/// snapshot starts the next one (`--state-snapshot-every`). A snapshot costs in proportion to
/// the world (every token and ClientToken record is in it), about as much per checkout in it as
/// replaying that checkout: at 100,000 a restart replays a few seconds of records, and a world
/// smaller than that is snapshotted at most once per as many records (docs/state-journal.md).
pub const SNAPSHOT_EVERY: u64 = 100_000;

const SEGMENT_PREFIX: &str = "journal.";
const SNAPSHOT_PREFIX: &str = "snapshot.";
const TEMP_SUFFIX: &str = ".tmp";

/// The first line of a snapshot file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    format: String,
    version: u32,
    setup: Setup,
    /// N of `snapshot.N`: the world at the start of `journal.N`.
    generation: u64,
    /// `conform_model::snapshot::SNAPSHOT_VERSION` of the body's world.
    layout: u32,
    body_bytes: u64,
    body_sha256: String,
}

/// What a snapshot holds: the world and what the simulator keeps beside it.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Saved {
    pub(crate) world: conform_model::snapshot::Snapshot,
    /// The access keys the control plane and fixtures added.
    pub(crate) accounts: Vec<Account>,
    /// The position of the simulator's own request-id stream.
    pub(crate) fault_ids: StreamPositions,
}

/// Why a snapshot file was not read.
#[derive(Debug)]
pub(crate) enum Unreadable {
    /// Its bytes are not what was written (a check or the body's digest fails): the snapshot
    /// before it, with the segments after that one, restores instead.
    Damaged(String),
    /// Whole, but not one this conform may read (another format version, another setup): the
    /// start is refused.
    Refused(String),
}

pub(crate) fn segment_path(dir: &Path, generation: u64) -> PathBuf {
    dir.join(format!("{SEGMENT_PREFIX}{generation}"))
}

pub(crate) fn snapshot_path(dir: &Path, generation: u64) -> PathBuf {
    dir.join(format!("{SNAPSHOT_PREFIX}{generation}"))
}

pub(crate) fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(TEMP_SUFFIX);
    PathBuf::from(name)
}

/// What a state directory holds.
#[derive(Debug, Default)]
pub(crate) struct Layout {
    /// Generations of `journal.N`, ascending.
    pub(crate) segments: Vec<u64>,
    /// Generations of `snapshot.N`, ascending.
    pub(crate) snapshots: Vec<u64>,
    /// Files a start or a snapshot did not finish (`*.tmp`).
    pub(crate) temps: Vec<PathBuf>,
}

pub(crate) fn layout(dir: &Path) -> std::io::Result<Layout> {
    let mut found = Layout::default();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let number = |prefix: &str| name.strip_prefix(prefix).and_then(|n| n.parse::<u64>().ok());
        if name.ends_with(TEMP_SUFFIX) {
            found.temps.push(entry.path());
        } else if let Some(n) = number(SEGMENT_PREFIX) {
            found.segments.push(n);
        } else if let Some(n) = number(SNAPSHOT_PREFIX) {
            found.snapshots.push(n);
        }
    }
    found.segments.sort_unstable();
    found.snapshots.sort_unstable();
    Ok(found)
}

/// Removes the segments and snapshots older than `generation` (a snapshot of it is on disk).
pub(crate) fn remove_before(dir: &Path, generation: u64) -> std::io::Result<()> {
    let found = layout(dir)?;
    let segments = found.segments.iter().filter(|&&g| g < generation);
    let snapshots = found.snapshots.iter().filter(|&&g| g < generation);
    let paths = segments
        .map(|&g| segment_path(dir, g))
        .chain(snapshots.map(|&g| snapshot_path(dir, g)));
    for path in paths {
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

fn encode(setup: &Setup, generation: u64, saved: &Saved) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    ciborium::into_writer(saved, &mut body).map_err(|e| format!("cannot encode the world: {e}"))?;
    let header = Header {
        format: FORMAT.into(),
        version: VERSION,
        setup: setup.clone(),
        generation,
        layout: conform_model::snapshot::SNAPSHOT_VERSION,
        body_bytes: body.len() as u64,
        body_sha256: format::sha256_hex(&body),
    };
    let mut bytes = format::line(&header);
    bytes.extend(body);
    Ok(bytes)
}

/// Reads `snapshot.N` (`path`, `generation` N) of a directory whose journal has `setup`.
pub(crate) fn decode(path: &str, setup: &Setup, generation: u64, bytes: &[u8]) -> Result<Saved, Unreadable> {
    let damaged = |what: &str| Unreadable::Damaged(format!("{path}: {what}"));
    let refused = |what: String| Unreadable::Refused(format!("{path}: {what}"));
    let header_end = bytes
        .iter()
        .position(|&b| b == b'\n')
        .ok_or_else(|| damaged("no whole header line"))?;
    let header = format::verified(&bytes[..header_end])
        .and_then(|json| serde_json::from_slice::<Value>(json).ok())
        .ok_or_else(|| damaged("its header's check does not match"))?;
    if header.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Err(refused(
            "is not a conform state snapshot; refusing to read it (move it away or choose another --state-dir)".into(),
        ));
    }
    let version = header.get("version").and_then(Value::as_u64);
    if version != Some(u64::from(VERSION)) {
        let shown = version.map_or_else(|| "an unknown".to_string(), |v| v.to_string());
        return Err(refused(format!(
            "was written in state snapshot format version {shown}; this conform reads version {VERSION} only (use the conform that wrote it, or another --state-dir)"
        )));
    }
    let header: Header = serde_json::from_value(header).map_err(|e| refused(format!("header: {e}")))?;
    if let Some(diff) = setup.differences(&header.setup) {
        return Err(refused(format!(
            "was written by a conform started differently: {diff}; start with the same flags, or use another --state-dir"
        )));
    }
    if header.generation != generation {
        return Err(refused(format!(
            "says it is snapshot {}, not {generation}",
            header.generation
        )));
    }
    let body = &bytes[header_end + 1..];
    if body.len() as u64 != header.body_bytes || format::sha256_hex(body) != header.body_sha256 {
        return Err(damaged("its body is not the one its header describes"));
    }
    if header.layout != conform_model::snapshot::SNAPSHOT_VERSION {
        return Err(refused(format!(
            "holds a world of snapshot layout {}; this model reads layout {} only",
            header.layout,
            conform_model::snapshot::SNAPSHOT_VERSION
        )));
    }
    ciborium::from_reader(body).map_err(|e| refused(format!("its world is not one this conform reads: {e}")))
}

/// A snapshot to write: the world at the start of segment `generation`, cloned under the lock.
pub(crate) struct Job {
    pub(crate) dir: PathBuf,
    pub(crate) generation: u64,
    pub(crate) setup: Setup,
    pub(crate) world: World,
    pub(crate) accounts: Vec<Account>,
    pub(crate) fault_ids: StreamPositions,
    /// The segment it starts (synced before the snapshot is renamed into place).
    pub(crate) segment: Arc<File>,
}

/// What writing a snapshot took.
pub(crate) struct Written {
    pub(crate) bytes: u64,
    pub(crate) encode_ms: u128,
    pub(crate) total_ms: u128,
}

/// Writes the snapshot (temp file, synced, renamed, directory synced) and then removes what it
/// makes obsolete.
pub(crate) fn write(job: Job) -> Result<Written, String> {
    let started = std::time::Instant::now();
    let path = snapshot_path(&job.dir, job.generation);
    let shown = |e: std::io::Error, what: &str| format!("{}: {what}: {e}", path.display());
    let saved = Saved {
        world: job
            .world
            .into_snapshot()
            .map_err(|e| format!("{}: {e}", path.display()))?,
        accounts: job.accounts,
        fault_ids: job.fault_ids,
    };
    let bytes = encode(&job.setup, job.generation, &saved)?;
    drop(saved);
    let encode_ms = started.elapsed().as_millis();
    job.segment
        .sync_all()
        .map_err(|e| shown(e, "cannot sync the segment it starts"))?;
    let tmp = temp_path(&path);
    let written = File::create(&tmp).and_then(|mut f| {
        f.write_all(&bytes)?;
        f.sync_all()
    });
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, &path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(shown(e, "cannot write"));
    }
    sync_dir(&job.dir).map_err(|e| shown(e, "cannot sync its directory"))?;
    remove_before(&job.dir, job.generation).map_err(|e| shown(e, "cannot remove what it replaces"))?;
    Ok(Written {
        bytes: bytes.len() as u64,
        encode_ms,
        total_ms: started.elapsed().as_millis(),
    })
}

pub(crate) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}
