//! The bot as the operations team runs it: the release binary in its own process (`run` mode),
//! configured only through the environment, against the fake Discord and a sandbox of this
//! process; and what /proc says about its memory.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use orange_ticket_bot::config::Settings;

use crate::fake_discord::{FakeDiscord, State};
use crate::measure;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// How long the bot may take to reach READY before the run counts as failed.
const READY_WITHIN: Duration = Duration::from_secs(30);

/// Where the bot finds everything: Discord, Orange (with the sandbox's credentials), its store.
#[derive(Debug, Clone)]
pub struct Target {
    pub binary: PathBuf,
    pub discord: String,
    pub orange_base: String,
    pub orange_token: String,
    /// The sandbox's client credentials (not secrets: the sandbox is a local simulator).
    pub client: (String, String),
    pub store: PathBuf,
    /// The bot's working directory (no `.env` there) and where its log goes.
    pub workdir: PathBuf,
}

impl Target {
    /// The bot against `fake` and the Orange and store of `settings` (a sandbox's URLs, a
    /// store the benchmark seeded or a fresh one).
    pub fn new(binary: &Path, fake: &FakeDiscord, settings: &Settings, workdir: &Path) -> Self {
        Target {
            binary: binary.to_owned(),
            discord: fake.base_url(),
            orange_base: settings.orange.base_url.to_string(),
            orange_token: settings.orange.token_url.to_string(),
            client: (
                settings.sandbox.client_id.clone(),
                settings.sandbox.client_secret.clone(),
            ),
            store: settings.store.path.clone(),
            workdir: workdir.to_owned(),
        }
    }
}

/// A running bot process; killed when dropped.
#[derive(Debug)]
pub struct Bot {
    child: Child,
    pub spawned_at: Instant,
}

impl Bot {
    /// Starts `orange-ticket-bot run` with a clean environment: only the settings below.
    pub fn spawn(target: &Target) -> Result<Self, Error> {
        let log = std::fs::File::create(target.workdir.join("bot.log"))?;
        let mut command = Command::new(&target.binary);
        command
            .arg("run")
            .env_clear()
            // Settings to try (e.g. OTB__NUDGES__ONGOING_HOURS=0) pass through; those below win.
            .envs(std::env::vars().filter(|(k, _)| k.starts_with("OTB__")))
            .current_dir(&target.workdir)
            .env("DISCORD_TOKEN", "fake-token")
            .env("ORANGE_CLIENT_ID", &target.client.0)
            .env("ORANGE_CLIENT_SECRET", &target.client.1)
            .env("OTB__DISCORD__API_BASE_URL", &target.discord)
            .env("OTB__ORANGE__BASE_URL", &target.orange_base)
            .env("OTB__ORANGE__TOKEN_URL", &target.orange_token)
            .env("OTB__STORE__PATH", &target.store)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        let spawned_at = Instant::now();
        let child = command.spawn()?;
        Ok(Bot { child, spawned_at })
    }

    /// A `VmXXX:` figure of the bot's /proc status in KiB (`VmRSS` now, `VmHWM` the peak).
    pub fn vm_kib(&self, field: &str) -> Option<u64> {
        measure::proc_vm_kib(&self.child.id().to_string(), field)
    }

    /// Fails when the bot exited (e.g. refused its settings); its log says why.
    pub fn still_running(&mut self, workdir: &Path) -> Result<(), Error> {
        match self.child.try_wait()? {
            None => Ok(()),
            Some(status) => {
                let log = std::fs::read_to_string(workdir.join("bot.log")).unwrap_or_default();
                Err(format!("the bot exited ({status}):\n{log}").into())
            }
        }
    }
}

impl Drop for Bot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// When the bot got somewhere, measured from its spawn.
#[derive(Debug, Clone, Copy)]
pub struct Milestones {
    /// The bot sent IDENTIFY.
    pub identify: Duration,
    /// The fake sent READY.
    pub ready: Duration,
    /// The bot's command registration (`PUT .../commands`) arrived.
    pub registered: Duration,
}

/// Waits until `bot` registered its commands with `fake`; the milestones on the way.
pub async fn milestones(fake: &FakeDiscord, bot: &Bot) -> Milestones {
    let after = |state: &State, at: Duration| (state.started + at).duration_since(bot.spawned_at);
    fake.wait_for("the bot's command registration", READY_WITHIN, |s| {
        let identify = s.frames.iter().find(|f| f.from_bot && f.op == 2)?;
        let ready = s
            .frames
            .iter()
            .find(|f| f.event.as_deref() == Some("READY"))?;
        let registered = s.requests.iter().find(|r| {
            r.method == "PUT"
                && r.route.is_some_and(|r| r.ends_with("/commands"))
                && r.status == 200
        })?;
        Some(Milestones {
            identify: after(s, identify.at),
            ready: after(s, ready.at),
            registered: after(s, registered.received),
        })
    })
    .await
}
