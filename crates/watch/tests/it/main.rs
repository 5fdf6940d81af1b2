//! The watch in simulated time: two stations' watches driven side by side, jumping from
//! one timer to the next, so minutes of deadlines and escalation run in microseconds and
//! every instant is exact.

mod deadlines;
