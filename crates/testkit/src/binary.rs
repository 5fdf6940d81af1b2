//! Which `hotline` binary runs, and running it to completion.
//!
//! Inside `crates/cli` the binary is `env!("CARGO_BIN_EXE_hotline")`; that variable exists
//! only in the crate that owns the binary, and a binary-only package cannot be a
//! dependency, so other crates either name a path ([`Binary::at`]) or have it built
//! ([`Binary::built`]).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use anyhow::{Context as _, bail};

/// The `hotline` binary under test.
#[derive(Clone, Debug)]
pub struct Binary {
    path: PathBuf,
}

/// What one finished `hotline` run printed, and whether it exited successfully.
#[derive(Clone, Debug)]
pub struct Ran {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Binary {
    /// The binary at `path`, as it is (nothing is built).
    pub fn at(path: impl Into<PathBuf>) -> Binary {
        Binary { path: path.into() }
    }

    /// `$HOTLINE_BIN` if set (as `scripts/test` sets it for the contract test); otherwise
    /// runs `cargo build --bins` in the workspace for the profile the calling executable
    /// was built with and uses `<target dir>/<profile>/hotline`.
    ///
    /// Building here, rather than trusting whatever binary lies in the target directory,
    /// means `cargo test -p hotline-faults` alone never tests a stale station. It is the
    /// very build `scripts/test` runs after `cargo test` (same command, so the same
    /// features and artifacts), so there it costs nothing extra: the later step finds
    /// everything built. (`cargo build -p hotline-cli` would resolve features differently
    /// from the workspace and rebuild the station.) The build runs once per process.
    pub fn built() -> anyhow::Result<Binary> {
        static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
        let path = BUILT.get_or_init(|| build().map_err(|e| format!("{e:#}")));
        match path {
            Ok(path) => Ok(Binary::at(path)),
            Err(e) => bail!("{e}"),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A command for the binary, for runs the helpers below do not cover (other
    /// environment variables, raw output).
    pub fn command(&self) -> Command {
        Command::new(&self.path)
    }

    /// Runs `hotline ARGS` to completion with `stdin` as its input. Fails only when the
    /// binary cannot be run at all; a failing exit is in [`Ran::success`].
    pub fn run(&self, args: &[&str], stdin: Option<&str>) -> anyhow::Result<Ran> {
        let mut child = self
            .command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot run {}", self.path.display()))?;
        if let Some(input) = stdin
            && let Some(pipe) = child.stdin.as_mut()
        {
            pipe.write_all(input.as_bytes()).with_context(|| format!("write the input of hotline {args:?}"))?;
        }
        // Closing stdin ends a prompt that reads it (a password), also without input.
        drop(child.stdin.take());
        let out = child.wait_with_output().with_context(|| format!("wait for hotline {args:?}"))?;
        Ok(Ran {
            success: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }

    /// Runs `hotline ARGS` and returns its stdout; a failing exit is an error carrying
    /// its stderr.
    pub fn run_ok(&self, args: &[&str], stdin: Option<&str>) -> anyhow::Result<String> {
        let ran = self.run(args, stdin)?;
        if !ran.success {
            bail!("hotline {args:?} failed: {}", ran.stderr.trim());
        }
        Ok(ran.stdout)
    }
}

fn build() -> anyhow::Result<PathBuf> {
    if let Some(bin) = std::env::var_os("HOTLINE_BIN") {
        return Ok(PathBuf::from(bin));
    }
    // A test executable is `<target dir>/<profile>/deps/NAME-HASH`, a binary
    // `<target dir>/<profile>/NAME`; either way the profile directory is an ancestor.
    let exe = std::env::current_exe().context("path of the running executable")?;
    let profile_dir = exe
        .ancestors()
        .skip(1)
        .find(|dir| dir.file_name().is_some_and(|n| n != "deps"))
        .with_context(|| format!("no target/<profile> directory above {}", exe.display()))?
        .to_owned();
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut build = Command::new(env!("CARGO"));
    build.args(["build", "--quiet", "--bins"]).current_dir(&workspace);
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        build.arg("--release");
    }
    let status = build.status().context("run cargo build for the hotline binary")?;
    if !status.success() {
        bail!("cargo build --bins failed (set HOTLINE_BIN to test a given binary)");
    }
    let bin = profile_dir.join("hotline");
    if !bin.exists() {
        bail!("{} does not exist after cargo build; set HOTLINE_BIN", bin.display());
    }
    Ok(bin)
}
