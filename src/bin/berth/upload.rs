//! Uploads in the binary: the flags (`--upload`, `--upload-overwrite`,
//! `--max-upload-bytes`, `--mkdir`), flattened into
//! [`Args`](crate::cli::Args), and the two things the binary does around
//! `ServeDir`'s uploads (the library's `serve_dir::upload` does the
//! writing): refusing to start with uploads open to the network
//! ([`refuse_open_uploads`]), and raising the body limit for upload
//! requests only ([`body_limits`]).

use std::net::SocketAddr;
use std::sync::Arc;

use berth::handler::BoxFuture;
use berth::http::Method;
use berth::serve_dir::Uploads;
use berth::{Handler, IntoRoute, Request, Response};
use clap::builder::BoolishValueParser;

use crate::cli::ConfigError;

#[derive(Debug, clap::Args)]
pub struct UploadArgs {
    /// Accept uploads: PUT /dir/name stores one file, POST of a
    /// multipart/form-data form to /dir/ stores each of its files (the
    /// --listing page shows a form for it). Files are put in place whole
    /// and atomically, under new names only (see --upload-overwrite),
    /// never through a symlink, never hidden names unless --hidden. Over
    /// plain HTTP on a non-loopback address it needs --auth for every
    /// path [default: off: PUT and POST are 405].
    #[arg(long, env = "BERTH_UPLOAD", value_parser = BoolishValueParser::new())]
    pub upload: bool,

    /// Let an upload replace an existing file (atomically, by rename;
    /// answered 204) instead of 409 Conflict; needs --upload
    /// [default: off].
    #[arg(long, env = "BERTH_UPLOAD_OVERWRITE", value_parser = BoolishValueParser::new())]
    pub upload_overwrite: bool,

    /// Largest upload request body in bytes (one file, or a whole form):
    /// 413 beyond, with nothing written. Replaces --max-body-bytes for
    /// PUT and POST when --upload is on.
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 30, env = "BERTH_MAX_UPLOAD_BYTES")]
    pub max_upload_bytes: u64,

    /// Let a form POST of `mkdir=NAME` to /dir/ create the folder
    /// /dir/NAME/ (the --listing page shows a "New folder" form); needs
    /// --upload [default: off].
    #[arg(long, env = "BERTH_MKDIR", value_parser = BoolishValueParser::new())]
    pub mkdir: bool,
}

impl UploadArgs {
    /// The uploads `ServeDir` accepts; `None` without `--upload`.
    pub fn config(&self) -> Result<Option<Uploads>, ConfigError> {
        if !self.upload {
            for (flag, set) in [
                ("--upload-overwrite", self.upload_overwrite),
                ("--mkdir", self.mkdir),
            ] {
                if set {
                    return Err(ConfigError(format!("{flag} needs --upload")));
                }
            }
            return Ok(None);
        }
        if self.max_upload_bytes == 0 {
            return Err(ConfigError("--max-upload-bytes must be at least 1".into()));
        }
        Ok(Some(Uploads {
            overwrite: self.upload_overwrite,
            max_bytes: self.max_upload_bytes,
            mkdir: self.mkdir,
            trusted_origins: Vec::new(),
        }))
    }
}

/// What the startup check needs to know about the rest of the setup.
pub struct Exposure<'a> {
    pub uploads: bool,
    pub tls: bool,
    /// `--auth` given, and `--auth-path` not limiting it.
    pub auth_everywhere: bool,
    /// The TCP sockets actually served (systemd's, or `--bind`'s).
    pub addrs: &'a [SocketAddr],
}

/// `--upload` over plain HTTP on a non-loopback socket without `--auth`
/// on every path would let anyone on the network write files: refused, as
/// `--auth` over plain HTTP is without `--auth-insecure`. Over HTTPS, or
/// on loopback only (a proxy in front decides), uploads need no `--auth`.
pub fn refuse_open_uploads(e: &Exposure<'_>) -> Result<(), String> {
    if e.uploads && !e.tls && !e.auth_everywhere && !e.addrs.iter().all(|a| a.ip().is_loopback()) {
        return Err(
            "--upload over plain HTTP on a non-loopback socket lets anyone write files; \
             add --auth (without --auth-path), or use --tls-cert/--tls-key, or bind to loopback"
                .into(),
        );
    }
    Ok(())
}

/// The body limit in front of the app: `max_body` for every request, but
/// the uploads' own limit (when larger) for `PUT` and `POST`, which
/// `ServeDir` then enforces exactly. A declared length over the limit that
/// applies is `413` before any layer sees the request.
pub fn body_limits(app: Box<dyn Handler>, max_body: u64, uploads: Option<u64>) -> Box<dyn Handler> {
    let Some(max_upload) = uploads.filter(|&max| max > max_body) else {
        return berth::body_limit(max_body, app).into_route(&());
    };
    let app: Arc<dyn Handler> = Arc::from(app);
    Box::new(ByMethod {
        uploads: berth::body_limit(max_upload, Arc::clone(&app)).into_route(&()),
        other: berth::body_limit(max_body, app).into_route(&()),
    })
}

/// `PUT` and `POST` to `uploads`, the rest to `other`.
struct ByMethod {
    uploads: Box<dyn Handler>,
    other: Box<dyn Handler>,
}

impl Handler for ByMethod {
    fn call(&self, req: Request) -> BoxFuture<Response> {
        if req.method() == Method::PUT || req.method() == Method::POST {
            self.uploads.call(req)
        } else {
            self.other.call(req)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Config, parse_args};

    fn uploads(args: &[&str]) -> Result<Option<Uploads>, String> {
        let mut argv = vec!["berth"];
        argv.extend_from_slice(args);
        let args = parse_args(argv).map_err(|e| format!("{e:?}"))?;
        Config::from_args(args)
            .map(|c| c.site.uploads)
            .map_err(|e| e.0)
    }

    #[test]
    fn off_by_default_and_each_flag_sets_its_field() {
        assert_eq!(uploads(&[]).unwrap(), None);
        assert_eq!(uploads(&["--upload"]).unwrap(), Some(Uploads::default()));
        let u = uploads(&[
            "--upload",
            "--upload-overwrite",
            "--max-upload-bytes=1000",
            "--mkdir",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(
            u,
            Uploads {
                overwrite: true,
                max_bytes: 1000,
                mkdir: true,
                trusted_origins: Vec::new(),
            }
        );
    }

    #[test]
    fn companions_need_upload() {
        for flag in ["--upload-overwrite", "--mkdir"] {
            let err = uploads(&[flag]).unwrap_err();
            assert_eq!(err, format!("{flag} needs --upload"));
        }
        assert!(uploads(&["--upload", "--max-upload-bytes=0"]).is_err());
    }

    #[test]
    fn open_uploads_are_refused_only_on_plain_non_loopback() {
        let public: &[SocketAddr] = &["0.0.0.0:80".parse().unwrap()];
        let local: &[SocketAddr] = &["127.0.0.1:80".parse().unwrap(), "[::1]:80".parse().unwrap()];
        let check = |uploads, tls, auth_everywhere, addrs| {
            refuse_open_uploads(&Exposure {
                uploads,
                tls,
                auth_everywhere,
                addrs,
            })
        };
        let err = check(true, false, false, public).unwrap_err();
        assert!(err.starts_with("--upload over plain HTTP"), "{err}");
        assert!(!err.contains('\n'));
        assert!(check(true, false, true, public).is_ok());
        assert!(check(true, true, false, public).is_ok());
        assert!(check(true, false, false, local).is_ok());
        assert!(check(false, false, false, public).is_ok());
    }
}
