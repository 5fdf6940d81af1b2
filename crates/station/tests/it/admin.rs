//! Administration while the station serves: the record has one writer. `hotline user add`
//! and `hotline token create` used to append to the record behind the serving station's
//! `Core`, after which every send and login answered 500 until a restart. Now they go
//! through the station's administrative socket; a second `serve` on the directory is
//! refused.

use hotline_station::admin::socket::Request;
use hotline_station::admin::{self, InitOptions};
use hotline_station::serve::{self, ServeError};
use serde_json::{Value, json};

const PASSWORD: &str = "a long passphrase for duty2";

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    // Admin commands block on the socket; the station answers on this same runtime.
    tokio::task::spawn_blocking(f).await.expect("admin command thread")
}

#[tokio::test]
async fn every_admin_command_while_serving_leaves_the_station_working() {
    let dir = tempfile::tempdir().expect("tempdir");
    let alpha = dir.path().join("alpha");
    let options = InitOptions {
        name: "alpha".into(),
        http: "127.0.0.1:0".parse().expect("addr"),
        line: "127.0.0.1:0".parse().expect("addr"),
        lang: "en".into(),
    };
    admin::init(&alpha, &options).expect("init");
    let bravo = hotline_identity::StationKey::generate("bravo").expect("key").verifier().to_string();
    admin::line_add(&alpha, "bravo", &bravo, &["127.0.0.1:9".into()]).expect("line add");
    let running = serve::start(&alpha).await.expect("serve");

    // Every administrative command, with the station serving.
    let d = alpha.clone();
    blocking(move || admin::user_add(&d, "duty2", "operator", PASSWORD, false)).await.expect("user add");
    let d = alpha.clone();
    let again = blocking(move || admin::user_add(&d, "duty2", "operator", PASSWORD, false)).await;
    assert!(again.expect_err("a second add is refused").to_string().contains("already exists"));
    let d = alpha.clone();
    let token = blocking(move || admin::token_create(&d, "duty2")).await.expect("token create");
    let d = alpha.clone();
    let nobody = blocking(move || admin::token_create(&d, "nobody")).await;
    assert!(nobody.expect_err("no such user").to_string().contains("no user"));
    let charlie = hotline_identity::StationKey::generate("charlie").expect("key").verifier().to_string();
    let d = alpha.clone();
    let added = blocking(move || admin::line_add(&d, "charlie", &charlie, &["127.0.0.1:9".into()]))
        .await
        .expect("line add while serving");
    assert!(added.iter().any(|l| l.starts_with("safety number: ")), "{added:?}");
    assert!(running.state.lines.contains_key("charlie"), "the line runs at once");
    let second = serve::start(&alpha).await;
    assert!(matches!(second, Err(ServeError::AlreadyServing(_))), "a second serve on the directory is refused");

    // Then the station still works: a send with the new token, a login of the new user.
    let http = reqwest::Client::new();
    let base = format!("http://{}", running.http_addr);
    let sent = http
        .post(format!("{base}/api/v1/lines/bravo/messages"))
        .bearer_auth(&token)
        .json(&json!({"body": "duty2 on watch", "precedence": "FLASH"}))
        .send()
        .await
        .expect("send");
    assert_eq!(sent.status(), 202, "{:?}", sent.text().await);
    let login = http
        .post(format!("{base}/api/v1/login"))
        .json(&json!({"user": "duty2", "password": PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), 200, "{:?}", login.text().await);

    // And the record verifies, with the entries the commands wrote.
    let text = hotline_station::export::export_dir(&alpha).await.expect("export");
    let export = hotline_audit::parse_export(text.as_bytes()).expect("parse");
    hotline_audit::verify(&export).expect("the record verifies");
    let kinds: Vec<String> = export
        .entries
        .iter()
        .filter_map(|e| serde_json::from_str::<Value>(e).ok())
        .map(|e| e["kind"].as_str().unwrap_or_default().to_owned())
        .collect();
    for kind in ["user.added", "token.created", "message.queued", "line.added"] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} missing from {kinds:?}");
    }

    // The listing and ending verbs, through the serving station.
    let run = |request: Request| {
        let d = alpha.clone();
        async move { blocking(move || admin::run(&d, request)).await }
    };
    let users = run(Request::UserList).await.expect("user list");
    assert!(users.iter().any(|l| l.starts_with("duty2\toperator\tactive")), "{users:?}");
    let tokens = run(Request::TokenList).await.expect("token list");
    let id =
        tokens.iter().find(|l| l.contains("\tduty2\t")).and_then(|l| l.split('\t').next()).expect("a token of duty2");
    assert!(!tokens.iter().any(|l| l.contains(&token)), "never the secret");
    run(Request::TokenRevoke { id: id.to_owned() }).await.expect("token revoke");
    let sent = http.get(format!("{base}/api/v1/station")).bearer_auth(&token).send().await.expect("get");
    assert_eq!(sent.status(), 401, "a revoked token is refused at once");
    run(Request::UserDisable { name: "duty2".into() }).await.expect("user disable");
    let login = http.post(format!("{base}/api/v1/login")).json(&json!({"user": "duty2", "password": PASSWORD})).send();
    assert_eq!(login.await.expect("login").status(), 401, "a disabled user cannot log in");
    run(Request::UserRemove { name: "duty2".into() }).await.expect("user remove");
    let err = run(Request::UserRemove { name: "duty2".into() }).await.expect_err("gone");
    assert!(err.to_string().contains("no user"), "{err}");
    let lines = run(Request::LineList).await.expect("line list");
    assert!(lines.iter().any(|l| l.starts_with("charlie\t")), "{lines:?}");
    run(Request::LineRemove { peer: "charlie".into() }).await.expect("line remove");
    assert!(!running.state.lines.contains_key("charlie"), "the line stops at once");
    let err = run(Request::LineRemove { peer: "charlie".into() }).await.expect_err("gone");
    assert!(err.to_string().contains("no line"), "{err}");
    running.stop().await;

    // Stopped: the same commands work on the directory directly.
    let d = alpha.clone();
    blocking(move || admin::user_add(&d, "duty3", "auditor", PASSWORD, false)).await.expect("user add offline");
    assert!(run(Request::UserList).await.expect("offline list").iter().any(|l| l.starts_with("duty3\tauditor")));
}
