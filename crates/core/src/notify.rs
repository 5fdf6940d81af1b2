//! Escalation outside the console: signed webhooks and e-mail.
//!
//! A webhook gets the alarm as a JSON body and the header
//! `X-Hotline-Signature: sha256=<hex HMAC-SHA256 of the exact body with the shared secret>`,
//! so the receiver can tell the station's alarms from anyone else's POSTs; the body carries
//! the station, the alarm and the send time, so a replayed body is recognisable too. Both
//! kinds are retried with exponential backoff while the alarm is still unacknowledged,
//! and every attempt — delivered or not, and why — is an `alarm.notification` entry.
//! Entries and logs name a webhook by its redacted URL (`redact`), and an error says why
//! a request failed without repeating the URL: the record keeps no credentials.

use std::sync::Arc;
use std::time::Duration;

use hmac::{KeyInit as _, Mac as _};
use hotline_store::AlarmRow;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};
use serde_json::{Value, json};

use crate::alarms::alarm_json;
use crate::config::{EscalationConfig, SmtpConfig};
use crate::core::Core;
use crate::entry_kind::EntryKind;
use crate::{now_ms, rfc3339, texts};
use hotline_i18n::{Args, Text};

/// Attempts per notification before giving up (the alarm stays on the console).
#[allow(non_upper_case_globals)]
pub const notify_attempts_max: u32 = 5;
/// First retry delay; doubles per attempt.
#[allow(non_upper_case_globals)]
const retry_delay_ms_min: u64 = 1000;
/// How long one attempt may take.
#[allow(non_upper_case_globals)]
const attempt_timeout_ms: u64 = 10_000;
/// The header carrying the body's HMAC.
pub const SIGNATURE_HEADER: &str = "X-Hotline-Signature";

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Hex HMAC-SHA256 of `body` under `secret`: what [`SIGNATURE_HEADER`] carries after `sha256=`.
pub fn webhook_signature(secret: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!("HMAC takes any key"));
    mac.update(body);
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// Everything one notification needs.
pub struct Notification {
    pub station: String,
    /// The station's language, for the e-mail.
    pub lang: String,
    /// Where to acknowledge the alarm.
    pub console_url: String,
    pub alarm: AlarmRow,
    pub step: usize,
    pub target_index: usize,
    pub target: EscalationConfig,
    pub smtp: Option<SmtpConfig>,
}

impl Notification {
    /// What the record and the logs call the target: never the HMAC secret, nor
    /// credentials or a query in the webhook's URL.
    pub fn target_name(&self) -> String {
        match (&self.target.webhook, &self.target.email) {
            (Some(url), _) => format!("webhook {}", crate::redact::redacted_url(url)),
            (None, Some(to)) => format!("email {}", to.join(", ")),
            (None, None) => "console".into(),
        }
    }
}

/// Delivers `n`, retrying with backoff while the alarm is still unacknowledged and
/// open, and records every attempt.
pub async fn deliver(core: Arc<Core>, http: reqwest::Client, n: Notification) {
    let mut delay = Duration::from_millis(retry_delay_ms_min);
    for attempt in 1..=notify_attempts_max {
        let outcome = tokio::time::timeout(Duration::from_millis(attempt_timeout_ms), attempt_once(&http, &n, attempt))
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {attempt_timeout_ms} ms")));
        let (ok, detail) = match &outcome {
            Ok(detail) => (true, detail.clone()),
            Err(e) => (false, e.clone()),
        };
        if !ok {
            tracing::warn!(alarm = %n.alarm.id, target = %n.target_name(), attempt, error = %detail, "alarm notification failed");
        }
        let (id, step, target) = (n.alarm.id.clone(), n.step, n.target_name());
        let recorded = core
            .write(move |j| {
                j.append(
                    EntryKind::AlarmNotification,
                    json!({"alarm": id, "step": step + 1, "target": target, "attempt": attempt, "ok": ok, "detail": detail}),
                )
            })
            .await;
        if let Err(e) = recorded {
            tracing::error!(error = %e, "could not record an alarm notification attempt");
        }
        if ok {
            return;
        }
        tokio::time::sleep(delay).await;
        delay *= 2;
        let id = n.alarm.id.clone();
        let still_open = core.read(move |tx| tx.alarm(&id)).await.ok().flatten();
        // Not recorded yet (a full disk): keep trying; acknowledged or cleared: stop.
        if still_open.is_some_and(|a| a.acked_ms.is_some() || a.cleared_ms.is_some()) {
            return;
        }
    }
}

async fn attempt_once(http: &reqwest::Client, n: &Notification, attempt: u32) -> Result<String, String> {
    let body = json!({
        "station": n.station,
        "alarm": alarm_json(&n.alarm),
        "step": n.step + 1,
        "attempt": attempt,
        "sent": rfc3339(now_ms()),
    });
    match (&n.target.webhook, &n.target.email) {
        (Some(url), _) => post_webhook(http, url, n.target.secret.as_deref().unwrap_or_default(), &body).await,
        (None, Some(to)) => {
            let smtp = n.smtp.as_ref().ok_or("no [smtp] configured")?;
            send_email(smtp, to, &n.station, &n.lang, &n.console_url, &n.alarm).await
        }
        (None, None) => Ok("console".into()),
    }
}

async fn post_webhook(http: &reqwest::Client, url: &str, secret: &str, body: &Value) -> Result<String, String> {
    let bytes = body.to_string().into_bytes();
    let signature = format!("sha256={}", webhook_signature(secret, &bytes));
    let response = http
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, signature)
        .body(bytes)
        .send()
        .await
        // reqwest's message would quote the whole URL, credentials and all.
        .map_err(|e| format!("webhook not reached: {}", e.without_url()))?;
    let status = response.status();
    if status.is_success() { Ok(format!("HTTP {}", status.as_u16())) } else { Err(format!("HTTP {}", status.as_u16())) }
}

async fn send_email(
    smtp: &SmtpConfig,
    to: &[String],
    station: &str,
    lang: &str,
    console_url: &str,
    alarm: &AlarmRow,
) -> Result<String, String> {
    let from = smtp.from.parse().map_err(|e| format!("sender {:?}: {e}", smtp.from))?;
    let mut builder = Message::builder().from(from);
    for address in to {
        builder = builder.to(address.parse().map_err(|e| format!("recipient {address:?}: {e}"))?);
    }
    // The alarm's own text was rendered (in this language) when it was raised.
    let severity = format!("sys-severity-{}", alarm.severity);
    let args =
        || Args::new().label("severity", severity.clone()).str("station", station).str("alarm", alarm.text.clone());
    let subject = texts::render(lang, &Text::new(hotline_i18n::ids::ESCALATION_SUBJECT, args()));
    let unacknowledged_minutes = ((now_ms() - alarm.raised_ms).max(0) as u64) / 60_000;
    let body_args =
        args().time_ms("raised", alarm.raised_ms).num("minutes", unacknowledged_minutes as f64).str("url", console_url);
    let body = texts::render(lang, &Text::new(hotline_i18n::ids::ESCALATION_BODY, body_args));
    let text =
        format!("{body}\n\nAlarm {} ({}), line {}.\n", alarm.id, alarm.cause, alarm.peer.as_deref().unwrap_or("-"));
    let email = builder
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(text)
        .map_err(|e| format!("cannot build the e-mail: {e}"))?;
    let (host, port) = smtp
        .server
        .rsplit_once(':')
        .and_then(|(h, p)| Some((h.trim_start_matches('[').trim_end_matches(']').to_owned(), p.parse::<u16>().ok()?)))
        .ok_or_else(|| format!("SMTP server {:?} is not HOST:PORT", smtp.server))?;
    let mut transport = if smtp.starttls {
        AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&host).map_err(|e| format!("SMTP TLS: {e}"))?.port(port)
    } else {
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&host).port(port)
    };
    if let (Some(user), Some(password)) = (&smtp.user, &smtp.password) {
        transport = transport.credentials(Credentials::new(user.clone(), password.clone()));
    }
    let response = transport.build().send(email).await.map_err(|e| format!("SMTP: {e}"))?;
    Ok(format!("SMTP {}", response.code()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// #14: `alarm.escalated` and `alarm.notification` entries (and the logs) used to keep
    /// the webhook URL whole, with any password or token in it.
    #[test]
    fn the_target_name_keeps_no_credentials_or_query() {
        let target = EscalationConfig {
            severity: "critical".into(),
            after_s: 0.0,
            webhook: Some("https://ops:hunter2@hooks.example:8443/alarm?token=t0ps3cret".into()),
            secret: Some("an-hmac-secret-of-the-test".into()),
            email: None,
        };
        let n = Notification {
            station: "alpha".into(),
            lang: "en".into(),
            console_url: String::new(),
            alarm: crate::alarms::new_row(&hotline_watch::Cause::Storage, String::new(), 0),
            step: 0,
            target_index: 0,
            target,
            smtp: None,
        };
        assert_eq!(n.target_name(), "webhook https://hooks.example:8443/alarm");
    }

    /// A webhook that cannot be reached is recorded with why, not with its URL.
    #[tokio::test]
    async fn a_failed_webhook_is_recorded_without_its_url() {
        let http = reqwest::Client::new();
        // Port 9 on loopback (discard) refuses connections.
        let url = "http://ops:hunter2@127.0.0.1:9/alarm?token=t0ps3cret";
        let error = post_webhook(&http, url, "secret", &json!({})).await.expect_err("refused");
        assert!(error.starts_with("webhook not reached"), "{error}");
        assert!(!error.contains("hunter2") && !error.contains("t0ps3cret"), "{error}");
    }

    #[test]
    fn the_signature_is_rfc_4231_hmac_sha256() {
        // RFC 4231, test case 2.
        assert_eq!(
            webhook_signature("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
