//! One HTTP exchange with Orange: send a request, read its body up to a cap, and classify the
//! answer. The classification is a pure function of status, headers and body, shared by the token
//! path ([`super::auth`]) and the API calls ([`super::client`]); retrying is their business.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{RequestBuilder, Response, StatusCode};
use secrecy::{ExposeSecret, SecretString};

use super::Operation;
use super::convert::from_str;
use super::error::{ApiProblem, OrangeError, RequestId};
use super::retry::retry_after;
use super::wire::ErrorEnvelope;
use crate::config::OrangeSettings;
use crate::ops::Metrics;

/// Sends requests and reads answers; cheap to clone.
#[derive(Debug, Clone)]
pub(super) struct Transport {
    pub http: reqwest::Client,
    request_id_header: HeaderName,
    max_body: u64,
    /// Counts every exchange (and, for the client and the token cache, retries and fetches).
    pub metrics: Metrics,
}

/// An answer with its whole body (any status).
#[derive(Debug)]
pub(super) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
    pub request_id: RequestId,
}

/// An exchange that produced no answer to classify.
#[derive(Debug)]
pub(super) struct Lost {
    pub error: OrangeError,
    /// The request may have reached Orange (anything but a refused connection).
    pub sent: bool,
    /// Trying again could help (not so for a body over the cap).
    pub retryable: bool,
}

impl Transport {
    pub fn new(settings: &OrangeSettings, metrics: Metrics) -> Result<Self, reqwest::Error> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("orange-ticket-bot/", env!("CARGO_PKG_VERSION")));
        // A proxy from the environment cannot reach our own loopback (the embedded sandbox);
        // corporate proxies rarely exclude it themselves.
        if is_loopback(&settings.base_url) && is_loopback(&settings.token_url) {
            builder = builder.no_proxy();
        }
        // Header names were validated when the settings were loaded.
        let request_id_header = HeaderName::from_bytes(settings.request_id_header.as_bytes())
            .unwrap_or_else(|_| HeaderName::from_static("x-invalid-header-name"));
        Ok(Transport {
            http: builder.build()?,
            request_id_header,
            max_body: settings.max_body_bytes,
            metrics,
        })
    }

    /// Sends `request` and reads the answer's body, at most the configured cap of it.
    pub async fn send(&self, op: Operation, request: RequestBuilder) -> Result<Answer, Lost> {
        let started = tokio::time::Instant::now();
        let response = request.send().await.map_err(|e| {
            self.metrics.orange_request(op, None);
            lost(op, &e, started)
        })?;
        let status = response.status();
        self.metrics.orange_request(op, Some(status.as_u16()));
        let headers = response.headers().clone();
        let request_id = RequestId(
            headers
                .get(&self.request_id_header)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        );
        let body = match read_capped(response, self.max_body).await {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(BodyError::TooLarge) => {
                return Err(Lost {
                    error: OrangeError::TooLarge {
                        op,
                        limit: self.max_body,
                        request_id,
                    },
                    sent: true,
                    retryable: false,
                });
            }
            Err(BodyError::Read(e)) if status.is_success() => {
                let mut lost = lost(op, &e, started);
                if let OrangeError::Unavailable {
                    detail,
                    request_id: id,
                    ..
                } = &mut lost.error
                {
                    *detail = format!("body unreadable: {detail}");
                    *id = request_id;
                }
                lost.sent = true;
                return Err(lost);
            }
            // An error status with an unreadable body: the status says enough.
            Err(BodyError::Read(_)) => String::new(),
        };
        tracing::debug!(
            %op,
            status = status.as_u16(),
            request_id = %request_id,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "orange answered"
        );
        Ok(Answer {
            status,
            headers,
            body,
            request_id,
        })
    }
}

enum BodyError {
    TooLarge,
    Read(reqwest::Error),
}

/// Reads the body chunk by chunk, stopping as soon as it passes `cap` bytes.
async fn read_capped(mut response: Response, cap: u64) -> Result<Vec<u8>, BodyError> {
    if response.content_length().is_some_and(|n| n > cap) {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Read)? {
        if (body.len() + chunk.len()) as u64 > cap {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn lost(op: Operation, e: &reqwest::Error, started: tokio::time::Instant) -> Lost {
    let error = if e.is_timeout() {
        OrangeError::Timeout {
            op,
            waited: started.elapsed(),
        }
    } else {
        OrangeError::Unavailable {
            op,
            detail: without_url(e),
            request_id: RequestId::default(),
        }
    };
    // A refused connection never reached Orange; anything later might have.
    Lost {
        error,
        sent: !e.is_connect(),
        retryable: true,
    }
}

/// What an answer other than a success means, whatever the operation.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Refusal {
    /// 401: the token (or, on the token endpoint, the credentials) refused.
    Unauthorized(ApiProblem),
    /// 429, or 403 with code 53 as some Orange gateways send: nothing was done; wait and retry.
    Throttled {
        retry_after: Option<Duration>,
    },
    /// 500, 502, 503, 504: may or may not have been processed.
    Unavailable {
        problem: ApiProblem,
        retry_after: Option<Duration>,
    },
    NotFound(ApiProblem),
    /// 400 or 422: the request's content was refused.
    Rejected(ApiProblem),
    /// Any other 403: this application may not use the API (ApplicationID, subscription).
    Forbidden(ApiProblem),
    Unexpected(ApiProblem),
}

/// Classifies an answer: `Ok` for a success, else what the refusal means. Pure: the same status,
/// headers and body always mean the same thing.
pub(super) fn classify(status: StatusCode, headers: &HeaderMap, body: &str) -> Result<(), Refusal> {
    if status.is_success() {
        return Ok(());
    }
    let problem = problem_of(body);
    Err(match status.as_u16() {
        401 => Refusal::Unauthorized(problem),
        429 => Refusal::Throttled {
            retry_after: retry_after(headers),
        },
        403 if problem.code == Some(53) => Refusal::Throttled {
            retry_after: retry_after(headers),
        },
        403 => Refusal::Forbidden(problem),
        500 | 502 | 503 | 504 => Refusal::Unavailable {
            problem,
            retry_after: retry_after(headers),
        },
        404 => Refusal::NotFound(problem),
        400 | 422 => Refusal::Rejected(problem),
        _ => Refusal::Unexpected(problem),
    })
}

impl Refusal {
    /// Whether trying again may help, and the least wait before it: throttling and outages
    /// pass; the rest is final (a 401 is the caller's to handle: refresh the token).
    pub fn retry(&self) -> Option<Option<Duration>> {
        match self {
            Refusal::Throttled { retry_after } | Refusal::Unavailable { retry_after, .. } => {
                Some(*retry_after)
            }
            _ => None,
        }
    }

    /// Whether Orange may have carried out the request despite the refusal (a 5xx).
    pub fn maybe_processed(&self) -> bool {
        matches!(self, Refusal::Unavailable { .. })
    }

    /// The typed error this refusal is for `op`.
    pub fn into_error(
        self,
        op: Operation,
        status: StatusCode,
        request_id: RequestId,
    ) -> OrangeError {
        let status = status.as_u16();
        match self {
            Refusal::Unauthorized(problem) => OrangeError::Unauthorized {
                op,
                problem,
                request_id,
            },
            Refusal::Throttled { retry_after } => OrangeError::Throttled {
                op,
                retry_after,
                request_id,
            },
            Refusal::Unavailable { problem, .. } => OrangeError::Unavailable {
                op,
                detail: format!("HTTP {status}, {problem}"),
                request_id,
            },
            Refusal::NotFound(problem) => OrangeError::NotFound {
                op,
                problem,
                request_id,
            },
            Refusal::Rejected(problem) => OrangeError::Rejected {
                op,
                status,
                problem,
                request_id,
            },
            Refusal::Forbidden(problem) => OrangeError::Forbidden {
                op,
                problem,
                request_id,
            },
            Refusal::Unexpected(problem) => OrangeError::Unexpected {
                op,
                status,
                problem,
                request_id,
            },
        }
    }
}

/// Orange's error body, in either of its shapes; empty when there is none.
fn problem_of(body: &str) -> ApiProblem {
    from_str::<ErrorEnvelope>(body)
        .map(|e| ApiProblem::from(e.into_body()))
        .unwrap_or_default()
}

pub(super) fn bearer(token: &SecretString) -> HeaderValue {
    let mut v = HeaderValue::from_str(&format!("Bearer {}", token.expose_secret()))
        .unwrap_or_else(|_| HeaderValue::from_static("Bearer invalid"));
    v.set_sensitive(true);
    v
}

/// reqwest's error text includes the URL; the URL may carry query values we'd rather not log.
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(url.as_str(), url.path());
    }
    text
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(retry_after: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(v) = retry_after {
            h.insert(reqwest::header::RETRY_AFTER, v.parse().expect("header"));
        }
        h
    }

    fn status(code: u16) -> StatusCode {
        StatusCode::from_u16(code).expect("status")
    }

    const NO_BODY: &str = "";

    #[test]
    fn statuses_are_classified_by_what_they_mean() {
        let h = headers(None);
        assert_eq!(classify(status(200), &h, "{"), Ok(()));
        assert!(matches!(
            classify(status(401), &h, NO_BODY),
            Err(Refusal::Unauthorized(_))
        ));
        assert!(matches!(
            classify(status(404), &h, NO_BODY),
            Err(Refusal::NotFound(_))
        ));
        for s in [400, 422] {
            assert!(matches!(
                classify(status(s), &h, NO_BODY),
                Err(Refusal::Rejected(_))
            ));
        }
        for s in [500, 502, 503, 504] {
            assert!(matches!(
                classify(status(s), &h, NO_BODY),
                Err(Refusal::Unavailable { .. })
            ));
        }
        for s in [405, 406, 501] {
            assert!(matches!(
                classify(status(s), &h, NO_BODY),
                Err(Refusal::Unexpected(_))
            ));
        }
    }

    #[test]
    fn a_403_is_throttling_only_with_code_53() {
        let h = headers(Some("2"));
        let throttled = classify(
            status(403),
            &h,
            r#"{"code":53,"message":"Too many requests"}"#,
        );
        assert_eq!(
            throttled,
            Err(Refusal::Throttled {
                retry_after: Some(Duration::from_secs(2))
            })
        );
        let refused = classify(
            status(403),
            &h,
            r#"{"error":{"code":50,"message":"Access denied"}}"#,
        );
        let Err(Refusal::Forbidden(problem)) = refused else {
            panic!("{refused:?}");
        };
        assert_eq!(problem.code, Some(50));
        assert!(matches!(
            classify(status(403), &h, "<html>"),
            Err(Refusal::Forbidden(_))
        ));
        assert!(matches!(
            classify(status(429), &headers(None), NO_BODY),
            Err(Refusal::Throttled { retry_after: None })
        ));
    }

    /// A server on loopback that answers 200 with a chunked body that never ends.
    async fn endless_chunked_server() -> std::net::SocketAddr {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request).await;
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                        transfer-encoding: chunked\r\n\r\n";
            if socket.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let chunk = format!("400\r\n{}\r\n", "x".repeat(0x400));
            // Until the client hangs up: a reader that wanted the whole body would never end.
            while socket.write_all(chunk.as_bytes()).await.is_ok() {}
        });
        addr
    }

    #[tokio::test]
    async fn an_endless_body_is_cut_at_the_cap_chunk_by_chunk() {
        let mut settings = crate::config::Settings::defaults()
            .expect("defaults")
            .orange;
        settings.max_body_bytes = 10_000;
        let transport = Transport::new(&settings, Metrics::new()).expect("transport");
        let addr = endless_chunked_server().await;
        let request = transport
            .http
            .get(format!("http://{addr}/endless"))
            .timeout(Duration::from_secs(20));
        let outcome = tokio::time::timeout(
            Duration::from_secs(30),
            transport.send(Operation::Search, request),
        )
        .await
        .expect("the read stopped at the cap");
        let lost = outcome.expect_err("too large");
        assert!(
            matches!(lost.error, OrangeError::TooLarge { limit: 10_000, .. }),
            "{:?}",
            lost.error
        );
        assert!(!lost.retryable);
    }

    #[test]
    fn loopback_hosts_are_recognised() {
        for url in [
            "http://127.0.0.1:1/",
            "http://localhost/x",
            "http://[::1]:8/",
        ] {
            assert!(is_loopback(&url.parse().expect("url")), "{url}");
        }
        for url in ["https://api.orange.com/", "http://10.0.0.1/"] {
            assert!(!is_loopback(&url.parse().expect("url")), "{url}");
        }
    }
}
