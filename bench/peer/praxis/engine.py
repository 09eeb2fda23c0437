"""The peer engine's standards search, rebuilt for measurement on our corpus.

praxis-os (honeyhiveai/praxis-os, MIT) answers `search_standards` with a
Python engine: markdown split at `##`/`###` headers, each passage embedded by
sentence-transformers all-MiniLM-L6-v2, one LanceDB table, a flat vector query
per search and a one-hour in-process answer cache. This file does the same
steps, written here from a reading of that engine (see README.md beside it for
what was read and what differs); it imports nothing from praxis-os.

Run by run.sh; prints each figure as it goes and writes a JSON summary.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import shutil
import sys
import threading
import time
from pathlib import Path

TABLE = "praxis_os_standards"
MAX_CHUNK_TOKENS = 500  # the peer's budget, in its estimate of 4 characters per token
CACHE_TTL_S = 3600
MAX_SEQ = 256  # word pieces the model reads (sentence-transformers' max_seq_length for this model)


# ---- chunking (the peer's rules) ---------------------------------------------


def est_tokens(text: str) -> int:
    return len(text) // 4


def sections(markdown: str) -> list[dict]:
    """Sections opened by lines starting with exactly `##` or `###`.

    As in the peer: text before the first such header (a `#` title and its
    introduction) is in no section, and every other line starting with `#`
    (`#`, `####`, a shell comment in a code block) is left out of the text;
    a `## ` line inside a code block opens a section too.
    """
    out: list[dict] = []
    cur: dict | None = None
    for line in markdown.split("\n"):
        s = line.strip()
        if s.startswith("#"):
            level = len(s) - len(s.lstrip("#"))
            if level in (2, 3):
                if cur is not None:
                    out.append(cur)
                cur = {"level": level, "header": s[level:].strip(), "content": ""}
            continue
        if cur is not None:
            cur["content"] += line + "\n"
    if cur is not None:
        out.append(cur)
    return out


def split_section(sec: dict) -> list[tuple[str, str]]:
    """(header, text) pieces: the section whole, or its paragraphs packed up to the budget."""
    if est_tokens(sec["content"]) <= MAX_CHUNK_TOKENS:
        return [(sec["header"], sec["content"])]
    pieces, acc = [], ""
    for para in sec["content"].split("\n\n"):
        if est_tokens(acc) + est_tokens(para) <= MAX_CHUNK_TOKENS:
            acc += para + "\n\n"
        else:
            if acc:
                pieces.append((sec["header"], acc))
            acc = para + "\n\n"
    if acc:
        pieces.append((sec["header"], acc))
    return pieces


TOPICS = {
    "mocking": ("mock", "stub", "patch", "unittest.mock"),
    "ast": ("ast.", "parse", "node", "abstract syntax"),
    "coverage": ("coverage", "pytest-cov", "branch"),
    "logging": ("logger", "logging.", "log."),
    "testing": ("pytest", "test_", "assert", "fixture"),
    "documentation": ("docstring", "sphinx", "rst"),
    "workflow": ("phase", "checkpoint", "workflow"),
    "git": ("commit", "branch", "repository"),
    "mcp": ("mcp", "model context protocol", "tool"),
    "rag": ("rag", "retrieval", "embedding", "vector"),
}
ALARMS = ("\U0001f6d1", "\u26a0\ufe0f", "\u274c", "\U0001f6a8", "\u203c\ufe0f")


def metadata(text: str, rel: str) -> dict:
    """The per-passage metadata columns the peer's table carries (same names and types)."""
    low = text.lower()
    words = text.split()
    phase = 0
    for i, w in enumerate(words[:-1]):
        if w.lower().startswith("phase") and words[i + 1].strip(":,.").isdigit():
            phase = int(words[i + 1].strip(":,."))
            break
    critical = False
    for line in text.split("\n"):
        s = line.strip()
        if s.startswith(("**", "##")) and sum(c.isupper() for c in s) > len(s) * 0.5:
            critical = True
        elif any(a in s for a in ALARMS):
            critical = True
        elif any(w in s.lower() for w in ("must", "required", "mandatory", "critical")) and (
            "**" in s or s.isupper() or len(s.split()) < 10
        ):
            critical = True
        if critical:
            break
    tags = [t for t, keys in TOPICS.items() if any(k in low for k in keys)]
    if "```" in text:
        tags.append("code_example")
    parts = Path(rel).parts
    framework = "general"
    for i, p in enumerate(parts):
        if "test" in p.lower() and p != "tests":
            framework = "test_framework"
            break
        if "code-generation" in p and i + 1 < len(parts):
            framework = parts[i + 1]
            break
    headers = [ln.strip().lstrip("#").strip() for ln in text.split("\n") if ln.strip().startswith("#")]
    return {
        "parent_headers": json.dumps(headers),
        "phase": phase,
        "framework_type": framework,
        "category": "requirement" if critical else "guidance",
        "is_critical": critical,
        "tags": json.dumps(tags),
    }


def chunk_corpus(root: Path) -> list[dict]:
    rows = []
    for f in sorted(root.rglob("*.md")):
        if any(p in f.parts for p in ("_build", ".cache", "node_modules")):
            continue
        rel = f.relative_to(root).as_posix()
        for sec in sections(f.read_text(encoding="utf-8")):
            for header, body in split_section(sec):
                text = body.strip()
                rows.append(
                    {
                        "chunk_id": hashlib.md5(text.encode()).hexdigest(),
                        "content": text,
                        "file_path": rel,
                        "section_header": header,
                        "token_count": est_tokens(text),
                        **metadata(text, rel),
                    }
                )
    return rows


# ---- embedding ---------------------------------------------------------------


class StockEmbedder:
    """sentence-transformers on PyTorch, the peer's own setup."""

    def __init__(self, model_dir: Path):
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(model_dir), device="cpu")
        self.name = f"sentence-transformers + torch, fp32 safetensors ({model_dir.name})"

    def one(self, text: str) -> list[float]:
        return self.model.encode(text, convert_to_numpy=True).tolist()

    def many(self, texts: list[str], batch: int):
        return self.model.encode(texts, batch_size=batch, convert_to_numpy=True)


class OnnxEmbedder:
    """The same pipeline (word pieces, mean pooling, L2 norm) on onnxruntime and our int8 model file."""

    def __init__(self, model_dir: Path):
        import numpy as np
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.np = np
        self.tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tok.enable_truncation(MAX_SEQ)
        self.tok.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest in the batch
        opts = ort.SessionOptions()
        self.sess = ort.InferenceSession(str(model_dir / "model.onnx"), opts, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.sess.get_inputs()}
        self.name = f"onnxruntime {ort.__version__} + tokenizers, int8 model.onnx ({model_dir})"

    def _run(self, texts: list[str]):
        np = self.np
        enc = self.tok.encode_batch(texts)
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        hidden = self.sess.run(None, feed)[0]
        m = mask[:, :, None].astype(hidden.dtype)
        pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)

    def one(self, text: str) -> list[float]:
        return self._run([text])[0].tolist()

    def many(self, texts: list[str], batch: int):
        return self.np.concatenate([self._run(texts[i : i + batch]) for i in range(0, len(texts), batch)])


# ---- the engine ----------------------------------------------------------------


class Engine:
    """Vector search over one LanceDB table with the peer's one-hour answer cache."""

    def __init__(self, db_dir: Path, embedder):
        import lancedb

        self.lancedb = lancedb
        self.db_dir = db_dir
        self.embedder = embedder
        self.cache: dict[str, tuple] = {}
        self.lock = threading.RLock()
        self.table = None

    def build(self, rows: list[dict]) -> None:
        """Cold build as the peer's index builder does it: one model call per passage, then one table."""
        records = []
        for r in rows:
            records.append({**r, "vector": self.embedder.one(r["content"])})
        db = self.lancedb.connect(str(self.db_dir))
        self.table = db.create_table(TABLE, records, mode="overwrite")

    def open(self) -> None:
        self.table = self.lancedb.connect(str(self.db_dir)).open_table(TABLE)

    def add_fts(self) -> None:
        self.table.create_fts_index("content", use_tantivy=False)

    @staticmethod
    def key(query: str, n: int, filters=None) -> str:
        return hashlib.md5(f"{query}:{n}:{json.dumps(filters, sort_keys=True)}".encode()).hexdigest()

    def search(self, query: str, n: int = 5, use_cache: bool = True) -> list[dict]:
        k = self.key(query, n)
        if use_cache:
            with self.lock:
                hit = self.cache.get(k)
                if hit is not None:
                    if time.time() - hit[1] <= CACHE_TTL_S:
                        return hit[0]
                    del self.cache[k]
        with self.lock:
            out = self.vector(query, n)
            self.cache[k] = (out, time.time())
            if len(self.cache) > 100:
                now = time.time()
                for old in [x for x, (_, t) in list(self.cache.items()) if now - t > CACHE_TTL_S]:
                    del self.cache[old]
            return out

    def vector(self, query: str, n: int, vec=None) -> list[dict]:
        vec = self.embedder.one(query) if vec is None else vec
        raw = self.table.search(vec).limit(n * 2).to_list()
        return [self._chunk(r) for r in raw[:n]]

    @staticmethod
    def _chunk(r: dict) -> dict:
        return {
            "content": r["content"],
            "file_path": r["file_path"],
            "section_header": r["section_header"],
            "parent_headers": json.loads(r.get("parent_headers") or "[]"),
            "token_count": r["token_count"],
            "phase": r["phase"],
            "framework_type": r["framework_type"],
            "category": r.get("category", ""),
            "is_critical": r["is_critical"],
            "tags": json.loads(r.get("tags") or "[]"),
            "score": r.get("_distance", 0.0),
        }

    def hybrid(self, query: str, n: int) -> list[dict]:
        """The later praxis-os StandardsIndex: 20 by vector + 20 by LanceDB full text, reciprocal rank fusion (k=60)."""
        vec = self.table.search(self.embedder.one(query)).limit(20).to_list()
        try:
            fts = self.table.search(query, query_type="fts").limit(20).to_list()
        except Exception:  # the peer goes on with vector only when full text fails
            fts = []
        score: dict[str, float] = {}
        rows: dict[str, dict] = {}
        for lst in (vec, fts):
            for rank, r in enumerate(lst, start=1):
                cid = r.get("chunk_id") or f"{r['file_path']}:{r['content'][:50]}"
                score[cid] = score.get(cid, 0.0) + 1.0 / (60 + rank)
                rows.setdefault(cid, r)
        best = sorted(score.items(), key=lambda kv: kv[1], reverse=True)[:n]
        return [self._chunk(rows[c]) for c, _ in best]


# ---- scoring (the same definitions as host/src/rag/eval.rs) ---------------------


def parse_queries(path: Path) -> list[dict]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.rstrip("\r")
        if not line.strip() or line.startswith("#"):
            continue
        qid, text, exp = line.split("\t")
        expected = []
        for item in filter(None, (s.strip() for s in exp.split(","))):
            p, rel, rank = item.rsplit(":", 2)
            expected.append((p, int(rel), int(rank)))
        out.append({"id": qid, "query": text, "expected": expected})
    return out


def score(q: dict, ranked: list[str]) -> dict:
    pos = {p: i + 1 for i, p in reversed(list(enumerate(ranked)))}
    must = [e for e in q["expected"] if e[1] >= 3]
    recall5 = sum(1 for e in must if pos.get(e[0], 99) <= 5) / len(must) if must else None
    rank_ok = sum(1 for e in must if pos.get(e[0], 99) <= max(e[2], 1)) / len(must) if must else None
    first = q["expected"][0][0] if q["expected"] else None
    rr = 1.0 / pos[first] if first in pos else 0.0
    rel = {e[0]: e[1] for e in q["expected"]}
    gain = lambda r: 2.0**r - 1.0  # noqa: E731
    dcg = sum(gain(rel.get(p, 0)) / math.log2(i + 2) for i, p in enumerate(ranked[:5]))
    ideal = sorted((e[1] for e in q["expected"]), reverse=True)[:5]
    idcg = sum(gain(r) / math.log2(i + 2) for i, r in enumerate(ideal))
    return {"recall5": recall5, "rr": rr, "ndcg5": dcg / idcg if idcg else 0.0, "rank_ok": rank_ok}


def summarize(scores: list[dict]) -> dict:
    def mean(v):
        v = [x for x in v if x is not None]
        return sum(v) / len(v) if v else 0.0

    return {
        "queries": len(scores),
        "recall5": mean(s["recall5"] for s in scores),
        "mrr": mean(s["rr"] for s in scores),
        "ndcg5": mean(s["ndcg5"] for s in scores),
        "rank_ok": mean(s["rank_ok"] for s in scores),
    }


def paths_of(chunks: list[dict]) -> list[str]:
    """Document paths in rank order, each once (the first passage of a file ranks it)."""
    seen, out = set(), []
    for c in chunks:
        if c["file_path"] not in seen:
            seen.add(c["file_path"])
            out.append(c["file_path"])
    return out


# ---- measuring -------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest rank, as host/src/rag/eval.rs::percentile."""
    if not values:
        return 0.0
    v = sorted(values)
    rank = max(1, math.ceil(p / 100.0 * len(v)))
    return v[min(rank, len(v)) - 1]


class Report:
    def __init__(self):
        self.figures: dict[str, dict] = {}

    def timing(self, name: str, ms: list[float]) -> dict:
        f = {
            "n": len(ms),
            "p50": percentile(ms, 50),
            "p95": percentile(ms, 95),
            "p99": percentile(ms, 99),
            "max": max(ms) if ms else 0.0,
        }
        self.figures[name] = f
        print(
            f"{name:<58} n={f['n']:<4} p50={f['p50']:>9.3f} ms  p95={f['p95']:>9.3f} ms"
            f"  p99={f['p99']:>9.3f} ms  max={f['max']:>9.3f} ms",
            flush=True,
        )
        return f

    def value(self, name: str, v) -> None:
        self.figures[name] = v
        print(f"{name:<58} {v}", flush=True)


def ms_since(t: float) -> float:
    return (time.perf_counter() - t) * 1e3


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", choices=["stock", "onnx"], required=True)
    ap.add_argument("--model-dir", type=Path, required=True)
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--queries", type=Path, required=True)
    ap.add_argument("--work", type=Path, required=True, help="scratch folder (emptied)")
    ap.add_argument("--out", type=Path, required=True, help="JSON summary")
    ap.add_argument("--passes", type=int, default=4, help="passes over the queries (1 new + the rest repeated)")
    ap.add_argument("--throughput-chunks", type=int, default=512)
    a = ap.parse_args()

    load0 = os.getloadavg()
    rep = Report()
    shutil.rmtree(a.work, ignore_errors=True)
    a.work.mkdir(parents=True)
    graded = parse_queries(a.queries)
    print(f"peer engine ({a.backend}): {len(graded)} graded queries, corpus {a.corpus}", flush=True)

    t = time.perf_counter()
    embedder = StockEmbedder(a.model_dir) if a.backend == "stock" else OnnxEmbedder(a.model_dir)
    rep.value("model load (ms)", round(ms_since(t), 1))
    rep.value("embedder", embedder.name)

    # Cold index build: chunk, embed each passage, write the table.
    t = time.perf_counter()
    rows = chunk_corpus(a.corpus)
    chunk_ms = ms_since(t)
    files = len({r["file_path"] for r in rows})
    engine = Engine(a.work / "index", embedder)
    engine.build(rows)
    build_s = ms_since(t) / 1e3
    rep.value("cold index build (s)", round(build_s, 2))
    rep.value("chunks", len(rows))
    rep.value("files with chunks", files)
    rep.value("chunking alone (ms)", round(chunk_ms, 1))
    t = time.perf_counter()
    engine.add_fts()
    rep.value("full-text index build, later version only (ms)", round(ms_since(t), 1))
    engine.open()  # as the server does: a fresh handle on the built table

    # The model alone in batches of 64 (as our bench's throughput row), on the first
    # --throughput-chunks passages (all with 0) to keep a run short on a loaded machine.
    texts = [r["content"] for r in rows]
    if a.throughput_chunks > 0:
        texts = texts[: a.throughput_chunks]
    t = time.perf_counter()
    engine.embedder.many(texts, 64)
    rate = round(len(texts) / (ms_since(t) / 1e3), 1)
    rep.value(f"embedding throughput, batches of 64, {len(texts)} passages (chunks/s)", rate)

    # Warm-up: texts never used again, cache bypassed.
    for g in graded:
        engine.search(g["query"] + " warm-up", use_cache=False)

    # A new query: a text not asked before (cache miss: embedding + LanceDB query).
    # A repeated query: the same text again, answered by the one-hour cache.
    first, again = [], []
    for p in range(a.passes):
        for g in graded:
            q = g["query"] + " (vector)"
            t = time.perf_counter()
            engine.search(q)
            (first if p == 0 else again).append(ms_since(t))
    rep.timing("search vector, a new query", first)
    rep.timing("search vector, a repeated query (1 h cache hit)", again)

    # Where a new query goes: the embedding, the LanceDB query (+ rows to dicts).
    emb, lance, vecs = [], [], []
    for g in graded:
        t = time.perf_counter()
        vecs.append(engine.embedder.one(g["query"]))
        emb.append(ms_since(t))
    for _ in range(3):
        for g, v in zip(graded, vecs):
            t = time.perf_counter()
            engine.vector(g["query"], 5, vec=v)
            lance.append(ms_since(t))
    rep.timing("  of which: embedding a query", emb)
    rep.timing("  of which: LanceDB vector query (limit 10) + rows", lance)

    # The later praxis-os version (vector + full text, RRF), no cache, new texts.
    hyb = []
    for g in graded:
        t = time.perf_counter()
        engine.hybrid(g["query"] + " (hybrid)", 5)
        hyb.append(ms_since(t))
    rep.timing("search hybrid (later version), a new query", hyb)

    # Quality on the graded queries: limit 10 as `agent-os eval` asks, paths scored at their first passage.
    qual = {}
    for name, fn in (("vector", lambda q: engine.vector(q, 10)), ("hybrid", lambda q: engine.hybrid(q, 10))):
        s = summarize([score(g, paths_of(fn(g["query"]))) for g in graded])
        qual[name] = s
        rep.value(
            f"quality {name}",
            f"Recall@5 {s['recall5']:.3f}  MRR {s['mrr']:.3f}  nDCG@5 {s['ndcg5']:.3f}  ranked-in-place {s['rank_ok']:.3f}",
        )
    # And as the tool answers by default (5 passages).
    s = summarize([score(g, paths_of(engine.vector(g["query"], 5))) for g in graded])
    qual["vector_n5"] = s
    rep.value(
        "quality vector, 5 passages (the tool's default)",
        f"Recall@5 {s['recall5']:.3f}  MRR {s['mrr']:.3f}  nDCG@5 {s['ndcg5']:.3f}",
    )

    import lancedb

    summary = {
        "backend": a.backend,
        "python": platform.python_version(),
        "lancedb": lancedb.__version__,
        "figures": rep.figures,
        "quality": qual,
        "cores": os.cpu_count(),
        "load_at_start": load0,
        "load_at_end": os.getloadavg(),
    }
    a.out.write_text(json.dumps(summary, indent=2))
    print(f"summary written to {a.out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
