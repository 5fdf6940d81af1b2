//! The line task's loop: after every input (a command, bytes from the socket, a timer)
//! it drains the `Line`'s transmissions to the socket writer and its events to the store,
//! one transaction per round, and only after that commit tells the `Line` which received
//! items are durable (so a receipt never promises what is not on disk).

use super::*;

impl LineTask {
    pub(super) async fn run(mut self) {
        let peer = self.setup.peer.clone();
        loop {
            if let Err(e) = self.drain().await {
                // A store failure leaves the items unreceipted; the peer sends them again.
                tracing::error!(peer = %peer, error = %e, "line could not write to the store; dropping the connection");
                self.forget_notice_index();
                self.forget_calls();
                self.drop_connection("the station could not write to its disk");
                self.line.abandon_undurable();
                // Short: API commands wait behind this, and must get their clear refusal soon.
                tokio::time::sleep(Duration::from_millis(store_retry_ms)).await;
                continue;
            }
            let now = Instant::now();
            match self.attachment.poll_start(now.into_std()) {
                Some(Start::Dial) => self.start_dial(),
                Some(Start::ProbePrimary) => self.start_primary_probe(),
                None => {}
            }
            if now >= self.next_expiry {
                self.next_expiry = now + Duration::from_millis(notice_expiry_check_ms);
                let (peer, live) = (self.setup.peer.clone(), self.notices.clone());
                let (local, lang) = (self.setup.core.name.clone(), self.setup.core.lang.clone());
                let expired = self
                    .setup
                    .core
                    .write(move |j| {
                        let names = hotline_core::notices::Names { local: &local, lang: &lang };
                        hotline_core::notices::expire_notices(j, &names, &peer, &live)
                    })
                    .await;
                if let Err(e) = expired {
                    tracing::error!(peer = %self.setup.peer, error = %e, "could not expire notices");
                    self.forget_notice_index();
                }
            }
            if self.deferral.poll_timeout().is_some_and(|at| now.into_std() >= at)
                && let Err(e) = self.flush_deferred().await
            {
                tracing::error!(peer = %peer, error = %e, "could not record sent marks");
            }
            if let Some(at_ms) = super::calls::next_timeout_ms(&self.calls)
                && at_ms <= now_ms().max(0) as u64
                && let Err(e) = self.call_timeout().await
            {
                tracing::error!(peer = %peer, error = %e, "could not record a call's timer");
                self.forget_calls();
            }
            let mut wake = self.line.poll_timeout().map(Instant::from_std).unwrap_or(now + Duration::from_secs(3600));
            if let Some(at_ms) = super::calls::next_timeout_ms(&self.calls) {
                let wait_ms = at_ms.saturating_sub(now_ms().max(0) as u64);
                wake = wake.min(Instant::now() + Duration::from_millis(wait_ms));
            }
            wake = wake.min(self.next_expiry);
            for at in [self.deferral.poll_timeout(), self.attachment.poll_timeout()].into_iter().flatten() {
                wake = wake.min(Instant::from_std(at));
            }
            if let Some(command) = self.pending_command.take() {
                if self.handle_command(command).await == Flow::Stop {
                    return;
                }
                continue;
            }
            tokio::select! {
                command = self.command_rx.recv() => match command {
                    Some(command) => {
                        if self.handle_command(command).await == Flow::Stop {
                            return;
                        }
                    }
                    None => return,
                },
                Some((id, input)) = self.input_rx.recv() => self.handle_input(id, input),
                Ok(()) = self.setup.presence.changed() => {
                    if let Err(e) = self.send_presence().await {
                        tracing::error!(peer = %peer, error = %e, "could not tell the peer who is on watch");
                    }
                }
                Ok(()) = self.setup.checkpoints.changed() => {
                    if let Err(e) = self.offer_checkpoint().await {
                        tracing::error!(peer = %peer, error = %e, "could not offer a checkpoint to the peer");
                    }
                }
                _ = tokio::time::sleep_until(wake) => self.line.handle_timeout(Instant::now().into_std()),
            }
        }
    }

    pub(super) async fn handle_command(&mut self, command: Command) -> Flow {
        match command {
            Command::Send { message, reply } => {
                let mut batch = vec![(message, reply)];
                while batch.len() < accept_batch_max {
                    match self.command_rx.try_recv() {
                        Ok(Command::Send { message, reply }) => batch.push((message, reply)),
                        Ok(other) => {
                            self.pending_command = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                self.accept_messages(batch).await;
            }
            Command::Ack { id, by, reply } => {
                let _ = reply.send(self.accept_ack(id, by).await);
            }
            Command::Notice { change, reply } => {
                let result = self.accept_notice(change).await;
                if result.is_err() {
                    self.forget_notice_index();
                }
                let _ = reply.send(result);
            }
            Command::WatchCheck { reply } => {
                let _ = reply.send(self.send_watch_check().await);
            }
            Command::Call { op, by, reply } => {
                let _ = reply.send(self.call_op(op, by).await);
            }
            Command::Recorded { recording, reply } => {
                let _ = reply.send(self.accept_recording(recording).await);
            }
            Command::RecordingStopped { call, stopped_ms, why, reply } => {
                let _ = reply.send(self.recording_stopped(call, stopped_ms, why).await);
            }
            Command::AnswerCheck { id, by, reply } => {
                let _ = reply.send(self.answer_watch_check(id, by).await);
            }
            Command::Attach { stream, origin, remote } => self.attach(stream, origin, remote),
            Command::ProbeFailed => self.attachment.on_probe_failed(Instant::now().into_std()),
            Command::DialFailed { reason } => {
                let now = Instant::now().into_std();
                self.attachment.on_dial_failed(now, &mut rand::rng());
                let retry_in_ms =
                    self.attachment.poll_timeout().map(|at| at.saturating_duration_since(now).as_millis());
                tracing::debug!(peer = %self.setup.peer, %reason, ?retry_in_ms, "dial failed");
            }
            Command::KeyMismatch { addr } => {
                let presented = format!("(a key presented at {addr})");
                let detail = format!("{presented}\u{1f}{}", self.setup.peer_key.fingerprint());
                self.setup.supervisor.key_mismatch(&self.setup.peer, &detail);
            }
            #[cfg(test)]
            Command::FailForTest => panic!("a test ended this line task on purpose"),
            Command::Shutdown { done } => {
                self.shutdown().await;
                let _ = done.send(());
                return Flow::Stop;
            }
        }
        Flow::Continue
    }

    /// Moves everything the line produced: bytes to the socket, events to the store.
    pub(super) async fn drain(&mut self) -> Result<(), StoreError> {
        loop {
            let now = Instant::now().into_std();
            let mut out = Vec::new();
            let mut chunk_full = false;
            while self.line.poll_transmit(now, &mut out) {
                if out.len() >= write_chunk_bytes {
                    chunk_full = true;
                    break;
                }
            }
            if !out.is_empty()
                && let Some(conn) = &self.connection
            {
                // The writer's queue is full only when the socket has not taken a byte for
                // a while; the task waits at most the line's silence tolerance for it, so
                // heartbeats, timers and the API are never held up by a peer that stopped
                // reading. The bytes are then lost with the connection, which is why it is
                // dropped: the next connection resends whatever was not receipted.
                let wait = self.setup.config.heartbeat_interval * 3;
                let bytes = out.len() as u64;
                let queued = tokio::time::timeout(wait, conn.writer.send(out)).await;
                if matches!(queued, Ok(Ok(()))) {
                    self.metrics.bytes_sent.fetch_add(bytes, std::sync::atomic::Ordering::Relaxed);
                }
                if !matches!(queued, Ok(Ok(()))) {
                    tracing::warn!(peer = %self.setup.peer, "the connection takes no more bytes; dropping it");
                    self.connection_lost();
                    self.line.disconnect(now);
                }
            }
            let mut events = Vec::new();
            while let Some(event) = self.line.poll_event() {
                events.push(event);
            }
            if events.is_empty() && !chunk_full {
                return Ok(());
            }
            self.apply_events(events).await?;
        }
    }

    pub(super) async fn apply_events(&mut self, events: Vec<Event>) -> Result<(), StoreError> {
        self.apply_events_or_flush(events, false).await
    }

    /// Commits the deferred events now (their wait is over).
    pub(super) async fn flush_deferred(&mut self) -> Result<(), StoreError> {
        self.apply_events_or_flush(Vec::new(), true).await
    }

    pub(super) async fn apply_events_or_flush(&mut self, events: Vec<Event>, flush: bool) -> Result<(), StoreError> {
        let peer = self.setup.peer.clone();
        let mut received = Vec::new();
        let mut to_store = Vec::new();
        let mut became_up = false;
        for event in events {
            match event {
                Event::Rtt { rtt } => self.status_tx.send_modify(|s| s.rtt_ms = Some(rtt.as_secs_f64() * 1000.0)),
                Event::Closed { reason } => {
                    tracing::info!(peer = %peer, %reason, "line connection closed");
                    // The Close frame has been handed to the writer; dropping it ends the socket.
                    self.connection_lost();
                }
                Event::StateChanged { state } => {
                    let since_ms = now_ms();
                    self.status_tx.send_modify(|s| {
                        s.state = state;
                        s.since_ms = since_ms;
                    });
                    let p = peer.clone();
                    self.setup.supervisor.observe(|w, now| {
                        if state == LineState::Up { w.on_line_up(&p, now) } else { w.on_line_down(&p, now) }
                    });
                    if state == LineState::Up {
                        became_up = true;
                        self.metrics.connects.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        self.attachment.on_line_up();
                        tracing::info!(peer = %peer, "line up");
                    } else {
                        // An offer lost with the connection is made again once the line is
                        // back; the witness refuses a stale one without alarm.
                        self.witness_pending = false;
                        tracing::warn!(peer = %peer, state = state.as_str(), "line not up");
                    }
                    to_store.push(Event::StateChanged { state });
                }
                Event::Received { lane, seq, .. } => {
                    received.push((lane, seq));
                    to_store.push(event);
                }
                other => to_store.push(other),
            }
        }
        // A round of nothing but "sent" marks and receipts for our own control items
        // promises nothing durable: it waits (at most `deferred_events_ms`) to share the
        // next commit, so a message costs one fsync fewer at each end (`Deferral`).
        let to_store = if flush {
            let mut all = self.deferral.flush().unwrap_or_default();
            all.append(&mut to_store);
            all
        } else {
            self.deferral.round(Instant::now().into_std(), to_store).unwrap_or_default()
        };
        if to_store.is_empty() {
            return Ok(());
        }
        let remote = self.status_tx.borrow().remote.clone();
        let ends = self.ends();
        let round = self.setup.core.write(move |j| super::receive::store_events(j, &ends, to_store, remote)).await?;
        for (lane, seq) in received {
            self.line.mark_durable(lane, seq);
        }
        for (lane, seq, payload) in round.outbound {
            self.line.push(lane, seq, payload);
        }
        if round.witness_answered {
            self.witness_pending = false;
        }
        if round.witness_critical {
            self.witness_blocked = true;
        }
        for alarm in &round.alarms {
            self.setup.supervisor.adopt(alarm);
        }
        for m in &round.measured {
            match m {
                Measured::Delivered { precedence, ms } => self.metrics.message_delivered(precedence, *ms),
                Measured::AcknowledgedByPeer { ms } => self.metrics.acknowledged(hotline_store::Direction::Out, *ms),
            }
        }
        for o in &round.observed {
            if let Observed::Message { precedence, .. } = o {
                self.metrics.message_received(precedence);
            }
        }
        for o in &round.observed {
            if let Observed::RecordingStoppedByPeer { detail } = o {
                self.setup.supervisor.peer_recording_stopped(&peer, detail);
            }
        }
        if !round.observed.is_empty() {
            self.setup.supervisor.observe(|w, now| {
                for o in round.observed {
                    match o {
                        Observed::Message { id, precedence, created_ms } => {
                            if let Some(p) = hotline_watch::Precedence::parse(&precedence) {
                                w.on_message(&peer, &id, p, hotline_watch::Direction::In, created_ms.max(0) as u64);
                            }
                        }
                        Observed::Acknowledged { id } => w.on_message_acknowledged(&peer, &id, now),
                        Observed::CheckReceived { id, deadline_ms } => {
                            w.on_check_received(&peer, &id, deadline_ms.max(0) as u64)
                        }
                        Observed::CheckAnswered { id } => {
                            w.on_check_answered(&peer, &id, hotline_watch::Direction::Out, now)
                        }
                        Observed::Presence { on_watch, since_ms } => {
                            w.on_peer_presence(&peer, on_watch, since_ms.max(0) as u64, now)
                        }
                        Observed::RecordingStoppedByPeer { .. } => {}
                    }
                }
            });
        }
        if came_up_first_time(&self.presence_sent, self.line.state() == LineState::Up && became_up) {
            self.send_presence().await?;
        }
        let came_up = self.line.state() == LineState::Up && became_up;
        if round.witness_answered || came_up {
            self.offer_checkpoint().await?;
        }
        Ok(())
    }

    pub(super) async fn shutdown(&mut self) {
        self.line.close(Instant::now().into_std(), "the station is shutting down");
        let _ = self.drain().await;
        let _ = self.flush_deferred().await;
        self.connection = None;
    }
}
