//! The record export: everything an auditor needs to check a station's record without
//! trusting its software (docs/record-format.md, version 1).
//!
//! An export first signs a fresh checkpoint, then writes exactly the entries that
//! checkpoint covers, so the file is complete in itself: entries appended while the export
//! is written belong to the next one.

use std::sync::Arc;

use crate::core::Core;
use hotline_identity::{StationKey, VerifierKey};
use hotline_store::StoreError;

/// The whole record as the export file's text (compact JSON).
pub async fn export(core: &Core, key: Arc<StationKey>, peers: Vec<VerifierKey>) -> Result<String, StoreError> {
    let verifier = key.verifier();
    let Some((size, _)) = core.checkpoint(key).await? else {
        return Err(StoreError::Corrupt("the record is empty: nothing to export".into()));
    };
    let (entries, checkpoints) = core
        .read(move |tx| {
            let entries: Vec<String> = tx.entries_after(0, size as i64)?.into_iter().map(|e| e.body).collect();
            let mut notes = Vec::new();
            for (cp_size, note) in tx.checkpoints()? {
                if cp_size > size {
                    break;
                }
                let lines: String = tx.cosignatures(cp_size)?.into_iter().map(|(_, line)| line).collect();
                notes.push(format!("{note}{lines}"));
            }
            Ok((entries, notes))
        })
        .await?;
    if entries.len() as u64 != size {
        return Err(StoreError::Corrupt(format!("the record has {} entries, its checkpoint {size}", entries.len())));
    }
    // The auditor's own type writes the file, so the two can never disagree on its form.
    Ok(hotline_audit::Export::new(&verifier, &peers, entries, checkpoints).to_json())
}

/// `hotline log export DIR`: the export of a station directory, whether or not the
/// station is serving (SQLite's WAL lets both read; the checkpoint signed here is the
/// same one the station would sign for that size, Ed25519 being deterministic).
pub async fn export_dir(dir: &std::path::Path) -> Result<String, crate::admin::AdminError> {
    let config = crate::config::Config::load(dir)?;
    let key = Arc::new(crate::admin::load_key(dir, &config)?);
    let store = hotline_store::Store::open(&dir.join(crate::config::DB_FILE))?;
    let core = Core::new(config.name.clone(), config.lang.clone(), store)?;
    let peers = config.lines.iter().map(|l| l.verifier()).collect();
    Ok(export(&core, key, peers).await?)
}
