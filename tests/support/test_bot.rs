//! `TestBot`: the real bot, started through the same function `main` uses (`app::start_discord`),
//! against a fake Discord and an Orange sandbox the test starts, with a temporary sled directory.
//! Only the Discord REST base URL, the Orange URLs and the secrets differ from the defaults.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};

use orange_ticket_bot::app::{self, Running};
use orange_ticket_bot::config::Settings;
use orange_ticket_bot::sandbox::{self, RunningSandbox, SandboxOptions};
use secrecy::SecretString;
use tempfile::TempDir;

use super::fake_discord::{FakeDiscord, WAIT};

/// The real bot connected to a fake Discord; call [`TestBot::shutdown`] at the end of a test.
#[derive(Debug)]
pub struct TestBot {
    pub fake: FakeDiscord,
    bot: Option<Running>,
    sandbox: Option<RunningSandbox>,
    _store: TempDir,
}

impl TestBot {
    /// Starts the bot with the default settings and waits for READY and command registration.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Like [`TestBot::start`], letting the test change settings first (e.g. `discord.guild_id`).
    pub async fn start_with(tweak: impl FnOnce(&mut Settings)) -> Self {
        let fake = FakeDiscord::start().await;
        let store = tempfile::tempdir().expect("temp dir");
        let mut settings = Settings::defaults().expect("default settings");
        settings.discord.api_base_url = fake.base_url().parse().expect("fake URL");
        settings.store.path = store.path().join("bot.sled");
        settings.secrets.discord_token = Some(SecretString::from("fake-token"));
        let orange = sandbox::start(
            SandboxOptions::from_settings(&settings),
            SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        )
        .await
        .expect("the Orange sandbox starts");
        settings.orange.base_url = orange.base_url();
        settings.orange.token_url = orange.token_url();
        let sandbox_settings = &settings.sandbox;
        settings.secrets.orange_client_id =
            Some(SecretString::from(sandbox_settings.client_id.clone()));
        settings.secrets.orange_client_secret =
            Some(SecretString::from(sandbox_settings.client_secret.clone()));
        tweak(&mut settings);

        let bot = app::start_discord(settings).await.expect("the bot starts");
        fake.wait_for("IDENTIFY", WAIT, |s| (s.identifies > 0).then_some(()))
            .await;
        fake.wait_for("command registration (PUT .../commands)", WAIT, |s| {
            (s.global_commands.is_some() || !s.guild_commands.is_empty()).then_some(())
        })
        .await;
        TestBot {
            fake,
            bot: Some(bot),
            sandbox: Some(orange),
            _store: store,
        }
    }

    /// Stops the bot; then the fake checks that it recorded no failures.
    pub async fn shutdown(mut self) {
        if let Some(bot) = self.bot.take() {
            bot.shutdown().await;
        }
        if let Some(sandbox) = self.sandbox.take() {
            sandbox.shutdown().await;
        }
    }
}

/// A loopback URL where nothing listens (connections are refused at once).
pub fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    format!("http://{addr}")
}
