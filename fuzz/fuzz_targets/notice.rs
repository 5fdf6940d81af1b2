//! The notice parser and validation on arbitrary text, and the conflict rule on the
//! notices that pass.
//!
//! A notice that parses must come back unchanged from its own JSON, as a value and as
//! text (the station sends notices to the peer as text, and both stations must read the
//! same numbers); it must conflict with itself at distance zero, and the R-tree index must
//! find it. A JSON array of two notices is also read as a pair: the rule must give the
//! same verdict whichever side asks (both stations compute conflicts), and the index must
//! agree with the direct rule.

#![no_main]

use hotline_notice::{ConflictIndex, Limits, Notice, Separation, area_distance_m, conflict, notice_from_value};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn limits() -> Limits {
    // Small enough that the quadratic paths (self-intersection, distances) stay fast.
    Limits { vertices_max: 256, window_days_max: 30 }
}

fn round_trips(notice: &Notice) {
    let value = notice.to_json();
    let again = notice_from_value(&value, &limits()).expect("a notice's own JSON is valid");
    assert_eq!(&again, notice, "value round trip");
    let text = value.to_string();
    let again = hotline_notice::parse_notice(&text, &limits()).expect("a notice's own JSON text is valid");
    assert_eq!(&again, notice, "text round trip: {text}");
}

fn conflicts_with_itself(notice: &Notice) {
    let closeness = conflict(notice, notice, &Separation::default()).expect("a notice conflicts with itself");
    assert_eq!(closeness.lateral_m, 0.0);
    assert_eq!(area_distance_m(&notice.area, &notice.area), 0.0);
    let mut index = ConflictIndex::new(Separation::default());
    index.insert(0u8, notice.clone());
    assert_eq!(index.conflicts_of(notice), vec![0u8], "the index finds a notice against itself");
}

fn pair(a: &Notice, b: &Notice) {
    let sep = Separation::default();
    let ab = conflict(a, b, &sep);
    let ba = conflict(b, a, &sep);
    assert_eq!(ab.is_some(), ba.is_some(), "the verdict depends on which station asks: {ab:?} / {ba:?}");
    let mut index = ConflictIndex::new(sep);
    index.insert(0u8, a.clone());
    index.insert(1u8, b.clone());
    let expected: Vec<(u8, u8)> = if ab.is_some() { vec![(0, 1)] } else { Vec::new() };
    assert_eq!(index.all_conflicts(), expected, "the index and the rule disagree: {ab:?}");
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(notice) = hotline_notice::parse_notice(text, &limits()) {
        round_trips(&notice);
        conflicts_with_itself(&notice);
        return;
    }
    // Not one notice: perhaps a pair, `[A, B]`.
    let Ok(Value::Array(items)) = serde_json::from_str::<Value>(text) else {
        return;
    };
    let [a, b] = &items[..] else {
        return;
    };
    let (Ok(a), Ok(b)) = (notice_from_value(a, &limits()), notice_from_value(b, &limits())) else {
        return;
    };
    pair(&a, &b);
});
