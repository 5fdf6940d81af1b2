//! Every text the station writes for people — notice summaries, conflict alerts, alarms,
//! watch checks, presence, escalation e-mail — rendered from Fluent catalogs, so that
//! each station speaks its own language(s) and a translation is a catalog edit, not a
//! code change.
//!
//! There is one catalog per language, and it is the console's: the station embeds
//! `crates/console/assets/i18n/{en,ru}.ftl`, the same files it serves to the browser, so
//! a word means the same thing on the screen and in an e-mail. The station's own
//! messages are the `sys-` section of those files ([`ids`] lists them).
//!
//! The shape: build a [`Text`] (a message id and its [`Args`]) with the typed helpers
//! in [`texts`], or by hand, and render it with a [`Catalog`] in the station's first
//! language ([`Catalog::render`]) or in every configured one ([`Catalog::render_all`]),
//! for the record and the peer. Arguments that depend on the language — times (shown in
//! UTC and as a date-time group), kind and precedence labels, nested texts — are
//! resolved per language at render time. [`format`] holds the language-neutral pieces:
//! date-time groups, flight levels, altitude bands, positions.
//!
//! Pure: no I/O, no clock; times are arguments.

mod args;
mod catalog;
pub mod format;
pub mod ids;
pub mod texts;

pub use args::{Args, Text};
pub use catalog::{Catalog, LANGS};
pub use format::{altitude, dtg, flight_level, flight_level_floor, utc};

/// Why a catalog could not be built or a text not rendered cleanly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum I18nError {
    /// A configured language has no catalog.
    #[error("there is no catalog for language {lang:?}; the station ships {}", LANGS.join(", "))]
    UnknownLanguage { lang: String },
    /// No language was configured.
    #[error("no language is configured; the station ships {}", LANGS.join(", "))]
    NoLanguage,
    /// A language was configured twice.
    #[error("language {lang:?} is configured twice")]
    DuplicateLanguage { lang: String },
    /// An embedded catalog does not parse or load (a broken build, caught by the tests).
    #[error("the {lang} catalog is broken: {detail}")]
    Catalog { lang: String, detail: String },
    /// The message is not in the catalog of `lang`.
    #[error("the {lang} catalog has no message {id:?}")]
    MissingMessage { lang: String, id: String },
    /// The message rendered with Fluent errors (an argument missing, a reference broken).
    #[error("message {id:?} in {lang}: {detail}")]
    Render { lang: String, id: String, detail: String },
}
