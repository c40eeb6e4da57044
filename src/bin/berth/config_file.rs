//! `--config FILE`: a TOML table whose keys are the long flag names
//! (`head-timeout` or `head_timeout`; `root` for ROOT), merged beneath the
//! command line and the environment.
//!
//! The file is not given a schema of its own: each key is looked up among
//! clap's arguments and its value turned into the tokens the flag would
//! take (`port = 8080` → `--port=8080`, `cors = true` → `--cors`,
//! `header = ["A: b", "C: d"]` → `--header=A: b --header=C: d`), which clap
//! then parses like any other. A key that names no flag, a value of the
//! wrong TOML type, or a value clap rejects is an error that names the key
//! and the file.
//!
//! One key is not a flag: `rules`, the array of per-path rules, which
//! [`crate::rules::parse`] reads and checks (they exist only in the file).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Command};
use toml::{Table, Value};

use crate::cli::ConfigError;
use crate::rules::{self, Rules};

/// What the file adds beneath the command line and the environment.
#[derive(Debug, Default)]
pub struct FromFile {
    /// `--name=value` tokens to parse before the real arguments.
    pub tokens: Vec<OsString>,
    /// ROOT (positional, so not a token), when neither flag nor env gave it.
    pub root: Option<PathBuf>,
    /// The `[[rules]]`.
    pub rules: Rules,
}

/// Reads and parses the file; any failure is one line naming it.
pub fn load(path: &Path) -> Result<Table, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError(format!(
            "cannot read config file {}: {}",
            path.display(),
            io_reason(&e)
        ))
    })?;
    parse(&text, path)
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// Parses TOML text; errors point at the line.
pub fn parse(text: &str, path: &Path) -> Result<Table, ConfigError> {
    text.parse::<Table>().map_err(|e| {
        let line = e
            .span()
            .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
        let at = line.map(|l| format!(":{l}")).unwrap_or_default();
        let message = e
            .message()
            .lines()
            .next()
            .unwrap_or("")
            .trim_end_matches('.');
        ConfigError(format!(
            "config file {}{at}: invalid TOML: {message}",
            path.display()
        ))
    })
}

/// Turns the file's keys into tokens for the arguments that neither the
/// command line nor the environment set (`matches` is the parse without
/// the file).
pub fn merge(
    cmd: &Command,
    matches: &ArgMatches,
    table: &Table,
    path: &Path,
) -> Result<FromFile, ConfigError> {
    let file = path.display();
    let mut unknown = Vec::new();
    let mut known: Vec<(&str, &Arg, &Value)> = Vec::new();
    let mut out = FromFile::default();
    for (key, value) in table {
        let name = key.replace('_', "-");
        if name == "rules" {
            out.rules = rules::parse(value)
                .map_err(|why| ConfigError(format!("config file {file}: {why}")))?;
            continue;
        }
        if name == "config" {
            return Err(ConfigError(format!(
                "config file {file}: `{key}` cannot be set in a config file"
            )));
        }
        match find_arg(cmd, &name) {
            Some(arg) if known.iter().any(|(_, a, _)| a.get_id() == arg.get_id()) => {
                return Err(ConfigError(format!(
                    "config file {file}: `{key}` is set twice (as `{name}` and with `_`)"
                )));
            }
            Some(arg) => known.push((key, arg, value)),
            None => unknown.push(format!("`{key}`")),
        }
    }
    if !unknown.is_empty() {
        let s = if unknown.len() == 1 { "" } else { "s" };
        return Err(ConfigError(format!(
            "config file {file}: unknown key{s} {} (keys are the long flag names; see --help)",
            unknown.join(", ")
        )));
    }
    for (key, arg, value) in known {
        let id = arg.get_id().as_str();
        if matches!(
            matches.value_source(id),
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        ) {
            continue;
        }
        let wrong = |expected: &str| {
            ConfigError(format!(
                "config file {file}: `{key}` must be {expected}, not {}",
                value.type_str()
            ))
        };
        if arg.is_positional() {
            match value {
                Value::String(s) => out.root = Some(PathBuf::from(s)),
                _ => return Err(wrong("a string")),
            }
            continue;
        }
        let tokens = match negated(cmd, arg, value) {
            Some(token) => vec![token],
            None => tokens(arg, value).map_err(wrong)?,
        };
        check(cmd, &tokens)
            .map_err(|reason| ConfigError(format!("config file {file}: `{key}`: {reason}")))?;
        out.tokens.extend(tokens);
    }
    Ok(out)
}

/// The flag a (normalized) key names; `--help`, `--version` and `--config`
/// are not settable.
fn find_arg<'a>(cmd: &'a Command, name: &str) -> Option<&'a Arg> {
    if name == "help" || name == "version" {
        return None;
    }
    cmd.get_arguments().find(|arg| {
        arg.get_long() == Some(name) || (arg.is_positional() && arg.get_id().as_str() == name)
    })
}

/// `false` for an on-by-default switch is its `--no-` twin: `precompressed
/// = false` → `--no-precompressed` (a plain switch's `false` is just its
/// default, so no token).
fn negated(cmd: &Command, arg: &Arg, value: &Value) -> Option<OsString> {
    let long = arg.get_long()?;
    let twin = format!("no-{long}");
    (matches!(arg.get_action(), ArgAction::SetTrue)
        && *value == Value::Boolean(false)
        && find_arg(cmd, &twin).is_some())
    .then(|| format!("--{twin}").into())
}

/// The command-line tokens that say what `value` says, by the argument's
/// kind; `Err` names the TOML type expected.
fn tokens(arg: &Arg, value: &Value) -> Result<Vec<OsString>, &'static str> {
    let long = arg.get_long().unwrap_or_default();
    let with = |v: &str| OsString::from(format!("--{long}={v}"));
    let scalar = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Integer(i) => Some(i.to_string()),
        Value::Float(f) => Some(f.to_string()),
        _ => None,
    };
    match arg.get_action() {
        ArgAction::SetTrue => match value {
            Value::Boolean(true) => Ok(vec![format!("--{long}").into()]),
            Value::Boolean(false) => Ok(Vec::new()),
            _ => Err("true or false"),
        },
        ArgAction::Count => match value {
            Value::Integer(n @ 0..=8) => Ok(vec![format!("--{long}").into(); *n as usize]),
            _ => Err("a count from 0 to 8"),
        },
        ArgAction::Append => match value {
            Value::Array(items) => items
                .iter()
                .map(|item| match item {
                    Value::String(s) => Ok(with(s)),
                    _ => Err("an array of strings"),
                })
                .collect(),
            Value::String(s) => Ok(vec![with(s)]),
            _ => Err("a string or an array of strings"),
        },
        _ => scalar(value)
            .map(|v| vec![with(&v)])
            .ok_or("a string or a number"),
    }
}

/// Lets clap parse one key's tokens alone, so a bad value is reported with
/// its key rather than as if it had been typed on the command line.
fn check(cmd: &Command, tokens: &[OsString]) -> Result<(), String> {
    let argv = std::iter::once(OsString::from("berth")).chain(tokens.iter().cloned());
    match cmd.clone().try_get_matches_from(argv) {
        Ok(_) => Ok(()),
        Err(e) => {
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("invalid value");
            Err(first.strip_prefix("error: ").unwrap_or(first).to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::CommandFactory;

    use super::*;
    use crate::cli::{Args, ParseError, parse_args};

    fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("berth.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    /// Parses `args` with `--config` pointing at a file holding `text`.
    fn with_file(text: &str, args: &[&str]) -> Result<Args, String> {
        let (_dir, path) = file(text);
        let mut argv = vec!["berth", "--config", path.to_str().unwrap()];
        argv.extend(args);
        parse_args(argv).map_err(|e| match e {
            ParseError::Config(e) => e.0,
            ParseError::Clap(e) => e.to_string(),
        })
    }

    #[test]
    fn file_fills_what_flags_leave_unset() {
        let args = with_file(
            "port = 9001\nhead_timeout = \"3s\"\nheader = [\"X-A: b\", \"X-C: d\"]\n\
             index = [\"home.html\", \"index.htm\"]\ncors = true\nverbose = 2\nroot = \"site\"\n\
             \"404\" = \"missing.html\"\nlog = \"json\"",
            &[],
        )
        .unwrap();
        assert_eq!(args.port, 9001);
        assert_eq!(args.head_timeout, Duration::from_secs(3));
        assert_eq!(args.header, ["X-A: b", "X-C: d"]);
        assert_eq!(args.index, ["home.html", "index.htm"]);
        assert!(args.cors);
        assert_eq!(args.verbose, 2);
        assert_eq!(args.root, Some(PathBuf::from("site")));
        assert_eq!(args.not_found.as_deref(), Some("missing.html"));
        assert_eq!(args.log, crate::access_log::LogFormat::Json);
    }

    #[test]
    fn flags_win_over_the_file() {
        let args = with_file(
            "port = 9001\nheader = [\"X-A: file\"]\nroot = \"site\"\nhidden = true",
            &["--port", "9002", "--header", "X-A: flag", "other"],
        )
        .unwrap();
        assert_eq!(args.port, 9002);
        assert_eq!(args.header, ["X-A: flag"]);
        assert_eq!(args.root, Some(PathBuf::from("other")));
        assert!(args.hidden);
        // Without the file, the defaults.
        let args = parse_args(["berth"]).unwrap_or_else(|_| panic!());
        assert_eq!(
            (args.port, args.index.as_slice()),
            (8080, &["index.html".to_string()][..])
        );
    }

    #[test]
    fn unknown_keys_are_named_with_the_file() {
        let err = with_file("prot = 1\nport = 2\n[hedaer]\nx = 1", &[]).unwrap_err();
        assert!(err.contains("unknown keys `hedaer`, `prot`"), "{err}");
        assert!(err.contains("berth.toml"), "{err}");
        assert!(!err.contains('\n'), "{err}");
        for key in ["help", "version"] {
            let err = with_file(&format!("{key} = true"), &[]).unwrap_err();
            assert!(err.contains(&format!("unknown key `{key}`")), "{err}");
        }
        assert!(
            with_file("config = \"x\"", &[])
                .unwrap_err()
                .contains("`config`")
        );
    }

    #[test]
    fn wrong_types_and_values_name_the_key() {
        for (text, needle) in [
            (
                "port = true",
                "`port` must be a string or a number, not boolean",
            ),
            ("port = 70000", "`port`: invalid value '70000'"),
            (
                "head-timeout = \"soon\"",
                "`head-timeout`: invalid value 'soon'",
            ),
            ("cors = \"yes\"", "`cors` must be true or false, not string"),
            ("header = [1]", "`header` must be an array of strings"),
            ("log = \"xml\"", "`log`: invalid value 'xml'"),
            ("root = 1", "`root` must be a string"),
            ("port = 1\nport = 2", ":2: invalid TOML"),
            ("port = 1\nport_ = 2", "unknown key `port_`"),
            ("max-headers = 1\nmax_headers = 2", "set twice"),
        ] {
            let err = with_file(text, &[]).unwrap_err();
            assert!(err.contains(needle), "{text:?}: {err}");
            assert!(!err.contains('\n'), "{text:?}: {err}");
        }
    }

    #[test]
    fn quiet_and_verbose_follow_precedence() {
        let args = with_file("verbose = 2", &["-q"]).unwrap();
        assert!(args.quiet && args.verbose == 0);
        let args = with_file("quiet = true", &["-v"]).unwrap();
        assert!(!args.quiet && args.verbose == 1);
        assert!(with_file("quiet = true\nverbose = 1", &[]).is_err());
        assert!(parse_args(["berth", "-q", "-v"]).is_err());
    }

    #[test]
    fn missing_file_is_an_error() {
        let err = parse_args(["berth", "--config", "/nonexistent/berth.toml"]).unwrap_err();
        let ParseError::Config(e) = err else { panic!() };
        assert_eq!(
            e.0,
            "cannot read config file /nonexistent/berth.toml: no such file"
        );
    }

    #[test]
    fn compression_keys() {
        let args = with_file("no-compress = true\ncompress-level = 7", &[]).unwrap();
        assert!(args.no_compress);
        assert_eq!(args.compress_level, Some(7));
        let args = with_file("precompressed = false", &[]).unwrap();
        assert!(args.no_precompressed);
        let args = with_file("precompressed = false", &["--precompressed"]).unwrap();
        assert!(args.precompressed && !args.no_precompressed);
        let args = with_file("precompressed = true\nno_compress = false", &[]).unwrap();
        assert!(args.precompressed && !args.no_precompressed && !args.no_compress);
        let args = parse_args(["berth"]).unwrap_or_else(|_| panic!());
        assert!(args.precompressed && !args.no_precompressed && !args.no_compress);
        assert_eq!(args.compress_level, None);
        let err = with_file("compress-level = 99", &[]).unwrap_err();
        assert!(err.contains("`compress-level`"), "{err}");
        let err = with_file("precompressed = \"no\"", &[]).unwrap_err();
        assert!(
            err.contains("`precompressed` must be true or false"),
            "{err}"
        );
    }

    #[test]
    fn every_key_kind_maps_to_tokens() {
        let cmd = Args::command();
        let arg = |name| find_arg(&cmd, name).unwrap();
        assert_eq!(
            tokens(arg("hidden"), &Value::Boolean(false)),
            Ok(Vec::<OsString>::new())
        );
        assert_eq!(
            tokens(arg("max-body-bytes"), &Value::Integer(5)),
            Ok(vec!["--max-body-bytes=5".into()])
        );
        // A value starting with '-' stays a value.
        assert_eq!(
            tokens(arg("cache-control"), &Value::String("-x".into())),
            Ok(vec!["--cache-control=-x".into()])
        );
        assert!(find_arg(&cmd, "404").is_some() && find_arg(&cmd, "root").is_some());
    }
}
