//! systemd socket activation: listening sockets passed in `LISTEN_FDS`
//! (with `LISTEN_PID` naming this process), taken over through the
//! `listenfd` crate so that no unsafe fd handling lives here.

use berth::Listener;

/// The sockets systemd passed, in order; empty when not socket-activated.
pub fn listeners() -> Result<Vec<Listener>, String> {
    let mut fds = listenfd::ListenFd::from_env();
    let mut listeners = Vec::with_capacity(fds.len());
    for index in 0..fds.len() {
        let fail = |e: std::io::Error| format!("socket {index} from systemd (LISTEN_FDS): {e}");
        if let Some(tcp) = fds.take_tcp_listener(index).map_err(fail)? {
            listeners.push(Listener::Tcp(tcp));
        } else if let Some(unix) = fds.take_unix_listener(index).map_err(fail)? {
            listeners.push(Listener::Unix(unix));
        }
    }
    Ok(listeners)
}
