//! The JSON body extractor: a rejected body is an `ApiError` that says what is wrong,
//! in the API's own error shape, never axum's plain-text rejection.

use axum::Json;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;

use super::state::request_bytes_max;
use crate::error::ApiError;

/// JSON body extractor whose rejections are API errors with a clear message.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        use axum::extract::rejection::JsonRejection;
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(JsonRejection::BytesRejection(e)) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::TooLarge(format!("request body over {request_bytes_max} bytes")))
            }
            Err(JsonRejection::MissingJsonContentType(_)) => {
                Err(ApiError::bad("bad_json", "send the body as JSON with Content-Type: application/json"))
            }
            Err(e) => Err(ApiError::bad("bad_json", e.body_text())),
        }
    }
}
