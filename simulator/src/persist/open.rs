//! Opening a state directory: its lock, which snapshot to start from, and the segments of the
//! journal to replay after it (docs/state-journal.md, "Reading it back").

use std::fs::OpenOptions;
use std::path::Path;
use std::sync::Arc;

use conform_model::World;

use super::snapshot::{self, Saved, Unreadable};
use super::{format, io, sync, write_new, Error, Header, Record, Setup, StateConfig, Store, LOCK_FILE};

/// A journal opened at start: the store, and what to restore if it was not new.
pub(crate) struct Opened {
    pub(crate) store: Store,
    pub(crate) replay: Option<Replay>,
}

/// What a start restores: the snapshot it starts from (none: a fresh world at the first
/// segment's `start_ms`) and the records of every segment after it, in order.
pub(crate) struct Replay {
    pub(crate) snapshot: Option<(u64, Saved)>,
    pub(crate) records: Vec<Record>,
    /// The first segment's header (its `start_ms` is a fresh world's clock).
    pub(crate) first: Header,
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
        refuse_a_single_file_journal(dir)?;
        let found = snapshot::layout(dir).map_err(|e| io(dir, "cannot list", e))?;
        for tmp in &found.temps {
            tracing::warn!(target: "conform::state", "{}: removed a file a snapshot or segment did not finish (never used)", tmp.display());
            std::fs::remove_file(tmp).map_err(|e| io(tmp, "cannot remove", e))?;
        }
        let (header, replay, since_snapshot) = match found.segments.last() {
            None => {
                if let Some(g) = found.snapshots.first() {
                    let path = snapshot::snapshot_path(dir, *g);
                    return Err(Error::State(format!(
                        "{} has no journal segment after it; refusing to guess (move the directory away)",
                        path.display()
                    )));
                }
                let header = Header {
                    format: format::FORMAT.into(),
                    version: format::VERSION,
                    setup,
                    generation: 0,
                    start_ms: fresh.now_ms(),
                    wall_offset_ms: fresh.now_ms().saturating_sub(wall_ms),
                };
                write_new(&snapshot::segment_path(dir, 0), &format::line(&header))?;
                (header, None, 0)
            }
            Some(&last) => {
                let replay = read_back(dir, &setup, &found.segments, &found.snapshots, last)?;
                let header = replay.1;
                let n = replay.0.records.len() as u64;
                (header, Some(replay.0), n)
            }
        };
        let path = snapshot::segment_path(dir, header.generation);
        let file = Arc::new(
            OpenOptions::new()
                .append(true)
                .open(&path)
                .map_err(|e| io(&path, "cannot open", e))?,
        );
        let durability =
            sync::Durability::start(config.sync, file.clone(), since_snapshot).map_err(Error::Io)?;
        let store = Store {
            dir: dir.clone(),
            path,
            file,
            header,
            records: since_snapshot,
            since_snapshot,
            snapshot_every: config.snapshot_every.max(1),
            snapshot_due: config.snapshot_every.max(1),
            writer: None,
            restored: None,
            durability,
            _lock: lock,
        };
        Ok(Opened { store, replay })
    }
}

/// Version 1 kept the journal in one file, `DIR/journal`: refused, never misread.
fn refuse_a_single_file_journal(dir: &Path) -> Result<(), Error> {
    let old = dir.join("journal");
    match std::fs::read(&old) {
        Ok(bytes) => {
            let shown = old.display().to_string();
            format::read(&shown, &bytes).map_err(Error::State)?;
            Err(Error::State(format!(
                "{shown}: a journal outside the segments; refusing to guess"
            )))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io(&old, "cannot read", e)),
    }
}

/// The newest snapshot that reads whole, falling back past damaged ones while the segments
/// after the older one are all there; then every segment from it to `last`. Returns the last
/// segment's header beside what to replay.
fn read_back(
    dir: &Path,
    setup: &Setup,
    segments: &[u64],
    snapshots: &[u64],
    last: u64,
) -> Result<(Replay, Header), Error> {
    let first_segment = segments[0];
    for (i, g) in (first_segment..=last).enumerate() {
        if segments.get(i) != Some(&g) {
            let missing = snapshot::segment_path(dir, g);
            return Err(Error::State(format!(
                "{} is missing between the segments before and after it; refusing to guess",
                missing.display()
            )));
        }
    }
    if let Some(g) = snapshots.iter().find(|&&g| g > last) {
        let path = snapshot::snapshot_path(dir, *g);
        return Err(Error::State(format!(
            "{} has no journal segment after it; refusing to guess",
            path.display()
        )));
    }
    let mut base = None;
    for &g in snapshots.iter().rev().filter(|&&g| g >= first_segment) {
        let path = snapshot::snapshot_path(dir, g);
        let shown = path.display().to_string();
        let bytes = std::fs::read(&path).map_err(|e| io(&path, "cannot read", e))?;
        match snapshot::decode(&shown, setup, g, &bytes) {
            Ok(saved) => {
                base = Some((g, saved));
                break;
            }
            Err(Unreadable::Refused(m)) => return Err(Error::State(m)),
            Err(Unreadable::Damaged(m)) => {
                tracing::warn!(target: "conform::state", "{m}: not used; restoring from the one before it and the journal after that");
            }
        }
    }
    let from = match &base {
        Some((g, _)) => *g,
        None if first_segment == 0 => 0,
        None => {
            let path = snapshot::snapshot_path(dir, first_segment);
            return Err(Error::State(format!(
                "{} is missing or damaged and the journal before it is gone; nothing restores the world (move the directory away)",
                path.display()
            )));
        }
    };
    let mut records = Vec::new();
    let mut first = None;
    let mut header = None;
    for g in from..=last {
        let path = snapshot::segment_path(dir, g);
        let read = read_segment(&path, setup, g, g == last)?;
        first.get_or_insert_with(|| read.header.clone());
        records.extend(read.records);
        header = Some(read.header);
    }
    let (Some(first), Some(header)) = (first, header) else {
        return Err(Error::State(format!("{}: no journal segment", dir.display())));
    };
    Ok((
        Replay {
            snapshot: base,
            records,
            first,
        },
        header,
    ))
}

/// One segment's records; a torn last record is dropped (and cut from the file) in the last
/// segment only: in an earlier one it is damage.
fn read_segment(path: &Path, setup: &Setup, generation: u64, last: bool) -> Result<format::Read, Error> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| io(path, "cannot read", e))?;
    let read = format::read(&shown, &bytes).map_err(Error::State)?;
    if let Some(diff) = setup.differences(&read.header.setup) {
        return Err(Error::State(format!(
            "{shown} was written by a conform started differently: {diff}; start with the same flags, or use another --state-dir"
        )));
    }
    if read.header.generation != generation {
        return Err(Error::State(format!(
            "{shown} says it is segment {}; refusing to guess",
            read.header.generation
        )));
    }
    if let Some(torn) = read.torn {
        if !last {
            return Err(Error::State(format!(
                "{shown}: its last record is damaged and later segments follow it; refusing to guess"
            )));
        }
        tracing::warn!(
            target: "conform::state",
            "{shown}: dropped a torn last record ({torn} bytes): a write the process did not finish, never acknowledged"
        );
        let f = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| io(path, "cannot open", e))?;
        f.set_len(read.good_len)
            .map_err(|e| io(path, "cannot drop the torn record", e))?;
        f.sync_all().map_err(|e| io(path, "cannot sync", e))?;
    }
    Ok(read)
}

/// After a restore from snapshot `generation`: what came before it is not needed any more.
pub(crate) fn forget_before(dir: &Path, generation: u64) {
    if let Err(e) = snapshot::remove_before(dir, generation) {
        tracing::warn!(target: "conform::state", "{}: cannot remove files older than snapshot {generation}: {e}", dir.display());
    }
}
