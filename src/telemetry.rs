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
    let from_env = std::env::var(EnvFilter::DEFAULT_ENV)
        .ok()
        .filter(|d| EnvFilter::try_new(d).is_ok());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter(from_env.as_deref().unwrap_or(configured)))
        .with_writer(std::io::stderr);
    let _already_set = match settings.format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// `error: cause: cause...`, each cause once: many of our errors already end with their source's
/// text (`cannot open the store at …: {source}`), and repeating it would print the same cause
/// twice. A cause whose text the message so far already ends with is skipped; its own causes are
/// still walked.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let text = e.to_string();
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = e.source();
    }
    out
}

/// Targets kept below trace whatever the filter asks: at trace they dump what the bot sends.
/// tungstenite logs every WebSocket frame's payload (hex) at trace, and the gateway's IDENTIFY
/// carries the Discord token.
const CAPPED: &[&str] = &["tungstenite=debug"];

/// The filter for `directives` (EnvFilter syntax; `info` if they do not parse), with [`CAPPED`]
/// on top: no setting, `RUST_LOG` included, lets a secret into the logs through them.
pub fn filter(directives: &str) -> EnvFilter {
    let filter = EnvFilter::try_new(directives).unwrap_or_else(|_| EnvFilter::new("info"));
    CAPPED
        .iter()
        .filter_map(|d| d.parse().ok())
        .fold(filter, EnvFilter::add_directive)
}
