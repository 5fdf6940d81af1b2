//! Why: deconfliction notices ("we will fly in this box, at these heights, at these
//! times") and the machine check for overlaps between two sides' notices, as a pure
//! library: no I/O, no clock, times are arguments. The station wires it into its API,
//! its record and its line.
//!
//! Geometry follows PostGIS `geography`: polygon edges are great-circle arcs, distances
//! are geodesics on WGS84 (see `distance` for the error bound).

mod arcs;
mod bbox;
mod conflict;
mod distance;
mod error;
mod index;
mod model;
mod overlap;
mod parse;
mod ring;
mod sphere;
mod validate;

pub use conflict::{Closeness, Separation, conflict, time_gap, vertical_gap_m};
pub use distance::{PreparedArea, area_distance_m, distance_up_to_m, geodesic_m, prepared_distance_m, within_m};
pub use error::{NoticeError, Pos};
pub use index::ConflictIndex;
pub use model::{AltitudeBand, Area, Kind, Limits, Notice, Polygon, Position};
pub use parse::{notice_from_value, parse_notice};
