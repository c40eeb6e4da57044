//! The layer boundaries of DESIGN.md, checked: `proto` does no I/O and reads
//! no clock; `server` never knows the app layer; the HTTP/1.1 and HTTP/2
//! engines never know each other.

use std::fs;
use std::path::Path;

/// Every `.rs` file under `dir`, recursively.
fn sources(dir: &str) -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<(String, String)>) {
        for entry in fs::read_dir(dir).expect("source dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = fs::read_to_string(&path).expect("source file");
                out.push((path.display().to_string(), text));
            }
        }
    }
    let mut out = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join(dir), &mut out);
    assert!(!out.is_empty(), "no sources in {dir}");
    out
}

fn assert_absent(dir: &str, forbidden: &[&str]) {
    for (path, text) in sources(dir) {
        for word in forbidden {
            assert!(
                !text.contains(word),
                "{path} mentions `{word}`, which its layer must not use"
            );
        }
    }
}

#[test]
fn proto_is_sans_io() {
    assert_absent(
        "src/proto",
        &[
            "tokio",
            "std::net",
            "std::fs",
            "std::io::Read",
            "Instant",
            "SystemTime",
            "crate::server",
            "crate::body",
        ],
    );
}

#[test]
fn server_does_not_know_the_app_layer() {
    assert_absent("src/server", &["serve_dir", "ServeDir", "router", "Router"]);
}

#[test]
fn each_protocol_engine_knows_only_the_serving_core() {
    // HTTP/1.1 and HTTP/2 meet in the serving core and the accept side,
    // never in each other (hyper's proto/h1 and proto/h2 do the same).
    assert_absent(
        "src/server/h1",
        &["h2::", "super::h2", "server::h2", "crate::server::h2"],
    );
    assert_absent(
        "src/server/h2",
        &["super::h1", "server::h1", "crate::proto"],
    );
    assert_absent(
        "src/server/serve",
        &[
            "super::h1",
            "super::h2",
            "server::h1",
            "server::h2",
            "crate::proto",
        ],
    );
}

#[test]
fn app_layer_never_sees_a_socket() {
    assert_absent(
        "src/serve_dir",
        &["TcpStream", "crate::server", "crate::proto"],
    );
}

#[test]
fn shared_types_do_not_import_the_app_layer() {
    for file in [
        "src/body.rs",
        "src/handler.rs",
        "src/response.rs",
        "src/content_type.rs",
        "src/upgrade.rs",
        "src/service.rs",
    ] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let text = std::fs::read_to_string(&path).expect("source file");
        for word in ["crate::serve_dir", "crate::router", "crate::server"] {
            assert!(!text.contains(word), "{file} mentions `{word}`");
        }
    }
    assert_absent(
        "src/request",
        &["crate::serve_dir", "crate::router", "crate::server"],
    );
}
