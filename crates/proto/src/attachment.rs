//! The connection policy of one line, as a state machine with no I/O: which connection
//! the line runs on, when to dial, when to try the primary address again, and how long
//! to wait after a failure.
//!
//! The rules, all of which used to live in the station's line task beside its sockets:
//!
//! - **Dial at once, then back off.** A line with no connection dials (every address,
//!   primary first; the station's dialer staggers them). A failed dial waits
//!   `backoff × jitter` (jitter uniform in ½..1, so two stations restarted together do not
//!   dial in lockstep), and the backoff doubles up to `backoff_max`; the line coming up
//!   resets it. A connection that is lost after the line came up on it is redialed after
//!   a short random pause (`backoff_min × jitter`, jitter in 0..1): the far end may be
//!   redialing us already. One lost before the line came up on it (the far end refused it,
//!   or never said Hello) counts as a failed dial, so a station that keeps being turned
//!   away backs off instead of redialing ten times a second.
//! - **One connection, chosen alike at both ends.** Both ends may dial at once. The
//!   connection dialed by the preferred dialer (`preferred_dialer`, a fixed rule on the two
//!   names) is the one kept: one it dialed replaces the current connection, one the other
//!   end dialed is refused while a connection exists. Both ends thus settle on the same
//!   connection without negotiating.
//! - **Back to the primary.** The preferred dialer, while the line runs on anything but its
//!   own dial of the primary address (a backup address, or a connection the peer dialed),
//!   probes the primary every `primary_probe_interval` and moves the line onto it when it
//!   answers: a backup path may be the costly one.
//!
//! The station drives it like `Line`: it calls [`Attachment::poll_start`] and sleeps until
//! [`Attachment::poll_timeout`]; it reports every dial's and probe's outcome and every lost
//! connection. Time and randomness are arguments, so a seeded simulation
//! (`tests/it/attachment.rs`) drives two ends through thousands of faults.

use std::time::{Duration, Instant};

use rand::Rng;

use crate::line::preferred_dialer;

/// Tunables of the connection policy. Defaults follow PRODUCT.md.
#[derive(Clone, Debug)]
pub struct AttachmentConfig {
    /// The first pause after a failed dial, and the scale of the pause after a lost connection.
    pub backoff_min: Duration,
    /// The longest pause between two dials.
    pub backoff_max: Duration,
    /// How often the preferred dialer tries the primary address while running on anything else.
    pub primary_probe_interval: Duration,
}

impl Default for AttachmentConfig {
    fn default() -> Self {
        AttachmentConfig {
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(30),
            primary_probe_interval: Duration::from_secs(5),
        }
    }
}

/// What the station should start now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// Dial every address, primary first; report [`Origin::Dial`] or `on_dial_failed`.
    Dial,
    /// Dial the primary address only; report [`Origin::Probe`] or `on_probe_failed`.
    ProbePrimary,
}

/// Where an authenticated connection came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Our dial, answered at the address with this index (0: the primary).
    Dial { addr_index: usize },
    /// Our probe of the primary address.
    Probe,
    /// The peer dialed us.
    Accepted,
}

/// A connection's number, unique for the life of one `Attachment`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnectionId(pub u64);

/// What to do with an offered connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Offer {
    /// Run the line on it; drop `replaces` (without closing the line: it moves).
    Take { id: ConnectionId, replaces: Option<ConnectionId> },
    /// Drop it unread: the current connection is kept.
    Refuse,
}

#[derive(Clone, Copy, Debug)]
struct Current {
    id: ConnectionId,
    /// Our own dial of the primary address: the connection the policy aims for.
    on_own_primary: bool,
    /// The line came up on it.
    came_up: bool,
}

/// One line's connection policy. See the module documentation.
#[derive(Debug)]
pub struct Attachment {
    config: AttachmentConfig,
    /// We are the preferred dialer of this line.
    we_prefer: bool,
    current: Option<Current>,
    ids_issued: u64,
    dialing: bool,
    probing: bool,
    backoff: Duration,
    next_dial_at: Instant,
    /// `Some` only at the preferred dialer, while on anything but its own primary dial.
    next_primary_probe: Option<Instant>,
}

impl Attachment {
    /// The policy of the line from `local` to `peer`: no connection, dialing at once.
    pub fn new(config: AttachmentConfig, local: &str, peer: &str, now: Instant) -> Attachment {
        assert!(config.backoff_min > Duration::ZERO && config.backoff_min <= config.backoff_max);
        Attachment {
            we_prefer: preferred_dialer(local, peer) == local,
            backoff: config.backoff_min,
            config,
            current: None,
            ids_issued: 0,
            dialing: false,
            probing: false,
            next_dial_at: now,
            next_primary_probe: None,
        }
    }

    /// The connection the line runs on.
    pub fn current(&self) -> Option<ConnectionId> {
        self.current.map(|c| c.id)
    }

    /// Whether this end is the line's preferred dialer.
    pub fn we_prefer(&self) -> bool {
        self.we_prefer
    }

    /// The pause the next failed dial starts from.
    pub fn backoff(&self) -> Duration {
        self.backoff
    }

    /// What to start now, if anything. At most one dial and one probe are under way.
    pub fn poll_start(&mut self, now: Instant) -> Option<Start> {
        match self.current {
            None if !self.dialing && now >= self.next_dial_at => {
                self.dialing = true;
                Some(Start::Dial)
            }
            Some(_) if !self.probing && self.next_primary_probe.is_some_and(|at| now >= at) => {
                self.probing = true;
                self.next_primary_probe = None;
                Some(Start::ProbePrimary)
            }
            _ => None,
        }
    }

    /// When `poll_start` may next have something to start.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.current {
            None if !self.dialing => Some(self.next_dial_at),
            Some(_) if !self.probing => self.next_primary_probe,
            _ => None,
        }
    }

    /// An authenticated connection from `origin`: take it or refuse it.
    pub fn offer(&mut self, now: Instant, origin: Origin) -> Offer {
        match origin {
            Origin::Dial { .. } => self.dialing = false,
            Origin::Probe => self.probing = false,
            Origin::Accepted => {}
        }
        let dialed_by_us = origin != Origin::Accepted;
        // The preferred dialer's connection wins: ours if we are it, the peer's if not.
        if self.current.is_some() && dialed_by_us != self.we_prefer {
            return Offer::Refuse;
        }
        self.ids_issued += 1;
        let id = ConnectionId(self.ids_issued);
        let on_own_primary = matches!(origin, Origin::Dial { addr_index: 0 } | Origin::Probe);
        let replaces = self.current.replace(Current { id, on_own_primary, came_up: false }).map(|c| c.id);
        self.next_primary_probe = (self.we_prefer && !on_own_primary).then(|| now + self.config.primary_probe_interval);
        Offer::Take { id, replaces }
    }

    /// Our dial reached no address.
    pub fn on_dial_failed<R: Rng + ?Sized>(&mut self, now: Instant, rng: &mut R) {
        self.dialing = false;
        self.back_off(now, rng);
    }

    fn back_off<R: Rng + ?Sized>(&mut self, now: Instant, rng: &mut R) {
        self.next_dial_at = now + self.backoff.mul_f64(rng.random_range(0.5..1.0));
        self.backoff = (self.backoff * 2).min(self.config.backoff_max);
    }

    /// Our probe of the primary address failed: try again an interval later.
    pub fn on_probe_failed(&mut self, now: Instant) {
        self.probing = false;
        if self.current.is_some_and(|c| !c.on_own_primary) && self.we_prefer {
            self.next_primary_probe = Some(now + self.config.primary_probe_interval);
        }
    }

    /// Connection `id` ended (closed, failed, stalled, or dropped by the station). Returns
    /// whether it was the current one; an older connection's end changes nothing.
    pub fn on_lost<R: Rng + ?Sized>(&mut self, id: ConnectionId, now: Instant, rng: &mut R) -> bool {
        let Some(lost) = self.current.filter(|c| c.id == id) else {
            return false;
        };
        self.current = None;
        self.next_primary_probe = None;
        if lost.came_up {
            self.next_dial_at = now + self.config.backoff_min.mul_f64(rng.random_range(0.0..1.0));
        } else {
            self.back_off(now, rng);
        }
        true
    }

    /// The line came up on the current connection: the next failure starts from the
    /// shortest backoff again.
    pub fn on_line_up(&mut self) {
        self.backoff = self.config.backoff_min;
        if let Some(current) = &mut self.current {
            current.came_up = true;
        }
    }
}
