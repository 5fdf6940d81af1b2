//! Integration tests of `hotline-audit`, in one binary so the suite links once: records
//! of a two-station conversation built with real keys and signatures, verified alone and
//! against each other, printed as a transcript, and tampered with a thousand ways.

mod cross;
mod fixture;
mod tamper;
mod transcript;
mod verify;
