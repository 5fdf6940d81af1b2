//! Why: the pairwise rule of PRODUCT.md — two notices conflict when they come within the
//! line's lateral separation, vertical separation and time buffer — in one place, so the
//! index and any direct check cannot disagree.

use time::Duration;

use crate::distance::{PreparedArea, distance_up_to_m};
use crate::model::{AltitudeBand, Notice};

/// A line's separation minima. "Within" is inclusive: a gap equal to the minimum conflicts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Separation {
    /// Lateral separation, geodesic metres on WGS84.
    pub lateral_m: f64,
    /// Vertical separation between altitude bands, metres.
    pub vertical_m: f64,
    /// Time buffer between windows.
    pub time_buffer: Duration,
}

impl Default for Separation {
    fn default() -> Self {
        Separation { lateral_m: 9_260.0, vertical_m: 300.0, time_buffer: Duration::minutes(15) }
    }
}

/// How close two conflicting notices come.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Closeness {
    /// Lateral distance between the areas, metres (0 = they overlap).
    pub lateral_m: f64,
    /// Gap between the altitude bands, metres (0 = they overlap).
    pub vertical_gap_m: f64,
    /// Gap between the windows (zero = they overlap).
    pub time_gap: Duration,
}

/// Vertical gap between two bands in metres (0 when they overlap).
pub fn vertical_gap_m(a: AltitudeBand, b: AltitudeBand) -> f64 {
    (b.min_m - a.max_m).max(a.min_m - b.max_m).max(0.0)
}

/// Gap between two notices' windows (zero when they overlap).
pub fn time_gap(a: &Notice, b: &Notice) -> Duration {
    (b.start - a.end).max(a.start - b.end).max(Duration::ZERO)
}

/// `Some` when the two notices conflict under `sep`, with how close they come.
pub fn conflict(a: &Notice, b: &Notice, sep: &Separation) -> Option<Closeness> {
    conflict_prepared(a, &PreparedArea::new(&a.area), b, &PreparedArea::new(&b.area), sep)
}

pub(crate) fn conflict_prepared(
    a: &Notice,
    pa: &PreparedArea,
    b: &Notice,
    pb: &PreparedArea,
    sep: &Separation,
) -> Option<Closeness> {
    let time_gap = time_gap(a, b);
    if time_gap > sep.time_buffer {
        return None;
    }
    let vertical_gap_m = vertical_gap_m(a.band(), b.band());
    if vertical_gap_m > sep.vertical_m {
        return None;
    }
    // Exact whenever it is within the separation, which is all the rule needs.
    let lateral_m = distance_up_to_m(pa, pb, sep.lateral_m);
    (lateral_m <= sep.lateral_m).then_some(Closeness { lateral_m, vertical_gap_m, time_gap })
}
