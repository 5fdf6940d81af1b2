//! Why: the distance module claims an error bound (0.01 %) against the exact minimum over
//! great-circle edges measured on WGS84; this checks the claim by dense sampling of the
//! edges with Karney's geodesics, including polar and antimeridian cases.

use geographiclib_rs::{DirectGeodesic, Geodesic, InverseGeodesic};
use hotline_notice::{Area, Polygon, area_distance_m};

const BOUND_RELATIVE: f64 = 1e-4;

fn v3(p: [f64; 2]) -> [f64; 3] {
    let (lon, lat) = (p[0].to_radians(), p[1].to_radians());
    [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
}

fn slerp(a: [f64; 3], b: [f64; 3], t: f64) -> [f64; 2] {
    let dot = (a[0] * b[0] + a[1] * b[1] + a[2] * b[2]).clamp(-1.0, 1.0);
    let w = dot.acos();
    let (ka, kb) = if w < 1e-12 { (1.0 - t, t) } else { (((1.0 - t) * w).sin() / w.sin(), (t * w).sin() / w.sin()) };
    let v = [ka * a[0] + kb * b[0], ka * a[1] + kb * b[1], ka * a[2] + kb * b[2]];
    [v[1].atan2(v[0]).to_degrees(), v[2].atan2(v[0].hypot(v[1])).to_degrees()]
}

/// Minimum geodesic distance from p to the great-circle edge a–b, by sampling and then
/// resampling around the best sample.
fn sampled(g: &Geodesic, p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let (va, vb) = (v3(a), v3(b));
    let d = |t: f64| {
        let q = slerp(va, vb, t);
        InverseGeodesic::<f64>::inverse(g, p[1], p[0], q[1], q[0])
    };
    let n = 2_000;
    let best = (0..=n).min_by(|&i, &j| d(i as f64 / n as f64).total_cmp(&d(j as f64 / n as f64)));
    let c = best.unwrap_or(0) as f64 / n as f64;
    let (lo, hi) = ((c - 1.0 / n as f64).max(0.0), (c + 1.0 / n as f64).min(1.0));
    (0..=n).map(|i| d(lo + (hi - lo) * i as f64 / n as f64)).fold(f64::INFINITY, f64::min)
}

#[test]
fn distance_within_claimed_bound_of_dense_sampling() {
    let g = Geodesic::wgs84();
    let mut seed = 0x0bad_5eed_u64;
    let mut unit = || {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let (mut checked, mut worst) = (0, 0.0_f64);
    for i in 0..120 {
        let lat = match i % 3 {
            0 => unit() * 140.0 - 70.0,
            1 => 84.0 + unit() * 5.5,
            _ => unit() * 160.0 - 80.0,
        };
        let lon = if i % 3 == 2 { 179.9 } else { unit() * 360.0 - 180.0 };
        let p = [lon, lat];
        // A triangle 2-30 km away, edges up to about 60 km long.
        let mut tri = Vec::new();
        let (az0, dist) = (unit() * 360.0 - 180.0, 3_000.0 + unit() * 30_000.0);
        for k in 0..3 {
            let (la, lo): (f64, f64) = g.direct(lat, lon, az0 + k as f64 * 12.0 * unit(), dist + unit() * 30_000.0);
            tri.push([lo, la]);
        }
        tri.push(tri[0]);
        let r = 1e-3;
        let ours = area_distance_m(
            &Area::Circle { center: p, radius_m: r },
            &Area::Polygon(Polygon { rings: vec![tri.clone()] }),
        ) + r;
        if ours <= r {
            continue; // p inside the triangle
        }
        let truth = tri.windows(2).map(|w| sampled(&g, p, w[0], w[1])).fold(f64::INFINITY, f64::min);
        let rel = (ours - truth).abs() / truth;
        worst = worst.max(rel);
        checked += 1;
        assert!(rel <= BOUND_RELATIVE, "p {p:?} tri {tri:?}: ours {ours} sampled {truth}");
    }
    println!("distance bound: {checked} cases, worst relative error {:.2e} (claimed {BOUND_RELATIVE:.0e})", worst);
    assert!(checked >= 80);
}
