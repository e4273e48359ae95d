//! Wires the parts together for each mode and owns their lifetime.

use std::process::ExitCode;

use crate::cli::Mode;
use crate::config::{ConfigError, Settings};

/// Why a mode stopped with a failure. The message is for the operator's terminal.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("mode `{0}` is not implemented yet")]
    NotImplemented(&'static str),
}

impl AppError {
    /// Configuration mistakes exit with 2 (like a usage error); everything else with 1.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            AppError::Config(_) => ExitCode::from(2),
            AppError::NotImplemented(_) => ExitCode::from(1),
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
        Mode::Sandbox { .. } => Err(AppError::NotImplemented("sandbox")),
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
