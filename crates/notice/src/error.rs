//! Why: a rejected notice must tell the operator exactly what is wrong and where, in one
//! sentence, so the API can return it as a 4xx body and the CLI can print it to stderr.

use std::fmt;

use thiserror::Error;

/// A position in an error message, written as GeoJSON writes it: `[30.5, 50.4]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pos(pub [f64; 2]);

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}, {}]", self.0[0], self.0[1])
    }
}

/// Everything that can be wrong with a notice. `Display` is the sentence shown to users;
/// polygon and ring numbers are 1-based, in the order they appear in the GeoJSON.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum NoticeError {
    #[error("invalid JSON at line {line}, column {column}: {reason}")]
    Json { line: usize, column: usize, reason: String },
    #[error("{field}: missing")]
    Missing { field: String },
    #[error("{field}: expected {expected}")]
    WrongType { field: String, expected: String },
    #[error(
        "kind: unknown kind \"{0}\"; expected one of air_operations, missile_test, naval_exercise, airspace_closure, ground_operations, other"
    )]
    UnknownKind(String),
    #[error("area: invalid GeoJSON: {0}")]
    InvalidGeoJson(String),
    #[error("area: polygon {polygon}, ring {ring} is not closed: first position {first} differs from last {last}")]
    RingNotClosed { polygon: usize, ring: usize, first: Pos, last: Pos },
    #[error("area: polygon {polygon}, ring {ring} has {count} positions; a ring needs at least 4")]
    TooFewPositions { polygon: usize, ring: usize, count: usize },
    #[error("area: {at}: longitude {value} is outside [-180, 180]")]
    LongitudeOutOfRange { at: String, value: f64 },
    #[error("area: {at}: latitude {value} is outside [-90, 90]")]
    LatitudeOutOfRange { at: String, value: f64 },
    #[error(
        "area: polygon {polygon}, ring {ring} intersects itself: edge {edge_a} ({a0} to {a1}) crosses edge {edge_b} ({b0} to {b1})"
    )]
    SelfIntersection { polygon: usize, ring: usize, edge_a: usize, a0: Pos, a1: Pos, edge_b: usize, b0: Pos, b1: Pos },
    #[error(
        "area: polygon {polygon}, ring {ring_a} and ring {ring_b} intersect: edge {edge_a} of ring {ring_a} \
         ({a0} to {a1}) meets edge {edge_b} of ring {ring_b} ({b0} to {b1})"
    )]
    RingsIntersect {
        polygon: usize,
        ring_a: usize,
        edge_a: usize,
        a0: Pos,
        a1: Pos,
        ring_b: usize,
        edge_b: usize,
        b0: Pos,
        b1: Pos,
    },
    #[error("area: polygon {polygon}, ring {ring} is a hole but lies outside the exterior ring (ring 1)")]
    HoleOutside { polygon: usize, ring: usize },
    #[error("area: polygon {polygon}, ring {inner} lies inside ring {outer}; holes must not nest")]
    HolesNested { polygon: usize, outer: usize, inner: usize },
    #[error(
        "area: polygons {polygon_a} and {polygon_b} overlap (at {at}); the polygons of a MultiPolygon may touch \
         but not overlap (RFC 7946, OGC simple features)"
    )]
    PolygonsOverlap { polygon_a: usize, polygon_b: usize, at: Pos },
    #[error(
        "area: polygon {polygon}, ring {ring}, edge {edge} ({from} to {to}) spans more than 180 degrees of longitude; \
         split an area that crosses the antimeridian into a MultiPolygon at ±180 (RFC 7946, section 3.1.9)"
    )]
    CrossesAntimeridian { polygon: usize, ring: usize, edge: usize, from: Pos, to: Pos },
    #[error("area: polygon {polygon} is too large: its vertices must lie within 90 degrees of their centre")]
    TooLarge { polygon: usize },
    #[error("area: {count} vertices; at most {max} are allowed")]
    TooManyVertices { count: usize, max: usize },
    #[error("area: radius_m must be greater than 0, got {0}")]
    BadRadius(f64),
    #[error("altitude: min_m {min_m} is greater than max_m {max_m}")]
    AltitudeInverted { min_m: f64, max_m: f64 },
    #[error("{field}: \"{value}\" is not an RFC 3339 date-time: {reason}")]
    BadTime { field: String, value: String, reason: String },
    #[error("{field}: \"{value}\" is not in UTC; write it with Z or +00:00")]
    NotUtc { field: String, value: String },
    #[error("end {end} is not after start {start}")]
    EndBeforeStart { start: String, end: String },
    #[error("the window from {start} to {end} is longer than the maximum of {max_days} days")]
    WindowTooLong { start: String, end: String, max_days: u32 },
}
