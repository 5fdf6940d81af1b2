//! The station's operational counters and histograms, for `/metrics` (Prometheus).
//!
//! They are counted where the events happen, after the transaction that stores them
//! commits, so a rolled-back write never counts: the line tasks count messages, bytes,
//! connections and delivery and acknowledgment times on their line's `LineMetrics`, and
//! `Core::write` counts failed logins and raised alarms from the entries it has just
//! committed (`on_committed`). Every update is a relaxed atomic add on a slot the
//! counting task already holds; the only lock is taken when a line task starts and asks
//! for its slot.
//!
//! Label cardinality is bounded: at most `metric_lines_max` lines get their own `peer`
//! label, later ones share the slot `peer="_other"`; a removed line keeps its slot (a
//! counter never goes back), so adding and removing lines cannot grow the output without
//! bound. The other labels are closed sets (precedence, direction, severity).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use hotline_item::Precedence;
use hotline_store::Direction;

use crate::entry_kind::EntryKind;
use crate::published::Published;

/// Most lines with a `peer` label of their own; later lines are counted as `_other`.
#[allow(non_upper_case_globals)]
pub const metric_lines_max: usize = 64;
/// The `peer` label of the lines past `metric_lines_max`.
pub const OTHER_LINES: &str = "_other";

/// Upper bounds (seconds) of the delivery-time buckets: a message accepted here until the
/// peer's signed receipt says it is on the peer's disk. Milliseconds on a healthy line,
/// minutes to hours while the line is down.
pub const DELIVERY_BUCKETS_S: [f64; 16] =
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0, 3600.0];
/// Upper bounds (seconds) of the time-to-acknowledge buckets: people, so seconds to a day.
pub const ACK_BUCKETS_S: [f64; 12] =
    [1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 14_400.0, 86_400.0];

/// A Prometheus histogram with fixed buckets, updated with atomics only.
#[derive(Debug)]
pub struct Histogram {
    bounds_s: &'static [f64],
    /// Non-cumulative: `counts[i]` holds observations in `(bounds_s[i-1], bounds_s[i]]`,
    /// the last one those above every bound (`+Inf`).
    counts: Box<[AtomicU64]>,
    sum_ms: AtomicU64,
}

impl Histogram {
    pub fn new(bounds_s: &'static [f64]) -> Histogram {
        Histogram {
            bounds_s,
            counts: (0..=bounds_s.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_ms: AtomicU64::new(0),
        }
    }

    /// Observes `ms` milliseconds; a negative span (clocks disagree) counts as zero.
    pub fn observe_ms(&self, ms: i64) {
        let ms = ms.max(0) as u64;
        let seconds = ms as f64 / 1000.0;
        let bucket = self.bounds_s.iter().position(|&b| seconds <= b).unwrap_or(self.bounds_s.len());
        if let Some(c) = self.counts.get(bucket) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        self.sum_ms.fetch_add(ms, Ordering::Relaxed);
    }

    /// (upper bound, cumulative count) per bucket, `+Inf` last as `f64::INFINITY`; then the
    /// sum in seconds and the count.
    pub fn snapshot(&self) -> (Vec<(f64, u64)>, f64, u64) {
        let mut total = 0;
        let mut buckets = Vec::with_capacity(self.counts.len());
        for (i, c) in self.counts.iter().enumerate() {
            total += c.load(Ordering::Relaxed);
            buckets.push((self.bounds_s.get(i).copied().unwrap_or(f64::INFINITY), total));
        }
        (buckets, self.sum_ms.load(Ordering::Relaxed) as f64 / 1000.0, total)
    }
}

/// One line's counters. Precedence-indexed arrays follow `Precedence::ALL`.
#[derive(Debug)]
pub struct LineMetrics {
    /// Messages accepted here for the peer (stored in the outbox, answered `202`).
    pub messages_sent: [AtomicU64; 4],
    /// Messages from the peer stored here (a repeat of one already stored is not counted).
    pub messages_received: [AtomicU64; 4],
    /// Messages the peer's signed receipt says are on its disk.
    pub messages_delivered: [AtomicU64; 4],
    /// Bytes written to and read from the line's connections (TLS records included).
    pub bytes_sent: AtomicU64,
    pub bytes_received: AtomicU64,
    /// Times the line came up (the first time included; every later one is a reconnect).
    pub connects: AtomicU64,
    /// Accepted here → delivered (on the peer's disk), per precedence.
    pub delivery: [Histogram; 4],
    /// Time to acknowledge, per direction: `out` our message, from its creation until the
    /// peer's acknowledgment reached us; `in` the peer's, from its arrival until an
    /// operator here acknowledged it. Only times this station observed, never the peer's
    /// claims.
    pub ack_out: Histogram,
    pub ack_in: Histogram,
}

impl Default for LineMetrics {
    fn default() -> LineMetrics {
        let zeros = || std::array::from_fn(|_| AtomicU64::new(0));
        LineMetrics {
            messages_sent: zeros(),
            messages_received: zeros(),
            messages_delivered: zeros(),
            bytes_sent: AtomicU64::new(0),
            bytes_received: AtomicU64::new(0),
            connects: AtomicU64::new(0),
            delivery: std::array::from_fn(|_| Histogram::new(&DELIVERY_BUCKETS_S)),
            ack_out: Histogram::new(&ACK_BUCKETS_S),
            ack_in: Histogram::new(&ACK_BUCKETS_S),
        }
    }
}

/// The index of `precedence` in the precedence-indexed arrays.
pub fn precedence_index(precedence: Precedence) -> usize {
    Precedence::ALL.iter().position(|&p| p == precedence).unwrap_or(0)
}

/// The same for a stored precedence name; an unknown one (never written) counts as ROUTINE.
pub fn precedence_index_of(name: &str) -> usize {
    Precedence::parse(name).map_or(0, precedence_index)
}

impl LineMetrics {
    fn count(counters: &[AtomicU64; 4], precedence: &str) {
        if let Some(c) = counters.get(precedence_index_of(precedence)) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn message_sent(&self, precedence: &str) {
        Self::count(&self.messages_sent, precedence);
    }

    pub fn message_received(&self, precedence: &str) {
        Self::count(&self.messages_received, precedence);
    }

    /// A message of ours is on the peer's disk, `ms` after it was accepted here.
    pub fn message_delivered(&self, precedence: &str, ms: i64) {
        Self::count(&self.messages_delivered, precedence);
        if let Some(h) = self.delivery.get(precedence_index_of(precedence)) {
            h.observe_ms(ms);
        }
    }

    pub fn acknowledged(&self, direction: Direction, ms: i64) {
        match direction {
            Direction::Out => self.ack_out.observe_ms(ms),
            Direction::In => self.ack_in.observe_ms(ms),
        }
    }
}

/// Severities an alarm is counted under; anything else counts as `warning`.
pub const SEVERITIES: [&str; 2] = ["critical", "warning"];

/// The station's metrics: station-wide counters and a bounded set of line slots.
#[derive(Debug)]
pub struct Metrics {
    lines: Mutex<Vec<(String, Arc<LineMetrics>)>>,
    other: Arc<LineMetrics>,
    /// `login.failed` entries: a wrong password, an unknown user, a disabled account.
    pub logins_failed: AtomicU64,
    /// `login.locked` entries: a user name or address locked out after repeated failures.
    pub logins_locked: AtomicU64,
    /// `alarm.raised` entries, per `SEVERITIES`.
    pub alarms_raised: [AtomicU64; 2],
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics {
            lines: Mutex::new(Vec::new()),
            other: Arc::new(LineMetrics::default()),
            logins_failed: AtomicU64::new(0),
            logins_locked: AtomicU64::new(0),
            alarms_raised: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

impl Metrics {
    /// The slot of the line to `peer`: its own while fewer than `metric_lines_max` lines
    /// have one, else the shared `_other` slot. Called once when a line task starts.
    pub fn line(&self, peer: &str) -> Arc<LineMetrics> {
        let mut lines = self.lines.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((_, slot)) = lines.iter().find(|(p, _)| p == peer) {
            return slot.clone();
        }
        if lines.len() >= metric_lines_max {
            return self.other.clone();
        }
        let slot = Arc::new(LineMetrics::default());
        lines.push((peer.to_owned(), slot.clone()));
        slot
    }

    /// Every slot with its `peer` label, in the order the lines first asked, and the
    /// `_other` slot last once the bound is reached (for `/metrics`).
    pub fn lines(&self) -> Vec<(String, Arc<LineMetrics>)> {
        let mut all = self.lines.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
        if all.len() >= metric_lines_max {
            all.push((OTHER_LINES.to_owned(), self.other.clone()));
        }
        all
    }

    /// Counts what the entries of a committed transaction say happened. Most entries are
    /// neither, and cost one comparison of their kind.
    pub fn on_committed(&self, entry: &Published) {
        if entry.kind == EntryKind::LoginFailed.as_str() {
            self.logins_failed.fetch_add(1, Ordering::Relaxed);
        } else if entry.kind == EntryKind::LoginLocked.as_str() {
            self.logins_locked.fetch_add(1, Ordering::Relaxed);
        } else if entry.kind == EntryKind::AlarmRaised.as_str() {
            // Alarms are rare: reading the body for its severity costs nothing that matters.
            let severity = serde_json::from_str::<serde_json::Value>(&entry.body)
                .ok()
                .and_then(|v| v.get("severity").and_then(|s| s.as_str()).map(str::to_owned));
            let i = SEVERITIES.iter().position(|s| Some(*s) == severity.as_deref()).unwrap_or(1);
            if let Some(c) = self.alarms_raised.get(i) {
                c.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_with_inf_last() {
        let h = Histogram::new(&DELIVERY_BUCKETS_S);
        for ms in [3, 5, 40, 7_200_000, -10] {
            h.observe_ms(ms);
        }
        let (buckets, sum_s, count) = h.snapshot();
        assert_eq!(count, 5);
        assert_eq!(buckets.len(), DELIVERY_BUCKETS_S.len() + 1);
        // 0 (the negative span), 3 ms and 5 ms are all within 5 ms.
        assert_eq!(buckets[0], (0.005, 3));
        assert_eq!(buckets[3], (0.05, 4));
        assert_eq!(buckets[DELIVERY_BUCKETS_S.len() - 1], (3600.0, 4));
        assert_eq!(buckets.last().copied(), Some((f64::INFINITY, 5)));
        assert!((sum_s - 7_200.048).abs() < 1e-9, "{sum_s}");
    }

    #[test]
    fn lines_past_the_bound_share_one_slot() {
        let m = Metrics::default();
        for i in 0..metric_lines_max + 10 {
            m.line(&format!("peer{i}")).message_sent("FLASH");
        }
        // A line asked for again gets the same slot.
        m.line("peer0").message_sent("ROUTINE");
        let lines = m.lines();
        assert_eq!(lines.len(), metric_lines_max + 1);
        let get = |peer: &str| lines.iter().find(|(p, _)| p == peer).map(|(_, s)| s.clone());
        let flash = precedence_index(Precedence::Flash);
        let other = get(OTHER_LINES).expect("other");
        assert_eq!(other.messages_sent[flash].load(Ordering::Relaxed), 10);
        let first = get("peer0").expect("peer0");
        assert_eq!(first.messages_sent[flash].load(Ordering::Relaxed), 1);
        assert_eq!(first.messages_sent[precedence_index(Precedence::Routine)].load(Ordering::Relaxed), 1);
    }

    #[test]
    fn committed_entries_count_logins_and_alarms() {
        let m = Metrics::default();
        let entry =
            |kind: EntryKind, body: &str| Published { idx: 1, kind: kind.as_str().to_owned(), body: body.into() };
        m.on_committed(&entry(EntryKind::LoginFailed, r#"{"user":null}"#));
        m.on_committed(&entry(EntryKind::LoginLocked, "{}"));
        m.on_committed(&entry(EntryKind::AlarmRaised, r#"{"severity":"critical"}"#));
        m.on_committed(&entry(EntryKind::AlarmRaised, r#"{"severity":"warning"}"#));
        m.on_committed(&entry(EntryKind::AlarmRaised, "not json"));
        m.on_committed(&entry(EntryKind::MessageQueued, "{}"));
        assert_eq!(m.logins_failed.load(Ordering::Relaxed), 1);
        assert_eq!(m.logins_locked.load(Ordering::Relaxed), 1);
        assert_eq!(m.alarms_raised[0].load(Ordering::Relaxed), 1);
        assert_eq!(m.alarms_raised[1].load(Ordering::Relaxed), 2);
    }
}
