//! Reciprocal-rank fusion of several ranked lists, and per-document
//! de-duplication of the fused result.

use std::collections::HashMap;

/// The RRF constant: larger flattens the difference between ranks.
pub const RRF_K: f64 = 60.0;

/// One chunk as retrieved.
#[derive(Debug, Clone, PartialEq)]
pub struct Passage {
    pub chunk_id: String,
    pub path: String,
    pub domain: String,
    pub section: String,
    pub text: String,
}

/// A passage with its fused score in 0..=1 (1 = first in every list).
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub passage: Passage,
    pub score: f32,
}

/// Fuses ranked lists (best first) by reciprocal rank, with optional
/// per-list weights; scores are normalised so a passage ranked first in
/// every list scores 1.
pub fn rrf(lists: &[(f64, Vec<Passage>)]) -> Vec<Scored> {
    let mut acc: HashMap<String, (f64, Passage)> = HashMap::new();
    let mut best = 0.0;
    for (weight, list) in lists {
        best += weight / (RRF_K + 1.0);
        for (rank, p) in list.iter().enumerate() {
            let s = weight / (RRF_K + rank as f64 + 1.0);
            acc.entry(p.chunk_id.clone()).or_insert_with(|| (0.0, p.clone())).0 += s;
        }
    }
    let mut out: Vec<Scored> = acc
        .into_values()
        .map(|(s, passage)| Scored { passage, score: if best > 0.0 { (s / best) as f32 } else { 0.0 } })
        .collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.passage.chunk_id.cmp(&b.passage.chunk_id)));
    out
}

/// Keeps the best passage of each document, in order, up to `limit`.
pub fn best_per_document(scored: Vec<Scored>, limit: usize) -> Vec<Scored> {
    let mut seen = std::collections::HashSet::new();
    scored.into_iter().filter(|s| seen.insert(s.passage.path.clone())).take(limit).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(id: &str, path: &str) -> Passage {
        Passage { chunk_id: id.into(), path: path.into(), domain: "d".into(), section: "s".into(), text: "t".into() }
    }

    #[test]
    fn agreement_wins_and_scores_are_normalised() {
        let a = vec![p("1", "a.md"), p("2", "b.md"), p("3", "c.md")];
        let b = vec![p("2", "b.md"), p("1", "a.md"), p("4", "d.md")];
        let fused = rrf(&[(1.0, a.clone()), (1.0, b)]);
        assert!(fused[0].passage.chunk_id == "1" || fused[0].passage.chunk_id == "2");
        assert!(fused.iter().all(|s| s.score > 0.0 && s.score <= 1.0));
        let only = rrf(&[(1.0, a.clone()), (1.0, a)]);
        assert!((only[0].score - 1.0).abs() < 1e-6);
    }

    #[test]
    fn one_passage_per_document() {
        let fused = rrf(&[(1.0, vec![p("1", "a.md"), p("2", "a.md"), p("3", "b.md")])]);
        let top = best_per_document(fused, 5);
        assert_eq!(top.iter().map(|s| s.passage.chunk_id.as_str()).collect::<Vec<_>>(), ["1", "3"]);
    }
}
