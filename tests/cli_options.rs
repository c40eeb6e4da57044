//! The `berth` binary's options, through the real binary: config file,
//! environment and flag precedence, SPA and 404 fallbacks, headers, CORS,
//! health check, access log, `--help`.

mod support;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use support::{Client, Resp};

const LIMIT: Duration = Duration::from_secs(5);
const INDEX: &str = "<h1>app</h1>\n";
const NOT_FOUND_PAGE: &str = "<h1>not here</h1>\n";
const HELLO: &str = "hello, world\n";
const ACAO: &str = "access-control-allow-origin";
/// Every option of the binary (ROOT, --help and --version aside).
const FLAGS: &str = "--bind --port --head-timeout --keepalive-timeout --body-timeout \
    --write-timeout --shutdown-grace --max-connections --max-head-bytes --max-headers \
    --max-target-bytes --max-body-bytes --verbose --quiet --config --index --spa --404 \
    --cache-control --header --cors --cors-origin --log --health --listing --hidden \
    --follow-symlinks --open-file-cache --reuse-port --no-compress --compress-level --precompressed \
    --upload --upload-overwrite --max-upload-bytes --mkdir --qrcode --readme";

/// A temporary directory with `site/` (index.html, app.js, 404.html,
/// hello.txt) to serve.
fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("site");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("index.html"), INDEX).unwrap();
    std::fs::write(root.join("app.js"), "run()\n").unwrap();
    std::fs::write(root.join("404.html"), NOT_FOUND_PAGE).unwrap();
    std::fs::write(root.join("hello.txt"), HELLO).unwrap();
    dir
}

/// `berth ARGS` in `cwd` with `env` and no inherited `BERTH_*` variable.
fn berth(args: &[&str], env: &[(&str, &str)], cwd: &Path) -> Command {
    support::berth_command(args, env, cwd)
}

/// A running binary: its address and the stdout lines after the startup one.
struct Running {
    child: Child,
    addr: SocketAddr,
    lines: mpsc::Receiver<String>,
}

/// Serves `site/` of `dir` on a free port with `args` and `env`.
fn serve(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Running {
    let all = [&["--port", "0", "site"], args].concat();
    let mut child = berth(&all, env, dir).spawn().expect("spawn berth");
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        stdout
            .lines()
            .map_while(Result::ok)
            .try_for_each(|l| tx.send(l))
    });
    let Ok(first) = lines.recv_timeout(LIMIT) else {
        let _ = child.kill();
        panic!("no startup line: {:?}", child.wait_with_output());
    };
    let addr = first
        .rsplit_once(" on http://")
        .and_then(|(_, addr)| addr.parse().ok())
        .unwrap_or_else(|| panic!("unexpected startup line {first:?}"));
    Running { child, addr, lines }
}

impl Running {
    fn request(&self, raw: &str) -> Resp {
        let mut client = Client::connect(self.addr);
        client.send(raw);
        if raw.starts_with("HEAD ") {
            client.read_head_response()
        } else {
            client.read_response()
        }
    }

    /// GET `path` with extra header lines (each ending in CRLF).
    fn get(&self, path: &str, headers: &str) -> Resp {
        self.request(&format!("GET {path} HTTP/1.1\r\nHost: x\r\n{headers}\r\n"))
    }

    fn next_line(&self) -> String {
        self.lines.recv_timeout(LIMIT).expect("an access-log line")
    }

    /// SIGTERM; asserts a clean exit within LIMIT and returns stderr and
    /// the stdout lines not read yet.
    fn stop(mut self) -> (String, Vec<String>) {
        let pid = self.child.id().to_string();
        let kill = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(kill.unwrap().success());
        let start = Instant::now();
        while self.child.try_wait().unwrap().is_none() && start.elapsed() < LIMIT {
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = self.child.kill(); // only if it hung
        let out = self.child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
        (stderr, self.lines.iter().collect())
    }
}

/// Asserts each header's value (`None`: absent).
fn expect(r: &Resp, headers: &[(&str, Option<&str>)]) {
    for &(name, value) in headers {
        assert_eq!(r.header(name), value, "{name} in {r:?}");
    }
}

/// Runs berth expecting a startup failure: exit code and stderr.
fn fails(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let out = berth(args, env, dir).output().expect("run berth");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code(), stderr)
}

#[test]
fn config_file_env_and_flag_precedence() {
    let dir = site();
    let config = dir.path().join("berth.toml");
    std::fs::write(
        &config,
        "port = 1  # the flag's 0 wins\nhealth = \"/file-health\"\nheader = [\"X-Src: file\"]\n\
         cache_control = \"max-age=5\"\n",
    )
    .unwrap();
    let cfg = ["--config", "berth.toml"];
    // The file alone.
    let b = serve(dir.path(), &cfg, &[]);
    assert_eq!(b.get("/file-health", "").status, 200);
    let r = b.get("/hello.txt", "");
    assert_eq!(r.header("x-src"), Some("file"));
    assert_eq!(r.header("cache-control"), Some("max-age=5"));
    b.stop();
    // The environment over the file (BERTH_CONFIG names the file too).
    let env = [
        ("BERTH_CONFIG", "berth.toml"),
        ("BERTH_HEADER", "X-Src: env"),
    ];
    let b = serve(dir.path(), &[], &env);
    let r = b.get("/hello.txt", "");
    assert_eq!(r.header("x-src"), Some("env"));
    assert_eq!(r.header("cache-control"), Some("max-age=5"));
    assert_eq!(b.get("/file-health", "").status, 200);
    b.stop();
    // Flags over both.
    let flags = ["--header", "X-Src: flag", "--health", "/flag-health"];
    let b = serve(dir.path(), &flags, &env);
    assert_eq!(b.get("/hello.txt", "").header("x-src"), Some("flag"));
    assert_eq!(b.get("/flag-health", "").status, 200);
    assert_eq!(b.get("/file-health", "").status, 404);
    b.stop();
}

#[test]
fn bad_config_and_bad_flags_exit_2_with_one_line() {
    let dir = site();
    std::fs::write(dir.path().join("typo.toml"), "prot = 8080\ncors = true\n").unwrap();
    std::fs::write(dir.path().join("types.toml"), "cors = \"yes\"\n").unwrap();
    for (args, needles) in [
        (&["--config", "typo.toml"][..], &["typo.toml", "`prot`"][..]),
        (&["--config", "types.toml"], &["types.toml", "`cors`"]),
        (&["--config", "absent.toml"], &["absent.toml"]),
        (&["--header", "no colon here"], &["--header"]),
        (&["--header", "Content-Length: 5"], &["Content-Length"]),
        (&["--header", "Bad Name: x"], &["Bad Name"]),
        (&["--cors-origin", "https://a.example/"], &["cors-origin"]),
        // Operations paths must not shadow the site or each other.
        (&["--metrics", "/"], &["--metrics", "whole site"]),
        (
            &["site", "--health", "/hello.txt"],
            &["--health", "hello.txt"],
        ),
        (
            &["--health", "/ops", "--metrics", "/ops"],
            &["--health", "--metrics"],
        ),
    ] {
        let (code, stderr) = fails(dir.path(), args, &[]);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        for needle in needles {
            assert!(stderr.contains(needle), "{args:?}: {stderr}");
        }
    }
}

#[test]
fn spa_falls_back_for_navigations_only() {
    let dir = site();
    std::fs::remove_file(dir.path().join("site/index.html")).unwrap();
    std::fs::create_dir(dir.path().join("site/shell")).unwrap();
    std::fs::write(dir.path().join("site/shell/app.html"), INDEX).unwrap();
    let b = serve(dir.path(), &["--spa", "shell/app.html"], &[]);
    let html = "Accept: text/html,application/xhtml+xml,*/*;q=0.8\r\n";
    for path in ["/users/42", "/", "/deep/route/?q=1"] {
        let r = b.get(path, html);
        assert_eq!((r.status, r.body_str()), (200, INDEX), "{path}");
        assert_eq!(r.header("cache-control"), Some("no-cache"), "{path}");
        assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    }
    let head = b.request(&format!("HEAD /users/42 HTTP/1.1\r\nHost: x\r\n{html}\r\n"));
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), Some("13"));
    assert_eq!(b.get("/missing.js", html).status, 404);
    assert_eq!(b.get("/img/x.png", html).status, 404);
    assert_eq!(b.get("/users/42", "Accept: */*\r\n").status, 404);
    assert_eq!(b.get("/app.js", html).body_str(), "run()\n");
    b.stop();
}

#[test]
fn custom_404_page_keeps_its_type_and_status() {
    let dir = site();
    let b = serve(
        dir.path(),
        &["--404", "404.html", "--spa", "index.html"],
        &[],
    );
    for path in ["/nope.txt", "/missing.js", "/.hidden"] {
        let r = b.get(path, "Accept: text/html\r\n");
        assert_eq!((r.status, r.body_str()), (404, NOT_FOUND_PAGE), "{path}");
        assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
        assert_eq!(r.header("etag"), None);
        assert_eq!(r.header("last-modified"), None);
    }
    // Conditional headers meant for the missing file do not turn it into 304.
    let r = b.get(
        "/gone.css",
        "If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT\r\n",
    );
    assert_eq!((r.status, r.body_str()), (404, NOT_FOUND_PAGE));
    b.stop();
}

#[test]
fn headers_and_cache_control() {
    let dir = site();
    let args = [
        "--header",
        "X-Frame-Options: DENY",
        "--header",
        "Link: </a.css>; rel=preload",
        "--header",
        "Link: </b.js>; rel=preload",
        "--cache-control",
        "public, max-age=60",
    ];
    let b = serve(dir.path(), &args, &[]);
    let r = b.get("/hello.txt", "");
    assert_eq!(r.body_str(), HELLO);
    assert_eq!(r.header_all("link").len(), 2);
    let cache = Some("public, max-age=60");
    expect(
        &r,
        &[("x-frame-options", Some("DENY")), ("cache-control", cache)],
    );
    // An error never gets the file policy (see tests/cli_rules.rs).
    let r = b.get("/nope", "");
    assert_eq!(r.status, 404);
    expect(
        &r,
        &[
            ("x-frame-options", Some("DENY")),
            ("cache-control", Some("no-cache")),
        ],
    );
    b.stop();
}

#[test]
fn cors_any_origin() {
    let dir = site();
    let b = serve(dir.path(), &["--cors"], &[]);
    let r = b.request(
        "OPTIONS /hello.txt HTTP/1.1\r\nHost: x\r\nOrigin: https://a.example\r\n\
         Access-Control-Request-Method: GET\r\n\
         Access-Control-Request-Headers: content-type, x-token\r\n\r\n",
    );
    assert_eq!(r.status, 204);
    expect(
        &r,
        &[
            ("access-control-allow-origin", Some("*")),
            ("access-control-allow-methods", Some("GET, HEAD, OPTIONS")),
            (
                "access-control-allow-headers",
                Some("content-type, x-token"),
            ),
            ("access-control-max-age", Some("86400")),
        ],
    );
    let r = b.get("/hello.txt", "Origin: https://a.example\r\n");
    assert_eq!(r.header(ACAO), Some("*"));
    assert_eq!(r.body_str(), HELLO);
    b.stop();
}

#[test]
fn cors_one_origin() {
    let dir = site();
    let b = serve(dir.path(), &["--cors-origin", "https://App.example"], &[]);
    let allowed = Some("https://app.example");
    let r = b.get("/hello.txt", "Origin: https://app.example\r\n");
    expect(&r, &[(ACAO, allowed), ("vary", Some("Origin"))]);
    let r = b.get("/hello.txt", "Origin: https://evil.example\r\n");
    expect(&r, &[(ACAO, None), ("vary", Some("Origin"))]);
    let preflight = |origin: &str| {
        b.request(&format!(
            "OPTIONS /hello.txt HTTP/1.1\r\nHost: x\r\nOrigin: {origin}\r\n\
             Access-Control-Request-Method: GET\r\n\r\n"
        ))
    };
    let r = preflight("https://app.example");
    assert_eq!(r.status, 204);
    expect(
        &r,
        &[(ACAO, allowed), ("access-control-allow-headers", None)],
    );
    // Another origin's preflight is an ordinary OPTIONS: no CORS headers.
    let r = preflight("https://evil.example");
    expect(&r, &[(ACAO, None), ("access-control-allow-methods", None)]);
    b.stop();
}

#[test]
fn health_answers_without_the_disk() {
    let dir = site();
    let b = serve(dir.path(), &["--health", "/healthz"], &[]);
    std::fs::remove_dir_all(dir.path().join("site")).unwrap();
    let r = b.get("/healthz", "");
    assert_eq!((r.status, r.body_str()), (200, "ok"));
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let r = b.request("HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(r.status, 200);
    assert_eq!(b.get("/healthz/", "").status, 404);
    assert_eq!(b.get("/hello.txt", "").status, 404);
    b.stop();
}

#[test]
fn combined_log_escapes_client_fields() {
    let dir = site();
    let b = serve(dir.path(), &[], &[]);
    let line = b.get("/hello.txt", "Referer: /from\r\nUser-Agent: a\"b\tc\r\n");
    assert_eq!(line.status, 200);
    let log = b.next_line();
    assert!(log.starts_with("127.0.0.1 - - ["), "{log}");
    assert!(
        log.ends_with("] \"GET /hello.txt HTTP/1.1\" 200 13 \"/from\" \"a\\\"b\\x09c\""),
        "{log}"
    );
    // An ESC in a header: logged escaped, or the request is refused; never raw.
    let mut c = Client::connect(b.addr);
    c.send("GET /hello.txt HTTP/1.1\r\nHost: x\r\nUser-Agent: x\x1b[2Jy\r\n\r\n");
    let _ = c.try_read_response(false);
    drop(c); // the server lingers on a connection it closed until we do
    let log = b.next_line();
    assert!(!log.contains('\x1b'), "{log:?}");
    assert!(
        log.contains("\" 200 13 ") || log.contains("\" 400 "),
        "{log}"
    );
    b.stop();
}

#[test]
fn json_log_and_quiet() {
    let dir = site();
    let b = serve(dir.path(), &["--log", "json"], &[]);
    b.get("/nope", "User-Agent: q\"\r\n");
    let log = b.next_line();
    let fields =
        r#""method":"GET" "target":"/nope" "status":404 "user_agent":"q\"" "duration_ms":"#;
    for field in fields.split(' ').chain(["\"referer\":null"]) {
        assert!(log.contains(field), "{field} in {log}");
    }
    assert!(
        log.starts_with("{\"time\":\"") && log.ends_with('}'),
        "{log}"
    );
    b.stop();

    let b = serve(dir.path(), &["--quiet"], &[]);
    assert_eq!(b.get("/hello.txt", "").status, 200);
    assert_eq!(b.get("/nope", "").status, 404);
    let (stderr, stdout) = b.stop();
    assert_eq!(stdout, Vec::<String>::new(), "stderr: {stderr}");
    assert!(!stderr.contains("GET"), "{stderr}");
}

#[test]
fn help_lists_every_flag_with_a_default() {
    let dir = tempfile::tempdir().unwrap();
    let out = berth(&["--help"], &[], dir.path()).output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    // One entry per option: its first line, then the indented help text.
    let mut entries: Vec<String> = Vec::new();
    for line in help.lines() {
        let indent = line.len() - line.trim_start().len();
        if indent <= 6 && line.trim_start().starts_with('-') {
            entries.push(String::new());
        }
        if let Some(entry) = entries.last_mut() {
            entry.push_str(line);
            entry.push('\n');
        }
    }
    for flag in FLAGS.split_whitespace() {
        let entry = entries
            .iter()
            .find(|e| {
                let first = e.lines().next().unwrap_or("");
                first
                    .split([' ', ','])
                    .any(|w| w.trim_end_matches("...") == flag)
            })
            .unwrap_or_else(|| panic!("{flag} missing from --help:\n{help}"));
        assert!(entry.lines().count() > 1, "{flag}: no help: {entry}");
        assert!(entry.contains("[default: "), "{flag}: no default: {entry}");
        let env = format!("BERTH_{}", flag[2..].replace('-', "_").to_uppercase());
        assert!(entry.contains(&env), "{flag} does not name {env}: {entry}");
    }
}

#[test]
fn index_names_and_file_flags() {
    let dir = site();
    std::fs::write(dir.path().join("site/home.htm"), "home\n").unwrap();
    std::fs::write(dir.path().join("site/.env"), "SECRET=1\n").unwrap();
    let b = serve(
        dir.path(),
        &["--index", "home.htm", "--index", "index.html"],
        &[],
    );
    assert_eq!(b.get("/", "").body_str(), "home\n");
    assert_eq!(b.get("/.env", "").status, 404);
    b.stop();
    let b = serve(
        dir.path(),
        &["--hidden"],
        &[("BERTH_FOLLOW_SYMLINKS", "true")],
    );
    assert_eq!(b.get("/.env", "").body_str(), "SECRET=1\n");
    b.stop();
}

#[test]
fn a_body_declared_over_max_body_bytes_is_413_before_the_files() {
    let dir = site();
    let b = serve(dir.path(), &["--max-body-bytes", "10", "-q"], &[]);
    let mut client = Client::connect(b.addr);
    client.send("GET /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n");
    let r = client.read_response();
    assert_eq!(r.status, 413, "{r:?}");
    assert!(r.says_close(), "{r:?}");
    // At the limit, the file is served (the body is read and dropped).
    let r = b.request("GET /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789");
    assert_eq!(r.status, 200, "{r:?}");
    b.stop();
}

#[test]
fn repeatable_flags_take_several_values_from_the_environment() {
    // BERTH_HEADER: one per line (values hold commas); BERTH_INDEX: commas.
    let dir = site();
    let env = [
        ("BERTH_HEADER", "X-A: 1, 2\nX-B: 3"),
        ("BERTH_INDEX", "missing.html,hello.txt"),
    ];
    let b = serve(dir.path(), &[], &env);
    let r = b.get("/hello.txt", "");
    expect(&r, &[("x-a", Some("1, 2")), ("x-b", Some("3"))]);
    std::fs::remove_file(dir.path().join("site/index.html")).unwrap();
    assert_eq!(b.get("/", "").body_str(), HELLO);
    b.stop();
}

#[test]
fn start_up_says_when_listings_are_off() {
    let dir = site();
    let b = serve(dir.path(), &["-q"], &[]);
    let (stderr, _) = b.stop();
    assert!(stderr.contains("directory listings are off"), "{stderr}");
    let b = serve(dir.path(), &["-q", "--listing"], &[]);
    let (stderr, _) = b.stop();
    assert!(!stderr.contains("listings are off"), "{stderr}");
}

#[test]
fn verbose_shows_requests_and_client_errors() {
    let dir = site();
    let b = serve(dir.path(), &["-v"], &[]);
    assert_eq!(b.get("/hello.txt", "").status, 200);
    assert_eq!(b.request("GET /a b c\r\n\r\n").status, 400);
    let mut garbage = Client::connect(b.addr);
    garbage.send("GARBAGE\r\n\r\n");
    let _ = garbage.read_until_close();
    let (stderr, _) = b.stop();
    assert!(
        stderr.contains("request") && stderr.contains("/hello.txt"),
        "{stderr}"
    );
    assert!(stderr.contains("neither HTTP/1.x nor HTTP/2"), "{stderr}");
    assert!(stderr.contains("bad request"), "{stderr}");
    // Without -v, neither.
    let b = serve(dir.path(), &[], &[]);
    assert_eq!(b.get("/hello.txt", "").status, 200);
    assert_eq!(b.request("GET /a b c\r\n\r\n").status, 400);
    let (stderr, _) = b.stop();
    assert!(
        !stderr.contains("/hello.txt") && !stderr.contains("bad request"),
        "{stderr}"
    );
}
