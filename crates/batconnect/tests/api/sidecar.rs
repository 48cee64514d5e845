//! A program the tests need beside them (a local S3 server, chromedriver), serving on a free
//! local port for as long as the test binary runs: a shell starts it in the background and
//! waits on a pipe from this process, and stops it when the pipe closes — also when the test
//! binary is killed.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Sidecar {
    pub port: u16,
    _guard: Mutex<Child>,
}

/// Starts `start(port)` (a shell command ending in `&`) and waits up to `within` for the
/// port to open.
pub fn start(start: impl Fn(u16) -> String, within: Duration) -> Result<Sidecar, String> {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    let script = format!(
        "{} pid=$!; read -r _; kill $pid 2>/dev/null; wait $pid 2>/dev/null",
        start(port)
    );
    let child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run sh: {e}"))?;
    let address: SocketAddr = format!("127.0.0.1:{port}").parse().expect("an address");
    let started = Instant::now();
    while started.elapsed() < within {
        if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
            return Ok(Sidecar {
                port,
                _guard: Mutex::new(child),
            });
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!(
        "nothing opened port {port} within {} s",
        within.as_secs()
    ))
}
