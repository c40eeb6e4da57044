//! The config file's `rules` array → [`Rules`], checked whole at start-up:
//! any mistake is one line naming the rule (its number and pattern), and
//! berth exits 2 as for any other config error.

use berth::http::{HeaderName, HeaderValue, StatusCode};
use toml::{Table, Value};

use super::pattern::{Pattern, Template};
use super::{Action, Rule, Rules};
use crate::cli::header_field;

/// The keys a rule may have.
const KEYS: [&str; 6] = ["path", "regex", "headers", "redirect", "rewrite", "status"];

/// Redirect statuses a rule may give (`status`, default 301).
const REDIRECTS: [u16; 4] = [301, 302, 307, 308];

/// Parses the value of the `rules` key; `Err` is the message without the
/// file's name.
pub fn parse(value: &Value) -> Result<Rules, String> {
    let Value::Array(items) = value else {
        return Err(format!(
            "`rules` must be an array of tables ([[rules]]), not {}",
            value.type_str()
        ));
    };
    let mut rules = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let number = i + 1;
        let Value::Table(table) = item else {
            return Err(format!(
                "rule {number} must be a table, not {}",
                item.type_str()
            ));
        };
        let rule = rule(table).map_err(|why| format!("rule {number}{}: {why}", label(table)))?;
        rules.push(rule);
    }
    Ok(Rules { rules })
}

/// ` (path "/old/*")`, to name a rule in errors.
fn label(table: &Table) -> String {
    ["path", "regex"]
        .iter()
        .find_map(|key| match table.get(*key) {
            Some(Value::String(s)) => Some(format!(" ({key} {s:?})")),
            _ => None,
        })
        .unwrap_or_default()
}

fn string<'t>(table: &'t Table, key: &str) -> Result<Option<&'t str>, String> {
    match table.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(format!(
            "`{key}` must be a string, not {}",
            other.type_str()
        )),
    }
}

fn rule(table: &Table) -> Result<Rule, String> {
    if let Some(key) = table.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(format!(
            "unknown key `{key}` (a rule has path or regex, and headers, redirect or rewrite)"
        ));
    }
    let pattern = match (string(table, "path")?, string(table, "regex")?) {
        (Some(glob), None) => Pattern::glob(glob)?,
        (None, Some(regex)) => Pattern::regex(regex)?,
        _ => return Err("give exactly one of `path` (a glob) and `regex`".into()),
    };
    let headers = table.get("headers");
    let redirect = string(table, "redirect")?;
    let rewrite = string(table, "rewrite")?;
    let status = table.get("status");
    let action = match (headers, redirect, rewrite) {
        (Some(headers), None, None) => Action::Headers(header_fields(headers)?),
        (None, Some(target), None) => Action::Redirect {
            status: redirect_status(status)?,
            to: redirect_target(target, &pattern)?,
        },
        (None, None, Some(target)) => Action::Rewrite(rewrite_target(target, &pattern)?),
        _ => return Err("give exactly one of `headers`, `redirect` and `rewrite`".into()),
    };
    if status.is_some() && !matches!(action, Action::Redirect { .. }) {
        return Err("`status` goes with `redirect` only".into());
    }
    Ok(Rule { pattern, action })
}

/// `headers = { "Name" = "value", "Link" = ["<a>", "<b>"] }`, with the
/// checks `--header` makes.
fn header_fields(value: &Value) -> Result<Vec<(HeaderName, Vec<HeaderValue>)>, String> {
    let Value::Table(table) = value else {
        return Err(format!(
            "`headers` must be a table such as {{ \"Cache-Control\" = \"no-cache\" }}, not {}",
            value.type_str()
        ));
    };
    if table.is_empty() {
        return Err("`headers` is empty".into());
    }
    let mut out: Vec<(HeaderName, Vec<HeaderValue>)> = Vec::with_capacity(table.len());
    for (name, value) in table {
        let texts: Vec<&str> = match value {
            Value::String(s) => vec![s],
            Value::Array(items) if !items.is_empty() => items
                .iter()
                .map(|v| v.as_str())
                .collect::<Option<_>>()
                .ok_or_else(|| format!("header `{name}` must be a string or strings"))?,
            _ => return Err(format!("header `{name}` must be a string or strings")),
        };
        let mut values = Vec::with_capacity(texts.len());
        let mut field_name = None;
        for text in texts {
            let (n, v) =
                header_field(name, text).map_err(|why| format!("header `{name}`: {why}"))?;
            field_name = Some(n);
            values.push(v);
        }
        if let Some(n) = field_name {
            if out.iter().any(|(seen, _)| *seen == n) {
                return Err(format!("header `{name}` is given twice"));
            }
            out.push((n, values));
        }
    }
    Ok(out)
}

fn redirect_status(value: Option<&Value>) -> Result<StatusCode, String> {
    let code = match value {
        None => 301,
        Some(Value::Integer(n)) if REDIRECTS.iter().any(|&r| i64::from(r) == *n) => *n as u16,
        Some(Value::Integer(n)) => {
            return Err(format!("`status` must be 301, 302, 307 or 308, not {n}"));
        }
        Some(other) => {
            return Err(format!(
                "`status` must be 301, 302, 307 or 308, not a {}",
                other.type_str()
            ));
        }
    };
    StatusCode::from_u16(code).map_err(|e| e.to_string())
}

/// A redirect target: a path (`/new/$1`, kept on this host) or an
/// absolute `http(s)://` URL, whose host is written out (no capture
/// before its path), so a request can never pick the host it is sent to.
fn redirect_target(text: &str, pattern: &Pattern) -> Result<Template, String> {
    let template = Template::parse(text, pattern)?;
    uri_characters(&template.sample())?;
    let prefix = template.literal_prefix();
    let lower = prefix.to_ascii_lowercase();
    if let Some(rest) = ["http://", "https://"]
        .iter()
        .find_map(|scheme| lower.strip_prefix(scheme))
    {
        let authority = match rest.find(['/', '?', '#']) {
            Some(end) => &rest[..end],
            None if !template.uses_captures() => rest,
            None => {
                return Err(format!(
                    "redirect {text:?}: captures may not pick the host (only the path and query)"
                ));
            }
        };
        if authority.is_empty() || authority.contains('@') {
            return Err(format!(
                "redirect {text:?}: give a host such as https://example.com/"
            ));
        }
    } else if !prefix.starts_with('/') || prefix.starts_with("//") || prefix.starts_with("/\\") {
        return Err(format!(
            "redirect {text:?}: give a path starting with one / (same host), \
             or an absolute http:// or https:// URL"
        ));
    }
    Ok(template)
}

/// A rewrite target: a path on this site, without query, fragment or dot
/// segments (it is resolved beneath ROOT like any request path anyway).
fn rewrite_target(text: &str, pattern: &Pattern) -> Result<Template, String> {
    let template = Template::parse(text, pattern)?;
    uri_characters(&template.sample())?;
    if !template.literal_prefix().starts_with('/') {
        return Err(format!("rewrite {text:?}: give a path starting with /"));
    }
    if text.contains(['?', '#']) {
        return Err(format!(
            "rewrite {text:?}: a rewrite target is a path only (no ? or #)"
        ));
    }
    let sample = template.sample();
    if sample.split('/').any(|s| s == "." || s == "..") {
        return Err(format!("rewrite {text:?}: no . or .. segments"));
    }
    Ok(template)
}

/// The target's literal text is URI characters (RFC 3986 §2), `%` always
/// followed by two hex digits, so that `Location` is a valid URI.
fn uri_characters(text: &str) -> Result<(), String> {
    let bytes = text.as_bytes();
    for (i, c) in text.char_indices() {
        let hex = |at: usize| bytes.get(at).is_some_and(u8::is_ascii_hexdigit);
        let ok = c.is_ascii_alphanumeric()
            || "-._~:/?#[]@!$&'()*+,;=".contains(c)
            || (c == '%' && hex(i + 1) && hex(i + 2));
        if !ok {
            return Err(format!(
                "{text:?}: {c:?} is not allowed in a URI (percent-encode it)"
            ));
        }
    }
    Ok(())
}
