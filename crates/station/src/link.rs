//! One task per line: the `Line` state machine, its connection, and its outbox.
//!
//! The task is the only place that touches the line's `Line` and the only writer of its
//! outbox, so sequence numbers are assigned in one place, in order. It follows the sans-IO
//! driving rule: after every input (a command from the API, bytes from the socket, a
//! timer, a finished dial), it drains the line's transmissions to the socket writer and
//! its events to the store — all events of one round in a single transaction (group
//! commit) — and only then tells the line which received items are durable.
//!
//! Connections come from two places: our own dials (`net::dial`, primary address first,
//! with exponential backoff and jitter) and the listener (`net::accept_loop`). When both
//! ends dial at once, the connection dialed by `proto::preferred_dialer` is kept.

use std::sync::Arc;
use std::time::Duration;

use hotline_identity::{StationKey, VerifierKey};
use hotline_proto::{Event, Lane, Line, LineConfig, LineState, preferred_dialer};
use hotline_store::{Direction, MessageRow, NoticeRow, StoreError, WatchCheckRow};
use rand::Rng as _;
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tokio_rustls::TlsStream;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::core::{Core, Journal};
use crate::error::ApiError;
use crate::item::{Item, SignedItem, lane_for};
use crate::supervise::Supervisor;
use crate::{net, now_ms, receive};

/// Commands queued for a line task before the API gets "busy".
#[allow(non_upper_case_globals)]
pub const line_commands_max: usize = 1024;
/// Chunks read from a socket and not yet handled, per connection.
#[allow(non_upper_case_globals)]
const connection_inputs_max: usize = 64;
/// Chunks waiting for the socket writer.
#[allow(non_upper_case_globals)]
const connection_writes_max: usize = 64;
/// Bytes read from a socket at a time.
#[allow(non_upper_case_globals)]
const read_chunk_bytes: usize = 64 * 1024;
/// Bytes gathered from `poll_transmit` before they are handed to the writer.
#[allow(non_upper_case_globals)]
const write_chunk_bytes: usize = 256 * 1024;
/// Pause after a failed store write before the line task tries again.
#[allow(non_upper_case_globals)]
const store_retry_ms: u64 = 200;
/// Messages accepted in one transaction at most: sends that wait in the command queue
/// while a commit is under way share the next one (group commit), so a burst costs one
/// sync per batch instead of one per message.
#[allow(non_upper_case_globals)]
const accept_batch_max: usize = 64;
/// Longest a round of "sent" marks waits to share a commit with something durable.
#[allow(non_upper_case_globals)]
const deferred_events_ms: u64 = 100;
/// How often the line looks for notices past their end (plus the time buffer).
#[allow(non_upper_case_globals)]
const notice_expiry_check_ms: u64 = 10_000;
/// How often a line running on a backup address tries to move back to the primary.
#[allow(non_upper_case_globals)]
const primary_probe_ms: u64 = 5000;
/// First reconnect delay; doubles per failure up to the line's configured cap.
#[allow(non_upper_case_globals)]
const reconnect_backoff_min_ms: u64 = 100;

/// What the API sees of a line.
#[derive(Clone, Debug)]
pub struct LineStatus {
    pub state: LineState,
    pub since_ms: i64,
    pub rtt_ms: Option<f64>,
    pub remote: Option<String>,
}

/// A new message from an operator, validated by the API.
pub struct NewMessage {
    pub precedence: String,
    pub lang: String,
    pub body: String,
    pub reply_to: Option<String>,
    pub author: String,
}

pub enum Command {
    Send {
        message: NewMessage,
        reply: oneshot::Sender<Result<MessageRow, ApiError>>,
    },
    Ack {
        id: String,
        by: String,
        reply: oneshot::Sender<Result<MessageRow, ApiError>>,
    },
    Notice {
        change: NoticeChange,
        reply: oneshot::Sender<Result<NoticeRow, ApiError>>,
    },
    /// Send a watch check to the peer now.
    WatchCheck {
        reply: oneshot::Sender<Result<WatchCheckRow, ApiError>>,
    },
    /// An operator here answers the peer's watch check `id`.
    AnswerCheck {
        id: String,
        by: String,
        reply: oneshot::Sender<Result<WatchCheckRow, ApiError>>,
    },
    Attach {
        stream: Box<TlsStream<TcpStream>>,
        dialed_by_us: bool,
        remote: String,
        /// Which of the line's addresses we dialed (0: the primary); `None` if the peer dialed.
        addr_index: Option<usize>,
    },
    /// A dial back to the primary address, made while the line runs on a backup, failed.
    ProbeFailed,
    DialFailed {
        reason: String,
    },
    /// A dial met another key at `addr` (the line may still have come up elsewhere).
    KeyMismatch {
        addr: String,
    },
    Shutdown {
        done: oneshot::Sender<()>,
    },
}

/// A change to a notice of ours, validated by the API.
pub enum NoticeChange {
    /// A new notice: its JSON (canonical form) and end time.
    File { body: String, end_ms: i64 },
    /// A new version of notice `id`.
    Amend { id: String, body: String, end_ms: i64 },
    /// Notice `id` is withdrawn.
    Cancel { id: String },
    /// An operator here has read the peer's notice `id` (its latest version).
    Ack { id: String, by: String },
}

/// The API's handle on a line task.
#[derive(Clone)]
pub struct LineHandle {
    pub peer: String,
    pub key: VerifierKey,
    pub addrs: Vec<String>,
    pub commands: mpsc::Sender<Command>,
    pub status: watch::Receiver<LineStatus>,
}

impl LineHandle {
    /// Sends a command and waits for its answer.
    pub async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, ApiError>>) -> Command,
    ) -> Result<T, ApiError> {
        let (reply, answer) = oneshot::channel();
        self.commands.send(make(reply)).await.map_err(|_| ApiError::ShuttingDown)?;
        answer.await.map_err(|_| ApiError::ShuttingDown)?
    }
}

enum Input {
    Data(Vec<u8>),
    Closed(String),
}

struct Connection {
    id: u64,
    writer: mpsc::Sender<Vec<u8>>,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// Everything a line task needs to start.
pub struct LineSetup {
    pub core: Arc<Core>,
    pub own_key: Arc<StationKey>,
    pub peer: String,
    pub peer_key: VerifierKey,
    pub addrs: Vec<String>,
    pub config: LineConfig,
    pub backoff_max: Duration,
    /// Our latest signed checkpoint (size, note), for the peer to witness.
    pub checkpoints: watch::Receiver<Option<(u64, String)>>,
    /// The watch: deadlines, alarms, escalation.
    pub supervisor: Arc<Supervisor>,
    /// How many operators are on watch here, for the peer.
    pub presence: watch::Receiver<u32>,
}

/// Restores the line from the store and starts its task.
pub async fn start(setup: LineSetup) -> Result<(LineHandle, tokio::task::JoinHandle<()>), StoreError> {
    let peer = setup.peer.clone();
    let restored = setup.core.read(move |tx| tx.restore_line(&peer)).await?;
    let line = Line::new(setup.config.clone(), &setup.core.name, &setup.peer, Instant::now().into_std(), restored);
    let (commands, command_rx) = mpsc::channel(line_commands_max);
    let (status_tx, status) =
        watch::channel(LineStatus { state: LineState::Connecting, since_ms: now_ms(), rtt_ms: None, remote: None });
    let handle = LineHandle {
        peer: setup.peer.clone(),
        key: setup.peer_key.clone(),
        addrs: setup.addrs.clone(),
        commands: commands.clone(),
        status,
    };
    let (input_tx, input_rx) = mpsc::channel(connection_inputs_max);
    let task = LineTask {
        line,
        commands_self: commands,
        command_rx,
        input_tx,
        input_rx,
        status_tx,
        connection: None,
        connection_counter: 0,
        dialing: false,
        probing: false,
        next_primary_probe: None,
        notices: Default::default(),
        deferred: Vec::new(),
        deferred_since: None,
        next_expiry: Instant::now(),
        backoff: Duration::from_millis(reconnect_backoff_min_ms),
        next_dial_at: Instant::now(),
        witness_pending: false,
        witness_blocked: false,
        presence_sent: None,
        pending_command: None,
        setup,
    };
    let join = tokio::spawn(task.run());
    Ok((handle, join))
}

struct LineTask {
    setup: LineSetup,
    line: Line,
    commands_self: mpsc::Sender<Command>,
    command_rx: mpsc::Receiver<Command>,
    input_tx: mpsc::Sender<(u64, Input)>,
    input_rx: mpsc::Receiver<(u64, Input)>,
    status_tx: watch::Sender<LineStatus>,
    connection: Option<Connection>,
    connection_counter: u64,
    dialing: bool,
    /// A dial to the primary address is under way while the line runs on a backup.
    probing: bool,
    /// The line's active notices (see `notices::LiveIndex`).
    notices: crate::notices::LiveIndex,
    /// Events waiting to share the next commit (see `apply_events_or_flush`), and since when.
    deferred: Vec<Event>,
    deferred_since: Option<Instant>,
    /// When to next look for notices past their end.
    next_expiry: Instant,
    /// When to try the primary again (`Some` only at the preferred dialer, while the line
    /// runs on a backup or on a connection the peer dialed).
    next_primary_probe: Option<Instant>,
    backoff: Duration,
    next_dial_at: Instant,
    /// A checkpoint of ours is with the peer, awaiting its cosignature or refusal.
    witness_pending: bool,
    /// The peer found our record inconsistent: send no more checkpoints until restart.
    witness_blocked: bool,
    /// The operators-on-watch count last sent to the peer since start.
    presence_sent: Option<u32>,
    /// A command taken from the queue while gathering a batch of sends, to handle next.
    pending_command: Option<Command>,
}

/// What a line task needs inside a store transaction.
#[derive(Clone)]
pub(crate) struct Ends {
    pub(crate) local: String,
    /// The station's language, for system-generated texts.
    pub(crate) lang: String,
    /// The line's active notices, indexed for conflict checks.
    pub(crate) notices: crate::notices::LiveIndex,
    pub(crate) peer: String,
    pub(crate) key: Arc<StationKey>,
    pub(crate) peer_key: VerifierKey,
}

/// What a round of line events changed beyond the store.
#[derive(Default)]
pub(crate) struct Round {
    /// Items written to the outbox in the transaction, to push after the commit.
    pub(crate) outbound: Vec<(Lane, u64, Vec<u8>)>,
    /// The peer answered our checkpoint (cosigned or refused).
    pub(crate) witness_answered: bool,
    /// The peer refused our checkpoint as inconsistent with what it cosigned before.
    pub(crate) witness_critical: bool,
    /// What the watch must be told once the round is committed.
    pub(crate) observed: Vec<Observed>,
    /// Alarms raised in the round's transaction, for the watch to escalate.
    pub(crate) alarms: Vec<hotline_store::AlarmRow>,
}

/// Something a round stored that the watch must know (always about this line's peer).
pub(crate) enum Observed {
    /// A message arrived (it may need acknowledging by a deadline).
    Message { id: String, precedence: String, created_ms: i64 },
    /// The peer acknowledged one of our messages.
    Acknowledged { id: String },
    /// The peer's watch check arrived, to be answered by `deadline_ms`.
    CheckReceived { id: String, deadline_ms: i64 },
    /// The peer answered our watch check.
    CheckAnswered { id: String },
    /// The peer reports operators on watch.
    Presence { on_watch: u32, since_ms: i64 },
}

impl LineTask {
    fn ends(&self) -> Ends {
        Ends {
            local: self.setup.core.name.clone(),
            lang: self.setup.core.lang.clone(),
            notices: self.notices.clone(),
            peer: self.setup.peer.clone(),
            key: self.setup.own_key.clone(),
            peer_key: self.setup.peer_key.clone(),
        }
    }

    /// Sends our latest checkpoint to the peer for witnessing, if it is newer than what the
    /// peer last cosigned and no other is outstanding. The proof runs from the last size
    /// the peer cosigned, which is what its witness state holds.
    async fn offer_checkpoint(&mut self) -> Result<(), StoreError> {
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
            self.setup.core.write(move |j| receive::enqueue_control(j, &ends.peer, &signed)).await?;
        self.line.push(lane, seq, payload);
        self.witness_pending = true;
        Ok(())
    }

    async fn run(mut self) {
        let peer = self.setup.peer.clone();
        loop {
            if let Err(e) = self.drain().await {
                // A store failure leaves the items unreceipted; the peer sends them again.
                tracing::error!(peer = %peer, error = %e, "line could not write to the store; dropping the connection");
                self.forget_notice_index();
                self.drop_connection("the station could not write to its disk");
                self.line.abandon_undurable();
                // Short: API commands wait behind this, and must get their clear refusal soon.
                tokio::time::sleep(Duration::from_millis(store_retry_ms)).await;
                continue;
            }
            let now = Instant::now();
            if self.connection.is_none() && !self.dialing && now >= self.next_dial_at {
                self.start_dial();
            }
            if now >= self.next_expiry {
                self.next_expiry = now + Duration::from_millis(notice_expiry_check_ms);
                let (peer, live) = (self.setup.peer.clone(), self.notices.clone());
                let (local, lang) = (self.setup.core.name.clone(), self.setup.core.lang.clone());
                let expired = self
                    .setup
                    .core
                    .write(move |j| {
                        let names = crate::notices::Names { local: &local, lang: &lang };
                        crate::notices::expire_notices(j, &names, &peer, &live)
                    })
                    .await;
                if let Err(e) = expired {
                    tracing::error!(peer = %self.setup.peer, error = %e, "could not expire notices");
                    self.forget_notice_index();
                }
            }
            if let Some(since) = self.deferred_since
                && now >= since + Duration::from_millis(deferred_events_ms)
                && let Err(e) = self.flush_deferred().await
            {
                tracing::error!(peer = %peer, error = %e, "could not record sent marks");
            }
            let mut wake = self.line.poll_timeout().map(Instant::from_std).unwrap_or(now + Duration::from_secs(3600));
            wake = wake.min(self.next_expiry);
            if let Some(since) = self.deferred_since {
                wake = wake.min(since + Duration::from_millis(deferred_events_ms));
            }
            if self.connection.is_none() && !self.dialing {
                wake = wake.min(self.next_dial_at);
            }
            if self.connection.is_some() && !self.probing {
                match self.next_primary_probe {
                    Some(at) if now >= at => self.start_primary_probe(),
                    Some(at) => wake = wake.min(at),
                    None => {}
                }
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

    async fn handle_command(&mut self, command: Command) -> Flow {
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
            Command::AnswerCheck { id, by, reply } => {
                let _ = reply.send(self.answer_watch_check(id, by).await);
            }
            Command::Attach { stream, dialed_by_us, remote, addr_index } => {
                if dialed_by_us {
                    self.dialing = false;
                }
                if addr_index == Some(0) {
                    self.probing = false;
                }
                self.attach(*stream, dialed_by_us, remote, addr_index);
            }
            Command::ProbeFailed => {
                self.probing = false;
                self.next_primary_probe = Some(Instant::now() + Duration::from_millis(primary_probe_ms));
            }
            Command::DialFailed { reason } => {
                self.dialing = false;
                let jitter = rand::rng().random_range(0.5..1.0);
                self.next_dial_at = Instant::now() + self.backoff.mul_f64(jitter);
                tracing::debug!(peer = %self.setup.peer, %reason, retry_in_ms = self.backoff.as_millis() as u64, "dial failed");
                self.backoff = (self.backoff * 2).min(self.setup.backoff_max);
            }
            Command::KeyMismatch { addr } => {
                let presented = format!("(a key presented at {addr})");
                let detail = format!("{presented}\u{1f}{}", self.setup.peer_key.fingerprint());
                self.setup.supervisor.key_mismatch(&self.setup.peer, &detail);
            }
            Command::Shutdown { done } => {
                self.shutdown().await;
                let _ = done.send(());
                return Flow::Stop;
            }
        }
        Flow::Continue
    }

    fn start_dial(&mut self) {
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
    fn start_primary_probe(&mut self) {
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
    fn attach(&mut self, stream: TlsStream<TcpStream>, dialed_by_us: bool, remote: String, addr_index: Option<usize>) {
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
        tokio::spawn(async move {
            while let Some(bytes) = write_rx.recv().await {
                if write_half.write_all(&bytes).await.is_err() || write_half.flush().await.is_err() {
                    return;
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

    fn drop_connection(&mut self, reason: &str) {
        self.line.close(Instant::now().into_std(), reason);
        // Flush the Close frame best-effort, without waiting on a stalled socket.
        let mut out = Vec::new();
        while self.line.poll_transmit(Instant::now().into_std(), &mut out) {}
        if let Some(conn) = self.connection.take() {
            let _ = conn.writer.try_send(out);
        }
        self.line.disconnect(Instant::now().into_std());
    }

    fn handle_input(&mut self, id: u64, input: Input) {
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

    fn schedule_redial(&mut self) {
        let jitter = rand::rng().random_range(0.0..1.0);
        self.next_dial_at = Instant::now() + Duration::from_millis(reconnect_backoff_min_ms).mul_f64(jitter);
    }

    /// Moves everything the line produced: bytes to the socket, events to the store.
    async fn drain(&mut self) -> Result<(), StoreError> {
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
                && conn.writer.send(out).await.is_err()
            {
                self.connection = None;
                self.line.disconnect(now);
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

    async fn apply_events(&mut self, events: Vec<Event>) -> Result<(), StoreError> {
        self.apply_events_or_flush(events, false).await
    }

    /// Commits the deferred events now (their wait is over).
    async fn flush_deferred(&mut self) -> Result<(), StoreError> {
        self.apply_events_or_flush(Vec::new(), true).await
    }

    async fn apply_events_or_flush(&mut self, events: Vec<Event>, flush: bool) -> Result<(), StoreError> {
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
                    self.connection = None;
                    self.schedule_redial();
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
                        self.backoff = Duration::from_millis(reconnect_backoff_min_ms);
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
        // next commit, so a message costs one fsync fewer at each end.
        let deferrable = |e: &Event| matches!(e, Event::Sent { .. } | Event::Delivered { lane: Lane::Control, .. });
        if !to_store.is_empty() && to_store.iter().all(deferrable) && !flush {
            if self.deferred.is_empty() {
                self.deferred_since = Some(Instant::now());
            }
            self.deferred.append(&mut to_store);
            return Ok(());
        }
        if to_store.is_empty() && (self.deferred.is_empty() || !flush) {
            return Ok(());
        }
        let mut deferred = std::mem::take(&mut self.deferred);
        self.deferred_since = None;
        deferred.append(&mut to_store);
        let to_store = deferred;
        let remote = self.status_tx.borrow().remote.clone();
        let ends = self.ends();
        let round = self.setup.core.write(move |j| receive::store_events(j, &ends, to_store, remote)).await?;
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

    /// Signs a new message for the line, without storing it.
    fn prepare_message(&self, ends: &Ends, m: NewMessage) -> Result<Prepared, ApiError> {
        let lane = lane_for(&m.precedence);
        let created_ms = now_ms();
        let row = MessageRow {
            id: uuid::Uuid::now_v7().to_string(),
            peer: ends.peer.clone(),
            direction: Direction::Out,
            precedence: m.precedence,
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
            return Err(ApiError::TooLarge(format!(
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
    async fn accept_messages(&mut self, batch: Vec<(NewMessage, oneshot::Sender<Result<MessageRow, ApiError>>)>) {
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
                        "message.queued",
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
                    let _ = reply.send(Err(api_error_of(&e)));
                }
                return;
            }
        };
        for ((p, seq), reply) in prepared.into_iter().zip(seqs).zip(replies) {
            let Some(seq) = seq else {
                let _ = reply.send(Err(ApiError::bad("bad_reply_to", "reply_to names no message on this line")));
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

    async fn accept_ack(&mut self, id: String, by: String) -> Result<MessageRow, ApiError> {
        let ends = self.ends();
        let (message, outbound) = self
            .setup
            .core
            .write(move |j| {
                let Some(message) = j.tx.message(&id)? else {
                    return Ok(Err(ApiError::NotFound(format!("no message {id}"))));
                };
                if message.direction != Direction::In {
                    return Ok(Err(ApiError::Conflict("only the receiving station acknowledges a message".into())));
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
                let outbound = receive::enqueue_control(j, &ends.peer, &signed)?;
                let message = j.tx.message(&id)?.unwrap_or(message);
                j.append(
                    "message.acknowledged",
                    json!({"peer": ends.peer, "id": id, "by": by, "message": message_json(&message),
                           "item": signed.text, "sig": signed.sig}),
                )?;
                Ok(Ok((message, Some(outbound))))
            })
            .await
            .map_err(ApiError::from)??;
        if let Some((lane, seq, payload)) = outbound {
            self.line.push(lane, seq, payload);
        }
        let (peer, id) = (message.peer.clone(), message.id.clone());
        self.setup.supervisor.observe(|w, now| w.on_message_acknowledged(&peer, &id, now));
        Ok(message)
    }

    async fn accept_notice(&mut self, change: NoticeChange) -> Result<NoticeRow, ApiError> {
        if let NoticeChange::Ack { id, by } = change {
            return self.accept_notice_ack(id, by).await;
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
                            return Ok(Err(ApiError::NotFound(format!("no notice {id}"))));
                        };
                        if let Some(refusal) = refuse_change(&current, &ends.peer) {
                            return Ok(Err(refusal));
                        }
                        (id, current.version + 1, "amended", body, end_ms)
                    }
                    NoticeChange::Ack { .. } => {
                        return Ok(Err(ApiError::Internal("notice ack in the wrong path".into())));
                    }
                    NoticeChange::Cancel { id } => {
                        let Some(current) = j.tx.latest_notice(&id)? else {
                            return Ok(Err(ApiError::NotFound(format!("no notice {id}"))));
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
                    return Ok(Err(ApiError::TooLarge(format!(
                        "the notice is {encoded_bytes} bytes once encoded for the line; the limit is {} bytes",
                        hotline_proto::payload_bytes_max
                    ))));
                }
                j.tx.insert_notice(&row)?;
                let outbound = receive::enqueue_control(j, &ends.peer, &signed)?;
                j.append(
                    &format!("notice.{state}"),
                    json!({"peer": ends.peer, "id": id, "version": version,
                           "notice": crate::notices::notice_json(&row, &ends.local),
                           "summary": crate::notices::summary(&ends.lang, &row.body),
                           "item": signed.text, "sig": signed.sig}),
                )?;
                let names = crate::notices::Names { local: &ends.local, lang: &ends.lang };
                crate::notices::detect_conflicts(j, &names, &ends.peer, &id, &ends.notices)?;
                Ok(Ok((row, outbound)))
            })
            .await
            .map_err(ApiError::from)??;
        self.line.push(lane, seq, payload);
        Ok(row)
    }

    async fn accept_notice_ack(&mut self, id: String, by: String) -> Result<NoticeRow, ApiError> {
        let ends = self.ends();
        let key = ends.key.clone();
        let (row, outbound) = self
            .setup
            .core
            .write(move |j| {
                let Some(current) = j.tx.latest_notice(&id)? else {
                    return Ok(Err(ApiError::NotFound(format!("no notice {id}"))));
                };
                if current.peer != ends.peer || current.side != "theirs" {
                    return Ok(Err(ApiError::Conflict(
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
                let outbound = receive::enqueue_control(j, &ends.peer, &signed)?;
                let row = j.tx.latest_notice(&id)?.unwrap_or(current);
                j.append(
                    "notice.acknowledged",
                    json!({"peer": ends.peer, "id": id, "version": row.version, "by": by,
                           "item": signed.text, "sig": signed.sig}),
                )?;
                Ok(Ok((row, Some(outbound))))
            })
            .await
            .map_err(ApiError::from)??;
        if let Some((lane, seq, payload)) = outbound {
            self.line.push(lane, seq, payload);
        }
        Ok(row)
    }

    /// A write that may have changed the live notice index failed and rolled back: rebuild
    /// the index from the store before its next use.
    fn forget_notice_index(&self) {
        *self.notices.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Sends a watch check: an operator at the peer must answer it by the line's deadline.
    async fn send_watch_check(&mut self) -> Result<WatchCheckRow, ApiError> {
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
                let outbound = receive::enqueue_control(j, &ends.peer, &signed)?;
                j.append(
                    "watch_check.sent",
                    json!({"peer": ends.peer, "id": row.id, "deadline": crate::rfc3339(row.deadline_ms),
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
    async fn answer_watch_check(&mut self, id: String, by: String) -> Result<WatchCheckRow, ApiError> {
        let ends = self.ends();
        let (row, outbound) = self
            .setup
            .core
            .write(move |j| {
                let Some(check) = j.tx.watch_check(&id)? else {
                    return Ok(Err(ApiError::NotFound(format!("no watch check {id}"))));
                };
                if check.peer != ends.peer || check.direction != "in" {
                    return Ok(Err(ApiError::Conflict("only the station a watch check was sent to answers it".into())));
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
                let outbound = receive::enqueue_control(j, &ends.peer, &signed)?;
                let late = check.missed || at_ms > check.deadline_ms;
                j.append(
                    "watch_check.answered",
                    json!({"peer": ends.peer, "id": id, "direction": "in", "by": by,
                           "answered_in_ms": at_ms - check.sent_ms, "late": late,
                           "item": signed.text, "sig": signed.sig}),
                )?;
                let row = j.tx.watch_check(&id)?.unwrap_or(check);
                Ok(Ok((row, Some(outbound))))
            })
            .await
            .map_err(ApiError::from)??;
        if let Some((lane, seq, payload)) = outbound {
            self.line.push(lane, seq, payload);
        }
        let (peer, id) = (row.peer.clone(), row.id.clone());
        self.setup.supervisor.observe(|w, now| w.on_check_answered(&peer, &id, hotline_watch::Direction::In, now));
        Ok(row)
    }

    /// Tells the peer how many operators are on watch here, if that changed.
    async fn send_presence(&mut self) -> Result<(), StoreError> {
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
                let outbound = receive::enqueue_control(j, &ends.peer, &signed)?;
                j.append(
                    "presence.sent",
                    json!({"peer": ends.peer, "on_watch": on_watch, "item": signed.text, "sig": signed.sig}),
                )?;
                Ok(outbound)
            })
            .await?;
        self.line.push(lane, seq, payload);
        self.presence_sent = Some(on_watch);
        Ok(())
    }

    async fn shutdown(&mut self) {
        self.line.close(Instant::now().into_std(), "the station is shutting down");
        let _ = self.drain().await;
        let _ = self.flush_deferred().await;
        self.connection = None;
    }
}

async fn read_loop(
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

/// The first time the line is up since start, the peer hears who is on watch here.
fn came_up_first_time(presence_sent: &Option<u32>, up_now: bool) -> bool {
    presence_sent.is_none() && up_now
}

/// The JSON shape of a message, shared by the API, the event stream and the record.
pub fn message_json(m: &MessageRow) -> serde_json::Value {
    let t = |ms: Option<i64>| ms.map(crate::rfc3339);
    json!({
        "id": m.id,
        "peer": m.peer,
        "direction": match m.direction { Direction::Out => "out", Direction::In => "in" },
        "state": m.state(),
        "precedence": m.precedence,
        "lang": m.lang,
        "body": m.body,
        "reply_to": m.reply_to,
        "author": m.author,
        "created": crate::rfc3339(m.created_ms),
        "sent": t(m.sent_ms),
        "delivered": t(m.delivered_ms),
        "acknowledged": t(m.acked_ms),
        "acknowledged_by": m.acked_by,
    })
}

/// Only our own, uncancelled notices on this line can be amended or cancelled here.
fn refuse_change(current: &NoticeRow, peer: &str) -> Option<ApiError> {
    if current.peer != peer {
        return Some(ApiError::NotFound(format!("no notice {} on the line to {peer}", current.id)));
    }
    if current.side != "ours" {
        return Some(ApiError::Conflict("only the station that filed a notice can change it".into()));
    }
    if current.state == "cancelled" || current.state == "expired" {
        return Some(ApiError::Conflict(format!("notice {} is {}", current.id, current.state)));
    }
    None
}

/// The line's counter and the store agree, or the outbox would get a gap.
/// Whether the line task goes on after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Continue,
    Stop,
}

/// A message signed and encoded for the line, waiting for its transaction.
#[derive(Clone)]
struct Prepared {
    row: MessageRow,
    lane: Lane,
    payload: Vec<u8>,
    signed: SignedItem,
}

/// The API's answer to a store failure, for each of the senders whose batch it failed.
fn api_error_of(e: &StoreError) -> ApiError {
    match e {
        StoreError::DiskFull => ApiError::DiskFull,
        other => ApiError::Internal(format!("store: {other}")),
    }
}

pub(crate) fn check_seq(j: &Journal<'_>, peer: &str, lane: Lane, seq: u64) -> Result<(), StoreError> {
    let expected = j.tx.next_out_seq(peer, lane)?;
    if expected != seq {
        return Err(StoreError::Corrupt(format!(
            "outbox to {peer} lane {lane:?}: store says {expected}, line says {seq}"
        )));
    }
    Ok(())
}
