//! Why: the conflict rule decides what alarms both stations raise; these cases pin its
//! edges (antimeridian, poles, circles, the time buffer and altitude limits) and check
//! that the R-tree index finds exactly what a brute-force comparison finds.

use crate::shapes;

use hotline_notice::{ConflictIndex, Limits, Notice, Separation, area_distance_m, conflict, parse_notice};
use serde_json::{Value, json};

fn notice(area: Value, alt: Option<(f64, f64)>, start: &str, end: &str) -> Notice {
    let mut v = json!({"kind": "air_operations", "area": area, "start": start, "end": end,
                       "title": "t", "remarks": "", "lang": "en"});
    if let Some((lo, hi)) = alt {
        v["altitude"] = json!({"min_m": lo, "max_m": hi});
    }
    match parse_notice(&v.to_string(), &Limits::default()) {
        Ok(n) => n,
        Err(e) => panic!("{e}"),
    }
}

fn at(area: Value) -> Notice {
    notice(area, None, "2026-11-25T10:00:00Z", "2026-11-25T12:00:00Z")
}

fn rect(lon0: f64, lat0: f64, lon1: f64, lat1: f64) -> Value {
    json!({"type": "Polygon", "coordinates": [[[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]]})
}

fn conflicts(a: &Notice, b: &Notice) -> bool {
    let sep = Separation::default();
    let direct = conflict(a, b, &sep).is_some();
    assert_eq!(direct, conflict(b, a, &sep).is_some(), "symmetric");
    let mut index = ConflictIndex::new(sep);
    index.insert("b", b.clone());
    assert_eq!(direct, index.conflicts_of(a) == vec!["b"], "index agrees with the rule");
    direct
}

fn split_multipolygon() -> Notice {
    at(json!({"type": "MultiPolygon", "coordinates": [
        [[[170, 50], [180, 50], [180, 55], [170, 55], [170, 50]]],
        [[[-180, 50], [-179.9, 50], [-179.9, 55], [-180, 55], [-180, 50]]]
    ]}))
}

#[test]
fn antimeridian_split_multipolygon_conflicts_across_the_line() {
    let a = split_multipolygon();
    let near = at(rect(-179.85, 52.0, -179.8, 52.1)); // ~3.4 km east of the east part
    let far = at(rect(-179.7, 52.0, -179.65, 52.1)); // ~13.7 km
    assert!(conflicts(&a, &near));
    assert!(!conflicts(&a, &far));
    // Only the west part, and a polygon just east of the line.
    let west = at(rect(170.0, 50.0, 179.95, 55.0));
    let east = at(rect(-179.95, 52.0, -179.9, 52.1));
    let d = area_distance_m(&west.area, &east.area);
    assert!((6_500.0..7_000.0).contains(&d), "{d}");
    assert!(conflicts(&west, &east));
    // Overlapping across the line: distance 0.
    let across = at(json!({"type": "Point", "coordinates": [180.0, 52.0], "radius_m": 1000}));
    assert_eq!(area_distance_m(&a.area, &across.area), 0.0);
}

#[test]
fn polar_areas() {
    let a = at(rect(-10.0, 89.97, 10.0, 89.98));
    let b = at(rect(160.0, 89.97, 175.0, 89.98));
    assert!(conflicts(&a, &b), "{}", area_distance_m(&a.area, &b.area));
    let a = at(rect(-10.0, 89.9, 10.0, 89.91));
    let b = at(rect(160.0, 89.9, 175.0, 89.91));
    assert!(!conflicts(&a, &b), "{}", area_distance_m(&a.area, &b.area));
    let pole = at(json!({"type": "Point", "coordinates": [0.0, 90.0], "radius_m": 5000}));
    assert!(conflicts(&pole, &at(rect(100.0, 89.92, 110.0, 89.93))));
    assert!(!conflicts(&pole, &at(rect(100.0, 89.8, 110.0, 89.81))));
    let south = at(json!({"type": "Point", "coordinates": [45.0, -89.95], "radius_m": 2000}));
    assert!(conflicts(&south, &at(rect(-135.0, -89.99, -130.0, -89.98))));
}

#[test]
fn circle_versus_polygon() {
    use geographiclib_rs::{DirectGeodesic, Geodesic};
    let g = Geodesic::wgs84();
    let circle = at(json!({"type": "Point", "coordinates": [30.5, 50.4], "radius_m": 20000}));
    let edge_at = |gap: f64| {
        let (_, lon): (f64, f64) = g.direct(50.4, 30.5, 90.0, 20_000.0 + gap);
        at(rect(lon, 50.0, lon + 0.5, 50.8))
    };
    assert!(conflicts(&circle, &edge_at(9_000.0)));
    assert!(!conflicts(&circle, &edge_at(9_500.0)));
    // A polygon inside the circle, and a circle inside a polygon.
    assert!(conflicts(&circle, &at(rect(30.4, 50.35, 30.6, 50.45))));
    let big = at(rect(29.0, 49.0, 32.0, 52.0));
    assert_eq!(area_distance_m(&big.area, &circle.area), 0.0);
    // Circle to circle: centre distance minus both radii.
    let c2 = |gap: f64| {
        let (lat, lon): (f64, f64) = g.direct(50.4, 30.5, 10.0, 20_000.0 + 5_000.0 + gap);
        at(json!({"type": "Point", "coordinates": [lon, lat], "radius_m": 5000}))
    };
    assert!(conflicts(&circle, &c2(9_250.0)));
    assert!(!conflicts(&circle, &c2(9_270.0)));
}

#[test]
fn time_buffer_edges() {
    let a = notice(rect(0.0, 0.0, 1.0, 1.0), None, "2026-11-25T10:00:00Z", "2026-11-25T12:00:00Z");
    let b = |s: &str, e: &str| notice(rect(0.5, 0.5, 2.0, 2.0), None, s, e);
    assert!(conflicts(&a, &b("2026-11-25T12:15:00Z", "2026-11-25T13:00:00Z")));
    assert!(!conflicts(&a, &b("2026-11-25T12:15:01Z", "2026-11-25T13:00:00Z")));
    assert!(conflicts(&a, &b("2026-11-25T09:00:00Z", "2026-11-25T09:45:00Z")));
    assert!(!conflicts(&a, &b("2026-11-25T09:00:00Z", "2026-11-25T09:44:59Z")));
}

#[test]
fn altitude_edges() {
    let t = ("2026-11-25T10:00:00Z", "2026-11-25T12:00:00Z");
    let a = notice(rect(0.0, 0.0, 1.0, 1.0), Some((0.0, 9_000.0)), t.0, t.1);
    let b = |lo: f64, hi: f64| notice(rect(0.0, 0.0, 1.0, 1.0), Some((lo, hi)), t.0, t.1);
    assert!(conflicts(&a, &b(9_300.0, 12_000.0)));
    assert!(!conflicts(&a, &b(9_300.5, 12_000.0)));
    let low = notice(rect(0.0, 0.0, 1.0, 1.0), Some((5_000.0, 8_700.0)), t.0, t.1);
    assert!(conflicts(&low, &b(9_000.0, 9_500.0)));
    assert!(!conflicts(&low, &b(9_000.5, 9_500.0)));
    // No band: surface to unlimited.
    let any = notice(rect(0.0, 0.0, 1.0, 1.0), None, t.0, t.1);
    assert!(conflicts(&any, &b(40_000.0, 50_000.0)));
}

#[test]
fn index_insert_remove_amend_and_sorted() {
    let mut index = ConflictIndex::new(Separation::default());
    index.insert(3, at(rect(0.0, 0.0, 1.0, 1.0)));
    index.insert(1, at(rect(0.5, 0.5, 1.5, 1.5)));
    index.insert(2, at(rect(10.0, 10.0, 11.0, 11.0)));
    let q = at(rect(0.9, 0.9, 1.2, 1.2));
    assert_eq!(index.conflicts_of(&q), vec![1, 3]);
    assert_eq!(index.all_conflicts(), vec![(1, 3)]);
    assert_eq!(index.conflicts_of_id(&1), vec![3]);
    assert!(index.conflicts_of_id(&9).is_empty());
    index.insert(1, at(rect(20.0, 20.0, 21.0, 21.0))); // amended away
    assert_eq!(index.conflicts_of(&q), vec![3]);
    assert!(index.remove(&3).is_some());
    assert!(index.remove(&3).is_none());
    assert!(index.conflicts_of(&q).is_empty());
    assert_eq!(index.len(), 2);
}

#[test]
fn index_matches_brute_force_on_random_notices() {
    let mut rng = shapes::Rng(42);
    let mut notices = Vec::new();
    for i in 0..800 {
        let (a, b) = shapes::random_pair(&mut rng, i);
        for s in [a, b] {
            if let Ok(n) = parse_notice(&s.notice_json(), &Limits::default()) {
                notices.push(n);
            }
        }
    }
    let sep = Separation::default();
    let mut forward = ConflictIndex::new(sep);
    let mut backward = ConflictIndex::new(sep);
    for (i, n) in notices.iter().enumerate() {
        forward.insert(i, n.clone());
    }
    for (i, n) in notices.iter().enumerate().rev() {
        backward.insert(i, n.clone());
    }
    let mut found = 0;
    for (i, n) in notices.iter().enumerate().step_by(7) {
        let brute: Vec<usize> = (0..notices.len()).filter(|&j| conflict(n, &notices[j], &sep).is_some()).collect();
        assert!(brute.contains(&i));
        if forward.conflicts_of(n) != brute {
            for &j in &brute {
                eprintln!("{j}: {}", notices[j].area.to_geojson());
            }
        }
        assert_eq!(forward.conflicts_of(n), brute, "notice {i}");
        assert_eq!(backward.conflicts_of(n), brute, "notice {i}");
        found += brute.len() - 1;
    }
    assert!(found > 20, "the random set should hold conflicts, found {found}");
    assert_eq!(forward.all_conflicts(), backward.all_conflicts());
}

/// The index's shortcuts (`distance_up_to_m` skips far edges, `within_m` stops at the
/// first pair that proves closeness) must give exactly the answer of the full measure.
#[test]
fn limited_and_early_measures_equal_the_full_one() {
    use hotline_notice::{PreparedArea, distance_up_to_m, prepared_distance_m, within_m};
    let mut rng = shapes::Rng(7);
    let (mut checked, mut within) = (0, 0);
    for i in 0..600 {
        let (a, b) = shapes::random_pair(&mut rng, i);
        let (Ok(na), Ok(nb)) =
            (parse_notice(&a.notice_json(), &Limits::default()), parse_notice(&b.notice_json(), &Limits::default()))
        else {
            continue;
        };
        let (pa, pb) = (PreparedArea::new(&na.area), PreparedArea::new(&nb.area));
        let full = prepared_distance_m(&pa, &pb);
        for limit in [0.0, 1_000.0, 9_260.0, full, full * 1.0001, full * 0.9999, 30_000.0] {
            let limited = distance_up_to_m(&pa, &pb, limit);
            if full <= limit {
                assert_eq!(limited.to_bits(), full.to_bits(), "pair {i}, limit {limit}");
            } else {
                assert!(limited > limit, "pair {i}, limit {limit}: {limited} vs full {full}");
            }
            assert_eq!(within_m(&pa, &pb, limit), full <= limit, "pair {i}, limit {limit}, full {full}");
            within += usize::from(full <= limit);
            checked += 1;
        }
    }
    assert!(checked > 3_000 && within > 1_000, "{checked} checked, {within} within");
}

#[test]
fn bulk_load_equals_inserts_and_expiry_removes_by_end() {
    let mut rng = shapes::Rng(99);
    let mut notices = Vec::new();
    for i in 0..300 {
        let (a, b) = shapes::random_pair(&mut rng, i);
        for (k, s) in [a, b].into_iter().enumerate() {
            // Windows end one hour apart, so expiry has an order to follow.
            let mut v: Value = serde_json::from_str(&s.notice_json()).expect("json");
            let hour = (2 * i + k) % 24;
            v["end"] = json!(format!("2026-11-25T{:02}:30:00Z", hour.max(11)));
            if let Ok(n) = parse_notice(&v.to_string(), &Limits::default()) {
                notices.push(n);
            }
        }
    }
    let sep = Separation::default();
    let mut inserted = ConflictIndex::new(sep);
    for (i, n) in notices.iter().enumerate() {
        inserted.insert(i, n.clone());
    }
    // A repeated id in the bulk input keeps the last notice, as an amendment would.
    let bulk_input = std::iter::once((0, notices[5].clone())).chain(notices.iter().cloned().enumerate());
    let mut bulk = ConflictIndex::bulk_load(sep, bulk_input);
    assert_eq!(bulk.len(), notices.len());
    assert_eq!(bulk.all_conflicts(), inserted.all_conflicts());
    assert!(!bulk.all_conflicts().is_empty());
    let cutoff = time::macros::datetime!(2026-11-25 14:00 UTC);
    let cutoff_ms = (cutoff.unix_timestamp_nanos() / 1_000_000) as i64;
    let expected: Vec<usize> = (0..notices.len()).filter(|&i| notices[i].end < cutoff).collect();
    assert!(!expected.is_empty() && expected.len() < notices.len());
    assert_eq!(bulk.remove_ended_before(cutoff_ms), expected);
    assert_eq!(bulk.len(), notices.len() - expected.len());
    assert!(bulk.remove_ended_before(cutoff_ms).is_empty());
    for &i in &expected {
        assert!(bulk.get(&i).is_none());
        inserted.remove(&i);
    }
    assert_eq!(bulk.all_conflicts(), inserted.all_conflicts());
    // Freed slots are reused by later inserts without mixing notices up.
    for &i in &expected {
        bulk.insert(i, notices[i].clone());
        inserted.insert(i, notices[i].clone());
    }
    assert_eq!(bulk.all_conflicts(), inserted.all_conflicts());
    assert_eq!(bulk.ids().count(), notices.len());
}
