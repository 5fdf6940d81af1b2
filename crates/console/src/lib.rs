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
        "ftl" => "text/plain; charset=utf-8",
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
}
