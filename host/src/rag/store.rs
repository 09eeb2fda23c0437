//! The LanceDB table of chunks: one row per chunk with its document's path,
//! domain, section, text, the file's content hash and (when a model is
//! loaded) its embedding; plus a full-text index on the text.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{FixedSizeListBuilder, Float32Builder};
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use futures::TryStreamExt;
use lance_index::scalar::FullTextSearchQuery;
use lancedb::index::Index;
use lancedb::index::scalar::FtsIndexBuilder;
use lancedb::query::{ExecutableQuery, QueryBase, Select};
use lancedb::{Connection, DistanceType, Table};

use super::embed::DIM;
use super::fusion::Passage;

pub const TABLE: &str = "chunks";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("standards index at {path}: {source}")]
    Lance { path: PathBuf, source: lancedb::Error },
    #[error("standards index: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    #[error("the standards index at {0} is missing")]
    Missing(PathBuf),
}

/// One chunk ready to be written.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: String,
    pub path: String,
    pub domain: String,
    pub section: String,
    pub text: String,
    pub hash: String,
    pub vector: Option<Vec<f32>>,
}

pub struct ChunkStore {
    path: PathBuf,
    table: Table,
    _db: Connection,
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("path", DataType::Utf8, false),
        Field::new("domain", DataType::Utf8, false),
        Field::new("section", DataType::Utf8, false),
        Field::new("text", DataType::Utf8, false),
        Field::new("hash", DataType::Utf8, false),
        Field::new(
            "vector",
            DataType::FixedSizeList(Arc::new(Field::new("item", DataType::Float32, true)), DIM as i32),
            true,
        ),
    ]))
}

/// SQL string literal for a LanceDB filter.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn col<'a>(batch: &'a RecordBatch, name: &str) -> Option<&'a StringArray> {
    batch.column_by_name(name)?.as_any().downcast_ref::<StringArray>()
}

impl ChunkStore {
    fn err(&self, source: lancedb::Error) -> StoreError {
        StoreError::Lance { path: self.path.clone(), source }
    }

    /// Opens the table under `dir`, creating it when absent.
    pub async fn open(dir: &Path) -> Result<Self, StoreError> {
        let lance = |source| StoreError::Lance { path: dir.to_path_buf(), source };
        let _ = std::fs::create_dir_all(dir);
        let db = lancedb::connect(&dir.to_string_lossy()).execute().await.map_err(lance)?;
        let names = db.table_names().execute().await.map_err(lance)?;
        let table = if names.iter().any(|n| n == TABLE) {
            db.open_table(TABLE).execute().await.map_err(lance)?
        } else {
            db.create_empty_table(TABLE, schema()).execute().await.map_err(lance)?
        };
        Ok(Self { path: dir.to_path_buf(), table, _db: db })
    }

    /// Every indexed document path with its content hash.
    pub async fn documents(&self) -> Result<std::collections::HashMap<String, String>, StoreError> {
        let batches: Vec<RecordBatch> = self
            .table
            .query()
            .select(Select::columns(&["path", "hash"]))
            .execute()
            .await
            .map_err(|e| self.err(e))?
            .try_collect()
            .await
            .map_err(|e| self.err(e))?;
        let mut out = std::collections::HashMap::new();
        for b in &batches {
            let (Some(p), Some(h)) = (col(b, "path"), col(b, "hash")) else { continue };
            for i in 0..b.num_rows() {
                out.insert(p.value(i).to_string(), h.value(i).to_string());
            }
        }
        Ok(out)
    }

    pub async fn count(&self) -> Result<usize, StoreError> {
        self.table.count_rows(None).await.map_err(|e| self.err(e))
    }

    /// Removes every chunk of these documents.
    pub async fn delete_paths(&self, paths: &[String]) -> Result<(), StoreError> {
        for group in paths.chunks(200) {
            let list = group.iter().map(|p| quote(p)).collect::<Vec<_>>().join(", ");
            self.table.delete(format!("path IN ({list})").as_str()).await.map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    pub async fn add(&self, rows: Vec<Row>) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let strings = |f: fn(&Row) -> &str| -> ArrayRef { Arc::new(StringArray::from_iter_values(rows.iter().map(f))) };
        let mut vectors = FixedSizeListBuilder::with_capacity(
            Float32Builder::with_capacity(rows.len() * DIM),
            DIM as i32,
            rows.len(),
        );
        for r in &rows {
            match &r.vector {
                Some(v) if v.len() == DIM => {
                    vectors.values().append_slice(v);
                    vectors.append(true);
                }
                _ => {
                    vectors.values().append_slice(&[0.0; DIM]);
                    vectors.append(false);
                }
            }
        }
        let batch = RecordBatch::try_new(
            schema(),
            vec![
                strings(|r| &r.id),
                strings(|r| &r.path),
                strings(|r| &r.domain),
                strings(|r| &r.section),
                strings(|r| &r.text),
                strings(|r| &r.hash),
                Arc::new(vectors.finish()),
            ],
        )?;
        self.table.add(batch).execute().await.map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Whether the full-text index exists.
    pub async fn has_fts(&self) -> Result<bool, StoreError> {
        let indices = self.table.list_indices().await.map_err(|e| self.err(e))?;
        Ok(indices.iter().any(|i| i.columns.iter().any(|c| c == "text")))
    }

    /// Merges small data files and drops table versions older than a
    /// minute, so the index does not grow with every edit.
    pub async fn compact(&self) -> Result<(), StoreError> {
        use lancedb::table::optimize::{CompactionOptions, Duration, OptimizeAction};
        self.table
            .optimize(OptimizeAction::Compact { options: CompactionOptions::default(), remap_options: None })
            .await
            .map_err(|e| self.err(e))?;
        self.table
            .optimize(OptimizeAction::Prune {
                older_than: Some(Duration::seconds(60)),
                delete_unverified: Some(false),
                error_if_tagged_old_versions: Some(false),
            })
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// (Re)builds the full-text index so it covers every row.
    pub async fn rebuild_fts(&self) -> Result<(), StoreError> {
        if self.count().await? == 0 {
            return Ok(());
        }
        let params = FtsIndexBuilder::default();
        self.table.create_index(&["text"], Index::FTS(params)).replace(true).execute().await.map_err(|e| self.err(e))
    }

    fn to_passages(batches: &[RecordBatch]) -> Vec<Passage> {
        let mut out = Vec::new();
        for b in batches {
            let (Some(id), Some(path), Some(domain), Some(section), Some(text)) =
                (col(b, "id"), col(b, "path"), col(b, "domain"), col(b, "section"), col(b, "text"))
            else {
                continue;
            };
            for i in 0..b.num_rows() {
                out.push(Passage {
                    chunk_id: id.value(i).to_string(),
                    path: path.value(i).to_string(),
                    domain: domain.value(i).to_string(),
                    section: section.value(i).to_string(),
                    text: text.value(i).to_string(),
                });
            }
        }
        out
    }

    const COLUMNS: [&'static str; 5] = ["id", "path", "domain", "section", "text"];

    /// The passage columns and the ranker's own (`_score`, `_distance`),
    /// named so Lance does not add it itself and log a deprecation warning
    /// to the server's stderr on every search.
    fn ranked_columns(score: &'static str) -> Vec<&'static str> {
        let mut columns = Self::COLUMNS.to_vec();
        columns.push(score);
        columns
    }

    /// Every row that has a vector, with the passage columns (for
    /// [`super::mirror::Mirror`]).
    pub async fn vectors(&self) -> Result<Vec<RecordBatch>, StoreError> {
        let mut columns = Self::COLUMNS.to_vec();
        columns.push("vector");
        self.table
            .query()
            .only_if("vector IS NOT NULL")
            .select(Select::columns(&columns))
            .execute()
            .await
            .map_err(|e| self.err(e))?
            .try_collect()
            .await
            .map_err(|e| self.err(e))
    }

    /// Nearest chunks to `vector` by cosine distance, best first.
    pub async fn vector_search(
        &self,
        vector: &[f32],
        limit: usize,
        filter: Option<&str>,
    ) -> Result<Vec<Passage>, StoreError> {
        let mut q = self
            .table
            .query()
            .nearest_to(vector)
            .map_err(|e| self.err(e))?
            .distance_type(DistanceType::Cosine)
            .limit(limit)
            .select(Select::columns(&Self::ranked_columns("_distance")));
        let base = "vector IS NOT NULL".to_string();
        q = q.only_if(match filter {
            Some(f) => format!("{base} AND {f}"),
            None => base,
        });
        let batches: Vec<RecordBatch> =
            q.execute().await.map_err(|e| self.err(e))?.try_collect().await.map_err(|e| self.err(e))?;
        Ok(Self::to_passages(&batches))
    }

    /// Best BM25 matches for `text`, best first.
    pub async fn text_search(
        &self,
        text: &str,
        limit: usize,
        filter: Option<&str>,
    ) -> Result<Vec<Passage>, StoreError> {
        let mut q = self
            .table
            .query()
            .full_text_search(FullTextSearchQuery::new(text.to_string()))
            .limit(limit)
            .select(Select::columns(&Self::ranked_columns("_score")));
        if let Some(f) = filter {
            q = q.only_if(f);
        }
        let batches: Vec<RecordBatch> =
            q.execute().await.map_err(|e| self.err(e))?.try_collect().await.map_err(|e| self.err(e))?;
        Ok(Self::to_passages(&batches))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(path: &str, text: &str) -> Row {
        Row {
            id: format!("{path}#0"),
            path: path.into(),
            domain: "testing".into(),
            section: "Rules".into(),
            text: text.into(),
            hash: "h".into(),
            vector: None,
        }
    }

    /// What lets [`super::super::Index`] publish a sync before the full-text
    /// index is rebuilt: rows added after it was built are found, deleted ones are not.
    #[tokio::test]
    async fn full_text_search_covers_rows_added_after_the_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = ChunkStore::open(dir.path()).await.unwrap();
        store.add(vec![row("a.md", "flaky tests hide regressions"), row("b.md", "mock the clock")]).await.unwrap();
        store.rebuild_fts().await.unwrap();
        assert!(store.has_fts().await.unwrap());
        store.add(vec![row("c.md", "the zorblax rule keeps tests flaky free")]).await.unwrap();
        let found = store.text_search("zorblax", 10, None).await.unwrap();
        assert_eq!(found.iter().map(|p| p.path.as_str()).collect::<Vec<_>>(), ["c.md"]);
        let flaky = store.text_search("flaky", 10, None).await.unwrap();
        assert_eq!(flaky.len(), 2, "indexed and unindexed rows together: {flaky:?}");
        store.delete_paths(&["a.md".to_string()]).await.unwrap();
        let flaky = store.text_search("flaky", 10, None).await.unwrap();
        assert_eq!(flaky.iter().map(|p| p.path.as_str()).collect::<Vec<_>>(), ["c.md"]);
    }

    /// Both rankers name their score column, so Lance neither warns (on
    /// every search, into the server's log) nor will drop it later.
    #[tokio::test]
    async fn searches_name_their_score_column_and_lance_does_not_warn() {
        use std::sync::{Arc, Mutex};
        let logged = Arc::new(Mutex::new(Vec::<u8>::new()));
        let sink = logged.clone();
        // Global (Lance logs from its own threads, through `log`); nextest
        // runs each test in a process of its own.
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_ansi(false)
            .with_writer(move || SharedBuf(sink.clone()))
            .try_init();
        let dir = tempfile::tempdir().unwrap();
        let store = ChunkStore::open(dir.path()).await.unwrap();
        let mut with_vector = row("a.md", "flaky tests hide regressions");
        with_vector.vector = Some(vec![1.0; super::super::embed::DIM]);
        store.add(vec![with_vector]).await.unwrap();
        store.rebuild_fts().await.unwrap();
        assert_eq!(store.text_search("flaky", 5, None).await.unwrap().len(), 1);
        assert_eq!(store.vector_search(&[1.0; super::super::embed::DIM], 5, None).await.unwrap().len(), 1);
        let text = String::from_utf8_lossy(&logged.lock().unwrap()).into_owned();
        let warned: Vec<&str> = text.lines().filter(|l| l.contains("WARN") && l.contains("lance")).collect();
        assert!(warned.is_empty(), "{warned:#?}");
    }

    struct SharedBuf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for SharedBuf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
}
