//! `examples/api.rs`, as issue 16 specifies it, over real sockets: its app
//! (`examples/common/api_app.rs`) with the test root nested at `/static`.

#[path = "../examples/common/api_app.rs"]
mod api_app;

mod support;

use berth::ServerConfig;
use serde_json::{Value, json};
use support::{Resp, TestServer, start_app};

fn api() -> TestServer {
    start_app(ServerConfig::default(), api_app::app)
}

fn json_of(r: &Resp) -> Value {
    assert_eq!(r.header("content-type"), Some("application/json"), "{r:?}");
    serde_json::from_str(r.body_str()).unwrap_or_else(|e| panic!("{e}: {r:?}"))
}

/// The status and JSON body of an error answer, checking its shape.
fn error_of(r: &Resp) -> (u16, String) {
    let body = json_of(r);
    assert_eq!(body["status"], r.status, "{r:?}");
    (
        r.status,
        body["error"].as_str().expect("an error string").to_owned(),
    )
}

fn post_json(s: &TestServer, body: &str) -> Resp {
    s.connect().request(format!(
        "POST /items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    ))
}

fn get(s: &TestServer, target: &str) -> Resp {
    s.connect()
        .request(format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n"))
}

#[test]
fn items_are_created_listed_and_shown() {
    let s = api();
    let r = get(&s, "/items");
    assert_eq!((r.status, json_of(&r)), (200, json!([])));
    for (name, id) in [("tea", 1), ("cake", 2), ("jam", 3)] {
        let r = post_json(&s, &json!({ "name": name }).to_string());
        assert_eq!(r.status, 201, "{r:?}");
        assert_eq!(r.header("location"), Some(format!("/items/{id}").as_str()));
        assert_eq!(json_of(&r), json!({ "id": id, "name": name }));
    }
    let r = get(&s, "/items?limit=2");
    assert_eq!(
        json_of(&r),
        json!([{ "id": 1, "name": "tea" }, { "id": 2, "name": "cake" }])
    );
    assert_eq!(json_of(&get(&s, "/items")).as_array().unwrap().len(), 3);
    let r = get(&s, "/items/2");
    assert_eq!(
        (r.status, json_of(&r)),
        (200, json!({ "id": 2, "name": "cake" }))
    );
}

#[test]
fn bad_input_is_a_json_error_with_the_right_status() {
    let s = api();
    let (status, reason) = error_of(&get(&s, "/items?limit=ten"));
    assert_eq!(status, 400);
    assert!(reason.contains("limit"), "{reason}");
    let (status, reason) = error_of(&get(&s, "/items/abc"));
    assert_eq!(status, 400);
    assert!(reason.contains("id"), "{reason}");
    assert_eq!(error_of(&get(&s, "/items/99")).0, 404);

    assert_eq!(error_of(&post_json(&s, "{\"name\": ")).0, 400);
    let (status, reason) = error_of(&post_json(&s, "{\"name\": 5}"));
    assert_eq!(status, 400);
    assert!(reason.contains("name"), "{reason}");
    assert_eq!(error_of(&post_json(&s, "{}")).0, 400);

    let r = s
        .connect()
        .request("POST /items HTTP/1.1\r\nHost: x\r\nContent-Length: 14\r\n\r\n{\"name\":\"tea\"}");
    assert_eq!(error_of(&r).0, 415);
    let r = s.connect().request(
        "POST /items HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n\
         Content-Length: 14\r\n\r\n{\"name\":\"tea\"}",
    );
    assert_eq!(error_of(&r).0, 415);
}

#[test]
fn a_body_over_the_routes_1_kib_is_a_json_413() {
    let s = api();
    let big = json!({ "name": "x".repeat(1100) }).to_string();
    let r = post_json(&s, &big);
    assert_eq!(error_of(&r).0, 413);
    // Chunked, so only reading finds it.
    let mut c = s.connect();
    c.send(format!(
        "POST /items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\n\r\n{:x}\r\n{big}\r\n0\r\n\r\n",
        big.len()
    ));
    assert_eq!(error_of(&c.read_response()).0, 413);
    // Just under it is fine.
    let fits = json!({ "name": "x".repeat(1000) }).to_string();
    assert_eq!(post_json(&s, &fits).status, 201);
}

#[test]
fn the_routers_own_answers_are_json_and_405_keeps_allow() {
    let s = api();
    let (status, _) = error_of(&get(&s, "/nowhere"));
    assert_eq!(status, 404);
    let r = s
        .connect()
        .request("DELETE /items HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(error_of(&r).0, 405);
    assert_eq!(r.header("allow"), Some("GET, HEAD, POST, OPTIONS"));
    let r = s
        .connect()
        .request("PUT /items/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(error_of(&r).0, 405);
    assert_eq!(r.header("allow"), Some("GET, HEAD, OPTIONS"));
}

#[test]
fn static_files_are_nested_under_static() {
    let s = api();
    let r = get(&s, "/static/hello.txt");
    assert_eq!(r.status, 200);
    assert_eq!(r.body_str(), support::HELLO_TXT);
    let r = get(&s, "/static/sub");
    assert_eq!(r.status, 301, "{r:?}");
    assert_eq!(r.header("location"), Some("/static/sub/"));
    let r = get(&s, "/static/sub/");
    assert_eq!(r.body_str(), support::SUB_INDEX_HTML);
    // A missing file is a JSON 404 like any other.
    assert_eq!(error_of(&get(&s, "/static/nope.txt")).0, 404);
}
