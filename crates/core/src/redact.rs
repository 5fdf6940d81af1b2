//! Secrets never in the record or the logs: what of a configured URL may be written down.
//!
//! A webhook URL often carries its own credentials — `https://user:token@host/...` or a
//! `?key=...` query — and the record is signed, exported to auditors and kept for good,
//! while logs go wherever the operator's log shipping sends them. So both keep only the
//! scheme, host, port and path of such a URL: enough to tell which target was notified,
//! never enough to notify it.

/// `url` with its userinfo, query and fragment removed (`scheme://host[:port]/path`);
/// a text that does not parse as a URL is not repeated at all.
pub fn redacted_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) => {
            // Both fail only for URLs that cannot have userinfo (`mailto:`), which then have none.
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.set_query(None);
            parsed.set_fragment(None);
            parsed.to_string()
        }
        Err(_) => "(a URL that does not parse)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_query_and_fragment_are_removed_host_port_and_path_kept() {
        assert_eq!(
            redacted_url("https://ops:s3cret@hooks.example:8443/alarm/in?token=abc&x=1#frag"),
            "https://hooks.example:8443/alarm/in"
        );
        assert_eq!(redacted_url("http://127.0.0.1:9000/hook"), "http://127.0.0.1:9000/hook");
        assert_eq!(redacted_url("https://user@[::1]/h?k=v"), "https://[::1]/h");
        assert!(!redacted_url("not a url ?secret=1").contains("secret"));
    }
}
