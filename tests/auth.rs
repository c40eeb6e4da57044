//! HTTP Basic authentication over real sockets: the binary's `BasicAuth`
//! (`src/bin/berth/auth/`, compiled into this test) around a handler
//! on a test server. Right credentials pass; wrong or unknown ones, missing
//! or malformed fields, and every way of spelling a protected path are
//! `401` with the challenge; bcrypt and argon2 (cheap parameters) both work;
//! plain passwords are refused when the server is built.

#[path = "../src/bin/berth/auth/mod.rs"]
#[allow(dead_code)]
mod auth;
mod support;

use argon2::password_hash::PasswordHasher;
use argon2::{Algorithm, Argon2, Params, Version};
use auth::{AuthError, AuthenticatedUser, BasicAuth, parse_user_hash};
use berth::{Request, ServerConfig};
use support::{Client, Resp, TestServer};

const REALM: &str = "berth \"test\" realm";
const CHALLENGE: &str = r#"Basic realm="berth \"test\" realm", charset="UTF-8""#;

/// An argon2 hash with the cheapest parameters (8 KiB, one pass).
fn argon2_hash(algorithm: Algorithm, password: &str) -> String {
    let params = Params::new(8, 1, 1, None).unwrap();
    Argon2::new(algorithm, Version::V0x13, params)
        .hash_password(password.as_bytes())
        .unwrap()
        .to_string()
}

/// A bcrypt hash at the lowest cost (4).
fn bcrypt_hash(password: &str) -> String {
    bcrypt::hash(password, 4).unwrap()
}

fn b64(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(data)
}

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", b64(format!("{user}:{password}").as_bytes()))
}

/// Answers `200 path=… user=…` for anything that reaches it.
async fn app(req: Request) -> String {
    let user = req
        .extensions()
        .get::<AuthenticatedUser>()
        .map_or("-".to_owned(), |u| u.name().to_owned());
    format!("path={} user={user}", req.uri().path())
}

/// A server with alice (argon2id, "wonderland") and bob (argon2id,
/// "builder"), protecting `prefix` or everything.
fn start(prefix: Option<&str>) -> TestServer {
    let mut auth = BasicAuth::new(app, REALM)
        .user("alice", &argon2_hash(Algorithm::Argon2id, "wonderland"))
        .unwrap()
        .user("bob", &argon2_hash(Algorithm::Argon2id, "builder"))
        .unwrap();
    if let Some(prefix) = prefix {
        auth = auth.path_prefix(prefix).unwrap();
    }
    support::start_with(ServerConfig::default(), auth)
}

/// `METHOD path` with the given extra header lines.
fn request(method: &str, path: &str, headers: &[&str]) -> Vec<u8> {
    let mut out = format!("{method} {path} HTTP/1.1\r\nHost: x\r\n");
    for h in headers {
        out.push_str(h);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out.into_bytes()
}

fn get(client: &mut Client, path: &str, authorization: Option<&str>) -> Resp {
    let header = authorization.map(|a| format!("Authorization: {a}"));
    let headers: Vec<&str> = header.iter().map(String::as_str).collect();
    client.request(request("GET", path, &headers))
}

fn assert_challenge(res: &Resp, what: &str) {
    assert_eq!(res.status, 401, "{what}: {res:?}");
    assert_eq!(
        res.header("www-authenticate"),
        Some(CHALLENGE),
        "{what}: {res:?}"
    );
}

#[test]
fn right_credentials_pass_and_name_the_user() {
    let server = start(None);
    let mut client = server.connect();
    let res = get(&mut client, "/x", Some(&basic("alice", "wonderland")));
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(res.body_str(), "path=/x user=alice");
    // The same connection, another user, and again (the cache).
    let res = get(&mut client, "/y", Some(&basic("bob", "builder")));
    assert_eq!(res.body_str(), "path=/y user=bob");
    let res = get(&mut client, "/y", Some(&basic("bob", "builder")));
    assert_eq!(res.body_str(), "path=/y user=bob");
}

#[test]
fn wrong_password_is_401_with_the_challenge() {
    let server = start(None);
    let mut client = server.connect();
    for password in ["wonderlan", "Wonderland", "wonderland ", "", "builder"] {
        let res = get(&mut client, "/", Some(&basic("alice", password)));
        assert_challenge(&res, password);
        assert_eq!(res.body_str(), "401 Unauthorized\n");
        assert!(
            res.header("content-type")
                .is_some_and(|t| t.starts_with("text/plain")),
            "{res:?}"
        );
    }
    // The connection stays usable for the retry with the right password.
    let res = get(&mut client, "/", Some(&basic("alice", "wonderland")));
    assert_eq!(res.status, 200);
}

#[test]
fn unknown_user_is_401() {
    let server = start(None);
    let mut client = server.connect();
    for user in ["mallory", "Alice", "alice2", "ALICE"] {
        let res = get(&mut client, "/", Some(&basic(user, "wonderland")));
        assert_challenge(&res, user);
    }
}

#[test]
fn missing_credentials_are_401_for_every_method() {
    let server = start(None);
    let mut client = server.connect();
    let res = get(&mut client, "/", None);
    assert_challenge(&res, "GET");
    assert_eq!(res.body_str(), "401 Unauthorized\n");

    client.send(request("HEAD", "/", &[]));
    let res = client.read_head_response();
    assert_challenge(&res, "HEAD");

    let res = client.request(request(
        "OPTIONS",
        "/",
        &[
            "Origin: https://app.example",
            "Access-Control-Request-Method: GET",
        ],
    ));
    assert_challenge(&res, "OPTIONS");

    let res =
        client.request("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello".as_bytes());
    assert_challenge(&res, "POST");
}

#[test]
fn malformed_authorization_is_401() {
    let server = start(None);
    let token = b64(b"alice:wonderland");
    let cases = [
        format!("Authorization: Bearer {token}"),
        format!("Authorization: Digest {token}"),
        "Authorization: Basic".to_owned(),
        "Authorization: Basic ".to_owned(),
        format!("Authorization: Basic{token}"),
        format!("Authorization: Basic {token} {token}"),
        "Authorization: Basic !!!!".to_owned(),
        "Authorization: Basic YWxpY2U6d29uZGVybGFuZA=".to_owned(),
        "Authorization: Basic YWxpY2U6d29uZGVybGFuZA===".to_owned(),
        format!("Authorization: Basic {}", b64(b"alice")),
        format!("Authorization: Basic {}", b64(b":wonderland")),
        format!("Authorization: Basic {}", b64(b"\xffalice:wonderland")),
        format!("Authorization: Basic {}", b64(b"alice:wonder\x00land")),
        format!("Authorization: Basic {}", b64(b"alice:wonderland\x1b")),
        format!("Authorization: Basic {}", "A".repeat(5000)),
        format!("Authorization: Basic realm=\"{token}\""),
        format!("Authorization: {token}"),
    ];
    let mut client = server.connect();
    for case in &cases {
        let res = client.request(request("GET", "/", &[case]));
        assert_challenge(&res, case);
    }
    // Two fields, even both right.
    let field = format!("Authorization: Basic {token}");
    let res = client.request(request("GET", "/", &[&field, &field]));
    assert_challenge(&res, "two fields");
    // And the connection still works.
    let res = client.request(request("GET", "/", &[&field]));
    assert_eq!(res.status, 200);
}

#[test]
fn scheme_is_case_insensitive_and_spaces_are_tolerated() {
    let server = start(None);
    let token = b64(b"alice:wonderland");
    let unpadded = b64(b"bob:builder").trim_end_matches('=').to_owned();
    let mut client = server.connect();
    for value in [
        format!("basic {token}"),
        format!("BASIC {token}"),
        format!("bAsIc {token}"),
        format!("Basic    {token}"),
        format!("Basic\t{token}"),
        format!("   Basic {token}   "),
        format!("Basic {unpadded}"),
    ] {
        let res = get(&mut client, "/", Some(&value));
        assert_eq!(res.status, 200, "{value:?}: {res:?}");
    }
}

#[test]
fn paths_outside_the_prefix_need_no_credentials() {
    let server = start(Some("/private"));
    let mut client = server.connect();
    for path in [
        "/",
        "/index.html",
        "/privatefoo",
        "/private.txt",
        "/public/private",
        "/a/private/x",
        "/public?next=/private",
    ] {
        let res = get(&mut client, path, None);
        assert_eq!(res.status, 200, "{path}: {res:?}");
        assert!(res.body_str().ends_with("user=-"), "{path}: {res:?}");
    }
    let res = get(
        &mut client,
        "/private/x",
        Some(&basic("alice", "wonderland")),
    );
    assert_eq!(res.status, 200);
    assert_eq!(res.body_str(), "path=/private/x user=alice");
}

#[test]
fn every_spelling_of_a_protected_path_is_401() {
    let server = start(Some("/private"));
    let mut client = server.connect();
    for path in [
        "/private",
        "/private/",
        "/private/x",
        "/private?x=1",
        "/%70rivate/x",
        "/%70%72%69%76%61%74%65",
        "/priv%61te",
        "/a/../private/x",
        "/a/%2e%2e/private/x",
        "/a/%2E%2E/private",
        "/./private",
        "/%2e/private",
        "//private",
        "///private/x",
        "/private%2Fx",
        "/private%2fx",
        "/public%2F..%2Fprivate",
        "/PRIVATE/x",
        "/Private",
        "/private/../public",
        "/../private",
        "/%zz/private",
        "/public/%ff",
        "/public/a%00b",
        "http://x/private/x",
    ] {
        let res = get(&mut client, path, None);
        assert_challenge(&res, path);
        let res = get(&mut client, path, Some(&basic("alice", "nope")));
        assert_challenge(&res, path);
    }
}

#[test]
fn bcrypt_and_argon2_hashes_all_work() {
    // htpasswd -nbBC 4 carol x
    let htpasswd = "carol:$2y$04$YaN2hOjOBsrHHNxSXHkLIehsluRIJMiyjLHYJMvnhfalLKl7v9soO";
    let (carol, carol_hash) = parse_user_hash(htpasswd).unwrap();
    let bcrypt_2a = bcrypt::hash_with_result("pw-2a", 4)
        .unwrap()
        .format_for_version(bcrypt::Version::TwoA);
    let users = [
        ("id", argon2_hash(Algorithm::Argon2id, "pw-id"), "pw-id"),
        ("i", argon2_hash(Algorithm::Argon2i, "pw-i"), "pw-i"),
        ("d", argon2_hash(Algorithm::Argon2d, "pw-d"), "pw-d"),
        ("b", bcrypt_hash("pw-b"), "pw-b"),
        ("a", bcrypt_2a, "pw-2a"),
        (carol.as_str(), carol_hash, "x"),
    ];
    let mut auth = BasicAuth::new(app, REALM);
    for (name, hash, _) in &users {
        auth.add_user(*name, hash).unwrap();
    }
    let server = support::start_with(ServerConfig::default(), auth);
    let mut client = server.connect();
    for (name, _, password) in &users {
        let res = get(&mut client, "/", Some(&basic(name, password)));
        assert_eq!(res.status, 200, "{name}: {res:?}");
        assert_eq!(res.body_str(), format!("path=/ user={name}"));
        let res = get(&mut client, "/", Some(&basic(name, "wrong")));
        assert_challenge(&res, name);
    }
}

#[test]
fn plain_passwords_are_refused_at_build_time() {
    let err = BasicAuth::new(app, REALM)
        .user("alice", "wonderland")
        .unwrap_err();
    assert_eq!(
        err,
        AuthError::PlainPassword {
            user: "alice".into()
        }
    );
    let message = err.to_string();
    assert!(message.contains("not hashed"), "{message}");
    assert!(message.contains("htpasswd -nbBC"), "{message}");
    assert!(!message.contains("wonderland"), "{message}");

    let err = BasicAuth::new(app, REALM)
        .user_spec("alice:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=")
        .unwrap_err();
    assert!(matches!(err, AuthError::UnsupportedHash { .. }), "{err:?}");
    assert!(matches!(
        parse_user_hash("no colon here"),
        Err(AuthError::BadSpec)
    ));
}
