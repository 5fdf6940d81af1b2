//! What operators and the station send on the line: each operation signs an item, stores
//! it with its record entry and its outbox row in one transaction, and pushes it to the
//! `Line` only after the commit — messages (in batches), acknowledgments, notices and
//! their acknowledgments, watch checks and answers, presence, and checkpoints to witness.

use super::*;
use hotline_core::entry_kind::EntryKind;

impl LineTask {
    /// Sends our latest checkpoint to the peer for witnessing, if it is newer than what the
    /// peer last cosigned and no other is outstanding. The proof runs from the last size
    /// the peer cosigned, which is what its witness state holds.
    pub(super) async fn offer_checkpoint(&mut self) -> Result<(), StoreError> {
        if self.witness_pending || self.witness_blocked || self.line.state() != LineState::Up {
            return Ok(());
        }
        let Some((size, note)) = self.setup.checkpoints.borrow().clone() else { return Ok(()) };
        let peer = self.setup.peer.clone();
        let old_size = self.setup.core.read(move |tx| tx.last_cosigned_size(&peer)).await?;
        if old_size >= size {
            return Ok(());
        }
        let proof = if old_size == 0 { Vec::new() } else { self.setup.core.consistency_proof(old_size, size).await? };
        let ends = self.ends();
        let item = Item::Checkpoint {
            from: ends.local.clone(),
            to: ends.peer.clone(),
            note,
            old_size,
            proof: proof.iter().map(|h| BASE64.encode(h)).collect(),
        };
        let signed = SignedItem::sign(item, &ends.key);
        let (lane, seq, payload) =
            self.setup.core.write(move |j| super::enqueue_control(j, &ends.peer, &signed)).await?;
        self.line.push(lane, seq, payload);
        self.witness_pending = true;
        Ok(())
    }

    /// Signs a new message for the line, without storing it.
    pub(super) fn prepare_message(&self, ends: &Ends, m: NewMessage) -> Result<Prepared, LineError> {
        let lane = lane_for(m.precedence);
        let created_ms = now_ms();
        let row = MessageRow {
            id: uuid::Uuid::now_v7().to_string(),
            peer: ends.peer.clone(),
            direction: Direction::Out,
            precedence: m.precedence.as_str().to_owned(),
            lang: m.lang,
            body: m.body,
            reply_to: m.reply_to,
            author: m.author,
            created_ms,
            sent_ms: None,
            delivered_ms: None,
            acked_ms: None,
            acked_by: None,
        };
        let item = Item::Message {
            from: ends.local.clone(),
            to: ends.peer.clone(),
            id: row.id.clone(),
            precedence: row.precedence.clone(),
            lang: row.lang.clone(),
            body: row.body.clone(),
            reply_to: row.reply_to.clone(),
            author: row.author.clone(),
            created_ms,
        };
        let signed = SignedItem::sign(item, &ends.key);
        let payload = signed.envelope();
        if payload.len() > hotline_proto::payload_bytes_max {
            // A body within 64 KiB can still grow past the frame limit when every character
            // needs escaping twice (item, then envelope); refuse it here, not in the line.
            return Err(LineError::TooLarge(format!(
                "the message is {} bytes once encoded for the line; the limit is {} bytes (shorten it, or avoid control characters)",
                payload.len(),
                hotline_proto::payload_bytes_max
            )));
        }
        Ok(Prepared { row, lane, payload, signed })
    }

    /// Accepts a batch of sends in one transaction: each message is stored, queued in the
    /// outbox under the next sequence number of its lane and logged, in the order the
    /// sends arrived, exactly as one transaction per message would have done; one that
    /// replies to no message on this line is refused alone. Every sender gets its own
    /// answer after the commit.
    pub(super) async fn accept_messages(
        &mut self,
        batch: Vec<(NewMessage, oneshot::Sender<Result<MessageRow, LineError>>)>,
    ) {
        debug_assert!(batch.len() <= accept_batch_max);
        let ends = self.ends();
        let mut prepared = Vec::with_capacity(batch.len());
        let mut replies = Vec::with_capacity(batch.len());
        for (message, reply) in batch {
            match self.prepare_message(&ends, message) {
                Ok(p) => {
                    prepared.push(p);
                    replies.push(reply);
                }
                Err(e) => {
                    let _ = reply.send(Err(e));
                }
            }
        }
        if prepared.is_empty() {
            return;
        }
        let first_seq: Vec<u64> = Lane::ALL.iter().map(|&lane| self.line.next_seq(lane)).collect();
        let (stored, peer) = (prepared.clone(), ends.peer.clone());
        let outcome = self
            .setup
            .core
            .write(move |j| {
                let mut next = first_seq;
                for &lane in Lane::ALL.iter().filter(|&&lane| stored.iter().any(|p| p.lane == lane)) {
                    check_seq(j, &peer, lane, next[lane.index()])?;
                }
                let mut seqs = Vec::with_capacity(stored.len());
                for p in &stored {
                    let row = &p.row;
                    if let Some(reply_to) = &row.reply_to
                        && j.tx.message(reply_to)?.is_none_or(|m| m.peer != row.peer)
                    {
                        seqs.push(None);
                        continue;
                    }
                    let seq = next[p.lane.index()];
                    next[p.lane.index()] += 1;
                    j.tx.insert_message(row)?;
                    j.tx.insert_outbox(&row.peer, p.lane, seq, &p.payload, Some(&row.id), row.created_ms)?;
                    j.append(
                        EntryKind::MessageQueued,
                        json!({"peer": row.peer, "message": message_json(row), "item": p.signed.text, "sig": p.signed.sig}),
                    )?;
                    seqs.push(Some(seq));
                }
                Ok(seqs)
            })
            .await;
        let seqs = match outcome {
            Ok(seqs) => seqs,
            Err(e) => {
                for reply in replies {
                    let _ = reply.send(Err(LineError::of_store(&e)));
                }
                return;
            }
        };
        for ((p, seq), reply) in prepared.into_iter().zip(seqs).zip(replies) {
            let Some(seq) = seq else {
                let _ = reply.send(Err(LineError::invalid("bad_reply_to", "reply_to names no message on this line")));
                continue;
            };
            let Prepared { row, lane, payload, .. } = p;
            self.line.push(lane, seq, payload);
            if let Some(precedence) = hotline_watch::Precedence::parse(&row.precedence) {
                let (peer, id, created_ms) = (row.peer.clone(), row.id.clone(), row.created_ms);
                self.setup.supervisor.observe(|w, _| {
                    w.on_message(&peer, &id, precedence, hotline_watch::Direction::Out, created_ms.max(0) as u64)
                });
            }
            let _ = reply.send(Ok(row));
        }
    }

    pub(super) async fn accept_ack(&mut self, id: String, by: String) -> Result<MessageRow, LineError> {
        let ends = self.ends();
        let (message, outbound) = self
            .setup
            .core
            .write(move |j| {
                let Some(message) = j.tx.message(&id)? else {
                    return Ok(Err(LineError::NotFound(format!("no message {id}"))));
                };
                if message.direction != Direction::In {
                    return Ok(Err(LineError::Conflict("only the receiving station acknowledges a message".into())));
                }
                if message.acked_ms.is_some() {
                    return Ok(Ok((message, None)));
                }
                let at_ms = j.now_ms;
                let item = Item::Ack {
                    from: ends.local.clone(),
                    to: ends.peer.clone(),
                    id: id.clone(),
                    by: by.clone(),
                    at_ms,
                };
                let signed = SignedItem::sign(item, &ends.key);
                j.tx.set_acked(&id, &by, at_ms)?;
                let outbound = super::enqueue_control(j, &ends.peer, &signed)?;
                let message = j.tx.message(&id)?.unwrap_or(message);
                j.append(
                    EntryKind::MessageAcknowledged,
                    json!({"peer": ends.peer, "id": id, "by": by, "message": message_json(&message),
                           "item": signed.text, "sig": signed.sig}),
                )?;
                Ok(Ok((message, Some(outbound))))
            })
            .await
            .map_err(LineError::from)??;
        if let Some((lane, seq, payload)) = outbound {
            self.line.push(lane, seq, payload);
        }
        let (peer, id) = (message.peer.clone(), message.id.clone());
        self.setup.supervisor.observe(|w, now| w.on_message_acknowledged(&peer, &id, now));
        Ok(message)
    }

    pub(super) async fn accept_notice(&mut self, change: NoticeChange) -> Result<NoticeRow, LineError> {
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
                let outbound = super::enqueue_control(j, &ends.peer, &signed)?;
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

    pub(super) async fn accept_notice_ack(&mut self, id: String, by: String) -> Result<NoticeRow, LineError> {
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
                let outbound = super::enqueue_control(j, &ends.peer, &signed)?;
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

    /// A write that may have changed the live notice index failed and rolled back: rebuild
    /// the index from the store before its next use.
    pub(super) fn forget_notice_index(&self) {
        *self.notices.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Sends a watch check: an operator at the peer must answer it by the line's deadline.
    pub(super) async fn send_watch_check(&mut self) -> Result<WatchCheckRow, LineError> {
        let ends = self.ends();
        let deadline_ms = self.setup.supervisor.line_policy(&ends.peer).check_deadline_ms as i64;
        let (row, (lane, seq, payload)) = self
            .setup
            .core
            .write(move |j| {
                let row = WatchCheckRow {
                    id: uuid::Uuid::now_v7().to_string(),
                    peer: ends.peer.clone(),
                    direction: "out".into(),
                    sent_ms: j.now_ms,
                    deadline_ms: j.now_ms + deadline_ms,
                    answered_ms: None,
                    answered_by: None,
                    missed: false,
                };
                let item = Item::WatchCheck {
                    from: ends.local.clone(),
                    to: ends.peer.clone(),
                    id: row.id.clone(),
                    sent_ms: row.sent_ms,
                    deadline_ms: row.deadline_ms,
                };
                let signed = SignedItem::sign(item, &ends.key);
                j.tx.insert_watch_check(&row)?;
                let outbound = super::enqueue_control(j, &ends.peer, &signed)?;
                j.append(
                    EntryKind::WatchCheckSent,
                    json!({"peer": ends.peer, "id": row.id, "deadline": hotline_core::rfc3339(row.deadline_ms),
                           "item": signed.text, "sig": signed.sig}),
                )?;
                Ok((row, outbound))
            })
            .await?;
        self.line.push(lane, seq, payload);
        let (peer, id, sent) = (row.peer.clone(), row.id.clone(), row.sent_ms.max(0) as u64);
        self.setup.supervisor.observe(|w, _| {
            w.on_check_sent(&peer, &id, sent);
        });
        Ok(row)
    }

    /// An operator here answers the peer's watch check `id` (late answers are recorded
    /// as late, and still sent: they show someone is there).
    pub(super) async fn answer_watch_check(&mut self, id: String, by: String) -> Result<WatchCheckRow, LineError> {
        let ends = self.ends();
        let (row, outbound) = self
            .setup
            .core
            .write(move |j| {
                let Some(check) = j.tx.watch_check(&id)? else {
                    return Ok(Err(LineError::NotFound(format!("no watch check {id}"))));
                };
                if check.peer != ends.peer || check.direction != "in" {
                    return Ok(Err(LineError::Conflict(
                        "only the station a watch check was sent to answers it".into(),
                    )));
                }
                if check.answered_ms.is_some() {
                    return Ok(Ok((check, None)));
                }
                let at_ms = j.now_ms;
                j.tx.answer_watch_check(&id, &by, at_ms)?;
                let item = Item::WatchAnswer {
                    from: ends.local.clone(),
                    to: ends.peer.clone(),
                    id: id.clone(),
                    by: by.clone(),
                    at_ms,
                };
                let signed = SignedItem::sign(item, &ends.key);
                let outbound = super::enqueue_control(j, &ends.peer, &signed)?;
                let late = check.missed || at_ms > check.deadline_ms;
                j.append(
                    EntryKind::WatchCheckAnswered,
                    json!({"peer": ends.peer, "id": id, "direction": "in", "by": by,
                           "answered_in_ms": at_ms - check.sent_ms, "late": late,
                           "item": signed.text, "sig": signed.sig}),
                )?;
                let row = j.tx.watch_check(&id)?.unwrap_or(check);
                Ok(Ok((row, Some(outbound))))
            })
            .await
            .map_err(LineError::from)??;
        if let Some((lane, seq, payload)) = outbound {
            self.line.push(lane, seq, payload);
        }
        let (peer, id) = (row.peer.clone(), row.id.clone());
        self.setup.supervisor.observe(|w, now| w.on_check_answered(&peer, &id, hotline_watch::Direction::In, now));
        Ok(row)
    }

    /// Tells the peer how many operators are on watch here, if that changed.
    pub(super) async fn send_presence(&mut self) -> Result<(), StoreError> {
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
                let outbound = super::enqueue_control(j, &ends.peer, &signed)?;
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

/// Only our own, uncancelled notices on this line can be amended or cancelled here.
pub(super) fn refuse_change(current: &NoticeRow, peer: &str) -> Option<LineError> {
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

impl LineTask {
    /// An operator's call operation, in one transaction with what it produces.
    pub(super) async fn call_op(
        &mut self,
        op: super::calls::CallOp,
        by: String,
    ) -> Result<serde_json::Value, LineError> {
        let ends = self.ends();
        let outcome = self
            .setup
            .core
            .write(move |j| {
                let mut outbound = Vec::new();
                let answer = super::calls::operate(j, &ends.call_ends(), &ends.calls, op, &by, &mut outbound)?;
                Ok((answer, outbound))
            })
            .await;
        match outcome {
            Ok((answer, outbound)) => {
                for (lane, seq, payload) in outbound {
                    self.line.push(lane, seq, payload);
                }
                answer
            }
            Err(e) => {
                self.forget_calls();
                Err(LineError::from(e))
            }
        }
    }

    /// A call timer is due: the call line decides, in one transaction with its effects.
    pub(super) async fn call_timeout(&mut self) -> Result<(), StoreError> {
        let ends = self.ends();
        let outbound = self
            .setup
            .core
            .write(move |j| {
                let mut outbound = Vec::new();
                super::calls::timeout(j, &ends.call_ends(), &ends.calls, &mut outbound)?;
                Ok(outbound)
            })
            .await?;
        for (lane, seq, payload) in outbound {
            self.line.push(lane, seq, payload);
        }
        Ok(())
    }

    /// The calls in memory may be ahead of the store (a write failed): rebuild them.
    pub(super) fn forget_calls(&self) {
        *self.calls.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}
