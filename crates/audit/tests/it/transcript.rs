//! The transcript shows each message with both time forms, direction, precedence,
//! author, body and later states, escapes what a terminal would obey, and refuses a line
//! the record does not have.

use hotline_audit::{dtg, rfc3339, transcript};

use crate::fixture::{START_MS, Sim, Who, conversation};

#[test]
fn date_time_groups_are_day_hour_minute_zulu_month_year() {
    assert_eq!(dtg(START_MS), "241530Z NOV 26");
    assert_eq!(dtg(START_MS + 59_999), "241530Z NOV 26");
    assert_eq!(dtg(START_MS + 60_000), "241531Z NOV 26");
    assert_eq!(dtg(1_772_323_199_000), "282359Z FEB 26");
    assert_eq!(dtg(951_782_400_000), "290000Z FEB 00");
    assert_eq!(rfc3339(START_MS), "2026-11-24T15:30:00Z");
}

#[test]
fn the_conversation_in_record_order_with_states() {
    let mut sim = conversation(Sim::seeded(), 2);
    let id = sim.send(Who::Bravo, "FLASH", "line one\nline two \u{1b}[2J", None);
    sim.deliver(&id, true);
    sim.ack(&id, true);
    let text = transcript(&sim.export(Who::Alpha), Some("bravo")).expect("transcript");
    println!("{text}");
    assert!(text.starts_with("Line alpha \u{2194} bravo, from alpha's record (verified): 6 message(s)"), "{text}");
    assert!(text.contains("alpha \u{2192} bravo  ROUTINE"), "{text}");
    assert!(text.contains("bravo \u{2192} alpha  FLASH"), "{text}");
    assert!(text.contains("acknowledged by watch-officer at bravo"), "{text}");
    assert!(text.contains("acknowledged by watch-officer at alpha"), "{text}");
    assert!(text.contains("delivered 2026-11-24T"), "{text}");
    assert!(text.contains("    | line one\n    | line two \\u{1b}[2J\n"), "{text}");
    assert!(!text.contains('\u{1b}'));
    assert!(text.contains(&dtg(START_MS + 60_000)), "{text}");
    assert_eq!(transcript(&sim.export(Who::Alpha), None).expect("all lines"), text);
    let e = transcript(&sim.export(Who::Alpha), Some("charlie")).expect_err("no line").to_string();
    assert!(e.contains("no line to \"charlie\""), "{e}");
}
