//! Notices travel between two real stations and both compute the same conflicts.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{Station, pair};

fn notice(lon: f64, lat: f64, title: &str) -> Value {
    json!({"kind": "air_operations", "area": {"type": "Point", "coordinates": [lon, lat], "radius_m": 20000},
           "altitude": {"min_m": 0, "max_m": 9000}, "start": "2030-11-25T10:00:00Z", "end": "2030-11-25T12:00:00Z",
           "title": title, "remarks": "", "lang": "en"})
}

fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn open_conflicts(s: &Station) -> Vec<Value> {
    let (_, v) = s.api("GET", "/api/v1/conflicts", None);
    v.as_array().cloned().unwrap_or_default().into_iter().filter(|c| c["state"] != "resolved").collect()
}

#[test]
fn overlapping_notices_raise_the_same_conflict_at_both_stations() {
    let base = tempfile::tempdir().expect("tempdir");
    let (mut alpha, mut bravo) = pair(base.path());
    alpha.start().expect("alpha starts");
    bravo.start().expect("bravo starts");
    assert!(alpha.wait_line("bravo", "up", Duration::from_secs(20)));

    // Bad input: a clear 400, nothing stored.
    let mut bad = notice(30.5, 50.4, "bad");
    bad["end"] = json!("2030-11-25T09:00:00Z");
    let (status, v) = alpha.api("POST", "/api/v1/lines/bravo/notices", Some(bad));
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["error"]["code"], "bad_notice", "{v}");
    assert_eq!(alpha.api("GET", "/api/v1/lines/bravo/notices", None).1, json!([]));

    let (status, a) = alpha.api("POST", "/api/v1/lines/bravo/notices", Some(notice(30.5, 50.4, "CAP North")));
    assert_eq!(status, 201, "{a}");
    // Centres about 28 km apart with 20 km radii: the circles overlap.
    let (status, b) = bravo.api("POST", "/api/v1/lines/alpha/notices", Some(notice(30.9, 50.4, "EX WINTER")));
    assert_eq!(status, 201, "{b}");
    // A third, far away, conflicts with nothing; filed with the CLI from a GeoJSON file.
    let geojson = base.path().join("navex.geojson");
    std::fs::write(&geojson, r#"{"type":"Polygon","coordinates":[[[40,45],[40.5,45],[40.5,45.5],[40,45.5],[40,45]]]}"#)
        .expect("write");
    let out = std::process::Command::new(crate::harness::BIN)
        .args(["notice", "file", "--url", &bravo.url(), "--line", "alpha", geojson.to_str().expect("path")])
        .args(["--kind", "naval_exercise", "--title", "NAVEX", "--start", "2030-11-25T08:00:00Z"])
        .args(["--end", "2030-11-25T18:00:00Z", "--min-m", "0", "--max-m", "100"])
        .env("HOTLINE_TOKEN", &bravo.token)
        .output()
        .expect("run");
    assert!(out.status.success(), "hotline notice file: {}", String::from_utf8_lossy(&out.stderr));
    let out = std::process::Command::new(crate::harness::BIN)
        .args(["notice", "file", "--url", &bravo.url(), "--line", "alpha", geojson.to_str().expect("path")])
        .args(["--kind", "picnic", "--title", "X", "--start", "2030-11-25T08:00:00Z", "--end", "2030-11-25T18:00:00Z"])
        .env("HOTLINE_TOKEN", &bravo.token)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("picnic") && stderr.contains("HTTP 400"), "{stderr}");

    wait_for("both stations to see all three notices", || {
        [&alpha, &bravo].iter().all(|s| {
            let peer = if s.name == "alpha" { "bravo" } else { "alpha" };
            s.api("GET", &format!("/api/v1/lines/{peer}/notices"), None).1.as_array().map_or(0, Vec::len) == 3
        })
    });
    // An operator at bravo acknowledges alpha's notice; alpha sees who and when.
    let (status, acked) =
        bravo.api("POST", &format!("/api/v1/notices/{}/ack", a["id"].as_str().unwrap_or_default()), None);
    assert_eq!(status, 200, "{acked}");
    assert_eq!(acked["state"], "acknowledged");
    let (status, _) = alpha.api("POST", &format!("/api/v1/notices/{}/ack", a["id"].as_str().unwrap_or_default()), None);
    assert_eq!(status, 409, "the filing station cannot acknowledge its own notice");
    wait_for("the acknowledgment at alpha", || {
        let (_, list) = alpha.api("GET", "/api/v1/lines/bravo/notices", None);
        list.as_array().is_some_and(|l| {
            l.iter().any(|n| n["id"] == a["id"] && n["state"] == "acknowledged" && n["acknowledged_by"] == "op")
        })
    });
    wait_for("a conflict at both stations", || open_conflicts(&alpha).len() == 1 && open_conflicts(&bravo).len() == 1);
    let (ca, cb) = (open_conflicts(&alpha).remove(0), open_conflicts(&bravo).remove(0));
    assert_eq!(ca["id"], cb["id"], "both stations name the conflict alike");
    assert_eq!(ca["notices"], cb["notices"]);
    let ids = ca["notices"].as_array().expect("ids");
    assert!(ids.contains(&a["id"]) && ids.contains(&b["id"]), "{ca}");

    // Acknowledge at alpha; cancelling bravo's notice resolves it at both.
    let (status, acked) =
        alpha.api("POST", &format!("/api/v1/conflicts/{}/ack", ca["id"].as_str().unwrap_or_default()), None);
    assert_eq!(status, 200, "{acked}");
    assert_eq!(acked["state"], "acknowledged");
    let agent = ureq::Agent::new_with_config(ureq::config::Config::builder().http_status_as_error(false).build());
    let resp = agent
        .delete(&format!("{}/api/v1/notices/{}", bravo.url(), b["id"].as_str().unwrap_or_default()))
        .header("Authorization", &format!("Bearer {}", bravo.token))
        .call()
        .expect("delete");
    assert_eq!(resp.status().as_u16(), 200);
    wait_for("the conflict to be resolved at both", || {
        open_conflicts(&alpha).is_empty() && open_conflicts(&bravo).is_empty()
    });
    assert!(alpha.stop() && bravo.stop());
}
