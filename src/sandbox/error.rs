//! Orange's error body as the sandbox sends it, including the gateway's `{"error": {...}}` variant.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::orange::wire::ErrorBodyDto;

/// Where Orange's error bodies point (`infoURL`).
const INFO_URL: &str =
    "https://developer.orange.com/apis/trouble-tickets-wholesale/getting-started";

/// Error codes the sandbox uses. The gateway codes (40-42, 5, 53) are Orange's; the others are the
/// sandbox's own choice, since the page shows only `0`.
pub(crate) mod code {
    pub const INTERNAL: i64 = 1;
    pub const UNAVAILABLE: i64 = 5;
    pub const BAD_REQUEST: i64 = 20;
    pub const MISSING_CREDENTIALS: i64 = 40;
    pub const INVALID_CREDENTIALS: i64 = 41;
    pub const EXPIRED_CREDENTIALS: i64 = 42;
    pub const TOO_MANY_REQUESTS: i64 = 53;
    pub const NOT_FOUND: i64 = 60;
    pub const METHOD_NOT_ALLOWED: i64 = 61;
    pub const BUSINESS: i64 = 70;
}

/// An error response: status, Orange's body, and how the gateway dresses it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub code: i64,
    pub message: String,
    pub description: String,
    /// Send the body as `{"error": {...}}`, as some Orange gateways do.
    pub wrapped: bool,
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: i64,
        message: &str,
        description: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code,
            message: message.to_owned(),
            description: description.into(),
            wrapped: false,
            retry_after_secs: None,
        }
    }

    /// 400: the request is malformed (syntax, a missing or invalid parameter).
    pub fn bad_request(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            code::BAD_REQUEST,
            "Bad request",
            description,
        )
    }

    /// 422: the request is well formed but breaks a business rule.
    pub fn business(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            code::BUSINESS,
            "Unprocessable entity",
            description,
        )
    }

    pub fn not_found(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            code::NOT_FOUND,
            "Resource not found",
            description,
        )
    }

    /// An error injected by fault configuration, shaped as the real gateway would send it.
    pub fn injected(status: u16, retry_after_secs: u64) -> Self {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let description = "Injected by the sandbox fault configuration";
        match status.as_u16() {
            429 | 403 => Self {
                retry_after_secs: Some(retry_after_secs),
                ..Self::new(
                    status,
                    code::TOO_MANY_REQUESTS,
                    "Too many requests",
                    description,
                )
            },
            503 => Self {
                retry_after_secs: Some(retry_after_secs),
                ..Self::new(
                    status,
                    code::UNAVAILABLE,
                    "Service unavailable",
                    description,
                )
            },
            401 => Self {
                wrapped: true,
                ..Self::new(
                    status,
                    code::EXPIRED_CREDENTIALS,
                    "Expired credentials",
                    description,
                )
            },
            400 => Self::bad_request(description),
            404 => Self::not_found(description),
            422 => Self::business(description),
            _ => Self::new(
                status,
                code::INTERNAL,
                status.canonical_reason().unwrap_or("Internal error"),
                description,
            ),
        }
    }

    fn body(&self) -> ErrorBodyDto {
        ErrorBodyDto {
            code: self.code,
            message: Some(self.message.clone()),
            description: Some(self.description.clone()),
            info_url: Some(INFO_URL.to_owned()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        #[derive(serde::Serialize)]
        struct Wrapped<'a> {
            error: &'a ErrorBodyDto,
        }
        let body = self.body();
        let json = if self.wrapped {
            serde_json::to_string(&Wrapped { error: &body })
        } else {
            serde_json::to_string(&body)
        }
        .unwrap_or_default();
        let mut response = (
            self.status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            json,
        )
            .into_response();
        if let Some(secs) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// Reads a JSON request body; a syntax or shape error is a 400 naming the failing path.
pub(crate) fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::bad_request("the request body is not UTF-8"))?;
    crate::orange::convert::from_str(text)
        .map_err(|e| ApiError::bad_request(format!("invalid request body: {e}")))
}
