//! The internal module dependency graph of the material: which module
//! imports which (Rust `mod`/`use crate::`/`super::`, Python imports,
//! relative JS/TS imports, Go imports under the module path), with fan-in,
//! fan-out and cycles.

use std::collections::{BTreeMap, BTreeSet};

use agent_os_persona_sdk::brief::{Finding, Severity};
use agent_os_persona_sdk::context::{Language, SourceFile};
use agent_os_persona_sdk::{javascript, python};

/// A module that depends on more internal modules than this is reported.
pub const MAX_FAN_OUT: usize = 7;
/// At most this many modules are listed in the summary.
const SUMMARY_LIMIT: usize = 40;

/// Internal modules and the modules each one imports.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Graph {
    /// Module → the internal modules it imports.
    pub deps: BTreeMap<String, BTreeSet<String>>,
    /// Module → the file it was read from, for modules in the material.
    pub files: BTreeMap<String, String>,
    /// Module → imports that look internal (relative, or a path alias) but
    /// name no module the material resolves to.
    pub unresolved: BTreeMap<String, BTreeSet<String>>,
    /// Edges left out of cycle detection: a Rust module and its own parent
    /// or child, and imports that run only when called (a Python import
    /// inside a function, a JS `import()`).
    nested: BTreeSet<(String, String)>,
    /// The line (in the importing file's own numbering) of each edge's first import.
    at: BTreeMap<(String, String), usize>,
}

impl Graph {
    /// How many modules import `module`.
    pub fn fan_in(&self, module: &str) -> usize {
        self.deps.values().filter(|d| d.contains(module)).count()
    }

    /// How many modules `module` imports.
    pub fn fan_out(&self, module: &str) -> usize {
        self.deps.get(module).map_or(0, BTreeSet::len)
    }

    fn add_unresolved(&mut self, from: &str, spec: &str) {
        self.unresolved.entry(from.to_string()).or_default().insert(spec.to_string());
    }

    fn add_node(&mut self, m: &str) {
        self.deps.entry(m.to_string()).or_default();
    }

    /// An edge whose import is on `line` of the importing file. An edge
    /// imported both lazily and at load time counts as a load-time one.
    fn add_edge_at(&mut self, from: &str, to: &str, nested: bool, line: Option<usize>) {
        if from == to || to.is_empty() {
            return;
        }
        self.add_node(to);
        let key = (from.to_string(), to.to_string());
        let new = self.deps.entry(from.to_string()).or_default().insert(to.to_string());
        if nested && new {
            self.nested.insert(key.clone());
        } else if !nested && self.nested.remove(&key) {
            self.at.remove(&key);
        }
        if let Some(l) = line {
            self.at.entry(key).or_insert(l);
        }
    }

    /// The line of `from`'s first import of `to`, when known.
    pub fn line_of(&self, from: &str, to: &str) -> Option<usize> {
        self.at.get(&(from.to_string(), to.to_string())).copied()
    }

    /// Every dependency cycle, each as the modules in order (the first repeated at the end).
    pub fn cycles(&self) -> Vec<Vec<String>> {
        let edges = |m: &str| -> Vec<String> {
            self.deps
                .get(m)
                .map(|d| d.iter().filter(|t| !self.nested.contains(&(m.to_string(), (*t).clone()))).cloned().collect())
                .unwrap_or_default()
        };
        let mut out = Vec::new();
        for scc in self.components(&edges) {
            if scc.len() < 2 {
                continue;
            }
            // Every pair of modules that import each other is a cycle of its
            // own; then a shortest cycle through the first module no pair covers.
            let mut covered: BTreeSet<&String> = BTreeSet::new();
            for (i, a) in scc.iter().enumerate() {
                for b in &scc[i + 1..] {
                    if edges(a).contains(b) && edges(b).contains(a) {
                        out.push(vec![a.clone(), b.clone(), a.clone()]);
                        covered.insert(a);
                        covered.insert(b);
                    }
                }
            }
            let Some(start) = scc.iter().find(|m| !covered.contains(m)).cloned() else { continue };
            let mut prev: BTreeMap<String, String> = BTreeMap::new();
            let mut queue = std::collections::VecDeque::from([start.clone()]);
            let mut found = None;
            while let Some(m) = queue.pop_front() {
                for t in edges(&m) {
                    if !scc.contains(&t) {
                        continue;
                    }
                    if t == start {
                        found = Some(m.clone());
                        break;
                    }
                    if !prev.contains_key(&t) {
                        prev.insert(t.clone(), m.clone());
                        queue.push_back(t);
                    }
                }
                if found.is_some() {
                    break;
                }
            }
            let Some(mut m) = found else { continue };
            let mut path = vec![start.clone()];
            let mut back = vec![m.clone()];
            while let Some(p) = prev.get(&m) {
                back.push(p.clone());
                m = p.clone();
            }
            back.pop_if(|p| *p == start);
            back.reverse();
            path.extend(back);
            path.push(start);
            out.push(path);
        }
        out
    }

    /// Strongly connected components (Tarjan), each sorted.
    fn components(&self, edges: &dyn Fn(&str) -> Vec<String>) -> Vec<Vec<String>> {
        struct State {
            index: BTreeMap<String, usize>,
            low: BTreeMap<String, usize>,
            stack: Vec<String>,
            on: BTreeSet<String>,
            next: usize,
            out: Vec<Vec<String>>,
        }
        fn visit(v: &str, s: &mut State, edges: &dyn Fn(&str) -> Vec<String>) {
            s.index.insert(v.into(), s.next);
            s.low.insert(v.into(), s.next);
            s.next += 1;
            s.stack.push(v.into());
            s.on.insert(v.into());
            for w in edges(v) {
                if !s.index.contains_key(&w) {
                    visit(&w, s, edges);
                    let lw = s.low[&w];
                    let lv = s.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(lw);
                } else if s.on.contains(&w) {
                    let iw = s.index[&w];
                    let lv = s.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(iw);
                }
            }
            if s.low[v] == s.index[v] {
                let mut comp = Vec::new();
                while let Some(w) = s.stack.pop() {
                    s.on.remove(&w);
                    let done = w == v;
                    comp.push(w);
                    if done {
                        break;
                    }
                }
                comp.sort();
                s.out.push(comp);
            }
        }
        let mut s = State {
            index: BTreeMap::new(),
            low: BTreeMap::new(),
            stack: Vec::new(),
            on: BTreeSet::new(),
            next: 0,
            out: Vec::new(),
        };
        for v in self.deps.keys() {
            if !s.index.contains_key(v) {
                visit(v, &mut s, edges);
            }
        }
        s.out.sort();
        s.out
    }
}

/// The dependency table (markdown, `None` for fewer than two modules) and
/// the cycle and fan-out findings for `files`.
pub fn analyse(files: &[SourceFile]) -> (Option<String>, Vec<Finding>) {
    let g = graph(files);
    if g.files.len() < 2 {
        return (None, Vec::new());
    }
    (Some(summary(&g)), findings(&g))
}

/// The graph as a markdown table: each module, its file, what it imports,
/// fan-in and fan-out.
pub fn summary(g: &Graph) -> String {
    let edges: usize = g.deps.values().map(BTreeSet::len).sum();
    let mut out = format!(
        "{} modules, {edges} internal imports.\n\n| module | file | imports | fan-in | fan-out |\n|---|---|---|---|---|\n",
        g.deps.len()
    );
    for (m, d) in g.deps.iter().take(SUMMARY_LIMIT) {
        let lost = g
            .unresolved
            .get(m)
            .filter(|u| !u.is_empty())
            .map(|u| format!("unresolved: {}", u.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ")));
        let to = match (d.is_empty(), lost) {
            (true, None) => "nothing internal".to_string(),
            (true, Some(lost)) => format!("nothing resolved; {lost}"),
            (false, lost) => {
                let known = d.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ");
                lost.map_or(known.clone(), |l| format!("{known}; {l}"))
            }
        };
        let file = g.files.get(m).map_or("(not in the material)", String::as_str);
        out.push_str(&format!("| `{m}` | {file} | {to} | {} | {} |\n", g.fan_in(m), g.fan_out(m)));
    }
    if g.deps.len() > SUMMARY_LIMIT {
        out.push_str(&format!("\nand {} more modules.\n", g.deps.len() - SUMMARY_LIMIT));
    }
    out
}

/// Cycles and modules with too high a fan-out.
fn findings(g: &Graph) -> Vec<Finding> {
    let mut out = Vec::new();
    for cycle in g.cycles() {
        let files: Vec<String> = cycle[..cycle.len() - 1]
            .iter()
            .map(|m| format!("`{m}` in {}", g.files.get(m).map_or("(not in the material)", |f| f.as_str())))
            .collect();
        // The architect's severity guide: "high means a costly-to-reverse
        // problem such as a breaking API, a dependency cycle or leaked internals".
        let finding = Finding::new(
            Severity::High,
            format!("Dependency cycle: {}", cycle.join(" → ")),
            format!(
                "These modules import each other ({}), so none can change, be tested or be split out alone; move the \
                 shared part into a module both depend on, or invert one dependency behind a trait/interface",
                files.join(", ")
            ),
        );
        // Where the cycle starts: the first module's import of the second.
        out.push(match (g.files.get(&cycle[0]), g.line_of(&cycle[0], &cycle[1])) {
            (Some(file), Some(line)) => finding.in_file(file.clone(), line),
            _ => finding,
        });
    }
    for (m, d) in &g.deps {
        if d.len() > MAX_FAN_OUT {
            let file = g.files.get(m).map(|f| format!(" ({f})")).unwrap_or_default();
            out.push(Finding::new(
                Severity::Medium,
                format!("High fan-out: `{m}`{file} imports {} internal modules", d.len()),
                format!(
                    "It depends on {}; a module that knows this much changes whenever any of them does — split it by responsibility",
                    d.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
    }
    out
}

/// The module graph of the files with paths.
pub fn graph(files: &[SourceFile]) -> Graph {
    let mut g = Graph::default();
    rust(files, &mut g);
    python(files, &mut g);
    js(files, &mut g);
    go(files, &mut g);
    g
}

/// Non-test, non-comment code of a file, one string: the other lines are
/// left empty, so line `i` of the result is line `i` of the file.
fn code(f: &SourceFile) -> String {
    f.lines().iter().map(|l| if l.in_test || l.comment { "" } else { l.text }).collect::<Vec<_>>().join("\n")
}

/// The number shown for the line of `text` at byte `at` (see [`code`]).
fn line_at(f: &SourceFile, text: &str, at: usize) -> usize {
    f.line_number(text[..at.min(text.len())].matches('\n').count())
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

// ---- Rust ----

/// (crate root, module path) of a Rust file: `core/src/db/pool.rs` → (`core/`, `db::pool`).
fn rust_module(path: &str) -> (String, String) {
    let (root, rel) = match path.rfind("src/") {
        Some(i) if i == 0 || path[..i].ends_with('/') => (&path[..i], &path[i + 4..]),
        _ => match path.rfind('/') {
            Some(i) => (&path[..=i], &path[i + 1..]),
            None => ("", path),
        },
    };
    let rel = rel.strip_suffix(".rs").unwrap_or(rel);
    let mut segs: Vec<&str> = rel.split('/').collect();
    if segs.last() == Some(&"mod") {
        segs.pop();
    }
    let module =
        if segs.len() == 1 && matches!(segs[0], "lib" | "main") { "crate".to_string() } else { segs.join("::") };
    (root.to_string(), module)
}

/// The paths of a use tree starting right after `crate::`/`super::`: `a::{b, c::D}` → [[a,b],[a,c,D]].
fn use_tree(s: &str) -> Vec<Vec<String>> {
    // The parser walks bytes; non-ASCII characters become '_' so every
    // position it slices at is a character boundary.
    let ascii: String = s.chars().map(|c| if c.is_ascii() { c } else { '_' }).collect();
    let s = ascii.as_str();
    fn parse(s: &str, pos: &mut usize) -> Vec<Vec<String>> {
        let b = s.as_bytes();
        let skip_ws = |pos: &mut usize| {
            while *pos < b.len() && (b[*pos] as char).is_whitespace() {
                *pos += 1;
            }
        };
        skip_ws(pos);
        if *pos < b.len() && b[*pos] == b'{' {
            *pos += 1;
            let mut out = Vec::new();
            loop {
                skip_ws(pos);
                if *pos >= b.len() {
                    return out;
                }
                if b[*pos] == b'}' {
                    *pos += 1;
                    return out;
                }
                if b[*pos] == b',' {
                    *pos += 1;
                    continue;
                }
                let before = *pos;
                out.extend(parse(s, pos));
                if *pos == before {
                    *pos += 1;
                }
            }
        }
        let start = *pos;
        while *pos < b.len() && is_ident(b[*pos] as char) {
            *pos += 1;
        }
        if start == *pos {
            return Vec::new();
        }
        let seg = s[start..*pos].to_string();
        if s[*pos..].starts_with("::") {
            *pos += 2;
            let rest = parse(s, pos);
            if rest.is_empty() {
                return vec![vec![seg]];
            }
            return rest
                .into_iter()
                .map(|mut r| {
                    r.insert(0, seg.clone());
                    r
                })
                .collect();
        }
        vec![vec![seg]]
    }
    let mut pos = 0;
    parse(s, &mut pos)
}

fn rust(files: &[SourceFile], g: &mut Graph) {
    let rs: Vec<(&SourceFile, String, String)> = files
        .iter()
        .filter(|f| f.language == Language::Rust && !f.is_test())
        .filter_map(|f| {
            let p = f.path.as_deref()?;
            let (root, m) = rust_module(p);
            Some((f, root, m))
        })
        .collect();
    let roots: BTreeSet<&str> = rs.iter().map(|(_, r, _)| r.as_str()).collect();
    let qualify = |root: &str, m: &str| -> String {
        if roots.len() > 1 {
            let name = root.trim_end_matches('/').rsplit('/').next().filter(|n| !n.is_empty()).unwrap_or("root");
            format!("{name}/{m}")
        } else {
            m.to_string()
        }
    };
    // Modules known from files and from `mod x;` declarations, per crate root.
    let mut known: BTreeSet<(String, String)> = BTreeSet::new();
    for (f, root, m) in &rs {
        known.insert((root.clone(), m.clone()));
        for line in code(f).lines() {
            let t = line.trim_start().trim_start_matches("pub(crate) ").trim_start_matches("pub ");
            if let Some(name) = t.strip_prefix("mod ").map(|r| r.trim_end_matches(';').trim()) {
                if name.chars().all(is_ident) && t.ends_with(';') {
                    let child = if m == "crate" { name.to_string() } else { format!("{m}::{name}") };
                    known.insert((root.clone(), child));
                }
            }
        }
    }
    for (f, root, m) in &rs {
        let from = qualify(root, m);
        g.add_node(&from);
        g.files.insert(from.clone(), f.path.clone().unwrap_or_default());
        let text = code(f);
        let resolve = |segs: &[String]| -> Option<String> {
            for n in (1..=segs.len()).rev() {
                let cand = segs[..n].join("::");
                if known.contains(&(root.clone(), cand.clone())) {
                    return Some(cand);
                }
            }
            // `crate::x::Y` names a module `x` not in the material; `crate::Y` an item of the root.
            let first = segs.first()?;
            (segs.len() > 1 && first.chars().next().is_some_and(|c| c.is_lowercase())).then(|| first.clone())
        };
        let parent = |m: &str| -> String {
            match m.rsplit_once("::") {
                Some((p, _)) => p.to_string(),
                None => "crate".to_string(),
            }
        };
        let mut targets: Vec<(String, usize)> = Vec::new();
        for (kw, base) in [("crate::", None), ("super::", Some(parent(m))), ("self::", Some(m.clone()))] {
            for (i, _) in text.match_indices(kw) {
                if text[..i].chars().next_back().is_some_and(|c| is_ident(c) || c == ':') {
                    continue;
                }
                for mut segs in use_tree(&text[i + kw.len()..]) {
                    if let Some(b) = &base
                        && b != "crate"
                    {
                        let mut full: Vec<String> = b.split("::").map(String::from).collect();
                        full.append(&mut segs);
                        segs = full;
                    }
                    let t = resolve(&segs).unwrap_or_else(|| base.clone().unwrap_or_else(|| "crate".into()));
                    targets.push((t, line_at(f, &text, i)));
                }
            }
        }
        targets.sort_by_key(|(_, line)| *line);
        for (t, line) in targets {
            let nested =
                t == "crate" || m == "crate" || t.starts_with(&format!("{m}::")) || m.starts_with(&format!("{t}::"));
            g.add_edge_at(&from, &qualify(root, &t), nested, Some(line));
        }
    }
}

// ---- Python ----

fn python_module(path: &str) -> String {
    let p = path.strip_prefix("src/").unwrap_or(path);
    let p = p.strip_suffix(".py").unwrap_or(p);
    let p = p.strip_suffix("/__init__").unwrap_or(p);
    p.replace('/', ".")
}

fn python(files: &[SourceFile], g: &mut Graph) {
    let py: Vec<(&SourceFile, String)> = files
        .iter()
        .filter(|f| f.language == Language::Python && !f.is_test())
        .filter_map(|f| Some((f, python_module(f.path.as_deref()?))))
        .collect();
    let known: BTreeSet<&str> = py.iter().map(|(_, m)| m.as_str()).collect();
    let tops: BTreeSet<&str> = known.iter().map(|m| m.split('.').next().unwrap_or(m)).collect();
    for (f, m) in &py {
        g.add_node(m);
        g.files.insert(m.clone(), f.path.clone().unwrap_or_default());
        let is_pkg = f.path.as_deref().is_some_and(|p| p.ends_with("__init__.py"));
        let package: Vec<&str> = {
            let mut s: Vec<&str> = m.split('.').collect();
            if !is_pkg {
                s.pop();
            }
            s
        };
        // `from app.models import X` in `backend/app/views.py` names
        // `backend.app.models`: the project root above the package is not part
        // of the import, so a dotted name also matches the end of a module path.
        let resolve = |dotted: &str| -> Option<String> {
            let mut segs: Vec<&str> = dotted.split('.').collect();
            while !segs.is_empty() {
                let cand = segs.join(".");
                if known.contains(cand.as_str()) {
                    return Some(cand);
                }
                let tail = format!(".{cand}");
                let mut ends = known.iter().filter(|k| k.ends_with(&tail));
                if let (Some(one), None) = (ends.next(), ends.next()) {
                    return Some((*one).to_string());
                }
                segs.pop();
            }
            None
        };
        // Package names anywhere in the material's paths (`backend/app/x.py` → `app`).
        let inner: BTreeSet<&str> = known.iter().flat_map(|m| m.split('.')).collect();
        // The parser reads the imports as Python does (a multi-line or
        // backslash-continued import, a string that only looks like one);
        // a file it cannot parse is read line by line.
        let imports = match python::parse(&f.text) {
            Some(module) => python::imports(&module),
            None => python_imports_by_lines(f),
        };
        // (module, line index, inside a function: runs only when called).
        let mut targets: Vec<(String, usize, bool)> = Vec::new();
        let mut lost: Vec<String> = Vec::new();
        for imp in imports {
            let (index, lazy) = (imp.line, imp.deferred);
            if imp.names.is_empty() {
                // `import a.b`
                let name = imp.module.as_str();
                let first = name.split('.').next().unwrap_or("");
                if tops.contains(first) {
                    targets.push((resolve(name).unwrap_or_else(|| name.to_string()), index, lazy));
                } else if inner.contains(first) {
                    match resolve(name) {
                        Some(r) => targets.push((r, index, lazy)),
                        None => lost.push(name.to_string()),
                    }
                }
                continue;
            }
            let src = imp.source();
            let dots = imp.level as usize;
            let base = if dots > 0 {
                let keep = package.len().saturating_sub(dots - 1);
                let mut b: Vec<&str> = package[..keep].to_vec();
                if !imp.module.is_empty() {
                    b.push(&imp.module);
                }
                b.join(".")
            } else {
                let first = src.split('.').next().unwrap_or("");
                if !tops.contains(first) {
                    // Under a project root: resolve by the path's end, or say it could not be.
                    if inner.contains(first) {
                        match resolve(&src) {
                            Some(r) => {
                                for name in &imp.names {
                                    let full = format!("{src}.{name}");
                                    targets.push((
                                        resolve(&full).filter(|f| f.len() > r.len()).unwrap_or(r.clone()),
                                        index,
                                        lazy,
                                    ));
                                }
                            }
                            None => lost.push(src.clone()),
                        }
                    }
                    continue;
                }
                src.clone()
            };
            for name in &imp.names {
                if name.is_empty() || name == "*" {
                    continue;
                }
                let full = if base.is_empty() { name.to_string() } else { format!("{base}.{name}") };
                if let Some(r) = resolve(&full) {
                    targets.push((r, index, lazy));
                } else if !base.is_empty() {
                    targets.push((base.clone(), index, lazy));
                } else {
                    lost.push(format!("{src} import {name}"));
                }
            }
        }
        // A package and its own module importing each other at load time is
        // a real cycle in Python (`from app import db` in `app/models.py`,
        // `from app import models` in `app/__init__.py`); an import inside a
        // function runs only when it is called, so it closes no cycle.
        for (t, index, lazy) in targets {
            g.add_edge_at(m, &t, lazy, Some(f.line_number(index)));
        }
        for l in lost {
            g.add_unresolved(m, &l);
        }
    }
}

/// The imports of a Python file that does not parse, read line by line: a
/// `from x import (` list is followed to its `)`, and an import indented
/// under a `def` is deferred.
fn python_imports_by_lines(f: &SourceFile) -> Vec<python::Import> {
    let text = code(f);
    let mut lines = text.lines().enumerate();
    let mut out = Vec::new();
    let mut def_indent: Option<usize> = None;
    while let Some((index, line)) = lines.next() {
        let indent = line.len() - line.trim_start().len();
        if line.trim().is_empty() {
            continue;
        }
        if def_indent.is_some_and(|d| indent <= d) {
            def_indent = None;
        }
        let deferred = def_indent.is_some();
        let trimmed = line.trim_start();
        if !deferred && (trimmed.starts_with("def ") || trimmed.starts_with("async def ")) {
            def_indent = Some(indent);
        }
        let mut t = line.trim().to_string();
        if t.starts_with("from ") && t.contains("import (") && !t.contains(')') {
            for (_, more) in lines.by_ref() {
                t.push(' ');
                t.push_str(more.trim());
                if more.contains(')') {
                    break;
                }
            }
        }
        if let Some(rest) = t.strip_prefix("import ") {
            for part in rest.split(',') {
                let name = part.split_whitespace().next().unwrap_or("");
                if !name.is_empty() {
                    out.push(python::Import {
                        module: name.to_string(),
                        level: 0,
                        names: Vec::new(),
                        line: index,
                        deferred,
                    });
                }
            }
        } else if let Some(rest) = t.strip_prefix("from ") {
            let Some((src, names)) = rest.split_once(" import ") else { continue };
            let src = src.trim();
            let dots = src.chars().take_while(|c| *c == '.').count();
            let names: Vec<String> = names
                .trim_matches(['(', ')', ' '])
                .split(',')
                .map(|n| n.split_whitespace().next().unwrap_or("").to_string())
                .collect();
            out.push(python::Import {
                module: src[dots..].to_string(),
                level: dots as u32,
                names,
                line: index,
                deferred,
            });
        }
    }
    out
}

// ---- JavaScript / TypeScript ----

fn js_module(path: &str) -> String {
    let p = match path.rsplit_once('.') {
        Some((base, ext)) if !ext.contains('/') => base,
        _ => path,
    };
    p.strip_suffix("/index").unwrap_or(p).to_string()
}

/// Extensions an import specifier may carry for a JS/TS module.
const JS_EXTS: &[&str] = &["js", "ts", "jsx", "tsx", "mjs", "cjs", "mts", "cts"];

fn js(files: &[SourceFile], g: &mut Graph) {
    let ours: Vec<(&SourceFile, String)> = files
        .iter()
        .filter(|f| matches!(f.language, Language::JavaScript | Language::TypeScript) && !f.is_test())
        .filter_map(|f| Some((f, js_module(f.path.as_deref()?))))
        .collect();
    for (f, m) in &ours {
        g.add_node(m);
        let path = f.path.as_deref().unwrap_or("");
        g.files.insert(m.clone(), path.to_string());
        let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
        // (specifier, line, loaded only when called). The parser reads
        // imports and re-exports over several lines and leaves strings and
        // comments alone; a file it cannot parse is read line by line.
        let arena = javascript::Allocator::default();
        let found: Vec<(String, usize, bool)> = match javascript::parse(&arena, &f.text, Some(path)) {
            Some(program) => javascript::imports(&program, &javascript::Lines::new(&f.text))
                .into_iter()
                .map(|i| (i.spec, f.line_number(i.line), i.deferred))
                .collect(),
            None => js_imports_by_lines(f),
        };
        let mut specs: Vec<(String, usize, bool)> = Vec::new();
        let mut lost: Vec<String> = Vec::new();
        for (spec, line, lazy) in found {
            if spec == "." || spec == ".." || spec.starts_with("./") || spec.starts_with("../") {
                specs.push((spec, line, lazy));
            } else if spec.starts_with("@/") || spec.starts_with("~/") || spec.starts_with('#') {
                // A path alias from tsconfig/package.json: internal, but not resolvable here.
                lost.push(spec);
            }
        }
        // `./x`, `./x.js` (for `x.ts`), `./dir` and `.` (for `dir/index.ts`) all name a module.
        for (spec, line, lazy) in specs {
            // Stylesheets, images and data files are not modules.
            let last = spec.rsplit('/').next().unwrap_or("");
            if last.rsplit_once('.').is_some_and(|(b, ext)| {
                !b.is_empty()
                    && !ext.is_empty()
                    && !JS_EXTS.contains(&ext)
                    && ext.chars().all(|c| c.is_ascii_alphabetic())
            }) {
                continue;
            }
            let joined = agent_os_persona_sdk::paths::join_relative(dir, &spec);
            let target = match joined.rsplit_once('.') {
                Some((base, ext)) if JS_EXTS.contains(&ext) && !ext.contains('/') => base.to_string(),
                _ => joined,
            };
            let target = target.strip_suffix("/index").map(String::from).unwrap_or(target);
            // `.` at the project root names the root's `index`.
            let target = if target.is_empty() { "index".to_string() } else { target };
            g.add_edge_at(m, &target, lazy, Some(line));
        }
        for l in lost {
            g.add_unresolved(m, &l);
        }
    }
}

/// The import specifiers of a JS/TS file that does not parse, read from its
/// text: (specifier, line, loaded only when called).
fn js_imports_by_lines(f: &SourceFile) -> Vec<(String, usize, bool)> {
    let text = code(f);
    let mut out = Vec::new();
    for key in ["from ", "import ", "require(", "import("] {
        for (i, _) in text.match_indices(key) {
            let rest = text[i + key.len()..].trim_start();
            let Some(q) = rest.chars().next().filter(|c| matches!(c, '\'' | '"' | '`')) else { continue };
            let spec: String = rest[1..].chars().take_while(|c| *c != q).collect();
            out.push((spec, line_at(f, &text, i), key == "import("));
        }
    }
    out
}

// ---- Go ----

fn go(files: &[SourceFile], g: &mut Graph) {
    let module = files
        .iter()
        .find(|f| f.path.as_deref().is_some_and(|p| p == "go.mod" || p.ends_with("/go.mod")))
        .and_then(|f| f.text.lines().find_map(|l| l.trim().strip_prefix("module ").map(|m| m.trim().to_string())));
    let ours: Vec<(&SourceFile, String)> = files
        .iter()
        .filter(|f| f.language == Language::Go && !f.is_test())
        .filter_map(|f| {
            let p = f.path.as_deref()?;
            Some((f, p.rsplit_once('/').map_or(".", |(d, _)| d).to_string()))
        })
        .collect();
    let dirs: BTreeSet<&str> = ours.iter().map(|(_, d)| d.as_str()).collect();
    for (f, pkg) in &ours {
        g.add_node(pkg);
        g.files.entry(pkg.clone()).or_insert_with(|| f.path.clone().unwrap_or_default());
        let text = code(f);
        let mut in_block = false;
        for (index, line) in text.lines().enumerate() {
            let t = line.trim();
            let spec = if in_block {
                if t.starts_with(')') {
                    in_block = false;
                    continue;
                }
                t
            } else if t == "import (" {
                in_block = true;
                continue;
            } else if let Some(rest) = t.strip_prefix("import ") {
                rest
            } else {
                continue;
            };
            let Some(path) = spec.split('"').nth(1) else { continue };
            let target = match &module {
                Some(m) => path.strip_prefix(&format!("{m}/")).map(String::from),
                None => dirs
                    .iter()
                    .find(|d| **d != "." && (path == **d || path.ends_with(&format!("/{d}"))))
                    .map(|d| d.to_string()),
            };
            if let Some(t) = target {
                g.add_edge_at(pkg, &t, false, Some(f.line_number(index)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use agent_os_persona_sdk::context::Origin;

    use super::*;
    use agent_os_persona_sdk::testing::{awkward_files, file};

    #[test]
    fn survives_awkward_input() {
        let _ = analyse(&awkward_files());
    }

    fn deps(g: &Graph, m: &str) -> Vec<String> {
        g.deps.get(m).map(|d| d.iter().cloned().collect()).unwrap_or_default()
    }

    #[test]
    fn rust_uses_build_the_graph_and_a_cycle_is_named() {
        let files = [
            file("src/lib.rs", "pub mod orders;\npub mod billing;\nmod util;\npub use crate::orders::Order;\n"),
            file("src/orders.rs", "use crate::billing::Invoice;\nuse crate::{util, Error};\npub struct Order;\n"),
            file(
                "src/billing.rs",
                "use crate::orders::{self, Order};\n#[cfg(test)]\nmod tests {\n    use crate::util::x;\n}\n",
            ),
        ];
        let g = graph(&files);
        assert_eq!(deps(&g, "orders"), ["billing", "crate", "util"]);
        assert_eq!(deps(&g, "billing"), ["orders"]);
        assert_eq!(deps(&g, "crate"), ["orders"]);
        assert_eq!(g.cycles(), [vec!["billing".to_string(), "orders".into(), "billing".into()]]);
        let (table, f) = analyse(&files);
        let table = table.expect("a table for four modules");
        assert!(table.starts_with("4 modules, 5 internal imports."), "{table}");
        assert!(table.contains("| `orders` | src/orders.rs | `billing`, `crate`, `util` | 2 | 3 |"), "{table}");
        assert_eq!(f[0].title, "Dependency cycle: billing → orders → billing");
        assert_eq!(f[0].severity, Severity::High, "the architect's guide makes a dependency cycle high");
        assert!(f[0].detail.contains("`billing` in src/billing.rs, `orders` in src/orders.rs"), "{}", f[0].detail);
        assert_eq!(f.len(), 1);
    }

    #[test]
    fn parent_and_child_modules_are_not_a_cycle() {
        let files = [
            file("src/db/mod.rs", "mod pool;\npub use self::pool::Pool;\npub struct Config;\n"),
            file("src/db/pool.rs", "use super::Config;\n"),
        ];
        let g = graph(&files);
        assert_eq!(deps(&g, "db"), ["db::pool"]);
        assert_eq!(deps(&g, "db::pool"), ["db"]);
        assert!(g.cycles().is_empty());
    }

    #[test]
    fn a_python_package_and_its_module_importing_each_other_is_a_cycle_unless_the_import_is_deferred() {
        let files = [
            file(
                "app/__init__.py",
                "from flask import Flask\ndb = 1\n\ndef create_app():\n    from app.main import bp\n    return bp\n\nfrom app import models\n",
            ),
            file("app/models.py", "import os\nfrom app import db\n"),
            file("app/main/__init__.py", "bp = 1\nfrom app.main import routes\n"),
            file("app/main/routes.py", "from app import db\nfrom app.main import bp\n"),
        ];
        let g = graph(&files);
        assert_eq!(
            g.cycles(),
            [
                vec!["app".to_string(), "app.models".into(), "app".into()],
                vec!["app.main".into(), "app.main.routes".into(), "app.main".into()]
            ]
        );
        let found = findings(&g);
        let at: Vec<String> = found.iter().filter_map(|f| f.location()).collect();
        assert_eq!(at, ["app/__init__.py:8", "app/main/__init__.py:2"]);
    }

    #[test]
    fn js_imports_of_the_own_barrel_are_cycles_with_file_and_line() {
        let files = [
            file("src/index.ts", "export * from './client';\nexport * from './api';\nexport * from './types';\n"),
            file(
                "src/client.ts",
                "import { E } from '.';\nimport { Api } from './api';\nimport { T } from './types';\n",
            ),
            file(
                "src/api.ts",
                "import { E } from '.';\nimport { Client } from './client';\nconst lazy = () => import('./types');\n",
            ),
            file("src/types.ts", "export type T = string;\n"),
        ];
        let g = graph(&files);
        let cycles: Vec<String> = g.cycles().iter().map(|c| c.join(" ")).collect();
        assert_eq!(cycles, ["src src/api src", "src src/client src", "src/api src/client src/api"]);
        let at: Vec<String> = findings(&g).iter().filter_map(|f| f.location()).collect();
        assert_eq!(at, ["src/index.ts:2", "src/index.ts:1", "src/api.ts:2"]);
    }

    #[test]
    fn use_trees_expand() {
        assert_eq!(use_tree("a::{b, c::{D, e}}, x"), [vec!["a", "b"], vec!["a", "c", "D"], vec!["a", "c", "e"]]);
        assert_eq!(use_tree("f(x)"), [vec!["f"]]);
    }

    #[test]
    fn python_imports_absolute_and_relative() {
        let files = [
            file("shop/__init__.py", ""),
            file("shop/orders.py", "from shop.billing import invoice\nfrom . import util\nimport os\n"),
            file("shop/billing.py", "from .orders import Order\nimport requests\n"),
            file("shop/util.py", "import shop.orders as o\n"),
        ];
        let g = graph(&files);
        assert_eq!(deps(&g, "shop.orders"), ["shop.billing", "shop.util"]);
        assert_eq!(deps(&g, "shop.billing"), ["shop.orders"]);
        // Each pair that imports each other is named: orders ↔ billing, orders ↔ util.
        assert_eq!(g.cycles().len(), 2, "{:?}", g.cycles());
    }

    #[test]
    fn js_relative_imports_and_go_module_imports() {
        let files = [
            file("web/src/api/index.ts", "import { a } from './client';\nimport x from 'react';\n"),
            file("web/src/api/client.ts", "const u = require('../util/url');\nexport * from './index';\n"),
            file("go.mod", "module example.com/shop\n"),
            file("orders/orders.go", "package orders\nimport (\n\t\"fmt\"\n\t\"example.com/shop/billing\"\n)\n"),
            file("billing/billing.go", "package billing\nimport \"example.com/shop/orders\"\n"),
        ];
        let g = graph(&files);
        assert_eq!(deps(&g, "web/src/api"), ["web/src/api/client"]);
        assert_eq!(deps(&g, "web/src/api/client"), ["web/src/api", "web/src/util/url"]);
        assert_eq!(deps(&g, "orders"), ["billing"]);
        assert_eq!(g.cycles().len(), 2);
    }

    #[test]
    fn python_packages_under_a_project_root_and_unresolved_imports() {
        let files = [
            file("backend/app/__init__.py", "from .views import index\n"),
            file("backend/app/views.py", "from app.models import User\nfrom app import forms\nimport app.auth\n"),
            file("backend/app/models.py", "from .. import settings\nfrom app.views import helper\n"),
            file("backend/app/forms.py", "from app.missing import x\nfrom . import nothere\n"),
            file("backend/app/auth.py", "import os\n"),
        ];
        let g = graph(&files);
        assert_eq!(deps(&g, "backend.app.views"), ["backend.app.auth", "backend.app.forms", "backend.app.models"]);
        assert_eq!(deps(&g, "backend.app"), ["backend.app.views"]);
        assert!(g.cycles().iter().any(|c| c.contains(&"backend.app.models".to_string())), "{:?}", g.cycles());
        let table = summary(&g);
        assert!(table.contains("| `backend.app.forms` | backend/app/forms.py | `backend.app` |"), "{table}");
        assert!(table.contains("| `backend.app.auth` | backend/app/auth.py | nothing internal |"), "{table}");
        // `from . import x` in a top-level module with no package in the material.
        let g = graph(&[file("a.py", "from . import b\n"), file("c.py", "import os\n")]);
        assert_eq!(
            g.unresolved.get("a").map(|u| u.iter().cloned().collect::<Vec<_>>()),
            Some(vec![". import b".to_string()])
        );
    }

    #[test]
    fn js_index_directories_dot_imports_extensions_and_aliases() {
        let files = [
            file("src/ui/index.ts", "export * from './button';\nimport { theme } from '..';\n"),
            file("src/ui/button.tsx", "import { Icon } from '.';\nimport s from './button.module.css';\n"),
            file(
                "src/index.ts",
                "import { Button } from './ui';\nimport { x } from './util.js';\nimport y from '@/lib/y';\n",
            ),
            file("src/util.ts", "export const x = 1;\n"),
        ];
        let g = graph(&files);
        assert_eq!(deps(&g, "src/ui/button"), ["src/ui"]);
        assert_eq!(deps(&g, "src"), ["src/ui", "src/util"]);
        assert_eq!(deps(&g, "src/ui"), ["src", "src/ui/button"]);
        // Each pair that imports each other is named, even inside one tangle.
        assert_eq!(
            g.cycles(),
            [
                vec!["src".to_string(), "src/ui".into(), "src".into()],
                vec!["src/ui".into(), "src/ui/button".into(), "src/ui".into()]
            ]
        );
        assert!(summary(&g).contains("`src/ui`, `src/util`; unresolved: `@/lib/y`"), "{}", summary(&g));
        let g = graph(&files[..2]);
        assert_eq!(g.cycles(), [vec!["src/ui".to_string(), "src/ui/button".into(), "src/ui".into()]]);
    }

    #[test]
    fn python_is_read_with_a_parser_where_lines_mislead() {
        let files = [
            file("shop/__init__.py", ""),
            // A continued import, a docstring that shows an import, a type-only import.
            file(
                "shop/orders.py",
                "\"\"\"Orders.\n\nUsage:\n    from shop.billing import pay\n\"\"\"\nfrom typing import TYPE_CHECKING\nfrom shop.util import \\\n    money, tax\nif TYPE_CHECKING:\n    from shop.billing import Invoice\n",
            ),
            file("shop/billing.py", "from shop.orders import Order\n"),
            file("shop/util.py", "X = 1\n"),
        ];
        let g = graph(&files);
        assert_eq!(deps(&g, "shop.orders"), ["shop.billing", "shop.util"]);
        assert_eq!(g.line_of("shop.orders", "shop.util"), Some(7));
        // The import under TYPE_CHECKING never runs: billing → orders is no cycle.
        assert!(g.cycles().is_empty(), "{:?}", g.cycles());
        // The line reading took the docstring's example for an import at line 4.
        let broken = file("shop/orders.py", "from shop.billing import pay\ndef f(:\n");
        let g = graph(&[files[0].clone(), broken, files[2].clone(), files[3].clone()]);
        assert_eq!(deps(&g, "shop.orders"), ["shop.billing"], "a file with a syntax error is read line by line");
        assert_eq!(g.cycles().len(), 1);
    }

    #[test]
    fn js_is_read_with_a_parser_where_lines_mislead() {
        let files = [
            file("src/index.ts", "export * from './client';\nexport type { Options } from './options';\n"),
            file(
                "src/client.ts",
                "import {\n  A,\n  B,\n} from '.';\nconst help = \"import { X } from './options'\";\n// import { Y } from './options';\n",
            ),
            file("src/options.ts", "import { Client } from './client';\nexport interface Options { c: Client }\n"),
        ];
        let g = graph(&files);
        assert_eq!(deps(&g, "src/client"), ["src"]);
        assert_eq!(g.line_of("src/client", "src"), Some(1));
        // `export type` is erased at run time: index → options closes no cycle with options → client → index.
        let cycles: Vec<String> = g.cycles().iter().map(|c| c.join(" ")).collect();
        assert_eq!(cycles, ["src src/client src"]);
        // The same client with a syntax error is read line by line: the string's import counts again.
        let broken =
            file("src/client.ts", "import { A } from '.';\nconst help = \"import { X } from './options'\";\nif (\n");
        let g = graph(&[files[0].clone(), broken, files[2].clone()]);
        assert_eq!(deps(&g, "src/client"), ["src", "src/options"]);
    }

    #[test]
    fn high_fan_out_is_reported_and_a_single_file_is_not_summarised() {
        let uses: String = (0..9).map(|i| format!("use crate::m{i}::X;\n")).collect();
        let mut files = vec![file("src/hub.rs", &uses)];
        files.push(file("src/m0.rs", ""));
        let (_, f) = analyse(&files);
        assert!(f.iter().any(|f| f.title == "High fan-out: `hub` (src/hub.rs) imports 9 internal modules"), "{f:?}");
        assert_eq!(analyse(&[file("src/a.rs", "use crate::b::X;")]), (None, Vec::new()));
        assert_eq!(analyse(&[SourceFile::new(None, "use crate::b::X;", Origin::Context)]), (None, Vec::new()));
    }
}
