//! Every input has a bound: the control API's JSON, the options, the API's texts and query
//! strings. Out of bounds is a 400 (413 for a body too large) in Orange's error shape, never a
//! panic, a spin under the lock or a table that grows for ever.
//!
//! The sandbox runs on its own thread here ([`Detached`]): if a handler spins, the test's
//! requests time out and the test fails, rather than the suite hanging.

use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::Duration;

use orange_ticket_bot::orange::wire::ErrorEnvelope;
use orange_ticket_bot::sandbox::{self, SandboxControl, SandboxOptions};
use proptest::prelude::*;
use reqwest::{Client, Method};
use serde_json::{Value, json};

use crate::harness::{Answer, options, read};

/// How long a request may take before the test calls the sandbox stuck (generous: a loaded
/// 2-core machine answers these in milliseconds).
const STUCK: Duration = Duration::from_secs(5);

/// A sandbox on its own thread and runtime. Dropping it asks it to stop and does not wait: a
/// thread stuck in a handler ends with the test process.
struct Detached {
    addr: SocketAddr,
    token_url: String,
    control: SandboxControl,
    http: Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Detached {
    fn start(opts: SandboxOptions) -> std::io::Result<Self> {
        let (started, result) = mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async move {
                match sandbox::start(opts, SocketAddr::from(([127, 0, 0, 1], 0))).await {
                    Ok(running) => {
                        let handles = (
                            running.addr(),
                            running.token_url().to_string(),
                            running.control(),
                        );
                        let _ = started.send(Ok(handles));
                        let _ = stopped.await;
                        running.shutdown().await;
                    }
                    Err(e) => {
                        let _ = started.send(Err(e));
                    }
                }
            });
        });
        let (addr, token_url, control) = result.recv().expect("the sandbox thread answers")?;
        let http = Client::builder()
            .no_proxy()
            .timeout(STUCK)
            .build()
            .expect("a client");
        Ok(Self {
            addr,
            token_url,
            control,
            http,
            stop: Some(stop),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// One request; `Err` when the sandbox did not answer (connection closed, timed out).
    async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Result<Answer, reqwest::Error> {
        let mut req = self.http.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        Ok(read(req.send().await?).await)
    }

    async fn control_json(&self, method: Method, path: &str, body: &Value) -> Answer {
        self.send(method, path, None, Some(body.to_string().into_bytes()))
            .await
            .unwrap_or_else(|e| panic!("{path} did not answer: {e}"))
    }

    async fn token(&self) -> Result<String, reqwest::Error> {
        let res = self
            .http
            .post(&self.token_url)
            .basic_auth("sandbox-client", Some("sandbox-secret"))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await?;
        let a = read(res).await;
        assert_eq!(a.status, 200, "{}", a.body);
        Ok(a.json()["access_token"]
            .as_str()
            .expect("a token")
            .to_owned())
    }

    /// An API call with a token: `Err` when the sandbox did not answer.
    async fn api_call(&self, token: &str) -> Result<Answer, reqwest::Error> {
        self.send(Method::GET, "/orangeServiceNumbers", Some(token), None)
            .await
    }
}

impl Drop for Detached {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A 400 (or `status`) with Orange's error body whose description mentions `what`.
fn refused(a: &Answer, status: u16, what: &str) {
    assert_eq!(a.status, status, "{what}: {}", a.body);
    let description = a.error().description.unwrap_or_default();
    assert!(description.contains(what), "{what}: {description}");
}

#[tokio::test]
async fn a_token_expiry_too_large_for_the_clock_is_refused_and_the_api_keeps_answering() {
    let s = Detached::start(options()).expect("starts");
    let token = s.token().await.expect("a token");
    let put = s
        .control_json(
            Method::PUT,
            "/_sandbox/faults",
            &json!({"token_expires_after_secs": u64::MAX}),
        )
        .await;
    let after = s.api_call(&token).await;
    let after = after.unwrap_or_else(|e| panic!("the API no longer answers: {e}"));
    assert_eq!(after.status, 200, "{}", after.body);
    refused(&put, 400, "token_expires_after_secs");
}

#[tokio::test]
async fn advancing_by_billions_of_steps_is_refused_at_once() {
    let s = Detached::start(options()).expect("starts");
    let answer = s
        .send(
            Method::POST,
            "/_sandbox/advance",
            None,
            Some(br#"{"steps": 4294967295}"#.to_vec()),
        )
        .await
        .unwrap_or_else(|e| panic!("no answer within {STUCK:?}: {e}"));
    refused(&answer, 400, "steps");
    for body in [json!({"seconds": u64::MAX}), json!({"steps": -1})] {
        let a = s
            .control_json(Method::POST, "/_sandbox/advance", &body)
            .await;
        assert_eq!(a.status, 400, "{body}: {}", a.body);
    }
    let counters = s
        .send(Method::GET, "/_sandbox/counters", None, None)
        .await
        .expect("still answers");
    assert_eq!(counters.status, 200);
}

#[tokio::test]
async fn fault_settings_past_their_bounds_are_refused() {
    let s = Detached::start(options()).expect("starts");
    let token = s.token().await.expect("a token");
    for (body, what) in [
        (json!({"latency_ms": u64::MAX}), "latency_ms"),
        (
            json!({"latency_ms_by_op": {"get_ticket": 3_600_000}}),
            "latency_ms_by_op.get_ticket",
        ),
        (
            json!({"errors": {"search": {"rate": 2.0}}}),
            "errors.search.rate",
        ),
        (
            json!({"errors": {"search": {"rate": 0.5, "statuses": [200]}}}),
            "errors.search.statuses",
        ),
        (
            json!({"errors": {"search": {"rate": 0.5, "retry_after_secs": u64::MAX}}}),
            "errors.search.retry_after_secs",
        ),
        (
            json!({"malformed_rate": {"search": -1.0}}),
            "malformed_rate",
        ),
        (json!({"fail_next": [["search", 99]]}), "fail_next"),
        (
            json!({"fail_after_processing": vec![json!(["search", 503]); 1001]}),
            "fail_after_processing",
        ),
    ] {
        let a = s.control_json(Method::PUT, "/_sandbox/faults", &body).await;
        refused(&a, 400, what);
    }
    assert_eq!(
        s.control.faults(),
        Default::default(),
        "nothing refused was applied"
    );
    let a = s.api_call(&token).await.expect("answers at once");
    assert_eq!(a.status, 200);
}

#[tokio::test]
async fn options_past_their_bounds_fail_the_start() {
    let mut huge_ttl = options();
    huge_ttl.token_ttl = Duration::from_secs(u64::MAX);
    let mut huge_expiry = options();
    huge_expiry.faults.token_expires_after_secs = Some(u64::MAX);
    for (opts, what) in [
        (huge_ttl, "token_ttl"),
        (huge_expiry, "token_expires_after_secs"),
    ] {
        match Detached::start(opts) {
            Ok(s) => {
                let token = s.token().await.expect("a token");
                let after = s.api_call(&token).await.map(|a| a.status);
                panic!("started with a bad {what}; then an API call gave {after:?}");
            }
            Err(e) => {
                assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{e}");
                assert!(e.to_string().contains(what), "{e}");
            }
        }
    }
}

#[tokio::test]
async fn expired_tokens_are_dropped_and_the_table_is_capped() {
    let mut opts = options();
    opts.token_ttl = Duration::from_secs(60);
    opts.max_issued_tokens = 20;
    let s = Detached::start(opts).expect("starts");
    for _ in 0..5 {
        s.token().await.expect("a token");
    }
    assert_eq!(s.control.issued_tokens(), 5);
    s.control.advance_clock(Duration::from_secs(61));
    s.token().await.expect("a token");
    assert_eq!(
        s.control.issued_tokens(),
        1,
        "the five expired ones are gone"
    );

    let mut tokens = Vec::new();
    for _ in 0..30 {
        tokens.push(s.token().await.expect("a token"));
    }
    assert_eq!(s.control.issued_tokens(), 20, "capped");
    let newest = s.api_call(&tokens[29]).await.expect("answers");
    assert_eq!(newest.status, 200, "{}", newest.body);
    let evicted = s.api_call(&tokens[0]).await.expect("answers");
    assert_eq!(
        evicted.status, 401,
        "the oldest went first: {}",
        evicted.body
    );
}

#[tokio::test]
async fn texts_and_query_strings_past_their_bounds_are_refused() {
    let s = Detached::start(options()).expect("starts");
    let token = s.token().await.expect("a token");
    let long = "x".repeat(10_000);
    let search = format!(
        "/troubleTicket?ctxid=TCKTNG&sctxid=wse&reportedBy={}",
        "d".repeat(10_000)
    );
    let a = s
        .send(Method::GET, &search, Some(&token), None)
        .await
        .expect("answers");
    refused(&a, 400, "reportedBy");

    let id = s
        .control
        .ticket_ids()
        .into_iter()
        .next()
        .expect("a seeded ticket");
    let note = s
        .control_json(
            Method::POST,
            &format!("/_sandbox/tickets/{id}/notes"),
            &json!({"type": "Orange comments", "text": long}),
        )
        .await;
    refused(&note, 400, "text");
    let status = s
        .control_json(
            Method::POST,
            &format!("/_sandbox/tickets/{id}/status"),
            &json!({"status": "ongoing", "reason": long}),
        )
        .await;
    refused(&status, 400, "reason");
    let service = s
        .control
        .ticket(&id)
        .and_then(|t| t.service)
        .expect("a service");
    let comment = s
        .send(
            Method::PATCH,
            &format!("/troubleTicket/{id}"),
            Some(&token),
            Some(
                json!({"note": {"date": "2023-08-28T14:40:38.041Z", "type": "Comments", "text": long},
                       "relatedEntity": {"id": service.as_str(), "role": "orangeServiceNumber"}})
                .to_string()
                .into_bytes(),
            ),
        )
        .await
        .expect("answers");
    refused(&comment, 400, "note.text");
}

#[tokio::test]
async fn an_oversized_control_body_gets_orange_s_413() {
    let s = Detached::start(options()).expect("starts");
    // Just over the limit: small enough to be written whole before the 413 comes back (a body
    // of megabytes races the server's early answer and can end in a reset connection instead).
    let big = vec![b' '; 64 * 1024 + 1024]; // MAX_CONTROL_BODY is 64 KiB
    let a = s
        .send(Method::PUT, "/_sandbox/faults", None, Some(big))
        .await
        .expect("answers");
    assert_eq!(a.status, 413, "{}", a.body);
    serde_json::from_str::<ErrorEnvelope>(&a.body).expect("Orange's error shape");
}

// -------------------------------------------------------------------------------------------
// Arbitrary JSON at every control route

/// Keys the control routes read, so that generated objects often hit a real field.
const KEYS: &[&str] = &[
    "steps",
    "seconds",
    "status",
    "reason",
    "type",
    "text",
    "latency_ms",
    "latency_ms_by_op",
    "errors",
    "rate",
    "statuses",
    "retry_after_secs",
    "malformed_rate",
    "token_expires_after_calls",
    "token_expires_after_secs",
    "fail_next",
    "fail_after_processing",
    "search",
    "token",
    "get_ticket",
];

/// Numbers at their edges: huge, negative, fractional.
fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        Just(Value::from(u64::MAX)),
        Just(Value::from(u32::MAX)),
        Just(Value::from(-1)),
        (-1e300f64..1e300f64).prop_map(Value::from),
        (0u64..1000).prop_map(Value::from),
        (0.0f64..1.0).prop_map(Value::from),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(KEYS).prop_map(str::to_owned),
        1 => "[a-z_]{0,12}",
    ]
}

/// Any JSON value, up to a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        number(),
        proptest::sample::select(&["ongoing", "closed", "nope", "", "503", "search"][..])
            .prop_map(Value::from),
        ".{0,40}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            proptest::collection::btree_map(key(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// An object of some of `keys`, each with an edge number (the inputs most likely to overflow),
/// nested where the route expects a structure.
fn edge_object(keys: &'static [&'static str]) -> impl Strategy<Value = Value> {
    proptest::collection::btree_map(proptest::sample::select(keys), number(), 1..=keys.len())
        .prop_map(|m| {
            let object = m.into_iter().map(|(k, v)| {
                let v = match k {
                    "errors" => {
                        json!({"search": {"rate": 0.5, "statuses": [503], "retry_after_secs": v}})
                    }
                    "malformed_rate" => json!({"get_ticket": v}),
                    "fail_next" | "fail_after_processing" => json!([["search", v]]),
                    _ => v,
                };
                (k.to_owned(), v)
            });
            Value::Object(object.collect())
        })
}

/// Every control route: method, path (`{id}`: a ticket id), and the keys its body has.
const ROUTES: &[(&str, &str, &[&str])] = &[
    ("GET", "/_sandbox/counters", &[]),
    ("POST", "/_sandbox/reset", &[]),
    (
        "POST",
        "/_sandbox/tickets/{id}/status",
        &["status", "reason"],
    ),
    ("POST", "/_sandbox/tickets/{id}/notes", &["type", "text"]),
    ("POST", "/_sandbox/advance", &["steps", "seconds"]),
    ("GET", "/_sandbox/faults", &[]),
    ("PUT", "/_sandbox/faults", FAULT_KEYS),
];

const FAULT_KEYS: &[&str] = &[
    "latency_ms",
    "latency_ms_by_op",
    "errors",
    "malformed_rate",
    "token_expires_after_calls",
    "token_expires_after_secs",
    "fail_next",
    "fail_after_processing",
];

/// A route and a body for it: any JSON, or its own keys with edge numbers.
fn request() -> impl Strategy<Value = ((&'static str, &'static str), Value)> {
    proptest::sample::select(ROUTES).prop_flat_map(|(method, path, keys)| {
        let body = if keys.is_empty() {
            json_value().boxed()
        } else {
            prop_oneof![json_value(), edge_object(keys)].boxed()
        };
        (Just((method, path)), body)
    })
}

fn ticket_id() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just(String::new()), // the seeded ticket, filled in by the test
        1 => ".{0,20}",
        1 => "[0-9]{1,12}",
    ]
}

/// A detached sandbox, a runtime to drive requests from a synchronous test, a token and the
/// id of a seeded ticket.
struct Probe {
    s: Detached,
    runtime: tokio::runtime::Runtime,
    token: String,
    seeded: String,
}

impl Probe {
    fn start() -> Self {
        let s = Detached::start(options()).expect("starts");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let token = runtime.block_on(s.token()).expect("a token");
        let seeded = s
            .control
            .ticket_ids()
            .into_iter()
            .next()
            .expect("a seeded ticket")
            .to_string();
        Self {
            s,
            runtime,
            token,
            seeded,
        }
    }

    /// Sends `body` to a control route (`id` replaces `{id}`; empty: the seeded ticket), then
    /// an API call, then clears the faults. `Err` says what went wrong: no answer, a status
    /// other than 2xx/4xx, a 4xx not in Orange's shape, or an API that no longer answers.
    fn check(&self, method: &str, path: &str, id: &str, body: &Value) -> Result<(), String> {
        let id = if id.is_empty() { &self.seeded } else { id };
        let mut url = reqwest::Url::parse(&self.s.url("/")).expect("a URL");
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.clear();
            for part in path.trim_start_matches('/').split('/') {
                segments.push(if part == "{id}" { id } else { part });
            }
        }
        let what = format!("{method} {path} ({id}) {body}");
        let method = Method::from_bytes(method.as_bytes()).expect("a method");
        let (answer, api) = self.runtime.block_on(async {
            let answer = self
                .s
                .http
                .request(method, url)
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await;
            let answer = match answer {
                Ok(res) => Ok(read(res).await),
                Err(e) => Err(e),
            };
            let api = self.s.api_call(&self.token).await;
            let _ = self
                .s
                .send(Method::PUT, "/_sandbox/faults", None, Some(b"{}".to_vec()))
                .await;
            (answer, api)
        });
        let answer = answer.map_err(|e| format!("{what}: no answer: {e}"))?;
        if !(200..300).contains(&answer.status) && !(400..500).contains(&answer.status) {
            return Err(format!("{what}: {} {}", answer.status, answer.body));
        }
        if answer.status >= 400 && serde_json::from_str::<ErrorEnvelope>(&answer.body).is_err() {
            return Err(format!("{what}: not Orange's error shape: {}", answer.body));
        }
        api.map(|_| ())
            .map_err(|e| format!("after {what} the API no longer answers: {e}"))
    }
}

#[test]
fn every_known_key_of_every_control_route_takes_edge_numbers() {
    let p = Probe::start();
    let edges = [
        json!(u64::MAX),
        json!(u32::MAX),
        json!(i64::MAX),
        json!(i64::MIN),
        json!(-1),
        json!(0),
        json!(1e300),
        json!(-0.5),
        json!(9_300_000_000_000_000_u64),
    ];
    let mut failures = Vec::new();
    for (method, path, keys) in ROUTES {
        for key in *keys {
            for edge in &edges {
                let body = match *key {
                    "errors" => {
                        json!({"errors": {"search": {"rate": 0.5, "retry_after_secs": edge}}})
                    }
                    "malformed_rate" => json!({"malformed_rate": {"get_ticket": edge}}),
                    "latency_ms_by_op" => json!({"latency_ms_by_op": {"get_ticket": edge}}),
                    "fail_next" | "fail_after_processing" => json!({*key: [["search", edge]]}),
                    "type" => json!({"type": "x", "text": edge}),
                    _ => json!({*key: edge}),
                };
                if let Err(e) = p.check(method, path, "", &body) {
                    let stuck = e.contains("no answer") || e.contains("no longer answers");
                    failures.push(e);
                    // A stuck sandbox answers nothing more: what follows would only time out.
                    assert!(!stuck, "{failures:#?}");
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn arbitrary_json_at_every_control_route_gets_a_2xx_or_4xx_and_a_live_server() {
    let p = Probe::start();
    let config = ProptestConfig {
        cases: 200,
        // A failing case may have left the sandbox stuck: every retry then waits out `STUCK`.
        max_shrink_iters: 8,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |((route, body) in request(), id in ticket_id())| {
        let (method, path) = route;
        p.check(method, path, &id, &body).map_err(TestCaseError::fail)?;
    });
}
