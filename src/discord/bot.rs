//! The running bot: the serenity client with the poise framework, started and stopped by the
//! app. Commands are registered by a task of their own, beside the gateway connection, with
//! retries and backoff: a Discord 5xx or 429 there must neither leave a bot that is connected but
//! deaf nor hold back the interactions of the commands registered by an earlier run, which the
//! bot serves meanwhile (and for good, if every attempt fails, as the logs then say).

use std::sync::Arc;
use std::time::Duration;

use poise::serenity_prelude as serenity;
use secrecy::SecretString;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{Data, DiscordNotifier, Gate, commands, components, error, http_client, respond};
use crate::core::Core;
use crate::ops::Metrics;

/// Waits between registration attempts: 1 s, 2 s, 4 s, 8 s, 16 s.
const REGISTRATION_ATTEMPTS: u32 = 6;

/// The Discord client and the command registration, running in tasks this value owns.
#[derive(Debug)]
pub struct RunningBot {
    http: Arc<serenity::Http>,
    shard_manager: Arc<serenity::ShardManager>,
    client: Option<JoinHandle<Result<(), serenity::Error>>>,
    registration: JoinHandle<()>,
    gate: Gate,
    gateway_poll: JoinHandle<()>,
}

/// Builds the client and spawns it; returns once the task runs. Commands are registered in
/// `discord.guild_id` when set, else globally.
pub async fn start(token: &SecretString, data: Data) -> Result<RunningBot, serenity::Error> {
    // This app has a gateway now, not yet connected: `/readyz` waits for READY.
    let metrics = data.core.metrics().clone();
    metrics.gateway(false);
    let http = http_client(token, &data.settings);
    let guild = data.settings.discord.guild_id.map(serenity::GuildId::new);
    let gate = data.gate.clone();
    let framework = poise::Framework::builder()
        .options(poise::FrameworkOptions {
            commands: commands::all(),
            on_error: |e| Box::pin(error::on_error(e)),
            command_check: Some(|ctx| Box::pin(commands::check(ctx))),
            event_handler: |ctx, event| {
                Box::pin(async move {
                    track_gateway(event, ctx.user_data);
                    components::on_event(ctx.serenity_context, event, ctx.user_data).await;
                    Ok(())
                })
            },
            allowed_mentions: Some(respond::no_mentions()),
            ..Default::default()
        })
        .setup(move |_ctx, _ready, _framework| Box::pin(async move { Ok(data) }))
        .build();
    let mut client =
        serenity::ClientBuilder::new_with_http(http, serenity::GatewayIntents::non_privileged())
            .framework(framework)
            .await?;
    let shard_manager = Arc::clone(&client.shard_manager);
    let registration = tokio::spawn(register(Arc::clone(&client.http), guild));
    let client_ended = CancellationToken::new();
    let gateway_poll = tokio::spawn(poll_gateway(
        Arc::clone(&shard_manager),
        client_ended.clone(),
        metrics,
    ));
    let http = Arc::clone(&client.http);
    let task = tokio::spawn(async move {
        let ended = client.start().await;
        client_ended.cancel();
        ended
    });
    Ok(RunningBot {
        http,
        shard_manager,
        client: Some(task),
        registration,
        gate,
        gateway_poll,
    })
}

/// Marks the gateway connected on READY and RESUMED at once (the stage poll would see it within
/// [`GATEWAY_POLL`]).
fn track_gateway(event: &serenity::FullEvent, data: &Data) {
    if matches!(
        event,
        serenity::FullEvent::Ready { .. } | serenity::FullEvent::Resume { .. }
    ) {
        data.core.metrics().gateway(true);
    }
}

/// How often the shards' connection stage is read for `/readyz`.
const GATEWAY_POLL: Duration = Duration::from_millis(500);

/// Reads the shards' stage every [`GATEWAY_POLL`]: connected while every shard is, and for
/// good not once the client ended (a shard refused for good keeps its last stage). Stage
/// changes reach serenity's event handlers only, not poise, so they are read where serenity
/// keeps them.
async fn poll_gateway(
    shards: Arc<serenity::ShardManager>,
    client_ended: CancellationToken,
    metrics: Metrics,
) {
    loop {
        tokio::select! {
            _ = client_ended.cancelled() => {
                metrics.gateway(false);
                return;
            }
            _ = tokio::time::sleep(GATEWAY_POLL) => {}
        }
        let runners = shards.runners.lock().await;
        let connected = !runners.is_empty()
            && runners
                .values()
                .all(|r| r.stage == serenity::ConnectionStage::Connected);
        drop(runners);
        metrics.gateway(connected);
    }
}

/// Registers the commands (a bulk overwrite: idempotent), retrying with backoff.
async fn register(http: Arc<serenity::Http>, guild: Option<serenity::GuildId>) {
    let commands = poise::builtins::create_application_commands(&commands::all());
    let mut wait = Duration::from_secs(1);
    for attempt in 1..=REGISTRATION_ATTEMPTS {
        let result = async {
            // Registration routes name the application, which READY would also tell.
            if http.application_id().is_none() {
                let app = http.get_current_application_info().await?;
                http.set_application_id(app.id);
            }
            match guild {
                Some(guild) => guild.set_commands(&http, commands.clone()).await.map(drop),
                None => serenity::Command::set_global_commands(&http, commands.clone())
                    .await
                    .map(drop),
            }
        }
        .await;
        match result {
            Ok(()) => {
                tracing::info!(guild = ?guild.map(|g| g.get()), attempt, "slash commands registered");
                return;
            }
            Err(e) if attempt < REGISTRATION_ATTEMPTS => {
                tracing::warn!(error = %error::chain(&e), attempt, retry_in = ?wait, "command registration failed");
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
            Err(e) => {
                tracing::error!(
                    error = %error::chain(&e),
                    attempts = attempt,
                    "command registration failed; serving the commands registered earlier"
                );
            }
        }
    }
}

impl RunningBot {
    /// The watcher's deliveries through this bot's connection.
    pub fn notifier(&self, core: Core, archive_closed: bool) -> DiscordNotifier {
        DiscordNotifier::new(Arc::clone(&self.http), core, archive_closed)
    }

    /// Waits until the client stops by itself (e.g. the token was refused).
    pub async fn stopped(&mut self) -> Result<(), StopError> {
        let Some(task) = self.client.as_mut() else {
            return Ok(());
        };
        let result = task.await;
        self.client = None;
        match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(StopError(error::chain(&e))),
            Err(e) => Err(StopError(format!("Discord client task: {e}"))),
        }
    }

    /// Stops taking interactions: from now on each is answered "restarting" and starts no work.
    pub fn stop_taking_commands(&self) {
        self.gate.close();
    }

    /// Waits until the interactions let in before [`Self::stop_taking_commands`] are handled;
    /// how many there were.
    pub async fn commands_finished(&self) -> usize {
        let in_flight = self.gate.in_flight();
        self.gate.idle().await;
        in_flight
    }

    /// Stops registering, disconnects every shard (a close frame, so Discord ends the session
    /// at once) and waits for the client task. Cancel-safe: a caller that stops waiting leaves
    /// nothing running that matters once the process exits.
    pub async fn shutdown(mut self) {
        self.registration.abort();
        self.gateway_poll.abort();
        self.shard_manager.shutdown_all().await;
        if let Some(task) = self.client.take() {
            match task.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::warn!(error = %error::chain(&e), "Discord client stopped with an error")
                }
                Err(e) => tracing::warn!(error = %e, "Discord client task failed"),
            }
        }
    }
}

/// Why the Discord client stopped by itself.
#[derive(Debug, thiserror::Error)]
#[error("Discord: {0}")]
pub struct StopError(pub String);
