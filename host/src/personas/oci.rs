//! Personas as OCI artifacts: the artifact layout, and pushing and pulling it
//! from any registry that speaks the OCI distribution API (through
//! `oci-client`, on the same reqwest/rustls stack as the LLM providers).
//!
//! One persona is one image manifest with its own types:
//!
//! | part | media type | content |
//! |---|---|---|
//! | `artifactType` | [`ARTIFACT_TYPE`] | |
//! | config | [`MANIFEST_TYPE`] | `persona.toml`, with the component's sha256 pinned |
//! | layer | [`COMPONENT_TYPE`] | the component (`org.opencontainers.image.title` = its file name) |
//! | layer (optional) | [`PROMPT_TYPE`] | `prompt.md` |
//!
//! The manifest's annotations carry the id, version, WIT API version and
//! grants, so a registry's UI (or `update`) can read them without pulling
//! the blobs. Nothing time-dependent goes in: the same persona published
//! twice has the same digest.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use futures::StreamExt;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::manifest::OciDescriptor;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{MAX_COMPONENT_BYTES, MAX_MANIFEST_BYTES, MAX_PROMPT_BYTES, Manifest};

/// The artifact type of a persona.
pub const ARTIFACT_TYPE: &str = "application/vnd.agent-os.persona.v1";
/// The config blob: `persona.toml`.
pub const MANIFEST_TYPE: &str = "application/vnd.agent-os.persona.manifest.v1+toml";
/// The component layer.
pub const COMPONENT_TYPE: &str = "application/vnd.agent-os.persona.component.v1+wasm";
/// The prompt layer.
pub const PROMPT_TYPE: &str = "application/vnd.agent-os.persona.prompt.v1+markdown";
/// An OCI image manifest (what a persona artifact is).
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// Annotation keys on the artifact's manifest.
pub const ANN_ID: &str = "io.agent-os.persona.id";
pub const ANN_API: &str = "io.agent-os.persona.api";
pub const ANN_GRANTS: &str = "io.agent-os.persona.grants";
pub const ANN_COMPONENT_SHA256: &str = "io.agent-os.persona.component-sha256";
pub const ANN_TITLE: &str = "org.opencontainers.image.title";
pub const ANN_VERSION: &str = "org.opencontainers.image.version";
pub const ANN_DESCRIPTION: &str = "org.opencontainers.image.description";

/// Largest artifact manifest read.
const MAX_OCI_MANIFEST_BYTES: usize = 64 << 10;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error(
        "'{input}' is not a registry reference like registry.example.com/acme/a11y:0.2.0 or …/a11y@sha256:<digest> ({reason})"
    )]
    BadReference { input: String, reason: String },
    #[error("'{0}' names no registry; put the registry's host first, e.g. localhost:5000/{0} or ghcr.io/acme/{0}")]
    NoRegistry(String),
    #[error(
        "cannot reach the registry {registry}: {detail}. Check the address and that the registry is running (agent-os uses https, and plain http only for a loopback address or with --insecure)"
    )]
    Unreachable { registry: String, detail: String },
    #[error("{repository} has no tag '{tag}'; {}", tag_list(.tags))]
    UnknownTag { repository: String, tag: String, tags: Vec<String> },
    #[error("{repository} has no artifact with digest {digest}")]
    UnknownDigest { repository: String, digest: String },
    #[error(
        "the registry {registry} refused access: {answer}. Log in with `docker login {registry}` (its ~/.docker/config.json entry is read) or pass --username and --password-stdin"
    )]
    Denied { registry: String, answer: String },
    #[error("the registry {registry} answered: {answer}")]
    Answer { registry: String, answer: String },
    #[error(
        "digest mismatch for the {what}: the registry sent content with digest {actual}, but {expected} was asked for. The registry's copy is corrupt or was tampered with; nothing was installed"
    )]
    DigestMismatch { what: String, expected: String, actual: String },
    #[error(
        "{reference} is not an agent-os persona: its {field} is '{found}', a persona's is '{wanted}'. Only artifacts made by `agent-os persona publish` install as personas"
    )]
    WrongMediaType { reference: String, field: &'static str, found: String, wanted: &'static str },
    #[error("{reference}: the {what} is {size} bytes, more than the {limit} a persona may have")]
    TooLarge { reference: String, what: String, size: u64, limit: u64 },
    #[error("{reference}: {reason}")]
    Malformed { reference: String, reason: String },
    #[error(
        "the credentials for {registry} are kept by the credential helper docker-credential-{helper}, which agent-os does not call; pass --username NAME --password-stdin instead"
    )]
    CredentialHelper { registry: String, helper: String },
    #[error("{path}: {reason}")]
    DockerConfig { path: String, reason: String },
}

fn tag_list(tags: &[String]) -> String {
    if tags.is_empty() {
        "it has no tags at all (publish one with `agent-os persona publish DIR REF`)".to_string()
    } else {
        format!("its tags are {}", tags.join(", "))
    }
}

/// How to reach a registry: plain http or not, and whose credentials.
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// Plain http even for a registry that is not on a loopback address.
    pub insecure: bool,
    /// User and password given on the command line (else ~/.docker/config.json).
    pub credentials: Option<(String, String)>,
}

/// Whether `input` reads as a registry reference rather than a path: its
/// first segment is a host (has a dot or a port, or is `localhost`) and it
/// has a repository after it.
pub fn looks_like_reference(input: &str) -> bool {
    match input.split_once('/') {
        Some((host, rest)) => !rest.is_empty() && is_host(host),
        None => false,
    }
}

fn is_host(s: &str) -> bool {
    // `.`, `..` and `.hidden` are folders, not hosts.
    !s.is_empty()
        && !s.starts_with('.')
        && (s == "localhost" || s.starts_with('[') || s.contains(':') || s.contains('.'))
}

/// Parses `registry/repository[:tag][@sha256:digest]`; the registry host is required.
pub fn parse_reference(input: &str) -> Result<Reference, RegistryError> {
    let bad = |reason: String| RegistryError::BadReference { input: input.to_string(), reason };
    let Some((host, _)) = input.split_once('/') else {
        return Err(RegistryError::NoRegistry(input.to_string()));
    };
    if !is_host(host) {
        return Err(RegistryError::NoRegistry(input.to_string()));
    }
    let r: Reference = input.parse().map_err(|e: oci_client::ParseError| bad(e.to_string()))?;
    if let Some(d) = r.digest()
        && !is_sha256_digest(d)
    {
        return Err(bad(format!("the digest must be sha256:<64 hex digits>, not {d}")));
    }
    Ok(r)
}

fn is_sha256_digest(d: &str) -> bool {
    d.strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

/// `registry/repository` of a reference (no tag, no digest).
pub fn repository_of(r: &Reference) -> String {
    format!("{}/{}", r.registry(), r.repository())
}

/// Whether the registry host is a loopback address (plain http is allowed there).
pub fn is_loopback(registry: &str) -> bool {
    let host = if let Some(rest) = registry.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        registry.rsplit_once(':').map(|(h, _)| h).unwrap_or(registry)
    };
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The sha256 digest of bytes, as `sha256:<hex>`.
pub fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// An OCI image manifest as a persona artifact uses it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactManifest {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    pub config: Descriptor,
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Descriptor {
    fn of(media_type: &str, bytes: &[u8], annotations: BTreeMap<String, String>) -> Self {
        Self { media_type: media_type.to_string(), digest: digest_of(bytes), size: bytes.len() as u64, annotations }
    }

    fn oci(&self) -> OciDescriptor {
        OciDescriptor {
            media_type: self.media_type.clone(),
            digest: self.digest.clone(),
            size: self.size as i64,
            ..Default::default()
        }
    }
}

/// The files of one persona, as published and as pulled.
#[derive(Debug, Clone)]
pub struct Artifact {
    /// `persona.toml` with the component's sha256 pinned.
    pub manifest_toml: Vec<u8>,
    pub manifest: Manifest,
    pub component: Vec<u8>,
    pub prompt: Option<Vec<u8>>,
}

/// The grants as one line of JSON (the annotation).
pub fn grants_json(m: &Manifest) -> String {
    serde_json::to_string(&m.capabilities).expect("capabilities serialise")
}

impl Artifact {
    /// The OCI manifest that describes this artifact, and its bytes.
    pub fn oci_manifest(&self) -> (ArtifactManifest, Vec<u8>) {
        let m = &self.manifest;
        let mut annotations = BTreeMap::new();
        annotations.insert(ANN_ID.to_string(), m.id.clone());
        annotations.insert(ANN_API.to_string(), m.api.clone());
        annotations.insert(ANN_GRANTS.to_string(), grants_json(m));
        annotations.insert(ANN_COMPONENT_SHA256.to_string(), super::sha256_hex(&self.component));
        annotations.insert(ANN_TITLE.to_string(), m.name.clone());
        annotations.insert(ANN_VERSION.to_string(), m.version.clone());
        annotations.insert(ANN_DESCRIPTION.to_string(), m.description.clone());
        let title = |name: &str| BTreeMap::from([(ANN_TITLE.to_string(), name.to_string())]);
        let mut layers = vec![Descriptor::of(COMPONENT_TYPE, &self.component, title(&m.component))];
        if let Some(p) = &self.prompt {
            layers.push(Descriptor::of(PROMPT_TYPE, p, title("prompt.md")));
        }
        let manifest = ArtifactManifest {
            schema_version: 2,
            media_type: Some(OCI_MANIFEST.to_string()),
            artifact_type: Some(ARTIFACT_TYPE.to_string()),
            config: Descriptor::of(MANIFEST_TYPE, &self.manifest_toml, title("persona.toml")),
            layers,
            annotations,
        };
        let bytes = serde_json::to_vec(&manifest).expect("a manifest serialises");
        (manifest, bytes)
    }

    /// Writes the files into `dir` (a fresh private folder) as a persona
    /// folder `install::prepare` reads.
    pub fn write_to(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::write(dir.join("persona.toml"), &self.manifest_toml)?;
        std::fs::write(dir.join(&self.manifest.component), &self.component)?;
        if let Some(p) = &self.prompt {
            std::fs::write(dir.join("prompt.md"), p)?;
        }
        Ok(())
    }
}

/// Checks that a pulled manifest is a persona artifact this host reads;
/// returns the config, component and prompt descriptors.
pub fn check_manifest<'a>(
    reference: &str,
    m: &'a ArtifactManifest,
) -> Result<(&'a Descriptor, &'a Descriptor, Option<&'a Descriptor>), RegistryError> {
    let wrong = |field, found: &str, wanted| RegistryError::WrongMediaType {
        reference: reference.to_string(),
        field,
        found: found.to_string(),
        wanted,
    };
    let media_type = m.media_type.as_deref().unwrap_or(OCI_MANIFEST);
    if media_type != OCI_MANIFEST {
        return Err(wrong("media type", media_type, OCI_MANIFEST));
    }
    // The artifact type names what it is; the config type says the same for
    // registries that drop artifactType.
    match m.artifact_type.as_deref() {
        Some(ARTIFACT_TYPE) => {}
        Some(other) => return Err(wrong("artifact type", other, ARTIFACT_TYPE)),
        None if m.config.media_type == MANIFEST_TYPE => {}
        None => return Err(wrong("config media type", &m.config.media_type, MANIFEST_TYPE)),
    }
    if m.config.media_type != MANIFEST_TYPE {
        return Err(wrong("config media type", &m.config.media_type, MANIFEST_TYPE));
    }
    let mut component = None;
    let mut prompt = None;
    for layer in &m.layers {
        let slot = match layer.media_type.as_str() {
            COMPONENT_TYPE => &mut component,
            PROMPT_TYPE => &mut prompt,
            other => return Err(wrong("layer media type", other, COMPONENT_TYPE)),
        };
        if slot.replace(layer).is_some() {
            return Err(RegistryError::Malformed {
                reference: reference.to_string(),
                reason: format!("it has more than one {} layer", layer.media_type),
            });
        }
    }
    let Some(component) = component else {
        return Err(RegistryError::Malformed {
            reference: reference.to_string(),
            reason: format!("it has no component layer ({COMPONENT_TYPE})"),
        });
    };
    for d in std::iter::once(&m.config).chain(&m.layers) {
        if !is_sha256_digest(&d.digest) {
            return Err(RegistryError::Malformed {
                reference: reference.to_string(),
                reason: format!("the digest '{}' is not sha256:<64 hex digits>", d.digest),
            });
        }
    }
    Ok((&m.config, component, prompt))
}

/// A connection to one registry.
pub struct Remote {
    client: Client,
    auth: RegistryAuth,
    registry: String,
}

/// What a push or pull found.
#[derive(Debug, Clone)]
pub struct Pulled {
    pub artifact: Artifact,
    /// `sha256:…` of the OCI manifest.
    pub digest: String,
    pub oci: ArtifactManifest,
}

impl Remote {
    /// A client for the registry of `reference`: https, or plain http for a
    /// loopback registry or with `insecure`; credentials from `access`, else
    /// from the Docker config.
    pub fn connect(reference: &Reference, access: &Access) -> Result<Self, RegistryError> {
        let registry = reference.resolve_registry().to_string();
        let protocol = if access.insecure || is_loopback(&registry) {
            ClientProtocol::HttpsExcept(vec![registry.clone()])
        } else {
            ClientProtocol::Https
        };
        let auth = match &access.credentials {
            Some((user, pass)) => RegistryAuth::Basic(user.clone(), pass.clone()),
            None => docker_auth(reference.registry())?,
        };
        let client = Client::new(ClientConfig {
            protocol,
            connect_timeout: Some(Duration::from_secs(10)),
            read_timeout: Some(Duration::from_secs(60)),
            platform_resolver: None,
            user_agent: concat!("agent-os/", env!("CARGO_PKG_VERSION")),
            ..Default::default()
        });
        Ok(Self { client, auth, registry })
    }

    /// Pushes `artifact` as `reference` (which has a tag); returns the
    /// manifest digest.
    pub async fn push(&self, reference: &Reference, artifact: &Artifact) -> Result<String, RegistryError> {
        let (oci, bytes) = artifact.oci_manifest();
        self.client.store_auth_if_needed(reference.resolve_registry(), &self.auth).await;
        let mut blobs: Vec<(&Descriptor, &[u8])> =
            vec![(&oci.config, &artifact.manifest_toml), (&oci.layers[0], &artifact.component)];
        if let (Some(d), Some(p)) = (oci.layers.get(1), &artifact.prompt) {
            blobs.push((d, p));
        }
        for (d, data) in blobs {
            self.client.push_blob(reference, data, &d.digest).await.map_err(|e| self.classify(e))?;
        }
        let content_type = OCI_MANIFEST.parse().expect("a valid header value");
        self.client.push_manifest_raw(reference, bytes.clone(), content_type).await.map_err(|e| self.classify(e))?;
        Ok(digest_of(&bytes))
    }

    /// The tags of the repository of `reference`.
    pub async fn tags(&self, reference: &Reference) -> Result<Vec<String>, RegistryError> {
        match self.client.list_tags(reference, &self.auth, None, None).await {
            Ok(t) => Ok(t.tags),
            Err(e) => match self.classify(e) {
                // An empty repository answers NAME_UNKNOWN.
                RegistryError::Answer { answer, .. } if answer.contains("NAME_UNKNOWN") => Ok(Vec::new()),
                e => Err(e),
            },
        }
    }

    /// The persona manifest of `reference`, checked to be a persona artifact,
    /// and its digest (verified against the reference's digest when it has one).
    pub async fn manifest(&self, reference: &Reference) -> Result<(ArtifactManifest, String), RegistryError> {
        let accepted = [
            OCI_MANIFEST,
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.v2+json",
            "application/vnd.docker.distribution.manifest.list.v2+json",
        ];
        let (bytes, _) = match self.client.pull_manifest_raw(reference, &self.auth, &accepted).await {
            Ok(x) => x,
            Err(e) => return Err(self.not_found(reference, e).await),
        };
        let name = reference.whole();
        if bytes.len() > MAX_OCI_MANIFEST_BYTES {
            return Err(RegistryError::TooLarge {
                reference: name,
                what: "manifest".into(),
                size: bytes.len() as u64,
                limit: MAX_OCI_MANIFEST_BYTES as u64,
            });
        }
        let digest = digest_of(&bytes);
        if let Some(want) = reference.digest()
            && want != digest
        {
            return Err(RegistryError::DigestMismatch {
                what: "artifact manifest".into(),
                expected: want.to_string(),
                actual: digest,
            });
        }
        // The type first (an index or a container image is told as such).
        let probe: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| RegistryError::Malformed { reference: name.clone(), reason: format!("its manifest: {e}") })?;
        if let Some(t) = probe.get("mediaType").and_then(|t| t.as_str())
            && t != OCI_MANIFEST
        {
            return Err(RegistryError::WrongMediaType {
                reference: name,
                field: "media type",
                found: t.to_string(),
                wanted: OCI_MANIFEST,
            });
        }
        let m: ArtifactManifest = serde_json::from_value(probe)
            .map_err(|e| RegistryError::Malformed { reference: name.clone(), reason: format!("its manifest: {e}") })?;
        check_manifest(&name, &m)?;
        Ok((m, digest))
    }

    /// Pulls the persona at `reference`: the manifest, then every blob, each
    /// bounded and checked against its digest and size.
    pub async fn pull(&self, reference: &Reference) -> Result<Pulled, RegistryError> {
        let (oci, digest) = self.manifest(reference).await?;
        let name = reference.whole();
        let (config, component, prompt) = check_manifest(&name, &oci)?;
        let at = reference.clone_with_digest(digest.clone());
        let manifest_toml = self.blob(&at, config, "persona.toml (config)", MAX_MANIFEST_BYTES).await?;
        let text = String::from_utf8_lossy(&manifest_toml).into_owned();
        let manifest = Manifest::parse(&format!("{name} persona.toml"), &text)
            .map_err(|e| RegistryError::Malformed { reference: name.clone(), reason: e.to_string() })?;
        let component = self.blob(&at, component, "component layer", MAX_COMPONENT_BYTES).await?;
        let prompt = match prompt {
            Some(d) => Some(self.blob(&at, d, "prompt layer", MAX_PROMPT_BYTES).await?),
            None => None,
        };
        Ok(Pulled { artifact: Artifact { manifest_toml, manifest, component, prompt }, digest, oci })
    }

    async fn blob(&self, at: &Reference, d: &Descriptor, what: &str, limit: u64) -> Result<Vec<u8>, RegistryError> {
        let too_large = |size| RegistryError::TooLarge { reference: at.whole(), what: what.into(), size, limit };
        if d.size > limit {
            return Err(too_large(d.size));
        }
        let mut stream = self.client.pull_blob_stream(at, &d.oci()).await.map_err(|e| self.classify(e))?;
        let mut data = Vec::with_capacity(d.size as usize);
        let mut failure = None;
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(bytes) => {
                    data.extend_from_slice(&bytes);
                    // More than the descriptor says: stop reading; the digest check refuses it.
                    if data.len() as u64 > d.size {
                        break;
                    }
                }
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        let actual = digest_of(&data);
        if actual != d.digest {
            if let Some(e) = &failure
                && (data.len() as u64) < d.size
            {
                return Err(RegistryError::Unreachable { registry: self.registry.clone(), detail: chain(&e) });
            }
            return Err(RegistryError::DigestMismatch {
                what: format!("{what} of {}", at.whole()),
                expected: d.digest.clone(),
                actual,
            });
        }
        Ok(data)
    }

    /// A failed manifest pull: an unknown tag lists the tags there are.
    async fn not_found(&self, reference: &Reference, e: OciDistributionError) -> RegistryError {
        let unknown = match &e {
            OciDistributionError::ImageManifestNotFoundError(_) => true,
            OciDistributionError::RegistryError { envelope, .. } => envelope.errors.iter().any(|x| {
                matches!(x.code, OciErrorCode::ManifestUnknown | OciErrorCode::NameUnknown | OciErrorCode::NotFound)
            }),
            OciDistributionError::ServerError { code: 404, .. } => true,
            _ => false,
        };
        if !unknown {
            return self.classify(e);
        }
        let repository = repository_of(reference);
        match (reference.digest(), reference.tag()) {
            (Some(d), _) => RegistryError::UnknownDigest { repository, digest: d.to_string() },
            (None, tag) => {
                let mut tags = self.tags(reference).await.unwrap_or_default();
                sort_tags(&mut tags);
                RegistryError::UnknownTag { repository, tag: tag.unwrap_or("latest").to_string(), tags }
            }
        }
    }

    /// Turns a client error into one a person can act on.
    fn classify(&self, e: OciDistributionError) -> RegistryError {
        let registry = self.registry.clone();
        match e {
            OciDistributionError::RequestError(re) => RegistryError::Unreachable { registry, detail: chain(&re) },
            OciDistributionError::UnauthorizedError { url } => {
                RegistryError::Denied { registry, answer: format!("401 Unauthorized for {url}") }
            }
            OciDistributionError::AuthenticationFailure(answer) => RegistryError::Denied { registry, answer },
            OciDistributionError::RegistryError { envelope, url } => {
                let answer = envelope
                    .errors
                    .iter()
                    .map(|x| {
                        format!(
                            "{} {}",
                            serde_json::to_string(&x.code).unwrap_or_default().trim_matches('"'),
                            x.message
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                let answer = format!("{answer} ({url})");
                if envelope.errors.iter().any(|x| matches!(x.code, OciErrorCode::Unauthorized | OciErrorCode::Denied)) {
                    RegistryError::Denied { registry, answer }
                } else {
                    RegistryError::Answer { registry, answer }
                }
            }
            OciDistributionError::ServerError { code, url, message } => {
                let answer = format!("HTTP {code} for {url}: {}", message.trim());
                if code == 401 || code == 403 {
                    RegistryError::Denied { registry, answer }
                } else {
                    RegistryError::Answer { registry, answer }
                }
            }
            OciDistributionError::DigestError(oci_client::errors::DigestError::VerificationError {
                expected,
                actual,
            }) => RegistryError::DigestMismatch { what: "content".into(), expected, actual },
            other => RegistryError::Answer { registry, answer: chain(&other) },
        }
    }
}

/// An error and its causes, on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        let text = inner.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        source = inner.source();
    }
    s
}

/// Tags sorted with semantic versions first (ascending), then the rest.
pub fn sort_tags(tags: &mut [String]) {
    tags.sort_by(|a, b| match (semver::Version::parse(a), semver::Version::parse(b)) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        (Ok(_), Err(_)) => std::cmp::Ordering::Less,
        (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
        (Err(_), Err(_)) => a.cmp(b),
    });
}

/// The tags that are released semantic versions above `current` with the
/// same major version, newest first, for `update`. A persona is not a
/// library other code compiles against: what can break for its user is its
/// grants (shown, and asked about when they widen) and its WIT API (checked
/// on its own), so the 0.x series counts as one, as 1.x does.
pub fn newer_compatible(tags: &[String], current: &semver::Version) -> Vec<semver::Version> {
    let mut out: Vec<semver::Version> = tags
        .iter()
        .filter_map(|t| semver::Version::parse(t).ok())
        .filter(|v| v > current && v.major == current.major && v.pre.is_empty())
        .collect();
    out.sort();
    out.reverse();
    out
}

/// Where the Docker config is: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
fn docker_config_path() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d).join("config.json"));
    }
    std::env::var_os("HOME").filter(|h| !h.is_empty()).map(|h| PathBuf::from(h).join(".docker/config.json"))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DockerConfig {
    #[serde(default)]
    auths: BTreeMap<String, DockerAuth>,
    #[serde(default)]
    creds_store: Option<String>,
    #[serde(default)]
    cred_helpers: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
struct DockerAuth {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

/// The credentials for `registry` in the user's Docker config; anonymous
/// when it has none.
fn docker_auth(registry: &str) -> Result<RegistryAuth, RegistryError> {
    let Some(path) = docker_config_path() else {
        return Ok(RegistryAuth::Anonymous);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(RegistryAuth::Anonymous),
        Err(e) => return Err(RegistryError::DockerConfig { path: path.display().to_string(), reason: e.to_string() }),
    };
    auth_from_docker_config(&text, registry).map_err(|reason| match reason {
        AuthProblem::Helper(helper) => RegistryError::CredentialHelper { registry: registry.to_string(), helper },
        AuthProblem::Bad(reason) => RegistryError::DockerConfig { path: path.display().to_string(), reason },
    })
}

#[derive(Debug, PartialEq, Eq)]
enum AuthProblem {
    Helper(String),
    Bad(String),
}

fn auth_from_docker_config(text: &str, registry: &str) -> Result<RegistryAuth, AuthProblem> {
    let config: DockerConfig = serde_json::from_str(text).map_err(|e| AuthProblem::Bad(e.to_string()))?;
    let mut keys = vec![registry.to_string(), format!("https://{registry}"), format!("http://{registry}")];
    if registry == "docker.io" || registry == "index.docker.io" {
        keys.push("https://index.docker.io/v1/".to_string());
    }
    let entry = keys.iter().find_map(|k| {
        config.auths.get(k).or_else(|| config.auths.get(&format!("{k}/"))).or_else(|| {
            config
                .auths
                .iter()
                .find(|(name, _)| name.trim_end_matches('/').ends_with(&format!("//{registry}")))
                .map(|(_, a)| a)
        })
    });
    if let Some(a) = entry {
        if let Some(encoded) = a.auth.as_deref().filter(|s| !s.is_empty()) {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .map_err(|_| AuthProblem::Bad(format!("the auth of {registry} is not base64")))?;
            let decoded = String::from_utf8(decoded)
                .map_err(|_| AuthProblem::Bad(format!("the auth of {registry} is not UTF-8")))?;
            let Some((user, pass)) = decoded.split_once(':') else {
                return Err(AuthProblem::Bad(format!("the auth of {registry} is not user:password")));
            };
            return Ok(RegistryAuth::Basic(user.to_string(), pass.to_string()));
        }
        if let (Some(u), Some(p)) = (&a.username, &a.password) {
            return Ok(RegistryAuth::Basic(u.clone(), p.clone()));
        }
    }
    if let Some(helper) = config.cred_helpers.get(registry) {
        return Err(AuthProblem::Helper(helper.clone()));
    }
    // A global store holds the secret of every registry listed (empty) in auths.
    if let (Some(store), Some(_)) = (&config.creds_store, entry) {
        return Err(AuthProblem::Helper(store.clone()));
    }
    Ok(RegistryAuth::Anonymous)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOML: &str = r#"id = "a11y"
name = "A11y"
version = "0.1.0"
api = "0.1"
kind = "specialist"
domain = "a11y"
description = "Accessibility."
component = "a11y.wasm"
[capabilities]
search = true
"#;

    fn artifact() -> Artifact {
        Artifact {
            manifest_toml: TOML.as_bytes().to_vec(),
            manifest: Manifest::parse("p", TOML).unwrap(),
            component: b"\0asm component".to_vec(),
            prompt: Some(b"# A11y".to_vec()),
        }
    }

    #[test]
    fn references_need_a_registry_host() {
        assert!(looks_like_reference("localhost:5000/acme/a11y:0.1.0"));
        assert!(looks_like_reference("ghcr.io/acme/a11y@sha256:abc"));
        assert!(!looks_like_reference("./a11y"));
        assert!(!looks_like_reference("../x/a11y"));
        assert!(!looks_like_reference(".hidden/a11y"));
        assert!(!looks_like_reference("a11y"));
        assert!(!looks_like_reference("personas/a11y"));
        let r = parse_reference("localhost:5000/acme/a11y:0.2.0").unwrap();
        assert_eq!((r.registry(), r.repository(), r.tag()), ("localhost:5000", "acme/a11y", Some("0.2.0")));
        assert_eq!(repository_of(&r), "localhost:5000/acme/a11y");
        let e = parse_reference("acme/a11y:0.1.0").unwrap_err().to_string();
        assert!(e.contains("names no registry"), "{e}");
        let e = parse_reference("localhost:5000/acme/a11y@sha256:12").unwrap_err().to_string();
        assert!(e.contains("not a registry reference"), "{e}");
    }

    #[test]
    fn plain_http_only_for_loopback() {
        for r in ["localhost:5000", "127.0.0.1:5000", "[::1]:5000", "localhost"] {
            assert!(is_loopback(r), "{r}");
        }
        for r in ["ghcr.io", "10.0.0.1:5000", "localhost.evil.com:5000", "example.com"] {
            assert!(!is_loopback(r), "{r}");
        }
    }

    #[test]
    fn the_artifact_manifest_is_reproducible_and_annotated() {
        let (m, bytes) = artifact().oci_manifest();
        assert_eq!(bytes, artifact().oci_manifest().1, "the same persona gives the same digest");
        assert_eq!(m.artifact_type.as_deref(), Some(ARTIFACT_TYPE));
        assert_eq!(m.annotations[ANN_API], "0.1");
        assert_eq!(m.annotations[ANN_GRANTS], r#"{"search":true,"propose":false,"llm":false,"read-files":[]}"#);
        assert_eq!(m.layers[0].annotations[ANN_TITLE], "a11y.wasm");
        let (_, c, p) = check_manifest("r", &m).unwrap();
        assert_eq!(c.digest, digest_of(b"\0asm component"));
        assert!(p.is_some());
    }

    #[test]
    fn other_artifacts_are_refused_by_media_type() {
        let (mut m, _) = artifact().oci_manifest();
        m.artifact_type = Some("application/vnd.wasm.config.v0+json".into());
        let e = check_manifest("r", &m).unwrap_err().to_string();
        assert!(e.contains("not an agent-os persona") && e.contains("application/vnd.wasm.config.v0+json"), "{e}");
        let (mut m, _) = artifact().oci_manifest();
        m.layers[0].media_type = "application/vnd.oci.image.layer.v1.tar+gzip".into();
        let e = check_manifest("r", &m).unwrap_err().to_string();
        assert!(e.contains("layer media type"), "{e}");
        let (mut m, _) = artifact().oci_manifest();
        m.layers.remove(0);
        assert!(check_manifest("r", &m).unwrap_err().to_string().contains("no component layer"));
    }

    #[test]
    fn update_picks_compatible_newer_versions() {
        let tags: Vec<String> =
            ["0.1.0", "0.1.3", "0.2.0", "latest", "0.1.4-rc.1", "0.1.2"].iter().map(|s| s.to_string()).collect();
        let v = newer_compatible(&tags, &semver::Version::new(0, 1, 0));
        let want = [semver::Version::new(0, 2, 0), semver::Version::new(0, 1, 3), semver::Version::new(0, 1, 2)];
        assert_eq!(v, want, "newest first; no pre-release, no `latest`");
        let v = newer_compatible(&["1.0.0".into(), "1.4.0".into(), "2.0.0".into()], &semver::Version::new(1, 0, 0));
        assert_eq!(v, vec![semver::Version::new(1, 4, 0)]);
    }

    #[test]
    fn docker_config_credentials() {
        let auth = base64::engine::general_purpose::STANDARD.encode("ann:s3cret:x");
        let text = format!(
            r#"{{"auths": {{"localhost:5000": {{"auth": "{auth}"}}, "ghcr.io": {{}}}}, "credsStore": "desktop", "credHelpers": {{"123.ecr.aws": "ecr-login"}}}}"#
        );
        assert_eq!(
            auth_from_docker_config(&text, "localhost:5000"),
            Ok(RegistryAuth::Basic("ann".into(), "s3cret:x".into()))
        );
        assert_eq!(auth_from_docker_config(&text, "ghcr.io"), Err(AuthProblem::Helper("desktop".into())));
        assert_eq!(auth_from_docker_config(&text, "123.ecr.aws"), Err(AuthProblem::Helper("ecr-login".into())));
        assert_eq!(auth_from_docker_config(&text, "quay.io"), Ok(RegistryAuth::Anonymous));
        let text = r#"{"auths": {"https://index.docker.io/v1/": {"username": "u", "password": "p"}}}"#;
        assert_eq!(auth_from_docker_config(text, "docker.io"), Ok(RegistryAuth::Basic("u".into(), "p".into())));
    }
}
