//! The Discord transport: a poise framework on serenity. Commands are thin (parse, call one core
//! use case, render); errors are split once, in [`error::on_error`], into a short ephemeral message
//! for the user and the full chain for the logs.
//!
//! The REST base URL is a setting (`discord.api_base_url`): with anything but `https://discord.com`
//! requests go through `HttpBuilder::proxy` and serenity's own rate limiter is disabled, because it
//! ignores the proxy and would talk to discord.com (and a REST proxy limits rates itself).

mod commands;
mod embeds;
mod error;

use std::sync::Arc;

use poise::serenity_prelude as serenity;
use secrecy::{ExposeSecret, SecretString};

use crate::config::Settings;
use crate::core::Core;

pub use error::CommandError;

/// Discord's own REST base URL; any other value is treated as a proxy.
pub const DISCORD_BASE_URL: &str = "https://discord.com";

/// What every command gets: cheap handles, no serenity `TypeMap`.
#[derive(Debug, Clone)]
pub struct Data {
    pub core: Core,
    pub settings: Arc<Settings>,
}

pub type Context<'a> = poise::Context<'a, Data, CommandError>;

/// The HTTP client for `settings.discord.api_base_url`.
pub fn http_client(token: &SecretString, settings: &Settings) -> serenity::Http {
    let base = settings.discord.api_base_url.as_str().trim_end_matches('/');
    let builder = serenity::HttpBuilder::new(token.expose_secret());
    if base == DISCORD_BASE_URL {
        builder.build()
    } else {
        builder.proxy(base).ratelimiter_disabled(true).build()
    }
}

/// The serenity client with the poise framework; commands are registered on the first READY,
/// in `discord.guild_id` when set, else globally.
pub async fn client(token: &SecretString, data: Data) -> Result<serenity::Client, serenity::Error> {
    let http = http_client(token, &data.settings);
    let guild = data.settings.discord.guild_id.map(serenity::GuildId::new);
    let framework = poise::Framework::builder()
        .options(poise::FrameworkOptions {
            commands: commands::all(),
            on_error: |e| Box::pin(error::on_error(e)),
            ..Default::default()
        })
        .setup(move |ctx, _ready, framework| {
            Box::pin(async move {
                let commands = &framework.options().commands;
                match guild {
                    Some(guild) => {
                        poise::builtins::register_in_guild(ctx, commands, guild).await?;
                    }
                    None => poise::builtins::register_globally(ctx, commands).await?,
                }
                tracing::info!(guild = ?guild.map(|g| g.get()), "slash commands registered");
                Ok(data)
            })
        })
        .build();
    serenity::ClientBuilder::new_with_http(http, serenity::GatewayIntents::non_privileged())
        .framework(framework)
        .await
}
