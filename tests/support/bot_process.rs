//! The real bot **process** (the built binary, `run` mode) against the fake Discord and an Orange
//! sandbox, on a sled store in a temporary directory; what the crash and shutdown tests share.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use orange_ticket_bot::config::{OrangeCredentials, Settings};
use orange_ticket_bot::domain::{Conversation, SearchQuery, TicketId};
use orange_ticket_bot::orange::OrangeClient;
use orange_ticket_bot::sandbox::{self, RunningSandbox, SandboxControl, SandboxOptions};
use orange_ticket_bot::store::Store;

use super::fake_discord::{CHANNEL_ID, FakeDiscord};

/// One run of the bot process, its stderr (the log) collected line by line.
pub struct BotProcess {
    pub child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl BotProcess {
    /// Starts `orange-ticket-bot run` in `cwd` with only `env` (and `PATH`) set.
    pub fn spawn(env: &[(String, String)], cwd: &std::path::Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_orange-ticket-bot"))
            .arg("run")
            .current_dir(cwd)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the bot starts");
        let log = Arc::new(Mutex::new(Vec::new()));
        let lines = Arc::clone(&log);
        let stderr = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                lines.lock().expect("log").push(line);
            }
        });
        BotProcess { child, log }
    }

    /// The log lines so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().expect("log").clone()
    }

    /// Watcher passes the process logged so far.
    pub fn passes(&self) -> usize {
        self.log
            .lock()
            .expect("log")
            .iter()
            .filter(|l| l.contains("watcher pass"))
            .count()
    }

    /// Waits until a log line contains `needle`; panics with the log after `within`.
    pub async fn wait_for_log(&self, needle: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            if let Some(line) = self.log().into_iter().find(|l| l.contains(needle)) {
                return line;
            }
            assert!(
                Instant::now() < deadline,
                "no log line with {needle:?} within {within:?}:\n{}",
                self.log().join("\n")
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sends `signal` to the process.
    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).expect("a pid"));
        nix::sys::signal::kill(pid, signal).expect("signal sent");
    }

    /// Waits for the process to exit; panics with the log after `within`.
    pub async fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the bot did not exit within {within:?}:\n{}",
                self.log().join("\n")
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILL, and the process reaped.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }
}

/// An Orange sandbox, open tickets each linked to a thread of the fake (with a snapshot in the
/// store, so the bot's watcher follows them), and the environment that runs the bot on them.
pub struct Followed {
    pub orange: RunningSandbox,
    pub control: SandboxControl,
    pub dir: tempfile::TempDir,
    pub store_path: PathBuf,
    pub threads: BTreeMap<TicketId, u64>,
    pub env: Vec<(String, String)>,
}

impl Followed {
    /// `count` open tickets of a fresh sandbox, followed in threads of `fake`'s `CHANNEL_ID`.
    pub async fn start(fake: &FakeDiscord, count: usize) -> Self {
        let mut settings = Settings::defaults().expect("defaults");
        let orange = sandbox::start(
            SandboxOptions::from_settings(&settings),
            SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        )
        .await
        .expect("sandbox");
        settings.orange.base_url = orange.base_url();
        settings.orange.token_url = orange.token_url();
        let client = OrangeClient::new(
            &settings.orange,
            OrangeCredentials {
                client_id: settings.sandbox.client_id.clone().into(),
                client_secret: settings.sandbox.client_secret.clone().into(),
            },
            None,
        )
        .expect("client");
        let open: Vec<_> = client
            .search_all(SearchQuery::default(), client.background())
            .try_collect::<Vec<_>>()
            .await
            .expect("search")
            .into_iter()
            .flat_map(|p| p.tickets)
            .filter(|t| !t.status.is_final())
            .take(count)
            .collect();
        assert_eq!(open.len(), count, "the seed has enough open tickets");
        let dir = tempfile::tempdir().expect("temp dir");
        let store_path = dir.path().join("bot.sled");
        let mut threads = BTreeMap::new();
        {
            let store = Store::open(&store_path).expect("store");
            for t in &open {
                let thread =
                    fake.state()
                        .add_thread(CHANNEL_ID, 11, t.id.as_str(), Vec::new(), None);
                let full = client
                    .get_ticket(&t.id, client.background())
                    .await
                    .expect("get");
                store
                    .link(&Conversation::discord(thread), &t.id)
                    .await
                    .expect("link");
                store.put_snapshot(&full).await.expect("snapshot");
                threads.insert(t.id.clone(), thread);
            }
        }
        let env = [
            ("DISCORD_TOKEN", "fake-token".to_owned()),
            ("ORANGE_CLIENT_ID", settings.sandbox.client_id.clone()),
            (
                "ORANGE_CLIENT_SECRET",
                settings.sandbox.client_secret.clone(),
            ),
            ("OTB__DISCORD__API_BASE_URL", fake.base_url()),
            (
                "OTB__ORANGE__BASE_URL",
                settings.orange.base_url.to_string(),
            ),
            (
                "OTB__ORANGE__TOKEN_URL",
                settings.orange.token_url.to_string(),
            ),
            ("OTB__STORE__PATH", store_path.display().to_string()),
            ("OTB__WATCHER__INTERVAL_SECS", "1".to_owned()),
            ("RUST_LOG", "info,serenity=error".to_owned()),
            ("NO_PROXY", "127.0.0.1,localhost".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        Followed {
            control: orange.control(),
            orange,
            dir,
            store_path,
            threads,
            env,
        }
    }

    /// The environment with `extra` settings added (later ones win).
    pub fn env_with(&self, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut env = self.env.clone();
        env.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        env
    }

    /// Starts the bot process on these tickets.
    pub fn spawn_bot(&self, extra: &[(&str, &str)]) -> BotProcess {
        BotProcess::spawn(&self.env_with(extra), self.dir.path())
    }
}
