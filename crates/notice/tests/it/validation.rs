//! Why: every rejection a user can meet must name what is wrong and where; these cases
//! pin each error and its sentence.

use hotline_notice::{Area, Kind, Limits, NoticeError, parse_notice};
use serde_json::{Value, json};

fn base() -> Value {
    json!({
        "kind": "air_operations",
        "area": {"type": "Point", "coordinates": [30.5, 50.4], "radius_m": 20000},
        "altitude": {"min_m": 0, "max_m": 9000},
        "start": "2026-11-25T10:00:00Z",
        "end": "2026-11-25T12:00:00Z",
        "title": "CAP", "remarks": "two flights", "lang": "en"
    })
}

fn with(key: &str, v: Value) -> String {
    let mut n = base();
    n[key] = v;
    n.to_string()
}

fn poly(rings: Value) -> String {
    with("area", json!({"type": "Polygon", "coordinates": rings}))
}

fn err(s: &str) -> NoticeError {
    match parse_notice(s, &Limits::default()) {
        Ok(n) => panic!("accepted: {n:?}"),
        Err(e) => e,
    }
}

#[test]
fn product_example_parses() {
    let n = parse_notice(&base().to_string(), &Limits::default()).expect("valid");
    assert_eq!(n.kind, Kind::AirOperations);
    assert!(matches!(n.area, Area::Circle { radius_m, .. } if radius_m == 20000.0));
    let again = parse_notice(&n.to_json().to_string(), &Limits::default()).expect("roundtrip");
    assert_eq!(n, again);
}

#[test]
fn unclosed_ring() {
    let e = err(&poly(json!([[[30.5, 50.4], [30.6, 50.5], [30.7, 50.4], [30.6, 50.4]]])));
    assert_eq!(
        e.to_string(),
        "area: polygon 1, ring 1 is not closed: first position [30.5, 50.4] differs from last [30.6, 50.4]"
    );
}

#[test]
fn unclosed_hole_in_multipolygon_names_polygon_and_ring() {
    let ok = json!([[[0, 0], [1, 0], [1, 1], [0, 0]]]);
    let bad =
        json!([[[10, 10], [12, 10], [12, 12], [10, 12], [10, 10]], [[10.5, 10.5], [11, 10.5], [11, 11], [10.6, 10.5]]]);
    let s = with("area", json!({"type": "MultiPolygon", "coordinates": [ok, bad]}));
    let e = err(&s);
    assert!(matches!(e, NoticeError::RingNotClosed { polygon: 2, ring: 2, .. }), "{e}");
}

#[test]
fn too_few_positions() {
    let e = err(&poly(json!([[[0, 0], [1, 0], [0, 0]]])));
    assert_eq!(e.to_string(), "area: polygon 1, ring 1 has 3 positions; a ring needs at least 4");
}

#[test]
fn longitude_and_latitude_out_of_range() {
    let e = err(&poly(json!([[[0, 0], [181, 0], [1, 1], [0, 0]]])));
    assert_eq!(e.to_string(), "area: polygon 1, ring 1, position 2: longitude 181 is outside [-180, 180]");
    let e = err(&poly(json!([[[0, 0], [1, 0], [1, 90.5], [0, 0]]])));
    assert!(matches!(e, NoticeError::LatitudeOutOfRange { value, .. } if value == 90.5), "{e}");
    let e = err(&with("area", json!({"type": "Point", "coordinates": [10, -91], "radius_m": 5})));
    assert!(matches!(e, NoticeError::LatitudeOutOfRange { .. }), "{e}");
}

#[test]
fn self_intersecting_ring() {
    // A bow tie.
    let e = err(&poly(json!([[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]])));
    assert_eq!(
        e.to_string(),
        "area: polygon 1, ring 1 intersects itself: edge 1 ([0, 0] to [1, 1]) crosses edge 3 ([1, 0] to [0, 1])"
    );
    // A spike folding back on its neighbour.
    let e = err(&poly(json!([[[0, 0], [2, 0], [1, 0], [1, 1], [0, 0]]])));
    assert!(matches!(e, NoticeError::SelfIntersection { .. }), "{e}");
}

#[test]
fn too_many_vertices() {
    let n = 10_001;
    let mut ring: Vec<[f64; 2]> = (0..n - 1)
        .map(|i| {
            let a = i as f64 / (n - 1) as f64 * std::f64::consts::TAU;
            [a.cos(), a.sin()]
        })
        .collect();
    ring.push(ring[0]);
    let e = err(&poly(json!([ring])));
    assert_eq!(e.to_string(), "area: 10001 vertices; at most 10000 are allowed");
    // Exactly at the limit is fine (and the self-intersection sweep is quick).
    ring.truncate(9_999);
    ring.push(ring[0]);
    parse_notice(&poly(json!([ring])), &Limits::default()).expect("10,000 vertices");
}

#[test]
fn end_before_start_and_equal() {
    let e = err(&with("end", json!("2026-11-25T09:00:00Z")));
    assert_eq!(e.to_string(), "end 2026-11-25T09:00:00Z is not after start 2026-11-25T10:00:00Z");
    let e = err(&with("end", json!("2026-11-25T10:00:00Z")));
    assert!(matches!(e, NoticeError::EndBeforeStart { .. }));
}

#[test]
fn window_too_long_is_configurable() {
    let s = with("end", json!("2026-12-25T10:00:01Z"));
    let e = err(&s);
    assert_eq!(
        e.to_string(),
        "the window from 2026-11-25T10:00:00Z to 2026-12-25T10:00:01Z is longer than the maximum of 30 days"
    );
    let ok = with("end", json!("2026-12-25T10:00:00Z"));
    parse_notice(&ok, &Limits::default()).expect("exactly 30 days");
    let short = Limits { window_days_max: 1, ..Limits::default() };
    assert!(matches!(parse_notice(&ok, &short), Err(NoticeError::WindowTooLong { max_days: 1, .. })));
}

#[test]
fn negative_or_zero_radius() {
    for r in [-5.0, 0.0] {
        let e = err(&with("area", json!({"type": "Point", "coordinates": [30, 50], "radius_m": r})));
        assert!(matches!(e, NoticeError::BadRadius(_)), "{e}");
    }
    let e = err(&with("area", json!({"type": "Point", "coordinates": [30, 50], "radius_m": -5})));
    assert_eq!(e.to_string(), "area: radius_m must be greater than 0, got -5");
}

#[test]
fn altitude_inverted() {
    let e = err(&with("altitude", json!({"min_m": 9000, "max_m": 100})));
    assert_eq!(e.to_string(), "altitude: min_m 9000 is greater than max_m 100");
    let e = err(&with("altitude", json!({"min_m": 9000})));
    assert_eq!(e.to_string(), "altitude.max_m: missing");
}

#[test]
fn unknown_kind() {
    let e = err(&with("kind", json!("picnic")));
    assert!(e.to_string().starts_with("kind: unknown kind \"picnic\"; expected one of air_operations"));
}

#[test]
fn invalid_geojson() {
    let cases = [
        json!({"type": "LineString", "coordinates": [[0, 0], [1, 1]]}),
        json!({"type": "Point", "coordinates": [0, 0]}),
        json!({"type": "Polygon"}),
        json!({"type": "Polygon", "coordinates": []}),
        json!({"type": "Polygon", "coordinates": [[[0, 0], [1], [1, 1], [0, 0]]]}),
        json!({"type": "Polygon", "coordinates": [[[0, 0], ["a", 0], [1, 1], [0, 0]]]}),
        json!({"type": "MultiPolygon", "coordinates": []}),
        json!({"coordinates": []}),
        json!("POLYGON((0 0, 1 0, 1 1, 0 0))"),
    ];
    for c in cases {
        let e = err(&with("area", c.clone()));
        assert!(matches!(e, NoticeError::InvalidGeoJson(_)), "{c}: {e}");
        assert!(e.to_string().starts_with("area: invalid GeoJSON: "));
    }
    let e = err(&with("area", json!({"type": "LineString", "coordinates": [[0, 0], [1, 1]]})));
    assert_eq!(
        e.to_string(),
        "area: invalid GeoJSON: geometry type \"LineString\" is not accepted; use Polygon, MultiPolygon or Point with radius_m"
    );
}

#[test]
fn bad_json_times_and_fields() {
    assert!(matches!(err("{\"kind\": "), NoticeError::Json { line: 1, .. }));
    let e = err(&with("start", json!("tomorrow")));
    assert!(e.to_string().starts_with("start: \"tomorrow\" is not an RFC 3339 date-time"));
    let e = err(&with("start", json!("2026-11-25T10:00:00+03:00")));
    assert_eq!(e.to_string(), "start: \"2026-11-25T10:00:00+03:00\" is not in UTC; write it with Z or +00:00");
    let mut n = base();
    n.as_object_mut().map(|o| o.remove("title"));
    assert_eq!(err(&n.to_string()).to_string(), "title: missing");
    assert_eq!(err(&with("title", json!(5))).to_string(), "title: expected a string");
}

#[test]
fn antimeridian_multipolygon_is_accepted() {
    let s = with(
        "area",
        json!({"type": "MultiPolygon", "coordinates": [
            [[[170, 50], [180, 50], [180, 55], [170, 55], [170, 50]]],
            [[[-180, 50], [-170, 50], [-170, 55], [-180, 55], [-180, 50]]]
        ]}),
    );
    let n = parse_notice(&s, &Limits::default()).expect("split at 180 is valid");
    assert_eq!(n.area.polygons().len(), 2);
}

#[test]
fn absent_altitude_is_surface_to_unlimited() {
    let mut n = base();
    n.as_object_mut().map(|o| o.remove("altitude"));
    let n = parse_notice(&n.to_string(), &Limits::default()).expect("valid");
    assert_eq!(n.altitude, None);
    assert_eq!(n.band().max_m, f64::INFINITY);
}

#[test]
fn unsplit_antimeridian_edge() {
    let e = err(&poly(json!([[[170, 50], [-170, 50], [-170, 55], [170, 55], [170, 50]]])));
    assert_eq!(
        e.to_string(),
        "area: polygon 1, ring 1, edge 1 ([170, 50] to [-170, 50]) spans more than 180 degrees of longitude; \
         split an area that crosses the antimeridian into a MultiPolygon at ±180 (RFC 7946, section 3.1.9)"
    );
}

#[test]
fn polygon_larger_than_a_hemisphere() {
    let e = err(&poly(json!([[[-100, -60], [0, -60], [100, -60], [100, 60], [0, 60], [-100, 60], [-100, -60]]])));
    assert_eq!(e.to_string(), "area: polygon 1 is too large: its vertices must lie within 90 degrees of their centre");
    // A continent-sized box is fine.
    parse_notice(&poly(json!([[[-10, 30], [50, 30], [50, 70], [-10, 70], [-10, 30]]])), &Limits::default())
        .expect("large but within a hemisphere");
}

fn multi(polygons: Value) -> String {
    with("area", json!({"type": "MultiPolygon", "coordinates": polygons}))
}

fn ok(s: &str) {
    if let Err(e) = parse_notice(s, &Limits::default()) {
        panic!("refused: {e}");
    }
}

#[test]
fn self_intersection_reads_edges_as_great_circle_arcs() {
    // Simple in longitude/latitude, but the 40° edge along 60°N bulges to about 61.6°N
    // at 20°E on the sphere, above the notch's tip at 61°N: the notch crosses it.
    let e = err(&poly(json!([[[0, 60], [40, 60], [40, 70], [20, 61], [0, 70], [0, 60]]])));
    assert_eq!(
        e.to_string(),
        "area: polygon 1, ring 1 intersects itself: edge 1 ([0, 60] to [40, 60]) crosses edge 3 ([40, 70] to [20, 61])"
    );
    // The other way round: crossing in longitude/latitude (the tip at 61°N is above the
    // straight line along 60°N), but below the arc, which bulges to 61.6°N: valid.
    ok(&poly(json!([[[0, 60], [0, 50], [20, 61], [40, 50], [40, 60], [0, 60]]])));
    // Touching: a vertex on a non-neighbouring edge (within 6.4 cm) is refused.
    let e = err(&poly(json!([[[0, 0], [2, 0], [2, 2], [1, 0], [0, 2], [0, 0]]])));
    assert!(matches!(e, NoticeError::SelfIntersection { edge_a: 1, edge_b: 3, .. }), "{e}");
    // Near-duplicate consecutive positions (1 mm apart) are one vertex, not a crossing.
    ok(&poly(json!([[[0, 0], [1, 0], [1, 0.00000001], [1, 1], [0, 1], [0, 0]]])));
}

#[test]
fn hole_crossing_the_exterior_ring() {
    let outer = json!([[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]);
    let hole = json!([[5, 5], [15, 5], [15, 6], [5, 6], [5, 5]]);
    let e = err(&poly(json!([outer, hole])));
    assert_eq!(
        e.to_string(),
        "area: polygon 1, ring 1 and ring 2 intersect: edge 2 of ring 1 ([10, 0] to [10, 10]) meets \
         edge 1 of ring 2 ([5, 5] to [15, 5])"
    );
    // A hole touching the exterior ring at a vertex is refused too (never ambiguous).
    let touching = json!([[0, 0], [5, 2], [5, 5], [0, 0]]);
    let e = err(&poly(json!([outer, touching])));
    assert!(matches!(e, NoticeError::RingsIntersect { polygon: 1, ring_a: 1, ring_b: 2, .. }), "{e}");
}

#[test]
fn holes_crossing_each_other() {
    let outer = json!([[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]);
    let h1 = json!([[2, 2], [5, 2], [5, 5], [2, 5], [2, 2]]);
    let h2 = json!([[4, 4], [7, 4], [7, 7], [4, 7], [4, 4]]);
    let s = multi(json!([[[[20, 0], [21, 0], [21, 1], [20, 0]]], [outer, h1, h2]]));
    let e = err(&s);
    assert!(matches!(e, NoticeError::RingsIntersect { polygon: 2, ring_a: 2, ring_b: 3, .. }), "{e}");
    assert!(e.to_string().starts_with("area: polygon 2, ring 2 and ring 3 intersect: edge "), "{e}");
}

#[test]
fn hole_outside_the_exterior_ring_or_nested() {
    let outer = json!([[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]);
    let hole = json!([[20, 20], [21, 20], [21, 21], [20, 21], [20, 20]]);
    let e = err(&poly(json!([outer, hole])));
    assert_eq!(e.to_string(), "area: polygon 1, ring 2 is a hole but lies outside the exterior ring (ring 1)");
    let big = json!([[1, 1], [9, 1], [9, 9], [1, 9], [1, 1]]);
    let small = json!([[4, 4], [5, 4], [5, 5], [4, 5], [4, 4]]);
    let e = err(&poly(json!([outer, small, big])));
    assert_eq!(e.to_string(), "area: polygon 1, ring 2 lies inside ring 3; holes must not nest");
    // Two separate holes are fine.
    ok(&poly(json!([outer, [[1, 1], [3, 1], [3, 3], [1, 1]], [[5, 5], [8, 5], [8, 8], [5, 5]]])));
}

#[test]
fn overlapping_multipolygon_members() {
    let a = json!([[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]]);
    // Edges crossing.
    let b = json!([[[5, 5], [15, 5], [15, 15], [5, 15], [5, 5]]]);
    let e = err(&multi(json!([a, b])));
    assert!(matches!(e, NoticeError::PolygonsOverlap { polygon_a: 1, polygon_b: 2, .. }), "{e}");
    assert!(e.to_string().starts_with("area: polygons 1 and 2 overlap (at ["), "{e}");
    assert!(
        e.to_string()
            .ends_with("); the polygons of a MultiPolygon may touch but not overlap (RFC 7946, OGC simple features)"),
        "{e}"
    );
    // One inside the other, with no edges meeting.
    let inner = json!([[[2, 2], [3, 2], [3, 3], [2, 2]]]);
    let e = err(&multi(json!([inner, [[[20, 0], [21, 0], [21, 1], [20, 0]]], a])));
    assert!(matches!(e, NoticeError::PolygonsOverlap { polygon_a: 1, polygon_b: 3, .. }), "{e}");
    // The same polygon twice.
    let e = err(&multi(json!([a, a])));
    assert!(matches!(e, NoticeError::PolygonsOverlap { polygon_a: 1, polygon_b: 2, .. }), "{e}");
    // Inside, with vertices on the other's boundary: a triangle on the square's corners.
    let e = err(&multi(json!([a, [[[0, 0], [10, 0], [10, 10], [0, 0]]]])));
    assert!(matches!(e, NoticeError::PolygonsOverlap { .. }), "{e}");
    // An edge through two of the other's vertices (no strict crossing anywhere).
    let diamond = json!([[[5, -1], [11, 5], [5, 11], [-1, 5], [5, -1]]]);
    let e = err(&multi(json!([a, diamond])));
    assert!(matches!(e, NoticeError::PolygonsOverlap { .. }), "{e}");
}

#[test]
fn touching_multipolygon_members_are_accepted() {
    // Sharing a meridian edge (a great circle), part of it, or a vertex.
    ok(&multi(json!([
        [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]],
        [[[1, 0], [2, 0], [2, 1], [1, 1], [1, 0]]],
        [[[2, 0.5], [3, 0.2], [3, 0.8], [2, 0.5]]],
        [[[3, 0.8], [4, 0.8], [4, 2], [3, 0.8]]]
    ])));
    // A polygon filling another's hole exactly.
    let hole = json!([[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]]);
    ok(&multi(json!([[[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]], hole], [hole]])));
    // Split at ±180 near the pole, where the edges are far from lines of latitude.
    ok(&multi(json!([
        [[[170, 80], [180, 80], [180, 85], [170, 85], [170, 80]]],
        [[[-180, 80], [-170, 80], [-170, 85], [-180, 85], [-180, 80]]]
    ])));
    // Members overlapping across ±180 are still refused.
    let e = err(&multi(json!([
        [[[170, 50], [180, 50], [180, 55], [170, 55], [170, 50]]],
        [[[-180, 50], [-170, 50], [-170, 55], [-180, 55], [-180, 50]]],
        [[[179, 52], [180, 52], [180, 53], [179, 52]]]
    ])));
    assert!(matches!(e, NoticeError::PolygonsOverlap { polygon_a: 1, polygon_b: 3, .. }), "{e}");
}

/// A ring of `n` positions (closed) around a circle of radius 1° at (lon0, 0).
fn circle_ring(n: usize, lon0: f64) -> Vec<[f64; 2]> {
    let mut ring: Vec<[f64; 2]> = (0..n - 1)
        .map(|i| {
            let a = i as f64 / (n - 1) as f64 * std::f64::consts::TAU;
            [lon0 + a.cos(), a.sin()]
        })
        .collect();
    ring.push(ring[0]);
    ring
}

#[test]
fn ten_thousand_vertices_are_checked_quickly() {
    // The sweep over edge boxes keeps the self-intersection check near O(n log n).
    let s = poly(json!([circle_ring(10_000, 30.0)]));
    let t = std::time::Instant::now();
    ok(&s);
    let one_ring = t.elapsed();
    // Five polygons with a hole each, touching one another: all the checks at once.
    let mut polygons = Vec::new();
    for k in 0..5 {
        let lon0 = 2.0 * k as f64;
        let hole: Vec<[f64; 2]> =
            circle_ring(1_000, lon0).iter().map(|p| [lon0 + (p[0] - lon0) * 0.5, p[1] * 0.5]).collect();
        polygons.push(json!([circle_ring(1_000, lon0), hole]));
    }
    let s = multi(json!(polygons));
    let t = std::time::Instant::now();
    ok(&s);
    let touching = t.elapsed();
    println!("validation of a 10,000-vertex ring: {one_ring:?}; of 5 touching polygons with holes: {touching:?}");
    assert!(one_ring < std::time::Duration::from_secs(1), "{one_ring:?}");
    assert!(touching < std::time::Duration::from_secs(1), "{touching:?}");
}
