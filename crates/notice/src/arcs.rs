//! Why: validation must read edges as PostGIS `geography` does, as great-circle arcs,
//! not as straight lines in longitude/latitude (a long east–west edge bulges poleward).
//! This module decides whether two arcs cross or touch, with one stated tolerance, and
//! finds the pairs of arcs worth testing with a sweep over their boxes in 3-D, so a ring
//! of 10,000 vertices is checked in well under a second.

use crate::ring::{Ball, chord2_between};
use crate::sphere::{V3, closest_on_arc, cross, dot};

/// Two arcs (or a point and an arc) closer than this angle, in radians, touch. 1e-8 rad
/// is 6.4 cm on the Earth: far above the rounding of unit vectors (about 1e-16), and
/// above the 1.1 cm of coordinates written with 7 decimals, so two tools that split an
/// area at ±180 with slightly different roundings still meet; a ring whose parts come
/// within centimetres of each other is ambiguous anyway.
pub(crate) const TOUCH_RAD: f64 = 1e-8;

/// `TOUCH_RAD` as a squared chord (chord and angle agree to 1e-17 at this size).
pub(crate) const TOUCH_CHORD2: f64 = TOUCH_RAD * TOUCH_RAD;

/// How two arcs meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Contact {
    /// Each arc passes from one side of the other to the other side, away from its ends.
    Cross,
    /// They come within `TOUCH_RAD` without crossing: an end on the other arc, a shared
    /// vertex, or a stretch along the same great circle.
    Touch,
}

pub(crate) fn normalize(v: V3) -> Option<V3> {
    let len = dot(v, v).sqrt();
    (len > 1e-300).then(|| [v[0] / len, v[1] / len, v[2] / len])
}

/// The midpoint of the minor arc u–v.
pub(crate) fn midpoint(u: V3, v: V3) -> V3 {
    normalize([u[0] + v[0], u[1] + v[1], u[2] + v[2]]).unwrap_or(u)
}

/// Is `p` within `TOUCH_RAD` of the minor arc a–b?
pub(crate) fn near_arc(p: V3, a: V3, b: V3) -> bool {
    chord2_between(p, closest_on_arc(p, a, b)) < TOUCH_CHORD2
}

/// A strict crossing: the ends of each arc lie more than `TOUCH_RAD` on opposite sides
/// of the other's great circle, and both arcs meet that circle at the same one of its
/// two intersection points (points of a minor arc are within 90° of its midpoint).
fn crosses_strictly(a: V3, b: V3, c: V3, d: V3) -> Option<V3> {
    let (n1, n2) = (cross(a, b), cross(c, d));
    let (l1, l2) = (dot(n1, n1).sqrt(), dot(n2, n2).sqrt());
    if l1 < 1e-300 || l2 < 1e-300 {
        return None;
    }
    let (sc, sd) = (dot(c, n1) / l1, dot(d, n1) / l1);
    let (sa, sb) = (dot(a, n2) / l2, dot(b, n2) / l2);
    let apart = |s: f64, t: f64| (s > TOUCH_RAD && t < -TOUCH_RAD) || (s < -TOUCH_RAD && t > TOUCH_RAD);
    if !apart(sc, sd) || !apart(sa, sb) {
        return None;
    }
    let x = normalize(cross(n1, n2))?;
    let on_ab = dot(x, [a[0] + b[0], a[1] + b[1], a[2] + b[2]]);
    let on_cd = dot(x, [c[0] + d[0], c[1] + d[1], c[2] + d[2]]);
    if on_ab > 0.0 && on_cd > 0.0 {
        Some(x)
    } else if on_ab < 0.0 && on_cd < 0.0 {
        Some([-x[0], -x[1], -x[2]])
    } else {
        None
    }
}

/// How the minor arcs a–b and c–d meet, and where (a point of the contact).
pub(crate) fn contact(a: V3, b: V3, c: V3, d: V3) -> Option<(Contact, V3)> {
    if let Some(x) = crosses_strictly(a, b, c, d) {
        return Some((Contact::Cross, x));
    }
    for (p, u, v) in [(a, c, d), (b, c, d), (c, a, b), (d, a, b)] {
        if near_arc(p, u, v) {
            return Some((Contact::Touch, p));
        }
    }
    // Left: arcs meeting at a grazing angle away from all four ends, closer than the
    // tolerance to each other's circle at the ends but crossing in between.
    grazing_crossing(a, b, c, d).map(|x| (Contact::Cross, x))
}

fn grazing_crossing(a: V3, b: V3, c: V3, d: V3) -> Option<V3> {
    let (n1, n2) = (cross(a, b), cross(c, d));
    let x = normalize(cross(n1, n2))?;
    [x, [-x[0], -x[1], -x[2]]].into_iter().find(|&y| near_arc(y, a, b) && near_arc(y, c, d))
}

/// The points of a–b where c–d touches it: the ends of either arc within `TOUCH_RAD` of
/// the other, projected onto a–b.
pub(crate) fn touch_points(a: V3, b: V3, c: V3, d: V3, out: &mut Vec<V3>) {
    for p in [a, b] {
        if near_arc(p, c, d) {
            out.push(p);
        }
    }
    for p in [c, d] {
        if near_arc(p, a, b) {
            out.push(closest_on_arc(p, a, b));
        }
    }
}

/// An arc with the axis-aligned box (in 3-D) of a ball holding it, widened by the
/// tolerance, and a tag the caller uses to find where it came from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BoxedArc {
    pub(crate) a: V3,
    pub(crate) b: V3,
    lo: V3,
    hi: V3,
}

impl BoxedArc {
    pub(crate) fn new(a: V3, b: V3) -> BoxedArc {
        let ball = Ball::edge(a, b);
        let r = ball.chord + 2.0 * TOUCH_RAD;
        let c = ball.c;
        BoxedArc { a, b, lo: [c[0] - r, c[1] - r, c[2] - r], hi: [c[0] + r, c[1] + r, c[2] + r] }
    }
}

/// Calls `visit(i, j)` (i < j) for every pair of arcs whose boxes overlap, stopping at
/// the first error. Sweeps along the axis in which the boxes spread most, so a small
/// ring (nearly flat in one axis) still spreads its arcs out: about O(n log n + k) for
/// real rings, O(n²) only for pathological ones.
pub(crate) fn sweep<E>(arcs: &[BoxedArc], mut visit: impl FnMut(usize, usize) -> Result<(), E>) -> Result<(), E> {
    let spread = |k: usize| {
        let lo = arcs.iter().map(|e| e.lo[k]).fold(f64::INFINITY, f64::min);
        let hi = arcs.iter().map(|e| e.hi[k]).fold(f64::NEG_INFINITY, f64::max);
        hi - lo
    };
    let axis = (0..3).max_by(|&i, &j| spread(i).total_cmp(&spread(j))).unwrap_or(0);
    let mut order: Vec<usize> = (0..arcs.len()).collect();
    order.sort_by(|&i, &j| arcs[i].lo[axis].total_cmp(&arcs[j].lo[axis]).then(i.cmp(&j)));
    for (k, &i) in order.iter().enumerate() {
        let ei = &arcs[i];
        for &j in &order[k + 1..] {
            let ej = &arcs[j];
            if ej.lo[axis] > ei.hi[axis] {
                break;
            }
            if (0..3).all(|m| ej.lo[m] <= ei.hi[m] && ei.lo[m] <= ej.hi[m]) {
                visit(i.min(j), i.max(j))?;
            }
        }
    }
    Ok(())
}
