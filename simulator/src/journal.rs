//! What the simulator was asked and what it answered (issue #18): every AWS request on
//! `POST /` becomes one `Entry`, logged through `tracing` (target `conform::request`) and kept
//! in a bounded in-memory journal that `GET /_conform/requests` shows (newest last, filtered by
//! operation, account and outcome) and `DELETE /_conform/requests` clears. A product's tests
//! assert on what the product sent.
//!
//! The journal holds at most `Config::journal_capacity` entries (the oldest dropped first), and
//! each entry keeps at most `MAX_KEPT_BODY_BYTES` of its request and reply bodies, so memory is
//! bounded whatever the load.

use std::collections::VecDeque;
use std::sync::{Arc, PoisonError};
use std::time::Instant;

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use conform_model::explain::Explanation;
use conform_model::Caller;
use serde::Serialize;
use serde_json::{json, Value};

use crate::Simulator;

/// Entries kept by default.
pub const DEFAULT_CAPACITY: usize = 1000;

/// A request or reply body larger than this is kept as its size only.
pub const MAX_KEPT_BODY_BYTES: usize = 64 * 1024;

/// What the request handler learned about one request, filled as it goes.
#[derive(Default)]
pub(crate) struct Note {
    pub(crate) caller: Option<Caller>,
    /// The `X-Amz-Target` as sent (empty when absent).
    pub(crate) target: String,
    pub(crate) request: Kept,
    pub(crate) explanation: Option<Explanation>,
}

impl Note {
    /// Keeps a copy of the request body: the body itself may be a slice of the connection's
    /// read buffer, which a journal entry must not hold on to.
    pub(crate) fn body(&mut self, body: &[u8]) {
        self.request = Kept::of(Bytes::copy_from_slice(body));
    }
}

/// A body as recorded: its bytes (a reference count for replies), or its size past the limit.
/// It is parsed only when the journal is read, so recording costs no JSON work.
#[derive(Clone, Debug, Default)]
pub struct Kept(Option<Bytes>, usize);

impl Kept {
    fn of(bytes: Bytes) -> Kept {
        let len = bytes.len();
        Kept((len <= MAX_KEPT_BODY_BYTES).then_some(bytes), len)
    }

    /// The body as shown: its JSON when it is JSON, else its text; its size past the limit.
    pub fn value(&self) -> Value {
        match &self.0 {
            Some(bytes) => kept(bytes),
            None => json!({ "omitted_bytes": self.1 }),
        }
    }
}

impl Serialize for Kept {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value().serialize(s)
    }
}

/// One request and its reply.
#[derive(Clone, Debug, Serialize)]
pub struct Entry {
    /// Position in the simulator's life (1-based, never reused, also across `DELETE`).
    pub seq: u64,
    pub request_id: String,
    /// The caller's account; absent when authentication refused the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The operation the target names (`CheckoutLicense`), or the target as sent.
    pub operation: String,
    pub target: String,
    /// `ok`, or the error type (`NoEntitlementsAllowedException`).
    pub outcome: String,
    pub status: u16,
    pub latency_us: u64,
    pub request: Kept,
    pub reply: Kept,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Explanation>,
}

/// The bounded journal.
pub(crate) struct Journal {
    capacity: usize,
    next_seq: u64,
    entries: VecDeque<Entry>,
}

impl Journal {
    pub(crate) fn new(capacity: usize) -> Self {
        Journal {
            capacity,
            next_seq: 1,
            entries: VecDeque::new(),
        }
    }

    fn push(&mut self, mut entry: Entry) {
        entry.seq = self.next_seq;
        self.next_seq += 1;
        if self.capacity == 0 {
            return;
        }
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
    }
}

/// A kept body shown: its JSON when it is JSON, else its text (`null` when empty).
fn kept(bytes: &[u8]) -> Value {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Value::Null;
    }
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

/// Logs and journals one answered request; returns the response as it was.
pub(crate) async fn record(
    sim: &Arc<Simulator>,
    note: Note,
    response: Response,
    started: Instant,
) -> Response {
    let (parts, body) = response.into_parts();
    // Every reply here is built in memory by this crate, so collecting it cannot wait on I/O.
    let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let error_type = header(crate::wire::ERROR_TYPE);
    let outcome = if error_type.is_empty() {
        "ok".to_string()
    } else {
        error_type
    };
    let operation = match note.target.split_once('.') {
        Some((_, op)) => op.to_string(),
        None => note.target.clone(),
    };
    let entry = Entry {
        seq: 0,
        request_id: header(crate::wire::REQUEST_ID),
        account: note.caller.as_ref().map(|c| c.account.clone()),
        region: note.caller.map(|c| c.region),
        operation,
        target: note.target,
        outcome,
        status: parts.status.as_u16(),
        latency_us: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        request: note.request,
        reply: Kept::of(bytes.clone()),
        explanation: note.explanation,
    };
    log(&entry);
    sim.journal
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(entry);
    Response::from_parts(parts, Body::from(bytes))
}

fn log(e: &Entry) {
    let account = e.account.as_deref().unwrap_or("-");
    let explanation = e.explanation.as_ref().map(Explanation::summary);
    let explanation = explanation.as_deref().unwrap_or("");
    if e.status >= 500 {
        tracing::error!(target: "conform::request", request_id = %e.request_id, account, operation = %e.operation,
            outcome = %e.outcome, status = e.status, latency_us = e.latency_us, explanation, "request");
    } else {
        tracing::info!(target: "conform::request", request_id = %e.request_id, account, operation = %e.operation,
            outcome = %e.outcome, status = e.status, latency_us = e.latency_us, explanation, "request");
    }
}

/// The filters of `GET /_conform/requests`, each optional and exact.
#[derive(Default)]
struct Filter {
    operation: Option<String>,
    account: Option<String>,
    outcome: Option<String>,
}

impl Filter {
    /// Reads `operation`, `account` and `outcome` from a query string; any other name is refused.
    fn parse(query: &str) -> Result<Filter, String> {
        let mut f = Filter::default();
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            let slot = match k.as_ref() {
                "operation" => &mut f.operation,
                "account" => &mut f.account,
                "outcome" => &mut f.outcome,
                other => {
                    return Err(format!(
                        "unknown filter '{other}' (use operation, account, outcome)"
                    ))
                }
            };
            *slot = Some(v.into_owned());
        }
        Ok(f)
    }

    fn keeps(&self, e: &Entry) -> bool {
        self.operation.as_ref().is_none_or(|o| *o == e.operation)
            && self
                .account
                .as_ref()
                .is_none_or(|a| Some(a) == e.account.as_ref())
            && self.outcome.as_ref().is_none_or(|o| *o == e.outcome)
    }
}

fn json_reply(status: StatusCode, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let mut r = (status, bytes).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

/// `GET /_conform/requests?operation=&account=&outcome=`: the kept entries, newest last.
pub(crate) async fn list(State(sim): State<Arc<Simulator>>, uri: Uri) -> Response {
    let filter = match Filter::parse(uri.query().unwrap_or_default()) {
        Ok(f) => f,
        Err(m) => return json_reply(StatusCode::BAD_REQUEST, &json!({ "error": m })),
    };
    let journal = sim.journal.lock().unwrap_or_else(PoisonError::into_inner);
    let requests: Vec<&Entry> = journal.entries.iter().filter(|e| filter.keeps(e)).collect();
    json_reply(
        StatusCode::OK,
        &json!({ "capacity": journal.capacity, "requests": requests }),
    )
}

/// `DELETE /_conform/requests`: forgets every kept entry.
pub(crate) async fn clear(State(sim): State<Arc<Simulator>>) -> Response {
    let mut journal = sim.journal.lock().unwrap_or_else(PoisonError::into_inner);
    let cleared = journal.entries.len();
    journal.entries.clear();
    json_reply(StatusCode::OK, &json!({ "cleared": cleared }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(op: &str) -> Entry {
        Entry {
            seq: 0,
            request_id: String::new(),
            account: Some("111122223333".into()),
            region: None,
            operation: op.into(),
            target: String::new(),
            outcome: "ok".into(),
            status: 200,
            latency_us: 0,
            request: Kept::default(),
            reply: Kept::default(),
            explanation: None,
        }
    }

    #[test]
    fn the_journal_keeps_the_newest_entries_within_its_capacity() {
        let mut j = Journal::new(2);
        for op in ["A", "B", "C"] {
            j.push(entry(op));
        }
        let kept: Vec<(u64, &str)> = j.entries.iter().map(|e| (e.seq, e.operation.as_str())).collect();
        assert_eq!(kept, vec![(2, "B"), (3, "C")]);
    }

    #[test]
    fn a_body_past_the_limit_is_kept_as_its_size() {
        let big = Bytes::from(vec![b' '; MAX_KEPT_BODY_BYTES + 1]);
        assert_eq!(
            Kept::of(big).value(),
            json!({ "omitted_bytes": MAX_KEPT_BODY_BYTES + 1 })
        );
        assert_eq!(
            Kept::of(Bytes::from_static(br#"{"a":1}"#)).value(),
            json!({"a": 1})
        );
        assert_eq!(Kept::of(Bytes::from_static(b"a=b")).value(), json!("a=b"));
    }
}

#[cfg(test)]
mod http_tests;
