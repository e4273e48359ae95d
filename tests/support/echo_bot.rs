//! A minimal serenity client for the harness self-tests: it answers every interaction it can
//! deserialize, so "no callback" means serenity dropped the payload. Independent of our bot.

use std::sync::Arc;

use serenity::all::{
    ClientBuilder, Context, CreateAutocompleteResponse, CreateInteractionResponse,
    CreateInteractionResponseMessage, EventHandler, GatewayIntents, HttpBuilder, Interaction,
    ShardManager,
};
use tokio::task::JoinHandle;

use super::fake_discord::FakeDiscord;

/// A serenity client connected to a fake; stops when dropped.
#[derive(Debug)]
pub struct EchoBot {
    shards: Arc<ShardManager>,
    task: JoinHandle<()>,
}

struct Echo;

#[serenity::async_trait]
impl EventHandler for Echo {
    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        let message = |text: String| {
            CreateInteractionResponse::Message(
                CreateInteractionResponseMessage::new().content(text),
            )
        };
        let result = match interaction {
            Interaction::Command(c) => {
                let text = format!("command {} {:?}", c.data.name, c.data.options());
                c.create_response(&ctx.http, message(text)).await
            }
            Interaction::Autocomplete(a) => {
                let choices = CreateAutocompleteResponse::new().add_string_choice("first", "1");
                a.create_response(&ctx.http, CreateInteractionResponse::Autocomplete(choices))
                    .await
            }
            Interaction::Component(c) => {
                let text = format!("clicked {}", c.data.custom_id);
                c.create_response(&ctx.http, message(text)).await
            }
            Interaction::Modal(m) => {
                let text = format!(
                    "modal {} {} rows",
                    m.data.custom_id,
                    m.data.components.len()
                );
                m.create_response(&ctx.http, message(text)).await
            }
            _ => Ok(()),
        };
        if let Err(e) = result {
            eprintln!("echo bot: callback failed: {e}");
        }
    }
}

impl EchoBot {
    /// Connects to `fake` and waits until the gateway session is up.
    pub async fn start(fake: &FakeDiscord) -> Self {
        let http = HttpBuilder::new("fake-token")
            .proxy(fake.base_url())
            .ratelimiter_disabled(true)
            .build();
        let mut client = ClientBuilder::new_with_http(http, GatewayIntents::non_privileged())
            .event_handler(Echo)
            .await
            .expect("echo client");
        let shards = Arc::clone(&client.shard_manager);
        let task = tokio::spawn(async move {
            let _ = client.start().await;
        });
        fake.wait_for_session().await;
        EchoBot { shards, task }
    }
}

impl Drop for EchoBot {
    fn drop(&mut self) {
        self.task.abort();
        let shards = Arc::clone(&self.shards);
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move { shards.shutdown_all().await });
        }
    }
}
