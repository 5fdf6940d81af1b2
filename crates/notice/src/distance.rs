//! Why: the lateral test must agree with PostGIS `ST_DWithin(geography, geography, d)`.
//! Like PostGIS, the closest points are found on the sphere (great-circle edges) and the
//! distance between them is then measured on the WGS84 ellipsoid (Karney's geodesics).
//!
//! Error bound: against the exact minimum over the great-circle boundary measured on
//! WGS84, the result is within 0.01 % (0.93 m at 9,260 m); `tests/distance_bound.rs`
//! checks it by dense sampling of the edges.

use std::sync::LazyLock;

use geographiclib_rs::{Geodesic, InverseGeodesic};

use crate::model::{Area, Position};
use crate::ring::{Ball, NearEdge, PreparedRing, chord2_between, polygon_contains};
use crate::sphere::{V3, angle, arcs_cross, closest_on_arc, to_pos, to_v3};

static WGS84: LazyLock<Geodesic> = LazyLock::new(Geodesic::wgs84);

/// Spherical candidates within this factor of the spherical minimum are re-measured on
/// the ellipsoid: sphere and WGS84 distances differ by well under 1 % in ratio.
const CANDIDATE_RATIO: f64 = 1.02;

/// Geodesic distance on WGS84 between two positions, in metres.
pub fn geodesic_m(a: Position, b: Position) -> f64 {
    InverseGeodesic::<f64>::inverse(&*WGS84, a[1], a[0], b[1], b[0])
}

fn geodesic_v3(a: V3, b: V3) -> f64 {
    geodesic_m(to_pos(a), to_pos(b))
}

/// An area converted once to unit vectors, for repeated distance queries.
#[derive(Debug, Clone)]
pub struct PreparedArea {
    /// Polygons, each a list of closed rings of unit vectors.
    polys: Vec<Vec<PreparedRing>>,
    /// A circle: centre (vector and position) and radius in metres.
    circle: Option<(V3, Position, f64)>,
    /// The caps that settle most pairs before any edge is looked at.
    pub(crate) bounds: Bounds,
}

/// Two spherical caps of an area: `outer` holds all of it, `inner` (centre, angular
/// radius), when one was found, lies inside it. Small and `Copy`: the conflict index keeps
/// one per notice beside its tree, so most candidates are decided without reading the
/// notice. Two areas whose outer caps are beyond reach are not within the limit; two
/// whose inner caps come within it are (the rule of `Goal::Within` applied to the nearest
/// points of the caps). A circle's inner cap is the circle shrunk to
/// `radius / RADIUS_UPPER_M`, which `measure` measures from the rim just the same.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    pub(crate) outer: Ball,
    inner: Option<(V3, f64)>,
}

impl Bounds {
    /// What the caps alone say of `within_m` at `reach`: `Some` when they settle it.
    pub(crate) fn settle(&self, other: &Bounds, reach: &Reach) -> Option<bool> {
        if !self.outer.near(other.outer, reach.chord) {
            return Some(false);
        }
        let (Some((ca, ra)), Some((cb, rb))) = (self.inner, other.inner) else { return None };
        (angle(ca, cb) - ra - rb <= reach.accept_angle).then_some(true)
    }
}

/// Metres per radian of central angle that no WGS84 geodesic beats: the smallest
/// meridional radius of curvature is 6,335,439 m.
pub(crate) const RADIUS_LOWER_M: f64 = 6_300_000.0;

/// Metres per radian of central angle that no WGS84 geodesic exceeds: the largest radius
/// of curvature (at the poles) is 6,399,594 m, so the image of a great-circle arc of
/// angle x on the ellipsoid is at most this times x long.
pub(crate) const RADIUS_UPPER_M: f64 = 6_400_000.0;

fn cap_of(polys: &[Vec<PreparedRing>]) -> (V3, f64) {
    let outer = || polys.iter().filter_map(|p| p.first()).flat_map(|r| &r.pts);
    let s = outer().fold([0.0; 3], |s, v| [s[0] + v[0], s[1] + v[1], s[2] + v[2]]);
    let len = (s[0] * s[0] + s[1] * s[1] + s[2] * s[2]).sqrt();
    if len < 1e-12 {
        return ([0.0, 0.0, 1.0], std::f64::consts::PI);
    }
    let c = [s[0] / len, s[1] / len, s[2] / len];
    let rho = outer().map(|&v| angle(c, v)).fold(0.0, f64::max);
    // A cap under a quarter turn is convex: great-circle edges between its points stay in it.
    let rho = if rho < std::f64::consts::FRAC_PI_2 { rho } else { std::f64::consts::PI };
    (c, rho)
}

/// Relative shrink of an inner cap's radius, so rounding cannot put its rim outside.
const INNER_SHRINK: f64 = 1e-6;

/// A cap inside the polygons: around the vertex centroid of the largest outer ring, when
/// it lies inside its polygon, out to the nearest edge of any of that polygon's rings.
fn inner_cap_of(polys: &[Vec<PreparedRing>]) -> Option<(V3, f64)> {
    let rings = polys.iter().max_by_key(|p| p.first().map_or(0, |r| r.pts.len()))?;
    let outer = rings.first()?;
    let distinct = &outer.pts[..outer.pts.len().saturating_sub(1)]; // the closing vertex once
    let s = distinct.iter().fold([0.0; 3], |s, v| [s[0] + v[0], s[1] + v[1], s[2] + v[2]]);
    let len = (s[0] * s[0] + s[1] * s[1] + s[2] * s[2]).sqrt();
    if len < 1e-12 {
        return None;
    }
    let c = [s[0] / len, s[1] / len, s[2] / len];
    if !polygon_contains(rings, c) {
        return None;
    }
    let chord2 = rings
        .iter()
        .flat_map(|r| r.pts.windows(2))
        .map(|w| chord2_between(c, closest_on_arc(c, w[0], w[1])))
        .fold(f64::INFINITY, f64::min);
    let rho = 2.0 * (chord2.sqrt() / 2.0).min(1.0).asin() * (1.0 - INNER_SHRINK);
    (rho.is_finite() && rho > 0.0).then_some((c, rho))
}

impl PreparedArea {
    pub fn new(area: &Area) -> Self {
        if let Area::Circle { center, radius_m } = area {
            let c = to_v3(*center);
            let bounds = Bounds {
                outer: Ball::cap(c, *radius_m / RADIUS_LOWER_M),
                // Within radius / RADIUS_UPPER_M of the centre every geodesic is within the radius.
                inner: Some((c, *radius_m / RADIUS_UPPER_M * (1.0 - INNER_SHRINK))),
            };
            return PreparedArea { polys: Vec::new(), circle: Some((c, *center, *radius_m)), bounds };
        }
        let polys = area
            .polygons()
            .iter()
            .map(|p| p.rings.iter().map(|r| PreparedRing::new(r.iter().map(|&q| to_v3(q)).collect())).collect())
            .collect::<Vec<_>>();
        let (c, rho) = cap_of(&polys);
        let bounds = Bounds { outer: Ball::cap(c, rho), inner: inner_cap_of(&polys) };
        PreparedArea { polys, circle: None, bounds }
    }

    /// Edges that may come within chord `reach` of `other`.
    fn near_edges(&self, other: Ball, reach: f64) -> Vec<NearEdge> {
        let mut out = Vec::new();
        for ring in self.polys.iter().flatten() {
            ring.near_edges(other, reach, &mut out);
        }
        out
    }

    fn contains(&self, p: V3) -> bool {
        self.polys.iter().any(|rings| polygon_contains(rings, p))
    }

    /// What this area's own edges say of `within_m(self, other)` when all that is known
    /// of `other` is its `Bounds`: the conflict index asks it of the notice being checked,
    /// whose edges are already in cache, before it reads a candidate's edges from memory.
    /// `near` is scratch space, kept by the caller across candidates.
    ///
    /// - No edge comes within reach of `other`'s outer cap: the cap lies wholly inside
    ///   this area (then so does `other`: within) or wholly outside and beyond reach (not
    ///   within); the cap's centre tells which.
    /// - An edge comes within `reach.accept_angle` of `other`'s inner cap, or the inner
    ///   cap's centre is inside this area: within (the rule of `Goal::Within`).
    /// - Otherwise only `other`'s edges can tell: `None`.
    pub(crate) fn settle_against(&self, other: &Bounds, reach: &Reach, near: &mut Vec<NearEdge>) -> Option<bool> {
        if self.polys.is_empty() {
            return None; // a circle: its caps said all they can
        }
        near.clear();
        for ring in self.polys.iter().flatten() {
            ring.near_edges(other.outer, reach.chord, near);
        }
        if near.is_empty() {
            return Some(self.contains(other.outer.c));
        }
        let (c, r) = other.inner?;
        let inner = Ball::cap(c, r);
        let close = near.iter().any(|&(a, b, e)| {
            e.near(inner, reach.chord) && angle(c, closest_on_arc(c, a, b)) - r <= reach.accept_angle
        });
        (close || self.contains(c)).then_some(true)
    }
}

/// Minimum distance in metres between two areas: 0 when they touch, overlap or one
/// contains the other; circles count from their rim (centre distance minus radius).
pub fn area_distance_m(a: &Area, b: &Area) -> f64 {
    prepared_distance_m(&PreparedArea::new(a), &PreparedArea::new(b))
}

/// As `area_distance_m`, for prepared areas.
pub fn prepared_distance_m(a: &PreparedArea, b: &PreparedArea) -> f64 {
    distance_up_to_m(a, b, f64::INFINITY)
}

/// The distance between two areas when it is at most `limit_m`, bit for bit what
/// `prepared_distance_m` returns; otherwise some value above `limit_m` (often infinity).
/// Knowing the limit lets it skip every edge that cannot come within it, which turns the
/// all-pairs comparison of two 200-vertex polygons into a handful of exact measurements.
///
/// Why the result is the same: a pair of points left out is more than `limit_m / R` apart
/// on the sphere (R = `RADIUS_LOWER_M`), so more than `limit_m` apart on WGS84; it can be
/// neither the minimum nor a crossing when the minimum is within the limit.
pub fn distance_up_to_m(a: &PreparedArea, b: &PreparedArea, limit_m: f64) -> f64 {
    measure(a, b, limit_m, Goal::Exact)
}

/// Exactly `distance_up_to_m(a, b, limit_m) <= limit_m`, often much sooner: it stops at
/// the first pair of points that proves the areas are within the limit (see `Goal`).
pub fn within_m(a: &PreparedArea, b: &PreparedArea, limit_m: f64) -> bool {
    measure(a, b, limit_m, Goal::Within) <= limit_m
}

/// What a measurement is for. `Within` may stop at any pair (p, q) with
/// `RADIUS_UPPER_M * angle(p, q) <= limit`: the measured distance is at most the
/// geodesic of the pair nearest on the sphere, which is at most `RADIUS_UPPER_M` times
/// its angle, which is at most this pair's angle; so the measured distance is within the
/// limit too, and the answer is the one `Exact` would give. It then returns 0.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Goal {
    Exact,
    Within,
}

fn measure(a: &PreparedArea, b: &PreparedArea, limit_m: f64, goal: Goal) -> f64 {
    let reach = Reach::of(limit_m);
    match a.bounds.settle(&b.bounds, &reach) {
        Some(false) => return f64::INFINITY,
        Some(true) if goal == Goal::Within => return 0.0,
        _ => {}
    }
    match (a.circle, b.circle) {
        (Some((_, ca, ra)), Some((_, cb, rb))) => (geodesic_m(ca, cb) - ra - rb).max(0.0),
        (Some((va, _, ra)), None) => (point_distance(va, b, limit_m + ra, goal) - ra).max(0.0),
        (None, Some((vb, _, rb))) => (point_distance(vb, a, limit_m + rb, goal) - rb).max(0.0),
        (None, None) => polygons_distance(a, b, &reach, goal),
    }
}

/// Reach on the unit sphere for a limit in metres: the central angle no geodesic within
/// the limit can exceed, and the chord (Euclidean distance of unit vectors) for it.
/// With `accept_*`, the same for the angle within which every geodesic is within the
/// limit (`RADIUS_UPPER_M`), less some slack for rounding.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reach {
    angle: f64,
    chord: f64,
    accept_angle: f64,
    accept_chord2: f64,
}

fn chord_of(angle: f64) -> f64 {
    if angle.is_nan() || angle >= std::f64::consts::PI { 2.0 } else { 2.0 * (angle / 2.0).sin() }
}

impl Reach {
    pub(crate) fn of(limit_m: f64) -> Reach {
        let angle = limit_m / RADIUS_LOWER_M;
        let accept_angle = limit_m / RADIUS_UPPER_M * (1.0 - 1e-9);
        let accept_chord = chord_of(accept_angle.min(3.0));
        let accept_chord2 = if accept_angle > 0.0 { accept_chord * accept_chord } else { -1.0 };
        Reach { angle, chord: chord_of(angle), accept_angle, accept_chord2 }
    }
}

/// Smallest geodesic over candidate pairs (p, q, central angle): the pairs whose angle is
/// within `CANDIDATE_RATIO` of the smallest are re-measured on the ellipsoid.
fn refine(candidates: &[(V3, V3, f64)]) -> f64 {
    let best = candidates.iter().map(|c| c.2).fold(f64::INFINITY, f64::min);
    candidates
        .iter()
        .filter(|c| c.2 <= best * CANDIDATE_RATIO)
        .map(|&(p, q, _)| geodesic_v3(p, q))
        .fold(f64::INFINITY, f64::min)
}

/// Distance from a point to a polygonal area (0 inside), exact when within `limit_m`.
fn point_distance(p: V3, area: &PreparedArea, limit_m: f64, goal: Goal) -> f64 {
    let reach = Reach::of(limit_m);
    let pb = Ball::point(p);
    if !pb.near(area.bounds.outer, reach.chord) {
        return f64::INFINITY; // outside the cap (which holds the area) and beyond reach
    }
    let near = area.near_edges(pb, reach.chord);
    if goal == Goal::Within && near.iter().any(|&(v, _, _)| chord2_between(p, v) <= reach.accept_chord2) {
        return 0.0; // every vertex starts an edge, and one this close is near
    }
    if area.contains(p) {
        return 0.0;
    }
    let mut candidates = Vec::new();
    for &(a, b, _) in &near {
        let q = closest_on_arc(p, a, b);
        let ang = angle(p, q);
        if goal == Goal::Within && ang <= reach.accept_angle {
            return 0.0;
        }
        if ang <= reach.angle {
            candidates.push((p, q, ang));
        }
    }
    refine(&candidates)
}

/// Does a polygon of `x` lie inside `y`? Its first vertex tells, once no edges cross.
fn first_vertex_inside(x: &PreparedArea, y: &PreparedArea) -> bool {
    x.polys
        .iter()
        .filter_map(|p| p.first().and_then(|r| r.pts.first()).copied())
        .any(|v| Ball::point(v).near(y.bounds.outer, 0.0) && y.contains(v))
}

/// Distance between two polygonal areas whose outer caps `measure` found within reach.
fn polygons_distance(a: &PreparedArea, b: &PreparedArea, reach: &Reach, goal: Goal) -> f64 {
    if a.polys.is_empty() || b.polys.is_empty() {
        return f64::INFINITY;
    }
    let within = goal == Goal::Within;
    // One inside the other: common among conflicts, and cheaper to see than crossings.
    if first_vertex_inside(a, b) || first_vertex_inside(b, a) {
        return 0.0;
    }
    let (near_a, near_b) = (a.near_edges(b.bounds.outer, reach.chord), b.near_edges(a.bounds.outer, reach.chord));
    // Each vertex starts one edge, so testing start vertices against the other's edges
    // covers every vertex–edge pair that can be within reach.
    let mut candidates = Vec::new();
    for &(p0, p1, ea) in &near_a {
        for &(q0, q1, eb) in &near_b {
            if !ea.near(eb, reach.chord) {
                continue;
            }
            if within && chord2_between(p0, q0) <= reach.accept_chord2 {
                return 0.0;
            }
            if ea.near(eb, 0.0) && arcs_cross(p0, p1, q0, q1) {
                return 0.0; // touching or overlapping boundaries
            }
            for (v, (r, s), e) in [(p0, (q0, q1), eb), (q0, (p0, p1), ea)] {
                if Ball::point(v).near(e, reach.chord) {
                    let q = closest_on_arc(v, r, s);
                    let ang = angle(v, q);
                    if within && ang <= reach.accept_angle {
                        return 0.0;
                    }
                    if ang <= reach.angle {
                        candidates.push((v, q, ang));
                    }
                }
            }
        }
    }
    refine(&candidates)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Polygon;
    use crate::sphere::{cross, dot};

    fn polygon(rings: &[&[[f64; 2]]]) -> Area {
        Area::Polygon(Polygon { rings: rings.iter().map(|r| r.to_vec()).collect() })
    }

    /// Points on the rim of the cap (centre c, angular radius rho).
    fn rim(c: V3, rho: f64) -> Vec<V3> {
        let helper = if c[0].abs() < 0.9 { [1.0, 0.0, 0.0] } else { [0.0, 1.0, 0.0] };
        let u = cross(c, helper);
        let lu = dot(u, u).sqrt();
        let u = [u[0] / lu, u[1] / lu, u[2] / lu];
        let v = cross(c, u);
        (0..720)
            .map(|k| {
                let th = std::f64::consts::TAU * k as f64 / 720.0;
                let (s, co) = (rho.sin(), rho.cos());
                std::array::from_fn(|i| c[i] * co + (u[i] * th.cos() + v[i] * th.sin()) * s)
            })
            .collect()
    }

    /// Every found inner cap lies inside its polygon: its rim (the point nearest the
    /// boundary is on it) is inside, for convex, star-shaped, concave, holed and polar
    /// areas. Where none is found, the caps simply settle nothing.
    #[test]
    fn inner_cap_lies_inside_the_area() {
        let star: Vec<[f64; 2]> = (0..=40)
            .map(|k| {
                let a = std::f64::consts::TAU * (k % 40) as f64 / 40.0;
                let r = if k % 2 == 0 { 1.0 } else { 0.45 };
                [20.0 + r * a.cos(), 50.0 + r * a.sin()]
            })
            .collect();
        let cases: Vec<(&str, Area, bool)> = vec![
            ("box", polygon(&[&[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]]), true),
            ("star", polygon(&[&star]), true),
            (
                "hole beside the centroid",
                polygon(&[
                    &[[0.0, 0.0], [4.0, 0.0], [4.0, 4.0], [0.0, 4.0], [0.0, 0.0]],
                    &[[1.5, 1.8], [2.4, 1.8], [2.4, 2.6], [1.5, 2.6], [1.5, 1.8]],
                ]),
                false, // the centroid lies in the hole
            ),
            (
                "hole off the centroid",
                polygon(&[
                    &[[0.0, 0.0], [4.0, 0.0], [4.0, 4.0], [0.0, 4.0], [0.0, 0.0]],
                    &[[2.5, 2.5], [3.5, 2.5], [3.5, 3.5], [2.5, 3.5], [2.5, 2.5]],
                ]),
                true,
            ),
            // The centroid lies in the notch.
            (
                "C shape",
                polygon(&[&[
                    [0.0, 0.0],
                    [3.0, 0.0],
                    [3.0, 1.0],
                    [1.0, 1.0],
                    [1.0, 2.0],
                    [3.0, 2.0],
                    [3.0, 3.0],
                    [0.0, 3.0],
                    [0.0, 0.0],
                ]]),
                false,
            ),
            ("polar", polygon(&[&[[0.0, 85.0], [90.0, 85.0], [180.0, 85.0], [-90.0, 85.0], [0.0, 85.0]]]), true),
            ("long thin", polygon(&[&[[0.0, 0.0], [40.0, 0.0], [40.0, 0.01], [0.0, 0.01], [0.0, 0.0]]]), true),
        ];
        for (name, area, expect_cap) in cases {
            let prepared = PreparedArea::new(&area);
            let Some((c, rho)) = prepared.bounds.inner else {
                assert!(!expect_cap, "{name}: no inner cap found");
                continue;
            };
            assert!(expect_cap, "{name}: an inner cap was found where none should be");
            assert!(prepared.contains(c), "{name}: centre outside");
            for p in rim(c, rho) {
                assert!(prepared.contains(p), "{name}: rim point {:?} outside", to_pos(p));
            }
            // And it is not trivially small: it reaches most of the way to the boundary.
            let outside = rim(c, rho * 1.05).into_iter().filter(|&p| !prepared.contains(p)).count();
            assert!(outside > 0, "{name}: cap of {rho} rad could be larger; it should touch the boundary");
        }
    }

    /// splitmix64, for the random areas below.
    struct Rng(u64);

    impl Rng {
        fn unit(&mut self) -> f64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        }
        fn range(&mut self, lo: f64, hi: f64) -> f64 {
            lo + (hi - lo) * self.unit()
        }
    }

    /// A circle or a star-shaped polygon (sometimes concave) near `c`, degrees.
    fn random_area(rng: &mut Rng, c: [f64; 2]) -> Area {
        let size = rng.range(0.005, 0.6);
        let centre = [c[0] + rng.range(-0.5, 0.5), c[1] + rng.range(-0.3, 0.3)];
        if rng.unit() < 0.3 {
            return Area::Circle { center: centre, radius_m: size * 100_000.0 };
        }
        let n = rng.range(3.0, 40.0) as usize;
        let dent = rng.range(0.1, 1.0); // how deep the spikes may go: concave rings
        let mut ring: Vec<[f64; 2]> = (0..n)
            .map(|k| {
                let a = std::f64::consts::TAU * (k as f64 + rng.range(0.0, 0.8)) / n as f64;
                let r = size * rng.range(dent, 1.0);
                [centre[0] + r * a.cos() / c[1].to_radians().cos(), centre[1] + r * a.sin()]
            })
            .collect();
        ring.push(ring[0]);
        polygon(&[&ring])
    }

    /// The shortcuts the conflict index takes before it reads a candidate's edges (the
    /// caps, then the checked notice's own edges against the candidate's caps) must give
    /// exactly `within_m`'s answer whenever they give one, and they must give one often.
    #[test]
    fn caps_and_one_sided_settling_agree_with_within_m() {
        let mut rng = Rng(0x1ce);
        let mut near = Vec::new();
        let (mut settled, mut total) = (0, 0);
        for i in 0..3_000 {
            let c = if i % 10 == 0 { [179.0, 70.0] } else { [rng.range(-20.0, 40.0), rng.range(-60.0, 60.0)] };
            let (a, b) = (random_area(&mut rng, c), random_area(&mut rng, c));
            let (pa, pb) = (PreparedArea::new(&a), PreparedArea::new(&b));
            for limit in [0.0, 1_000.0, 9_260.0, 40_000.0] {
                let reach = Reach::of(limit);
                let truth = within_m(&pa, &pb, limit);
                assert_eq!(truth, distance_up_to_m(&pa, &pb, limit) <= limit, "pair {i}, limit {limit}");
                let by_caps = pa.bounds.settle(&pb.bounds, &reach);
                let by_edges = pa.settle_against(&pb.bounds, &reach, &mut near);
                for (how, answer) in [("caps", by_caps), ("one side's edges", by_edges)] {
                    if let Some(answer) = answer {
                        assert_eq!(answer, truth, "pair {i}, limit {limit}: {how} say {answer}\n{a:?}\n{b:?}");
                    }
                }
                settled += usize::from(by_caps.is_some() || by_edges.is_some());
                total += 1;
            }
        }
        assert!(settled * 10 > total * 7, "only {settled} of {total} settled without the other's edges");
    }
}
