//! Notices: a planned activity (area, time, altitude) one station files for the other.
//!
//! Out: `accept_notice` files, amends or cancels one of ours (a new version each time),
//! with its record entry, its outbox row and the conflict check against the peer's active
//! notices, in one transaction. In: `receive` stores the peer's new version (stale,
//! invalid or over the line's cap: refused and recorded) and checks it for conflicts with
//! ours. The view is `hotline_core::notices::notice_json`.

use super::*;
use crate::*;
use hotline_core::entry_kind::EntryKind;

impl LineTask {
    pub(crate) async fn accept_notice(&mut self, change: NoticeChange) -> Result<NoticeRow, LineError> {
        if let NoticeChange::Ack { id, by } = change {
            return self.accept_notice_ack(id, by).await;
        }
        if matches!(change, NoticeChange::File { .. })
            && !hotline_core::notices::has_room(&self.notices, hotline_core::notices::Side::Ours)
        {
            return Err(LineError::Conflict(format!(
                "the line to {} already holds {} active notices of ours; cancel some first",
                self.setup.peer,
                hotline_core::notices::active_notices_max
            )));
        }
        let ends = self.ends();
        let key = ends.key.clone();
        let (row, (lane, seq, payload)) = self
            .setup
            .core
            .write(move |j| {
                let (id, version, state, body, end_ms) = match change {
                    NoticeChange::File { body, end_ms } => (uuid::Uuid::now_v7().to_string(), 1, "filed", body, end_ms),
                    NoticeChange::Amend { id, body, end_ms } => {
                        let Some(current) = j.tx.latest_notice(&id)? else {
                            return Ok(Err(LineError::NotFound(format!("no notice {id}"))));
                        };
                        if let Some(refusal) = refuse_change(&current, &ends.peer) {
                            return Ok(Err(refusal));
                        }
                        (id, current.version + 1, "amended", body, end_ms)
                    }
                    NoticeChange::Ack { .. } => {
                        return Ok(Err(LineError::Internal("notice ack in the wrong path".into())));
                    }
                    NoticeChange::Cancel { id } => {
                        let Some(current) = j.tx.latest_notice(&id)? else {
                            return Ok(Err(LineError::NotFound(format!("no notice {id}"))));
                        };
                        if let Some(refusal) = refuse_change(&current, &ends.peer) {
                            return Ok(Err(refusal));
                        }
                        (id, current.version + 1, "cancelled", current.body, current.end_ms)
                    }
                };
                let row = NoticeRow {
                    id: id.clone(),
                    version,
                    peer: ends.peer.clone(),
                    side: "ours".into(),
                    state: state.into(),
                    body: body.clone(),
                    end_ms,
                    created_ms: j.now_ms,
                    acked_by: None,
                    acked_ms: None,
                };
                let item = Item::Notice {
                    from: ends.local.clone(),
                    to: ends.peer.clone(),
                    id: id.clone(),
                    version,
                    state: state.into(),
                    notice: body,
                };
                let signed = SignedItem::sign(item, &key);
                let encoded_bytes = signed.envelope().len();
                if encoded_bytes > hotline_proto::payload_bytes_max {
                    return Ok(Err(LineError::TooLarge(format!(
                        "the notice is {encoded_bytes} bytes once encoded for the line; the limit is {} bytes",
                        hotline_proto::payload_bytes_max
                    ))));
                }
                j.tx.insert_notice(&row)?;
                let outbound = enqueue_control(j, &ends.peer, &signed)?;
                j.append(
                    match state {
                        "amended" => EntryKind::NoticeAmended,
                        "cancelled" => EntryKind::NoticeCancelled,
                        _ => EntryKind::NoticeFiled,
                    },
                    json!({"peer": ends.peer, "id": id, "version": version,
                           "notice": hotline_core::notices::notice_json(&row, &ends.local),
                           "summary": hotline_core::notices::summary(&ends.lang, &row.body),
                           "item": signed.text, "sig": signed.sig}),
                )?;
                let names = hotline_core::notices::Names { local: &ends.local, lang: &ends.lang };
                hotline_core::notices::detect_conflicts(j, &names, &ends.peer, &id, &ends.notices)?;
                Ok(Ok((row, outbound)))
            })
            .await
            .map_err(LineError::from)??;
        self.line.push(lane, seq, payload);
        Ok(row)
    }

    /// A write that may have changed the live notice index failed and rolled back: rebuild
    /// the index from the store before its next use.
    pub(crate) fn forget_notice_index(&self) {
        *self.notices.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

/// Only our own, uncancelled notices on this line can be amended or cancelled here.
fn refuse_change(current: &NoticeRow, peer: &str) -> Option<LineError> {
    if current.peer != peer {
        return Some(LineError::NotFound(format!("no notice {} on the line to {peer}", current.id)));
    }
    if current.side != "ours" {
        return Some(LineError::Conflict("only the station that filed a notice can change it".into()));
    }
    if current.state == "cancelled" || current.state == "expired" {
        return Some(LineError::Conflict(format!("notice {} is {}", current.id, current.state)));
    }
    None
}

/// The peer's notice, a new version of it, or its cancellation.
pub(super) fn receive(j: &mut Journal<'_>, ends: &Ends, signed: &SignedItem) -> Result<(), StoreError> {
    let Item::Notice { id, version, state, notice, .. } = &signed.item else { return Err(not_routed("notice")) };
    let peer = ends.peer.as_str();
    let limits = hotline_notice::Limits::default();
    let known_state = matches!(state.as_str(), "filed" | "amended" | "cancelled");
    let stored = j.tx.latest_notice(id)?;
    let stale = stored.as_ref().is_some_and(|n| n.side != "theirs" || n.version >= *version);
    // A new notice needs room: a peer cannot make us hold (and check) without end.
    let full = stored.is_none() && !hotline_core::notices::has_room(&ends.notices, hotline_core::notices::Side::Theirs);
    match hotline_notice::parse_notice(notice, &limits) {
        Ok(_) if full => {
            let why = format!(
                "notice {id} refused: the line holds the most active notices of {peer} ({})",
                hotline_core::notices::active_notices_max
            );
            j.append(
                EntryKind::LineItemRefused,
                json!({"peer": peer, "why": why, "item": signed.text, "sig": signed.sig}),
            )?;
        }
        Ok(parsed) if known_state && !stale => {
            let row = NoticeRow {
                id: id.clone(),
                version: *version,
                peer: peer.to_owned(),
                side: "theirs".into(),
                state: state.clone(),
                body: notice.clone(),
                end_ms: (parsed.end.unix_timestamp_nanos() / 1_000_000) as i64,
                created_ms: j.now_ms,
                acked_by: None,
                acked_ms: None,
            };
            j.tx.insert_notice(&row)?;
            j.append(
                EntryKind::NoticeReceived,
                json!({"peer": peer, "id": id, "version": version, "state": state,
                       "notice": hotline_core::notices::notice_json(&row, &ends.local),
                       "summary": hotline_core::notices::summary(&ends.lang, notice),
                       "item": signed.text, "sig": signed.sig}),
            )?;
            let names = hotline_core::notices::Names { local: &ends.local, lang: &ends.lang };
            hotline_core::notices::detect_conflicts(j, &names, peer, id, &ends.notices)?;
        }
        other => {
            let why = match other {
                Err(e) => format!("notice {id} v{version} is invalid: {e}"),
                Ok(_) if !known_state => format!("notice {id} v{version} has unknown state {state:?}"),
                Ok(_) => format!("notice {id} v{version} is older than the version stored"),
            };
            j.append(
                EntryKind::LineItemRefused,
                json!({"peer": peer, "why": why, "item": signed.text, "sig": signed.sig}),
            )?;
        }
    }
    Ok(())
}
