//! `TestBot`: the real bot, started through the same function `main` uses (`app::start_discord`),
//! against a fake Discord and an Orange sandbox the test starts, with a temporary sled directory.
//! Only the Discord REST base URL, the Orange URLs and the secrets differ from the defaults.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::time::Duration;

use orange_ticket_bot::app::{self, Running};
use orange_ticket_bot::config::Settings;
use orange_ticket_bot::core::Core;
use orange_ticket_bot::discord::DiscordNotifier;
use orange_ticket_bot::domain::TicketId;
use orange_ticket_bot::sandbox::{self, RunningSandbox, SandboxControl, SandboxOptions};
use orange_ticket_bot::watcher::{Watcher, WatcherOptions};
use secrecy::SecretString;
use serde_json::Value;
use tempfile::TempDir;

use super::fake_discord::{FakeDiscord, Injected, InteractionPayload, State, WAIT};

/// The real bot connected to a fake Discord; call [`TestBot::shutdown`] at the end of a test.
#[derive(Debug)]
pub struct TestBot {
    pub fake: FakeDiscord,
    bot: Option<Running>,
    sandbox: Option<RunningSandbox>,
    settings: Settings,
    _store: TempDir,
    /// How far the test moved the clocks (kept for the bot's next start).
    clock_offset: Duration,
}

impl TestBot {
    /// Starts the bot with the default settings and waits for READY and command registration.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Like [`TestBot::start`], letting the test change settings first (e.g. `discord.guild_id`).
    pub async fn start_with(tweak: impl FnOnce(&mut Settings)) -> Self {
        Self::start_full(|_| {}, tweak).await
    }

    /// Like [`TestBot::start_with`], letting the test arm faults in the fake before the bot
    /// connects.
    pub async fn start_full(
        arm: impl FnOnce(&FakeDiscord),
        tweak: impl FnOnce(&mut Settings),
    ) -> Self {
        Self::start_prepared(|_| {}, arm, tweak).await
    }

    /// Like [`TestBot::start_full`], letting the test first change the settings the sandbox is
    /// started from (e.g. the credentials it accepts, which the bot is then given).
    pub async fn start_prepared(
        prepare: impl FnOnce(&mut Settings),
        arm: impl FnOnce(&FakeDiscord),
        tweak: impl FnOnce(&mut Settings),
    ) -> Self {
        let fake = FakeDiscord::start().await;
        arm(&fake);
        let store = tempfile::tempdir().expect("temp dir");
        let mut settings = Settings::defaults().expect("default settings");
        settings.discord.api_base_url = fake.base_url().parse().expect("fake URL");
        settings.store.path = store.path().join("bot.sled");
        settings.secrets.discord_token = Some(SecretString::from("fake-token"));
        // Tests drive passes themselves (`TestBot::watcher`); one test runs the owned task.
        settings.watcher.enabled = false;
        prepare(&mut settings);
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

        let mut bot = TestBot {
            fake,
            bot: None,
            sandbox: Some(orange),
            settings,
            _store: store,
            clock_offset: Duration::ZERO,
        };
        bot.connect(WAIT).await;
        bot
    }

    /// Starts the bot on the current settings and waits until it registered its commands.
    async fn connect(&mut self, within: Duration) {
        let registered_before = registrations(&self.fake.state());
        let identifies_before = self.fake.state().identifies;
        let bot = app::start_discord(self.settings.clone())
            .await
            .expect("the bot starts");
        bot.core().clock().advance(self.clock_offset);
        self.bot = Some(bot);
        self.fake
            .wait_for("IDENTIFY", within, |s| {
                (s.identifies > identifies_before).then_some(())
            })
            .await;
        self.fake
            .wait_for("command registration (PUT .../commands)", within, |s| {
                (registrations(s) > registered_before).then_some(())
            })
            .await;
    }

    /// Stops the bot and starts it again on the same store, sandbox and fake Discord.
    pub async fn restart(&mut self) {
        if let Some(bot) = self.bot.take() {
            bot.shutdown().await.expect("a clean shutdown");
        }
        self.connect(WAIT).await;
    }

    /// Moves the sandbox's clock and the bot's together (as if `by` had passed for both).
    pub fn advance_clock(&mut self, by: Duration) {
        self.sandbox().advance_clock(by);
        self.core().clock().advance(by);
        self.clock_offset += by;
    }

    /// The bot's core (store, Orange client), to check what it stored.
    pub fn core(&self) -> &Core {
        self.bot.as_ref().expect("the bot runs").core()
    }

    /// Where the bot's health and metrics listener listens (when the test set `ops.listen`).
    pub fn ops_addr(&self) -> Option<SocketAddr> {
        self.bot.as_ref()?.ops_addr()
    }

    /// A watcher on the bot's store and Discord connection, for the test to drive pass by pass.
    pub fn watcher(&self) -> Watcher<DiscordNotifier> {
        let bot = self.bot.as_ref().expect("the bot runs");
        Watcher::new(
            bot.core().clone(),
            bot.notifier(),
            WatcherOptions::from_settings(&self.settings),
        )
    }

    /// The Orange sandbox the bot talks to.
    pub fn sandbox(&self) -> SandboxControl {
        self.sandbox.as_ref().expect("the sandbox runs").control()
    }

    /// The texts of a ticket's notes at Orange.
    pub fn notes(&self, id: &TicketId) -> Vec<String> {
        self.sandbox()
            .ticket(id)
            .and_then(|t| t.notes)
            .unwrap_or_default()
            .into_iter()
            .map(|n| n.text)
            .collect()
    }

    /// How many calls Orange has had, every operation together.
    pub fn orange_calls(&self) -> u64 {
        self.sandbox().counters().total_calls()
    }

    /// Injects an interaction and returns the text and embeds the user finally sees: the
    /// immediate answer, or the deferred answer once edited.
    pub async fn ask(&self, payload: &InteractionPayload) -> (Injected, Answer) {
        let injected = self.fake.inject(payload).await;
        let answer = self.answer(&injected).await;
        (injected, answer)
    }

    /// The autocomplete answer (type 8) to `payload`.
    pub async fn suggest(&self, payload: &InteractionPayload) -> Value {
        let injected = self.fake.inject(payload).await;
        let answer = self.fake.wait_for_callback(&injected).await;
        assert_eq!(answer["type"], 8, "an autocomplete answer: {answer}");
        answer
    }

    /// The answer to `injected` (waits for a deferred one to be filled in).
    pub async fn answer(&self, injected: &Injected) -> Answer {
        self.answer_within(injected, WAIT).await
    }

    pub async fn answer_within(&self, injected: &Injected, within: Duration) -> Answer {
        let callback = self.fake.wait_for_callback(injected).await;
        let body = self
            .fake
            .wait_for(
                &format!("the answer to interaction {}", injected.id),
                within,
                |s| {
                    let i = s.interactions.get(&injected.id)?;
                    let message = s.messages.get(&i.original_message?)?;
                    // After a type 6 the original is the clicked message: answered once edited.
                    let filled = callback["type"] != 6 || message.edits > 0;
                    filled.then(|| message.body.clone())
                },
            )
            .await;
        Answer { callback, body }
    }

    /// Stops the bot; then the fake checks that it recorded no failures, and the bot made no
    /// request the fake refused of its own accord.
    pub async fn shutdown(self) {
        self.shutdown_expecting(&[]).await
    }

    /// Like [`TestBot::shutdown`], allowing refusals the test caused on purpose (e.g. a thread it
    /// deleted): `expected` lists their routes.
    pub async fn shutdown_expecting(mut self, expected: &[&str]) {
        let refused: Vec<String> = self
            .fake
            .refused()
            .iter()
            .filter(|r| !r.route.is_some_and(|route| expected.contains(&route)))
            .map(|r| format!("{} {} -> {}", r.method, r.path, r.status))
            .collect();
        assert!(refused.is_empty(), "the fake refused: {refused:#?}");
        if let Some(bot) = self.bot.take() {
            bot.shutdown().await.expect("a clean shutdown");
        }
        if let Some(sandbox) = self.sandbox.take() {
            sandbox.shutdown().await;
        }
    }
}

/// What a user sees in answer to an interaction.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The first callback (type 4 answer, 5 defer, 9 modal, ...).
    pub callback: Value,
    /// The message body as last edited.
    pub body: Value,
}

impl Answer {
    pub fn content(&self) -> &str {
        self.body["content"].as_str().unwrap_or("")
    }

    pub fn embeds(&self) -> &[Value] {
        self.body["embeds"].as_array().map_or(&[], Vec::as_slice)
    }

    pub fn embed_title(&self) -> &str {
        self.embeds()
            .first()
            .and_then(|e| e["title"].as_str())
            .unwrap_or("")
    }

    /// Only the user sees it (flag 64 on the answer or on the deferral).
    pub fn is_ephemeral(&self) -> bool {
        let flags = |v: &Value| v["flags"].as_u64().unwrap_or(0) & 64 != 0;
        flags(&self.callback["data"]) || flags(&self.body)
    }
}

/// Command registrations the fake accepted.
fn registrations(state: &State) -> usize {
    state
        .requests
        .iter()
        .filter(|r| {
            r.route
                .is_some_and(|r| r.ends_with("/commands") && r.starts_with("PUT"))
                && r.status == 200
        })
        .count()
}

/// `/ticket <sub>`, to refine with options and where it is sent from.
pub fn ticket(sub: &str) -> InteractionPayload {
    InteractionPayload::slash("ticket").sub(sub)
}

/// A loopback URL where nothing listens (connections are refused at once).
pub fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    format!("http://{addr}")
}
