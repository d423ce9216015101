//! The `conform` crate's end-to-end tests, in one binary (one link of both AWS SDKs instead of
//! one per file):
//!
//! - `common`: starting a simulator (in process or the binary) and a raw keep-alive client.
//! - `foreign`: the fault expectations and the foreign-target wrapper the fault tests share.
//! - `aws_record`: `conform record`, `run --against-recording` and `policy-report`.
//! - `aws_target`: `--target aws` against `conform serve --require-auth` on loopback.
//! - `concurrent`: concurrent clients checked for linearizability; every race found and replayed.
//! - `baseline`: accepted findings stop failing a run, new ones fail it, fixed ones are told.
//! - `fuzz_framing`: the framing fuzz target's corpus replayed through the simulator's router.
//! - `shards`: a run split in shards (`--shard K/N`) and merged (`conform merge`) equals the
//!   whole run's report.
//! - `own_accounts`: an emulator with its own account ids and keys, tested through
//!   `--accounts FILE` (ids rewritten both ways), alone and with concurrent clients.
//! - `partial_emulator`: an emulator without a control plane that implements part of License
//!   Manager: skipped scenarios, operations not implemented, exit codes.
//! - `replay`: a written trace replays to the same finding through `conform replay`.
//! - `http_keepalive`: pooled keep-alive connections survive every kind of request and refusal.
//! - `foreign_target`: no false finding against a faithful target with other id formats, wording
//!   and clock; every fault still found through it.
//! - `harness_faults`: every named fault found, classified and shrunk; none on the faithful one.
//! - `shrink_values`: shrinking lowers a failing case's quantities and maxima, and says so.
//! - `sim_daily`: `conform serve` for product tests: `--start-time`, bind errors, JSON logs.
//! - `sim_python`: AWS CLI v1 and boto3 against the simulator.
//! - `sim_sdk`: the AWS SDK for Rust against the simulator.
//! - `sim_state`: `--state-dir`: restarts, SIGKILL under load, torn and foreign journals.
//! - `sim_wire`: the simulator's wire behaviour over real HTTP.

mod common;
mod foreign;

mod aws_record;
mod aws_target;
mod baseline;
mod concurrent;
mod foreign_target;
mod fuzz_framing;
mod harness_faults;
mod http_keepalive;
mod own_accounts;
mod partial_emulator;
mod replay;
mod shards;
mod shrink_values;
mod sim_daily;
mod sim_python;
mod sim_sdk;
mod sim_state;
mod sim_wire;
