//! Step 6, first half: which content coding a file goes out in (RFC 9110
//! §8.4): identity, a precompressed *sidecar* (`FILE.zst`, `FILE.br`,
//! `FILE.gz` next to `FILE`, with [`ServeDir::precompressed`]), or coded on
//! the fly by a [`Compress`](crate::compress::Compress) layer around the
//! handler.
//!
//! # Rules, in order
//!
//! 1. **Range.** A `GET` with a `Range` field selects identity: ranges
//!    always count identity bytes, so a `206` is never coded. (`HEAD`
//!    ignores `Range`, so it selects what a `GET` without one would.)
//! 2. **Sidecars**, only with [`ServeDir::precompressed`] and only for
//!    compressible types ([`is_compressible`]; nobody precompresses a
//!    JPEG, and not looking saves the opens): the codings the client
//!    accepts are tried best first ([`AcceptEncoding::ranked`]: q-values,
//!    then zstd, br, gzip), stopping at identity when the client prefers
//!    it. Each candidate `FILE.ext` is opened with [`Root::open_file`], the
//!    same containment as the file itself: beneath the root, symlinks
//!    followed only when [`ServeDir::follow_symlinks`] allows and then only
//!    within the root. The first that is a regular file modified no
//!    earlier than `FILE` is served. A missing, stale, unreadable or
//!    non-regular candidate is skipped. A client that accepts no coding
//!    causes no lookups at all.
//! 3. **On the fly**, when a `Compress` layer negotiated a coding other
//!    than identity and its policy takes this type and size.
//! 4. Otherwise identity.
//!
//! `Vary: Accept-Encoding` goes on the response when the choice depended
//! on the header: a sidecar was found, or the layer's policy takes the
//! file. (Not when no sidecar was looked up, e.g. for a client accepting
//! no coding: caches may then store the identity response without `Vary`,
//! which at worst serves identity to a client that could have decoded a
//! coding.)
//!
//! # What a sidecar response carries
//!
//! The sidecar's bytes and length, `Content-Encoding`, the *original's*
//! `Content-Type`, validators of its own (the sidecar's
//! `"<size>-<mtime>-<inode>"` with the coding appended, e.g.
//! `"2f1-17a…-8c-br"`, and its `Last-Modified`), no `Accept-Ranges`.
//! Preconditions are evaluated against those. The freshness test is the
//! one `gzip_static` users know: a sidecar older than the file is ignored
//! (rebuild it); one rewritten with an old mtime (`rsync -t`, `touch -r`)
//! after the file changed cannot be told apart.
//!
//! [`ServeDir::precompressed`]: super::ServeDir::precompressed
//! [`ServeDir::follow_symlinks`]: super::ServeDir::follow_symlinks
//! [`is_compressible`]: crate::compress::is_compressible

use std::fs::{File, Metadata};
use std::sync::Arc;

use http::Method;

use super::open::Root;
use super::representation::Asked;
use crate::Request;
use crate::content_coding::{AcceptEncoding, Coding, Negotiation};

/// An open precompressed copy of the file being served.
#[derive(Debug)]
pub(super) struct Sidecar {
    pub(super) coding: Coding,
    pub(super) file: Arc<File>,
    pub(super) meta: Metadata,
}

/// The coding a file goes out in.
#[derive(Debug)]
pub(super) enum Coded {
    /// The file as it is.
    Identity,
    /// A precompressed copy.
    Sidecar(Sidecar),
    /// The file, coded on the fly by the `Compress` layer.
    OnTheFly(Coding),
}

/// The outcome of step 6's first half.
#[derive(Debug)]
pub(super) struct Selection {
    pub(super) coded: Coded,
    /// `Vary: Accept-Encoding` is due.
    pub(super) vary: bool,
}

/// Where and how to look for sidecars.
pub(super) struct Lookup<'a> {
    pub(super) root: &'a Root,
    /// The file's path beneath the root (as given to `Root::open_file`).
    pub(super) rel: &'a str,
    pub(super) follow_symlinks: bool,
    /// Whether sidecars are looked for at all.
    pub(super) precompressed: bool,
}

/// Applies the [rules](self) for the file with metadata `meta`, whose
/// type is `compressible` or not, for a request whose fields are `asked`
/// and that a `Compress` layer negotiated (`negotiation`) or not.
pub(super) fn select(
    req: &Request,
    asked: Asked,
    negotiation: Option<&Negotiation>,
    lookup: &Lookup<'_>,
    meta: &Metadata,
    compressible: bool,
) -> Selection {
    let on_the_fly = negotiation
        .filter(|n| n.codes_file(compressible, meta.len()))
        .map(|n| n.coding);
    let mut selection = Selection {
        coded: Coded::Identity,
        vary: on_the_fly.is_some(),
    };
    // 1. Range.
    if asked.range && req.method() == Method::GET {
        return selection;
    }
    // 2. Sidecars.
    if lookup.precompressed && compressible {
        let parsed;
        let accept = match negotiation {
            Some(n) => &n.accept,
            None => {
                parsed = AcceptEncoding::from_headers(req.headers());
                &parsed
            }
        };
        if let Some(sidecar) = find_sidecar(lookup, meta, accept) {
            selection.coded = Coded::Sidecar(sidecar);
            selection.vary = true;
            return selection;
        }
    }
    // 3. On the fly; 4. identity.
    if let Some(coding) = on_the_fly.filter(|&c| c != Coding::Identity) {
        selection.coded = Coded::OnTheFly(coding);
    }
    selection
}

/// Rule 2: the best acceptable fresh sidecar of the file.
fn find_sidecar(
    lookup: &Lookup<'_>,
    original: &Metadata,
    accept: &AcceptEncoding,
) -> Option<Sidecar> {
    let original_mtime = original.modified().ok()?;
    for coding in accept.ranked(&Coding::ALL) {
        // Identity ranks above every sidecar left: serve the file itself.
        let extension = coding.extension()?;
        let rel = format!("{}.{extension}", lookup.rel);
        let Ok((file, meta)) = lookup.root.open_file(&rel, lookup.follow_symlinks) else {
            continue;
        };
        let fresh = meta.modified().is_ok_and(|t| t >= original_mtime);
        if meta.is_file() && fresh {
            return Some(Sidecar {
                coding,
                file: Arc::new(file),
                meta,
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;
    use std::time::{Duration, SystemTime};

    use http::{Method, StatusCode};

    use crate::Handler;
    use crate::compress::Coding;
    #[cfg(feature = "compress")]
    use crate::compress::Compress;
    use crate::serve_dir::tests::{Tree, fallback, header};
    use crate::{Body, Request, Response};

    fn request(method: Method, uri: &str, fields: &[(&str, &str)]) -> Request {
        let mut req = http::Request::builder().method(method).uri(uri);
        for (name, value) in fields {
            req = req.header(*name, *value);
        }
        req.body(Body::empty()).unwrap()
    }

    async fn call(h: &impl Handler, uri: &str, fields: &[(&str, &str)]) -> Response {
        h.call(request(Method::GET, uri, fields)).await
    }

    async fn bytes(res: Response) -> Vec<u8> {
        res.into_body().collect(1 << 24).await.unwrap().to_vec()
    }

    /// What a sidecar holds: `marker` coded for real when the encoders are
    /// built, else the marker as it is. `ServeDir` never looks inside a
    /// sidecar, so these tests run without the `compress` feature too.
    #[cfg(feature = "compress")]
    fn coded(marker: &[u8], coding: Coding, level: u32) -> Vec<u8> {
        let coded = crate::compress::compress_slice(marker, coding, level).unwrap();
        coded.to_vec()
    }

    #[cfg(not(feature = "compress"))]
    fn coded(marker: &[u8], _coding: Coding, _level: u32) -> Vec<u8> {
        marker.to_vec()
    }

    /// The marker back from a sidecar's bytes (see [`coded`]).
    #[cfg(feature = "compress")]
    fn decode(coding: Coding, data: &[u8]) -> Vec<u8> {
        crate::compress::encoder::tests::decode(coding, data)
    }

    #[cfg(not(feature = "compress"))]
    fn decode(_coding: Coding, data: &[u8]) -> Vec<u8> {
        data.to_vec()
    }

    /// `len` bytes of compressible text.
    fn page(len: usize) -> Vec<u8> {
        let mut text = b"<p>berth serves files over HTTP/1.1 with care</p>\n".repeat(len / 40 + 1);
        text.truncate(len);
        text
    }

    fn set_mtime(path: &std::path::Path, t: SystemTime) {
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(t)
            .unwrap();
    }

    /// `app.js` (8 KiB of text) with `.gz` and `.br` sidecars whose contents
    /// are recognizable ("from-gz", "from-br" inside the coding).
    fn with_sidecars(tree: &Tree) -> Vec<u8> {
        let root = tree.root();
        let text = page(8192);
        std::fs::write(root.join("app.js"), &text).unwrap();
        let gz = coded(b"from-gz", Coding::Gzip, 9);
        let br = coded(b"from-br", Coding::Br, 9);
        std::fs::write(root.join("app.js.gz"), &gz).unwrap();
        std::fs::write(root.join("app.js.br"), &br).unwrap();
        let old = SystemTime::now() - Duration::from_secs(100);
        set_mtime(&root.join("app.js"), old);
        text
    }

    #[tokio::test]
    async fn sidecars_are_chosen_by_the_client_preferences() {
        let tree = Tree::new();
        let text = with_sidecars(&tree);
        for sd in [
            tree.serve().precompressed(true),
            fallback(tree.serve().precompressed(true)),
        ] {
            let cases = [
                ("gzip, br", Some(Coding::Br)),
                ("gzip", Some(Coding::Gzip)),
                ("br;q=0.5, gzip", Some(Coding::Gzip)),
                ("zstd", None),
                ("zstd, gzip;q=0.1", Some(Coding::Gzip)),
                ("gzip;q=0.5, identity", None),
                ("", None),
            ];
            for (accept, want) in cases {
                let res = call(&sd, "/app.js", &[("accept-encoding", accept)]).await;
                assert_eq!(res.status(), StatusCode::OK, "{accept}");
                let ty = header(&res, http::header::CONTENT_TYPE).unwrap();
                assert!(ty.contains("javascript"), "{ty}");
                match want {
                    Some(coding) => {
                        assert_eq!(
                            header(&res, http::header::CONTENT_ENCODING),
                            Some(coding.token())
                        );
                        assert_eq!(header(&res, http::header::VARY), Some("Accept-Encoding"));
                        assert_eq!(header(&res, http::header::ACCEPT_RANGES), None);
                        let etag = header(&res, http::header::ETAG).unwrap().to_string();
                        assert!(etag.ends_with(&format!("-{}\"", coding.token())), "{etag}");
                        let body = bytes(res).await;
                        let want = format!("from-{}", coding.extension().unwrap());
                        assert_eq!(decode(coding, &body), want.as_bytes());
                    }
                    None => {
                        assert_eq!(
                            header(&res, http::header::CONTENT_ENCODING),
                            None,
                            "{accept}"
                        );
                        assert_eq!(bytes(res).await, text);
                    }
                }
            }
            // No Accept-Encoding: no lookups, identity, no Vary.
            let res = call(&sd, "/app.js", &[]).await;
            assert_eq!(header(&res, http::header::VARY), None);
            assert_eq!(bytes(res).await, text);
        }
        // Off by default in the library.
        let res = call(&tree.serve(), "/app.js", &[("accept-encoding", "gzip")]).await;
        assert_eq!(header(&res, http::header::CONTENT_ENCODING), None);
    }

    #[tokio::test]
    async fn stale_sidecars_are_ignored() {
        let tree = Tree::new();
        let text = with_sidecars(&tree);
        let root = tree.root();
        // The file changed after the gzip copy was made.
        set_mtime(
            &root.join("app.js.gz"),
            SystemTime::now() - Duration::from_secs(200),
        );
        let sd = tree.serve().precompressed(true);
        let res = call(&sd, "/app.js", &[("accept-encoding", "gzip")]).await;
        assert_eq!(header(&res, http::header::CONTENT_ENCODING), None);
        assert_eq!(bytes(res).await, text);
        // br is still fresh.
        let res = call(&sd, "/app.js", &[("accept-encoding", "gzip, br")]).await;
        assert_eq!(header(&res, http::header::CONTENT_ENCODING), Some("br"));
    }

    #[tokio::test]
    async fn sidecars_are_contained_like_the_file() {
        let tree = Tree::new();
        let root = tree.root();
        let text = page(4096);
        std::fs::write(root.join("app.js"), &text).unwrap();
        set_mtime(
            &root.join("app.js"),
            SystemTime::now() - Duration::from_secs(100),
        );
        // A sidecar symlink escaping the root, and one inside it.
        let outside = tree.root().parent().unwrap().join("outside/app.js.gz");
        std::fs::write(&outside, coded(b"SECRET", Coding::Gzip, 6)).unwrap();
        symlink(&outside, root.join("app.js.gz")).unwrap();
        std::fs::write(root.join("real.br"), coded(b"inside", Coding::Br, 6)).unwrap();
        symlink("real.br", root.join("app.js.br")).unwrap();
        // A directory where a sidecar would be.
        std::fs::create_dir(root.join("app.js.zst")).unwrap();
        for follow in [false, true] {
            for sd in [
                tree.serve().precompressed(true).follow_symlinks(follow),
                fallback(tree.serve().precompressed(true).follow_symlinks(follow)),
            ] {
                let res = call(&sd, "/app.js", &[("accept-encoding", "zstd, gzip")]).await;
                assert_eq!(
                    header(&res, http::header::CONTENT_ENCODING),
                    None,
                    "{follow}"
                );
                assert_eq!(bytes(res).await, text);
                let res = call(&sd, "/app.js", &[("accept-encoding", "br")]).await;
                if follow {
                    assert_eq!(header(&res, http::header::CONTENT_ENCODING), Some("br"));
                    assert_eq!(decode(Coding::Br, &bytes(res).await), b"inside");
                } else {
                    assert_eq!(header(&res, http::header::CONTENT_ENCODING), None);
                }
            }
        }
    }

    #[tokio::test]
    async fn sidecar_validators_and_ranges() {
        let tree = Tree::new();
        let text = with_sidecars(&tree);
        let sd = tree.serve().precompressed(true);
        let res = call(&sd, "/app.js", &[("accept-encoding", "gzip")]).await;
        let etag = header(&res, http::header::ETAG).unwrap().to_string();
        let gz_len = res.body().size_hint().unwrap();
        assert_eq!(
            gz_len,
            std::fs::metadata(tree.root().join("app.js.gz"))
                .unwrap()
                .len()
        );
        // 304 for the sidecar's own tag, with Vary.
        let res = call(
            &sd,
            "/app.js",
            &[("accept-encoding", "gzip"), ("if-none-match", &etag)],
        )
        .await;
        assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(header(&res, http::header::ETAG), Some(etag.as_str()));
        assert_eq!(header(&res, http::header::VARY), Some("Accept-Encoding"));
        // The identity tag does not match the gzip representation.
        let plain = call(&sd, "/app.js", &[]).await;
        let identity = header(&plain, http::header::ETAG).unwrap().to_string();
        assert_ne!(identity, etag);
        let res = call(
            &sd,
            "/app.js",
            &[("accept-encoding", "gzip"), ("if-none-match", &identity)],
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        // HEAD: the same head as GET.
        let head = sd
            .call(request(
                Method::HEAD,
                "/app.js",
                &[("accept-encoding", "gzip")],
            ))
            .await;
        assert_eq!(head.body().size_hint(), Some(gz_len));
        assert_eq!(header(&head, http::header::CONTENT_ENCODING), Some("gzip"));
        // A Range selects identity.
        let res = call(
            &sd,
            "/app.js",
            &[("accept-encoding", "gzip"), ("range", "bytes=0-9")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(header(&res, http::header::CONTENT_ENCODING), None);
        assert_eq!(bytes(res).await, &text[..10]);
    }

    #[cfg(feature = "compress")]
    #[tokio::test]
    async fn with_the_layer_sidecars_win_and_are_left_alone() {
        let tree = Tree::new();
        let text = with_sidecars(&tree);
        let app = Compress::new(tree.serve().precompressed(true));
        let res = call(&app, "/app.js", &[("accept-encoding", "gzip")]).await;
        assert_eq!(header(&res, http::header::CONTENT_ENCODING), Some("gzip"));
        assert_eq!(res.headers().get_all(http::header::VARY).iter().count(), 1);
        assert_eq!(decode(Coding::Gzip, &bytes(res).await), b"from-gz");
        // No zstd sidecar: coded on the fly.
        let res = call(&app, "/app.js", &[("accept-encoding", "zstd")]).await;
        assert_eq!(header(&res, http::header::CONTENT_ENCODING), Some("zstd"));
        assert_eq!(decode(Coding::Zstd, &bytes(res).await), text);
    }
}
