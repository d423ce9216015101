//! Start and stop with a state directory: open the journal, replay it, and the clean
//! shutdown's checkpoint; the control plane's records.

use std::collections::BTreeMap;
use std::sync::PoisonError;

use conform_model::ids::IdStreams;
use conform_model::{Caller, Event, Service, World};

use super::{Change, Record, Setup, StateConfig, Store};
use crate::fixtures::Account;
use crate::{Config, Dispatch, Error, Inner, Simulator};

impl Simulator {
    /// Opens the state journal (`--state-dir`) and, if it has records, replaces the world with
    /// their replay: `true` then (the startup fixtures are among them).
    pub(crate) fn open_state(
        &mut self,
        state: &StateConfig,
        config: &Config,
        wall_ms: i64,
    ) -> Result<bool, Error> {
        let setup = Setup::new(
            config.seed,
            &config.policy,
            &config.fixtures,
            &config.faults,
            config.frozen_clock,
            config.start_ms,
        );
        let inner = self.inner.get_mut().unwrap_or_else(PoisonError::into_inner);
        let mut opened = Store::open(state, setup, &inner.world, wall_ms)?;
        // A journal without records nor snapshot has not even its startup fixtures (the process
        // died right after making it): those are applied, and journaled, as on a first start.
        let replay = opened
            .replay
            .filter(|r| r.snapshot.is_some() || !r.records.is_empty());
        let restored = match replay {
            Some(replay) => {
                let accounts = self.accounts.get_mut().unwrap_or_else(PoisonError::into_inner);
                let fault_ids = self.fault_ids.get_mut().unwrap_or_else(PoisonError::into_inner);
                let from = replay.snapshot.as_ref().map(|(g, _)| *g);
                let mut world = match replay.snapshot {
                    Some((g, saved)) => {
                        let path = super::snapshot::snapshot_path(&state.dir, g);
                        let world = World::restore(saved.world)
                            .map_err(|e| Error::State(format!("{}: {e}", path.display())))?;
                        accounts.extend(saved.accounts.into_iter().map(|a| (a.access_key_id.clone(), a)));
                        fault_ids.seek(saved.fault_ids);
                        world
                    }
                    None => World::starting_at(config.seed, config.policy.clone(), replay.first.start_ms),
                };
                crate::apply_faults(&mut world, &config.faults).map(drop)?;
                let count = replay.records.len();
                let rebuilt = Rebuilt {
                    world: &mut world,
                    accounts,
                    fault_ids,
                    dispatch: self.dispatch,
                };
                replay_records(rebuilt, replay.records).map_err(|m| {
                    let first = super::snapshot::segment_path(&state.dir, from.unwrap_or(0));
                    Error::State(format!("{} and after: {m}", first.display()))
                })?;
                if !config.frozen_clock {
                    crate::advance_to(
                        &mut world,
                        wall_ms.saturating_add(opened.store.header().wall_offset_ms),
                    );
                }
                let base = from.map_or_else(|| "a fresh world".to_string(), |g| format!("snapshot {g}"));
                tracing::info!(target: "conform::state", "restored {base} and replayed {count} records from {}", state.dir.display());
                if let Some(g) = from {
                    super::open::forget_before(&state.dir, g);
                }
                inner.world = world;
                opened.store.restored = Some(super::Restored {
                    snapshot: from,
                    records: count,
                });
                true
            }
            None => false,
        };
        self.durability = Some(opened.store.durability.clone());
        inner.store = Some(opened.store);
        Ok(restored)
    }

    /// Journals a control-plane change about to replace the world (`Simulator::change`).
    pub(crate) fn journal_control(
        &self,
        inner: &mut Inner,
        accounts: &[Account],
        events: Vec<Event>,
    ) -> Result<(), String> {
        let Some(store) = inner.store.as_mut() else {
            return Ok(());
        };
        let record = Record {
            at_ms: inner.world.now_ms(),
            counters: inner.world.counters(),
            change: Change::Control {
                accounts: accounts.to_vec(),
                events,
            },
        };
        store.append(&record)
    }

    /// A clean shutdown: journals the counters of the refusals since the last record and the
    /// simulator's own request ids, so a restart hands out the ids that would have followed,
    /// and waits until everything is on disk.
    pub fn close(&self) -> Result<(), String> {
        let ticket = {
            let mut inner = self.lock();
            let fault_ids = self
                .fault_ids
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .positions();
            let (at_ms, counters) = (inner.world.now_ms(), inner.world.counters());
            let Some(store) = inner.store.as_mut() else {
                return Ok(());
            };
            store.append(&Record {
                at_ms,
                counters,
                change: Change::Checkpoint { fault_ids },
            })?;
            store.finish_snapshot();
            store.durability.stop()
        };
        self.durable_blocking(ticket)
    }

    /// Waits until the journal holds what a reply depends on (`--state-sync`).
    pub(crate) async fn durable(&self, ticket: Option<u64>) -> Result<(), String> {
        match &self.durability {
            Some(d) => d.durable(ticket).await,
            None => Ok(()),
        }
    }

    pub(crate) fn durable_blocking(&self, ticket: Option<u64>) -> Result<(), String> {
        match &self.durability {
            Some(d) => d.durable_blocking(ticket),
            None => Ok(()),
        }
    }
}

/// What replay rebuilds besides the world.
pub(crate) struct Rebuilt<'a> {
    pub(crate) world: &'a mut World,
    pub(crate) accounts: &'a mut BTreeMap<String, Account>,
    pub(crate) fault_ids: &'a mut IdStreams,
    pub(crate) dispatch: Dispatch,
}

/// Replays `records` in order: each at its instant, with its counters, as it was first done.
pub(crate) fn replay_records(into: Rebuilt<'_>, records: Vec<Record>) -> Result<(), String> {
    let Rebuilt {
        world,
        accounts,
        fault_ids,
        dispatch,
    } = into;
    for (i, record) in records.into_iter().enumerate() {
        let n = i + 1;
        let behind = record.at_ms.saturating_sub(world.now_ms());
        if record.at_ms < world.now_ms() {
            return Err(format!(
                "record {n} is earlier than the clock ({} < {})",
                record.at_ms,
                world.now_ms()
            ));
        }
        if behind > 0 {
            world
                .apply(Event::AdvanceClock {
                    seconds: 0,
                    millis: behind,
                })
                .map_err(|e| format!("record {n}: {e}"))?;
        }
        world.set_counters(record.counters);
        match record.change {
            Change::Aws {
                account,
                region,
                service,
                operation,
                status,
                body,
            } => {
                let body = body.bytes().map_err(|e| format!("record {n}: {e}"))?;
                let caller = Caller::new(account, region);
                let now = replay_aws(world, dispatch, &caller, service, &operation, &body);
                if now != status {
                    return Err(format!(
                        "record {n} ({operation}) answered {status} when journaled and {now} on replay: the journal does not fit this model"
                    ));
                }
            }
            Change::Control {
                accounts: added,
                events,
            } => {
                let (rebuilt, _) = crate::apply_all(world, events).map_err(|e| format!("record {n}: {e}"))?;
                *world = rebuilt;
                for a in added {
                    accounts.insert(a.access_key_id.clone(), a);
                }
            }
            Change::Checkpoint { fault_ids: at } => fault_ids.seek(at),
        }
    }
    Ok(())
}

/// One AWS request again; a panic answers 500 as it did when it was served.
fn replay_aws(
    world: &mut World,
    dispatch: Dispatch,
    caller: &Caller,
    service: Service,
    operation: &str,
    body: &[u8],
) -> u16 {
    crate::decode_and_dispatch(dispatch, world, caller, service, operation, body)
        .map_or(500, |reply| reply.status)
}
