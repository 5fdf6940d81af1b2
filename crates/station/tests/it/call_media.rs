//! Call media between two real stations in one process: an answered call starts media at
//! both ends (the caller's station dials the callee's QUIC endpoint at its line address,
//! over UDP), the console's SDP offer is answered ICE-lite only for the operator holding
//! the call, bad signalling is a clear 4xx that changes nothing, a station whose key is
//! not pinned cannot connect, and media stops with the call. The audio itself is proven
//! end to end by the browser test (crates/console/tests/browser/calls-media.test.mjs).

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use hotline_station::callmedia::CallMediaError;
use hotline_station::line::calls::CallOp;
use hotline_station::serve::Running;
use hotline_store::Role;
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::calls::{call, pair, wait_state};

/// An SDP offer as a browser makes one: a full-ICE str0m peer offering Opus.
fn browser_offer() -> String {
    let mut rtc =
        str0m::Rtc::builder().set_rtp_mode(true).clear_codecs().enable_opus(true, false).build(Instant::now());
    let local = "127.0.0.1:40000".parse().expect("address");
    rtc.add_local_candidate(str0m::Candidate::host(local, "udp").expect("candidate"));
    let mut change = rtc.sdp_api();
    change.add_media(str0m::media::MediaKind::Audio, str0m::media::Direction::SendRecv, None, None, None);
    let (offer, _pending) = change.apply().expect("an offer");
    offer.to_sdp_string()
}

/// An operator `name` with an API token at station `r`.
async fn operator_token(r: &Running, name: &'static str) -> String {
    let (token, hash) = hotline_station::auth::new_secret().expect("secret");
    r.state
        .core
        .write(move |j| {
            j.tx.add_user(name, Role::Operator, "x", 0)?;
            j.tx.add_token(&hash, name, 0)
        })
        .await
        .expect("operator");
    token
}

async fn post_media(r: &Running, token: &str, id: &str, body: String) -> (StatusCode, Value) {
    let req = Request::builder()
        .method("POST")
        .uri(format!("/api/v1/calls/{id}/media"))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(body))
        .expect("request");
    let resp = hotline_station::http::router(r.state.clone()).oneshot(req).await.expect("response");
    let status = resp.status();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "{what} did not happen within 10 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn an_answered_call_gets_media_at_both_ends_only_for_its_operators_and_stops_with_the_call() {
    let (_dir, alpha, bravo) = pair().await;
    let op = operator_token(&alpha, "op").await;
    let other = operator_token(&alpha, "other").await;
    let started = call(&alpha, "bravo", CallOp::Start, "op").await.expect("call");
    let id = started["id"].as_str().expect("id").to_owned();
    let call_id: hotline_call::CallId = id.parse().expect("call id");

    // Ringing: no media yet, and the offer is refused without changing anything.
    let offer = json!({"type": "offer", "sdp": browser_offer()}).to_string();
    let (status, body) = post_media(&alpha, &op, &id, offer.clone()).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("call_not_connected")), "{body}");
    assert_eq!(alpha.state.media.active_calls(), 0);

    wait_state(&bravo, &id, "ringing").await;
    call(&bravo, "alpha", CallOp::Answer(call_id), "op").await.expect("answer");
    wait_state(&alpha, &id, "answered").await;
    wait_state(&bravo, &id, "answered").await;
    // Both stations run the call's media and the caller's QUIC link reaches the callee.
    eventually("media at both ends", || alpha.state.media.active_calls() == 1 && bravo.state.media.active_calls() == 1)
        .await;
    eventually("a QUIC link at both ends", || {
        alpha.state.media.counts().links >= 1 && bravo.state.media.counts().links >= 1
    })
    .await;

    // Bad signalling: each a clear 4xx; the call and its media go on.
    for (body, status, code) in [
        (json!({"type": "offer", "sdp": "v=0 this is not SDP"}).to_string(), StatusCode::BAD_REQUEST, "bad_sdp"),
        (json!({"type": "answer", "sdp": browser_offer()}).to_string(), StatusCode::BAD_REQUEST, "bad_sdp"),
        ("{\"type\": \"offer\"}".to_owned(), StatusCode::BAD_REQUEST, "bad_json"),
        (
            json!({"type": "offer", "sdp": "x".repeat(48 * 1024)}).to_string(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
        ),
    ] {
        let (got, answer) = post_media(&alpha, &op, &id, body).await;
        assert_eq!((got, answer["error"]["code"].as_str()), (status, Some(code)), "{answer}");
    }
    let (status, body) = post_media(&alpha, &other, &id, offer.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "another operator may not take the call's audio: {body}");
    let (status, _) = post_media(&alpha, &op, "01939a4e-7c1a-7000-8000-000000000001", offer.clone()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(wait_state(&alpha, &id, "answered").await["state"], "answered");
    assert_eq!(alpha.state.media.counts().offers_answered, 0, "no refused offer made a leg");

    // The operator who holds it gets an ICE-lite answer with the station's host candidate.
    let (status, answer) = post_media(&alpha, &op, &id, offer.clone()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["type"], "answer");
    let sdp = answer["sdp"].as_str().expect("sdp");
    assert!(sdp.contains("a=ice-lite") && sdp.contains("127.0.0.1") && sdp.contains("opus/48000/2"), "{sdp}");
    assert!(matches!(
        bravo.state.media.offer(call_id, browser_offer(), "someone").await,
        Err(CallMediaError::NotYours)
    ));

    // A station whose key neither side pinned cannot open a media link to bravo.
    let mallory = hotline_identity::StationKey::generate("mallory").expect("key");
    let bravo_key = bravo.state.key.verifier();
    let loopback = "127.0.0.1:0".parse().expect("address");
    let endpoint = hotline_media::PeerEndpoint::bind(&mallory, vec![bravo_key.clone()], loopback, Default::default())
        .expect("mallory's endpoint");
    let bravo_media = bravo.state.media.peer_addr().expect("bravo's media endpoint");
    assert!(endpoint.connect(&bravo_key, bravo_media).await.is_err(), "mallory is refused");
    eventually("the refusal counted", || bravo.state.media.counts().refused_handshakes >= 1).await;

    // Hang-up ends the media at both ends.
    call(&alpha, "bravo", CallOp::Hangup(call_id), "op").await.expect("hang up");
    eventually("media stopped at both ends", || {
        alpha.state.media.active_calls() == 0 && bravo.state.media.active_calls() == 0
    })
    .await;
    let (status, body) = post_media(&alpha, &op, &id, offer).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    alpha.stop().await;
    bravo.stop().await;
}

#[tokio::test]
async fn a_lost_line_ends_the_call_and_its_media() {
    let (_dir, alpha, bravo) = pair().await;
    let started = call(&alpha, "bravo", CallOp::Start, "op").await.expect("call");
    let id = started["id"].as_str().expect("id").to_owned();
    let call_id: hotline_call::CallId = id.parse().expect("call id");
    wait_state(&bravo, &id, "ringing").await;
    call(&bravo, "alpha", CallOp::Answer(call_id), "op").await.expect("answer");
    wait_state(&alpha, &id, "answered").await;
    eventually("media at both ends", || alpha.state.media.active_calls() == 1 && bravo.state.media.active_calls() == 1)
        .await;
    // Bravo goes away: alpha's line is lost, the call ends there, and so does its media.
    bravo.stop().await;
    eventually("media stopped at alpha", || alpha.state.media.active_calls() == 0).await;
    let view = crate::calls::wait_state(&alpha, &id, "ended").await;
    assert_eq!(view["state"], "ended", "{view}");
    alpha.stop().await;
}

/// Lines added while both stations serve get media too: the endpoints pin the new peers.
#[tokio::test]
async fn a_line_added_while_serving_carries_call_media() {
    use hotline_station::admin::{self, InitOptions, lines::NewLine};
    let dir = tempfile::tempdir().expect("tempdir");
    let free = || std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr");
    let (a_line, b_line) = (free(), free());
    let mut keys = Vec::new();
    for (name, line) in [("alpha", a_line), ("bravo", b_line)] {
        let options =
            InitOptions { name: name.into(), http: "127.0.0.1:0".parse().expect("addr"), line, lang: "en".into() };
        keys.push(admin::init(&dir.path().join(name), &options).expect("init"));
    }
    let alpha = hotline_station::serve::start(&dir.path().join("alpha")).await.expect("alpha");
    let bravo = hotline_station::serve::start(&dir.path().join("bravo")).await.expect("bravo");
    for (r, peer, key, addr) in [(&alpha, "bravo", &keys[1], b_line), (&bravo, "alpha", &keys[0], a_line)] {
        let line = NewLine {
            peer: peer.into(),
            key: key.to_string(),
            addrs: vec![addr.to_string()],
            heartbeat_interval_ms: None,
            reconnect_backoff_max_ms: None,
        };
        r.state.line_admin.add(line, "sup".into()).await.expect("line added");
    }
    for (r, peer) in [(&alpha, "bravo"), (&bravo, "alpha")] {
        let mut status = r.state.lines.get(peer).expect("line").status.clone();
        tokio::time::timeout(Duration::from_secs(15), status.wait_for(|s| s.state == hotline_proto::LineState::Up))
            .await
            .expect("the line comes up")
            .expect("status");
    }
    let started = call(&alpha, "bravo", CallOp::Start, "op").await.expect("call");
    let id = started["id"].as_str().expect("id").to_owned();
    let call_id: hotline_call::CallId = id.parse().expect("call id");
    wait_state(&bravo, &id, "ringing").await;
    call(&bravo, "alpha", CallOp::Answer(call_id), "op").await.expect("answer");
    eventually("a QUIC link at both ends", || {
        alpha.state.media.counts().links >= 1 && bravo.state.media.counts().links >= 1
    })
    .await;
    alpha.stop().await;
    bravo.stop().await;
}
