//! A feed channel's daily digest as one message: the day's counts, the open tickets by status,
//! the oldest open ticket and those waiting on the customer, then the reference line of its
//! delivery (like every message the watcher posts).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::notice::{marker, relative};
use super::reply::Reply;
use crate::domain::{Digest, Notification};

/// The digest `n` carries (a notification without one renders as its reference line only).
pub fn notice(n: &Notification) -> Reply {
    let mut lines = n.as_digest().map(lines).unwrap_or_default();
    lines.push(marker(&n.key));
    Reply::text(lines.join("\n"))
}

fn lines(d: &Digest) -> Vec<String> {
    let hours = (d.to - d.from).num_hours();
    let mut lines = vec![
        format!(
            "**Daily digest · {}** — the {hours} h to {}",
            d.day.format("%A %-d %B %Y"),
            local_time(d.to, &d.time_zone)
        ),
        format!(
            "Opened **{}** · restored **{}** · closed **{}**",
            d.opened, d.restored, d.closed
        ),
    ];
    let by_status: Vec<String> = d
        .open
        .iter()
        .map(|(status, n)| format!("{} {n}", status.label()))
        .collect();
    lines.push(match by_status.is_empty() {
        true => "Open now: none".into(),
        false => format!(
            "Open now: **{}** — {}",
            d.open_total(),
            by_status.join(" · ")
        ),
    });
    if let Some(o) = &d.oldest {
        let service = o
            .service
            .as_ref()
            .map(|s| format!(" · {s}"))
            .unwrap_or_default();
        lines.push(format!(
            "Oldest open: **{}**{service} · opened {}",
            o.id,
            relative(&o.created)
        ));
    }
    let mut waiting: Vec<String> = d.waiting.iter().map(|id| format!("**{id}**")).collect();
    if d.waiting_total > d.waiting.len() {
        waiting.push(format!("and {} more", d.waiting_total - d.waiting.len()));
    }
    lines.push(match waiting.is_empty() {
        true => "Waiting on the customer: none".into(),
        false => format!(
            "Waiting on the customer ({}): {}",
            d.waiting_total,
            waiting.join(", ")
        ),
    });
    lines
}

/// `08:00 Europe/Paris`; the UTC time when the zone's name is unknown (it was checked when the
/// settings were loaded, but a queued digest may outlive a change of them).
fn local_time(at: DateTime<Utc>, zone: &str) -> String {
    match zone.parse::<Tz>() {
        Ok(tz) => format!("{} {zone}", at.with_timezone(&tz).format("%H:%M")),
        Err(_) => format!("{} UTC", at.format("%H:%M")),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};

    use super::*;
    use crate::domain::{Conversation, Oldest, Status, TicketId};

    #[test]
    fn a_digest_reads_as_one_message_with_its_reference_line() {
        let id = |s: &str| TicketId::parse(s).expect("id");
        let to = Utc
            .with_ymd_and_hms(2026, 11, 28, 7, 0, 0)
            .single()
            .expect("date");
        let digest = Digest {
            day: NaiveDate::from_ymd_opt(2026, 11, 28).expect("day"),
            from: to - chrono::TimeDelta::hours(24),
            to,
            time_zone: "Europe/Paris".into(),
            opened: 3,
            restored: 1,
            closed: 2,
            open: vec![(Status::Submitted, 2), (Status::Frozen, 1)],
            oldest: Some(Oldest {
                id: id("1234567890"),
                service: None,
                created: Utc.timestamp_opt(1_700_000_000, 0).single().expect("date"),
            }),
            waiting: vec![id("42")],
            waiting_total: 1,
        };
        let n = Notification::digest(Conversation::discord(7), digest, to);
        let text = notice(&n).text.unwrap_or_default();
        assert_eq!(
            text,
            format!(
                "**Daily digest · Saturday 28 November 2026** — the 24 h to 08:00 Europe/Paris\n\
                 Opened **3** · restored **1** · closed **2**\n\
                 Open now: **3** — Submitted 2 · Frozen (waiting on customer) 1\n\
                 Oldest open: **1234567890** · opened <t:1700000000:R>\n\
                 Waiting on the customer (1): **42**\n\
                 -# ref {}",
                n.key
            )
        );
    }
}
