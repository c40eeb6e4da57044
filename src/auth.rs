//! HTTP Basic authentication (RFC 7617): [`BasicAuth`], a [`Handler`] that
//! wraps another and lets a request through only when it carries the name
//! and password of a configured user.
//!
//! ```
//! use berth::prelude::*;
//! use berth::auth::{AuthError, BasicAuth};
//!
//! # fn main() -> Result<(), AuthError> {
//! // `htpasswd -nbBC 12 alice PASSWORD` prints such a `USER:HASH` line.
//! let (user, hash) = berth::auth::parse_user_hash(
//!     "alice:$2y$12$Dd5Sg/1SfWcCS2/SisVgousx9IAeKPsGYIodq46HEScvNUzaGnvYy",
//! )?;
//! let app = BasicAuth::new(ServeDir::new("./public"), "staff only")
//!     .user(user, &hash)?
//!     .path_prefix("/private")?;
//! # let _ = app;
//! # Ok(())
//! # }
//! ```
//!
//! This module owns the whole of Basic authentication: the stored users and
//! their password hashes, which paths are protected, parsing the
//! `Authorization` field, verifying passwords (and the cache of recent
//! successes), and the `401` challenge. It knows nothing of sockets: it is
//! an app-layer wrapper, like [`Compress`](crate::Compress).
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
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use argon2::password_hash::phc::{Output, PasswordHash};
use argon2::{Argon2, PasswordVerifier};
use http::StatusCode;
use http::header::{self, HeaderMap, HeaderValue};
use tokio::sync::Semaphore;

use crate::handler::BoxFuture;
use crate::request::decode_strict;
use crate::serve_dir::resolve_path;
use crate::{Handler, IntoResponse, Request, Response};

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
pub struct AuthenticatedUser(String);

impl AuthenticatedUser {
    /// The user's name, as configured.
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
            AuthError::BadPrefix { reason } => write!(f, "bad path prefix: {reason}"),
        }
    }
}

impl std::error::Error for AuthError {}

/// Splits a `USER:HASH` specification (as `htpasswd -nB` prints it, or a
/// command-line argument) at its first colon: the name may not contain one,
/// the hash (checked later by [`BasicAuth::user`]) may.
///
/// ```
/// let (user, hash) = berth::auth::parse_user_hash("alice:$2b$12$abc").unwrap();
/// assert_eq!((user.as_str(), hash.as_str()), ("alice", "$2b$12$abc"));
/// assert!(berth::auth::parse_user_hash(":$2b$12$abc").is_err());
/// ```
pub fn parse_user_hash(spec: &str) -> Result<(String, String), AuthError> {
    let (user, hash) = spec.split_once(':').ok_or(AuthError::BadSpec)?;
    check_user_name(user)?;
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
    pub fn cache(mut self, ttl: Duration, entries: usize) -> Self {
        self.state_mut().cache = Cache::new(ttl, entries);
        self
    }

    /// At most `n` password verifications run at once (at least 1; default:
    /// the number of CPUs). Each takes a blocking-pool thread and, for
    /// argon2, its memory cost; requests beyond the limit wait their turn.
    pub fn max_concurrent_verifications(mut self, n: usize) -> Self {
        let n = n.clamp(1, Semaphore::MAX_PERMITS);
        let state = self.state_mut();
        state.permits_count = n;
        state.permits = Arc::new(Semaphore::new(n));
        self
    }

    /// The realm, as sent (control characters removed).
    pub fn realm(&self) -> &str {
        &self.state.realm
    }

    /// The wrapped handler.
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
                    req.extensions_mut().insert(user);
                    inner.call(req).await
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
            match decode_strict(segment.as_bytes(), false) {
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
            return Some(AuthenticatedUser(user));
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
        Some(AuthenticatedUser(user))
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

// ---------------------------------------------------------------------------
// The cache of successful verifications (see `BasicAuth::cache` for the
// security trade-off).

struct Cache {
    /// Random, per process: the digests cannot be precomputed, nor compared
    /// across processes.
    key: [u8; 32],
    ttl: Duration,
    capacity: usize,
    /// Entry key → when the password verified. Not refreshed on a hit, so a
    /// password is verified again at least every `ttl`.
    entries: Mutex<HashMap<[u8; 32], Instant>>,
}

impl Cache {
    /// `None` when off (zero `ttl` or `capacity`) or when no random key
    /// can be had.
    fn new(ttl: Duration, capacity: usize) -> Option<Cache> {
        if ttl.is_zero() || capacity == 0 {
            return None;
        }
        let mut key = [0u8; 32];
        if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut key).is_err() {
            tracing::warn!("basic auth: no secure random key; verification cache off");
            return None;
        }
        Some(Cache {
            key,
            ttl,
            capacity,
            entries: Mutex::new(HashMap::new()),
        })
    }

    fn entry_key(&self, user: &[u8], password: &[u8]) -> [u8; 32] {
        digest(&[&self.key, user, password])
    }

    fn hit(&self, key: &[u8; 32]) -> bool {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.get(key).is_some_and(|at| at.elapsed() < self.ttl)
    }

    fn insert(&self, key: [u8; 32]) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            entries.retain(|_, at| at.elapsed() < self.ttl);
            if entries.len() >= self.capacity
                && let Some(oldest) = entries.iter().min_by_key(|(_, at)| **at).map(|(k, _)| *k)
            {
                entries.remove(&oldest);
            }
        }
        entries.insert(key, Instant::now());
    }
}

// ---------------------------------------------------------------------------
// Password hashes.

enum StoredHash {
    Argon2(Box<PasswordHash>),
    /// The 60-character bcrypt string.
    Bcrypt(String),
}

impl StoredHash {
    /// Parses `hash`, given for `user`.
    fn parse(user: &str, hash: &str) -> Result<StoredHash, AuthError> {
        let malformed = |algorithm, reason: &str| AuthError::MalformedHash {
            user: user.to_owned(),
            algorithm,
            reason: reason.to_owned(),
        };
        if ["$argon2id$", "$argon2i$", "$argon2d$"]
            .iter()
            .any(|p| hash.starts_with(p))
        {
            let parsed = PasswordHash::new(hash)
                .map_err(|_| malformed("argon2", "not a valid PHC string"))?;
            argon2::Algorithm::new(parsed.algorithm.as_str())
                .map_err(|_| malformed("argon2", "unknown algorithm"))?;
            if let Some(version) = parsed.version {
                argon2::Version::try_from(version)
                    .map_err(|_| malformed("argon2", "unknown version"))?;
            }
            argon2::Params::try_from(&parsed)
                .map_err(|_| malformed("argon2", "bad parameters (m, t, p)"))?;
            match (&parsed.salt, &parsed.hash) {
                (Some(salt), Some(_)) if salt.len() >= argon2::MIN_SALT_LEN => {}
                (Some(_), Some(_)) => return Err(malformed("argon2", "salt too short")),
                _ => return Err(malformed("argon2", "no salt or no hash output")),
            }
            return Ok(StoredHash::Argon2(Box::new(parsed)));
        }
        if ["$2a$", "$2b$", "$2y$"].iter().any(|p| hash.starts_with(p)) {
            let parts = bcrypt::HashParts::from_str(hash).map_err(|e| match e {
                bcrypt::BcryptError::InvalidHash(reason) => malformed("bcrypt", reason),
                _ => malformed("bcrypt", "does not parse"),
            })?;
            if !(4..=31).contains(&parts.get_cost()) {
                return Err(malformed("bcrypt", "cost outside 4..=31"));
            }
            return Ok(StoredHash::Bcrypt(hash.to_owned()));
        }
        if hash.starts_with('$') || hash.starts_with('{') {
            return Err(AuthError::UnsupportedHash {
                user: user.to_owned(),
            });
        }
        Err(AuthError::PlainPassword {
            user: user.to_owned(),
        })
    }

    /// The same algorithm, parameters and salt with an all-zero expected
    /// output: verifying any password against it costs what verifying
    /// against `self` costs, and never succeeds (the computed output would
    /// have to be all zeros).
    fn dummy(&self) -> Result<StoredHash, AuthError> {
        match self {
            StoredHash::Argon2(hash) => {
                let mut dummy = hash.clone();
                let len = hash.hash.as_ref().map_or(32, Output::len);
                dummy.hash =
                    Some(
                        Output::new(&vec![0u8; len]).map_err(|_| AuthError::MalformedHash {
                            user: String::new(),
                            algorithm: "argon2",
                            reason: "bad output length".to_owned(),
                        })?,
                    );
                Ok(StoredHash::Argon2(dummy))
            }
            // `$2b$12$` and the 22-character salt, then 31 zero digits
            // (`.` is 0 in bcrypt's base64).
            StoredHash::Bcrypt(hash) => Ok(StoredHash::Bcrypt(format!(
                "{}{}",
                hash.get(..29).unwrap_or("$2b$04$......................"),
                ".".repeat(31)
            ))),
        }
    }

    /// Same algorithm and cost (what the verification time depends on).
    fn same_cost(&self, other: &StoredHash) -> bool {
        match (self, other) {
            (StoredHash::Argon2(a), StoredHash::Argon2(b)) => {
                a.algorithm == b.algorithm
                    && a.version == b.version
                    && argon2::Params::try_from(&**a).ok() == argon2::Params::try_from(&**b).ok()
            }
            (StoredHash::Bcrypt(a), StoredHash::Bcrypt(b)) => a.get(4..6) == b.get(4..6),
            _ => false,
        }
    }

    /// Whether `password` matches; slow by design (run it on the blocking
    /// pool).
    fn verify(&self, password: &[u8]) -> bool {
        match self {
            StoredHash::Argon2(hash) => {
                Argon2::default().verify_password(password, &**hash).is_ok()
            }
            StoredHash::Bcrypt(hash) => bcrypt::verify(password, hash).unwrap_or(false),
        }
    }
}

// ---------------------------------------------------------------------------
// The Authorization field.

/// A user-id and password from a well-formed `Authorization: Basic` field.
/// No `Debug`: it must never be printed.
struct Credentials {
    user: String,
    password: String,
}

impl Credentials {
    /// The credentials of the request's only `Authorization` field, when it
    /// is well-formed `Basic` (RFC 7617 §2; RFC 9110 §11.4, §11.6.2);
    /// `None` for anything else.
    fn from_headers(headers: &HeaderMap) -> Option<Credentials> {
        let mut fields = headers.get_all(header::AUTHORIZATION).iter();
        let value = fields.next()?;
        if fields.next().is_some() {
            return None;
        }
        Credentials::parse(value.as_bytes())
    }

    /// `credentials = auth-scheme [ 1*SP token68 ]` with surrounding OWS
    /// ignored; the scheme is case-insensitive (RFC 9110 §11.1).
    fn parse(value: &[u8]) -> Option<Credentials> {
        if value.len() > MAX_AUTHORIZATION_LEN {
            return None;
        }
        let value = trim_ows(value);
        let split = value.iter().position(|&b| b == b' ' || b == b'\t')?;
        let (scheme, rest) = value.split_at(split);
        if !scheme.eq_ignore_ascii_case(b"Basic") {
            return None;
        }
        let token = trim_ows(rest);
        if token.is_empty() || token.iter().any(|&b| b == b' ' || b == b'\t') {
            return None;
        }
        let text = String::from_utf8(base64_decode(token)?).ok()?;
        // RFC 7617 §2: split at the first colon; no control characters.
        let (user, password) = text.split_once(':')?;
        if user.is_empty() || text.chars().any(char::is_control) {
            return None;
        }
        Some(Credentials {
            user: user.to_owned(),
            password: password.to_owned(),
        })
    }
}

fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// Standard base64 (RFC 4648 §4), padding optional but, when present,
/// complete; the unused bits of the last digit must be zero (the `base64`
/// crate's default strictness).
fn base64_decode(input: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
    STANDARD
        .decode(input)
        .or_else(|_| STANDARD_NO_PAD.decode(input))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Body;
    use argon2::password_hash::PasswordHasher;

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
}
