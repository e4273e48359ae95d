//! The HTTP side: shared state, the gateway every API call passes through (counters, latency,
//! bearer check, injected faults, malformed bodies) and the router built from the configured paths.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use serde::Serialize;

use super::SandboxOptions;
use super::auth::{self, Tokens};
use super::control;
use super::error::ApiError;
use super::faults::{Counters, FaultState, Operation};
use super::persist::{PersistError, WorldFile};
use super::routes;
use super::state::World;

/// The state handlers share.
pub(crate) type AppState = Arc<Shared>;

/// Options, the start instant (for monotonic counter timestamps) and the mutable state.
#[derive(Debug)]
pub(crate) struct Shared {
    pub opts: SandboxOptions,
    started: Instant,
    inner: Mutex<Inner>,
}

/// Everything that changes. Locked briefly, never across an `.await`.
#[derive(Debug)]
pub(crate) struct Inner {
    pub world: World,
    pub tokens: Tokens,
    pub faults: FaultState,
    pub counters: Counters,
    request_seq: u64,
    /// Where the world is kept across restarts, if anywhere.
    file: Option<WorldFile>,
}

impl Inner {
    /// Writes the world to its file if it changed since the last save (no file: nothing to do).
    ///
    /// Called under the lock, before the answer to the change is sent: saves happen in the order
    /// of the changes, and nobody is told of a change that a crash could still lose. The cost is
    /// a small file write per change, which a local simulator can afford.
    pub fn save_world(&mut self) -> Result<(), PersistError> {
        match &mut self.file {
            Some(file) => file.save_if_changed(&self.world),
            None => Ok(()),
        }
    }
}

impl Shared {
    /// The state `opts` describe: the world read from `opts.world_file` when that exists, else the
    /// seeded one (written there at once when a file is given).
    pub fn new(opts: SandboxOptions) -> Result<Self, PersistError> {
        let (world, file) = match &opts.world_file {
            Some(path) => {
                let (world, file) = WorldFile::open(path, opts.seed)?;
                (world, Some(file))
            }
            None => (World::seeded(opts.seed), None),
        };
        let inner = Inner {
            world,
            tokens: Tokens::new(opts.seed),
            faults: FaultState::new(opts.faults.clone(), opts.seed),
            counters: Counters::default(),
            request_seq: 0,
            file,
        };
        Ok(Self {
            opts,
            started: Instant::now(),
            inner: Mutex::new(inner),
        })
    }

    /// Runs `change` under the lock, then saves the world if it changed. A failed save is logged:
    /// the change stands in memory and the next save writes it.
    pub fn change<T>(&self, change: impl FnOnce(&mut Inner) -> T) -> T {
        let mut inner = self.lock();
        let out = change(&mut inner);
        if let Err(e) = inner.save_world() {
            tracing::error!(error = %e, "sandbox world not saved");
        }
        out
    }

    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panicking handler must not take the whole sandbox down with it.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Back to the seeded account, the configured faults and zero counters. Issued tokens stay
    /// valid: a client's cached token should survive a test's reset. New ids still follow every
    /// id given out before.
    pub fn reset(&self) {
        self.change(|inner| {
            inner.world = inner.world.reseeded(self.opts.seed);
            inner.faults = FaultState::new(self.opts.faults.clone(), self.opts.seed);
            inner.counters = Counters::default();
            inner.request_seq = 0;
        });
    }
}

/// A successful API answer: always 200 with a JSON (or empty) body, plus extra headers.
#[derive(Debug, Default)]
pub(crate) struct Reply {
    body: String,
    headers: Vec<(&'static str, String)>,
}

impl Reply {
    pub fn json<T: Serialize>(value: &T) -> Result<Self, ApiError> {
        serde_json::to_string(value)
            .map(|body| Self {
                body,
                headers: Vec::new(),
            })
            .map_err(|e| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    super::error::code::INTERNAL,
                    "Internal error",
                    e.to_string(),
                )
            })
    }

    pub fn json_value(value: &serde_json::Value) -> Self {
        Self {
            body: value.to_string(),
            headers: Vec::new(),
        }
    }

    pub fn empty() -> Self {
        Self::default()
    }

    pub fn with_header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }
}

/// Response header carrying the request id, as Orange's gateway sends it.
const REQUEST_ID_HEADER: &str = "X-OAPI-Request-Id";

/// Runs one API call the way Orange's gateway would: counts it, waits the injected latency,
/// checks the bearer token (except on the token endpoint), injects faults, runs `handler`, maybe
/// breaks the body, and records the status.
pub(crate) async fn gateway(
    shared: &Shared,
    op: Operation,
    headers: &HeaderMap,
    handler: impl FnOnce(&mut Inner) -> Result<Reply, ApiError>,
) -> Response {
    let latency = {
        let mut inner = shared.lock();
        inner.counters.record_call(op, shared.elapsed_ms());
        inner.faults.latency_ms(op)
    };
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let mut guard = shared.lock();
    // A plain reference, so that fields can be borrowed separately.
    let inner: &mut Inner = &mut guard;
    let now = inner.world.now();
    let outcome = if op == Operation::Token {
        Ok(())
    } else {
        let ttl = shared.opts.token_ttl;
        inner.tokens.check(headers, now, ttl, &inner.faults.config)
    }
    .and_then(|()| inner.faults.inject(op).map_or(Ok(()), Err))
    .and_then(|()| handler(inner))
    .and_then(|reply| {
        inner
            .faults
            .fail_after_processing(op)
            .map_or(Ok(reply), Err)
    })
    .map(|mut reply| {
        reply.body = inner.faults.malform(op, std::mem::take(&mut reply.body));
        reply
    });
    // Whatever the answer, a change the call made is saved before anyone hears of it. A change
    // that could not be saved is answered as a backend failure after processing.
    let outcome = match inner.save_world() {
        Ok(()) => outcome,
        Err(e) => {
            tracing::error!(error = %e, "sandbox world not saved");
            Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                super::error::code::INTERNAL,
                "Internal error",
                "the sandbox could not save its state",
            ))
        }
    };
    inner.request_seq += 1;
    let request_id = format!("sandbox-{:08}", inner.request_seq);
    let mut response = match outcome {
        Ok(reply) => ok_response(reply),
        Err(e) => e.into_response(),
    };
    inner.counters.record_status(op, response.status().as_u16());
    drop(guard);
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, v);
    }
    response
}

fn ok_response(reply: Reply) -> Response {
    let mut response = (StatusCode::OK, reply.body).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    for (name, value) in reply.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            h.insert(n, v);
        }
    }
    response
}

/// The API routes at the configured paths (routed by method where paths coincide), the token
/// endpoint, the control API, and Orange-shaped 404/405 for everything else.
///
/// Fails (rather than letting axum panic) when a path does not start with `/`, an id path lacks
/// `{id}`, or two operations claim the same method on the same path.
pub(crate) fn router(shared: AppState) -> Result<Router, String> {
    type Add = fn(MethodRouter<AppState>) -> MethodRouter<AppState>;
    let p = &shared.opts.paths;
    let routes: [(&str, &str, bool, Add); 7] = [
        (&p.service_numbers, "GET", false, |m| {
            m.get(routes::service_numbers)
        }),
        (&p.create_ticket, "POST", false, |m| {
            m.post(routes::create_ticket)
        }),
        (&p.add_comment, "PATCH", true, |m| {
            m.patch(routes::add_comment)
        }),
        (&p.get_ticket, "GET", true, |m| m.get(routes::get_ticket)),
        (&p.search, "GET", false, |m| m.get(routes::search)),
        (&p.api_status, "GET", false, |m| m.get(routes::api_status)),
        (&shared.opts.token_path, "POST", false, |m| {
            m.post(auth::token)
        }),
    ];
    let mut by_path: BTreeMap<String, MethodRouter<AppState>> = BTreeMap::new();
    let mut claimed = BTreeSet::new();
    for (path, method, needs_id, add) in routes {
        let usable = path.starts_with('/')
            && !path.starts_with("/_sandbox")
            && (!needs_id || path.contains("{id}"));
        if !usable {
            return Err(format!("invalid sandbox path `{path}`"));
        }
        if !claimed.insert((path, method)) {
            return Err(format!("two operations use {method} {path}"));
        }
        let existing = by_path.remove(path).unwrap_or_default();
        by_path.insert(path.to_owned(), add(existing));
    }
    let mut router = Router::new();
    for (path, methods) in by_path {
        router = router.route(&path, methods.fallback(routes::method_not_allowed));
    }
    Ok(router
        .merge(control::routes())
        .fallback(routes::not_found)
        .with_state(shared))
}
