//! Typed readers for the request line: a path parameter through
//! `FromStr`, the query string and the path parameters through serde
//! (`json` feature). Each failure is a 400 [`Rejection`] that names the
//! parameter and says why.

use std::fmt::Display;
use std::str::FromStr;

use super::PathParams;
#[cfg(feature = "json")]
use super::QueryMap;
use super::rejection::{Rejection, RejectionKind};

fn bad(place: &'static str, reason: String) -> Rejection {
    Rejection::new(RejectionKind::BadValue { place, reason })
}

/// Path parameter `name` parsed as `T`.
pub(super) fn param_as<T>(params: &PathParams, name: &str) -> Result<T, Rejection>
where
    T: FromStr,
    T::Err: Display,
{
    let Some(value) = params.get(name) else {
        return Err(bad("path", format!("no parameter `{name}`")));
    };
    value
        .parse()
        .map_err(|e| bad("path", format!("parameter `{name}`: {e}")))
}

/// The query string (checked strictly first: a bad `%` escape or invalid
/// UTF-8 is the usual malformed-query rejection) as `T`.
#[cfg(feature = "json")]
pub(super) fn query_as<T: serde::de::DeserializeOwned>(query: &str) -> Result<T, Rejection> {
    QueryMap::try_parse(query.as_bytes())?;
    let pairs = form_urlencoded::parse(query.as_bytes());
    deserialize("query", serde_urlencoded::Deserializer::new(pairs))
}

/// The path parameters, by name, as `T` (a struct whose fields are the
/// route's `{name}`s).
#[cfg(feature = "json")]
pub(super) fn params_as<T: serde::de::DeserializeOwned>(
    params: &PathParams,
) -> Result<T, Rejection> {
    // The values are decoded already; serde_urlencoded's deserializer
    // parses numbers and booleans from text, so they go through it encoded
    // again rather than through a second deserializer of our own.
    let encoded = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter())
        .finish();
    let pairs = form_urlencoded::parse(encoded.as_bytes());
    deserialize("path", serde_urlencoded::Deserializer::new(pairs))
}

/// A JSON body deserialized into `T`: malformed JSON and JSON that does
/// not fit `T` are both 400, the latter naming the field.
#[cfg(feature = "json")]
pub(super) fn json_body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, Rejection> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if !inner.is_data() {
            Rejection::new(RejectionKind::MalformedJson(inner.to_string()))
        } else if path == "." {
            Rejection::new(RejectionKind::UnexpectedJson(inner.to_string()))
        } else {
            Rejection::new(RejectionKind::UnexpectedJson(format!(
                "field `{path}`: {inner}"
            )))
        }
    })?;
    // Trailing characters after the value are malformed JSON too.
    de.end()
        .map_err(|e| Rejection::new(RejectionKind::MalformedJson(e.to_string())))?;
    Ok(value)
}

#[cfg(feature = "json")]
fn deserialize<'de, T, D>(place: &'static str, de: D) -> Result<T, Rejection>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
    D::Error: Display,
{
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let reason = e.into_inner().to_string();
        if path == "." {
            bad(place, reason)
        } else {
            bad(place, format!("parameter `{path}`: {reason}"))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;
    use std::sync::Arc;

    fn params(pairs: &[(&str, &str)]) -> PathParams {
        let mut p = PathParams::with_capacity(pairs.len());
        for (n, v) in pairs {
            p.push(Arc::from(*n), v.to_string());
        }
        p
    }

    #[test]
    fn a_path_parameter_parses_or_says_which_and_why() {
        let p = params(&[("id", "42"), ("name", "x y")]);
        assert_eq!(param_as::<u64>(&p, "id").unwrap(), 42);
        let e = param_as::<u64>(&p, "name").unwrap_err();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            e.to_string(),
            "path: parameter `name`: invalid digit found in string"
        );
        assert_eq!(
            param_as::<u64>(&p, "nope").unwrap_err().to_string(),
            "path: no parameter `nope`"
        );
    }

    #[cfg(feature = "json")]
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct List {
        limit: Option<u32>,
        #[serde(default)]
        done: bool,
        tag: Option<String>,
    }

    #[cfg(feature = "json")]
    #[test]
    fn the_query_deserializes_into_a_struct() {
        let q: List = query_as("limit=10&done=true&tag=a%20b").unwrap();
        assert_eq!(
            q,
            List {
                limit: Some(10),
                done: true,
                tag: Some("a b".into())
            }
        );
        let q: List = query_as("").unwrap();
        assert_eq!(q.limit, None);
        let e = query_as::<List>("limit=ten").unwrap_err();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            e.to_string(),
            "query: parameter `limit`: invalid digit found in string"
        );
        // Bad escapes are refused before any field is looked at.
        assert_eq!(
            query_as::<List>("tag=%zz").unwrap_err().to_string(),
            "query string is not valid percent-encoded UTF-8"
        );
    }

    #[cfg(feature = "json")]
    #[test]
    fn path_parameters_deserialize_by_name() {
        #[derive(serde::Deserialize, Debug)]
        struct Item {
            user: String,
            id: u64,
        }
        let p = params(&[("user", "ada & co"), ("id", "7")]);
        let item: Item = params_as(&p).unwrap();
        assert_eq!((item.user.as_str(), item.id), ("ada & co", 7));
        let p = params(&[("user", "ada"), ("id", "x")]);
        let e = params_as::<Item>(&p).unwrap_err();
        assert_eq!(
            e.to_string(),
            "path: parameter `id`: invalid digit found in string"
        );
    }

    #[cfg(feature = "json")]
    #[test]
    fn through_the_request() {
        use crate::{Body, Request, RequestExt};
        let mut req = Request::new(Body::empty());
        *req.uri_mut() = "/items?limit=3".parse().unwrap();
        let q: List = req.query_as().unwrap();
        assert_eq!(q.limit, Some(3));
        req.extensions_mut().insert(params(&[("id", "9")]));
        assert_eq!(req.param_as::<u8>("id").unwrap(), 9);
    }

    #[cfg(feature = "json")]
    #[test]
    fn json_bodies_name_the_field_that_does_not_fit_and_answer_400() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Item {
            name: String,
            tags: Vec<String>,
        }
        let e = json_body::<Item>(br#"{"name": 5, "tags": []}"#).unwrap_err();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert!(
            e.to_string()
                .starts_with("JSON body: field `name`: invalid type"),
            "{e}"
        );
        let e = json_body::<Item>(br#"{"name": "a", "tags": [1]}"#).unwrap_err();
        assert!(e.to_string().contains("field `tags[0]`"), "{e}");
        let e = json_body::<Item>(br#"{"tags": []}"#).unwrap_err();
        assert!(e.to_string().contains("missing field `name`"), "{e}");
        let e = json_body::<Item>(br#"{"name": "a", "tags": []} x"#).unwrap_err();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert!(e.to_string().starts_with("invalid JSON body"), "{e}");
        assert!(json_body::<Item>(br#"{"name": "a", "tags": ["b"]}"#).is_ok());
    }
}
