//! The team's figures (`/ticket report`) and a ticket's clocks (`/ticket show`), from what the
//! watcher stored: each tracked ticket's last snapshot and the statuses it saw the ticket enter.
//! The report makes no Orange call.

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use super::{Core, CoreError};
use crate::domain::{Clocks, Period, Report, Ticket, TicketClocks, report};

/// How many days a report covers when no `from` is given (today included).
pub const REPORT_DAYS: u32 = 30;

/// A report as typed by a user: `from`/`to` as `YYYY-MM-DD` (UTC), and whether to attach a CSV.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportInput {
    pub from: Option<String>,
    pub to: Option<String>,
    pub csv: bool,
}

impl Core {
    /// The team's figures for the period `input` names, at `now`.
    #[tracing::instrument(skip_all)]
    pub async fn report(
        &self,
        input: &ReportInput,
        now: DateTime<Utc>,
    ) -> Result<Report, CoreError> {
        let period = period(input, now.date_naive())?;
        let tickets = self
            .store
            .snapshots_with_timelines()
            .await?
            .into_iter()
            .filter_map(|(ticket, timeline)| {
                Some(TicketClocks {
                    clocks: Clocks::of(&ticket, &timeline, now)?,
                    opened: ticket.created?,
                    id: ticket.id,
                    service: ticket.service,
                    status: ticket.status,
                })
            })
            .collect();
        Ok(report(period, tickets))
    }

    /// `ticket`'s clocks at `now`, through the timeline the watcher stored for it (if any).
    pub fn clocks_of(
        &self,
        ticket: &Ticket,
        now: DateTime<Utc>,
    ) -> Result<Option<Clocks>, CoreError> {
        let timeline = self.store.timeline(&ticket.id)?;
        Ok(Clocks::of(ticket, &timeline, now))
    }
}

/// The period of `input`: `to` defaults to `today`, `from` to [`REPORT_DAYS`] days ending with
/// `to`.
pub fn period(input: &ReportInput, today: NaiveDate) -> Result<Period, CoreError> {
    let to = match input.to.as_deref() {
        Some(raw) => day("to", raw)?,
        None => today,
    };
    let from = match input.from.as_deref() {
        Some(raw) => day("from", raw)?,
        None => Period::last_days(to, REPORT_DAYS).from,
    };
    Period::new(from, to).ok_or_else(|| {
        CoreError::Invalid(format!(
            "The period runs backwards: `from` ({from}) comes after `to` ({to}); swap them."
        ))
    })
}

/// Years a report may name: chrono reads any signed year, and a period at its edges would
/// overflow its arithmetic (the day after `to`, thirty days before it).
const YEARS: std::ops::RangeInclusive<i32> = 1970..=9999;

fn day(what: &str, raw: &str) -> Result<NaiveDate, CoreError> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .ok()
        .filter(|d| YEARS.contains(&d.year()))
        .ok_or_else(|| {
            CoreError::Invalid(format!(
                "`{what}` must be a day written YYYY-MM-DD (UTC, 1970 to 9999), like 2026-11-01; got `{}`.",
                raw.trim().chars().take(40).collect::<String>()
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn days_at_the_edges_of_what_chrono_reads_are_refused_not_a_panic() {
        let today = d("2026-11-28");
        for raw in [
            "+262142-12-31",
            "-262143-01-01",
            "0000-01-01",
            "10000-01-01",
        ] {
            for input in [
                ReportInput {
                    to: Some(raw.into()),
                    ..ReportInput::default()
                },
                ReportInput {
                    from: Some(raw.into()),
                    ..ReportInput::default()
                },
            ] {
                let refused = period(&input, today).expect_err(raw);
                assert!(refused.user_message().contains("1970 to 9999"), "{raw}");
            }
        }
        assert!(
            period(
                &ReportInput {
                    to: Some("9999-12-31".into()),
                    ..ReportInput::default()
                },
                today
            )
            .is_ok()
        );
    }

    #[test]
    fn the_period_defaults_to_the_last_thirty_days_and_refuses_bad_input() {
        let today = d("2026-11-28");
        let p = period(&ReportInput::default(), today).expect("period");
        assert_eq!((p.from, p.to), (d("2026-10-30"), today));
        let given = ReportInput {
            from: Some("2026-11-01".into()),
            to: Some(" 2026-11-02 ".into()),
            csv: false,
        };
        let p = period(&given, today).expect("period");
        assert_eq!((p.from, p.to), (d("2026-11-01"), d("2026-11-02")));
        let backwards = ReportInput {
            from: Some("2026-11-03".into()),
            to: Some("2026-11-02".into()),
            csv: false,
        };
        let e = period(&backwards, today).expect_err("backwards");
        assert_eq!(
            e.user_message(),
            "The period runs backwards: `from` (2026-11-03) comes after `to` (2026-11-02); swap them."
        );
        let bad = ReportInput {
            from: Some("yesterday".into()),
            ..ReportInput::default()
        };
        assert!(
            period(&bad, today)
                .expect_err("bad")
                .user_message()
                .contains("YYYY-MM-DD")
        );
    }
}
