//! What the watcher posts. In a ticket's thread: a status line per status change (Orange's
//! reason, a relative time), a closing line when the ticket closes, and new notes as a card. In
//! a team feed: one line per new ticket or status change, naming the ticket's thread when it has
//! one. Every message ends with a small reference line carrying its delivery key, by which the bot
//! recognises a message it already posted.

use chrono::{DateTime, TimeDelta, Utc};

use super::card::{self, cut, md};
use super::reply::{Reply, place};
use crate::domain::{Change, Conversation, Notification, Status, Ticket, clocks};

/// The reference line of a delivery.
pub fn marker(key: &str) -> String {
    format!("-# ref {key}")
}

/// Whether a posted message carries the delivery `key`.
pub fn has_marker(content: &str, key: &str) -> bool {
    content.lines().any(|l| l.trim() == marker(key))
}

/// `<t:…:R>`: Discord shows it as "3 minutes ago" in the reader's own time zone.
pub fn relative(at: &DateTime<Utc>) -> String {
    format!("<t:{}:R>", at.timestamp())
}

/// A duration as people say it: `2 d 3 h`, `5 h 12 min`, `7 min`.
pub fn duration(d: TimeDelta) -> String {
    let minutes = d.num_minutes().max(0);
    let (days, hours, mins) = (minutes / 1440, (minutes / 60) % 24, minutes % 60);
    match (days, hours) {
        (0, 0) => format!("{mins} min"),
        (0, h) => format!("{h} h {mins} min"),
        (d, h) => format!("{d} d {h} h"),
    }
}

fn status_line(
    from: &Status,
    to: &Status,
    reason: Option<&str>,
    at: Option<&DateTime<Utc>>,
) -> String {
    let mut line = format!("**{} → {}**", from.label(), to.label());
    if let Some(r) = reason.filter(|r| !r.trim().is_empty()) {
        line.push_str(&format!(" — {}", md(&cut(r, 300))));
    }
    if let Some(at) = at {
        line.push_str(&format!(" · {}", relative(at)));
    }
    line
}

/// A thread's update; `timeline` is what the watcher saw the ticket go through (for the closing
/// summary).
pub fn thread(
    n: &Notification,
    ticket: Option<&Ticket>,
    timeline: &[(Status, DateTime<Utc>)],
) -> Reply {
    let mut lines = Vec::new();
    let mut for_card = Vec::new();
    for c in &n.changes {
        match c {
            Change::StatusChanged {
                from,
                to,
                reason,
                at,
            } => {
                lines.push(status_line(from, to, reason.as_deref(), at.as_ref()));
                if to.is_final()
                    && let Some(t) = ticket
                    && let (Some(opened), Some(closed)) = (t.created, at.or(t.status_change.date))
                {
                    lines.push(format!(
                        "{} after {} (opened {}).",
                        to.label(),
                        duration(closed - opened),
                        relative(&opened)
                    ));
                    let c = clocks(opened, timeline, closed);
                    let parts: Vec<String> = [
                        c.restore.map(|d| format!("restored after {}", duration(d))),
                        c.repair.map(|d| format!("repaired after {}", duration(d))),
                        c.frozen.map(|d| format!("frozen for {}", duration(d))),
                    ]
                    .into_iter()
                    .flatten()
                    .collect();
                    if !parts.is_empty() {
                        let mut line = parts.join(" · ");
                        line[..1].make_ascii_uppercase();
                        lines.push(format!("{line}."));
                    }
                }
            }
            Change::ResolutionSet(at) => lines.push(format!("Resolved {}.", relative(at))),
            Change::NotesAdded(_) | Change::DescriptionChanged { .. } => for_card.push(c.clone()),
            Change::Opened => lines.push(format!("Ticket {} opened.", n.ticket)),
            Change::Quiet { status, since } => lines.push(quiet_line(status, since)),
            Change::Digest(_) => {}
        }
    }
    let cards = match (for_card.is_empty(), ticket) {
        (false, Some(t)) => vec![card::changes(t, &for_card)],
        (false, None) => vec![card::changes(
            &Ticket::new(n.ticket.clone(), Status::Other("?".into())),
            &for_card,
        )],
        (true, _) => Vec::new(),
    };
    lines.push(marker(&n.key));
    Reply {
        text: Some(lines.join("\n")),
        cards,
        ..Reply::default()
    }
}

/// A nudge: Orange has been silent too long.
fn quiet_line(status: &Status, since: &DateTime<Utc>) -> String {
    format!(
        "⏰ **No update from Orange since {}** (still {}). Ask Orange for an update?",
        relative(since),
        status.label()
    )
}

/// Whether `n` is a nudge (its message offers to ask Orange for an update).
pub fn is_nudge(n: &Notification) -> bool {
    n.changes.iter().any(|c| matches!(c, Change::Quiet { .. }))
}

/// A direct message to the person who opened the ticket: its new status and a link to its
/// thread.
pub fn reporter(n: &Notification, ticket: Option<&Ticket>, thread: Option<&str>) -> Reply {
    let mut lines = Vec::new();
    for c in &n.changes {
        if let Change::StatusChanged { to, reason, at, .. } = c {
            let about = ticket
                .and_then(|t| t.description.as_deref())
                .map(|d| format!(" ({})", md(&cut(d, 80))))
                .unwrap_or_default();
            let mut line = format!("Your ticket {}{about} is now **{}**", n.ticket, to.label());
            if let Some(r) = reason.as_deref().filter(|r| !r.trim().is_empty()) {
                line.push_str(&format!(" — {}", md(&cut(r, 300))));
            }
            if let Some(at) = at {
                line.push_str(&format!(" · {}", relative(at)));
            }
            lines.push(format!("{line}."));
        }
    }
    if let Some(link) = thread {
        lines.push(format!("Its thread: {link}"));
    }
    lines.push("-# You get these because of `/ticket notify on`.".into());
    lines.push(marker(&n.key));
    Reply::text(lines.join("\n"))
}

/// A team feed's line; `home` is the ticket's thread, when it has one.
pub fn feed(n: &Notification, ticket: Option<&Ticket>, home: Option<&Conversation>) -> Reply {
    let service = ticket
        .and_then(|t| t.service.as_ref())
        .map(|s| format!(" · {s}"))
        .unwrap_or_default();
    let in_home = home
        .map(|h| format!(" in {}", place(h)))
        .unwrap_or_default();
    let mut lines = Vec::new();
    for c in &n.changes {
        match c {
            Change::Opened => {
                let status = ticket
                    .map(|t| t.status.label().to_owned())
                    .unwrap_or_default();
                let description = ticket
                    .and_then(|t| t.description.as_deref())
                    .map(|d| format!(" — {}", md(&cut(d, 120))))
                    .unwrap_or_default();
                lines.push(format!(
                    "New ticket **{}**{service} · {status}{description}{in_home}",
                    n.ticket
                ));
            }
            Change::StatusChanged {
                from,
                to,
                reason,
                at,
            } => lines.push(format!(
                "Ticket **{}**{service}: {}{in_home}",
                n.ticket,
                status_line(from, to, reason.as_deref(), at.as_ref())
            )),
            _ => {}
        }
    }
    lines.push(marker(&n.key));
    Reply::text(lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Audience, Note, NoteKind, ServiceNumber, TicketId};

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap_or_default()
    }

    #[test]
    fn a_thread_gets_status_lines_a_closing_line_and_notes_as_a_card() {
        let id = TicketId::parse("42").expect("id");
        let ticket = Ticket {
            created: Some(at(1_700_000_000)),
            ..Ticket::new(id.clone(), Status::Closed)
        };
        let n = Notification::new(
            Conversation::discord(7),
            id,
            vec![
                Change::StatusChanged {
                    from: Status::Repaired,
                    to: Status::Closed,
                    reason: Some("*fixed*".into()),
                    at: Some(at(1_700_000_000 + 26 * 3600 + 60)),
                },
                Change::NotesAdded(vec![Note {
                    date: at(1_700_000_100),
                    kind: NoteKind::InwardCustomerComments,
                    text: "done".into(),
                }]),
            ],
            Audience::Thread,
            at(0),
        );
        let h = |hours: i64| at(1_700_000_000 + hours * 3600);
        let timeline = [
            (Status::Frozen, h(2)),
            (Status::Ongoing, h(5)),
            (Status::Restored, h(20)),
            (Status::Repaired, h(24)),
        ];
        let reply = thread(&n, Some(&ticket), &timeline);
        assert_eq!(
            reply.text.as_deref(),
            Some(
                format!(
                    "**Repaired → Closed** — \\*fixed\\* · <t:1700093660:R>\nClosed after 1 d 2 h (opened <t:1700000000:R>).\nRestored after 20 h 0 min · repaired after 1 d 0 h · frozen for 3 h 0 min.\n-# ref {}",
                    n.key
                )
                .as_str()
            )
        );
        assert_eq!(reply.cards.len(), 1);
        assert!(has_marker(reply.text.as_deref().unwrap_or(""), &n.key));
    }

    #[test]
    fn a_feed_gets_one_line_per_change_naming_the_thread() {
        let id = TicketId::parse("42").expect("id");
        let ticket = Ticket {
            service: Some(ServiceNumber::parse("LD000000").expect("service")),
            description: Some("Link _down_".into()),
            ..Ticket::new(id.clone(), Status::Submitted)
        };
        let n = Notification::new(
            Conversation::discord(9),
            id,
            vec![Change::Opened],
            Audience::Feed,
            at(0),
        );
        let reply = feed(&n, Some(&ticket), Some(&Conversation::discord(77)));
        assert_eq!(
            reply.text.as_deref(),
            Some(format!("New ticket **42** · LD000000 · Submitted — Link \\_down\\_ in <#77>\n-# ref {}", n.key).as_str())
        );
        assert_eq!(duration(TimeDelta::minutes(7)), "7 min");
        assert_eq!(duration(TimeDelta::minutes(125)), "2 h 5 min");
    }
}
