//! Why: the R-tree prunes by longitude/latitude boxes, so each box must hold its whole
//! area (great-circle edges bulge towards the poles) and a query box must reach every
//! point within the separation, even near the poles and across the antimeridian.

use crate::distance::RADIUS_LOWER_M;
use crate::model::{Area, Position};
use crate::sphere::{V3, cross, dot, on_arc, to_v3};

/// A box in degrees: `[lon_min, lat_min]` to `[lon_max, lat_max]`, never wrapping.
pub(crate) type LonLatBox = ([f64; 2], [f64; 2]);

const FULL_LON: (f64, f64) = (-180.0, 180.0);

/// Boxes (one per polygon, or one for a circle) that together hold the area.
pub(crate) fn area_boxes(area: &Area) -> Vec<LonLatBox> {
    match area {
        Area::Circle { center, radius_m } => expand(point_box(*center), *radius_m),
        _ => area.polygons().iter().map(|p| polygon_box(&p.rings[0])).collect(),
    }
}

/// Boxes that hold every point within `distance_m` of the given box.
pub(crate) fn expand(b: LonLatBox, distance_m: f64) -> Vec<LonLatBox> {
    let delta = (distance_m / RADIUS_LOWER_M).to_degrees() * 1.001 + 1e-9;
    let (lat0, lat1) = (b.0[1] - delta, b.1[1] + delta);
    let phi_max = b.0[1].abs().max(b.1[1].abs()).to_radians();
    let sin_d = delta.to_radians().sin();
    if lat1 >= 90.0 || lat0 <= -90.0 || sin_d >= phi_max.cos() {
        return vec![([FULL_LON.0, lat0.max(-90.0)], [FULL_LON.1, lat1.min(90.0)])];
    }
    let dlon = (sin_d / phi_max.cos()).asin().to_degrees() * 1.001 + 1e-9;
    let (lon0, lon1) = (b.0[0] - dlon, b.1[0] + dlon);
    if lon1 - lon0 >= 360.0 {
        return vec![([-180.0, lat0], [180.0, lat1])];
    }
    let mut out = vec![([lon0.max(-180.0), lat0], [lon1.min(180.0), lat1])];
    if lon0 < -180.0 {
        out.push(([lon0 + 360.0, lat0], [180.0, lat1]));
    }
    if lon1 > 180.0 {
        out.push(([-180.0, lat0], [lon1 - 360.0, lat1]));
    }
    out
}

fn point_box(p: Position) -> LonLatBox {
    (p, p)
}

/// Box of an exterior ring with great-circle edges (holes lie inside it).
fn polygon_box(ring: &[Position]) -> LonLatBox {
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    let mut full_lon = false;
    // Each vertex converted once: this runs for every notice the index loads.
    let mut prev: Option<(Position, V3)> = None;
    for &q in ring {
        lo = [lo[0].min(q[0]), lo[1].min(q[1])];
        hi = [hi[0].max(q[0]), hi[1].max(q[1])];
        let vq = to_v3(q);
        if let Some((p, vp)) = prev {
            if (p[0] - q[0]).abs() >= 180.0 {
                full_lon = true; // the edge crosses the antimeridian or a pole
            }
            let (lat_min, lat_max) = edge_lat_extremes(vp, vq);
            lo[1] = lo[1].min(lat_min);
            hi[1] = hi[1].max(lat_max);
        }
        prev = Some((q, vq));
    }
    if full_lon {
        // Such a ring may also go round a pole: reach it, to stay conservative.
        lo[0] = FULL_LON.0;
        hi[0] = FULL_LON.1;
        if hi[1] > 0.0 {
            hi[1] = 90.0;
        }
        if lo[1] < 0.0 {
            lo[1] = -90.0;
        }
    }
    (lo, hi)
}

/// Lowest and highest latitude along a great-circle edge (they may lie inside it).
fn edge_lat_extremes(a: V3, b: V3) -> (f64, f64) {
    let lat = |v: V3| v[2].clamp(-1.0, 1.0).asin().to_degrees();
    let (mut lo, mut hi) = (lat(a).min(lat(b)), lat(a).max(lat(b)));
    let n = cross(a, b);
    let nn = dot(n, n);
    if nn < 1e-30 {
        return (lo, hi);
    }
    // Highest point of the great circle: the north pole projected onto its plane.
    let top = [-n[0] * n[2] / nn, -n[1] * n[2] / nn, 1.0 - n[2] * n[2] / nn];
    let len = dot(top, top).sqrt();
    if len > 1e-15 {
        let top = [top[0] / len, top[1] / len, top[2] / len];
        let bottom = [-top[0], -top[1], -top[2]];
        if on_arc(a, b, n, top) {
            hi = hi.max(lat(top));
        }
        if on_arc(a, b, n, bottom) {
            lo = lo.min(lat(bottom));
        }
    }
    (lo - 1e-9, hi + 1e-9)
}
