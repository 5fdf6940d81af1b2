//! A small TCP relay that stands between two stations and misbehaves on purpose: it holds
//! every chunk of bytes for a random time (delay and jitter, as `tc netem` would if this
//! kernel had it), can stall all its connections (bytes are read and held, nothing is
//! written: a black hole that still looks alive), can reset them (RST, via `SO_LINGER`
//! 0), records what passed (for the replay attacks), and can replay or reorder TLS records
//! inside a live session.
//!
//! Threads, not tasks: each connection has a reader and a writer thread per direction,
//! and threads made by a thread inside a namespace stay in that namespace, so a relay
//! started with `ns` lives entirely on that host.

use std::io::{ErrorKind, Read as _, Write as _};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::{Rng as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;

use crate::netns;

/// Bytes kept per connection and direction for replay.
#[allow(non_upper_case_globals)]
const capture_bytes_max: usize = 1024 * 1024;
/// How often blocked threads look at the stop, reset and stall flags.
#[allow(non_upper_case_globals)]
const poll_interval_ms: u64 = 50;

/// TLS record content type of application data (and of every TLS 1.3 record after the
/// ServerHello, handshake messages included).
const TLS_APPLICATION_DATA: u8 = 23;

/// What to do to the next TLS application-data record going client → server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tamper {
    None,
    /// Forward the next record twice.
    ReplayNext,
    /// Hold the next record and forward it after the one that follows it.
    SwapNext,
}

/// The bytes one connection carried, each way.
#[derive(Clone, Debug, Default)]
pub struct Capture {
    pub to_server: Vec<u8>,
    pub to_client: Vec<u8>,
}

struct Shared {
    stop: AtomicBool,
    stalled: AtomicBool,
    reset_generation: AtomicU64,
    delay_ms: Mutex<(u64, u64)>,
    rng: Mutex<ChaCha8Rng>,
    captures: Mutex<Vec<Arc<Mutex<Capture>>>>,
    tamper: Mutex<Tamper>,
    tampered: AtomicU64,
    connections: AtomicU64,
    /// Connections open right now.
    active: AtomicU64,
}

impl Shared {
    fn hold(&self) -> Duration {
        let (lo, hi) = *self.delay_ms.lock().expect("delay");
        if hi == 0 {
            return Duration::ZERO;
        }
        Duration::from_millis(self.rng.lock().expect("rng").random_range(lo..=hi))
    }
}

/// A running relay: `addr` forwards to the target given at start.
pub struct Relay {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Relay {
    /// Listens on `listen` (inside `ns`, if given) and forwards every connection to
    /// `target`, holding each chunk for a uniformly random `delay_ms.0..=delay_ms.1`.
    pub fn start(ns: Option<&str>, listen: SocketAddr, target: SocketAddr, delay_ms: (u64, u64), seed: u64) -> Relay {
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            stalled: AtomicBool::new(false),
            reset_generation: AtomicU64::new(0),
            delay_ms: Mutex::new(delay_ms),
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(seed)),
            captures: Mutex::new(Vec::new()),
            tamper: Mutex::new(Tamper::None),
            tampered: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            active: AtomicU64::new(0),
        });
        let (bound_tx, bound_rx) = mpsc::channel();
        let ns = ns.map(str::to_owned);
        let accept_shared = shared.clone();
        std::thread::spawn(move || {
            if let Some(ns) = &ns {
                netns::enter(ns).unwrap_or_else(|e| panic!("relay cannot enter {ns}: {e}"));
            }
            let listener = match TcpListener::bind(listen) {
                Ok(l) => l,
                Err(e) => {
                    let _ = bound_tx.send(Err(e.to_string()));
                    return;
                }
            };
            let _ = bound_tx.send(Ok(listener.local_addr().expect("relay addr")));
            accept_loop(listener, target, accept_shared);
        });
        let addr = bound_rx.recv().expect("relay thread").unwrap_or_else(|e| panic!("relay cannot bind {listen}: {e}"));
        Relay { addr, shared }
    }

    /// While stalled, bytes are read and held but nothing is written, on every connection.
    pub fn stall(&self, on: bool) {
        self.shared.stalled.store(on, Ordering::SeqCst);
    }

    /// Resets every current connection (RST to both ends).
    pub fn reset_all(&self) {
        self.shared.reset_generation.fetch_add(1, Ordering::SeqCst);
    }

    pub fn set_tamper(&self, tamper: Tamper) {
        *self.shared.tamper.lock().expect("tamper") = tamper;
    }

    /// How many records were replayed or reordered so far.
    pub fn tampered(&self) -> u64 {
        self.shared.tampered.load(Ordering::SeqCst)
    }

    pub fn connections(&self) -> u64 {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Connections open right now.
    pub fn active(&self) -> u64 {
        self.shared.active.load(Ordering::SeqCst)
    }

    /// What every connection so far carried, oldest first.
    pub fn captures(&self) -> Vec<Capture> {
        self.shared.captures.lock().expect("captures").iter().map(|c| c.lock().expect("capture").clone()).collect()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
    }
}

fn accept_loop(listener: TcpListener, target: SocketAddr, shared: Arc<Shared>) {
    listener.set_nonblocking(true).expect("nonblocking listener");
    while !shared.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((client, _)) => {
                let shared = shared.clone();
                std::thread::spawn(move || connection(client, target, shared));
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(10)),
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

/// One relayed connection: two directions, each a reader and a writer thread.
fn connection(client: TcpStream, target: SocketAddr, shared: Arc<Shared>) {
    let _ = client.set_nonblocking(false);
    let Ok(server) = TcpStream::connect_timeout(&target, Duration::from_secs(2)) else {
        return; // Dropping the client closes it: the target is not there.
    };
    shared.connections.fetch_add(1, Ordering::SeqCst);
    shared.active.fetch_add(1, Ordering::SeqCst);
    for s in [&client, &server] {
        let _ = s.set_nodelay(true);
        let _ = s.set_read_timeout(Some(Duration::from_millis(poll_interval_ms)));
    }
    let capture = Arc::new(Mutex::new(Capture::default()));
    shared.captures.lock().expect("captures").push(capture.clone());
    let conn = Arc::new(Conn {
        generation: shared.reset_generation.load(Ordering::SeqCst),
        dead: AtomicBool::new(false),
        sockets: [client.try_clone().expect("clone"), server.try_clone().expect("clone")],
    });
    let directions = [(client.try_clone().expect("clone"), server, true), (server_clone(&conn), client, false)];
    let mut threads = Vec::new();
    for (src, dst, to_server) in directions {
        let (tx, rx) = mpsc::channel::<Chunk>();
        let (s1, c1, k1) = (shared.clone(), conn.clone(), capture.clone());
        threads.push(std::thread::spawn(move || read_side(src, tx, to_server, s1, c1, k1)));
        let (s2, c2) = (shared.clone(), conn.clone());
        threads.push(std::thread::spawn(move || write_side(dst, rx, s2, c2)));
    }
    for t in threads {
        let _ = t.join();
    }
    shared.active.fetch_sub(1, Ordering::SeqCst);
}

fn server_clone(conn: &Conn) -> TcpStream {
    conn.sockets[1].try_clone().expect("clone")
}

struct Conn {
    generation: u64,
    dead: AtomicBool,
    /// Client-side and server-side sockets, for resets.
    sockets: [TcpStream; 2],
}

impl Conn {
    /// True when the connection must end now: the relay stops or a reset was asked for.
    fn must_end(&self, shared: &Shared) -> bool {
        if self.dead.load(Ordering::SeqCst) {
            return true;
        }
        if shared.stop.load(Ordering::SeqCst) || shared.reset_generation.load(Ordering::SeqCst) != self.generation {
            self.reset();
            return true;
        }
        false
    }

    /// RST to both ends: linger 0, then wake every thread so the last close happens now.
    fn reset(&self) {
        if self.dead.swap(true, Ordering::SeqCst) {
            return;
        }
        for s in &self.sockets {
            let _ = socket2::SockRef::from(s).set_linger(Some(Duration::ZERO));
            let _ = s.shutdown(Shutdown::Read);
        }
    }
}

enum Chunk {
    Bytes(Instant, Vec<u8>),
    End,
}

fn read_side(
    mut src: TcpStream,
    tx: mpsc::Sender<Chunk>,
    to_server: bool,
    shared: Arc<Shared>,
    conn: Arc<Conn>,
    capture: Arc<Mutex<Capture>>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut last_release = Instant::now();
    let mut records = RecordSplitter::default();
    loop {
        if conn.must_end(&shared) {
            let _ = tx.send(Chunk::End);
            return;
        }
        let n = match src.read(&mut buf) {
            Ok(0) => {
                let _ = tx.send(Chunk::End);
                return;
            }
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) => {
                continue;
            }
            Err(_) => {
                let _ = tx.send(Chunk::End);
                return;
            }
        };
        {
            let mut c = capture.lock().expect("capture");
            let side = if to_server { &mut c.to_server } else { &mut c.to_client };
            let room = capture_bytes_max.saturating_sub(side.len());
            side.extend_from_slice(&buf[..n.min(room)]);
        }
        let out = if to_server { records.push(&buf[..n], &shared) } else { buf[..n].to_vec() };
        if out.is_empty() {
            continue;
        }
        let release = (Instant::now() + shared.hold()).max(last_release);
        last_release = release;
        if tx.send(Chunk::Bytes(release, out)).is_err() {
            return;
        }
    }
}

fn write_side(mut dst: TcpStream, rx: mpsc::Receiver<Chunk>, shared: Arc<Shared>, conn: Arc<Conn>) {
    loop {
        let chunk = match rx.recv_timeout(Duration::from_millis(poll_interval_ms)) {
            Ok(c) => c,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if conn.must_end(&shared) {
                    return;
                }
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        };
        match chunk {
            Chunk::End => {
                let _ = dst.shutdown(Shutdown::Write);
                return;
            }
            Chunk::Bytes(release, bytes) => {
                while Instant::now() < release || shared.stalled.load(Ordering::SeqCst) {
                    if conn.must_end(&shared) {
                        return;
                    }
                    let wait = release.saturating_duration_since(Instant::now());
                    std::thread::sleep(wait.clamp(Duration::from_millis(1), Duration::from_millis(poll_interval_ms)));
                }
                if conn.must_end(&shared) || dst.write_all(&bytes).is_err() {
                    conn.reset();
                    return;
                }
            }
        }
    }
}

/// Cuts the client → server byte stream into TLS records, so a record can be replayed or
/// moved whole; passes everything through unchanged while no tampering is asked for.
#[derive(Default)]
struct RecordSplitter {
    pending: Vec<u8>,
    held: Option<Vec<u8>>,
}

impl RecordSplitter {
    fn push(&mut self, bytes: &[u8], shared: &Shared) -> Vec<u8> {
        self.pending.extend_from_slice(bytes);
        let mut out = Vec::new();
        loop {
            if self.pending.len() < 5 {
                break;
            }
            let len = u16::from_be_bytes([self.pending[3], self.pending[4]]) as usize;
            if self.pending.len() < 5 + len {
                break;
            }
            let record: Vec<u8> = self.pending.drain(..5 + len).collect();
            let mut tamper = shared.tamper.lock().expect("tamper");
            if let Some(held) = self.held.take() {
                // The swap: this record first, then the one held back.
                out.extend_from_slice(&record);
                out.extend_from_slice(&held);
                shared.tampered.fetch_add(1, Ordering::SeqCst);
                continue;
            }
            match (*tamper, record[0] == TLS_APPLICATION_DATA) {
                (Tamper::ReplayNext, true) => {
                    *tamper = Tamper::None;
                    out.extend_from_slice(&record);
                    out.extend_from_slice(&record);
                    shared.tampered.fetch_add(1, Ordering::SeqCst);
                }
                (Tamper::SwapNext, true) => {
                    *tamper = Tamper::None;
                    self.held = Some(record);
                }
                _ => out.extend_from_slice(&record),
            }
        }
        out
    }
}
