use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::service::{ErrorKind, ServiceError};

/// Every error the API returns, rendered in one place as AWS renders it: HTTP 400 (500 for
/// internal failures) with `{"__type": "<namespace>#<Name>", "message": …}`.
#[derive(Debug)]
pub struct ApiError(pub ServiceError);

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        Self(error)
    }
}

impl ApiError {
    pub(crate) fn validation(message: impl Into<String>) -> Self {
        Self(ServiceError::new(ErrorKind::ValidationException, message))
    }

    pub(crate) fn missing(member: &str) -> Self {
        Self::validation(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let kind = self.0.kind;
        let status = match kind {
            ErrorKind::InternalFailure => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        let body = json!({
            "__type": format!("{}#{}", kind.namespace(), kind.name()),
            "message": self.0.message,
        });
        let mut response = (status, body.to_string()).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-amz-json-1.0"));
        // The logging middleware reads this to log the failure once.
        response.extensions_mut().insert(self.0);
        response
    }
}
