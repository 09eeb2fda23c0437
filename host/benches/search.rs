//! Standards-search figures on the public bench corpus: full index build,
//! no-change re-sync, warm search latency per mode, and save-to-searchable
//! time for one edited file with the watcher running. Prints numbers only.
//!
//! Run: `cargo bench -p agent-os --bench search` (release) or add
//! `--profile dev`. The corpus defaults to `../shared/bench/corpus-praxis`
//! beside the repository; set AGENT_OS_BENCH_CORPUS and
//! AGENT_OS_BENCH_QUERIES to use another.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use agent_os::rag::{Index, Mode, Query, Source, eval, watch};

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_tree(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

fn stats(name: &str, mut v: Vec<f64>) {
    v.sort_by(f64::total_cmp);
    println!(
        "{name:<40} n={:<4} p50={:>8.2} ms  p95={:>8.2} ms  max={:>8.2} ms",
        v.len(),
        eval::percentile(&v, 50.0),
        eval::percentile(&v, 95.0),
        v.last().copied().unwrap_or(0.0)
    );
}

#[tokio::main]
async fn main() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let corpus = std::env::var_os("AGENT_OS_BENCH_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join("../shared/bench/corpus-praxis"));
    let queries = std::env::var_os("AGENT_OS_BENCH_QUERIES")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join("../shared/bench/praxis-queries.tsv"));
    if !corpus.is_dir() || !queries.is_file() {
        println!("search bench skipped: no corpus at {} (set AGENT_OS_BENCH_CORPUS)", corpus.display());
        return;
    }
    println!("agent-os search benchmark ({})", if cfg!(debug_assertions) { "dev profile" } else { "release profile" });
    let graded = eval::parse_queries("queries", &std::fs::read_to_string(&queries).unwrap()).unwrap();
    let work = tempfile::tempdir().unwrap();
    let docs = work.path().join("corpus");
    copy_tree(&corpus, &docs);
    let sources = vec![Source::Dir { root: docs.clone(), prefix: String::new(), confine: None }];
    // A fresh embedding cache, so the first build embeds every passage; the
    // model stays where it is installed (it lives in the cache folder too).
    if let Ok(paths) = agent_os::rag::ModelPaths::from_env() {
        // SAFETY: set before any thread reads these environment variables.
        unsafe {
            std::env::set_var("AGENT_OS_MODEL_DIR", &paths.model_dir);
            std::env::set_var("AGENT_OS_ORT_LIB", &paths.ort_lib);
        }
    }
    // SAFETY: as above.
    unsafe { std::env::set_var("AGENT_OS_CACHE_DIR", work.path().join("cache")) };

    let t = Instant::now();
    let model = Index::load_model().await;
    let load = t.elapsed();
    match &model {
        Ok(m) => println!("model {} loaded in {:.0} ms", m.name, load.as_secs_f64() * 1e3),
        Err(e) => println!("no model ({e}); full-text figures only"),
    }
    let index = Arc::new(Index::open(&work.path().join("index"), sources, model).await.unwrap());
    let t = Instant::now();
    let r = index.sync().await.unwrap();
    println!(
        "full index build, cold: {} files, {} chunks in {:.2} s ({:.1} chunks/s)",
        r.files,
        r.chunks_total,
        t.elapsed().as_secs_f64(),
        r.chunks_total as f64 / t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let r = index.rebuild().await.unwrap();
    println!("full rebuild, embeddings cached: {} chunks in {:.2} s", r.chunks_total, t.elapsed().as_secs_f64());
    let mut resync = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        index.sync().await.unwrap();
        resync.push(t.elapsed().as_secs_f64() * 1e3);
    }
    stats("re-sync, nothing changed", resync);

    let modes = if index.degraded().is_some() {
        vec![Mode::FullText]
    } else {
        vec![Mode::Hybrid, Mode::Vector, Mode::FullText]
    };
    for mode in modes {
        let mut lat = Vec::new();
        for pass in 0..3 {
            for g in &graded {
                let mut q = Query::new(g.query.clone());
                q.mode = mode;
                q.use_cache = false;
                let t = Instant::now();
                index.search(&q).await.unwrap();
                if pass > 0 {
                    lat.push(t.elapsed().as_secs_f64() * 1e3);
                }
            }
        }
        stats(&format!("search warm, uncached, {mode}"), lat);
    }
    let mut cached = Vec::new();
    for g in &graded {
        let q = Query::new(g.query.clone());
        index.search(&q).await.unwrap();
        let t = Instant::now();
        index.search(&q).await.unwrap();
        cached.push(t.elapsed().as_secs_f64() * 1e3);
    }
    stats("search, cache hit", cached);

    // Save-to-searchable with the watcher running.
    let _watcher = watch::spawn(index.clone()).unwrap();
    let file = docs.join("universal/testing/test-pyramid.md");
    let original = std::fs::read_to_string(&file).unwrap();
    let mut lat = Vec::new();
    for i in 0..5 {
        let word = format!("zorblax{i}quintessence");
        std::fs::write(
            &file,
            format!("{original}\n\n## Appendix {i}\n\nThe {word} rule applies to every pyramid layer.\n"),
        )
        .unwrap();
        let t = Instant::now();
        loop {
            let mut q = Query::new(word.clone());
            q.mode = Mode::FullText;
            q.use_cache = false;
            let a = index.search(&q).await.unwrap();
            if a.hits.iter().any(|h| h.snippet.contains(&word)) {
                break;
            }
            assert!(t.elapsed() < Duration::from_secs(60), "edit never became searchable");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        lat.push(t.elapsed().as_secs_f64() * 1e3);
    }
    stats("save to searchable (one edited file)", lat);
}
