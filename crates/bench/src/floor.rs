//! The physical floor of a durable round trip on this machine: two `fdatasync` calls (one
//! per station) and one loopback TCP round trip, measured in the same run as everything
//! else because the machine is shared and its disk and scheduler vary by the minute.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use crate::stats::{Dist, dist, ms};

/// Bytes appended before each `fdatasync`: about one small record entry.
#[allow(non_upper_case_globals)]
const append_bytes: usize = 256;
/// Bytes sent each way per round trip.
#[allow(non_upper_case_globals)]
const ping_bytes: usize = 64;

#[derive(Clone, Debug, Serialize)]
pub struct Floor {
    /// `fdatasync` after appending to the file (the size changes, so ext4 also commits
    /// its journal): the definition of the floor.
    pub fdatasync: Dist,
    /// For reference, not in the floor: `fdatasync` after overwriting a block inside an
    /// already allocated file, as SQLite does when it reuses its WAL file.
    pub fdatasync_overwrite: Dist,
    pub loopback_rtt: Dist,
    /// 2 × fdatasync p50 + RTT p50.
    pub floor_p50_ms: f64,
    /// 2 × fdatasync p99 + RTT p99.
    pub floor_p99_ms: f64,
}

/// Appends `append_bytes` and `fdatasync`s, `count` times, in a file under `dir`.
pub fn fdatasync(dir: &Path, count: usize) -> anyhow::Result<Dist> {
    let path = dir.join("floor-fdatasync.bin");
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&path)?;
    let block = vec![0x5a_u8; append_bytes];
    let mut samples = Vec::with_capacity(count);
    for i in 0..count + 10 {
        let start = Instant::now();
        file.write_all(&block)?;
        file.sync_data()?; // fdatasync(2) on Linux
        if i >= 10 {
            samples.push(ms(start.elapsed()));
        }
    }
    drop(file);
    std::fs::remove_file(&path)?;
    Ok(dist(samples))
}

/// Overwrites block `i % 64` of a preallocated, synced file and `fdatasync`s, `count` times.
pub fn fdatasync_overwrite(dir: &Path, count: usize) -> anyhow::Result<Dist> {
    use std::os::unix::fs::FileExt as _;
    let path = dir.join("floor-overwrite.bin");
    let file = std::fs::OpenOptions::new().create(true).truncate(true).read(true).write(true).open(&path)?;
    let block = vec![0x5a_u8; append_bytes];
    file.write_all_at(&vec![0u8; 64 * append_bytes], 0)?;
    file.sync_all()?;
    let mut samples = Vec::with_capacity(count);
    for i in 0..count + 10 {
        let start = Instant::now();
        file.write_all_at(&block, ((i % 64) * append_bytes) as u64)?;
        file.sync_data()?;
        if i >= 10 {
            samples.push(ms(start.elapsed()));
        }
    }
    drop(file);
    std::fs::remove_file(&path)?;
    Ok(dist(samples))
}

/// Ping-pong of `ping_bytes` over loopback TCP with `TCP_NODELAY`, `count` times.
pub fn loopback_rtt(count: usize) -> anyhow::Result<Dist> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let echo = std::thread::spawn(move || -> std::io::Result<()> {
        let (mut s, _) = listener.accept()?;
        s.set_nodelay(true)?;
        let mut buf = [0u8; ping_bytes];
        loop {
            if s.read_exact(&mut buf).is_err() {
                return Ok(());
            }
            s.write_all(&buf)?;
        }
    });
    let mut client = TcpStream::connect(addr)?;
    client.set_nodelay(true)?;
    let mut buf = [0u8; ping_bytes];
    let mut samples = Vec::with_capacity(count);
    for i in 0..count + 100 {
        let start = Instant::now();
        client.write_all(&buf)?;
        client.read_exact(&mut buf)?;
        if i >= 100 {
            samples.push(ms(start.elapsed()));
        }
    }
    drop(client);
    let _ = echo.join();
    Ok(dist(samples))
}

/// The floor from `fdatasync_count` syncs of each kind and ten times as many round trips.
pub fn measure(dir: &Path, fdatasync_count: usize) -> anyhow::Result<Floor> {
    let fdatasync_overwrite = fdatasync_overwrite(dir, fdatasync_count)?;
    let fdatasync = fdatasync(dir, fdatasync_count)?;
    let loopback_rtt = loopback_rtt(10 * fdatasync_count)?;
    Ok(Floor {
        floor_p50_ms: 2.0 * fdatasync.p50_ms + loopback_rtt.p50_ms,
        floor_p99_ms: 2.0 * fdatasync.p99_ms + loopback_rtt.p99_ms,
        fdatasync,
        fdatasync_overwrite,
        loopback_rtt,
    })
}
