//! The Discord checks: the token, the guilds (and the ones the settings name), the bot's
//! permissions in each; and what each Discord failure means for the operator.

use super::{Recorder, discord_token, listed};
use crate::config::Settings;
use crate::discord::check::{BotUser, GuildEntry, Needed, Probe, ProbeError};

/// Guilds whose permissions are checked, at most (two Discord calls each).
const MAX_GUILDS_CHECKED: usize = 25;

/// Only with a `DISCORD_TOKEN`; the guild checks need the token accepted.
pub(super) async fn check(settings: &Settings, found: &mut Recorder<'_>) {
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
