//! Wires the parts together for each mode and owns their lifetime.

use std::io::IsTerminal;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::check;
use crate::cli::Mode;
use crate::config::{ConfigError, OrangeCredentials, Settings};
use crate::console::{Console, ConsoleNotifier};
use crate::core::Core;
use crate::discord;
use crate::ops::{self, Metrics, RunningOps};
use crate::orange::OrangeClient;
use crate::sandbox::{self, RunningSandbox, SandboxOptions};
use crate::store::{Store, StoreError, StoreOptions};
use crate::watcher::{Watcher, WatcherOptions};

/// Why a mode stopped with a failure. [`AppError::report`] words it, causes included, for the
/// operator's terminal.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("the Orange sandbox failed")]
    Sandbox(#[source] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the Orange HTTP client could not be built")]
    HttpClient(#[source] reqwest::Error),
    /// The serenity error, boxed: only `src/discord` names the Discord crates.
    #[error("the Discord client did not start")]
    DiscordStart(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("console input or output failed")]
    Console(#[source] std::io::Error),
    #[error("{failed} of {lines} console line(s) failed")]
    ScriptFailed { failed: usize, lines: usize },
    #[error(transparent)]
    Discord(#[from] discord::StopError),
    #[error(transparent)]
    Check(#[from] check::CheckFailed),
    #[error(transparent)]
    ShutdownCutShort(#[from] ShutdownCutShort),
    #[error("the health and metrics listener could not start on {addr} (ops.listen)")]
    Ops {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// A graceful shutdown that ran out of time (`app.shutdown_timeout_secs`).
#[derive(Debug, thiserror::Error)]
#[error("shutdown cut short by its {timeout:?} timeout (app.shutdown_timeout_secs) at: {step}")]
pub struct ShutdownCutShort {
    pub step: &'static str,
    pub timeout: Duration,
}

impl AppError {
    /// Configuration mistakes exit with 2 (like a usage error); everything else with 1.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            AppError::Config(_) => ExitCode::from(2),
            AppError::Store(StoreError::Newer { .. } | StoreError::Foreign { .. }) => {
                ExitCode::from(2)
            }
            AppError::Check(failed) => failed.exit_code(),
            AppError::Sandbox(_)
            | AppError::Store(_)
            | AppError::HttpClient(_)
            | AppError::DiscordStart(_)
            | AppError::Console(_)
            | AppError::ScriptFailed { .. }
            | AppError::Discord(_)
            | AppError::ShutdownCutShort(_)
            | AppError::Ops { .. } => ExitCode::from(1),
        }
    }

    /// The message and its causes, `outer: inner: ...`, each once, for the operator's terminal.
    pub fn report(&self) -> String {
        crate::telemetry::chain(self)
    }
}

/// Whether `mode` ends up running the console: asked for, or `run` with no Discord token and a
/// person at the terminal (the useful default on a fresh clone).
pub fn is_console(mode: &Mode, settings: &Settings) -> bool {
    match mode {
        Mode::Console => true,
        Mode::Run => settings.secrets.discord_token.is_none() && std::io::stdin().is_terminal(),
        Mode::Sandbox { .. } | Mode::Check => false,
    }
}

/// Runs one mode to completion.
pub async fn run(mode: Mode, settings: Settings) -> Result<(), AppError> {
    match mode {
        Mode::Run if is_console(&Mode::Run, &settings) => {
            eprintln!(
                "No DISCORD_TOKEN: running the terminal console instead of connecting to Discord."
            );
            run_console(settings).await
        }
        Mode::Run => {
            let mut bot = start_discord(settings).await?;
            let stopped_by_itself = tokio::select! {
                signal = stop_signal() => {
                    tracing::info!(signal, timeout = ?bot.core.settings().app.shutdown_timeout(),
                        "shutting down");
                    None
                }
                result = bot.stopped() => Some(result),
            };
            let shutdown = bot.shutdown().await;
            stopped_by_itself.unwrap_or(Ok(()))?;
            Ok(shutdown?)
        }
        Mode::Console => run_console(settings).await,
        Mode::Sandbox { port, seed } => run_sandbox(&settings, port, seed).await,
        Mode::Check => Ok(check::run(&settings, |line| println!("{line}"))
            .await
            .outcome()?),
    }
}

/// The sandbox alone, on 127.0.0.1, until Ctrl-C.
async fn run_sandbox(
    settings: &Settings,
    port: Option<u16>,
    seed: Option<u64>,
) -> Result<(), AppError> {
    let mut opts = SandboxOptions::from_settings(settings);
    if let Some(seed) = seed {
        opts.seed = seed;
    }
    let port = port.unwrap_or(settings.sandbox.port);
    let client_id = opts.client_id.clone();
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let running = sandbox::start(opts, addr)
        .await
        .map_err(AppError::Sandbox)?;
    // Listen for Ctrl-C before announcing the address: whoever reads the line may
    // interrupt us at once, and that must stop the sandbox cleanly, not kill it.
    let mut ctrl_c = std::pin::pin!(tokio::signal::ctrl_c());
    let early = futures::poll!(ctrl_c.as_mut());
    println!(
        "Orange sandbox listening on http://{} (client_id {client_id}, token URL {})",
        running.addr(),
        running.token_url()
    );
    let stopped = match early {
        std::task::Poll::Ready(result) => result,
        std::task::Poll::Pending => ctrl_c.await,
    };
    running.shutdown().await;
    stopped.map_err(AppError::Sandbox)
}

/// The Discord bot and the embedded sandbox it uses, if any; [`Running::shutdown`] stops both.
#[derive(Debug)]
pub struct Running {
    bot: discord::RunningBot,
    core: Core,
    watcher: Option<Background>,
    sandbox: Option<RunningSandbox>,
    ops: Option<RunningOps>,
}

/// A background task this app owns: cancelled and awaited on shutdown.
#[derive(Debug)]
struct Background {
    cancel: CancellationToken,
    task: JoinHandle<()>,
}

impl Background {
    fn spawn<F>(run: impl FnOnce(CancellationToken) -> F) -> Self
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let cancel = CancellationToken::new();
        let task = tokio::spawn(run(cancel.clone()));
        Background { cancel, task }
    }

    /// Cancels the task and waits for it to reach a safe point and end (the watcher completes
    /// the delivery in progress; see `Watcher::run`). Dropped before then, e.g. by the shutdown's
    /// timeout, it aborts the task.
    async fn stop(self, name: &str) {
        self.cancel.cancel();
        let task = tokio_util::task::AbortOnDropHandle::new(self.task);
        if let Err(e) = task.await {
            tracing::warn!(error = %e, task = name, "background task failed");
        }
    }
}

/// The steps of a shutdown, each logged with its duration, all within one deadline.
struct Steps {
    started: tokio::time::Instant,
    timeout: Duration,
    cut_short: Option<&'static str>,
}

impl Steps {
    fn new(timeout: Duration) -> Self {
        Steps {
            started: tokio::time::Instant::now(),
            timeout,
            cut_short: None,
        }
    }

    /// Runs one step until it ends or the deadline passes; `None` if it did not end.
    async fn run<T>(&mut self, step: &'static str, work: impl Future<Output = T>) -> Option<T> {
        let begun = tokio::time::Instant::now();
        match tokio::time::timeout_at(self.started + self.timeout, work).await {
            Ok(out) => {
                tracing::info!(
                    step,
                    took_ms = begun.elapsed().as_millis() as u64,
                    "shutdown step done"
                );
                Some(out)
            }
            Err(_) => {
                tracing::error!(
                    step,
                    took_ms = begun.elapsed().as_millis() as u64,
                    "shutdown step cut short: the shutdown timeout passed"
                );
                self.cut_short.get_or_insert(step);
                None
            }
        }
    }

    fn finish(self) -> Result<(), ShutdownCutShort> {
        let took_ms = self.started.elapsed().as_millis() as u64;
        match self.cut_short {
            None => {
                tracing::info!(took_ms, "shutdown complete");
                Ok(())
            }
            Some(step) => {
                tracing::error!(took_ms, step, "shutdown cut short by its timeout");
                Err(ShutdownCutShort {
                    step,
                    timeout: self.timeout,
                })
            }
        }
    }
}

/// Builds the core, warms the service cache (autocomplete answers from it) and starts the
/// Discord client (the same path for `run` and the e2e tests); returns once the client runs.
pub async fn start_discord(mut settings: Settings) -> Result<Running, AppError> {
    let token = settings.require_discord_token()?.clone();
    settings.check_orange_for_discord()?;
    let (core, sandbox) = build_core(&settings).await?;
    settings.orange.is_sandbox = core.settings().orange.is_sandbox;
    if sandbox.is_some() {
        eprintln!(
            "sandbox.serve_discord is on: serving Discord users from the embedded Orange sandbox; \
             every card and reply says \"{}\".",
            crate::render::SANDBOX_BANNER
        );
    }
    match core.services().await {
        Ok(list) => tracing::info!(services = list.len(), "service list loaded"),
        Err(e) => tracing::warn!(
            error = %e,
            "service list not loaded; autocomplete offers services once a command has read them"
        ),
    }
    let settings_watcher_enabled = settings.watcher.enabled;
    let watcher_options = WatcherOptions::from_settings(&settings);
    let archive_closed = settings.discord.archive_closed_threads;
    let (ops, sandbox) = start_ops(&settings, &core, sandbox).await?;
    let data = discord::Data {
        core: core.clone(),
        settings: Arc::new(settings),
        gate: discord::Gate::default(),
    };
    match discord::start(&token, data).await {
        Ok(bot) => {
            let watcher = settings_watcher_enabled.then(|| {
                let notifier = bot.notifier(core.clone(), archive_closed);
                let watcher = Watcher::new(core.clone(), notifier, watcher_options);
                Background::spawn(|cancel| watcher.run(cancel))
            });
            Ok(Running {
                bot,
                core,
                watcher,
                sandbox,
                ops,
            })
        }
        Err(e) => {
            if let Some(ops) = ops {
                ops.stop().await;
            }
            if let Some(s) = sandbox {
                s.shutdown().await;
            }
            Err(AppError::DiscordStart(Box::new(e)))
        }
    }
}

impl Running {
    /// The core the bot serves (its store, its Orange client).
    pub fn core(&self) -> &Core {
        &self.core
    }

    /// Deliveries through this bot's Discord connection (for a watcher driven by hand).
    pub fn notifier(&self) -> discord::DiscordNotifier {
        self.bot.notifier(
            self.core.clone(),
            self.core.settings().discord.archive_closed_threads,
        )
    }

    /// Where the health and metrics listener listens, when `ops.listen` is set.
    pub fn ops_addr(&self) -> Option<SocketAddr> {
        self.ops.as_ref().map(RunningOps::addr)
    }

    /// Waits until the client stops by itself (e.g. the token was refused).
    pub async fn stopped(&mut self) -> Result<(), AppError> {
        Ok(self.bot.stopped().await?)
    }

    /// The graceful shutdown, within `app.shutdown_timeout_secs`: stops taking commands (new
    /// ones are told the bot is restarting), lets the watcher's pass reach a safe point (the
    /// delivery in progress completes, the rest stays in the outbox), waits for the commands in
    /// progress, flushes the store, closes the gateway and stops the sandbox. Each step is
    /// logged with its duration; past the deadline the rest is cut short.
    pub async fn shutdown(self) -> Result<(), ShutdownCutShort> {
        let mut steps = Steps::new(self.core.settings().app.shutdown_timeout());
        steps
            .run("stop taking commands", async {
                self.bot.stop_taking_commands()
            })
            .await;
        if let Some(watcher) = self.watcher {
            steps
                .run("finish the watcher's pass", watcher.stop("watcher"))
                .await;
        }
        steps
            .run(
                "finish the commands in progress",
                self.bot.commands_finished(),
            )
            .await;
        let flushed = steps
            .run("flush the store", self.core.store().flush())
            .await;
        if let Some(Err(e)) = flushed {
            tracing::error!(error = %e, "the store could not be flushed");
        }
        steps.run("close the gateway", self.bot.shutdown()).await;
        if let Some(sandbox) = self.sandbox {
            steps.run("stop the sandbox", sandbox.shutdown()).await;
        }
        if let Some(ops) = self.ops {
            steps.run("stop the health listener", ops.stop()).await;
        }
        steps.finish()
    }
}

/// The health and metrics listener, when `ops.listen` is set: `/readyz` asks for a recent
/// watcher pass only when the watcher runs. Hands the sandbox back, or stops it on failure.
async fn start_ops(
    settings: &Settings,
    core: &Core,
    sandbox: Option<RunningSandbox>,
) -> Result<(Option<RunningOps>, Option<RunningSandbox>), AppError> {
    let Some(addr) = settings.ops.listen else {
        return Ok((None, sandbox));
    };
    let w = &settings.watcher;
    let probe = ops::Probe {
        metrics: core.metrics().clone(),
        store: core.store().clone(),
        watcher_interval: w.enabled.then(|| Duration::from_secs(w.interval_secs)),
    };
    match ops::serve(addr, probe).await {
        Ok(ops) => Ok((Some(ops), sandbox)),
        Err(source) => {
            if let Some(s) = sandbox {
                s.shutdown().await;
            }
            Err(AppError::Ops { addr, source })
        }
    }
}

/// Builds the core: the store, and the Orange client (against Orange, or against an embedded
/// sandbox started here when no credentials are set). The sandbox, if any, is the caller's to
/// stop.
pub async fn build_core(settings: &Settings) -> Result<(Core, Option<RunningSandbox>), AppError> {
    // The store first: its lock keeps a second bot off this data directory, and so off the
    // embedded sandbox's world file beside it.
    let store = Store::open_async(
        settings.store.path.clone(),
        StoreOptions::from_settings(&settings.store),
    )
    .await?;
    let mut effective = settings.clone();
    let (credentials, sandbox) = match settings.orange_credentials() {
        Some(credentials) => (credentials, None),
        None => {
            let running = sandbox::start(
                embedded_sandbox_options(settings),
                SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            )
            .await
            .map_err(AppError::Sandbox)?;
            eprintln!(
                "No Orange credentials: using the embedded Orange sandbox at {} (not real tickets).",
                running.base_url()
            );
            effective.orange.base_url = running.base_url();
            effective.orange.token_url = running.token_url();
            effective.orange.is_sandbox = true;
            let credentials = OrangeCredentials {
                client_id: settings.sandbox.client_id.clone().into(),
                client_secret: settings.sandbox.client_secret.clone().into(),
            };
            (credentials, Some(running))
        }
    };
    let orange = OrangeClient::with_metrics(
        &effective.orange,
        credentials,
        settings.secrets.orange_application_id.clone(),
        Metrics::new(),
    );
    match orange {
        Ok(orange) => Ok((Core::new(orange, store, Arc::new(effective)), sandbox)),
        Err(e) => {
            // Nobody else holds the sandbox yet: stop it rather than leave it serving.
            if let Some(s) = sandbox {
                s.shutdown().await;
            }
            Err(AppError::HttpClient(e))
        }
    }
}

/// The embedded sandbox: the `[sandbox]` settings, its own lifecycle period, and its world kept
/// beside the store (see [`embedded_world_file`]).
fn embedded_sandbox_options(settings: &Settings) -> SandboxOptions {
    let every = settings.sandbox.embedded_auto_advance_secs;
    SandboxOptions {
        auto_advance: (every > 0).then(|| Duration::from_secs(every)),
        world_file: Some(embedded_world_file(&settings.store.path)),
        ..SandboxOptions::from_settings(settings)
    }
}

/// Where the embedded sandbox keeps its world: beside the store, named after it
/// (`data/orange-ticket-bot.sled` -> `data/orange-ticket-bot.sandbox.json`).
pub fn embedded_world_file(store: &Path) -> PathBuf {
    store.with_extension("sandbox.json")
}

/// The console on stdin/stdout, until end of input or `/quit`. A script with a failed line ends
/// with [`AppError::ScriptFailed`]; an interactive session ends well whatever its commands did.
async fn run_console(settings: Settings) -> Result<(), AppError> {
    let (core, sandbox) = build_core(&settings).await?;
    // No gateway here: `/readyz` asks only for the store and the watcher.
    let (ops, sandbox) = start_ops(&settings, &core, sandbox).await?;
    let user = ["USER", "USERNAME"]
        .into_iter()
        .find_map(|k| std::env::var(k).ok().filter(|u| !u.trim().is_empty()))
        .unwrap_or_else(|| "operator".into());
    // One conversation per OS user, the same every run: after a restart the session is still
    // linked to its ticket.
    let mut console = Console::new(core.clone(), &user, &user);
    // The watcher prints its news between commands, as it posts them in Discord threads.
    let watcher = settings.watcher.enabled.then(|| {
        let (notifier, news) = ConsoleNotifier::channel(core.store().clone());
        console = console.clone().with_notices(news);
        let watcher = Watcher::new(
            core.clone(),
            notifier,
            WatcherOptions::from_settings(&settings),
        );
        Background::spawn(|cancel| watcher.run(cancel))
    });
    let summary = console.run_stdio().await.map_err(AppError::Console);
    if let Some(watcher) = watcher {
        let stopped =
            tokio::time::timeout(settings.app.shutdown_timeout(), watcher.stop("watcher")).await;
        if stopped.is_err() {
            tracing::warn!("the watcher did not stop within the shutdown timeout; aborted");
        }
    }
    core.store().flush().await?;
    if let Some(s) = sandbox {
        s.shutdown().await;
    }
    if let Some(ops) = ops {
        ops.stop().await;
    }
    let summary = summary?;
    if summary.fails_the_run() {
        return Err(AppError::ScriptFailed {
            failed: summary.failed,
            lines: summary.lines,
        });
    }
    Ok(())
}

/// Ctrl-C, or SIGTERM (what `docker stop` and systemd send); the name of the signal.
async fn stop_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            return tokio::select! {
                _ = tokio::signal::ctrl_c() => "SIGINT",
                _ = term.recv() => "SIGTERM",
            };
        }
    }
    let _ = tokio::signal::ctrl_c().await;
    "SIGINT"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_keeps_its_cause_and_the_report_names_it() {
        let e = AppError::Console(std::io::Error::other("stdout closed"));
        assert!(
            std::error::Error::source(&e).is_some(),
            "the cause is kept, typed"
        );
        assert_eq!(e.report(), "console input or output failed: stdout closed");
        let e = AppError::Sandbox(std::io::Error::new(
            std::io::ErrorKind::AddrInUse,
            "address in use",
        ));
        assert_eq!(e.report(), "the Orange sandbox failed: address in use");
    }

    /// A store on a full disk: the report names the path and the cause once (the store's message
    /// already ends with sled's, which the chain would otherwise repeat).
    #[test]
    fn a_store_on_a_full_disk_is_reported_once() {
        let e = AppError::from(StoreError::Open {
            path: "data/orange-ticket-bot.sled".into(),
            source: sled::Error::Io(std::io::Error::from_raw_os_error(28)),
        });
        let report = e.report();
        assert_eq!(
            report.matches("No space left on device").count(),
            1,
            "{report}"
        );
        assert_eq!(
            report,
            "cannot open the store at data/orange-ticket-bot.sled: IO error: No space left on device (os error 28)"
        );
        // The wrapping at work, nested: core -> store -> sled.
        let e = crate::core::CoreError::Store(StoreError::Backend(sled::Error::Io(
            std::io::Error::from_raw_os_error(28),
        )));
        assert_eq!(
            crate::telemetry::chain(&e),
            "store: store failure: IO error: No space left on device (os error 28)"
        );
    }
}
