//! Why: the polygons of a MultiPolygon must not overlap (RFC 7946 follows OGC simple
//! features: their interiors are disjoint). An overlap would be counted twice by a map
//! and may hide a drawing mistake, so it is refused, naming both polygons. They may
//! touch, as an area split at ±180 (RFC 7946, section 3.1.9) touches along the
//! antimeridian, or a polygon may fill another's hole.
//!
//! With great-circle edges and the tolerance `arcs::TOUCH_RAD`: two polygons overlap if
//! an edge of one strictly crosses an edge of the other, or a part of one's boundary lies
//! strictly inside the other (more than the tolerance from its boundary). Each boundary
//! is cut where the other touches it; between cuts a stretch of boundary is wholly inside,
//! wholly outside or along the other's boundary, so one point per stretch decides. Two
//! polygons whose boundaries only run along each other are either the same region or
//! neighbours, so a point just inside one (`PROBE_RAD` from its longest edge) decides.

use crate::arcs::{
    BoxedArc, Contact, TOUCH_CHORD2, TOUCH_RAD, contact, midpoint, near_arc, normalize, sweep, touch_points,
};
use crate::error::{NoticeError, Pos};
use crate::ring::{Ball, PreparedRing, chord2_between, polygon_contains};
use crate::sphere::{V3, cross, to_pos};
use crate::validate::CleanRing;

/// How far inside a polygon's longest edge the probe point lies, in radians: 64 cm,
/// ten times the tolerance.
const PROBE_RAD: f64 = 1e-7;

/// One polygon of the area, prepared for containment tests.
struct Member<'a> {
    rings: &'a [CleanRing],
    prepared: Vec<PreparedRing>,
    ball: Ball,
    /// Index of its first arc in the list of all arcs.
    first_arc: usize,
}

impl Member<'_> {
    fn on_boundary(&self, p: V3, buf: &mut Vec<(V3, V3, Ball)>) -> bool {
        buf.clear();
        for ring in &self.prepared {
            ring.near_edges(Ball::point(p), TOUCH_RAD, buf);
        }
        buf.iter().any(|&(a, b, _)| near_arc(p, a, b))
    }

    fn strictly_inside(&self, p: V3, buf: &mut Vec<(V3, V3, Ball)>) -> bool {
        polygon_contains(&self.prepared, p) && !self.on_boundary(p, buf)
    }

    /// A point just inside the polygon, next to the middle of its longest outer edge.
    fn probe(&self, buf: &mut Vec<(V3, V3, Ball)>) -> Option<V3> {
        let outer = &self.rings[0].pts;
        let w = outer.windows(2).max_by(|w, v| chord2_between(w[0], w[1]).total_cmp(&chord2_between(v[0], v[1])))?;
        let (m, n) = (midpoint(w[0], w[1]), normalize(cross(w[0], w[1]))?);
        [1.0, -1.0].into_iter().find_map(|s| {
            let p = normalize([m[0] + s * PROBE_RAD * n[0], m[1] + s * PROBE_RAD * n[1], m[2] + s * PROBE_RAD * n[2]])?;
            self.strictly_inside(p, buf).then_some(p)
        })
    }
}

fn overlap(a: usize, b: usize, at: V3) -> NoticeError {
    let p = to_pos(at);
    let round = |x: f64| (x * 1e7).round() / 1e7 + 0.0; // + 0.0 turns -0 into 0
    NoticeError::PolygonsOverlap { polygon_a: a + 1, polygon_b: b + 1, at: Pos([round(p[0]), round(p[1])]) }
}

/// Checks that no two polygons (each already valid alone) overlap.
pub(crate) fn check_members(polygons: &[Vec<CleanRing>]) -> Result<(), NoticeError> {
    if polygons.len() < 2 {
        return Ok(());
    }
    let mut arcs = Vec::new();
    let mut owner = Vec::new(); // the polygon of each arc
    let mut members = Vec::with_capacity(polygons.len());
    for (m, rings) in polygons.iter().enumerate() {
        let first_arc = arcs.len();
        for ring in rings {
            arcs.extend(ring.pts.windows(2).map(|w| BoxedArc::new(w[0], w[1])));
            owner.extend(std::iter::repeat_n(m, ring.edges()));
        }
        let prepared = rings.iter().map(CleanRing::prepared).collect();
        members.push(Member { rings, prepared, ball: rings[0].ball(), first_arc });
    }
    // Where each arc is touched by another polygon: (that polygon, point on the arc).
    let mut touches: Vec<Vec<(usize, V3)>> = vec![Vec::new(); arcs.len()];
    let mut points = Vec::new();
    sweep(&arcs, |i, j| {
        let (mi, mj) = (owner[i], owner[j]);
        if mi == mj {
            return Ok(());
        }
        let (ei, ej) = (arcs[i], arcs[j]);
        match contact(ei.a, ei.b, ej.a, ej.b) {
            None => {}
            Some((Contact::Cross, x)) => return Err(overlap(mi, mj, x)),
            Some((Contact::Touch, _)) => {
                points.clear();
                touch_points(ei.a, ei.b, ej.a, ej.b, &mut points);
                touches[i].extend(points.iter().map(|&p| (mj, p)));
                points.clear();
                touch_points(ej.a, ej.b, ei.a, ei.b, &mut points);
                touches[j].extend(points.iter().map(|&p| (mi, p)));
            }
        }
        Ok(())
    })?;
    let mut buf = Vec::new();
    for a in 0..members.len() {
        for b in a + 1..members.len() {
            if !members[a].ball.near(members[b].ball, TOUCH_RAD) {
                continue;
            }
            for (this, other) in [(b, a), (a, b)] {
                for p in stretch_points(&members[this], other, &touches) {
                    if members[other].strictly_inside(p, &mut buf) {
                        return Err(overlap(a, b, p));
                    }
                }
                if let Some(p) = members[this].probe(&mut buf)
                    && members[other].strictly_inside(p, &mut buf)
                {
                    return Err(overlap(a, b, p));
                }
            }
        }
    }
    Ok(())
}

/// One point of each stretch of `member`'s boundary between the places where polygon
/// `other` touches it: the middle of each piece of a touched edge, and the middle of the
/// first edge of each run of untouched edges.
fn stretch_points(member: &Member, other: usize, touches: &[Vec<(usize, V3)>]) -> Vec<V3> {
    let mut out = Vec::new();
    let mut arc = member.first_arc;
    for ring in member.rings {
        let n = ring.edges();
        let touched_at =
            |k: usize| -> Vec<V3> { touches[arc + k].iter().filter(|&&(m, _)| m == other).map(|&(_, p)| p).collect() };
        let touched: Vec<Vec<V3>> = (0..n).map(touched_at).collect();
        let any = touched.iter().any(|t| !t.is_empty());
        for k in 0..n {
            let (a, b) = (ring.pts[k], ring.pts[k + 1]);
            if touched[k].is_empty() {
                let starts_run = if any { !touched[(k + n - 1) % n].is_empty() } else { k == 0 };
                if starts_run {
                    out.push(midpoint(a, b));
                }
                continue;
            }
            let mut cuts = touched[k].clone();
            cuts.sort_by(|p, q| chord2_between(a, *p).total_cmp(&chord2_between(a, *q)));
            let mut from = a;
            for to in cuts.into_iter().chain([b]) {
                if chord2_between(from, to) > TOUCH_CHORD2 {
                    out.push(midpoint(from, to));
                }
                from = to;
            }
        }
        arc += n;
    }
    out
}
