//! The Discord transport: a poise framework on serenity, thin over the core.
//!
//! - `bot`: the client, command registration (with retries) and [`RunningBot`];
//! - `commands/`: the `/ticket` sub-commands and the "Open Orange ticket" message command,
//!   mirroring the core's files; each turns options into a `core::Command`;
//! - `components`: namespaced custom ids, and the buttons and modal submits they route to;
//! - `modals`: the forms (open a ticket, add a comment, contact profile);
//! - `threads`: a ticket's home: a public thread (or forum post) with a pinned header card;
//! - `gate`: closed on shutdown, so new interactions start no work; counts those in progress;
//! - `actor`: who is acting (roles, Manage Server, the guild as the team) and the allowlist;
//! - `respond`: defer, answer and edit any interaction, never pinging anyone;
//! - `notifier`: the watcher's deliveries into threads and feed channels;
//! - `board`: the status board's message and its paging buttons (kept by the watcher);
//! - `nudge`: a nudge's "Ask Orange for an update" button and its confirmation;
//! - `embeds`: card -> embed; `error`: the one place errors are split for users and logs;
//! - `send`: the "Send to Orange" confirmation's buttons (Send, Cancel) and what they do;
//! - `check`: what `orange-ticket-bot check` asks Discord (token, guilds, the bot's permissions).
//!
//! The REST base URL is a setting (`discord.api_base_url`): with anything but `https://discord.com`
//! requests go through `HttpBuilder::proxy` and serenity's own rate limiter is disabled, because it
//! ignores the proxy and would talk to discord.com (and a REST proxy limits rates itself).

mod actor;
mod board;
mod bot;
pub mod check;
mod commands;
mod components;
mod embeds;
mod error;
mod gate;
mod modals;
mod notifier;
mod nudge;
mod respond;
mod send;
mod threads;

use std::sync::Arc;

use poise::serenity_prelude as serenity;
use secrecy::{ExposeSecret, SecretString};

use crate::config::Settings;
use crate::core::Core;
use crate::render::Banner;

pub use bot::{RunningBot, StopError, start};
pub use error::CommandError;
pub use gate::Gate;
pub use notifier::DiscordNotifier;

/// Discord's own REST base URL; any other value is treated as a proxy.
pub const DISCORD_BASE_URL: &str = "https://discord.com";

/// What every command gets: cheap handles, no serenity `TypeMap`.
#[derive(Debug, Clone)]
pub struct Data {
    pub core: Core,
    pub settings: Arc<Settings>,
    /// Closed when the bot shuts down.
    pub gate: Gate,
}

impl Data {
    /// The label this bot's messages carry (a sandbox must never pass for Orange).
    pub fn banner(&self) -> Banner {
        Banner::for_sandbox(self.core.settings().orange.is_sandbox)
    }
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
