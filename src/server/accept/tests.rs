use super::*;
use crate::{Body, Request, Response};

/// Every idle connection holds this future (the driver's plus the
/// prelude's state): keep TLS and Unix paths boxed so it stays small.
#[tokio::test]
async fn connection_task_stays_small() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let stream = Tcp::raw(std::net::TcpStream::connect(addr).unwrap());
    let handler = Arc::new(|_req: Request| async { Response::new(Body::empty()) });
    let permits = Arc::new(Semaphore::new(1));
    let permit = permits.clone().acquire_owned().await.unwrap();
    let shared = Arc::new(Shared {
        handler,
        config: Arc::default(),
        tls: None,
        proxy_protocol: false,
        permits,
        parker: None,
        alt_svc: Vec::new(),
    });
    let (_tx, stop) = tokio::sync::watch::channel(false);
    let stop = Shutdown::new(stop);
    let task = start(Accepted::Tcp(stream, addr), shared, stop, permit);
    let size = std::mem::size_of_val(&task);
    println!("connection task: {size} bytes");
    assert!(size < 4096, "connection task future is {size} bytes");
}

#[test]
fn the_accept_loop_spins_only_between_close_arrivals() {
    let window = Duration::from_secs(3600);
    let mut arrivals = Arrivals::new(window);
    assert!(arrivals.spin_until().is_none(), "nothing accepted yet");
    arrivals.accepted();
    assert!(arrivals.spin_until().is_none(), "one arrival is no stream");
    arrivals.accepted();
    let until = arrivals
        .spin_until()
        .expect("two arrivals within the window");
    assert!(until > std::time::Instant::now());

    // Arrivals further apart than the window never spin.
    let mut sparse = Arrivals::new(Duration::from_millis(1));
    sparse.accepted();
    std::thread::sleep(Duration::from_millis(5));
    sparse.accepted();
    assert!(sparse.spin_until().is_none());

    // A zero window turns it off.
    let mut off = Arrivals::new(Duration::ZERO);
    off.accepted();
    off.accepted();
    assert!(off.spin_until().is_none());
}
