//! The real `berth` binary: startup line, serving, SIGTERM, exit codes.

mod support;

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, ExitStatus};
use std::sync::mpsc;
use std::time::Duration;

use support::{Client, HELLO_TXT, get};

const LIMIT: Duration = Duration::from_secs(5);

/// `berth ARGS` in `cwd`, with no `BERTH_*` variables inherited.
fn berth(args: &[&str], cwd: &Path) -> Command {
    support::berth_command(args, &[], cwd)
}

/// A running binary, its address parsed from the startup line.
struct Running {
    pid: u32,
    addr: SocketAddr,
    exited: mpsc::Receiver<(ExitStatus, String)>,
}

fn spawn(args: &[&str], cwd: &Path) -> Running {
    let mut child = berth(args, cwd).spawn().expect("spawn berth");
    let pid = child.id();
    let stdout = child.stdout.take().unwrap();
    let (line_tx, line_rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line_tx.send(line).is_err() {
                break;
            }
        }
    });
    let exited = wait_in_background(child);
    let line = match line_rx.recv_timeout(LIMIT) {
        Ok(line) => line,
        Err(_) => {
            kill(pid, "-KILL");
            let (status, stderr) = exited.recv_timeout(LIMIT).unwrap();
            panic!("no startup line; {status}, stderr: {stderr}");
        }
    };
    let addr = line
        .strip_prefix("berth: serving ")
        .and_then(|rest| rest.rsplit_once(" on http://"))
        .and_then(|(_, addr)| addr.parse().ok())
        .unwrap_or_else(|| panic!("unexpected startup line {line:?}"));
    Running { pid, addr, exited }
}

/// Waits for `child` on a thread; the receiver gets its status and stderr.
fn wait_in_background(mut child: Child) -> mpsc::Receiver<(ExitStatus, String)> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut stderr = String::new();
        if let Some(mut pipe) = child.stderr.take() {
            let _ = pipe.read_to_string(&mut stderr);
        }
        let status = child.wait().expect("wait");
        let _ = tx.send((status, stderr));
    });
    rx
}

fn kill(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill {signal} {pid} failed");
}

impl Running {
    /// SIGTERM, then the exit status and stderr (killed if it hangs).
    fn terminate(self) -> (ExitStatus, String) {
        kill(self.pid, "-TERM");
        match self.exited.recv_timeout(LIMIT) {
            Ok(out) => out,
            Err(_) => {
                kill(self.pid, "-KILL");
                panic!("berth did not exit within {LIMIT:?} of SIGTERM");
            }
        }
    }
}

/// Runs berth expecting it to fail at startup; returns code and stderr.
fn run_failing(args: &[&str], cwd: &Path) -> (Option<i32>, String) {
    let child = berth(args, cwd).spawn().expect("spawn berth");
    let pid = child.id();
    match wait_in_background(child).recv_timeout(LIMIT) {
        Ok((status, stderr)) => (status.code(), stderr),
        Err(_) => {
            kill(pid, "-KILL");
            panic!("berth {args:?} kept running");
        }
    }
}

#[test]
fn serves_root_and_exits_0_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hello.txt"), HELLO_TXT).unwrap();
    let root = dir.path().to_str().unwrap();
    let running = spawn(&["--port", "0", root], dir.path());
    assert!(running.addr.ip().is_loopback(), "{}", running.addr);
    assert_ne!(running.addr.port(), 0);
    let mut c = Client::connect(running.addr);
    let r = c.request(get("/hello.txt"));
    assert_eq!(r.status, 200);
    assert_eq!(r.body_str(), HELLO_TXT);
    drop(c);
    let (status, stderr) = running.terminate();
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
}

#[test]
fn sigterm_right_after_the_startup_line_exits_0() {
    // The startup line announces readiness: a supervisor may stop the
    // server at once, and that must be a graceful exit, not death by signal.
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..10 {
        let running = spawn(&["--port", "0", "."], dir.path());
        let (status, stderr) = running.terminate();
        assert_eq!(status.code(), Some(0), "{status}; stderr: {stderr:?}");
    }
}

#[test]
fn sigterm_with_an_idle_keep_alive_connection_still_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hello.txt"), HELLO_TXT).unwrap();
    // The grace period bounds how long the exit may take if the idle
    // connection is not closed at once; it should be.
    let running = spawn(&["--port", "0", "--shutdown-grace", "2s", "."], dir.path());
    let mut c = Client::connect(running.addr);
    assert_eq!(c.request(get("/hello.txt")).status, 200);
    let start = std::time::Instant::now();
    let (status, stderr) = running.terminate();
    let elapsed = start.elapsed();
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
    assert!(c.is_closed());
    assert!(
        elapsed < Duration::from_secs(1),
        "exit took {elapsed:?}: the idle connection held up shutdown"
    );
}

#[test]
fn nonexistent_root_exits_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-dir");
    let (code, stderr) = run_failing(&["--port", "0", missing.to_str().unwrap()], dir.path());
    assert_eq!(code, Some(2), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "stderr: {stderr:?}");
    assert!(stderr.starts_with("berth: "), "{stderr:?}");
    assert!(stderr.contains("no-such-dir"), "{stderr:?}");
    assert!(!missing.exists(), "a non-default ROOT must not be created");
}

#[test]
fn invalid_bind_address_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stderr) = run_failing(&["--bind", "999.1.1.1", "--port", "0", "."], dir.path());
    assert_eq!(code, Some(2), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "stderr: {stderr:?}");
    assert!(stderr.contains("999.1.1.1"), "{stderr:?}");
}

#[test]
fn default_root_is_created_with_index_html() {
    let dir = tempfile::tempdir().unwrap();
    let running = spawn(&["--port", "0"], dir.path());
    let index = dir.path().join("public/index.html");
    let page = std::fs::read_to_string(&index).expect("public/index.html created");
    assert!(page.contains("Welcome to berth"), "{page}");
    let r = Client::connect(running.addr).request(get("/"));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(r.body_str(), page);
    let (status, stderr) = running.terminate();
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
    assert!(stderr.contains("created"), "{stderr:?}");
}

#[test]
fn default_root_is_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("public")).unwrap();
    std::fs::write(dir.path().join("public/index.html"), "mine").unwrap();
    let running = spawn(&["--port", "0"], dir.path());
    assert_eq!(
        Client::connect(running.addr).request(get("/")).body_str(),
        "mine"
    );
    let (status, stderr) = running.terminate();
    assert_eq!(status.code(), Some(0), "{status:?} stderr: {stderr}");
}

#[test]
fn port_in_use_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let (code, stderr) = run_failing(&["--port", &port, "."], dir.path());
    assert_eq!(code, Some(2), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "stderr: {stderr:?}");
    assert!(
        stderr.to_lowercase().contains("address already in use"),
        "{stderr:?}"
    );
}
