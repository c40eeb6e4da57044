//! What a rule matches ([`Pattern`]: a path glob or a regex, with its
//! captures) and what a redirect or rewrite target becomes once the
//! captures are put in ([`Template`], percent-encoded).
//!
//! A glob is compiled by globset (`*` and `?` never cross a `/`, `**`
//! spans segments, classes, `{a,b}`, `\` escapes) into the regex globset
//! itself would match with; [`with_captures`] then turns each `*` and `**`
//! of that regex into a capture group, so `$1`, `$2`... are what they
//! matched, left to right. Adding groups does not change what the regex
//! matches, so a rule matches exactly the paths globset says the glob
//! matches.

use globset::GlobBuilder;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_encode};
use regex::bytes::Regex;

/// A compiled rule pattern, matched against the request's path (decoded,
/// dot segments removed, starting with `/`).
#[derive(Debug, Clone)]
pub struct Pattern {
    regex: Regex,
}

impl Pattern {
    /// A path glob; `Err` says why it is not one.
    pub fn glob(glob: &str) -> Result<Pattern, String> {
        if !glob.starts_with('/') && !glob.starts_with("**") {
            return Err("a path glob starts with / (or **)".into());
        }
        let compiled = GlobBuilder::new(glob)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .map_err(|e| e.kind().to_string())?;
        let regex = Regex::new(&with_captures(compiled.regex()))
            .map_err(|_| "the glob cannot be compiled".to_string())?;
        Ok(Pattern { regex })
    }

    /// A regular expression (the `regex` crate's syntax), unanchored unless
    /// it says `^`/`$`.
    pub fn regex(pattern: &str) -> Result<Pattern, String> {
        let regex = regex::bytes::RegexBuilder::new(pattern)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| match e {
                regex::Error::Syntax(text) => {
                    // The regex crate's message spans lines; keep the last.
                    let last = text.lines().rev().find(|l| !l.trim().is_empty());
                    format!("invalid regex: {}", last.unwrap_or("syntax error").trim())
                }
                _ => "the regex is too large".to_string(),
            })?;
        Ok(Pattern { regex })
    }

    /// Whether `path` matches.
    pub fn is_match(&self, path: &str) -> bool {
        self.regex.is_match(path.as_bytes())
    }

    /// The captures when `path` matches (index 0 is the whole match; a
    /// group that took no part is empty).
    pub fn captures<'p>(&self, path: &'p str) -> Option<Captures<'p>> {
        let caps = self.regex.captures(path.as_bytes())?;
        let numbered = (0..caps.len())
            .map(|i| caps.get(i).map_or(&b""[..], |m| m.as_bytes()))
            .collect();
        let named = self
            .regex
            .capture_names()
            .enumerate()
            .filter_map(|(i, name)| Some((name?.to_string(), i)))
            .collect();
        Some(Captures { numbered, named })
    }

    /// How many groups the pattern has, the whole match included.
    #[cfg(test)]
    pub fn regex_captures_len(&self) -> usize {
        self.regex.captures_len()
    }

    /// Whether group `reference` exists.
    fn has_group(&self, reference: &Group) -> bool {
        match reference {
            Group::Index(i) => *i < self.regex.captures_len(),
            Group::Name(name) => self.regex.capture_names().any(|n| n == Some(name)),
        }
    }
}

/// What a match captured.
#[derive(Debug)]
pub struct Captures<'p> {
    numbered: Vec<&'p [u8]>,
    /// Group names and their indices.
    named: Vec<(String, usize)>,
}

impl<'p> Captures<'p> {
    fn get(&self, group: &Group) -> &'p [u8] {
        let index = match group {
            Group::Index(i) => Some(*i),
            Group::Name(name) => self.named.iter().find(|(n, _)| n == name).map(|(_, i)| *i),
        };
        index
            .and_then(|i| self.numbered.get(i).copied())
            .unwrap_or_default()
    }
}

/// Turns globset's regex for a glob into the same regex with a capture
/// group around each wildcard that can match more than one character:
/// `*` (`[^/]*`) and the `.*` of every `**` form (`(?:/?|.*/)`, `/.*`,
/// `(?:/|/.*/)`, or `.*` for a glob that is only `**`).
///
/// In globset's output every literal is escaped (`\.`, `\*`, `\[`, `\xNN`
/// for non-ASCII bytes) and a class is `[`...`]` with its members escaped,
/// so an unescaped `.` followed by `*`, or a class followed by `*`, is one
/// of those wildcards and nothing else (a test pins this down against the
/// globset in use).
pub(super) fn with_captures(globset_regex: &str) -> String {
    let mut out = String::with_capacity(globset_regex.len() + 8);
    let mut chars = globset_regex.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                out.push(c);
                out.extend(chars.next());
            }
            '[' => {
                let mut class = String::from('[');
                while let Some(c) = chars.next() {
                    class.push(c);
                    match c {
                        '\\' => class.extend(chars.next()),
                        ']' => break,
                        _ => {}
                    }
                }
                if chars.peek() == Some(&'*') {
                    chars.next();
                    out.push('(');
                    out.push_str(&class);
                    out.push_str("*)");
                } else {
                    out.push_str(&class);
                }
            }
            '.' if chars.peek() == Some(&'*') => {
                chars.next();
                out.push_str("(.*)");
            }
            _ => out.push(c),
        }
    }
    out
}

/// A capture group named in a target.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Group {
    Index(usize),
    Name(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Capture(Group),
}

/// A redirect or rewrite target: literal text with `$1`, `${1}`, `$name`,
/// `${name}` in it (`$$` is a `$`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

/// What a capture is percent-encoded against: everything but RFC 3986
/// `unreserved` and `/`, so it is safe in a path and in a query, and a
/// `?`, `#`, `%` or `\` it holds (decoded from the request) stays data.
const CAPTURE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

impl Template {
    /// Parses `text` and checks every group it names exists in `pattern`.
    pub fn parse(text: &str, pattern: &Pattern) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(at) = rest.find('$') {
            literal.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            let (group, used) = if let Some(inner) = after.strip_prefix('{') {
                let end = inner
                    .find('}')
                    .ok_or_else(|| format!("unclosed ${{ in {text:?}"))?;
                (group(&inner[..end]), end + 2)
            } else if let Some(after_dollar) = after.strip_prefix('$') {
                literal.push('$');
                rest = after_dollar;
                continue;
            } else if after.starts_with(|c: char| c.is_ascii_digit()) {
                let end = after
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(after.len());
                (group(&after[..end]), end)
            } else {
                let end = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                (group(&after[..end]), end)
            };
            let group = group.ok_or_else(|| {
                format!("a $ in {text:?} names no capture (write $1, ${{1}}, $name or $$)")
            })?;
            if !pattern.has_group(&group) {
                let shown = match &group {
                    Group::Index(i) => format!("${i}"),
                    Group::Name(n) => format!("${{{n}}}"),
                };
                return Err(format!(
                    "{text:?} uses {shown}, which the pattern does not capture"
                ));
            }
            if !literal.is_empty() {
                parts.push(Part::Literal(std::mem::take(&mut literal)));
            }
            parts.push(Part::Capture(group));
            rest = &after[used..];
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        Ok(Template { parts })
    }

    /// Whether the target uses any capture (else [`Pattern::is_match`] is
    /// enough to decide the rule).
    pub fn uses_captures(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Capture(_)))
    }

    /// The literal text, with each capture shown as `x` (for checks made
    /// at start-up on what any expansion looks like).
    pub fn sample(&self) -> String {
        self.parts
            .iter()
            .map(|p| match p {
                Part::Literal(text) => text.as_str(),
                Part::Capture(_) => "x",
            })
            .collect()
    }

    /// The literal text before the first capture.
    pub fn literal_prefix(&self) -> &str {
        match self.parts.first() {
            Some(Part::Literal(text)) => text,
            _ => "",
        }
    }

    /// The target with the captures put in, percent-encoded.
    pub fn expand(&self, captures: Option<&Captures<'_>>) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match (part, captures) {
                (Part::Literal(text), _) => out.push_str(text),
                (Part::Capture(group), Some(caps)) => {
                    out.extend(percent_encode(caps.get(group), CAPTURE));
                }
                (Part::Capture(_), None) => {}
            }
        }
        out
    }
}

/// `1`, `12` or a name (`[A-Za-z_][A-Za-z0-9_]*`) as a group.
fn group(text: &str) -> Option<Group> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().ok().map(Group::Index);
    }
    let mut bytes = text.bytes();
    let first = bytes.next()?;
    ((first.is_ascii_alphabetic() || first == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_'))
    .then(|| Group::Name(text.to_string()))
}
