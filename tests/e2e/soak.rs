//! The long fault scenarios (`#[ignore]`d, run on demand; the fast ones are `faults.rs`): the
//! real bot **process** against the fake Discord and the Orange sandbox for `OTB_SOAK_SECS`
//! seconds each (default 60) under one fault, while the sandbox keeps changing tickets and a
//! user asks `/ticket status` every few seconds. Afterwards every change made is in its thread
//! exactly once and every command got an answer; each scenario prints one line of figures.
//!
//! `cargo test --test e2e soak -- --ignored --nocapture --test-threads 1`

use std::collections::HashMap;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use orange_ticket_bot::sandbox::{Counters, ErrorFault, FaultConfig, Operation};

use crate::changes::Changes;
use crate::shutdown::{CREATE_MESSAGE, STARTUP, posts_by_nonce};
use crate::support::bot_process::Followed;
use crate::support::fake_discord::{FakeDiscord, Fault, Injected, InteractionPayload};

const TICKETS: usize = 8;
/// How often the loop looks at the world.
const TICK: Duration = Duration::from_millis(250);
/// Each followed ticket whose last change is posted changes with probability 1/2 this often.
const CHANGE_EVERY: Duration = Duration::from_secs(2);
const COMMAND_EVERY: Duration = Duration::from_secs(3);
/// A command answered later than this counts as unanswered.
const ANSWER_WITHIN: Duration = Duration::from_secs(15);
/// After the run: how long the last changes and answers may take.
const DRAIN: Duration = Duration::from_secs(60);
/// Orange reads.
const READS: [Operation; 3] = [
    Operation::GetTicket,
    Operation::Search,
    Operation::ApiStatus,
];

/// `OTB_SOAK_SECS`, the length of each scenario.
fn soak_duration() -> Duration {
    let secs = std::env::var("OTB_SOAK_SECS")
        .ok()
        .map(|s| s.parse().expect("OTB_SOAK_SECS: a number of seconds"))
        .unwrap_or(60);
    Duration::from_secs(secs)
}

/// One fault, kept up or repeated for the whole run.
#[derive(Debug, Clone, Copy)]
enum Scenario {
    /// Half of Orange's reads answered 503, from start to end (the drain included).
    HalfOf503,
    /// Message creation refused with 429 in bursts of `BURST_429`, one every 10 s.
    Storms429,
    /// Every Orange token expires after two calls, from start to end.
    TokenExpiry,
    /// The gateway closed (4000) every 20 s.
    GatewayDrops,
    /// Orange answers in 1.5 s (the bot waits 1 s) for 5 s out of every 15.
    SlowBursts,
}

const BURST_429: usize = 10;
const GATEWAY_EVERY: Duration = Duration::from_secs(20);
const SLOW_EVERY: Duration = Duration::from_secs(15);
const SLOW_FOR: Duration = Duration::from_secs(5);

/// What a scenario did, for its line of figures.
#[derive(Debug, Default)]
struct Injections {
    /// Bursts armed, gateway closes, slow periods.
    events: usize,
    next: Option<Duration>,
    /// For the slow periods: Orange's call count when the current one started, and the calls
    /// made during them.
    slow_since: Option<u64>,
    slow_calls: u64,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::HalfOf503 => "50% of Orange reads 503",
            Scenario::Storms429 => "429 storms on message creation",
            Scenario::TokenExpiry => "token expiry storm",
            Scenario::GatewayDrops => "gateway dropped every 20 s",
            Scenario::SlowBursts => "Orange slower than the timeout in bursts",
        }
    }

    fn env(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Scenario::SlowBursts => &[
                ("OTB__ORANGE__REQUEST_TIMEOUT_MS", "1000"),
                ("OTB__WATCHER__MAX_BACKOFF_SECS", "2"),
            ],
            _ => &[("OTB__WATCHER__MAX_BACKOFF_SECS", "2")],
        }
    }

    /// The faults that last the whole run.
    fn standing_faults(self) -> FaultConfig {
        match self {
            Scenario::HalfOf503 => {
                let half = ErrorFault {
                    rate: 0.5,
                    statuses: vec![503],
                    retry_after_secs: 0,
                };
                FaultConfig {
                    errors: READS.into_iter().map(|op| (op, half.clone())).collect(),
                    ..FaultConfig::default()
                }
            }
            Scenario::TokenExpiry => FaultConfig {
                token_expires_after_calls: Some(2),
                ..FaultConfig::default()
            },
            _ => FaultConfig::default(),
        }
    }

    /// Starts or ends a burst when one is due.
    async fn tick(self, fake: &FakeDiscord, world: &Followed, at: Duration, did: &mut Injections) {
        let due = did.next.unwrap_or_default();
        match self {
            Scenario::Storms429 if at >= due => {
                fake.fail_next(
                    CREATE_MESSAGE,
                    Fault::RateLimited {
                        retry_after: Duration::from_millis(500),
                    },
                    BURST_429,
                );
                did.events += 1;
                did.next = Some(due + Duration::from_secs(10));
            }
            // Closed only while a session is up (the next close waits for the reconnection).
            Scenario::GatewayDrops if at >= due.max(GATEWAY_EVERY / 2) && fake.has_session() => {
                fake.close_gateway(4000).await;
                did.events += 1;
                did.next = Some(at + GATEWAY_EVERY);
            }
            Scenario::SlowBursts if at >= due.max(SLOW_FOR) => {
                if did.slow_since.is_none() {
                    world.control.set_faults(FaultConfig {
                        latency_ms: 1_500,
                        ..FaultConfig::default()
                    });
                    did.slow_since = Some(world.control.counters().total_calls());
                    did.events += 1;
                    did.next = Some(at + SLOW_FOR);
                } else {
                    self.end(world, did);
                    did.next = Some(at + SLOW_EVERY - SLOW_FOR);
                }
            }
            _ => {}
        }
    }

    /// Ends a burst in progress (the standing faults stay).
    fn end(self, world: &Followed, did: &mut Injections) {
        if let Some(since) = did.slow_since.take() {
            world.control.set_faults(self.standing_faults());
            did.slow_calls += world.control.counters().total_calls() - since;
        }
    }

    /// What was injected, in words.
    fn injected(self, fake: &FakeDiscord, orange: &Counters, did: &Injections) -> String {
        match self {
            Scenario::HalfOf503 => {
                let refused: u64 = READS.iter().map(|op| orange.responses(*op, 503)).sum();
                let reads: u64 = READS.iter().map(|op| orange.calls(*op)).sum();
                format!("{refused} of {reads} reads answered 503")
            }
            Scenario::Storms429 => {
                let refused = fake
                    .requests()
                    .iter()
                    .filter(|r| r.route == Some(CREATE_MESSAGE) && r.status == 429)
                    .count();
                format!(
                    "{} bursts of {BURST_429} armed, {refused} creations answered 429",
                    did.events
                )
            }
            Scenario::TokenExpiry => {
                let expired: u64 = orange
                    .operations
                    .values()
                    .filter_map(|c| c.statuses.get(&401))
                    .sum();
                format!(
                    "{expired} calls answered 401 (token expired), {} tokens fetched",
                    orange.calls(Operation::Token)
                )
            }
            Scenario::GatewayDrops => {
                let state = fake.state();
                format!(
                    "{} gateway closes, {} identifies + {} resumes",
                    did.events, state.identifies, state.resumes
                )
            }
            Scenario::SlowBursts => format!(
                "{} slow periods, {} Orange calls answered in 1.5 s (timeout 1 s)",
                did.events, did.slow_calls
            ),
        }
    }
}

/// `/ticket status` asked every few seconds, and how long each answer took.
#[derive(Debug, Default)]
struct Commands {
    asked: Vec<(Injected, Instant)>,
    answered: HashMap<u64, Duration>,
}

impl Commands {
    /// Asks once, if a gateway session is up to carry the interaction; whether it did.
    async fn ask(&mut self, fake: &FakeDiscord) -> bool {
        if !fake.has_session() {
            return false;
        }
        let asked = fake
            .inject(&InteractionPayload::slash("ticket").sub("status"))
            .await;
        self.asked.push((asked, Instant::now()));
        true
    }

    /// Notes the answers (a message with text or a card) that came in.
    fn collect(&mut self, fake: &FakeDiscord) {
        let state = fake.state();
        for (asked, at) in &self.asked {
            if self.answered.contains_key(&asked.id) {
                continue;
            }
            let answer = state
                .interactions
                .get(&asked.id)
                .and_then(|i| i.original_message)
                .and_then(|m| state.messages.get(&m));
            if answer.is_some_and(|m| !m.content().is_empty() || !m.embeds().is_empty()) {
                self.answered.insert(asked.id, at.elapsed());
            }
        }
    }

    fn waiting(&self) -> bool {
        self.answered.len() < self.asked.len()
    }

    /// Commands with no answer in `ANSWER_WITHIN`.
    fn unanswered(&self) -> usize {
        let in_time = self.answered.values().filter(|d| **d <= ANSWER_WITHIN);
        self.asked.len() - in_time.count()
    }

    fn slowest(&self) -> Duration {
        self.answered.values().max().copied().unwrap_or_default()
    }
}

/// Runs `scenario` for the soak duration, then checks and prints its figures.
async fn soak(scenario: Scenario) {
    let length = soak_duration();
    let fake = FakeDiscord::start().await;
    let world = Followed::start(&fake, TICKETS).await;
    world.control.set_faults(scenario.standing_faults());
    let mut bot = world.spawn_bot(scenario.env());
    fake.wait_for("a gateway session", STARTUP, |_| {
        fake.has_session().then_some(())
    })
    .await;

    let (mut changes, mut commands, mut did) = (
        Changes::default(),
        Commands::default(),
        Injections::default(),
    );
    let started = Instant::now();
    let (mut next_change, mut next_command) = (Duration::ZERO, Duration::ZERO);
    while started.elapsed() < length {
        let at = started.elapsed();
        if at >= next_change {
            changes.make(&fake, &world, 2);
            next_change += CHANGE_EVERY;
        }
        if at >= next_command && commands.ask(&fake).await {
            next_command += COMMAND_EVERY;
        }
        commands.collect(&fake);
        scenario.tick(&fake, &world, at, &mut did).await;
        tokio::time::sleep(TICK).await;
    }
    scenario.end(&world, &mut did);

    // No more changes or bursts: the last changes and answers get through.
    let drain = Instant::now();
    while (!changes.all_posted(&fake, &world) || commands.waiting()) && drain.elapsed() < DRAIN {
        commands.collect(&fake);
        tokio::time::sleep(TICK).await;
    }
    let drained = drain.elapsed();
    let orange = world.control.counters();
    bot.signal(Signal::SIGTERM);
    let status = bot.wait_exit(Duration::from_secs(15)).await;

    let tally = changes.tally(&fake, &world);
    let by_nonce = posts_by_nonce(&fake.state(), &world);
    let nonce_repeats: usize = by_nonce.values().map(|n| n - 1).sum();
    let failures = fake.take_failures();
    println!(
        "soak: {} ({} s): requests Orange {}, Discord {}; faults: {}; {} changes, {} \
         notifications delivered, duplicates {}, losses {}; commands {} asked, {} answered \
         (slowest {:.1} s); drained in {:.1} s",
        scenario.name(),
        length.as_secs(),
        orange.total_calls(),
        fake.requests().len(),
        scenario.injected(&fake, &orange, &did),
        tally.changes,
        by_nonce.len(),
        tally.duplicates.max(nonce_repeats),
        tally.losses,
        commands.asked.len(),
        commands.asked.len() - commands.unanswered(),
        commands.slowest().as_secs_f64(),
        drained.as_secs_f64(),
    );
    if tally.losses > 0 || tally.duplicates > 0 {
        changes.explain(&fake, &world);
    }
    assert!(status.success(), "{status}:\n{}", bot.log().join("\n"));
    assert!(failures.is_empty(), "the fake recorded {failures:#?}");
    assert_eq!((tally.duplicates, tally.losses, nonce_repeats), (0, 0, 0));
    assert_eq!(by_nonce.len(), tally.changes, "one notification per change");
    assert_eq!(commands.unanswered(), 0, "commands left unanswered");
    assert!(tally.changes > 0 && !commands.asked.is_empty());
    world.orange.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "minutes long: the soak command runs it"]
async fn soak_half_of_orange_reads_503() {
    soak(Scenario::HalfOf503).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "minutes long: the soak command runs it"]
async fn soak_429_storms_on_message_creation() {
    soak(Scenario::Storms429).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "minutes long: the soak command runs it"]
async fn soak_token_expiry_storm() {
    soak(Scenario::TokenExpiry).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "minutes long: the soak command runs it"]
async fn soak_gateway_dropped_repeatedly() {
    soak(Scenario::GatewayDrops).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "minutes long: the soak command runs it"]
async fn soak_orange_slower_than_the_timeout_in_bursts() {
    soak(Scenario::SlowBursts).await;
}
