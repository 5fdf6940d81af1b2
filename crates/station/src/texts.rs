//! System-generated texts: what an alarm says to the person it wakes.
//!
//! Every text the station writes for people (alarm texts, e-mail) goes through here, so
//! there is one place that chooses words and language.

use hotline_watch::{Cause, Direction};

/// The alarm's text in the station's language.
pub fn alarm_text(cause: &Cause, lang: &str) -> String {
    let ru = lang == "ru";
    match cause {
        Cause::LineDown { peer } if ru => format!("Линия с {peer} не работает"),
        Cause::LineDown { peer } => format!("The line to {peer} is down"),
        Cause::WatchCheckMissed { peer, direction: Direction::Out } if ru => {
            format!("{peer} не ответил на контрольный вызов в установленный срок")
        }
        Cause::WatchCheckMissed { peer, direction: Direction::Out } => {
            format!("{peer} did not answer our watch check in time")
        }
        Cause::WatchCheckMissed { peer, direction: Direction::In } if ru => {
            format!("Контрольный вызов от {peer} остался без ответа")
        }
        Cause::WatchCheckMissed { peer, direction: Direction::In } => {
            format!("Nobody here answered the watch check from {peer} in time")
        }
        Cause::AckOverdue { peer, message, precedence, direction: Direction::Out } if ru => {
            format!("{peer} не подтвердил сообщение {} {message} в срок", precedence.as_str())
        }
        Cause::AckOverdue { peer, message, precedence, direction: Direction::Out } => {
            format!("{peer} has not acknowledged {} message {message} in time", precedence.as_str())
        }
        Cause::AckOverdue { peer, message, precedence, direction: Direction::In } if ru => {
            format!("Сообщение {} {message} от {peer} не подтверждено в срок", precedence.as_str())
        }
        Cause::AckOverdue { peer, message, precedence, direction: Direction::In } => {
            format!("{} message {message} from {peer} is not acknowledged here in time", precedence.as_str())
        }
        Cause::PeerKeyMismatch { peer } if ru => format!("По адресу {peer} отвечает станция с другим ключом"),
        Cause::PeerKeyMismatch { peer } => format!("Something at {peer}'s address presented a key other than {peer}'s"),
        Cause::RecordFork { peer } if ru => format!("Журнал {peer} расходится с засвидетельствованным"),
        Cause::RecordFork { peer } => format!("The record of {peer} does not match what was witnessed"),
        Cause::Storage if ru => "Станция не может записывать на диск".to_owned(),
        Cause::Storage => "The station cannot write to its disk".to_owned(),
        Cause::LowDisk if ru => "Мало свободного места на диске станции".to_owned(),
        Cause::LowDisk => "The station's disk is nearly full".to_owned(),
        Cause::NobodyOnWatch { peer } if ru => format!("На станции {peer} никто не несёт дежурство"),
        Cause::NobodyOnWatch { peer } => format!("Nobody is on watch at {peer}"),
    }
}
