//! Entry point: read `.env`, parse the command line, load settings, start tracing, run the mode.

use std::process::ExitCode;

use clap::Parser;
use orange_ticket_bot::{app, cli::Cli, config::Settings, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    // `.env` is optional; a malformed one is worth a warning, not a silent skip.
    if let Err(e) = dotenvy::dotenv()
        && !e.not_found()
    {
        eprintln!("warning: .env not loaded: {e}");
    }
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mode = cli.mode();
    telemetry::init(&settings.telemetry, app::is_console(&mode, &settings));
    match app::run(mode, settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", e.report());
            e.exit_code()
        }
    }
}
