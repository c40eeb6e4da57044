//! Files over HTTP/3 (`ServeDir`): bodies, types and lengths, ranges,
//! conditional requests, HEAD, 404; a 100 MiB download intact; and
//! compression with `Compress`.

use super::*;

#[tokio::test]
async fn files_come_whole_with_their_type_length_and_validators() {
    let site = Site::start(ServerConfig::default(), app);
    let mut c = site.connect().await;
    let r = c.get("/hello.txt").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, support::HELLO_TXT.as_bytes());
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(
        r.header("content-length"),
        Some(support::HELLO_TXT.len().to_string().as_str())
    );
    assert!(r.header("etag").is_some() && r.header("last-modified").is_some());
    assert_eq!(r.header("server"), Some("berth"));
    assert!(r.header("date").is_some());
    assert_eq!(
        r.header("alt-svc"),
        None,
        "HTTP/3 responses need no Alt-Svc"
    );

    let r = c.get("/").await;
    assert_eq!((r.status, r.text()), (StatusCode::OK, support::INDEX_HTML));
    let r = c.get("/big.bin").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body == support::big_content(), "big.bin differs");
    let r = c.get("/missing").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = c.get("/.secret").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    c.close().await;
}

#[tokio::test]
async fn ranges_and_conditional_requests_work_as_over_tcp() {
    let site = Site::start(ServerConfig::default(), app);
    let mut c = site.connect().await;
    let r = c
        .get_with("/big.bin", &[("range", "bytes=1000-1999")])
        .await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        r.header("content-range"),
        Some(format!("bytes 1000-1999/{}", support::BIG_LEN).as_str())
    );
    assert!(r.body[..] == support::big_content()[1000..2000]);
    let r = c
        .get_with("/big.bin", &[("range", "bytes=99999999-")])
        .await;
    assert_eq!(r.status, StatusCode::RANGE_NOT_SATISFIABLE);

    let first = c.get("/hello.txt").await;
    let etag = first.header("etag").unwrap().to_string();
    let r = c.get_with("/hello.txt", &[("if-none-match", &etag)]).await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    assert!(r.body.is_empty());
    assert_eq!(r.header("etag"), Some(etag.as_str()));
    let r = c.get_with("/hello.txt", &[("if-match", "\"other\"")]).await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    let modified = first.header("last-modified").unwrap().to_string();
    let r = c
        .get_with("/hello.txt", &[("if-modified-since", &modified)])
        .await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    c.close().await;
}

#[tokio::test]
async fn head_has_get_s_length_and_no_body() {
    let site = Site::start(ServerConfig::default(), app);
    let mut c = site.connect().await;
    let r = c.request(Method::HEAD, "/big.bin", &[], None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.header("content-length"),
        Some(support::BIG_LEN.to_string().as_str())
    );
    assert!(r.body.is_empty());
    // The connection serves on.
    let r = c.get("/hello.txt").await;
    assert_eq!(r.body, support::HELLO_TXT.as_bytes());
    c.close().await;
}

/// 100 MiB of bytes that repeat at no power of two, and their SHA-256.
fn write_huge(path: &Path) -> Vec<u8> {
    use std::io::Write;
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut block = vec![0u8; 1 << 20];
    for _ in 0..100 {
        for chunk in block.chunks_mut(8) {
            // xorshift64
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
        }
        digest.update(&block);
        file.write_all(&block).unwrap();
    }
    file.flush().unwrap();
    digest.finish().as_ref().to_vec()
}

#[tokio::test]
async fn a_100_mib_download_arrives_intact() {
    let site = Site::start(ServerConfig::default(), app);
    let want = write_huge(&site.root.join("huge.bin"));
    let mut c = site.connect().await;
    let mut stream = c.open(Method::GET, "/huge.bin", &[]).await;
    within("finish", stream.finish()).await.unwrap();
    let head = within("head", stream.recv_response()).await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(head.headers()["content-length"], "104857600");
    let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
    let mut received = 0u64;
    // Each piece within LIMIT; the whole download within a minute.
    let all = async {
        while let Some(chunk) = h3client::next_chunk(&mut stream).await {
            received += chunk.len() as u64;
            digest.update(&chunk);
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(120), all)
        .await
        .expect("100 MiB did not arrive within 120 s");
    assert_eq!(received, 100 << 20);
    assert_eq!(digest.finish().as_ref(), &want[..], "content differs");
    c.close().await;
}

#[cfg(feature = "compress")]
#[tokio::test]
async fn compress_codes_responses_over_http3() {
    let page = "<p>compress me</p>\n".repeat(200);
    let site = Site::start(ServerConfig::default(), |root: &Path| {
        std::fs::write(root.join("page.html"), &page).unwrap();
        berth::Compress::new(ServeDir::new(root))
    });
    let mut c = site.connect().await;
    for coding in ["gzip", "br", "zstd"] {
        let r = c
            .get_with("/page.html", &[("accept-encoding", coding)])
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.header("content-encoding"), Some(coding));
        assert!(
            r.header("vary")
                .unwrap()
                .eq_ignore_ascii_case("accept-encoding")
        );
        assert!(r.body.len() < page.len());
        assert_eq!(decode::decode(coding, &r.body), page.as_bytes());
    }
    let r = c.get("/page.html").await;
    assert_eq!(r.header("content-encoding"), None);
    assert_eq!(r.body, page.as_bytes());
    c.close().await;
}
