//! The label every Discord card and reply carries when the Orange behind the bot is a sandbox:
//! a simulator must never pass for Orange. Applied by the Discord transport to each message it
//! sends (the console says it once, at start-up).

use super::card::{Card, limits};
use super::{Reply, card::cut};

/// What a card's footer starts with and a reply's first line says.
pub const SANDBOX_BANNER: &str = "Orange sandbox — not real tickets";

/// Whether messages are labelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Banner {
    /// Real Orange: nothing added.
    None,
    /// A sandbox: [`SANDBOX_BANNER`] on every card and reply.
    Sandbox,
}

impl Banner {
    /// The banner for an Orange that is (or is not) a sandbox.
    pub fn for_sandbox(is_sandbox: bool) -> Self {
        if is_sandbox {
            Banner::Sandbox
        } else {
            Banner::None
        }
    }

    /// `card` with the banner first in its footer (kept whole by the footer's limit).
    pub fn card(self, mut card: Card) -> Card {
        if self == Banner::Sandbox {
            card.footer = Some(match card.footer.as_deref().map(str::trim) {
                Some(f) if !f.is_empty() => cut(&format!("{SANDBOX_BANNER} · {f}"), limits::FOOTER),
                _ => SANDBOX_BANNER.to_owned(),
            });
        }
        card
    }

    /// `reply` with a subtext line first (it survives a cut to Discord's content limit) and the
    /// banner on each card.
    pub fn reply(self, reply: &Reply) -> Reply {
        if self == Banner::None {
            return reply.clone();
        }
        let line = format!("-# {SANDBOX_BANNER}");
        Reply {
            text: Some(match reply.text.as_deref() {
                Some(t) if !t.is_empty() => format!("{line}\n{t}"),
                _ => line,
            }),
            cards: reply.cards.iter().cloned().map(|c| self.card(c)).collect(),
            files: reply.files.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sandbox_banner_leads_every_card_and_reply_and_real_orange_gets_none() {
        let card = Card {
            title: "t".into(),
            footer: Some("Last synced".into()),
            ..Card::default()
        };
        let reply = Reply {
            text: Some("Ticket opened.".into()),
            cards: vec![card.clone(), Card::default()],
            ..Reply::default()
        };
        assert_eq!(Banner::None.reply(&reply), reply);
        let marked = Banner::Sandbox.reply(&reply);
        assert_eq!(
            marked.text.as_deref(),
            Some("-# Orange sandbox — not real tickets\nTicket opened.")
        );
        assert_eq!(
            marked.cards[0].footer.as_deref(),
            Some("Orange sandbox — not real tickets · Last synced")
        );
        assert_eq!(marked.cards[1].footer.as_deref(), Some(SANDBOX_BANNER));
        let long = Card {
            footer: Some("f".repeat(5000)),
            ..Card::default()
        };
        let footer = Banner::Sandbox.card(long).footer.unwrap_or_default();
        assert!(footer.starts_with(SANDBOX_BANNER) && footer.chars().count() <= limits::FOOTER);
        let empty = Banner::Sandbox.reply(&Reply::card(Card::default()));
        assert_eq!(
            empty.text.as_deref(),
            Some("-# Orange sandbox — not real tickets")
        );
    }
}
