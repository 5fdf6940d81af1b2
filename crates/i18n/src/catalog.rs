//! The catalogs: one Fluent bundle per configured language, built from the console's
//! own `.ftl` files (embedded at build time), and the rendering of a message in one or
//! all of them.
//!
//! The bundles are fluent-bundle's concurrent kind, so one [`Catalog`] is `Send + Sync`
//! and shared by every task of the station. Unicode isolation marks are off: these texts
//! go to plain-text places (the record, e-mail, webhooks, terminals) where the invisible
//! FSI/PDI characters around every argument would only get in the way of reading and
//! searching. Rendering never fails: a missing message or argument still gives a text
//! that carries the message id and every argument, so nothing the station meant to say
//! is lost; [`Catalog::render_checked`] reports such problems instead, for tests.

use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use unic_langid::LanguageIdentifier;

use crate::I18nError;
use crate::args::{Args, Text, Value};
use crate::format::{dtg_with, utc};

/// The languages the station ships, in the order the console offers them.
pub const LANGS: [&str; 2] = ["en", "ru"];

/// The catalog of `lang`: the console's file, the single source of truth for words.
fn source(lang: &str) -> Option<&'static str> {
    match lang {
        "en" => Some(include_str!("../../console/assets/i18n/en.ftl")),
        "ru" => Some(include_str!("../../console/assets/i18n/ru.ftl")),
        _ => None,
    }
}

/// One language: its bundle and its date-time group month abbreviations.
struct Language {
    code: String,
    bundle: FluentBundle<FluentResource>,
    months: Vec<String>,
}

impl Language {
    fn load(lang: &str) -> Result<Language, I18nError> {
        let source = source(lang).ok_or_else(|| I18nError::UnknownLanguage { lang: lang.to_owned() })?;
        let broken = |detail: String| I18nError::Catalog { lang: lang.to_owned(), detail };
        let resource = FluentResource::try_new(source.to_owned())
            .map_err(|(_, errors)| broken(format!("it does not parse: {errors:?}")))?;
        let id: LanguageIdentifier =
            lang.parse().map_err(|e| broken(format!("{lang:?} is not a language identifier: {e}")))?;
        let mut bundle = FluentBundle::new_concurrent(vec![id]);
        bundle.set_use_isolating(false);
        bundle.add_resource(resource).map_err(|errors| broken(format!("it does not load: {errors:?}")))?;
        let mut language = Language { code: lang.to_owned(), bundle, months: Vec::new() };
        let mut errors = Vec::new();
        let months = language.format("dtg-months", &Args::new(), &mut errors).unwrap_or_default();
        language.months = months.split_whitespace().map(str::to_owned).collect();
        if language.months.len() != 12 || !errors.is_empty() {
            return Err(broken(format!("dtg-months is {months:?}, not twelve month abbreviations")));
        }
        Ok(language)
    }

    /// Formats message `id` with `args`, collecting every problem in `errors`; `None`
    /// if there is no such message (or it has no value).
    fn format(&self, id: &str, args: &Args, errors: &mut Vec<String>) -> Option<String> {
        let Some(pattern) = self.bundle.get_message(id).and_then(|m| m.value()) else {
            errors.push(format!("no message {id:?}"));
            return None;
        };
        let mut fluent_args = FluentArgs::new();
        for (name, value) in &args.values {
            match value {
                Value::Str(s) => fluent_args.set(name.clone(), s.clone()),
                Value::Num(n) => fluent_args.set(name.clone(), *n),
                Value::Time(ms) => {
                    fluent_args.set(name.clone(), utc(*ms));
                    fluent_args.set(format!("{name}_dtg"), dtg_with(*ms, &self.months));
                }
                Value::Label(label) => {
                    let text = self.format(label, &Args::new(), errors).unwrap_or_else(|| label.clone());
                    fluent_args.set(name.clone(), text);
                }
                Value::Text(text) => {
                    let rendered =
                        self.format(&text.id, &text.args, errors).unwrap_or_else(|| fallback(&text.id, &text.args));
                    fluent_args.set(name.clone(), rendered);
                }
            }
        }
        let mut fluent_errors = Vec::new();
        let out = self.bundle.format_pattern(pattern, Some(&fluent_args), &mut fluent_errors).into_owned();
        errors.extend(fluent_errors.iter().map(|e| format!("{id}: {e}")));
        Some(out)
    }
}

/// What a text says when no catalog has its message: the id and every argument, so
/// that nothing is lost.
fn fallback(id: &str, args: &Args) -> String {
    let parts: Vec<String> = args
        .values
        .iter()
        .map(|(name, value)| {
            let shown = match value {
                Value::Str(s) => s.clone(),
                Value::Num(n) => n.to_string(),
                Value::Time(ms) => utc(*ms),
                Value::Label(label) => label.clone(),
                Value::Text(text) => fallback(&text.id, &text.args),
            };
            format!("{name}: {shown}")
        })
        .collect();
    if parts.is_empty() { id.to_owned() } else { format!("{id} ({})", parts.join("; ")) }
}

/// Month abbreviations of every shipped language, for [`crate::dtg`] without a catalog.
static MONTHS: LazyLock<Vec<(&'static str, Vec<String>)>> =
    LazyLock::new(|| LANGS.iter().filter_map(|lang| Some((*lang, Language::load(lang).ok()?.months))).collect());

/// The date-time group month abbreviations of `lang`, if it ships.
pub(crate) fn months(lang: &str) -> Option<&'static [String]> {
    MONTHS.iter().find(|(code, _)| *code == lang).map(|(_, months)| months.as_slice())
}

/// The station's languages, first one first: the station renders every system text in
/// each of them (the first is the one its own console and record lead with).
pub struct Catalog {
    langs: Vec<String>,
    languages: Vec<Language>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog").field("langs", &self.langs).finish_non_exhaustive()
    }
}

impl Catalog {
    /// The catalogs of `langs` (such as `["en"]` or `["ru", "en"]`), in that order. An
    /// empty list, a language listed twice or one the station does not ship is an error
    /// that names it.
    pub fn new<S: AsRef<str>>(langs: &[S]) -> Result<Catalog, I18nError> {
        if langs.is_empty() {
            return Err(I18nError::NoLanguage);
        }
        let mut languages: Vec<Language> = Vec::with_capacity(langs.len());
        for lang in langs {
            let lang = lang.as_ref();
            if languages.iter().any(|l| l.code == lang) {
                return Err(I18nError::DuplicateLanguage { lang: lang.to_owned() });
            }
            languages.push(Language::load(lang)?);
        }
        Ok(Catalog { langs: languages.iter().map(|l| l.code.clone()).collect(), languages })
    }

    /// The configured languages, first one first.
    pub fn langs(&self) -> &[String] {
        &self.langs
    }

    /// Message `id` in the first language. If that catalog lacks it, the next language
    /// that has it is used; if none has it, the id and arguments are shown as they are.
    pub fn render(&self, id: &str, args: &Args) -> String {
        self.languages
            .iter()
            .find_map(|language| language.format(id, args, &mut Vec::new()))
            .unwrap_or_else(|| fallback(id, args))
    }

    /// Message `id` in every configured language: `(language, text)`, in order.
    pub fn render_all(&self, id: &str, args: &Args) -> Vec<(String, String)> {
        self.languages
            .iter()
            .map(|language| {
                let text = language.format(id, args, &mut Vec::new()).unwrap_or_else(|| self.render(id, args));
                (language.code.clone(), text)
            })
            .collect()
    }

    /// [`Catalog::render`] of a [`Text`].
    pub fn render_text(&self, text: &Text) -> String {
        self.render(&text.id, &text.args)
    }

    /// [`Catalog::render_all`] of a [`Text`].
    pub fn render_text_all(&self, text: &Text) -> Vec<(String, String)> {
        self.render_all(&text.id, &text.args)
    }

    /// Message `id` in `lang` (a configured language), or what went wrong: the message
    /// or a nested one is missing, or an argument it uses was not given.
    pub fn render_checked(&self, lang: &str, id: &str, args: &Args) -> Result<String, I18nError> {
        let language = self
            .languages
            .iter()
            .find(|l| l.code == lang)
            .ok_or_else(|| I18nError::UnknownLanguage { lang: lang.to_owned() })?;
        let mut errors = Vec::new();
        let text = language.format(id, args, &mut errors);
        match (text, errors.is_empty()) {
            (Some(text), true) => Ok(text),
            (None, _) => Err(I18nError::MissingMessage { lang: lang.to_owned(), id: id.to_owned() }),
            (Some(_), false) => {
                Err(I18nError::Render { lang: lang.to_owned(), id: id.to_owned(), detail: errors.join("; ") })
            }
        }
    }

    /// Whether the catalog of `lang` (configured) has message `id`.
    pub fn has_message(&self, lang: &str, id: &str) -> bool {
        self.languages.iter().any(|l| l.code == lang && l.bundle.has_message(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_catalog_is_shared_between_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Catalog>();
    }

    #[test]
    fn languages_are_checked() {
        assert_eq!(Catalog::new(&["en"]).map(|c| c.langs().to_vec()), Ok(vec!["en".to_owned()]));
        let both = Catalog::new(&["ru".to_owned(), "en".to_owned()]).expect("ru, en");
        assert_eq!(both.langs(), ["ru", "en"]);
        let e = Catalog::new(&["en", "de"]).expect_err("no German");
        assert_eq!(e.to_string(), "there is no catalog for language \"de\"; the station ships en, ru");
        assert_eq!(Catalog::new::<&str>(&[]).expect_err("none"), I18nError::NoLanguage);
        assert!(matches!(Catalog::new(&["en", "en"]), Err(I18nError::DuplicateLanguage { .. })));
    }

    #[test]
    fn missing_messages_and_arguments_still_say_everything() {
        let catalog = Catalog::new(&["ru", "en"]).expect("catalog");
        let args = Args::new().str("peer", "bravo").num("seconds", 12.0);
        assert_eq!(catalog.render("sys-no-such", &args), "sys-no-such (peer: bravo; seconds: 12)");
        let text = catalog.render("sys-alarm-line_down", &Args::new());
        assert!(text.contains("{$peer}"), "{text}");
        let e = catalog.render_checked("en", "sys-alarm-line_down", &Args::new()).expect_err("missing args");
        assert!(e.to_string().contains("peer"), "{e}");
        assert!(matches!(catalog.render_checked("en", "sys-no-such", &args), Err(I18nError::MissingMessage { .. })));
    }

    #[test]
    fn no_isolation_marks() {
        let catalog = Catalog::new(&["en"]).expect("catalog");
        let text = catalog.render("sys-alarm-storage", &Args::new().str("detail", "disk full"));
        assert_eq!(text, "Storage error: disk full");
    }
}
