//! The `--port PORT` argument shared by the small examples.

/// `--port PORT` (default 8080), parsed by hand as examples/plaintext.rs does.
pub fn port_arg() -> Result<u16, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => Ok(8080),
        [flag, port] if flag == "--port" || flag == "-p" => {
            port.parse().map_err(|_| format!("bad port {port:?}"))
        }
        _ => Err("usage: --port PORT".into()),
    }
}
