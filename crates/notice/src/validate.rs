//! Why: geometry a station accepts must be unambiguous, because both stations compute
//! conflicts from it; these checks reject rings that PostGIS or a map would read
//! differently (open, degenerate or self-crossing rings, holes that cross, leave or nest
//! in other rings, or edges that jump across the antimeridian instead of being split
//! there as RFC 7946 asks). Edges are great-circle arcs, as everywhere in this crate:
//! a ring that is simple in longitude/latitude may cross itself on the sphere, and the
//! other way round. `overlap` checks the polygons of a MultiPolygon against each other.
//!
//! Tolerance: parts of rings closer than `arcs::TOUCH_RAD` (6.4 cm) count as touching,
//! and touching is refused within a polygon (a ring may not touch itself or another ring
//! of its polygon, which is stricter than OGC's "holes may touch at a point" but never
//! ambiguous). Consecutive positions closer than that are read as one.

use crate::arcs::{BoxedArc, TOUCH_CHORD2, contact, near_arc, sweep};
use crate::error::{NoticeError, Pos};
use crate::model::{Polygon, Position};
use crate::overlap::check_members;
use crate::ring::{Ball, PreparedRing, chord2_between};
use crate::sphere::{V3, angle, to_v3};

/// A ring as unit vectors, with repeated (or closer than the tolerance) consecutive
/// positions dropped; `at[k]` is the index in the GeoJSON ring of `pts[k]`, so errors
/// name the positions as the user wrote them. Closed: the last point is the first.
pub(crate) struct CleanRing {
    pub(crate) pts: Vec<V3>,
    pub(crate) at: Vec<usize>,
}

impl CleanRing {
    fn new(ring: &[Position]) -> CleanRing {
        let (mut pts, mut at): (Vec<V3>, Vec<usize>) = (Vec::with_capacity(ring.len()), Vec::new());
        for (k, &p) in ring[..ring.len() - 1].iter().enumerate() {
            let v = to_v3(p);
            if pts.last().is_some_and(|&last| chord2_between(last, v) < TOUCH_CHORD2) {
                continue;
            }
            pts.push(v);
            at.push(k);
        }
        while pts.len() > 1 && chord2_between(pts[pts.len() - 1], pts[0]) < TOUCH_CHORD2 {
            pts.pop();
            at.pop();
        }
        if let Some(&first) = pts.first() {
            pts.push(first);
            at.push(ring.len() - 1);
        }
        CleanRing { pts, at }
    }

    pub(crate) fn edges(&self) -> usize {
        self.pts.len().saturating_sub(1)
    }

    /// Edge `k` as GeoJSON names it: its 1-based number and its two positions.
    fn edge_at(&self, ring: &[Position], k: usize) -> (usize, Pos, Pos) {
        (self.at[k] + 1, Pos(ring[self.at[k]]), Pos(ring[self.at[k + 1]]))
    }

    /// A ball holding every edge of the ring.
    pub(crate) fn ball(&self) -> Ball {
        let s = self.pts[..self.edges()].iter().fold([0.0; 3], |s, v| [s[0] + v[0], s[1] + v[1], s[2] + v[2]]);
        let len = (s[0] * s[0] + s[1] * s[1] + s[2] * s[2]).sqrt();
        if len < 1e-9 {
            return Ball { c: self.pts[0], chord: 2.0 };
        }
        let c = [s[0] / len, s[1] / len, s[2] / len];
        let chord = self
            .pts
            .windows(2)
            .map(|w| {
                let e = Ball::edge(w[0], w[1]);
                chord2_between(c, e.c).sqrt() + e.chord
            })
            .fold(0.0, f64::max);
        Ball { c, chord: chord * (1.0 + 1e-12) + 1e-12 }
    }

    pub(crate) fn prepared(&self) -> PreparedRing {
        PreparedRing::new(self.pts.clone())
    }
}

/// Checks every polygon of an area, then the polygons against each other.
pub(crate) fn check_area(polygons: &[Polygon]) -> Result<(), NoticeError> {
    let mut cleaned = Vec::with_capacity(polygons.len());
    for (i, p) in polygons.iter().enumerate() {
        cleaned.push(check_polygon(i + 1, p)?);
    }
    check_members(&cleaned)
}

/// Checks one polygon (number `polygon`, 1-based) ring by ring, then its rings together.
fn check_polygon(polygon: usize, p: &Polygon) -> Result<Vec<CleanRing>, NoticeError> {
    let mut cleaned = Vec::with_capacity(p.rings.len());
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
        let clean = CleanRing::new(ring);
        if clean.pts.len() < 4 {
            return Err(NoticeError::TooFewPositions { polygon, ring: ring_no, count: clean.pts.len() });
        }
        check_self_intersection(polygon, ring_no, ring, &clean)?;
        cleaned.push(clean);
    }
    if let Some(outer) = p.rings.first() {
        check_size(polygon, outer)?;
    }
    if cleaned.len() > 1 {
        check_rings_apart(polygon, &p.rings, &cleaned)?;
        check_holes(polygon, &cleaned)?;
    }
    Ok(cleaned)
}

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

fn arcs_of(ring: &CleanRing) -> impl Iterator<Item = BoxedArc> + '_ {
    ring.pts.windows(2).map(|w| BoxedArc::new(w[0], w[1]))
}

/// No two edges of a closed ring may cross or touch, other than neighbours meeting at
/// their shared vertex (and those must not fold back over each other).
fn check_self_intersection(
    polygon: usize,
    ring_no: usize,
    ring: &[Position],
    clean: &CleanRing,
) -> Result<(), NoticeError> {
    let n = clean.edges();
    let arcs: Vec<BoxedArc> = arcs_of(clean).collect();
    let first = first_pair(&arcs, |i, j| {
        let (a, b, c, d) = (arcs[i].a, arcs[i].b, arcs[j].a, arcs[j].b);
        if j == i + 1 {
            near_arc(d, a, b) || near_arc(a, c, d) // share b == c
        } else if i == 0 && j == n - 1 {
            near_arc(c, a, b) || near_arc(b, c, d) // the closing neighbours share a == d
        } else {
            contact(a, b, c, d).is_some()
        }
    });
    match first {
        None => Ok(()),
        Some((i, j)) => {
            let ((edge_a, a0, a1), (edge_b, b0, b1)) = (clean.edge_at(ring, i), clean.edge_at(ring, j));
            Err(NoticeError::SelfIntersection { polygon, ring: ring_no, edge_a, a0, a1, edge_b, b0, b1 })
        }
    }
}

/// The first pair of arcs (in ring order) that `meets`, so an error names the edges a
/// reader finds first, whatever order the sweep visits them in.
fn first_pair(arcs: &[BoxedArc], meets: impl Fn(usize, usize) -> bool) -> Option<(usize, usize)> {
    let mut first: Option<(usize, usize)> = None;
    let never: Result<(), ()> = sweep(arcs, |i, j| {
        if first.is_none_or(|f| (i, j) < f) && meets(i, j) {
            first = Some((i, j));
        }
        Ok(())
    });
    debug_assert!(never.is_ok());
    first
}

/// No edge of one ring may cross or touch an edge of another ring of the same polygon.
fn check_rings_apart(polygon: usize, rings: &[Vec<Position>], cleaned: &[CleanRing]) -> Result<(), NoticeError> {
    let mut arcs = Vec::new();
    let mut tags = Vec::new(); // (ring index, edge index) of each arc
    for (r, clean) in cleaned.iter().enumerate() {
        arcs.extend(arcs_of(clean));
        tags.extend((0..clean.edges()).map(|k| (r, k)));
    }
    let first = first_pair(&arcs, |i, j| {
        tags[i].0 != tags[j].0 && contact(arcs[i].a, arcs[i].b, arcs[j].a, arcs[j].b).is_some()
    });
    first.map_or(Ok(()), |(i, j)| {
        let ((ra, ka), (rb, kb)) = (tags[i], tags[j]);
        // Arcs are listed ring by ring and i < j, so ra < rb.
        let (edge_a, a0, a1) = cleaned[ra].edge_at(&rings[ra], ka);
        let (edge_b, b0, b1) = cleaned[rb].edge_at(&rings[rb], kb);
        Err(NoticeError::RingsIntersect { polygon, ring_a: ra + 1, edge_a, a0, a1, ring_b: rb + 1, edge_b, b0, b1 })
    })
}

/// With no rings touching (checked before), a hole lies wholly inside or wholly outside
/// any other ring, so one vertex decides: every hole inside the exterior ring, none
/// inside another hole.
fn check_holes(polygon: usize, cleaned: &[CleanRing]) -> Result<(), NoticeError> {
    let prepared: Vec<PreparedRing> = cleaned.iter().map(CleanRing::prepared).collect();
    for (h, hole) in cleaned.iter().enumerate().skip(1) {
        if !prepared[0].winds_around(hole.pts[0]) {
            return Err(NoticeError::HoleOutside { polygon, ring: h + 1 });
        }
    }
    let balls: Vec<Ball> = cleaned.iter().map(CleanRing::ball).collect();
    for h1 in 1..cleaned.len() {
        for h2 in h1 + 1..cleaned.len() {
            if !balls[h1].near(balls[h2], 0.0) {
                continue;
            }
            if prepared[h1].winds_around(cleaned[h2].pts[0]) {
                return Err(NoticeError::HolesNested { polygon, outer: h1 + 1, inner: h2 + 1 });
            }
            if prepared[h2].winds_around(cleaned[h1].pts[0]) {
                return Err(NoticeError::HolesNested { polygon, outer: h2 + 1, inner: h1 + 1 });
            }
        }
    }
    Ok(())
}
