//! The team's report (`/ticket report`): a card with the period's figures, overall and per
//! service, and on request the same figures as CSV (RFC 4180: comma-separated, CRLF line ends,
//! a field quoted when it holds a comma, a quote or a line break, quotes doubled).
//!
//! The CSV has two sections, each with its own header line, separated by an empty line: one row
//! per ticket with its clocks, then one row per group of figures (`all`, then each service).
//! Durations are whole minutes; instants are UTC, RFC 3339.

use std::borrow::Cow;

use chrono::{DateTime, TimeDelta, Utc};

use super::card::{Card, Field, limits, md};
use super::notice::duration;
use super::reply::{Attachment, Reply};
use crate::domain::{Figures, Report, ServiceNumber, Spread};

/// The report's answer: its card and, with `csv`, its CSV file.
pub fn reply(report: &Report, csv: bool) -> Reply {
    let mut reply = Reply::card(card(report));
    if csv {
        reply.files.push(Attachment {
            name: format!("report-{}-{}.csv", report.period.from, report.period.to),
            text: self::csv(report),
        });
    }
    reply
}

/// How a service is named in the report.
fn service_name(service: Option<&ServiceNumber>) -> String {
    service.map_or_else(|| "no service".to_owned(), ToString::to_string)
}

/// `median 5 h 0 min · p90 1 d 2 h · 7 tickets`, or that there were none.
fn spread(s: &Spread, none: &str) -> String {
    match (s.median, s.p90) {
        (Some(median), Some(p90)) if s.count > 0 => format!(
            "median {} · p90 {} · {} {}",
            duration(median),
            duration(p90),
            s.count,
            if s.count == 1 { "ticket" } else { "tickets" }
        ),
        _ => none.to_owned(),
    }
}

fn group(f: &Figures) -> String {
    format!(
        "Opened: {}\nRestore: {}\nRepair: {}",
        f.opened,
        spread(&f.restore, "none"),
        spread(&f.repair, "none")
    )
}

/// The report as a card: the period's totals, then one field per service (as many as fit; the
/// CSV has them all).
pub fn card(report: &Report) -> Card {
    let p = &report.period;
    let mut fields = vec![
        Field {
            name: "Opened".into(),
            value: report.overall.opened.to_string(),
            inline: false,
        },
        Field {
            name: "Time to restore".into(),
            value: spread(&report.overall.restore, "no ticket restored in the period"),
            inline: false,
        },
        Field {
            name: "Time to repair".into(),
            value: spread(&report.overall.repair, "no ticket repaired in the period"),
            inline: false,
        },
    ];
    let room = limits::FIELDS - fields.len() - 1;
    let shown = if report.services.len() > room + 1 {
        room
    } else {
        report.services.len()
    };
    for (service, figures) in report.services.iter().take(shown) {
        fields.push(Field {
            name: md(&service_name(service.as_ref())),
            value: group(figures),
            inline: true,
        });
    }
    if shown < report.services.len() {
        fields.push(Field {
            name: "Other services".into(),
            value: format!(
                "{} more: ask with `csv:true` for every service",
                report.services.len() - shown
            ),
            inline: false,
        });
    }
    Card {
        title: format!("Team report · {} → {} (UTC)", p.from, p.to),
        colour: 0xff7900,
        description: Some(format!(
            "{} tracked {} opened, restored or repaired in the period. Times run from the \
             ticket's opening; median and 90th percentile by nearest rank.",
            report.tickets.len(),
            if report.tickets.len() == 1 {
                "ticket"
            } else {
                "tickets"
            }
        )),
        fields,
        footer: Some(
            "From the bot's snapshots: linked tickets and those the team feeds saw".into(),
        ),
    }
    .fit()
}

/// The header of the tickets section.
pub const CSV_TICKETS_HEADER: &str = "ticket,service,status,opened,time_open_min,still_open,restored_at,time_to_restore_min,repaired_at,time_to_repair_min,time_frozen_min";

/// The header of the figures section.
pub const CSV_FIGURES_HEADER: &str = "service,opened,restored,restore_median_min,restore_p90_min,repaired,repair_median_min,repair_p90_min";

/// The report as CSV (see the module's doc for the layout).
pub fn csv(report: &Report) -> String {
    let mut out = String::new();
    let mut line = |fields: &[Cow<'_, str>]| {
        out.push_str(
            &fields
                .iter()
                .map(|f| quote(f))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push_str("\r\n");
    };
    line(&header(CSV_TICKETS_HEADER));
    for t in &report.tickets {
        let c = &t.clocks;
        line(&[
            t.id.as_str().into(),
            service_name(t.service.as_ref()).into(),
            t.status.as_wire().into(),
            instant(Some(t.opened)).into(),
            minutes(c.open).into(),
            c.still_open.to_string().into(),
            instant(t.restored_at()).into(),
            minutes(c.restore).into(),
            instant(t.repaired_at()).into(),
            minutes(c.repair).into(),
            minutes(c.frozen).into(),
        ]);
    }
    line(&[]);
    line(&header(CSV_FIGURES_HEADER));
    let all = std::iter::once(("all".to_owned(), &report.overall));
    let each = report
        .services
        .iter()
        .map(|(s, f)| (service_name(s.as_ref()), f));
    for (name, f) in all.chain(each) {
        line(&[
            name.into(),
            f.opened.to_string().into(),
            f.restore.count.to_string().into(),
            minutes(f.restore.median).into(),
            minutes(f.restore.p90).into(),
            f.repair.count.to_string().into(),
            minutes(f.repair.median).into(),
            minutes(f.repair.p90).into(),
        ]);
    }
    out
}

fn header(h: &str) -> Vec<Cow<'_, str>> {
    h.split(',').map(Cow::Borrowed).collect()
}

fn minutes(d: Option<TimeDelta>) -> String {
    d.map(|d| d.num_minutes().to_string()).unwrap_or_default()
}

fn instant(at: Option<DateTime<Utc>>) -> String {
    at.map(|at| at.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// One CSV field: quoted when it must be; a text a spreadsheet would run as a formula (`=`,
/// `+`, `-`, `@` first) gets a leading `'` (Orange's status values are not under our control).
fn quote(field: &str) -> Cow<'_, str> {
    let formula = field.starts_with(['=', '+', '-', '@']) && field.parse::<f64>().is_err();
    let field: Cow<'_, str> = if formula {
        format!("'{field}").into()
    } else {
        field.into()
    };
    if field.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\"")).into()
    } else {
        field
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::domain::{Clocks, Period, Status, TicketClocks, TicketId, report};

    #[test]
    fn fields_are_quoted_only_when_they_must_be() {
        assert_eq!(quote("LD000000"), "LD000000");
        assert_eq!(quote("a,b"), "\"a,b\"");
        assert_eq!(quote("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(quote("two\nlines"), "\"two\nlines\"");
        assert_eq!(quote("=cmd()"), "'=cmd()");
        assert_eq!(quote("-12"), "-12");
    }

    #[test]
    fn a_report_renders_as_a_card_and_two_csv_sections() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 10).expect("day");
        let opened = day.and_hms_opt(8, 0, 0).expect("t").and_utc();
        let ticket = TicketClocks {
            id: TicketId::parse("1234567890").expect("id"),
            service: Some(ServiceNumber::parse("LD000000").expect("service")),
            status: Status::Closed,
            opened,
            clocks: Clocks {
                open: Some(TimeDelta::hours(30)),
                still_open: false,
                restore: Some(TimeDelta::minutes(125)),
                repair: Some(TimeDelta::hours(26)),
                frozen: None,
            },
        };
        let r = report(Period::new(day, day).expect("period"), vec![ticket]);
        let c = card(&r);
        assert_eq!(c.title, "Team report · 2026-11-10 → 2026-11-10 (UTC)");
        let values: Vec<(&str, &str)> = c
            .fields
            .iter()
            .map(|f| (f.name.as_str(), f.value.as_str()))
            .collect();
        assert_eq!(
            values,
            [
                ("Opened", "1"),
                (
                    "Time to restore",
                    "median 2 h 5 min · p90 2 h 5 min · 1 ticket"
                ),
                ("Time to repair", "no ticket repaired in the period"),
                (
                    "LD000000",
                    "Opened: 1\nRestore: median 2 h 5 min · p90 2 h 5 min · 1 ticket\nRepair: none"
                ),
            ]
        );
        assert_eq!(
            csv(&r),
            format!(
                "{CSV_TICKETS_HEADER}\r\n\
                 1234567890,LD000000,closed,2026-11-10T08:00:00Z,1800,false,2026-11-10T10:05:00Z,125,2026-11-11T10:00:00Z,1560,\r\n\
                 \r\n\
                 {CSV_FIGURES_HEADER}\r\n\
                 all,1,1,125,125,0,,\r\n\
                 LD000000,1,1,125,125,0,,\r\n"
            )
        );
        let with_file = reply(&r, true);
        assert_eq!(with_file.files[0].name, "report-2026-11-10-2026-11-10.csv");
        assert!(reply(&r, false).files.is_empty());
    }
}
