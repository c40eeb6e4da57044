//! The layer boundaries of DESIGN.md, checked: `proto` does no I/O and reads
//! no clock; `server` never knows the app layer; the HTTP/1.1, HTTP/2 and
//! HTTP/3 engines never know each other; the app handlers never import each other
//! (they talk through the request); the shared types and the field-value
//! grammar import no layer above them.

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

/// What `text` says as code: comment lines left out (docs may name what
/// the code must not use), and so is everything from the `mod tests`
/// declaration on (a module's tests come last and may put it together
/// with what it must not import).
fn code_of(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let line = line.trim_start();
        if line.starts_with("mod tests") || line.starts_with("pub(crate) mod tests") {
            break;
        }
        if !line.starts_with("//") {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// [`assert_absent`] on the code of each file ([`code_of`]); `tests.rs`
/// files are tests and left out. A word that ends like an identifier
/// must end there in the code too ([`uses`]): `Compress` is the layer,
/// flate2's `Compression` and zip's `CompressionMethod` are not.
fn assert_absent_from_code(dir: &str, forbidden: &[&str]) {
    for (path, text) in sources(dir) {
        if path.ends_with("/tests.rs") {
            continue;
        }
        let code = code_of(&text);
        for word in forbidden {
            assert!(
                !uses(&code, word),
                "{path} uses `{word}`, which its layer must not use"
            );
        }
    }
}

/// True when `code` holds `word`, not followed by an identifier character
/// when `word` ends with one (`crate::` matches any path under it).
fn uses(code: &str, word: &str) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    if !word.ends_with(ident) {
        return code.contains(word);
    }
    code.match_indices(word)
        .any(|(at, _)| !code[at + word.len()..].starts_with(ident))
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
    // HTTP/1.1, HTTP/2 and HTTP/3 meet in the serving core and the accept side,
    // never in each other (hyper's proto/h1 and proto/h2 do the same).
    assert_absent(
        "src/server/h1",
        &[
            "h2::",
            "super::h2",
            "server::h2",
            "crate::server::h2",
            "h3::",
            "server::h3",
        ],
    );
    assert_absent(
        "src/server/h2",
        &[
            "super::h1",
            "server::h1",
            "crate::proto",
            "server::h3",
            "quinn",
        ],
    );
    assert_absent(
        "src/server/h3",
        &[
            "super::h1",
            "server::h1",
            "super::h2",
            "server::h2",
            "h2::",
            "crate::proto",
        ],
    );
    assert_absent(
        "src/server/serve",
        &[
            "super::h1",
            "super::h2",
            "super::h3",
            "server::h1",
            "server::h2",
            "server::h3",
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

/// What the shared types must not import.
const APP_AND_SERVER: [&str; 4] = [
    "crate::serve_dir",
    "crate::router",
    "crate::compress",
    "crate::server",
];

#[test]
fn shared_types_do_not_import_the_app_layer() {
    for file in [
        "src/body/mod.rs",
        "src/handler.rs",
        "src/response.rs",
        "src/content_type.rs",
        "src/upgrade.rs",
        "src/service.rs",
        "src/conditional.rs",
        "src/safe_path.rs",
    ] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let text = std::fs::read_to_string(&path).expect("source file");
        for word in ["crate::serve_dir", "crate::router", "crate::server"] {
            assert!(!text.contains(word), "{file} mentions `{word}`");
        }
        let code = code_of(&text);
        for word in APP_AND_SERVER {
            assert!(!code.contains(word), "{file} uses `{word}`");
        }
    }
    assert_absent(
        "src/request",
        &["crate::serve_dir", "crate::router", "crate::server"],
    );
    // What Compress and ServeDir share (content codings, the request-side
    // negotiation) sits here so that neither imports the other.
    assert_absent_from_code("src/request", &APP_AND_SERVER);
    assert_absent_from_code("src/content_coding", &APP_AND_SERVER);
}

#[test]
fn field_value_grammar_imports_nothing_of_the_crate() {
    // Every layer reads field values through `syntax`, proto included:
    // it must stand below all of them.
    assert_absent_from_code("src/syntax", &["crate::", "super::super"]);
}

#[test]
fn app_handlers_talk_through_the_request_not_through_imports() {
    // DESIGN.md: Compress and ServeDir meet in `content_coding` (the
    // negotiation goes down in the request's extensions, the file comes
    // back to the layer's coder); Router knows neither.
    assert_absent_from_code("src/compress", &["serve_dir", "ServeDir"]);
    assert_absent_from_code("src/serve_dir", &["crate::compress", "Compress"]);
    assert_absent_from_code(
        "src/router",
        &["serve_dir", "ServeDir", "compress", "Compress"],
    );
}

#[test]
fn policy_layers_live_in_the_binary_only() {
    // DESIGN.md: Basic auth, CORS, the SPA fallback and trusted proxies
    // have one home, the binary; the library never grows a second copy.
    for (path, text) in sources("src") {
        if path.contains("/src/bin/") {
            continue;
        }
        let code = code_of(&text);
        for word in ["argon2", "bcrypt", "BasicAuth", "WWW-Authenticate", "ipnet"] {
            assert!(
                !code.contains(word),
                "{path} uses `{word}`, a binary policy layer's"
            );
        }
    }
}
