//! The one typed `Settings`: `config/default.toml` (compiled in), then a file on disk, then
//! environment overrides (`OTB__SECTION__KEY`). Secrets come from the environment only and are
//! `SecretString`s: `Debug` prints them as `[REDACTED]` and nothing logs them.
//!
//! Loading fails loudly, naming the key and the expected form.

use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

/// The settings file shipped with the source, compiled in as the base layer.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");
/// The settings file read over the defaults when no `--config` is given, if it exists.
pub const LOCAL_TOML: &str = "config/default.toml";
/// Prefix of environment overrides: `OTB__ORANGE__BASE_URL` sets `orange.base_url`.
pub const ENV_PREFIX: &str = "OTB__";

/// Names of the secret environment variables.
pub mod secret_keys {
    pub const DISCORD_TOKEN: &str = "DISCORD_TOKEN";
    pub const ORANGE_CLIENT_ID: &str = "ORANGE_CLIENT_ID";
    pub const ORANGE_CLIENT_SECRET: &str = "ORANGE_CLIENT_SECRET";
    pub const ORANGE_APPLICATION_ID: &str = "ORANGE_APPLICATION_ID";
}

/// A setting that is missing or malformed. The message names the key and what was expected.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{key} is not set: expected {expected}")]
    Missing {
        key: &'static str,
        expected: &'static str,
    },
    #[error("{key} is invalid: expected {expected}")]
    Invalid { key: String, expected: String },
    #[error(
        "no Orange credentials for Discord: set ORANGE_CLIENT_ID and ORANGE_CLIENT_SECRET, or set \
         sandbox.serve_discord = true (OTB__SANDBOX__SERVE_DISCORD=true) to serve Discord users \
         from the embedded Orange sandbox (not real tickets)"
    )]
    SandboxForDiscord,
    #[error("settings file {path} not found")]
    FileNotFound { path: PathBuf },
    #[error("bad setting: {0}")]
    Load(Box<figment::Error>),
}

impl From<figment::Error> for ConfigError {
    fn from(e: figment::Error) -> Self {
        ConfigError::Load(Box::new(e))
    }
}

/// Everything the bot can be told.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub app: AppSettings,
    pub orange: OrangeSettings,
    pub core: CoreSettings,
    pub discord: DiscordSettings,
    pub store: StoreSettings,
    pub watcher: WatcherSettings,
    pub nudges: NudgeSettings,
    pub sandbox: SandboxSettings,
    pub telemetry: TelemetrySettings,
    pub ops: OpsSettings,
    pub digest: DigestSettings,
    /// Filled from the environment, never from a file.
    #[serde(skip)]
    pub secrets: Secrets,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrangeSettings {
    pub base_url: Url,
    pub token_url: Url,
    pub application_id_header: String,
    pub request_id_header: String,
    pub request_timeout_ms: u64,
    /// Largest response body read from Orange; a longer one is an error, not a memory spike.
    pub max_body_bytes: u64,
    pub token_refresh_margin_secs: u64,
    pub paths: OrangePaths,
    pub search: SearchSettings,
    pub retry: RetrySettings,
    /// Whether the Orange at `base_url` is a sandbox: set by the app when it starts the embedded
    /// one (and by tests for theirs), never read from a file. Discord then labels every card and
    /// reply "Orange sandbox — not real tickets".
    #[serde(skip)]
    pub is_sandbox: bool,
}

impl OrangeSettings {
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    pub fn token_refresh_margin(&self) -> Duration {
        Duration::from_secs(self.token_refresh_margin_secs)
    }
}

/// API paths relative to `orange.base_url`; `{id}` stands for the ticket id.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrangePaths {
    pub service_numbers: String,
    pub create_ticket: String,
    pub add_comment: String,
    pub get_ticket: String,
    pub search: String,
    pub api_status: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchSettings {
    pub ctxid: String,
    pub sctxid: String,
    pub page_param: String,
    pub page_size_param: String,
    pub page_size: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetrySettings {
    pub max_attempts: u32,
    pub base_delay_ms: u64,
    pub max_delay_ms: u64,
    pub interactive_deadline_ms: u64,
    /// Writes (a new ticket, a comment): deferred commands, with time to resolve an ambiguous
    /// failure.
    pub write_deadline_ms: u64,
    pub background_deadline_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoreSettings {
    pub services_ttl_secs: u64,
    pub description_max_chars: usize,
    pub comment_max_chars: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscordSettings {
    pub api_base_url: Url,
    /// Register commands in this guild only; `None` registers them globally.
    #[serde(default)]
    pub guild_id: Option<u64>,
    /// Guilds whose members may use the bot; empty: every guild the bot is in.
    #[serde(default)]
    pub allowed_guilds: Vec<u64>,
    /// Where ticket threads are opened (a text or forum channel); `None`: the channel the
    /// command was run in.
    #[serde(default)]
    pub tickets_channel: Option<u64>,
    /// Archive a ticket's thread once the ticket is closed (after its last update).
    #[serde(default)]
    pub archive_closed_threads: bool,
}

/// The process as a whole.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppSettings {
    /// The whole graceful shutdown (SIGTERM, SIGINT) is bounded by this, in seconds.
    pub shutdown_timeout_secs: u64,
}

impl AppSettings {
    pub fn shutdown_timeout(&self) -> Duration {
        Duration::from_secs(self.shutdown_timeout_secs)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSettings {
    pub path: PathBuf,
    /// Audit entries kept; older ones are dropped as new ones are written.
    pub audit_keep: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatcherSettings {
    pub interval_secs: u64,
    pub enabled: bool,
    pub quiet_gets_per_pass: usize,
    pub concurrency: usize,
    pub max_gets_per_pass: usize,
    pub max_backoff_secs: u64,
}

/// Hours without an update from Orange after which a ticket's thread gets one nudge, per open
/// status; 0: never.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NudgeSettings {
    pub submitted_hours: u64,
    pub in_qualification_hours: u64,
    pub ongoing_hours: u64,
    pub frozen_hours: u64,
    pub restored_hours: u64,
    pub repaired_hours: u64,
}

impl NudgeSettings {
    /// The longest threshold: a year.
    pub const MAX_HOURS: u64 = 366 * 24;

    /// The silence after which a ticket in `status` is nudged; `None`: never.
    pub fn after(&self, status: &crate::domain::Status) -> Option<chrono::TimeDelta> {
        use crate::domain::Status;
        let hours = match status {
            Status::Submitted => self.submitted_hours,
            Status::InQualification => self.in_qualification_hours,
            Status::Ongoing => self.ongoing_hours,
            Status::Frozen => self.frozen_hours,
            Status::Restored => self.restored_hours,
            Status::Repaired => self.repaired_hours,
            Status::Closed | Status::Errored | Status::Other(_) => 0,
        };
        (hours > 0).then(|| chrono::TimeDelta::hours(hours.min(Self::MAX_HOURS) as i64))
    }

    /// Whether any status is nudged at all.
    pub fn any(&self) -> bool {
        self.keys().iter().any(|(_, hours)| *hours > 0)
    }

    fn keys(&self) -> [(&'static str, u64); 6] {
        [
            ("nudges.submitted_hours", self.submitted_hours),
            ("nudges.in_qualification_hours", self.in_qualification_hours),
            ("nudges.ongoing_hours", self.ongoing_hours),
            ("nudges.frozen_hours", self.frozen_hours),
            ("nudges.restored_hours", self.restored_hours),
            ("nudges.repaired_hours", self.repaired_hours),
        ]
    }
}

/// `[digest]`: each feed channel's daily digest.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigestSettings {
    pub enabled: bool,
    /// The local time it is posted, `HH:MM`.
    pub at: String,
    /// An IANA time zone name, e.g. `Europe/Paris`.
    pub time_zone: String,
}

impl DigestSettings {
    /// The local time of day, checked.
    pub fn local_time(&self) -> Result<chrono::NaiveTime, ConfigError> {
        chrono::NaiveTime::parse_from_str(self.at.trim(), "%H:%M").map_err(|_| {
            ConfigError::Invalid {
                key: "digest.at".into(),
                expected: format!("a local time HH:MM such as 08:00, not `{}`", self.at),
            }
        })
    }

    /// The time zone, checked.
    pub fn zone(&self) -> Result<chrono_tz::Tz, ConfigError> {
        self.time_zone
            .trim()
            .parse()
            .map_err(|_| ConfigError::Invalid {
                key: "digest.time_zone".into(),
                expected: format!(
                    "an IANA time zone name such as Europe/Paris or UTC, not `{}`",
                    self.time_zone
                ),
            })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SandboxSettings {
    pub port: u16,
    pub seed: u64,
    pub client_id: String,
    pub client_secret: String,
    pub token_ttl_secs: u64,
    /// Lifecycle period of the `sandbox` mode; 0: only through the control API.
    pub auto_advance_secs: u64,
    /// Lifecycle period of the sandbox the bot embeds when it has no Orange credentials; 0: off.
    pub embedded_auto_advance_secs: u64,
    /// Serve Discord users from the embedded sandbox when no Orange credentials are set (every
    /// card and reply then says so); off: Discord mode without credentials refuses to start.
    pub serve_discord: bool,
}

impl SandboxSettings {
    /// Longest token lifetime (a year): longer ones overflow the sandbox clock's arithmetic.
    pub const MAX_TOKEN_TTL_SECS: u64 = 366 * 24 * 3600;
    /// Longest lifecycle period (a year).
    pub const MAX_AUTO_ADVANCE_SECS: u64 = 366 * 24 * 3600;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetrySettings {
    pub format: LogFormat,
    pub filter: String,
}

/// The health and metrics listener (`/healthz`, `/readyz`, `/metrics`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpsSettings {
    /// Where to listen: `HOST:PORT`, or a port alone for 127.0.0.1; empty: no listener.
    #[serde(deserialize_with = "listen_address")]
    pub listen: Option<std::net::SocketAddr>,
    /// Allow a non-loopback `listen` address (the metrics would be reachable from outside).
    pub allow_public: bool,
}

/// `""` -> `None`, `"9464"` -> 127.0.0.1:9464, `"HOST:PORT"` as written.
fn listen_address<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<std::net::SocketAddr>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Port(u16),
        Text(String),
    }
    let text = match Raw::deserialize(d)? {
        Raw::Port(port) => port.to_string(),
        Raw::Text(text) => text.trim().to_owned(),
    };
    if text.is_empty() {
        return Ok(None);
    }
    if let Ok(port) = text.parse::<u16>() {
        return Ok(Some((std::net::Ipv4Addr::LOCALHOST, port).into()));
    }
    text.parse().map(Some).map_err(|_| {
        serde::de::Error::custom(format!(
            "expected HOST:PORT (an IP address), a port, or empty, got `{text}`"
        ))
    })
}

/// The secrets, from the environment. An empty variable counts as unset (`.env.example` lists
/// them all with empty values).
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    pub discord_token: Option<SecretString>,
    pub orange_client_id: Option<SecretString>,
    pub orange_client_secret: Option<SecretString>,
    pub orange_application_id: Option<SecretString>,
}

/// Orange OAuth client credentials.
#[derive(Debug, Clone)]
pub struct OrangeCredentials {
    pub client_id: SecretString,
    pub client_secret: SecretString,
}

impl Secrets {
    /// Reads the secrets through `lookup` (the process environment in `main`, a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |key: &str| {
            lookup(key)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .map(SecretString::from)
        };
        Secrets {
            discord_token: get(secret_keys::DISCORD_TOKEN),
            orange_client_id: get(secret_keys::ORANGE_CLIENT_ID),
            orange_client_secret: get(secret_keys::ORANGE_CLIENT_SECRET),
            orange_application_id: get(secret_keys::ORANGE_APPLICATION_ID),
        }
    }
}

impl Settings {
    /// Loads the settings the way the binary does: compiled-in defaults, then `path` (which must
    /// exist) or `config/default.toml` if present, then `OTB__*` and the secret variables.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Toml::string(DEFAULT_TOML));
        figment = match path {
            Some(p) if !p.is_file() => {
                return Err(ConfigError::FileNotFound {
                    path: p.to_path_buf(),
                });
            }
            Some(p) => figment.merge(Toml::file_exact(p)),
            None if Path::new(LOCAL_TOML).is_file() => figment.merge(Toml::file_exact(LOCAL_TOML)),
            None => figment,
        };
        figment = figment.merge(Env::prefixed(ENV_PREFIX).split("__"));
        let secrets = Secrets::from_lookup(|k| std::env::var(k).ok());
        Self::from_figment(figment, secrets)
    }

    /// Builds settings from any figment (tests layer their own values) and the given secrets.
    pub fn from_figment(figment: Figment, secrets: Secrets) -> Result<Self, ConfigError> {
        let mut settings: Settings = figment.extract()?;
        settings.secrets = secrets;
        settings.validate()?;
        Ok(settings)
    }

    /// The compiled-in defaults with no secrets: what a fresh clone runs with.
    pub fn defaults() -> Result<Self, ConfigError> {
        Self::from_figment(
            Figment::from(Toml::string(DEFAULT_TOML)),
            Secrets::default(),
        )
    }

    fn validate(&self) -> Result<(), ConfigError> {
        self.validate_paths()?;
        self.validate_positive()?;
        self.validate_sandbox()?;
        self.validate_headers()?;
        self.validate_ops()?;
        self.validate_credentials()?;
        self.validate_digest()
    }

    /// The digest's time and zone are checked even while it is off, so turning it on cannot
    /// fail later.
    fn validate_digest(&self) -> Result<(), ConfigError> {
        self.digest.local_time()?;
        self.digest.zone().map(drop)
    }

    /// The metrics listener stays on loopback unless `ops.allow_public` says otherwise.
    fn validate_ops(&self) -> Result<(), ConfigError> {
        match self.ops.listen {
            Some(addr) if !addr.ip().is_loopback() && !self.ops.allow_public => {
                Err(ConfigError::Invalid {
                    key: "ops.listen".into(),
                    expected: format!(
                        "a loopback address (127.0.0.1:PORT, [::1]:PORT or a port alone), got `{addr}`; \
                         set ops.allow_public = true to listen there"
                    ),
                })
            }
            _ => Ok(()),
        }
    }

    /// Every Orange path starts with `/`; the per-ticket ones carry `{id}`.
    fn validate_paths(&self) -> Result<(), ConfigError> {
        let p = &self.orange.paths;
        for (key, path, needs_id) in [
            ("orange.paths.service_numbers", &p.service_numbers, false),
            ("orange.paths.create_ticket", &p.create_ticket, false),
            ("orange.paths.add_comment", &p.add_comment, true),
            ("orange.paths.get_ticket", &p.get_ticket, true),
            ("orange.paths.search", &p.search, false),
            ("orange.paths.api_status", &p.api_status, false),
        ] {
            if !path.starts_with('/') || (needs_id && !path.contains("{id}")) {
                return Err(ConfigError::Invalid {
                    key: key.into(),
                    expected: format!(
                        "a path starting with `/`{}, got `{path}`",
                        if needs_id { " containing `{id}`" } else { "" }
                    ),
                });
            }
        }
        Ok(())
    }

    /// Counts, sizes, timeouts and Discord ids that 0 would break.
    fn validate_positive(&self) -> Result<(), ConfigError> {
        let positive = [
            (
                "orange.search.page_size",
                u64::from(self.orange.search.page_size),
            ),
            (
                "orange.retry.max_attempts",
                u64::from(self.orange.retry.max_attempts),
            ),
            ("orange.request_timeout_ms", self.orange.request_timeout_ms),
            ("orange.max_body_bytes", self.orange.max_body_bytes),
            ("watcher.interval_secs", self.watcher.interval_secs),
            ("app.shutdown_timeout_secs", self.app.shutdown_timeout_secs),
            ("store.audit_keep", self.store.audit_keep as u64),
            ("sandbox.token_ttl_secs", self.sandbox.token_ttl_secs),
            (
                "core.description_max_chars",
                self.core.description_max_chars as u64,
            ),
            ("core.comment_max_chars", self.core.comment_max_chars as u64),
            (
                "discord.guild_id",
                self.discord.guild_id.unwrap_or(u64::MAX),
            ),
            (
                "discord.tickets_channel",
                self.discord.tickets_channel.unwrap_or(u64::MAX),
            ),
            (
                "discord.allowed_guilds",
                self.discord
                    .allowed_guilds
                    .iter()
                    .copied()
                    .min()
                    .unwrap_or(u64::MAX),
            ),
        ];
        for (key, value) in positive {
            if value == 0 {
                return Err(ConfigError::Invalid {
                    key: key.into(),
                    expected: "a number greater than 0".into(),
                });
            }
        }
        Ok(())
    }

    fn validate_headers(&self) -> Result<(), ConfigError> {
        for (key, name) in [
            (
                "orange.application_id_header",
                &self.orange.application_id_header,
            ),
            ("orange.request_id_header", &self.orange.request_id_header),
        ] {
            if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err(ConfigError::Invalid {
                    key: key.into(),
                    expected: format!("an HTTP header name, got `{name}`"),
                });
            }
        }
        Ok(())
    }

    /// Half a credential pair is a mistake, not "use the sandbox".
    fn validate_credentials(&self) -> Result<(), ConfigError> {
        match (
            &self.secrets.orange_client_id,
            &self.secrets.orange_client_secret,
        ) {
            (Some(_), None) => Err(ConfigError::Missing {
                key: secret_keys::ORANGE_CLIENT_SECRET,
                expected: "the client_secret of your Orange Developer app (ORANGE_CLIENT_ID is set)",
            }),
            (None, Some(_)) => Err(ConfigError::Missing {
                key: secret_keys::ORANGE_CLIENT_ID,
                expected: "the client_id of your Orange Developer app (ORANGE_CLIENT_SECRET is set)",
            }),
            _ => Ok(()),
        }
    }

    /// The `[sandbox]` durations, within what the sandbox's clock arithmetic holds.
    fn validate_sandbox(&self) -> Result<(), ConfigError> {
        let sb = &self.sandbox;
        for (key, value, max) in [
            (
                "sandbox.token_ttl_secs",
                sb.token_ttl_secs,
                SandboxSettings::MAX_TOKEN_TTL_SECS,
            ),
            (
                "sandbox.auto_advance_secs",
                sb.auto_advance_secs,
                SandboxSettings::MAX_AUTO_ADVANCE_SECS,
            ),
            (
                "sandbox.embedded_auto_advance_secs",
                sb.embedded_auto_advance_secs,
                SandboxSettings::MAX_AUTO_ADVANCE_SECS,
            ),
        ] {
            if value > max {
                return Err(ConfigError::Invalid {
                    key: key.into(),
                    expected: format!("at most {max} (seconds), got {value}"),
                });
            }
        }
        for (key, hours) in self.nudges.keys() {
            if hours > NudgeSettings::MAX_HOURS {
                return Err(ConfigError::Invalid {
                    key: key.into(),
                    expected: format!("at most {} (hours), got {hours}", NudgeSettings::MAX_HOURS),
                });
            }
        }
        Ok(())
    }

    /// The Orange credentials, or `None` when the bot should use its embedded sandbox.
    pub fn orange_credentials(&self) -> Option<OrangeCredentials> {
        Some(OrangeCredentials {
            client_id: self.secrets.orange_client_id.clone()?,
            client_secret: self.secrets.orange_client_secret.clone()?,
        })
    }

    /// Whether Discord may be served: with Orange credentials, or from the embedded sandbox when
    /// `sandbox.serve_discord` says so.
    pub fn check_orange_for_discord(&self) -> Result<(), ConfigError> {
        if self.orange_credentials().is_none() && !self.sandbox.serve_discord {
            return Err(ConfigError::SandboxForDiscord);
        }
        Ok(())
    }

    /// The Discord bot token, for the modes that connect to Discord.
    pub fn require_discord_token(&self) -> Result<&SecretString, ConfigError> {
        self.secrets
            .discord_token
            .as_ref()
            .filter(|t| !t.expose_secret().is_empty())
            .ok_or(ConfigError::Missing {
                key: secret_keys::DISCORD_TOKEN,
                expected: "the bot token from https://discord.com/developers/applications (Bot > Token)",
            })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use figment::providers::Serialized;

    use super::*;

    fn secrets(pairs: &[(&str, &str)]) -> Secrets {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Secrets::from_lookup(|k| map.get(k).cloned())
    }

    fn base() -> Figment {
        Figment::from(Toml::string(DEFAULT_TOML))
    }

    #[test]
    fn the_compiled_in_defaults_load() {
        let s = Settings::defaults().expect("defaults are valid");
        assert_eq!(s.orange.paths.get_ticket, "/troubleTicket/{id}");
        assert_eq!(s.orange.search.ctxid, "TCKTNG");
        assert_eq!(s.telemetry.format, LogFormat::Pretty);
        assert!(s.orange_credentials().is_none());
        assert!(s.discord.guild_id.is_none());
    }

    #[test]
    fn debug_never_shows_a_secret() {
        let s = Settings::from_figment(
            base(),
            secrets(&[
                ("DISCORD_TOKEN", "discord-token-hunter2"),
                ("ORANGE_CLIENT_ID", "client-id-hunter2"),
                ("ORANGE_CLIENT_SECRET", "client-secret-hunter2"),
                ("ORANGE_APPLICATION_ID", "app-id-hunter2"),
            ]),
        )
        .expect("valid");
        let debug = format!("{s:?} {s:#?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("REDACTED"));
        assert!(s.orange_credentials().is_some());
        assert_eq!(
            s.require_discord_token()
                .map(|t| t.expose_secret().to_owned())
                .ok(),
            Some("discord-token-hunter2".to_owned())
        );
    }

    #[test]
    fn empty_secrets_count_as_unset() {
        let s = secrets(&[("DISCORD_TOKEN", "  "), ("ORANGE_CLIENT_ID", "")]);
        assert!(s.discord_token.is_none() && s.orange_client_id.is_none());
    }

    #[test]
    fn a_missing_token_names_the_variable() {
        let s = Settings::defaults().expect("valid");
        let err = s.require_discord_token().unwrap_err().to_string();
        assert!(
            err.starts_with("DISCORD_TOKEN is not set: expected the bot token"),
            "{err}"
        );
    }

    #[test]
    fn half_a_credential_pair_is_refused() {
        let err = Settings::from_figment(base(), secrets(&[("ORANGE_CLIENT_ID", "x")]))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("ORANGE_CLIENT_SECRET is not set"), "{err}");
    }

    #[test]
    fn bad_values_name_their_key() {
        let bad_url = base().merge(Serialized::default("orange.base_url", "not a url"));
        let err = Settings::from_figment(bad_url, Secrets::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("orange.base_url"), "{err}");

        let bad_path = base().merge(Serialized::default("orange.paths.get_ticket", "/t"));
        let err = Settings::from_figment(bad_path, Secrets::default())
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "orange.paths.get_ticket is invalid: expected a path starting with `/` containing `{id}`, got `/t`"
        );

        let typo = base().merge(Serialized::default("watcher.intervall_secs", 3));
        let err = Settings::from_figment(typo, Secrets::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("intervall_secs"), "{err}");
    }

    #[test]
    fn the_shutdown_timeout_is_a_positive_number_of_seconds() {
        let s = Settings::defaults().expect("valid");
        assert_eq!(s.app.shutdown_timeout(), Duration::from_secs(8));
        let zero = base().merge(Serialized::default("app.shutdown_timeout_secs", 0));
        let err = Settings::from_figment(zero, Secrets::default())
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "app.shutdown_timeout_secs is invalid: expected a number greater than 0"
        );
    }

    #[test]
    fn the_metrics_listener_stays_on_loopback_unless_allowed() {
        let s = Settings::defaults().expect("valid");
        assert_eq!(s.ops.listen, None, "off by default");
        let port = base().merge(Serialized::default("ops.listen", "9464"));
        let s = Settings::from_figment(port, Secrets::default()).expect("valid");
        assert_eq!(s.ops.listen, Some("127.0.0.1:9464".parse().expect("addr")));
        let public = base().merge(Serialized::default("ops.listen", "0.0.0.0:9464"));
        let err = Settings::from_figment(public.clone(), Secrets::default())
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("ops.listen is invalid"), "{err}");
        assert!(
            err.ends_with("got `0.0.0.0:9464`; set ops.allow_public = true to listen there"),
            "{err}"
        );
        let allowed = public.merge(Serialized::default("ops.allow_public", true));
        let s = Settings::from_figment(allowed, Secrets::default()).expect("allowed");
        assert_eq!(s.ops.listen, Some("0.0.0.0:9464".parse().expect("addr")));
        let garbage = base().merge(Serialized::default("ops.listen", "localhost"));
        let err = Settings::from_figment(garbage, Secrets::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("ops.listen"), "{err}");
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail closure signature, not ours
    fn environment_overrides_reach_nested_keys() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("OTB__ORANGE__PATHS__SEARCH", "/tickets");
            jail.set_env("OTB__DISCORD__GUILD_ID", "123456789012345678");
            jail.set_env("OTB__TELEMETRY__FORMAT", "json");
            let s = Settings::load(None).expect("valid");
            assert_eq!(s.orange.paths.search, "/tickets");
            assert_eq!(s.discord.guild_id, Some(123_456_789_012_345_678));
            assert_eq!(s.telemetry.format, LogFormat::Json);
            Ok(())
        });
    }

    #[test]
    fn a_bad_digest_time_or_zone_names_its_key() {
        for (key, value) in [
            ("digest.time_zone", "Europe/Pariss"),
            ("digest.at", "8am"),
            ("digest.at", "25:00"),
        ] {
            let bad = base().merge(Serialized::default(key, value));
            let err = Settings::from_figment(bad, Secrets::default())
                .unwrap_err()
                .to_string();
            assert!(err.starts_with(&format!("{key} is invalid")), "{err}");
        }
        let fine = base()
            .merge(Serialized::default("digest.time_zone", "America/New_York"))
            .merge(Serialized::default("digest.at", "17:30"));
        let settings = Settings::from_figment(fine, Secrets::default()).expect("loads");
        assert_eq!(
            settings.digest.zone().ok(),
            Some(chrono_tz::America::New_York)
        );
    }
}
