//! The team's figures for a period, from the tickets the bot tracks: how many were opened, and
//! for those restored or repaired in the period the median and 90th percentile of their time to
//! restore and to repair, overall and per service. Pure: tickets with their clocks in, figures
//! out.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

use super::{Clocks, ServiceNumber, Status, TicketId};

/// A period of whole days, `from` to `to` inclusive, in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    /// `from` to `to`, both included; `None` when `from` comes after `to`.
    pub fn new(from: NaiveDate, to: NaiveDate) -> Option<Self> {
        (from <= to).then_some(Period { from, to })
    }

    /// The `days` days that end with `today` (today included).
    pub fn last_days(today: NaiveDate, days: u32) -> Self {
        let back = TimeDelta::days(i64::from(days.max(1)) - 1);
        Period {
            from: today - back,
            to: today,
        }
    }

    /// The first instant of the period.
    pub fn start(&self) -> DateTime<Utc> {
        self.from.and_time(chrono::NaiveTime::MIN).and_utc()
    }

    /// The first instant after the period (midnight after `to`).
    pub fn end(&self) -> DateTime<Utc> {
        (self.to + TimeDelta::days(1))
            .and_time(chrono::NaiveTime::MIN)
            .and_utc()
    }

    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.start() <= at && at < self.end()
    }
}

/// One tracked ticket with its clocks, as the report sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketClocks {
    pub id: TicketId,
    pub service: Option<ServiceNumber>,
    pub status: Status,
    pub opened: DateTime<Utc>,
    pub clocks: Clocks,
}

impl TicketClocks {
    pub fn restored_at(&self) -> Option<DateTime<Utc>> {
        self.clocks.restored_at(self.opened)
    }

    pub fn repaired_at(&self) -> Option<DateTime<Utc>> {
        self.clocks.repaired_at(self.opened)
    }
}

/// A set of durations summed up: how many, their median and 90th percentile (nearest rank).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Spread {
    pub count: usize,
    pub median: Option<TimeDelta>,
    pub p90: Option<TimeDelta>,
}

impl Spread {
    pub fn of(mut values: Vec<TimeDelta>) -> Self {
        values.sort();
        Spread {
            count: values.len(),
            median: percentile(&values, 50),
            p90: percentile(&values, 90),
        }
    }
}

/// The figures of one group of tickets (all, or one service).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Figures {
    /// Tickets opened in the period.
    pub opened: usize,
    /// Time to restore of the tickets restored in the period.
    pub restore: Spread,
    /// Time to repair of the tickets repaired in the period.
    pub repair: Spread,
}

/// The team's figures for a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub period: Period,
    pub overall: Figures,
    /// One entry per service with a ticket in the report, in service order (`None`: tickets
    /// Orange gave no service for).
    pub services: Vec<(Option<ServiceNumber>, Figures)>,
    /// The tickets opened, restored or repaired in the period, in id order.
    pub tickets: Vec<TicketClocks>,
}

/// The value at percentile `p` (0-100) of `sorted` (ascending), by the nearest-rank method: the
/// smallest value such that at least `p` % of the values are less or equal, i.e. the value at
/// rank `ceil(p / 100 × n)` (1-based; rank 1 for `p` = 0). The median is `percentile(_, 50)`:
/// with an even count, the lower of the two middle values. `None` for no values.
pub fn percentile<T: Copy>(sorted: &[T], p: u8) -> Option<T> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let p = usize::from(p.min(100));
    let rank = (p * n).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

/// The report of `period` over `tickets`: a ticket counts as opened when its opening falls in
/// the period, and its time to restore (to repair) counts when its restoration (repair) does.
pub fn report(period: Period, tickets: Vec<TicketClocks>) -> Report {
    let mut in_period: Vec<TicketClocks> = tickets
        .into_iter()
        .filter(|t| {
            period.contains(t.opened)
                || t.restored_at().is_some_and(|at| period.contains(at))
                || t.repaired_at().is_some_and(|at| period.contains(at))
        })
        .collect();
    in_period.sort_by(|a, b| a.id.cmp(&b.id));
    let figures = |group: &[&TicketClocks]| Figures {
        opened: group.iter().filter(|t| period.contains(t.opened)).count(),
        restore: Spread::of(
            group
                .iter()
                .filter(|t| t.restored_at().is_some_and(|at| period.contains(at)))
                .filter_map(|t| t.clocks.restore)
                .collect(),
        ),
        repair: Spread::of(
            group
                .iter()
                .filter(|t| t.repaired_at().is_some_and(|at| period.contains(at)))
                .filter_map(|t| t.clocks.repair)
                .collect(),
        ),
    };
    let mut by_service: BTreeMap<Option<ServiceNumber>, Vec<&TicketClocks>> = BTreeMap::new();
    for t in &in_period {
        by_service.entry(t.service.clone()).or_default().push(t);
    }
    let all: Vec<&TicketClocks> = in_period.iter().collect();
    let overall = figures(&all);
    let services = by_service
        .into_iter()
        .map(|(service, group)| (service, figures(&group)))
        .collect();
    Report {
        period,
        overall,
        services,
        tickets: in_period,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn nearest_rank_picks_an_actual_value() {
        let v = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        assert_eq!(percentile(&v, 50), Some(5));
        assert_eq!(percentile(&v, 90), Some(9));
        assert_eq!(percentile(&v, 100), Some(10));
        assert_eq!(percentile(&v, 0), Some(1));
        assert_eq!(percentile(&[7], 90), Some(7));
        assert_eq!(percentile(&[1, 2, 3], 50), Some(2));
        assert_eq!(percentile(&[1, 2, 3], 90), Some(3));
        assert_eq!(percentile::<i32>(&[], 50), None);
    }

    #[test]
    fn a_period_is_whole_utc_days_and_refuses_to_run_backwards() {
        let p = Period::new(day("2026-11-01"), day("2026-11-02")).expect("period");
        assert!(p.contains(day("2026-11-01").and_hms_opt(0, 0, 0).expect("t").and_utc()));
        assert!(
            p.contains(
                day("2026-11-02")
                    .and_hms_opt(23, 59, 59)
                    .expect("t")
                    .and_utc()
            )
        );
        assert!(!p.contains(day("2026-11-03").and_hms_opt(0, 0, 0).expect("t").and_utc()));
        assert_eq!(Period::new(day("2026-11-02"), day("2026-11-01")), None);
        let last = Period::last_days(day("2026-11-30"), 30);
        assert_eq!((last.from, last.to), (day("2026-11-01"), day("2026-11-30")));
    }

    #[test]
    fn each_clock_counts_in_the_period_its_event_falls_in() {
        let at = |d: &str, h: u32| day(d).and_hms_opt(h, 0, 0).expect("t").and_utc();
        let ticket =
            |id: &str, service: &str, opened, restore: i64, repair: Option<i64>| TicketClocks {
                id: TicketId::parse(id).expect("id"),
                service: Some(ServiceNumber::parse(service).expect("service")),
                status: Status::Closed,
                opened,
                clocks: Clocks {
                    restore: Some(TimeDelta::hours(restore)),
                    repair: repair.map(TimeDelta::hours),
                    ..Clocks::default()
                },
            };
        let period = Period::new(day("2026-11-10"), day("2026-11-10")).expect("period");
        let r = report(
            period,
            vec![
                // Opened before, restored in the period, repaired after it.
                ticket("1", "LD000000", at("2026-11-09", 20), 6, Some(30)),
                // Opened and restored in it, repaired in it.
                ticket("2", "LD000000", at("2026-11-10", 1), 2, Some(4)),
                // Another service, opened in it, restored after it.
                ticket("3", "LD292264", at("2026-11-10", 22), 5, None),
                // Nothing in the period.
                ticket("4", "LD292264", at("2026-11-01", 1), 1, Some(2)),
            ],
        );
        assert_eq!(r.tickets.len(), 3);
        assert_eq!(r.overall.opened, 2);
        assert_eq!(r.overall.restore.count, 2);
        assert_eq!(r.overall.restore.median, Some(TimeDelta::hours(2)));
        assert_eq!(r.overall.restore.p90, Some(TimeDelta::hours(6)));
        assert_eq!(r.overall.repair.count, 1);
        assert_eq!(r.services.len(), 2);
        assert_eq!(r.services[1].1.opened, 1);
        assert_eq!(r.services[1].1.restore.count, 0);
        assert_eq!(r.services[1].1.restore.median, None);
    }

    proptest! {
        #[test]
        fn median_and_p90_lie_within_the_values_in_order(
            values in proptest::collection::vec(0i64..1_000_000, 1..200)
        ) {
            let spread = Spread::of(values.iter().map(|m| TimeDelta::minutes(*m)).collect());
            let (min, max) = (values.iter().min().copied(), values.iter().max().copied());
            let median = spread.median.map(|d| d.num_minutes());
            let p90 = spread.p90.map(|d| d.num_minutes());
            prop_assert_eq!(spread.count, values.len());
            prop_assert!(median >= min && median <= max);
            prop_assert!(p90 >= median && p90 <= max);
            prop_assert!(median.is_some_and(|m| values.contains(&m)));
            // At least half of the values are at most the median, at least 90 % at most p90.
            let at_most = |x: i64| values.iter().filter(|v| **v <= x).count();
            prop_assert!(2 * at_most(median.unwrap_or_default()) >= values.len());
            prop_assert!(10 * at_most(p90.unwrap_or_default()) >= 9 * values.len());
        }
    }
}
