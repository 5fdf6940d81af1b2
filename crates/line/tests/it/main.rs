//! The line tasks' integration tests, in one binary: two stations in one process, joined
//! by in-memory pipes, under tokio's paused (simulated) clock.

mod two_stations;
