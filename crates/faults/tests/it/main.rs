//! The fault harness: real `hotline serve` processes under cut paths, loss, delay,
//! partitions, SIGKILLs, a full disk and line attacks. See `docs/faults.md`.

mod attacks;
mod disk;
mod failover;
mod kills;
mod lossy;
mod netns;
mod partition;
mod relay;
mod station;
mod topology;
mod traffic;
