//! Tracing set-up: one call at start-up. Human-readable by default, JSON lines when configured;
//! `RUST_LOG` overrides the configured filter. Logs go to stderr so stdout stays for the console.

use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, TelemetrySettings};

/// Installs the global subscriber. Calling it twice is harmless (the second call does nothing),
/// which lets tests start the app more than once in one process.
///
/// `interactive` is for the console: its stdout is the conversation, so only warnings and errors
/// are logged unless `RUST_LOG` asks for more.
pub fn init(settings: &TelemetrySettings, interactive: bool) {
    let configured = if interactive {
        "warn"
    } else {
        settings.filter.as_str()
    };
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(configured))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _already_set = match settings.format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
