//! The watch between two real stations: a missed watch check raises the alarm at both
//! ends and escalates to a real webhook receiver (whose signature Python's `hmac` checks)
//! and a real SMTP server (Python's `aiosmtpd`, installed by `./scripts/test`), in order,
//! until an operator acknowledges it; and a station killed during a pending deadline
//! raises its alarm on time after the restart.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{Station, free_port, hotline_ok, pair};

const SECRET: &str = "webhook-secret-of-the-test";

/// One HTTP request the webhook receiver got: the signature header and the body.
struct Hook {
    signature: String,
    body: String,
}

/// A webhook receiver on loopback: answers the first request 500 (so the station must
/// retry), every later one 200, and hands each request to the test.
fn webhook_receiver() -> (u16, mpsc::Receiver<Hook>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut first = true;
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let (mut length, mut signature) = (0usize, String::new());
            let mut line = String::new();
            loop {
                line.clear();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                if lower.starts_with("x-hotline-signature:") {
                    signature = line.split_once(':').map(|(_, v)| v.trim().to_owned()).unwrap_or_default();
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let status = if first { "500 Internal Server Error" } else { "200 OK" };
            first = false;
            let _ = stream
                .write_all(format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").as_bytes());
            let _ = tx.send(Hook { signature, body: String::from_utf8_lossy(&body).into_owned() });
        }
    });
    (port, rx)
}

/// `python3 -m aiosmtpd` on loopback, delivering into a maildir.
struct SmtpServer {
    child: Child,
    maildir: std::path::PathBuf,
}

impl SmtpServer {
    fn start(base: &Path) -> (SmtpServer, u16) {
        let probe = Command::new("python3").args(["-c", "import aiosmtpd"]).status();
        assert!(
            probe.is_ok_and(|s| s.success()),
            "this test needs Python's aiosmtpd: run ./scripts/test (it installs it) or `pip install aiosmtpd`"
        );
        let port = free_port();
        let maildir = base.join("maildir");
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        (SmtpServer { child, maildir }, port)
    }

    /// Every message delivered so far, as raw text.
    fn mails(&self) -> Vec<String> {
        let Ok(dir) = std::fs::read_dir(self.maildir.join("new")) else { return Vec::new() };
        dir.filter_map(|e| e.ok()).filter_map(|e| std::fs::read_to_string(e.path()).ok()).collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Checks the body's signature the way a receiver in another language would.
fn python_hmac_ok(body: &str, signature: &str) -> bool {
    let script = "import hmac, hashlib, sys\n\
                  body = sys.stdin.buffer.read()\n\
                  want = 'sha256=' + hmac.new(sys.argv[1].encode(), body, hashlib.sha256).hexdigest()\n\
                  sys.exit(0 if hmac.compare_digest(want, sys.argv[2]) else 1)\n";
    let mut child =
        Command::new("python3").args(["-c", script, SECRET, signature]).stdin(Stdio::piped()).spawn().expect("python3");
    child.stdin.take().expect("stdin").write_all(body.as_bytes()).expect("write");
    child.wait().is_ok_and(|s| s.success())
}

fn append_config(station: &Station, text: &str) {
    let path = station.dir.join("station.toml");
    let mut config = std::fs::read_to_string(&path).expect("config");
    config.push_str(text);
    std::fs::write(&path, config).expect("write config");
}

fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn open_alarm(station: &Station, cause: &str) -> Option<Value> {
    let (status, alarms) = station.api("GET", "/api/v1/alarms", None);
    assert_eq!(status, 200, "{alarms}");
    alarms.as_array()?.iter().find(|a| a["cause"] == cause).cloned()
}

fn ms_of(rfc3339: &Value) -> i64 {
    let text = rfc3339.as_str().expect("a time");
    let t = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).expect("rfc3339");
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

#[test]
fn a_missed_watch_check_escalates_to_a_signed_webhook_then_email_until_acknowledged() {
    let base = tempfile::tempdir().expect("tempdir");
    let (mut alpha, mut bravo) = pair(base.path());
    let (hook_port, hooks) = webhook_receiver();
    let (smtp, smtp_port) = SmtpServer::start(base.path());
    // Checks on demand only, answered within 2 s; critical alarms: webhook at once,
    // e-mail after 3 s, the webhook again after 8 s (never reached: acknowledged first).
    append_config(
        &alpha,
        &format!(
            "\n[watch]\ncheck_interval_s = 0\ncheck_deadline_s = 2\n\n\
             [[escalation]]\nseverity = \"critical\"\nafter_s = 0\nwebhook = \"http://127.0.0.1:{hook_port}/hook\"\nsecret = \"{SECRET}\"\n\n\
             [[escalation]]\nseverity = \"critical\"\nafter_s = 3\nemail = [\"duty-officer@alpha.example\"]\n\n\
             [[escalation]]\nseverity = \"critical\"\nafter_s = 8\nwebhook = \"http://127.0.0.1:{hook_port}/hook\"\nsecret = \"{SECRET}\"\n\n\
             [smtp]\nserver = \"127.0.0.1:{smtp_port}\"\nfrom = \"hotline-alpha@alpha.example\"\n"
        ),
    );
    append_config(&bravo, "\n[watch]\ncheck_interval_s = 0\n");
    alpha.start().expect("alpha starts");
    bravo.start().expect("bravo starts");
    assert!(alpha.wait_line("bravo", "up", Duration::from_secs(20)), "line up");

    let (status, check) = alpha.api("POST", "/api/v1/lines/bravo/watch-check", None);
    assert_eq!(status, 202, "{check}");
    let deadline_ms = ms_of(&check["deadline"]);
    // Bravo has it, pending; nobody there answers.
    wait_for("the check at bravo", Duration::from_secs(10), || {
        let (_, checks) = bravo.api("GET", "/api/v1/watch-checks", None);
        checks.as_array()?.iter().find(|c| c["id"] == check["id"] && c["state"] == "pending").cloned()
    });

    let at_alpha = wait_for("alpha's alarm", Duration::from_secs(10), || open_alarm(&alpha, "watch_check_missed"));
    let at_bravo = wait_for("bravo's alarm", Duration::from_secs(10), || open_alarm(&bravo, "watch_check_missed"));
    for (station, alarm) in [("alpha", &at_alpha), ("bravo", &at_bravo)] {
        let late = ms_of(&alarm["raised"]) - deadline_ms;
        assert!((0..1500).contains(&late), "{station} raised {late} ms after the deadline: {alarm}");
        assert_eq!(alarm["severity"], "critical");
    }
    assert_eq!(at_alpha["detail"]["direction"], "out");
    assert_eq!(at_bravo["detail"]["direction"], "in");
    println!("alarm at alpha: {}", at_alpha["text"]);
    println!("alarm at bravo: {}", at_bravo["text"]);

    // Step 1: the webhook, refused once with 500, then delivered; both signed.
    let first = hooks.recv_timeout(Duration::from_secs(10)).expect("webhook attempt 1");
    let second = hooks.recv_timeout(Duration::from_secs(10)).expect("webhook attempt 2 (retry)");
    for hook in [&first, &second] {
        assert!(python_hmac_ok(&hook.body, &hook.signature), "signature {} does not check", hook.signature);
        assert!(!python_hmac_ok(&hook.body.replace("critical", "warning"), &hook.signature), "a changed body fails");
        let body: Value = serde_json::from_str(&hook.body).expect("JSON body");
        assert_eq!(body["alarm"]["cause"], "watch_check_missed");
        assert_eq!(body["alarm"]["id"], at_alpha["id"]);
        assert_eq!(body["station"], "alpha");
        assert_eq!(body["step"], 1);
    }

    // Step 2: the e-mail, with the alarm's text.
    let mail = wait_for("the e-mail", Duration::from_secs(15), || smtp.mails().into_iter().next());
    let text = at_alpha["text"].as_str().expect("text");
    assert!(mail.contains("duty-officer@alpha.example"), "{mail}");
    assert!(mail.contains(text), "the e-mail carries the alarm's text {text:?}:\n{mail}");

    // Acknowledged now: step 3 (at 8 s) never comes.
    let (status, acked) =
        alpha.api("POST", &format!("/api/v1/alarms/{}/ack", at_alpha["id"].as_str().expect("id")), None);
    assert_eq!(status, 200, "{acked}");
    assert_eq!(acked["state"], "acknowledged");
    assert_eq!(acked["acknowledged_by"], "op");
    let raised_ms = ms_of(&at_alpha["raised"]);
    let quiet_until = raised_ms + 10_000;
    while crate::harness::now_ms() < quiet_until {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(hooks.try_recv().is_err(), "no escalation after the acknowledgment");
    assert_eq!(smtp.mails().len(), 1);

    // Bravo answers late: someone is there after all; both alarms clear themselves.
    let (status, answered) =
        bravo.api("POST", &format!("/api/v1/watch-checks/{}/answer", check["id"].as_str().expect("id")), None);
    assert_eq!(status, 200, "{answered}");
    wait_for("alpha's alarm to clear", Duration::from_secs(10), || {
        open_alarm(&alpha, "watch_check_missed").is_none().then_some(())
    });
    assert!(open_alarm(&bravo, "watch_check_missed").is_none());

    // The figures keep the miss: answered late is still missed.
    let (status, figures) = alpha.api("GET", "/api/v1/lines/bravo/responsiveness", None);
    assert_eq!(status, 200, "{figures}");
    let day = &figures["windows"]["24h"]["out"]["watch_checks"];
    assert_eq!(
        (day["sent"].as_u64(), day["missed"].as_u64(), day["answered_late"].as_u64()),
        (Some(1), Some(1), Some(1)),
        "{figures}"
    );
    println!("alpha's responsiveness figures for bravo (24 h, out): {day}");
    let metrics = ureq::get(&format!("{}/metrics", alpha.url()))
        .header("Authorization", &format!("Bearer {}", alpha.token))
        .call()
        .expect("metrics")
        .into_body()
        .read_to_string()
        .expect("text");
    assert!(
        metrics.contains("hotline_watch_checks_24h{peer=\"bravo\",direction=\"out\",result=\"missed\"} 1"),
        "{metrics}"
    );

    // The record tells the story, and both records still verify.
    let export = alpha.export(base.path()).expect("alpha exports its record");
    let peer_export = bravo.export(base.path()).expect("bravo exports its record");
    let record: Value = serde_json::from_str(&std::fs::read_to_string(&export).expect("export")).expect("json");
    let story: Vec<String> = record["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| {
            let entry: Value = serde_json::from_str(e.as_str()?).ok()?;
            let kind = entry["kind"].as_str()?.to_owned();
            (kind.starts_with("watch_check.") || kind.starts_with("alarm.")).then(|| {
                let what = match kind.as_str() {
                    "alarm.raised" | "alarm.acknowledged" | "alarm.cleared" => {
                        format!("{} {}", entry["alarm"]["text"], entry["by"])
                    }
                    "alarm.escalated" => format!("step {} → {}", entry["step"], entry["target"]),
                    "alarm.notification" => {
                        format!(
                            "step {} attempt {} ok={} {}",
                            entry["step"], entry["attempt"], entry["ok"], entry["detail"]
                        )
                    }
                    _ => format!("{} {}", entry["id"], entry["by"]),
                };
                format!("{}  {kind:<22} {what}", entry["at"].as_str().unwrap_or_default())
            })
        })
        .collect();
    println!("alpha's record of the missed watch check:\n{}", story.join("\n"));
    let kinds: Vec<&str> = story.iter().filter_map(|l| l.split_whitespace().nth(1)).collect();
    let order = ["watch_check.sent", "watch_check.missed", "alarm.raised", "alarm.escalated", "alarm.notification"];
    let mut at = 0;
    for want in order {
        at += kinds[at..].iter().position(|k| *k == want).unwrap_or_else(|| panic!("{want} after {:?}", &kinds[..at]));
    }
    assert!(kinds.contains(&"alarm.acknowledged") && kinds.contains(&"alarm.cleared"), "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| **k == "alarm.escalated").count(), 2, "two steps, not three: {kinds:?}");
    let exports = [export.to_str().expect("path"), peer_export.to_str().expect("path")];
    hotline_ok(&["verify", exports[0], exports[1]], None);
    assert!(alpha.stop() && bravo.stop());
}

#[test]
fn a_station_killed_during_a_pending_deadline_raises_the_alarm_on_time_after_restart() {
    let base = tempfile::tempdir().expect("tempdir");
    let (mut alpha, mut bravo) = pair(base.path());
    // Both ends configure the same deadlines for the line, as they would agree them.
    let watch = "\n[watch]\ncheck_interval_s = 0\ncheck_deadline_s = 5\n[watch.ack_deadline_s]\nFLASH = 6\n";
    append_config(&alpha, watch);
    append_config(&bravo, watch);
    alpha.start().expect("alpha starts");
    bravo.start().expect("bravo starts");
    assert!(alpha.wait_line("bravo", "up", Duration::from_secs(20)), "line up");
    let (status, check) = alpha.api("POST", "/api/v1/lines/bravo/watch-check", None);
    assert_eq!(status, 202, "{check}");
    let check_deadline = ms_of(&check["deadline"]);
    let (status, flash) = alpha.api(
        "POST",
        "/api/v1/lines/bravo/messages",
        Some(serde_json::json!({"body": "FLASH: break off", "precedence": "FLASH"})),
    );
    assert_eq!(status, 202, "{flash}");
    let (_, message) = alpha.api("GET", &format!("/api/v1/messages/{}", flash["id"].as_str().expect("id")), None);
    let flash_deadline = ms_of(&message["created"]) + 6000;

    // Power loss at alpha before either deadline; back 2 s later.
    std::thread::sleep(Duration::from_millis(500));
    alpha.kill9();
    std::thread::sleep(Duration::from_secs(2));
    alpha.start().expect("alpha starts");
    let missed =
        wait_for("the missed-check alarm", Duration::from_secs(15), || open_alarm(&alpha, "watch_check_missed"));
    let overdue = wait_for("the overdue alarm", Duration::from_secs(15), || open_alarm(&alpha, "ack_overdue"));
    for (what, alarm, deadline) in [("check", &missed, check_deadline), ("FLASH", &overdue, flash_deadline)] {
        let late = ms_of(&alarm["raised"]) - deadline;
        println!("{what}: alarm raised {late} ms after its deadline, across a SIGKILL and restart");
        assert!((0..1500).contains(&late), "{what} alarm raised {late} ms after the deadline: {alarm}");
    }
    assert_eq!(overdue["detail"]["message"], flash["id"]);
    // Bravo's own FLASH deadline fires too (from the message's creation time).
    let at_bravo = wait_for("bravo's overdue alarm", Duration::from_secs(15), || open_alarm(&bravo, "ack_overdue"));
    assert_eq!(at_bravo["detail"]["direction"], "in");
    assert!(alpha.stop() && bravo.stop());
}
