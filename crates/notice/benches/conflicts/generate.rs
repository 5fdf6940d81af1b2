//! Why: the benchmark must run the same million notices through our index and through
//! PostGIS, and anyone must be able to rerun it and get the same data; so every notice is
//! a pure function of (seed, number), and the shapes are what a continent's worth of
//! planned activity looks like: many small areas, some large ones, clustered around
//! exercise areas, windows from minutes to days, mixed altitude bands.

use hotline_notice::{Area, Limits, Notice, notice_from_value};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

/// "Now" for the benchmark: every generated notice is still active at this instant.
pub const NOW: OffsetDateTime = datetime!(2026-11-25 00:00 UTC);

/// Europe, roughly: where the notices are spread.
const LON_RANGE: (f64, f64) = (-10.0, 40.0);
const LAT_RANGE: (f64, f64) = (35.0, 70.0);
/// Exercise areas that draw most notices, and the share of notices drawn to them.
const HOTSPOT_COUNT: u64 = 40;
const HOTSPOT_SHARE: f64 = 0.65;
/// Vertices of a polygon (distinct positions, the closing one not counted).
const POLYGON_VERTICES: (f64, f64) = (4.0, 200.0);
const POLYGON_RADIUS_M: (f64, f64) = (2_000.0, 80_000.0);
const CIRCLE_SHARE: f64 = 0.3;
const CIRCLE_RADIUS_M: (f64, f64) = (500.0, 50_000.0);
/// Largest circle radius generated; PostGIS needs it to widen its index search.
pub const CIRCLE_RADIUS_MAX_M: f64 = CIRCLE_RADIUS_M.1;
const WINDOW_MINUTES: (f64, f64) = (10.0, 4.0 * 24.0 * 60.0);
const START_AHEAD_DAYS_MAX: f64 = 20.0;
const NO_ALTITUDE_SHARE: f64 = 0.25;

/// splitmix64: small, seedable, the same everywhere.
pub struct Rng(pub u64);

impl Rng {
    /// The generator for item `i` of stream `seed`: independent of every other item.
    pub fn for_item(seed: u64, i: u64) -> Rng {
        let mut r = Rng(seed ^ i.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        r.next();
        r
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    /// Log-uniform in [lo, hi): as many small values as large ones per factor of ten.
    pub fn log_range(&mut self, lo: f64, hi: f64) -> f64 {
        (self.range(lo.ln(), hi.ln())).exp()
    }
    /// Roughly normal (sum of four uniforms), mean 0, standard deviation 1.
    pub fn normal(&mut self) -> f64 {
        ((0..4).map(|_| self.unit()).sum::<f64>() - 2.0) * 3.0_f64.sqrt()
    }
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Centre and spread (degrees) of hotspot `h`, the same for every seed.
fn hotspot(h: u64) -> ([f64; 2], f64) {
    let mut r = Rng::for_item(0x407_5907, h);
    ([r.range(LON_RANGE.0 + 3.0, LON_RANGE.1 - 3.0), r.range(LAT_RANGE.0 + 2.0, LAT_RANGE.1 - 2.0)], r.range(0.4, 2.5))
}

fn centre(r: &mut Rng) -> [f64; 2] {
    if r.unit() < HOTSPOT_SHARE {
        let (c, spread) = hotspot(r.next() % HOTSPOT_COUNT);
        let lat = (c[1] + spread * r.normal()).clamp(LAT_RANGE.0 - 5.0, LAT_RANGE.1 + 5.0);
        let lon = c[0] + spread * r.normal() / lat.to_radians().cos().max(0.3);
        [lon, lat]
    } else {
        [r.range(LON_RANGE.0, LON_RANGE.1), r.range(LAT_RANGE.0, LAT_RANGE.1)]
    }
}

/// A star-shaped ring around `c`: vertices at increasing bearings and random distances,
/// so the ring never crosses itself; counter-clockwise, closed.
fn ring(r: &mut Rng, c: [f64; 2]) -> Vec<[f64; 2]> {
    let n = r.log_range(POLYGON_VERTICES.0, POLYGON_VERTICES.1 + 1.0).floor() as usize;
    let radius_m = r.log_range(POLYGON_RADIUS_M.0, POLYGON_RADIUS_M.1);
    let m_per_deg_lon = 111_320.0 * c[1].to_radians().cos();
    let mut ring: Vec<[f64; 2]> = (0..n)
        .map(|k| {
            let bearing = std::f64::consts::TAU * (k as f64 + r.range(0.0, 0.8)) / n as f64;
            let d = radius_m * r.range(0.55, 1.0);
            [round6(c[0] + d * bearing.cos() / m_per_deg_lon), round6(c[1] + d * bearing.sin() / 110_574.0)]
        })
        .collect();
    ring.push(ring[0]);
    ring
}

fn area(r: &mut Rng) -> Value {
    let c = centre(r);
    if r.unit() < CIRCLE_SHARE {
        let radius_m = r.log_range(CIRCLE_RADIUS_M.0, CIRCLE_RADIUS_M.1).round();
        json!({"type": "Point", "coordinates": [round6(c[0]), round6(c[1])], "radius_m": radius_m})
    } else {
        json!({"type": "Polygon", "coordinates": [ring(r, c)]})
    }
}

fn altitude(r: &mut Rng) -> Value {
    if r.unit() < NO_ALTITUDE_SHARE {
        return Value::Null;
    }
    // Multiples of 30 m, so that PostGIS and we compare the same exact numbers.
    let min = if r.unit() < 0.4 { 0 } else { 30 * (r.next() % 400) };
    let max = min + 30 * (5 + r.next() % 395);
    json!({"min_m": min, "max_m": max})
}

/// Notice number `i` of stream `seed`: valid, active at `NOW`, whole minutes.
pub fn notice(seed: u64, i: u64) -> Notice {
    let mut attempt: u64 = 0;
    loop {
        let mut r = Rng::for_item(seed, i.wrapping_add(attempt << 40));
        let minutes = r.log_range(WINDOW_MINUTES.0, WINDOW_MINUTES.1).round() as i64;
        let ahead = r.range(-(minutes as f64) * 0.9, START_AHEAD_DAYS_MAX * 24.0 * 60.0).round() as i64;
        let start = NOW + time::Duration::minutes(ahead);
        let end = start + time::Duration::minutes(minutes);
        let kind =
            ["air_operations", "missile_test", "naval_exercise", "airspace_closure", "ground_operations", "other"]
                [(r.next() % 6) as usize];
        let v = json!({
            "kind": kind,
            "area": area(&mut r),
            "altitude": altitude(&mut r),
            "start": rfc3339(start),
            "end": rfc3339(end),
            "title": format!("N{i}"),
            "lang": "en",
        });
        // Validation is part of what a station does with every notice; a random ring
        // it rejects (very rare) is simply drawn again.
        if let Ok(n) = notice_from_value(&v, &Limits::default()) {
            return n;
        }
        attempt += 1;
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// Vertex count of an area (polygons), or 0 for a circle.
pub fn vertices(area: &Area) -> usize {
    area.polygons().iter().flat_map(|p| &p.rings).map(|r| r.len().saturating_sub(1)).sum()
}

/// Notices `range` of stream `seed`, generated on `threads` threads, in order.
pub fn notices(seed: u64, range: std::ops::Range<u64>, threads: u64) -> Vec<(u64, Notice)> {
    let len = range.end - range.start;
    let chunk = len.div_ceil(threads.max(1));
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads.max(1))
            .map(|t| {
                let lo = range.start + (t * chunk).min(len);
                let hi = range.start + ((t + 1) * chunk).min(len);
                s.spawn(move || (lo..hi).map(|i| (i, notice(seed, i))).collect::<Vec<_>>())
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    })
}

/// WKT for PostGIS `geography`: a circle is its centre (the radius is a column).
pub fn wkt(area: &Area) -> String {
    let ring = |r: &Vec<[f64; 2]>| {
        let pts: Vec<String> = r.iter().map(|p| format!("{} {}", p[0], p[1])).collect();
        format!("({})", pts.join(","))
    };
    let poly = |p: &hotline_notice::Polygon| {
        let rings: Vec<String> = p.rings.iter().map(ring).collect();
        format!("({})", rings.join(","))
    };
    match area {
        Area::Circle { center, .. } => format!("SRID=4326;POINT({} {})", center[0], center[1]),
        Area::Polygon(p) => format!("SRID=4326;POLYGON{}", poly(p)),
        Area::MultiPolygon(ps) => {
            let ps: Vec<String> = ps.iter().map(poly).collect();
            format!("SRID=4326;MULTIPOLYGON({})", ps.join(","))
        }
    }
}

/// The radius of a circle area, 0 for polygons.
pub fn radius_m(area: &Area) -> f64 {
    match area {
        Area::Circle { radius_m, .. } => *radius_m,
        _ => 0.0,
    }
}
