//! When journaled records reach the disk: a thread that calls `fsync` (`sync_data`) on the
//! journal, either as soon as records are waiting (`SyncMode::Always`: a reply waits for it,
//! and every record written while one `fsync` runs shares the next: group commit) or every
//! `BATCH_INTERVAL` (`SyncMode::Batch`: replies do not wait).

use std::fs::File;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::watch;

/// How often `--state-sync batch` flushes.
pub const BATCH_INTERVAL: Duration = Duration::from_millis(200);

/// What a reply waits for before it goes out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SyncMode {
    /// `fsync` before every reply that follows a write: an acknowledged write survives a
    /// crash of the machine. Concurrent writes share one `fsync` (group commit).
    Always,
    /// Written to the file (the kernel's page cache) before the reply, `fsync`ed every
    /// `BATCH_INTERVAL`: an acknowledged write survives the process being killed, not a crash
    /// of the machine in the last interval. The default: what a killed test server needs,
    /// at a fraction of `Always`'s cost per write.
    #[default]
    Batch,
}

#[derive(Default)]
struct Counts {
    /// Records written to the file (in order, under the world lock).
    written: u64,
    /// Records known on disk.
    synced: u64,
    failed: Option<String>,
    stop: bool,
}

/// The files the next `fsync` covers.
struct Files {
    /// The segment records go to now.
    current: Arc<File>,
    /// Segments records went to before it, not yet synced since their last record.
    retired: Vec<Arc<File>>,
    /// The directory, when a segment was made in it since the last sync.
    dir: Option<PathBuf>,
}

/// The shared state of the sync thread and everyone who waits on it.
pub(crate) struct Durability {
    mode: SyncMode,
    files: Mutex<Files>,
    counts: Mutex<Counts>,
    wake: Condvar,
    synced: watch::Sender<u64>,
}

impl Durability {
    /// Starts the sync thread for `file`, whose first `written` records are already on disk.
    pub(crate) fn start(mode: SyncMode, file: Arc<File>, written: u64) -> std::io::Result<Arc<Durability>> {
        let (synced, _) = watch::channel(written);
        let d = Arc::new(Durability {
            mode,
            files: Mutex::new(Files {
                current: file,
                retired: Vec::new(),
                dir: None,
            }),
            counts: Mutex::new(Counts {
                written,
                synced: written,
                ..Counts::default()
            }),
            wake: Condvar::new(),
            synced,
        });
        let worker = d.clone();
        std::thread::Builder::new()
            .name("conform-state-sync".into())
            .spawn(move || worker.run())?;
        Ok(d)
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn run(&self) {
        let mut last = Instant::now();
        loop {
            let target = {
                let mut c = self.counts();
                loop {
                    if c.failed.is_some() || (c.stop && c.synced == c.written) {
                        return;
                    }
                    let due = c.written > c.synced;
                    let waited = last.elapsed();
                    if due && (self.mode == SyncMode::Always || c.stop || waited >= BATCH_INTERVAL) {
                        break c.written;
                    }
                    c = match self.mode {
                        SyncMode::Always => self.wake.wait(c).unwrap_or_else(PoisonError::into_inner),
                        SyncMode::Batch => {
                            let left = BATCH_INTERVAL
                                .saturating_sub(waited)
                                .max(Duration::from_millis(1));
                            self.wake
                                .wait_timeout(c, left)
                                .unwrap_or_else(PoisonError::into_inner)
                                .0
                        }
                    };
                }
            };
            last = Instant::now();
            let result = self.sync_files();
            let mut c = self.counts();
            match result {
                Ok(()) => c.synced = c.synced.max(target),
                Err(e) => c.failed = Some(format!("the state journal could not be synced: {e}")),
            }
            let synced = c.synced;
            drop(c);
            self.synced.send_replace(synced);
            self.wake.notify_all();
        }
    }

    /// Syncs the retired segments, the current one and, after a new segment, the directory.
    fn sync_files(&self) -> std::io::Result<()> {
        let (retired, current, dir) = {
            let mut f = self.files.lock().unwrap_or_else(PoisonError::into_inner);
            (std::mem::take(&mut f.retired), f.current.clone(), f.dir.take())
        };
        for file in retired {
            file.sync_data()?;
        }
        current.sync_data()?;
        match dir {
            Some(dir) => super::snapshot::sync_dir(&dir),
            None => Ok(()),
        }
    }

    /// Records that `n` records are now in the file (called under the world lock).
    pub(crate) fn wrote(&self, n: u64) {
        let mut c = self.counts();
        c.written = n;
        drop(c);
        if self.mode == SyncMode::Always {
            self.wake.notify_all();
        }
    }

    /// A written record that failed: nothing is journaled after it.
    pub(crate) fn fail(&self, message: String) {
        self.counts().failed = Some(message);
        self.wake.notify_all();
        self.synced.send_modify(|_| {});
    }

    pub(crate) fn failed(&self) -> Option<String> {
        self.counts().failed.clone()
    }

    /// What a reply given now must wait for: every record written so far (`Always`), or
    /// nothing (`Batch`).
    pub(crate) fn ticket(&self) -> Option<u64> {
        (self.mode == SyncMode::Always).then(|| self.counts().written)
    }

    /// Waits until the records up to `ticket` are on disk.
    pub(crate) async fn durable(&self, ticket: Option<u64>) -> Result<(), String> {
        let Some(n) = ticket else {
            return self.failed().map_or(Ok(()), Err);
        };
        let mut rx = self.synced.subscribe();
        loop {
            if *rx.borrow_and_update() >= n {
                return Ok(());
            }
            if let Some(m) = self.failed() {
                return Err(m);
            }
            if rx.changed().await.is_err() {
                return Err("the state journal stopped".into());
            }
        }
    }

    /// As `durable`, blocking the thread (the simulator's synchronous API).
    pub(crate) fn durable_blocking(&self, ticket: Option<u64>) -> Result<(), String> {
        let mut c = self.counts();
        let n = ticket.unwrap_or(0);
        while c.synced < n && c.failed.is_none() {
            c = self.wake.wait(c).unwrap_or_else(PoisonError::into_inner);
        }
        c.failed.clone().map_or(Ok(()), Err)
    }

    /// Records go to `file`, a new segment in `dir`, from now on: the next sync covers what
    /// the segment before it still holds unsynced, the new one, and the directory.
    pub(crate) fn switch_file(&self, file: Arc<File>, dir: PathBuf) {
        let mut f = self.files.lock().unwrap_or_else(PoisonError::into_inner);
        let old = std::mem::replace(&mut f.current, file);
        f.retired.push(old);
        f.dir = Some(dir);
    }

    /// Lets the thread end once what is written is synced; returns what must be waited for.
    pub(crate) fn stop(&self) -> Option<u64> {
        let n = {
            let mut c = self.counts();
            c.stop = true;
            c.written
        };
        self.wake.notify_all();
        Some(n)
    }
}
