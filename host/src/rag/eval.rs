//! Retrieval evaluation: graded queries in, Recall@5 / MRR / nDCG@5 out.
//!
//! Query file format (tab separated, `#` comments):
//! `id <TAB> query <TAB> path:relevance:min_rank,path:relevance:min_rank,...`
//! with relevance 3 = must-have and 2 = relevant.

#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    pub path: String,
    pub relevance: u8,
    pub min_rank: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GradedQuery {
    pub id: String,
    pub query: String,
    pub expected: Vec<Expected>,
}

#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct QueryFileError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

pub fn parse_queries(file: &str, text: &str) -> Result<Vec<GradedQuery>, QueryFileError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let err = |message: String| QueryFileError { file: file.to_string(), line: i + 1, message };
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() != 3 {
            return Err(err(format!("expected 3 tab-separated columns, found {}", cols.len())));
        }
        let mut expected = Vec::new();
        for item in cols[2].split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let mut parts = item.rsplitn(3, ':');
            let (Some(rank), Some(rel), Some(path)) = (parts.next(), parts.next(), parts.next()) else {
                return Err(err(format!("'{item}' is not path:relevance:min_rank")));
            };
            let relevance = rel.parse().map_err(|_| err(format!("bad relevance in '{item}'")))?;
            let min_rank = rank.parse().map_err(|_| err(format!("bad min_rank in '{item}'")))?;
            expected.push(Expected { path: path.to_string(), relevance, min_rank });
        }
        out.push(GradedQuery { id: cols[0].to_string(), query: cols[1].to_string(), expected });
    }
    Ok(out)
}

/// Scores of one ranked list of document paths against one query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QueryScore {
    /// Share of relevance-3 documents found in the top 5 (None when the query has none).
    pub recall5: Option<f64>,
    /// 1 / rank of the query's first listed document (0 when absent from the list).
    pub rr_first: f64,
    pub ndcg5: f64,
    /// Share of relevance-3 documents found at or above their min_rank.
    pub rank_ok: Option<f64>,
}

pub fn score(q: &GradedQuery, ranked: &[String]) -> QueryScore {
    let pos = |p: &str| ranked.iter().position(|r| r == p).map(|i| i + 1);
    let must: Vec<&Expected> = q.expected.iter().filter(|e| e.relevance >= 3).collect();
    let recall5 = (!must.is_empty())
        .then(|| must.iter().filter(|e| pos(&e.path).is_some_and(|r| r <= 5)).count() as f64 / must.len() as f64);
    let rank_ok = (!must.is_empty()).then(|| {
        must.iter().filter(|e| pos(&e.path).is_some_and(|r| r <= e.min_rank.max(1))).count() as f64 / must.len() as f64
    });
    let rr_first = q.expected.first().and_then(|e| pos(&e.path)).map(|r| 1.0 / r as f64).unwrap_or(0.0);
    let gain = |rel: u8| (2f64.powi(rel as i32)) - 1.0;
    let dcg: f64 = ranked
        .iter()
        .take(5)
        .enumerate()
        .map(|(i, p)| {
            let rel = q.expected.iter().find(|e| &e.path == p).map(|e| e.relevance).unwrap_or(0);
            gain(rel) / ((i + 2) as f64).log2()
        })
        .sum();
    let mut ideal: Vec<u8> = q.expected.iter().map(|e| e.relevance).collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let idcg: f64 = ideal.iter().take(5).enumerate().map(|(i, &r)| gain(r) / ((i + 2) as f64).log2()).sum();
    QueryScore { recall5, rr_first, ndcg5: if idcg > 0.0 { dcg / idcg } else { 0.0 }, rank_ok }
}

/// Averages over queries.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Summary {
    pub queries: usize,
    pub recall5: f64,
    pub mrr: f64,
    pub ndcg5: f64,
    pub rank_ok: f64,
}

pub fn summarize(scores: &[QueryScore]) -> Summary {
    let mean = |v: Vec<f64>| if v.is_empty() { 0.0 } else { v.iter().sum::<f64>() / v.len() as f64 };
    Summary {
        queries: scores.len(),
        recall5: mean(scores.iter().filter_map(|s| s.recall5).collect()),
        mrr: mean(scores.iter().map(|s| s.rr_first).collect()),
        ndcg5: mean(scores.iter().map(|s| s.ndcg5).collect()),
        rank_ok: mean(scores.iter().filter_map(|s| s.rank_ok).collect()),
    }
}

/// One ranking mode's figures over a query set.
#[derive(Debug, Clone)]
pub struct ModeReport {
    pub mode: super::Mode,
    pub summary: Summary,
    pub p50_ms: f64,
    pub p95_ms: f64,
    /// Queries whose first listed document was not ranked first: (id, rank or 0).
    pub misses: Vec<(String, usize)>,
}

/// What an evaluation run measured.
#[derive(Debug, Clone)]
pub struct EvalReport {
    pub index: super::SyncReport,
    pub modes: Vec<ModeReport>,
    /// Why vector and hybrid were not run, when they were not.
    pub degraded: Option<String>,
}

/// The `p`-th percentile (0..=100) of `values` by nearest rank.
pub fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
    v[rank.min(v.len()) - 1]
}

/// Indexes `corpus` into `index_dir` and scores every mode the index can
/// run on `queries`. Latency is of uncached searches after one warm-up pass.
pub async fn run(
    corpus: &std::path::Path,
    queries: &[GradedQuery],
    index_dir: &std::path::Path,
) -> Result<EvalReport, super::SearchError> {
    use super::{Index, Mode, Query, Source};
    let model = Index::load_model().await;
    let sources = vec![Source::Dir { root: corpus.to_path_buf(), prefix: String::new(), confine: None }];
    let index = Index::open(index_dir, sources, model).await?;
    let report = index.sync().await?;
    let degraded = index.degraded().map(str::to_string);
    let modes: Vec<Mode> =
        if degraded.is_some() { vec![Mode::FullText] } else { vec![Mode::Hybrid, Mode::Vector, Mode::FullText] };
    let mut out = Vec::new();
    for mode in modes {
        let mut latencies = Vec::new();
        let mut scores = Vec::new();
        let mut misses = Vec::new();
        for pass in 0..2 {
            for gq in queries {
                let mut q = Query::new(gq.query.clone());
                q.mode = mode;
                q.limit = 10;
                q.use_cache = false;
                let started = std::time::Instant::now();
                let answer = index.search(&q).await?;
                let took = started.elapsed().as_secs_f64() * 1000.0;
                if pass == 1 {
                    latencies.push(took);
                    let ranked: Vec<String> = answer.hits.into_iter().map(|h| h.path).collect();
                    let s = score(gq, &ranked);
                    if s.rr_first < 1.0 {
                        let rank = if s.rr_first > 0.0 { (1.0 / s.rr_first).round() as usize } else { 0 };
                        misses.push((gq.id.clone(), rank));
                    }
                    scores.push(s);
                }
            }
        }
        out.push(ModeReport {
            mode,
            summary: summarize(&scores),
            p50_ms: percentile(&latencies, 50.0),
            p95_ms: percentile(&latencies, 95.0),
            misses,
        });
    }
    Ok(EvalReport { index: report, modes: out, degraded })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_bench_format() {
        let text = "# comment\nq1\tHow?\ta/b.md:3:1,c.md:2:5\n";
        let q = parse_queries("f", text).unwrap();
        assert_eq!(q[0].expected[1], Expected { path: "c.md".into(), relevance: 2, min_rank: 5 });
        assert!(parse_queries("f", "q1\tonly two").is_err());
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 95.0), 95.0);
        assert_eq!(percentile(&[3.0], 95.0), 3.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
    }

    #[test]
    fn perfect_and_missing_rankings() {
        let q = parse_queries("f", "q\tx\ta.md:3:1,b.md:2:3").unwrap().remove(0);
        let s = score(&q, &["a.md".into(), "b.md".into()]);
        assert_eq!(s.recall5, Some(1.0));
        assert_eq!(s.rr_first, 1.0);
        assert!((s.ndcg5 - 1.0).abs() < 1e-9);
        let s = score(&q, &["z.md".into(), "a.md".into()]);
        assert_eq!(s.rr_first, 0.5);
        assert_eq!(s.rank_ok, Some(0.0));
        let s = score(&q, &[]);
        assert_eq!((s.recall5, s.rr_first, s.ndcg5), (Some(0.0), 0.0, 0.0));
    }
}
