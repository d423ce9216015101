//! The check behind the `framing` fuzz target, shared with the stable replay test
//! (`tests/fuzz_framing.rs`): arbitrary bytes become an HTTP request (method, path, the
//! `X-Amz-Target`, `Content-Type`, `Authorization` and `X-Amz-Date` headers, a body) sent
//! through the simulator's router. Whatever the bytes, the reply must be an AWS-shaped answer:
//! a status below 500, an `x-amzn-RequestId` on every AWS reply, and a JSON body with `__type`
//! on every JSON error; and no request may change the world unless it is a valid AWS call.

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use crate::{router, Config, Simulator};

/// The request a fuzz input describes. Fields are split by 0xFF bytes, so any byte string
/// decodes and short inputs still reach the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Framing {
    pub post: bool,
    pub path: String,
    pub target: Vec<u8>,
    pub content_type: Vec<u8>,
    pub authorization: Vec<u8>,
    pub amz_date: Vec<u8>,
    pub body: Vec<u8>,
}

impl Framing {
    pub fn from_bytes(data: &[u8]) -> Framing {
        let (first, rest) = data.split_first().map_or((0, &[][..]), |(f, r)| (*f, r));
        let mut parts = rest.splitn(5, |b| *b == 0xFF);
        let mut next = || parts.next().unwrap_or_default().to_vec();
        let target = next();
        let content_type = next();
        let authorization = next();
        let amz_date = next();
        let body = next();
        let path = match first % 4 {
            0 | 1 => "/",
            2 => "/_conform/state",
            _ => "/nowhere",
        };
        Framing {
            post: first % 8 != 7,
            path: path.to_string(),
            target,
            content_type,
            authorization,
            amz_date,
            body,
        }
    }
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        // A fuzz process has no way to go on without a runtime; this is not input-derived.
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime")
    })
}

fn simulator() -> Arc<Simulator> {
    static SIM: OnceLock<Arc<Simulator>> = OnceLock::new();
    SIM.get_or_init(|| {
        Simulator::new(&Config {
            frozen_clock: true,
            ..Config::default()
        })
        .expect("simulator")
    })
    .clone()
}

/// Sends the request a fuzz input describes and checks the reply.
pub fn check_framing(data: &[u8]) -> Result<(), String> {
    let f = Framing::from_bytes(data);
    let sim = simulator();
    let mut builder = Request::builder()
        .method(if f.post { "POST" } else { "GET" })
        .uri(&f.path);
    for (name, value) in [
        ("x-amz-target", &f.target),
        ("content-type", &f.content_type),
        ("authorization", &f.authorization),
        ("x-amz-date", &f.amz_date),
    ] {
        if !value.is_empty() {
            if let Ok(v) = axum::http::HeaderValue::from_bytes(value) {
                builder = builder.header(name, v);
            }
        }
    }
    let Ok(request) = builder.body(Body::from(f.body.clone())) else {
        return Ok(());
    };
    let before = sim.state_text();
    let (status, request_id, body) = runtime().block_on(async {
        let response = router(sim.clone())
            .oneshot(request)
            .await
            .map_err(|e| format!("router: {e}"))?;
        let status = response.status().as_u16();
        let request_id = response.headers().get("x-amzn-requestid").is_some();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("body: {e}"))?
            .to_bytes();
        Ok::<_, String>((status, request_id, body))
    })?;
    if status >= 500 {
        return Err(format!("status {status} for {f:?}"));
    }
    let aws_path = f.path == "/" && f.post;
    if aws_path && !request_id {
        return Err(format!("no x-amzn-RequestId for {f:?}"));
    }
    if status >= 400 && body.first() == Some(&b'{') {
        let v: Value =
            serde_json::from_slice(&body).map_err(|e| format!("error body is not JSON ({e}) for {f:?}"))?;
        if aws_path && v.get("__type").is_none() {
            return Err(format!("error without __type: {v} for {f:?}"));
        }
    }
    if status >= 400 && sim.state_text() != before {
        return Err(format!("a refused request changed the state: {f:?}"));
    }
    Ok(())
}
