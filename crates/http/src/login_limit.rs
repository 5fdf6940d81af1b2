//! The login limiter: failed logins counted per (user name, client address) and per client
//! address, never per user name alone, so nobody can lock the duty operator out from
//! another address. After a few free failures each next attempt waits twice as long as the
//! one before, up to a minute. [`LoginLimiter`] is a pure struct that takes the time as an
//! argument; [`LoginGuard`] shares it between requests.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Bounds on login attempts.
#[derive(Clone, Debug)]
pub struct LoginLimits {
    /// Failures for one user name from one address that cost nothing; after them, each
    /// next attempt for that name from that address waits a growing delay.
    pub pair_failures_free: u32,
    /// Failures from one client address (an IPv6 /64), whatever the names, that cost
    /// nothing; higher than per name, since many people may share one address.
    pub address_failures_free: u32,
    /// The first delay after the free failures; each further failure doubles it.
    pub delay_first_ms: i64,
    /// The longest delay.
    pub delay_max_ms: i64,
    /// How long after its last failure a name or address is forgiven (its count forgotten).
    pub failure_memory_ms: i64,
    /// Names and addresses tracked at once; bounds the limiter's memory.
    pub login_trackers_max: usize,
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits {
            pair_failures_free: 3,
            address_failures_free: 20,
            delay_first_ms: 1000,
            delay_max_ms: 60 * 1000,
            failure_memory_ms: 15 * 60 * 1000,
            login_trackers_max: 10_000,
        }
    }
}

/// What login failures are counted against. There is deliberately no count per user name
/// alone: anyone could then lock the duty operator out from anywhere.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LoginKey {
    /// A user name as typed, from one client address (`None`: the address is unknown).
    UserAt(String, Option<IpAddr>),
    /// A client address, whatever the names.
    Address(IpAddr),
}

impl LoginKey {
    /// The key for a client address: see [`client_key`].
    pub fn address(ip: IpAddr) -> LoginKey {
        LoginKey::Address(client_key(ip))
    }

    /// The key for `user` as typed, from `ip`.
    pub fn user_at(user: &str, ip: Option<IpAddr>) -> LoginKey {
        LoginKey::UserAt(user.to_owned(), ip.map(client_key))
    }

    /// The client address the key is about, if any.
    pub fn client(&self) -> Option<IpAddr> {
        match self {
            LoginKey::UserAt(_, ip) => *ip,
            LoginKey::Address(ip) => Some(*ip),
        }
    }
}

/// A client address as the limiter counts it: IPv6 clients per /64, since one host
/// usually holds a whole /64; IPv4-mapped addresses as IPv4.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        },
        v4 => v4,
    }
}

/// A login refused before the password was looked at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refused {
    pub retry_after_ms: i64,
}

/// A name-and-address or an address whose attempts have just begun to wait.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lockout {
    pub key: LoginKey,
    /// When the next attempt is allowed.
    pub until_ms: i64,
    pub failures: u32,
}

#[derive(Debug, Default)]
struct Tracker {
    /// Failures since the key was last forgiven.
    failures: u32,
    /// Time of the last failure.
    last_failure_ms: i64,
    /// Attempts begun and not yet finished: counted as failures to come, so parallel
    /// guesses cannot overshoot the free ones.
    in_flight: u32,
}

impl Tracker {
    fn forgive_after(&mut self, memory_ms: i64, now_ms: i64) {
        if self.failures > 0 && now_ms - self.last_failure_ms >= memory_ms {
            self.failures = 0;
        }
    }

    fn idle(&self) -> bool {
        self.failures == 0 && self.in_flight == 0
    }
}

/// Counts login failures per (user name, client address) and per client address, each
/// with delays that double after a few free failures; pure (the caller passes the time),
/// so it is tested without a clock.
#[derive(Debug)]
pub struct LoginLimiter {
    limits: LoginLimits,
    trackers: HashMap<LoginKey, Tracker>,
}

impl LoginLimiter {
    pub fn new(limits: LoginLimits) -> LoginLimiter {
        LoginLimiter { limits, trackers: HashMap::new() }
    }

    fn failures_free(&self, key: &LoginKey) -> u32 {
        match key {
            LoginKey::UserAt(..) => self.limits.pair_failures_free,
            LoginKey::Address(_) => self.limits.address_failures_free,
        }
    }

    /// The wait after `failures` failures: nothing while they are free, then the first
    /// delay, doubled for each failure more, at most the longest.
    fn delay_ms(&self, failures: u32, free: u32) -> i64 {
        if failures < free {
            return 0;
        }
        let doublings = (failures - free).min(32);
        self.limits.delay_first_ms.saturating_mul(1i64 << doublings).min(self.limits.delay_max_ms)
    }

    /// When the key's next attempt may begin (in the past when it may now).
    fn next_allowed_ms(&self, key: &LoginKey, t: &Tracker) -> i64 {
        t.last_failure_ms.saturating_add(self.delay_ms(t.failures, self.failures_free(key)))
    }

    /// Number of names and addresses tracked now (at most `login_trackers_max`).
    #[cfg(test)]
    pub fn tracked(&self) -> usize {
        self.trackers.len()
    }

    /// Starts an attempt for `keys`, or refuses it while any of them must still wait, or
    /// has used its free failures and has an attempt under way.
    pub fn begin(&mut self, keys: &[LoginKey], now_ms: i64) -> Result<(), Refused> {
        let memory_ms = self.limits.failure_memory_ms;
        let mut retry_after_ms = 0;
        for key in keys {
            let free = self.failures_free(key);
            let Some(t) = self.trackers.get_mut(key) else { continue };
            t.forgive_after(memory_ms, now_ms);
            let (failures, in_flight, last_failure_ms) = (t.failures, t.in_flight, t.last_failure_ms);
            let next = last_failure_ms.saturating_add(self.delay_ms(failures, free));
            if failures >= free && next > now_ms {
                retry_after_ms = retry_after_ms.max(next - now_ms);
            } else if failures + in_flight >= free && in_flight > 0 {
                retry_after_ms = retry_after_ms.max(self.limits.delay_first_ms);
            }
        }
        if retry_after_ms > 0 {
            return Err(Refused { retry_after_ms });
        }
        let new_keys = keys.iter().filter(|k| !self.trackers.contains_key(k)).count();
        self.make_room(new_keys, now_ms)?;
        for key in keys {
            self.trackers.entry(key.clone()).or_default().in_flight += 1;
        }
        Ok(())
    }

    /// Ends an attempt begun with the same `keys`. A failure counts against every key;
    /// the one that uses a key's last free failure is returned (to be recorded). A success
    /// forgives the name-and-address but not the address, so one good account does not
    /// reset the count of guesses at others.
    pub fn finish(&mut self, keys: &[LoginKey], succeeded: bool, now_ms: i64) -> Vec<Lockout> {
        let memory_ms = self.limits.failure_memory_ms;
        let mut delayed = Vec::new();
        for key in keys {
            if !self.trackers.contains_key(key) && (succeeded || self.make_room(1, now_ms).is_err()) {
                continue;
            }
            let free = self.failures_free(key);
            let t = self.trackers.entry(key.clone()).or_default();
            t.in_flight = t.in_flight.saturating_sub(1);
            t.forgive_after(memory_ms, now_ms);
            if succeeded {
                if matches!(key, LoginKey::UserAt(..)) {
                    t.failures = 0;
                }
            } else {
                t.failures = t.failures.saturating_add(1);
                t.last_failure_ms = now_ms;
            }
            let (idle, failures) = (t.idle(), t.failures);
            if !succeeded && failures == free {
                let until_ms = now_ms.saturating_add(self.delay_ms(failures, free));
                delayed.push(Lockout { key: key.clone(), until_ms, failures });
            }
            if idle {
                self.trackers.remove(key);
            }
        }
        delayed
    }

    /// Ends an attempt that was never judged (the password check could not run): neither
    /// a failure nor a success.
    pub fn withdraw(&mut self, keys: &[LoginKey]) {
        for key in keys {
            if let Some(t) = self.trackers.get_mut(key) {
                t.in_flight = t.in_flight.saturating_sub(1);
                if t.idle() {
                    self.trackers.remove(key);
                }
            }
        }
    }

    /// Makes room for `needed` new trackers: first forgets idle ones, then the one whose
    /// next attempt is allowed soonest (the longest delays, the most persistent guessers,
    /// are kept longest). Attempts under way are kept; if only those remain, the attempt
    /// is refused for a first delay.
    fn make_room(&mut self, needed: usize, now_ms: i64) -> Result<(), Refused> {
        let max = self.limits.login_trackers_max;
        if self.trackers.len() + needed <= max {
            return Ok(());
        }
        let memory_ms = self.limits.failure_memory_ms;
        self.trackers.retain(|_, t| {
            t.forgive_after(memory_ms, now_ms);
            !t.idle()
        });
        while self.trackers.len() + needed > max {
            let evictable = self
                .trackers
                .iter()
                .filter(|(_, t)| t.in_flight == 0)
                .min_by_key(|(k, t)| (self.next_allowed_ms(k, t), t.last_failure_ms))
                .map(|(k, _)| k.clone());
            let Some(key) = evictable else {
                return Err(Refused { retry_after_ms: self.limits.delay_first_ms });
            };
            self.trackers.remove(&key);
        }
        Ok(())
    }
}

/// The station's login limiter, shared by the login route.
#[derive(Debug)]
pub struct LoginGuard {
    limiter: Mutex<LoginLimiter>,
}

impl LoginGuard {
    pub fn new(limits: LoginLimits) -> Arc<LoginGuard> {
        Arc::new(LoginGuard { limiter: Mutex::new(LoginLimiter::new(limits)) })
    }

    fn with<R>(&self, f: impl FnOnce(&mut LoginLimiter) -> R) -> R {
        // The limiter's state stays consistent at every step, so a panic elsewhere while
        // it was held leaves nothing half-done.
        let mut limiter = self.limiter.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut limiter)
    }

    /// Begins an attempt by `user` from `address`; see [`LoginLimiter::begin`].
    pub fn begin(self: &Arc<Self>, user: &str, address: Option<IpAddr>, now_ms: i64) -> Result<Attempt, Refused> {
        let mut keys = vec![LoginKey::user_at(user, address)];
        keys.extend(address.map(LoginKey::address));
        self.with(|l| l.begin(&keys, now_ms))?;
        Ok(Attempt { guard: self.clone(), keys, finished: false })
    }
}

/// A login attempt under way. Dropped without [`Attempt::finish`] or
/// [`Attempt::withdraw`] (the client went away during the password check), it counts as
/// a failure.
#[derive(Debug)]
pub struct Attempt {
    guard: Arc<LoginGuard>,
    keys: Vec<LoginKey>,
    finished: bool,
}

impl Attempt {
    pub fn finish(mut self, succeeded: bool, now_ms: i64) -> Vec<Lockout> {
        self.finished = true;
        self.guard.with(|l| l.finish(&self.keys, succeeded, now_ms))
    }

    /// The password could not be checked (the hashing pool is busy): nothing is counted.
    pub fn withdraw(mut self) {
        self.finished = true;
        self.guard.with(|l| l.withdraw(&self.keys));
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if !self.finished {
            let delayed = self.guard.with(|l| l.finish(&self.keys, false, hotline_core::now_ms()));
            for lock in delayed {
                // The typed name stays out of the log: it is often a password.
                tracing::warn!(address = ?lock.key.client(), "logins delayed after an abandoned attempt");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1000;
    const MIN: i64 = 60 * S;

    fn duty_from(ip: &str) -> LoginKey {
        LoginKey::user_at("duty", Some(ip.parse().expect("ip")))
    }

    fn keys(user: &str, ip: &str) -> Vec<LoginKey> {
        let ip: IpAddr = ip.parse().expect("ip");
        vec![LoginKey::user_at(user, Some(ip)), LoginKey::address(ip)]
    }

    fn fail(l: &mut LoginLimiter, keys: &[LoginKey], now: i64) -> Result<Vec<Lockout>, Refused> {
        l.begin(keys, now)?;
        Ok(l.finish(keys, false, now))
    }

    #[test]
    fn after_three_free_failures_each_attempt_waits_twice_as_long_up_to_a_minute() {
        let mut l = LoginLimiter::new(LoginLimits::default());
        let k = [duty_from("192.0.2.7")];
        assert_eq!(fail(&mut l, &k, 0), Ok(vec![]));
        assert_eq!(fail(&mut l, &k, 0), Ok(vec![]));
        let delayed = fail(&mut l, &k, 0).expect("third attempt is free");
        assert_eq!(delayed, vec![Lockout { key: k[0].clone(), until_ms: S, failures: 3 }]);
        assert_eq!(l.begin(&k, 0), Err(Refused { retry_after_ms: S }));
        let mut now = S;
        for want in [2 * S, 4 * S, 8 * S, 16 * S, 32 * S, MIN, MIN] {
            assert_eq!(fail(&mut l, &k, now), Ok(vec![]), "only the first delay is reported");
            assert_eq!(l.begin(&k, now + want - 1), Err(Refused { retry_after_ms: 1 }));
            now += want;
        }
        // A success from the same address forgives the pair.
        l.begin(&k, now).expect("allowed");
        assert!(l.finish(&k, true, now).is_empty());
        assert_eq!(l.tracked(), 0, "a success leaves nothing to remember");
    }

    #[test]
    fn failures_from_one_address_never_refuse_the_name_from_another() {
        let mut l = LoginLimiter::new(LoginLimits::default());
        let attacker = keys("duty", "10.0.0.9");
        let mut now = 0;
        let mut failed = 0;
        while failed < 50 {
            match fail(&mut l, &attacker, now) {
                Ok(_) => failed += 1,
                Err(r) => now += r.retry_after_ms,
            }
        }
        assert!(l.begin(&attacker, now).is_err(), "the attacker waits");
        let duty = keys("duty", "10.0.0.7");
        l.begin(&duty, now).expect("the duty operator's own address is not delayed");
        assert!(l.finish(&duty, true, now).is_empty());
    }

    #[test]
    fn failures_are_forgiven_a_quarter_of_an_hour_after_the_last() {
        let mut l = LoginLimiter::new(LoginLimits::default());
        let k = [duty_from("192.0.2.7")];
        for _ in 0..3 {
            fail(&mut l, &k, 0).expect("free");
        }
        assert!(l.begin(&k, 999).is_err());
        for _ in 0..2 {
            assert_eq!(fail(&mut l, &k, 15 * MIN), Ok(vec![]), "forgiven, and free again");
        }
        assert!(l.begin(&k, 15 * MIN).is_ok(), "the third is free too");
    }

    #[test]
    fn parallel_attempts_cannot_overshoot_the_free_failures() {
        let mut l = LoginLimiter::new(LoginLimits::default());
        let k = [duty_from("192.0.2.7")];
        for _ in 0..3 {
            l.begin(&k, 0).expect("allowed");
        }
        assert!(l.begin(&k, 0).is_err(), "a fourth guess while three are under way");
        l.withdraw(&k);
        l.begin(&k, 0).expect("a withdrawn attempt counts for nothing");
    }

    #[test]
    fn one_address_guessing_many_names_waits_too_and_a_success_does_not_forgive_it() {
        let mut l = LoginLimiter::new(LoginLimits::default());
        let ip = "192.0.2.7";
        for i in 0..19 {
            assert_eq!(fail(&mut l, &keys(&format!("u{i}"), ip), i), Ok(vec![]));
        }
        let good = keys("real", ip);
        l.begin(&good, 20).expect("allowed");
        l.finish(&good, true, 20);
        let delayed = fail(&mut l, &keys("u19", ip), 21).expect("allowed");
        assert_eq!(
            delayed.iter().map(|x| &x.key).collect::<Vec<_>>(),
            vec![&LoginKey::address(ip.parse().expect("ip"))]
        );
        assert_eq!(l.begin(&keys("real", ip), 22), Err(Refused { retry_after_ms: S - 1 }));
        assert!(l.begin(&keys("real", "192.0.2.8"), 22).is_ok(), "another address is not delayed");
    }

    #[test]
    fn ipv6_clients_are_counted_per_64_and_mapped_ipv4_as_ipv4() {
        let a = LoginKey::address("2001:db8:1:2:aaaa::1".parse().expect("ip"));
        let b = LoginKey::address("2001:db8:1:2:bbbb::9".parse().expect("ip"));
        let c = LoginKey::address("2001:db8:1:3::1".parse().expect("ip"));
        assert_eq!(a, b);
        assert_ne!(a, c);
        let mapped = LoginKey::address("::ffff:192.0.2.1".parse().expect("ip"));
        assert_eq!(mapped, LoginKey::address("192.0.2.1".parse().expect("ip")));
        assert_eq!(duty_from("2001:db8:1:2:aaaa::1"), duty_from("2001:db8:1:2::7"));
    }

    #[test]
    fn memory_is_bounded_and_a_flood_of_names_keeps_the_longest_delay() {
        let limits = LoginLimits { login_trackers_max: 3, ..LoginLimits::default() };
        let mut l = LoginLimiter::new(limits);
        let victim = [duty_from("192.0.2.7")];
        let mut now = 0;
        let mut failed = 0;
        while failed < 9 {
            match fail(&mut l, &victim, now) {
                Ok(_) => failed += 1,
                Err(r) => now += r.retry_after_ms,
            }
        }
        for i in 0..100 {
            let _ = fail(&mut l, &[LoginKey::user_at(&format!("flood{i}"), None)], now + i);
            assert!(l.tracked() <= 3);
        }
        assert!(l.begin(&victim, now + 200).is_err(), "the guesser at duty still waits");
    }

    #[test]
    fn when_every_tracker_has_an_attempt_under_way_new_names_wait() {
        let limits = LoginLimits { login_trackers_max: 1, ..LoginLimits::default() };
        let mut l = LoginLimiter::new(limits);
        l.begin(&[LoginKey::user_at("a", None)], 0).expect("allowed");
        let refused = l.begin(&[LoginKey::user_at("b", None)], 10).expect_err("no room");
        assert_eq!(refused.retry_after_ms, S);
    }
}
