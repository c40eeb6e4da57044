//! Stored password hashes: argon2 PHC strings and bcrypt, parsed and checked
//! when a user is added, their cost compared, the dummy an unknown name is
//! verified against, and the (slow) verification itself.

use std::str::FromStr;

use argon2::password_hash::phc::{Output, PasswordHash};
use argon2::{Argon2, PasswordVerifier};

use super::AuthError;

pub(super) enum StoredHash {
    Argon2(Box<PasswordHash>),
    /// The 60-character bcrypt string.
    Bcrypt(String),
}

impl StoredHash {
    /// Parses `hash`, given for `user`.
    pub(super) fn parse(user: &str, hash: &str) -> Result<StoredHash, AuthError> {
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
    pub(super) fn dummy(&self) -> Result<StoredHash, AuthError> {
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
    pub(super) fn same_cost(&self, other: &StoredHash) -> bool {
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
    pub(super) fn verify(&self, password: &[u8]) -> bool {
        match self {
            StoredHash::Argon2(hash) => {
                Argon2::default().verify_password(password, &**hash).is_ok()
            }
            StoredHash::Bcrypt(hash) => bcrypt::verify(password, hash).unwrap_or(false),
        }
    }
}
