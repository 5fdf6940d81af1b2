//! The protocol's integration tests, in one binary: focused `Line` behaviours, the
//! connection policy, and the seeded simulations.

mod attachment;
mod decode_time;
mod line;
mod sim;
