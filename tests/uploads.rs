//! Uploads into a `ServeDir` (`ServeDir::uploads`), end to end over real
//! sockets: `PUT` with curl and by hand, multipart forms with curl,
//! aborted uploads, concurrent uploads of one name, traversal and symlink
//! attempts, hidden names, the size limit, forms whose headers never end,
//! new folders, and `PUT` over HTTP/2. The binary's flags are
//! `tests/uploads_binary.rs`; the temporary file and the 507 of a full
//! disk are unit tests (`src/serve_dir/upload/tests.rs`).

mod support;

#[path = "support/h2client.rs"]
mod h2client;

use std::path::Path;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use berth::http::Method;
use berth::serve_dir::Uploads;
use berth::{Router, ServeDir, ServerConfig};
use bytes::Bytes;
use support::{HELLO_TXT, OUTSIDE, Resp, TestServer, curl, run_curl};

/// A server whose `ServeDir` takes uploads with `uploads`, configured
/// further by `f`.
fn server_with(uploads: Uploads, f: impl FnOnce(ServeDir) -> ServeDir) -> TestServer {
    support::start_serve_dir_with(ServerConfig::default(), move |files| {
        f(files.uploads(uploads))
    })
}

fn server() -> TestServer {
    server_with(Uploads::default(), |files| files)
}

/// `PUT path` with `body` (and `Content-Length`), on a new connection.
fn put(server: &TestServer, path: &str, body: &[u8]) -> Resp {
    let mut client = server.connect();
    client.send(format!(
        "PUT {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        body.len()
    ));
    client.send(body);
    client.read_response()
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

fn temp_files(dir: &Path) -> Vec<String> {
    names(dir)
        .into_iter()
        .filter(|n| n.starts_with(".berth-upload-"))
        .collect()
}

/// Waits (bounded) until `cond` holds for `dir`; panics with what is there.
fn wait_for(dir: &Path, what: &str, cond: impl Fn(&Path) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !cond(dir) {
        assert!(
            Instant::now() < deadline,
            "{what}: still {:?} after 5 s",
            names(dir)
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A whole multipart/form-data body with one file part per `(name,
/// content)` and the boundary `B`.
const B: &str = "xyzBOUNDARYzyx";
fn form(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, content) in files {
        body.extend_from_slice(
            format!(
                "--{B}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{B}--\r\n").as_bytes());
    body
}

/// `POST path` with `body` as a multipart form, and extra header lines.
fn post_form(server: &TestServer, path: &str, body: &[u8], headers: &str) -> Resp {
    let mut client = server.connect();
    client.send(format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary={B}\r\n\
         Content-Length: {}\r\n{headers}\r\n",
        body.len()
    ));
    client.send(body);
    client.read_response()
}

#[test]
fn curl_put_stores_a_new_file_and_never_replaces_one() {
    let Some(curl) = curl() else { return };
    let server = server();
    let file = server.tmp().join("upload.bin");
    let content: Vec<u8> = (0..300_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    std::fs::write(&file, &content).unwrap();
    let url = format!("http://{}/sub/new%20file.bin", server.addr);
    let file = file.to_str().unwrap();
    let out = run_curl(curl, &["-i", "-T", file, &url]);
    assert!(
        out.starts_with("HTTP/1.1 100") || out.starts_with("HTTP/1.1 201"),
        "{out}"
    );
    assert!(out.contains("HTTP/1.1 201 Created"), "{out}");
    assert!(
        out.to_ascii_lowercase()
            .contains("location: /sub/new%20file.bin\r\n"),
        "{out}"
    );
    assert_eq!(
        std::fs::read(server.root.join("sub/new file.bin")).unwrap(),
        content
    );
    // Served back as any file.
    let back = run_curl(curl, &[&url]);
    assert_eq!(back.as_bytes(), content);
    // A second upload of the name: 409, the first file intact.
    let out = run_curl(curl, &["-i", "-T", file, &url]);
    assert!(out.contains("409 Conflict"), "{out}");
    assert_eq!(
        std::fs::read(server.root.join("sub/new file.bin")).unwrap(),
        content
    );
    assert!(temp_files(&server.root.join("sub")).is_empty());
    // An existing file of the tree too.
    let r = put(&server, "/hello.txt", b"replaced?");
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(
        std::fs::read_to_string(server.root.join("hello.txt")).unwrap(),
        HELLO_TXT
    );
}

#[test]
fn with_overwrite_a_file_is_replaced_and_answered_204() {
    let server = server_with(
        Uploads {
            overwrite: true,
            ..Uploads::default()
        },
        |files| files,
    );
    let r = put(&server, "/hello.txt", b"new content");
    assert_eq!(r.status, 204, "{r:?}");
    assert!(r.body.is_empty());
    assert_eq!(
        std::fs::read(server.root.join("hello.txt")).unwrap(),
        b"new content"
    );
    let r = put(&server, "/fresh.txt", b"x");
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.header("location"), Some("/fresh.txt"));
    // A directory is never replaced by a file.
    let r = put(&server, "/sub", b"x");
    assert_eq!(r.status, 409, "{r:?}");
    assert!(server.root.join("sub/index.html").is_file());
}

#[test]
fn curl_form_stores_each_file() {
    let Some(curl) = curl() else { return };
    let server = server();
    let a = server.tmp().join("a.txt");
    let b = server.tmp().join("b b.txt");
    std::fs::write(&a, "alpha\n").unwrap();
    std::fs::write(&b, vec![b'b'; 200_000]).unwrap();
    let url = format!("http://{}/sub/", server.addr);
    let out = run_curl(
        curl,
        &[
            "-i",
            "-F",
            &format!("f=@{}", a.display()),
            "-F",
            &format!("g=@{}", b.display()),
            "-F",
            "note=not a file",
            &url,
        ],
    );
    assert!(out.contains("201 Created"), "{out}");
    let json = &out[out.find("\r\n\r\n").unwrap() + 4..];
    let json: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"stored": [
            {"name": "a.txt", "location": "/sub/a.txt", "replaced": false},
            {"name": "b b.txt", "location": "/sub/b%20b.txt", "replaced": false},
        ]})
    );
    assert_eq!(
        std::fs::read_to_string(server.root.join("sub/a.txt")).unwrap(),
        "alpha\n"
    );
    assert_eq!(
        std::fs::read(server.root.join("sub/b b.txt"))
            .unwrap()
            .len(),
        200_000
    );
    assert_eq!(
        names(&server.root.join("sub")),
        ["a.txt", "b b.txt", "index.html"]
    );

    // A browser's post goes back to the listing.
    let c = server.tmp().join("c.txt");
    std::fs::write(&c, "c").unwrap();
    let out = run_curl(
        curl,
        &[
            "-i",
            "-H",
            "Accept: text/html,application/xhtml+xml,*/*;q=0.8",
            "-F",
            &format!("file=@{}", c.display()),
            &url,
        ],
    );
    assert!(out.contains("303 See Other"), "{out}");
    assert!(
        out.to_ascii_lowercase().contains("location: /sub/\r\n"),
        "{out}"
    );
    assert!(server.root.join("sub/c.txt").is_file());
}

#[test]
fn a_form_stops_at_the_first_refused_file_and_names_those_stored() {
    let server = server();
    let body = form(&[("one.txt", b"1"), ("hello.txt", b"2"), ("three.txt", b"3")]);
    let r = post_form(&server, "/", &body, "");
    assert_eq!(r.status, 409, "{r:?}");
    assert!(r.body_str().contains("stored before it: /one.txt"), "{r:?}");
    assert!(server.root.join("one.txt").is_file());
    assert!(!server.root.join("three.txt").exists());
    assert_eq!(
        std::fs::read_to_string(server.root.join("hello.txt")).unwrap(),
        HELLO_TXT
    );
    // A form without a file, or not a form.
    let r = post_form(&server, "/", format!("--{B}--\r\n").as_bytes(), "");
    assert_eq!(r.status, 400, "{r:?}");
    let mut client = server.connect();
    let r = client.request(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 1\r\n\r\nx",
    );
    assert_eq!(r.status, 415, "{r:?}");
    // File names with a separator or a dot segment.
    for bad in ["a/b.txt", "..", "a\\b"] {
        let r = post_form(&server, "/sub/", &form(&[(bad, b"x")]), "");
        assert_eq!(r.status, 403, "{bad}: {r:?}");
    }
    assert!(temp_files(&server.root).is_empty());
}

#[test]
fn an_upload_aborted_halfway_leaves_nothing() {
    let server = server();
    // PUT: a Content-Length body cut short by closing the socket, once the
    // temporary file exists.
    let mut client = server.connect();
    client.send("PUT /sub/cut.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 4000000\r\n\r\n");
    client.send(vec![b'x'; 1_000_000]);
    let sub = server.root.join("sub");
    wait_for(&sub, "the temporary file to appear", |d| {
        !temp_files(d).is_empty()
    });
    drop(client);
    wait_for(&sub, "the temporary file to go", |d| {
        temp_files(d).is_empty()
    });
    assert_eq!(names(&sub), ["index.html"]);

    // A form: the same.
    let mut body = form(&[("cut.bin", &vec![b'y'; 2_000_000])]);
    let len = body.len();
    body.truncate(1_000_000);
    let mut client = server.connect();
    client.send(format!(
        "POST /sub/ HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary={B}\r\n\
         Content-Length: {len}\r\n\r\n"
    ));
    client.send(&body);
    wait_for(&sub, "the form's temporary file to appear", |d| {
        !temp_files(d).is_empty()
    });
    drop(client);
    wait_for(&sub, "the form's temporary file to go", |d| {
        temp_files(d).is_empty()
    });
    assert_eq!(names(&sub), ["index.html"]);
}

#[test]
fn concurrent_uploads_of_one_name_one_wins_whole() {
    let server = server();
    let addr = server.addr;
    const N: usize = 6;
    let barrier = Arc::new(Barrier::new(N));
    let bodies: Vec<Vec<u8>> = (0..N).map(|i| vec![b'a' + i as u8; 700_000]).collect();
    let threads: Vec<_> = bodies
        .iter()
        .cloned()
        .map(|body| {
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                let mut client = support::Client::connect(addr);
                client.send(format!(
                    "PUT /race.bin HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                ));
                barrier.wait();
                // The name is free for everyone at the start; the body
                // decides who gets it.
                let _ = client.try_send(&body);
                client.read_response().status
            })
        })
        .collect();
    let mut statuses: Vec<u16> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    statuses.sort();
    let mut want = vec![201];
    want.extend([409; N - 1]);
    assert_eq!(statuses, want);
    let stored = std::fs::read(server.root.join("race.bin")).unwrap();
    assert!(
        bodies.contains(&stored),
        "the stored file is no upload whole"
    );
    assert!(temp_files(&server.root).is_empty());
}

#[test]
fn traversal_is_refused_and_nothing_is_written_outside() {
    let server = server();
    for path in [
        "/../x",
        "/%2e%2e/x",
        "/sub/../../x",
        "/sub/%2E%2E/%2e%2e/x",
        "/a%2Fb",
        "/..%2Fx",
        "/sub%2F..%2F..%2Fx",
        "/a%00b",
        "/a%5cb",
    ] {
        let r = put(&server, path, b"pwned");
        assert!(matches!(r.status, 400 | 403 | 404), "{path}: {r:?}");
        let r = post_form(&server, &format!("{path}/"), &form(&[("y", b"pwned")]), "");
        assert!(matches!(r.status, 400 | 403 | 404), "{path}/: {r:?}");
    }
    assert_eq!(names(server.tmp()), ["outside.txt", "root"]);
    assert_eq!(
        names(&server.root),
        [".secret", "big.bin", "hello.txt", "index.html", "sub"]
    );
    // Bad percent-encoding is a 400, as for a read.
    assert_eq!(put(&server, "/%zz", b"x").status, 400);
}

#[test]
fn symlinks_are_never_written_through() {
    // Even when reads follow them.
    let server = server_with(
        Uploads {
            overwrite: true,
            ..Uploads::default()
        },
        |files| files.follow_symlinks(true),
    );
    let outside = server.tmp().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, server.root.join("away")).unwrap();
    std::os::unix::fs::symlink("sub", server.root.join("inside")).unwrap();
    std::os::unix::fs::symlink("../outside.txt", server.root.join("out.txt")).unwrap();
    std::os::unix::fs::symlink("hello.txt", server.root.join("hello-link.txt")).unwrap();

    for path in ["/away/x", "/inside/x"] {
        let r = put(&server, path, b"pwned");
        assert_eq!(r.status, 404, "{path}: {r:?}");
    }
    for path in ["/away/", "/inside/"] {
        let r = post_form(&server, path, &form(&[("x", b"pwned")]), "");
        assert_eq!(r.status, 404, "{path}: {r:?}");
    }
    for path in ["/out.txt", "/hello-link.txt"] {
        let r = put(&server, path, b"pwned");
        assert_eq!(r.status, 403, "{path}: {r:?}");
    }
    let r = post_form(&server, "/", &form(&[("out.txt", b"pwned")]), "");
    assert_eq!(r.status, 403, "{r:?}");
    assert!(names(&outside).is_empty());
    assert!(names(&server.root.join("sub")) == ["index.html"]);
    assert_eq!(
        std::fs::read_to_string(server.tmp().join("outside.txt")).unwrap(),
        OUTSIDE
    );
    assert_eq!(
        std::fs::read_to_string(server.root.join("hello.txt")).unwrap(),
        HELLO_TXT
    );
    assert!(
        std::fs::symlink_metadata(server.root.join("out.txt"))
            .unwrap()
            .is_symlink()
    );
}

#[test]
fn hidden_names_are_refused_unless_hidden_files_are_served() {
    let server = server();
    for path in ["/.env", "/.git/config", "/sub/.x"] {
        assert_eq!(put(&server, path, b"x").status, 403, "{path}");
    }
    let r = post_form(&server, "/", &form(&[(".env", b"x")]), "");
    assert_eq!(r.status, 403, "{r:?}");
    assert!(!server.root.join(".env").exists());

    let server = server_with(Uploads::default(), |files| files.hidden(true));
    assert_eq!(put(&server, "/.env", b"x").status, 201);
    assert_eq!(std::fs::read(server.root.join(".env")).unwrap(), b"x");
    // Never a name of the temporary files, nor a read of one.
    let r = put(&server, "/.berth-upload-1-2-3", b"x");
    assert_eq!(r.status, 403, "{r:?}");
    std::fs::write(server.root.join(".berth-upload-left"), "partial").unwrap();
    let r = server
        .connect()
        .request(support::get("/.berth-upload-left"));
    assert_eq!(r.status, 404, "{r:?}");
}

#[test]
fn over_the_limit_is_413_and_writes_nothing() {
    let server = server_with(
        Uploads {
            max_bytes: 1000,
            ..Uploads::default()
        },
        |files| files,
    );
    // Declared over the limit: refused before anything is opened.
    let mut client = server.connect();
    let r = client.request("PUT /big.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n");
    assert_eq!(r.status, 413, "{r:?}");
    assert!(r.says_close());
    // Chunked, going over while streaming: 413, the temporary file gone.
    let mut client = server.connect();
    client.send("PUT /big.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    let _ = client.try_send(format!("258\r\n{}\r\n", "x".repeat(600)));
    let _ = client.try_send(format!("258\r\n{}\r\n0\r\n\r\n", "x".repeat(600)));
    let r = client.read_response();
    assert_eq!(r.status, 413, "{r:?}");
    // A form over the limit.
    let r = post_form(&server, "/", &form(&[("f.txt", &[b'f'; 2000])]), "");
    assert_eq!(r.status, 413, "{r:?}");
    assert!(!server.root.join("big.txt").exists() && !server.root.join("f.txt").exists());
    assert!(temp_files(&server.root).is_empty());
    // At the limit: stored.
    assert_eq!(put(&server, "/ok.txt", &[b'o'; 1000]).status, 201);
}

#[test]
fn a_form_whose_part_headers_never_end_is_refused() {
    // multer would buffer until the end of the headers: the leash stops it
    // at 1 MiB.
    let server = server();
    let mut body =
        format!("--{B}\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x\"\r\nX-Pad: ")
            .into_bytes();
    body.extend(std::iter::repeat_n(b'p', 3 << 20));
    let mut client = server.connect();
    client.send(format!(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary={B}\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    ));
    let _ = client.try_send(&body);
    let r = client.read_response();
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.body_str().contains("never end"), "{r:?}");
    // And a preamble that never reaches a boundary.
    let mut client = server.connect();
    client.send(format!(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary={B}\r\n\
         Content-Length: {}\r\n\r\n",
        3 << 20
    ));
    let _ = client.try_send(vec![b'q'; 3 << 20]);
    assert_eq!(client.read_response().status, 400);
}

#[test]
fn methods_directories_and_allow() {
    let server = server();
    let r = put(&server, "/sub/", b"x");
    assert_eq!(r.status, 405, "{r:?}");
    assert_eq!(r.header("allow"), Some("GET, HEAD, OPTIONS, POST"));
    let r = server.connect().request(
        "PUT /part.txt HTTP/1.1\r\nHost: x\r\nContent-Range: bytes 0-0/2\r\nContent-Length: 1\r\n\r\nx",
    );
    assert_eq!(r.status, 400, "{r:?}");
    assert!(!server.root.join("part.txt").exists());
    let r = post_form(&server, "/hello.txt", &form(&[("x", b"x")]), "");
    assert_eq!(r.status, 405, "{r:?}");
    assert_eq!(r.header("allow"), Some("GET, HEAD, OPTIONS, PUT"));
    let r = server
        .connect()
        .request("OPTIONS /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(r.header("allow"), Some("GET, HEAD, OPTIONS, PUT, POST"));
    let r = server
        .connect()
        .request("DELETE /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(r.status, 405, "{r:?}");
    // The directory must exist; a file on the way is not one.
    assert_eq!(put(&server, "/missing/x", b"x").status, 404);
    assert_eq!(put(&server, "/hello.txt/x", b"x").status, 404);
    let r = post_form(&server, "/missing/", &form(&[("x", b"x")]), "");
    assert_eq!(r.status, 404, "{r:?}");
    assert!(!server.root.join("missing").exists());

    // Without uploads, PUT and POST stay 405.
    let plain = support::start();
    let r = put(&plain, "/new.txt", b"x");
    assert_eq!(r.status, 405, "{r:?}");
    assert_eq!(r.header("allow"), Some("GET, HEAD, OPTIONS"));
    assert!(!plain.root.join("new.txt").exists());
}

#[test]
fn location_is_percent_encoded_and_under_the_nest_prefix() {
    let app_root = Arc::new(std::sync::Mutex::new(None));
    let keep = Arc::clone(&app_root);
    let server = support::start_app(ServerConfig::default(), move |root| {
        *keep.lock().unwrap() = Some(root.to_path_buf());
        Router::new().nest("/files", ServeDir::new(root).uploads(Uploads::default()))
    });
    let r = put(&server, "/files/sub/caf%C3%A9%20%231.txt", b"x");
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(
        r.header("location"),
        Some("/files/sub/caf%C3%A9%20%231.txt")
    );
    assert!(server.root.join("sub/café #1.txt").is_file());
    let r = post_form(
        &server,
        "/files/sub/",
        &form(&[("a b.txt", b"x")]),
        "Accept: text/html\r\n",
    );
    assert_eq!(r.status, 303, "{r:?}");
    assert_eq!(r.header("location"), Some("/files/sub/"));
}

#[test]
fn mkdir_creates_a_folder_from_a_form() {
    let server = server_with(
        Uploads {
            mkdir: true,
            ..Uploads::default()
        },
        |files| files.listing(true),
    );
    let mkdir = |path: &str, name: &str, accept: &str| {
        let body = format!("mkdir={name}");
        server.connect().request(format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {}\r\n{accept}\r\n{body}",
            body.len()
        ))
    };
    let r = mkdir("/sub/", "new+folder", "");
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.header("location"), Some("/sub/new%20folder/"));
    assert!(server.root.join("sub/new folder").is_dir());
    assert_eq!(mkdir("/sub/", "new+folder", "").status, 409);
    assert_eq!(mkdir("/sub/", ".git", "").status, 403);
    assert_eq!(mkdir("/sub/", "a%2Fb", "").status, 403);
    let r = mkdir("/", "other", "Accept: text/html\r\n");
    assert_eq!(r.status, 303, "{r:?}");
    assert_eq!(r.header("location"), Some("/"));
    // The listing shows both forms.
    let page = server.connect().request(support::get("/sub/new%20folder/"));
    let page = page.body_str();
    assert!(page.contains("enctype=\"multipart/form-data\""), "{page}");
    assert!(
        page.contains("<input type=\"file\" name=\"file\" multiple"),
        "{page}"
    );
    assert!(page.contains("name=\"mkdir\""), "{page}");

    // Without `mkdir`, such a form is not taken.
    let server = self::server();
    let body = "mkdir=x";
    let r = server.connect().request(format!(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    ));
    assert_eq!(r.status, 415, "{r:?}");
    assert!(!server.root.join("x").exists());
}

#[tokio::test]
async fn put_and_forms_over_http2() {
    let server = server();
    let addr = server.addr;
    let mut h2 = h2client::H2::h2c(addr).await;
    let content = Bytes::from(vec![b'z'; 3 << 20]);
    let r = h2
        .request(Method::PUT, "/sub/h2.bin", &[], Some(content.clone()))
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.header("location"), Some("/sub/h2.bin"));
    assert_eq!(
        std::fs::read(server.root.join("sub/h2.bin")).unwrap(),
        content
    );
    let r = h2
        .request(
            Method::PUT,
            "/sub/h2.bin",
            &[],
            Some(Bytes::from_static(b"x")),
        )
        .await;
    assert_eq!(r.status, 409, "{r:?}");
    let ct = format!("multipart/form-data; boundary={B}");
    let body = Bytes::from(form(&[("f1", b"one"), ("f2", &[b'2'; 100_000])]));
    let r = h2
        .request(Method::POST, "/", &[("content-type", &ct)], Some(body))
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(
        std::fs::read(server.root.join("f2")).unwrap().len(),
        100_000
    );

    // A stream reset in the middle of its body leaves nothing.
    let head = h2.head_of(Method::PUT, "/sub/reset.bin", &[]);
    let (_response, mut sender) = h2.open(head, false).await.unwrap();
    sender.reserve_capacity(500_000);
    let sub = server.root.join("sub");
    sender
        .send_data(Bytes::from(vec![b'r'; 60_000]), false)
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while temp_files(&sub).is_empty() {
        assert!(
            Instant::now() < deadline,
            "no temporary file: {:?}",
            names(&sub)
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    sender.send_reset(h2::Reason::CANCEL);
    while !temp_files(&sub).is_empty() {
        assert!(
            Instant::now() < deadline,
            "temporary file left: {:?}",
            names(&sub)
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!sub.join("reset.bin").exists());
}

#[test]
fn a_slow_client_hits_the_body_timeout_and_leaves_nothing() {
    let mut config = ServerConfig::default();
    config.timeouts.body_read = Duration::from_millis(300);
    let server = support::start_serve_dir_with(config, |files| files.uploads(Uploads::default()));
    let mut client = server.connect();
    client.send("PUT /slow.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n");
    client.send(vec![b's'; 50_000]);
    // Then nothing: the server gives up after the body timeout.
    let r = client.try_read_response(false);
    if let Ok(r) = r {
        assert!(matches!(r.status, 408 | 400), "{r:?}");
    }
    wait_for(&server.root, "the temporary file to go", |d| {
        temp_files(d).is_empty()
    });
    assert!(!server.root.join("slow.bin").exists());
}

#[test]
fn another_sites_page_cannot_upload_through_the_visitors_browser() {
    let server = server_with(
        Uploads {
            trusted_origins: vec!["https://app.example".into()],
            ..Uploads::default()
        },
        |files| files,
    );
    let body = form(&[("csrf.txt", b"from a hostile page")]);
    // A form a page on another site submits: what browsers send.
    for headers in [
        "Origin: http://evil.example\r\nSec-Fetch-Site: cross-site\r\n",
        "Origin: http://evil.example\r\n",
        "Origin: null\r\n",
        "Origin: http://x\r\nSec-Fetch-Site: same-site\r\n",
    ] {
        let r = post_form(&server, "/sub/", &body, headers);
        assert_eq!(r.status, 403, "{headers:?}: {r:?}");
        assert!(r.body_str().contains("another site"), "{r:?}");
        let mut client = server.connect();
        client.send(format!(
            "PUT /sub/csrf.txt HTTP/1.1\r\nHost: x\r\n{headers}Content-Length: 1\r\n\r\nx"
        ));
        assert_eq!(client.read_response().status, 403, "PUT {headers:?}");
    }
    assert!(!server.root.join("sub/csrf.txt").exists());
    // The site's own page (the listing's form), a typed URL, a trusted
    // origin, and clients that are not browsers may.
    for (i, headers) in [
        "Origin: http://x\r\nSec-Fetch-Site: same-origin\r\n",
        "Origin: http://x\r\n",
        "Sec-Fetch-Site: none\r\n",
        "Origin: https://app.example\r\nSec-Fetch-Site: cross-site\r\n",
        "",
    ]
    .into_iter()
    .enumerate()
    {
        let name = format!("ok{i}.txt");
        let r = post_form(&server, "/sub/", &form(&[(&name, b"fine")]), headers);
        assert_eq!(r.status, 201, "{headers:?}: {r:?}");
        assert!(server.root.join("sub").join(&name).exists());
    }
}
