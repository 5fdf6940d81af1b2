//! Two hosts in network namespaces made by the test, joined by two separate paths, and
//! the nftables rules that cut, partition or thin those paths.
//!
//! ```text
//!   ns A (alpha)                                  ns B (bravo)
//!   pri 198.51.100.1/24  <── veth "pri" ──>  pri 198.51.100.2/24   primary path
//!   bak 203.0.113.1/24   <── veth "bak" ──>  bak 203.0.113.2/24    backup path
//! ```
//!
//! The veth ends are created directly inside the namespaces, so their names never meet in
//! the machine's own namespace and parallel tests can all use "pri" and "bak". The
//! addresses exist only inside the namespaces (the machine's own interface uses
//! 192.0.2.0/24, which is never touched). [`Net`]'s `Drop` deletes both namespaces, which
//! removes the veth pairs and every nftables table in them, also when a test panics.

use std::ffi::CString;
use std::io::Write as _;
use std::os::fd::AsRawFd as _;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

/// The primary path's addresses (alpha, bravo).
pub const PRIMARY: (&str, &str) = ("198.51.100.1", "198.51.100.2");
/// The backup path's addresses (alpha, bravo).
pub const BACKUP: (&str, &str) = ("203.0.113.1", "203.0.113.2");

/// One of the two paths between the namespaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path {
    Primary,
    Backup,
}

impl Path {
    fn device(self) -> &'static str {
        match self {
            Path::Primary => "pri",
            Path::Backup => "bak",
        }
    }
}

/// Two namespaces `a` (alpha's host) and `b` (bravo's host), deleted on drop.
pub struct Net {
    pub a: String,
    pub b: String,
}

static NEXT_NET: AtomicU32 = AtomicU32::new(0);

/// Runs a command; returns its stderr as the error when it fails.
fn run(program: &str, args: &[&str]) -> Result<(), String> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("`{program} {}` failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

impl Net {
    /// Creates the two hosts and both paths, or says why it cannot (no root, no `ip`, no
    /// `nft`, no namespace support, or `HOTLINE_FAULTS_LOOPBACK=1` to try the fallback).
    pub fn create() -> Result<Net, String> {
        if std::env::var_os("HOTLINE_FAULTS_LOOPBACK").is_some_and(|v| v != "0") {
            return Err("HOTLINE_FAULTS_LOOPBACK is set".into());
        }
        Command::new("nft").arg("--version").output().map_err(|e| format!("nft is not installed ({e})"))?;
        let n = NEXT_NET.fetch_add(1, Ordering::Relaxed);
        let pid = std::process::id();
        let net = Net { a: format!("hlf{pid}n{n}a"), b: format!("hlf{pid}n{n}b") };
        // From here on, Drop cleans up whatever was made.
        run("ip", &["netns", "add", &net.a])?;
        run("ip", &["netns", "add", &net.b])?;
        for (dev, (addr_a, addr_b)) in [("pri", PRIMARY), ("bak", BACKUP)] {
            run("ip", &["link", "add", dev, "netns", &net.a, "type", "veth", "peer", "name", dev, "netns", &net.b])?;
            run("ip", &["-n", &net.a, "addr", "add", &format!("{addr_a}/24"), "dev", dev])?;
            run("ip", &["-n", &net.b, "addr", "add", &format!("{addr_b}/24"), "dev", dev])?;
            run("ip", &["-n", &net.a, "link", "set", dev, "up"])?;
            run("ip", &["-n", &net.b, "link", "set", dev, "up"])?;
        }
        run("ip", &["-n", &net.a, "link", "set", "lo", "up"])?;
        run("ip", &["-n", &net.b, "link", "set", "lo", "up"])?;
        net.nft_both("table inet probe {}\ndelete table inet probe\n")?;
        Ok(net)
    }

    /// Creates the hosts, or prints why not and what runs instead, and returns `None`.
    pub fn create_or_explain(scenario: &str, instead: &str) -> Option<Net> {
        match Net::create() {
            Ok(net) => Some(net),
            Err(reason) => {
                println!("FAULTS {scenario}: network namespaces unavailable ({reason}); {instead}");
                None
            }
        }
    }

    fn nft(&self, ns: &str, script: &str) -> Result<(), String> {
        let mut child = Command::new("ip")
            .args(["netns", "exec", ns, "nft", "-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run nft: {e}"))?;
        child.stdin.take().expect("stdin").write_all(script.as_bytes()).map_err(|e| e.to_string())?;
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!("nft in {ns} refused:\n{script}\n{}", String::from_utf8_lossy(&out.stderr)))
        }
    }

    fn nft_both(&self, script: &str) -> Result<(), String> {
        self.nft(&self.a, script)?;
        self.nft(&self.b, script)
    }

    /// Cuts `path` silently: a netdev ingress chain with policy drop on both ends of the
    /// veth, so every packet vanishes and neither side gets a reset or an ICMP error.
    pub fn cut(&self, path: Path) {
        let dev = path.device();
        let script = format!(
            "table netdev cut_{dev} {{\n  chain drop_all {{\n    type filter hook ingress device \"{dev}\" priority 0; policy drop;\n  }}\n}}\n"
        );
        self.nft_both(&script).unwrap_or_else(|e| panic!("cut {path:?}: {e}"));
    }

    /// Undoes [`Net::cut`].
    pub fn heal(&self, path: Path) {
        let script = format!("delete table netdev cut_{}\n", path.device());
        self.nft_both(&script).unwrap_or_else(|e| panic!("heal {path:?}: {e}"));
    }

    /// Drops `percent` % of the packets each host sends on either path, at random.
    pub fn lose(&self, percent: u32) {
        let script = format!(
            "table inet loss {{\n  chain out {{\n    type filter hook output priority 0; policy accept;\n    oifname {{ \"pri\", \"bak\" }} numgen random mod 100 < {percent} counter drop\n  }}\n}}\n"
        );
        self.nft_both(&script).unwrap_or_else(|e| panic!("loss: {e}"));
    }

    /// Packets [`Net::lose`] has dropped so far, both hosts together (its rule's counter).
    pub fn packets_dropped(&self) -> u64 {
        let mut total = 0;
        for ns in [&self.a, &self.b] {
            let out = Command::new("ip").args(["netns", "exec", ns, "nft", "list", "table", "inet", "loss"]).output();
            let text = out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
            let mut words = text.split_whitespace();
            while let Some(w) = words.next() {
                if w == "packets" {
                    total += words.next().and_then(|n| n.parse::<u64>().ok()).unwrap_or(0);
                }
            }
        }
        total
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        // Processes still inside keep a namespace alive; the stations are dropped (killed)
        // before the Net in every test, and deleting the names is all that is left.
        for ns in [&self.a, &self.b] {
            let _ = run("ip", &["netns", "del", ns]);
        }
    }
}

/// Moves the calling thread into network namespace `ns` (threads have their own network
/// namespace in Linux; sockets keep the one they were made in).
pub fn enter(ns: &str) -> std::io::Result<()> {
    let path = format!("/var/run/netns/{ns}");
    let file = std::fs::File::open(&path)?;
    // SAFETY: setns with a valid namespace fd only changes this thread's namespace.
    let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Runs `f` on a thread inside `ns` (or on the caller's thread when `ns` is `None`).
pub fn in_ns<T: Send>(ns: Option<&str>, f: impl FnOnce() -> T + Send) -> T {
    match ns {
        None => f(),
        Some(ns) => std::thread::scope(|s| {
            s.spawn(|| {
                enter(ns).unwrap_or_else(|e| panic!("cannot enter network namespace {ns}: {e}"));
                f()
            })
            .join()
            .expect("thread in namespace panicked")
        }),
    }
}

/// The path of a namespace, for a child process's `pre_exec`.
pub fn ns_path(ns: &str) -> CString {
    CString::new(format!("/var/run/netns/{ns}")).expect("no NUL in a namespace name")
}
