//! # conform-simulator
//!
//! The model behind the AWS wire protocol (`conform serve`): License Manager (AWS JSON 1.1) and
//! EVS (AWS JSON 1.0) on one port, routed by `X-Amz-Target`; STS `GetCallerIdentity` (query
//! protocol) beside them; SigV4 identity (SPEC 1.3); the `/_conform/` control plane.
//!
//! Translation only: every rule about licenses lives in `conform-model`. This crate decodes
//! HTTP, maps credentials to a caller, keeps the model's clock on wall time, and renders the
//! model's `Reply` as AWS would send it.
//!
//! ```no_run
//! use conform_simulator::{Config, Simulator};
//!
//! # async fn demo() -> Result<(), conform_simulator::Error> {
//! let sim = Simulator::new(&Config::default())?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! println!("listening on {}", listener.local_addr()?);
//! conform_simulator::serve(listener, sim, conform_simulator::shutdown_signal()?).await?;
//! # Ok(()) }
//! ```

mod control;
mod conventions;
mod dispatch;
#[cfg(feature = "faults")]
pub mod faults;
pub mod fixtures;
pub mod fuzzing;
pub mod journal;
pub mod persist;
pub mod protocol;
pub mod sigv4;
mod wire;

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::task::{Context, Poll};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use conform_model::ids::IdStreams;
use conform_model::{Caller, Event, Policy, World};

pub use dispatch::Dispatch;
pub(crate) use dispatch::{decode_and_dispatch, model_dispatch};
pub use fixtures::{Account, Fixtures};

/// The default listen address. 4566 is LocalStack's port; conform sits next to it so both can run.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:4580";

/// The largest request body accepted (a limit, DESIGN "limits on everything").
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// How a simulator starts.
#[derive(Clone, Debug)]
pub struct Config {
    pub seed: u64,
    pub policy: Policy,
    pub fixtures: Fixtures,
    /// Keep the model clock where events put it instead of following wall time.
    pub frozen_clock: bool,
    /// Refuse requests without a valid SigV4 signature (SPEC 1.3).
    pub require_auth: bool,
    /// Named faults to switch on (only in a build with the `faults` feature).
    pub faults: Vec<String>,
    /// Where the model clock starts (ms since the epoch); `None`: the model's default start
    /// (`conform_model::clock::DEFAULT_START_MS`) when frozen, wall time otherwise. With a start
    /// and no frozen clock, the clock moves on from the start as wall time passes.
    pub start_ms: Option<i64>,
    /// Requests the journal keeps (`GET /_conform/requests`); 0 keeps none.
    pub journal_capacity: usize,
    /// Keep the world on disk and restore it at start (`--state-dir`); `None` touches no disk.
    pub state: Option<persist::StateConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 1,
            policy: Policy::default(),
            fixtures: Fixtures::default(),
            frozen_clock: false,
            require_auth: false,
            faults: Vec::new(),
            start_ms: None,
            journal_capacity: journal::DEFAULT_CAPACITY,
            state: None,
        }
    }
}

/// Why a simulator could not start or serve.
#[derive(Debug)]
pub enum Error {
    Io(std::io::Error),
    /// A fixtures document or one of its events was refused.
    Fixtures(String),
    /// The listen address could not be bound.
    Bind(SocketAddr, std::io::Error),
    /// The state directory's journal could not be opened, read or replayed.
    State(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Io(e) => write!(f, "{e}"),
            Error::Fixtures(m) | Error::State(m) => write!(f, "{m}"),
            Error::Bind(addr, e) => write!(f, "cannot listen on {addr}: {e}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}

/// The world and the bookkeeping that maps its clock to wall time, behind one lock.
pub(crate) struct Inner {
    pub(crate) world: World,
    /// Wall-clock milliseconds since `started` already handed to the model.
    synced_ms: u128,
    /// The on-disk journal (`--state-dir`), under the world lock so it keeps the model's order.
    pub(crate) store: Option<persist::Store>,
}

/// Why an AWS request got no reply from the model.
pub(crate) enum Failure {
    /// The model panicked.
    Panicked,
    /// The state journal could not be written: the request's effect is not durable.
    Journal(String),
}

/// A running simulator's shared state.
pub struct Simulator {
    inner: Mutex<Inner>,
    accounts: RwLock<BTreeMap<String, Account>>,
    started: Instant,
    frozen_clock: bool,
    require_auth: bool,
    /// Request ids of replies the model never sees (auth faults, oversized bodies, STS,
    /// panics), kept apart from the model's own stream so they do not shift its ids.
    fault_ids: Mutex<IdStreams>,
    pub(crate) dispatch: Dispatch,
    /// The wire-level faults switched on: rewrites of the dispatch's reply.
    #[cfg(feature = "faults")]
    wire_faults: faults::WireFaults,
    /// The races switched on: the simulator's own concurrency done wrong.
    #[cfg(feature = "faults")]
    pub(crate) race_faults: faults::RaceFaults,
    /// The caller of unsigned requests and unknown keys; the policy never changes while serving.
    pub(crate) default_caller: Caller,
    /// Every AWS request and its reply, bounded (`GET /_conform/requests`).
    pub(crate) journal: Mutex<journal::Journal>,
    /// When journaled records reach the disk (`--state-dir`), waited on outside the lock.
    pub(crate) durability: Option<Arc<persist::Durability>>,
}

impl Simulator {
    /// A simulator with the config's world, its clock on wall time unless frozen, and the
    /// fixtures applied.
    pub fn new(config: &Config) -> Result<Arc<Simulator>, Error> {
        Simulator::with_dispatch(config, model_dispatch)
    }

    /// As `new`, answering AWS requests through `dispatch` (fault-injection tests).
    pub fn with_dispatch(config: &Config, dispatch: Dispatch) -> Result<Arc<Simulator>, Error> {
        let wall_ms = wall_ms();
        let mut world = match config.start_ms {
            Some(start) => World::starting_at(config.seed, config.policy.clone(), start),
            None => World::new(config.seed, config.policy.clone()),
        };
        if !config.frozen_clock && config.start_ms.is_none() {
            advance_to(&mut world, wall_ms);
        }
        #[cfg(feature = "faults")]
        let (wire_faults, race_faults) = apply_faults(&mut world, &config.faults)?;
        #[cfg(not(feature = "faults"))]
        apply_faults(&mut world, &config.faults)?;
        let default_caller = world.default_caller();
        let mut sim = Simulator {
            inner: Mutex::new(Inner {
                world,
                synced_ms: 0,
                store: None,
            }),
            accounts: RwLock::new(BTreeMap::new()),
            started: Instant::now(),
            frozen_clock: config.frozen_clock,
            require_auth: config.require_auth,
            fault_ids: Mutex::new(IdStreams::new(config.seed ^ 0x7369_6d75_6c61_746f)),
            dispatch,
            #[cfg(feature = "faults")]
            wire_faults,
            #[cfg(feature = "faults")]
            race_faults,
            default_caller,
            journal: Mutex::new(journal::Journal::new(config.journal_capacity)),
            durability: None,
        };
        let restored = match &config.state {
            Some(state) => sim.open_state(state, config, wall_ms)?,
            None => false,
        };
        // A restored world has its startup fixtures in its journal.
        if !restored {
            sim.load_fixtures(config.fixtures.clone())
                .map_err(Error::Fixtures)?;
        }
        Ok(Arc::new(sim))
    }

    /// Locks the world, first moving its clock to wall time (unless frozen). A poisoned lock is
    /// recovered: model calls run under `catch_unwind`, so poisoning means a panic in this
    /// crate's own bookkeeping, and refusing every later request would help nobody.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        let mut guard = self.inner.lock().unwrap_or_else(|poisoned| {
            self.inner.clear_poison();
            poisoned.into_inner()
        });
        if !self.frozen_clock {
            let elapsed = self.started.elapsed().as_millis();
            let delta = elapsed.saturating_sub(guard.synced_ms);
            if delta > 0 {
                guard.synced_ms = elapsed;
                let millis = i64::try_from(delta).unwrap_or(i64::MAX);
                // Advancing by a non-negative amount cannot be refused; the reply is only now_ms.
                let _ = guard.world.apply(Event::AdvanceClock { seconds: 0, millis });
            }
        }
        guard
    }

    /// The world's state dump as text (what `GET /_conform/state` shows), for checks that a
    /// request changed nothing.
    pub fn state_text(&self) -> String {
        self.lock().world.dump().to_string()
    }

    /// The account an access key signs for.
    pub(crate) fn account(&self, access_key: &str) -> Option<Account> {
        self.accounts
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(access_key)
            .cloned()
    }

    pub(crate) fn fault_request_id(&self) -> String {
        self.fault_ids
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .request_id()
    }

    /// Adds the accounts and applies the events, all or nothing: the events run on a copy of
    /// the world that replaces it only if every one succeeds. Returns each event's reply.
    pub fn load_fixtures(&self, fixtures: Fixtures) -> Result<Vec<serde_json::Value>, String> {
        let (replies, ticket) = self.change(fixtures.accounts, fixtures.events)?;
        self.durable_blocking(ticket)?;
        Ok(replies)
    }

    /// Applies model events all or nothing (see `load_fixtures`).
    pub fn apply_events(&self, events: Vec<Event>) -> Result<Vec<serde_json::Value>, String> {
        self.load_fixtures(Fixtures {
            accounts: Vec::new(),
            events,
        })
    }

    pub fn require_auth(&self) -> bool {
        self.require_auth
    }
}

/// Applies `events` to a copy of `world`: the copy and each event's reply if every one
/// succeeds, else which one failed.
pub(crate) fn apply_all(
    world: &World,
    events: Vec<Event>,
) -> Result<(World, Vec<serde_json::Value>), String> {
    let mut scratch = world.clone();
    let mut replies = Vec::with_capacity(events.len());
    for (i, event) in events.into_iter().enumerate() {
        let applied = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| scratch.apply(event)));
        match applied {
            Ok(Ok(reply)) => replies.push(reply),
            Ok(Err(e)) => return Err(format!("event {i}: {e}")),
            Err(_) => return Err(format!("event {i}: the model panicked; nothing applied")),
        }
    }
    Ok((scratch, replies))
}

/// Milliseconds since the epoch on the wall clock.
fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Moves `world`'s clock to `to_ms` if that is later (advancing cannot be refused).
pub(crate) fn advance_to(world: &mut World, to_ms: i64) {
    let behind = to_ms.saturating_sub(world.now_ms());
    if behind > 0 {
        let _ = world.apply(Event::AdvanceClock {
            seconds: 0,
            millis: behind,
        });
    }
}

/// The routes: AWS on `POST /`, the control plane under `/_conform/`, the shared conventions
/// (`GET /`, health, LocalStack's health and reset; `conventions`), every reply stamped with
/// `x-conform-simulator`. A reply given before its
/// request body was read to the end says `Connection: close` (`close_if_body_unread`).
pub fn router(sim: Arc<Simulator>) -> Router {
    Router::new()
        .route("/", post(wire::aws).get(conventions::index))
        .route("/_conform/health", get(conventions::health))
        .route("/_conform/capabilities", get(conventions::capabilities))
        .route("/_localstack/health", get(conventions::localstack_health))
        .route("/_localstack/state/reset", post(conventions::localstack_reset))
        .route("/_conform/reset", post(control::reset))
        .route("/_conform/clock", post(control::clock))
        .route("/_conform/fixtures", post(control::fixtures))
        .route("/_conform/events", post(control::events))
        .route("/_conform/state", get(control::state))
        .route("/_conform/jwks", get(control::jwks))
        .route("/_conform/requests", get(journal::list).delete(journal::clear))
        .fallback(wire::no_route)
        .layer(middleware::from_fn(close_if_body_unread))
        .layer(middleware::from_fn(conventions::stamp))
        .with_state(sim)
}

/// Says `Connection: close` on a reply given before its request body was read to the end.
///
/// hyper settles a connection's keep-alive only after the reply head is on the wire: a reply
/// to a request whose body was not read (an oversized body refused on its declared length or
/// part-way, a route that takes no body) goes out as keep-alive, and then hyper closes the
/// connection because the rest of the body is still unread in it. A pooling client keeps that
/// connection and its next request on it fails with "Unexpected EOF" (a POST is not retried).
/// Saying `close` tells the client not to reuse it. Unread bodies are not drained instead: a
/// refused oversized body would be read up to a length the client chose.
async fn close_if_body_unread(req: Request, next: Next) -> Response {
    let read = Arc::new(AtomicBool::new(req.body().is_end_stream()));
    let watched = read.clone();
    let req = req.map(|inner| Body::new(WatchedBody { inner, read: watched }));
    let mut response = next.run(req).await;
    if !read.load(Ordering::Acquire) {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// A request body that records when it has been read to its end.
struct WatchedBody {
    inner: Body,
    read: Arc<AtomicBool>,
}

impl HttpBody for WatchedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.read.store(true, Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Serves until `shutdown` completes, then lets in-flight requests finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    sim: Arc<Simulator>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    use axum::serve::ListenerExt;
    // Small request/response exchanges: do not let Nagle's algorithm hold replies back.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, router(sim))
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

/// A future that completes on SIGINT or SIGTERM. The handlers are installed by this call (it
/// must run inside a tokio runtime), so a signal sent right after it returns is not lost to the
/// default action.
pub fn shutdown_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

/// Binds `listen`, calls `ready` with the bound address once connections are accepted, and
/// serves until SIGINT or SIGTERM. Builds its own runtime (the CLI has none).
pub fn run_blocking(config: Config, listen: SocketAddr, ready: impl FnOnce(SocketAddr)) -> Result<(), Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let sim = Simulator::new(&config)?;
        let shutdown = shutdown_signal()?;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| Error::Bind(listen, e))?;
        ready(listener.local_addr()?);
        serve(listener, sim.clone(), shutdown).await?;
        sim.close().map_err(Error::State)
    })
}

/// A simulator serving on a loopback port from a background thread (the embedded target of
/// `conform run`); it stops when dropped.
pub struct Background {
    pub addr: SocketAddr,
    pub sim: Arc<Simulator>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Background {
    /// Starts a simulator with `config` on `127.0.0.1` and a free port.
    pub fn start(config: &Config) -> Result<Background, Error> {
        let sim = Simulator::new(config)?;
        // One thread: a harness sends one request at a time and the model answers behind one
        // lock, so more workers would only add a cross-thread wake-up to every request.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = sim.clone();
        let thread = std::thread::spawn(move || {
            let _ = runtime.block_on(serve(listener, serving, async {
                let _ = stopped.await;
            }));
        });
        Ok(Background {
            addr,
            sim,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The faults this build knows: (name, what it does), the model's rules done wrong and then the
/// simulator's wire rewrites. Empty without the `faults` feature.
pub fn fault_names() -> Vec<(&'static str, &'static str)> {
    #[cfg(feature = "faults")]
    {
        let model = conform_model::faults::Fault::ALL
            .iter()
            .map(|f| (f.name(), f.about()));
        let wire = faults::WireFault::ALL.iter().map(|f| (f.name(), f.about()));
        model.chain(wire).collect()
    }
    #[cfg(not(feature = "faults"))]
    {
        Vec::new()
    }
}

/// The races this build knows (name, what it does): faults of the simulator's concurrency,
/// found by concurrent clients (`conform run --clients N`), not by one client in sequence.
/// Empty without the `faults` feature.
pub fn race_fault_names() -> Vec<(&'static str, &'static str)> {
    #[cfg(feature = "faults")]
    {
        faults::RaceFault::ALL
            .iter()
            .map(|f| (f.name(), f.about()))
            .collect()
    }
    #[cfg(not(feature = "faults"))]
    {
        Vec::new()
    }
}

/// Switches the named faults on: the model's in `world`, the wire faults and the races in the
/// returned sets.
#[cfg(feature = "faults")]
pub(crate) fn apply_faults(
    world: &mut World,
    names: &[String],
) -> Result<(faults::WireFaults, faults::RaceFaults), Error> {
    let mut wire = faults::WireFaults::default();
    let mut races = faults::RaceFaults::default();
    for name in names {
        if let Some(fault) = conform_model::faults::Fault::from_name(name) {
            world.set_fault(fault);
        } else if let Some(fault) = faults::WireFault::from_name(name) {
            wire.insert(fault);
        } else if let Some(race) = faults::RaceFault::from_name(name) {
            races.insert(race);
        } else {
            return Err(Error::Fixtures(format!(
                "unknown fault '{name}' (see --list-faults)"
            )));
        }
    }
    Ok((wire, races))
}

#[cfg(not(feature = "faults"))]
pub(crate) fn apply_faults(_world: &mut World, names: &[String]) -> Result<(), Error> {
    match names.first() {
        Some(name) => Err(Error::Fixtures(format!(
            "fault '{name}': this conform was built without the `faults` feature (cargo build --features faults)"
        ))),
        None => Ok(()),
    }
}
