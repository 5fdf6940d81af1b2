//! Why: random but reproducible notice areas for the oracle — ordinary, polar and split at
//! the antimeridian as RFC 7946 writes it — in both our JSON and PostGIS WKT.

use geographiclib_rs::{DirectGeodesic, Geodesic, InverseGeodesic};
use serde_json::json;

/// splitmix64: a seeded generator, so a failing pair can be reproduced.
pub struct Rng(pub u64);

impl Rng {
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
}

pub enum Shape {
    /// Polygons of closed rings (exterior only), `[lon, lat]`.
    Polygons {
        parts: Vec<Vec<[f64; 2]>>,
        polar: bool,
    },
    Circle {
        center: [f64; 2],
        radius_m: f64,
        polar: bool,
    },
}

impl Shape {
    pub fn radius_m(&self) -> f64 {
        match self {
            Shape::Circle { radius_m, .. } => *radius_m,
            Shape::Polygons { .. } => 0.0,
        }
    }
    pub fn polar(&self) -> bool {
        match self {
            Shape::Circle { polar, .. } | Shape::Polygons { polar, .. } => *polar,
        }
    }
    pub fn split(&self) -> bool {
        matches!(self, Shape::Polygons { parts, .. } if parts.len() > 1)
    }
    pub fn notice_json(&self) -> String {
        let area = match self {
            Shape::Circle { center, radius_m, .. } => {
                json!({"type": "Point", "coordinates": center, "radius_m": radius_m})
            }
            Shape::Polygons { parts, .. } if parts.len() == 1 => {
                json!({"type": "Polygon", "coordinates": [parts[0]]})
            }
            Shape::Polygons { parts, .. } => json!({"type": "MultiPolygon",
                "coordinates": parts.iter().map(|p| json!([p])).collect::<Vec<_>>()}),
        };
        json!({"kind": "other", "area": area, "start": "2026-11-25T10:00:00Z",
               "end": "2026-11-25T12:00:00Z", "title": "t"})
        .to_string()
    }
    pub fn wkt(&self) -> String {
        let ring = |r: &Vec<[f64; 2]>| {
            let pts: Vec<String> = r.iter().map(|p| format!("{} {}", p[0], p[1])).collect();
            format!("(({}))", pts.join(", "))
        };
        match self {
            Shape::Circle { center, .. } => format!("POINT({} {})", center[0], center[1]),
            Shape::Polygons { parts, .. } if parts.len() == 1 => format!("POLYGON{}", ring(&parts[0])),
            Shape::Polygons { parts, .. } => {
                let ps: Vec<String> = parts.iter().map(ring).collect();
                format!("MULTIPOLYGON({})", ps.join(", "))
            }
        }
    }
}

fn wgs84() -> Geodesic {
    Geodesic::wgs84()
}

/// Keeps longitudes continuous around `lon0` (may leave [-180, 180]).
fn unwrap(lon: f64, lon0: f64) -> f64 {
    let mut l = lon;
    while l - lon0 > 180.0 {
        l -= 360.0;
    }
    while l - lon0 < -180.0 {
        l += 360.0;
    }
    l
}

/// Sutherland–Hodgman against the half-plane `sign * (lon - edge) <= 0`.
fn clip(ring: &[[f64; 2]], edge: f64, sign: f64) -> Vec<[f64; 2]> {
    let inside = |p: [f64; 2]| sign * (p[0] - edge) <= 0.0;
    let mut out = Vec::new();
    let n = ring.len() - 1;
    for i in 0..n {
        let (p, q) = (ring[i], ring[i + 1]);
        if inside(p) {
            out.push(p);
        }
        if inside(p) != inside(q) {
            let t = (edge - p[0]) / (q[0] - p[0]);
            out.push([edge, p[1] + t * (q[1] - p[1])]);
        }
    }
    if let Some(&f) = out.first() {
        out.push(f);
    }
    out
}

fn polygon(rng: &mut Rng, center: [f64; 2], radius_m: f64, polar: bool) -> Shape {
    let g = wgs84();
    let k = 3 + (rng.next() % 10) as usize;
    let mut az: Vec<f64> = (0..k).map(|_| rng.range(-180.0, 180.0)).collect();
    az.sort_by(f64::total_cmp);
    let mut ring: Vec<[f64; 2]> = az
        .iter()
        .map(|&a| {
            let (lat, lon): (f64, f64) = g.direct(center[1], center[0], a, radius_m * rng.range(0.5, 1.0));
            [unwrap(lon, center[0]), lat]
        })
        .collect();
    ring.reverse(); // counter-clockwise (azimuths run clockwise)
    ring.push(ring[0]);
    let parts = if ring.iter().any(|p| p[0] > 180.0) {
        let east: Vec<[f64; 2]> = clip(&ring, 180.0, -1.0).iter().map(|p| [p[0] - 360.0, p[1]]).collect();
        vec![clip(&ring, 180.0, 1.0), east]
    } else if ring.iter().any(|p| p[0] < -180.0) {
        let west: Vec<[f64; 2]> = clip(&ring, -180.0, 1.0).iter().map(|p| [p[0] + 360.0, p[1]]).collect();
        vec![clip(&ring, -180.0, -1.0), west]
    } else {
        vec![ring]
    };
    let parts = parts.into_iter().filter(|p| p.len() >= 4).collect();
    Shape::Polygons { parts, polar }
}

fn shape(rng: &mut Rng, center: [f64; 2], radius_m: f64, polar: bool) -> Shape {
    if rng.unit() < 0.25 { Shape::Circle { center, radius_m, polar } } else { polygon(rng, center, radius_m, polar) }
}

/// A pair whose boundaries come within a few tens of kilometres of each other. Case
/// `i % 4`: 0 anywhere below 70°, 1 polar (84°–89.5°), 2 across the antimeridian, 3 mixed.
pub fn random_pair(rng: &mut Rng, i: usize) -> (Shape, Shape) {
    let g = wgs84();
    let hemi = if rng.unit() < 0.5 { 1.0 } else { -1.0 };
    let (lon, lat) = match i % 4 {
        0 => (rng.range(-180.0, 180.0), rng.range(-70.0, 70.0)),
        1 => (rng.range(-180.0, 180.0), hemi * rng.range(84.0, 89.5)),
        2 => (180.0 - rng.range(-0.3, 0.3), hemi * rng.range(0.0, 80.0)),
        _ => (rng.range(-180.0, 180.0), hemi * rng.range(0.0, 89.0)),
    };
    let lon = if lon > 180.0 { lon - 360.0 } else { lon };
    let polar = lat.abs() >= 84.0;
    let to_pole = |la: f64| -> f64 { g.inverse(la, 0.0, la.signum() * 90.0, 0.0) };
    // Polygons must not enclose a pole (their lon/lat rings would not close).
    let cap = |la: f64, r: f64| r.min(0.8 * to_pole(la));
    let ra = cap(lat, rng.range(1_000.0, 40_000.0));
    let rb = rng.range(1_000.0, 40_000.0);
    let gap = rng.range(-8_000.0, 25_000.0);
    let (lat_b, lon_b): (f64, f64) = g.direct(lat, lon, rng.range(-180.0, 180.0), ra + rb + gap);
    let rb = cap(lat_b, rb);
    let a = shape(rng, [lon, lat], ra, polar);
    let b = shape(rng, [lon_b, lat_b], rb, lat_b.abs() >= 84.0);
    (a, b)
}
