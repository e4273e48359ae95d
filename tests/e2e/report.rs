//! `/ticket report` and the clocks of `/ticket show` through the real bot, the fake Discord, the
//! Orange sandbox (its clock and lifecycle) and a sled store on disk. Tickets on three services
//! go through their lifecycle one sandbox step at a time, a watcher pass after each; the
//! expected figures are then computed here from the sandbox's own tickets (their status notes),
//! not from the bot's store, and compared with the embed and the CSV.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, DurationRound, NaiveDate, TimeDelta, Utc};
use orange_ticket_bot::console::Console;
use orange_ticket_bot::domain::{NoteKind, Ticket, TicketId};
use orange_ticket_bot::render::notice::duration;
use serde_json::Value;

use crate::support::fake_discord::{CHANNEL_ID, InteractionPayload};
use crate::support::test_bot::{Answer, TestBot, ticket};
use crate::tickets::set_profile;

/// The services the tickets are opened on (the sandbox's seed), with a technical number each.
const SERVICES: [(&str, &str); 3] = [
    ("LD000000", "LD000001"),
    ("LD292264", "LD292265"),
    ("LD292306", "LD292307"),
];

/// `/ticket create` on `service`, then its form; the new ticket (linked to a new thread).
async fn open_on(bot: &TestBot, service: &str, technical: &str, description: &str) -> TicketId {
    let slash = bot
        .fake
        .inject(
            &ticket("create")
                .option("service", service)
                .option("technical", technical),
        )
        .await;
    let modal = bot.fake.wait_for_callback(&slash).await;
    let custom_id = modal["data"]["custom_id"]
        .as_str()
        .unwrap_or_else(|| panic!("a form: {modal}"))
        .to_owned();
    let submit = bot
        .fake
        .inject(&InteractionPayload::modal_submit(
            &custom_id,
            &[("description", description), ("reference", "")],
        ))
        .await;
    let answer = bot.answer_within(&submit, Duration::from_secs(10)).await;
    let content = answer.content();
    let id = content
        .strip_prefix("Ticket ")
        .and_then(|rest| rest.split_once(" opened in <#"))
        .map(|(id, _)| id)
        .unwrap_or_else(|| panic!("not a creation answer: {content}"));
    TicketId::parse(id).expect("a ticket id")
}

/// Orange's dates carry milliseconds on the wire: the bot sees them so.
fn ms(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(TimeDelta::milliseconds(1))
        .expect("truncated")
}

/// A ticket's clocks as this test reads them from the sandbox: the statuses it went through are
/// Orange's notes "Status changed to <status>: …", dated.
#[derive(Debug, Clone)]
struct Expected {
    id: String,
    service: String,
    status: String,
    opened: DateTime<Utc>,
    restored: Option<DateTime<Utc>>,
    repaired: Option<DateTime<Utc>>,
}

/// The README's rules: restored on entering restored or repaired, repaired on entering repaired
/// or on closing once restored, both forgotten when the ticket is reopened (back to ongoing).
fn expected(t: &Ticket) -> Expected {
    let opened = ms(t.created.expect("an opening date"));
    let (mut restored, mut repaired) = (None, None);
    for note in t.notes.as_deref().unwrap_or_default() {
        let Some(status) = (note.kind == NoteKind::Other("Orange comments".into()))
            .then(|| note.text.strip_prefix("Status changed to "))
            .flatten()
            .and_then(|rest| rest.split(':').next())
        else {
            continue;
        };
        let at = ms(note.date);
        match status {
            "restored" => restored = restored.or(Some(at)),
            "repaired" => {
                restored = restored.or(Some(at));
                repaired = repaired.or(Some(at));
            }
            "ongoing" => (restored, repaired) = (None, None),
            "closed" if restored.is_some() => repaired = repaired.or(Some(at)),
            _ => {}
        }
    }
    Expected {
        id: t.id.to_string(),
        service: t.service.as_ref().expect("a service").to_string(),
        status: t.status.as_wire().to_owned(),
        opened,
        restored,
        repaired,
    }
}

/// Nearest rank, the plain way: sort, take the value at rank ceil(p × n).
fn nearest_rank(mut values: Vec<TimeDelta>, p: f64) -> Option<TimeDelta> {
    values.sort();
    let rank = (p * values.len() as f64).ceil() as usize;
    values.get(rank.max(1) - 1).copied()
}

/// The figures of a group of tickets for a period `[start, end)`.
#[derive(Debug, Default, PartialEq)]
struct Group {
    opened: usize,
    restore: Vec<TimeDelta>,
    repair: Vec<TimeDelta>,
}

fn figures(tickets: &[&Expected], start: DateTime<Utc>, end: DateTime<Utc>) -> Group {
    let within = |at: &DateTime<Utc>| start <= *at && *at < end;
    Group {
        opened: tickets.iter().filter(|t| within(&t.opened)).count(),
        restore: tickets
            .iter()
            .filter_map(|t| t.restored.filter(within).map(|at| at - t.opened))
            .collect(),
        repair: tickets
            .iter()
            .filter_map(|t| t.repaired.filter(within).map(|at| at - t.opened))
            .collect(),
    }
}

/// How the embed words a set of durations.
fn words(values: &[TimeDelta], none: &str) -> String {
    match (
        nearest_rank(values.to_vec(), 0.5),
        nearest_rank(values.to_vec(), 0.9),
    ) {
        (Some(median), Some(p90)) => format!(
            "median {} · p90 {} · {} {}",
            duration(median),
            duration(p90),
            values.len(),
            if values.len() == 1 {
                "ticket"
            } else {
                "tickets"
            }
        ),
        _ => none.to_owned(),
    }
}

fn minutes(d: Option<TimeDelta>) -> String {
    d.map(|d| d.num_minutes().to_string()).unwrap_or_default()
}

fn field<'a>(embed: &'a Value, name: &str) -> &'a str {
    embed["fields"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["name"] == name))
        .and_then(|f| f["value"].as_str())
        .unwrap_or_else(|| panic!("no field {name} in {embed}"))
}

async fn ask_report(bot: &TestBot, from: NaiveDate, to: NaiveDate, csv: bool) -> Answer {
    let mut asked = ticket("report")
        .option("from", from.to_string())
        .option("to", to.to_string());
    if csv {
        asked = asked.option("csv", true);
    }
    let (_, answer) = bot.ask(&asked.in_channel(CHANNEL_ID)).await;
    answer
}

/// Checks a report's embed (and CSV) against the figures computed from `tickets`.
fn check_report(
    bot: &TestBot,
    answer: &Answer,
    tickets: &[Expected],
    from: NaiveDate,
    to: NaiveDate,
    csv: bool,
) -> usize {
    let start = from.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
    let end = (to + TimeDelta::days(1))
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc();
    let within = |at: &DateTime<Utc>| start <= *at && *at < end;
    let relevant: Vec<&Expected> = tickets
        .iter()
        .filter(|t| {
            within(&t.opened)
                || t.restored.as_ref().is_some_and(within)
                || t.repaired.as_ref().is_some_and(within)
        })
        .collect();
    assert!(answer.is_ephemeral());
    let embed = answer.embeds().first().unwrap_or_else(|| {
        panic!(
            "a report card: {}\n{:#?}",
            answer.body,
            bot.fake.state().failures
        )
    });
    assert_eq!(
        embed["title"],
        format!("Team report · {from} → {to} (UTC)"),
        "{embed}"
    );
    let all = figures(&relevant, start, end);
    assert_eq!(field(embed, "Opened"), all.opened.to_string());
    assert_eq!(
        field(embed, "Time to restore"),
        words(&all.restore, "no ticket restored in the period")
    );
    assert_eq!(
        field(embed, "Time to repair"),
        words(&all.repair, "no ticket repaired in the period")
    );
    let mut by_service: BTreeMap<&str, Vec<&Expected>> = BTreeMap::new();
    for t in &relevant {
        by_service.entry(&t.service).or_default().push(t);
    }
    for (service, group) in &by_service {
        let g = figures(group, start, end);
        assert_eq!(
            field(embed, service),
            format!(
                "Opened: {}\nRestore: {}\nRepair: {}",
                g.opened,
                words(&g.restore, "none"),
                words(&g.repair, "none")
            )
        );
    }
    assert_eq!(
        embed["fields"].as_array().map(Vec::len),
        Some(3 + by_service.len()),
        "one field per service with a ticket in the period: {embed}"
    );

    let files = bot.fake.files_of(&answer.body);
    if !csv {
        assert!(files.is_empty(), "no CSV unless asked");
        return relevant.len();
    }
    assert_eq!(files.len(), 1, "{}", answer.body);
    assert_eq!(files[0].filename, format!("report-{from}-{to}.csv"));
    assert_eq!(answer.body["attachments"][0]["filename"], files[0].filename);
    check_csv(&files[0].text(), &relevant, &all, &by_service, start, end);
    relevant.len()
}

/// The CSV's two sections: a row per ticket of the period, then a row per group of figures.
fn check_csv(
    text: &str,
    relevant: &[&Expected],
    all: &Group,
    by_service: &BTreeMap<&str, Vec<&Expected>>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) {
    let (ticket_rows, figure_rows) = text
        .split_once("\r\n\r\n")
        .expect("two sections separated by an empty line");
    let mut expected_rows = vec![
        "ticket,service,status,opened,time_open_min,still_open,restored_at,time_to_restore_min,repaired_at,time_to_repair_min,time_frozen_min".to_owned(),
    ];
    let stamp = |at: Option<DateTime<Utc>>| {
        at.map(|at| at.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_default()
    };
    let rows: Vec<&str> = ticket_rows.split("\r\n").collect();
    for t in relevant {
        // Time open and frozen come from the bot's clocks; this test checks the restore and
        // repair columns (and that the row is the ticket's).
        let row = rows
            .iter()
            .find(|r| r.starts_with(&format!("{},", t.id)))
            .unwrap_or_else(|| panic!("no row for {} in\n{text}", t.id));
        let cells: Vec<&str> = row.split(',').collect();
        assert_eq!(cells.len(), 11, "{row}");
        assert_eq!(
            [cells[0], cells[1], cells[2], cells[3]],
            [
                t.id.as_str(),
                t.service.as_str(),
                t.status.as_str(),
                stamp(Some(t.opened)).as_str()
            ],
            "{row}"
        );
        assert_eq!(
            [cells[6], cells[7], cells[8], cells[9]],
            [
                stamp(t.restored).as_str(),
                minutes(t.restored.map(|at| at - t.opened)).as_str(),
                stamp(t.repaired).as_str(),
                minutes(t.repaired.map(|at| at - t.opened)).as_str(),
            ],
            "{row}"
        );
        expected_rows.push((*row).to_owned());
    }
    assert_eq!(
        rows, expected_rows,
        "a header and one row per ticket in the period, in id order"
    );
    let summary = |name: &str, g: &Group| {
        format!(
            "{name},{},{},{},{},{},{},{}",
            g.opened,
            g.restore.len(),
            minutes(nearest_rank(g.restore.clone(), 0.5)),
            minutes(nearest_rank(g.restore.clone(), 0.9)),
            g.repair.len(),
            minutes(nearest_rank(g.repair.clone(), 0.5)),
            minutes(nearest_rank(g.repair.clone(), 0.9)),
        )
    };
    let mut expected_figures = vec![
        "service,opened,restored,restore_median_min,restore_p90_min,repaired,repair_median_min,repair_p90_min".to_owned(),
        summary("all", all),
    ];
    for (service, group) in by_service {
        expected_figures.push(summary(service, &figures(group, start, end)));
    }
    assert_eq!(
        figure_rows
            .trim_end_matches("\r\n")
            .split("\r\n")
            .collect::<Vec<_>>(),
        expected_figures
    );
}

#[tokio::test]
async fn the_report_matches_figures_computed_from_the_sandboxs_tickets() {
    let bot = TestBot::start().await;
    set_profile(&bot).await;
    let sandbox = bot.sandbox();
    let mut watcher = bot.watcher();
    let mut ours = Vec::new();
    let hour = Duration::from_secs(3600);
    // Nine tickets opened a while apart, three of them days later; the lifecycle moves every
    // open ticket one step per round, a few hours apart, and a watcher pass sees each step.
    for round in 0u32..40 {
        if round < 6 || (12..15).contains(&round) {
            let (service, technical) = SERVICES[ours.len() % SERVICES.len()];
            let id = open_on(&bot, service, technical, &format!("Report ticket {round}")).await;
            ours.push(id);
        }
        sandbox.advance_clock(
            hour * (2 + (round * 7) % 9) + Duration::from_secs(60 * u64::from(round * 13 % 60)),
        );
        sandbox.advance(1);
        let pass = watcher.poll_once().await;
        assert_eq!(pass.orange_errors, 0, "{pass:?}");
        let all_final = ours
            .iter()
            .all(|id| sandbox.ticket(id).is_some_and(|t| t.status.is_final()));
        if round >= 15 && all_final {
            break;
        }
    }
    let tickets: Vec<Expected> = ours
        .iter()
        .map(|id| expected(&sandbox.ticket(id).expect("in the sandbox")))
        .collect();
    let restored = tickets.iter().filter(|t| t.restored.is_some()).count();
    assert!(
        restored >= 3,
        "the lifecycle restored some tickets: {tickets:#?}"
    );

    let first = tickets
        .iter()
        .map(|t| t.opened)
        .min()
        .expect("tickets")
        .date_naive();
    let last = tickets
        .iter()
        .flat_map(|t| [Some(t.opened), t.restored, t.repaired])
        .flatten()
        .max()
        .expect("dates")
        .date_naive();
    // The whole time, with the CSV; then the first day and a half only, which cuts through it.
    let whole = ask_report(&bot, first, last, true).await;
    let counted = check_report(&bot, &whole, &tickets, first, last, true);
    assert_eq!(
        counted,
        tickets.len(),
        "every ticket is in the whole period"
    );
    let second = first + TimeDelta::days(1);
    let part = ask_report(&bot, first, second, false).await;
    let in_part = check_report(&bot, &part, &tickets, first, second, false);
    assert!(
        in_part < tickets.len(),
        "the later tickets are outside the first two days"
    );
    // The console runs the same command through the same core: the same figures, the same CSV
    // printed after them.
    let console = Console::new(bot.core().clone(), "ada", "report");
    let printed = console
        .execute(&format!("/ticket report from:{first} to:{last} csv:true"))
        .await
        .expect("the console answers")
        .expect("not a quit");
    let embed = &whole.embeds()[0];
    for name in ["Opened", "Time to restore", "Time to repair"] {
        let line = format!("{name}: {}\n", field(embed, name));
        assert!(printed.contains(&line), "{line:?} not in\n{printed}");
    }
    let csv = bot.fake.files_of(&whole.body)[0].text();
    let (figures, file) = printed
        .split_once(&format!("--- report-{first}-{last}.csv ---\n"))
        .unwrap_or_else(|| panic!("the CSV follows the figures:\n{printed}"));
    assert_eq!(file, csv, "the console prints the very CSV Discord got");
    assert!(figures.starts_with(&format!("== Team report · {first} → {last} (UTC) ==\n")));
    println!("{printed}");

    // A period that runs backwards is refused in words.
    let (_, backwards) = bot
        .ask(
            &ticket("report")
                .option("from", second.to_string())
                .option("to", first.to_string())
                .in_channel(CHANNEL_ID),
        )
        .await;
    assert_eq!(
        backwards.content(),
        format!(
            "The period runs backwards: `from` ({second}) comes after `to` ({first}); swap them."
        )
    );
    assert!(backwards.embeds().is_empty());
    bot.shutdown().await;
}

#[tokio::test]
async fn show_gives_a_closed_tickets_clocks_from_orange_dates() {
    use orange_ticket_bot::domain::Status;
    let bot = TestBot::start().await;
    set_profile(&bot).await;
    let sandbox = bot.sandbox();
    let mut watcher = bot.watcher();
    let (service, technical) = SERVICES[0];
    let id = open_on(&bot, service, technical, "Clock me").await;
    let opened = ms(sandbox.ticket(&id).and_then(|t| t.created).expect("opened"));
    // ongoing 1 h, frozen 3 h, ongoing 2 h, restored, 5 h later repaired, 4 h later closed.
    let steps = [
        (Status::Ongoing, 1),
        (Status::Frozen, 3),
        (Status::Ongoing, 2),
        (Status::Restored, 5),
        (Status::Repaired, 4),
        (Status::Closed, 0),
    ];
    let minute = Duration::from_secs(60);
    sandbox.advance_clock(minute * 30);
    for (status, hours_after) in steps {
        sandbox.set_status(&id, status, None).expect("status");
        assert_eq!(watcher.poll_once().await.orange_errors, 0);
        sandbox.advance_clock(minute * 60 * hours_after + minute * 7);
    }
    // Every date as the sandbox has it.
    let t = sandbox.ticket(&id).expect("ticket");
    let entered = |wire: &str| {
        t.notes
            .iter()
            .flatten()
            .filter(|n| n.text.starts_with(&format!("Status changed to {wire}:")))
            .map(|n| ms(n.date))
            .collect::<Vec<_>>()
    };
    let (frozen_at, back_at) = (entered("frozen")[0], entered("ongoing")[1]);
    let (restored_at, repaired_at, closed_at) = (
        entered("restored")[0],
        entered("repaired")[0],
        entered("closed")[0],
    );

    let (_, shown) = bot
        .ask(
            &ticket("show")
                .option("id", id.to_string())
                .in_channel(CHANNEL_ID),
        )
        .await;
    let card = &shown.embeds()[0];
    assert_eq!(field(card, "Time open"), duration(closed_at - opened));
    assert_eq!(
        field(card, "Time to restore"),
        duration(restored_at - opened)
    );
    assert_eq!(
        field(card, "Time to repair"),
        duration(repaired_at - opened)
    );
    assert_eq!(field(card, "Time frozen"), duration(back_at - frozen_at));
    // The values themselves, as the steps above made them (7 minutes of slack a step).
    assert_eq!(field(card, "Time frozen"), "3 h 7 min");
    assert_eq!(field(card, "Time to restore"), "6 h 51 min");
    println!("{card}");
    // The console shows the same clocks.
    let printed = Console::new(bot.core().clone(), "ada", "show")
        .execute(&format!("/ticket show id:{id}"))
        .await
        .expect("the console answers")
        .expect("not a quit");
    for name in [
        "Time open",
        "Time to restore",
        "Time to repair",
        "Time frozen",
    ] {
        let line = format!("{name}: {}\n", field(card, name));
        assert!(printed.contains(&line), "{line:?} not in\n{printed}");
    }

    // An open ticket says how long it has been open for, and that it is not restored yet.
    let open = open_on(&bot, service, technical, "Still open").await;
    let (_, shown) = bot
        .ask(
            &ticket("show")
                .option("id", open.to_string())
                .in_channel(CHANNEL_ID),
        )
        .await;
    let card = &shown.embeds()[0];
    assert!(
        card["fields"]
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f["name"] == "Open for")),
        "{card}"
    );
    assert_eq!(field(card, "Time to restore"), "not yet");
    bot.shutdown().await;
}
