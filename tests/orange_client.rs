//! The Orange client against the sandbox over loopback HTTP: tokens, every operation, search
//! filters and paging, retries under injected faults, malformed answers, duplicate-safe create.

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

// --- tokens ---------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_calls_on_a_cold_client_fetch_one_token() {
    let env = Env::start().await;
    let client = env.client();
    let calls = (0..1000).map(|_| {
        let c = client.clone();
        async move { c.api_status(long()).await }
    });
    let results = futures::future::join_all(calls).await;
    let failures: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(env.calls(Op::Token), 1, "exactly one token request");
    assert_eq!(env.calls(Op::ApiStatus), 1000);
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn an_expired_token_is_refreshed_once_and_the_calls_succeed() {
    let env = Env::start().await;
    env.faults(FaultConfig {
        token_expires_after_calls: Some(5),
        ..FaultConfig::default()
    });
    let client = env.client();
    for _ in 0..8 {
        client.api_status(long()).await.expect("status");
    }
    let counters = env.sandbox.control().counters();
    assert_eq!(counters.calls(Op::Token), 2, "one refresh after the expiry");
    assert_eq!(counters.responses(Op::ApiStatus, 401), 1, "one 42 answer");
    assert_eq!(counters.responses(Op::ApiStatus, 200), 8);
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn bad_credentials_are_a_configuration_error_not_a_retry_loop() {
    let env = Env::start().await;
    let err = env
        .client_with("sandbox-client", "wrong")
        .api_status(long())
        .await
        .unwrap_err();
    assert!(
        matches!(err, OrangeError::CredentialsRejected { status: 401 }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "ORANGE_CLIENT_ID/ORANGE_CLIENT_SECRET rejected by the token endpoint (HTTP 401)"
    );
    assert_eq!(env.calls(Op::Token), 1);
    assert_eq!(env.calls(Op::ApiStatus), 0);
    env.sandbox.shutdown().await;
}

// --- every operation ------------------------------------------------------------------------

#[tokio::test]
async fn every_documented_operation_round_trips() {
    let env = Env::start().await;
    let client = env.client();

    let status = client.api_status(long()).await.expect("status");
    assert!(status.is_ok());
    assert_eq!(status.name.as_deref(), Some("API Ticketing WIN_BUS"));

    let services = client.service_numbers(long()).await.expect("services");
    assert!(services.len() >= 5);
    assert_eq!(services[0].number, sn("LD000000"));

    let id = client
        .create_ticket(&new_ticket("ref-round-trip"), long())
        .await
        .expect("create");
    let t = client.get_ticket(&id, long()).await.expect("get");
    assert_eq!(t.status, Status::Submitted);
    assert_eq!(t.description.as_deref(), Some("Link down since 10:00"));
    assert_eq!(t.external_id.as_deref(), Some("ref-round-trip"));
    assert_eq!(t.reported_by(), Some("Ada Lovelace"));
    assert_eq!(t.resolution_date, None);

    let comment = NewComment {
        service: sn("LD000000"),
        date: Utc::now(),
        text: "Rebooted the CPE".into(),
    };
    client
        .add_comment(&id, &comment, long())
        .await
        .expect("comment");
    let t = client.get_ticket(&id, long()).await.expect("get");
    let notes = t.notes.expect("notes");
    assert!(
        notes
            .iter()
            .any(|n| n.kind == NoteKind::Comments && n.text == "Rebooted the CPE"),
        "{notes:?}"
    );

    let page = client
        .search(
            &SearchQuery {
                id: Some(id.clone()),
                ..SearchQuery::default()
            },
            1,
            long(),
        )
        .await
        .expect("search");
    assert_eq!(page.tickets.len(), 1);
    assert_eq!(page.total_count, Some(1));
    assert_eq!(page.page_count, Some(1));

    let missing = client
        .get_ticket(&TicketId::parse("9999999999").expect("id"), long())
        .await
        .unwrap_err();
    assert!(
        matches!(missing, OrangeError::NotFound { .. }),
        "{missing:?}"
    );
    assert!(
        missing
            .request_id()
            .is_some_and(|r| r.starts_with("sandbox-"))
    );

    let rejected = client
        .create_ticket(
            &NewTicket {
                service: sn("LD999999"),
                ..new_ticket("ref-bad")
            },
            long(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(rejected, OrangeError::Rejected { status: 422, .. }),
        "{rejected:?}"
    );
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn search_honours_each_filter_sort_and_paging() {
    let env = Env::with(|s| s.orange.search.page_size = 4).await;
    let client = env.client();
    let all: Vec<_> = client
        .search_all(SearchQuery::default(), long())
        .try_collect()
        .await
        .expect("all pages");
    let total = all[0].total_count.expect("X-Total-Count") as usize;
    let pages = all[0].page_count.expect("X_Page_Count") as usize;
    assert!(total >= 12);
    assert_eq!(pages, total.div_ceil(4));
    assert_eq!(all.len(), pages, "the stream walked every page");
    let tickets: Vec<_> = all.iter().flat_map(|p| p.tickets.clone()).collect();
    assert_eq!(tickets.len(), total);
    let distinct: BTreeSet<_> = tickets.iter().map(|t| t.id.clone()).collect();
    assert_eq!(distinct.len(), total, "no ticket twice across pages");

    let everything = |q: SearchQuery| {
        let c = client.clone();
        async move {
            c.search_all(q, long())
                .try_collect::<Vec<_>>()
                .await
                .expect("search")
                .into_iter()
                .flat_map(|p| p.tickets)
                .collect::<Vec<_>>()
        }
    };

    for status in Status::KNOWN {
        let found = everything(SearchQuery {
            status: StatusFilter::Only(status.clone()),
            ..SearchQuery::default()
        })
        .await;
        let expected = tickets.iter().filter(|t| t.status == status).count();
        assert_eq!(found.len(), expected, "{status:?}");
        assert!(found.iter().all(|t| t.status == status));
    }

    let service = tickets[0].service.clone().expect("service");
    let found = everything(SearchQuery {
        service: Some(service.clone()),
        ..SearchQuery::default()
    })
    .await;
    assert_eq!(
        found.len(),
        tickets
            .iter()
            .filter(|t| t.service.as_ref() == Some(&service))
            .count()
    );

    let reporter = tickets[0].reported_by().expect("reporter").to_owned();
    let found = everything(SearchQuery {
        reported_by: Some(reporter.clone()),
        ..SearchQuery::default()
    })
    .await;
    assert!(!found.is_empty());
    assert!(
        found
            .iter()
            .all(|t| t.reported_by() == Some(reporter.as_str()))
    );

    let mut created: Vec<_> = tickets.iter().filter_map(|t| t.created).collect();
    created.sort();
    let middle = created[created.len() / 2];
    let found = everything(SearchQuery {
        created_from: Some(middle),
        ..SearchQuery::default()
    })
    .await;
    assert_eq!(
        found.len(),
        created.iter().filter(|c| **c >= middle).count()
    );
    let found = everything(SearchQuery {
        created_to: Some(middle),
        ..SearchQuery::default()
    })
    .await;
    assert_eq!(
        found.len(),
        created.iter().filter(|c| **c <= middle).count()
    );

    for column in SortColumn::ALL {
        for ascending in [true, false] {
            let found = everything(SearchQuery {
                sort: Some(column),
                ascending: Some(ascending),
                ..SearchQuery::default()
            })
            .await;
            assert_eq!(found.len(), total, "{column} {ascending}");
            if column == SortColumn::TicketNumber {
                let ids: Vec<_> = found.iter().map(|t| t.id.to_string()).collect();
                let mut sorted = ids.clone();
                sorted.sort();
                if !ascending {
                    sorted.reverse();
                }
                assert_eq!(ids, sorted, "ticket numbers {ascending}");
            }
            if column == SortColumn::StartDate {
                let dates: Vec<_> = found.iter().map(|t| t.created).collect();
                let mut sorted = dates.clone();
                sorted.sort();
                if !ascending {
                    sorted.reverse();
                }
                assert_eq!(dates, sorted, "start dates {ascending}");
            }
        }
    }
    env.sandbox.shutdown().await;
}

// --- failure policy -------------------------------------------------------------------------

#[tokio::test]
async fn reads_survive_thirty_percent_503_and_429_with_backoff() {
    let env = Env::start().await;
    let fault = ErrorFault {
        rate: 0.3,
        statuses: vec![503, 429],
        retry_after_secs: 1,
    };
    env.faults(FaultConfig {
        errors: [(Op::GetTicket, fault.clone()), (Op::Search, fault)]
            .into_iter()
            .collect(),
        ..FaultConfig::default()
    });
    let client = env.client();
    let id = TicketId::parse("1234567890").expect("id");
    let reads = 12;
    for i in 0..reads {
        let deadline = Deadline::after(Duration::from_secs(15));
        if i % 2 == 0 {
            client
                .get_ticket(&id, deadline)
                .await
                .expect("get succeeds in the end");
        } else {
            client
                .search(&SearchQuery::default(), 1, deadline)
                .await
                .expect("search succeeds in the end");
        }
    }
    let counters = env.sandbox.control().counters();
    for op in [Op::GetTicket, Op::Search] {
        let c = counters.get(op);
        let failures: u64 = [429u16, 503]
            .iter()
            .map(|s| counters.responses(op, *s))
            .sum();
        assert_eq!(counters.responses(op, 200), reads / 2, "{op:?}");
        assert_eq!(c.calls, reads / 2 + failures, "{op:?}");
        // Every failure was followed by a wait of at least its Retry-After (1 s) before the
        // next call of that operation: no hot retry loop.
        let gaps = c
            .call_times_ms
            .iter()
            .zip(c.call_times_ms.iter().skip(1))
            .filter(|(a, b)| **b - **a >= 990)
            .count() as u64;
        assert!(
            gaps >= failures,
            "{op:?}: {gaps} long gaps for {failures} failures"
        );
        println!(
            "{op:?}: {} calls, {failures} injected failures, {gaps} gaps >= 1 s",
            c.calls
        );
    }
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_background_read_waits_out_an_outage_that_outlasts_the_attempt_limit() {
    // Three attempts, one second apart (Retry-After), would give up after about 2 s.
    let env = Env::with(|s| s.orange.retry.max_attempts = 3).await;
    let outage = FaultConfig {
        errors: [(
            Op::GetTicket,
            ErrorFault {
                rate: 1.0,
                statuses: vec![503],
                retry_after_secs: 1,
            },
        )]
        .into_iter()
        .collect(),
        ..FaultConfig::default()
    };
    let client = env.client();
    let id = TicketId::parse("1234567890").expect("id");
    client.api_status(long()).await.expect("a token first");

    env.faults(outage.clone());
    let window = Duration::from_secs(4);
    let control = env.sandbox.control();
    let ends = tokio::spawn(async move {
        tokio::time::sleep(window).await;
        control.set_faults(FaultConfig::default());
    });
    let started = std::time::Instant::now();
    let ticket = client
        .get_ticket(&id, client.background())
        .await
        .expect("the background read outlasts the outage");
    let took = started.elapsed();
    ends.await.expect("the outage ended");
    assert_eq!(ticket.id, id);
    let c = env.sandbox.control().counters();
    let (calls, failed) = (c.calls(Op::GetTicket), c.responses(Op::GetTicket, 503));
    println!("background read: {calls} calls, {failed} answered 503, {took:?}");
    assert!(took >= window, "it waited for the end: {took:?}");
    assert!(took < window + Duration::from_secs(3), "{took:?}");
    assert_eq!(c.responses(Op::GetTicket, 200), 1);
    assert!(failed > 3, "more failures than max_attempts: {failed}");
    // Retry-After (1 s) is a floor between calls: at most one call per second of outage, plus
    // the one that succeeds.
    assert!(calls <= 4 + 1 + 1, "{calls} calls: backed off");
    let times = c.get(Op::GetTicket).call_times_ms;
    assert!(
        times
            .iter()
            .zip(times.iter().skip(1))
            .all(|(a, b)| b - a >= 990),
        "no call less than Retry-After after the one before: {times:?}"
    );

    // A call someone waits on still stops at the attempt limit, deadline or not.
    env.faults(outage);
    let before = env.calls(Op::GetTicket);
    let err = client
        .get_ticket(&id, Deadline::after(Duration::from_secs(30)))
        .await
        .unwrap_err();
    assert!(matches!(err, OrangeError::Unavailable { .. }), "{err:?}");
    assert_eq!(env.calls(Op::GetTicket) - before, 3, "max_attempts calls");
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn an_interactive_deadline_is_kept_even_when_orange_keeps_failing() {
    let env = Env::start().await;
    env.faults(FaultConfig {
        errors: [(
            Op::ApiStatus,
            ErrorFault {
                rate: 1.0,
                statuses: vec![503],
                retry_after_secs: 0,
            },
        )]
        .into_iter()
        .collect(),
        ..FaultConfig::default()
    });
    let client = env.client();
    let started = std::time::Instant::now();
    let err = client
        .api_status(Deadline::after(Duration::from_millis(800)))
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(matches!(err, OrangeError::Unavailable { .. }), "{err:?}");
    assert!(took < Duration::from_millis(900), "{took:?}");
    let calls = env.calls(Op::ApiStatus);
    assert!(
        (2..=6).contains(&calls),
        "{calls} calls: bounded, backed off"
    );
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn slow_answers_time_out() {
    let env = Env::with(|s| s.orange.request_timeout_ms = 150).await;
    env.faults(FaultConfig {
        latency_ms: 400,
        ..FaultConfig::default()
    });
    let err = env
        .client()
        .api_status(Deadline::after(Duration::from_millis(1200)))
        .await
        .unwrap_err();
    // `latency_ms` slows every route, so this is the token request timing out; the API call's
    // own timeout is tested with `latency_ms_by_op` below.
    assert!(
        matches!(err, OrangeError::Timeout { op: Op::Token, .. }),
        "{err:?}"
    );
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn malformed_answers_are_typed_errors_naming_the_path() {
    let env = Env::start().await;
    env.faults(FaultConfig {
        malformed_rate: [(Op::GetTicket, 1.0), (Op::ServiceNumbers, 1.0)]
            .into_iter()
            .collect(),
        ..FaultConfig::default()
    });
    let client = env.client();
    let id = TicketId::parse("1234567890").expect("id");
    let mut paths = BTreeSet::new();
    for _ in 0..12 {
        match client.get_ticket(&id, long()).await {
            Err(OrangeError::Malformed { path, reason, .. }) => {
                assert!(!path.is_empty() && !reason.is_empty());
                paths.insert(path);
            }
            other => panic!("expected a malformed error, got {other:?}"),
        }
    }
    assert!(paths.contains("$"), "{paths:?}");
    let err = client.service_numbers(long()).await.unwrap_err();
    assert!(matches!(err, OrangeError::Malformed { .. }), "{err:?}");
    println!("paths named: {paths:?}");
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_create_that_landed_despite_an_error_is_found_not_duplicated() {
    let env = Env::start().await;
    let before = env.sandbox.control().ticket_count();
    env.faults(FaultConfig {
        fail_after_processing: vec![(Op::CreateTicket, 503)],
        ..FaultConfig::default()
    });
    let client = env.client();
    let id = client
        .create_ticket(&new_ticket("ref-landed-1"), long())
        .await
        .expect("reconciled");
    assert_eq!(
        env.sandbox.control().ticket_count(),
        before + 1,
        "no duplicate"
    );
    assert_eq!(env.calls(Op::CreateTicket), 1, "not sent twice");
    assert!(env.calls(Op::Search) >= 1, "reconciled by search");
    let t = client.get_ticket(&id, long()).await.expect("get");
    assert_eq!(t.external_id.as_deref(), Some("ref-landed-1"));
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_create_that_did_not_land_is_sent_again_once() {
    let env = Env::start().await;
    let before = env.sandbox.control().ticket_count();
    env.faults(FaultConfig {
        fail_next: vec![(Op::CreateTicket, 500)],
        ..FaultConfig::default()
    });
    let client = env.client();
    client
        .create_ticket(&new_ticket("ref-retried-1"), long())
        .await
        .expect("created on the second try");
    assert_eq!(env.sandbox.control().ticket_count(), before + 1);
    assert_eq!(env.calls(Op::CreateTicket), 2);
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_create_is_retried_after_throttling_which_never_reaches_orange() {
    let env = Env::start().await;
    let before = env.sandbox.control().ticket_count();
    env.faults(FaultConfig {
        fail_next: vec![(Op::CreateTicket, 429)],
        ..FaultConfig::default()
    });
    env.client()
        .create_ticket(&new_ticket("ref-throttled"), long())
        .await
        .expect("created after the 429");
    assert_eq!(env.sandbox.control().ticket_count(), before + 1);
    assert_eq!(env.calls(Op::CreateTicket), 2);
    assert_eq!(env.calls(Op::Search), 0, "a 429 needs no reconciliation");
    env.sandbox.shutdown().await;
}

fn comment(text: &str) -> NewComment {
    NewComment {
        service: sn("LD000000"),
        date: Utc::now(),
        text: text.into(),
    }
}

async fn copies_of(env: &Env, id: &TicketId, text: &str) -> usize {
    let t = env.client().get_ticket(id, long()).await.expect("get");
    t.notes
        .unwrap_or_default()
        .iter()
        .filter(|n| n.text == text)
        .count()
}

#[tokio::test]
async fn a_comment_that_landed_despite_an_error_is_found_and_reported_added() {
    let env = Env::start().await;
    env.faults(FaultConfig {
        fail_after_processing: vec![(Op::AddComment, 503)],
        ..FaultConfig::default()
    });
    let client = env.client();
    let id = TicketId::parse("1234567890").expect("id");
    client
        .add_comment(&id, &comment("— Ada: only once"), long())
        .await
        .expect("reconciled: the comment is there");
    assert_eq!(env.calls(Op::AddComment), 1, "never replayed");
    assert!(
        env.calls(Op::GetTicket) >= 1,
        "reconciled by reading the ticket"
    );
    assert_eq!(copies_of(&env, &id, "— Ada: only once").await, 1);
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_comment_that_did_not_land_is_reported_not_added_and_not_resent() {
    let env = Env::start().await;
    env.faults(FaultConfig {
        fail_next: vec![(Op::AddComment, 500)],
        ..FaultConfig::default()
    });
    let client = env.client();
    let id = TicketId::parse("1234567890").expect("id");
    let err = client
        .add_comment(&id, &comment("— Ada: lost"), long())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            OrangeError::NotApplied {
                op: Op::AddComment,
                ..
            }
        ),
        "{err:?}"
    );
    let message = err.user_message();
    assert!(
        message.contains("not added") && message.contains("try again"),
        "{message}"
    );
    assert!(
        std::error::Error::source(&err).is_some(),
        "the ambiguous failure is kept as the source"
    );
    assert_eq!(env.calls(Op::AddComment), 1, "not resent by the client");
    assert_eq!(copies_of(&env, &id, "— Ada: lost").await, 0);
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn an_ambiguous_comment_with_no_time_left_is_unknown_and_says_check_the_ticket() {
    let env = Env::start().await;
    env.faults(FaultConfig {
        fail_next: vec![(Op::AddComment, 500)],
        ..FaultConfig::default()
    });
    let id = TicketId::parse("1234567890").expect("id");
    let err = env
        .client()
        .add_comment(
            &id,
            &comment("— Ada: unsure"),
            Deadline::after(Duration::from_millis(700)),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            OrangeError::Uncertain {
                op: Op::AddComment,
                ..
            }
        ),
        "{err:?}"
    );
    let message = err.user_message();
    assert!(
        message.contains("check the ticket before retrying"),
        "{message}"
    );
    assert_eq!(env.calls(Op::AddComment), 1);
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn an_ambiguous_create_with_no_time_left_is_uncertain_and_not_resent() {
    let env = Env::start().await;
    env.faults(FaultConfig {
        fail_next: vec![(Op::CreateTicket, 500)],
        ..FaultConfig::default()
    });
    let before = env.sandbox.control().ticket_count();
    let err = env
        .client()
        .create_ticket(
            &new_ticket("ref-uncertain"),
            Deadline::after(Duration::from_millis(700)),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, OrangeError::Uncertain { .. }), "{err:?}");
    assert!(
        err.user_message()
            .contains("check `/ticket search` before retrying")
    );
    assert_eq!(env.calls(Op::CreateTicket), 1, "never resent while unsure");
    assert_eq!(env.sandbox.control().ticket_count(), before);
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn reconciliation_does_not_mistake_an_older_ticket_with_the_same_reference() {
    let env = Env::start().await;
    let client = env.client();
    let older = client
        .create_ticket(&new_ticket("PO-1"), long())
        .await
        .expect("first ticket");
    env.faults(FaultConfig {
        fail_after_processing: vec![(Op::CreateTicket, 503)],
        ..FaultConfig::default()
    });
    let newer = client
        .create_ticket(
            &NewTicket {
                description: "Second incident, same purchase order".into(),
                ..new_ticket("PO-1")
            },
            long(),
        )
        .await
        .expect("reconciled");
    assert_ne!(
        newer, older,
        "the older ticket with the same reference is not the new one"
    );
    assert_eq!(env.calls(Op::CreateTicket), 2);
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_throttled_token_request_is_retried_not_reported_as_bad_credentials() {
    let env = Env::start().await;
    env.faults(FaultConfig {
        fail_next: vec![(Op::Token, 403)],
        ..FaultConfig::default()
    });
    env.client()
        .api_status(Deadline::after(Duration::from_secs(5)))
        .await
        .expect("status after the 403 code 53");
    let counters = env.sandbox.control().counters();
    assert_eq!(counters.responses(Op::Token, 403), 1);
    assert_eq!(counters.responses(Op::Token, 200), 1);
    env.sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_token_fetch_fails_its_waiters_instead_of_each_fetching_again() {
    let env = Env::start().await;
    let client = env.client_with("sandbox-client", "wrong");
    let calls = (0..200).map(|_| {
        let c = client.clone();
        async move { c.api_status(long()).await }
    });
    let results = futures::future::join_all(calls).await;
    for r in &results {
        assert!(
            matches!(r, Err(OrangeError::CredentialsRejected { status: 401 })),
            "{r:?}"
        );
    }
    let fetches = env.calls(Op::Token);
    println!("200 callers with bad credentials: {fetches} token requests");
    assert!(fetches <= 2, "{fetches} token requests for 200 callers");
    assert_eq!(env.calls(Op::ApiStatus), 0);

    // Failing again at once is refused without a request: repeated failures back off.
    let err = client.api_status(long()).await.unwrap_err();
    assert!(
        matches!(err, OrangeError::CredentialsRejected { .. }),
        "{err:?}"
    );
    assert_eq!(
        env.calls(Op::Token),
        fetches,
        "no new request inside the back-off"
    );
    env.sandbox.shutdown().await;
}

/// Runs the binary's console on its embedded sandbox with a dead proxy in the environment.
fn console_behind_a_dead_proxy(script: &str) -> std::process::Output {
    use std::io::Write;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_orange-ticket-bot"));
    // A clean environment: no NO_PROXY (CI exports one), no secrets from the developer's shell.
    cmd.arg("console")
        .current_dir(dir.path())
        .env_clear()
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    if let Ok(path) = std::env::var("PATH") {
        cmd.env("PATH", path);
    }
    // Port 9 (discard) on loopback: nothing listens, every proxied request fails.
    for var in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        cmd.env(var, "http://127.0.0.1:9");
    }
    let mut child = cmd.spawn().expect("the binary runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("script written");
    child.wait_with_output().expect("the binary ends")
}

#[test]
fn the_embedded_sandbox_is_reached_even_with_a_proxy_in_the_environment() {
    let out = console_behind_a_dead_proxy("/ticket services\n");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("LD000000 — Name of the service: LD000001"),
        "{stdout}{stderr}"
    );
}

// --- every typed error ------------------------------------------------------------------------

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

#[tokio::test]
async fn a_refreshed_token_refused_too_ends_in_unauthorized_after_exactly_one_refresh() {
    let env = Env::start().await;
    env.faults(always(Op::ApiStatus, 401));
    let err = env.client().api_status(long()).await.unwrap_err();
    assert!(matches!(err, OrangeError::Unauthorized { .. }), "{err:?}");
    assert!(err.request_id().is_some_and(|r| r.starts_with("sandbox-")));
    assert!(
        err.user_message().contains("credentials were refused"),
        "{}",
        err.user_message()
    );
    let c = env.sandbox.control().counters();
    assert_eq!(c.calls(Op::Token), 2, "the first token and one refresh");
    assert_eq!(c.calls(Op::ApiStatus), 2, "one call per token");
    assert_eq!(c.responses(Op::ApiStatus, 401), 2);
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_slow_api_call_behind_a_fast_token_endpoint_times_out_as_that_call() {
    let env = Env::with(|s| s.orange.request_timeout_ms = 300).await;
    env.faults(FaultConfig {
        latency_ms_by_op: [(Op::GetTicket, 1_500)].into_iter().collect(),
        ..FaultConfig::default()
    });
    let client = env.client();
    let id = TicketId::parse("1234567890").expect("id");
    let started = std::time::Instant::now();
    let err = client
        .get_ticket(&id, Deadline::after(Duration::from_secs(10)))
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(
            err,
            OrangeError::Timeout {
                op: Op::GetTicket,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        took < Duration::from_secs(8),
        "per request, not the deadline: {took:?}"
    );
    let c = env.sandbox.control().counters();
    assert_eq!(c.responses(Op::Token, 200), 1, "the token came at once");
    assert!(
        c.calls(Op::GetTicket) >= 2,
        "each timed-out read was retried"
    );
    // Other operations are not slowed down.
    client.api_status(long()).await.expect("api status is fast");
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_rejected_request_keeps_orange_s_problem_for_the_logs_only() {
    let env = Env::start().await;
    let client = env.client();
    let id = TicketId::parse("1234567890").expect("id");
    for status in [400u16, 422] {
        env.faults(FaultConfig {
            fail_next: vec![(Op::GetTicket, status)],
            ..FaultConfig::default()
        });
        let err = client.get_ticket(&id, long()).await.unwrap_err();
        let OrangeError::Rejected {
            status: s,
            problem,
            request_id,
            ..
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!(*s, status);
        assert!(problem.code.is_some(), "{problem:?}");
        let message = problem.message.as_deref().expect("message");
        let description = problem.description.as_deref().expect("description");
        let info = problem.info_url.as_deref().expect("infoURL");
        assert!(info.starts_with("https://developer.orange.com/"), "{info}");
        assert!(request_id.0.is_some());
        // The log line (Display) carries all of it; the user's sentence none of it.
        let logged = err.to_string();
        for part in [message, description, info] {
            assert!(logged.contains(part), "{part} missing from {logged}");
            assert!(!err.user_message().contains(part), "{}", err.user_message());
        }
    }
    assert_eq!(env.calls(Op::GetTicket), 2, "never retried");
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn throttling_as_429_or_403_code_53_ends_in_throttled() {
    let env = Env::with(|s| s.orange.retry.max_attempts = 2).await;
    let client = env.client();
    for status in [429u16, 403] {
        env.faults(always(Op::ServiceNumbers, status));
        let before = env.calls(Op::ServiceNumbers);
        let err = client.service_numbers(long()).await.unwrap_err();
        assert!(
            matches!(
                err,
                OrangeError::Throttled {
                    retry_after: Some(_),
                    ..
                }
            ),
            "{status}: {err:?}"
        );
        assert!(
            err.user_message().contains("throttling"),
            "{}",
            err.user_message()
        );
        assert_eq!(
            env.calls(Op::ServiceNumbers) - before,
            2,
            "{status}: retried"
        );
    }
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_403_other_than_throttling_says_orange_refused_the_application() {
    let env = Env::start().await;
    env.faults(FaultConfig {
        access_denied: vec![Op::ServiceNumbers],
        ..FaultConfig::default()
    });
    let err = env.client().service_numbers(long()).await.unwrap_err();
    let OrangeError::Forbidden { problem, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(problem.code, Some(50));
    assert!(
        err.user_message().starts_with(
            "Orange refused this application (check the ApplicationID / subscription)"
        ),
        "{}",
        err.user_message()
    );
    assert_eq!(env.calls(Op::ServiceNumbers), 1, "not retried");
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn an_answer_over_the_body_cap_is_a_typed_error_not_read_whole() {
    let env = Env::with(|s| {
        s.orange.max_body_bytes = 2_048;
        s.orange.search.page_size = 50;
    })
    .await;
    let client = env.client();
    client
        .api_status(long())
        .await
        .expect("a small answer is read");
    let err = client
        .search(&SearchQuery::default(), 1, long())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            OrangeError::TooLarge {
                op: Op::Search,
                limit: 2_048,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.request_id().is_some());
    assert_eq!(
        env.calls(Op::Search),
        1,
        "a too-large answer is not asked for again"
    );
    env.sandbox.shutdown().await;
}

#[test]
fn the_body_cap_defaults_to_8_mib_and_must_not_be_zero() {
    let settings = Settings::defaults().expect("defaults");
    assert_eq!(settings.orange.max_body_bytes, 8 * 1024 * 1024);
    let dir = tempfile::tempdir().expect("tempdir");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_orange-ticket-bot"))
        .arg("check")
        .current_dir(dir.path())
        .env_clear()
        .env("OTB__ORANGE__MAX_BODY_BYTES", "0")
        .output()
        .expect("the binary runs");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("orange.max_body_bytes"), "{text}");
}
