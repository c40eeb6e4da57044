//! Unit tests of Basic authentication: protected paths under every
//! decoding, the `Authorization` field, hashes and their dummies, the cache
//! and the verification limit.

use super::credentials::base64_decode;
use super::*;
use argon2::Argon2;
use argon2::password_hash::PasswordHasher;
use berth::Body;
use http::HeaderMap;

fn argon2_hash(algorithm: argon2::Algorithm, password: &str) -> String {
    let params = argon2::Params::new(8, 1, 1, None).unwrap();
    Argon2::new(algorithm, argon2::Version::V0x13, params)
        .hash_password(password.as_bytes())
        .unwrap()
        .to_string()
}

fn bcrypt_hash(password: &str) -> String {
    bcrypt::hash(password, 4).unwrap()
}

fn b64(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(data)
}

fn app() -> impl Handler {
    |req: Request| async move {
        let user = req
            .extensions()
            .get::<AuthenticatedUser>()
            .map_or("-", |u| u.name())
            .to_owned();
        format!("hello {user}")
    }
}

fn request(path: &str, authorization: Option<&str>) -> Request {
    let mut req = Request::new(Body::empty());
    *req.uri_mut() = path.parse().unwrap();
    if let Some(value) = authorization {
        req.headers_mut()
            .insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
    }
    req
}

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", b64(format!("{user}:{password}").as_bytes()))
}

#[test]
fn base64_round_trips_and_refuses_junk() {
    for data in [&b""[..], b"a", b"ab", b"abc", b"abcd", b"\xff\x00\x80:x"] {
        let encoded = b64(data);
        assert_eq!(base64_decode(encoded.as_bytes()).as_deref(), Some(data));
        let unpadded = encoded.trim_end_matches('=');
        assert_eq!(base64_decode(unpadded.as_bytes()).as_deref(), Some(data));
    }
    for junk in [
        "Y", "YQ=", "YQ===", "=", "Y=Q=", "YWJj=", "YR==", "YWJ-", "YWJ_", "YW J", "YQ==YQ==",
    ] {
        assert_eq!(base64_decode(junk.as_bytes()), None, "{junk:?}");
    }
}

#[test]
fn authorization_parsing() {
    let ok = |v: &str| Credentials::parse(v.as_bytes()).map(|c| (c.user, c.password));
    let pair = |u: &str, p: &str| Some((u.to_owned(), p.to_owned()));
    assert_eq!(ok(&basic("alice", "s3cret")), pair("alice", "s3cret"));
    assert_eq!(ok(&basic("alice", "a:b:c")), pair("alice", "a:b:c"));
    assert_eq!(ok(&basic("alice", "")), pair("alice", ""));
    assert_eq!(ok(&basic("zoë", "päss")), pair("zoë", "päss"));
    let token = b64(b"alice:pw");
    for value in [
        format!("basic {token}"),
        format!("BASIC {token}"),
        format!("Basic    {token}"),
        format!("  Basic\t{token}  "),
        format!("Basic {}", token.trim_end_matches('=')),
    ] {
        assert_eq!(ok(&value), pair("alice", "pw"), "{value:?}");
    }
    let long = format!("Basic {}", b64(&vec![b'a'; MAX_AUTHORIZATION_LEN]));
    for value in [
        String::new(),
        "Basic".to_owned(),
        "Basic ".to_owned(),
        format!("Bearer {token}"),
        format!("Basic{token}"),
        format!("Basic {token} extra"),
        format!("Basic {token},"),
        "Basic !!!!".to_owned(),
        format!("Basic {}", b64(b"no-colon")),
        format!("Basic {}", b64(b":empty-user")),
        format!("Basic {}", b64(b"\xff\xfe:pw")),
        format!("Basic {}", b64(b"alice:p\x00w")),
        format!("Basic {}", b64(b"al\nice:pw")),
        format!("Basic {}", b64(b"alice:pw\x7f")),
        long,
    ] {
        assert_eq!(ok(&value), None, "{value:?}");
    }
}

#[test]
fn two_authorization_fields_are_refused() {
    let mut headers = HeaderMap::new();
    let value = HeaderValue::from_str(&basic("alice", "pw")).unwrap();
    headers.append(header::AUTHORIZATION, value.clone());
    assert!(Credentials::from_headers(&headers).is_some());
    headers.append(header::AUTHORIZATION, value);
    assert!(Credentials::from_headers(&headers).is_none());
}

#[test]
fn prefixes_match_segment_wise_and_fail_closed() {
    let auth = BasicAuth::new(app(), "r").path_prefix("/private").unwrap();
    let protected = [
        "/private",
        "/private/",
        "/private/x",
        "/%70rivate/x",
        "/%70%72%69%76%61%74%65",
        "/a/../private/x",
        "/a/%2e%2e/private",
        "//private",
        "/./private",
        "/private%2Fx",
        "/private%2fx",
        "/private\\x",
        "/PRIVATE/x",
        "/Private",
        "/private/../public",
        "/private/%2e%2e/public",
        "/..",
        "/../private",
        "/%zz",
        "/public/%ff",
        "/public/a%00b",
        "/public%2F..%2Fprivate",
    ];
    for path in protected {
        assert!(auth.state.protects(path), "{path:?} should be protected");
    }
    for path in [
        "/",
        "/privatefoo",
        "/private.txt",
        "/publicprivate",
        "/public/private",
        "/a/private",
        "/private2/x",
        "*",
    ] {
        assert!(!auth.state.protects(path), "{path:?} should be open");
    }
    let everything = BasicAuth::new(app(), "r");
    assert!(everything.state.protects("/anything"));
    let root = BasicAuth::new(app(), "r").path_prefix("/").unwrap();
    assert!(root.state.protects("/anything"));
    let two = BasicAuth::new(app(), "r")
        .path_prefix("/a/b/")
        .unwrap()
        .path_prefix("/caf%C3%A9")
        .unwrap();
    assert!(two.state.protects("/a/b/c"));
    assert!(!two.state.protects("/a/c"));
    assert!(two.state.protects("/café/x"));
    for bad in ["/a%2Fb", "/..", "/%zz"] {
        assert!(matches!(
            BasicAuth::new(app(), "r").path_prefix(bad),
            Err(AuthError::BadPrefix { .. })
        ));
    }
}

#[test]
fn realm_is_escaped_and_cleaned() {
    let auth = BasicAuth::new(app(), "a \"quoted\" \\ realm\r\n");
    assert_eq!(auth.realm(), "a \"quoted\" \\ realm");
    assert_eq!(
        auth.state.challenge,
        "Basic realm=\"a \\\"quoted\\\" \\\\ realm\", charset=\"UTF-8\""
    );
    let res = auth.state.unauthorized();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.headers()[header::WWW_AUTHENTICATE],
        auth.state.challenge
    );
}

#[test]
fn hashes_are_checked_when_added() {
    let auth = || BasicAuth::new(app(), "r");
    let err = auth().user("alice", "hunter2").unwrap_err();
    assert_eq!(
        err,
        AuthError::PlainPassword {
            user: "alice".into()
        }
    );
    let message = err.to_string();
    assert!(
        message.contains("htpasswd") && message.contains("argon2"),
        "{message}"
    );
    assert!(!message.contains("hunter2"));
    for unsupported in [
        "$1$saltsalt$abcdefghijklmnopqrstuv",
        "$5$rounds=5000$salt$hash",
        "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=",
        "$2x$04$abcdefghijklmnopqrstuu5Hx7Obl/yLNgdYkKd5mDGNhtQKqBdCy",
    ] {
        assert!(
            matches!(
                auth().user("alice", unsupported),
                Err(AuthError::UnsupportedHash { .. })
            ),
            "{unsupported}"
        );
    }
    for malformed in [
        "$argon2id$garbage",
        "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$AAAA",
        "$argon2id$v=19$m=1,t=1,p=1$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$2b$04$short",
        "$2b$99$abcdefghijklmnopqrstuu5Hx7Obl/yLNgdYkKd5mDGNhtQKqBdCy",
    ] {
        let err = auth().user("alice", malformed).unwrap_err();
        assert!(
            matches!(err, AuthError::MalformedHash { .. }),
            "{malformed}: {err:?}"
        );
        assert!(!err.to_string().contains(malformed));
    }
    let hash = bcrypt_hash("pw");
    assert!(auth().user("alice", &hash).is_ok());
    assert!(auth().user("alice", &format!("  {hash}\n")).is_ok());
    assert_eq!(
        auth()
            .user("alice", &hash)
            .unwrap()
            .user("alice", &hash)
            .unwrap_err(),
        AuthError::DuplicateUser {
            user: "alice".into()
        }
    );
    for name in ["", "a:b", "a\nb"] {
        assert!(matches!(
            auth().user(name, &hash),
            Err(AuthError::BadUserName { .. })
        ));
    }
}

#[test]
fn user_hash_specs_split_at_the_first_colon() {
    assert_eq!(
        parse_user_hash("alice:$2y$05$x:y").unwrap(),
        ("alice".to_owned(), "$2y$05$x:y".to_owned())
    );
    assert_eq!(parse_user_hash("alice"), Err(AuthError::BadSpec));
    // htpasswd's `alice:HASH` with `alice:` in front again.
    let twice = parse_user_hash("alice:alice:$2y$05$x").unwrap_err();
    assert_eq!(
        twice,
        AuthError::UserGivenTwice {
            user: "alice".into()
        }
    );
    assert!(twice.to_string().contains("htpasswd -nbB alice"), "{twice}");
    assert!(matches!(
        parse_user_hash(":hash"),
        Err(AuthError::BadUserName { .. })
    ));
    let hash = bcrypt_hash("pw");
    let auth = BasicAuth::new(app(), "r")
        .user_spec(&format!("bob:{hash}"))
        .unwrap();
    assert_eq!(auth.state.users[0].name, "bob");
}

#[test]
fn lookup_finds_each_user_and_no_other() {
    let hash = bcrypt_hash("pw");
    let mut auth = BasicAuth::new(app(), "r");
    for name in ["alice", "bob", "carol"] {
        auth.add_user(name, &hash).unwrap();
    }
    assert_eq!(auth.state.lookup("alice"), Some(0));
    assert_eq!(auth.state.lookup("bob"), Some(1));
    assert_eq!(auth.state.lookup("carol"), Some(2));
    for other in ["", "Alice", "alice ", "dave", "caro"] {
        assert_eq!(auth.state.lookup(other), None, "{other:?}");
    }
}

#[test]
fn dummy_costs_what_the_first_user_costs_and_never_matches() {
    for hash in [
        argon2_hash(argon2::Algorithm::Argon2id, "pw"),
        argon2_hash(argon2::Algorithm::Argon2i, "pw"),
        bcrypt_hash("pw"),
    ] {
        let auth = BasicAuth::new(app(), "r").user("alice", &hash).unwrap();
        let dummy = auth.state.dummy.as_ref().unwrap();
        assert!(dummy.same_cost(&auth.state.users[0].hash));
        assert!(!dummy.verify(b"pw"));
        assert!(!dummy.verify(b""));
        assert!(auth.state.users[0].hash.verify(b"pw"));
    }
}

#[tokio::test]
async fn unknown_users_are_verified_like_wrong_passwords() {
    let auth = BasicAuth::new(app(), "r")
        .user("alice", &argon2_hash(argon2::Algorithm::Argon2id, "right"))
        .unwrap()
        .cache(Duration::ZERO, 0);
    let count = || auth.state.verifications.load(Ordering::Relaxed);

    let res = auth
        .call(request("/", Some(&basic("mallory", "right"))))
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(count(), 1, "an unknown user goes through a verification");

    let res = auth
        .call(request("/", Some(&basic("alice", "wrong"))))
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(count(), 2);

    let res = auth
        .call(request("/", Some(&basic("alice", "right"))))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.into_body().collect(64).await.unwrap(), "hello alice");
    assert_eq!(count(), 3);

    // Malformed or missing credentials need no verification.
    for value in [None, Some("Basic !!"), Some("Bearer x")] {
        let res = auth.call(request("/", value)).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(count(), 3);
}

#[tokio::test]
async fn successes_are_cached_and_failures_are_not() {
    let auth = BasicAuth::new(app(), "r")
        .user("alice", &bcrypt_hash("right"))
        .unwrap();
    let count = || auth.state.verifications.load(Ordering::Relaxed);
    for _ in 0..3 {
        let res = auth
            .call(request("/", Some(&basic("alice", "right"))))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    assert_eq!(count(), 1, "one verification, then cache hits");
    for _ in 0..3 {
        let res = auth
            .call(request("/", Some(&basic("alice", "wrong"))))
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(count(), 4, "wrong passwords are verified every time");
    for _ in 0..2 {
        let res = auth.call(request("/", Some(&basic("bob", "right")))).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(count(), 6, "unknown users are verified every time");
}

#[test]
fn cache_is_bounded_and_expires() {
    let cache = Cache::new(Duration::from_secs(60), 2).unwrap();
    let keys: Vec<[u8; 32]> = (0u8..3).map(|i| cache.entry_key(b"u", &[i])).collect();
    for key in &keys {
        cache.insert(*key);
        // Distinct insertion times, so "oldest" is well defined.
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(!cache.hit(&keys[0]), "the oldest entry went");
    assert!(cache.hit(&keys[1]) && cache.hit(&keys[2]));
    assert_eq!(cache.entries.lock().unwrap().len(), 2);
    assert_ne!(cache.entry_key(b"u", b"p"), cache.entry_key(b"up", b""));

    let expired = Cache::new(Duration::from_nanos(1), 4).unwrap();
    expired.insert(keys[0]);
    std::thread::sleep(Duration::from_millis(2));
    assert!(!expired.hit(&keys[0]));
    assert!(Cache::new(Duration::ZERO, 4).is_none());
    assert!(Cache::new(Duration::from_secs(1), 0).is_none());
}

#[tokio::test]
async fn no_users_refuses_everything() {
    let auth = BasicAuth::new(app(), "r");
    let res = auth.call(request("/", Some(&basic("alice", "pw")))).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(auth.state.verifications.load(Ordering::Relaxed), 0);
}

#[test]
fn builder_after_clone_does_not_touch_the_clone() {
    let hash = bcrypt_hash("pw");
    let first = BasicAuth::new(app(), "r").user("alice", &hash).unwrap();
    let second = first.clone().user("bob", &hash).unwrap();
    assert_eq!(first.state.users.len(), 1);
    assert_eq!(second.state.users.len(), 2);
    #[derive(Debug)]
    struct Teapot;
    impl Handler for Teapot {
        fn call(&self, _req: Request) -> BoxFuture<Response> {
            Box::pin(async { StatusCode::IM_A_TEAPOT.into_response() })
        }
    }
    let debug = format!(
        "{:?}",
        BasicAuth::new(Teapot, "r").user("alice", &hash).unwrap()
    );
    assert!(
        !debug.contains("alice") && !debug.contains(&hash),
        "{debug}"
    );
}
