//! Wires the parts together for each mode and owns their lifetime.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::cli::Mode;
use crate::config::{ConfigError, Settings};
use crate::core::Core;
use crate::discord;

/// Why a mode stopped with a failure. The message is for the operator's terminal.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("mode `{0}` is not implemented yet")]
    NotImplemented(&'static str),
    /// Boxed: serenity's error is large.
    #[error("Discord: {0}")]
    Discord(Box<serenity::Error>),
    #[error("start-up failed: {0}")]
    Startup(String),
}

impl From<serenity::Error> for AppError {
    fn from(e: serenity::Error) -> Self {
        AppError::Discord(Box::new(e))
    }
}

impl AppError {
    /// Configuration mistakes exit with 2 (like a usage error); everything else with 1.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            AppError::Config(_) => ExitCode::from(2),
            AppError::NotImplemented(_) | AppError::Discord(_) | AppError::Startup(_) => {
                ExitCode::from(1)
            }
        }
    }
}

/// Runs one mode to completion.
pub async fn run(mode: Mode, settings: Settings) -> Result<(), AppError> {
    match mode {
        Mode::Run => {
            let mut bot = start_discord(settings).await?;
            let stopped_by_itself = tokio::select! {
                _ = tokio::signal::ctrl_c() => None,
                result = bot.stopped() => Some(result),
            };
            match stopped_by_itself {
                Some(result) => result,
                None => {
                    tracing::info!("Ctrl-C: shutting down");
                    bot.shutdown().await;
                    Ok(())
                }
            }
        }
        Mode::Console => Err(AppError::NotImplemented("console")),
        Mode::Sandbox { .. } => Err(AppError::NotImplemented("sandbox")),
        Mode::Check => {
            print!("{}", check_report(&settings));
            Ok(())
        }
    }
}

/// The Discord bot, running in a task this value owns.
#[derive(Debug)]
pub struct RunningBot {
    shard_manager: Arc<serenity::gateway::ShardManager>,
    client: Option<JoinHandle<Result<(), serenity::Error>>>,
}

/// Builds the core and starts the Discord client (the same path for `run` and the e2e tests);
/// returns once the client task is spawned.
pub async fn start_discord(settings: Settings) -> Result<RunningBot, AppError> {
    let token = settings.require_discord_token()?.clone();
    let settings = Arc::new(settings);
    let core = build_core_temp(&settings)?;
    let data = discord::Data {
        core,
        settings: Arc::clone(&settings),
    };
    let mut client = discord::client(&token, data).await?;
    let shard_manager = Arc::clone(&client.shard_manager);
    let task = tokio::spawn(async move { client.start().await });
    Ok(RunningBot {
        shard_manager,
        client: Some(task),
    })
}

// TEMP until main has `build_core` (and the embedded sandbox): Orange credentials are required.
fn build_core_temp(settings: &Arc<Settings>) -> Result<Core, AppError> {
    let credentials = settings.orange_credentials().ok_or_else(|| {
        AppError::Startup("ORANGE_CLIENT_ID/ORANGE_CLIENT_SECRET are required for now".into())
    })?;
    let orange = crate::orange::OrangeClient::new(
        &settings.orange,
        credentials,
        settings.secrets.orange_application_id.clone(),
    )
    .map_err(|e| AppError::Startup(format!("Orange HTTP client: {e}")))?;
    let store = crate::store::Store::open(&settings.store.path)
        .map_err(|e| AppError::Startup(format!("store: {e}")))?;
    Ok(Core::new(orange, store, Arc::clone(settings)))
}

impl RunningBot {
    /// Waits until the client stops by itself (e.g. the token was refused).
    pub async fn stopped(&mut self) -> Result<(), AppError> {
        match self.client.as_mut() {
            Some(task) => {
                let result = task.await;
                self.client = None;
                match result {
                    Ok(result) => Ok(result?),
                    Err(e) => Err(AppError::Startup(format!("Discord client task: {e}"))),
                }
            }
            None => Ok(()),
        }
    }

    /// Disconnects every shard and waits for the client task to end.
    pub async fn shutdown(mut self) {
        self.shard_manager.shutdown_all().await;
        if let Some(mut task) = self.client.take() {
            match tokio::time::timeout(Duration::from_secs(5), &mut task).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => {
                    tracing::warn!(error = %e, "Discord client stopped with an error")
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "Discord client task failed"),
                Err(_) => {
                    tracing::warn!("Discord client did not stop within 5 s; aborting it");
                    task.abort();
                }
            }
        }
    }
}

/// What `check` prints: where each part of the bot would connect, secrets shown only as set/unset.
pub fn check_report(settings: &Settings) -> String {
    let set = |s: &Option<secrecy::SecretString>| if s.is_some() { "set" } else { "not set" };
    let orange = match settings.orange_credentials() {
        Some(_) => format!("Orange API at {}", settings.orange.base_url),
        None => "embedded Orange sandbox (ORANGE_CLIENT_ID/ORANGE_CLIENT_SECRET not set)".into(),
    };
    let s = &settings.secrets;
    format!(
        "settings OK\n\
         orange:   {orange}\n\
         token:    {}\n\
         discord:  {} (DISCORD_TOKEN {})\n\
         store:    {}\n\
         watcher:  every {} s\n\
         secrets:  ORANGE_CLIENT_ID {}, ORANGE_CLIENT_SECRET {}, ORANGE_APPLICATION_ID {}\n",
        settings.orange.token_url,
        settings.discord.api_base_url,
        set(&s.discord_token),
        settings.store.path.display(),
        settings.watcher.interval_secs,
        set(&s.orange_client_id),
        set(&s.orange_client_secret),
        set(&s.orange_application_id),
    )
}
