//! A throwaway PostgreSQL server for tests: Debian's `postgresql` binaries, a fresh cluster in a
//! temporary directory, listening on 127.0.0.1 only.
//!
//! One server is started per test process, on first use, and every test gets a database of its
//! own on it. A watchdog shell beside the server stops it and removes its directory once the
//! test process is gone, since a static is never dropped. A test that restarts the server
//! starts one of its own ([`TestServer::dedicated`]), so the others never see it go.
//!
//! When the binaries are missing or the server cannot start, [`TestServer::database`] fails with
//! a message that says so and how to install them: a test that needs PostgreSQL never passes
//! without it.

use std::fmt;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Why the test server is not available.
#[derive(Debug, Clone)]
pub struct Unavailable(String);

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the PostgreSQL test server is not available: {}", self.0)
    }
}

impl std::error::Error for Unavailable {}

/// A test server: the process's shared one, or a test's own.
pub struct TestServer {
    port: u16,
    user: String,
    dir: PathBuf,
}

static SERVER: OnceLock<Result<TestServer, Unavailable>> = OnceLock::new();
static NEXT_DATABASE: AtomicU64 = AtomicU64::new(0);

impl TestServer {
    /// The connection string of a new, empty database on the process's test server.
    pub async fn database() -> Result<String, Unavailable> {
        match SERVER.get_or_init(Self::start) {
            Ok(server) => server.new_database().await,
            Err(error) => Err(error.clone()),
        }
    }

    /// A server for this test alone, stopped when it is dropped: for a test that restarts it.
    pub fn dedicated() -> Result<Self, Unavailable> {
        Self::start()
    }

    /// The connection string of a new, empty database on this server.
    pub async fn new_database(&self) -> Result<String, Unavailable> {
        let name = format!("test_{}", NEXT_DATABASE.fetch_add(1, Ordering::Relaxed));
        let (client, driver) = self.admin_connection().await?;
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .map_err(|error| Unavailable(format!("creating database {name} failed: {error}")))?;
        drop(client);
        let _ = driver.await;
        Ok(self.url(&name))
    }

    /// A connection to the `postgres` database, once the server takes queries: its port opens
    /// a moment before ("the database system is starting up"), so this retries for a while.
    async fn admin_connection(
        &self,
    ) -> Result<(tokio_postgres::Client, tokio::task::JoinHandle<Result<(), tokio_postgres::Error>>), Unavailable> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match tokio_postgres::connect(&self.url("postgres"), tokio_postgres::NoTls).await {
                Ok((client, connection)) => {
                    let driver = tokio::spawn(connection);
                    if client.simple_query("SELECT 1").await.is_ok() {
                        return Ok((client, driver));
                    }
                }
                Err(error) if Instant::now() > deadline => {
                    return Err(Unavailable(format!("connecting to it failed: {error}")));
                }
                Err(_) => {}
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn url(&self, database: &str) -> String {
        format!("postgres://{}@127.0.0.1:{}/{database}", self.user, self.port)
    }

    /// Restarts the server as an administrator would (a fast shutdown: every client is
    /// disconnected, then a start on the same port); returns once it takes queries again.
    pub async fn restart(&self) -> Result<(), Unavailable> {
        let failed = |what: &str, error: &dyn fmt::Display| Unavailable(format!("restarting: {what} failed: {error}"));
        // The watchdog starts the server again, rather than cleaning up, when this is present.
        std::fs::write(self.dir.join(RESTART), b"").map_err(|error| failed("asking the watchdog", &error))?;
        let pid_path = self.dir.join("data/postmaster.pid");
        let pid_file = std::fs::read_to_string(&pid_path).map_err(|error| failed("reading postmaster.pid", &error))?;
        let pid = pid_file.lines().next().unwrap_or_default().trim().to_owned();
        let status =
            Command::new("kill").args(["-INT", &pid]).status().map_err(|error| failed("running kill", &error))?;
        if !status.success() {
            return Err(failed("kill", &status));
        }
        // The old server removes its pid file last; the new one writes its own.
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::fs::read_to_string(&pid_path).map_or(true, |now| now == pid_file) {
            if Instant::now() > deadline {
                return Err(Unavailable("restarting: the server did not come back within 30 s".into()));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let (client, driver) = self.admin_connection().await?;
        drop(client);
        let _ = driver.await;
        Ok(())
    }

    fn start() -> Result<Self, Unavailable> {
        let bin = binaries()?;
        let runner = Runner::for_this_process()?;
        let dir = tempfile::Builder::new()
            .prefix("stepwasm-postgres-")
            .tempdir()
            .map_err(|error| Unavailable(format!("creating a temporary directory failed: {error}")))?
            .keep();
        runner.give(&dir)?;
        let data = dir.join("data");
        let user = "stepwasm".to_owned();
        runner.run(
            Command::new(bin.join("initdb")).arg("--pgdata").arg(&data).args([
                "--username",
                &user,
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
                "--no-sync",
            ]),
            "initdb",
        )?;

        // Another process may take the port between its release here and the server's bind, so
        // a failed start is retried on a new one.
        let mut last_error = None;
        for _ in 0..5 {
            let port = free_port()?;
            let log = dir.join(format!("server-{port}.log"));
            runner.spawn_with_watchdog(&bin.join("postgres"), &data, &dir, port, &log)?;
            match wait_until_accepting(port, &log) {
                Ok(()) => return Ok(Self { port, user, dir }),
                Err(error) => last_error = Some(error),
            }
        }
        Err(last_error.unwrap_or_else(|| Unavailable("it did not start".into())))
    }
}

/// The directory of the PostgreSQL server binaries: on `PATH`, else Debian's newest
/// `/usr/lib/postgresql/<version>/bin`.
fn binaries() -> Result<PathBuf, Unavailable> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .find(|dir| dir.join("initdb").is_file() && dir.join("postgres").is_file());
    if let Some(dir) = on_path {
        return Ok(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).ok_or_else(|| {
        Unavailable(
            "no initdb and postgres on PATH or in /usr/lib/postgresql/*/bin; install Debian's `postgresql` package"
                .into(),
        )
    })
}

/// Runs the server's commands as a user PostgreSQL accepts: itself, or `postgres` when root.
struct Runner {
    as_user: Option<(u32, u32)>,
}

impl Runner {
    fn for_this_process() -> Result<Self, Unavailable> {
        let me = std::fs::metadata("/proc/self")
            .map_err(|error| Unavailable(format!("reading /proc/self failed: {error}")))?;
        if std::os::unix::fs::MetadataExt::uid(&me) != 0 {
            return Ok(Self { as_user: None });
        }
        // PostgreSQL refuses to run as root; Debian's package creates the `postgres` user.
        let id = |flag: &str| -> Result<u32, Unavailable> {
            let output = Command::new("id")
                .args([flag, "postgres"])
                .output()
                .map_err(|error| Unavailable(format!("running id failed: {error}")))?;
            String::from_utf8_lossy(&output.stdout).trim().parse().map_err(|_| {
                Unavailable("running as root, and there is no `postgres` user to run the server as".into())
            })
        };
        Ok(Self { as_user: Some((id("-u")?, id("-g")?)) })
    }

    fn give(&self, dir: &Path) -> Result<(), Unavailable> {
        if let Some((uid, gid)) = self.as_user {
            std::os::unix::fs::chown(dir, Some(uid), Some(gid)).map_err(|error| {
                Unavailable(format!("handing {} to the postgres user failed: {error}", dir.display()))
            })?;
        }
        Ok(())
    }

    fn command(&self, command: &mut Command) {
        if let Some((uid, gid)) = self.as_user {
            std::os::unix::process::CommandExt::uid(command, uid);
            std::os::unix::process::CommandExt::gid(command, gid);
        }
    }

    fn run(&self, command: &mut Command, what: &str) -> Result<(), Unavailable> {
        self.command(command);
        let output = command.output().map_err(|error| Unavailable(format!("running {what} failed: {error}")))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(Unavailable(format!("{what} failed: {}", String::from_utf8_lossy(&output.stderr).trim())))
        }
    }

    /// Starts the server under a shell that stops it, and removes `dir`, once this process has
    /// ended.
    fn spawn_with_watchdog(
        &self,
        postgres: &Path,
        data: &Path,
        dir: &Path,
        port: u16,
        log: &Path,
    ) -> Result<(), Unavailable> {
        const WATCHDOG: &str = r#"
            while :; do
                "$1" -D "$2" -p "$4" -k "$3" -c listen_addresses=127.0.0.1 >>"$5" 2>&1 &
                server=$!
                while [ -e "/proc/$6" ] && [ ! -e "$3/stop" ] && kill -0 "$server" 2>/dev/null; do sleep 0.1; done
                kill -0 "$server" 2>/dev/null && break
                wait "$server"
                [ -e "/proc/$6" ] && [ -e "$3/restart" ] && [ ! -e "$3/stop" ] || break
                rm -f "$3/restart"
            done
            kill -QUIT "$server" 2>/dev/null
            wait "$server"
            rm -rf "$3"
        "#;
        let mut command = Command::new("sh");
        command
            .args(["-c", WATCHDOG, "watchdog"])
            .arg(postgres)
            .arg(data)
            .arg(dir)
            .arg(port.to_string())
            .arg(log)
            .arg(std::process::id().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        self.command(&mut command);
        command.spawn().map_err(|error| Unavailable(format!("starting postgres failed: {error}")))?;
        Ok(())
    }
}

/// The files in the server's directory that tell its watchdog to start it again once it stops,
/// or to stop it.
const RESTART: &str = "restart";
const STOP: &str = "stop";

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = std::fs::write(self.dir.join(STOP), b"");
    }
}

fn free_port() -> Result<u16, Unavailable> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .map_err(|error| Unavailable(format!("finding a free port failed: {error}")))?;
    listener.local_addr().map(|address| address.port()).map_err(|error| Unavailable(error.to_string()))
}

fn wait_until_accepting(port: u16, log: &Path) -> Result<(), Unavailable> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(log).unwrap_or_default();
            return Err(Unavailable(format!("it did not accept connections within 30 s; its log:\n{log}")));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
