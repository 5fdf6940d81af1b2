//! The integration tests of hotline-media, in one binary so the suite links once.

mod browser;
mod browser_sim;
mod link;
mod relay;

/// Serialises the tests that run WebRTC peers in real time, so that their latency
/// figures measure the code and not each other on a two-core machine.
pub fn heavy() -> std::sync::MutexGuard<'static, ()> {
    static HEAVY: std::sync::Mutex<()> = std::sync::Mutex::new(());
    HEAVY.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
