//! The gateway WebSocket: HELLO, IDENTIFY → READY, heartbeat ACKs, RESUME → RESUMED, and the
//! dispatches and closes the test asks for. Plain text frames, no compression (serenity reads
//! them fine although IDENTIFY asks for compression).

use std::sync::Arc;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::Shared;
use super::state::{APPLICATION_ID, GUILD_ID, GatewayFrame, bot_user};

/// What the test asks of the connected session.
#[derive(Debug)]
pub enum Command {
    Dispatch { event: String, data: Value },
    Close(u16),
}

/// Long enough that heartbeats stay out of the way of a test; serenity sends one when asked.
const HEARTBEAT_INTERVAL_MS: u64 = 41_250;

/// Serves one WebSocket connection until either side closes it.
pub async fn serve(shared: Arc<Shared>, stream: TcpStream) {
    let Ok(ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    let (mut sink, mut source) = ws.split();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut seq: u64 = 0;
    let session_id = format!("fake-session-{}", shared.update(|s| s.next_id()));

    let hello = json!({"op": 10, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}});
    if send(&shared, &mut sink, hello).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            frame = source.next() => {
                let Some(Ok(frame)) = frame else { break };
                let text = match frame {
                    Frame::Text(text) => text,
                    Frame::Close(_) => break,
                    _ => continue,
                };
                let Ok(payload) = serde_json::from_str::<Value>(&text) else {
                    shared.update(|s| s.fail(format!("gateway: bot sent invalid JSON: {text}")));
                    continue;
                };
                let op = payload["op"].as_u64().unwrap_or(u64::MAX);
                shared.update(|s| {
                    let at = s.elapsed();
                    s.frames.push(GatewayFrame { at, from_bot: true, op, event: None,
                        payload: redact_token(&payload) });
                });
                let reply = match op {
                    1 => Some(json!({"op": 11})),
                    2 => {
                        seq += 1;
                        shared.update(|s| s.identifies += 1);
                        Some(ready(&shared, &session_id, seq))
                    }
                    6 => {
                        seq = payload["d"]["seq"].as_u64().unwrap_or(seq) + 1;
                        shared.update(|s| s.resumes += 1);
                        Some(json!({"op": 0, "t": "RESUMED", "s": seq, "d": {}}))
                    }
                    _ => None,
                };
                if let Some(reply) = reply {
                    if send(&shared, &mut sink, reply).await.is_err() {
                        break;
                    }
                    if op == 2 || op == 6 {
                        *shared.gateway.lock().expect("gateway") = Some(tx.clone());
                        shared.changed.notify_waiters();
                    }
                }
            }
            command = rx.recv() => {
                match command {
                    Some(Command::Dispatch { event, data }) => {
                        seq += 1;
                        let frame = json!({"op": 0, "t": event, "s": seq, "d": data});
                        if send(&shared, &mut sink, frame).await.is_err() {
                            break;
                        }
                    }
                    Some(Command::Close(code)) => {
                        let close = CloseFrame { code: CloseCode::from(code), reason: "fake".into() };
                        let _ = sink.send(Frame::Close(Some(close))).await;
                        break;
                    }
                    None => break,
                }
            }
        }
    }
    // Forget this session unless a newer one already took its place.
    let mut current = shared.gateway.lock().expect("gateway");
    if current.as_ref().is_some_and(|c| c.same_channel(&tx)) {
        *current = None;
    }
}

/// The READY dispatch; serenity requires every key of `d` here.
fn ready(shared: &Shared, session_id: &str, seq: u64) -> Value {
    json!({"op": 0, "t": "READY", "s": seq, "d": {
        "v": 10,
        "user": bot_user(),
        "guilds": [{"id": GUILD_ID.to_string(), "unavailable": true}],
        "session_id": session_id,
        "resume_gateway_url": shared.gateway_url(),
        "shard": [0, 1],
        "application": {"id": APPLICATION_ID.to_string(), "flags": 0},
    }})
}

async fn send<S>(shared: &Shared, sink: &mut S, payload: Value) -> Result<(), ()>
where
    S: SinkExt<Frame> + Unpin,
{
    shared.update(|s| {
        let at = s.elapsed();
        s.frames.push(GatewayFrame {
            at,
            from_bot: false,
            op: payload["op"].as_u64().unwrap_or_default(),
            event: payload["t"].as_str().map(str::to_owned),
            payload: payload.clone(),
        });
    });
    sink.send(Frame::Text(payload.to_string()))
        .await
        .map_err(|_| ())
}

/// IDENTIFY and RESUME carry the token; keep it out of dumps.
fn redact_token(payload: &Value) -> Value {
    let mut payload = payload.clone();
    if let Some(token) = payload.get_mut("d").and_then(|d| d.get_mut("token")) {
        *token = json!("[REDACTED]");
    }
    payload
}
