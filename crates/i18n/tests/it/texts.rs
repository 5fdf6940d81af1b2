//! Typed texts as the station will show them, in English and Russian: notice summaries
//! with both time forms and both altitude forms, conflicts, alarms with the side that is
//! late, plurals, and the escalation e-mail.

use hotline_i18n::texts::{self, Side};
use hotline_i18n::{Catalog, Text};

use crate::samples::{START_MS, circle, closeness, multipolygon, polygon};

fn check(text: &Text, en: &str, ru: &str) {
    let catalog = Catalog::new(&["en", "ru"]).expect("catalogs");
    let all = catalog.render_text_all(text);
    assert_eq!(all[0], ("en".to_owned(), en.to_owned()), "{}", text.id);
    assert_eq!(all[1], ("ru".to_owned(), ru.to_owned()), "{}", text.id);
}

#[test]
fn notice_summaries() {
    check(
        &texts::notice_summary(&circle()),
        "Air operations “Sortie window A”: circle 20 km around 50.40N 30.50E, 0–9000 m (SFC–FL296), \
         2026-11-25 10:00Z – 2026-11-25 12:00Z (251000Z NOV 26 – 251200Z NOV 26)",
        "Полёты авиации «Sortie window A»: круг радиусом 20 км с центром 50.40N 30.50E, 0–9000 м (SFC–FL296), \
         2026-11-25 10:00Z – 2026-11-25 12:00Z (251000Z НОЯ 26 – 251200Z НОЯ 26)",
    );
    check(&texts::area(&polygon().area), "polygon, 5 vertices", "многоугольник, 5 вершин");
    check(&texts::altitude(polygon().altitude), "SFC–UNL", "SFC–UNL");
    check(
        &texts::notice_summary(&multipolygon()),
        "Missile test “Range 7”: 2 polygons, 6 vertices, 3000–3048 m (FL098–FL100), \
         2026-11-25 10:00Z – 2026-11-25 10:30Z (251000Z NOV 26 – 251030Z NOV 26)",
        "Испытательный пуск ракеты «Range 7»: 2 многоугольника, 6 вершин, 3000–3048 м (FL098–FL100), \
         2026-11-25 10:00Z – 2026-11-25 10:30Z (251000Z НОЯ 26 – 251030Z НОЯ 26)",
    );
}

#[test]
fn notice_life() {
    let (a, b) = (circle(), polygon());
    check(
        &texts::notice_amended("bravo", &b, 2),
        "bravo amended a notice (version 2): Naval exercise “Учения”: polygon, 5 vertices, SFC–UNL, \
         2026-11-25 11:00Z – 2026-11-26 11:00Z (251100Z NOV 26 – 261100Z NOV 26)",
        "Станция bravo изменила уведомление (версия 2): Военно-морские учения «Учения»: многоугольник, 5 вершин, \
         SFC–UNL, 2026-11-25 11:00Z – 2026-11-26 11:00Z (251100Z НОЯ 26 – 261100Z НОЯ 26)",
    );
    check(
        &texts::notice_expired("alpha", &a),
        "Notice “Sortie window A” of alpha expired at 2026-11-25 12:00Z (251200Z NOV 26).",
        "Уведомление «Sortie window A» станции alpha истекло 2026-11-25 12:00Z (251200Z НОЯ 26).",
    );
    check(
        &texts::notice_acknowledged("watch-officer", "bravo", &a, 1),
        "Notice “Sortie window A” (version 1) acknowledged by watch-officer at bravo.",
        "Уведомление «Sortie window A» (версия 1) подтверждено: watch-officer, станция bravo.",
    );
}

#[test]
fn conflicts_say_how_close_in_each_dimension() {
    let (a, b) = (circle(), polygon());
    check(
        &texts::conflict_raised(&a, "alpha", &b, "bravo", &closeness(0.0, 0.0, 0)),
        "Conflict between “Sortie window A” (alpha) and “Учения” (bravo): the areas overlap; \
         the altitude bands overlap; the time windows overlap.",
        "Конфликт между «Sortie window A» (alpha) и «Учения» (bravo): районы пересекаются; \
         диапазоны высот пересекаются; периоды пересекаются.",
    );
    // A gap that rounds to nothing is still a gap, not an overlap.
    check(
        &texts::conflict_raised(&a, "alpha", &b, "bravo", &closeness(20.0, 0.2, 20)),
        "Conflict between “Sortie window A” (alpha) and “Учения” (bravo): the areas are 0.1 km apart; \
         the altitude bands are 1 m apart; the time windows are 1 min apart.",
        "Конфликт между «Sortie window A» (alpha) и «Учения» (bravo): между районами 0.1 км; \
         между диапазонами высот 1 м; между периодами 1 мин.",
    );
}

#[test]
fn alarms_name_the_late_side() {
    check(
        &texts::alarm_watch_check_missed(Side::Peer, "bravo", 5),
        "Nobody at bravo answered our watch check within 5 min.",
        "На станции bravo никто не ответил на нашу проверку дежурства за 5 мин.",
    );
    check(
        &texts::alarm_ack_overdue(Side::Here, "bravo", "FLASH", 1, "m-1", 2),
        "FLASH message m-1 from bravo has waited 2 min for our acknowledgment.",
        "Сообщение m-1 (срочность МОЛНИЯ) от станции bravo ждёт нашего подтверждения уже 2 мин.",
    );
    check(
        &texts::alarm_ack_overdue(Side::Here, "bravo", "FLASH", 40, "m-1", 2),
        "40 FLASH messages from bravo have waited 2 min or more for our acknowledgment (the oldest: m-1).",
        "Сообщений (срочность МОЛНИЯ) от станции bravo, ждущих нашего подтверждения 2 мин и дольше: 40 (самое раннее: m-1).",
    );
    check(
        &texts::alarm_cleared(None, texts::alarm_line_down("bravo", 12)),
        "Alarm cleared, the cause has ended: The line to bravo has been down for 12 s.",
        "Тревога снята, причина устранена: Линия с bravo: нет связи уже 12 с.",
    );
}

#[test]
fn presence_counts_in_russian_plurals() {
    for (count, en, ru) in [
        (0, "bravo: nobody on watch", "bravo: на дежурстве никого"),
        (1, "bravo: 1 on watch", "bravo: на дежурстве 1 человек"),
        (3, "bravo: 3 on watch", "bravo: на дежурстве 3 человека"),
        (11, "bravo: 11 on watch", "bravo: на дежурстве 11 человек"),
        (21, "bravo: 21 on watch", "bravo: на дежурстве 21 человек"),
    ] {
        check(&texts::presence("bravo", count), en, ru);
    }
}

#[test]
fn escalation_email() {
    let alarm = texts::alarm_watch_check_missed(Side::Peer, "bravo", 5);
    check(
        &texts::escalation_subject("critical", "alpha", alarm.clone()),
        "[CRITICAL] alpha: Nobody at bravo answered our watch check within 5 min.",
        "[КРИТИЧНО] alpha: На станции bravo никто не ответил на нашу проверку дежурства за 5 мин.",
    );
    check(
        &texts::escalation_body("critical", "alpha", alarm, START_MS, 7, "https://alpha.example/"),
        "Alarm at station alpha (CRITICAL):\n\
         Nobody at bravo answered our watch check within 5 min.\n\
         \n\
         Raised 2026-11-24 15:30Z (241530Z NOV 26); not acknowledged after 7 min.\n\
         Acknowledge it in the console to stop the escalation: https://alpha.example/",
        "Тревога на станции alpha (КРИТИЧНО):\n\
         На станции bravo никто не ответил на нашу проверку дежурства за 5 мин.\n\
         \n\
         Поднята 2026-11-24 15:30Z (241530Z НОЯ 26); не подтверждена уже 7 мин.\n\
         Подтвердите её в консоли, чтобы остановить оповещение: https://alpha.example/",
    );
    // An unknown severity is shown as it is.
    let catalog = Catalog::new(&["en"]).expect("catalog");
    let subject = texts::escalation_subject("major", "alpha", texts::alarm_low_disk(10));
    assert_eq!(catalog.render_text(&subject), "[MAJOR] alpha: Low disk space: 10 MB free.");
}
