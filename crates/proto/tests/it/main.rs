//! The protocol's integration tests, in one binary: focused `Line` behaviours and the
//! seeded simulation.

mod decode_time;
mod line;
mod sim;
