//! A record exported from a real two-station run survives `hotline verify` as is, and
//! every one of 1,000 random mutations of it is rejected.

use std::process::Command;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use crate::harness::{BIN, pair};

const MUTATIONS: usize = 1000;

fn verify_bytes(bytes: &[u8]) -> Result<(), String> {
    let export = hotline_audit::parse_export(bytes).map_err(|e| e.to_string())?;
    hotline_audit::verify(&export).map(|_| ()).map_err(|e| e.to_string())
}

/// One random mutation of the export, described.
fn mutate(original: &[u8], rng: &mut ChaCha8Rng) -> (Vec<u8>, String) {
    let doc: Value = serde_json::from_slice(original).expect("json");
    let entries = doc["entries"].as_array().expect("entries").clone();
    let n = entries.len();
    let with_entries = |entries: Vec<Value>| {
        let mut d = doc.clone();
        d["entries"] = Value::Array(entries);
        d.to_string().into_bytes()
    };
    match rng.random_range(0..9) {
        0 | 1 => {
            let mut bytes = original.to_vec();
            let at = rng.random_range(0..bytes.len());
            let old = bytes[at];
            bytes[at] = old ^ rng.random_range(1..=255u8);
            (bytes, format!("byte {at} changed from {old:#04x}"))
        }
        2 => {
            let i = rng.random_range(0..n);
            let mut e = entries;
            e.remove(i);
            (with_entries(e), format!("entry {} deleted", i + 1))
        }
        3 => {
            let i = rng.random_range(0..n);
            let mut e = entries;
            let copy = e[i].clone();
            e.insert(i, copy);
            (with_entries(e), format!("entry {} duplicated", i + 1))
        }
        4 => {
            let (i, j) = (rng.random_range(0..n), rng.random_range(0..n));
            let mut e = entries;
            if i == j {
                let j = (i + 1) % n;
                e.swap(i, j);
            } else {
                e.swap(i, j);
            }
            (with_entries(e), format!("entries {} and {} swapped", i + 1, j + 1))
        }
        5 => {
            let i = rng.random_range(0..=n);
            let mut e = entries;
            let forged = json!({"kind": "login", "at": "2026-11-24T03:00:00Z", "user": "mallory"}).to_string();
            e.insert(i, Value::String(forged));
            (with_entries(e), format!("forged entry inserted at {}", i + 1))
        }
        6 => {
            let cut = rng.random_range(1..original.len());
            (original[..cut].to_vec(), format!("truncated to {cut} bytes"))
        }
        7 => {
            // Swap the signatures of two signed entries.
            let signed: Vec<usize> =
                (0..n).filter(|i| entries[*i].as_str().is_some_and(|t| t.contains("\"sig\":"))).collect();
            let (a, b) = (signed[rng.random_range(0..signed.len())], signed[rng.random_range(0..signed.len())]);
            let b =
                if a == b { signed[(signed.iter().position(|x| *x == a).unwrap_or(0) + 1) % signed.len()] } else { b };
            let sig = |i: usize| -> Value {
                serde_json::from_str::<Value>(entries[i].as_str().unwrap_or_default()).unwrap_or(Value::Null)["sig"]
                    .clone()
            };
            let (sa, sb) = (sig(a), sig(b));
            let mut e = entries.clone();
            for (i, s) in [(a, sb), (b, sa)] {
                let mut obj: Value =
                    serde_json::from_str(entries[i].as_str().unwrap_or_default()).unwrap_or(Value::Null);
                obj["sig"] = s;
                e[i] = Value::String(obj.to_string());
            }
            (with_entries(e), format!("signatures of entries {} and {} swapped", a + 1, b + 1))
        }
        _ => {
            // Drop the last checkpoint, or a cosignature line from one.
            let mut d = doc.clone();
            let cps = d["checkpoints"].as_array_mut().expect("checkpoints");
            let k = rng.random_range(0..cps.len());
            let note = cps[k].as_str().unwrap_or_default().to_owned();
            let cosig = note.lines().rfind(|l| l.starts_with("— bravo ")).map(String::from);
            match cosig {
                Some(line) if rng.random_bool(0.5) => {
                    let forged = line.replacen("— bravo ", "— bravo AAAA", 1);
                    cps[k] = Value::String(note.replace(&line, &forged));
                    (d.to_string().into_bytes(), format!("cosignature of checkpoint {} forged", k + 1))
                }
                _ => {
                    cps.pop();
                    (d.to_string().into_bytes(), "last checkpoint removed".into())
                }
            }
        }
    }
}

#[test]
fn every_mutation_of_a_real_export_is_rejected() {
    let base = tempfile::tempdir().expect("tempdir");
    let (mut alpha, mut bravo) = pair(base.path());
    alpha.set_checkpoint_interval_ms(500).expect("alpha's config");
    bravo.set_checkpoint_interval_ms(500).expect("bravo's config");
    alpha.start().expect("alpha starts");
    bravo.start().expect("bravo starts");
    assert!(alpha.wait_line("bravo", "up", Duration::from_secs(20)));
    let mut first_from_bravo = None;
    for i in 0..600 {
        let (status, v) =
            alpha.api("POST", "/api/v1/lines/bravo/messages", Some(json!({"body": format!("tamper-{i}")})));
        assert_eq!(status, 202);
        if i % 20 == 0 {
            let reply = json!({"body": format!("reply-{i}"), "precedence": "PRIORITY"});
            let (status, v) = bravo.api("POST", "/api/v1/lines/alpha/messages", Some(reply));
            assert_eq!(status, 202, "{v}");
            first_from_bravo.get_or_insert(v["id"].as_str().unwrap_or_default().to_owned());
        }
        let _ = v;
    }
    // Wait for delivery, acknowledge one message each way, let checkpoints be cosigned.
    let deadline = Instant::now() + Duration::from_secs(30);
    while bravo.messages("alpha").expect("bravo lists messages").iter().filter(|m| m["direction"] == "in").count() < 600
    {
        assert!(Instant::now() < deadline, "not all delivered");
        std::thread::sleep(Duration::from_millis(200));
    }
    let incoming = bravo
        .messages("alpha")
        .expect("bravo lists messages")
        .into_iter()
        .find(|m| m["direction"] == "in")
        .expect("one");
    let (status, _) =
        bravo.api("POST", &format!("/api/v1/messages/{}/ack", incoming["id"].as_str().unwrap_or_default()), None);
    assert_eq!(status, 200);
    std::thread::sleep(Duration::from_millis(1500));
    assert!(alpha.stop() && bravo.stop());

    let alpha_file = alpha.export(base.path()).expect("alpha exports its record");
    let bravo_file = bravo.export(base.path()).expect("bravo exports its record");
    let original = std::fs::read(&alpha_file).expect("export");
    verify_bytes(&original).expect("the untouched export verifies");
    let entries = serde_json::from_slice::<Value>(&original).expect("json")["entries"].as_array().map_or(0, Vec::len);
    assert!(entries >= 2000, "only {entries} entries");

    // The binary agrees, including the cross-check of the two records.
    let out = Command::new(BIN)
        .args(["verify", alpha_file.to_str().expect("path"), bravo_file.to_str().expect("path")])
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "hotline verify A B failed: {}{}", stdout, String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("alpha") && stdout.contains("bravo"), "{stdout}");

    let mut rng = ChaCha8Rng::seed_from_u64(0x7a3e);
    let mut detected = 0;
    for n in 0..MUTATIONS {
        let (bytes, what) = mutate(&original, &mut rng);
        match verify_bytes(&bytes) {
            Err(_) => detected += 1,
            Ok(()) => panic!("mutation {n} ({what}) was not detected"),
        }
        // Every 100th also through the binary: non-zero exit and a reason on stderr.
        if n % 100 == 0 {
            let path = base.path().join("mutated.json");
            std::fs::write(&path, &bytes).expect("write");
            let out = Command::new(BIN).args(["verify", path.to_str().expect("path")]).output().expect("run");
            assert!(!out.status.success(), "hotline verify accepted mutation {n} ({what})");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(stderr.starts_with("hotline: ") && !stderr.contains("panicked"), "{stderr}");
        }
    }
    println!("tamper test: export of {entries} entries; {MUTATIONS} mutations tried, {detected} detected");
    assert_eq!(detected, MUTATIONS);
}
