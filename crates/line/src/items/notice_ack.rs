//! Notice acknowledgments: an operator at the receiving station has read a notice
//! (its latest version).
//!
//! Out: `accept_notice_ack` marks the peer's notice read here and signs a `notice_ack`.
//! In: `receive` marks one of *our* notices read at the peer.

use super::*;
use crate::*;
use hotline_core::entry_kind::EntryKind;

impl LineTask {
    pub(crate) async fn accept_notice_ack(&mut self, id: String, by: String) -> Result<NoticeRow, LineError> {
        let ends = self.ends();
        let key = ends.key.clone();
        let (row, outbound) = self
            .setup
            .core
            .write(move |j| {
                let Some(current) = j.tx.latest_notice(&id)? else {
                    return Ok(Err(LineError::NotFound(format!("no notice {id}"))));
                };
                if current.peer != ends.peer || current.side != "theirs" {
                    return Ok(Err(LineError::Conflict(
                        "only the station that received a notice acknowledges it".into(),
                    )));
                }
                if current.acked_ms.is_some() || current.state == "cancelled" {
                    return Ok(Ok((current, None)));
                }
                let at_ms = j.now_ms;
                j.tx.ack_notice(&id, current.version, &by, at_ms)?;
                let item = Item::NoticeAck {
                    from: ends.local.clone(),
                    to: ends.peer.clone(),
                    id: id.clone(),
                    version: current.version,
                    by: by.clone(),
                    at_ms,
                };
                let signed = SignedItem::sign(item, &key);
                let outbound = enqueue_control(j, &ends.peer, &signed)?;
                let row = j.tx.latest_notice(&id)?.unwrap_or(current);
                j.append(
                    EntryKind::NoticeAcknowledged,
                    json!({"peer": ends.peer, "id": id, "version": row.version, "by": by,
                           "item": signed.text, "sig": signed.sig}),
                )?;
                Ok(Ok((row, Some(outbound))))
            })
            .await
            .map_err(LineError::from)??;
        if let Some((lane, seq, payload)) = outbound {
            self.line.push(lane, seq, payload);
        }
        Ok(row)
    }
}

/// The peer read one of our notices.
pub(super) fn receive(j: &mut Journal<'_>, ends: &Ends, signed: &SignedItem) -> Result<(), StoreError> {
    let Item::NoticeAck { id, version, by, at_ms, .. } = &signed.item else { return Err(not_routed("notice_ack")) };
    let peer = ends.peer.as_str();
    let ours = j.tx.latest_notice(id)?.is_some_and(|n| n.side == "ours" && n.peer == peer);
    if ours && j.tx.ack_notice(id, *version, by, *at_ms)? {
        j.append(
            EntryKind::NoticeAcknowledgedByPeer,
            json!({"peer": peer, "id": id, "version": version, "by": by, "item": signed.text, "sig": signed.sig}),
        )?;
    } else if !ours {
        j.append(
            EntryKind::LineItemRefused,
            json!({"peer": peer, "why": format!("acknowledgment for unknown notice {id}"), "item": signed.text}),
        )?;
    }
    Ok(())
}
