//! The packet hashes: the same at both stations when they relayed the same packets, and
//! recomputed from the file alike.

use hotline_recording::{Direction, summarize};

use crate::kit;

#[test]
fn both_stations_hash_a_direction_alike() {
    let (ones, twos) = (kit::tone_packets(1000), kit::tone_packets(2000));
    let (first, second) = (&ones[..100], &twos[..100]);
    // North hears its own operator (1 kHz) at once and south's 40 ms later; south the
    // other way round, with its own view of when each side started.
    let dir = kit::scratch_dir("hashes");
    let mut at_north = kit::direction(Direction::Ours, first, 0, 7, |_| false);
    at_north.extend(kit::direction(Direction::Theirs, second, 40, 9_000, |_| false));
    let mut at_south = kit::direction(Direction::Theirs, first, 70, 7, |_| false);
    at_south.extend(kit::direction(Direction::Ours, second, 10, 9_000, |_| false));
    let north = kit::record(&dir.join("north.opus"), at_north).summary;
    let south = kit::record(&dir.join("south.opus"), at_south).summary;
    assert_ne!(north.sha256, south.sha256, "the files differ in alignment");
    assert_eq!(north.ours.packets_sha256, south.theirs.packets_sha256);
    assert_eq!(north.theirs.packets_sha256, south.ours.packets_sha256);
    assert_eq!(north.ours.packets, 100);
    assert_eq!(summarize(&dir.join("south.opus")).expect("read").summary, south);
}

#[test]
fn the_packet_hash_has_the_documented_bytes() {
    use sha2::{Digest as _, Sha256};
    let packets = &kit::tone_packets(1000)[..20];
    let dir = kit::scratch_dir("hash-bytes");
    // Every third packet is lost, so the RTP offsets are not consecutive.
    let keep = |i: usize| i % 3 != 1;
    let arrivals = kit::direction(Direction::Theirs, packets, 0, 0xFFFF_FF00, |i| !keep(i));
    let summary = kit::record(&dir.join("rec.opus"), arrivals).summary;
    let mut sha = Sha256::new();
    for (i, packet) in packets.iter().enumerate().filter(|(i, _)| keep(*i)) {
        sha.update((960 * i as u32).to_be_bytes());
        sha.update((packet.len() as u32).to_be_bytes());
        sha.update(packet);
    }
    let expected: [u8; 32] = sha.finalize().into();
    assert_eq!(summary.theirs.packets_sha256, expected);
    assert_eq!(summary.ours.packets, 0);
}
