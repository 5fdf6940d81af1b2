//! `hotline demo`: two linked stations, alpha and bravo, on loopback, in one process.
//!
//! The demo is the newcomer's first contact, so it does everything a real deployment
//! needs — two station directories with keys, each pinning the other, an operator with a
//! password and an API token on each — and prints how to use them. With `--dir` it reuses
//! the stations it made before (their records and messages survive), giving the operators
//! fresh passwords and tokens each time.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::admin::{self, AdminError, InitOptions};
use crate::config::{CONFIG_FILE, Config, console_url};
use crate::serve::{self, ServeError};

/// Name of the demo operator on each station.
pub const DEMO_USER: &str = "op";

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("{0}")]
    Admin(#[from] AdminError),
    #[error("{0}")]
    Serve(#[from] ServeError),
    #[error("{0}")]
    Io(String),
}

pub struct DemoStation {
    pub name: &'static str,
    pub dir: PathBuf,
    pub password: String,
    pub token: String,
    /// `https` when the station's `[http]` has TLS (a reused directory may), else `http`:
    /// the scheme of every URL the demo prints for it.
    pub scheme: &'static str,
}

fn free_port() -> Result<SocketAddr, DemoError> {
    let l =
        std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| DemoError::Io(format!("no free loopback port: {e}")))?;
    l.local_addr().map_err(|e| DemoError::Io(e.to_string()))
}

/// Creates the two stations in `base` (or reuses them) and gives each a demo operator.
pub fn prepare(base: &Path) -> Result<[DemoStation; 2], DemoError> {
    let names = ["alpha", "bravo"];
    for name in names {
        let dir = base.join(name);
        if !dir.join(CONFIG_FILE).exists() {
            let options = InitOptions { name: name.into(), http: free_port()?, line: free_port()?, lang: "en".into() };
            admin::init(&dir, &options)?;
        }
    }
    for (me, peer) in [(0, 1), (1, 0)] {
        let dir = base.join(names[me]);
        let config = Config::load(&dir).map_err(AdminError::from)?;
        if config.lines.iter().all(|l| l.peer != names[peer]) {
            let peer_dir = base.join(names[peer]);
            let peer_config = Config::load(&peer_dir).map_err(AdminError::from)?;
            let key = admin::key(&peer_dir)?;
            admin::line_add(&dir, names[peer], &key.to_string(), &[peer_config.listen.line.to_string()])?;
        }
    }
    let station = |name: &'static str| -> Result<DemoStation, DemoError> {
        let dir = base.join(name);
        let password = crate::auth::demo_password().map_err(|e| DemoError::Io(e.to_string()))?;
        admin::user_add(&dir, DEMO_USER, "supervisor", &password, true)?;
        let token = admin::token_create(&dir, DEMO_USER)?;
        let scheme = Config::load(&dir).map_err(AdminError::from)?.http.scheme();
        Ok(DemoStation { name, dir, password, token, scheme })
    };
    Ok([station("alpha")?, station("bravo")?])
}

/// Runs the demo until Ctrl-C.
pub async fn run(dir: Option<PathBuf>) -> Result<(), DemoError> {
    let base = match dir {
        Some(d) => d,
        None => std::env::temp_dir().join(format!("hotline-demo-{}", std::process::id())),
    };
    let stations = prepare(&base)?;
    let alpha = serve::start(&stations[0].dir).await?;
    let bravo = serve::start(&stations[1].dir).await?;
    println!("hotline demo: two stations linked on loopback (data in {})", base.display());
    println!();
    for (s, r) in stations.iter().zip([&alpha, &bravo]) {
        println!("  {:<6} console and API  {}", s.name, console_url(s.scheme, r.http_addr));
        println!("         login            user {DEMO_USER}, password {}", s.password);
        println!("         API token        {}", s.token);
    }
    println!();
    println!("Send a message from alpha to bravo:");
    println!();
    println!(
        "  HOTLINE_TOKEN={} cargo run --release -q -- send --url {}://{} --line bravo --precedence FLASH --wait delivered 'Radar contact, grid 38T, climbing'",
        stations[0].token, stations[0].scheme, alpha.http_addr
    );
    println!();
    println!("Read it at bravo:");
    println!();
    println!(
        "  curl -s -H 'Authorization: Bearer {}' {}://{}/api/v1/lines/alpha/messages",
        stations[1].token, stations[1].scheme, bravo.http_addr
    );
    println!();
    println!("Ctrl-C stops both stations.");
    serve::wait_for_signal().await;
    alpha.stop().await;
    bravo.stop().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reused demo directory whose station was given HTTPS is printed as https://.
    #[test]
    fn the_printed_urls_follow_the_stations_tls() {
        let base = tempfile::tempdir().expect("tempdir");
        let fresh = prepare(base.path()).expect("prepare");
        assert!(fresh.iter().all(|s| s.scheme == "http"));
        let config = base.path().join("alpha").join(CONFIG_FILE);
        let text = std::fs::read_to_string(&config).expect("read");
        std::fs::write(&config, format!("{text}\n[http]\ntls_cert = \"c.pem\"\ntls_key = \"k.pem\"\n")).expect("write");
        let reused = prepare(base.path()).expect("prepare again");
        assert_eq!((reused[0].scheme, reused[1].scheme), ("https", "http"));
    }
}
