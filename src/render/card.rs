//! A neutral "card": what any transport shows for a ticket, a search, a change. Built from domain
//! values here; turned into a Discord embed or terminal text by the transports.
//!
//! Cards always fit Discord's embed limits: over-long parts are cut visibly (with `…` and a note of
//! what was left out), never rejected.

use chrono::{DateTime, TimeDelta, Utc};

use super::notice::duration;
use crate::core::BotStatus;
use crate::domain::SearchPage;
use crate::domain::{ApiStatus, Change, Clocks, Service, Status, Ticket};

/// Discord's documented embed limits.
pub mod limits {
    pub const TITLE: usize = 256;
    pub const DESCRIPTION: usize = 4096;
    pub const FIELDS: usize = 25;
    pub const FIELD_NAME: usize = 256;
    pub const FIELD_VALUE: usize = 1024;
    pub const FOOTER: usize = 2048;
    pub const TOTAL: usize = 6000;
}

/// Appended to the last field when fields had to be dropped to fit the total.
const MORE: &str = "\n… more not shown";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub value: String,
    pub inline: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Card {
    pub title: String,
    /// RGB colour, chosen by status.
    pub colour: u32,
    pub description: Option<String>,
    pub fields: Vec<Field>,
    pub footer: Option<String>,
}

impl Card {
    fn field(mut self, name: &str, value: impl Into<String>, inline: bool) -> Self {
        let value = value.into();
        if !value.trim().is_empty() {
            self.fields.push(Field {
                name: name.to_owned(),
                value,
                inline,
            });
        }
        self
    }

    /// Characters counted by Discord toward the 6000 total.
    pub fn total_chars(&self) -> usize {
        self.title.chars().count()
            + self.description.as_deref().map_or(0, |d| d.chars().count())
            + self.footer.as_deref().map_or(0, |f| f.chars().count())
            + self
                .fields
                .iter()
                .map(|f| f.name.chars().count() + f.value.chars().count())
                .sum::<usize>()
    }

    /// Cuts the card to Discord's limits, visibly.
    pub fn fit(mut self) -> Self {
        // Discord refuses empty names and texts, which Orange's data can produce.
        let blank = |s: &Option<String>| s.as_deref().is_some_and(|s| s.trim().is_empty());
        if blank(&self.description) {
            self.description = None;
        }
        if blank(&self.footer) {
            self.footer = None;
        }
        for f in &mut self.fields {
            if f.name.trim().is_empty() {
                f.name = "—".into();
            }
        }
        self.title = cut(&self.title, limits::TITLE);
        self.description = self.description.map(|d| cut(&d, limits::DESCRIPTION));
        self.footer = self.footer.map(|f| cut(&f, limits::FOOTER));
        for f in &mut self.fields {
            f.name = cut(&f.name, limits::FIELD_NAME);
            f.value = cut(&f.value, limits::FIELD_VALUE);
        }
        if self.fields.len() > limits::FIELDS {
            let dropped = self.fields.len() - (limits::FIELDS - 1);
            self.fields.truncate(limits::FIELDS - 1);
            self.fields.push(Field {
                name: "…".into(),
                value: format!("{dropped} more not shown"),
                inline: false,
            });
        }
        // Over the total: drop fields from the end, then shorten the description.
        while self.total_chars() > limits::TOTAL && self.fields.len() > 1 {
            self.fields.pop();
            if let Some(last) = self.fields.last_mut()
                && !last.value.ends_with(MORE)
            {
                let room = limits::FIELD_VALUE - MORE.chars().count();
                last.value = format!("{}{MORE}", cut(&last.value, room));
            }
        }
        if self.total_chars() > limits::TOTAL {
            let over = self.total_chars() - limits::TOTAL;
            if let Some(d) = &self.description {
                let keep = d.chars().count().saturating_sub(over + 1);
                self.description = Some(cut(d, keep.max(1)));
            }
        }
        self
    }
}

/// Escapes Discord markdown in data from Orange or users, so a `*` or a `>` in a note shows as
/// typed instead of restyling the card. Card text is markdown; `render::text` undoes this.
pub fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '*' | '_' | '~' | '`' | '|' | '>' | '#' | '[' | ']'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Cuts `s` to at most `max` characters, ending with `…` when anything was removed.
pub fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

pub fn status_colour(status: &Status) -> u32 {
    match status {
        Status::Submitted => 0x95a5a6,
        Status::InQualification => 0x3498db,
        Status::Ongoing => 0xff7900, // Orange's orange
        Status::Frozen => 0x00bcd4,
        Status::Restored => 0x2ecc71,
        Status::Repaired => 0x27ae60,
        Status::Closed => 0x34495e,
        Status::Errored => 0xe74c3c,
        Status::Other(_) => 0x9b59b6,
    }
}

fn date(d: &DateTime<Utc>) -> String {
    d.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A ticket with its clocks and its notes (newest last, as many as fit).
pub fn ticket(t: &Ticket, clocks: Option<&Clocks>, synced: DateTime<Utc>) -> Card {
    let mut card = Card {
        title: format!("Ticket {} — {}", t.id, t.status.label()),
        colour: status_colour(&t.status),
        description: Some(
            t.description
                .as_deref()
                .map(md)
                .unwrap_or_else(|| "(no description)".into()),
        ),
        fields: Vec::new(),
        footer: Some(format!("Last synced with Orange {}", date(&synced))),
    };
    card = card
        .field("Status", t.status.label(), true)
        .field(
            "Service",
            t.service
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            true,
        )
        .field(
            "Technical number",
            t.technical
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            true,
        )
        .field(
            "Opened",
            t.created.as_ref().map(date).unwrap_or_default(),
            true,
        )
        .field(
            "Resolved",
            t.resolution_date.as_ref().map(date).unwrap_or_default(),
            true,
        )
        .field("Reported by", md(t.reported_by().unwrap_or_default()), true)
        .field(
            "Customer reference",
            md(t.external_id.as_deref().unwrap_or_default()),
            false,
        );
    if let Some(reason) = t.status_change.reason.as_deref().map(md) {
        let when = t.status_change.date.as_ref().map(date);
        card = card.field(
            "Last status change",
            match when {
                Some(w) => format!("{reason} ({w})"),
                None => reason.clone(),
            },
            false,
        );
    }
    for (name, value) in clocks.map(clock_fields).unwrap_or_default() {
        card = card.field(name, value, true);
    }
    if let Some(notes) = &t.notes {
        let mut notes: Vec<_> = notes.iter().collect();
        notes.sort_by_key(|n| n.date);
        // Keep the newest notes: room for 25 fields in all.
        let room = limits::FIELDS.saturating_sub(card.fields.len() + 1);
        let skipped = notes.len().saturating_sub(room);
        if skipped > 0 {
            card = card.field("Earlier notes", format!("{skipped} not shown"), false);
        }
        for n in notes.into_iter().skip(skipped) {
            card = card.field(
                &format!("{} · {}", date(&n.date), md(n.kind.as_wire())),
                md(&n.text),
                false,
            );
        }
    }
    card.fit()
}

/// A ticket's clocks as card fields: time open (or open for, while open), time to restore and
/// to repair ("not yet" until then), and time frozen when it was.
pub fn clock_fields(c: &Clocks) -> Vec<(&'static str, String)> {
    let not_yet = |d: Option<TimeDelta>| d.map_or_else(|| "not yet".to_owned(), duration);
    let mut out = Vec::new();
    if let Some(open) = c.open {
        let name = if c.still_open {
            "Open for"
        } else {
            "Time open"
        };
        out.push((name, duration(open)));
    }
    out.push(("Time to restore", not_yet(c.restore)));
    out.push(("Time to repair", not_yet(c.repair)));
    if let Some(frozen) = c.frozen {
        out.push(("Time frozen", duration(frozen)));
    }
    out
}

/// One line per ticket of a search page.
pub fn search(page: &SearchPage) -> Card {
    let total = page
        .total_count
        .map(|n| format!("{n} ticket(s)"))
        .unwrap_or_else(|| format!("{} ticket(s) on this page", page.tickets.len()));
    let pages = page
        .page_count
        .map(|n| format!("page {} of {n}", page.page))
        .unwrap_or_else(|| format!("page {}", page.page));
    let lines: Vec<String> = page
        .tickets
        .iter()
        .map(|t| {
            format!(
                "**{}** · {} · {} · {}",
                t.id,
                t.status.label(),
                t.service
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_else(|| "-".into()),
                md(&cut(
                    t.description.as_deref().unwrap_or("(no description)"),
                    80
                ))
            )
        })
        .collect();
    let mut description = if lines.is_empty() {
        "No ticket matches.".to_owned()
    } else {
        lines.join("\n")
    };
    if !page.rejected.is_empty() {
        let ids: Vec<_> = page
            .rejected
            .iter()
            .map(|r| r.id.clone().unwrap_or_else(|| format!("#{}", r.index + 1)))
            .collect();
        description.push_str(&format!(
            "\n⚠ {} ticket(s) Orange sent could not be read: {}",
            ids.len(),
            ids.join(", ")
        ));
    }
    Card {
        title: format!("Search: {total}"),
        colour: 0xff7900,
        description: Some(description),
        fields: Vec::new(),
        footer: Some(pages),
    }
    .fit()
}

/// The account's services with their technical numbers.
pub fn services(list: &[Service]) -> Card {
    let mut card = Card {
        title: format!("{} service number(s)", list.len()),
        colour: 0xff7900,
        ..Card::default()
    };
    for s in list {
        let name = match (&s.label, &s.product_type) {
            (Some(l), _) => format!("{} — {}", s.number, md(l)),
            (None, Some(p)) => format!("{} — {}", s.number, md(p)),
            _ => s.number.to_string(),
        };
        let technical: Vec<_> = s
            .technical_numbers
            .iter()
            .map(ToString::to_string)
            .collect();
        card = card.field(
            &name,
            if technical.is_empty() {
                "(no technical numbers)".to_owned()
            } else {
                technical.join(", ")
            },
            false,
        );
    }
    card.fit()
}

pub fn api_status(s: &ApiStatus) -> Card {
    let mut card = Card {
        title: format!("Orange API: {}", if s.is_ok() { "OK" } else { "degraded" }),
        colour: if s.is_ok() { 0x2ecc71 } else { 0xe74c3c },
        description: s.name.as_deref().map(md),
        ..Card::default()
    };
    card = card.field("Status", md(&s.status), true);
    for c in &s.components {
        card = card.field(
            &md(c.name.as_deref().unwrap_or("component")),
            md(&c.status),
            true,
        );
    }
    card.fit()
}

/// `/ticket status`: Orange's health, then the bot's own counts.
pub fn status(s: &ApiStatus, bot: &BotStatus) -> Card {
    let mut card = api_status(s);
    let counts = [
        ("Tracked tickets", bot.tracked_tickets),
        ("Linked conversations", bot.links),
        ("Feeds", bot.feeds),
    ];
    // The bot's counts come right after Orange's status, so cutting drops components first.
    let at = card.fields.len().min(1);
    for (i, (name, n)) in counts.into_iter().enumerate() {
        card.fields.insert(
            at + i,
            Field {
                name: name.into(),
                value: n.to_string(),
                inline: true,
            },
        );
    }
    card.fit()
}

/// The header card pinned at the top of a ticket's thread, edited in place as the ticket moves.
pub fn header(t: &Ticket, synced: DateTime<Utc>) -> Card {
    let text = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    Card {
        title: format!("Ticket {} — {}", t.id, t.status.label()),
        colour: status_colour(&t.status),
        description: Some(
            t.description
                .as_deref()
                .map(|d| md(&cut(d, 300)))
                .unwrap_or_else(|| "(no description)".into()),
        ),
        fields: Vec::new(),
        footer: Some(format!("Last synced with Orange {}", date(&synced))),
    }
    .field("Status", t.status.label(), true)
    .field(
        "Service",
        text(t.service.as_ref().map(ToString::to_string)),
        true,
    )
    .field(
        "Technical number",
        text(t.technical.as_ref().map(ToString::to_string)),
        true,
    )
    .field("Opened", text(t.created.as_ref().map(date)), true)
    .field("Reported by", text(t.reported_by().map(md)), true)
    .field(
        "Customer reference",
        text(t.external_id.as_deref().map(md)),
        false,
    )
    .fit()
}

/// A thread's name: `<id> · <service> · <short description>`, at most 100 characters.
pub fn thread_name(t: &Ticket) -> String {
    let service = t
        .service
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_else(|| "-".into());
    let description = t
        .description
        .as_deref()
        .map(|d| d.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    let name = format!("{} · {service} · {description}", t.id);
    cut(name.trim_end_matches([' ', '·']), 100)
}

/// What changed on a ticket, for its thread or a team feed.
pub fn changes(t: &Ticket, changes: &[Change]) -> Card {
    let mut card = Card {
        title: format!("Ticket {} updated — {}", t.id, t.status.label()),
        colour: status_colour(&t.status),
        description: t.description.as_deref().map(|d| md(&cut(d, 200))),
        ..Card::default()
    };
    for c in changes {
        card = match c {
            Change::StatusChanged {
                from, to, reason, ..
            } => card.field(
                "Status",
                match reason {
                    Some(r) => format!("{} → {} ({})", from.label(), to.label(), md(r)),
                    None => format!("{} → {}", from.label(), to.label()),
                },
                false,
            ),
            Change::NotesAdded(notes) => {
                let mut card = card;
                for n in notes {
                    card = card.field(
                        &format!("New note · {}", md(n.kind.as_wire())),
                        md(&n.text),
                        false,
                    );
                }
                card
            }
            Change::ResolutionSet(d) => card.field("Resolved", date(d), true),
            Change::DescriptionChanged { to, .. } => card.field(
                "Description changed",
                to.as_deref().map(md).unwrap_or_else(|| "(removed)".into()),
                false,
            ),
            Change::Opened => card.field(
                "Opened",
                t.created.as_ref().map(date).unwrap_or_else(|| "now".into()),
                true,
            ),
            Change::Quiet { since, .. } => {
                card.field("No update from Orange since", date(since), true)
            }
            Change::Digest(_) => card,
        };
    }
    card.fit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_in_data_is_escaped() {
        assert_eq!(
            md("**bold** _x_ > q #h `c` |s|"),
            r"\*\*bold\*\* \_x\_ \> q \#h \`c\` \|s\|"
        );
    }

    #[test]
    fn thread_names_fit_discord() {
        let t = Ticket {
            description: Some("Link   down\nsince 10:00 ".repeat(20)),
            service: Some(crate::domain::ServiceNumber::parse("LD000000").expect("service")),
            ..Ticket::new(
                crate::domain::TicketId::parse("123").expect("id"),
                Status::Ongoing,
            )
        };
        let name = thread_name(&t);
        assert!(
            name.starts_with("123 · LD000000 · Link down since 10:00 Link"),
            "{name}"
        );
        assert_eq!(name.chars().count(), 100);
        let bare = Ticket::new(
            crate::domain::TicketId::parse("9").expect("id"),
            Status::Ongoing,
        );
        assert_eq!(thread_name(&bare), "9 · -");
    }

    #[test]
    fn blank_names_and_texts_from_data_never_reach_discord() {
        let status = ApiStatus {
            status: "ok".into(),
            name: Some(" ".into()),
            version: None,
            components: vec![crate::domain::ComponentStatus {
                name: Some(String::new()),
                status: "ok".into(),
            }],
        };
        let card = api_status(&status);
        assert_eq!(card.description, None);
        assert_eq!(card.fields[1].name, "—");
    }

    #[test]
    fn cut_marks_what_it_removes() {
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(cut("abcd", 3), "ab…");
    }

    #[test]
    fn oversized_cards_fit_discord_limits_visibly() {
        let card = Card {
            title: "t".repeat(300),
            description: Some("d".repeat(5000)),
            fields: (0..40)
                .map(|i| Field {
                    name: format!("field {i}"),
                    value: "v".repeat(2000),
                    inline: false,
                })
                .collect(),
            footer: Some("f".into()),
            colour: 0,
        }
        .fit();
        assert_eq!(card.title.chars().count(), limits::TITLE);
        assert!(card.title.ends_with('…'));
        assert!(card.fields.len() <= limits::FIELDS);
        assert!(
            card.fields
                .iter()
                .all(|f| f.value.chars().count() <= limits::FIELD_VALUE)
        );
        assert!(
            card.total_chars() <= limits::TOTAL,
            "{}",
            card.total_chars()
        );
        assert!(
            card.fields
                .last()
                .is_some_and(|f| f.value.contains("more not shown"))
        );
    }
}
