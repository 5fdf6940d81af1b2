//! The operator console's files, embedded in the binary at build time.
//!
//! A watch center has no internet, so the console fetches nothing from anywhere but its
//! own station: every script, style, font and map layer is in `assets/` and compiled into
//! `hotline`. The station serves them; this crate only looks them up.

use std::borrow::Cow;

#[derive(rust_embed::Embed)]
#[folder = "assets/"]
struct Assets;

/// The file at `path` (relative, e.g. `index.html` or `js/app.js`) and its MIME type.
pub fn asset(path: &str) -> Option<(Cow<'static, [u8]>, &'static str)> {
    let path = if path.is_empty() { "index.html" } else { path };
    let file = Assets::get(path)?;
    Some((file.data, mime_for(path)))
}

fn mime_for(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "topojson" | "geojson" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "woff2" => "font/woff2",
        "ftl" | "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_index_page_is_embedded() {
        let (bytes, mime) = super::asset("").expect("index.html");
        assert!(mime.starts_with("text/html"));
        assert!(!bytes.is_empty());
        assert!(super::asset("../Cargo.toml").is_none());
    }

    #[test]
    fn every_file_the_page_loads_is_embedded() {
        let (index, _) = super::asset("index.html").expect("index.html");
        let index = String::from_utf8_lossy(&index).into_owned();
        let mut found = 0;
        for part in index.split(['"', '\'']) {
            if let Some(path) = part.strip_prefix('/').filter(|p| p.ends_with(".js") || p.ends_with(".css")) {
                assert!(super::asset(path).is_some(), "index.html loads /{path}, which is not in assets/");
                found += 1;
            }
        }
        assert!(found >= 6, "index.html should load the app, its styles and the vendored scripts");
        for path in ["vendor/countries-110m.json", "i18n/en.ftl", "i18n/ru.ftl", "js/map.js", "js/alerts.js"] {
            assert!(super::asset(path).is_some(), "{path} is missing from assets/");
        }
    }

    #[test]
    fn both_catalogs_have_the_same_messages() {
        let ids = |path: &str| -> Vec<String> {
            let (text, _) = super::asset(path).expect(path);
            let mut ids: Vec<String> = String::from_utf8_lossy(&text)
                .lines()
                .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
                .filter_map(|l| l.split_once(" =").map(|(id, _)| id.to_owned()))
                .collect();
            ids.sort();
            ids
        };
        assert_eq!(ids("i18n/en.ftl"), ids("i18n/ru.ftl"));
    }
}
