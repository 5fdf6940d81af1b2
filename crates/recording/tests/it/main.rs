//! The recording crate's one integration-test binary: real Opus packets from ffmpeg are
//! recorded as the two directions of a call, and ffprobe, ffmpeg and opusinfo judge the
//! files.

mod calls;
mod hashes;
mod hostile;
mod killed;
mod kit;
