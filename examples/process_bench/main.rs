//! The bot as a process (issue 11): time from start to READY, idle memory, memory with N
//! conversation links and their snapshots in the store, and the release binary's size. The
//! release binary runs in its own process (`run` mode, configured through the environment as in
//! production) against the fake Discord of the e2e tests and an Orange sandbox, both served by
//! this process on loopback. Prints figures; not a test.
//!
//! `cargo build --release && cargo run --release --example process_bench -- [--starts 10]
//!  [--links 10000] [--settle-secs 5] [--bin target/release/orange-ticket-bot]`
//!
//! - `child`: spawning the bot, its milestones as the fake saw them, its /proc figures.

// The e2e tests' fake Discord (the rest of tests/support is not needed here).
#[path = "../../tests/support/fake_discord/mod.rs"]
#[allow(dead_code, unused_imports, reason = "shared with the e2e tests")]
mod fake_discord;

#[path = "../watcher_bench/measure.rs"]
#[allow(
    dead_code,
    reason = "shared with watcher_bench: this benchmark reads RSS and quantiles"
)]
mod measure;

#[path = "../watcher_bench/world.rs"]
#[allow(
    dead_code,
    reason = "shared with watcher_bench: this benchmark seeds a store with it"
)]
mod world;

mod child;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Parser;
use fake_discord::FakeDiscord;
use orange_ticket_bot::config::Settings;

use child::{Milestones, Target};
use measure::{load_average, mib, quantile};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Targets of issue 11.
const READY_TARGET: Duration = Duration::from_millis(300);
const IDLE_TARGET_MB: f64 = 40.0;
const LINKED_TARGET_MB: f64 = 80.0;

#[derive(Debug, Parser)]
#[command(about = "Start-up time, memory and size of the release binary")]
struct Args {
    /// Starts to time (each on a fresh store).
    #[arg(long, default_value_t = 10)]
    starts: usize,
    /// Links (each with its ticket's snapshot) for the second memory figure.
    #[arg(long, default_value_t = 10_000)]
    links: usize,
    /// Time left to the bot after it registered its commands before its memory is read; it
    /// waits longer while its first watcher pass still calls Orange.
    #[arg(long, default_value_t = 5)]
    settle_secs: u64,
    /// The bot's binary (default: `orange-ticket-bot` beside this example's directory).
    #[arg(long)]
    bin: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args = Args::parse();
    let binary = match args.bin.clone() {
        Some(bin) => bin,
        None => default_binary()?,
    };
    if !binary.is_file() {
        return Err(format!(
            "{} not found: build it first (cargo build --release)",
            binary.display()
        )
        .into());
    }
    // The bot runs in a working directory of its own: a relative path would not reach it.
    let binary = binary.canonicalize()?;
    println!(
        "process benchmark of {}; load average {}",
        binary.display(),
        load_average()
    );
    binary_size(&binary)?;
    let workdir = tempfile::tempdir()?;
    let settings = Settings::defaults()?;
    let sandbox = world::Sandbox::start(&settings).await?;
    // The sandbox owns a runtime, which must not be dropped inside this one: stop it first, also
    // when a step fails, so the step's own error is what gets printed.
    let measured = measure_all(&binary, &args, &settings, &sandbox, workdir.path()).await;
    sandbox.stop().await;
    measured
}

/// Start-up, then memory idle and with `args.links` links.
async fn measure_all(
    binary: &Path,
    args: &Args,
    settings: &Settings,
    sandbox: &world::Sandbox,
    workdir: &Path,
) -> Result<(), Error> {
    // No tickets: the sandbox's URLs in the settings, for fresh stores.
    let empty = world::bot(settings.clone(), sandbox, 0, 1).await?;
    let orange = empty.core.settings().clone();
    drop(empty);

    startup(binary, &orange, workdir, args.starts).await?;
    let settle = Duration::from_secs(args.settle_secs);
    let mut fresh = orange.clone();
    fresh.store.path = workdir.join("idle.sled");
    let idle = memory(binary, &fresh, workdir, sandbox, settle).await?;
    report_memory("idle, empty store", &idle, IDLE_TARGET_MB);

    let started = Instant::now();
    let seeded = world::bot(settings.clone(), sandbox, args.links, 32).await?;
    // Close the store before the bot opens it; the directory lives on in `seeded`.
    let world::Bot { core, .. } = seeded;
    core.store().flush().await?;
    let linked = core.settings().clone();
    drop(core);
    println!(
        "\nseeded {} tickets in the sandbox, each linked to a thread with its snapshot, in {:.1} s",
        args.links,
        started.elapsed().as_secs_f64()
    );
    let with_links = memory(binary, &linked, workdir, sandbox, settle).await?;
    let label = format!("{} links and snapshots", args.links);
    report_memory(&label, &with_links, LINKED_TARGET_MB);
    Ok(())
}

/// `target/release/orange-ticket-bot` when this runs as `target/release/examples/process_bench`.
fn default_binary() -> Result<PathBuf, Error> {
    let exe = std::env::current_exe()?;
    let release = exe
        .parent()
        .and_then(Path::parent)
        .ok_or("cannot tell the target directory")?;
    Ok(release.join("orange-ticket-bot"))
}

/// The binary's size on disk, and stripped if `strip` is available.
fn binary_size(binary: &Path) -> Result<(), Error> {
    let size = std::fs::metadata(binary)?.len();
    println!("\nrelease binary: {} ({size} bytes)", mib_of_bytes(size));
    let dir = tempfile::tempdir()?;
    let copy = dir.path().join("stripped");
    std::fs::copy(binary, &copy)?;
    match std::process::Command::new("strip").arg(&copy).status() {
        Ok(status) if status.success() => {
            let stripped = std::fs::metadata(&copy)?.len();
            println!(
                "stripped (strip):    {} ({stripped} bytes)",
                mib_of_bytes(stripped)
            );
        }
        Ok(status) => println!("stripped: strip failed ({status})"),
        Err(e) => println!("stripped: strip not available ({e})"),
    }
    Ok(())
}

fn mib_of_bytes(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / 1_048_576.0)
}

/// Starts the bot `starts` times on fresh stores and prints when it reached each milestone.
async fn startup(binary: &Path, orange: &Settings, dir: &Path, starts: usize) -> Result<(), Error> {
    let mut runs: Vec<Milestones> = Vec::with_capacity(starts);
    for i in 0..starts {
        let fake = FakeDiscord::start().await;
        let mut settings = orange.clone();
        settings.store.path = dir.join(format!("start-{i}.sled"));
        let target = Target::new(binary, &fake, &settings, dir);
        let mut bot = child::Bot::spawn(&target)?;
        let reached = child::milestones(&fake, &bot).await;
        bot.still_running(dir)?;
        drop(bot);
        note_failures(&fake);
        runs.push(reached);
    }
    println!("\nstart → READY, {starts} starts on fresh stores (spawn to the fake's frame):");
    let line = |name: &str, pick: fn(&Milestones) -> Duration| {
        let values: Vec<Duration> = runs.iter().map(pick).collect();
        let q = |p| quantile(&values, p).map_or_else(|| "?".into(), ms);
        println!(
            "  {name:<30} min {}  median {}  max {}",
            q(0.0),
            q(0.5),
            q(1.0)
        );
    };
    line("IDENTIFY received", |m| m.identify);
    line("READY sent", |m| m.ready);
    line("commands registered", |m| m.registered);
    let ready: Vec<Duration> = runs.iter().map(|m| m.ready).collect();
    if let Some(median) = quantile(&ready, 0.5) {
        let verdict = if median <= READY_TARGET {
            "met"
        } else {
            "MISSED"
        };
        println!(
            "  READY median {} against ≤ {}: {verdict}",
            ms(median),
            ms(READY_TARGET)
        );
    }
    Ok(())
}

/// What the bot's memory came to.
#[derive(Debug)]
struct Memory {
    /// RSS once its commands were registered.
    at_ready_kib: Option<u64>,
    /// RSS after settling (its first watcher pass done).
    settled_kib: Option<u64>,
    /// Peak RSS (VmHWM) over the whole run.
    peak_kib: Option<u64>,
    /// Orange calls between spawn and the memory reading, and the time it took.
    orange_calls: u64,
    waited: Duration,
}

/// Runs the bot on `settings`' store until it settled; its memory.
async fn memory(
    binary: &Path,
    settings: &Settings,
    dir: &Path,
    sandbox: &world::Sandbox,
    settle: Duration,
) -> Result<Memory, Error> {
    let fake = FakeDiscord::start().await;
    let target = Target::new(binary, &fake, settings, dir);
    let calls = || sandbox.control().counters().total_calls();
    let before = calls();
    let mut bot = child::Bot::spawn(&target)?;
    let reached = child::milestones(&fake, &bot).await;
    let at_ready_kib = bot.vm_kib("VmRSS");
    let waited = Instant::now();
    // At least `settle`, then until Orange has had no call for 2 s (the first pass is over).
    tokio::time::sleep(settle).await;
    let mut last = (calls(), Instant::now());
    while last.1.elapsed() < Duration::from_secs(2) {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = calls();
        if now != last.0 {
            last = (now, Instant::now());
        }
    }
    bot.still_running(dir)?;
    let memory = Memory {
        at_ready_kib,
        settled_kib: bot.vm_kib("VmRSS"),
        peak_kib: bot.vm_kib("VmHWM"),
        orange_calls: calls() - before,
        waited: waited.elapsed() + reached.registered,
    };
    drop(bot);
    note_failures(&fake);
    Ok(memory)
}

fn report_memory(label: &str, m: &Memory, target_mb: f64) {
    println!(
        "\nmemory, {label}: RSS at READY {}, after {:.1} s ({} Orange calls) {}, peak {}",
        mib(m.at_ready_kib),
        m.waited.as_secs_f64(),
        m.orange_calls,
        mib(m.settled_kib),
        mib(m.peak_kib)
    );
    // The targets are in MB (10^6 bytes), the stricter reading.
    let against = |name: &str, kib: Option<u64>| {
        let Some(kib) = kib else { return };
        let mb = kib as f64 * 1024.0 / 1e6;
        let verdict = if mb <= target_mb { "met" } else { "MISSED" };
        println!("  {name} {mb:.1} MB against ≤ {target_mb} MB: {verdict}");
    };
    against("RSS", m.settled_kib);
    against("peak", m.peak_kib);
}

/// The fake's complaints about the bot, shown rather than panicking when the fake is dropped.
fn note_failures(fake: &FakeDiscord) {
    let failures = fake.take_failures();
    let refused = fake.refused().len();
    if !failures.is_empty() || refused > 0 {
        println!(
            "  (the fake refused {refused} request(s) and noted: {:?})",
            failures
        );
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}
