//! Fault injection: answer chosen routes with errors for the next N calls, or delay them.

use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use serde_json::{Value, json};

/// What to do instead of (or before) answering a request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    /// 500 Internal Server Error.
    ServerError,
    /// 503 Service Unavailable.
    Unavailable,
    /// 429 with `retry_after` in the JSON body and the rate-limit headers Discord sends.
    RateLimited { retry_after: Duration },
    /// Answer normally, but only after this delay.
    Delay(Duration),
}

/// A fault armed for one route (`"POST /channels/{channel_id}/messages"`, as in
/// [`super::state::RecordedRequest::route`]) for the next `remaining` calls.
#[derive(Debug, Clone)]
pub struct ArmedFault {
    pub route: String,
    pub fault: Fault,
    pub remaining: usize,
}

/// Takes one use of the first fault armed for `route`, if any.
pub fn take(faults: &mut Vec<ArmedFault>, route: &str) -> Option<Fault> {
    let i = faults.iter().position(|f| f.route == route)?;
    let fault = faults[i].fault;
    faults[i].remaining -= 1;
    if faults[i].remaining == 0 {
        faults.remove(i);
    }
    Some(fault)
}

/// The response Discord gives for an error fault; `None` for a delay.
pub fn response(fault: Fault) -> Option<(StatusCode, HeaderMap, Value)> {
    let mut headers = HeaderMap::new();
    match fault {
        Fault::ServerError => Some((
            StatusCode::INTERNAL_SERVER_ERROR,
            headers,
            json!({"message": "500: Internal Server Error", "code": 0}),
        )),
        Fault::Unavailable => Some((
            StatusCode::SERVICE_UNAVAILABLE,
            headers,
            json!({"message": "upstream connect error", "code": 0}),
        )),
        Fault::RateLimited { retry_after } => {
            let secs = retry_after.as_secs_f64();
            let header = |v: String| HeaderValue::from_str(&v).expect("ascii header");
            headers.insert("retry-after", header(secs.ceil().to_string()));
            headers.insert("x-ratelimit-limit", header("5".into()));
            headers.insert("x-ratelimit-remaining", header("0".into()));
            headers.insert("x-ratelimit-reset-after", header(format!("{secs:.3}")));
            headers.insert("x-ratelimit-bucket", header("fake-bucket".into()));
            headers.insert("x-ratelimit-scope", header("user".into()));
            Some((
                StatusCode::TOO_MANY_REQUESTS,
                headers,
                json!({"message": "You are being rate limited.", "retry_after": secs,
                       "global": false}),
            ))
        }
        Fault::Delay(_) => None,
    }
}
