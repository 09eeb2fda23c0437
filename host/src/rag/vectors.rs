//! A cache of computed embeddings shared by every project on the machine,
//! keyed by model and passage text: the bundled standards, and any passage
//! seen before, are never embedded twice. It is only a cache; every error
//! is a miss.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

pub struct VectorCache {
    conn: Mutex<Connection>,
}

/// `embeddings.db` in the user's cache folder (see [`crate::dirs`]); `None`
/// when no cache folder is known, and then nothing is cached.
pub fn default_path() -> Option<PathBuf> {
    crate::dirs::dir(crate::dirs::Kind::Cache).ok().map(|d| d.join("embeddings.db"))
}

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error(transparent)]
    Unsafe(#[from] crate::dirs::DirsError),
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

pub fn key(model: &str, text: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(model.as_bytes());
    h.update([0]);
    h.update(text.as_bytes());
    h.finalize().into()
}

impl VectorCache {
    /// Opens (or creates) the cache at `path`. Its folder is created private
    /// when missing; a folder or file another user could write is refused,
    /// so no one else can feed vectors into this user's search.
    pub fn open(path: &Path) -> Result<Self, CacheError> {
        use crate::dirs::{Kind, check_private, ensure_private};
        if let Some(dir) = path.parent() {
            ensure_private(dir, Kind::Cache)?;
        }
        if std::fs::symlink_metadata(path).is_ok() {
            check_private(path, Kind::Cache)?;
        }
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute_batch("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID")?;
        Ok(Self { conn: Mutex::new(conn) })
    }

    /// The cached vector of each key, if any.
    pub fn get_many(&self, keys: &[[u8; 32]], dim: usize) -> Vec<Option<Vec<f32>>> {
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let Ok(mut stmt) = conn.prepare_cached("SELECT v FROM vectors WHERE key = ?1") else {
            return vec![None; keys.len()];
        };
        keys.iter()
            .map(|k| {
                let blob: Option<Vec<u8>> = stmt.query_row([&k[..]], |r| r.get(0)).optional().ok().flatten();
                blob.filter(|b| b.len() == dim * 4)
                    .map(|b| b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
            })
            .collect()
    }

    pub fn put_many(&self, items: &[([u8; 32], &[f32])]) {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let result = (|| -> Result<(), rusqlite::Error> {
            let tx = conn.transaction()?;
            {
                let mut stmt = tx.prepare_cached("INSERT OR REPLACE INTO vectors (key, v) VALUES (?1, ?2)")?;
                for (k, v) in items {
                    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                    stmt.execute(params![&k[..], bytes])?;
                }
            }
            tx.commit()
        })();
        if let Err(e) = result {
            tracing::debug!("embedding cache write skipped: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_corrupt_file_is_only_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.db");
        let cache = VectorCache::open(&path).unwrap();
        let k = key("m", "hello");
        cache.put_many(&[(k, &[1.0, -2.5, 3.0][..])]);
        assert_eq!(cache.get_many(&[k, key("m", "other")], 3), vec![Some(vec![1.0, -2.5, 3.0]), None]);
        assert_eq!(cache.get_many(&[k], 4), vec![None], "a wrong dimension is a miss");
        drop(cache);
        std::fs::write(&path, b"garbage").unwrap();
        assert!(VectorCache::open(&path).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn a_cache_others_can_write_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c/e.db");
        drop(VectorCache::open(&path).unwrap());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert!(matches!(VectorCache::open(&path), Err(CacheError::Unsafe(_))));
        let link = dir.path().join("c/link.db");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        assert!(matches!(VectorCache::open(&link), Err(CacheError::Unsafe(_))));
    }
}
