//! The pieces of a text that are figures rather than words: UTC times, military
//! date-time groups, flight levels, altitude bands, positions and distances. They are
//! written the same way in every language (only month names and units come from the
//! catalog), so that both ends of a line can read a figure out to each other and mean
//! the same thing.
//!
//! Flight levels round outward: the bottom of a band down ([`flight_level_floor`]) and
//! the top up ([`flight_level`]), so the band in flight levels always contains the band
//! in metres. A notice tells the other side where to keep out of; shown narrower than
//! filed, it would invite them into the metres between. 9,000 m is 29,527.6 ft, so a
//! band up to 9,000 m reads "FL296", not the nearer "FL295".

use hotline_notice::{AltitudeBand, Position};
use time::OffsetDateTime;

/// The international foot, exactly.
const METRES_PER_FOOT: f64 = 0.3048;

/// Month abbreviations of the English date-time group, the fallback when a language's
/// catalog cannot be read (the tests make sure it always can).
const MONTHS_EN: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];

fn datetime(unix_ms: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(unix_ms.div_euclid(1000)).ok()
}

/// A time in UTC, to the minute: `"2026-11-24 15:30Z"` (seconds are cut, as in the
/// date-time group). A time outside years -9999..=9999 is written as its milliseconds.
pub fn utc(unix_ms: i64) -> String {
    match datetime(unix_ms) {
        Some(t) => {
            format!("{:04}-{:02}-{:02} {:02}:{:02}Z", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute())
        }
        None => format!("{unix_ms} ms after 1970"),
    }
}

/// The military date-time group, `DDHHMMZ MON YY`: `"241530Z NOV 26"`, with the month
/// abbreviation of `lang`'s catalog (`dtg-months`, the list the console uses): Russian
/// gives `"241530Z НОЯ 26"`. An unknown language gets the English months.
pub fn dtg(unix_ms: i64, lang: &str) -> String {
    match crate::catalog::months(lang) {
        Some(months) => dtg_with(unix_ms, months),
        None => dtg_with(unix_ms, &MONTHS_EN),
    }
}

/// [`dtg`] with the twelve month abbreviations given.
pub(crate) fn dtg_with<S: AsRef<str>>(unix_ms: i64, months: &[S]) -> String {
    let Some(t) = datetime(unix_ms) else { return utc(unix_ms) };
    let month = months.get(usize::from(u8::from(t.month())) - 1).map(AsRef::as_ref).unwrap_or("");
    format!("{:02}{:02}{:02}Z {month} {:02}", t.day(), t.hour(), t.minute(), t.year().rem_euclid(100))
}

/// Hundreds of feet, with the floating-point noise of the conversion rounded away so
/// that 3,048 m is exactly FL100, not a hair over it.
fn hundreds_of_feet(m: f64) -> f64 {
    (m / METRES_PER_FOOT / 100.0 * 1e6).round() / 1e6
}

fn level(hundreds: f64) -> String {
    format!("FL{:03}", hundreds as i64)
}

/// The flight level at or above `m` metres (rounded up: the top of a band): `"FL296"`
/// for 9,000 m. At or below the surface, `"SFC"`; an unlimited height, `"UNL"`.
pub fn flight_level(m: f64) -> String {
    if m.is_nan() || m <= 0.0 {
        "SFC".to_owned()
    } else if m.is_infinite() {
        "UNL".to_owned()
    } else {
        level(hundreds_of_feet(m).ceil())
    }
}

/// The flight level at or below `m` metres (rounded down: the bottom of a band):
/// `"FL098"` for 3,000 m. At or below the surface, `"SFC"`.
pub fn flight_level_floor(m: f64) -> String {
    if m.is_nan() || m <= 0.0 {
        "SFC".to_owned()
    } else if m.is_infinite() {
        "UNL".to_owned()
    } else {
        level(hundreds_of_feet(m).floor())
    }
}

/// The parts of an altitude band as the `sys-altitude-band` message takes them: metres
/// (whole) and flight levels (rounded outward), or `None` for surface to unlimited (no
/// band, or a band with an unbounded end).
pub(crate) fn altitude_parts(band: Option<AltitudeBand>) -> Option<[String; 4]> {
    let band = band.filter(|b| b.min_m.is_finite() && b.max_m.is_finite())?;
    Some([metres(band.min_m), metres(band.max_m), flight_level_floor(band.min_m), flight_level(band.max_m)])
}

/// An altitude band in English units: `"0–9000 m (SFC–FL296)"`; no band is
/// `"SFC–UNL"`. [`crate::Catalog`] renders the same in other languages.
pub fn altitude(band: Option<AltitudeBand>) -> String {
    match altitude_parts(band) {
        Some([min_m, max_m, min_fl, max_fl]) => format!("{min_m}–{max_m} m ({min_fl}–{max_fl})"),
        None => "SFC–UNL".to_owned(),
    }
}

/// Whole metres: `"9000"`.
pub fn metres(m: f64) -> String {
    format!("{}", m.round() as i64)
}

/// A distance in kilometres to one decimal, without a trailing `.0`: `"20"`, `"1.5"`;
/// never `"0"` for a distance that is not zero (the smallest shown is `"0.1"`).
pub fn kilometres(m: f64) -> String {
    let tenths = (m / 100.0).round();
    let tenths = if m > 0.0 && tenths < 1.0 { 1.0 } else { tenths };
    if tenths % 10.0 == 0.0 { format!("{}", (tenths / 10.0) as i64) } else { format!("{:.1}", tenths / 10.0) }
}

/// A GeoJSON position (`[longitude, latitude]`) as latitude then longitude, in decimal
/// degrees to two places with hemisphere letters: `"50.40N 30.50E"`. The letters are
/// the same in every language, as in ICAO messages.
pub fn position(p: Position) -> String {
    let [lon, lat] = p;
    // Rounded before the hemisphere is chosen, so that -0.004 is "0.00N", not "0.00S".
    let part = |v: f64, pos: char, neg: char| {
        let rounded = (v * 100.0).round() / 100.0;
        format!("{:.2}{}", rounded.abs(), if rounded < 0.0 { neg } else { pos })
    };
    format!("{} {}", part(lat, 'N', 'S'), part(lon, 'E', 'W'))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-24T15:30:00Z.
    const START_MS: i64 = 1_795_534_200_000;

    #[test]
    fn times_in_utc_and_as_date_time_groups() {
        assert_eq!(utc(START_MS), "2026-11-24 15:30Z");
        assert_eq!(utc(START_MS + 59_999), "2026-11-24 15:30Z");
        assert_eq!(dtg(START_MS, "en"), "241530Z NOV 26");
        assert_eq!(dtg(START_MS + 60_000, "en"), "241531Z NOV 26");
        assert_eq!(dtg(START_MS, "ru"), "241530Z НОЯ 26");
        assert_eq!(dtg(START_MS, "xx"), "241530Z NOV 26");
        assert_eq!(dtg(951_782_400_000, "en"), "290000Z FEB 00");
        assert_eq!(dtg(-1, "en"), "312359Z DEC 69");
        assert_eq!(utc(i64::MAX), format!("{} ms after 1970", i64::MAX));
    }

    #[test]
    fn flight_levels_round_outward() {
        assert_eq!(flight_level(9_000.0), "FL296");
        assert_eq!(flight_level_floor(9_000.0), "FL295");
        assert_eq!(flight_level(3_048.0), "FL100");
        assert_eq!(flight_level_floor(3_048.0), "FL100");
        assert_eq!(flight_level(1_524.0), "FL050");
        assert_eq!(flight_level_floor(3_000.0), "FL098");
        assert_eq!(flight_level(0.0), "SFC");
        assert_eq!(flight_level(-10.0), "SFC");
        assert_eq!(flight_level(f64::INFINITY), "UNL");
        assert_eq!(flight_level(f64::NAN), "SFC");
    }

    #[test]
    fn altitude_bands() {
        assert_eq!(altitude(Some(AltitudeBand { min_m: 0.0, max_m: 9_000.0 })), "0–9000 m (SFC–FL296)");
        assert_eq!(altitude(Some(AltitudeBand { min_m: 3_000.0, max_m: 3_048.0 })), "3000–3048 m (FL098–FL100)");
        assert_eq!(altitude(None), "SFC–UNL");
        assert_eq!(altitude(Some(AltitudeBand::UNLIMITED)), "SFC–UNL");
    }

    #[test]
    fn positions_and_distances() {
        assert_eq!(position([30.5, 50.4]), "50.40N 30.50E");
        assert_eq!(position([-179.999, -0.004]), "0.00N 180.00W");
        assert_eq!(kilometres(20_000.0), "20");
        assert_eq!(kilometres(1_540.0), "1.5");
        assert_eq!(kilometres(30.0), "0.1");
        assert_eq!(kilometres(0.0), "0");
        assert_eq!(metres(299.6), "300");
    }
}
