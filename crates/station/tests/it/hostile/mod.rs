//! The hostile-peer harness: a peer with a valid pinned key that speaks the real line
//! protocol (`hotline_proto::Line` over TLS, signed items) and sends what it likes —
//! oversized and malformed items, ids that are URLs, other origins, backdated times — to a
//! real station serving from a directory. Each test names one attack and checks that the
//! station stays up, records and refuses the bad item with a bounded reason, and keeps
//! serving the line.

mod attacks;

use std::sync::Arc;
use std::time::{Duration, Instant};

use hotline_identity::{StationKey, VerifierKey};
use hotline_proto::{Event, Lane, Line, LineConfig, LineState, Restored};
use hotline_station::admin::{self, InitOptions};
use hotline_station::core::Core;
use hotline_station::item::{Item, SignedItem};
use hotline_station::serve::{self, Running};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::sync::mpsc;

/// Our station alpha, serving, and a hostile bravo connected to it.
pub struct Attack {
    pub _dir: tempfile::TempDir,
    pub alpha: Running,
    pub bravo: StationKey,
    push: mpsc::Sender<Pump>,
    /// Items alpha sent us, opened.
    pub received: mpsc::Receiver<Item>,
}

impl Attack {
    pub async fn start() -> Attack {
        Attack::start_with("").await
    }

    /// As [`Attack::start`], with `config` (TOML) appended to alpha's `station.toml`.
    pub async fn start_with(config: &str) -> Attack {
        let dir = tempfile::tempdir().expect("tempdir");
        let alpha_dir = dir.path().join("alpha");
        let options = InitOptions {
            name: "alpha".into(),
            http: "127.0.0.1:0".parse().expect("addr"),
            line: "127.0.0.1:0".parse().expect("addr"),
            lang: "en".into(),
        };
        let alpha_key = admin::init(&alpha_dir, &options).expect("init");
        let bravo = StationKey::generate("bravo").expect("key");
        // Alpha dials nothing that answers: every connection is the one bravo makes.
        admin::line_add(&alpha_dir, "bravo", &bravo.verifier().to_string(), &["127.0.0.1:9".into()]).expect("line");
        if !config.is_empty() {
            let path = alpha_dir.join("station.toml");
            let text = std::fs::read_to_string(&path).expect("read config");
            std::fs::write(&path, format!("{text}\n{config}")).expect("write config");
        }
        let alpha = serve::start(&alpha_dir).await.expect("serve");
        let dialed = hotline_station::line::net::dial(&[alpha.line_addr.to_string()], &bravo, &alpha_key).await;
        let (stream, _, _) = dialed.result.expect("bravo connects to alpha");
        let (push, push_rx) = mpsc::channel(64);
        let (received_tx, received) = mpsc::channel(1024);
        tokio::spawn(pump(
            stream,
            push_rx,
            received_tx,
            StationKey::from_private_text(&bravo.to_private_text()).expect("key"),
            alpha_key.clone(),
        ));
        let attack = Attack { _dir: dir, alpha, bravo, push, received };
        attack.wait_up().await;
        attack
    }

    pub fn core(&self) -> &Arc<Core> {
        &self.alpha.state.core
    }

    /// Signs `item` with bravo's (valid, pinned) key and sends it on `lane`.
    pub async fn send(&self, lane: Lane, item: Item) {
        let payload = SignedItem::sign(item, &self.bravo).envelope();
        self.send_raw(lane, payload).await;
    }

    pub async fn send_raw(&self, lane: Lane, payload: Vec<u8>) {
        self.push.send(Pump::Push(lane, payload)).await.expect("pump running");
    }

    /// Bravo stops reading its socket (it still sends heartbeats): our writes back up.
    pub async fn stop_reading(&self) {
        self.push.send(Pump::StopReading).await.expect("pump running");
    }

    /// Alpha shows the line to bravo up.
    pub async fn wait_up(&self) {
        let mut status = self.alpha.state.lines.get("bravo").expect("line").status.clone();
        tokio::time::timeout(Duration::from_secs(10), status.wait_for(|s| s.state == LineState::Up))
            .await
            .expect("the line comes up within 10 s")
            .expect("status");
    }

    pub fn line_state(&self) -> LineState {
        self.alpha.state.lines.get("bravo").expect("line").status.borrow().state
    }

    /// Every record entry of `kind`, as JSON.
    pub async fn entries(&self, kind: &'static str) -> Vec<serde_json::Value> {
        self.core()
            .read(move |tx| {
                let mut out = Vec::new();
                tx.for_each_entry_body(|_, body| {
                    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
                    if v["kind"] == kind {
                        out.push(v);
                    }
                })?;
                Ok(out)
            })
            .await
            .expect("read")
    }

    /// Waits until an entry of `kind` satisfies `pred`, and returns it.
    pub async fn wait_entry(&self, kind: &'static str, pred: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(e) = self.entries(kind).await.into_iter().find(|e| pred(e)) {
                return e;
            }
            assert!(
                Instant::now() < deadline,
                "no {kind} entry as expected within 10 s: {:?}",
                self.entries(kind).await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for the next item from alpha that `pred` picks (others are skipped).
    pub async fn wait_item(&mut self, pred: impl Fn(&Item) -> bool) -> Item {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            match tokio::time::timeout_at(deadline, self.received.recv()).await {
                Ok(Some(item)) if pred(&item) => return item,
                Ok(Some(_)) => {}
                Ok(None) => panic!("the connection to alpha ended"),
                Err(_) => panic!("no such item from alpha within 10 s"),
            }
        }
    }

    /// The line still works end to end: a good message from bravo is stored by alpha.
    pub async fn still_serving(&self) {
        let id = uuid::Uuid::now_v7().to_string();
        self.send(Lane::Flash, message(&id, "still there?")).await;
        self.wait_entry("message.received", |e| e["id"] == id.as_str()).await;
        assert_eq!(self.line_state(), LineState::Up, "the line stays up");
    }
}

/// A well-formed message item from bravo to alpha.
pub fn message(id: &str, body: &str) -> Item {
    Item::Message {
        from: "bravo".into(),
        to: "alpha".into(),
        id: id.into(),
        precedence: "FLASH".into(),
        lang: "en".into(),
        body: body.into(),
        reply_to: None,
        author: "op".into(),
        created_ms: hotline_station::now_ms(),
    }
}

/// What the test tells bravo's side of the connection.
enum Pump {
    Push(Lane, Vec<u8>),
    StopReading,
}

/// Bravo's side of the connection: the real protocol state machine, driven by the socket,
/// a timer and the test's pushes; every item alpha sends is marked durable at once (so
/// alpha gets its receipts) and handed to the test.
async fn pump(
    stream: tokio_rustls::TlsStream<tokio::net::TcpStream>,
    mut push: mpsc::Receiver<Pump>,
    received: mpsc::Sender<Item>,
    bravo: StationKey,
    alpha: VerifierKey,
) {
    let (mut reader, mut writer) = tokio::io::split(stream);
    let mut line = Line::new(LineConfig::default(), "bravo", "alpha", Instant::now(), Restored::default());
    line.connect(Instant::now());
    let mut buf = vec![0u8; 64 * 1024];
    let mut reading = true;
    loop {
        let mut out = Vec::new();
        while line.poll_transmit(Instant::now(), &mut out) {}
        if !out.is_empty() && writer.write_all(&out).await.is_err() {
            return;
        }
        while let Some(event) = line.poll_event() {
            if let Event::Received { lane, seq, payload } = event {
                line.mark_durable(lane, seq);
                if let Ok(signed) = SignedItem::open(&payload, &alpha, bravo.name()) {
                    let _ = received.try_send(signed.item);
                }
            }
        }
        let wake = line.poll_timeout().unwrap_or_else(|| Instant::now() + Duration::from_secs(1));
        tokio::select! {
            n = reader.read(&mut buf), if reading => match n {
                Ok(0) | Err(_) => return,
                Ok(n) => { let _ = line.handle_input(Instant::now(), &buf[..n]); }
            },
            p = push.recv() => match p {
                Some(Pump::Push(lane, payload)) => { let seq = line.next_seq(lane); line.push(lane, seq, payload); }
                Some(Pump::StopReading) => reading = false,
                None => return,
            },
            _ = tokio::time::sleep_until(tokio::time::Instant::from_std(wake)) => line.handle_timeout(Instant::now()),
        }
    }
}
