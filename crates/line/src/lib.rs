//! One task per line: the `Line` state machine, its connection, and its outbox.
//!
//! The task is the only place that touches the line's `Line` and the only writer of its
//! outbox, so sequence numbers are assigned in one place, in order. It follows the sans-IO
//! driving rule: after every input (a command from the API, bytes from the socket, a
//! timer, a finished dial), it drains the line's transmissions to the socket writer and
//! its events to the store — all events of one round in a single transaction (group
//! commit) — and only then tells the line which received items are durable.
//!
//! Connections come from two places: our own dials (`net::dial`, primary address first)
//! and the listener (`net::accept_loop`). Which one the line runs on, when to dial, back
//! off or probe the primary is `hotline_proto::Attachment`'s decision; the task only
//! carries it out. A connection is any byte stream (`LineStream`): TLS over TCP in a
//! station, an in-memory pipe in the two-station test under simulated time.

use std::sync::Arc;
use std::time::Duration;

use hotline_identity::{StationKey, VerifierKey};
use hotline_proto::{
    Attachment, AttachmentConfig, ConnectionId, Deferral, Event, Lane, Line, LineConfig, LineState, Offer, Origin,
    Start,
};
use hotline_store::{Direction, MessageRow, NoticeRow, StoreError, WatchCheckRow};
use serde_json::json;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use hotline_core::core::{Core, Journal};
use hotline_core::now_ms;
use hotline_core::supervise::Supervisor;
use hotline_core::views::message_json;
use hotline_item::{Item, SignedItem, lane_for};

pub mod calls;
mod connection;
mod error;
pub use error::LineError;
pub use items::recording::Recording;
mod items;
pub mod net;
mod outbox;
mod receive;
mod registry;
pub use registry::Lines;
mod supervised;
mod task;

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
/// A socket write (one chunk) that takes longer than this means the peer stopped
/// reading, or the path died under us: the connection is dropped and redialed.
#[allow(non_upper_case_globals)]
const socket_write_stall_ms_max: u64 = 5000;
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
    pub precedence: hotline_item::Precedence,
    pub lang: String,
    pub body: String,
    pub reply_to: Option<String>,
    pub author: String,
}

pub enum Command {
    Send {
        message: NewMessage,
        reply: oneshot::Sender<Result<MessageRow, LineError>>,
    },
    Ack {
        id: String,
        by: String,
        reply: oneshot::Sender<Result<MessageRow, LineError>>,
    },
    Notice {
        change: NoticeChange,
        reply: oneshot::Sender<Result<NoticeRow, LineError>>,
    },
    /// Send a watch check to the peer now.
    WatchCheck {
        reply: oneshot::Sender<Result<WatchCheckRow, LineError>>,
    },
    /// An operator here answers the peer's watch check `id`.
    AnswerCheck {
        id: String,
        by: String,
        reply: oneshot::Sender<Result<WatchCheckRow, LineError>>,
    },
    /// An authenticated connection to run the line on (its far end proved the pinned key).
    Attach {
        stream: Box<dyn LineStream>,
        origin: Origin,
        remote: String,
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
    /// An operator here starts, answers, declines or hangs up a call; the answer is the
    /// call as the API shows it.
    Call {
        op: calls::CallOp,
        by: String,
        reply: oneshot::Sender<Result<serde_json::Value, LineError>>,
    },
    /// Our recording of a call on this line is sealed: record it and tell the peer.
    Recorded {
        recording: items::recording::Recording,
        reply: oneshot::Sender<Result<(), LineError>>,
    },
    /// Our recorder stopped (or could not start) recording a call on this line at
    /// `stopped_ms` (Unix ms): record it and raise the alarm. The call goes on.
    RecordingStopped {
        call: hotline_call::CallId,
        stopped_ms: i64,
        why: String,
        reply: oneshot::Sender<Result<(), LineError>>,
    },
    /// Ends the task with a panic, as a defect would: the supervision test.
    #[cfg(test)]
    FailForTest,
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
        make: impl FnOnce(oneshot::Sender<Result<T, LineError>>) -> Command,
    ) -> Result<T, LineError> {
        let (reply, answer) = oneshot::channel();
        self.commands.send(make(reply)).await.map_err(|_| LineError::ShuttingDown)?;
        answer.await.map_err(|_| LineError::ShuttingDown)?
    }
}

enum Input {
    Data(Vec<u8>),
    Closed(String),
}

/// A connection's bytes: TLS over TCP in a station, `tokio::io::duplex` in tests.
pub trait LineStream: AsyncRead + AsyncWrite + Send + Unpin + 'static {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> LineStream for T {}

struct Connection {
    id: ConnectionId,
    writer: mpsc::Sender<Vec<u8>>,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// Everything a line task needs to start.
#[derive(Clone)]
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
    /// How long a call started on this line rings before it is missed.
    pub call_ring_timeout_ms: u64,
    /// How long an answered call on this line outlives the line being down.
    pub call_line_grace_ms: u64,
    /// How long we keep a recording of a call on this line (`recording_retention_days`),
    /// as our `call_recorded` item tells the peer.
    pub recording_retention_days: u32,
}

/// How the watch starts a scheduled check: the line task of that peer sends it (looked
/// up when the check is due, so a line added or removed while serving is seen).
pub fn start_watch_checks(lines: impl Into<Lines>) -> hotline_core::supervise::StartCheck {
    let lines: Lines = lines.into();
    Box::new(move |peer: String| {
        let Some(line) = lines.get(&peer) else { return };
        tokio::spawn(async move {
            if let Err(e) = line.ask(|reply| Command::WatchCheck { reply }).await {
                tracing::error!(peer = %line.peer, error = %e, "scheduled watch check not sent");
            }
        });
    })
}

/// Starts the line's supervised task (see `supervised`), which restores the line from
/// the store. Fails only if the first restore does.
pub async fn start(setup: LineSetup) -> Result<(LineHandle, tokio::task::JoinHandle<()>), StoreError> {
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
    let ports =
        Ports { commands, command_rx: Arc::new(tokio::sync::Mutex::new(command_rx)), status_tx: Arc::new(status_tx) };
    let first = LineTask::restore(setup.clone(), &ports).await?;
    let join = tokio::spawn(supervised::run(setup, ports, first));
    Ok((handle, join))
}

/// What outlives one incarnation of a line task: the API's ends of the command queue
/// and of the status, so a restarted task answers the same `LineHandle`.
pub(crate) struct Ports {
    commands: mpsc::Sender<Command>,
    /// Locked by the running task for its whole life; a task that panics drops the
    /// guard, and the next incarnation takes the queue with every command still in it.
    command_rx: Arc<tokio::sync::Mutex<mpsc::Receiver<Command>>>,
    status_tx: Arc<watch::Sender<LineStatus>>,
}

impl LineTask {
    /// A task for the line as the store has it: the `Line` restored from the outbox and
    /// inbox, no connection, dialing at once.
    async fn restore(setup: LineSetup, ports: &Ports) -> Result<LineTask, StoreError> {
        let peer = setup.peer.clone();
        let restored = setup.core.read(move |tx| tx.restore_line(&peer)).await?;
        let line = Line::new(setup.config.clone(), &setup.core.name, &setup.peer, Instant::now().into_std(), restored);
        let (input_tx, input_rx) = mpsc::channel(connection_inputs_max);
        let policy = AttachmentConfig {
            backoff_min: Duration::from_millis(reconnect_backoff_min_ms),
            backoff_max: setup.backoff_max.max(Duration::from_millis(reconnect_backoff_min_ms)),
            primary_probe_interval: Duration::from_millis(primary_probe_ms),
        };
        let attachment = Attachment::new(policy, &setup.core.name, &setup.peer, Instant::now().into_std());
        Ok(LineTask {
            line,
            commands_self: ports.commands.clone(),
            command_rx: ports.command_rx.clone().lock_owned().await,
            input_tx,
            input_rx,
            status_tx: ports.status_tx.clone(),
            connection: None,
            attachment,
            notices: Default::default(),
            calls: Default::default(),
            deferral: Deferral::new(Duration::from_millis(deferred_events_ms)),
            next_expiry: Instant::now(),
            witness_pending: false,
            witness_blocked: false,
            presence_sent: None,
            pending_command: None,
            metrics: setup.core.metrics.line(&setup.peer),
            setup,
        })
    }
}

struct LineTask {
    setup: LineSetup,
    line: Line,
    commands_self: mpsc::Sender<Command>,
    command_rx: tokio::sync::OwnedMutexGuard<mpsc::Receiver<Command>>,
    input_tx: mpsc::Sender<(ConnectionId, Input)>,
    input_rx: mpsc::Receiver<(ConnectionId, Input)>,
    status_tx: Arc<watch::Sender<LineStatus>>,
    /// The socket of the connection `attachment` runs the line on (the same id, always).
    connection: Option<Connection>,
    /// The connection policy: dialing, backoff, which connection wins, probing the primary.
    attachment: Attachment,
    /// The line's active notices (see `notices::LiveIndex`).
    notices: hotline_core::notices::LiveIndex,
    /// The line's calls (see `calls::LiveCalls`).
    calls: calls::LiveCalls,
    /// Events waiting to share the next commit (see `apply_events_or_flush`).
    deferral: Deferral,
    /// When to next look for notices past their end.
    next_expiry: Instant,
    /// A checkpoint of ours is with the peer, awaiting its cosignature or refusal.
    witness_pending: bool,
    /// The peer found our record inconsistent: send no more checkpoints until restart.
    witness_blocked: bool,
    /// The operators-on-watch count last sent to the peer since start.
    presence_sent: Option<u32>,
    /// A command taken from the queue while gathering a batch of sends, to handle next.
    pending_command: Option<Command>,
    /// This line's counters (`/metrics`), counted after each commit.
    metrics: Arc<hotline_core::metrics::LineMetrics>,
}

/// What a line task needs inside a store transaction.
#[derive(Clone)]
pub(crate) struct Ends {
    pub(crate) local: String,
    /// The station's language, for system-generated texts.
    pub(crate) lang: String,
    /// The line's active notices, indexed for conflict checks.
    pub(crate) notices: hotline_core::notices::LiveIndex,
    pub(crate) peer: String,
    pub(crate) key: Arc<StationKey>,
    pub(crate) peer_key: VerifierKey,
    /// The line's calls (see `calls::LiveCalls`).
    pub(crate) calls: calls::LiveCalls,
    pub(crate) call_ring_timeout_ms: u64,
    pub(crate) call_line_grace_ms: u64,
}

impl Ends {
    pub(crate) fn call_ends(&self) -> calls::CallEnds<'_> {
        calls::CallEnds {
            local: &self.local,
            peer: &self.peer,
            key: &self.key,
            ring_timeout_ms: self.call_ring_timeout_ms,
            line_grace_ms: self.call_line_grace_ms,
        }
    }
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
    /// What the line's metrics must count once the round is committed.
    pub(crate) measured: Vec<Measured>,
}

/// Something a round stored that the line's metrics count (times as this station saw them).
pub(crate) enum Measured {
    /// One of our messages is on the peer's disk, `ms` after it was accepted here.
    Delivered { precedence: String, ms: i64 },
    /// The peer acknowledged one of our messages, `ms` after it was accepted here.
    AcknowledgedByPeer { ms: i64 },
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
    /// The peer's recorder stopped recording a call of this line (`detail`: which, why).
    RecordingStoppedByPeer { detail: String },
}

impl LineTask {
    fn ends(&self) -> Ends {
        Ends {
            local: self.setup.core.name.clone(),
            lang: self.setup.core.lang.clone(),
            notices: self.notices.clone(),
            calls: self.calls.clone(),
            peer: self.setup.peer.clone(),
            key: self.setup.own_key.clone(),
            peer_key: self.setup.peer_key.clone(),
            call_ring_timeout_ms: self.setup.call_ring_timeout_ms,
            call_line_grace_ms: self.setup.call_line_grace_ms,
        }
    }
}

/// The first time the line is up since start, the peer hears who is on watch here.
fn came_up_first_time(presence_sent: &Option<u32>, up_now: bool) -> bool {
    presence_sent.is_none() && up_now
}

/// Whether the line task goes on after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Continue,
    Stop,
}
