//! System-generated texts: what an alarm or an e-mail says to the person it wakes.
//!
//! Every text the station writes for people goes through `hotline-i18n` (Fluent catalogs
//! shared with the console), rendered in the station's language; this module only picks
//! the message and its arguments for each cause, so there is one place that chooses words.

use std::sync::OnceLock;

use hotline_i18n::texts::{self, Side};
use hotline_i18n::{Catalog, Text};
use hotline_watch::{Cause, Direction, LinePolicy};

/// The catalog for `lang` (English for anything not shipped).
pub fn catalog(lang: &str) -> &'static Catalog {
    static EN: OnceLock<Option<Catalog>> = OnceLock::new();
    static RU: OnceLock<Option<Catalog>> = OnceLock::new();
    let (cell, langs): (_, &[&str]) = if lang == "ru" { (&RU, &["ru", "en"]) } else { (&EN, &["en"]) };
    let catalog = cell.get_or_init(|| Catalog::new(langs).ok());
    match catalog {
        Some(c) => c,
        // The catalogs are compiled in and tested; this only guards against a broken build.
        None => {
            EN.get_or_init(|| Catalog::new(&["en"]).ok()).as_ref().unwrap_or_else(|| unreachable!("built-in catalog"))
        }
    }
}

fn side(direction: Direction) -> Side {
    match direction {
        Direction::Out => Side::Peer,
        Direction::In => Side::Here,
    }
}

fn minutes(ms: u64) -> u64 {
    ms.div_ceil(60_000)
}

/// The message for an alarm of `cause` on a line with `policy`; `detail` adds what only
/// the caller knows (the storage error, the free space, the refusal's reason; for overdue
/// messages [`overdue_detail`]).
pub fn alarm(cause: &Cause, policy: &LinePolicy, detail: &str) -> Text {
    match cause {
        Cause::LineDown { peer } => texts::alarm_line_down(peer, policy.line_down_alarm_ms / 1000),
        Cause::WatchCheckMissed { peer, direction } => {
            texts::alarm_watch_check_missed(side(*direction), peer, minutes(policy.check_deadline_ms))
        }
        Cause::AckOverdue { peer, precedence, direction } => {
            // `detail` is "count\u{1f}oldest message id".
            let (count, first) = detail.split_once('\u{1f}').unwrap_or(("1", detail));
            texts::alarm_ack_overdue(
                side(*direction),
                peer,
                precedence.as_str(),
                count.parse().unwrap_or(1),
                first,
                minutes(policy.ack_deadline(*precedence).unwrap_or(0)),
            )
        }
        Cause::PeerKeyMismatch { peer } => {
            // `detail` is "presented\u{1f}pinned fingerprint".
            let (presented, pinned) = detail.split_once('\u{1f}').unwrap_or((detail, "-"));
            texts::alarm_peer_key_mismatch(peer, presented, pinned)
        }
        Cause::RecordFork { peer } => texts::alarm_record_fork(peer),
        Cause::Storage => texts::alarm_storage(detail),
        Cause::LowDisk => texts::alarm_low_disk(detail.parse().unwrap_or(0)),
        Cause::NobodyOnWatch { peer } => texts::alarm_nobody_on_watch(peer, minutes(policy.nobody_on_watch_alarm_ms)),
        Cause::LineTaskFailed { peer } => texts::alarm_line_task_failed(peer, detail),
        Cause::RecordingStopped { peer } => texts::alarm_recording_stopped(peer, detail),
        Cause::PeerRecordingStopped { peer } => texts::alarm_peer_recording_stopped(peer, detail),
    }
}

/// The `detail` of an overdue-messages alarm: how many, and the oldest one's id.
pub fn overdue_detail(count: usize, first_message_id: &str) -> String {
    format!("{count}\u{1f}{first_message_id}")
}

/// [`alarm`], rendered in `lang`.
pub fn alarm_text(cause: &Cause, lang: &str, policy: &LinePolicy, detail: &str) -> String {
    catalog(lang).render_text(&alarm(cause, policy, detail))
}

/// Renders any station text in `lang`.
pub fn render(lang: &str, text: &Text) -> String {
    catalog(lang).render_text(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alarm_texts_render_in_both_languages_without_placeholders() {
        let policy = LinePolicy::default();
        let causes = [
            Cause::LineDown { peer: "bravo".into() },
            Cause::WatchCheckMissed { peer: "bravo".into(), direction: Direction::Out },
            Cause::WatchCheckMissed { peer: "bravo".into(), direction: Direction::In },
            Cause::AckOverdue {
                peer: "bravo".into(),
                precedence: hotline_watch::Precedence::Flash,
                direction: Direction::Out,
            },
            Cause::Storage,
            Cause::NobodyOnWatch { peer: "bravo".into() },
        ];
        for cause in &causes {
            let en = alarm_text(cause, "en", &policy, "disk full");
            let ru = alarm_text(cause, "ru", &policy, "disk full");
            assert!(!en.is_empty() && !ru.is_empty() && en != ru, "{en} / {ru}");
            assert!(!en.contains('{') && !ru.contains('{'), "{en} / {ru}");
        }
        let flash = alarm_text(&causes[3], "en", &policy, &overdue_detail(1, "m1"));
        assert!(flash.contains("bravo") && flash.contains('2') && flash.contains("m1"), "{flash}");
        let many = alarm_text(&causes[3], "en", &policy, &overdue_detail(37, "m1"));
        assert!(many.starts_with("37 FLASH messages to bravo"), "{many}");
    }
}
