//! The `hotline` binary: parses the command line and hands each command to
//! `hotline-station`. Errors become one sentence on stderr and a non-zero exit code;
//! nothing here panics on user input.

use std::io::Read as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};
use hotline_station::admin::socket::Request;
use hotline_station::{admin, backup, client, demo, export, serve};

mod recordings;

#[derive(Parser)]
#[command(
    name = "hotline",
    version,
    about = "A deconfliction hotline: one station of an authenticated, recorded line between two organizations."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a new station in DIR and print its public key.
    Init {
        dir: PathBuf,
        #[arg(long)]
        name: String,
        /// Console and API address.
        #[arg(long, default_value = "127.0.0.1:8470")]
        http: SocketAddr,
        /// Address peers dial.
        #[arg(long, default_value = "0.0.0.0:8471")]
        line: SocketAddr,
        #[arg(long, default_value = "en")]
        lang: String,
    },
    /// Print the station's public key (verifier key, last line).
    Key { dir: PathBuf },
    /// Manage lines to peer stations.
    Line {
        #[command(subcommand)]
        command: LineCommand,
    },
    /// Manage operators.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// The station's record, for auditors.
    Log {
        #[command(subcommand)]
        command: LogCommand,
    },
    /// Check an exported record (and, given a second, the two records against each other).
    Verify {
        file: PathBuf,
        peer_file: Option<PathBuf>,
        /// FILE's station's call recordings (`hotline log export --recordings`): each is
        /// checked against the SHA-256 and size its record states; a missing or changed
        /// file fails the verification.
        #[arg(long)]
        recordings: Option<PathBuf>,
        /// PEER_FILE's station's recordings: checked the same way, and where the two
        /// stations' recordings of a call differ, the first difference in call time.
        #[arg(long, requires = "peer_file")]
        peer_recordings: Option<PathBuf>,
    },
    /// The conversation in an exported record, in order, human-readable.
    Transcript {
        file: PathBuf,
        /// Only the line to this peer.
        #[arg(long)]
        line: Option<String>,
    },
    /// Planned activities on a line.
    Notice {
        #[command(subcommand)]
        command: NoticeCommand,
    },
    /// Copy a station (database, station.toml, station.key) into one archive, also while
    /// it serves. The archive holds the secret key: it is written with mode 0600.
    Backup {
        dir: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// Unpack a backup archive into DIR (new or empty), checking every part's SHA-256.
    Restore { file: PathBuf, dir: PathBuf },
    /// Run the station until SIGINT or SIGTERM.
    Serve { dir: PathBuf },
    /// Two linked stations, alpha and bravo, on loopback.
    Demo {
        /// Keep the stations here (reused on the next run).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Send a message through a station's API (token in HOTLINE_TOKEN).
    Send {
        #[arg(long)]
        url: String,
        /// Peer station name.
        #[arg(long)]
        line: String,
        /// ROUTINE, PRIORITY, IMMEDIATE or FLASH.
        #[arg(long)]
        precedence: Option<String>,
        /// Language tag of the text (default: the station's language).
        #[arg(long)]
        lang: Option<String>,
        /// Wait until the message is `delivered` or `acknowledged`.
        #[arg(long, value_parser = ["sent", "delivered", "acknowledged"])]
        wait: Option<String>,
        /// Give up waiting after this many seconds.
        #[arg(long, default_value_t = 120)]
        wait_seconds: u64,
        text: String,
    },
}

#[derive(Subcommand)]
enum LineCommand {
    /// Add a line to a peer: its name, pinned key and addresses (primary first). A serving
    /// station starts it at once; prints the line's safety number.
    Add {
        dir: PathBuf,
        #[arg(long)]
        peer: String,
        #[arg(long)]
        key: String,
        #[arg(long = "addr", required = true)]
        addrs: Vec<String>,
        /// Default 500.
        #[arg(long)]
        heartbeat_interval_ms: Option<u64>,
        /// Default 5000.
        #[arg(long)]
        reconnect_backoff_max_ms: Option<u64>,
    },
    /// List the lines (peer, state, addresses, safety number).
    List { dir: PathBuf },
    /// Change a line's addresses or options (its key stays: remove and add to change it).
    Change {
        dir: PathBuf,
        #[arg(long)]
        peer: String,
        /// The new addresses, primary first (all of them).
        #[arg(long = "addr")]
        addrs: Vec<String>,
        #[arg(long)]
        heartbeat_interval_ms: Option<u64>,
        #[arg(long)]
        reconnect_backoff_max_ms: Option<u64>,
    },
    /// Remove a line: it closes at once; its history stays in the record.
    Remove {
        dir: PathBuf,
        #[arg(long)]
        peer: String,
    },
}

#[derive(Subcommand)]
enum NoticeCommand {
    /// File a notice through a station's API (token in HOTLINE_TOKEN). FILE is a GeoJSON
    /// geometry (Polygon, MultiPolygon, or Point with radius_m), a Feature whose
    /// properties hold the other fields, or a whole notice; flags override the file.
    File {
        #[arg(long)]
        url: String,
        /// Peer station name.
        #[arg(long)]
        line: String,
        file: PathBuf,
        /// air_operations, missile_test, naval_exercise, airspace_closure, ground_operations, other.
        #[arg(long)]
        kind: Option<String>,
        /// Start, RFC 3339 UTC (e.g. 2026-11-25T10:00:00Z).
        #[arg(long)]
        start: Option<String>,
        /// End, RFC 3339 UTC.
        #[arg(long)]
        end: Option<String>,
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        remarks: Option<String>,
        #[arg(long)]
        lang: Option<String>,
        /// Lowest altitude, metres.
        #[arg(long)]
        min_m: Option<f64>,
        /// Highest altitude, metres.
        #[arg(long)]
        max_m: Option<f64>,
    },
}

#[derive(Subcommand)]
enum LogCommand {
    /// Write the whole record (entries, checkpoints, cosignatures, keys) to FILE.
    Export {
        dir: PathBuf,
        #[arg(long)]
        out: PathBuf,
        /// Also copy every sealed call recording into this directory (`<call-id>.opus`),
        /// for `hotline verify --recordings`.
        #[arg(long)]
        recordings: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add an operator; the password is read from stdin.
    Add {
        dir: PathBuf,
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = ["operator", "supervisor", "auditor"])]
        role: String,
    },
    /// List the station's users (name, role, active or disabled, last login).
    List { dir: PathBuf },
    /// Disable a user: its sessions and tokens end at once.
    Disable {
        dir: PathBuf,
        #[arg(long)]
        name: String,
    },
    /// Enable a disabled user (it needs a new token or login).
    Enable {
        dir: PathBuf,
        #[arg(long)]
        name: String,
    },
    /// Remove a user: its sessions and tokens end; its name stays in the record.
    Remove {
        dir: PathBuf,
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token for a user; printed once.
    Create {
        dir: PathBuf,
        #[arg(long)]
        user: String,
    },
    /// List live tokens (id, user, label, created, expires): never their secrets.
    List { dir: PathBuf },
    /// Revoke a token by its id (from `token list`): the next request with it gets 401.
    Revoke {
        dir: PathBuf,
        #[arg(long)]
        id: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hotline: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn read_export(file: &std::path::Path) -> anyhow::Result<hotline_audit::Export> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    hotline_audit::parse_export(&bytes).with_context(|| format!("{} is not a hotline record export", file.display()))
}

/// `hotline verify`: each record on its own, then the two against each other, then the
/// recordings beside them. Every problem is printed before the command fails.
fn verify(
    file: &std::path::Path,
    peer_file: Option<&std::path::Path>,
    recordings: Option<&std::path::Path>,
    peer_recordings: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let export = read_export(file)?;
    let summary = hotline_audit::verify(&export).with_context(|| format!("{} does not verify", file.display()))?;
    println!("{}", summary.render());
    let mut failures = 0;
    let mut check = |export: &hotline_audit::Export, dir: &std::path::Path| -> anyhow::Result<()> {
        let stated = hotline_audit::recordings(export)?;
        let checked = recordings::check_files(&export.station, &stated, dir);
        failures += checked.failures;
        print_lines(checked.lines);
        Ok(())
    };
    if let Some(dir) = recordings {
        check(&export, dir)?;
    }
    if let Some(peer_file) = peer_file {
        let peer = read_export(peer_file)?;
        let peer_summary =
            hotline_audit::verify(&peer).with_context(|| format!("{} does not verify", peer_file.display()))?;
        println!("{}", peer_summary.render());
        let report = hotline_audit::cross_check(&export, &peer)
            .with_context(|| format!("{} and {} disagree", file.display(), peer_file.display()))?;
        println!("{}", report.render());
        if let Some(dir) = peer_recordings {
            check(&peer, dir)?;
        }
        if let (Some(a), Some(b)) = (recordings, peer_recordings) {
            print_lines(recordings::locate_differences(&report.recordings, a, b));
        }
    }
    if failures > 0 {
        bail!("{failures} call recording(s) missing or not as the record states");
    }
    Ok(())
}

fn print_lines(lines: Vec<String>) {
    for line in lines {
        println!("{line}");
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("HOTLINE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colour only on a terminal: logs written to a file stay plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr).init();
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Init { dir, name, http, line, lang } => {
            let key = admin::init(&dir, &admin::InitOptions { name, http, line, lang })?;
            println!("station created in {}", dir.display());
            println!("public key (give it to the peer station for `hotline line add --key`):");
            println!("{key}");
        }
        Command::Key { dir } => {
            let key = admin::key(&dir)?;
            // The verifier key stays the last line: scripts read it.
            println!("fingerprint: {}", key.fingerprint_digits());
            println!("{key}");
        }
        Command::Line {
            command: LineCommand::Add { dir, peer, key, addrs, heartbeat_interval_ms, reconnect_backoff_max_ms },
        } => {
            let request = Request::LineAdd { peer, key, addrs, heartbeat_interval_ms, reconnect_backoff_max_ms };
            print_lines(admin::run(&dir, request)?);
        }
        Command::Line { command: LineCommand::List { dir } } => print_lines(admin::run(&dir, Request::LineList)?),
        Command::Line {
            command: LineCommand::Change { dir, peer, addrs, heartbeat_interval_ms, reconnect_backoff_max_ms },
        } => {
            let addrs = (!addrs.is_empty()).then_some(addrs);
            let request = Request::LineChange { peer, addrs, heartbeat_interval_ms, reconnect_backoff_max_ms };
            print_lines(admin::run(&dir, request)?);
        }
        Command::Line { command: LineCommand::Remove { dir, peer } } => {
            print_lines(admin::run(&dir, Request::LineRemove { peer })?)
        }
        Command::User { command: UserCommand::Add { dir, name, role } } => {
            let mut input = String::new();
            std::io::stdin().read_to_string(&mut input).context("cannot read the password from stdin")?;
            let password = input.lines().next().unwrap_or("");
            admin::user_add(&dir, &name, &role, password, false)?;
            println!("user {name} added as {role}");
        }
        Command::User { command: UserCommand::List { dir } } => print_lines(admin::run(&dir, Request::UserList)?),
        Command::User { command: UserCommand::Disable { dir, name } } => {
            print_lines(admin::run(&dir, Request::UserDisable { name })?)
        }
        Command::User { command: UserCommand::Enable { dir, name } } => {
            print_lines(admin::run(&dir, Request::UserEnable { name })?)
        }
        Command::User { command: UserCommand::Remove { dir, name } } => {
            print_lines(admin::run(&dir, Request::UserRemove { name })?)
        }
        Command::Token { command: TokenCommand::List { dir } } => print_lines(admin::run(&dir, Request::TokenList)?),
        Command::Token { command: TokenCommand::Revoke { dir, id } } => {
            print_lines(admin::run(&dir, Request::TokenRevoke { id })?)
        }
        Command::Token { command: TokenCommand::Create { dir, user } } => {
            let token = admin::token_create(&dir, &user)?;
            println!("API token for {user} (shown once; stored only as a hash):");
            println!("{token}");
        }
        Command::Log { command: LogCommand::Export { dir, out, recordings } } => {
            // Page by page into the file: a large record is never held whole.
            match recordings {
                None => {
                    runtime()?.block_on(export::export_dir_to(&dir, &out))?;
                }
                Some(to) => {
                    let (_, copied) = runtime()?.block_on(export::export_dir_with_recordings(&dir, &out, &to))?;
                    println!("{copied} call recording(s) copied to {}", to.display());
                }
            }
            println!("record of {} written to {}", dir.display(), out.display());
        }
        Command::Verify { file, peer_file, recordings, peer_recordings } => {
            verify(&file, peer_file.as_deref(), recordings.as_deref(), peer_recordings.as_deref())?;
        }
        Command::Transcript { file, line } => {
            let export = read_export(&file)?;
            print!("{}", hotline_audit::transcript(&export, line.as_deref())?);
        }
        Command::Notice {
            command: NoticeCommand::File { url, line, file, kind, start, end, title, remarks, lang, min_m, max_m },
        } => {
            let Ok(token) = std::env::var("HOTLINE_TOKEN") else { bail!(client::ClientError::NoToken) };
            let file_text =
                std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let s = |v: Option<String>| v.map(serde_json::Value::from);
            let n = |v: Option<f64>| v.map(serde_json::Value::from);
            let fields = vec![
                ("kind", s(kind)),
                ("start", s(start)),
                ("end", s(end)),
                ("title", s(title)),
                ("remarks", s(remarks)),
                ("lang", s(lang)),
                ("altitude.min_m", n(min_m)),
                ("altitude.max_m", n(max_m)),
            ];
            let options = client::NoticeOptions { url, token, line, file_text, fields };
            println!("{}", runtime()?.block_on(client::file_notice(options))?);
        }
        Command::Backup { dir, out } => print_lines(backup::backup_dir(&dir, &out)?.render()),
        Command::Restore { file, dir } => print_lines(backup::restore(&file, &dir)?.render()),
        Command::Serve { dir } => {
            init_logging();
            runtime()?.block_on(serve::serve(&dir))?;
        }
        Command::Demo { dir } => {
            init_logging();
            runtime()?.block_on(demo::run(dir))?;
        }
        Command::Send { url, line, precedence, lang, wait, wait_seconds, text } => {
            let Ok(token) = std::env::var("HOTLINE_TOKEN") else { bail!(client::ClientError::NoToken) };
            let options = client::SendOptions { url, token, line, precedence, lang, text, wait, wait_seconds };
            runtime()?.block_on(client::send(options))?;
        }
    }
    Ok(())
}
