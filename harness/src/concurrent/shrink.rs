//! The smallest concurrent history that still has no linearization: the round run again
//! without whole clients, then without single calls. A race need not show every time, so a
//! candidate is kept only when `KEPT_AFTER` of its `attempts` runs show a violation (kept on
//! a single lucky run, the candidates drift toward ones that almost never show it), and the
//! result is run once more before its trace is written: where that finds nothing, the last
//! candidate kept before it stands instead. Needs a target that resets: a round is run again
//! from the same start.

use std::fmt::Write as _;
use std::time::Instant;

use super::check::{Checked, Verdict};
use super::history::{columns, Entry, FINAL};
use super::trace::ConcurrentTrace;
use super::workload::Programs;
use super::{run_round, ConcurrentFinding, Config, Connect, Round};
use crate::target::{InfraError, Target};

/// How many runs of a candidate must show a violation for the shrinker to keep it.
pub const KEPT_AFTER: usize = 2;

/// Runs `programs` in round `round` up to `attempts` times, stopping once `need` runs showed
/// a violation (the last of them is returned) or once too few runs are left for that.
pub fn reproduce(
    main: &mut dyn Target,
    connect: Connect,
    cfg: &Config,
    round: u64,
    programs: &Programs,
    attempts: usize,
    need: usize,
) -> Result<Option<Round>, InfraError> {
    let need = need.max(1);
    let attempts = attempts.max(need);
    let mut seen = 0;
    for run in 0..attempts {
        if attempts - run < need - seen {
            break;
        }
        let (_, ran) = run_round(main, connect, cfg, round, Some(programs))?;
        if ran.violation().is_some() {
            seen += 1;
            if seen == need {
                return Ok(Some(ran));
            }
        }
    }
    Ok(None)
}

/// Shrinks a round's violation and writes its trace.
pub fn minimal(
    main: &mut dyn Target,
    connect: Connect,
    cfg: &Config,
    round: u64,
    programs: Programs,
    ran: Round,
) -> Result<ConcurrentFinding, InfraError> {
    let mut best = (programs, ran);
    // The candidates kept before `best`, the round's own programs first.
    let mut earlier = Vec::new();
    if main.capabilities().reset {
        let deadline = Instant::now() + cfg.shrink_time;
        for c in 0..best.0.clients() {
            if Instant::now() > deadline {
                break;
            }
            if best.0.programs[c].is_empty() {
                continue;
            }
            let candidate = best.0.without_client(c);
            if let Some(r) = reproduce(main, connect, cfg, round, &candidate, cfg.attempts, KEPT_AFTER)? {
                earlier.push(std::mem::replace(&mut best, (candidate, r)));
            }
        }
        for c in 0..best.0.clients() {
            let mut j = best.0.programs[c].len();
            while j > 0 && Instant::now() < deadline {
                j -= 1;
                let candidate = best.0.without_step(c, j);
                if let Some(r) = reproduce(main, connect, cfg, round, &candidate, cfg.attempts, KEPT_AFTER)? {
                    earlier.push(std::mem::replace(&mut best, (candidate, r)));
                }
            }
        }
        // The trace must replay: the smallest kept candidate that shows its violation once
        // more stands (the round's own programs, where none of the smaller ones does).
        while let Some(previous) = earlier.pop() {
            match reproduce(main, connect, cfg, round, &best.0, cfg.attempts, 1)? {
                Some(r) => {
                    best.1 = r;
                    break;
                }
                None => best = previous,
            }
        }
    }
    let (programs, ran) = best;
    let checked = ran
        .violation()
        .ok_or_else(|| InfraError::Other("a shrunk round lost its violation".into()))?;
    let text = render(&ran.entries, checked);
    let mut trace_path = None;
    if let Some(dir) = &cfg.trace_dir {
        let trace = ConcurrentTrace::new(cfg, round, programs.clone(), text.clone());
        std::fs::create_dir_all(dir).map_err(|e| InfraError::Other(format!("{}: {e}", dir.display())))?;
        let path = dir.join(format!("concurrent-seed{}-round{round}.json", cfg.seed));
        trace.write(&path).map_err(InfraError::Other)?;
        trace_path = Some(path);
    }
    Ok(ConcurrentFinding {
        round,
        group: checked.group,
        text,
        clients: programs.programs.iter().filter(|p| !p.is_empty()).count(),
        calls: programs.calls(),
        trace: trace_path,
    })
}

fn who(e: &Entry) -> String {
    if e.client == FINAL {
        format!("read-back #{}", e.index)
    } else {
        format!("client {} #{}", e.client, e.index)
    }
}

/// The group's history as columns, then why its replies cannot all be true.
pub fn render(entries: &[Entry], checked: &Checked) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "license {}: no order of these {} calls gives every reply they got",
        checked.group,
        checked.entries.len()
    );
    out.push_str(&columns(entries, Some(&checked.entries)));
    if let Verdict::Violation(v) = &checked.verdict {
        if v.linearized.is_empty() {
            out.push_str("Nothing can come first:\n");
        } else {
            let order: Vec<String> = v
                .linearized
                .iter()
                .map(|&i| {
                    format!(
                        "{} {} → {}",
                        who(&entries[i]),
                        entries[i].name(),
                        entries[i].result()
                    )
                })
                .collect();
            let _ = writeln!(
                out,
                "The longest order that fits ({} calls): {}\nAfter it, no call that may come next gets the reply it got:",
                order.len(),
                order.join(", ")
            );
        }
        for m in &v.stuck {
            let e = &entries[m.entry];
            let _ = writeln!(
                out,
                "  {} {}: the model answers {}, the target answered {} (differs at {})",
                who(e),
                e.describe(),
                brief(&m.expected),
                brief(&m.observed),
                m.paths.join(", ")
            );
        }
    }
    out
}

fn brief(r: &crate::driver::Reply) -> String {
    match &r.error {
        Some(e) => e.clone(),
        None => {
            let text = r.body.to_string();
            if text.len() > 160 {
                format!("{}…", text.chars().take(160).collect::<String>())
            } else {
                text
            }
        }
    }
}
