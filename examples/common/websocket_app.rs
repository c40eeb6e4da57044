//! The WebSocket echo app of examples/websocket.rs (also run by
//! tests/ecosystem/websocket.rs): `/` is a page, `/ws` the echo.

use berth::prelude::*;
use futures_util::{SinkExt, StreamExt};
use http::{HeaderValue, header};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// The largest message echoed.
pub const MAX_MESSAGE: usize = 16 << 20;

const PAGE: &str = r#"<!doctype html><title>berth WebSocket echo</title>
<input id="msg" value="hello"><button id="send">send</button><ul id="log"></ul>
<script>
  const ws = new WebSocket(`ws://${location.host}/ws`);
  const log = (t) => { const li = document.createElement("li"); li.textContent = t; document.getElementById("log").append(li); };
  ws.onopen = () => log("open");
  ws.onmessage = (e) => log(`echo: ${e.data}`);
  ws.onclose = (e) => log(`closed: ${e.code}`);
  document.getElementById("send").onclick = () => ws.send(document.getElementById("msg").value);
</script>
"#;

/// The opening handshake (RFC 6455 §4.2.1), then the echo on its own
/// task.
async fn ws(mut req: Request) -> Response {
    // Not an upgrade at all (a plain GET, or HTTP/2): say what is needed.
    let Ok(on_upgrade) = berth::upgrade::on(&mut req) else {
        return berth::upgrade::required("websocket");
    };
    let headers = req.headers();
    let offers_websocket = headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|p| p.trim().eq_ignore_ascii_case("websocket"))
        });
    if !offers_websocket {
        return berth::upgrade::required("websocket");
    }
    // RFC 6455 §4.4: a version the server does not speak gets 426 with
    // the versions it does.
    if headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .map(HeaderValue::as_bytes)
        != Some(b"13")
    {
        return berth::upgrade::required("websocket").with_header("sec-websocket-version", "13");
    }
    // §4.2.1: the key is 16 random bytes, base64-encoded (24 characters
    // ending in "==").
    let Some(key) = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .filter(|k| is_key(k.as_bytes()))
    else {
        return (
            StatusCode::BAD_REQUEST,
            "missing or malformed Sec-WebSocket-Key\n",
        )
            .into_response();
    };
    let accept = derive_accept_key(key.as_bytes());
    tokio::spawn(async move {
        let Ok(upgraded) = on_upgrade.await else {
            return;
        };
        let config = WebSocketConfig::default().max_message_size(Some(MAX_MESSAGE));
        let socket = WebSocketStream::from_raw_socket(upgraded, Role::Server, Some(config)).await;
        echo(socket).await;
    });
    berth::upgrade::switching("websocket").with_header("sec-websocket-accept", accept)
}

/// Echoes messages until the client closes (tungstenite answers pings and
/// the closing handshake itself) or the connection fails.
async fn echo<S>(mut socket: WebSocketStream<S>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    while let Some(message) = socket.next().await {
        let result = match message {
            Ok(message @ (Message::Text(_) | Message::Binary(_))) => socket.send(message).await,
            Ok(_) => Ok(()), // ping, pong, close: handled by tungstenite
            Err(WsError::Capacity(_)) => {
                let close = CloseFrame {
                    code: CloseCode::Size,
                    reason: "message too big".into(),
                };
                let _ = socket.close(Some(close)).await;
                return;
            }
            Err(_) => return,
        };
        if result.is_err() {
            return;
        }
    }
}

/// A Sec-WebSocket-Key: base64 of 16 bytes.
fn is_key(key: &[u8]) -> bool {
    key.len() == 24
        && key.ends_with(b"==")
        && key[..22]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
}

/// The page at `/` and the echo at `/ws`.
pub fn app() -> Router {
    Router::new()
        .get("/", |_req: Request| async { Response::html(PAGE) })
        .get("/ws", ws)
}
