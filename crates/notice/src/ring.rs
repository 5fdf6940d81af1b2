//! Why: with a million active notices, a check meets tens to a thousand candidate areas
//! of up to 200 vertices each, and the exact tests (which edges come near, is a point
//! inside) dominate. A ring kept as unit vectors with a bounding ball per run of
//! `CHUNK_EDGES` edges lets both tests skip whole runs that lie far away, for a few bytes
//! per edge of memory.

use crate::sphere::{V3, cross, dot};

/// Edges per chunk: small enough that a chunk near the other area has few edges to test,
/// large enough that the balls cost little memory (4 bytes per edge).
const CHUNK_EDGES: usize = 8;

/// Slack for rounding in ball comparisons, in chord units (about 6 µm on the Earth).
const BALL_SLACK: f64 = 1e-12;

/// A ball in the space of unit vectors: every point of some set (an edge, a run of
/// edges, an area, a vertex) lies within Euclidean distance `chord` of `c`. Comparing two
/// balls costs a few multiplications, no trigonometry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ball {
    pub(crate) c: V3,
    pub(crate) chord: f64,
}

pub(crate) fn chord2_between(a: V3, b: V3) -> f64 {
    let d = [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
    dot(d, d)
}

fn normalized(s: V3) -> Option<V3> {
    let len = dot(s, s).sqrt();
    (len >= 1e-9).then(|| [s[0] / len, s[1] / len, s[2] / len])
}

impl Ball {
    pub(crate) fn point(p: V3) -> Ball {
        Ball { c: p, chord: 0.0 }
    }

    /// The minor arc a–b lies within the half-arc angle of its midpoint.
    pub(crate) fn edge(a: V3, b: V3) -> Ball {
        match normalized([a[0] + b[0], a[1] + b[1], a[2] + b[2]]) {
            Some(c) => Ball { c, chord: chord2_between(a, c).sqrt() },
            None => Ball { c: a, chord: 2.0 }, // (near) antipodal ends: no useful bound
        }
    }

    /// A spherical cap of angular radius `rho`.
    pub(crate) fn cap(c: V3, rho: f64) -> Ball {
        let chord = if rho >= std::f64::consts::PI { 2.0 } else { 2.0 * (rho / 2.0).sin() };
        Ball { c, chord }
    }

    /// May a point of one set come within chord `reach` of a point of the other?
    pub(crate) fn near(self, other: Ball, reach: f64) -> bool {
        let r = self.chord + other.chord + reach + BALL_SLACK;
        r >= 2.0 || chord2_between(self.c, other.c) <= r * r
    }

    /// Is `p` (and its antipode) clearly outside this ball?
    fn clear_of(self, p: V3) -> bool {
        let r = self.chord + 1e-9;
        chord2_between(self.c, p) > r * r && chord2_between(self.c, [-p[0], -p[1], -p[2]]) > r * r
    }
}

/// An edge with its ball.
pub(crate) type NearEdge = (V3, V3, Ball);

/// A closed ring of unit vectors (first == last) with a ball per chunk of edges.
#[derive(Debug, Clone)]
pub(crate) struct PreparedRing {
    pub(crate) pts: Vec<V3>,
    chunks: Vec<Ball>,
    /// Sum of the vertices: the winding test's hemisphere.
    centroid: V3,
}

/// Signed angle at `p` from `a` to `b` (the turn of their directions seen from `p`).
fn turn(p: V3, a: V3, b: V3) -> f64 {
    let y = dot(p, cross(a, b));
    let x = dot(a, b) - dot(p, a) * dot(p, b);
    y.atan2(x)
}

impl PreparedRing {
    pub(crate) fn new(pts: Vec<V3>) -> PreparedRing {
        let edges = pts.len().saturating_sub(1);
        let chunks = (0..edges)
            .step_by(CHUNK_EDGES)
            .map(|start| {
                let run = &pts[start..=(start + CHUNK_EDGES).min(edges)];
                let sum = run.iter().fold([0.0; 3], |s, v| [s[0] + v[0], s[1] + v[1], s[2] + v[2]]);
                let Some(c) = normalized(sum) else { return Ball { c: run[0], chord: 2.0 } };
                // Each edge lies in its own ball, so in this one (triangle inequality).
                let chord = run
                    .windows(2)
                    .map(|w| {
                        let e = Ball::edge(w[0], w[1]);
                        chord2_between(c, e.c).sqrt() + e.chord
                    })
                    .fold(0.0, f64::max);
                Ball { c, chord: chord * (1.0 + 1e-12) + BALL_SLACK }
            })
            .collect();
        let centroid = pts.iter().fold([0.0; 3], |s, v| [s[0] + v[0], s[1] + v[1], s[2] + v[2]]);
        PreparedRing { pts, chunks, centroid }
    }

    /// Appends the edges that may come within chord `reach` of `other`.
    pub(crate) fn near_edges(&self, other: Ball, reach: f64, out: &mut Vec<NearEdge>) {
        let edges = self.pts.len().saturating_sub(1);
        for (k, chunk) in self.chunks.iter().enumerate() {
            if !chunk.near(other, reach) {
                continue;
            }
            let start = k * CHUNK_EDGES;
            for w in self.pts[start..=(start + CHUNK_EDGES).min(edges)].windows(2) {
                let e = Ball::edge(w[0], w[1]);
                if e.near(other, reach) {
                    out.push((w[0], w[1], e));
                }
            }
        }
    }

    /// Winding test: does the ring (great-circle edges) wind around p? Correct for rings
    /// inside the open hemisphere around their vertex centroid, which every valid area
    /// is; points in the other hemisphere are outside. A chunk whose ball is small and
    /// clear of p (and of p's antipode) is seen from p within less than half a turn, so
    /// its edges turn together by the angle between its ends: one atan2, not eight.
    pub(crate) fn winds_around(&self, p: V3) -> bool {
        if dot(self.centroid, p) <= 0.0 {
            return false;
        }
        let edges = self.pts.len().saturating_sub(1);
        let mut sum = 0.0;
        for (k, chunk) in self.chunks.iter().enumerate() {
            let (start, end) = (k * CHUNK_EDGES, (k * CHUNK_EDGES + CHUNK_EDGES).min(edges));
            if chunk.chord < 1.0 && chunk.clear_of(p) {
                sum += turn(p, self.pts[start], self.pts[end]);
            } else {
                sum += self.pts[start..=end].windows(2).map(|w| turn(p, w[0], w[1])).sum::<f64>();
            }
        }
        sum.abs() > std::f64::consts::PI
    }
}

/// Is p inside the polygon (inside the exterior ring and in no hole)?
pub(crate) fn polygon_contains(rings: &[PreparedRing], p: V3) -> bool {
    match rings.split_first() {
        Some((outer, holes)) => outer.winds_around(p) && !holes.iter().any(|h| h.winds_around(p)),
        None => false,
    }
}
