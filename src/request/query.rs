//! `QueryMap`: query strings and urlencoded forms as an ordered multi-map
//! (decoded by [`percent_decode`], the one strict decoder).

use std::collections::HashSet;

use super::rejection::{Rejection, RejectionKind};
use crate::syntax::percent_decode;

/// Name/value pairs from a query string or an urlencoded form: a multi-map
/// that keeps every value of a repeated name, in the order they came.
///
/// ```
/// use berth::QueryMap;
///
/// let q = QueryMap::parse("filter=red&filter=blue&q=big+box");
/// assert_eq!(q.get("filter"), Some("red"));
/// assert_eq!(q.get_all("filter").collect::<Vec<_>>(), ["red", "blue"]);
/// assert_eq!(q.get("q"), Some("big box"));
/// assert_eq!(q.get("missing"), None);
/// ```
///
/// With the `json` feature it serializes as an object of arrays,
/// `{"filter":["red","blue"],"q":["big box"]}`, names in order of first
/// appearance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryMap {
    pairs: Vec<(String, String)>,
}

impl QueryMap {
    /// Parses `application/x-www-form-urlencoded` text leniently, as
    /// browsers do (WHATWG URL §5.1, via `form_urlencoded`): `+` is a space,
    /// a `%` not followed by two hex digits is kept as it is, and bytes that
    /// decode to invalid UTF-8 become U+FFFD. Never fails.
    pub fn parse(input: &str) -> QueryMap {
        QueryMap {
            pairs: form_urlencoded::parse(input.as_bytes())
                .map(|(n, v)| (n.into_owned(), v.into_owned()))
                .collect(),
        }
    }

    /// Parses `application/x-www-form-urlencoded` bytes strictly: the same
    /// splitting as [`parse`](Self::parse), but a `%` must start a valid
    /// escape and every name and value must decode to UTF-8, or the result
    /// is a 400 [`Rejection`].
    pub fn try_parse(input: &[u8]) -> Result<QueryMap, Rejection> {
        parse_strict(input).ok_or(Rejection::new(RejectionKind::MalformedQuery))
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in order.
    pub fn get_all<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> {
        self.pairs
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// True when `name` appears at least once.
    pub fn contains(&self, name: &str) -> bool {
        self.pairs.iter().any(|(n, _)| n == name)
    }

    /// Every `(name, value)` pair, in order, repeated names included.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The distinct names, in order of first appearance.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        let mut seen = HashSet::new();
        self.pairs
            .iter()
            .map(|(n, _)| n.as_str())
            .filter(move |n| seen.insert(*n))
    }

    /// How many pairs there are (a repeated name counts each time).
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// True when there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Names with all their values, in order of first appearance.
    #[cfg(feature = "json")]
    fn grouped(&self) -> Vec<(&str, Vec<&str>)> {
        let mut index: std::collections::HashMap<&str, usize> = Default::default();
        let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
        for (n, v) in &self.pairs {
            let i = *index.entry(n.as_str()).or_insert_with(|| {
                groups.push((n.as_str(), Vec::new()));
                groups.len() - 1
            });
            groups[i].1.push(v.as_str());
        }
        groups
    }
}

impl<N: Into<String>, V: Into<String>> FromIterator<(N, V)> for QueryMap {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Self {
        QueryMap {
            pairs: iter
                .into_iter()
                .map(|(n, v)| (n.into(), v.into()))
                .collect(),
        }
    }
}

impl IntoIterator for QueryMap {
    type Item = (String, String);
    type IntoIter = std::vec::IntoIter<(String, String)>;
    fn into_iter(self) -> Self::IntoIter {
        self.pairs.into_iter()
    }
}

#[cfg(feature = "json")]
impl serde::Serialize for QueryMap {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let groups = self.grouped();
        let mut map = serializer.serialize_map(Some(groups.len()))?;
        for (name, values) in &groups {
            map.serialize_entry(name, values)?;
        }
        map.end()
    }
}

/// Strict `application/x-www-form-urlencoded` parsing; `None` on a bad
/// escape or invalid UTF-8. Splits exactly as `form_urlencoded::parse`
/// does: on `&`, skipping empty pieces, then on the first `=`.
pub(super) fn parse_strict(input: &[u8]) -> Option<QueryMap> {
    let mut pairs = Vec::new();
    for piece in input.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
        let (name, value) = match piece.iter().position(|&b| b == b'=') {
            Some(i) => (&piece[..i], &piece[i + 1..]),
            None => (piece, &[][..]),
        };
        let name = percent_decode(name, true)?.into_owned();
        let value = percent_decode(value, true)?.into_owned();
        pairs.push((name, value));
    }
    Some(QueryMap { pairs })
}
