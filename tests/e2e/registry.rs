//! Personas through a real OCI registry: Debian's `docker-registry` (the
//! CNCF distribution server, installed by scripts/setup.sh), started here
//! on a free loopback port with its own storage. Scaffold → build →
//! publish → install by tag and by digest → invoke → publish a wider 0.2.0
//! → update asks first → sync a second clone; and a tampered blob refused.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::json;

use crate::support::{BIN, GUESTS, STATE_DIR, Server, project};

/// A registry process with its storage; killed on drop.
struct Registry {
    _child: tokio::process::Child,
    /// `127.0.0.1:PORT`
    addr: String,
    storage: PathBuf,
    _dir: tempfile::TempDir,
}

impl Registry {
    /// Starts `docker-registry serve` on a free loopback port; `None` (and
    /// a message saying why) when the program is not installed.
    async fn start() -> Result<Option<Self>> {
        let program = std::env::var("AGENT_OS_TEST_REGISTRY").unwrap_or_else(|_| "docker-registry".into());
        if std::process::Command::new(&program).arg("--version").output().is_err() {
            eprintln!(
                "SKIPPED: {program} is not installed; scripts/setup.sh installs Debian's docker-registry package (or set AGENT_OS_TEST_REGISTRY to a CNCF distribution `registry` binary)"
            );
            return Ok(None);
        }
        let dir = tempfile::tempdir()?;
        let storage = dir.path().join("storage");
        std::fs::create_dir(&storage)?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let addr = format!("127.0.0.1:{port}");
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {addr}\n",
                storage.display()
            ),
        )?;
        let log = std::fs::File::create(dir.path().join("registry.log"))?;
        let child = tokio::process::Command::new(&program)
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {program}"))?;
        let reg = Self { _child: child, addr, storage, _dir: dir };
        reg.wait_ready().await?;
        Ok(Some(reg))
    }

    /// Waits until `GET /v2/` answers 200.
    async fn wait_ready(&self) -> Result<()> {
        let start = Instant::now();
        loop {
            let addr = self.addr.clone();
            let ok = tokio::task::spawn_blocking(move || -> Option<bool> {
                let mut s = std::net::TcpStream::connect(&addr).ok()?;
                s.write_all(format!("GET /v2/ HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes()).ok()?;
                let mut head = [0u8; 12];
                s.read_exact(&mut head).ok()?;
                Some(head.ends_with(b"200"))
            })
            .await?;
            if ok == Some(true) {
                return Ok(());
            }
            if start.elapsed() > Duration::from_secs(30) {
                let log = std::fs::read_to_string(self._dir.path().join("registry.log")).unwrap_or_default();
                bail!("the registry on {} never answered /v2/:\n{log}", self.addr);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The stored file of a blob.
    fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap();
        self.storage.join("docker/registry/v2/blobs/sha256").join(&hex[..2]).join(hex).join("data")
    }
}

/// One person's environment: their config, data (trust records) and cache
/// (compiled components: the first install compiles, cold) folders.
struct Person {
    config: tempfile::TempDir,
    data: tempfile::TempDir,
    cache: tempfile::TempDir,
}

impl Person {
    fn new() -> Result<Self> {
        Ok(Self { config: tempfile::tempdir()?, data: tempfile::tempdir()?, cache: tempfile::tempdir()? })
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AGENT_OS_CONFIG_DIR", self.config.path().display().to_string()),
            ("AGENT_OS_DATA_DIR", self.data.path().display().to_string()),
            ("AGENT_OS_CACHE_DIR", self.cache.path().display().to_string()),
            // No Docker credentials of the machine's user reach the test registry.
            ("DOCKER_CONFIG", self.config.path().join("docker").display().to_string()),
        ]
    }

    /// Runs `agent-os --project P ARGS` with stdin closed (no terminal to ask on).
    async fn cli(&self, project: &Path, args: &[&str], extra: &[(&str, &Path)]) -> Result<(bool, String, String)> {
        let out = tokio::process::Command::new(BIN)
            .env("AGENT_OS_STATE_DIR", STATE_DIR)
            .envs(self.env())
            .envs(extra.iter().map(|(k, v)| (*k, v.as_os_str())))
            .arg("--project")
            .arg(project)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .await?;
        Ok((
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ))
    }

    async fn ok(&self, project: &Path, args: &[&str], extra: &[(&str, &Path)]) -> Result<String> {
        let (ok, out, err) = self.cli(project, args, extra).await?;
        if !ok {
            bail!("agent-os {} failed:\n{out}\n{err}", args.join(" "));
        }
        Ok(out)
    }

    async fn fails(&self, project: &Path, args: &[&str]) -> Result<String> {
        let (ok, out, err) = self.cli(project, args, &[]).await?;
        if ok {
            bail!("agent-os {} should have failed:\n{out}", args.join(" "));
        }
        Ok(format!("{out}\n{err}"))
    }
}

/// The `  digest     sha256:…` line of publish or install output.
fn digest_in(out: &str) -> Result<String> {
    out.lines()
        .find_map(|l| l.trim().strip_prefix("digest").map(|r| r.split_whitespace().next().unwrap_or("").to_string()))
        .filter(|d| d.starts_with("sha256:"))
        .with_context(|| format!("no digest in:\n{out}"))
}

/// Every file under `dir`, relative path → bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.insert(p.strip_prefix(root).unwrap().to_path_buf(), std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn sha_digest(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
}

fn lock_text(project: &Path) -> String {
    std::fs::read_to_string(project.join(".agent-os/personas.lock")).unwrap_or_default()
}

#[tokio::test]
async fn a_persona_goes_through_a_registry_publish_install_update_and_sync() -> Result<()> {
    let Some(registry) = Registry::start().await? else { return Ok(()) };
    let me = Person::new()?;
    let dir = project();
    let work = tempfile::tempdir()?;
    let crate_dir = work.path().join("hello");
    let crate_arg = crate_dir.to_str().unwrap();
    let sdk = crate::support::repo().join("sdk").canonicalize()?;

    // 1. Scaffold and build, as an author does (the build dir is the plugins test's, warm).
    me.ok(dir.path(), &["persona", "new", "hello", "--dir", crate_arg, "--sdk-path", sdk.to_str().unwrap()], &[])
        .await?;
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scaffold-target");
    let build = crate::plugins::cargo()
        .args(["build", "--release", "--target", "wasm32-wasip2", "--offline", "--quiet", "--target-dir"])
        .arg(&target)
        .current_dir(&crate_dir)
        .output()
        .await?;
    assert!(build.status.success(), "building the scaffold failed: {}", String::from_utf8_lossy(&build.stderr));
    let built = [("CARGO_TARGET_DIR", target.as_path())];

    // 2. Publish 0.1.0, cold then warm (the same bytes: the same digest).
    let repo = format!("{}/acme/hello", registry.addr);
    let t0 = Instant::now();
    let out = me.ok(dir.path(), &["persona", "publish", crate_arg, &format!("{repo}:0.1.0")], &built).await?;
    let publish_cold = t0.elapsed();
    let digest1 = digest_in(&out)?;
    assert!(out.contains(&format!("agent-os persona install {repo}:0.1.0")), "{out}");
    assert!(out.contains(r#""search":true"#) && out.contains(r#""llm":true"#), "grants are annotated: {out}");
    let t0 = Instant::now();
    let again = me.ok(dir.path(), &["persona", "publish", crate_arg, &format!("{repo}:0.1.0")], &built).await?;
    let publish_warm = t0.elapsed();
    assert_eq!(digest_in(&again)?, digest1, "publishing the same persona twice gives the same digest");

    // A semver tag that is not the manifest's version is refused.
    let (ok, _, err) = me.cli(dir.path(), &["persona", "publish", crate_arg, &format!("{repo}:0.9.0")], &built).await?;
    assert!(!ok && err.contains("the tag 0.9.0 is a version but the manifest's version is 0.1.0"), "{err}");

    // 3. Install by tag: verified, shown, trusted, locked.
    let t0 = Instant::now();
    let out = me.ok(dir.path(), &["persona", "install", &format!("{repo}:0.1.0"), "--yes"], &[]).await?;
    let install_cold = t0.elapsed();
    assert_eq!(digest_in(&out)?, digest1, "{out}");
    assert!(out.contains(&format!("source     {repo}@{digest1}")), "{out}");
    assert!(out.contains("search standards        yes") && out.contains("read project files      no"), "{out}");
    assert!(out.contains("trusted hello"), "{out}");
    let installed = dir.path().join(".agent-os/personas/hello");
    let pinned = std::fs::read_to_string(installed.join("persona.toml"))?;
    assert!(pinned.contains(&format!("from {repo}@{digest1}.")), "{pinned}");
    let lock = lock_text(dir.path());
    assert!(lock.contains(&format!("digest = \"{digest1}\"")) && lock.contains("tag = \"0.1.0\""), "{lock}");
    assert!(lock.contains(&format!("repository = \"{repo}\"")), "{lock}");

    // 4. Install by digest: the same bytes, the lock pinned by digest alone.
    let t0 = Instant::now();
    me.ok(dir.path(), &["persona", "install", &format!("{repo}@{digest1}"), "--yes"], &[]).await?;
    let install_warm = t0.elapsed();
    assert_eq!(std::fs::read_to_string(installed.join("persona.toml"))?, pinned, "the same bytes by tag and by digest");
    assert!(lock_text(dir.path()).contains(&format!("digest = \"{digest1}\"")));
    eprintln!(
        "registry timings (debug build): publish cold {:.2} s, warm {:.2} s; install cold {:.2} s, warm {:.2} s",
        publish_cold.as_secs_f64(),
        publish_warm.as_secs_f64(),
        install_cold.as_secs_f64(),
        install_warm.as_secs_f64()
    );

    // Errors a person can act on.
    let e = me.fails(dir.path(), &["persona", "install", &format!("{repo}:7.7.7"), "--yes"]).await?;
    assert!(e.contains("has no tag '7.7.7'") && e.contains("its tags are 0.1.0"), "{e}");
    let closed = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let e = me.fails(dir.path(), &["persona", "install", &format!("127.0.0.1:{closed}/acme/hello:0.1.0")]).await?;
    assert!(e.contains(&format!("cannot reach the registry 127.0.0.1:{closed}")), "{e}");

    // 5. The installed persona serves invoke_hello and returns its review.
    let env: Vec<(&str, String)> = me.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = Server::start_env(dir.path(), &[], &env).await?;
    let job = server
        .invoke("hello", json!({ "task": "review the parser", "context": "fn parse() {}\n// TODO: handle errors\n" }))
        .await?;
    let done = server.wait(&job, Duration::from_secs(120)).await?;
    assert_eq!(done["status"], "complete", "{done}");
    let review = done["result"].as_str().unwrap_or_default();
    assert!(review.contains("Unfinished work") && review.contains("(line 2)"), "{review}");
    server.stop().await?;

    // 6. The author publishes 0.2.0 with a wider grant (tag from the manifest's version).
    let toml = std::fs::read_to_string(crate_dir.join("persona.toml"))?;
    let wider = toml
        .replace("version = \"0.1.0\"", "version = \"0.2.0\"")
        .replace("read-files = []", "read-files = [\"src/**\"]");
    assert_ne!(wider, toml);
    std::fs::write(crate_dir.join("persona.toml"), wider)?;
    let out = me.ok(dir.path(), &["persona", "publish", crate_arg, &repo], &built).await?;
    assert!(out.contains(&format!("to {repo}:0.2.0")), "{out}");
    let digest2 = digest_in(&out)?;
    assert_ne!(digest2, digest1);

    // `list` sees it; `--offline` asks no registry.
    let out = me.ok(dir.path(), &["persona", "list"], &[]).await?;
    let row = out.lines().find(|l| l.starts_with("hello ") && l.contains(&repo)).with_context(|| out.clone())?;
    assert!(row.contains("0.2.0 available") && row.contains(&digest1[..19]), "{row}");
    let out = me.ok(dir.path(), &["persona", "list", "--offline"], &[]).await?;
    assert!(out.contains("not checked (--offline)"), "{out}");

    // 7. update asks before widening: without a terminal (or --yes) nothing moves.
    let before = snapshot(&dir.path().join(".agent-os"));
    let (ok, out, err) = me.cli(dir.path(), &["persona", "update", "hello"], &[]).await?;
    assert!(!ok, "{out}");
    assert!(out.contains("+ read project files src/**") && out.contains("Update hello 0.1.0 -> 0.2.0"), "{out}");
    assert!(err.contains("confirmation is needed"), "{err}");
    assert_eq!(snapshot(&dir.path().join(".agent-os")), before, "a refused update changes nothing");
    let out = me.ok(dir.path(), &["persona", "update", "--yes"], &[]).await?;
    assert!(out.contains(&format!("updated hello to 0.2.0 ({digest2})")), "{out}");
    let lock = lock_text(dir.path());
    assert!(lock.contains(&format!("digest = \"{digest2}\"")) && lock.contains("version = \"0.2.0\""), "{lock}");
    assert!(std::fs::read_to_string(installed.join("persona.toml"))?.contains("src/**"));
    let out = me.ok(dir.path(), &["persona", "update"], &[]).await?;
    assert!(out.contains("hello 0.2.0 is the newest compatible version"), "{out}");

    // 8. A teammate's clone has only the lock: sync asks, then reproduces the same bytes.
    let mate = Person::new()?;
    let clone = project();
    std::fs::create_dir_all(clone.path().join(".agent-os"))?;
    std::fs::copy(dir.path().join(".agent-os/personas.lock"), clone.path().join(".agent-os/personas.lock"))?;
    let e = mate.fails(clone.path(), &["persona", "sync"]).await?;
    assert!(e.contains("confirmation is needed") && e.contains("read project files      src/**"), "{e}");
    assert!(!clone.path().join(".agent-os/personas/hello").exists(), "a refused sync installs nothing");
    let out = mate.ok(clone.path(), &["persona", "sync", "--yes"], &[]).await?;
    assert!(out.contains(&format!("installed hello 0.2.0 from {repo}@{digest2}")), "{out}");
    assert_eq!(
        snapshot(&clone.path().join(".agent-os/personas")),
        snapshot(&dir.path().join(".agent-os/personas")),
        "the clone's personas are byte-identical"
    );
    assert_eq!(lock_text(clone.path()), lock_text(dir.path()), "and its lock unchanged");
    let out = mate.ok(clone.path(), &["persona", "sync"], &[]).await?;
    assert!(out.contains(&format!("hello 0.2.0 is in place ({digest2})")), "{out}");
    let out = mate.ok(clone.path(), &["persona", "list"], &[]).await?;
    assert!(out.lines().any(|l| l.starts_with("hello ") && l.ends_with("up to date")), "{out}");

    // Removing drops it from the lock too.
    mate.ok(clone.path(), &["persona", "remove", "hello"], &[]).await?;
    assert!(!lock_text(clone.path()).contains("id = \"hello\""));
    Ok(())
}

/// A persona folder from a test guest (no build needed).
fn guest_folder(dir: &Path, id: &str) -> Result<PathBuf> {
    let folder = dir.join(id);
    std::fs::create_dir_all(&folder)?;
    std::fs::copy(Path::new(GUESTS).join(format!("agent_os_test_{id}.wasm")), folder.join(format!("{id}.wasm")))?;
    std::fs::write(
        folder.join("persona.toml"),
        format!(
            "id = \"{id}\"\nname = \"Test {id}\"\nversion = \"0.1.0\"\napi = \"0.1\"\nkind = \"specialist\"\ndomain = \"testing\"\ndescription = \"A test persona.\"\ncomponent = \"{id}.wasm\"\n[capabilities]\nsearch = true\n"
        ),
    )?;
    std::fs::write(folder.join("prompt.md"), format!("# Test {id}\n"))?;
    Ok(folder)
}

#[tokio::test]
async fn a_tampered_blob_is_refused_and_nothing_changes() -> Result<()> {
    let Some(registry) = Registry::start().await? else { return Ok(()) };
    let me = Person::new()?;
    let dir = project();
    let work = tempfile::tempdir()?;
    let src = guest_folder(work.path(), "proposer")?;
    let repo = format!("{}/acme/proposer", registry.addr);
    let out = me.ok(dir.path(), &["persona", "publish", src.to_str().unwrap(), &format!("{repo}:0.1.0")], &[]).await?;
    let digest = digest_in(&out)?;
    me.ok(dir.path(), &["persona", "install", &format!("{repo}:0.1.0"), "--yes"], &[]).await?;
    let before = snapshot(&dir.path().join(".agent-os"));
    assert!(before.keys().any(|k| k.ends_with("proposer.wasm")));

    // Rewrite the component's blob in the registry's storage (same length, one byte changed).
    let component = std::fs::read(src.join("proposer.wasm"))?;
    let blob = registry.blob_file(&sha_digest(&component));
    let mut bytes = std::fs::read(&blob).with_context(|| format!("the registry stores {}", blob.display()))?;
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&blob, &bytes)?;

    for reference in [format!("{repo}:0.1.0"), format!("{repo}@{digest}")] {
        let e = me.fails(dir.path(), &["persona", "install", &reference, "--yes"]).await?;
        assert!(e.contains("digest mismatch for the component layer") && e.contains("nothing was installed"), "{e}");
        assert_eq!(snapshot(&dir.path().join(".agent-os")), before, "a refused install changes nothing");
    }
    // A fresh clone syncing from the lock is refused the same way, and gets nothing.
    let clone = project();
    std::fs::create_dir_all(clone.path().join(".agent-os"))?;
    std::fs::copy(dir.path().join(".agent-os/personas.lock"), clone.path().join(".agent-os/personas.lock"))?;
    let e = me.fails(clone.path(), &["persona", "sync", "--yes"]).await?;
    assert!(e.contains("digest mismatch"), "{e}");
    assert!(!clone.path().join(".agent-os/personas").exists(), "nothing half-installed");

    // Something that is not a persona is refused by its media type.
    push_foreign_artifact(&registry.addr, "acme/image", "1.0").await?;
    let e = me.fails(dir.path(), &["persona", "install", &format!("{}/acme/image:1.0", registry.addr)]).await?;
    assert!(e.contains("is not an agent-os persona") && e.contains("application/vnd.oci.image.config.v1+json"), "{e}");
    Ok(())
}

/// Pushes a minimal container-image manifest (not a persona) with plain HTTP.
async fn push_foreign_artifact(addr: &str, name: &str, tag: &str) -> Result<()> {
    let http = reqwest::Client::new();
    let config = b"{}".to_vec();
    let digest = sha_digest(&config);
    let start = http.post(format!("http://{addr}/v2/{name}/blobs/uploads/")).send().await?;
    let location = start.headers().get("location").context("upload location")?.to_str()?.to_string();
    let url = if location.starts_with("http") { location } else { format!("http://{addr}{location}") };
    let sep = if url.contains('?') { '&' } else { '?' };
    let put = http.put(format!("{url}{sep}digest={digest}")).body(config.clone()).send().await?;
    assert!(put.status().is_success(), "blob upload: {}", put.status());
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": { "mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest, "size": config.len() },
        "layers": []
    });
    let put = http
        .put(format!("http://{addr}/v2/{name}/manifests/{tag}"))
        .header("content-type", "application/vnd.oci.image.manifest.v1+json")
        .body(serde_json::to_vec(&manifest)?)
        .send()
        .await?;
    assert!(put.status().is_success(), "manifest upload: {} {}", put.status(), put.text().await?);
    Ok(())
}
