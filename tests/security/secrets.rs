//! No configured secret reaches the logs: a representative run (profile, create, comment, show,
//! search, a watcher pass that delivers) with every event and span of every crate captured at
//! trace level — ours, serenity's, poise's, reqwest's, hyper's, rustls', sled's (`log` records
//! included) — must not contain the Discord token, the Orange client secret (alone or in its
//! Basic header), nor any bearer token the Orange sandbox issued.
//!
//! The filter is the bot's own (`telemetry::filter`) asked for `trace`, as `RUST_LOG=trace` would:
//! it keeps tungstenite below trace, where it dumps the gateway's IDENTIFY, token included.
//!
//! The bearer tokens are taken on the wire: Orange is reached through a recording proxy that
//! keeps every `Authorization` header the bot sent and every token the token endpoint answered.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use orange_ticket_bot::telemetry;
use secrecy::SecretString;
use tracing_subscriber::fmt::format::FmtSpan;
use url::Url;

use crate::support::fake_discord::CHANNEL_ID;
use crate::support::test_bot::{TestBot, ticket};
use crate::support::tickets::{open_ticket, set_profile};

const DISCORD_TOKEN: &str = "MTEwMDAwMDAwMDAwMDAwMDAwMQ.Gsecret.discord-token-do-not-log";
const ORANGE_SECRET: &str = "orange-client-secret-do-not-log";

/// What the trace-level subscriber wrote.
#[derive(Debug, Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// Installs the process-wide subscriber (and the `log` bridge) writing here everything the
    /// bot logs when asked for trace (`RUST_LOG=trace`): the filter is the bot's own.
    fn install() -> Self {
        let captured = Captured::default();
        let writer = captured.clone();
        tracing_subscriber::fmt()
            .with_env_filter(telemetry::filter("trace"))
            .with_span_events(FmtSpan::NEW | FmtSpan::CLOSE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .try_init()
            .expect("the only subscriber of this test binary");
        captured
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A reverse proxy in front of the Orange sandbox that records the credentials on the wire.
#[derive(Debug, Default)]
struct Recorder {
    target: OnceLock<Url>,
    /// Every `Authorization` header value the bot sent (Basic, then Bearer ones).
    authorizations: Mutex<Vec<String>>,
    /// Every `access_token` the token endpoint answered.
    issued: Mutex<Vec<String>>,
}

impl Recorder {
    /// Serves on a loopback port; returns the recorder and its base URL.
    async fn start() -> (Arc<Self>, Url) {
        let recorder = Arc::new(Self::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url =
            Url::parse(&format!("http://{}", listener.local_addr().expect("addr"))).expect("url");
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(recorder.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (recorder, url)
    }

    fn secrets_seen(&self) -> (Vec<String>, Vec<String>) {
        (
            self.authorizations.lock().expect("lock").clone(),
            self.issued.lock().expect("lock").clone(),
        )
    }
}

async fn forward(State(recorder): State<Arc<Recorder>>, request: Request) -> Response {
    let target = recorder.target.get().expect("the sandbox is known").clone();
    let (parts, body) = request.into_parts();
    if let Some(auth) = parts.headers.get(header::AUTHORIZATION) {
        let value = auth.to_str().unwrap_or_default().to_owned();
        recorder.authorizations.lock().expect("lock").push(value);
    }
    let mut url = target;
    url.set_path(parts.uri.path());
    url.set_query(parts.uri.query());
    let body = to_bytes(body, 1 << 20).await.unwrap_or_default();
    let mut headers: HeaderMap = parts.headers.clone();
    headers.remove(header::HOST);
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let Ok(answer) = client
        .request(parts.method, url)
        .headers(headers)
        .body(body)
        .send()
        .await
    else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let status = answer.status();
    let mut headers = answer.headers().clone();
    headers.remove(header::TRANSFER_ENCODING);
    headers.remove(header::CONTENT_LENGTH);
    let bytes = answer.bytes().await.unwrap_or_default();
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(&bytes)
        && let Some(token) = json["access_token"].as_str()
    {
        recorder.issued.lock().expect("lock").push(token.to_owned());
    }
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_logs_even_at_trace_level() {
    let captured = Captured::install();
    let (recorder, proxy) = Recorder::start().await;
    let bot = TestBot::start_prepared(
        // The sandbox accepts only this secret, and the bot is given it as its Orange secret.
        |s| s.sandbox.client_secret = ORANGE_SECRET.into(),
        |_| {},
        |s| {
            s.secrets.discord_token = Some(SecretString::from(DISCORD_TOKEN));
            // The bot's own settings keep the default sandbox section, as against real Orange.
            s.sandbox.client_secret = "sandbox-secret".into();
            recorder
                .target
                .set(s.orange.base_url.clone())
                .expect("set once");
            s.orange.token_url = proxy.join(s.orange.token_url.path()).expect("token URL");
            s.orange.base_url = proxy.clone();
        },
    )
    .await;

    run_every_kind_of_call(&bot).await;
    bot.shutdown().await;

    let logs = captured.text();
    let (authorizations, issued) = recorder.secrets_seen();
    assert!(
        !issued.is_empty(),
        "the bot fetched a token through the proxy"
    );
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("sandbox-client:{ORANGE_SECRET}"));
    assert!(
        authorizations.iter().any(|a| a.contains(&basic)),
        "the bot authenticated with the secret under test: {authorizations:?}"
    );
    // The capture saw the dependencies' trace-level events, not only ours.
    for target in [
        "TRACE",
        "serenity",
        "reqwest",
        "hyper_util",
        "orange_ticket_bot",
    ] {
        assert!(logs.contains(target), "no {target} in the captured logs");
    }
    let mut secrets = vec![DISCORD_TOKEN.to_owned(), ORANGE_SECRET.to_owned(), basic];
    secrets.extend(issued);
    secrets.extend(
        authorizations
            .iter()
            .filter_map(|a| a.strip_prefix("Bearer ").map(str::to_owned)),
    );
    for secret in &secrets {
        assert_not_in(&logs, secret);
    }
}

/// Profile, create (slash, then the form), comment, show, search, and a watcher pass that posts
/// a change: every kind of Orange and Discord call the bot makes.
async fn run_every_kind_of_call(bot: &TestBot) {
    set_profile(bot).await;
    let opened = open_ticket(bot, "Link down", Duration::from_secs(10)).await;
    let (id, thread) = (opened.id.to_string(), opened.thread);
    let (_, commented) = bot
        .ask(
            &ticket("comment")
                .option("text", "Rebooted the CPE")
                .in_thread(thread, CHANNEL_ID),
        )
        .await;
    assert!(
        commented.content().starts_with("Comment added"),
        "{commented:?}"
    );
    let (_, shown) = bot.ask(&ticket("show").option("id", id.as_str())).await;
    assert!(shown.embed_title().contains(&id), "{shown:?}");
    let (_, found) = bot.ask(&ticket("search")).await;
    assert!(!found.embeds().is_empty(), "{found:?}");
    bot.sandbox().advance(1);
    let pass = bot.watcher().poll_once().await;
    assert!(
        pass.delivered >= 1,
        "the watcher posted the change: {pass:?}"
    );
}

/// Fails if `logs` hold `secret`.
fn assert_not_in(logs: &str, secret: &str) {
    // As text, and as the bytes a frame dump shows (hex, or a list of decimals).
    let bytes = secret.as_bytes();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let decimals = bytes
        .iter()
        .map(u8::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let leaks: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains(secret) || l.contains(&hex) || l.contains(&decimals))
        .collect();
    assert!(
        leaks.is_empty(),
        "a secret is in {} log line(s) ({} bytes of logs), first: {}",
        leaks.len(),
        logs.len(),
        leaks[0]
    );
}
