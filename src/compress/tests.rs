//! The layer's policy, over plain handlers and over `ServeDir`.

use super::encoder::tests::{decode, page};
use super::*;
use crate::ServeDir;
use http::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_RANGE, CONTENT_TYPE, ETAG, VARY,
};

fn request(method: Method, uri: &str, fields: &[(&str, &str)]) -> Request {
    let mut req = http::Request::builder().method(method).uri(uri);
    for (name, value) in fields {
        req = req.header(*name, *value);
    }
    req.body(Body::empty()).unwrap()
}

async fn get(h: &impl Handler, uri: &str, fields: &[(&str, &str)]) -> Response {
    h.call(request(Method::GET, uri, fields)).await
}

fn field<'a>(res: &'a Response, name: &header::HeaderName) -> Option<&'a str> {
    let mut all = res.headers().get_all(name).iter();
    let first = all.next().map(|v| v.to_str().unwrap());
    assert!(all.next().is_none(), "{name} repeated");
    first
}

async fn body(res: Response) -> Vec<u8> {
    res.into_body().collect(1 << 26).await.unwrap().to_vec()
}

/// A handler answering `/page` with 8 KiB of HTML (ETag `"v1"`),
/// `/small` with a short text, `/png` with an image, `/coded` with a body
/// already gzipped, `/no-transform`, `/partial` (206), `/stream` (chunks)
/// and `/304`.
fn app() -> impl Handler {
    |req: Request| async move {
        let html = |body: Body| {
            let mut res = Response::new(body);
            res.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("text/html"));
            res.headers_mut()
                .insert(ETAG, HeaderValue::from_static("\"v1\""));
            res
        };
        let mut res = match req.uri().path() {
            "/page" | "/no-transform" | "/partial" | "/coded" | "/304" => {
                html(Body::from(page(8192)))
            }
            "/small" => html(Body::from("tiny")),
            "/png" => {
                let mut res = html(Body::from(vec![7u8; 8192]));
                res.headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static("image/png"));
                res
            }
            "/stream" => {
                let (tx, body) = Body::channel(4);
                tokio::spawn(async move {
                    for chunk in page(8192).chunks(1000) {
                        let _ = tx.send(chunk.to_vec()).await;
                    }
                });
                html(body)
            }
            _ => return crate::response::status(StatusCode::NOT_FOUND),
        };
        let headers = res.headers_mut();
        match req.uri().path() {
            "/no-transform" => {
                headers.insert(
                    CACHE_CONTROL,
                    HeaderValue::from_static("public, no-transform"),
                );
            }
            "/coded" => {
                headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            }
            "/partial" => {
                *res.status_mut() = StatusCode::PARTIAL_CONTENT;
                res.headers_mut()
                    .insert(CONTENT_RANGE, HeaderValue::from_static("bytes 0-8191/9000"));
            }
            "/304" => {
                *res.status_mut() = StatusCode::NOT_MODIFIED;
                *res.body_mut() = Body::empty();
            }
            _ => {}
        }
        res
    }
}

#[test]
fn coded_etags() {
    let coded = |tag: &str, weak| {
        coded_etag(tag.as_bytes(), Coding::Gzip, weak).map(|v| v.to_str().unwrap().to_owned())
    };
    assert_eq!(coded("\"v1\"", false).as_deref(), Some("\"v1-gzip\""));
    assert_eq!(coded("\"v1\"", true).as_deref(), Some("W/\"v1-gzip\""));
    assert_eq!(coded("W/\"v1\"", false).as_deref(), Some("W/\"v1-gzip\""));
    assert_eq!(coded(" \"\" ", false).as_deref(), Some("\"-gzip\""));
    for bad in ["v1", "\"v1", "\"a\"b\"", "w/\"v1\""] {
        assert_eq!(coded(bad, false), None, "{bad}");
    }
}

#[tokio::test]
async fn compresses_negotiable_responses_in_each_coding() {
    let layer = Compress::new(app());
    let text = page(8192);
    for coding in Coding::ALL {
        let res = get(&layer, "/page", &[("accept-encoding", coding.token())]).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(field(&res, &CONTENT_ENCODING), Some(coding.token()));
        assert_eq!(field(&res, &VARY), Some("Accept-Encoding"));
        let etag = format!("\"v1-{}\"", coding.token());
        assert_eq!(field(&res, &ETAG), Some(etag.as_str()));
        // Buffered: compressed whole, so the length is exact.
        let len = res.body().size_hint().unwrap();
        let bytes = body(res).await;
        assert_eq!(bytes.len() as u64, len);
        assert!(bytes.len() < text.len() / 3);
        assert_eq!(decode(coding, &bytes), text);
    }
}

#[tokio::test]
async fn leaves_what_it_should_not_touch() {
    let layer = Compress::new(app());
    let gzip = [("accept-encoding", "gzip, br, zstd")];
    for (uri, vary) in [
        ("/small", false),
        ("/png", false),
        ("/coded", false),
        ("/no-transform", false),
        ("/partial", false),
        ("/missing", false),
        ("/304", true),
    ] {
        let res = get(&layer, uri, &gzip).await;
        let coding = field(&res, &CONTENT_ENCODING).map(str::to_owned);
        assert_eq!(
            coding.as_deref(),
            (uri == "/coded").then_some("gzip"),
            "{uri}"
        );
        assert_eq!(field(&res, &VARY).is_some(), vary, "{uri}");
        assert_eq!(
            field(&res, &ETAG).map(|e| e.contains("-")),
            (uri != "/missing").then_some(false),
            "{uri}"
        );
    }
}

#[tokio::test]
async fn q_zero_and_identity_choices() {
    let layer = Compress::new(app());
    let text = page(8192);
    for accept in [
        None,
        Some("gzip;q=0"),
        Some("*;q=0, identity"),
        Some("deflate"),
        Some(""),
        Some("gzip;q=0.5, identity"),
        // Nothing acceptable, identity excluded too: identity anyway.
        Some("identity;q=0"),
        Some("*;q=0"),
        Some("gzip;q=0, identity;q=0"),
        // Malformed: identity.
        Some("gzip;q=5"),
    ] {
        let fields: Vec<(&str, &str)> =
            accept.map(|a| ("accept-encoding", a)).into_iter().collect();
        let res = get(&layer, "/page", &fields).await;
        assert_eq!(res.status(), StatusCode::OK, "{accept:?}");
        assert_eq!(field(&res, &CONTENT_ENCODING), None, "{accept:?}");
        assert_eq!(field(&res, &VARY), Some("Accept-Encoding"), "{accept:?}");
        assert_eq!(field(&res, &ETAG), Some("\"v1\""), "{accept:?}");
        assert_eq!(body(res).await, text);
    }
    let res = get(
        &layer,
        "/page",
        &[("accept-encoding", "GZIP;Q=0.9, br;q=0.8")],
    )
    .await;
    assert_eq!(field(&res, &CONTENT_ENCODING), Some("gzip"));
    let only_gzip = Compress::new(app()).codings(&[Coding::Gzip, Coding::Identity]);
    let res = get(
        &only_gzip,
        "/page",
        &[("accept-encoding", "zstd, br, gzip")],
    )
    .await;
    assert_eq!(field(&res, &CONTENT_ENCODING), Some("gzip"));
    let none = Compress::new(app()).codings(&[]);
    let res = get(&none, "/page", &[("accept-encoding", "gzip")]).await;
    assert_eq!(field(&res, &CONTENT_ENCODING), None);
    assert_eq!(field(&res, &VARY), None);
}

#[tokio::test]
async fn streams_are_coded_as_streams_with_weak_tags() {
    let layer = Compress::new(app());
    let res = get(&layer, "/stream", &[("accept-encoding", "br")]).await;
    assert_eq!(field(&res, &CONTENT_ENCODING), Some("br"));
    assert_eq!(field(&res, &ETAG), Some("W/\"v1-br\""));
    assert_eq!(res.body().size_hint(), None);
    assert_eq!(decode(Coding::Br, &body(res).await), page(8192));
}

#[tokio::test]
async fn if_none_match_with_the_coded_tag_is_304() {
    let layer = Compress::new(app());
    let gzip = ("accept-encoding", "gzip");
    let res = get(&layer, "/page", &[gzip, ("if-none-match", "\"v1-gzip\"")]).await;
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(field(&res, &ETAG), Some("\"v1-gzip\""));
    assert_eq!(field(&res, &VARY), Some("Accept-Encoding"));
    assert_eq!(field(&res, &CONTENT_TYPE), None);
    assert_eq!(field(&res, &CONTENT_ENCODING), None);
    assert!(res.body().is_empty());
    // Another coding's tag, or the identity one, does not match gzip.
    for tag in ["\"v1-br\"", "\"v1\""] {
        let res = get(&layer, "/page", &[gzip, ("if-none-match", tag)]).await;
        assert_eq!(res.status(), StatusCode::OK, "{tag}");
    }
    let res = get(
        &layer,
        "/stream",
        &[gzip, ("if-none-match", "W/\"v1-gzip\"")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn head_has_the_head_of_get() {
    let layer = Compress::new(app());
    for accept in ["gzip", "br", "zstd", "identity"] {
        for uri in ["/page", "/stream", "/small"] {
            let fields = [("accept-encoding", accept)];
            let get_res = get(&layer, uri, &fields).await;
            let head_res = layer.call(request(Method::HEAD, uri, &fields)).await;
            assert_eq!(
                head_res.body().size_hint(),
                get_res.body().size_hint(),
                "{uri} {accept}"
            );
            for name in [CONTENT_ENCODING, VARY, ETAG, CONTENT_TYPE] {
                assert_eq!(
                    field(&head_res, &name),
                    field(&get_res, &name),
                    "{uri} {accept} {name}"
                );
            }
        }
    }
}

/// A `ServeDir` over a temporary root with `page.html` (64 KiB of text),
/// `small.txt`, `image.png` and `big.txt` (3 MiB).
struct Site {
    dir: tempfile::TempDir,
}

impl Site {
    fn new() -> Site {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("page.html"), page(65536)).unwrap();
        std::fs::write(dir.path().join("small.txt"), "small").unwrap();
        std::fs::write(dir.path().join("image.png"), vec![9u8; 4096]).unwrap();
        std::fs::write(dir.path().join("big.txt"), page(3 << 20)).unwrap();
        Site { dir }
    }

    fn serve(&self) -> ServeDir {
        ServeDir::new(self.dir.path())
    }
}

#[tokio::test]
async fn static_files_are_compressed_once_and_cached() {
    let site = Site::new();
    let layer = Compress::new(site.serve());
    let text = page(65536);
    for coding in Coding::ALL {
        let fields = [("accept-encoding", coding.token())];
        let first = get(&layer, "/page.html", &fields).await;
        assert_eq!(first.status(), StatusCode::OK);
        assert_eq!(field(&first, &CONTENT_ENCODING), Some(coding.token()));
        assert_eq!(field(&first, &VARY), Some("Accept-Encoding"));
        assert_eq!(field(&first, &ACCEPT_RANGES), None);
        let etag = field(&first, &ETAG).unwrap().to_owned();
        assert!(etag.ends_with(&format!("-{}\"", coding.token())), "{etag}");
        let len = first.body().size_hint().unwrap();
        let bytes = body(first).await;
        assert_eq!(bytes.len() as u64, len);
        assert_eq!(decode(coding, &bytes), text);
        let second = get(&layer, "/page.html", &fields).await;
        assert_eq!(
            body(second).await,
            bytes,
            "{coding:?}: served from the cache"
        );
    }
    assert_eq!(layer.policy.cache.len(), 3);
    // The identity representation keeps its tag and ranges, with Vary.
    let res = get(&layer, "/page.html", &[]).await;
    assert_eq!(field(&res, &CONTENT_ENCODING), None);
    assert_eq!(field(&res, &ACCEPT_RANGES), Some("bytes"));
    assert_eq!(field(&res, &VARY), Some("Accept-Encoding"));
    assert!(!field(&res, &ETAG).unwrap().contains("-gzip"));
    // A change of the file is a new cache key.
    let path = site.dir.path().join("page.html");
    std::fs::write(&path, "<p>changed</p>".repeat(200)).unwrap();
    let res = get(&layer, "/page.html", &[("accept-encoding", "gzip")]).await;
    assert_eq!(
        decode(Coding::Gzip, &body(res).await),
        "<p>changed</p>".repeat(200).as_bytes()
    );
}

#[tokio::test]
async fn static_file_validators_are_per_representation() {
    let site = Site::new();
    let layer = Compress::new(site.serve());
    let gzip = ("accept-encoding", "gzip");
    let res = get(&layer, "/page.html", &[gzip]).await;
    let gzip_tag = field(&res, &ETAG).unwrap().to_owned();
    let res = get(&layer, "/page.html", &[]).await;
    let identity_tag = field(&res, &ETAG).unwrap().to_owned();
    let want = format!("{}-gzip\"", &identity_tag[..identity_tag.len() - 1]);
    assert_eq!(gzip_tag, want);
    // The gzip tag matches the gzip representation only.
    let res = get(&layer, "/page.html", &[gzip, ("if-none-match", &gzip_tag)]).await;
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(field(&res, &ETAG), Some(gzip_tag.as_str()));
    assert_eq!(field(&res, &VARY), Some("Accept-Encoding"));
    let res = get(
        &layer,
        "/page.html",
        &[("accept-encoding", "br"), ("if-none-match", &gzip_tag)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = get(
        &layer,
        "/page.html",
        &[gzip, ("if-none-match", &identity_tag)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(field(&res, &CONTENT_ENCODING), Some("gzip"));
    let res = get(&layer, "/page.html", &[("if-none-match", &identity_tag)]).await;
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(field(&res, &VARY), Some("Accept-Encoding"));
    // If-Match against the coded tag.
    let res = get(&layer, "/page.html", &[gzip, ("if-match", &identity_tag)]).await;
    assert_eq!(res.status(), StatusCode::PRECONDITION_FAILED);
    let res = get(&layer, "/page.html", &[gzip, ("if-match", &gzip_tag)]).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn ranges_select_identity() {
    let site = Site::new();
    let layer = Compress::new(site.serve());
    let text = page(65536);
    let res = get(
        &layer,
        "/page.html",
        &[("accept-encoding", "gzip"), ("range", "bytes=10-19")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(field(&res, &CONTENT_ENCODING), None);
    assert_eq!(field(&res, &VARY), Some("Accept-Encoding"));
    assert_eq!(body(res).await, &text[10..20]);
    // HEAD ignores Range: the head of a coded GET without it.
    let head = layer
        .call(request(
            Method::HEAD,
            "/page.html",
            &[("accept-encoding", "gzip"), ("range", "bytes=10-19")],
        ))
        .await;
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(field(&head, &CONTENT_ENCODING), Some("gzip"));
}

#[tokio::test]
async fn static_head_matches_get() {
    let site = Site::new();
    let layer = Compress::new(site.serve()).cache_budget(4 << 20);
    for uri in ["/page.html", "/big.txt", "/small.txt", "/image.png"] {
        for accept in ["gzip", "zstd, br", "identity", "*;q=0"] {
            let fields = [("accept-encoding", accept)];
            // HEAD first: it must not depend on a warm cache.
            let head = layer.call(request(Method::HEAD, uri, &fields)).await;
            let get_res = get(&layer, uri, &fields).await;
            assert_eq!(head.status(), get_res.status());
            assert_eq!(
                head.body().size_hint(),
                get_res.body().size_hint(),
                "{uri} {accept}"
            );
            for name in [CONTENT_ENCODING, VARY, ETAG, CONTENT_TYPE, ACCEPT_RANGES] {
                assert_eq!(
                    field(&head, &name),
                    field(&get_res, &name),
                    "{uri} {accept} {name}"
                );
            }
        }
    }
}

#[tokio::test]
async fn small_files_and_images_are_not_negotiated() {
    let site = Site::new();
    let layer = Compress::new(site.serve());
    for uri in ["/small.txt", "/image.png"] {
        let res = get(&layer, uri, &[("accept-encoding", "gzip, br, zstd")]).await;
        assert_eq!(field(&res, &CONTENT_ENCODING), None, "{uri}");
        assert_eq!(field(&res, &VARY), None, "{uri}");
        assert_eq!(field(&res, &ACCEPT_RANGES), Some("bytes"), "{uri}");
    }
    let layer = Compress::new(site.serve()).min_size(1);
    let res = get(&layer, "/small.txt", &[("accept-encoding", "gzip")]).await;
    assert_eq!(field(&res, &CONTENT_ENCODING), Some("gzip"));
    assert_eq!(decode(Coding::Gzip, &body(res).await), b"small");
}

#[tokio::test]
async fn files_beyond_the_cache_entry_limit_are_streamed() {
    let site = Site::new();
    // A quarter of 4 MiB is 1 MiB: big.txt (3 MiB) is coded as a stream.
    let layer = Compress::new(site.serve()).cache_budget(4 << 20);
    let res = get(&layer, "/big.txt", &[("accept-encoding", "zstd")]).await;
    assert_eq!(field(&res, &CONTENT_ENCODING), Some("zstd"));
    assert_eq!(res.body().size_hint(), None);
    assert_eq!(decode(Coding::Zstd, &body(res).await), page(3 << 20));
    assert_eq!(layer.policy.cache.len(), 0);
    // With the default budget it is compressed whole (on the blocking
    // pool) and cached.
    let layer = Compress::new(site.serve());
    let res = get(&layer, "/big.txt", &[("accept-encoding", "gzip")]).await;
    assert!(res.body().size_hint().is_some());
    assert_eq!(decode(Coding::Gzip, &body(res).await), page(3 << 20));
    assert_eq!(layer.policy.cache.len(), 1);
    let none = Compress::new(site.serve()).cache_budget(0);
    let res = get(&none, "/page.html", &[("accept-encoding", "gzip")]).await;
    assert_eq!(res.body().size_hint(), None);
    assert_eq!(decode(Coding::Gzip, &body(res).await), page(65536));
}

#[tokio::test]
async fn levels_apply() {
    let site = Site::new();
    let fast = Compress::new(site.serve()).level(1);
    let best = Compress::new(site.serve())
        .level(9)
        .coding_level(Coding::Br, 11);
    for coding in Coding::ALL {
        let fields = [("accept-encoding", coding.token())];
        let a = body(get(&fast, "/page.html", &fields).await).await;
        let b = body(get(&best, "/page.html", &fields).await).await;
        assert!(b.len() < a.len(), "{coding:?}: {} vs {}", b.len(), a.len());
        assert_eq!(decode(coding, &b), page(65536));
    }
}

#[tokio::test]
async fn listings_and_errors_go_through_the_generic_path() {
    let site = Site::new();
    for i in 0..40 {
        std::fs::write(site.dir.path().join(format!("file-{i:03}.txt")), "x").unwrap();
    }
    let layer = Compress::new(site.serve().listing(true).index_files(Vec::<String>::new()));
    let res = get(
        &layer,
        "/",
        &[("accept-encoding", "gzip"), ("accept", "text/html")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(field(&res, &CONTENT_ENCODING), Some("gzip"));
    let html = String::from_utf8(decode(Coding::Gzip, &body(res).await)).unwrap();
    assert!(html.contains("file-039.txt"));
    let res = get(&layer, "/nope", &[("accept-encoding", "gzip")]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(field(&res, &CONTENT_ENCODING), None);
}

/// The one assumption of the protocol with `ServeDir`
/// (`content_coding/layer.rs`, step 3): a file `200` it leaves unmarked,
/// to a request without `Range`, is one step 4 leaves as it is.
#[tokio::test]
async fn unmarked_file_answers_are_what_step_4_leaves() {
    use crate::content_coding::{Negotiation, Settled};
    let site = Site::new();
    let cached = || {
        site.serve()
            .open_file_cache(std::time::Duration::from_secs(60))
    };
    let layers = [
        Compress::new(site.serve()),
        Compress::new(cached()),
        Compress::new(cached()).min_size(1),
        Compress::new(site.serve()).min_size(1 << 30),
        Compress::new(site.serve()).codings(&[]),
        Compress::new(site.serve()).codings(&[Coding::Br]),
    ];
    let mut checked = 0;
    for layer in &layers {
        for uri in ["/page.html", "/small.txt", "/image.png", "/big.txt"] {
            for accept in ["", "gzip", "identity", "*;q=0", "br;q=0.5, zstd", "x"] {
                for method in [Method::GET, Method::HEAD] {
                    let mut req = request(method, uri, &[("accept-encoding", accept)]);
                    let accept = AcceptEncoding::from_headers(req.headers());
                    let coding = match accept.negotiate(&layer.policy.codings) {
                        Negotiated::Use(coding) => coding,
                        Negotiated::NotAcceptable => Coding::Identity,
                    };
                    let coder: Arc<dyn FileCoder> = layer.policy.clone();
                    req.extensions_mut()
                        .insert(Negotiation::new(coding, accept, coder));
                    let res = layer.get_ref().call(req).await;
                    if res.extensions().get::<Settled>().is_some()
                        || res.headers().contains_key(CONTENT_ENCODING)
                    {
                        continue;
                    }
                    assert_eq!(res.status(), StatusCode::OK, "{uri}");
                    assert_eq!(layer.policy.step4(&res, coding), Step4::Leave, "{uri}");
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 100, "{checked}");
}
