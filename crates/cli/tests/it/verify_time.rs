//! How long `hotline verify` takes on an export of 100,000 entries. A measurement, not a
//! check, so it is ignored in the suite:
//!
//! ```text
//! cargo test --release -p hotline-cli --test it verify_time -- --ignored --nocapture
//! ```

use std::sync::Arc;
use std::time::Instant;

use hotline_identity::StationKey;
use hotline_station::core::Core;
use hotline_station::item::{Item, SignedItem};
use serde_json::json;

const ENTRIES: usize = 100_000;
const BATCH: usize = 1000;

#[test]
#[ignore = "measurement: run with --ignored --release to print the time to verify 100,000 entries"]
fn time_to_verify_an_export_of_100_000_entries() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let key = Arc::new(StationKey::generate("alpha").expect("key"));
    let store = hotline_store::Store::open(&dir.path().join("station.db")).expect("store");
    let core = Core::new("alpha".into(), "en".into(), store).expect("core");
    let built = Instant::now();
    runtime.block_on(async {
        for batch in 0..ENTRIES / BATCH {
            let signer = key.clone();
            core.write(move |j| {
                for i in 0..BATCH {
                    let n = batch * BATCH + i;
                    let item = Item::Message {
                        from: "alpha".into(),
                        to: "bravo".into(),
                        id: format!("m{n}"),
                        precedence: "ROUTINE".into(),
                        lang: "en".into(),
                        body: format!("message number {n}, a sentence of ordinary length"),
                        reply_to: None,
                        author: "op".into(),
                        created_ms: 0,
                    };
                    let signed = SignedItem::sign(item, &signer);
                    j.append(
                        hotline_station::entry_kind::EntryKind::MessageQueued,
                        json!({"peer": "bravo", "message": {"id": format!("m{n}")}, "item": signed.text, "sig": signed.sig}),
                    )?;
                }
                Ok(())
            })
            .await
            .expect("write");
            if batch % 10 == 0 {
                core.checkpoint(key.clone()).await.expect("checkpoint");
            }
        }
    });
    let peer = StationKey::generate("bravo").expect("key").verifier();
    let text = runtime.block_on(hotline_station::export::export(&core, key.clone(), vec![peer])).expect("export");
    println!(
        "built and exported {ENTRIES} entries in {:.1} s ({} MB)",
        built.elapsed().as_secs_f64(),
        text.len() / 1_000_000
    );
    let started = Instant::now();
    let export = hotline_audit::parse_export(text.as_bytes()).expect("parse");
    let summary = hotline_audit::verify(&export).expect("verify");
    let took = started.elapsed();
    println!("{}", summary.render());
    println!("verify of {ENTRIES} entries: {:.2} s (parse and check, one core)", took.as_secs_f64());
}
