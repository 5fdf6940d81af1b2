//! Where the `hotline` binary under test is.
//!
//! `env!("CARGO_BIN_EXE_hotline")` exists only inside the crate that owns the binary, and a
//! binary-only package cannot be a dev-dependency, so this crate finds it itself:
//! `HOTLINE_BIN` if set (as `scripts/test` sets it for the contract test), else it runs
//! `cargo build --bins` in the workspace for the profile the tests were built with and
//! uses `<target dir>/<profile>/hotline`. Building here, rather than trusting whatever
//! binary lies in the target directory, means `cargo test -p hotline-faults` alone never
//! tests a stale station. It is the very build `scripts/test` runs after `cargo test`
//! (same command, so the same features and artifacts), so under `scripts/test` it costs
//! nothing extra: the later step finds everything built. (`cargo build -p hotline-cli`
//! would resolve features differently from the workspace and rebuild the station.)

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub fn hotline() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("HOTLINE_BIN") {
            return PathBuf::from(bin);
        }
        // The test executable is `<target dir>/<profile>/deps/it-HASH`.
        let exe = std::env::current_exe().expect("test executable path");
        let profile_dir = exe.parent().and_then(Path::parent).expect("target/<profile> directory").to_owned();
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut build = Command::new(env!("CARGO"));
        build.args(["build", "--quiet", "--bins"]).current_dir(&workspace);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            build.arg("--release");
        }
        let status = build.status().expect("run cargo build for the hotline binary");
        assert!(status.success(), "cargo build --bins failed (set HOTLINE_BIN to test a given binary)");
        let bin = profile_dir.join("hotline");
        assert!(bin.exists(), "{} does not exist after cargo build; set HOTLINE_BIN", bin.display());
        bin
    })
}
