//! The world a benchmark run measures: a sandbox on its own runtime (so its CPU can be told from
//! the bot's), a core on a temporary sled store wired as `app::build_core` wires it, and N open
//! tickets created through the real client, each linked to its own conversation with a snapshot.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use orange_ticket_bot::config::{OrangeCredentials, Settings};
use orange_ticket_bot::core::Core;
use orange_ticket_bot::domain::{Contact, Conversation, NewTicket, Ticket, TicketId};
use orange_ticket_bot::orange::OrangeClient;
use orange_ticket_bot::sandbox::{self, RunningSandbox, SandboxControl, SandboxOptions};
use orange_ticket_bot::store::Store;

use crate::measure::SANDBOX_THREAD;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// A sandbox serving from its own one-thread runtime.
#[derive(Debug)]
pub struct Sandbox {
    runtime: tokio::runtime::Runtime,
    running: RunningSandbox,
}

impl Sandbox {
    pub async fn start(settings: &Settings) -> Result<Self, Error> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name(SANDBOX_THREAD)
            .enable_all()
            .build()?;
        let running = runtime
            .spawn(sandbox::start(
                SandboxOptions::from_settings(settings),
                SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            ))
            .await??;
        Ok(Sandbox { runtime, running })
    }

    pub fn control(&self) -> SandboxControl {
        self.running.control()
    }

    pub async fn stop(self) {
        let Sandbox { runtime, running } = self;
        let _ = runtime.spawn(running.shutdown()).await;
        runtime.shutdown_background();
    }
}

/// The bot's side: the core (client + store) and the followed tickets.
#[derive(Debug)]
pub struct Bot {
    pub core: Core,
    pub tickets: Vec<TicketId>,
    /// Time to create the tickets, and to read and link them.
    pub created_in: Duration,
    pub linked_in: Duration,
    _dir: tempfile::TempDir,
}

/// Wires a core to `sandbox` as `app::build_core` does, then creates and links `n` tickets,
/// `concurrency` Orange calls at a time (the sandbox answers at once during set-up).
pub async fn bot(
    mut settings: Settings,
    sandbox: &Sandbox,
    n: usize,
    concurrency: usize,
) -> Result<Bot, Error> {
    let dir = tempfile::tempdir()?;
    settings.store.path = dir.path().join("store");
    settings.orange.base_url = sandbox.running.base_url();
    settings.orange.token_url = sandbox.running.token_url();
    let credentials = OrangeCredentials {
        client_id: settings.sandbox.client_id.clone().into(),
        client_secret: settings.sandbox.client_secret.clone().into(),
    };
    let orange = OrangeClient::new(&settings.orange, credentials, None)?;
    let store = Store::open(&settings.store.path)?;
    let core = Core::new(orange.clone(), store, Arc::new(settings));

    let started = Instant::now();
    let forms = new_tickets(&orange, n).await?;
    let tickets: Vec<TicketId> = futures::stream::iter(forms)
        .map(|form| {
            let orange = orange.clone();
            async move { orange.create_ticket(&form, orange.background()).await }
        })
        .buffered(concurrency)
        .try_collect()
        .await?;
    let created_in = started.elapsed();

    let started = Instant::now();
    // The snapshot a link stores is the ticket as read, notes included.
    let read: Vec<Ticket> = futures::stream::iter(&tickets)
        .map(|id| orange.get_ticket(id, orange.background()))
        .buffered(concurrency)
        .try_collect()
        .await?;
    // One link at a time: each is durable (a sled flush), and concurrent `flush_async` calls
    // deadlock in sled 0.34.7 (spacejam/sled#1308).
    for (i, ticket) in read.iter().enumerate() {
        let thread = Conversation::discord(1_180_000_000_000_000_000 + i as u64);
        core.link_conversation(&thread, ticket).await?;
    }
    let linked_in = started.elapsed();
    Ok(Bot {
        core,
        tickets,
        created_in,
        linked_in,
        _dir: dir,
    })
}

/// `n` ticket forms spread over the account's service and technical numbers.
async fn new_tickets(orange: &OrangeClient, n: usize) -> Result<Vec<NewTicket>, Error> {
    let pairs: Vec<_> = orange
        .service_numbers(orange.background())
        .await?
        .into_iter()
        .flat_map(|s| {
            let number = s.number.clone();
            s.technical_numbers
                .into_iter()
                .map(move |t| (number.clone(), t))
        })
        .collect();
    if pairs.is_empty() {
        return Err("the sandbox account has no technical numbers".into());
    }
    Ok((0..n)
        .map(|i| {
            let (service, technical) = pairs[i % pairs.len()].clone();
            NewTicket {
                service,
                technical,
                description: format!("Benchmark ticket {i}: link down"),
                contact: Contact {
                    first_name: "Bench".into(),
                    last_name: "Mark".into(),
                    email: Some("bench@example.net".into()),
                    phone: None,
                },
                external_id: Some(format!("bench-{i}")),
            }
        })
        .collect())
}
