//! The `berth` binary's uploads: `--upload` and its companions from flags,
//! `BERTH_*` variables and the config file, the startup refusal of uploads
//! open to the network, `--max-upload-bytes` against `--max-body-bytes`,
//! the listing's forms, and a large upload with the server's memory
//! watched (`/proc/PID/status`). What uploads do is `tests/uploads.rs`.

mod support;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use support::{Berth, Client, Resp, run_berth_to_exit, spawn_berth, temp_root};

/// berth serving `root` on a free loopback port with `args`.
fn serve(tmp: &Path, root: &Path, args: &[&str], env: &[(&str, &str)]) -> Berth {
    let mut all = vec!["--port", "0", "-q", root.to_str().unwrap()];
    all.extend_from_slice(args);
    spawn_berth(&all, env, tmp)
}

fn put(addr: SocketAddr, path: &str, body: &[u8]) -> Resp {
    let mut client = Client::connect(addr);
    client.send(format!(
        "PUT {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        body.len()
    ));
    let _ = client.try_send(body);
    client.read_response()
}

#[test]
fn uploads_are_off_by_default() {
    let (tmp, root) = temp_root();
    let berth = serve(tmp.path(), &root, &["--listing"], &[]);
    let r = put(berth.addr, "/new.txt", b"x");
    assert_eq!(r.status, 405, "{r:?}");
    assert_eq!(r.header("allow"), Some("GET, HEAD, OPTIONS"));
    assert!(!root.join("new.txt").exists());
    let page = Client::connect(berth.addr).request(support::get("/sub/?x"));
    assert_eq!(page.status, 200);
    assert!(!page.body_str().contains("<form"), "{}", page.body_str());
}

#[test]
fn upload_flag_env_and_config_file() {
    let (tmp, root) = temp_root();
    // Flags: uploads above --max-body-bytes, the listing's forms.
    let berth = serve(
        tmp.path(),
        &root,
        &["--upload", "--mkdir", "--listing", "--max-body-bytes", "10"],
        &[],
    );
    let body = vec![b'u'; 5000];
    let r = put(berth.addr, "/sub/up.bin", &body);
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.header("location"), Some("/sub/up.bin"));
    assert_eq!(std::fs::read(root.join("sub/up.bin")).unwrap(), body);
    assert_eq!(put(berth.addr, "/sub/up.bin", b"again").status, 409);
    // Other methods keep --max-body-bytes.
    let r = Client::connect(berth.addr)
        .request("GET /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n");
    assert_eq!(r.status, 413, "{r:?}");
    std::fs::remove_file(root.join("sub/index.html")).unwrap();
    let page = Client::connect(berth.addr).request(support::get("/sub/"));
    let page = page.body_str();
    assert!(page.contains("enctype=\"multipart/form-data\""), "{page}");
    assert!(page.contains("name=\"mkdir\""), "{page}");
    drop(berth);

    // The environment: overwrite and a small limit.
    let env = [
        ("BERTH_UPLOAD", "true"),
        ("BERTH_UPLOAD_OVERWRITE", "1"),
        ("BERTH_MAX_UPLOAD_BYTES", "100"),
    ];
    let berth = serve(tmp.path(), &root, &[], &env);
    let r = put(berth.addr, "/sub/up.bin", b"replaced");
    assert_eq!(r.status, 204, "{r:?}");
    assert_eq!(std::fs::read(root.join("sub/up.bin")).unwrap(), b"replaced");
    let r = put(berth.addr, "/sub/big.bin", &[b'b'; 101]);
    assert_eq!(r.status, 413, "{r:?}");
    assert!(!root.join("sub/big.bin").exists());
    drop(berth);

    // The config file.
    let config = tmp.path().join("berth.toml");
    std::fs::write(&config, "upload = true\nmax-upload-bytes = 3\n").unwrap();
    let berth = serve(
        tmp.path(),
        &root,
        &["--config", config.to_str().unwrap()],
        &[],
    );
    assert_eq!(put(berth.addr, "/three.txt", b"abc").status, 201);
    assert_eq!(put(berth.addr, "/four.txt", b"abcd").status, 413);
}

#[test]
fn origins_listed_for_cors_may_upload_and_others_may_not() {
    let (tmp, root) = temp_root();
    let app = "https://app.example";
    let berth = serve(tmp.path(), &root, &["--upload", "--cors-origin", app], &[]);
    let preflight = |origin: &str| {
        Client::connect(berth.addr).request(format!(
            "OPTIONS /sub/x.txt HTTP/1.1\r\nHost: x\r\nOrigin: {origin}\r\n\
             Access-Control-Request-Method: PUT\r\n\r\n"
        ))
    };
    let r = preflight(app);
    assert_eq!(r.status, 204, "{r:?}");
    assert_eq!(
        r.header("access-control-allow-methods"),
        Some("GET, HEAD, OPTIONS, PUT, POST")
    );
    let upload = |origin: &str, name: &str| {
        Client::connect(berth.addr).request(format!(
            "PUT /sub/{name} HTTP/1.1\r\nHost: x\r\nOrigin: {origin}\r\n\
             Sec-Fetch-Site: cross-site\r\nContent-Length: 2\r\n\r\nok"
        ))
    };
    assert_eq!(upload(app, "app.txt").status, 201);
    let r = upload("https://evil.example", "evil.txt");
    assert_eq!(r.status, 403, "{r:?}");
    assert!(!root.join("sub/evil.txt").exists());
    drop(berth);
    // `--cors` (any origin) lets every site read, none upload.
    let berth = serve(tmp.path(), &root, &["--upload", "--cors"], &[]);
    let r = Client::connect(berth.addr).request(
        "OPTIONS /sub/x.txt HTTP/1.1\r\nHost: x\r\nOrigin: https://any.example\r\n\
         Access-Control-Request-Method: PUT\r\n\r\n",
    );
    assert_eq!(
        r.header("access-control-allow-methods"),
        Some("GET, HEAD, OPTIONS")
    );
    let r = Client::connect(berth.addr).request(
        "PUT /sub/any.txt HTTP/1.1\r\nHost: x\r\nOrigin: https://any.example\r\n\
         Content-Length: 2\r\n\r\nok",
    );
    assert_eq!(r.status, 403, "{r:?}");
}

#[test]
fn uploads_open_to_the_network_are_refused_at_startup() {
    let (tmp, root) = temp_root();
    let root = root.to_str().unwrap();
    let (code, stderr) = run_berth_to_exit(
        &["--upload", "--bind", "0.0.0.0", "--port", "0", root],
        &[],
        tmp.path(),
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("--upload over plain HTTP"), "{stderr}");
    // --auth limited to a prefix leaves the rest open: refused too.
    let spec = format!("alice:{}", bcrypt::hash("pw", 4).unwrap());
    let (code, stderr) = run_berth_to_exit(
        &[
            "--upload",
            "--bind",
            "0.0.0.0",
            "--port",
            "0",
            "--auth",
            &spec,
            "--auth-path",
            "/private",
            "--auth-insecure",
            root,
        ],
        &[],
        tmp.path(),
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--upload over plain HTTP"), "{stderr}");
    let (code, stderr) = run_berth_to_exit(&["--mkdir", root], &[], tmp.path());
    assert_eq!(
        (code, stderr.trim()),
        (Some(2), "berth: --mkdir needs --upload")
    );

    // With --auth on every path it starts (binding every interface, so
    // nothing but the startup line is checked).
    let mut berth = spawn_berth(
        &[
            "--upload",
            "--bind",
            "0.0.0.0",
            "--port",
            "0",
            "--auth",
            &spec,
            "--auth-insecure",
            "-q",
            root,
        ],
        &[],
        tmp.path(),
    );
    assert!(berth.terminate().success());
}

/// The server's resident memory: current and peak, in KiB.
fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| -> u64 {
        let line = status.lines().find(|l| l.starts_with(name)).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Streams `len` bytes to `PUT /huge.bin`, or as the one file of a form
/// posted to `/`, and checks the server's peak memory grew by less than
/// `max_growth_kib` and the file is whole.
fn big_upload(len: u64, form: bool, max_growth_kib: u64) {
    let (tmp, root) = temp_root();
    let max = (len + 1000).to_string();
    let berth = serve(
        tmp.path(),
        &root,
        &["--upload", "--max-upload-bytes", &max],
        &[],
    );
    let pid = berth.child.id();
    // Warm up: a small upload, so buffers that stay are counted.
    assert_eq!(put(berth.addr, "/warm.bin", &[1; 100_000]).status, 201);
    let (_, before) = memory(pid);
    let started = Instant::now();
    let mut stream = TcpStream::connect(berth.addr).unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    const B: &str = "bigBOUNDARY";
    let (part_head, part_tail) = match form {
        true => (
            format!(
                "--{B}\r\nContent-Disposition: form-data; name=\"f\"; filename=\"huge.bin\"\r\n\r\n"
            ),
            format!("\r\n--{B}--\r\n"),
        ),
        false => (String::new(), String::new()),
    };
    let total = part_head.len() as u64 + len + part_tail.len() as u64;
    let head = match form {
        true => format!(
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary={B}\r\n\
             Content-Length: {total}\r\n\r\n{part_head}"
        ),
        false => format!("PUT /huge.bin HTTP/1.1\r\nHost: x\r\nContent-Length: {total}\r\n\r\n"),
    };
    stream.write_all(head.as_bytes()).unwrap();
    let chunk: Vec<u8> = (0..64 * 1024).map(|i| (i % 253) as u8).collect();
    let mut sent = 0;
    let mut rss_seen = 0;
    while sent < len {
        let n = chunk.len().min((len - sent) as usize);
        if let Err(e) = stream.write_all(&chunk[..n]) {
            let r = Client::new(stream).try_read_response(false);
            panic!("write failed after {sent} bytes ({e}): the answer was {r:?}");
        }
        sent += n as u64;
        if sent % (64 << 20) == 0 {
            rss_seen = rss_seen.max(memory(pid).0);
        }
    }
    stream.write_all(part_tail.as_bytes()).unwrap();
    let mut client = Client::new(stream);
    let r = client.read_response();
    assert_eq!(r.status, 201, "{r:?}");
    let (_, after) = memory(pid);
    let took = started.elapsed();
    let growth = after.saturating_sub(before);
    eprintln!(
        "{} MiB ({}) in {took:?}: peak RSS {before} → {after} KiB (+{growth}; RSS seen {rss_seen})",
        len >> 20,
        if form { "form" } else { "PUT" }
    );
    assert!(
        growth < max_growth_kib,
        "the server's peak memory grew by {growth} KiB for a {len}-byte upload"
    );
    let meta = std::fs::metadata(root.join("huge.bin")).unwrap();
    assert_eq!(meta.len(), len);
    // Spot checks of the content, at chunk boundaries.
    use std::os::unix::fs::FileExt;
    let file = std::fs::File::open(root.join("huge.bin")).unwrap();
    for at in [0, 65_535, 65_536, len / 2 / 65_536 * 65_536 + 7, len - 1] {
        let mut b = [0];
        file.read_exact_at(&mut b, at).unwrap();
        assert_eq!(b[0], ((at % 65_536) % 253) as u8, "byte {at}");
    }
}

/// What the server's peak memory may grow by for one upload, whatever its
/// size: the write buffer (128 KiB), a chunk or two, multer's bounded
/// buffer (1 MiB at most), and slack for the allocator.
const GROWTH_KIB: u64 = 8 * 1024;

#[test]
fn a_256_mib_upload_keeps_the_servers_memory_bounded() {
    big_upload(256 << 20, false, GROWTH_KIB);
}

/// 128 MiB: multer, unoptimized in a debug build, makes a form about four
/// times slower than a `PUT` (6 s for 256 MiB here).
#[test]
fn a_128_mib_form_keeps_the_servers_memory_bounded() {
    big_upload(128 << 20, true, GROWTH_KIB);
}

#[test]
#[ignore = "2 GiB through the disk: run with --ignored (README, Tests)"]
fn a_2_gib_upload_keeps_the_servers_memory_bounded() {
    big_upload(2 << 30, false, GROWTH_KIB);
    big_upload(2 << 30, true, GROWTH_KIB);
}
