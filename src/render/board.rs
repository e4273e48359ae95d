//! The status board as cards: one line per open ticket, grouped by status, packed into pages that
//! each fit one Discord message. Every page says how many tickets it does not show.

use chrono::{DateTime, Utc};

use super::card::{Card, cut, md};
use super::notice::{duration, relative};
use crate::domain::{Board, BoardEntry, Transport};

/// Characters of ticket lines a page holds: within an embed's 4,096-character description, with
/// room left for the title and footer under the 6,000 total.
pub const PAGE_CHARS: usize = 3_800;
/// The longest description snippet on a line.
const SNIPPET: usize = 60;
const COLOUR: u32 = 0xff7900;

/// How times read: Discord's own relative timestamps (which stay current without an edit), or
/// durations up to `now` for a terminal.
#[derive(Debug, Clone, Copy)]
pub enum Times {
    Relative,
    Since(DateTime<Utc>),
}

fn when(at: Option<&DateTime<Utc>>, times: Times) -> String {
    match (at, times) {
        (None, _) => "unknown".into(),
        (Some(at), Times::Relative) => relative(at),
        (Some(at), Times::Since(now)) => format!("{} ago", duration(now - *at)),
    }
}

fn line(e: &BoardEntry, times: Times) -> String {
    let mut parts = vec![format!("`{}`", e.id)];
    if let Some(home) = e.homes.iter().find(|h| h.transport == Transport::Discord) {
        parts.push(format!("<#{}>", home.id));
    }
    if let Some(s) = &e.service {
        parts.push(s.to_string());
    }
    parts.push(format!("opened {}", when(e.opened.as_ref(), times)));
    if let Some(d) = e.restored_after {
        parts.push(format!("restored after {}", duration(d)));
    }
    parts.push(format!("updated {}", when(e.updated.as_ref(), times)));
    let mut line = parts.join(" · ");
    if let Some(d) = e.description.as_deref().filter(|d| !d.trim().is_empty()) {
        let one_line = d.split_whitespace().collect::<Vec<_>>().join(" ");
        line.push_str(&format!(" — {}", md(&cut(&one_line, SNIPPET))));
    }
    line
}

/// The board's pages (at least one), each a card within Discord's limits.
pub fn pages(board: &Board, times: Times) -> Vec<Card> {
    let total = board.entries.len();
    // (text, tickets on the page)
    let mut pages: Vec<(String, usize)> = vec![(String::new(), 0)];
    for (status, entries) in board.groups() {
        let heading = |more: bool| {
            let cont = if more { " (continued)" } else { "" };
            format!("**{}** · {}{cont}\n", status.label(), entries.len())
        };
        let mut heading_for_page = Some(heading(false));
        for e in entries {
            let l = format!("{}\n", line(e, times));
            let page = pages.last_mut().expect("one page at least");
            let need = heading_for_page
                .as_ref()
                .map_or(0, |h| h.chars().count() + 1)
                + l.chars().count();
            if page.1 > 0 && page.0.chars().count() + need > PAGE_CHARS {
                pages.push((String::new(), 0));
                heading_for_page = Some(heading(true));
            }
            let page = pages.last_mut().expect("one page at least");
            if let Some(h) = heading_for_page.take() {
                if !page.0.is_empty() {
                    page.0.push('\n');
                }
                page.0.push_str(&h);
            }
            page.0.push_str(&cut(&l, PAGE_CHARS));
            page.1 += 1;
        }
    }
    let count = pages.len();
    pages
        .into_iter()
        .enumerate()
        .map(|(i, (text, shown))| {
            let description = if total == 0 {
                "No open tickets tracked. Tickets appear here once linked to a thread.".into()
            } else {
                text
            };
            let footer = if count > 1 {
                format!(
                    "Page {} of {count} · {shown} of {total} open tickets; {} not shown on this page",
                    i + 1,
                    total - shown
                )
            } else {
                let s = if total == 1 { "" } else { "s" };
                format!("{total} open ticket{s}, all shown")
            };
            Card {
                title: format!("Open tickets: {total}"),
                colour: COLOUR,
                description: Some(description),
                fields: Vec::new(),
                footer: Some(footer),
            }
            .fit()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Conversation, ServiceNumber, Status, Ticket, TicketId};

    fn board(n: usize) -> Board {
        Board::from_tickets((0..n).map(|i| {
            let status = Status::OPEN[i % Status::OPEN.len()].clone();
            let t = Ticket {
                created: DateTime::from_timestamp(1_700_000_000 + i as i64 * 60, 0),
                service: ServiceNumber::parse("LD000123").ok(),
                description: Some(format!(
                    "Link {i} down *since* 10:00, long text {}",
                    "x".repeat(80)
                )),
                ..Ticket::new(
                    TicketId::parse(&format!("{}", 1_000_000 + i)).expect("id"),
                    status,
                )
            };
            (
                t,
                vec![Conversation::discord(1_000_000_000_000 + i as u64)],
                Vec::new(),
            )
        }))
    }

    #[test]
    fn five_hundred_tickets_page_within_discord_limits_and_each_page_says_what_it_leaves_out() {
        let b = board(500);
        let cards = pages(&b, Times::Relative);
        assert!(cards.len() > 1);
        let mut seen = 0;
        for (i, c) in cards.iter().enumerate() {
            assert!(c.total_chars() <= crate::render::card::limits::TOTAL);
            let d = c.description.as_deref().expect("lines");
            assert!(d.chars().count() <= crate::render::card::limits::DESCRIPTION);
            let on_page = d.matches("opened <t:").count();
            seen += on_page;
            let footer = c.footer.as_deref().expect("footer");
            assert!(
                footer.starts_with(&format!("Page {} of {}", i + 1, cards.len())),
                "{footer}"
            );
            assert!(
                footer.contains(&format!(
                    "{on_page} of 500 open tickets; {} not shown",
                    500 - on_page
                )),
                "{footer}"
            );
        }
        assert_eq!(seen, 500, "every ticket on exactly one page");
    }

    #[test]
    fn a_line_names_the_ticket_its_thread_service_and_times() {
        let b = board(1);
        let cards = pages(&b, Times::Relative);
        let d = cards[0].description.as_deref().expect("lines");
        assert_eq!(
            d,
            "**Submitted** · 1\n`1000000` · <#1000000000000> · LD000123 · opened <t:1700000000:R> · \
             updated <t:1700000000:R> — Link 0 down \\*since\\* 10:00, long text xxxxxxxxxxxxxxxxxxxxxx…\n"
        );
        assert_eq!(cards[0].footer.as_deref(), Some("1 open ticket, all shown"));
        let now = DateTime::from_timestamp(1_700_000_000 + 3_600 * 26, 0).expect("now");
        let text = pages(&b, Times::Since(now))[0]
            .description
            .clone()
            .expect("lines");
        assert!(
            text.contains("opened 1 d 2 h ago · updated 1 d 2 h ago"),
            "{text}"
        );
    }

    #[test]
    fn an_empty_board_says_so() {
        let cards = pages(&Board::default(), Times::Relative);
        assert_eq!(cards.len(), 1);
        assert!(
            cards[0]
                .description
                .as_deref()
                .is_some_and(|d| d.starts_with("No open tickets"))
        );
    }
}
