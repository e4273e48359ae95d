//! The seeded account: products, service numbers, technical numbers and a history of tickets,
//! all derived from the seed. Dates are relative to the start of the current UTC day, so two
//! sandboxes started the same day with the same seed hold identical data.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};

use super::state::{default_reason, transition};
use crate::domain::{
    ContactMedium, Note, NoteKind, Party, Service, ServiceNumber, Status, StatusChange,
    TechnicalNumber, Ticket, TicketId,
};

const PRODUCTS: [(&str, &str); 4] = [
    ("IPL", "International Private Line"),
    ("BVPN", "Business VPN Galerie"),
    ("ETHL", "Ethernet Link International"),
    ("IPT", "IP Transit"),
];

const REPORTERS: [(&str, &str); 6] = [
    ("John Doe", "john.doe@example.com"),
    ("Jane Smith", "jane.smith@example.com"),
    ("Ana Souza", "ana.souza@example.com"),
    ("Kenji Sato", "kenji.sato@example.com"),
    ("Priya Patel", "priya.patel@example.com"),
    ("Lars Nilsson", "lars.nilsson@example.com"),
];

const DESCRIPTIONS: [&str; 8] = [
    "Link down since this morning, no light on the customer side",
    "High packet loss (about 8%) towards the Paris PoP",
    "Intermittent flapping of the BGP session",
    "Latency doubled since the last maintenance window",
    "CRC errors on the access port",
    "Customer reports total loss of service at the Frankfurt site",
    "Jitter above SLA on the voice VLAN",
    "Throughput capped at half the contracted bandwidth",
];

const ORANGE_NOTES: [(&str, &str); 6] = [
    (
        "Inward customer comments",
        "Customer confirms the issue is still present",
    ),
    ("Orange comments", "Remote tests launched on the access"),
    ("Orange comments", "Field engineer dispatched to the site"),
    (
        "Inward customer comments",
        "Customer available for tests until 18:00 CET",
    ),
    (
        "Diagnosis",
        "Fault located on the local loop provider's segment",
    ),
    ("Orange comments", "Escalated to the transmission team"),
];

/// The generated account.
#[derive(Debug)]
pub(crate) struct Seeded {
    pub services: Vec<Service>,
    pub tickets: Vec<Ticket>,
    /// The id the first ticket created through the API gets.
    pub next_id: u64,
}

/// Orange's customer service centre, a party on every ticket.
pub(crate) fn service_centre() -> Party {
    let medium = |kind: &str, value: &str| ContactMedium {
        kind: kind.into(),
        value: value.into(),
    };
    Party {
        role: "csc".into(),
        name: "Customer Service Center International Wholesale".into(),
        media: vec![
            medium("universalPhone", "+33 1 57 36 00 00"),
            medium("usPhone", "+1 888 000 0000"),
            medium("frPhone", "+33 1 57 36 00 01"),
            medium("directPhone", "+33 1 57 36 00 02"),
            medium("email", "csciw@orange.com"),
            medium("phone", "+33 1 57 36 00 00"),
        ],
    }
}

/// Generates the account of `seed`; `now` only fixes the day the history ends on.
pub(crate) fn generate(seed: u64, now: DateTime<Utc>) -> Seeded {
    let mut rng = fastrand::Rng::with_seed(seed);
    let services = services(&mut rng);
    let day = now
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map_or(now, |d| d.and_utc());

    let count = 12 + rng.usize(..=4);
    let mut created: Vec<DateTime<Utc>> = (0..count)
        // Spread over the past five weeks, to the minute, as Orange's dates are.
        .map(|_| day - TimeDelta::minutes(rng.i64(60..=35 * 24 * 60)))
        .collect();
    created.sort();

    let mut id = rng.u64(1_000_000_000..=1_900_000_000);
    let mut tickets = Vec::with_capacity(count);
    for (i, created) in created.into_iter().enumerate() {
        // Every status appears at least once; the rest at random.
        let status = Status::KNOWN
            .get(i)
            .cloned()
            .unwrap_or_else(|| Status::KNOWN[rng.usize(..Status::KNOWN.len())].clone());
        let service = &services[rng.usize(..services.len())];
        let technical =
            service.technical_numbers[rng.usize(..service.technical_numbers.len())].clone();
        tickets.push(ticket(
            &mut rng, id, created, day, status, service, technical, i,
        ));
        id += rng.u64(1..=500);
    }
    let example = documented_example(&services[0], day);
    // New ids come after every seeded one, the documented example's included.
    let next_id = (id + rng.u64(1..=100)).max(1_234_567_891);
    tickets.push(example);
    Seeded {
        services,
        tickets,
        next_id,
    }
}

/// The ticket of Orange's getting-started page (`1234567890` on `LD000000`/`LD000001`), so the
/// page's examples work against the sandbox as written.
fn documented_example(service: &Service, day: DateTime<Utc>) -> Ticket {
    let created = day - TimeDelta::days(3);
    Ticket {
        id: TicketId::parse("1234567890").expect("a valid ticket id"),
        status: Status::Ongoing,
        description: None,
        created: Some(created),
        service: Some(service.number.clone()),
        technical: service.technical_numbers.first().cloned(),
        resolution_date: None,
        status_change: StatusChange::default(),
        external_id: Some("Customer reference".into()),
        parties: vec![
            service_centre(),
            Party {
                role: "depositor".into(),
                name: "John Doe".into(),
                media: vec![ContactMedium {
                    kind: "phone".into(),
                    value: "+33 1234567890".into(),
                }],
            },
        ],
        notes: Some(vec![Note {
            date: created + TimeDelta::seconds(38),
            kind: NoteKind::InwardCustomerComments,
            text: "Comment 1".into(),
        }]),
        priority: None,
        escalation_level: Some("0".into()),
        attachment: None,
        extra: Default::default(),
    }
}

fn services(rng: &mut fastrand::Rng) -> Vec<Service> {
    let products = 3 + rng.usize(..=1);
    let mut number = rng.u32(100_000..=700_000);
    // The service of Orange's getting-started page comes first, so its examples work as written.
    let mut services = vec![Service {
        number: ServiceNumber::parse("LD000000").expect("a valid service number"),
        product_type: Some("SERVICE_CODE".into()),
        label: Some("Name of the service".into()),
        technical_numbers: vec![TechnicalNumber::parse("LD000001").expect("a valid number")],
    }];
    for (product_type, label) in PRODUCTS.iter().take(products) {
        for _ in 0..2 + rng.usize(..=1) {
            let service = format!("LD{number:06}");
            let technical = (1..=1 + rng.u32(..3))
                .map(|k| TechnicalNumber::parse(&format!("LD{:06}", number + k)))
                .collect::<Result<Vec<_>, _>>();
            if let (Ok(service), Ok(technical_numbers)) =
                (ServiceNumber::parse(&service), technical)
            {
                services.push(Service {
                    number: service,
                    product_type: Some((*product_type).to_owned()),
                    label: Some((*label).to_owned()),
                    technical_numbers,
                });
            }
            number += 10 + rng.u32(..90);
        }
    }
    services
}

#[allow(clippy::too_many_arguments)] // a private builder; a struct would only rename the list
fn ticket(
    rng: &mut fastrand::Rng,
    id: u64,
    created: DateTime<Utc>,
    day: DateTime<Utc>,
    status: Status,
    service: &Service,
    technical: TechnicalNumber,
    index: usize,
) -> Ticket {
    let (name, email) = REPORTERS[rng.usize(..REPORTERS.len())];
    let mut media = Vec::new();
    if rng.bool() {
        media.push(ContactMedium {
            kind: "email".into(),
            value: email.into(),
        });
    }
    media.push(ContactMedium {
        kind: "phone".into(),
        value: format!(
            "+33 1 {:02} {:02} {:02} {:02}",
            rng.u8(..100),
            rng.u8(..100),
            rng.u8(..100),
            rng.u8(..100)
        ),
    });
    let depositor = Party {
        role: "depositor".into(),
        name: name.into(),
        media,
    };
    let mut ticket = Ticket {
        id: TicketId::parse(&format!("{id:010}")).expect("ten digits are a valid ticket id"),
        status: Status::Submitted,
        // One ticket without a description, which Orange writes as the string "null".
        description: (index != 3).then(|| DESCRIPTIONS[rng.usize(..DESCRIPTIONS.len())].to_owned()),
        created: Some(created),
        service: Some(service.number.clone()),
        technical: Some(technical),
        resolution_date: None,
        status_change: StatusChange::default(),
        external_id: rng.bool().then(|| format!("CR-{:05}", rng.u32(..100_000))),
        parties: vec![service_centre(), depositor],
        notes: Some(Vec::new()),
        priority: None,
        escalation_level: Some("0".into()),
        attachment: None,
        extra: BTreeMap::new(),
    };
    // Replay a plausible path to the target status, between creation and the start of today.
    let path = path_to(&status);
    let span = (day - created).num_minutes().max(path.len() as i64 + 1);
    let mut at = created;
    for (k, step) in path.into_iter().enumerate() {
        let remaining = (span - (at - created).num_minutes()).max(1);
        at += TimeDelta::minutes(rng.i64(1..=remaining / (6 - k as i64).max(2)));
        transition(
            &mut ticket,
            step.clone(),
            default_reason(&step).to_owned(),
            at,
        );
    }
    for _ in 0..1 + rng.usize(..3) {
        let (kind, text) = ORANGE_NOTES[rng.usize(..ORANGE_NOTES.len())];
        let minutes = (at - created).num_minutes().max(1);
        let date = created + TimeDelta::minutes(rng.i64(0..=minutes));
        if let Some(notes) = ticket.notes.as_mut() {
            notes.push(Note {
                date,
                kind: NoteKind::from_wire(kind),
                text: text.into(),
            });
        }
    }
    if let Some(notes) = ticket.notes.as_mut() {
        notes.sort_by_key(|n| n.date);
    }
    ticket
}

/// The statuses a ticket passes through to reach `target`, first step after `submitted`.
fn path_to(target: &Status) -> Vec<Status> {
    use Status::*;
    match target {
        Submitted | Other(_) => vec![],
        InQualification => vec![InQualification],
        Errored => vec![Errored],
        Ongoing => vec![InQualification, Ongoing],
        Frozen => vec![InQualification, Ongoing, Frozen],
        Restored => vec![InQualification, Ongoing, Restored],
        Repaired => vec![InQualification, Ongoing, Repaired],
        Closed => vec![InQualification, Ongoing, Restored, Closed],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orange::convert::{parse_services_body, parse_ticket_body};
    use crate::orange::wire::TicketEnvelope;
    use crate::sandbox::encode::{services_to_wire, ticket_to_wire};

    fn at_noon() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).expect("a valid timestamp")
    }

    #[test]
    fn the_seed_meets_the_minimums_and_covers_every_status() {
        for seed in [0, 1, 42, u64::MAX] {
            let s = generate(seed, at_noon());
            let products: std::collections::BTreeSet<_> =
                s.services.iter().map(|s| s.product_type.clone()).collect();
            assert!(products.len() >= 3 && s.services.len() >= 5, "seed {seed}");
            assert!(
                s.services
                    .iter()
                    .all(|s| (1..=3).contains(&s.technical_numbers.len()))
            );
            assert!(s.tickets.len() >= 12);
            for status in Status::KNOWN {
                assert!(s.tickets.iter().any(|t| t.status == status), "{status:?}");
            }
            assert!(s.tickets.iter().all(|t| t.created < Some(at_noon())));
            let last = s.tickets.iter().map(|t| t.id.clone()).max();
            assert!(Some(format!("{:010}", s.next_id)) > last.map(String::from));
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_account() {
        let (a, b) = (generate(7, at_noon()), generate(7, at_noon()));
        assert_eq!((a.services, a.tickets), (b.services, b.tickets));
        assert_ne!(
            generate(8, at_noon()).tickets,
            generate(7, at_noon()).tickets
        );
    }

    #[test]
    fn seeded_data_round_trips_through_orange_s_payloads() {
        let s = generate(42, at_noon());
        let body = serde_json::to_string(&services_to_wire(&s.services)).expect("serializes");
        assert_eq!(parse_services_body(&body).expect("reads back"), s.services);
        for t in &s.tickets {
            let body = serde_json::to_string(&TicketEnvelope {
                ticket: ticket_to_wire(t),
            })
            .expect("serializes");
            assert_eq!(&parse_ticket_body(&body).expect("reads back"), t);
        }
    }
}
