//! The line's connections, the I/O half of the connection policy: the dials and probes
//! `hotline_proto::Attachment` asks for, the connections it takes (a reader and a writer
//! task per socket), dropping them, and the socket's read loop. What to dial when, and
//! which connection wins, is decided there, in simulated-time-tested code, not here.

use super::*;

impl LineTask {
    pub(super) fn start_dial(&mut self) {
        let addrs = self.setup.addrs.clone();
        let own = self.setup.own_key.clone();
        let peer_key = self.setup.peer_key.clone();
        let commands = self.commands_self.clone();
        tokio::spawn(async move {
            let dialed = net::dial(&addrs, &own, &peer_key).await;
            for addr in dialed.key_mismatches {
                let _ = commands.send(Command::KeyMismatch { addr }).await;
            }
            let command = match dialed.result {
                Ok((stream, remote, addr_index)) => {
                    Command::Attach { stream: Box::new(stream), origin: Origin::Dial { addr_index }, remote }
                }
                Err(reason) => Command::DialFailed { reason },
            };
            let _ = commands.send(command).await;
        });
    }

    /// Tries the primary address alone (the policy asks for it while the line runs on
    /// anything but our own dial of it; see `hotline_proto::Attachment`).
    pub(super) fn start_primary_probe(&mut self) {
        let primary: Vec<String> = self.setup.addrs.iter().take(1).cloned().collect();
        let own = self.setup.own_key.clone();
        let peer_key = self.setup.peer_key.clone();
        let commands = self.commands_self.clone();
        tokio::spawn(async move {
            let dialed = net::dial(&primary, &own, &peer_key).await;
            let command = match dialed.result {
                Ok((stream, remote, _)) => Command::Attach { stream: Box::new(stream), origin: Origin::Probe, remote },
                Err(_) => Command::ProbeFailed,
            };
            let _ = commands.send(command).await;
        });
    }

    /// Takes a new authenticated connection, or refuses it unread, as the connection
    /// policy (`hotline_proto::Attachment`) decides: the preferred dialer's connection
    /// wins at both ends.
    pub(super) fn attach(&mut self, stream: Box<dyn LineStream>, origin: Origin, remote: String) {
        let now = Instant::now();
        let (id, replaces) = match self.attachment.offer(now.into_std(), origin) {
            Offer::Refuse => {
                tracing::info!(peer = %self.setup.peer, %remote, "second connection refused: the current one is kept");
                return;
            }
            Offer::Take { id, replaces } => (id, replaces),
        };
        if replaces.is_some() {
            tracing::info!(peer = %self.setup.peer, %remote, "a newer connection replaces the current one");
            // Not `close`: the line is not down, it moves to another connection. Dropping
            // the old one ends its socket; `Line::connect` below starts the new one.
            self.connection = None;
        }
        let (read_half, mut write_half) = tokio::io::split(stream);
        let (writer, mut write_rx) = mpsc::channel::<Vec<u8>>(connection_writes_max);
        let stalled = self.input_tx.clone();
        tokio::spawn(async move {
            let stall = Duration::from_millis(socket_write_stall_ms_max);
            while let Some(bytes) = write_rx.recv().await {
                let written = tokio::time::timeout(stall, async {
                    write_half.write_all(&bytes).await?;
                    write_half.flush().await
                })
                .await;
                match written {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => {
                        let _ = stalled.send((id, Input::Closed(format!("write failed: {e}")))).await;
                        return;
                    }
                    // A peer that stops reading must not hold our line: drop it, redial.
                    Err(_) => {
                        let why =
                            format!("the peer stopped reading (a write stalled for {socket_write_stall_ms_max} ms)");
                        let _ = stalled.send((id, Input::Closed(why))).await;
                        return;
                    }
                }
            }
            let _ = write_half.shutdown().await;
        });
        let inputs = self.input_tx.clone();
        let reader = tokio::spawn(read_loop(read_half, id, inputs));
        self.connection = Some(Connection { id, writer, reader });
        self.status_tx.send_modify(|s| s.remote = Some(remote.clone()));
        tracing::info!(peer = %self.setup.peer, %remote, ?origin, "line connection established");
        self.line.connect(now.into_std());
    }

    /// The current connection is gone (lost, closed by the line, stalled, or dropped by
    /// us): the policy decides when to dial again.
    pub(super) fn connection_lost(&mut self) {
        let now = Instant::now().into_std();
        if let Some(conn) = self.connection.take() {
            self.attachment.on_lost(conn.id, now, &mut rand::rng());
        }
        debug_assert_eq!(self.attachment.current(), None);
    }

    pub(super) fn drop_connection(&mut self, reason: &str) {
        self.line.close(Instant::now().into_std(), reason);
        // Flush the Close frame best-effort, without waiting on a stalled socket.
        let mut out = Vec::new();
        while self.line.poll_transmit(Instant::now().into_std(), &mut out) {}
        if let Some(conn) = &self.connection {
            let _ = conn.writer.try_send(out);
        }
        self.connection_lost();
        self.line.disconnect(Instant::now().into_std());
    }

    pub(super) fn handle_input(&mut self, id: ConnectionId, input: Input) {
        if self.connection.as_ref().is_none_or(|c| c.id != id) {
            return; // From a connection already replaced or closed.
        }
        let now = Instant::now().into_std();
        if let Input::Data(bytes) = &input {
            self.metrics.bytes_received.fetch_add(bytes.len() as u64, std::sync::atomic::Ordering::Relaxed);
        }
        match input {
            Input::Data(bytes) => match self.line.handle_input(now, &bytes) {
                Ok(()) => {}
                Err(hotline_proto::LineError::PeerClosed(reason)) => {
                    tracing::info!(peer = %self.setup.peer, %reason, "the peer closed the line connection");
                }
                Err(e) => tracing::warn!(peer = %self.setup.peer, error = %e, "line connection closed on bad input"),
            },
            Input::Closed(reason) => {
                tracing::info!(peer = %self.setup.peer, %reason, "line connection lost");
                self.connection_lost();
                self.line.disconnect(now);
            }
        }
    }
}

pub(super) async fn read_loop(
    mut read_half: tokio::io::ReadHalf<Box<dyn LineStream>>,
    id: ConnectionId,
    inputs: mpsc::Sender<(ConnectionId, Input)>,
) {
    let mut buf = vec![0u8; read_chunk_bytes];
    loop {
        let input = match read_half.read(&mut buf).await {
            Ok(0) => Input::Closed("the peer closed the connection".into()),
            Ok(n) => Input::Data(buf[..n].to_vec()),
            Err(e) => Input::Closed(e.to_string()),
        };
        let closed = matches!(input, Input::Closed(_));
        if inputs.send((id, input)).await.is_err() || closed {
            return;
        }
    }
}
