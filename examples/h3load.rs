//! A small HTTP/3 load client for the benchmarks (h2load here has no QUIC
//! support): the `h3` crate's client on quinn, the crates berth serves
//! with. Not a general tool: GET one path, every certificate accepted.
//!
//! ```text
//! cargo run --release --example h3load -- ADDR PATH [-c CONNS] [-m STREAMS] [-n REQUESTS]
//! cargo run --release --example h3load -- ADDR PATH --idle N [--hold SECONDS]
//! ```
//!
//! The first form keeps STREAMS requests in flight on each of CONNS
//! connections until REQUESTS are answered, then prints the rate; the
//! second opens N connections, makes one request on each, prints
//! `holding N` and keeps them open for SECONDS (for the server's memory
//! per idle connection).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes};

type SendRequest = h3::client::SendRequest<h3_quinn::OpenStreams, Bytes>;

struct Options {
    addr: SocketAddr,
    path: String,
    connections: usize,
    streams: usize,
    requests: u64,
    idle: Option<usize>,
    hold: u64,
}

fn options() -> Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: h3load ADDR PATH [-c N] [-m N] [-n N] [--idle N [--hold SECONDS]]";
    let addr = args
        .next()
        .ok_or(usage)?
        .parse()
        .map_err(|e| format!("ADDR: {e}"))?;
    let path = args.next().ok_or(usage)?;
    let mut o = Options {
        addr,
        path,
        connections: 16,
        streams: 32,
        requests: 20_000,
        idle: None,
        hold: 5,
    };
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(usage)?;
        let n: u64 = value.parse().map_err(|e| format!("{flag}: {e}"))?;
        match flag.as_str() {
            "-c" => o.connections = n as usize,
            "-m" => o.streams = n as usize,
            "-n" => o.requests = n,
            "--idle" => o.idle = Some(n as usize),
            "--hold" => o.hold = n,
            _ => return Err(usage.into()),
        }
    }
    Ok(o)
}

/// Accepts any certificate (the handshake signature is still checked).
#[derive(Debug)]
struct AnyCert(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCert {
    fn verify_server_cert(
        &self,
        _: &rustls_pki_types::CertificateDer<'_>,
        _: &[rustls_pki_types::CertificateDer<'_>],
        _: &rustls_pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls_pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.0.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.0.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn endpoint() -> Result<quinn::Endpoint, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCert(provider)))
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"h3".to_vec()];
    let quic = quinn::crypto::rustls::QuicClientConfig::try_from(Arc::new(tls))
        .map_err(|e| e.to_string())?;
    let mut endpoint =
        quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).map_err(|e| e.to_string())?;
    endpoint.set_default_client_config(quinn::ClientConfig::new(Arc::new(quic)));
    Ok(endpoint)
}

/// One connection: its request handle, and the task driving it.
async fn connect(
    endpoint: &quinn::Endpoint,
    addr: SocketAddr,
) -> Result<(SendRequest, quinn::Connection), String> {
    let quic = endpoint
        .connect(addr, "localhost")
        .map_err(|e| e.to_string())?
        .await
        .map_err(|e| e.to_string())?;
    let (mut driver, send) = h3::client::new(h3_quinn::Connection::new(quic.clone()))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(async move { std::future::poll_fn(|cx| driver.poll_close(cx)).await });
    Ok((send, quic))
}

/// One GET, its body read to the end: the body bytes.
async fn get(send: &mut SendRequest, path: &str) -> Result<u64, String> {
    let request = http::Request::get(format!("https://localhost{path}"))
        .body(())
        .map_err(|e| e.to_string())?;
    let mut stream = send
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    stream.finish().await.map_err(|e| e.to_string())?;
    let head = stream.recv_response().await.map_err(|e| e.to_string())?;
    if !head.status().is_success() {
        return Err(format!("status {}", head.status()));
    }
    let mut bytes = 0u64;
    while let Some(chunk) = stream.recv_data().await.map_err(|e| e.to_string())? {
        bytes += chunk.remaining() as u64;
    }
    Ok(bytes)
}

async fn load(o: Options, endpoint: quinn::Endpoint) -> Result<(), String> {
    let mut connections = Vec::new();
    for _ in 0..o.connections {
        connections.push(connect(&endpoint, o.addr).await?);
    }
    let issued = Arc::new(AtomicU64::new(0));
    let bytes = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (send, _) in &connections {
        for _ in 0..o.streams {
            let (mut send, path) = (send.clone(), o.path.clone());
            let (issued, bytes, total) = (issued.clone(), bytes.clone(), o.requests);
            tasks.spawn(async move {
                while issued.fetch_add(1, Ordering::Relaxed) < total {
                    let n = get(&mut send, &path).await?;
                    bytes.fetch_add(n, Ordering::Relaxed);
                }
                Ok::<(), String>(())
            });
        }
    }
    while let Some(done) = tasks.join_next().await {
        done.map_err(|e| e.to_string())??;
    }
    let took = start.elapsed().as_secs_f64();
    let done = o.requests;
    println!(
        "{done} requests in {took:.3} s: {:.0} req/s, {:.1} MB/s",
        done as f64 / took,
        bytes.load(Ordering::Relaxed) as f64 / took / 1e6
    );
    for (_, quic) in connections {
        quic.close(0x100u32.into(), b"");
    }
    endpoint.wait_idle().await;
    Ok(())
}

async fn idle(o: Options, n: usize, endpoint: quinn::Endpoint) -> Result<(), String> {
    let mut held = Vec::new();
    for _ in 0..n {
        let (mut send, quic) = connect(&endpoint, o.addr).await?;
        get(&mut send, &o.path).await?;
        held.push((send, quic));
    }
    println!("holding {n}");
    tokio::time::sleep(Duration::from_secs(o.hold)).await;
    for (_, quic) in &held {
        quic.close(0x100u32.into(), b"");
    }
    endpoint.wait_idle().await;
    Ok(())
}

fn main() {
    let result = options().and_then(|o| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(async {
            let endpoint = endpoint()?;
            match o.idle {
                Some(n) => idle(o, n, endpoint).await,
                None => load(o, endpoint).await,
            }
        })
    });
    if let Err(e) = result {
        eprintln!("h3load: {e}");
        std::process::exit(1);
    }
}
