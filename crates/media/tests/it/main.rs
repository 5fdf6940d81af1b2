//! The integration tests of hotline-media, in one binary so the suite links once.

mod browser;
mod browser_sim;
mod link;
mod relay;
