//! Writes the committed seed corpus (`fuzz/corpus/<target>/`) and the export target's
//! fixture (`fuzz/fixtures/`) from the real encoders, signers and the audit crate's test
//! fixture, so that every seed is something a station or a peer could really send:
//!
//!     cargo run --manifest-path fuzz/Cargo.toml --example seedgen
//!
//! Files are overwritten by name and never deleted, so reproducers added by hand stay.
//! The output is deterministic: fixed keys, fixed times, no randomness.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hotline_fuzz::handshake::{self, DURABLE_NEXT, PUSHED_LAST, RECEIPTED};
use hotline_fuzz::{LOCAL, PEER, alpha_key, bravo_key};
use hotline_proto::{Event, Frame, LANES, Lane, Line, Restored};
use hotline_record::merkle::MerkleTree;
use hotline_record::{Checkpoint, NoteSigner, cosign, sign_note};
use hotline_item::{Item, SignedItem};
use serde_json::json;

#[allow(dead_code)]
#[path = "../../crates/audit/tests/it/fixture.rs"]
mod fixture;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn write(target: &str, name: &str, bytes: impl AsRef<[u8]>) {
    let dir = root().join("corpus").join(target);
    std::fs::create_dir_all(&dir).expect("corpus directory");
    std::fs::write(dir.join(name), bytes).expect("seed written");
}

fn encode(frames: &[Frame]) -> Vec<u8> {
    let mut out = Vec::new();
    for f in frames {
        f.encode(&mut out);
    }
    out
}

fn frames() {
    let hello = Frame::Hello { station: PEER.into(), durable_next: [1, 2, 3, 4, 5] };
    let item = Frame::Item { lane: Lane::Flash, seq: 7, payload: b"{\"type\":\"message\"}".to_vec() };
    let singles = [
        ("hello", hello.clone()),
        ("item", item.clone()),
        ("item-empty", Frame::Item { lane: Lane::Routine, seq: 1, payload: Vec::new() }),
        ("receipt", Frame::Receipt { lane: Lane::Control, seq: 0 }),
        ("ping", Frame::Ping { nonce: 1 }),
        ("pong", Frame::Pong { nonce: u64::MAX }),
        ("close", Frame::Close { reason: "superseded by another connection".into() }),
        ("close-utf8", Frame::Close { reason: "линия закрыта".into() }),
    ];
    for (name, frame) in &singles {
        write("frame", name, encode(std::slice::from_ref(frame)));
    }
    let all: Vec<Frame> = singles.iter().map(|(_, f)| f.clone()).collect();
    write("frame", "stream", encode(&all));
    let mut bad_version = encode(&[Frame::Ping { nonce: 9 }]);
    bad_version[0] = 2;
    write("frame", "bad-version", bad_version);
    write("frame", "too-large", [1, 2, 0xff, 0xff, 0xff, 0xff]);
    let mut bad_lane = encode(std::slice::from_ref(&item));
    bad_lane[6] = 9;
    write("frame", "bad-lane", bad_lane);
    let mut close_latin1 = encode(&[Frame::Close { reason: "caf\u{e9}".into() }]);
    // "café" in Latin-1: one byte shorter than its UTF-8, so not UTF-8.
    close_latin1.truncate(close_latin1.len() - 2);
    close_latin1.push(0xe9);
    close_latin1[5] -= 1;
    close_latin1[9] -= 1;
    write("frame", "close-latin1", close_latin1);
    let full = encode(&[hello]);
    write("frame", "truncated", &full[..full.len() - 3]);
}

fn handshakes() {
    let hello = |durable_next: [u64; LANES]| Frame::Hello { station: PEER.into(), durable_next };
    // Bravo has what alpha knows is receipted, plus control item 1 (its receipt was lost).
    let resume = hello([2, 3, 1, 1, 6]);
    let item = |lane: Lane, seq: u64| Frame::Item { lane, seq, payload: format!("bravo {seq}").into_bytes() };
    let cases: Vec<(&str, Vec<Frame>)> = vec![
        ("hello-fresh", vec![hello([1; LANES])]),
        ("hello-resume-ping", vec![resume.clone(), Frame::Ping { nonce: 1 }, Frame::Pong { nonce: 1 }]),
        (
            "hello-items-receipts",
            vec![
                resume.clone(),
                item(Lane::Control, 1),
                item(Lane::Flash, 4),
                item(Lane::Flash, 4),
                item(Lane::Flash, 3),
                item(Lane::Flash, 6),
                item(Lane::Flash, 5),
                Frame::Receipt { lane: Lane::Control, seq: 3 },
                Frame::Receipt { lane: Lane::Flash, seq: 4 },
                Frame::Receipt { lane: Lane::Priority, seq: 1 },
            ],
        ),
        ("receipt-beyond-sent", vec![resume.clone(), Frame::Receipt { lane: Lane::Immediate, seq: 1 }]),
        ("hello-beyond-sent", vec![hello([1, 1, 1, 1, 7])]),
        ("wrong-station", vec![Frame::Hello { station: "charlie".into(), durable_next: [1; LANES] }]),
        ("item-before-hello", vec![item(Lane::Control, 1), resume.clone()]),
        ("hello-close", vec![resume.clone(), Frame::Close { reason: "shutting down".into() }]),
        ("hello-twice", vec![resume.clone(), hello([4, 5, 1, 2, 6])]),
    ];
    for (name, frames) in cases {
        write("handshake", name, encode(&frames));
    }
    write("handshake", "real-bravo", real_bravo_stream([2, 3, 1, 1, 6]));
    write("handshake", "real-bravo-behind", real_bravo_stream([1, 3, 1, 1, 6]));
}

/// Everything a real bravo `Line` sends to a real alpha line (the target's) over a short
/// exchange: Hello, items on two lanes, receipts, heartbeats.
fn real_bravo_stream(bravo_durable_next: [u64; LANES]) -> Vec<u8> {
    let t0 = Instant::now();
    let mut alpha = handshake::alpha_line(t0);
    // Bravo sent alpha what alpha has (DURABLE_NEXT) and a little more.
    let pushed_last = [2, 5, 0, 0, 1];
    let receipted: [u64; LANES] = std::array::from_fn(|i| DURABLE_NEXT[i] - 1);
    let mut outbound = Vec::new();
    for lane in Lane::ALL {
        for seq in receipted[lane.index()] + 1..=pushed_last[lane.index()] {
            outbound.push((lane, seq, format!("bravo item {seq}").into_bytes()));
        }
    }
    assert!(bravo_durable_next.iter().zip(RECEIPTED).all(|(n, r)| *n > r));
    assert!(bravo_durable_next.iter().zip(PUSHED_LAST).all(|(n, p)| *n <= p + 1));
    let restored = Restored { outbound, receipted, pushed_last, durable_next: bravo_durable_next };
    let mut bravo = Line::new(handshake::config(), PEER, LOCAL, t0, restored);
    alpha.connect(t0);
    bravo.connect(t0);
    let mut stream = Vec::new();
    for step in 0..6u64 {
        let now = t0 + Duration::from_millis(400 * step);
        alpha.handle_timeout(now);
        bravo.handle_timeout(now);
        let mut from_bravo = Vec::new();
        while bravo.poll_transmit(now, &mut from_bravo) {}
        let mut from_alpha = Vec::new();
        while alpha.poll_transmit(now, &mut from_alpha) {}
        stream.extend_from_slice(&from_bravo);
        alpha.handle_input(now, &from_bravo).expect("alpha accepts bravo");
        bravo.handle_input(now, &from_alpha).expect("bravo accepts alpha");
        for line in [&mut alpha, &mut bravo] {
            while let Some(event) = line.poll_event() {
                if let Event::Received { lane, seq, .. } = event {
                    line.mark_durable(lane, seq);
                }
            }
        }
    }
    stream
}

fn notice(area: serde_json::Value, altitude: Option<(f64, f64)>, start: &str, end: &str) -> serde_json::Value {
    let mut n = json!({
        "kind": "air_operations", "area": area, "start": start, "end": end,
        "title": "CAP", "remarks": "two flights", "lang": "en",
    });
    if let Some((min_m, max_m)) = altitude {
        n["altitude"] = json!({"min_m": min_m, "max_m": max_m});
    }
    n
}

fn notices() {
    let day = ("2026-11-25T10:00:00Z", "2026-11-25T12:00:00Z");
    let circle = json!({"type": "Point", "coordinates": [30.5, 50.4], "radius_m": 20000});
    let square = json!({"type": "Polygon", "coordinates": [[[30, 50], [31, 50], [31, 51], [30, 51], [30, 50]]]});
    let holed = json!({"type": "Polygon", "coordinates": [
        [[10, 10], [12, 10], [12, 12], [10, 12], [10, 10]],
        [[10.5, 10.5], [11, 10.5], [11, 11], [10.5, 10.5]]]});
    let multi = json!({"type": "MultiPolygon", "coordinates": [
        [[[179, -1], [180, -1], [180, 1], [179, 1], [179, -1]]],
        [[[-180, -1], [-179, -1], [-179, 1], [-180, 1], [-180, -1]]]]});
    let polar = json!({"type": "Polygon", "coordinates": [[[10, 84], [100, 84], [170, 86], [10, 84]]]});
    let near = json!({"type": "Point", "coordinates": [31.1, 51.05], "radius_m": 500.5});
    let singles = [
        ("circle", notice(circle.clone(), Some((0.0, 9000.0)), day.0, day.1)),
        ("square-unlimited", notice(square.clone(), None, day.0, day.1)),
        ("holed", notice(holed, Some((-50.0, 1e-3)), day.0, "2026-12-20T00:00:00.123456789Z")),
        ("antimeridian", notice(multi.clone(), Some((3000.0, 3000.0)), day.0, day.1)),
        ("polar", notice(polar, None, "2026-02-28T23:59:59Z", "2026-03-01T00:00:01Z")),
    ];
    for (name, n) in &singles {
        write("notice", name, n.to_string());
    }
    let pairs = [
        ("pair-overlap", notice(circle.clone(), None, day.0, day.1), notice(square.clone(), None, day.0, day.1)),
        (
            "pair-near",
            notice(near, Some((0.0, 300.0)), day.0, day.1),
            notice(square, Some((600.0, 900.0)), day.1, "2026-11-25T12:15:00Z"),
        ),
        ("pair-apart", notice(circle, None, day.0, day.1), notice(multi, None, day.0, day.1)),
    ];
    for (name, a, b) in pairs {
        write("notice", name, json!([a, b]).to_string());
    }
    write(
        "notice",
        "bad-unclosed",
        notice(
            json!({"type": "Polygon", "coordinates": [[[30.5, 50.4], [30.6, 50.5], [30.7, 50.4], [30.6, 50.4]]]}),
            None,
            day.0,
            day.1,
        )
        .to_string(),
    );
    write(
        "notice",
        "bad-crossing",
        notice(
            json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}),
            None,
            day.0,
            day.1,
        )
        .to_string(),
    );
    write(
        "notice",
        "bad-time",
        notice(
            json!({"type": "Point", "coordinates": [0, 0], "radius_m": 1}),
            None,
            "2026-11-25T10:00:00+01:00",
            day.1,
        )
        .to_string(),
    );
}

const VECTOR_TEXT: &str =
    "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const ENOCH_SIG: &str =
    "\u{2014} EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

fn notes() {
    // The C2SP signed-note test vector (../shared/testvectors/signed-note.md).
    let peter =
        NoteSigner::from_private_text("PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")
            .expect("test vector key");
    let signed = sign_note(VECTOR_TEXT, &peter).expect("signs");
    assert_eq!(signed, format!("{VECTOR_TEXT}\n{PETER_SIG}"), "the test vector reproduces");
    write("note", "vector-peter", &signed);
    write("note", "vector-both", format!("{signed}{ENOCH_SIG}"));
    write("note", "vector-enoch-only", format!("{VECTOR_TEXT}\n{ENOCH_SIG}"));
    write("note", "key-verifier", "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
    write("note", "key-private", "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz");
    let (alpha, bravo) = (alpha_key(), bravo_key());
    write("note", "key-alpha-private", alpha.to_private_text());
    write("note", "key-alpha-verifier", alpha.verifier().to_string());

    let mut tree = MerkleTree::new();
    for i in 0..5u8 {
        tree.push(hotline_record::merkle::leaf_hash(&[i]));
    }
    let origin = hotline_audit::origin_of(&alpha.verifier());
    let checkpoint = Checkpoint::new(&origin, tree.len(), tree.root());
    write("note", "checkpoint-body", checkpoint.to_body());
    let note = checkpoint.sign(&NoteSigner::from_station_key(&alpha)).expect("signs");
    write("note", "checkpoint-alpha", &note);
    let line = cosign(&checkpoint, &NoteSigner::from_station_key(&bravo), 1_795_534_200).expect("cosigns");
    write("note", "checkpoint-cosigned", format!("{note}{line}"));
    let empty = Checkpoint::new(&origin, 0, hotline_record::merkle::empty_root());
    write("note", "checkpoint-empty", empty.sign(&NoteSigner::from_station_key(&alpha)).expect("signs"));
    let extended = Checkpoint { extensions: vec!["ext one".into()], ..checkpoint };
    write("note", "checkpoint-extension", extended.to_body());
}

fn merkle() {
    // Arbitrary-derived input: any bytes will do; these cover small and larger trees.
    write("merkle", "small", [3u8, 1, 2, 0]);
    write("merkle", "tree-13", [13u8, 5, 7, 1, 0, 3, 0xff]);
    let mut big = vec![200u8, 77, 150, 1, 4, 9, 0x11];
    big.extend((0..=255u8).cycle().take(300));
    write("merkle", "tree-200", big);
}

fn exports() {
    use fixture::{Sim, Who, conversation};
    let start = Sim::seeded();
    write("export", "alpha-start.json", start.export(Who::Alpha).to_json());
    let one = conversation(Sim::seeded(), 1);
    write("export", "alpha-1-round.json", one.export(Who::Alpha).to_json());
    let two = conversation(Sim::seeded(), 2);
    write("export", "alpha-2-rounds.json", two.export(Who::Alpha).to_json());
    write("export", "bravo-2-rounds.json", two.export(Who::Bravo).to_json());
    let dir = root().join("fixtures");
    std::fs::create_dir_all(&dir).expect("fixtures directory");
    std::fs::write(dir.join("bravo-export.json"), two.export(Who::Bravo).to_json()).expect("fixture written");
}

/// One real envelope (for `item`) and one item text (for `item_signed`) of every kind,
/// from bravo to alpha, and a few near misses for `item_signed`.
fn items() {
    let bravo = bravo_key();
    let mut tree = MerkleTree::new();
    for i in 0..5u8 {
        tree.push(hotline_record::merkle::leaf_hash(&[i]));
    }
    let origin = hotline_audit::origin_of(&bravo.verifier());
    let checkpoint = Checkpoint::new(&origin, tree.len(), tree.root());
    let note = checkpoint.sign(&NoteSigner::from_station_key(&bravo)).expect("signs");
    let circle = json!({"type": "Point", "coordinates": [30.5, 50.4], "radius_m": 20000});
    let notice_text = notice(circle, Some((0.0, 9000.0)), "2026-11-25T10:00:00Z", "2026-11-25T12:00:00Z").to_string();
    for (name, item) in hotline_fuzz::item::valid_items(&note, &notice_text) {
        let signed = SignedItem::sign(item, &bravo);
        let opened = SignedItem::open(&signed.envelope(), &bravo.verifier(), LOCAL);
        assert!(opened.is_ok(), "seed {name} is a valid item: {opened:?}");
        write("item", name, signed.envelope());
        write("item_signed", name, &signed.text);
    }
    let wrong_way = SignedItem::sign(
        Item::Presence { from: LOCAL.into(), to: PEER.into(), on_watch: 1, since_ms: 0 },
        &bravo,
    );
    write("item", "bad-wrong-ends", wrong_way.envelope());
    write("item_signed", "bad-wrong-ends", &wrong_way.text);
    write(
        "item_signed",
        "bad-unknown-field",
        r#"{"type":"presence","from":"bravo","to":"alpha","on_watch":1,"since_ms":0,"x":1}"#,
    );
    write(
        "item_signed",
        "bad-uuid",
        r#"{"type":"ack","from":"bravo","to":"alpha","id":"../x","by":"op","at_ms":1}"#,
    );
}

fn main() {
    frames();
    handshakes();
    notices();
    notes();
    merkle();
    exports();
    items();
    println!("seeds written under {}", root().join("corpus").display());
}
