//! The call core's integration tests, in one binary: each transition, the named races,
//! hostile steps, and the seeded simulation of two stations.

mod hostile;
mod kit;
mod races;
mod sim;
mod transitions;
