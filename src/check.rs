//! `orange-ticket-bot check`: a live diagnosis of an installation, one line per check, `OK` or
//! `FAIL` with what to fix (`SKIP` when a check cannot run). First what the settings say (secrets
//! shown as set/unset only), then Orange — a token, the status endpoint, the service numbers —
//! and, with a `DISCORD_TOKEN`, Discord: the token, the guilds and the bot's permissions in each
//! ([`crate::discord::check`] asks Discord; this module words the answers).
//!
//! Without Orange credentials the embedded sandbox is checked, started as `run` starts it (same
//! settings, loopback, the world saved beside the store if there is one) but without its
//! lifecycle: a check reads, it never changes what a running bot uses.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Instant;

use secrecy::ExposeSecret;
use url::Url;

use crate::config::{OrangeCredentials, Settings};
use crate::discord::check::{BotUser, GuildEntry, Needed, Probe, ProbeError};
use crate::domain::Service;
use crate::orange::{Operation, OrangeClient, OrangeError};
use crate::sandbox::{self, RunningSandbox, SandboxOptions};

/// Service numbers and guild names shown in a line, at most.
const LISTED: usize = 5;
/// Guilds whose permissions are checked, at most (two Discord calls each).
const MAX_GUILDS_CHECKED: usize = 25;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    Fail,
    /// Not checked: it depends on something that failed or is not configured.
    Skip,
}

/// One line of the diagnosis: `OK   Orange token: issued by ... in 12 ms`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub verdict: Verdict,
    pub subject: String,
    pub detail: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mark = match self.verdict {
            Verdict::Ok => "OK",
            Verdict::Fail => "FAIL",
            Verdict::Skip => "SKIP",
        };
        write!(f, "{mark:<4} {}: {}", self.subject, self.detail)
    }
}

/// Everything one run of the check found.
#[derive(Debug, Default)]
pub struct Diagnosis {
    pub findings: Vec<Finding>,
    /// The settings loaded but do not allow `run` (status 2, like any invalid setting).
    settings_unusable: bool,
}

impl Diagnosis {
    pub fn failed(&self) -> usize {
        self.count(Verdict::Fail)
    }

    /// The checks that ran (OK or FAIL).
    pub fn checked(&self) -> usize {
        self.count(Verdict::Ok) + self.failed()
    }

    fn count(&self, verdict: Verdict) -> usize {
        self.findings
            .iter()
            .filter(|f| f.verdict == verdict)
            .count()
    }

    /// `Ok` when every check passed.
    pub fn outcome(&self) -> Result<(), CheckFailed> {
        if self.settings_unusable {
            return Err(CheckFailed::Settings);
        }
        match self.failed() {
            0 => Ok(()),
            failed => Err(CheckFailed::Live {
                failed,
                checked: self.checked(),
            }),
        }
    }
}

/// Why `check` exits non-zero.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckFailed {
    #[error("the settings do not allow `run` (see the FAIL line above)")]
    Settings,
    #[error("{failed} of {checked} checks failed; each FAIL line says what to fix")]
    Live { failed: usize, checked: usize },
}

impl CheckFailed {
    /// Invalid settings exit with 2 (as everywhere); a failed live check with 1.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CheckFailed::Settings => ExitCode::from(2),
            CheckFailed::Live { .. } => ExitCode::from(1),
        }
    }
}

/// Collects the findings and hands each line to the printer as soon as it is known, so a slow
/// answer shows where the check waits.
struct Recorder<'a> {
    diagnosis: Diagnosis,
    print: &'a mut dyn FnMut(&str),
}

impl Recorder<'_> {
    fn push(&mut self, verdict: Verdict, subject: impl Into<String>, detail: impl Into<String>) {
        let finding = Finding {
            verdict,
            subject: subject.into(),
            detail: detail.into(),
        };
        (self.print)(&finding.to_string());
        self.diagnosis.findings.push(finding);
    }

    fn ok(&mut self, subject: impl Into<String>, detail: impl Into<String>) {
        self.push(Verdict::Ok, subject, detail);
    }

    fn fail(&mut self, subject: impl Into<String>, detail: impl Into<String>) {
        self.push(Verdict::Fail, subject, detail);
    }

    fn skip(&mut self, subject: impl Into<String>, detail: impl Into<String>) {
        self.push(Verdict::Skip, subject, detail);
    }
}

/// Runs every check against `settings`, printing each line through `print` as it is known.
pub async fn run(settings: &Settings, mut print: impl FnMut(&str)) -> Diagnosis {
    print(&settings_report(settings));
    let mut found = Recorder {
        diagnosis: Diagnosis::default(),
        print: &mut print,
    };
    check_settings(settings, &mut found);
    check_orange(settings, &mut found).await;
    check_discord(settings, &mut found).await;
    let diagnosis = found.diagnosis;
    if diagnosis.outcome().is_ok() {
        print(&format!("all {} checks OK", diagnosis.checked()));
    }
    diagnosis
}

/// What the settings say: where each part of the bot would connect, secrets only as set/unset.
pub fn settings_report(settings: &Settings) -> String {
    let set = |s: &Option<secrecy::SecretString>| if s.is_some() { "set" } else { "not set" };
    let orange = match settings.orange_credentials() {
        Some(_) => format!(
            "Orange at {} ({})",
            settings.orange.base_url.host_str().unwrap_or("?"),
            settings.orange.base_url
        ),
        None => format!(
            "embedded sandbox on 127.0.0.1, not real tickets (ORANGE_CLIENT_ID/ORANGE_CLIENT_SECRET \
             not set); Discord mode {}",
            if settings.sandbox.serve_discord {
                "serves it, every card and reply saying so (sandbox.serve_discord = true)"
            } else {
                "refuses to start (sandbox.serve_discord = false)"
            }
        ),
    };
    let s = &settings.secrets;
    let w = &settings.watcher;
    let watcher = if w.enabled {
        format!(
            "a pass every {} s, at most {} single reads a pass",
            w.interval_secs, w.max_gets_per_pass
        )
    } else {
        "off (watcher.enabled = false)".into()
    };
    format!(
        "orange:   {orange}\n\
         token:    {}\n\
         discord:  {} (DISCORD_TOKEN {})\n\
         store:    {}\n\
         watcher:  {watcher}\n\
         secrets:  ORANGE_CLIENT_ID {}, ORANGE_CLIENT_SECRET {}, ORANGE_APPLICATION_ID {}\n",
        settings.orange.token_url,
        settings.discord.api_base_url,
        set(&s.discord_token),
        settings.store.path.display(),
        set(&s.orange_client_id),
        set(&s.orange_client_secret),
        set(&s.orange_application_id),
    )
}

/// The settings loaded (or `main` stopped with status 2); with a Discord token, they must also
/// say which Orange Discord users get.
fn check_settings(settings: &Settings, found: &mut Recorder<'_>) {
    match discord_token(settings).map(|_| settings.check_orange_for_discord()) {
        Some(Err(e)) => {
            found.diagnosis.settings_unusable = true;
            found.fail("settings", e.to_string());
        }
        Some(Ok(())) | None => found.ok("settings", "valid"),
    }
}

fn discord_token(settings: &Settings) -> Option<&secrecy::SecretString> {
    settings
        .secrets
        .discord_token
        .as_ref()
        .filter(|t| !t.expose_secret().is_empty())
}

/// The Orange the bot would use, and the sandbox started for it (the caller stops it).
struct OrangeTarget {
    client: OrangeClient,
    token_url: Url,
    sandbox: Option<RunningSandbox>,
}

async fn check_orange(settings: &Settings, found: &mut Recorder<'_>) {
    let Some(target) = orange_target(settings, found).await else {
        return;
    };
    if check_token(&target, found).await {
        check_status(&target.client, found).await;
        check_services(&target.client, found).await;
    } else {
        found.skip("Orange API status", "needs a token");
        found.skip("Orange service numbers", "needs a token");
    }
    if let Some(sandbox) = target.sandbox {
        sandbox.shutdown().await;
    }
}

/// The client for Orange, or for the embedded sandbox started here when no credentials are set.
async fn orange_target(settings: &Settings, found: &mut Recorder<'_>) -> Option<OrangeTarget> {
    let mut orange = settings.orange.clone();
    let (credentials, sandbox) = match settings.orange_credentials() {
        Some(credentials) => (credentials, None),
        None => {
            let running = match start_sandbox(settings).await {
                Ok(running) => running,
                Err(e) => {
                    found.fail(
                        "Orange sandbox",
                        format!("the embedded sandbox did not start: {e}"),
                    );
                    return None;
                }
            };
            orange.base_url = running.base_url();
            orange.token_url = running.token_url();
            found.ok(
                "Orange sandbox",
                format!(
                    "no ORANGE_CLIENT_ID/ORANGE_CLIENT_SECRET, so the embedded sandbox is checked, \
                     started as `run` would at {} (not real tickets)",
                    running.base_url()
                ),
            );
            let credentials = OrangeCredentials {
                client_id: settings.sandbox.client_id.clone().into(),
                client_secret: settings.sandbox.client_secret.clone().into(),
            };
            (credentials, Some(running))
        }
    };
    let application_id = settings.secrets.orange_application_id.clone();
    match OrangeClient::new(&orange, credentials, application_id) {
        Ok(client) => Some(OrangeTarget {
            client,
            token_url: orange.token_url,
            sandbox,
        }),
        Err(e) => {
            found.fail(
                "Orange client",
                format!("the HTTP client could not be built: {e}"),
            );
            if let Some(sandbox) = sandbox {
                sandbox.shutdown().await;
            }
            None
        }
    }
}

/// The embedded sandbox as `run` starts it, minus its lifecycle (which would change tickets)
/// and minus a new world file (a fresh installation is left as it was).
async fn start_sandbox(settings: &Settings) -> std::io::Result<RunningSandbox> {
    let world = crate::app::embedded_world_file(&settings.store.path);
    let options = SandboxOptions {
        world_file: world.exists().then_some(world),
        auto_advance: None,
        ..SandboxOptions::from_settings(settings)
    };
    sandbox::start(options, SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await
}

/// Whether a token was issued.
async fn check_token(target: &OrangeTarget, found: &mut Recorder<'_>) -> bool {
    let started = Instant::now();
    match target.client.fetch_token(target.client.interactive()).await {
        Ok(()) => {
            let url = &target.token_url;
            found.ok(
                "Orange token",
                format!("issued by {url} in {}", ms(started)),
            );
            true
        }
        Err(e) => {
            found.fail("Orange token", orange_fix(&e));
            false
        }
    }
}

async fn check_status(client: &OrangeClient, found: &mut Recorder<'_>) {
    let started = Instant::now();
    match client.api_status(client.interactive()).await {
        Ok(status) if status.is_ok() => {
            let name = [status.name.as_deref(), status.version.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            let name = if name.is_empty() {
                String::new()
            } else {
                format!(" ({name})")
            };
            found.ok(
                "Orange API status",
                format!("{}{name} in {}", status.status, ms(started)),
            );
        }
        Ok(status) => {
            let down: Vec<String> = status
                .components
                .iter()
                .filter(|c| !c.status.eq_ignore_ascii_case("ok"))
                .map(|c| format!("{} {}", c.name.as_deref().unwrap_or("?"), c.status))
                .collect();
            found.fail(
                "Orange API status",
                format!(
                    "Orange reports \"{}\"{}: commands may fail until Orange recovers; nothing to \
                     fix here",
                    status.status,
                    if down.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", down.join(", "))
                    }
                ),
            );
        }
        Err(e) => found.fail("Orange API status", orange_fix(&e)),
    }
}

async fn check_services(client: &OrangeClient, found: &mut Recorder<'_>) {
    match client.service_numbers(client.interactive()).await {
        Ok(services) if services.is_empty() => found.fail(
            "Orange service numbers",
            "none on this account, so no ticket can be opened: ask Orange to attach the service \
             numbers to this API account",
        ),
        Ok(services) => found.ok(
            "Orange service numbers",
            format!("{} ({})", services.len(), first_services(&services)),
        ),
        Err(e) => found.fail("Orange service numbers", orange_fix(&e)),
    }
}

fn first_services(services: &[Service]) -> String {
    listed(
        services.iter().map(|s| s.number.to_string()),
        services.len(),
    )
}

/// The first [`LISTED`] of `items`, with `…` when there are more than that.
fn listed(items: impl Iterator<Item = String>, len: usize) -> String {
    let mut text = items.take(LISTED).collect::<Vec<_>>().join(", ");
    if len > LISTED {
        text.push_str(", …");
    }
    text
}

fn ms(since: Instant) -> String {
    format!("{} ms", since.elapsed().as_millis())
}

/// What an Orange failure means for the operator, and what to change.
fn orange_fix(e: &OrangeError) -> String {
    match e {
        OrangeError::CredentialsRejected { status } => format!(
            "Orange refused the client id/secret (HTTP {status}): check ORANGE_CLIENT_ID / \
             ORANGE_CLIENT_SECRET"
        ),
        OrangeError::Unauthorized { .. } => "Orange refused the token its own token endpoint \
             issued (HTTP 401): check that orange.token_url and orange.base_url are the same \
             Orange environment"
            .into(),
        OrangeError::Forbidden { problem, .. } => format!(
            "Orange refused this application (HTTP 403, {problem}): check ORANGE_APPLICATION_ID \
             and the account's API subscription"
        ),
        OrangeError::NotFound { op, .. } => {
            format!("no such endpoint (HTTP 404): check {}", setting_of(*op))
        }
        OrangeError::Timeout { op, waited } => format!(
            "no answer within {} ms: check that {} is reachable from here (network, proxy, \
             firewall)",
            waited.as_millis(),
            setting_of(*op)
        ),
        OrangeError::Unavailable { op, detail, .. } => format!(
            "unreachable or failing ({detail}): check {} and the network, or retry later",
            setting_of(*op)
        ),
        OrangeError::Throttled { .. } => {
            "Orange is throttling this account: retry in a minute".into()
        }
        OrangeError::Malformed { op, .. }
        | OrangeError::Unexpected { op, .. }
        | OrangeError::TooLarge { op, .. } => format!(
            "{e}: check that {} points at Orange's Trouble Tickets API",
            setting_of(*op)
        ),
        OrangeError::Rejected { .. }
        | OrangeError::Uncertain { .. }
        | OrangeError::NotApplied { .. } => e.to_string(),
    }
}

/// The settings that decide where `op` goes.
fn setting_of(op: Operation) -> &'static str {
    match op {
        Operation::Token => "orange.token_url",
        Operation::ApiStatus => "orange.base_url and orange.paths.api_status",
        Operation::ServiceNumbers => "orange.base_url and orange.paths.service_numbers",
        _ => "orange.base_url",
    }
}

async fn check_discord(settings: &Settings, found: &mut Recorder<'_>) {
    let Some(token) = discord_token(settings) else {
        found.skip(
            "Discord",
            "DISCORD_TOKEN is not set (`run` on a terminal starts the console instead)",
        );
        return;
    };
    let probe = Probe::new(token, settings);
    let bot = match probe.bot().await {
        Ok(bot) => {
            found.ok(
                "Discord token",
                format!("accepted: the bot is {} (id {})", bot.name, bot.id),
            );
            bot
        }
        Err(e) => {
            found.fail("Discord token", discord_fix(&e, settings));
            found.skip("Discord guilds", "needs an accepted token");
            return;
        }
    };
    let guilds = match probe.guilds().await {
        Ok(guilds) => guilds,
        Err(e) => {
            found.fail("Discord guilds", discord_fix(&e, settings));
            return;
        }
    };
    check_guild_list(settings, &guilds, found);
    check_permissions(&probe, &bot, settings, &guilds, found).await;
}

/// The guilds the bot is in, and the ones the settings name that it is not in.
fn check_guild_list(settings: &Settings, guilds: &[GuildEntry], found: &mut Recorder<'_>) {
    if guilds.is_empty() {
        found.fail(
            "Discord guilds",
            format!(
                "the bot is in none: invite it (Developer Portal > OAuth2 > URL Generator: scopes \
                 bot and applications.commands, permissions {})",
                Needed::invite_bits()
            ),
        );
    } else {
        let names = guilds.iter().map(|g| g.name.clone());
        found.ok(
            "Discord guilds",
            format!("{} ({})", guilds.len(), listed(names, guilds.len())),
        );
    }
    let discord = &settings.discord;
    let named = discord
        .guild_id
        .iter()
        .map(|id| (*id, "discord.guild_id"))
        .chain(
            discord
                .allowed_guilds
                .iter()
                .map(|id| (*id, "discord.allowed_guilds")),
        );
    for (id, key) in named {
        if !guilds.iter().any(|g| g.id == id) {
            found.fail(
                format!("Discord guild {id}"),
                format!("named by {key}, but the bot is not in it: invite it, or fix {key}"),
            );
        }
    }
}

/// For each guild that matters (the allowed ones, else every one up to [`MAX_GUILDS_CHECKED`]),
/// whether the bot's roles grant what it needs.
async fn check_permissions(
    probe: &Probe,
    bot: &BotUser,
    settings: &Settings,
    guilds: &[GuildEntry],
    found: &mut Recorder<'_>,
) {
    let allowed = &settings.discord.allowed_guilds;
    let relevant: Vec<&GuildEntry> = guilds
        .iter()
        .filter(|g| allowed.is_empty() || allowed.contains(&g.id))
        .collect();
    for guild in relevant.iter().take(MAX_GUILDS_CHECKED) {
        let subject = format!("Discord guild \"{}\" ({})", guild.name, guild.id);
        match probe.missing(guild, bot).await {
            Ok(missing) if missing.is_empty() => {
                found.ok(subject, "the bot has every permission it needs")
            }
            Ok(missing) => found.fail(subject, missing_fix(&missing)),
            Err(e) => found.fail(
                subject,
                format!(
                    "the bot's roles could not be read: {}",
                    discord_fix(&e, settings)
                ),
            ),
        }
    }
    if relevant.len() > MAX_GUILDS_CHECKED {
        found.skip(
            "Discord guilds",
            format!(
                "permissions checked in the first {MAX_GUILDS_CHECKED} of {}; set \
                 discord.allowed_guilds to choose which",
                relevant.len()
            ),
        );
    }
}

fn missing_fix(missing: &[Needed]) -> String {
    let names: Vec<&str> = missing.iter().map(|n| n.name()).collect();
    format!(
        "missing {}: grant {} to the bot's role (Server Settings > Roles), or invite it again \
         with permissions {}",
        names.join(", "),
        if missing.len() == 1 { "it" } else { "them" },
        Needed::invite_bits()
    )
}

/// What a Discord failure means for the operator, and what to change.
fn discord_fix(e: &ProbeError, settings: &Settings) -> String {
    let base = &settings.discord.api_base_url;
    match e {
        ProbeError::TokenRefused => "the Discord token was refused (HTTP 401): check \
             DISCORD_TOKEN (Developer Portal > Bot > Reset Token gives a new one)"
            .into(),
        ProbeError::Refused { .. } => e.to_string(),
        ProbeError::Timeout(_) => {
            format!("{e}: check that {base} is reachable from here (discord.api_base_url)")
        }
        ProbeError::Unreachable(cause) => format!(
            "{e} at {base} ({cause}): check discord.api_base_url and the network (a proxy in \
             the environment needs NO_PROXY for loopback)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_starts_with_its_verdict_aligned() {
        let line = |verdict| {
            Finding {
                verdict,
                subject: "Orange token".into(),
                detail: "x".into(),
            }
            .to_string()
        };
        assert_eq!(line(Verdict::Ok), "OK   Orange token: x");
        assert_eq!(line(Verdict::Fail), "FAIL Orange token: x");
        assert_eq!(line(Verdict::Skip), "SKIP Orange token: x");
    }

    #[test]
    fn the_exit_status_says_what_went_wrong() {
        let finding = |verdict| Finding {
            verdict,
            subject: String::new(),
            detail: String::new(),
        };
        let mut d = Diagnosis {
            findings: vec![finding(Verdict::Ok), finding(Verdict::Skip)],
            settings_unusable: false,
        };
        assert_eq!(d.outcome(), Ok(()));
        d.findings.push(finding(Verdict::Fail));
        let failed = d.outcome().expect_err("a failure");
        assert_eq!(failed.exit_code(), ExitCode::from(1));
        assert_eq!(
            failed.to_string(),
            "1 of 2 checks failed; each FAIL line says what to fix"
        );
        d.settings_unusable = true;
        assert_eq!(d.outcome(), Err(CheckFailed::Settings));
        assert_eq!(CheckFailed::Settings.exit_code(), ExitCode::from(2));
    }

    #[test]
    fn refused_credentials_name_the_variables() {
        let fix = orange_fix(&OrangeError::CredentialsRejected { status: 401 });
        assert_eq!(
            fix,
            "Orange refused the client id/secret (HTTP 401): check ORANGE_CLIENT_ID / \
             ORANGE_CLIENT_SECRET"
        );
    }

    #[test]
    fn long_lists_are_cut_with_an_ellipsis() {
        let items = |n: usize| (0..n).map(|i| i.to_string());
        assert_eq!(listed(items(2), 2), "0, 1");
        assert_eq!(listed(items(7), 7), "0, 1, 2, 3, 4, …");
    }
}
