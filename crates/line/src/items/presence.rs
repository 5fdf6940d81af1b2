//! Presence: how many operators are on watch at each station, so each side knows
//! whether anyone is there before it needs them.
//!
//! Out: `send_presence` whenever the count here changes (and once per start when the line
//! comes up). In: `receive` stores the peer's count (its `since` clamped to our clock).

use super::*;
use crate::*;
use hotline_core::entry_kind::EntryKind;

impl LineTask {
    /// Tells the peer how many operators are on watch here, if that changed.
    pub(crate) async fn send_presence(&mut self) -> Result<(), StoreError> {
        let on_watch = *self.setup.presence.borrow_and_update();
        if self.presence_sent == Some(on_watch) {
            return Ok(());
        }
        let ends = self.ends();
        let (lane, seq, payload) = self
            .setup
            .core
            .write(move |j| {
                let item =
                    Item::Presence { from: ends.local.clone(), to: ends.peer.clone(), on_watch, since_ms: j.now_ms };
                let signed = SignedItem::sign(item, &ends.key);
                let outbound = enqueue_control(j, &ends.peer, &signed)?;
                j.append(
                    EntryKind::PresenceSent,
                    json!({"peer": ends.peer, "on_watch": on_watch, "item": signed.text, "sig": signed.sig}),
                )?;
                Ok(outbound)
            })
            .await?;
        self.line.push(lane, seq, payload);
        self.presence_sent = Some(on_watch);
        Ok(())
    }
}

/// The peer reports how many operators are on watch there.
pub(super) fn receive(
    j: &mut Journal<'_>,
    ends: &Ends,
    round: &mut Round,
    signed: &SignedItem,
) -> Result<(), StoreError> {
    let Item::Presence { on_watch, since_ms, .. } = &signed.item else { return Err(not_routed("presence")) };
    let peer = ends.peer.as_str();
    let since_ms = &(*since_ms).min(j.now_ms);
    j.tx.set_peer_presence(peer, i64::from(*on_watch), *since_ms)?;
    j.append(
        EntryKind::PresenceReceived,
        json!({"peer": peer, "on_watch": on_watch, "since": hotline_core::rfc3339(*since_ms),
               "item": signed.text, "sig": signed.sig}),
    )?;
    round.observed.push(Observed::Presence { on_watch: *on_watch, since_ms: *since_ms });
    Ok(())
}
