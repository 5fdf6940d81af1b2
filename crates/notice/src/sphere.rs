//! Why: PostGIS `geography` reads polygon edges as great-circle arcs; doing the topology
//! (crossing, containment, closest point) with unit vectors on the sphere gives the same
//! reading with no seam at the antimeridian and no singularity at the poles.

use crate::model::Position;

pub(crate) type V3 = [f64; 3];

pub(crate) fn to_v3(p: Position) -> V3 {
    let (lon, lat) = (p[0].to_radians(), p[1].to_radians());
    [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
}

/// `[longitude, latitude]` in degrees.
pub(crate) fn to_pos(v: V3) -> Position {
    [v[1].atan2(v[0]).to_degrees(), v[2].atan2(v[0].hypot(v[1])).to_degrees()]
}

pub(crate) fn dot(a: V3, b: V3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

pub(crate) fn cross(a: V3, b: V3) -> V3 {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}

fn norm(a: V3) -> f64 {
    dot(a, a).sqrt()
}

fn scale(a: V3, k: f64) -> V3 {
    [a[0] * k, a[1] * k, a[2] * k]
}

fn neg(a: V3) -> V3 {
    scale(a, -1.0)
}

/// Central angle between two unit vectors, in radians (accurate for tiny angles too).
pub(crate) fn angle(a: V3, b: V3) -> f64 {
    norm(cross(a, b)).atan2(dot(a, b))
}

/// Is `x` (on the great circle with normal `n = a × b`) within the minor arc from a to b?
pub(crate) fn on_arc(a: V3, b: V3, n: V3, x: V3) -> bool {
    dot(cross(a, x), n) >= 0.0 && dot(cross(x, b), n) >= 0.0
}

/// The point of the minor arc a–b nearest to p (on the sphere).
pub(crate) fn closest_on_arc(p: V3, a: V3, b: V3) -> V3 {
    let n = cross(a, b);
    let nn = dot(n, n);
    let nearer_end = if dot(p, a) >= dot(p, b) { a } else { b };
    if nn < 1e-30 {
        return nearer_end; // degenerate edge
    }
    let c = [p[0] - n[0] * dot(p, n) / nn, p[1] - n[1] * dot(p, n) / nn, p[2] - n[2] * dot(p, n) / nn];
    let len = norm(c);
    if len < 1e-15 {
        return nearer_end; // p is a pole of the edge's great circle
    }
    let c = scale(c, 1.0 / len);
    if on_arc(a, b, n, c) { c } else { nearer_end }
}

/// Do the closed minor arcs a–b and c–d share a point?
pub(crate) fn arcs_cross(a: V3, b: V3, c: V3, d: V3) -> bool {
    let n1 = cross(a, b);
    let n2 = cross(c, d);
    if dot(c, n1) * dot(d, n1) > 0.0 || dot(a, n2) * dot(b, n2) > 0.0 {
        return false;
    }
    let x = cross(n1, n2);
    let len = norm(x);
    if len < 1e-30 {
        // Same great circle: they meet if an end of one lies on the other.
        return on_arc(a, b, n1, c) || on_arc(a, b, n1, d) || on_arc(c, d, n2, a);
    }
    let x = scale(x, 1.0 / len);
    (on_arc(a, b, n1, x) && on_arc(c, d, n2, x)) || (on_arc(a, b, n1, neg(x)) && on_arc(c, d, n2, neg(x)))
}
