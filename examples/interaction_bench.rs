//! Interaction overhead (issue 11): the real bot, started as the e2e tests start it (`TestBot`:
//! `app::start_discord`, unmodified serenity/poise), against the fake Discord and an Orange
//! sandbox with no added latency, all in this process on loopback. Slash commands go one after
//! another; for each, the time from the fake writing `INTERACTION_CREATE` on the gateway socket
//! to the bot's callback request having arrived at the fake (before the fake checks it), and to
//! the request carrying the final answer. Prints figures; not a test.
//!
//! `cargo run --release --example interaction_bench -- [--commands 1000] [--warm-up 20]`

// The e2e tests' support, the parts this benchmark uses: the fake Discord and the bot under test
// (`bot_process` is left out: it needs the binary path Cargo gives integration tests only).
#[path = "../tests/support/fake_discord/mod.rs"]
#[allow(dead_code, unused_imports, reason = "shared with the e2e tests")]
mod fake_discord;
#[path = "../tests/support/test_bot.rs"]
#[allow(dead_code, unused_imports, reason = "shared with the e2e tests")]
mod test_bot;

#[path = "watcher_bench/measure.rs"]
#[allow(
    dead_code,
    reason = "shared with watcher_bench: this benchmark uses the quantiles"
)]
mod measure;

use std::time::{Duration, Instant};

use clap::Parser;
use fake_discord::{InteractionPayload, State, WAIT};
use measure::{load_average, quantile};
use test_bot::{TestBot, ticket};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Targets of issue 11 for the time to the callback.
const P50_TARGET: Duration = Duration::from_millis(1);
const P99_TARGET: Duration = Duration::from_millis(5);

#[derive(Debug, Parser)]
#[command(about = "Time from an interaction reaching the bot to its callback")]
struct Args {
    /// Measured commands of each kind.
    #[arg(long, default_value_t = 1000)]
    commands: usize,
    /// Commands sent first and not measured (connections, the Orange token, the fake's schemas).
    #[arg(long, default_value_t = 20)]
    warm_up: usize,
}

/// One answered interaction, as the fake timed it.
#[derive(Debug, Clone, Copy)]
struct Timing {
    /// Frame written → callback request arrived.
    callback: Duration,
    /// Frame written → the request carrying the answer arrived (the callback itself for an
    /// immediate answer, else the edit of the deferred one).
    answer: Duration,
    /// `inject()` → callback accepted, as the fake's 3 s window counts it (includes the fake's
    /// own queueing and checks of the callback's body).
    fake_window: Duration,
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args = Args::parse();
    let bot = TestBot::start().await;
    println!(
        "interaction overhead: {} commands of each kind after {} unmeasured, one at a time; \
         Orange sandbox latency {} ms; load average {}",
        args.commands,
        args.warm_up,
        bot.sandbox().faults().latency_ms,
        load_average()
    );
    let kinds = [
        ("/ticket status", ticket("status")),
        (
            "/ticket show id:1234567890",
            ticket("show").option("id", "1234567890"),
        ),
    ];
    for (label, payload) in kinds {
        let calls = bot.orange_calls();
        let started = Instant::now();
        let timings = run(&bot, &payload, args.warm_up, args.commands).await?;
        let per_command = started.elapsed() / (args.warm_up + args.commands) as u32;
        let calls = bot.orange_calls() - calls;
        println!(
            "\n{label}: {} measured; Orange calls {calls} ({:.2} per command); wall time per \
             command {}",
            timings.len(),
            calls as f64 / (args.warm_up + args.commands) as f64,
            ms(per_command)
        );
        report(&timings);
    }
    bot.shutdown().await;
    Ok(())
}

/// Sends `warm_up + n` copies of `payload`, each once the previous one was answered, and times
/// the last `n`.
async fn run(
    bot: &TestBot,
    payload: &InteractionPayload,
    warm_up: usize,
    n: usize,
) -> Result<Vec<Timing>, Error> {
    let mut ids = Vec::with_capacity(n);
    for i in 0..warm_up + n {
        let (injected, answer) = bot.ask(payload).await;
        if answer.embeds().is_empty() {
            return Err(format!("no card in the answer: {:?}", answer.body).into());
        }
        if i >= warm_up {
            ids.push(injected.id);
        }
    }
    // The fake records a request just after answering it: the last answer may be a moment late.
    let timed = bot
        .fake
        .wait_for("every measured interaction timed", WAIT, |s| {
            ids.iter()
                .map(|id| timing(s, *id))
                .collect::<Option<Vec<_>>>()
        })
        .await;
    Ok(timed)
}

/// The timing of interaction `id` from what the fake recorded.
fn timing(state: &State, id: u64) -> Option<Timing> {
    let interaction = state.interactions.get(&id)?;
    let id_text = id.to_string();
    let sent = state.frames.iter().find(|f| {
        !f.from_bot
            && f.event.as_deref() == Some("INTERACTION_CREATE")
            && f.payload["d"]["id"] == id_text.as_str()
    })?;
    let token = format!("/{}/", interaction.token);
    let mut requests = state.requests.iter().filter(|r| r.path.contains(&token));
    let callback = requests.next()?;
    let answer = match interaction.callback.as_ref()?["type"].as_u64() {
        Some(5 | 6) => requests.next()?,
        _ => callback,
    };
    Some(Timing {
        callback: callback.received.checked_sub(sent.at)?,
        answer: answer.received.checked_sub(sent.at)?,
        fake_window: interaction.callback_after?,
    })
}

fn report(timings: &[Timing]) {
    let line = |name: &str, pick: fn(&Timing) -> Duration| {
        let values: Vec<Duration> = timings.iter().map(pick).collect();
        let q = |p| quantile(&values, p).map_or_else(|| "?".into(), ms);
        println!(
            "  {name:<34} min {}  p50 {}  p90 {}  p99 {}  max {}",
            q(0.0),
            q(0.5),
            q(0.9),
            q(0.99),
            q(1.0)
        );
    };
    line("to the callback", |t| t.callback);
    line("to the answer", |t| t.answer);
    line("fake's window (inject → accepted)", |t| t.fake_window);
    let callbacks: Vec<Duration> = timings.iter().map(|t| t.callback).collect();
    let verdict = |q: f64, target: Duration| match quantile(&callbacks, q) {
        Some(v) if v <= target => format!("met ({} ≤ {})", ms(v), ms(target)),
        Some(v) => format!("MISSED ({} > {})", ms(v), ms(target)),
        None => "no figure".into(),
    };
    println!(
        "  callback p50 target: {}; p99 target: {}",
        verdict(0.5, P50_TARGET),
        verdict(0.99, P99_TARGET)
    );
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}
