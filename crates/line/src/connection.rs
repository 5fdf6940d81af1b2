//! The line's connection: dialing (primary first, backoff with jitter), probing the
//! primary while on a backup, taking a connection from either end (the preferred dialer
//! decides which one the line runs on), dropping it, and the socket's read loop.

use super::*;

impl LineTask {
    pub(super) fn start_dial(&mut self) {
        self.dialing = true;
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
                Ok((stream, remote, index)) => {
                    Command::Attach { stream: Box::new(stream), dialed_by_us: true, remote, addr_index: Some(index) }
                }
                Err(reason) => Command::DialFailed { reason },
            };
            let _ = commands.send(command).await;
        });
    }

    /// While the line runs on anything but our own dial of the primary address (we being
    /// the preferred dialer), tries the primary now and then and moves the line onto it
    /// when it answers: a backup path may be the costly one.
    pub(super) fn start_primary_probe(&mut self) {
        self.probing = true;
        self.next_primary_probe = None;
        let primary = self.setup.addrs[..1].to_vec();
        let own = self.setup.own_key.clone();
        let peer_key = self.setup.peer_key.clone();
        let commands = self.commands_self.clone();
        tokio::spawn(async move {
            let dialed = net::dial(&primary, &own, &peer_key).await;
            let command = match dialed.result {
                Ok((stream, remote, _)) => {
                    Command::Attach { stream: Box::new(stream), dialed_by_us: true, remote, addr_index: Some(0) }
                }
                Err(_) => Command::ProbeFailed,
            };
            let _ = commands.send(command).await;
        });
    }

    /// Takes a new authenticated connection, or refuses it if the current one is kept. The
    /// preferred dialer (`proto::preferred_dialer`) decides which connection the line
    /// runs on: a connection it dialed replaces the current one (it dials while connected
    /// only to move the line onto its own primary path, or because it found its connection
    /// dead before this end did); one dialed by the other end never replaces anything, so
    /// a second connection from the non-preferred side is refused unread.
    pub(super) fn attach(
        &mut self,
        stream: TlsStream<TcpStream>,
        dialed_by_us: bool,
        remote: String,
        addr_index: Option<usize>,
    ) {
        let local = self.setup.core.name.as_str();
        let preferred = preferred_dialer(local, &self.setup.peer);
        let new_is_preferred = (preferred == local) == dialed_by_us;
        if self.connection.is_some() {
            if !new_is_preferred {
                tracing::info!(peer = %self.setup.peer, %remote, "second connection refused: the current one is kept");
                drop(stream);
                return;
            }
            tracing::info!(peer = %self.setup.peer, %remote, "a newer connection replaces the current one");
            // Not `close`: the line is not down, it moves to another connection. Dropping
            // the old one ends its socket; `Line::connect` below starts the new one.
            self.connection = None;
        }
        self.connection_counter += 1;
        let id = self.connection_counter;
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
        // The preferred dialer moves the line onto its own dial of the primary address
        // whenever it runs on anything else (a backup, or a connection the peer dialed).
        let we_decide = preferred == local;
        self.next_primary_probe = match addr_index {
            Some(0) => None,
            _ if we_decide => Some(Instant::now() + Duration::from_millis(primary_probe_ms)),
            _ => None,
        };
        self.status_tx.send_modify(|s| s.remote = Some(remote.clone()));
        tracing::info!(peer = %self.setup.peer, %remote, dialed_by_us, "line connection established");
        self.line.connect(Instant::now().into_std());
    }

    pub(super) fn drop_connection(&mut self, reason: &str) {
        self.line.close(Instant::now().into_std(), reason);
        // Flush the Close frame best-effort, without waiting on a stalled socket.
        let mut out = Vec::new();
        while self.line.poll_transmit(Instant::now().into_std(), &mut out) {}
        if let Some(conn) = self.connection.take() {
            let _ = conn.writer.try_send(out);
        }
        self.line.disconnect(Instant::now().into_std());
    }

    pub(super) fn handle_input(&mut self, id: u64, input: Input) {
        if self.connection.as_ref().is_none_or(|c| c.id != id) {
            return; // From a connection already replaced or closed.
        }
        let now = Instant::now().into_std();
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
                self.connection = None;
                self.line.disconnect(now);
                self.schedule_redial();
            }
        }
    }

    pub(super) fn schedule_redial(&mut self) {
        let jitter = rand::rng().random_range(0.0..1.0);
        self.next_dial_at = Instant::now() + Duration::from_millis(reconnect_backoff_min_ms).mul_f64(jitter);
    }
}

pub(super) async fn read_loop(
    mut read_half: tokio::io::ReadHalf<TlsStream<TcpStream>>,
    id: u64,
    inputs: mpsc::Sender<(u64, Input)>,
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
