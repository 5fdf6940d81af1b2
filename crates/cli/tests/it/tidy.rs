//! Tidy checks that keep the tree honest, run by plain `cargo test`: the protocol core
//! stays free of I/O (no tokio, no sockets, no clock), every module says what it is for,
//! and no debugging leftovers land.

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if path.is_dir() && !matches!(name, "target" | ".git" | "node_modules" | "fuzz") {
            rust_files(&path, out);
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

/// A sans-IO crate: no runtime, socket, store or station among its dependencies, and no
/// clock, socket, file or sleep in its source.
fn assert_sans_io(package: &str, dir: &str) {
    let root = workspace_root();
    let out = Command::new(env!("CARGO"))
        .args(["tree", "-p", package, "-e", "normal", "--prefix", "none", "--offline"])
        .current_dir(&root)
        .output()
        .expect("cargo tree");
    assert!(out.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
    let tree = String::from_utf8_lossy(&out.stdout);
    for forbidden in ["tokio", "mio", "socket2", "async-std", "rusqlite", "hotline-store", "hotline-station"] {
        assert!(
            !tree.lines().any(|l| l.starts_with(&format!("{forbidden} "))),
            "{package} depends on {forbidden}:\n{tree}"
        );
    }
    let mut files = Vec::new();
    rust_files(&root.join(dir), &mut files);
    assert!(!files.is_empty(), "no sources under {dir}");
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        for forbidden in ["Instant::now", "SystemTime::now", "std::net", "std::fs", "thread::sleep"] {
            assert!(
                !text.contains(forbidden),
                "{} uses {forbidden}: the core takes time and bytes as arguments",
                file.display()
            );
        }
    }
}

#[test]
fn the_protocol_core_depends_on_no_runtime_and_no_io() {
    assert_sans_io("hotline-proto", "crates/proto/src");
}

#[test]
fn the_watch_core_depends_on_no_runtime_and_no_io() {
    assert_sans_io("hotline-watch", "crates/watch/src");
}

#[test]
fn every_module_opens_with_a_doc_comment_and_no_leftovers() {
    let root = workspace_root();
    let mut files = Vec::new();
    rust_files(&root.join("crates"), &mut files);
    assert!(files.len() > 20);
    let mut problems = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read");
        if !text.starts_with("//!") {
            problems.push(format!("{}: does not open with a //! comment", file.display()));
        }
        let todo = ["todo", "!("].concat();
        let dbg = ["dbg", "!("].concat();
        for (n, line) in text.lines().enumerate() {
            if line.ends_with(' ') || line.ends_with('\t') {
                problems.push(format!("{}:{}: trailing whitespace", file.display(), n + 1));
            }
            if line.contains(&todo) || line.contains(&dbg) {
                problems.push(format!("{}:{}: debugging leftover", file.display(), n + 1));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The record has one writer: only `Core` (crates/station/src/core.rs) appends entries,
/// so a serving station's Merkle tree never meets an entry it did not append itself.
/// The store crate, which defines the call, and its tests are the only other callers.
#[test]
fn only_core_appends_to_the_record() {
    let root = workspace_root();
    let mut files = Vec::new();
    rust_files(&root.join("crates"), &mut files);
    let allowed = ["crates/station/src/core.rs", "crates/store/"];
    let needle = [".append", "_entry("].concat();
    let offenders: Vec<String> = files
        .iter()
        .filter(|f| {
            let rel = f.strip_prefix(&root).unwrap_or(f).to_string_lossy().into_owned();
            !allowed.iter().any(|a| rel.starts_with(a))
        })
        .filter(|f| std::fs::read_to_string(f).is_ok_and(|t| t.contains(&needle)))
        .map(|f| f.display().to_string())
        .collect();
    assert!(offenders.is_empty(), "append to the record only through Core::write (Journal::append): {offenders:?}");
}
