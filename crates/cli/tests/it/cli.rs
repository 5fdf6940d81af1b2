//! The command line's own contract: keys, config errors, file modes, clear refusals.

use crate::harness::{hotline, hotline_ok};

#[test]
fn init_writes_a_private_key_and_prints_the_verifier_key() {
    let base = tempfile::tempdir().expect("tempdir");
    let dir = base.path().join("alpha");
    let out = hotline_ok(&["init", dir.to_str().expect("path"), "--name", "alpha"], None);
    let key = out.split_whitespace().last().expect("key");
    let parts: Vec<&str> = key.splitn(3, '+').collect();
    assert_eq!(parts[0], "alpha", "{key}");
    assert!(parts[1].len() == 8 && parts[1].bytes().all(|b| b.is_ascii_hexdigit()), "{key}");
    assert_eq!(parts[2].len(), 44, "{key}"); // base64 of 33 bytes
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.join("station.key")).expect("key file").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let (ok, _, err) = hotline(&["init", dir.to_str().expect("path"), "--name", "alpha"], None);
    assert!(!ok && err.contains("already"), "{err}");
}

#[test]
fn bad_input_gets_one_clear_sentence_and_no_panic() {
    let base = tempfile::tempdir().expect("tempdir");
    let dir = base.path().join("alpha");
    let d = dir.to_str().expect("path");
    hotline_ok(&["init", d, "--name", "alpha"], None);
    let cases: Vec<(Vec<&str>, Option<&str>, &str)> = vec![
        (vec!["init", "/tmp/x-hotline-bad", "--name", "Bad Name"], None, "not allowed"),
        (vec!["line", "add", d, "--peer", "bravo", "--key", "garbage", "--addr", "127.0.0.1:1"], None, "verifier key"),
        (vec!["user", "add", d, "--name", "op", "--role", "operator"], Some("short\n"), "at least 8"),
        (vec!["token", "create", d, "--user", "nobody"], None, "no user"),
        (vec!["key", "/nonexistent/station"], None, "cannot read"),
    ];
    for (args, stdin, want) in cases {
        let (ok, _, err) = hotline(&args, stdin);
        assert!(!ok, "{args:?} succeeded");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "{args:?}: {err}");
    }
    // A hand-edited config with a mistake: the error names file, line and fix.
    std::fs::write(dir.join("station.toml"), "name = \"alpha\"\n[listen]\nhttp = \"nope\"\nline = \"127.0.0.1:1\"\n")
        .expect("write");
    let (ok, _, err) = hotline(&["serve", d], None);
    assert!(!ok);
    assert!(err.contains("station.toml:3:") && err.contains("Fix:"), "{err}");
}
