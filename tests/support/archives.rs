//! Helpers shared by the folder-download tests (`tests/archives.rs`,
//! `tests/archives_binary.rs`): a folder to download, downloads with
//! curl, extraction with the system's `tar` and `unzip`, and a
//! byte-for-byte comparison of what came out.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;

/// Pseudo-random bytes (xorshift64): incompressible, reproducible.
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// The files of the folder `docs/` that every policy archives.
pub fn plain_files() -> Vec<(String, Vec<u8>)> {
    vec![
        ("a.txt".into(), b"alpha\n".repeat(500)),
        ("nested/deeper/b.txt".into(), b"bravo\n".to_vec()),
        ("nested/c d.md".into(), b"# charlie\n".to_vec()),
        ("ünï cödé.txt".into(), "ünïcödé\n".as_bytes().to_vec()),
        ("random.bin".into(), random_bytes(5 << 20, 0x9e37_79b9)),
        ("photo.jpg".into(), random_bytes(100_000, 7)),
    ]
}

/// Fills `root/docs/` with [`plain_files`], an empty directory
/// (`docs/empty/`), hidden names (`.hidden`, `.hdir/x`), an upload's
/// temporary file, a symlink to a file inside (`link-in`) and one out of
/// the root (`link-out`, to `<root>/../outside.txt`).
pub fn fill_docs(root: &Path) {
    let docs = root.join("docs");
    for (name, content) in plain_files() {
        let path = docs.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    std::fs::create_dir_all(docs.join("empty")).unwrap();
    std::fs::create_dir_all(docs.join(".hdir")).unwrap();
    std::fs::write(docs.join(".hidden"), "hidden\n").unwrap();
    std::fs::write(docs.join(".hdir/x"), "x\n").unwrap();
    std::fs::write(docs.join(".berth-upload-123"), "partial").unwrap();
    symlink("a.txt", docs.join("link-in")).unwrap();
    symlink("../../outside.txt", docs.join("link-out")).unwrap();
    let outside = root.parent().unwrap().join("outside.txt");
    if !outside.exists() {
        std::fs::write(outside, "OUTSIDE-THE-ROOT\n").unwrap();
    }
}

/// What the archive of `docs/` must hold under `docs/`: the directories
/// (`name/` → `None`) and the files with their content.
pub fn expected(hidden: bool, follow_symlinks: bool) -> BTreeMap<String, Option<Vec<u8>>> {
    let mut want = BTreeMap::new();
    for dir in ["", "nested/", "nested/deeper/", "empty/"] {
        want.insert(format!("docs/{dir}"), None);
    }
    for (name, content) in plain_files() {
        want.insert(format!("docs/{name}"), Some(content));
    }
    if hidden {
        want.insert("docs/.hidden".into(), Some(b"hidden\n".to_vec()));
        want.insert("docs/.hdir/".into(), None);
        want.insert("docs/.hdir/x".into(), Some(b"x\n".to_vec()));
    }
    if follow_symlinks {
        want.insert("docs/link-in".into(), Some(b"alpha\n".repeat(500)));
    }
    want
}

/// Everything beneath `dir` (not following symlinks; a symlink is an
/// error here: archives hold none), as [`expected`] writes it.
pub fn tree_of(dir: &Path) -> BTreeMap<String, Option<Vec<u8>>> {
    fn visit(dir: &Path, prefix: &str, out: &mut BTreeMap<String, Option<Vec<u8>>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().into_string().unwrap();
            let kind = entry.file_type().unwrap();
            assert!(
                !kind.is_symlink(),
                "a symlink in the archive: {prefix}{name}"
            );
            if kind.is_dir() {
                let path = format!("{prefix}{name}/");
                out.insert(path.clone(), None);
                visit(&entry.path(), &path, out);
            } else {
                out.insert(
                    format!("{prefix}{name}"),
                    Some(std::fs::read(entry.path()).unwrap()),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    visit(dir, "", &mut out);
    out
}

/// Asserts the two trees are the same, naming the first difference
/// (contents are compared byte for byte, not printed).
pub fn assert_same_tree(
    got: &BTreeMap<String, Option<Vec<u8>>>,
    want: &BTreeMap<String, Option<Vec<u8>>>,
) {
    let names = |t: &BTreeMap<String, Option<Vec<u8>>>| t.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(got), names(want), "the archive's entries");
    for (name, content) in want {
        assert!(got[name] == *content, "{name}: content differs");
    }
}

/// Runs `program args`, panicking with its stderr unless it succeeds.
pub fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e} (is it installed?)"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Extracts the archive `file` (`tar.gz` or `zip`) into the new directory
/// `into` with the system's `tar` or `unzip`.
pub fn extract(format: &str, file: &Path, into: &Path) {
    std::fs::create_dir_all(into).unwrap();
    let (file, into) = (file.to_str().unwrap(), into.to_str().unwrap());
    match format {
        "tar.gz" => run("tar", &["-xzf", file, "-C", into]),
        "zip" => run("unzip", &["-q", file, "-d", into]),
        _ => unreachable!("{format}"),
    };
}

/// curl's result for one download: exit code, the response head, and
/// the body written to `out`.
pub struct Download {
    pub code: Option<i32>,
    pub head: String,
    pub stderr: String,
}

impl Download {
    /// The value of header `name` in the (last) response head, if any.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head
            .split("\r\n\r\n")
            .filter(|h| !h.trim().is_empty())
            .last()?
            .lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(n, _)| n.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    }

    pub fn status_line(&self) -> &str {
        self.head.lines().next().unwrap_or("")
    }
}

/// Downloads `url` into `out` with curl (`extra` arguments first).
pub fn curl_download(url: &str, out: &Path, extra: &[&str]) -> Download {
    let head = out.with_extension("head");
    let output = Command::new("curl")
        .args(["-sS", "--max-time", "60", "-D"])
        .arg(&head)
        .arg("-o")
        .arg(out)
        .args(extra)
        .arg(url)
        .output()
        .expect("run curl (is it installed?)");
    Download {
        code: output.status.code(),
        head: std::fs::read_to_string(&head).unwrap_or_default(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}
