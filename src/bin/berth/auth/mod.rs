//! HTTP Basic authentication (RFC 7617): [`BasicAuth`], a [`Handler`] that
//! wraps another and lets a request through only when it carries the name
//! and password of a configured user.
//!
//! `berth --auth "$(htpasswd -nbB alice PASSWORD)" --auth-path /private`
//! builds one around the site (`main.rs`). It lives in the binary, with the
//! other policy layers (CORS, SPA fallback, trusted proxies, health): the
//! library answers HTTP, and a program using it picks its own auth (tower
//! layers run under `berth::Tower`).
//!
//! This module owns the whole of Basic authentication: the stored users and
//! their password hashes, which paths are protected, parsing the
//! `Authorization` field, verifying passwords (and the cache of recent
//! successes), and the `401` challenge. It knows nothing of sockets: it is
//! an app-layer wrapper, like [`Compress`](berth::Compress). The handler,
//! its builder, the protected paths and the user lookup are here; the
//! `Authorization` field is parsed in `credentials.rs`, hashes are
//! `hash.rs`, and the cache of recent successes `cache.rs`.
//!
//! # Rules
//!
//! - **Protected paths.** Without [`BasicAuth::path_prefix`] every request
//!   is protected. With prefixes, a request is protected when its path, seen
//!   in any of three ways, starts with a prefix at a segment boundary: as
//!   [`resolve_path`] reads it (percent-decoded once, dot segments removed,
//!   the way `ServeDir` reads it), decoded segment by segment without dot
//!   removal (the way `Router` reads it), and raw. Empty and `.` segments are
//!   skipped and segments compare ASCII case-insensitively (a
//!   case-insensitive file system would serve `/PRIVATE`). A path that
//!   cannot be decoded, holds an encoded `/` or `\` or a control byte, or
//!   climbs above the root is protected: when in doubt, fail closed. So
//!   `/private` protects `/private`, `/private/`, `/private/x`,
//!   `/%70rivate/x`, `/a/../private/x`, `//private` and `/private%2Fx`,
//!   but not `/privatefoo`. The query never matters.
//! - **Every method** is protected, `HEAD` and `OPTIONS` included: a
//!   CORS preflight (which never carries credentials) to a protected path
//!   is a `401`. To answer preflights, put the CORS layer outside
//!   `BasicAuth`, or leave the paths they target unprotected.
//! - **Credentials** (RFC 7617 §2, RFC 9110 §11.4 and §11.6.2): exactly one
//!   `Authorization` field, at most [`MAX_AUTHORIZATION_LEN`] bytes, holding
//!   the scheme `Basic` in any case, one or more spaces, and one token68:
//!   the base64 (RFC 4648 §4, padding optional) of UTF-8 `user-id ":"
//!   password`, split at the first colon. An empty user-id or a control
//!   character in either part is refused (RFC 7617 §2). Names and passwords
//!   are compared as bytes, with no Unicode normalisation.
//! - **Anything else is `401`**: no or a malformed field (another scheme,
//!   bad base64, no colon, not UTF-8, too long, repeated), an unknown user,
//!   a wrong password. Never `400` or `500`. The `401` carries
//!   `WWW-Authenticate: Basic realm="…", charset="UTF-8"` (RFC 7617 §2,
//!   §2.1; RFC 9110 §11.6.1) with the configured realm only, never request
//!   data, and the text body `401 Unauthorized`.
//! - **Let through**, the request keeps its `Authorization` field (an
//!   application behind may want it; it is the inner handler's to not log
//!   it) and gains an [`AuthenticatedUser`] extension naming the user.
//!
//! # Passwords
//!
//! Users are stored with a password hash, never a password: argon2 PHC
//! strings (`$argon2id$`, `$argon2i$`, `$argon2d$`) or bcrypt (`$2a$`,
//! `$2b$`, `$2y$`; bcrypt reads only the first 72 bytes of a password).
//! Anything else is refused when the user is added ([`AuthError`] says how
//! to make a hash). A hash is verified on tokio's blocking pool, never on
//! the runtime's threads, and at most
//! [`max_concurrent_verifications`](BasicAuth::max_concurrent_verifications)
//! at once, so a flood of bad passwords queues instead of taking every
//! blocking thread and gigabytes of argon2 memory.
//!
//! **Timing.** An unknown user costs what a wrong password costs: the name
//! is looked up by comparing fixed-size digests of every configured name
//! without stopping at a match, and an unknown name is then verified against
//! a dummy hash with the first user's algorithm and parameters (salt kept,
//! expected output zeroed, so nothing can match it). Give every user the
//! same algorithm and cost, or the time of a refusal tells the users with
//! another cost from everyone else; berth warns when they differ.
//!
//! Nothing here logs a credential: no field value, name, password or hash
//! reaches `tracing`, and [`AuthError`] messages hold no hash or password.
//! Passwords are dropped, not zeroed, after use.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use http::StatusCode;
use http::header::{self, HeaderValue};
use tokio::sync::Semaphore;

use berth::handler::BoxFuture;
use berth::serve_dir::resolve_path;
use berth::syntax::percent_decode;
use berth::{Handler, IntoResponse, RemoteUser, Request, Response};

mod cache;
mod credentials;
mod hash;

use cache::Cache;
use credentials::Credentials;
use hash::StoredHash;

/// Longest `Authorization` field value considered; a longer one is a `401`
/// without being decoded.
pub const MAX_AUTHORIZATION_LEN: usize = 4096;

/// Default [`BasicAuth::cache`] lifetime of an entry: 5 minutes.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(300);

/// Default [`BasicAuth::cache`] size: 1024 entries.
pub const DEFAULT_CACHE_ENTRIES: usize = 1024;

/// How to make a hash, for the errors that refuse something else.
const HOW_TO_HASH: &str = "store an argon2 or bcrypt hash instead: \
     `htpasswd -nbBC 12 USER PASSWORD` (apache2-utils) prints a bcrypt USER:HASH line; \
     `printf %s PASSWORD | argon2 \"$(openssl rand -base64 16)\" -id -e` prints an argon2id hash; \
     from Rust, `bcrypt::hash(password, 12)` or argon2's `PasswordHasher::hash_password`";

/// Requires HTTP Basic credentials of a configured user before calling the
/// handler it wraps; see the [module docs](self) for the rules.
///
/// Build it with [`new`](Self::new), then [`user`](Self::user) for each
/// user and optionally [`path_prefix`](Self::path_prefix). With no user,
/// every protected request is refused.
pub struct BasicAuth<H> {
    inner: Arc<H>,
    state: Arc<State>,
}

impl<H> Clone for BasicAuth<H> {
    /// Clones share the users, the cache and the verification limit.
    fn clone(&self) -> Self {
        BasicAuth {
            inner: Arc::clone(&self.inner),
            state: Arc::clone(&self.state),
        }
    }
}

impl<H> fmt::Debug for BasicAuth<H> {
    /// Shows the realm, the number of users and the prefixes; never a
    /// name or hash (nor the inner handler, which need not be `Debug`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicAuth")
            .field("realm", &self.state.realm)
            .field("users", &self.state.users.len())
            .field("prefixes", &self.state.prefixes)
            .finish_non_exhaustive()
    }
}

/// Set on the requests [`BasicAuth`] lets through: the user they
/// authenticated as. Read it with
/// `req.extensions().get::<AuthenticatedUser>()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedUser(Arc<str>);

impl AuthenticatedUser {
    /// The user's name, as configured.
    #[allow(dead_code)] // no flag sets it yet; the tests do
    pub fn name(&self) -> &str {
        &self.0
    }
}

/// Why a user, a `USER:HASH` line or a path prefix was refused. The
/// messages name the user at most, never a password or hash.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthError {
    /// The "hash" is not one: it looks like a plain password.
    PlainPassword {
        /// The user it was given for.
        user: String,
    },
    /// A hash of a kind berth does not verify (`$1$`, `$5$`, `{SHA}`,
    /// bcrypt `$2x$`...).
    UnsupportedHash {
        /// The user it was given for.
        user: String,
    },
    /// An argon2 or bcrypt hash that does not parse.
    MalformedHash {
        /// The user it was given for.
        user: String,
        /// `argon2` or `bcrypt`.
        algorithm: &'static str,
        /// What is wrong, in a few words.
        reason: String,
    },
    /// An empty user name, or one with a colon or a control character
    /// (RFC 7617 §2).
    BadUserName {
        /// What is wrong.
        reason: &'static str,
    },
    /// The same user name twice.
    DuplicateUser {
        /// The name.
        user: String,
    },
    /// A `USER:HASH` specification without a colon.
    BadSpec,
    /// `USER:USER:HASH`: htpasswd's `USER:HASH` output with the name
    /// prefixed again.
    UserGivenTwice {
        /// The name given twice.
        user: String,
    },
    /// A path prefix that does not resolve (bad escape, encoded `/`,
    /// climbing above the root).
    BadPrefix {
        /// What is wrong.
        reason: String,
    },
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::PlainPassword { user } => write!(
                f,
                "the password of user {user:?} is not hashed (a plain password is refused); \
                 {HOW_TO_HASH}"
            ),
            AuthError::UnsupportedHash { user } => write!(
                f,
                "the password hash of user {user:?} is of an unsupported kind \
                 (only argon2 $argon2id$/$argon2i$/$argon2d$ and bcrypt $2a$/$2b$/$2y$); \
                 {HOW_TO_HASH}"
            ),
            AuthError::MalformedHash {
                user,
                algorithm,
                reason,
            } => write!(
                f,
                "the {algorithm} hash of user {user:?} is malformed: {reason}"
            ),
            AuthError::BadUserName { reason } => write!(f, "bad user name: {reason}"),
            AuthError::DuplicateUser { user } => write!(f, "user {user:?} is given twice"),
            AuthError::BadSpec => f.write_str("expected USER:HASH (no colon found)"),
            AuthError::UserGivenTwice { user } => write!(
                f,
                "the user name {user:?} is given twice ({user}:{user}:HASH); htpasswd -nbB \
                 prints USER:HASH already: pass it as it is, --auth \"$(htpasswd -nbB {user} PASSWORD)\""
            ),
            AuthError::BadPrefix { reason } => write!(f, "bad path prefix: {reason}"),
        }
    }
}

impl std::error::Error for AuthError {}

/// Splits a `USER:HASH` specification (as `htpasswd -nB` prints it, or a
/// command-line argument) at its first colon: the name may not contain one,
/// the hash (checked later by [`BasicAuth::user`]) may.
pub fn parse_user_hash(spec: &str) -> Result<(String, String), AuthError> {
    let (user, hash) = spec.split_once(':').ok_or(AuthError::BadSpec)?;
    check_user_name(user)?;
    // `htpasswd -nbB user pass` prints `user:HASH` already; `user:` in
    // front of it again is a copy-paste slip, not a hash.
    if hash.starts_with(&format!("{user}:")) {
        return Err(AuthError::UserGivenTwice {
            user: user.to_owned(),
        });
    }
    Ok((user.to_owned(), hash.to_owned()))
}

/// RFC 7617 §2: a user-id has no colon and no control character.
fn check_user_name(name: &str) -> Result<(), AuthError> {
    let reason = if name.is_empty() {
        "empty"
    } else if name.contains(':') {
        "contains a colon (RFC 7617 §2)"
    } else if name.chars().any(char::is_control) {
        "contains a control character (RFC 7617 §2)"
    } else {
        return Ok(());
    };
    Err(AuthError::BadUserName { reason })
}

// ---------------------------------------------------------------------------
// The builder and the handler.

impl<H: Handler> BasicAuth<H> {
    /// Protects `inner` with the realm `realm` (shown by browsers in their
    /// login prompt; control characters are dropped), with no users yet,
    /// every path protected, the default cache and one verification at a
    /// time per CPU.
    pub fn new(inner: H, realm: impl Into<String>) -> BasicAuth<H> {
        let realm: String = realm.into().chars().filter(|c| !c.is_control()).collect();
        let challenge = challenge_value(&realm);
        let permits = default_permits();
        BasicAuth {
            inner: Arc::new(inner),
            state: Arc::new(State {
                realm,
                challenge,
                users: Vec::new(),
                dummy: None,
                prefixes: Vec::new(),
                cache: Cache::new(DEFAULT_CACHE_TTL, DEFAULT_CACHE_ENTRIES),
                permits_count: permits,
                permits: Arc::new(Semaphore::new(permits)),
                verifications: AtomicU64::new(0),
            }),
        }
    }

    /// Adds user `name` with password hash `hash` (see [`add_user`](Self::add_user)).
    pub fn user(mut self, name: impl Into<String>, hash: &str) -> Result<Self, AuthError> {
        self.add_user(name, hash)?;
        Ok(self)
    }

    /// Adds user `name` with password hash `hash`: an argon2 PHC string or
    /// a bcrypt hash (surrounding whitespace ignored). A plain password, any
    /// other kind of hash, a malformed one, a bad name (empty, with a colon
    /// or a control character) or a name given twice is an [`AuthError`].
    pub fn add_user(&mut self, name: impl Into<String>, hash: &str) -> Result<(), AuthError> {
        let name = name.into();
        check_user_name(&name)?;
        let hash = StoredHash::parse(&name, hash.trim())?;
        let state = self.state_mut();
        if state.users.iter().any(|u| u.name == name) {
            return Err(AuthError::DuplicateUser { user: name });
        }
        match &state.dummy {
            None => state.dummy = Some(Arc::new(hash.dummy()?)),
            Some(dummy) if !dummy.same_cost(&hash) => tracing::warn!(
                "basic auth: the users' password hashes differ in algorithm or cost, \
                 so the time a refusal takes tells their names apart; \
                 hash every password with the same parameters"
            ),
            Some(_) => {}
        }
        state.users.push(User {
            name_digest: digest(&[name.as_bytes()]),
            name,
            hash: Arc::new(hash),
        });
        Ok(())
    }

    /// Adds a user from a `USER:HASH` specification ([`parse_user_hash`],
    /// then [`user`](Self::user)).
    pub fn user_spec(self, spec: &str) -> Result<Self, AuthError> {
        let (name, hash) = parse_user_hash(spec)?;
        self.user(name, &hash)
    }

    /// Protects only the paths under `prefix` (segment-wise: `/private`
    /// covers `/private` and `/private/x`, not `/privatefoo`; see the
    /// [module docs](self) for how paths are read). May be called several
    /// times: a path under any of the prefixes is protected. `/` protects
    /// everything. A prefix that does not resolve ([`resolve_path`]) is an
    /// [`AuthError::BadPrefix`].
    pub fn path_prefix(mut self, prefix: &str) -> Result<Self, AuthError> {
        let resolved = resolve_path(prefix).map_err(|e| AuthError::BadPrefix {
            reason: e.to_string(),
        })?;
        let segments: Vec<String> = resolved.segments().map(str::to_owned).collect();
        self.state_mut().prefixes.push(segments);
        Ok(self)
    }

    /// Remembers a successful verification for `ttl`, for up to `entries`
    /// user/password pairs (the oldest goes first), so that a browser,
    /// which sends the credentials with every request, does not pay a slow
    /// hash for each. A zero `ttl` or `entries` turns the cache off.
    /// Default: [`DEFAULT_CACHE_TTL`], [`DEFAULT_CACHE_ENTRIES`].
    ///
    /// The trade-off: entries are keyed by a SHA-256 of a random per-process
    /// key, the name and the password, never the password itself, and only
    /// for passwords that verified. A wrong password always pays the slow
    /// hash, and a hit (fast) is only possible for the right password, so
    /// timing tells an attacker nothing they did not send. But someone who
    /// can read the process's memory gets the key and the digests, and can
    /// test guesses at SHA-256 speed instead of argon2 or bcrypt speed for
    /// the passwords used within the last `ttl`. Turn the cache off where
    /// that matters more than CPU.
    #[allow(dead_code)] // no flag sets it yet; the tests do
    pub fn cache(mut self, ttl: Duration, entries: usize) -> Self {
        self.state_mut().cache = Cache::new(ttl, entries);
        self
    }

    /// At most `n` password verifications run at once (at least 1; default:
    /// the number of CPUs). Each takes a blocking-pool thread and, for
    /// argon2, its memory cost; requests beyond the limit wait their turn.
    #[allow(dead_code)] // no flag sets it yet; the tests do
    pub fn max_concurrent_verifications(mut self, n: usize) -> Self {
        let n = n.clamp(1, Semaphore::MAX_PERMITS);
        let state = self.state_mut();
        state.permits_count = n;
        state.permits = Arc::new(Semaphore::new(n));
        self
    }

    /// The realm, as sent (control characters removed).
    #[allow(dead_code)] // no flag reads it yet; the tests do
    pub fn realm(&self) -> &str {
        &self.state.realm
    }

    /// The wrapped handler.
    #[allow(dead_code)] // no flag reads it yet; the tests do
    pub fn get_ref(&self) -> &H {
        &self.inner
    }

    /// The state, unshared first if a clone shares it (the copy gets an
    /// empty cache and a fresh verification limit of its own).
    fn state_mut(&mut self) -> &mut State {
        Arc::make_mut(&mut self.state)
    }
}

impl<H: Handler> Handler for BasicAuth<H> {
    fn call(&self, mut req: Request) -> BoxFuture<Response> {
        if !self.state.protects(req.uri().path()) {
            return self.inner.call(req);
        }
        let Some(credentials) = Credentials::from_headers(req.headers()) else {
            return Box::pin(std::future::ready(self.state.unauthorized()));
        };
        let state = Arc::clone(&self.state);
        let inner = Arc::clone(&self.inner);
        Box::pin(async move {
            match state.authenticate(credentials).await {
                Some(user) => {
                    let logged = RemoteUser(Arc::clone(&user.0));
                    req.extensions_mut().insert(user);
                    let mut response = inner.call(req).await;
                    // The access log's `%u`.
                    response.extensions_mut().insert(logged);
                    response
                }
                None => state.unauthorized(),
            }
        })
    }
}

/// `Basic realm="…", charset="UTF-8"` (RFC 7617 §2, §2.1), the realm a
/// quoted-string with `"` and `\` escaped (RFC 9110 §5.6.4).
fn challenge_value(realm: &str) -> HeaderValue {
    let mut value = String::with_capacity(realm.len() + 40);
    value.push_str("Basic realm=\"");
    for c in realm.chars() {
        if c == '"' || c == '\\' {
            value.push('\\');
        }
        value.push(c);
    }
    value.push_str("\", charset=\"UTF-8\"");
    // Control characters are gone, so this cannot fail; fall back anyway.
    HeaderValue::from_str(&value).unwrap_or_else(|_| {
        HeaderValue::from_static("Basic realm=\"restricted\", charset=\"UTF-8\"")
    })
}

fn default_permits() -> usize {
    std::thread::available_parallelism().map_or(4, |n| n.get())
}

// ---------------------------------------------------------------------------
// Shared state.

struct User {
    name: String,
    /// SHA-256 of the name, compared in constant time.
    name_digest: [u8; 32],
    hash: Arc<StoredHash>,
}

struct State {
    realm: String,
    challenge: HeaderValue,
    users: Vec<User>,
    /// What an unknown name is verified against: the first user's hash
    /// with its output zeroed.
    dummy: Option<Arc<StoredHash>>,
    /// Decoded segments of each prefix; none: everything is protected.
    prefixes: Vec<Vec<String>>,
    cache: Option<Cache>,
    permits_count: usize,
    permits: Arc<Semaphore>,
    /// Verifications started (real and dummy), for tests.
    verifications: AtomicU64,
}

impl Clone for State {
    fn clone(&self) -> Self {
        State {
            realm: self.realm.clone(),
            challenge: self.challenge.clone(),
            users: self
                .users
                .iter()
                .map(|u| User {
                    name: u.name.clone(),
                    name_digest: u.name_digest,
                    hash: Arc::clone(&u.hash),
                })
                .collect(),
            dummy: self.dummy.clone(),
            prefixes: self.prefixes.clone(),
            cache: self
                .cache
                .as_ref()
                .and_then(|c| Cache::new(c.ttl, c.capacity)),
            permits_count: self.permits_count,
            permits: Arc::new(Semaphore::new(self.permits_count)),
            verifications: AtomicU64::new(0),
        }
    }
}

impl State {
    /// Whether `path` (the raw path of the request target) is protected;
    /// see the module docs.
    fn protects(&self, path: &str) -> bool {
        if self.prefixes.is_empty() {
            return true;
        }
        // As ServeDir reads it; anything it refuses is protected.
        let Ok(resolved) = resolve_path(path) else {
            return true;
        };
        let normalised: Vec<&str> = resolved.segments().collect();
        // Raw, and decoded without dot-segment removal (as Router reads it).
        let raw: Vec<&str> = path
            .split('/')
            .filter(|s| !matches!(*s, "" | "."))
            .collect();
        let mut decoded: Vec<Cow<'_, str>> = Vec::with_capacity(raw.len());
        for segment in &raw {
            match percent_decode(segment.as_bytes(), false) {
                Some(d) if matches!(&*d, "" | ".") => {}
                Some(d) => decoded.push(d),
                None => return true,
            }
        }
        self.prefixes.iter().any(|prefix| {
            starts_with(&normalised, prefix)
                || starts_with(&raw, prefix)
                || starts_with(&decoded, prefix)
        })
    }

    fn unauthorized(&self) -> Response {
        let mut res = StatusCode::UNAUTHORIZED.into_response();
        res.headers_mut()
            .insert(header::WWW_AUTHENTICATE, self.challenge.clone());
        res
    }

    /// Index of the user named `name`. Compares a digest of `name` with
    /// every user's, in constant time and without stopping at a match, so
    /// the time taken depends on the number of users only.
    fn lookup(&self, name: &str) -> Option<usize> {
        let probe = digest(&[name.as_bytes()]);
        let mut found = usize::MAX;
        for (i, user) in self.users.iter().enumerate() {
            let mask = usize::from(ct_eq(&probe, &user.name_digest)).wrapping_neg();
            found = (i & mask) | (found & !mask);
        }
        (found != usize::MAX).then_some(found)
    }

    /// Checks `credentials`: a cache hit, or a verification against the
    /// user's hash (the dummy for an unknown name) on the blocking pool.
    async fn authenticate(&self, credentials: Credentials) -> Option<AuthenticatedUser> {
        let Credentials { user, password } = credentials;
        let cache_key = self
            .cache
            .as_ref()
            .map(|c| c.entry_key(user.as_bytes(), password.as_bytes()));
        if let (Some(cache), Some(key)) = (&self.cache, &cache_key)
            && cache.hit(key)
        {
            return Some(AuthenticatedUser(user.into()));
        }
        let index = self.lookup(&user);
        let hash = match index {
            Some(i) => Arc::clone(&self.users[i].hash),
            // No user at all: nothing to hide, nothing to verify.
            None => Arc::clone(self.dummy.as_ref()?),
        };
        let permit = Arc::clone(&self.permits).acquire_owned().await.ok()?;
        self.verifications.fetch_add(1, Ordering::Relaxed);
        let verified = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            hash.verify(password.as_bytes())
        })
        .await
        .unwrap_or_else(|_| {
            tracing::error!("basic auth: a password verification task failed");
            false
        });
        if !verified || index.is_none() {
            return None;
        }
        if let (Some(cache), Some(key)) = (&self.cache, cache_key) {
            cache.insert(key);
        }
        Some(AuthenticatedUser(user.into()))
    }
}

/// `segments` starts with `prefix`, segment by segment, ASCII
/// case-insensitively.
fn starts_with<S: AsRef<str>>(segments: &[S], prefix: &[String]) -> bool {
    segments.len() >= prefix.len()
        && segments
            .iter()
            .zip(prefix)
            .all(|(s, p)| s.as_ref().eq_ignore_ascii_case(p))
}

/// 1 when `a == b`, else 0, in time independent of the contents.
fn ct_eq(a: &[u8; 32], b: &[u8; 32]) -> u8 {
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= x ^ y;
    }
    let diff = std::hint::black_box(diff);
    // diff - 1 borrows into the high byte only when diff is 0.
    ((u16::from(diff).wrapping_sub(1) >> 8) & 1) as u8
}

/// SHA-256 of `parts`, each preceded by its length (so no two lists of
/// parts collide by moving bytes across a boundary). ring's SHA-256: the
/// same ring that TLS uses, so the default build compiles no other.
fn digest(parts: &[&[u8]]) -> [u8; 32] {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    for part in parts {
        context.update(&(part.len() as u64).to_be_bytes());
        context.update(part);
    }
    let output = context.finish();
    let mut out = [0u8; 32];
    for (o, b) in out.iter_mut().zip(output.as_ref()) {
        *o = *b;
    }
    out
}

#[cfg(test)]
mod tests;
