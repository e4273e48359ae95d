//! The simulated account: services, tickets, their lifecycle, and the clock the sandbox owns.
//!
//! Pure state behind the server's mutex: no HTTP here. Every random choice comes from RNGs seeded
//! from the sandbox seed, so the same seed and the same calls give the same run.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use super::bounds::{MAX_NOTES_PER_TICKET, MAX_TICKETS};
use super::persist::{FORMAT, SavedWorld};
use super::seed;
use crate::domain::{
    Note, NoteKind, Party, Service, ServiceNumber, SortColumn, Status, StatusChange, Ticket,
    TicketId,
};

/// Why a sandbox operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SandboxError {
    #[error("ticket {0} does not exist")]
    UnknownTicket(String),
    #[error("service number {0} is not known to this account")]
    UnknownService(String),
    #[error("technical number {technical} is not under service number {service}")]
    TechnicalNotUnderService { service: String, technical: String },
    #[error("the sandbox account holds at most {0} tickets")]
    AccountFull(usize),
    #[error("ticket {0} holds at most {1} notes")]
    TooManyNotes(String, usize),
    #[error("ticket {ticket} belongs to service number {expected}, not {given}")]
    WrongService {
        ticket: String,
        expected: String,
        given: String,
    },
}

/// Sandbox time: real time plus an offset that `advance_clock` moves. Millisecond precision, as
/// Orange's dates have.
#[derive(Debug, Clone, Default)]
pub(crate) struct Clock {
    offset: TimeDelta,
}

impl Clock {
    /// `None` for an offset chrono cannot represent.
    fn from_offset_ms(ms: i64) -> Option<Self> {
        TimeDelta::try_milliseconds(ms).map(|offset| Self { offset })
    }

    fn offset_ms(&self) -> i64 {
        self.offset.num_milliseconds()
    }

    pub fn now(&self) -> DateTime<Utc> {
        let real = Utc::now();
        let t = real.checked_add_signed(self.offset).unwrap_or(real);
        DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
    }

    /// Moves the clock forward; a move past the representable range is ignored.
    pub fn advance(&mut self, by: Duration) {
        if let Some(offset) = TimeDelta::from_std(by)
            .ok()
            .and_then(|by| self.offset.checked_add(&by))
            .filter(|o| Utc::now().checked_add_signed(*o).is_some())
        {
            self.offset = offset;
        }
    }
}

/// A validated search.
#[derive(Debug, Clone)]
pub(crate) struct SearchQuery {
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    pub service: Option<String>,
    pub reported_by: Option<String>,
    pub id: Option<String>,
    pub status: Option<Status>,
    pub sort: SortColumn,
    pub ascending: bool,
    /// 1-based.
    pub page: u32,
    pub page_size: u32,
}

/// One page of search results.
#[derive(Debug, Clone)]
pub(crate) struct SearchPage {
    pub tickets: Vec<Ticket>,
    pub total: usize,
}

/// The whole simulated account.
#[derive(Debug)]
pub(crate) struct World {
    /// The seed it was generated from.
    seed: u64,
    services: Vec<Service>,
    tickets: BTreeMap<TicketId, Ticket>,
    next_id: u64,
    /// Gaps between new ticket ids.
    ids: fastrand::Rng,
    /// Lifecycle choices.
    lifecycle: fastrand::Rng,
    clock: Clock,
    /// Sandbox time of the last automatic lifecycle step.
    last_auto_step: DateTime<Utc>,
    /// Counts the changes, so that a saved world is written again only when it changed.
    revision: u64,
}

impl World {
    /// The account generated from `seed`.
    pub fn seeded(seed: u64) -> Self {
        let clock = Clock::default();
        let seeded = seed::generate(seed, clock.now());
        let last_auto_step = clock.now();
        Self {
            seed,
            services: seeded.services,
            tickets: seeded
                .tickets
                .into_iter()
                .map(|t| (t.id.clone(), t))
                .collect(),
            next_id: seeded.next_id,
            ids: fastrand::Rng::with_seed(seed ^ 0x1D5),
            lifecycle: fastrand::Rng::with_seed(seed ^ 0x11FE),
            clock,
            last_auto_step,
            revision: 0,
        }
    }

    /// The account of `seed` again, with a new clock, but new ids still coming after every id
    /// this world gave out: an id once given never names another ticket.
    pub fn reseeded(&self, seed: u64) -> Self {
        let mut world = Self::seeded(seed);
        world.next_id = world.next_id.max(self.next_id);
        world.revision = self.revision + 1;
        world
    }

    /// The world as [`super::persist`] writes it down.
    pub fn saved(&self) -> SavedWorld {
        SavedWorld {
            format: FORMAT,
            seed: self.seed,
            services: self.services.clone(),
            tickets: self.tickets.values().cloned().collect(),
            next_id: self.next_id,
            id_rng: self.ids.get_seed(),
            lifecycle_rng: self.lifecycle.get_seed(),
            clock_offset_ms: self.clock.offset_ms(),
            last_auto_step: self.last_auto_step,
        }
    }

    /// The world a [`SavedWorld`] describes; refused when two tickets share an id or the clock's
    /// offset is out of range.
    pub fn from_saved(saved: SavedWorld) -> Result<Self, String> {
        let clock = Clock::from_offset_ms(saved.clock_offset_ms)
            .ok_or_else(|| format!("clock offset {} ms out of range", saved.clock_offset_ms))?;
        let mut tickets = BTreeMap::new();
        for t in saved.tickets {
            if let Some(twice) = tickets.insert(t.id.clone(), t) {
                return Err(format!("ticket {} appears twice", twice.id));
            }
        }
        Ok(Self {
            seed: saved.seed,
            services: saved.services,
            tickets,
            next_id: saved.next_id,
            ids: fastrand::Rng::with_seed(saved.id_rng),
            lifecycle: fastrand::Rng::with_seed(saved.lifecycle_rng),
            clock,
            last_auto_step: saved.last_auto_step,
            revision: 0,
        })
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Goes up with every change of the account, its tickets, ids or clock.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    fn changed(&mut self) {
        self.revision += 1;
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Moves the sandbox clock forward (see [`Clock::advance`]).
    pub fn advance_clock(&mut self, by: Duration) {
        self.clock.advance(by);
        self.changed();
    }

    pub fn services(&self) -> &[Service] {
        &self.services
    }

    pub fn ticket(&self, id: &str) -> Option<&Ticket> {
        TicketId::parse(id)
            .ok()
            .and_then(|id| self.tickets.get(&id))
    }

    pub fn ticket_ids(&self) -> Vec<TicketId> {
        self.tickets.keys().cloned().collect()
    }

    pub fn ticket_count(&self) -> usize {
        self.tickets.len()
    }

    /// Opens a ticket as the API does: `submitted`, no notes yet, the caller's party first after
    /// Orange's service centre.
    pub fn create_ticket(
        &mut self,
        service: &str,
        technical: &str,
        description: String,
        depositor: Party,
        external_id: Option<String>,
    ) -> Result<TicketId, SandboxError> {
        if self.tickets.len() >= MAX_TICKETS {
            return Err(SandboxError::AccountFull(MAX_TICKETS));
        }
        let known = self
            .services
            .iter()
            .find(|s| s.number.as_str() == service)
            .ok_or_else(|| SandboxError::UnknownService(service.to_owned()))?;
        let technical_number = known
            .technical_numbers
            .iter()
            .find(|t| t.as_str() == technical)
            .cloned()
            .ok_or_else(|| SandboxError::TechnicalNotUnderService {
                service: service.to_owned(),
                technical: technical.to_owned(),
            })?;
        let service_number = known.number.clone();
        let id = self.allocate_id();
        let ticket = Ticket {
            id: id.clone(),
            status: Status::Submitted,
            description: Some(description),
            created: Some(self.now()),
            service: Some(service_number),
            technical: Some(technical_number),
            resolution_date: None,
            status_change: StatusChange::default(),
            external_id,
            parties: vec![seed::service_centre(), depositor],
            notes: Some(Vec::new()),
            priority: None,
            escalation_level: Some("0".into()),
            attachment: None,
            extra: BTreeMap::new(),
        };
        self.tickets.insert(id.clone(), ticket);
        self.changed();
        Ok(id)
    }

    fn allocate_id(&mut self) -> TicketId {
        loop {
            let candidate = self.next_id;
            self.next_id += self.ids.u64(1..=25);
            // Ten digits, like Orange's ids; the seeded range leaves plenty of room.
            if let Ok(id) = TicketId::parse(&format!("{candidate:010}"))
                && !self.tickets.contains_key(&id)
            {
                return id;
            }
        }
    }

    /// A customer comment, as PATCH adds it: the service number must be the ticket's.
    pub fn add_comment(
        &mut self,
        id: &str,
        service: &str,
        text: String,
    ) -> Result<(), SandboxError> {
        let now = self.now();
        let ticket = self.ticket_mut(id)?;
        let expected = ticket
            .service
            .as_ref()
            .map(ServiceNumber::as_str)
            .unwrap_or("");
        if expected != service {
            return Err(SandboxError::WrongService {
                ticket: id.to_owned(),
                expected: expected.to_owned(),
                given: service.to_owned(),
            });
        }
        room_for_a_note(id, ticket)?;
        push_note(ticket, now, NoteKind::Comments, text);
        self.changed();
        Ok(())
    }

    /// A note from Orange staff.
    pub fn add_orange_note(
        &mut self,
        id: &str,
        kind: &str,
        text: String,
    ) -> Result<(), SandboxError> {
        let now = self.now();
        let ticket = self.ticket_mut(id)?;
        room_for_a_note(id, ticket)?;
        push_note(ticket, now, NoteKind::from_wire(kind), text);
        self.changed();
        Ok(())
    }

    /// Forces a status, whatever the lifecycle says (control API).
    pub fn set_status(
        &mut self,
        id: &str,
        status: Status,
        reason: Option<String>,
    ) -> Result<(), SandboxError> {
        let now = self.now();
        let ticket = self.ticket_mut(id)?;
        let reason = reason.unwrap_or_else(|| default_reason(&status).to_owned());
        transition(ticket, status, reason, now);
        self.changed();
        Ok(())
    }

    fn ticket_mut(&mut self, id: &str) -> Result<&mut Ticket, SandboxError> {
        TicketId::parse(id)
            .ok()
            .and_then(|tid| self.tickets.get_mut(&tid))
            .ok_or_else(|| SandboxError::UnknownTicket(id.to_owned()))
    }

    /// Moves every non-final ticket one lifecycle step, `steps` times, in id order.
    pub fn advance(&mut self, steps: u32) {
        if steps > 0 {
            self.changed();
        }
        for _ in 0..steps {
            let now = self.now();
            for ticket in self.tickets.values_mut() {
                if let Some(next) = next_status(&ticket.status, &mut self.lifecycle) {
                    let reason = default_reason(&next).to_owned();
                    transition(ticket, next, reason, now);
                }
            }
        }
    }

    /// Runs the automatic steps that are due: one per `every` of sandbox time since the last.
    pub fn catch_up(&mut self, every: Duration) {
        let Ok(every) = TimeDelta::from_std(every) else {
            return;
        };
        if every <= TimeDelta::zero() {
            return;
        }
        let now = self.now();
        let (elapsed, period) = (
            (now - self.last_auto_step).num_milliseconds(),
            every.num_milliseconds().max(1),
        );
        let due = elapsed / period;
        if due <= 0 {
            return;
        }
        // A jump of the clock by years must not stall the server: at most 1,000 steps at once.
        self.advance(u32::try_from(due.min(1_000)).unwrap_or(1_000));
        self.last_auto_step = now - TimeDelta::milliseconds(elapsed % period);
        self.changed();
    }

    /// The tickets matching `q`, sorted and paged.
    pub fn search(&self, q: &SearchQuery) -> SearchPage {
        let start = (q.page.saturating_sub(1) as usize).saturating_mul(q.page_size as usize);
        if q.sort != SortColumn::TicketNumber {
            return self.sorted_search(q, start);
        }
        // Why no sort here: the tickets are kept in id order, which is this column's order. At
        // 50,000 tickets, collecting and sorting every match for each page cost the sandbox more
        // than the page itself (the watcher reads a thousand pages a pass).
        let page = |tickets: &mut dyn Iterator<Item = &Ticket>| {
            let mut total = 0;
            let mut page = Vec::new();
            for t in tickets.filter(|t| matches(t, q)) {
                if total >= start && page.len() < q.page_size as usize {
                    page.push(t.clone());
                }
                total += 1;
            }
            SearchPage {
                tickets: page,
                total,
            }
        };
        if q.ascending {
            page(&mut self.tickets.values())
        } else {
            page(&mut self.tickets.values().rev())
        }
    }

    /// [`World::search`] for any column: every match collected, sorted, then paged.
    fn sorted_search(&self, q: &SearchQuery, start: usize) -> SearchPage {
        let mut found: Vec<&Ticket> = self.tickets.values().filter(|t| matches(t, q)).collect();
        found.sort_by(|a, b| {
            let by_column = match q.sort {
                SortColumn::TicketNumber => a.id.cmp(&b.id),
                SortColumn::OrangeServiceNumber => a.service.cmp(&b.service),
                // By Orange's spelling, as a database column of strings would sort.
                SortColumn::Status => a.status.as_wire().cmp(b.status.as_wire()),
                SortColumn::StartDate => a.created.cmp(&b.created),
                SortColumn::CustomerRef => a.external_id.cmp(&b.external_id),
                SortColumn::ReportedBy => a.reported_by().cmp(&b.reported_by()),
            };
            by_column.then_with(|| a.id.cmp(&b.id))
        });
        if !q.ascending {
            found.reverse();
        }
        let total = found.len();
        let tickets = found
            .into_iter()
            .skip(start)
            .take(q.page_size as usize)
            .cloned()
            .collect();
        SearchPage { tickets, total }
    }
}

fn matches(t: &Ticket, q: &SearchQuery) -> bool {
    let created_in = |bound: Option<DateTime<Utc>>, after: bool| match (bound, t.created) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(b), Some(c)) => {
            if after {
                c >= b
            } else {
                c <= b
            }
        }
    };
    created_in(q.created_from, true)
        && created_in(q.created_to, false)
        && q.service
            .as_deref()
            .is_none_or(|s| t.service.as_ref().is_some_and(|n| n.as_str() == s))
        // Why a case-insensitive substring: people search for "doe", not "John Doe".
        && q.reported_by.as_deref().is_none_or(|name| {
            t.reported_by()
                .is_some_and(|r| r.to_lowercase().contains(&name.to_lowercase()))
        })
        && q.id.as_deref().is_none_or(|id| t.id.as_str() == id)
        && q.status.as_ref().is_none_or(|s| &t.status == s)
}

/// Notes from outside (comments, the control API) stop at [`MAX_NOTES_PER_TICKET`].
fn room_for_a_note(id: &str, ticket: &Ticket) -> Result<(), SandboxError> {
    if ticket.notes.as_ref().map_or(0, Vec::len) >= MAX_NOTES_PER_TICKET {
        return Err(SandboxError::TooManyNotes(
            id.to_owned(),
            MAX_NOTES_PER_TICKET,
        ));
    }
    Ok(())
}

fn push_note(ticket: &mut Ticket, date: DateTime<Utc>, kind: NoteKind, text: String) {
    ticket
        .notes
        .get_or_insert_with(Vec::new)
        .push(Note { date, kind, text });
}

/// The lifecycle of CONTRACT.md, with the odds of each branch. `None` for final and unknown
/// statuses: they do not move.
fn next_status(current: &Status, rng: &mut fastrand::Rng) -> Option<Status> {
    let roll = rng.u8(..100);
    Some(match current {
        Status::Submitted if roll < 90 => Status::InQualification,
        Status::Submitted => Status::Errored,
        Status::InQualification if roll < 85 => Status::Ongoing,
        Status::InQualification => Status::Errored,
        Status::Ongoing if roll < 20 => Status::Frozen,
        Status::Ongoing if roll < 65 => Status::Restored,
        Status::Ongoing => Status::Repaired,
        Status::Frozen => Status::Ongoing,
        Status::Restored if roll < 60 => Status::Closed,
        Status::Restored if roll < 85 => Status::Repaired,
        Status::Restored => Status::Ongoing,
        Status::Repaired if roll < 80 => Status::Closed,
        Status::Repaired => Status::Ongoing,
        Status::Closed | Status::Errored | Status::Other(_) => return None,
    })
}

/// What Orange writes in `statusChange.changeReason` for a move to `status`.
pub(crate) fn default_reason(status: &Status) -> &'static str {
    match status {
        Status::Submitted => "Ticket submitted",
        Status::InQualification => "Ticket accepted, qualification in progress",
        Status::Ongoing => "Investigation in progress",
        Status::Frozen => "Waiting for customer information",
        Status::Restored => "Service restored",
        Status::Repaired => "Fault repaired",
        Status::Closed => "Closure",
        Status::Errored => "Ticket rejected",
        Status::Other(_) => "Status updated",
    }
}

/// Applies a status change: status, `statusChange`, `resolutionDate`, and Orange's note about it.
pub(crate) fn transition(ticket: &mut Ticket, to: Status, reason: String, now: DateTime<Utc>) {
    match to {
        Status::Restored | Status::Repaired => ticket.resolution_date = Some(now),
        // Reopened: the earlier resolution no longer holds.
        Status::Ongoing => ticket.resolution_date = None,
        _ => {}
    }
    let text = format!("Status changed to {}: {reason}", to.as_wire());
    ticket.status = to;
    ticket.status_change = StatusChange {
        date: Some(now),
        reason: Some(reason),
    };
    push_note(ticket, now, NoteKind::Other("Orange comments".into()), text);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ContactMedium;

    fn depositor() -> Party {
        Party {
            role: "depositor".into(),
            name: "John Doe".into(),
            media: vec![ContactMedium {
                kind: "email".into(),
                value: "john@example.com".into(),
            }],
        }
    }

    #[test]
    fn the_lifecycle_takes_only_documented_transitions() {
        use Status::*;
        let mut rng = fastrand::Rng::with_seed(1);
        for from in Status::KNOWN {
            let mut seen = std::collections::BTreeSet::new();
            for _ in 0..500 {
                if let Some(to) = next_status(&from, &mut rng) {
                    seen.insert(to.as_wire().to_owned());
                }
            }
            let expected: &[Status] = match from {
                Submitted => &[InQualification, Errored],
                InQualification => &[Ongoing, Errored],
                Ongoing => &[Frozen, Restored, Repaired],
                Frozen => &[Ongoing],
                Restored => &[Repaired, Closed, Ongoing],
                Repaired => &[Closed, Ongoing],
                Closed | Errored | Other(_) => &[],
            };
            let expected: std::collections::BTreeSet<_> =
                expected.iter().map(|s| s.as_wire().to_owned()).collect();
            assert_eq!(seen, expected, "from {from:?}");
        }
        assert_eq!(next_status(&Other("x".into()), &mut rng), None);
    }

    #[test]
    fn searches_by_ticket_number_page_as_the_sorted_search_does() {
        let mut w = World::seeded(5);
        let service = w.services()[0].clone();
        let technical = service.technical_numbers[0].clone();
        for i in 0..120 {
            w.create_ticket(
                service.number.as_str(),
                technical.as_str(),
                format!("t{i}"),
                depositor(),
                None,
            )
            .expect("created");
        }
        w.advance(2);
        let statuses = std::iter::once(None).chain(Status::KNOWN.map(Some));
        for status in statuses {
            for ascending in [true, false] {
                for page_size in [7, 50] {
                    for page in 1..=(w.ticket_count() as u32 / page_size + 2) {
                        let q = SearchQuery {
                            created_from: None,
                            created_to: None,
                            service: None,
                            reported_by: None,
                            id: None,
                            status: status.clone(),
                            sort: SortColumn::TicketNumber,
                            ascending,
                            page,
                            page_size,
                        };
                        let start = ((page - 1) * page_size) as usize;
                        let (fast, sorted) = (w.search(&q), w.sorted_search(&q, start));
                        let ids = |p: &SearchPage| {
                            p.tickets.iter().map(|t| t.id.clone()).collect::<Vec<_>>()
                        };
                        assert_eq!(
                            (ids(&fast), fast.total),
                            (ids(&sorted), sorted.total),
                            "{q:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn created_tickets_are_checked_against_the_account() {
        let mut w = World::seeded(3);
        let service = w.services()[0].clone();
        let foreign = w.services()[1].technical_numbers[0].clone();
        assert!(matches!(
            w.create_ticket("LD0", "LD1", "d".into(), depositor(), None),
            Err(SandboxError::UnknownService(_))
        ));
        assert!(matches!(
            w.create_ticket(
                service.number.as_str(),
                foreign.as_str(),
                "d".into(),
                depositor(),
                None
            ),
            Err(SandboxError::TechnicalNotUnderService { .. })
        ));
        let technical = service.technical_numbers[0].as_str();
        let id = w
            .create_ticket(
                service.number.as_str(),
                technical,
                "d".into(),
                depositor(),
                None,
            )
            .expect("created");
        assert_eq!(
            w.ticket(id.as_str()).map(|t| t.status.clone()),
            Some(Status::Submitted)
        );
        assert!(matches!(
            w.add_comment(id.as_str(), "LD0", "x".into()),
            Err(SandboxError::WrongService { .. })
        ));
        w.add_comment(id.as_str(), service.number.as_str(), "x".into())
            .expect("commented");
        assert_eq!(
            w.ticket(id.as_str())
                .and_then(|t| t.notes.clone())
                .map(|n| n.len()),
            Some(1)
        );
    }

    #[test]
    fn a_saved_world_continues_its_sequences_and_catches_up_the_steps_missed_while_stopped() {
        let statuses = |w: &World| -> Vec<(TicketId, Status)> {
            w.tickets
                .values()
                .map(|t| (t.id.clone(), t.status.clone()))
                .collect()
        };
        let mut running = World::seeded(3);
        // Both RNGs in use before the save, so that a reseeded one would show.
        running.advance(1);
        running.allocate_id();
        let mut saved = running.saved();
        let mut restarted = World::from_saved(saved.clone()).expect("loads");
        running.advance(2);
        restarted.advance(2);
        assert_eq!(
            statuses(&restarted),
            statuses(&running),
            "same lifecycle RNG"
        );
        assert_eq!(restarted.allocate_id(), running.allocate_id(), "same ids");

        // Stopped for two and a half periods: two steps are due at the next start.
        saved.last_auto_step -= TimeDelta::seconds(150);
        let mut expected = World::from_saved(saved.clone()).expect("loads");
        expected.advance(2);
        let mut restarted = World::from_saved(saved.clone()).expect("loads");
        restarted.catch_up(Duration::from_secs(60));
        assert_eq!(statuses(&restarted), statuses(&expected));
        assert_ne!(statuses(&restarted), statuses(&World::seeded(3)));

        let mut odd = saved.clone();
        odd.clock_offset_ms = i64::MIN;
        let err = World::from_saved(odd).expect_err("refused");
        assert!(err.contains("out of range"), "{err}");

        let twice = saved.tickets[0].clone();
        saved.tickets.push(twice);
        let err = World::from_saved(saved).expect_err("refused");
        assert!(err.contains("appears twice"), "{err}");
    }

    #[test]
    fn catch_up_runs_one_step_per_period_of_sandbox_time() {
        let mut w = World::seeded(3);
        let every = Duration::from_secs(60);
        let id = w
            .tickets
            .values()
            .find(|t| t.status == Status::Submitted)
            .map(|t| t.id.clone())
            .expect("a submitted ticket");
        w.catch_up(every);
        assert_eq!(w.tickets[&id].status, Status::Submitted, "nothing due yet");
        w.clock.advance(Duration::from_secs(61));
        w.catch_up(every);
        assert_ne!(w.tickets[&id].status, Status::Submitted);
        let after_one = w.tickets[&id].clone();
        w.catch_up(every);
        assert_eq!(w.tickets[&id], after_one, "the step is not run twice");
        w.clock.advance(Duration::MAX);
        assert!(
            w.now() > after_one.created.unwrap_or_default(),
            "an absurd jump is ignored"
        );
    }
}
