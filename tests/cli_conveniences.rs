//! The `berth` binary's conveniences, through the real binary over real
//! sockets: the interface addresses listed at start-up behind
//! `--bind 0.0.0.0` (and `[::]`), `--qrcode`, and `--readme`'s README
//! below a listing, hostile ones included. The renderer's own rules are
//! unit-tested in `src/serve_dir/listing/readme/`.

mod support;

use std::path::Path;
use std::time::Duration;

use support::{Berth, Client, Resp, run_berth_to_exit, spawn_berth, temp_root};

const WAIT: Duration = Duration::from_secs(5);

/// berth serving `root` on a free port with `args`.
fn serve(tmp: &Path, root: &Path, args: &[&str]) -> Berth {
    let mut all = vec!["--port", "0", root.to_str().unwrap()];
    all.extend_from_slice(args);
    spawn_berth(&all, &[], tmp)
}

/// Stops `berth` and returns every stderr line it wrote.
fn stop(mut berth: Berth) -> Vec<String> {
    assert!(berth.terminate().success());
    berth.stderr_seen.clone()
}

/// GET `path` on loopback at `berth`'s port, with extra header lines.
fn get(berth: &Berth, path: &str, headers: &str) -> Resp {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], berth.addr.port()));
    let mut client = Client::connect(addr);
    client.request(format!("GET {path} HTTP/1.1\r\nHost: x\r\n{headers}\r\n"))
}

#[test]
fn a_wildcard_bind_lists_the_addresses_to_open() {
    let (tmp, root) = temp_root();
    // -q silences the access log, not the start-up lines.
    let mut berth = serve(tmp.path(), &root, &["--bind", "0.0.0.0", "-q"]);
    let port = berth.addr.port();
    assert!(berth.addr.ip().is_unspecified(), "{:?}", berth.addr);
    let loopback = format!("berth: open http://127.0.0.1:{port}/ (");
    let found = berth.wait_stderr(WAIT, |l| l.starts_with(&loopback));
    assert!(found.is_some(), "{:?}", berth.stderr_seen);
    let stderr = stop(berth);
    let opens: Vec<&String> = stderr
        .iter()
        .filter(|l| l.starts_with("berth: open "))
        .collect();
    // Every one on the port, IPv4 only, loopback last.
    for line in &opens {
        assert!(line.contains(&format!(":{port}/ (")), "{line}");
        assert!(!line.contains('['), "IPv6 behind 0.0.0.0: {line}");
    }
    assert!(opens.last().unwrap().starts_with(&loopback), "{opens:?}");
    assert!(!stderr.iter().any(|l| l.contains("scan to open")));

    // A specified address lists nothing more.
    let berth = serve(tmp.path(), &root, &[]);
    let stderr = stop(berth);
    assert!(
        !stderr.iter().any(|l| l.starts_with("berth: open ")),
        "{stderr:?}"
    );
}

#[test]
fn the_ipv6_wildcard_lists_both_families() {
    if !support::ipv6_loopback_available() {
        eprintln!("skipped: no IPv6 loopback");
        return;
    }
    let (tmp, root) = temp_root();
    let mut berth = serve(tmp.path(), &root, &["--bind", "[::]"]);
    let port = berth.addr.port();
    let v6 = format!("berth: open http://[::1]:{port}/ (");
    assert!(berth.wait_stderr(WAIT, |l| l.starts_with(&v6)).is_some());
    let stderr = stop(berth);
    let v4 = format!("berth: open http://127.0.0.1:{port}/ (");
    let at = |prefix: &str| stderr.iter().position(|l| l.starts_with(prefix));
    // Loopback last, IPv4 before IPv6.
    assert!(at(&v4).unwrap() < at(&v6).unwrap(), "{stderr:?}");
    assert!(!stderr.iter().any(|l| l.contains("fe80")));
}

#[test]
fn qrcode_draws_the_address_a_phone_would_open() {
    let (tmp, root) = temp_root();
    let mut berth = serve(tmp.path(), &root, &["--bind", "0.0.0.0", "--qrcode"]);
    let Some(scan) = berth.wait_stderr(WAIT, |l| l.starts_with("berth: scan to open ")) else {
        panic!("no QR code: {:?}", berth.stderr_seen);
    };
    let stderr = stop(berth);
    // The first address listed: a non-loopback one when the machine has
    // one (loopback comes last).
    let url = scan["berth: scan to open ".len()..]
        .split(' ')
        .next()
        .unwrap();
    let first = stderr
        .iter()
        .find_map(|l| l.strip_prefix("berth: open "))
        .unwrap();
    assert!(first.starts_with(&format!("{url} (")), "{url} vs {first}");
    assert_eq!(scan.contains("(loopback"), url.starts_with("http://127."));
    // Then the code: lines of half blocks, as wide as each other.
    let at = stderr.iter().position(|l| *l == scan).unwrap();
    let code: Vec<&String> = stderr[at + 1..]
        .iter()
        .take_while(|l| l.chars().all(|c| " █▀▄".contains(c)) && !l.is_empty())
        .collect();
    assert!(code.len() >= 11, "{stderr:?}");
    assert!(
        code[0].chars().all(|c| c == '█'),
        "quiet zone: {:?}",
        code[0]
    );
    let width = code[0].chars().count();
    assert!(code.iter().all(|l| l.chars().count() == width));

    // On loopback alone, it says a phone cannot open it.
    let mut berth = serve(tmp.path(), &root, &["--qrcode"]);
    let port = berth.addr.port();
    let scan = berth.wait_stderr(WAIT, |l| l.starts_with("berth: scan to open "));
    let expected = format!("berth: scan to open http://127.0.0.1:{port}/ (loopback");
    assert!(scan.unwrap().starts_with(&expected));
    stop(berth);
}

/// The hostile README, and a few more.
const HOSTILE: &str = "# Hostile

<script>alert(1)</script>

<img src=x onerror=alert(1)>

Inline <img src=y onerror=alert(2)> <svg onload=alert(3)>.

<iframe src=\"https://evil.example/\"></iframe>

[a](javascript:alert(1)) [b](JaVaScRiPt&#58;alert(1)) [c](&#x6A;avascript:alert(1))
[d](<java\tscript:alert(1)>) [e](vbscript:msgbox(1)) [f][r]

[r]: javascript:alert(6)

![x](data:text/html,<script>alert(1)</script>)

<javascript:alert(1)>

`<script>alert(1)</script>` in code.

[safe](https://example.com/) and [near](docs/)
";

/// Each tag of `page` (a `<` in it always starts one: text is escaped):
/// its name, lowercase, and its attributes.
fn tags(page: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut found = Vec::new();
    for piece in page.split('<').skip(1) {
        let piece = piece.trim_start_matches('/');
        let name_end = piece
            .find(|c: char| !c.is_ascii_alphanumeric() && c != '!')
            .unwrap_or(piece.len());
        let name = piece[..name_end].to_ascii_lowercase();
        let mut rest = &piece[name_end..];
        let mut attrs = Vec::new();
        loop {
            rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '/');
            if rest.is_empty() || rest.starts_with('>') {
                break;
            }
            let end = rest
                .find(|c: char| c == '=' || c == '>' || c.is_ascii_whitespace())
                .unwrap_or(rest.len());
            let attr = rest[..end].to_ascii_lowercase();
            rest = &rest[end..];
            let mut value = String::new();
            if let Some(after) = rest.strip_prefix('=') {
                let (v, tail) = match after.chars().next() {
                    Some(q @ ('"' | '\'')) => {
                        let close = after[1..].find(q).map_or(after.len(), |i| i + 1);
                        (&after[1..close], after.get(close + 1..).unwrap_or(""))
                    }
                    _ => {
                        let end = after
                            .find(|c: char| c == '>' || c.is_ascii_whitespace())
                            .unwrap_or(after.len());
                        (&after[..end], &after[end..])
                    }
                };
                value = v.replace("&#x27;", "'").replace("&amp;", "&");
                rest = tail;
            }
            attrs.push((attr, value));
        }
        found.push((name, attrs));
    }
    found
}

/// Asserts that nothing in `page` can run script: no script-bearing
/// element, no event handler, no URL to a dangerous scheme.
fn assert_inert(page: &str) {
    for (name, attrs) in tags(page) {
        let bad = [
            "script", "iframe", "object", "embed", "svg", "base", "frame",
        ];
        assert!(!bad.contains(&name.as_str()), "<{name}> in {page}");
        for (attr, value) in attrs {
            assert!(!attr.starts_with("on"), "{attr}= on <{name}> in {page}");
            if ["href", "src", "action", "formaction"].contains(&attr.as_str()) {
                let url: String = value
                    .trim()
                    .chars()
                    .filter(|c| !c.is_ascii_whitespace())
                    .collect::<String>()
                    .to_ascii_lowercase();
                let bad = ["javascript:", "vbscript:", "data:"];
                let dangerous = bad.iter().any(|b| url.starts_with(b)) && url != "data:,";
                assert!(!dangerous, "{attr}={value:?} on <{name}> in {page}");
            }
        }
    }
}

#[test]
fn a_hostile_readme_is_shown_inert() {
    let (tmp, root) = temp_root();
    let dir = root.join("docs");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("README.md"), HOSTILE).unwrap();
    let berth = serve(tmp.path(), &root, &["--listing", "--readme", "-q"]);
    let r = get(&berth, "/docs/", "");
    assert_eq!(r.status, 200, "{r:?}");
    let csp = r.header("content-security-policy").unwrap();
    assert!(
        csp.starts_with("default-src 'none'; style-src 'unsafe-inline'"),
        "{csp}"
    );
    assert!(!csp.contains("script-src"));
    let page = r.body_str();
    assert!(page.contains("<section class=\"readme\">"), "{page}");
    assert_inert(page);
    let lower = page.to_ascii_lowercase();
    for needle in ["<script", "<iframe", "<svg", "<img src=\"x\"", "<img src=x"] {
        assert!(!lower.contains(needle), "{needle} in {page}");
    }
    // The raw HTML is there as text, escaped; the links' text stays.
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(page.contains("&lt;img src=y onerror=alert(2)&gt;"));
    assert!(page.contains("&lt;iframe src=\"https://evil.example/\"&gt;"));
    assert!(page.contains("<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>"));
    assert!(page.contains("<p>javascript:alert(1)</p>"));
    assert!(page.contains("<a href=\"https://example.com/\">safe</a>"));
    assert!(page.contains("<a href=\"docs/\">near</a>"));

    // The JSON listing has no README.
    let r = get(&berth, "/docs/", "Accept: application/json\r\n");
    assert!(r.body_str().contains("\"README.md\"") && !r.body_str().contains("Hostile"));
    drop(berth);

    // Without --readme, the listing alone.
    let berth = serve(tmp.path(), &root, &["--listing", "-q"]);
    let page = get(&berth, "/docs/", "").body_str().to_owned();
    assert!(
        page.contains("README.md") && !page.contains("Hostile"),
        "{page}"
    );
}

#[test]
fn a_readme_symlink_out_of_the_root_is_not_rendered() {
    let (tmp, root) = temp_root();
    let outside = tmp.path().join("secret.md");
    std::fs::write(&outside, "# TOP SECRET\n").unwrap();
    let dir = root.join("linked");
    std::fs::create_dir(&dir).unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("README.md")).unwrap();
    // Not even when symlinks inside the root are followed.
    for extra in [&[][..], &["--follow-symlinks"]] {
        let mut args = vec!["--listing", "--readme", "-q"];
        args.extend_from_slice(extra);
        let berth = serve(tmp.path(), &root, &args);
        let r = get(&berth, "/linked/", "");
        assert_eq!(r.status, 200);
        let page = r.body_str();
        assert!(page.contains("README.md"), "listed: {page}");
        assert!(
            !page.contains("SECRET") && !page.contains("class=\"readme\""),
            "{page}"
        );
    }
}

#[test]
fn readme_options() {
    let (tmp, root) = temp_root();
    // A large README is not rendered; a note says so.
    let dir = root.join("big");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("readme.md"), "x".repeat((1 << 20) + 1)).unwrap();
    // From the environment, like every flag.
    let mut all = vec!["--port", "0", "-q", "--listing", root.to_str().unwrap()];
    all.push("--log=common");
    let berth = spawn_berth(&all, &[("BERTH_README", "1")], tmp.path());
    let page = get(&berth, "/big/", "").body_str().to_owned();
    assert!(
        page.contains("<a href=\"readme.md\">readme.md</a>"),
        "{page}"
    );
    assert!(page.contains("larger than 1 MiB") && !page.contains("xxxx"));
    drop(berth);
    // --readme needs --listing.
    let (code, stderr) = run_berth_to_exit(&["--readme", root.to_str().unwrap()], &[], tmp.path());
    assert_eq!(code, Some(2));
    assert!(stderr.contains("--readme needs --listing"), "{stderr}");
}
