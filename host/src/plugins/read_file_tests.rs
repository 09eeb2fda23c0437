//! The `read-file` host function's confinement: project root, granted globs,
//! symlinks resolved before either check.

use std::path::Path;

use super::bindings::agent_os::persona::types::Error;
use super::host_impl::read_project_file;
use crate::project::Project;

/// A project with `src/lib.rs`, `docs/notes.md`, host-private files, and a
/// secret beside (outside) the project root.
fn fixture() -> (tempfile::TempDir, Project) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("project");
    for (path, text) in [
        ("src/lib.rs", "pub fn ok() {}\n"),
        ("docs/notes.md", "# notes\n"),
        (".agent-os/.cache/jobs.db", "private"),
        (".git/config", "[core]"),
    ] {
        let file = root.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }
    std::fs::write(tmp.path().join("secret.txt"), "outside the project").unwrap();
    let project = Project::new(&root);
    (tmp, project)
}

fn read(project: &Project, globs: &[&str], rel: &str) -> Result<String, Error> {
    let globs: Vec<String> = globs.iter().map(|g| g.to_string()).collect();
    let caps = crate::personas::manifest::Capabilities { read_files: globs.clone(), ..Default::default() };
    read_project_file(project, &caps.read_set().unwrap(), &globs, rel)
}

fn denied(r: Result<String, Error>) -> String {
    match r {
        Err(Error::AccessDenied(m)) => m,
        other => panic!("expected access-denied, got {other:?}"),
    }
}

#[test]
fn reads_a_granted_file() {
    let (_t, p) = fixture();
    assert_eq!(read(&p, &["src/**"], "src/lib.rs").unwrap(), "pub fn ok() {}\n");
    assert_eq!(read(&p, &["src/**"], "./src/../src/lib.rs").unwrap(), "pub fn ok() {}\n");
}

#[test]
fn parent_dir_escapes_are_refused() {
    let (_t, p) = fixture();
    let m = denied(read(&p, &["**"], "../secret.txt"));
    assert!(m.contains("leaves the project root"), "{m}");
    denied(read(&p, &["**"], "src/../../secret.txt"));
    denied(read(&p, &["**"], "src/../../project/src/lib.rs"));
}

#[test]
fn absolute_paths_are_refused_even_inside_the_root() {
    let (_t, p) = fixture();
    let m = denied(read(&p, &["**"], "/etc/passwd"));
    assert!(m.contains("absolute"), "{m}");
    let inside = p.root().join("src/lib.rs").display().to_string();
    denied(read(&p, &["**"], &inside));
}

#[cfg(unix)]
#[test]
fn symlinks_are_resolved_before_the_checks() {
    use std::os::unix::fs::symlink;
    let (t, p) = fixture();
    // A link inside a granted folder pointing out of the project.
    symlink(t.path().join("secret.txt"), p.root().join("src/leak.txt")).unwrap();
    let m = denied(read(&p, &["src/**"], "src/leak.txt"));
    assert!(m.contains("leaves the project root"), "{m}");
    // A directory link to /etc.
    symlink(Path::new("/etc"), p.root().join("src/etc")).unwrap();
    denied(read(&p, &["src/**"], "src/etc/passwd"));
    // A link that stays inside the project but points outside the globs.
    symlink(p.root().join("docs/notes.md"), p.root().join("src/notes.md")).unwrap();
    let m = denied(read(&p, &["src/**"], "src/notes.md"));
    assert!(m.contains("read-files globs"), "{m}");
    // A link into the host's private cache.
    symlink(p.root().join(".agent-os/.cache/jobs.db"), p.root().join("src/jobs.db")).unwrap();
    let m = denied(read(&p, &["**"], "src/jobs.db"));
    assert!(m.contains("private"), "{m}");
}

#[test]
fn only_the_granted_globs_and_never_host_files() {
    let (_t, p) = fixture();
    let m = denied(read(&p, &["src/**"], "docs/notes.md"));
    assert!(m.contains("src/**"), "{m}");
    denied(read(&p, &[], "src/lib.rs"));
    denied(read(&p, &["**"], ".agent-os/.cache/jobs.db"));
    denied(read(&p, &["**"], ".git/config"));
    assert!(matches!(read(&p, &["**"], "src/missing.rs"), Err(Error::NotFound(_))));
    assert!(matches!(read(&p, &["**"], "src"), Err(Error::InvalidInput(_))));
}

#[cfg(unix)]
#[test]
fn fifos_devices_and_big_files_are_refused_without_hanging() {
    let (_t, p) = fixture();
    let fifo = p.root().join("src/pipe.rs");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    assert!(matches!(read(&p, &["**"], "src/pipe.rs"), Err(Error::InvalidInput(_))), "a FIFO is not read");
    // A link to a device leaves the project and is refused before any open.
    std::os::unix::fs::symlink("/dev/zero", p.root().join("src/zero.rs")).unwrap();
    denied(read(&p, &["**"], "src/zero.rs"));
    let big = std::fs::File::create(p.root().join("src/big.rs")).unwrap();
    big.set_len(1 << 30).unwrap();
    let e = read(&p, &["**"], "src/big.rs");
    assert!(matches!(&e, Err(Error::InvalidInput(m)) if m.contains("limit")), "{e:?}");
}
