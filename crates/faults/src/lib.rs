//! The fault harness has no library code: everything is in `tests/it/`, run by
//! `cargo test -p hotline-faults` (and so by `scripts/test`). See `docs/faults.md`.
