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

    /// The `./x.js` modules that the script at `path` imports.
    fn imports(path: &str) -> Vec<String> {
        let (text, _) = super::asset(path).unwrap_or_else(|| panic!("{path} is not in assets/"));
        let text = String::from_utf8_lossy(&text).into_owned();
        let dir = path.rsplit_once('/').map_or("", |(dir, _)| dir);
        text.lines()
            .filter(|l| l.starts_with("import ") || l.starts_with("} from "))
            .filter_map(|l| l.split(['"', '\'']).nth(1))
            .filter_map(|spec| spec.strip_prefix("./"))
            .map(|name| format!("{dir}/{name}"))
            .collect()
    }

    /// Every script of the console: app.js and what it imports, transitively.
    fn scripts() -> Vec<String> {
        let mut seen = vec!["js/app.js".to_owned()];
        let mut next = 0;
        while next < seen.len() {
            for module in imports(&seen[next].clone()) {
                if !seen.contains(&module) {
                    seen.push(module);
                }
            }
            next += 1;
        }
        seen
    }

    #[test]
    fn every_module_the_app_imports_is_embedded() {
        let scripts = scripts();
        for module in ["js/api.js", "js/sync.js", "js/session.js", "js/map.js"] {
            assert!(scripts.iter().any(|s| s == module), "app.js does not reach {module}");
        }
    }

    /// Issue #14.3: ids chosen by the peer end up in URLs, so only api.js spells an API
    /// path, and everything else builds one with `apiPath` (which encodes each segment).
    /// No script may set HTML from a string either.
    #[test]
    fn only_api_js_spells_api_paths_and_no_script_sets_html() {
        for path in scripts() {
            let (text, _) = super::asset(&path).expect("embedded");
            let text = String::from_utf8_lossy(&text);
            for (n, line) in text.lines().enumerate() {
                let code = line.trim_start();
                if code.starts_with("//") || code.starts_with('*') || code.starts_with("/*") {
                    continue;
                }
                if path != "js/api.js" {
                    for quote in ['"', '\'', '`'] {
                        assert!(
                            !code.contains(&format!("{quote}/api/")),
                            "{path}:{}: builds an API URL by hand; use apiPath: {line}",
                            n + 1
                        );
                    }
                }
                for sink in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"] {
                    assert!(!code.contains(sink), "{path}:{}: {sink}; set text with textContent: {line}", n + 1);
                }
            }
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
