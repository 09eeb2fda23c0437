//! `agent-os persona publish | install REF | update | sync`, and the
//! registry column of `persona list`.
//!
//! A pull lands in a private temporary folder and then goes through the
//! local install exactly (`install::prepare`, the trial run, the grants
//! shown and confirmed, `install::commit`'s one rename, the trust record);
//! the lock is written last. A refusal at any step leaves the project as it
//! was.

use std::path::Path;
use std::time::Instant;

use oci_client::Reference;

use super::cli::{CliError, ask, install_verified, trust_installed};
use super::install::{self, Candidate};
use super::lock::{self, Entry, Lock};
use super::oci::{self, Access, Artifact, Pulled, Remote};
use super::{Manifest, PersonaFiles, Scope};
use crate::plugins::Runtime;
use crate::project::Project;
use crate::text::escape;

/// `persona publish DIR REF`: verifies the persona as an install would and
/// pushes it as one artifact. A reference without a tag gets the
/// manifest's version as its tag.
pub async fn publish(dir: &Path, manifest: Option<&Path>, input: &str, access: &Access) -> Result<(), CliError> {
    let candidate = install::prepare(dir, manifest)?;
    let m = &candidate.manifest;
    let parsed = oci::parse_reference(input)?;
    if parsed.digest().is_some() {
        return Err(CliError::PublishToDigest(input.to_string()));
    }
    // `repo` alone parses with the tag "latest"; publish then uses the version.
    let explicit_tag = input.rsplit('/').next().is_some_and(|last| last.contains(':'));
    let tag = if explicit_tag { parsed.tag().unwrap_or("latest").to_string() } else { m.version.clone() };
    if semver::Version::parse(&tag).is_ok() && tag != m.version {
        return Err(CliError::TagVersion { tag, version: m.version.clone() });
    }
    let reference = Reference::with_tag(parsed.registry().to_string(), parsed.repository().to_string(), tag.clone());
    let artifact = Artifact {
        manifest_toml: m.to_toml().into_bytes(),
        manifest: m.clone(),
        component: candidate.wasm.clone(),
        prompt: candidate.prompt.clone().map(String::into_bytes),
    };
    let remote = Remote::connect(&reference, access)?;
    let t0 = Instant::now();
    let digest = remote.push(&reference, &artifact).await?;
    let repository = oci::repository_of(&reference);
    println!("published {} {} to {repository}:{tag} in {:.2} s", m.id, escape(&m.version), t0.elapsed().as_secs_f64());
    println!("  digest     {digest}");
    println!("  api        {}", escape(&m.api));
    println!("  grants     {}", escape(&oci::grants_json(m)));
    println!("install it with:");
    println!("  agent-os persona install {repository}:{tag}");
    println!("  agent-os persona install {repository}@{digest}   (exactly these bytes)");
    Ok(())
}

/// The pulled persona, verified as a local install verifies it, from a
/// private temporary folder (removed when the returned guard drops).
fn stage(pulled: &Pulled, repository: &str) -> Result<(Candidate, tempfile::TempDir), CliError> {
    let tmp = tempfile::Builder::new().prefix("agent-os-pull-").tempdir()?;
    pulled.artifact.write_to(tmp.path())?;
    let mut candidate = install::prepare(tmp.path(), None)?;
    if !candidate.pinned_by_author {
        return Err(CliError::Unpinned(format!("{repository}@{}", pulled.digest)));
    }
    if let Some(annotated) = pulled.oci.annotations.get(oci::ANN_COMPONENT_SHA256)
        && !annotated.eq_ignore_ascii_case(&candidate.sha256)
    {
        return Err(oci::RegistryError::DigestMismatch {
            what: format!("component of {repository}@{} (against its annotation)", pulled.digest),
            expected: annotated.clone(),
            actual: candidate.sha256.clone(),
        }
        .into());
    }
    candidate.origin = Some(format!("{repository}@{}", pulled.digest));
    Ok((candidate, tmp))
}

/// `persona install REF`: pull, verify, show, ask, install, trust, lock.
pub async fn install(project: &Project, input: &str, access: &Access, yes: bool) -> Result<(), CliError> {
    let reference = oci::parse_reference(input)?;
    // A broken lock or a linked personas folder fails before anything is pulled.
    let mut lock = Lock::load(project)?;
    let root = install::scope_dir(project, Scope::Project)?;
    let remote = Remote::connect(&reference, access)?;
    let t0 = Instant::now();
    let pulled = remote.pull(&reference).await?;
    let repository = oci::repository_of(&reference);
    let (candidate, _staging) = stage(&pulled, &repository)?;
    let pull_s = t0.elapsed().as_secs_f64();
    let id = candidate.manifest.id.clone();
    let extra = [format!("  digest     {} (pulled and verified in {pull_s:.2} s)", pulled.digest)];
    install_verified(project, &candidate, Scope::Project, &root, &extra, yes).await?;
    lock.upsert(Entry {
        id: id.clone(),
        repository,
        tag: reference.digest().is_none().then(|| reference.tag().unwrap_or("latest").to_string()),
        version: candidate.manifest.version.clone(),
        digest: pulled.digest.clone(),
        component_sha256: candidate.sha256.clone(),
    });
    let path = lock.save(project)?;
    println!(
        "locked {id} at {} in {} (commit it; a teammate runs `agent-os persona sync`)",
        pulled.digest,
        path.display()
    );
    Ok(())
}

/// A newer tag `update` would move to.
pub struct Newer {
    pub version: semver::Version,
    pub reference: Reference,
    pub digest: String,
}

/// The newest tag of the entry's repository with the recorded major version
/// ([`oci::newer_compatible`]) whose API this host serves; `None` when the
/// recorded one is the newest. Newer tags needing another API are named in
/// `skipped`.
pub async fn newer(entry: &Entry, access: &Access, skipped: &mut Vec<String>) -> Result<Option<Newer>, CliError> {
    let base = oci::parse_reference(&entry.pinned())?;
    let remote = Remote::connect(&base, access)?;
    let tags = remote.tags(&base).await?;
    let current = semver::Version::parse(&entry.version)
        .map_err(|_| CliError::NotSemver { id: entry.id.clone(), version: entry.version.clone() })?;
    for version in oci::newer_compatible(&tags, &current) {
        let reference =
            Reference::with_tag(base.registry().to_string(), base.repository().to_string(), version.to_string());
        let (m, digest) = remote.manifest(&reference).await?;
        if let Some(api) = m.annotations.get(oci::ANN_API)
            && !super::api_compatible(api)
        {
            skipped.push(format!(
                "{version} needs persona API {}; this agent-os provides {}",
                escape(api),
                super::HOST_API
            ));
            continue;
        }
        if digest == entry.digest {
            return Ok(None);
        }
        return Ok(Some(Newer { version, reference, digest }));
    }
    Ok(None)
}

/// What changed between two manifests' grants: (widened, other changes).
pub fn grant_changes(old: &Manifest, new: &Manifest) -> (Vec<String>, Vec<String>) {
    let (o, n) = (&old.capabilities, &new.capabilities);
    let mut wider = Vec::new();
    let mut other = Vec::new();
    for (name, before, after) in [
        ("search standards", o.search, n.search),
        ("propose standards", o.propose, n.propose),
        ("ask the language model", o.llm, n.llm),
    ] {
        match (before, after) {
            (false, true) => wider.push(format!("+ {name}")),
            (true, false) => other.push(format!("- {name}")),
            _ => {}
        }
    }
    for g in &n.read_files {
        if !o.read_files.contains(g) {
            wider.push(format!("+ read project files {}", escape(g)));
        }
    }
    for g in &o.read_files {
        if !n.read_files.contains(g) {
            other.push(format!("- read project files {}", escape(g)));
        }
    }
    let (ol, nl) = (&old.limits, &new.limits);
    if ol.memory_mb != nl.memory_mb {
        let line = format!("memory {} MB -> {} MB", ol.memory_mb, nl.memory_mb);
        if nl.memory_mb > ol.memory_mb { wider.push(line) } else { other.push(line) }
    }
    if ol.timeout_s != nl.timeout_s {
        let line = format!("time {} s -> {} s", ol.timeout_s, nl.timeout_s);
        if nl.timeout_s > ol.timeout_s { wider.push(line) } else { other.push(line) }
    }
    (wider, other)
}

/// `persona update [ID]`: each locked persona (or one) to its newest
/// compatible tag; asks again when a grant widens.
pub async fn update(project: &Project, id: Option<&str>, access: &Access, yes: bool) -> Result<(), CliError> {
    let mut lock = Lock::load(project)?;
    let entries: Vec<Entry> = match id {
        Some(id) => vec![lock.get(id).cloned().ok_or_else(|| CliError::NotFromRegistry {
            id: escape(id).into_owned(),
            known: lock.personas.iter().map(|e| e.id.clone()).collect(),
        })?],
        None => lock.personas.clone(),
    };
    if entries.is_empty() {
        println!(
            "no registry personas in {}; install one with `agent-os persona install REGISTRY/REPOSITORY:TAG`",
            lock::path(project).display()
        );
        return Ok(());
    }
    let root = install::scope_dir(project, Scope::Project)?;
    for entry in entries {
        let mut skipped = Vec::new();
        let found = newer(&entry, access, &mut skipped).await?;
        for s in &skipped {
            println!("{}: skipped {s}", entry.id);
        }
        let Some(newer) = found else {
            println!(
                "{} {} is the newest compatible version in {}",
                entry.id,
                escape(&entry.version),
                entry.repository
            );
            continue;
        };
        let remote = Remote::connect(&newer.reference, access)?;
        let pulled = remote.pull(&newer.reference.clone_with_digest(newer.digest.clone())).await?;
        let (candidate, _staging) = stage(&pulled, &entry.repository)?;
        if candidate.manifest.id != entry.id {
            return Err(CliError::IdChanged { id: entry.id.clone(), new: candidate.manifest.id.clone() });
        }
        let old = PersonaFiles::read(&root.join(&entry.id)).ok().map(|f| f.manifest);
        println!("{candidate}");
        println!("  digest     {}", pulled.digest);
        println!("Update {} {} -> {}", entry.id, escape(&entry.version), escape(&candidate.manifest.version));
        let (wider, other) = match &old {
            Some(old) => grant_changes(old, &candidate.manifest),
            None => (vec!["(not installed here: every grant above is new)".to_string()], Vec::new()),
        };
        if wider.is_empty() && other.is_empty() {
            println!("Grants: unchanged");
        } else {
            println!("Grants that change:");
            for line in wider.iter().chain(&other) {
                println!("  {line}");
            }
        }
        let runtime = Runtime::new(crate::plugins::components_dir())?;
        install::trial(&candidate, &runtime, project).await?;
        if !wider.is_empty() && !yes {
            ask(&format!("{} {} asks for more than {}. Update it?", entry.id, newer.version, escape(&entry.version)))?;
        }
        let dir = install::commit(&candidate, &root)?;
        trust_installed(project, &dir, &entry.id);
        lock.upsert(Entry {
            tag: Some(newer.version.to_string()),
            version: candidate.manifest.version.clone(),
            digest: pulled.digest.clone(),
            component_sha256: candidate.sha256.clone(),
            ..entry.clone()
        });
        lock.save(project)?;
        println!("updated {} to {} ({})", entry.id, newer.version, pulled.digest);
    }
    Ok(())
}

/// Whether the installed folder of `entry` holds exactly the locked
/// artifact (its component, and the header naming the pinned digest).
pub fn installed_matches(root: &Path, entry: &Entry) -> bool {
    PersonaFiles::read(&root.join(&entry.id)).is_ok_and(|f| {
        f.component_sha256() == entry.component_sha256
            && String::from_utf8_lossy(&f.manifest_bytes).contains(&format!("from {}.", entry.pinned()))
    })
}

/// `persona sync`: installs every locked persona at its locked digest.
/// Like `install`, it shows each persona's grants and asks (or `--yes`);
/// a persona already in place and trusted is left alone.
pub async fn sync(project: &Project, access: &Access, yes: bool) -> Result<(), CliError> {
    let lock = Lock::load(project)?;
    if lock.personas.is_empty() {
        println!("nothing to sync: {} lists no registry personas", lock::path(project).display());
        return Ok(());
    }
    let root = install::scope_dir(project, Scope::Project)?;
    let trust = crate::trust::check(project);
    let trusted = |id: &str| {
        trust.items.iter().any(|i| i.key == crate::trust::persona_item(id) && i.status == crate::trust::Status::Trusted)
    };
    for entry in &lock.personas {
        if installed_matches(&root, entry) && trusted(&entry.id) {
            println!("{} {} is in place ({})", entry.id, escape(&entry.version), entry.digest);
            continue;
        }
        let reference = oci::parse_reference(&entry.pinned())?;
        let remote = Remote::connect(&reference, access)?;
        let pulled = remote.pull(&reference).await?;
        let (candidate, _staging) = stage(&pulled, &entry.repository)?;
        if candidate.manifest.id != entry.id {
            return Err(CliError::IdChanged { id: entry.id.clone(), new: candidate.manifest.id.clone() });
        }
        if candidate.sha256 != entry.component_sha256 {
            return Err(oci::RegistryError::DigestMismatch {
                what: format!("component of {}", entry.pinned()),
                expected: entry.component_sha256.clone(),
                actual: candidate.sha256.clone(),
            }
            .into());
        }
        let extra = [format!("  digest     {} (locked in {})", pulled.digest, lock::FILE)];
        install_verified(project, &candidate, Scope::Project, &root, &extra, yes).await?;
        println!("installed {} {} from {}", entry.id, escape(&entry.version), entry.pinned());
    }
    Ok(())
}

/// The registry personas for `persona list`: source, version, digest, and
/// whether an update exists (not asked with `offline`).
pub async fn print_locked(project: &Project, offline: bool, access: &Access) {
    let lock = match Lock::load(project) {
        Ok(l) => l,
        Err(e) => {
            println!("registry personas: {}", escape(&e.to_string()));
            return;
        }
    };
    if lock.personas.is_empty() {
        return;
    }
    let root = install::scope_dir(project, Scope::Project).ok();
    let trust = crate::trust::check(project);
    let trusted = |id: &str| {
        trust.items.iter().any(|i| i.key == crate::trust::persona_item(id) && i.status == crate::trust::Status::Trusted)
    };
    println!();
    println!("from registries ({}):", lock::path(project).display());
    println!("{:<16} {:<8} {:<48} {:<20} update", "id", "version", "source", "digest");
    for e in &lock.personas {
        let here = root.as_deref().is_some_and(|r| installed_matches(r, e));
        // Registries named by a repository are asked only about personas you installed or trusted.
        let update = if !here {
            "not installed as locked: run `agent-os persona sync`".to_string()
        } else if !trusted(&e.id) {
            "not trusted here: run `agent-os persona sync`".to_string()
        } else if offline {
            "not checked (--offline)".to_string()
        } else {
            let mut skipped = Vec::new();
            match newer(e, access, &mut skipped).await {
                Ok(Some(n)) => format!("{} available: `agent-os persona update {}`", n.version, e.id),
                Ok(None) => "up to date".to_string(),
                Err(err) => format!("cannot check: {}", escape(&err.to_string())),
            }
        };
        let short = e.digest.get(..19).unwrap_or(&e.digest);
        println!("{:<16} {:<8} {:<48} {:<20} {update}", e.id, escape(&e.version), escape(&e.source()), short);
    }
}

/// Drops a removed persona from the lock.
pub fn forget(project: &Project, id: &str) -> Result<bool, CliError> {
    let mut lock = Lock::load(project)?;
    if lock.remove(id) {
        lock.save(project)?;
        return Ok(true);
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(caps: &str, limits: &str) -> Manifest {
        Manifest::parse(
            "p",
            &format!(
                "id = \"x\"\nname = \"X\"\nversion = \"0.1.0\"\napi = \"0.1\"\nkind = \"specialist\"\ndomain = \"x\"\ndescription = \"x\"\ncomponent = \"x.wasm\"\n[capabilities]\n{caps}\n[limits]\n{limits}\n"
            ),
        )
        .unwrap()
    }

    #[test]
    fn widening_is_told_apart_from_narrowing() {
        let old = manifest("search = true\nread-files = [\"src/**\"]", "memory-mb = 128");
        let same = grant_changes(&old, &old);
        assert!(same.0.is_empty() && same.1.is_empty());
        let new = manifest("search = true\nllm = true\nread-files = [\"src/**\", \"docs/**\"]", "memory-mb = 64");
        let (wider, other) = grant_changes(&old, &new);
        assert_eq!(wider, ["+ ask the language model", "+ read project files docs/**"]);
        assert_eq!(other, ["memory 128 MB -> 64 MB"]);
        let narrower = manifest("", "memory-mb = 128");
        let (wider, other) = grant_changes(&old, &narrower);
        assert!(wider.is_empty(), "{wider:?}");
        assert_eq!(other, ["- search standards", "- read project files src/**"]);
    }
}
