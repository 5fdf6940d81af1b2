//! The console's media signalling for a call (issue #16): `POST /api/v1/calls/{id}/media`
//! takes the browser's SDP offer and answers with the station's SDP, after which the
//! console's WebRTC audio flows to this station's `hotline_callmedia` relay. Only the
//! operator who holds the call here (started it, or answered it) may, and only while it
//! is answered; a malformed offer is a `400 bad_sdp` that changes nothing.

use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use hotline_call::CallId;
use hotline_callmedia::CallMediaError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::state::{AppState, Operator};
use crate::error::{ApiError, ErrorBody};
use crate::json::ApiJson;

/// The body of a media offer, as `RTCPeerConnection.localDescription` gives it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MediaOffer {
    /// Always `offer`.
    #[serde(rename = "type")]
    pub kind: SdpKind,
    /// The browser's SDP offer: one audio section with Opus.
    pub sdp: String,
}

/// The answer, ready for `RTCPeerConnection.setRemoteDescription`.
#[derive(Serialize, ToSchema)]
pub struct MediaAnswer {
    #[serde(rename = "type")]
    pub kind: SdpKind,
    pub sdp: String,
}

/// The SDP's role in the exchange.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SdpKind {
    Offer,
    Answer,
}

fn api_error(e: CallMediaError) -> ApiError {
    match e {
        CallMediaError::BadOffer(why) => ApiError::bad("bad_sdp", format!("bad SDP offer: {why}")),
        CallMediaError::UnknownCall => ApiError::NotFound("no such call".into()),
        CallMediaError::NotConnected => {
            ApiError::ConflictCode { code: "call_not_connected", message: "the call is not connected".into() }
        }
        CallMediaError::NotYours => ApiError::Forbidden("another operator holds this call".into()),
        CallMediaError::Unavailable => ApiError::Unavailable {
            code: "media_unavailable",
            message: "call media is unavailable at this station".into(),
        },
        CallMediaError::Internal(why) => ApiError::Internal(why),
    }
}

/// Connect this console's audio to a call it holds: the browser's SDP offer in, the
/// station's answer out (ICE-lite, a host candidate, Opus).
#[utoipa::path(post, path = "/api/v1/calls/{id}/media", params(("id" = String, Path)), request_body = MediaOffer,
    responses((status = 200, body = MediaAnswer), (status = 400, body = ErrorBody, description = "bad_sdp"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "call_not_connected"), (status = 413, body = ErrorBody),
        (status = 503, body = ErrorBody, description = "media_unavailable")))]
pub(super) async fn post_media(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Extension(Operator(user)): Extension<Operator>,
    ApiJson(offer): ApiJson<MediaOffer>,
) -> Result<Json<MediaAnswer>, ApiError> {
    let id: CallId = id.parse().map_err(|_| ApiError::bad("bad_id", "a call id is a UUID (version 7)"))?;
    if offer.kind != SdpKind::Offer {
        return Err(ApiError::bad("bad_sdp", "the body's type must be \"offer\""));
    }
    let sdp = state.media.offer(id, offer.sdp, &user.name).await.map_err(api_error)?;
    Ok(Json(MediaAnswer { kind: SdpKind::Answer, sdp }))
}

/// The call media counts in Prometheus text: packets relayed each way, and what was
/// dropped by reason (from a browser, from a peer — a wrong key or line, a reflected
/// speaker, malformed, over a bound — or for want of the other half of the call).
pub(super) fn write_metrics(c: &hotline_callmedia::Counts, out: &mut String) {
    use std::fmt::Write as _;
    let _ = writeln!(
        out,
        "# HELP hotline_media_calls_total Calls whose media ran here.\n# TYPE hotline_media_calls_total counter\nhotline_media_calls_total {}",
        c.calls
    );
    let _ = writeln!(
        out,
        "# HELP hotline_media_links_total QUIC media links to a peer that came up for a call.\n# TYPE hotline_media_links_total counter\nhotline_media_links_total {}",
        c.links
    );
    let _ = writeln!(
        out,
        "# HELP hotline_media_packets_total Opus packets relayed: ours (our console to the peer), theirs (the peer to our console).\n# TYPE hotline_media_packets_total counter"
    );
    let _ = writeln!(out, "hotline_media_packets_total{{direction=\"ours\"}} {}", c.packets_ours);
    let _ = writeln!(out, "hotline_media_packets_total{{direction=\"theirs\"}} {}", c.packets_theirs);
    let _ = writeln!(
        out,
        "# HELP hotline_media_dropped_total Media packets and handshakes dropped, by reason.\n# TYPE hotline_media_dropped_total counter"
    );
    for (reason, n) in [
        ("browser", c.dropped_browser),
        ("peer_malformed", c.dropped_peer_malformed),
        ("peer_unknown_call", c.dropped_peer_unknown_call),
        ("peer_wrong_line", c.dropped_peer_wrong_line),
        ("peer_wrong_speaker", c.dropped_peer_wrong_speaker),
        ("peer_bounds", c.dropped_peer_bounds),
        ("no_link", c.dropped_no_link),
        ("no_browser", c.dropped_no_browser),
        ("refused_handshake", c.refused_handshakes),
    ] {
        let _ = writeln!(out, "hotline_media_dropped_total{{reason=\"{reason}\"}} {n}");
    }
}
