//! `hotline backup` and `hotline restore`: a whole station in one file, taken while it
//! serves, and put back in a new directory.
//!
//! A station is three things: `station.db` (the record, messages, outbox and inbox
//! positions), `station.toml` and `station.key`. The database is copied with SQLite's
//! online backup API inside one read transaction (`hotline_store::backup_database`), so
//! the copy is one snapshot: consistent with the record by construction, and the serving
//! station's writes go on meanwhile. The archive is a small self-describing format rather
//! than a tar, so that every byte of it is covered by a hash and a restore can refuse a
//! truncated or altered file with one sentence:
//!
//! ```text
//! hotline-backup 1
//! station alpha
//! created 2026-11-24T15:30:00.123Z
//! entries 10234
//! schema 9
//! part station.db 3325952 <SHA-256 hex>
//! part station.toml 612 <SHA-256 hex>
//! part station.key 118 <SHA-256 hex>
//! header-sha256 <SHA-256 hex of every header line above, newlines included>
//!
//! <the parts' bytes, in the order listed, and nothing after them>
//! ```
//!
//! The archive holds the station's secret key, so it is created with mode 0600. A restore
//! unpacks into a staging directory inside DIR, checks every hash, opens the database with
//! `Store::open` (an older schema is migrated, a newer one refused), and only then moves
//! the files into place, `station.toml` last; on any failure nothing is left behind.

use std::fs::File;
use std::io::{BufRead as _, BufReader, Read, Write};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use hotline_identity::StationKey;
use hotline_store::{BackupConfig, Snapshot, Store, StoreError};
use sha2::{Digest as _, Sha256};

use crate::config::{CONFIG_FILE, Config, DB_FILE, KEY_FILE};

/// The first line of every archive: format name and version.
pub const ARCHIVE_MAGIC: &str = "hotline-backup 1";

/// The archive's parts, in the order they are written; a restore accepts exactly these.
const PARTS: [&str; 3] = [DB_FILE, CONFIG_FILE, KEY_FILE];

/// The header is a few short lines; anything longer is not a header.
#[allow(non_upper_case_globals)]
pub const archive_header_bytes_max: usize = 4096;

/// The largest database part a restore accepts (1 TiB): a bound on the disk it will fill.
#[allow(non_upper_case_globals)]
pub const archive_database_bytes_max: u64 = 1 << 40;

/// The largest `station.toml` or `station.key` part (1 MiB; both are a few hundred bytes).
#[allow(non_upper_case_globals)]
pub const archive_file_bytes_max: u64 = 1 << 20;

/// Buffer for streaming parts in and out of the archive.
#[allow(non_upper_case_globals)]
const archive_copy_chunk_bytes: usize = 64 * 1024;

/// Why a backup or a restore failed; each message is one sentence for stderr.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Config(#[from] crate::config::ConfigError),
    #[error("{path}: {what}")]
    File { path: String, what: String },
    #[error("station database: {0}")]
    Store(#[from] StoreError),
    #[error("{0} already exists: choose another --out, or move the old backup away first")]
    OutExists(String),
    #[error("{dir} already holds a station ({file} exists): restore into a new or empty directory")]
    AlreadyAStation { dir: String, file: String },
    #[error("{path} is not an intact hotline backup ({why}); nothing was restored")]
    Damaged { path: String, why: String },
    #[error("the backup's database cannot be used here: {0}; nothing was restored")]
    Database(StoreError),
}

fn file_error(path: &Path, what: impl std::fmt::Display) -> BackupError {
    BackupError::File { path: path.display().to_string(), what: what.to_string() }
}

/// What `hotline backup` wrote.
#[derive(Clone, Debug)]
pub struct BackupSummary {
    pub station: String,
    pub out: PathBuf,
    pub snapshot: Snapshot,
    /// Each part's name and length in bytes.
    pub parts: Vec<(String, u64)>,
    pub archive_bytes: u64,
    pub archive_sha256: String,
}

impl BackupSummary {
    /// The command's output, one line each.
    pub fn render(&self) -> Vec<String> {
        let parts: Vec<String> = self.parts.iter().map(|(name, bytes)| format!("{name} {bytes} bytes")).collect();
        vec![
            format!("backup of station {} written to {}", self.station, self.out.display()),
            format!(
                "record: {} entries (one snapshot; database schema version {}, {} pages, integrity_check ok)",
                self.snapshot.entries, self.snapshot.schema_version, self.snapshot.pages
            ),
            format!("parts: {}", parts.join(", ")),
            format!("size: {} bytes", self.archive_bytes),
            format!("sha256: {}", self.archive_sha256),
            "the file holds the station's secret key: it was written with mode 0600; keep it as you keep station.key"
                .into(),
        ]
    }
}

/// What `hotline restore` put back.
#[derive(Clone, Debug)]
pub struct RestoreSummary {
    pub station: String,
    pub dir: PathBuf,
    pub created: String,
    pub entries: i64,
    pub schema_archived: i64,
    pub schema_now: i64,
}

impl RestoreSummary {
    /// The command's output, one line each.
    pub fn render(&self) -> Vec<String> {
        let schema = if self.schema_archived == self.schema_now {
            format!("schema version {}", self.schema_now)
        } else {
            format!("schema version {} migrated to {}", self.schema_archived, self.schema_now)
        };
        vec![
            format!("station {} restored into {} (backup of {})", self.station, self.dir.display(), self.created),
            format!("record: {} entries, every part's SHA-256 checked; {schema}", self.entries),
            "station.key and station.db have mode 0600".into(),
            format!(
                "next: `hotline serve {}` (it verifies the record and its lines resume from the stored positions); \
                 never serve the original too: one key, one station",
                self.dir.display()
            ),
        ]
    }
}

/// Lowercase hex of a digest.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Files removed when dropped unless `keep` is called: a failed command leaves nothing.
struct Cleanup {
    files: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
}

impl Cleanup {
    fn new() -> Cleanup {
        Cleanup { files: Vec::new(), dirs: Vec::new() }
    }

    fn keep(mut self) {
        self.files.clear();
        self.dirs.clear();
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for file in &self.files {
            let _ = std::fs::remove_file(file);
        }
        // Innermost first: the staging directory, then a DIR the restore created.
        for dir in self.dirs.iter().rev() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Creates `path` with mode 0600; it must not exist yet.
fn create_private(path: &Path) -> Result<File, BackupError> {
    std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map_err(|e| file_error(path, e))
}

/// Reads a small file of the station directory, refusing one past `archive_file_bytes_max`.
fn read_small(path: &Path) -> Result<Vec<u8>, BackupError> {
    let file = File::open(path).map_err(|e| file_error(path, e))?;
    let mut bytes = Vec::new();
    file.take(archive_file_bytes_max + 1).read_to_end(&mut bytes).map_err(|e| file_error(path, e))?;
    if bytes.len() as u64 > archive_file_bytes_max {
        return Err(file_error(path, format!("larger than {archive_file_bytes_max} bytes: not a station file")));
    }
    Ok(bytes)
}

/// The SHA-256 and length of a file, read in chunks.
fn hash_file(path: &Path) -> Result<(String, u64), BackupError> {
    let mut file = File::open(path).map_err(|e| file_error(path, e))?;
    let (mut hasher, mut buf, mut len) = (Sha256::new(), vec![0u8; archive_copy_chunk_bytes], 0u64);
    loop {
        let n = file.read(&mut buf).map_err(|e| file_error(path, e))?;
        if n == 0 {
            return Ok((hex(&hasher.finalize()), len));
        }
        hasher.update(&buf[..n]);
        len += n as u64;
    }
}

/// Writes to the archive and hashes what it writes.
struct HashingWriter {
    file: File,
    hasher: Sha256,
    written: u64,
}

impl HashingWriter {
    fn put(&mut self, bytes: &[u8], path: &Path) -> Result<(), BackupError> {
        self.file.write_all(bytes).map_err(|e| file_error(path, e))?;
        self.hasher.update(bytes);
        self.written += bytes.len() as u64;
        Ok(())
    }
}

/// Checks that `bytes` are a station configuration and key that belong together, and
/// returns the station's name.
fn check_station_files(config_path: &Path, config: &[u8], key_path: &Path, key: &[u8]) -> Result<String, BackupError> {
    let text = std::str::from_utf8(config).map_err(|e| file_error(config_path, e))?;
    let config = Config::parse(config_path, text)?;
    let key_text = std::str::from_utf8(key).map_err(|e| file_error(key_path, e))?;
    let key = StationKey::from_private_text(key_text).map_err(|e| file_error(key_path, e))?;
    if key.name() != config.name {
        return Err(file_error(
            key_path,
            format!("key is for station {:?} but station.toml says {:?}", key.name(), config.name),
        ));
    }
    Ok(config.name)
}

/// `hotline backup DIR --out FILE`: the station in `dir`, serving or not, into one archive.
pub fn backup_dir(dir: &Path, out: &Path) -> Result<BackupSummary, BackupError> {
    let (config_path, key_path, db_path) = (dir.join(CONFIG_FILE), dir.join(KEY_FILE), dir.join(DB_FILE));
    let config = read_small(&config_path)?;
    let key = read_small(&key_path)?;
    let station = check_station_files(&config_path, &config, &key_path, &key)?;
    if !db_path.is_file() {
        return Err(file_error(&db_path, "no station database here: is this a station directory?"));
    }
    if out.exists() {
        return Err(BackupError::OutExists(out.display().to_string()));
    }
    let temp = |suffix: &str| {
        let mut name = out.as_os_str().to_owned();
        name.push(format!(".{}.{suffix}", std::process::id()));
        PathBuf::from(name)
    };
    let (copy, partial) = (temp("db-copy"), temp("partial"));
    let mut cleanup = Cleanup::new();
    cleanup.files.extend([copy.clone(), temp("db-copy-journal"), temp("db-copy-wal"), temp("db-copy-shm")]);
    cleanup.files.push(partial.clone());

    // The copy holds password and token hashes: it is private from its first byte.
    drop(create_private(&copy)?);
    let snapshot = hotline_store::backup_database(&db_path, &copy, &BackupConfig::default())?;
    let (db_sha256, db_bytes) = hash_file(&copy)?;
    let parts = [(DB_FILE, db_bytes, db_sha256), part(CONFIG_FILE, &config), part(KEY_FILE, &key)];
    let header = header_text(&station, &snapshot, &parts);

    let mut archive = HashingWriter { file: create_private(&partial)?, hasher: Sha256::new(), written: 0 };
    archive.put(header.as_bytes(), &partial)?;
    let mut db = File::open(&copy).map_err(|e| file_error(&copy, e))?;
    let mut buf = vec![0u8; archive_copy_chunk_bytes];
    loop {
        let n = db.read(&mut buf).map_err(|e| file_error(&copy, e))?;
        if n == 0 {
            break;
        }
        archive.put(&buf[..n], &partial)?;
    }
    archive.put(&config, &partial)?;
    archive.put(&key, &partial)?;
    archive.file.sync_all().map_err(|e| file_error(&partial, e))?;
    let archive_bytes = archive.written;
    let archive_sha256 = hex(&archive.hasher.finalize());
    // A hard link does not replace an existing file (rename would): a backup made at the
    // same moment under the same name is never overwritten.
    std::fs::hard_link(&partial, out).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => BackupError::OutExists(out.display().to_string()),
        _ => file_error(out, e),
    })?;
    sync_parent(out);
    drop(cleanup);
    Ok(BackupSummary {
        station,
        out: out.to_owned(),
        snapshot,
        parts: parts.iter().map(|(name, bytes, _)| (name.to_string(), *bytes)).collect(),
        archive_bytes,
        archive_sha256,
    })
}

fn part(name: &'static str, bytes: &[u8]) -> (&'static str, u64, String) {
    (name, bytes.len() as u64, hex(&Sha256::digest(bytes)))
}

/// The archive's header, ending in its own hash line and the blank line.
fn header_text(station: &str, snapshot: &Snapshot, parts: &[(&str, u64, String)]) -> String {
    let mut header = format!(
        "{ARCHIVE_MAGIC}\nstation {station}\ncreated {}\nentries {}\nschema {}\n",
        crate::rfc3339(crate::now_ms()),
        snapshot.entries,
        snapshot.schema_version
    );
    for (name, bytes, sha256) in parts {
        header.push_str(&format!("part {name} {bytes} {sha256}\n"));
    }
    let own = hex(&Sha256::digest(header.as_bytes()));
    header.push_str(&format!("header-sha256 {own}\n\n"));
    header
}

/// Makes a new directory entry durable; a failure here only weakens durability, so it is
/// not an error (the data itself was synced).
fn sync_parent(path: &Path) {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && let Ok(dir) = File::open(parent)
    {
        let _ = dir.sync_all();
    }
}

/// The header as read back: what the restore checks the parts against.
struct Header {
    station: String,
    created: String,
    entries: i64,
    schema: i64,
    /// Name, length and SHA-256 hex, in the archive's order.
    parts: Vec<(String, u64, String)>,
}

/// Reads and checks the header; `Err` holds the reason the archive is refused.
fn read_header(reader: &mut impl std::io::BufRead) -> Result<Header, String> {
    let mut text = Vec::new();
    let mut limited = reader.take(archive_header_bytes_max as u64);
    loop {
        let before = text.len();
        let n = limited.read_until(b'\n', &mut text).map_err(|e| format!("cannot read it: {e}"))?;
        if n == 0 || text.last() != Some(&b'\n') {
            return Err(if text.is_empty() {
                "it is empty".into()
            } else {
                format!("its header is cut short or longer than {archive_header_bytes_max} bytes")
            });
        }
        if &text[before..] == b"\n" {
            break;
        }
    }
    let text = std::str::from_utf8(&text).map_err(|_| "its header is not text".to_string())?;
    let mut lines: Vec<&str> = text.lines().collect();
    lines.pop(); // the blank line
    let Some(own_line) = lines.pop() else { return Err("its header is empty".into()) };
    if lines.first() != Some(&ARCHIVE_MAGIC) {
        return Err(format!("it does not start with {ARCHIVE_MAGIC:?}"));
    }
    let covered: String = lines.iter().map(|l| format!("{l}\n")).collect();
    if own_line != format!("header-sha256 {}", hex(&Sha256::digest(covered.as_bytes()))) {
        return Err("its header does not match its SHA-256: it was altered".into());
    }
    parse_header(&lines[1..])
}

/// The header's fields, in their fixed order (the hash already matched, so a surprise
/// here is a file written by something else).
fn parse_header(lines: &[&str]) -> Result<Header, String> {
    let field = |i: usize, name: &str| -> Result<&str, String> {
        lines
            .get(i)
            .and_then(|l| l.strip_prefix(name))
            .and_then(|l| l.strip_prefix(' '))
            .ok_or_else(|| format!("its header lacks the {name} line"))
    };
    let number = |i: usize, name: &str| -> Result<i64, String> {
        field(i, name)?.parse().map_err(|_| format!("its {name} line is not a number"))
    };
    let (station, created) = (field(0, "station")?.to_owned(), field(1, "created")?.to_owned());
    let (entries, schema) = (number(2, "entries")?, number(3, "schema")?);
    if lines.len() != 4 + PARTS.len() {
        return Err(format!("its header lists {} parts, not {}", lines.len().saturating_sub(4), PARTS.len()));
    }
    let mut parts = Vec::new();
    for (i, want) in PARTS.iter().enumerate() {
        let fields: Vec<&str> = field(4 + i, "part")?.split(' ').collect();
        let [name, bytes, sha256] = fields[..] else { return Err("a part line is malformed".into()) };
        if name != *want {
            return Err(format!("part {} is {name:?}, not {want}", i + 1));
        }
        let bytes: u64 = bytes.parse().map_err(|_| format!("the length of {name} is not a number"))?;
        let max = if name == DB_FILE { archive_database_bytes_max } else { archive_file_bytes_max };
        if bytes > max {
            return Err(format!("{name} claims {bytes} bytes, more than the {max} a restore accepts"));
        }
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("the SHA-256 of {name} is not 64 hex digits"));
        }
        parts.push((name.to_owned(), bytes, sha256.to_ascii_lowercase()));
    }
    Ok(Header { station, created, entries, schema, parts })
}

/// `hotline restore FILE DIR`: the station in `archive`, into `dir` (new or empty).
pub fn restore(archive: &Path, dir: &Path) -> Result<RestoreSummary, BackupError> {
    for name in [CONFIG_FILE, KEY_FILE, DB_FILE] {
        if dir.join(name).exists() {
            return Err(BackupError::AlreadyAStation { dir: dir.display().to_string(), file: name.into() });
        }
    }
    let damaged = |why: String| BackupError::Damaged { path: archive.display().to_string(), why };
    let file = File::open(archive).map_err(|e| file_error(archive, e))?;
    let mut reader = BufReader::with_capacity(archive_copy_chunk_bytes, file);
    let header = read_header(&mut reader).map_err(damaged)?;

    let mut cleanup = Cleanup::new();
    if !dir.exists() {
        std::fs::create_dir_all(dir).map_err(|e| file_error(dir, e))?;
        cleanup.dirs.push(dir.to_owned());
    }
    let staging = dir.join(format!(".hotline-restore-{}", std::process::id()));
    std::fs::DirBuilder::new().mode(0o700).create(&staging).map_err(|e| file_error(&staging, e))?;
    cleanup.dirs.push(staging.clone());

    for (name, bytes, sha256) in &header.parts {
        let path = staging.join(name);
        let mut out = create_private(&path)?;
        let (got, actual) = copy_part(&mut reader, *bytes, &mut out, &path)?;
        if got < *bytes {
            return Err(damaged(format!("it is cut short: {name} has {got} of its {bytes} bytes")));
        }
        if actual != *sha256 {
            return Err(damaged(format!("{name} does not match its SHA-256: it was altered")));
        }
        out.sync_all().map_err(|e| file_error(&path, e))?;
    }
    let mut extra = [0u8; 1];
    if reader.read(&mut extra).map_err(|e| file_error(archive, e))? != 0 {
        return Err(damaged("it has bytes after its last part".into()));
    }

    let (config_path, key_path) = (staging.join(CONFIG_FILE), staging.join(KEY_FILE));
    let station = check_station_files(&config_path, &read_small(&config_path)?, &key_path, &read_small(&key_path)?)?;
    if station != header.station {
        return Err(damaged(format!("its header names station {:?}, its files {station:?}", header.station)));
    }
    let (entries, schema_now) = open_restored(&staging.join(DB_FILE), &header).map_err(|e| match e {
        BackupError::Store(e) => BackupError::Database(e),
        other => other,
    })?;
    if entries != header.entries {
        return Err(damaged(format!("its database holds {entries} entries, its header says {}", header.entries)));
    }
    for name in [KEY_FILE, DB_FILE] {
        let path = staging.join(name);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(|e| file_error(&path, e))?;
    }
    move_into_place(&staging, dir, &mut cleanup)?;
    sync_parent(&dir.join(CONFIG_FILE));
    cleanup.keep();
    let _ = std::fs::remove_dir(&staging);
    Ok(RestoreSummary {
        station,
        dir: dir.to_owned(),
        created: header.created,
        entries,
        schema_archived: header.schema,
        schema_now,
    })
}

/// Copies `bytes` bytes of the archive into `out`; returns how many there were and their
/// SHA-256 hex.
fn copy_part(reader: &mut impl Read, bytes: u64, out: &mut File, path: &Path) -> Result<(u64, String), BackupError> {
    let mut part = reader.take(bytes);
    let (mut hasher, mut buf, mut got) = (Sha256::new(), vec![0u8; archive_copy_chunk_bytes], 0u64);
    loop {
        let n = part.read(&mut buf).map_err(|e| file_error(path, e))?;
        if n == 0 {
            return Ok((got, hex(&hasher.finalize())));
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n]).map_err(|e| file_error(path, e))?;
        got += n as u64;
    }
}

/// Opens the restored database with the normal open (an older schema is migrated, a
/// newer one refused); returns its entry count and schema version.
fn open_restored(db: &Path, header: &Header) -> Result<(i64, i64), BackupError> {
    let mut store = Store::open(db)?;
    let entries = store.read(|tx| tx.entry_count())?;
    let schema_now = store.schema_version()?;
    // Paired with the schema line the backup wrote: the hash says the file is the one
    // backed up, so a lower version here would mean the open went backwards.
    if schema_now < header.schema {
        return Err(BackupError::Store(StoreError::Corrupt(format!(
            "schema version {schema_now} after opening a version {} database",
            header.schema
        ))));
    }
    Ok((entries, schema_now))
}

/// Moves the staged files into `dir`, `station.toml` last: until it is there, DIR is not a
/// station. The WAL, if closing left one, goes with its database.
fn move_into_place(staging: &Path, dir: &Path, cleanup: &mut Cleanup) -> Result<(), BackupError> {
    let wal = format!("{DB_FILE}-wal");
    let shm = format!("{DB_FILE}-shm");
    for name in [wal.as_str(), shm.as_str(), KEY_FILE, DB_FILE, CONFIG_FILE] {
        let (from, to) = (staging.join(name), dir.join(name));
        if !from.exists() {
            continue;
        }
        std::fs::rename(&from, &to).map_err(|e| file_error(&to, e))?;
        cleanup.files.push(to);
    }
    Ok(())
}
