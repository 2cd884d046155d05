//! What an API gateway (Appxite's docs point to Azure API Management) enforces before the
//! API sees a request, and the one error shape every error uses:
//! `{"statusCode": 429, "message": "Rate limit is exceeded. Try again in 1 seconds."}`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::AppState;

/// The JSON error every non-2xx response carries.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// Seconds, sent as `Retry-After`.
    pub retry_after: Option<u64>,
    www_authenticate: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorBody<'a> {
    status_code: u16,
    message: &'a str,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError { status, message: message.into(), retry_after: None, www_authenticate: None }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    pub fn rate_limited(retry_after: u64, message: &str) -> Self {
        let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, format!("{message} Retry after {retry_after} seconds."));
        e.retry_after = Some(retry_after);
        e
    }
    fn unauthorized(message: &str, challenge: &'static str) -> Self {
        let mut e = Self::new(StatusCode::UNAUTHORIZED, message);
        e.www_authenticate = Some(challenge);
        e
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&ErrorBody { status_code: self.status.as_u16(), message: &self.message })
            .expect("serializing an error body cannot fail");
        let mut r = (self.status, body).into_response();
        let h = r.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
        if let Some(s) = self.retry_after {
            h.insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        if let Some(c) = self.www_authenticate {
            h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(c));
        }
        r
    }
}

/// Fixed one-second windows per token.
pub struct RateLimiter {
    per_second: Option<u32>,
    started: Instant,
    windows: Mutex<HashMap<String, (u64, u32)>>,
}

impl RateLimiter {
    pub fn new(per_second: Option<u32>) -> Self {
        RateLimiter { per_second, started: Instant::now(), windows: Mutex::default() }
    }

    /// `Err(seconds to wait)` when this token is over its limit.
    fn check(&self, token: &str) -> Result<(), u64> {
        let Some(limit) = self.per_second else { return Ok(()) };
        let now = self.started.elapsed();
        let second = now.as_secs();
        let mut w = self.windows.lock().unwrap();
        let entry = w.entry(token.to_string()).or_insert((second, 0));
        if entry.0 != second {
            *entry = (second, 0);
        }
        entry.1 += 1;
        if entry.1 > limit {
            Err(1)
        } else {
            Ok(())
        }
    }
}

/// The gateway's checks, in its order: X-Referer (and its agreement with a browser's Origin),
/// bearer token, subscription key, rate limit.
pub fn admit(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let referer = text("x-referer")
        .filter(|r| !r.is_empty())
        .ok_or_else(|| ApiError::bad_request("The X-Referer header is required: it must name the requestor's platform URL."))?;
    if let Some(origin) = text("origin") {
        if origin.trim_end_matches('/') != referer.trim_end_matches('/') {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("X-Referer '{referer}' does not match the calling page's origin '{origin}'."),
            ));
        }
    }
    let token = text("authorization").and_then(|a| a.strip_prefix("Bearer ").or_else(|| a.strip_prefix("bearer "))).map(str::trim);
    match token {
        None => {
            return Err(ApiError::unauthorized(
                "Access denied due to missing bearer token. Send 'Authorization: Bearer <token>'.",
                r#"Bearer realm="appxite""#,
            ))
        }
        Some(t) if t != state.config.token => {
            return Err(ApiError::unauthorized(
                "Access denied due to an invalid or expired bearer token.",
                r#"Bearer realm="appxite", error="invalid_token""#,
            ))
        }
        Some(_) => {}
    }
    if let Some(key) = &state.config.subscription_key {
        match text("ocp-apim-subscription-key") {
            None => {
                return Err(ApiError::unauthorized(
                    "Access denied due to missing subscription key. Include the Ocp-Apim-Subscription-Key header.",
                    r#"Bearer realm="appxite""#,
                ))
            }
            Some(k) if k != key => {
                return Err(ApiError::unauthorized("Access denied due to an invalid subscription key.", r#"Bearer realm="appxite""#))
            }
            Some(_) => {}
        }
    }
    let token = token.unwrap_or_default();
    state.limiter.check(token).map_err(|wait| ApiError::rate_limited(wait, "Rate limit is exceeded."))
}
