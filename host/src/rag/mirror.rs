//! The table's embedded passages held in memory for vector ranking.
//!
//! A standards corpus is small (a few thousand passages, about 1.5 kB of
//! vector each), and ranking a query against all of them in memory takes a
//! fraction of a millisecond, where a LanceDB query plans, reads and decodes
//! the vector column again each time (see docs/performance.md).
//! The table stays the store of record: the mirror is read from it after
//! each change and ranks exactly as its flat cosine search does. Larger
//! tables than [`MAX_CHUNKS`] are ranked by LanceDB itself.

use arrow_array::{Array, FixedSizeListArray, Float32Array, RecordBatch, StringArray};

use super::embed::DIM;
use super::fusion::Passage;

/// Most passages held in memory (about 60 MB with their text); beyond it
/// the vector half of a search goes to LanceDB.
pub const MAX_CHUNKS: usize = 20_000;

#[derive(Default)]
pub struct Mirror {
    passages: Vec<Passage>,
    /// `passages.len() * DIM` values, each row scaled to unit length.
    vectors: Vec<f32>,
}

impl Mirror {
    /// Reads the rows of `batches` (the columns id, path, domain, section,
    /// text and vector); rows without a vector are left out, as the
    /// table's vector search leaves them out.
    pub fn from_batches(batches: &[RecordBatch]) -> Self {
        let mut m = Self::default();
        let string =
            |b: &RecordBatch, name: &str| b.column_by_name(name)?.as_any().downcast_ref::<StringArray>().cloned();
        for b in batches {
            let (Some(id), Some(path), Some(domain), Some(section), Some(text)) =
                (string(b, "id"), string(b, "path"), string(b, "domain"), string(b, "section"), string(b, "text"))
            else {
                continue;
            };
            let Some(list) = b.column_by_name("vector").and_then(|c| c.as_any().downcast_ref::<FixedSizeListArray>())
            else {
                continue;
            };
            if list.value_length() as usize != DIM {
                continue;
            }
            let Some(values) = list.values().as_any().downcast_ref::<Float32Array>() else { continue };
            for i in 0..b.num_rows() {
                if list.is_null(i) {
                    continue;
                }
                let start = (list.value_offset(i)) as usize;
                let v = &values.values()[start..start + DIM];
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                if norm == 0.0 || !norm.is_finite() {
                    continue;
                }
                m.vectors.extend(v.iter().map(|x| x / norm));
                m.passages.push(Passage {
                    chunk_id: id.value(i).to_string(),
                    path: path.value(i).to_string(),
                    domain: domain.value(i).to_string(),
                    section: section.value(i).to_string(),
                    text: text.value(i).to_string(),
                });
            }
        }
        m
    }

    pub fn len(&self) -> usize {
        self.passages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.passages.is_empty()
    }

    /// The `limit` passages nearest to `query` by cosine distance, best
    /// first (ties by chunk id), optionally of one domain only.
    pub fn nearest(&self, query: &[f32], limit: usize, domain: Option<&str>) -> Vec<Passage> {
        if query.len() != DIM || limit == 0 {
            return Vec::new();
        }
        let norm = query.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm == 0.0 || !norm.is_finite() {
            return Vec::new();
        }
        let mut scored: Vec<(f32, usize)> = self
            .vectors
            .chunks_exact(DIM)
            .enumerate()
            .filter(|(i, _)| domain.is_none_or(|d| self.passages[*i].domain == d))
            .map(|(i, v)| (dot(v, query) / norm, i))
            .collect();
        let order = |a: &(f32, usize), b: &(f32, usize)| {
            b.0.total_cmp(&a.0).then_with(|| self.passages[a.1].chunk_id.cmp(&self.passages[b.1].chunk_id))
        };
        if scored.len() > limit {
            scored.select_nth_unstable_by(limit - 1, order);
            scored.truncate(limit);
        }
        scored.sort_unstable_by(order);
        scored.into_iter().map(|(_, i)| self.passages[i].clone()).collect()
    }
}

/// Eight independent sums, so the compiler vectorises the loop.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let tail: f32 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::super::store::{ChunkStore, Row};
    use super::*;

    /// A deterministic pseudo-random unit vector.
    fn vector(seed: u64) -> Vec<f32> {
        let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let v: Vec<f32> = (0..DIM)
            .map(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((x >> 33) as f32 / (1u64 << 31) as f32) - 0.5
            })
            .collect();
        let n = v.iter().map(|a| a * a).sum::<f32>().sqrt();
        v.into_iter().map(|a| a / n).collect()
    }

    fn ids(p: &[Passage]) -> Vec<String> {
        p.iter().map(|p| p.chunk_id.clone()).collect()
    }

    #[tokio::test]
    async fn ranks_as_the_table_does() {
        let dir = tempfile::tempdir().unwrap();
        let store = ChunkStore::open(dir.path()).await.unwrap();
        let rows: Vec<Row> = (0..300u64)
            .map(|i| Row {
                id: format!("doc{}.md#{}", i / 3, i % 3),
                path: format!("doc{}.md", i / 3),
                domain: ["security", "testing", "api"][(i % 3) as usize].into(),
                section: format!("Section {i}"),
                text: format!("text of passage {i}"),
                hash: "h".into(),
                // Every seventh row has no vector, as rows written without a model.
                vector: (i % 7 != 0).then(|| vector(i)),
            })
            .collect();
        store.add(rows).await.unwrap();
        let mirror = Mirror::from_batches(&store.vectors().await.unwrap());
        assert_eq!(mirror.len(), 300 - 300usize.div_ceil(7));
        for q in 1000..1010u64 {
            let query = vector(q);
            let table = store.vector_search(&query, 40, None).await.unwrap();
            let memory = mirror.nearest(&query, 40, None);
            assert_eq!(ids(&memory), ids(&table), "query {q}");
            assert_eq!(memory[0], table[0], "the passages carry the same fields");
            let filter = format!("domain = {}", super::super::store::quote("testing"));
            let table = store.vector_search(&query, 10, Some(&filter)).await.unwrap();
            let memory = mirror.nearest(&query, 10, Some("testing"));
            assert_eq!(ids(&memory), ids(&table), "query {q}, one domain");
            assert!(memory.iter().all(|p| p.domain == "testing"));
        }
        // Deleted rows are gone from a mirror read afterwards.
        store.delete_paths(&["doc1.md".to_string()]).await.unwrap();
        let mirror = Mirror::from_batches(&store.vectors().await.unwrap());
        assert!(mirror.nearest(&vector(1), 300, None).iter().all(|p| p.path != "doc1.md"));
        assert!(mirror.nearest(&vector(1), 0, None).is_empty());
        assert!(mirror.nearest(&[0.0; DIM], 5, None).is_empty());
    }
}
