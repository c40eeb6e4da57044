//! A connection's life over HTTP/3: graceful shutdown (GOAWAY, the
//! stream in flight finishes, idle connections close at once), the idle
//! timeout, and what the access log and metrics record.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use berth::http::Version;
use berth::{AccessLog, Metrics};
use tokio::sync::{mpsc, watch};

use super::*;

/// A handler that holds `/slow` until the test opens the gate, saying
/// when it arrives; other paths go to `app`.
fn gated(root: &Path, arrived: mpsc::UnboundedSender<()>, open: watch::Receiver<bool>) -> Router {
    let slow = move |_req: Request| {
        let (arrived, mut open) = (arrived.clone(), open.clone());
        async move {
            let _ = arrived.send(());
            let _ = open.wait_for(|o| *o).await;
            berth::response::text("slow done\n".repeat(1000))
        }
    };
    Router::new().get("/slow", slow).fallback(app(root))
}

#[tokio::test]
async fn graceful_shutdown_lets_the_stream_in_flight_finish() {
    let (arrived_tx, mut arrived) = mpsc::unbounded_channel();
    let (open, open_rx) = watch::channel(false);
    let mut site = Site::start(ServerConfig::default(), |root: &Path| {
        gated(root, arrived_tx, open_rx)
    });
    let mut c = site.connect().await;
    let mut idle = site.connect().await;
    let _ = idle.get("/hello.txt").await;
    let mut slow = c.open(Method::GET, "/slow", &[]).await;
    within("finish", slow.finish()).await.unwrap();
    within("the request to arrive", arrived.recv())
        .await
        .unwrap();

    let stopped = site.stop();
    // The idle connection is closed (GOAWAY, then H3_NO_ERROR) while the
    // busy one waits for its stream.
    let e = idle.closed().await;
    assert!(
        matches!(&e, quinn::ConnectionError::ApplicationClosed(close) if close.error_code == 0x100u32.into()),
        "idle connection closed with {e:?}"
    );
    // No new connection is taken once shutdown has begun.
    assert!(
        H3::try_connect(site.addr, &site.cert.ca_der).await.is_err(),
        "a new connection was accepted during shutdown"
    );
    open.send_replace(true);
    let r = h3client::read_response(&mut slow).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, "slow done\n".repeat(1000).as_bytes());
    c.close().await;
    let took = stopped.await.unwrap();
    assert!(
        took.is_some(),
        "serve() still running {LIMIT:?} after shutdown"
    );
}

#[tokio::test]
async fn a_stream_past_the_grace_period_does_not_hold_shutdown() {
    let (arrived_tx, mut arrived) = mpsc::unbounded_channel();
    let (_open, open_rx) = watch::channel(false);
    let mut config = ServerConfig::default();
    config.timeouts.shutdown_grace = Duration::from_millis(300);
    let mut site = Site::start(config, |root: &Path| gated(root, arrived_tx, open_rx));
    let mut c = site.connect().await;
    let mut slow = c.open(Method::GET, "/slow", &[]).await;
    within("finish", slow.finish()).await.unwrap();
    within("the request to arrive", arrived.recv())
        .await
        .unwrap();
    let took = site.stop().await.unwrap().expect("serve() did not return");
    assert!(took < Duration::from_secs(4), "shutdown took {took:?}");
    let _ = c.closed().await;
}

#[tokio::test]
async fn a_connection_without_streams_is_closed_after_the_idle_timeout() {
    let mut config = ServerConfig::default();
    config.http3.idle_timeout = Duration::from_millis(300);
    let site = Site::start(config, app);
    let mut c = site.connect().await;
    let _ = c.get("/hello.txt").await;
    let start = Instant::now();
    let e = c.closed().await;
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_secs(5),
        "closed after {took:?}"
    );
    // GOAWAY then a clean close, or QUIC's own idle timeout: either way
    // not an error of the server's.
    assert!(
        matches!(&e, quinn::ConnectionError::ApplicationClosed(close) if close.error_code == 0x100u32.into())
            || matches!(e, quinn::ConnectionError::TimedOut),
        "closed with {e:?}"
    );
}

#[tokio::test]
async fn the_access_log_and_metrics_see_http3_requests() {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    let metrics = Metrics::new();
    let config = ServerConfig {
        access_log: Some(AccessLog::new(move |r| {
            sink.lock().unwrap().push((
                r.version,
                r.status.as_u16(),
                r.body_bytes,
                r.target.map(|t| t.to_string()),
            ));
        })),
        metrics: Some(metrics.clone()),
        ..ServerConfig::default()
    };
    let site = Site::start(config, app);
    let mut c = site.connect().await;
    let _ = c.get("/hello.txt").await;
    let _ = c.get("/missing").await;
    c.close().await;
    within("the log lines", async {
        while lines.lock().unwrap().len() < 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    let lines = lines.lock().unwrap().clone();
    assert_eq!(
        lines[0],
        (
            Version::HTTP_3,
            200,
            support::HELLO_TXT.len() as u64,
            Some("/hello.txt".into())
        )
    );
    assert_eq!(lines[1].1, 404);
    let text = metrics.render();
    assert!(
        text.contains("berth_http3_events_total{event=\"connection\"} 1\n"),
        "{text}"
    );
    assert!(text.contains("berth_http3_events_total{event=\"stream\"} 2\n"));
}
