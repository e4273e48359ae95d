//! A fake Discord on one loopback port: the REST API under `/api/v10` ([`rest`]) and the gateway
//! WebSocket at `/gateway` ([`gateway`]). The real, unmodified serenity/poise stack connects to it
//! through `HttpBuilder::proxy`; every request is recorded ([`state`]) and its body validated
//! against Discord's OpenAPI spec ([`validate`]); tests inject interactions ([`payloads`]),
//! faults ([`faults`]) and gateway events, set the bot's permissions in its guild ([`guild`]),
//! and wait for what the bot does.
//!
//! Problems the bot causes (an unknown route, an invalid body, a late or second interaction
//! callback, a message that would ping someone) are recorded as failures: dropping the fake
//! panics with them unless a test took them with [`FakeDiscord::take_failures`].

pub mod faults;
pub mod gateway;
pub mod guild;
pub mod mentions;
pub mod payloads;
pub mod rest;
pub mod state;
pub mod uploads;
pub mod validate;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

pub use faults::Fault;
pub use payloads::InteractionPayload;
pub use state::{
    APPLICATION_ID, BOT_USER_ID, CHANNEL_ID, DM_CHANNEL_ID, FORUM_ID, FORUM_TAG_CLOSED,
    FORUM_TAG_OPEN, GUILD_ID, RecordedRequest, State, USER_ID,
};

/// How long the `wait_for*` helpers wait by default.
pub const WAIT: Duration = Duration::from_secs(5);

/// What the fake shares between its connections and the test.
#[derive(Debug)]
pub struct Shared {
    state: Mutex<State>,
    faults: Mutex<Vec<faults::ArmedFault>>,
    /// Woken on every change, for the `wait_for*` helpers.
    changed: Notify,
    /// The connected gateway session, once it identified or resumed.
    gateway: Mutex<Option<mpsc::UnboundedSender<gateway::Command>>>,
    addr: SocketAddr,
}

impl Shared {
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("fake Discord state")
    }

    /// Applies `f` to the state and wakes the waiters.
    pub fn update<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let out = f(&mut self.state());
        self.changed.notify_waiters();
        out
    }

    pub fn gateway_url(&self) -> String {
        format!("ws://{}/gateway", self.addr)
    }
}

/// A running fake Discord. Cheap to share by reference; stops when dropped.
#[derive(Debug)]
pub struct FakeDiscord {
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

/// An interaction the test injected.
#[derive(Debug, Clone)]
pub struct Injected {
    pub id: u64,
    pub token: String,
}

impl FakeDiscord {
    /// Starts the fake on a free loopback port.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let shared = Arc::new(Shared {
            state: Mutex::new(State::new()),
            faults: Mutex::new(Vec::new()),
            changed: Notify::new(),
            gateway: Mutex::new(None),
            addr,
        });
        let (http_tx, http_rx) = mpsc::unbounded_channel();
        let app = rest::router(Arc::clone(&shared));
        let http = tokio::spawn(async move {
            let listener = ChannelListener { rx: http_rx, addr };
            let _ = axum::serve(listener, app).await;
        });
        let accept_shared = Arc::clone(&shared);
        let server = tokio::spawn(async move {
            let _http = AbortOnDrop(http);
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                // Without it every small response waits ~44 ms for the peer's delayed ACK.
                let _ = stream.set_nodelay(true);
                let shared = Arc::clone(&accept_shared);
                let http_tx = http_tx.clone();
                tokio::spawn(async move {
                    if is_gateway_upgrade(&stream).await {
                        gateway::serve(shared, stream).await;
                    } else {
                        let _ = http_tx.send(stream);
                    }
                });
            }
        });
        FakeDiscord { shared, server }
    }

    /// The base URL to give the bot (`discord.api_base_url`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.shared.addr)
    }

    /// A snapshot of the state, for assertions.
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.shared.state()
    }

    /// Requests the fake refused (4xx/5xx) of its own accord, not by an armed fault.
    pub fn refused(&self) -> Vec<RecordedRequest> {
        self.state()
            .requests
            .iter()
            .filter(|r| r.status >= 400 && !r.injected)
            .cloned()
            .collect()
    }

    /// All requests so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state().requests.clone()
    }

    /// The requests that created or edited a message (see [`RecordedRequest::message`]), e.g. to
    /// assert that each turned pings off with [`RecordedRequest::allowed_mentions_none`].
    pub fn message_requests(&self) -> Vec<RecordedRequest> {
        let state = self.state();
        let carries_message = |r: &&RecordedRequest| r.message().is_some();
        state
            .requests
            .iter()
            .filter(carries_message)
            .cloned()
            .collect()
    }

    /// The message object Discord returns for message `id` (e.g. to attach to a button click
    /// with [`InteractionPayload::on_message`]).
    pub fn message_json(&self, id: u64) -> Value {
        let state = self.state();
        assert!(
            state.messages.contains_key(&id),
            "no message {id} in the fake\n{}",
            state.dump()
        );
        state.message_json(id)
    }

    /// The files attached to a message `body` (as the fake stored it), in its order.
    pub fn files_of(&self, body: &Value) -> Vec<uploads::StoredFile> {
        let state = self.state();
        body["attachments"]
            .as_array()
            .map(|a| a.as_slice())
            .unwrap_or_default()
            .iter()
            .filter_map(|a| a["id"].as_str()?.parse::<u64>().ok())
            .filter_map(|id| state.files.get(&id).cloned())
            .collect()
    }

    /// The messages of a channel (or thread), in creation order.
    pub fn messages_in(&self, channel_id: u64) -> Vec<state::Message> {
        self.state().messages_in(channel_id)
    }

    /// The threads the bot created (including forum posts), in creation order.
    pub fn threads(&self) -> Vec<state::Channel> {
        let state = self.state();
        let threads = state.thread_order.iter();
        threads
            .filter_map(|id| state.channels.get(id))
            .cloned()
            .collect()
    }

    /// Takes the recorded failures, so an expected failure does not fail the test on drop.
    pub fn take_failures(&self) -> Vec<String> {
        std::mem::take(&mut self.state().failures)
    }

    /// Answers the next `times` calls of `route` (e.g. `"POST /channels/{channel_id}/messages"`)
    /// with `fault`.
    pub fn fail_next(&self, route: &str, fault: Fault, times: usize) {
        assert!(
            rest::ROUTES.contains(&route),
            "unknown route {route}; known: {:#?}",
            rest::ROUTES
        );
        self.shared
            .faults
            .lock()
            .expect("faults")
            .push(faults::ArmedFault {
                route: route.to_owned(),
                fault,
                remaining: times,
            });
    }

    /// Sets what the bot's role grants in the guild (`@everyone` keeps its own permissions).
    pub fn set_bot_permissions(&self, bits: u64) {
        self.shared.update(|s| s.guild.bot_role_permissions = bits);
    }

    /// From now on the REST API answers requests made with `token` with 401, as Discord does
    /// for a reset token (the gateway is not affected).
    pub fn revoke_token(&self, token: &str) {
        self.shared
            .update(|s| s.revoked_tokens.push(token.to_owned()));
    }

    /// Everything the fake saw, as text.
    pub fn dump(&self) -> String {
        self.state().dump()
    }

    /// Waits until `check` returns `Some`, re-checking on every change; on timeout panics with
    /// `what` and everything the fake saw.
    pub async fn wait_for<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut check: impl FnMut(&State) -> Option<T>,
    ) -> T {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let changed = self.shared.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if let Some(found) = check(&self.state()) {
                return found;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                panic!(
                    "fake Discord: timed out after {timeout:?} waiting for {what}\n{}",
                    self.dump()
                );
            }
        }
    }

    /// Waits for the first message (in creation order) that `check` accepts, e.g. a post in a
    /// ticket thread; `what` names it in the panic on timeout.
    pub async fn wait_for_message(
        &self,
        what: &str,
        mut check: impl FnMut(&state::Message) -> bool,
    ) -> state::Message {
        self.wait_for(what, WAIT, |s| {
            let mut messages = s.message_order.iter().filter_map(|id| s.messages.get(id));
            messages.find(|m| check(m)).cloned()
        })
        .await
    }

    /// Waits for the `n`-th (1-based) request on `route` and returns it.
    pub async fn wait_for_request(&self, route: &str, n: usize) -> RecordedRequest {
        self.wait_for(&format!("request #{n} on {route}"), WAIT, |s| {
            s.requests
                .iter()
                .filter(|r| r.route == Some(route))
                .nth(n - 1)
                .cloned()
        })
        .await
    }

    /// Whether a gateway session is up (identified or resumed, not closed since).
    pub fn has_session(&self) -> bool {
        self.shared.gateway.lock().expect("gateway").is_some()
    }

    /// Waits until a gateway session identified (or resumed) and can take dispatches.
    pub async fn wait_for_session(&self) {
        self.wait_for("a gateway session (IDENTIFY or RESUME)", WAIT, |_| {
            self.has_session().then_some(())
        })
        .await;
    }

    /// Sends a dispatch event (`op 0`) to the bot.
    pub async fn dispatch(&self, event: &str, data: Value) {
        self.wait_for_session().await;
        let sent = self
            .shared
            .gateway
            .lock()
            .expect("gateway")
            .as_ref()
            .map(|tx| {
                tx.send(gateway::Command::Dispatch {
                    event: event.to_owned(),
                    data,
                })
            });
        assert!(matches!(sent, Some(Ok(()))), "gateway session went away");
    }

    /// Closes the gateway socket with `code` (4000 = "unknown error, reconnect").
    pub async fn close_gateway(&self, code: u16) {
        self.wait_for_session().await;
        if let Some(tx) = self.shared.gateway.lock().expect("gateway").take() {
            let _ = tx.send(gateway::Command::Close(code));
        }
    }

    /// Records an interaction as injected now, without sending it (for tests of the REST side).
    pub fn register_interaction(&self, payload: &InteractionPayload) -> (Injected, Value) {
        self.shared.update(|s| {
            let id = s.next_id();
            let token = format!("interaction-token-{id}");
            let json = payload.to_json(id, &token);
            s.interactions.insert(
                id,
                state::Interaction {
                    id,
                    token: token.clone(),
                    channel_id: payload.channel_id,
                    injected_at: std::time::Instant::now(),
                    callback: None,
                    callback_after: None,
                    original_message: None,
                    message_id: payload.message_id(),
                },
            );
            (Injected { id, token }, json)
        })
    }

    /// Sends an interaction to the bot (`INTERACTION_CREATE`); the 3 s window starts now.
    pub async fn inject(&self, payload: &InteractionPayload) -> Injected {
        self.wait_for_session().await;
        let (injected, json) = self.register_interaction(payload);
        self.shared.update(|s| {
            if let Some(i) = s.interactions.get_mut(&injected.id) {
                i.injected_at = std::time::Instant::now();
            }
        });
        self.dispatch("INTERACTION_CREATE", json).await;
        injected
    }

    /// Makes an injected interaction look `age` old (to test the 3 s window without sleeping).
    pub fn age_interaction(&self, injected: &Injected, age: Duration) {
        self.shared.update(|s| {
            if let Some(i) = s.interactions.get_mut(&injected.id) {
                i.injected_at = std::time::Instant::now() - age;
            }
        });
    }

    /// Waits for the bot's first accepted callback to `injected` and returns its body.
    pub async fn wait_for_callback(&self, injected: &Injected) -> Value {
        self.wait_for(
            &format!("the callback to interaction {}", injected.id),
            WAIT,
            |s| s.interactions.get(&injected.id)?.callback.clone(),
        )
        .await
    }

    /// Waits for the message that answers `injected` and returns it: a type 4 callback's
    /// message, the message a type 7 updated, or after a deferral the first `PATCH @original`
    /// (type 5 or 6) or the first follow-up (type 5, as poise sends after `defer`).
    pub async fn wait_for_response_message(&self, injected: &Injected) -> state::Message {
        self.wait_for(
            &format!("the response message of interaction {}", injected.id),
            WAIT,
            |s| {
                let id = s.interactions.get(&injected.id)?.original_message?;
                s.messages.get(&id).cloned()
            },
        )
        .await
    }

    /// Asserts that no interaction callback arrives for `injected` within `within`.
    pub async fn assert_no_callback(&self, injected: &Injected, within: Duration) {
        tokio::time::sleep(within).await;
        let state = self.state();
        let callback = state
            .interactions
            .get(&injected.id)
            .and_then(|i| i.callback.clone());
        assert!(
            callback.is_none(),
            "unexpected callback {callback:?}\n{}",
            state.dump()
        );
    }
}

impl Drop for FakeDiscord {
    fn drop(&mut self) {
        self.server.abort();
        if let Some(tx) = self.shared.gateway.lock().expect("gateway").take() {
            let _ = tx.send(gateway::Command::Close(1000));
        }
        if std::thread::panicking() {
            return;
        }
        let state = self.shared.state();
        if !state.failures.is_empty() {
            panic!(
                "fake Discord recorded {} failure(s):\n  {}\n{}",
                state.failures.len(),
                state.failures.join("\n  "),
                state.dump()
            );
        }
    }
}

/// Aborts a task when dropped, so the HTTP server stops with the accept loop.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Whether the connection opens with `GET /gateway` (the WebSocket), not `/api/v10/...`.
async fn is_gateway_upgrade(stream: &TcpStream) -> bool {
    let mut buf = [0u8; 16];
    // Peek until the request line's path is in (a handful of bytes; one read almost always).
    for _ in 0..50 {
        match stream.peek(&mut buf).await {
            Ok(n) if n >= 12 => return buf[..n].starts_with(b"GET /gateway"),
            Ok(0) | Err(_) => return false,
            Ok(_) => tokio::time::sleep(Duration::from_millis(1)).await,
        }
    }
    false
}

/// Hands the accepted HTTP connections to axum.
struct ChannelListener {
    rx: mpsc::UnboundedReceiver<TcpStream>,
    addr: SocketAddr,
}

impl axum::serve::Listener for ChannelListener {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(stream) => (stream, self.addr),
            // The accept loop stopped: park forever; the server task is aborted with it.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.addr)
    }
}
