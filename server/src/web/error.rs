//! [`ApiError`]: every way a request can fail, mapped to a status code with an exhaustive
//! `match` and answered as `{"error": "..."}` with a message that says what to fix and no
//! internals.

use axum::extract::rejection::{FormRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::live::{BusError, LiveError, StoreError};

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A malformed body or parameter (400); the message says what is wrong.
    #[error("{0}")]
    BadRequest(String),
    /// No credentials for a protected resource (401).
    #[error("{0}")]
    Unauthorized(String),
    /// Credentials that do not grant access (403).
    #[error("{0}")]
    Forbidden(String),
    /// An unknown user, product, preference or route (404).
    #[error("{0}")]
    NotFound(String),
    /// A method the route does not answer (405).
    #[error("{0}")]
    MethodNotAllowed(String),
    /// The body is larger than the configured limit (413).
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The body is not JSON (415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A dependency (store, bus) is away (503); retrying later may succeed.
    #[error("{0}")]
    Unavailable(String),
    /// Something failed that the client cannot fix (500). The detail is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// The status code of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message sent to the client.
    pub fn message(&self) -> String {
        match self {
            ApiError::Internal(_) => "internal error (see the server log)".to_string(),
            other => other.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            eprintln!("web: internal error: {detail}");
        }
        let body = serde_json::json!({ "error": self.message() });
        (self.status(), Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) => {
                eprintln!("web: {e}");
                ApiError::Unavailable("the preference store is unavailable; retry later".into())
            }
            StoreError::Backend(detail) => ApiError::Internal(format!("store: {detail}")),
        }
    }
}

impl From<BusError> for ApiError {
    fn from(e: BusError) -> Self {
        match e {
            BusError::Unavailable(_) => {
                eprintln!("web: {e}");
                ApiError::Unavailable("the event bus is unavailable; retry later".into())
            }
            BusError::Backend(detail) => ApiError::Internal(format!("bus: {detail}")),
        }
    }
}

impl From<crate::Error> for ApiError {
    fn from(e: crate::Error) -> Self {
        match e {
            crate::Error::NotFound(what) => ApiError::NotFound(what),
            crate::Error::Usage(what) | crate::Error::Unsupported(what) => {
                ApiError::BadRequest(what)
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<LiveError> for ApiError {
    fn from(e: LiveError) -> Self {
        match e {
            LiveError::Store(e) => e.into(),
            LiveError::Bus(e) => e.into(),
            LiveError::Engine(e) => e.into(),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType(
                "expected a JSON body with `Content-Type: application/json`".into(),
            ),
            JsonRejection::JsonSyntaxError(_) | JsonRejection::JsonDataError(_) => {
                ApiError::BadRequest(format!("invalid JSON body: {}", r.body_text()))
            }
            JsonRejection::BytesRejection(_) => body_rejection(r.status(), r.body_text()),
            _ => body_rejection(r.status(), r.body_text()),
        }
    }
}

impl From<FormRejection> for ApiError {
    fn from(r: FormRejection) -> Self {
        match r {
            FormRejection::InvalidFormContentType(_) => ApiError::UnsupportedMediaType(
                "expected a form body (`application/x-www-form-urlencoded`)".into(),
            ),
            _ => body_rejection(r.status(), r.body_text()),
        }
    }
}

/// A failure reading a body: too large (413) or anything else the client sent wrong (400).
fn body_rejection(status: StatusCode, text: String) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge("the request body is larger than the server accepts".into())
    } else {
        ApiError::BadRequest(format!("invalid body: {text}"))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::BadRequest(format!("invalid query string: {}", r.body_text()))
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::BadRequest(format!("invalid path: {}", r.body_text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_hide_their_detail() {
        let e = ApiError::Internal("secret stack trace".into());
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!e.message().contains("secret"));
    }

    #[test]
    fn unavailable_dependencies_are_503() {
        let e: ApiError = StoreError::Unavailable("connection refused at 10.0.0.1".into()).into();
        assert_eq!(e.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(!e.message().contains("10.0.0.1"));
        let e: ApiError = BusError::Unavailable("broker down".into()).into();
        assert_eq!(e.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
}
