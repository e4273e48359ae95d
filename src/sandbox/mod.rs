//! The Orange sandbox: a stateful, deterministic simulator of the Trouble Tickets API 1.0 over
//! HTTP, with Orange's payload quirks, a ticket lifecycle driven by a clock it owns, fault
//! injection and call counters. The bot uses it when no Orange credentials are set; tests use it
//! to exercise the client over loopback.
//!
//! - `state`: the account, tickets, lifecycle and clock; `seed`: the generated data;
//! - `server`: the gateway every call passes through and the router; `routes`: the API handlers;
//! - `bounds`: the limits on every input (options, control JSON, texts, query strings);
//! - `encode`: domain -> Orange's response shapes, quirks included;
//! - `auth`: token endpoint and bearer check; `faults`: fault injection and counters;
//! - `control`: [`SandboxControl`] and the `/_sandbox/` control API; `error`: Orange's error body;
//! - `persist`: the world saved to a file after every change and reloaded at start, when
//!   [`SandboxOptions::world_file`] is set (the bot's embedded sandbox); otherwise in memory only.

mod auth;
mod bounds;
mod control;
mod encode;
mod error;
mod faults;
mod persist;
mod routes;
mod seed;
mod server;
mod state;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use url::Url;

pub use control::SandboxControl;
pub use faults::{Counters, ErrorFault, FaultConfig, Operation, OperationCounters};
pub use persist::PersistError;
pub use state::SandboxError;

use crate::config::{OrangePaths, SearchSettings, Settings};

/// How a sandbox behaves.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// Seed of the generated data, ids, lifecycle and fault decisions.
    pub seed: u64,
    /// Credentials the token endpoint accepts.
    pub client_id: String,
    pub client_secret: String,
    /// Lifetime of issued tokens, on the sandbox clock.
    pub token_ttl: Duration,
    /// Run one lifecycle step per this much sandbox time; `None`: only on request.
    pub auto_advance: Option<Duration>,
    /// API paths, as the client is configured with them.
    pub paths: OrangePaths,
    /// Search context values and paging parameter names.
    pub search: SearchSettings,
    /// Path of the token endpoint (default `/oauth/v3/token`).
    pub token_path: String,
    /// Faults in force from the start.
    pub faults: FaultConfig,
    /// Largest accepted search page size (default 100).
    pub max_page_size: u32,
    /// Most issued tokens kept at once (default 10,000); the oldest goes first.
    pub max_issued_tokens: usize,
    /// The file the world is kept in across restarts: read at start if it exists (an unreadable
    /// one fails the start), written after every change. `None`: in memory only.
    pub world_file: Option<PathBuf>,
}

impl SandboxOptions {
    /// The `[sandbox]` settings with the client's `orange.paths` and `orange.search`.
    pub fn from_settings(s: &Settings) -> Self {
        let sandbox = &s.sandbox;
        Self {
            seed: sandbox.seed,
            client_id: sandbox.client_id.clone(),
            client_secret: sandbox.client_secret.clone(),
            token_ttl: Duration::from_secs(sandbox.token_ttl_secs),
            auto_advance: (sandbox.auto_advance_secs > 0)
                .then(|| Duration::from_secs(sandbox.auto_advance_secs)),
            paths: s.orange.paths.clone(),
            search: s.orange.search.clone(),
            token_path: "/oauth/v3/token".into(),
            faults: FaultConfig::default(),
            max_page_size: 100,
            max_issued_tokens: 10_000,
            world_file: None,
        }
    }
}

/// A sandbox serving in the background; [`RunningSandbox::shutdown`] stops it.
#[derive(Debug)]
pub struct RunningSandbox {
    addr: SocketAddr,
    control: SandboxControl,
    token_path: String,
    cancel: CancellationToken,
    server: JoinHandle<std::io::Result<()>>,
    lifecycle: Option<JoinHandle<()>>,
}

/// Binds `addr` (port 0 picks a free port), spawns the server and the lifecycle task, and returns
/// at once.
///
/// Fails with `InvalidInput` when an option is out of bounds (see `bounds`) or the configured
/// paths are unusable (see `orange.paths`), and
/// with `InvalidData` (a [`PersistError`] naming the file) when the world file cannot be read or
/// first written.
pub async fn start(opts: SandboxOptions, addr: SocketAddr) -> std::io::Result<RunningSandbox> {
    bounds::check_options(&opts)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let token_path = opts.token_path.clone();
    let auto_advance = opts.auto_advance;
    let shared = server::Shared::new(opts)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    let shared = Arc::new(shared);
    let app = server::router(shared.clone())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let mut addr = listener.local_addr()?;
    if addr.ip().is_unspecified() {
        addr.set_ip(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    let cancel = CancellationToken::new();
    let stop = cancel.clone().cancelled_owned();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await
    });
    let lifecycle = auto_advance
        .map(|every| tokio::spawn(control::auto_advance(shared.clone(), every, cancel.clone())));
    tracing::info!(%addr, "Orange sandbox started");
    Ok(RunningSandbox {
        addr,
        control: SandboxControl::new(shared),
        token_path,
        cancel,
        server,
        lifecycle,
    })
}

impl RunningSandbox {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`; the API paths are relative to it.
    pub fn base_url(&self) -> Url {
        Url::parse(&format!("http://{}", self.addr)).expect("a socket address makes a valid URL")
    }

    /// The token endpoint.
    pub fn token_url(&self) -> Url {
        let mut url = self.base_url();
        url.set_path(&self.token_path);
        url
    }

    /// A handle on the sandbox's state, for in-process tests.
    pub fn control(&self) -> SandboxControl {
        self.control.clone()
    }

    /// Stops serving and waits for the server and the lifecycle task to end.
    pub async fn shutdown(self) {
        self.cancel.cancel();
        if let Some(task) = self.lifecycle {
            let _ = task.await;
        }
        // Graceful shutdown waits for open connections; a client holding one must not hang us.
        let abort = self.server.abort_handle();
        match tokio::time::timeout(Duration::from_secs(5), self.server).await {
            Ok(Ok(Err(e))) => tracing::warn!(error = %e, "sandbox server failed"),
            Ok(_) => {}
            Err(_) => abort.abort(),
        }
        tracing::info!(addr = %self.addr, "Orange sandbox stopped");
    }
}
