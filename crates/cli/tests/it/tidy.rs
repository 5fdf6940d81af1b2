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
/// clock, socket, file, sleep or entropy source in its source.
fn assert_sans_io(package: &str, dir: &str) {
    let root = workspace_root();
    let out = Command::new(env!("CARGO"))
        .args(["tree", "-p", package, "-e", "normal", "--prefix", "none", "--offline"])
        .current_dir(&root)
        .output()
        .expect("cargo tree");
    assert!(out.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
    let tree = String::from_utf8_lossy(&out.stdout);
    for forbidden in [
        "tokio",
        "mio",
        "socket2",
        "async-std",
        "rusqlite",
        "hotline-store",
        "hotline-core",
        "hotline-line",
        "hotline-http",
        "hotline-station",
    ] {
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
        // Randomness is an argument too (the caller's rng), so a seed replays exactly.
        for forbidden in [
            "Instant::now",
            "SystemTime::now",
            "std::net",
            "std::fs",
            "thread::sleep",
            "rand::rng(",
            "thread_rng",
            "OsRng",
        ] {
            assert!(
                !text.contains(forbidden),
                "{} uses {forbidden}: the core takes time, randomness and bytes as arguments",
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
fn the_call_core_depends_on_no_runtime_and_no_io() {
    assert_sans_io("hotline-call", "crates/call/src");
}

/// The record, the notice geometry and the auditor are pure functions of their input:
/// the auditor in particular must judge an export file without touching anything else.
#[test]
fn record_notice_audit_and_items_depend_on_no_runtime_and_no_io() {
    assert_sans_io("hotline-record", "crates/record/src");
    assert_sans_io("hotline-notice", "crates/notice/src");
    assert_sans_io("hotline-audit", "crates/audit/src");
    assert_sans_io("hotline-item", "crates/item/src");
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

/// The record has one writer: only `Core` (crates/core/src/core.rs) appends entries,
/// so a serving station's Merkle tree never meets an entry it did not append itself.
/// The store crate, which defines the call, and its tests are the only other callers.
#[test]
fn only_core_appends_to_the_record() {
    let root = workspace_root();
    let mut files = Vec::new();
    rust_files(&root.join("crates"), &mut files);
    let allowed = ["crates/core/src/core.rs", "crates/store/"];
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

/// A crate's module graph from its source (`dir`, e.g. `crates/line/src`): for each
/// module (file), the modules its code names through `crate::…` and `super::…` paths
/// (comments ignored).
fn module_graph(dir: &str) -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    use std::collections::{BTreeMap, BTreeSet};
    let src = workspace_root().join(dir);
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let module_of = |file: &Path| -> String {
        let rel = file.strip_prefix(&src).unwrap_or(file).with_extension("");
        let parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
        let parts: Vec<&str> = parts.iter().map(String::as_str).filter(|p| *p != "mod" && *p != "lib").collect();
        parts.join("::")
    };
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(f)).collect();
    let resolve = |path: &str| -> Option<String> {
        let segments: Vec<&str> = path.split("::").collect();
        (1..=segments.len()).rev().map(|n| segments[..n].join("::")).find(|m| modules.contains(m))
    };
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let module = module_of(file);
        let parent = module.rsplit_once("::").map_or(String::new(), |(p, _)| p.to_owned());
        let text = std::fs::read_to_string(file).expect("read");
        let code: String = text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n");
        let mut targets = BTreeSet::new();
        for (prefix, base) in [("crate::", String::new()), ("super::", parent.clone())] {
            for (at, _) in code.match_indices(prefix) {
                let rest = &code[at + prefix.len()..];
                let path: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
                let full = if base.is_empty() { path.clone() } else { format!("{base}::{path}") };
                if let Some(target) = resolve(full.trim_end_matches(':')) {
                    targets.insert(target);
                }
            }
        }
        graph.entry(module).or_default().extend(targets);
    }
    graph
}

/// A cycle in `graph`, if any, as the list of its nodes.
fn find_cycle(graph: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut std::collections::BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            return Some(stack[at..].to_vec());
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = std::collections::BTreeSet::new();
    graph.keys().find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

/// The station's floors, bottom first: each may use the ones below it and none above
/// (Cargo refuses a circle between crates; this keeps the direction).
const STATION_FLOORS: [&str; 6] =
    ["hotline-item", "hotline-core", "hotline-line", "hotline-callmedia", "hotline-http", "hotline-station"];

/// The station's floors stand in order: `hotline-item` needs no other floor,
/// `hotline-core` only the items, the line tasks never the HTTP API.
#[test]
fn the_station_floors_depend_downwards_only() {
    let root = workspace_root();
    for (at, floor) in STATION_FLOORS.iter().enumerate() {
        let out = Command::new(env!("CARGO"))
            .args(["tree", "-p", floor, "-e", "normal", "--prefix", "none", "--offline"])
            .current_dir(&root)
            .output()
            .expect("cargo tree");
        assert!(out.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
        let tree = String::from_utf8_lossy(&out.stdout);
        for above in &STATION_FLOORS[at + 1..] {
            assert!(
                !tree.lines().any(|l| l.starts_with(&format!("{above} "))),
                "{floor} depends on {above}, a floor above it:\n{tree}"
            );
        }
    }
}

/// No import circle inside any floor of the station: between its rooms (top-level
/// modules: `admin`, `core`, `connection`, `guard`, …) and between the files of one room.
/// A room's own `mod.rs` and its files may name each other (a parent declares its
/// children; children share its types). Checked with `module_graph`, which reads the
/// `crate::` and `super::` paths of every file.
#[test]
fn the_station_has_no_import_circle() {
    use std::collections::{BTreeMap, BTreeSet};
    let mut seen = 0;
    for dir in [
        "crates/item/src",
        "crates/core/src",
        "crates/line/src",
        "crates/callmedia/src",
        "crates/http/src",
        "crates/station/src",
    ] {
        let graph = module_graph(dir);
        assert!(!graph.is_empty(), "no modules found under {dir}");
        seen += graph.len();
        let room = |m: &str| m.split("::").next().unwrap_or("").to_owned();
        let mut rooms: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut inside: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (from, targets) in &graph {
            for to in targets {
                if from.is_empty() || to.is_empty() {
                    continue; // the crate root declares every room
                }
                if room(from) != room(to) {
                    rooms.entry(room(from)).or_default().insert(room(to));
                } else if from.contains("::") && to.contains("::") && from != to {
                    inside.entry(from.clone()).or_default().insert(to.clone());
                }
            }
        }
        assert_eq!(find_cycle(&rooms), None, "an import circle between the rooms of {dir}");
        assert_eq!(find_cycle(&inside), None, "an import circle inside one of the rooms of {dir}");
    }
    assert!(seen > 50, "the station's modules were not found ({seen})");
}

/// The record's kinds have one home, `hotline_station::entry_kind::EntryKind`: the list in
/// docs/record-format.md ("Every kind") is the same set, and the console follows only
/// kinds that exist (it once subscribed to `record.checkpoint`, which nothing wrote).
#[test]
fn record_kinds_in_code_docs_and_console_agree() {
    use std::collections::BTreeSet;
    let root = workspace_root();
    let code: BTreeSet<String> =
        hotline_station::entry_kind::EntryKind::ALL.iter().map(|k| k.as_str().to_owned()).collect();
    let docs = std::fs::read_to_string(root.join("docs/record-format.md")).expect("docs");
    let section = docs.split("### Every kind").nth(1).expect("an \"Every kind\" section");
    let section = section.split("\n#").next().unwrap_or(section);
    let documented: BTreeSet<String> = section
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- `").and_then(|l| l.split('`').next()))
        .map(str::to_owned)
        .collect();
    assert_eq!(code, documented, "docs/record-format.md's \"Every kind\" differs from EntryKind");
    let sync = std::fs::read_to_string(root.join("crates/console/assets/js/sync.js")).expect("sync.js");
    let list = sync.split("FOLLOWED_KINDS").nth(1).and_then(|s| s.split(']').next()).expect("FOLLOWED_KINDS");
    let followed: BTreeSet<String> = list.split('"').skip(1).step_by(2).map(str::to_owned).collect();
    assert!(followed.len() > 10, "FOLLOWED_KINDS not read: {followed:?}");
    let unknown: Vec<&String> = followed.difference(&code).collect();
    assert!(unknown.is_empty(), "the console follows kinds no one writes: {unknown:?}");
}
