use super::*;

#[tokio::test]
async fn collect_respects_the_limit() {
    assert_eq!(Body::from("hello").collect(5).await.unwrap(), "hello");
    assert!(
        Body::from("hello")
            .collect(4)
            .await
            .unwrap_err()
            .is_too_large()
    );
}

#[tokio::test]
async fn is_an_http_body_with_exact_size_hints() {
    use http_body::Body as _;
    let body = Body::from("hello");
    assert_eq!(http_body::Body::size_hint(&body).exact(), Some(5));
    assert!(!body.is_end_stream());
    assert!(Body::empty().is_end_stream());
    assert_eq!(http_body::Body::size_hint(&Body::empty()).exact(), Some(0));
    let streamed = Body::stream(futures_stream(vec!["a", "b"]));
    assert_eq!(http_body::Body::size_hint(&streamed).exact(), None);
    let sized = Body::sized_stream(2, futures_stream(vec!["a", "b"]));
    assert_eq!(http_body::Body::size_hint(&sized).exact(), Some(2));
}

#[tokio::test]
async fn new_keeps_a_berth_body_as_it_is() {
    let file = tempfile::tempfile().unwrap();
    let body = Body::new(Body::file(file, 0, 10));
    assert!(matches!(body.kind, Kind::File(_)));
    assert_eq!(body.size_hint(), Some(10));
}

/// A foreign body: its size hint becomes the length, its data frames
/// the chunks, its trailers and empty frames are skipped.
struct Foreign(Vec<http_body::Frame<Bytes>>, Option<u64>);
impl http_body::Body for Foreign {
    type Data = Bytes;
    type Error = std::io::Error;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        Poll::Ready((!self.0.is_empty()).then(|| Ok(self.0.remove(0))))
    }
    fn size_hint(&self) -> http_body::SizeHint {
        self.1
            .map(http_body::SizeHint::with_exact)
            .unwrap_or_default()
    }
}

#[tokio::test]
async fn new_streams_a_foreign_body_by_its_data_frames() {
    let frames = || {
        vec![
            http_body::Frame::data(Bytes::from_static(b"ab")),
            http_body::Frame::data(Bytes::new()),
            http_body::Frame::data(Bytes::from_static(b"c")),
            http_body::Frame::trailers(http::HeaderMap::new()),
        ]
    };
    let body = Body::new(Foreign(frames(), Some(3)));
    assert_eq!(body.size_hint(), Some(3));
    assert_eq!(body.collect(10).await.unwrap(), "abc");
    let body = Body::new(Foreign(frames(), None));
    assert_eq!(body.size_hint(), None);
    assert_eq!(body.collect(10).await.unwrap(), "abc");
    assert!(Body::new(Foreign(vec![], Some(0))).is_empty());
}

fn futures_stream(items: Vec<&'static str>) -> impl Stream<Item = Result<Bytes, BoxError>> {
    struct Iter(std::vec::IntoIter<&'static str>);
    impl Stream for Iter {
        type Item = Result<Bytes, BoxError>;
        fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            Poll::Ready(self.0.next().map(|s| Ok(Bytes::from_static(s.as_bytes()))))
        }
    }
    Iter(items.into_iter())
}

#[tokio::test]
async fn incoming_signals_want_on_first_read() {
    let (tx, mut body) = Incoming::channel(Some(3), u64::MAX);
    assert!(!tx.is_wanted());
    let reader = tokio::spawn(async move { body.next_chunk().await.unwrap().unwrap() });
    tx.wanted().await;
    assert!(tx.send(Ok(Bytes::from_static(b"abc"))).await);
    assert_eq!(reader.await.unwrap(), "abc");
}

#[tokio::test]
async fn a_declared_length_over_the_limit_fails_without_asking_for_data() {
    let (tx, mut body) = Incoming::channel(Some(11), 10);
    let err = body.next_chunk().await.unwrap().unwrap_err();
    assert!(err.is_too_large());
    assert!(!tx.is_wanted(), "asked the connection for data");
    assert!(tx.is_refused());
    assert!(body.next_chunk().await.is_none());
}

#[tokio::test]
async fn bytes_past_the_limit_fail_the_read_that_brought_them() {
    let (tx, mut body) = Incoming::channel(None, 4);
    body.set_limit(5);
    let reader = tokio::spawn(async move {
        let first = body.next_chunk().await.unwrap().unwrap();
        let second = body.next_chunk().await.unwrap();
        (first, second.unwrap_err().is_too_large())
    });
    assert!(tx.send(Ok(Bytes::from_static(b"abc"))).await);
    assert!(tx.send(Ok(Bytes::from_static(b"def"))).await);
    assert_eq!(reader.await.unwrap(), (Bytes::from_static(b"abc"), true));
    assert!(tx.is_refused());
}

#[test]
fn refuse_over_judges_any_body_by_its_length() {
    assert!(Body::from("hello").refuse_over(4));
    assert!(!Body::from("hello").refuse_over(5));
    let (tx, mut body) = Incoming::channel(Some(6), u64::MAX);
    assert!(body.refuse_over(5));
    assert!(tx.is_refused());
}
