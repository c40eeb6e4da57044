//! Compression (`Compress`) over HTTP/2: gzip, br and zstd negotiated
//! with `Vary`, and precompressed sidecars.

use super::*;

/// 64 KiB of HTML-like text.
fn page() -> Vec<u8> {
    let mut out = b"<!doctype html>\n<main>\n".to_vec();
    let mut i = 0u32;
    while out.len() < 64 * 1024 {
        let line = format!(
            "<article id=\"post-{i}\"><h2>Post {i}</h2><p>over HTTP/2, {} of them.</p></article>\n",
            i.wrapping_mul(2_654_435_761) % 997
        );
        out.extend_from_slice(line.as_bytes());
        i += 1;
    }
    out.truncate(64 * 1024);
    out
}

/// `Compress` around `ServeDir` (sidecars on), with `page.html` and
/// `app.js` (64 KiB of text) in ROOT.
fn compressed(root: &Path) -> Compress<ServeDir> {
    std::fs::write(root.join("page.html"), page()).unwrap();
    std::fs::write(root.join("app.js"), page()).unwrap();
    Compress::new(ServeDir::new(root).precompressed(true))
}

#[tokio::test]
async fn compression_negotiates_gzip_br_and_zstd_with_vary() {
    for via in BOTH {
        let site = Site::start(via, ServerConfig::default(), compressed);
        let mut c = site.connect().await;
        for coding in ["gzip", "br", "zstd"] {
            let r = c.get("/page.html", &[("accept-encoding", coding)]).await;
            assert_eq!(r.status, 200);
            assert_eq!(r.header("content-encoding"), Some(coding), "{via:?}");
            assert_eq!(r.header("vary"), Some("Accept-Encoding"));
            assert_eq!(
                r.header("content-length"),
                Some(r.body.len().to_string().as_str())
            );
            assert!(r.body.len() < 64 * 1024 / 3, "{coding}: {}", r.body.len());
            assert_eq!(decode(coding, &r.body), page(), "{via:?} {coding}");
            let etag = r.header("etag").unwrap().to_string();
            let again = c
                .get(
                    "/page.html",
                    &[("accept-encoding", coding), ("if-none-match", &etag)],
                )
                .await;
            assert_eq!(again.status, 304, "{coding}");
            let head = c.head("/page.html", &[("accept-encoding", coding)]).await;
            assert_eq!(head.header("content-length"), r.header("content-length"));
            assert_eq!(head.header("content-encoding"), Some(coding));
            assert!(head.body.is_empty());
        }
        // A browser's list: zstd first.
        let r = c
            .get(
                "/page.html",
                &[("accept-encoding", "gzip, deflate, br, zstd")],
            )
            .await;
        assert_eq!(r.header("content-encoding"), Some("zstd"));
        // None accepted: the file as it is, still varying.
        let r = c.get("/page.html", &[]).await;
        assert_eq!(r.header("content-encoding"), None);
        assert_eq!(r.header("vary"), Some("Accept-Encoding"));
        assert_eq!(r.body.as_ref(), page().as_slice());
        // Not a compressible type: as it is, no Vary.
        let r = c.get("/big.bin", &[("accept-encoding", "gzip")]).await;
        assert_eq!(r.header("content-encoding"), None);
        assert_eq!(r.header("vary"), None);
        assert_eq!(r.body.len(), BIG_LEN);
    }
}

#[tokio::test]
async fn precompressed_sidecars_are_served() {
    let site = Site::start(Via::H2c, ServerConfig::default(), compressed);
    let old = SystemTime::now() - Duration::from_secs(600);
    set_mtime(&site.root.join("app.js"), old);
    let sidecar = compress_slice(b"from app.js.br", Coding::Br, 11).unwrap();
    std::fs::write(site.root.join("app.js.br"), &sidecar).unwrap();
    let mut c = site.connect().await;
    let r = c.get("/app.js", &[("accept-encoding", "gzip, br")]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-encoding"), Some("br"));
    assert_eq!(r.header("vary"), Some("Accept-Encoding"));
    assert!(r.header("content-type").unwrap().contains("javascript"));
    assert_eq!(
        r.header("content-length"),
        Some(sidecar.len().to_string().as_str())
    );
    assert_eq!(decode("br", &r.body), b"from app.js.br");
    // No sidecar for gzip: coded from the file.
    let r = c.get("/app.js", &[("accept-encoding", "gzip")]).await;
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    assert_eq!(decode("gzip", &r.body), page());
}
