//! The catalogs themselves: both ship, load cleanly, hold the same station messages,
//! and render every one of them without a Fluent error (no missing argument, no broken
//! reference) in every language.

use std::collections::BTreeSet;

use hotline_i18n::{Catalog, LANGS, ids};

use crate::samples;

/// The `sys-` message ids defined in a catalog file, as written.
fn defined_ids(lang: &str) -> BTreeSet<String> {
    let path = format!("{}/../console/assets/i18n/{lang}.ftl", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("the console's catalog");
    text.lines()
        .filter(|l| l.starts_with("sys-"))
        .filter_map(|l| l.split_once(" =").map(|(id, _)| id.to_owned()))
        .collect()
}

#[test]
fn every_station_message_is_in_both_catalogs_and_listed() {
    let listed: BTreeSet<String> = ids::ALL.iter().map(|id| id.to_string()).collect();
    assert_eq!(listed.len(), ids::ALL.len(), "ids::ALL lists an id twice");
    let catalog = Catalog::new(&LANGS).expect("every shipped catalog loads");
    for lang in LANGS {
        assert_eq!(defined_ids(lang), listed, "the sys- messages of {lang}.ftl and ids::ALL differ");
        for id in ids::ALL {
            assert!(catalog.has_message(lang, id), "{lang} has no message {id}");
        }
    }
}

#[test]
fn every_station_message_renders_cleanly_in_every_language() {
    let catalog = Catalog::new(&LANGS).expect("catalogs");
    let samples = samples::all();
    let covered: BTreeSet<&str> = samples.iter().flat_map(|t| t.message_ids()).collect();
    let missing: Vec<&&str> = ids::ALL.iter().filter(|id| !covered.contains(**id)).collect();
    assert!(missing.is_empty(), "no sample text uses {missing:?}");
    for lang in LANGS {
        for text in &samples {
            let rendered =
                catalog.render_checked(lang, &text.id, &text.args).unwrap_or_else(|e| panic!("{}: {e}", text.id));
            assert!(!rendered.trim().is_empty(), "{lang} {}", text.id);
            assert!(!rendered.contains('{') && !rendered.contains("sys-"), "{lang} {}: {rendered}", text.id);
            // No Unicode isolation marks (FSI U+2068, PDI U+2069) in plain text.
            assert!(!rendered.contains(['\u{2068}', '\u{2069}']), "{lang} {}: {rendered:?}", text.id);
            println!("{lang} {}: {rendered}", text.id);
        }
    }
}

#[test]
fn the_first_language_leads_and_all_are_rendered() {
    let catalog = Catalog::new(&["ru", "en"]).expect("catalogs");
    let text = hotline_i18n::texts::presence("bravo", 2);
    assert_eq!(catalog.render_text(&text), "bravo: на дежурстве 2 человека");
    assert_eq!(
        catalog.render_text_all(&text),
        vec![
            ("ru".to_owned(), "bravo: на дежурстве 2 человека".to_owned()),
            ("en".to_owned(), "bravo: 2 on watch".to_owned())
        ]
    );
}
