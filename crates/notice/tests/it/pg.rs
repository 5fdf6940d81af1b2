//! Why: the oracle needs a real PostGIS but must not depend on one being set up; this
//! starts a throwaway server (temp dir, free loopback port, `postgres` user) and always
//! stops it, or says why it could not. The benchmark (`benches/conflicts`) includes this
//! file too, with its own server settings (fsync on).

use std::path::PathBuf;
use std::process::{Command, Output};

const BIN: &str = "/usr/lib/postgresql/15/bin";

pub struct Server {
    dir: PathBuf,
    port: u16,
    as_postgres: bool,
}

fn run(cmd: &mut Command) -> Result<Output, String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(format!("{cmd:?} failed: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
    }
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

fn postgis_installed() -> bool {
    Command::new("dpkg").args(["-s", "postgresql-15-postgis-3"]).output().map(|o| o.status.success()).unwrap_or(false)
        && std::path::Path::new(BIN).join("initdb").exists()
}

fn ensure_installed() -> Result<(), String> {
    if postgis_installed() {
        return Ok(());
    }
    if !is_root() {
        return Err("postgresql-15-postgis-3 is not installed and we are not root".into());
    }
    run(Command::new("apt-get")
        .args(["install", "-y", "postgresql-15-postgis-3"])
        .env("DEBIAN_FRONTEND", "noninteractive"))
    .map_err(|e| format!("apt-get could not install postgresql-15-postgis-3: {e}"))?;
    if postgis_installed() { Ok(()) } else { Err("postgresql-15-postgis-3 still missing after apt-get".into()) }
}

fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

impl Server {
    /// A server for correctness tests: fsync off, since nothing here must survive.
    pub fn start() -> Result<Server, String> {
        Server::start_with("-c fsync=off")
    }

    /// A server with extra `postgres` options (`-c name=value ...`).
    pub fn start_with(options: &str) -> Result<Server, String> {
        ensure_installed()?;
        let as_postgres = is_root();
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("hotline-notice-pg-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create the temp dir {}: {e}", dir.display()))?;
        let server = Server { dir, port: free_port()?, as_postgres };
        if as_postgres {
            run(Command::new("chown").arg("postgres:postgres").arg(&server.dir))?;
        }
        run(Command::new("chmod").arg("700").arg(&server.dir))?;
        let d = server.dir.display().to_string();
        server.pg(&format!("{BIN}/initdb -D {d}/data -U postgres -A trust --no-sync -E UTF8"))?;
        server.pg(&format!(
            "{BIN}/pg_ctl -D {d}/data -l {d}/server.log -w -o '-p {} -k {d} -c listen_addresses=127.0.0.1 {options}' start",
            server.port
        ))
        .map_err(|e| format!("PostgreSQL did not start: {e}"))?;
        server
            .psql("CREATE EXTENSION IF NOT EXISTS postgis;")
            .map_err(|e| format!("CREATE EXTENSION postgis failed: {e}"))?;
        Ok(server)
    }

    fn pg(&self, shell: &str) -> Result<Output, String> {
        pg_shell(self.as_postgres, shell)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// What `stop` needs, for a signal handler that cannot own the `Server`.
    pub fn stop_handle(&self) -> (PathBuf, bool) {
        (self.dir.clone(), self.as_postgres)
    }

    /// Runs a script; rows unaligned, `|`-separated, without headers.
    pub fn psql(&self, sql: &str) -> Result<String, String> {
        let file = self.dir.join("script.sql");
        std::fs::write(&file, sql).map_err(|e| e.to_string())?;
        let port = self.port.to_string();
        let out = run(Command::new("psql")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "-X",
                "-q",
                "-A",
                "-t",
                "-F",
                "|",
                "-v",
                "ON_ERROR_STOP=1",
                "-f",
            ])
            .arg(&file))?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

fn pg_shell(as_postgres: bool, shell: &str) -> Result<Output, String> {
    if as_postgres {
        run(Command::new("su").args(["postgres", "-c", shell]))
    } else {
        run(Command::new("sh").args(["-c", shell]))
    }
}

/// Stops the server in `dir` and removes the directory.
pub fn stop((dir, as_postgres): &(PathBuf, bool)) {
    let d = dir.display().to_string();
    if let Err(e) = pg_shell(*as_postgres, &format!("{BIN}/pg_ctl -D {d}/data -w -m fast stop")) {
        eprintln!("stopping the throwaway PostgreSQL: {e}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

impl Drop for Server {
    fn drop(&mut self) {
        stop(&self.stop_handle());
    }
}
