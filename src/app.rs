//! Wires the parts together for each mode and owns their lifetime.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use crate::cli::Mode;
use crate::config::{ConfigError, Settings};
use crate::sandbox::{self, SandboxOptions};

/// Why a mode stopped with a failure. The message is for the operator's terminal.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("mode `{0}` is not implemented yet")]
    NotImplemented(&'static str),
    #[error("the Orange sandbox failed: {0}")]
    Sandbox(#[source] std::io::Error),
}

impl AppError {
    /// Configuration mistakes exit with 2 (like a usage error); everything else with 1.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            AppError::Config(_) => ExitCode::from(2),
            AppError::NotImplemented(_) | AppError::Sandbox(_) => ExitCode::from(1),
        }
    }
}

/// Runs one mode to completion.
pub async fn run(mode: Mode, settings: Settings) -> Result<(), AppError> {
    match mode {
        Mode::Run => {
            settings.require_discord_token()?;
            Err(AppError::NotImplemented("run"))
        }
        Mode::Console => Err(AppError::NotImplemented("console")),
        Mode::Sandbox { port, seed } => {
            let mut opts = SandboxOptions::from_settings(&settings);
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
        Mode::Check => {
            print!("{}", check_report(&settings));
            Ok(())
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
