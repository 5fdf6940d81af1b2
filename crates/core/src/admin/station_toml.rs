//! Changing the `[[line]]` tables of `station.toml`, so a line added, changed or removed
//! while the station serves is still there after a restart.
//!
//! The file is the operator's: it is edited with `toml_edit`, which keeps its comments,
//! blank lines and the order of everything it does not touch (a removed table takes its
//! own leading comment with it). The new text is parsed and checked as `Config::load`
//! would before it replaces the file, and it replaces it atomically: written whole to a
//! temporary file beside it (mode 0600, like the file: it may hold SMTP and webhook
//! secrets), synced, then renamed over it, and the directory synced, so a crash leaves
//! the old file or the new one, never half of either.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, value};

use super::{AdminError, file_error};
use crate::config::{CONFIG_FILE, Config, PeerLine};

/// The text of `station.toml` before a change, to put back if what follows it fails.
pub struct Previous {
    path: PathBuf,
    text: String,
}

impl Previous {
    /// Puts the file back as it was (best effort: the caller is already failing).
    pub fn restore(self) {
        if let Err(e) = write_atomically(&self.path, &self.text) {
            tracing::error!(path = %self.path.display(), error = %e, "could not put station.toml back after a failed change");
        }
    }
}

/// Appends a `[[line]]` table for `line`. Options equal to their defaults are written
/// only when `explicit` says the caller gave them.
pub fn add_line(dir: &Path, line: &PeerLine, explicit: Explicit) -> Result<Previous, AdminError> {
    edit(dir, |doc| {
        let mut table = Table::new();
        table["peer"] = value(line.peer.as_str());
        table["key"] = value(line.key.as_str());
        table["addrs"] = value(addr_array(&line.addrs));
        if explicit.heartbeat_interval_ms {
            table["heartbeat_interval_ms"] = value(line.heartbeat_interval_ms as i64);
        }
        if explicit.reconnect_backoff_max_ms {
            table["reconnect_backoff_max_ms"] = value(line.reconnect_backoff_max_ms as i64);
        }
        table.decor_mut().set_prefix("\n# Primary address first, then backups.\n");
        let lines = doc.entry("line").or_insert(Item::ArrayOfTables(ArrayOfTables::new()));
        let lines = lines.as_array_of_tables_mut().ok_or("`line` must be an array of tables ([[line]])")?;
        lines.push(table);
        Ok(())
    })
}

/// Which options of a new line the caller named (the rest keep their defaults, unwritten).
#[derive(Clone, Copy, Debug, Default)]
pub struct Explicit {
    pub heartbeat_interval_ms: bool,
    pub reconnect_backoff_max_ms: bool,
}

/// Rewrites the addresses and options of the `[[line]]` table of `line.peer` in place
/// (its key stays: a pinned key changes only by removing the line and adding it again).
pub fn change_line(dir: &Path, line: &PeerLine, old: &PeerLine) -> Result<Previous, AdminError> {
    edit(dir, |doc| {
        let table = line_table(doc, &line.peer)?;
        if line.addrs != old.addrs {
            table["addrs"] = value(addr_array(&line.addrs));
        }
        if line.heartbeat_interval_ms != old.heartbeat_interval_ms {
            table["heartbeat_interval_ms"] = value(line.heartbeat_interval_ms as i64);
        }
        if line.reconnect_backoff_max_ms != old.reconnect_backoff_max_ms {
            table["reconnect_backoff_max_ms"] = value(line.reconnect_backoff_max_ms as i64);
        }
        Ok(())
    })
}

/// Takes the `[[line]]` table of `peer` out of the file.
pub fn remove_line(dir: &Path, peer: &str) -> Result<Previous, AdminError> {
    edit(dir, |doc| {
        let lines = doc.get_mut("line").and_then(Item::as_array_of_tables_mut).ok_or("no [[line]] tables")?;
        let at = lines
            .iter()
            .position(|t| t.get("peer").and_then(Item::as_str) == Some(peer))
            .ok_or("no [[line]] table for that peer")?;
        lines.remove(at);
        if lines.is_empty() {
            doc.remove("line");
        }
        Ok(())
    })
}

fn addr_array(addrs: &[String]) -> toml_edit::Array {
    addrs.iter().map(String::as_str).collect()
}

fn line_table<'d>(doc: &'d mut DocumentMut, peer: &str) -> Result<&'d mut Table, &'static str> {
    let lines = doc.get_mut("line").and_then(Item::as_array_of_tables_mut).ok_or("no [[line]] tables")?;
    lines
        .iter_mut()
        .find(|t| t.get("peer").and_then(Item::as_str) == Some(peer))
        .ok_or("no [[line]] table for that peer")
}

/// Reads the file, applies `change`, checks the result as a configuration and replaces
/// the file with it; returns the old text.
fn edit(dir: &Path, change: impl FnOnce(&mut DocumentMut) -> Result<(), &'static str>) -> Result<Previous, AdminError> {
    let path = dir.join(CONFIG_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| file_error(&path, e))?;
    let mut doc: DocumentMut = text.parse().map_err(|e| file_error(&path, e))?;
    change(&mut doc).map_err(|e| file_error(&path, e))?;
    let new_text = doc.to_string();
    // Check the result before replacing the file, so a bad edit never lands.
    Config::parse(&path, &new_text)?;
    write_atomically(&path, &new_text)?;
    Ok(Previous { path, text })
}

/// Replaces `path` with `text` atomically (see the module documentation).
pub fn write_atomically(path: &Path, text: &str) -> Result<(), AdminError> {
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt as _;
    let tmp = path.with_extension("toml.tmp");
    // A temporary file left by a crash is ours to replace.
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let written = options.open(&tmp).and_then(|mut file| {
        file.write_all(text.as_bytes())?;
        file.sync_all()
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(file_error(&tmp, e));
    }
    std::fs::rename(&tmp, path).map_err(|e| file_error(path, e))?;
    // The rename is durable once the directory is.
    if let Some(dir) = path.parent()
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(())
}
