//! The Orange client against the sandbox over loopback HTTP, one sandbox per test: tokens
//! (`tokens`), every operation (`operations`), retries and timeouts (`failures`), typed errors and
//! the body cap (`errors`), duplicate-safe writes (`writes`). That loopback is never proxied is
//! tested on the binary, in `tests/cli.rs`.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use chrono::Utc;
use futures::TryStreamExt;
use orange_ticket_bot::config::{OrangeCredentials, Settings};
use orange_ticket_bot::domain::{
    Contact, NewComment, NewTicket, NoteKind, SearchQuery, ServiceNumber, SortColumn, Status,
    StatusFilter, TechnicalNumber, TicketId,
};
use orange_ticket_bot::orange::{Deadline, OrangeClient, OrangeError};
use orange_ticket_bot::sandbox::{
    self, ErrorFault, FaultConfig, Operation as Op, RunningSandbox, SandboxOptions,
};

mod errors;
mod failures;
mod operations;
mod tokens;
mod writes;

struct Env {
    sandbox: RunningSandbox,
    settings: Settings,
}

impl Env {
    async fn start() -> Self {
        Self::with(|_| {}).await
    }

    async fn with(tune: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = Settings::defaults().expect("defaults");
        // Fast retries: the tests measure behaviour, not patience.
        settings.orange.retry.base_delay_ms = 20;
        settings.orange.retry.max_delay_ms = 400;
        settings.orange.request_timeout_ms = 2_000;
        tune(&mut settings);
        let sandbox = sandbox::start(
            SandboxOptions::from_settings(&settings),
            SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        )
        .await
        .expect("sandbox starts");
        settings.orange.base_url = sandbox.base_url();
        settings.orange.token_url = sandbox.token_url();
        Env { sandbox, settings }
    }

    fn client_with(&self, id: &str, secret: &str) -> OrangeClient {
        OrangeClient::new(
            &self.settings.orange,
            OrangeCredentials {
                client_id: id.to_owned().into(),
                client_secret: secret.to_owned().into(),
            },
            Some("app-42".to_owned().into()),
        )
        .expect("client")
    }

    fn client(&self) -> OrangeClient {
        self.client_with(
            &self.settings.sandbox.client_id,
            &self.settings.sandbox.client_secret,
        )
    }

    fn calls(&self, op: Op) -> u64 {
        self.sandbox.control().counters().calls(op)
    }

    fn faults(&self, f: FaultConfig) {
        self.sandbox.control().set_faults(f);
    }
}

fn long() -> Deadline {
    Deadline::after(Duration::from_secs(30))
}

fn sn(s: &str) -> ServiceNumber {
    ServiceNumber::parse(s).expect("service number")
}

fn new_ticket(external: &str) -> NewTicket {
    NewTicket {
        service: sn("LD000000"),
        technical: TechnicalNumber::parse("LD000001").expect("technical"),
        description: "Link down since 10:00".into(),
        contact: Contact {
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            email: Some("ada@example.net".into()),
            phone: None,
        },
        external_id: Some(external.into()),
    }
}

fn always(op: Op, status: u16) -> FaultConfig {
    FaultConfig {
        errors: [(
            op,
            ErrorFault {
                rate: 1.0,
                statuses: vec![status],
                retry_after_secs: 0,
            },
        )]
        .into_iter()
        .collect(),
        ..FaultConfig::default()
    }
}
