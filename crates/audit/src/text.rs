//! Making untrusted text safe to print.
//!
//! Bodies, authors and ids come from the stations' operators (and from the peer station),
//! and an auditor reads them in a terminal. A control character or escape sequence in a
//! message must not be able to move the cursor, recolour or hide lines of a summary or a
//! transcript, so every such string goes through [`clean`] before it is shown.

/// `text` with every control character (other than newline when `keep_newlines`) shown
/// as a `\u{..}` escape, and bidirectional overrides likewise, so that it prints as what
/// it is.
pub(crate) fn clean_with(text: &str, keep_newlines: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let bidi = matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
        if (c.is_control() && !(keep_newlines && c == '\n')) || bidi {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// `text` on one line, safe to print.
pub(crate) fn clean(text: &str) -> String {
    clean_with(text, false)
}

/// The first `chars` characters of `text`, with "…" when it was cut.
pub(crate) fn first_chars(text: &str, chars: usize) -> String {
    let mut cut: String = text.chars().take(chars).collect();
    if text.chars().nth(chars).is_some() {
        cut.push('…');
    }
    cut
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(clean("a\u{1b}[2Jb\nc"), "a\\u{1b}[2Jb\\u{a}c");
        assert_eq!(clean_with("a\nb\u{202e}", true), "a\nb\\u{202e}");
        assert_eq!(first_chars("абвгд", 3), "абв…");
        assert_eq!(first_chars("abc", 3), "abc");
    }
}
