//! Scale benchmark of the watcher (issue 9): N followed open tickets in an in-process sandbox with
//! injected latency, a share of them changing while passes run every interval; prints pass time,
//! Orange calls per pass by operation (the sandbox's counters), detection latency (change in the
//! sandbox -> delivery by the notifier), CPU time and peak RSS. Prints figures; not a test.
//!
//! `cargo run --release --example watcher_bench -- [--tickets N] [--latency-ms 20]
//!  [--changed-percent 1] [--passes 5] [--interval-secs 60] [--sizes 1000,10000,50000] [--feed]`
//!
//! - `world`: the sandbox on its own runtime, the core, the tickets and their links;
//! - `harness`: the recording notifier and the changer; `measure`: CPU, RSS, quantiles.

mod harness;
mod measure;
mod world;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use orange_ticket_bot::config::Settings;
use orange_ticket_bot::domain::{Conversation, Subscription};
use orange_ticket_bot::sandbox::{Counters, FaultConfig, Operation};
use orange_ticket_bot::watcher::{PassOutcome, Watcher, WatcherOptions};
use tokio_util::sync::CancellationToken;

use harness::{Changer, RecordingNotifier, Shared};
use measure::{mib, quantile, secs};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// What a child run prints for the parent's summary table.
const ROW: &str = "summary-row: ";

#[derive(Debug, Clone, Parser)]
#[command(about = "Scale benchmark of the watcher against the in-process sandbox")]
struct Args {
    /// Followed open tickets.
    #[arg(long, default_value_t = 10_000)]
    tickets: usize,
    /// Several sizes, each run in its own process (so each has its own peak RSS), e.g.
    /// 1000,10000,50000; overrides --tickets.
    #[arg(long, value_delimiter = ',')]
    sizes: Vec<usize>,
    /// Latency the sandbox adds to every API call, in milliseconds.
    #[arg(long, default_value_t = 20)]
    latency_ms: u64,
    /// Share of the tickets changed per pass (per interval plus pass time), in percent.
    #[arg(long, default_value_t = 1.0)]
    changed_percent: f64,
    /// Passes to run: the first on an unchanged account, then tickets change until the last,
    /// which collects what is left.
    #[arg(long, default_value_t = 5)]
    passes: usize,
    /// Wait between passes, in seconds (default: `watcher.interval_secs`).
    #[arg(long)]
    interval_secs: Option<u64>,
    /// Calls in flight while creating and linking the tickets.
    #[arg(long, default_value_t = 32)]
    setup_concurrency: usize,
    /// Also follow the team's tickets from a feed channel (adds the feed pass).
    #[arg(long)]
    feed: bool,
}

fn main() -> Result<(), Error> {
    let args = Args::parse();
    if args.sizes.is_empty() {
        let runtime = tokio::runtime::Runtime::new()?;
        let row = runtime.block_on(run(&args))?;
        println!("{ROW}{row}");
        return Ok(());
    }
    let mut rows = Vec::new();
    for size in &args.sizes {
        rows.push(run_child(&args, *size)?);
    }
    println!("\n{}", table_header());
    for row in rows {
        println!("{row}");
    }
    Ok(())
}

/// Runs one size in a child process, echoing its report; returns its summary row.
fn run_child(args: &Args, size: usize) -> Result<String, Error> {
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.args(["--tickets", &size.to_string()])
        .args(["--latency-ms", &args.latency_ms.to_string()])
        .args(["--changed-percent", &args.changed_percent.to_string()])
        .args(["--passes", &args.passes.to_string()])
        .args(["--setup-concurrency", &args.setup_concurrency.to_string()]);
    if let Some(i) = args.interval_secs {
        cmd.args(["--interval-secs", &i.to_string()]);
    }
    if args.feed {
        cmd.arg("--feed");
    }
    let mut child = cmd.stdout(Stdio::piped()).spawn()?;
    let mut row = None;
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines() {
            let line = line?;
            match line.strip_prefix(ROW) {
                Some(r) => row = Some(r.to_owned()),
                None => println!("{line}"),
            }
        }
    }
    let status = child.wait()?;
    match row {
        Some(row) if status.success() => Ok(row),
        _ => Err(format!("the run with {size} tickets failed ({status})").into()),
    }
}

/// One pass as measured around `poll_once`.
#[derive(Debug)]
struct Pass {
    outcome: PassOutcome,
    took: Duration,
    calls: Calls,
    cpu: Duration,
    sandbox_cpu: Duration,
}

/// Orange calls of one pass, from the sandbox's counters.
#[derive(Debug, Default, Clone, Copy)]
struct Calls {
    search: u64,
    get: u64,
    token: u64,
    other: u64,
}

impl Calls {
    fn between(before: &Counters, after: &Counters) -> Self {
        let d = |op| after.calls(op) - before.calls(op);
        let all = after.total_calls() - before.total_calls();
        let (search, get, token) = (
            d(Operation::Search),
            d(Operation::GetTicket),
            d(Operation::Token),
        );
        Calls {
            search,
            get,
            token,
            other: all - search - get - token,
        }
    }

    fn total(&self) -> u64 {
        self.search + self.get + self.token + self.other
    }
}

async fn run(args: &Args) -> Result<String, Error> {
    let settings = Settings::defaults()?;
    let mut options = WatcherOptions::from_settings(&settings);
    if let Some(s) = args.interval_secs {
        options.interval = Duration::from_secs(s);
    }
    let n = args.tickets;
    let per_pass = ((n as f64) * args.changed_percent / 100.0).ceil() as usize;
    println!(
        "== {n} followed open tickets, {} ms sandbox latency, {per_pass} changed per pass ({} %), \
         {} passes, interval {} s, concurrency {}, quiet gets {} per pass, gets at most {} per \
         pass, page size {}, feed {}",
        args.latency_ms,
        args.changed_percent,
        args.passes,
        options.interval.as_secs_f64(),
        options.concurrency,
        options.quiet_gets_per_pass,
        options.max_gets_per_pass,
        settings.orange.search.page_size,
        if args.feed { "on" } else { "off" },
    );
    println!(
        "machine: {} cores, load average {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        measure::load_average()
    );

    let sandbox = world::Sandbox::start(&settings).await?;
    let bot = world::bot(settings.clone(), &sandbox, n, args.setup_concurrency).await?;
    if args.feed {
        bot.core
            .store()
            .subscribe(&Conversation::discord(1), &Subscription::default())
            .await?;
    }
    let control = sandbox.control();
    let setup_kib = measure::vm_kib("VmRSS");
    println!(
        "set-up: {n} tickets created in {}, read and linked in {}; {} tickets at Orange; RSS {}",
        secs(bot.created_in),
        secs(bot.linked_in),
        control.ticket_count(),
        mib(setup_kib),
    );
    control.set_faults(FaultConfig {
        latency_ms: args.latency_ms,
        ..FaultConfig::default()
    });

    let timeline = Shared::default();
    let notifier = RecordingNotifier {
        timeline: timeline.clone(),
    };
    let mut watcher = Watcher::new(bot.core.clone(), notifier, options);
    let interval_ms = u64::try_from(options.interval.as_millis()).unwrap_or(u64::MAX);
    let period = Arc::new(AtomicU64::new(interval_ms.max(1)));
    let changer = Changer {
        control: control.clone(),
        tickets: Arc::new(bot.tickets.clone()),
        per_period: per_pass,
        period_ms: period.clone(),
        timeline: timeline.clone(),
    };
    let stop = CancellationToken::new();
    let mut changing = None;

    println!(
        "pass  time      search  get   token  other  calls  bound   changes  delivered  \
         cpu(bot)  cpu(sandbox)"
    );
    let run_cpu = measure::process_cpu();
    let mut passes = Vec::new();
    for i in 1..=args.passes {
        if i == args.passes {
            // The last pass collects what is left: nothing changes during it.
            stop.cancel();
        }
        let pass = measure_pass(&mut watcher, &control).await;
        let bound = pass.outcome.tracked as u64 + pass.calls.search;
        println!(
            "{i:<5} {:<9} {:<7} {:<5} {:<6} {:<6} {:<6} {:<7} {:<8} {:<10} {:<9} {}",
            secs(pass.took),
            pass.calls.search,
            pass.calls.get,
            pass.calls.token,
            pass.calls.other,
            pass.calls.total(),
            bound,
            pass.outcome.changes,
            pass.outcome.delivered,
            secs(pass.cpu.saturating_sub(pass.sandbox_cpu)),
            secs(pass.sandbox_cpu),
        );
        // Changes run at `per_pass` per (pass time + interval), during passes and between them.
        let took_ms = u64::try_from(pass.took.as_millis()).unwrap_or(0);
        period.store(
            interval_ms.saturating_add(took_ms).max(1),
            Ordering::Relaxed,
        );
        passes.push(pass);
        if i < args.passes {
            // The first pass runs on an unchanged account: the cold figures, and the period.
            if changing.is_none() {
                changing = Some(tokio::spawn(changer.clone().run(stop.clone())));
            }
            tokio::time::sleep(options.interval).await;
        }
    }
    let run_cpu = measure::process_cpu().saturating_sub(run_cpu);
    let made = match changing {
        Some(task) => task.await.unwrap_or(0),
        None => 0,
    };
    let mut report = Report::new(&passes, &timeline, made, options.interval, run_cpu);
    report.setup_kib = setup_kib;
    report.print();
    sandbox.stop().await;
    Ok(report.row(n))
}

async fn measure_pass(
    watcher: &mut Watcher<RecordingNotifier>,
    control: &orange_ticket_bot::sandbox::SandboxControl,
) -> Pass {
    let before = control.counters();
    let (cpu, sandbox_cpu) = (measure::process_cpu(), measure::sandbox_cpu());
    let started = Instant::now();
    let outcome = watcher.poll_once().await;
    let took = started.elapsed();
    let cpu = measure::process_cpu().saturating_sub(cpu);
    let sandbox_cpu = measure::sandbox_cpu().saturating_sub(sandbox_cpu);
    Pass {
        calls: Calls::between(&before, &control.counters()),
        outcome,
        took,
        cpu,
        sandbox_cpu,
    }
}

/// The figures of one run.
#[derive(Debug)]
struct Report {
    took: Vec<Duration>,
    calls: Vec<u64>,
    searches: Vec<u64>,
    gets: Vec<u64>,
    bounds: Vec<u64>,
    over_bound: usize,
    errors: usize,
    latencies: Vec<Duration>,
    changes: usize,
    missing: usize,
    deliveries: usize,
    duplicates: usize,
    interval: Duration,
    bot_cpu: Vec<Duration>,
    sandbox_cpu: Vec<Duration>,
    run_cpu: Duration,
    peak_kib: Option<u64>,
    /// RSS once the tickets exist, before the first pass.
    setup_kib: Option<u64>,
}

impl Report {
    fn new(
        passes: &[Pass],
        timeline: &Shared,
        changes: usize,
        interval: Duration,
        run_cpu: Duration,
    ) -> Self {
        let t = timeline.lock();
        let (latencies, missing) = harness::latencies(&t);
        Report {
            took: passes.iter().map(|p| p.took).collect(),
            calls: passes.iter().map(|p| p.calls.total()).collect(),
            searches: passes.iter().map(|p| p.calls.search).collect(),
            gets: passes.iter().map(|p| p.calls.get).collect(),
            bounds: passes
                .iter()
                .map(|p| p.outcome.tracked as u64 + p.calls.search)
                .collect(),
            over_bound: passes
                .iter()
                .filter(|p| p.calls.total() > p.outcome.tracked as u64 + p.calls.search)
                .count(),
            errors: passes
                .iter()
                .map(|p| p.outcome.orange_errors + p.outcome.store_errors)
                .sum(),
            latencies,
            changes,
            missing,
            deliveries: t.deliveries,
            duplicates: t.duplicates,
            interval,
            bot_cpu: passes
                .iter()
                .map(|p| p.cpu.saturating_sub(p.sandbox_cpu))
                .collect(),
            sandbox_cpu: passes.iter().map(|p| p.sandbox_cpu).collect(),
            run_cpu,
            peak_kib: measure::vm_kib("VmHWM"),
            setup_kib: None,
        }
    }

    fn print(&self) {
        let q = |v: &[Duration], at: f64| quantile(v, at).map_or_else(|| "-".into(), secs);
        println!(
            "pass time: first {} / median {} / max {}",
            self.took.first().copied().map_or_else(|| "-".into(), secs),
            q(&self.took, 0.5),
            q(&self.took, 1.0),
        );
        println!(
            "Orange calls per pass: median {} / max {}; passes over the bound (tracked + search \
             pages): {}; Orange or store errors: {}",
            quantile(&self.calls, 0.5).unwrap_or(0),
            quantile(&self.calls, 1.0).unwrap_or(0),
            self.over_bound,
            self.errors,
        );
        let max = quantile(&self.latencies, 1.0).unwrap_or_default();
        println!(
            "detection latency ({} changes, {} missed, {} deliveries, {} duplicates): \
             median {} / p95 {} / max {}; max - interval = {} (bound: 2 s, {})",
            self.changes,
            self.missing,
            self.deliveries,
            self.duplicates,
            q(&self.latencies, 0.5),
            q(&self.latencies, 0.95),
            secs(max),
            signed_secs(max, self.interval),
            if max <= self.interval + Duration::from_secs(2) {
                "met"
            } else {
                "EXCEEDED"
            },
        );
        println!(
            "CPU per pass (user+sys): bot median {} / max {}, sandbox median {}; whole run \
             (passes, waits, changer, sandbox) {}",
            q(&self.bot_cpu, 0.5),
            q(&self.bot_cpu, 1.0),
            q(&self.sandbox_cpu, 0.5),
            secs(self.run_cpu),
        );
        println!(
            "peak RSS (VmHWM, bot + sandbox + harness): {}; RSS before the first pass {}",
            mib(self.peak_kib),
            mib(self.setup_kib),
        );
    }

    fn row(&self, n: usize) -> String {
        let q = |v: &[Duration], at: f64| quantile(v, at).map_or_else(|| "-".into(), secs);
        let median = |v: &[u64]| quantile(v, 0.5).unwrap_or(0);
        format!(
            "| {n} | {} / {} / {} | {} ({} search + {} get) | {} | {} / {} / {} | {} | {} | {} ({}) |",
            self.took.first().copied().map_or_else(|| "-".into(), secs),
            q(&self.took, 0.5),
            q(&self.took, 1.0),
            median(&self.calls),
            median(&self.searches),
            median(&self.gets),
            median(&self.bounds),
            q(&self.latencies, 0.5),
            q(&self.latencies, 0.95),
            q(&self.latencies, 1.0),
            q(&self.bot_cpu, 0.5),
            q(&self.sandbox_cpu, 0.5),
            mib(self.peak_kib),
            mib(self.setup_kib),
        )
    }
}

fn table_header() -> String {
    "| tickets | pass time first / median / max | Orange calls per pass, median | bound \
     (tracked + pages) | detection latency median / p95 / max | CPU per pass, bot | CPU per \
     pass, sandbox | peak RSS (before the first pass) |\n|---|---|---|---|---|---|---|---|"
        .into()
}

/// `a - b`, with its sign.
fn signed_secs(a: Duration, b: Duration) -> String {
    if a >= b {
        format!("+{:.2} s", (a - b).as_secs_f64())
    } else {
        format!("-{:.2} s", (b - a).as_secs_f64())
    }
}
