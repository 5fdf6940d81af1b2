//! Why: geometry a station accepts must be unambiguous, because both stations compute
//! conflicts from it; these checks reject rings that PostGIS or a map would read
//! differently (open, degenerate or self-crossing rings, or edges that jump across the
//! antimeridian instead of being split there as RFC 7946 asks).

use crate::error::{NoticeError, Pos};
use crate::model::{Polygon, Position};
use crate::sphere::{angle, to_v3};

/// Containment and distance read a ring as the smaller of the two regions it bounds on
/// the sphere; rings that do not fit in a hemisphere around their centre are ambiguous.
fn check_size(polygon: usize, ring: &[Position]) -> Result<(), NoticeError> {
    let s = ring.iter().map(|&p| to_v3(p)).fold([0.0; 3], |s, v| [s[0] + v[0], s[1] + v[1], s[2] + v[2]]);
    let len = (s[0] * s[0] + s[1] * s[1] + s[2] * s[2]).sqrt();
    let fits = len > 1e-9 && {
        let c = [s[0] / len, s[1] / len, s[2] / len];
        ring.iter().all(|&p| angle(c, to_v3(p)) < std::f64::consts::FRAC_PI_2)
    };
    if fits { Ok(()) } else { Err(NoticeError::TooLarge { polygon }) }
}

/// Checks one polygon (number `polygon`, 1-based) ring by ring.
pub(crate) fn check_polygon(polygon: usize, p: &Polygon) -> Result<(), NoticeError> {
    for (r, ring) in p.rings.iter().enumerate() {
        let ring_no = r + 1;
        if ring.len() < 4 {
            return Err(NoticeError::TooFewPositions { polygon, ring: ring_no, count: ring.len() });
        }
        let (first, last) = (ring[0], ring[ring.len() - 1]);
        if first != last {
            return Err(NoticeError::RingNotClosed { polygon, ring: ring_no, first: Pos(first), last: Pos(last) });
        }
        for (e, w) in ring.windows(2).enumerate() {
            if (w[0][0] - w[1][0]).abs() > 180.0 {
                return Err(NoticeError::CrossesAntimeridian {
                    polygon,
                    ring: ring_no,
                    edge: e + 1,
                    from: Pos(w[0]),
                    to: Pos(w[1]),
                });
            }
        }
        check_self_intersection(polygon, ring_no, ring)?;
    }
    match p.rings.first() {
        Some(outer) => check_size(polygon, outer),
        None => Ok(()),
    }
}

fn orient(a: Position, b: Position, c: Position) -> f64 {
    (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
}

fn on_segment(a: Position, b: Position, p: Position) -> bool {
    orient(a, b, p) == 0.0
        && p[0] >= a[0].min(b[0])
        && p[0] <= a[0].max(b[0])
        && p[1] >= a[1].min(b[1])
        && p[1] <= a[1].max(b[1])
}

/// Do closed segments ab and cd share any point?
fn segments_touch(a: Position, b: Position, c: Position, d: Position) -> bool {
    let (o1, o2) = (orient(a, b, c), orient(a, b, d));
    let (o3, o4) = (orient(c, d, a), orient(c, d, b));
    if ((o1 > 0.0 && o2 < 0.0) || (o1 < 0.0 && o2 > 0.0)) && ((o3 > 0.0 && o4 < 0.0) || (o3 < 0.0 && o4 > 0.0)) {
        return true;
    }
    on_segment(a, b, c) || on_segment(a, b, d) || on_segment(c, d, a) || on_segment(c, d, b)
}

/// Planar (longitude/latitude) check that no two edges of a closed ring cross or touch,
/// other than neighbours meeting at their shared vertex. Sweep over edges sorted by
/// their west end: fast for real rings, O(n²) only for pathological ones.
fn check_self_intersection(polygon: usize, ring: usize, ring_pts: &[Position]) -> Result<(), NoticeError> {
    let mut pts = ring_pts.to_vec();
    pts.dedup(); // repeated consecutive positions are harmless
    if pts.len() < 4 {
        return Err(NoticeError::TooFewPositions { polygon, ring, count: pts.len() });
    }
    let n = pts.len() - 1; // edges; pts[n] == pts[0]
    let mut order: Vec<usize> = (0..n).collect();
    let west = |i: usize| pts[i][0].min(pts[i + 1][0]);
    let east = |i: usize| pts[i][0].max(pts[i + 1][0]);
    order.sort_by(|&i, &j| west(i).total_cmp(&west(j)).then(i.cmp(&j)));
    for (k, &i) in order.iter().enumerate() {
        for &j in &order[k + 1..] {
            if west(j) > east(i) {
                break;
            }
            let (i, j) = (i.min(j), i.max(j));
            let (a, b, c, d) = (pts[i], pts[i + 1], pts[j], pts[j + 1]);
            let crossing = if j == i + 1 {
                // Neighbours share b == c: they must not fold back over each other.
                on_segment(a, b, d) || on_segment(c, d, a)
            } else if i == 0 && j == n - 1 {
                // The closing neighbours share a == d.
                on_segment(a, b, c) || on_segment(c, d, b)
            } else {
                segments_touch(a, b, c, d)
            };
            if crossing {
                return Err(NoticeError::SelfIntersection {
                    polygon,
                    ring,
                    edge_a: i + 1,
                    a0: Pos(a),
                    a1: Pos(b),
                    edge_b: j + 1,
                    b0: Pos(c),
                    b1: Pos(d),
                });
            }
        }
    }
    Ok(())
}
