//! A partition: both paths cut silently for 60 s while both stations keep sending, then
//! healed. Everything accepted during the partition waits in the outboxes and goes, once
//! and in order, when the line is back.

use std::time::{Duration, Instant};

use crate::lossy::steady_duration;
use crate::netns::{Net, Path};
use crate::topology::net_pair;
use crate::traffic::{Sender, finish};

#[test]
fn a_partition_of_both_paths_for_60_s_heals_without_loss() {
    let Some(net) = Net::create_or_explain("partition", "skipped: a partition needs two hosts") else { return };
    let base = tempfile::tempdir().expect("tempdir");
    let (mut alpha, mut bravo) = net_pair(base.path(), &net, None);
    alpha.start().expect("station starts");
    bravo.start().expect("station starts");
    assert!(alpha.wait_line("bravo", "up", Duration::from_secs(20)), "line never came up:\n{}", alpha.log_tail(30));
    let ab = Sender::start(alpha.client(), "alpha", "bravo", "partition", Duration::from_millis(200));
    let ba = Sender::start(bravo.client(), "bravo", "alpha", "partition", Duration::from_millis(200));
    std::thread::sleep(Duration::from_secs(5));

    let cut_at = Instant::now();
    net.cut(Path::Primary);
    net.cut(Path::Backup);
    let mut down_ms = None;
    let partition = steady_duration();
    while cut_at.elapsed() < partition {
        if down_ms.is_none() && alpha.line_state("bravo").is_some_and(|s| s != "up") {
            down_ms = Some(cut_at.elapsed().as_millis());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let down_ms = down_ms.expect("alpha never called the line down during the partition");
    assert_ne!(bravo.line_state("alpha").as_deref(), Some("up"), "bravo still calls the line up");

    let healed_at = Instant::now();
    net.heal(Path::Primary);
    net.heal(Path::Backup);
    assert!(
        alpha.wait_line("bravo", "up", Duration::from_secs(30)),
        "line not up 30 s after healing:\n{}",
        alpha.log_tail(30)
    );
    let up_ms = healed_at.elapsed().as_millis();
    std::thread::sleep(Duration::from_secs(5));
    let (sent_ab, sent_ba) = (ab.finish(), ba.finish());
    let during = |sent: &[crate::traffic::Sent]| {
        sent.iter().filter(|s| s.accepted() && s.at >= cut_at && s.at < healed_at).count()
    };
    let extra = format!(
        "partition_s={} down_after_ms={down_ms} up_after_heal_ms={up_ms} accepted_during_partition={}",
        partition.as_secs(),
        during(&sent_ab) + during(&sent_ba)
    );
    finish("partition", base.path(), &mut alpha, &mut bravo, &sent_ab, &sent_ba, &extra);
    drop(net);
}
