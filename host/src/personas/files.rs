//! The files of one installed persona, read once: the manifest, the
//! component and the prompt. Reads are bounded, regular-file only and never
//! follow a symbolic link, so a planted `/dev/zero`, FIFO or link out of the
//! project cannot hang a command or pull in a file from elsewhere. The same
//! bytes are hashed for the trust record and loaded, so what was trusted is
//! what runs.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::{Manifest, PersonaDef, PersonaError, sha256_hex};
use crate::fsx;

/// Largest `persona.toml` read.
pub const MAX_MANIFEST_BYTES: u64 = 64 << 10;
/// Largest component read.
pub const MAX_COMPONENT_BYTES: u64 = 32 << 20;
/// Largest `prompt.md` read.
pub const MAX_PROMPT_BYTES: u64 = 64 << 10;

/// What one persona folder holds.
#[derive(Debug, Clone)]
pub struct PersonaFiles {
    pub folder: PathBuf,
    pub manifest: Manifest,
    pub manifest_bytes: Vec<u8>,
    pub component: Vec<u8>,
    /// `prompt.md`, when there is one.
    pub prompt: Option<Vec<u8>>,
}

impl PersonaFiles {
    /// Reads and parses `folder/persona.toml`, then its component and
    /// `prompt.md`; the manifest id must match the folder name.
    pub fn read(folder: &Path) -> Result<Self, PersonaError> {
        let file = folder.join("persona.toml");
        let file_name = file.display().to_string();
        let manifest_bytes = fsx::read_bounded(&file, MAX_MANIFEST_BYTES)?;
        let manifest = Manifest::parse(&file_name, &String::from_utf8_lossy(&manifest_bytes))?;
        let folder_name = folder.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        if folder_name != manifest.id {
            return Err(PersonaError::FolderMismatch { file: file_name, id: manifest.id, folder: folder_name });
        }
        let component = fsx::read_bounded(&folder.join(&manifest.component), MAX_COMPONENT_BYTES)?;
        let prompt = match fsx::read_bounded(&folder.join("prompt.md"), MAX_PROMPT_BYTES) {
            Ok(b) => Some(b),
            Err(e) if e.is_not_found() => None,
            Err(e) => return Err(e.into()),
        };
        Ok(Self { folder: folder.to_path_buf(), manifest, manifest_bytes, component, prompt })
    }

    /// Hex sha256 over the manifest, the component and the prompt (each
    /// named and length-prefixed, an absent prompt marked as absent): the
    /// hash a trust record pins.
    pub fn content_sha256(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"agent-os persona content v1\n");
        let parts: [(&str, Option<&[u8]>); 3] = [
            ("persona.toml", Some(&self.manifest_bytes)),
            (&self.manifest.component, Some(&self.component)),
            ("prompt.md", self.prompt.as_deref()),
        ];
        for (name, bytes) in parts {
            h.update((name.len() as u64).to_le_bytes());
            h.update(name.as_bytes());
            match bytes {
                Some(b) => {
                    h.update([1u8]);
                    h.update((b.len() as u64).to_le_bytes());
                    h.update(b);
                }
                None => h.update([0u8]),
            }
        }
        hex::encode(h.finalize())
    }

    /// Hex sha256 of the component alone (what the manifest pins).
    pub fn component_sha256(&self) -> String {
        sha256_hex(&self.component)
    }

    /// Verifies the persona (pinned hash, API version, imports) and makes
    /// it ready to run.
    pub fn into_def(self) -> Result<PersonaDef, PersonaError> {
        let actual = sha256_hex(&self.component);
        if self.manifest.sha256.is_none() {
            return Err(PersonaError::HashMissing { id: self.manifest.id, actual });
        }
        super::verify(&self.manifest, &self.component)?;
        let prompt = match &self.prompt {
            Some(b) => String::from_utf8_lossy(b).into_owned(),
            None => format!("# {}\n\n{}", self.manifest.name, self.manifest.description),
        };
        Ok(PersonaDef::new(self.manifest, prompt, Arc::from(self.component), actual, false))
    }
}
