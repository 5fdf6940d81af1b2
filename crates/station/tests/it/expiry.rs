//! Notices expire by themselves once their window and the line's time buffer have passed:
//! one `notice.expired` entry each, their conflicts resolved, and no further conflicts.

use std::sync::Arc;

use hotline_station::core::Core;
use hotline_station::notices::{LiveIndex, Names, SideIndexes, detect_conflicts, expire_notices};
use hotline_store::{NoticeRow, Store};
use serde_json::json;

const MIN: i64 = 60_000;

fn notice(id: &str, side: &str, start_ms: i64, end_ms: i64) -> NoticeRow {
    let t = |ms: i64| hotline_station::rfc3339(ms).replace(".000Z", "Z");
    let body = json!({
        "kind": "air_operations",
        "area": {"type": "Point", "coordinates": [30.5, 50.4], "radius_m": 20000},
        "start": t(start_ms), "end": t(end_ms), "title": id, "remarks": "", "lang": "en"
    });
    NoticeRow {
        id: id.into(),
        version: 1,
        peer: "bravo".into(),
        side: side.into(),
        state: "filed".into(),
        body: body.to_string(),
        end_ms,
        created_ms: 0,
        acked_by: None,
        acked_ms: None,
    }
}

#[tokio::test]
async fn a_notice_past_its_end_and_buffer_expires_once_and_its_conflict_resolves() {
    let core = Core::new("alpha".into(), "en".into(), Store::open_in_memory().expect("store")).expect("core");
    let live: LiveIndex = Arc::default();
    let now = hotline_station::now_ms() / 1000 * 1000;
    // Two overlapping notices: one ended 20 minutes ago (past the 15-minute buffer), one
    // still running; their conflict was found while the first was active (the index is
    // loaded as it was then).
    let (old, current) = (
        notice("old", "ours", now - 60 * MIN, now - 20 * MIN),
        notice("current", "theirs", now - 30 * MIN, now + 60 * MIN),
    );
    let l = live.clone();
    let conflicts = core
        .write(move |j| {
            j.tx.insert_notice(&old)?;
            j.tx.insert_notice(&current)?;
            // Detected as if when filed (the index holds both; `old` was active then).
            let load = |n: &hotline_store::NoticeRow| {
                hotline_notice::ConflictIndex::bulk_load(
                    hotline_notice::Separation::default(),
                    [(n.id.clone(), hotline_notice::parse_notice(&n.body, &Default::default()).expect("valid"))],
                )
            };
            *l.lock().expect("lock") = Some(SideIndexes { ours: load(&old), theirs: load(&current) });
            detect_conflicts(j, &Names { local: "alpha", lang: "en" }, "bravo", "current", &l)?;
            j.tx.conflicts()
        })
        .await
        .expect("write");
    assert_eq!(conflicts.len(), 1, "the two overlapped while both were active: {conflicts:?}");
    assert!(conflicts[0].resolved_ms.is_none());

    let l = live.clone();
    let names = || Names { local: "alpha", lang: "en" };
    let expired = core.write(move |j| expire_notices(j, &names(), "bravo", &l)).await.expect("expire");
    assert_eq!(expired, 1);
    let l = live.clone();
    assert_eq!(core.write(move |j| expire_notices(j, &names(), "bravo", &l)).await.expect("again"), 0, "once only");
    let (state, entries, conflicts) = core
        .read(|tx| Ok((tx.latest_notice("old")?.map(|n| n.state), tx.entries_after(0, 100)?, tx.conflicts()?)))
        .await
        .expect("read");
    assert!(conflicts[0].resolved_ms.is_some(), "the expired notice's conflict is resolved");
    assert!(entries.iter().any(|e| e.kind == "conflict.resolved"));
    assert_eq!(state.as_deref(), Some("expired"));
    let expired_entries: Vec<_> = entries.iter().filter(|e| e.kind == "notice.expired").collect();
    assert_eq!(expired_entries.len(), 1);
    assert!(expired_entries[0].body.contains("\"id\":\"old\""), "{}", expired_entries[0].body);
    // The summary is rendered from the catalogs: altitudes with flight levels, and a DTG.
    assert!(expired_entries[0].body.contains("SFC"), "{}", expired_entries[0].body);
    let raised = entries.iter().find(|e| e.kind == "conflict.raised").expect("conflict.raised");
    assert!(raised.body.contains("\"text\":\"") && raised.body.contains("old"), "{}", raised.body);
    assert!(live.lock().expect("lock").as_ref().is_some_and(|i| i.get("old").is_none()), "left the index");
    assert!(
        live.lock().expect("lock").as_ref().is_some_and(|i| i.get("current").is_some()),
        "the running notice stays"
    );
}
