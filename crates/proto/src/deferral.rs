//! Which line events may wait for the next commit, and for how long.
//!
//! The station stores each round of `Line` events in one transaction. A round that holds
//! nothing but [`Event::Sent`] marks and [`Event::Delivered`] receipts for our own control
//! items promises nothing durable to anybody: no receipt waits on it, no operator sees it
//! change. Such a round waits, at most `wait`, to share the next transaction that has to
//! happen anyway, so a message costs one fsync fewer at each end. Anything else in a round
//! (a received item, a delivered message, a state change) makes the round, and everything
//! waiting, go to the store at once — in the order the line produced it.

use std::time::{Duration, Instant};

use crate::{Event, Lane};

/// The events waiting to share a commit. See the module documentation.
#[derive(Debug)]
pub struct Deferral {
    wait: Duration,
    events: Vec<Event>,
    /// When the first waiting event arrived.
    since: Option<Instant>,
}

impl Deferral {
    /// Holds deferrable rounds for at most `wait`.
    pub fn new(wait: Duration) -> Deferral {
        Deferral { wait, events: Vec::new(), since: None }
    }

    /// Whether an event may wait for a later commit.
    pub fn may_wait(event: &Event) -> bool {
        matches!(event, Event::Sent { .. } | Event::Delivered { lane: Lane::Control, .. })
    }

    /// A round of events to store. Returns what to store now — whatever waited, then
    /// `events` — or `None` when there is nothing to store now (the round was empty, or
    /// it may wait and now does).
    pub fn round(&mut self, now: Instant, mut events: Vec<Event>) -> Option<Vec<Event>> {
        if events.is_empty() {
            return None;
        }
        if events.iter().all(Deferral::may_wait) {
            self.since.get_or_insert(now);
            self.events.append(&mut events);
            return None;
        }
        let mut all = self.take();
        all.append(&mut events);
        Some(all)
    }

    /// Everything waiting, to store now (its wait is over, or the line stops).
    pub fn flush(&mut self) -> Option<Vec<Event>> {
        let all = self.take();
        (!all.is_empty()).then_some(all)
    }

    /// When the waiting events must be stored.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.since.map(|since| since + self.wait)
    }

    /// Whether events are waiting.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    fn take(&mut self) -> Vec<Event> {
        self.since = None;
        std::mem::take(&mut self.events)
    }
}
