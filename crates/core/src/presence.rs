//! Who is on watch here: operators with a live console.
//!
//! "On watch" means an operator or supervisor (auditors only read) with at least one open
//! event stream — the console keeps one open for as long as it is on screen. Each stream
//! holds a [`OnWatch`] guard; the number of distinct people is published on a channel
//! that every line task follows, to tell its peer ("bravo: 2 on watch").

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

/// Distinct people counted; beyond this the count saturates (a bound, not a limit on
/// logins).
#[allow(non_upper_case_globals)]
const watchkeepers_max: usize = 1024;

/// Event streams one user may hold open at once (every role): a console needs one, a few
/// consoles a few; past this a stream is refused, so no one can make the station replay
/// its record to a thousand streams.
#[allow(non_upper_case_globals)]
pub const event_streams_per_user_max: usize = 8;

pub struct Presence {
    streams: Mutex<BTreeMap<String, usize>>,
    count: watch::Sender<u32>,
    /// Open event streams per user, every role (`streams` counts watchkeepers only).
    open: Arc<Mutex<BTreeMap<String, usize>>>,
}

/// Held while one event stream of a user is open (see [`Presence::open_stream`]).
pub struct StreamSlot {
    open: Arc<Mutex<BTreeMap<String, usize>>>,
    user: String,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.user);
            }
        }
    }
}

/// Held while one event stream of `user` is open.
pub struct OnWatch {
    presence: Arc<Presence>,
    user: String,
}

impl Presence {
    pub fn new() -> Arc<Presence> {
        let (count, _) = watch::channel(0);
        Arc::new(Presence { streams: Mutex::new(BTreeMap::new()), count, open: Arc::default() })
    }

    /// A slot for one more event stream of `user`, or `None` past
    /// [`event_streams_per_user_max`] (or past `watchkeepers_max` distinct users).
    pub fn open_stream(&self, user: &str) -> Option<StreamSlot> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.get(user).copied().unwrap_or(0);
        if n >= event_streams_per_user_max || (n == 0 && open.len() >= watchkeepers_max) {
            return None;
        }
        open.insert(user.to_owned(), n + 1);
        Some(StreamSlot { open: self.open.clone(), user: user.to_owned() })
    }

    /// The number of people on watch, now and as it changes.
    pub fn subscribe(&self) -> watch::Receiver<u32> {
        self.count.subscribe()
    }

    pub fn on_watch(&self) -> Vec<(String, usize)> {
        self.streams.lock().unwrap_or_else(|p| p.into_inner()).iter().map(|(u, n)| (u.clone(), *n)).collect()
    }

    /// Counts `user` on watch until the returned guard is dropped.
    pub fn enter(self: &Arc<Self>, user: &str) -> Option<OnWatch> {
        let mut streams = self.streams.lock().unwrap_or_else(|p| p.into_inner());
        if !streams.contains_key(user) && streams.len() >= watchkeepers_max {
            return None;
        }
        *streams.entry(user.to_owned()).or_default() += 1;
        let n = streams.len() as u32;
        drop(streams);
        self.count.send_if_modified(|c| std::mem::replace(c, n) != n);
        Some(OnWatch { presence: self.clone(), user: user.to_owned() })
    }
}

impl Drop for OnWatch {
    fn drop(&mut self) {
        let mut streams = self.presence.streams.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = streams.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                streams.remove(&self.user);
            }
        }
        let n = streams.len() as u32;
        drop(streams);
        self.presence.count.send_if_modified(|c| std::mem::replace(c, n) != n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_are_counted_once_however_many_consoles_they_have_open() {
        let presence = Presence::new();
        let rx = presence.subscribe();
        let a1 = presence.enter("anna");
        let a2 = presence.enter("anna");
        let b = presence.enter("boris");
        assert_eq!(*rx.borrow(), 2);
        drop(a1);
        assert_eq!(*rx.borrow(), 2);
        drop(a2);
        assert_eq!(*rx.borrow(), 1);
        drop(b);
        assert_eq!(*rx.borrow(), 0);
    }
}
