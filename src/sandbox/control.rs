//! Driving the sandbox from a test or a demo: [`SandboxControl`] in process, and the same
//! operations over HTTP under `/_sandbox/` (no auth). Also the automatic lifecycle task.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use super::bounds::{
    self, MAX_ADVANCE_STEPS, MAX_CLOCK_JUMP_SECS, MAX_NOTE_TEXT, MAX_SHORT_TEXT, text as bounded,
};
use super::error::{ApiError, code, parse_json};
use super::faults::{Counters, FaultConfig};
use super::server::{AppState, Shared};
use super::state::SandboxError;
use crate::domain::{Status, Ticket, TicketId};

/// A cheap, cloneable handle on a running sandbox's state.
#[derive(Clone)]
pub struct SandboxControl {
    shared: Arc<Shared>,
}

impl fmt::Debug for SandboxControl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxControl").finish_non_exhaustive()
    }
}

impl SandboxControl {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    /// What the sandbox has served so far.
    pub fn counters(&self) -> Counters {
        self.shared.lock().counters.clone()
    }

    /// Back to the seeded account and the start-up faults, with zeroed counters and clock.
    /// Issued tokens stay valid.
    pub fn reset(&self) {
        self.shared.reset();
    }

    /// Forces a ticket's status (any status, whatever the lifecycle says), with Orange's note.
    pub fn set_status(
        &self,
        id: &TicketId,
        status: Status,
        reason: Option<String>,
    ) -> Result<(), SandboxError> {
        self.shared
            .change(|inner| inner.world.set_status(id.as_str(), status, reason))
    }

    /// Adds a note from Orange staff, e.g. of type `Inward customer comments`.
    pub fn add_orange_note(
        &self,
        id: &TicketId,
        kind: String,
        text: String,
    ) -> Result<(), SandboxError> {
        self.shared
            .change(|inner| inner.world.add_orange_note(id.as_str(), &kind, text))
    }

    /// Moves every non-final ticket one lifecycle step, `steps` times (deterministic per seed).
    pub fn advance(&self, steps: u32) {
        self.shared.change(|inner| inner.world.advance(steps));
    }

    /// Moves the sandbox clock forward; with `auto_advance` set, the steps now due run at once.
    pub fn advance_clock(&self, by: Duration) {
        self.shared.change(|inner| {
            inner.world.advance_clock(by);
            if let Some(every) = self.shared.opts.auto_advance {
                inner.world.catch_up(every);
            }
        });
    }

    /// Replaces the fault configuration.
    pub fn set_faults(&self, faults: FaultConfig) {
        self.shared.lock().faults.config = faults;
    }

    /// The fault configuration in force (one-shot failures already used are gone).
    pub fn faults(&self) -> FaultConfig {
        self.shared.lock().faults.config.clone()
    }

    /// A ticket as the domain sees it, notes included.
    pub fn ticket(&self, id: &TicketId) -> Option<Ticket> {
        self.shared.lock().world.ticket(id.as_str()).cloned()
    }

    /// How many issued tokens the sandbox keeps (expired ones are dropped as new ones are issued).
    pub fn issued_tokens(&self) -> usize {
        self.shared.lock().tokens.len()
    }

    /// The ids of every ticket of the account, in id order.
    pub fn ticket_ids(&self) -> Vec<TicketId> {
        self.shared.lock().world.ticket_ids()
    }

    /// How many tickets the account holds.
    pub fn ticket_count(&self) -> usize {
        self.shared.lock().world.ticket_count()
    }
}

/// Runs the lifecycle every `every` of sandbox time until cancelled. Sandbox time is real time
/// plus the clock's offset, so it runs on its own as wall-clock time passes; a moved clock only
/// brings the next steps forward.
pub(crate) async fn auto_advance(shared: Arc<Shared>, every: Duration, cancel: CancellationToken) {
    // Poll more often than the period so a moved clock is noticed promptly.
    let tick = every.min(Duration::from_millis(250));
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(tick) => shared.change(|inner| inner.world.catch_up(every)),
        }
    }
}

/// `/_sandbox/...`.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/_sandbox/counters", get(counters))
        .route("/_sandbox/reset", post(reset))
        .route("/_sandbox/tickets/{id}/status", post(set_status))
        .route("/_sandbox/tickets/{id}/notes", post(add_note))
        .route("/_sandbox/advance", post(advance))
        .route("/_sandbox/faults", get(get_faults).put(put_faults))
        .layer(DefaultBodyLimit::max(bounds::MAX_CONTROL_BODY))
}

/// The request body, or Orange's error for one that could not be read (too large: 413).
fn body(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|e| {
        let status = e.status();
        let message = status.canonical_reason().unwrap_or("Bad request");
        ApiError::new(status, code::BAD_REQUEST, message, e.body_text())
    })
}

fn control(shared: AppState) -> SandboxControl {
    SandboxControl::new(shared)
}

fn ticket_id(raw: &str) -> Result<TicketId, ApiError> {
    TicketId::parse(raw).map_err(|_| ApiError::from(SandboxError::UnknownTicket(raw.to_owned())))
}

async fn counters(State(s): State<AppState>) -> Response {
    axum::Json(control(s).counters()).into_response()
}

async fn reset(State(s): State<AppState>) -> StatusCode {
    control(s).reset();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    status: String,
    #[serde(default)]
    reason: Option<String>,
}

async fn set_status(
    State(s): State<AppState>,
    Path(id): Path<String>,
    raw: Result<Bytes, BytesRejection>,
) -> Response {
    let result = (|| {
        let body: StatusBody = parse_json(&body(raw)?)?;
        bounded(
            "reason",
            body.reason.as_deref().unwrap_or(""),
            MAX_SHORT_TEXT,
        )?;
        let status = Status::from_wire(&body.status);
        if let Status::Other(v) = &status {
            return Err(ApiError::bad_request(format!("unknown status `{v}`")));
        }
        control(s).set_status(&ticket_id(&id)?, status, body.reason)?;
        Ok(())
    })();
    no_content(result)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteBody {
    #[serde(rename = "type")]
    kind: String,
    text: String,
}

async fn add_note(
    State(s): State<AppState>,
    Path(id): Path<String>,
    raw: Result<Bytes, BytesRejection>,
) -> Response {
    let result = (|| {
        let body: NoteBody = parse_json(&body(raw)?)?;
        bounded("type", &body.kind, MAX_SHORT_TEXT)?;
        bounded("text", &body.text, MAX_NOTE_TEXT)?;
        control(s).add_orange_note(&ticket_id(&id)?, body.kind, body.text)?;
        Ok(())
    })();
    no_content(result)
}

/// `{"steps": 1}` or `{"seconds": 3600}` (at most [`MAX_ADVANCE_STEPS`] steps and
/// [`MAX_CLOCK_JUMP_SECS`] seconds).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceBody {
    #[serde(default)]
    steps: Option<u32>,
    #[serde(default)]
    seconds: Option<u64>,
}

async fn advance(State(s): State<AppState>, raw: Result<Bytes, BytesRejection>) -> Response {
    let result = body(raw)
        .and_then(|b| parse_json::<AdvanceBody>(&b))
        .and_then(|b| {
            let c = control(s);
            match (b.steps, b.seconds) {
                (None, None) => Err(ApiError::bad_request("expected steps or seconds")),
                (Some(n), _) if n > MAX_ADVANCE_STEPS => Err(ApiError::bad_request(format!(
                    "steps must be at most {MAX_ADVANCE_STEPS}, got {n}"
                ))),
                (_, Some(secs)) if secs > MAX_CLOCK_JUMP_SECS => Err(ApiError::bad_request(
                    format!("seconds must be at most {MAX_CLOCK_JUMP_SECS}, got {secs}"),
                )),
                (steps, seconds) => {
                    if let Some(secs) = seconds {
                        c.advance_clock(Duration::from_secs(secs));
                    }
                    if let Some(n) = steps {
                        c.advance(n);
                    }
                    Ok(())
                }
            }
        });
    no_content(result)
}

async fn get_faults(State(s): State<AppState>) -> Response {
    axum::Json(control(s).faults()).into_response()
}

async fn put_faults(State(s): State<AppState>, raw: Result<Bytes, BytesRejection>) -> Response {
    let result = body(raw)
        .and_then(|b| parse_json::<FaultConfig>(&b))
        .and_then(|f| {
            bounds::check_faults(&f)
                .map(|()| f)
                .map_err(ApiError::bad_request)
        })
        .map(|f| control(s).set_faults(f));
    no_content(result)
}

fn no_content(result: Result<(), ApiError>) -> Response {
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => e.into_response(),
    }
}
