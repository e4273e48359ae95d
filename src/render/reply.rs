//! The answer to a command, in words: one sentence and/or cards per [`Outcome`]. Both transports
//! show exactly this (Discord as content and embeds, the console as text), so a test of one
//! wording covers both.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::board;
use super::card::{self, Card, md};
use crate::core::{Outcome, role_label};
use crate::domain::{Contact, Conversation, Permission, TeamSettings, Ticket, TicketId, Transport};

/// A sentence (markdown) and cards, and files (e.g. a report's CSV).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reply {
    pub text: Option<String>,
    pub cards: Vec<Card>,
    pub files: Vec<Attachment>,
}

/// A text file sent with a reply: an attachment in Discord, printed by the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub name: String,
    pub text: String,
}

impl Reply {
    pub fn text(text: impl Into<String>) -> Self {
        Reply {
            text: Some(text.into()),
            ..Reply::default()
        }
    }

    pub fn card(card: Card) -> Self {
        Reply {
            cards: vec![card],
            ..Reply::default()
        }
    }

    fn with_card(mut self, card: Card) -> Self {
        self.cards.push(card);
        self
    }
}

/// How a conversation is named in a sentence: a Discord channel mention, or "this session".
pub fn place(conversation: &Conversation) -> String {
    match conversation.transport {
        Transport::Discord => format!("<#{}>", conversation.id),
        Transport::Console => "this session".into(),
    }
}

/// The reply to `outcome`; `now` stamps ticket cards as synced.
pub fn reply(outcome: &Outcome, now: DateTime<Utc>) -> Reply {
    match outcome {
        Outcome::Services(list) => Reply::card(card::services(list)),
        Outcome::Created(created) => {
            let id = &created.id;
            let sentence = match &created.home {
                Some(home) => format!("Ticket {id} opened in {}.", place(&home.conversation)),
                None => format!(
                    "Ticket {id} opened, but it could not be linked here: use `/ticket link id:{id}`."
                ),
            };
            let reply = Reply::text(sentence);
            match &created.ticket {
                Some(t) => reply.with_card(card::header(t, now)),
                None => reply,
            }
        }
        Outcome::Commented(id) => Reply::text(format!("Comment added to ticket {id}.")),
        Outcome::Ticket(t, clocks) => Reply::card(card::ticket(t, clocks.as_ref(), now)),
        Outcome::Search { page, .. } => Reply::card(card::search(page)),
        Outcome::Linked { ticket, home } => Reply::text(format!(
            "Ticket {} is now linked to {}.",
            ticket.id,
            place(&home.conversation)
        ))
        .with_card(card::header(ticket, now)),
        Outcome::Unlinked(id) => Reply::text(format!("Unlinked from ticket {id}.")),
        Outcome::Status { orange, bot } => Reply::card(card::status(orange, bot)),
        Outcome::Following(s) => {
            let services: BTreeSet<String> = s.services.iter().map(ToString::to_string).collect();
            Reply::text(format!(
                "Following the ticket feed here (services: {}; statuses: {}).",
                all_or_list(&services),
                all_or_list(&s.statuses)
            ))
        }
        Outcome::Unfollowed => Reply::text("No longer following the ticket feed here."),
        Outcome::Profile(Some(c)) => Reply::text(format!("Your contact: {}.", contact(c))),
        Outcome::Profile(None) => Reply::text(
            "No contact set: `/ticket profile` with your names and an email or phone sets it.",
        ),
        Outcome::ProfileSaved(c) => Reply::text(format!("Contact saved: {}.", contact(c))),
        Outcome::Team(settings) => Reply::card(team(settings)),
        Outcome::Board(b) => Reply {
            text: None,
            cards: board::pages(b, board::Times::Since(now)),
            files: Vec::new(),
        },
        Outcome::BoardKept {
            board,
            already,
            watcher_on,
        } => {
            let open = board.entries.len();
            let s = if open == 1 { "" } else { "s" };
            Reply::text(match (already, watcher_on) {
                (_, false) => "The board is set up here, but the watcher is off \
                    (`watcher.enabled`), so it will not be posted or kept current."
                    .to_owned(),
                (true, true) => format!(
                    "This channel already has the board ({open} open ticket{s}); it is kept current."
                ),
                (false, true) => format!(
                    "The board ({open} open ticket{s}) is being posted here; it is edited as tickets change."
                ),
            })
        }
        Outcome::BoardStopped => Reply::text("The board here is stopped; its message is removed."),
        Outcome::Notify(true) => Reply::text(
            "You get a direct message when a ticket you opened is restored or closed (`/ticket notify off` stops them).",
        ),
        Outcome::Notify(false) => {
            Reply::text("No direct messages about your tickets (`/ticket notify on` starts them).")
        }
        Outcome::Report { report, csv } => super::report::reply(report, *csv),
    }
}

/// The confirmation of an update request: exactly what Orange would receive.
pub fn update_request_confirm(id: &TicketId, text: &str) -> String {
    let quoted: Vec<String> = text.lines().map(|l| format!("> {}", md(l))).collect();
    format!(
        "This comment will be sent to Orange on ticket {id}:\n{}",
        quoted.join("\n")
    )
}

pub fn update_requested(id: &TicketId) -> String {
    format!("Asked Orange for an update on ticket {id}.")
}

pub fn update_already_requested(id: &TicketId) -> String {
    format!(
        "Orange was already asked for an update on ticket {id} since its last news; nothing sent."
    )
}

pub fn news_since_confirmation(id: &TicketId) -> String {
    format!("Orange has given news on ticket {id} since this was shown; nothing sent.")
}

pub fn nothing_sent() -> String {
    "Cancelled: nothing was sent to Orange.".into()
}

/// A header card was re-read from Orange and edited in place.
pub fn refreshed(t: &Ticket) -> Reply {
    Reply::text(format!("Ticket {} refreshed: {}.", t.id, t.status.label()))
}

/// A click on a card whose ticket is no longer linked where the card is.
pub fn card_not_linked(id: &TicketId) -> String {
    format!(
        "This card's ticket {id} is no longer linked here: `/ticket link id:{id}` links it again."
    )
}

/// A click on something the bot does not (or no longer) knows.
pub fn unknown_button() -> String {
    "This button is no longer in use: run the command again.".into()
}

/// An interaction that arrives while the bot shuts down (it starts no work).
pub fn shutting_down() -> String {
    "The bot is restarting: try again in a minute.".into()
}

/// A direct message to the bot.
pub fn refused_direct_message() -> String {
    "Ticket commands work in a server's channels, not in direct messages.".into()
}

/// A server that is not on `discord.allowed_guilds`.
pub fn refused_guild() -> String {
    "This bot is not enabled for this server.".into()
}

/// Discord refused the bot's answer; what was asked may have been done all the same.
pub fn discord_refused() -> String {
    "Discord did not accept the bot's answer; what you asked may have been done: check before trying again.".into()
}

/// Discord refused to add the user to the thread.
pub fn follow_failed() -> String {
    "Discord did not let the bot add you to this thread; use the thread's own Follow menu.".into()
}

/// The ticket was read, but Discord refused the edit of its card.
pub fn card_not_edited() -> String {
    "Orange answered, but Discord did not let the bot update this card; try again later.".into()
}

/// The user joined the ticket's thread.
pub fn following_thread(id: &TicketId) -> String {
    format!("You now follow ticket {id}: Discord will notify you of new messages in this thread.")
}

fn all_or_list(set: &BTreeSet<String>) -> String {
    if set.is_empty() {
        "all".to_owned()
    } else {
        set.iter().map(|s| md(s)).collect::<Vec<_>>().join(", ")
    }
}

fn contact(c: &Contact) -> String {
    let reach: Vec<String> = [c.email.as_deref(), c.phone.as_deref()]
        .into_iter()
        .flatten()
        .map(md)
        .collect();
    format!("{} ({})", md(&c.full_name()), reach.join(", "))
}

/// A role as stored: a Discord role id (digits) is shown as a role mention.
fn role(r: &str) -> String {
    let label = role_label(r);
    if label == r { md(r) } else { label }
}

/// The team's settings.
pub fn team(settings: &TeamSettings) -> Card {
    let mut card = Card {
        title: "Team settings".into(),
        colour: 0xff7900,
        ..Card::default()
    };
    for p in Permission::ALL {
        let who = match settings.allowed_roles.get(&p) {
            Some(roles) if !roles.is_empty() => {
                roles.iter().map(|r| role(r)).collect::<Vec<_>>().join(", ")
            }
            _ if p == Permission::Admin => "server managers".into(),
            _ => "everyone".into(),
        };
        card.fields.push(card::Field {
            name: format!("May {}", p.as_str()),
            value: who,
            inline: true,
        });
    }
    card.fields.push(card::Field {
        name: "Team feed".into(),
        value: settings
            .feed
            .as_ref()
            .map(place)
            .unwrap_or_else(|| "off".into()),
        inline: true,
    });
    card.fields.push(card::Field {
        name: "Default contact".into(),
        value: settings
            .default_contact
            .as_ref()
            .map(contact)
            .unwrap_or_else(|| "none".into()),
        inline: true,
    });
    card.fit()
}
