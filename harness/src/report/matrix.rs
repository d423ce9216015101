//! The conformance matrix: every operation in scope against what the run saw of it, with the
//! steps behind each cell and a one-line score. Derived from a [`Summary`] alone, so a merged
//! summary gives the matrix of the runs it merges. `--matrix FILE` writes it as Markdown; the
//! JSON report carries it as `matrix`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use conform_model::Service;
use serde::Serialize;

use super::Reporter;
use crate::campaign::Summary;
use crate::driver::Classification;

/// What the run saw of one operation, worst first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    NotImplemented,
    HardFailure,
    PolicyDivergence,
    Conformant,
    NotReached,
}

impl Status {
    fn text(self) -> &'static str {
        match self {
            Status::NotImplemented => "not implemented",
            Status::HardFailure => "hard failure",
            Status::PolicyDivergence => "policy divergence",
            Status::Conformant => "conformant",
            Status::NotReached => "not reached",
        }
    }
}

/// One operation's row: steps behind each cell.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Row {
    pub operation: String,
    pub service: String,
    pub status: Status,
    /// Steps that agreed with the model.
    pub conformant: usize,
    /// Cases that diverged, by the `[P]` switch that explains them.
    pub policy_divergence: BTreeMap<String, usize>,
    /// Cases with a hard failure or a schema violation at this operation.
    pub hard_failure: usize,
    /// Calls the target answered as an operation it does not implement.
    pub not_implemented: usize,
}

/// The matrix and its score.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Matrix {
    pub rows: Vec<Row>,
    pub score: String,
}

fn service_name(s: Service) -> &'static str {
    match s {
        Service::LicenseManager => "license-manager",
        Service::Evs => "evs",
    }
}

/// The matrix of a run.
pub fn matrix(s: &Summary) -> Matrix {
    let mut rows = Vec::new();
    for service in [Service::LicenseManager, Service::Evs] {
        for op in conform_model::operations(service) {
            let steps: usize = s.coverage.get(*op).map_or(0, |o| o.values().sum());
            let mut row = Row {
                operation: op.to_string(),
                service: service_name(service).into(),
                status: Status::NotReached,
                conformant: 0,
                policy_divergence: BTreeMap::new(),
                hard_failure: 0,
                not_implemented: s.not_implemented.get(*op).map_or(0, |(_, n)| *n),
            };
            let mut diverged = 0;
            for f in s.findings.iter().filter(|f| f.finding.operation == *op) {
                let cases = 1 + f.repeats.len();
                diverged += cases;
                match &f.finding.classification {
                    Classification::PolicyDivergence { switch } => {
                        *row.policy_divergence.entry(switch.clone()).or_default() += cases
                    }
                    Classification::HardFailure | Classification::SchemaViolation => {
                        row.hard_failure += cases
                    }
                }
            }
            row.conformant = steps.saturating_sub(diverged);
            row.status = if row.not_implemented > 0 {
                Status::NotImplemented
            } else if row.hard_failure > 0 {
                Status::HardFailure
            } else if !row.policy_divergence.is_empty() {
                Status::PolicyDivergence
            } else if row.conformant > 0 {
                Status::Conformant
            } else {
                Status::NotReached
            };
            rows.push(row);
        }
    }
    let count = |st: Status| rows.iter().filter(|r| r.status == st).count();
    let score = format!(
        "{} of {} operations conformant ({} policy divergence, {} hard failure, {} not implemented, {} not reached)",
        count(Status::Conformant),
        rows.len(),
        count(Status::PolicyDivergence),
        count(Status::HardFailure),
        count(Status::NotImplemented),
        count(Status::NotReached)
    );
    Matrix { rows, score }
}

/// The matrix as a Markdown table, its score first.
pub fn markdown(m: &Matrix) -> String {
    let mut out = format!("**{}**\n\n", m.score);
    out.push_str("| operation | service | status | conformant | policy divergence (switch) | hard failure | not implemented |\n");
    out.push_str("|---|---|---|---:|---|---:|---:|\n");
    let dash = |n: usize| if n == 0 { "·".to_string() } else { n.to_string() };
    for r in &m.rows {
        let policy = if r.policy_divergence.is_empty() {
            "·".to_string()
        } else {
            r.policy_divergence
                .iter()
                .map(|(s, n)| format!("{n} ({s})"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {policy} | {} | {} |\n",
            r.operation,
            r.service,
            r.status.text(),
            dash(r.conformant),
            dash(r.hard_failure),
            dash(r.not_implemented)
        ));
    }
    out
}

/// Writes [`markdown`] of the run's matrix to a file when the campaign ends (`--matrix FILE`).
pub struct MatrixFile(pub PathBuf);

impl Reporter for MatrixFile {
    fn finish(&mut self, summary: &Summary) -> std::io::Result<()> {
        std::fs::write(&self.0, markdown(&matrix(summary)))
    }
}
