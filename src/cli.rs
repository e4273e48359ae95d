//! The command line: which mode to run, and where the settings file is.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Orange Wholesale trouble tickets in Discord.
///
/// Without Orange credentials the bot talks to its embedded Orange sandbox (in Discord only with
/// sandbox.serve_discord = true, every message then saying so); settings come from
/// config/default.toml, OTB__SECTION__KEY variables and secrets from the environment or .env (see
/// README). A bad or missing setting exits with status 2 and names the key.
#[derive(Debug, Parser)]
#[command(name = "orange-ticket-bot", version)]
pub struct Cli {
    /// Settings file read over the compiled-in defaults (default: ./config/default.toml if present).
    #[arg(long, global = true, env = "OTB_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub mode: Option<Mode>,
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Mode {
    /// Connect to Discord, serve the /ticket commands and run the watcher (the default; without DISCORD_TOKEN on a terminal: the console).
    Run,
    /// Drive the bot from a terminal or a piped script, without Discord.
    ///
    /// On a terminal: line editing, and a history appended line by line to a file beside the
    /// store (owner-only); Ctrl-C clears the line, Ctrl-D or /quit leaves, and the exit status is 0.
    /// From a pipe: runs every line, prints each result, and exits with status 1 if a line failed.
    Console,
    /// Serve the Orange sandbox: a local, stateful simulator of the Trouble Tickets API.
    ///
    /// Listens on 127.0.0.1 until Ctrl-C; its tickets live in memory, so a restart starts again
    /// from the seed.
    Sandbox {
        /// Port to listen on (default: sandbox.port from the settings).
        #[arg(long)]
        port: Option<u16>,
        /// Seed of the generated data and fault injection (default: sandbox.seed).
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Diagnose the installation: validate the settings, then check Orange and Discord live.
    ///
    /// Fetches an Orange token, calls the status endpoint and lists the service numbers (without
    /// Orange credentials: against the embedded sandbox, started as `run` would); with
    /// DISCORD_TOKEN, verifies the token, lists the guilds and whether the bot has the
    /// permissions it needs in each. Each line says OK, or FAIL and what to fix; secrets are
    /// shown as set/unset only. Exits with status 0 when all is OK, status 1 when a check failed,
    /// 2 when the settings are invalid.
    Check,
}

impl Cli {
    pub fn mode(&self) -> Mode {
        self.mode.clone().unwrap_or(Mode::Run)
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_cli_is_well_formed_and_defaults_to_run() {
        Cli::command().debug_assert();
        let cli = Cli::parse_from(["orange-ticket-bot"]);
        assert_eq!(cli.mode(), Mode::Run);
        let cli = Cli::parse_from(["orange-ticket-bot", "sandbox", "--port", "8080"]);
        assert_eq!(
            cli.mode(),
            Mode::Sandbox {
                port: Some(8080),
                seed: None
            }
        );
    }
}
