//! TLS for listeners: rustls with the ring provider, TLS 1.2 and 1.3 only,
//! ALPN `h2` and `http/1.1` (`h3` on the QUIC endpoints, TLS 1.3 only), and
//! a certificate that can be replaced while serving (`reload`, wired to
//! SIGHUP by the binary).
//!
//! The certificate lives behind a resolver that every handshake asks, so a
//! reload swaps one `Arc` and new handshakes use the new certificate at
//! once; connections already established keep theirs. A failed reload
//! changes nothing.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::Error;

/// A TLS server configuration: certificate chain, key, protocol versions.
///
/// ```no_run
/// # async fn run() -> Result<(), berth::Error> {
/// let tls = berth::TlsConfig::from_pem_files("cert.pem", "key.pem")?;
/// berth::Server::bind("0.0.0.0:443")
///     .tls(tls)
///     .serve(|_req: berth::Request| async { "hello over TLS" })
///     .await
/// # }
/// ```
#[derive(Clone)]
pub struct TlsConfig {
    resolver: Arc<Resolver>,
    source: Source,
    server: Arc<rustls::ServerConfig>,
}

#[derive(Clone)]
enum Source {
    Files {
        cert: PathBuf,
        key: PathBuf,
    },
    #[cfg_attr(not(feature = "self-signed"), allow(dead_code))]
    SelfSigned {
        pem: String,
    },
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("TlsConfig");
        match &self.source {
            Source::Files { cert, key } => d.field("cert", cert).field("key", key),
            Source::SelfSigned { .. } => d.field("self_signed", &true),
        };
        d.field("fingerprint", &self.fingerprint()).finish()
    }
}

/// Hands every handshake the current certificate.
#[derive(Debug)]
struct Resolver(RwLock<Arc<CertifiedKey>>);

impl Resolver {
    fn current(&self) -> Arc<CertifiedKey> {
        match self.0.read() {
            Ok(key) => key.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn replace(&self, key: Arc<CertifiedKey>) {
        match self.0.write() {
            Ok(mut slot) => *slot = key,
            Err(poisoned) => *poisoned.into_inner() = key,
        }
    }
}

impl ResolvesServerCert for Resolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl TlsConfig {
    /// Loads a PEM certificate chain (leaf first) and a PEM private key
    /// (PKCS#8, PKCS#1 or SEC1). Fails when either cannot be read or parsed,
    /// or when the key does not belong to the certificate.
    pub fn from_pem_files(
        cert: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Result<TlsConfig, Error> {
        let (cert, key) = (cert.as_ref().to_owned(), key.as_ref().to_owned());
        let certified = load_pem(&cert, &key)?;
        TlsConfig::build(certified, Source::Files { cert, key })
    }

    /// A certificate generated in memory for `names` (e.g. `localhost`,
    /// `127.0.0.1`), self-signed: for local development only. Clients must
    /// be told to trust it (see [`fingerprint`](Self::fingerprint) and
    /// [`certificate_pem`](Self::certificate_pem)). With the `self-signed`
    /// feature (on by default).
    #[cfg(feature = "self-signed")]
    pub fn self_signed(names: &[&str]) -> Result<TlsConfig, Error> {
        let failed = |e: rcgen::Error| Error::tls(format!("cannot generate a certificate: {e}"));
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = rcgen::CertificateParams::new(names.clone()).map_err(failed)?;
        // A subject that says what it is, where clients and `openssl x509`
        // show it (rcgen's default is "rcgen self signed cert").
        let first = names.first().map_or("localhost", String::as_str);
        let subject = format!("berth self-signed development certificate for {first}");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, subject);
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "berth");
        let signing_key = rcgen::KeyPair::generate().map_err(failed)?;
        let generated = params.self_signed(&signing_key).map_err(failed)?;
        let pem = generated.pem();
        let cert = generated.der().clone();
        let key = PrivateKeyDer::Pkcs8(signing_key.serialize_der().into());
        let certified = certified_key(vec![cert], key)?;
        TlsConfig::build(certified, Source::SelfSigned { pem })
    }

    fn build(certified: CertifiedKey, source: Source) -> Result<TlsConfig, Error> {
        let resolver = Arc::new(Resolver(RwLock::new(Arc::new(certified))));
        // TLS 1.2 and 1.3 only: rustls implements nothing older.
        let mut server = rustls::ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| Error::tls(e.to_string()))?
            .with_no_client_auth()
            .with_cert_resolver(resolver.clone());
        // RFC 7301: a client that offers ALPN without http/1.1 is refused
        // (no_application_protocol) rather than answered in a protocol it
        // did not ask for.
        server.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsConfig {
            resolver,
            source,
            server: Arc::new(server),
        })
    }

    /// Reads the certificate and key files again and uses them for new
    /// handshakes. On failure the current certificate stays in use and the
    /// error says why. A self-signed configuration has nothing to reload.
    pub fn reload(&self) -> Result<(), Error> {
        let Source::Files { cert, key } = &self.source else {
            return Ok(());
        };
        let certified = load_pem(cert, key)?;
        self.resolver.replace(Arc::new(certified));
        Ok(())
    }

    /// The SHA-256 fingerprint of the current leaf certificate, as
    /// colon-separated upper-case hex (the form browsers and `openssl x509
    /// -fingerprint -sha256` show).
    pub fn fingerprint(&self) -> String {
        let current = self.resolver.current();
        let Some(leaf) = current.cert.first() else {
            return String::new();
        };
        let digest = ring::digest::digest(&ring::digest::SHA256, leaf.as_ref());
        let hex: Vec<String> = digest.as_ref().iter().map(|b| format!("{b:02X}")).collect();
        hex.join(":")
    }

    /// A generated certificate in PEM, for a client to trust; `None` for
    /// certificates loaded from files (the client has those already).
    pub fn certificate_pem(&self) -> Option<&str> {
        match &self.source {
            Source::SelfSigned { pem } => Some(pem),
            Source::Files { .. } => None,
        }
    }

    /// The acceptor for a server's listeners: ALPN offers `h2` first
    /// when HTTP/2 is on, so a client that speaks it picks it (RFC 9113
    /// §3.2), and `http/1.1` either way.
    pub(crate) fn acceptor(&self, http2: bool) -> tokio_rustls::TlsAcceptor {
        if !http2 {
            return tokio_rustls::TlsAcceptor::from(self.server.clone());
        }
        let mut server = (*self.server).clone();
        server.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        tokio_rustls::TlsAcceptor::from(Arc::new(server))
    }

    /// The TLS configuration of the QUIC endpoints (HTTP/3): TLS 1.3 only
    /// (RFC 9001 §4.2), ALPN `h3` alone (RFC 9114 §3.1), no early data
    /// (0-RTT requests could be replayed). It asks the same resolver as
    /// the TCP listeners, so a [`reload`](Self::reload) reaches new QUIC
    /// handshakes too.
    #[cfg(feature = "http3")]
    pub(crate) fn quic(&self) -> Result<Arc<rustls::ServerConfig>, Error> {
        let mut server = rustls::ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| Error::tls(e.to_string()))?
            .with_no_client_auth()
            .with_cert_resolver(self.resolver.clone());
        server.alpn_protocols = vec![super::h3::ALPN.to_vec()];
        server.max_early_data_size = 0;
        Ok(Arc::new(server))
    }
}

fn load_pem(cert: &Path, key: &Path) -> Result<CertifiedKey, Error> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| Error::tls(format!("{}: {e}", cert.display())))?
        .collect::<Result<_, _>>()
        .map_err(|e| Error::tls(format!("{}: {e}", cert.display())))?;
    if chain.is_empty() {
        return Err(Error::tls(format!(
            "{}: no PEM certificate found",
            cert.display()
        )));
    }
    let private = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| Error::tls(format!("{}: {e}", key.display())))?;
    certified_key(chain, private)
}

fn certified_key(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<CertifiedKey, Error> {
    let provider = provider();
    let signing = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| Error::tls(format!("unusable private key: {e}")))?;
    let certified = CertifiedKey::new(chain, signing);
    certified
        .keys_match()
        .map_err(|e| Error::tls(format!("the key does not match the certificate: {e}")))?;
    Ok(certified)
}
