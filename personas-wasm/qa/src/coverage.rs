//! Which source files of the material have no tests, and test smells
//! (ignored or skipped tests, sleeps, assertions that cannot fail).

use agent_os_persona_sdk::brief::{Finding, Severity};
use agent_os_persona_sdk::context::{Language, Origin, SourceFile, is_test_path};
use agent_os_persona_sdk::python;

/// Every finding of the QA persona's own analysis. `read` returns a project
/// file's text, or `None` when it does not exist.
pub fn analyse(files: &[SourceFile], read: impl Fn(&str) -> Option<String>) -> Vec<Finding> {
    let mut out = untested(files, read);
    out.extend(smells(files));
    out
}

/// One finding per source file that has neither inline tests nor a test
/// file, naming the test files looked for.
pub fn untested(files: &[SourceFile], read: impl Fn(&str) -> Option<String>) -> Vec<Finding> {
    let mut out = Vec::new();
    let test_files: Vec<&str> = files.iter().filter_map(|f| f.path.as_deref()).filter(|p| is_test_path(p)).collect();
    let imported = imported_by_tests(files);
    let mut seen: Vec<&str> = Vec::new();
    for f in files {
        let Some(path) = f.path.as_deref() else { continue };
        let Some(first_fn) = worth_testing(f) else { continue };
        if seen.contains(&path) {
            continue;
        }
        seen.push(path);
        if has_inline_tests(&f.text, f.language) {
            continue;
        }
        let stem = subject_stem(path);
        if test_files.iter().any(|t| subject_of_test(t).as_deref() == Some(stem.as_str())) {
            continue;
        }
        // A test file in the material that imports the module tests it.
        if imported.iter().any(|m| names_module(m, path)) {
            continue;
        }
        // A diff or an excerpt may leave out the file's test module.
        if f.origin != Origin::Read && read(path).is_some_and(|full| has_inline_tests(&full, f.language)) {
            continue;
        }
        let candidates = test_candidates(path, f.language);
        if candidates.iter().any(|c| files.iter().any(|g| g.path.as_deref() == Some(c.as_str())) || read(c).is_some()) {
            continue;
        }
        out.push(
            Finding::new(
                Severity::Medium,
                format!("No tests for `{path}`"),
                format!(
                    "It has no inline tests ({}) and none of these test files exists: {}. Add tests that pin down its \
                 behaviour, starting with its error paths",
                    inline_kind(f.language),
                    candidates.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
                ),
            )
            .in_file(path, first_fn),
        );
    }
    out
}

/// The modules the test files of the material import, as written: Python
/// dotted names (`app.models`) and JS/TS paths resolved against the test's
/// directory (`src/api/client`).
fn imported_by_tests(files: &[SourceFile]) -> Vec<String> {
    let mut out = Vec::new();
    for f in files.iter().filter(|f| f.is_test()) {
        let dir = f.path.as_deref().and_then(|p| p.rsplit_once('/')).map_or("", |(d, _)| d);
        // Python read with the parser: a `from app import (` list over
        // several lines names every module in it.
        if f.language == Language::Python
            && let Some(module) = python::parse(&f.text)
        {
            for imp in python::imports(&module) {
                let src = imp.source();
                if imp.names.is_empty() {
                    out.push(src);
                    continue;
                }
                out.extend(imp.names.iter().map(|n| format!("{src}.{n}")));
                out.push(src);
            }
            continue;
        }
        for line in f.text.lines() {
            let t = line.trim();
            match f.language {
                Language::Python => {
                    if let Some(rest) = t.strip_prefix("from ") {
                        let Some((src, names)) = rest.split_once(" import ") else { continue };
                        out.push(src.trim().to_string());
                        for n in names.trim_matches(['(', ')', ' ']).split(',') {
                            if let Some(n) = n.split_whitespace().next() {
                                out.push(format!("{}.{n}", src.trim()));
                            }
                        }
                    } else if let Some(rest) = t.strip_prefix("import ") {
                        out.extend(rest.split(',').filter_map(|p| p.split_whitespace().next()).map(String::from));
                    }
                }
                Language::JavaScript | Language::TypeScript => {
                    for key in ["from ", "require(", "import("] {
                        for (i, _) in t.match_indices(key) {
                            let rest = t[i + key.len()..].trim_start();
                            let Some(q) = rest.chars().next().filter(|c| matches!(c, '\'' | '"' | '`')) else {
                                continue;
                            };
                            let spec: String = rest[1..].chars().take_while(|c| *c != q).collect();
                            if spec.starts_with("./") || spec.starts_with("../") {
                                out.push(agent_os_persona_sdk::paths::join_relative(dir, &spec));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// Whether an import `m` (see [`imported_by_tests`]) names the module at `path`.
fn names_module(m: &str, path: &str) -> bool {
    let base = match path.rsplit_once('.') {
        Some((b, _)) => b,
        None => path,
    };
    let base = base.strip_suffix("/__init__").or_else(|| base.strip_suffix("/index")).unwrap_or(base);
    if m.contains('/') {
        // A JS/TS path, with or without its extension.
        let m = m.rsplit_once('.').filter(|(_, e)| !e.contains('/')).map_or(m, |(b, _)| b);
        return m == base || m.strip_suffix("/index") == Some(base);
    }
    // A Python dotted name: the module's path, or its end under a project root.
    let dotted = base.trim_start_matches("src/").replace('/', ".");
    m == dotted || dotted.ends_with(&format!(".{m}")) && m.contains('.')
}

/// Test smells, line by line: ignored and skipped tests, fixed sleeps in
/// tests, and assertions that cannot fail.
pub fn smells(files: &[SourceFile]) -> Vec<Finding> {
    let mut out = Vec::new();
    for f in files {
        let has_tests = f.is_test() || has_inline_tests(&f.text, f.language);
        for line in f.lines() {
            if line.comment {
                continue;
            }
            let t = line.text.trim();
            let lower = t.to_ascii_lowercase();
            let smell = if t.starts_with("#[ignore") {
                Some((
                    Severity::Medium,
                    "Ignored test",
                    "An ignored test hides a regression; fix it or delete it with a reason.",
                ))
            } else if SKIPS.iter().any(|s| contains_call(t, s)) {
                Some((
                    Severity::Medium,
                    "Skipped test",
                    "A skipped test hides a regression; fix it or delete it with a reason.",
                ))
            } else if always_true(t) {
                Some((
                    Severity::High,
                    "Assertion that cannot fail",
                    "The test checks nothing; assert on the behaviour instead.",
                ))
            } else if lower.contains("sleep(") && (line.in_test || (f.language != Language::Rust && has_tests)) {
                Some((
                    Severity::Medium,
                    "Sleep in a test",
                    "Fixed sleeps make tests slow and flaky; wait for the condition instead.",
                ))
            } else {
                None
            };
            if let Some((severity, title, detail)) = smell {
                let title = match &f.path {
                    Some(p) => format!("{title} in `{p}`"),
                    None => title.to_string(),
                };
                out.push(Finding::new(severity, title, detail).at_line(line.number));
            }
        }
    }
    out
}

/// Whether `call` occurs in `line` where it starts a name: not as the end
/// of a longer one (`process.exit(` is not `xit(`).
fn contains_call(line: &str, call: &str) -> bool {
    line.match_indices(call).any(|(i, _)| {
        let starts_with_name = call.starts_with(|c: char| c.is_alphanumeric() || c == '_');
        !starts_with_name || !line[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '.')
    })
}

const SKIPS: &[&str] = &[
    "it.skip(",
    "describe.skip(",
    "test.skip(",
    "xit(",
    "xdescribe(",
    "xtest(",
    "@pytest.mark.skip",
    "@unittest.skip",
    "pytest.skip(",
    "t.Skip(",
    "t.SkipNow(",
];

/// Assertions that always pass, with spaces removed.
const ALWAYS_TRUE: &[&str] = &[
    "assert!(true",
    "assert_eq!(true,true",
    "self.assertTrue(True",
    "assertTrue(true",
    "expect(true).toBe(true",
    "assert.True(t,true",
    "assert.ok(true",
];

fn always_true(t: &str) -> bool {
    t == "assert True" || t.starts_with("assert True,") || ALWAYS_TRUE.iter().any(|s| t.replace(' ', "").contains(s))
}

/// Most lines of code an entry point (`main.rs`, `main.py`, `index.js`, ...)
/// may have and still count as glue that only calls into tested code.
const THIN_ENTRY_POINT_LINES: usize = 15;

/// Source files in a language with tests, that are not tests themselves,
/// not build glue, not a thin entry point and have at least one function:
/// the line of the first function, when so.
fn worth_testing(f: &SourceFile) -> Option<usize> {
    let path = f.path.as_deref()?;
    let name = path.rsplit('/').next().unwrap_or(path);
    let stem = name.split('.').next().unwrap_or(name);
    let lines = f.lines();
    let code_lines = lines.iter().filter(|l| !l.comment && !l.in_test && !l.text.trim().is_empty()).count();
    if matches!(stem, "main" | "index" | "server" | "app" | "run" | "wsgi" | "asgi" | "manage")
        && code_lines <= THIN_ENTRY_POINT_LINES
    {
        return None;
    }
    if !f.language.is_code()
        || f.is_test()
        || matches!(name, "build.rs" | "__init__.py" | "setup.py" | "__main__.py")
        || name.ends_with(".d.ts")
        || name.contains(".config.")
        || path.split('/').any(|d| matches!(d, "examples" | "benches" | "migrations" | "scripts"))
    {
        return None;
    }
    lines
        .iter()
        .filter(|l| !l.comment)
        .find(|l| {
            let t = l.text.trim_start();
            match f.language {
                Language::Rust => t.contains("fn ") && t.contains('('),
                Language::Python => t.starts_with("def ") || t.starts_with("async def "),
                Language::Go => t.starts_with("func "),
                _ => t.contains("function") || t.contains("=>"),
            }
        })
        .map(|l| l.number)
}

/// True when `text` holds tests of its own.
pub fn has_inline_tests(text: &str, language: Language) -> bool {
    text.lines().map(str::trim_start).any(|t| match language {
        Language::Rust => is_rust_test_attr(t),
        Language::Python => {
            t.starts_with("def test_") || t.starts_with("async def test_") || t.starts_with("class Test")
        }
        Language::JavaScript | Language::TypeScript => {
            ["describe(", "it(", "test(", "describe.", "it.", "test.each"].iter().any(|p| t.starts_with(p))
        }
        Language::Go => t.starts_with("func Test"),
        _ => {
            is_rust_test_attr(t)
                || t.starts_with("def test_")
                || t.starts_with("func Test")
                || t.starts_with("describe(")
                || t.starts_with("it(")
        }
    })
}

fn is_rust_test_attr(t: &str) -> bool {
    t.starts_with("#[cfg(test)]") || t.starts_with("#[test]") || (t.starts_with("#[") && t.contains("::test"))
}

fn inline_kind(language: Language) -> &'static str {
    match language {
        Language::Rust => "no `#[cfg(test)]` module or `#[test]` function",
        Language::Python => "no `def test_` function",
        Language::Go => "no `func Test` function",
        _ => "no `describe`/`it`/`test` block",
    }
}

/// The name a test of `path` would use: its stem, or its directory's name for `mod.rs`/`__init__.py`/`index.*`.
fn subject_stem(path: &str) -> String {
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    let stem = name.split('.').next().unwrap_or(name);
    if matches!(stem, "mod" | "index" | "__init__") {
        return dir.rsplit('/').next().unwrap_or(stem).to_string();
    }
    stem.to_string()
}

/// The stem of the file a test file is named after: `test_orders.py`, `orders_test.go`,
/// `orders.test.ts`, `tests/orders.rs` → `orders`.
fn subject_of_test(path: &str) -> Option<String> {
    let name = path.rsplit('/').next()?;
    let stem = name.split('.').next()?;
    let stem = stem.strip_prefix("test_").unwrap_or(stem);
    let stem = stem.strip_suffix("_tests").or_else(|| stem.strip_suffix("_test")).unwrap_or(stem);
    (!stem.is_empty() && stem != "tests" && stem != "test").then(|| stem.to_string())
}

/// The test files that would cover `path`, by the language's conventions.
pub fn test_candidates(path: &str, language: Language) -> Vec<String> {
    let (dir, name) = match path.rsplit_once('/') {
        Some((d, n)) => (format!("{d}/"), n),
        None => (String::new(), path),
    };
    let stem = name.split('.').next().unwrap_or(name);
    let ext = name.rsplit('.').next().unwrap_or("");
    let subject = subject_stem(path);
    let mut out = match language {
        Language::Rust => {
            let root = match path.rfind("src/") {
                Some(i) if i == 0 || path[..i].ends_with('/') => path[..i].to_string(),
                _ => dir.clone(),
            };
            let mut c = vec![format!("{root}tests/{subject}.rs"), format!("{root}tests/{subject}_test.rs")];
            if !matches!(stem, "lib" | "main" | "mod") {
                c.push(format!("{dir}{stem}/tests.rs"));
            } else if stem == "mod" {
                c.push(format!("{dir}tests.rs"));
            }
            c
        }
        Language::Go => vec![format!("{dir}{stem}_test.go")],
        Language::Python => vec![
            format!("{dir}test_{subject}.py"),
            format!("{dir}{subject}_test.py"),
            format!("{dir}tests/test_{subject}.py"),
            format!("tests/test_{subject}.py"),
        ],
        _ => vec![
            format!("{dir}{stem}.test.{ext}"),
            format!("{dir}{stem}.spec.{ext}"),
            format!("{dir}__tests__/{stem}.{ext}"),
            format!("{dir}__tests__/{stem}.test.{ext}"),
        ],
    };
    let mut seen = Vec::new();
    out.retain(|c| {
        let new = !seen.contains(c);
        seen.push(c.clone());
        new
    });
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn exit_calls_are_not_skipped_tests() {
        for line in ["process.exit(1);", "sys.exit(0)", "os.Exit(1)", "std::process::exit(1);"] {
            assert!(!SKIPS.iter().any(|s| contains_call(line, s)), "{line}");
        }
        for line in ["xit('works', () => {})", "  it.skip('later', f)", "t.Skip(\"slow\")", "@pytest.mark.skip"] {
            assert!(SKIPS.iter().any(|s| contains_call(line, s)), "{line}");
        }
    }

    use std::collections::HashMap;

    use agent_os_persona_sdk::context;

    use super::*;
    use agent_os_persona_sdk::testing::{awkward_files, awkward_read, file};

    #[test]
    fn survives_awkward_input() {
        let _ = analyse(&awkward_files(), awkward_read);
    }

    fn disk(files: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = files.iter().map(|(p, t)| (p.to_string(), t.to_string())).collect();
        move |p| map.get(p).cloned()
    }

    #[test]
    fn a_rust_file_without_tests_is_reported_with_the_files_looked_for() {
        let files = [file("src/orders.rs", "pub fn total() -> u32 { 1 }\n")];
        let f = untested(&files, disk(&[]));
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].title, "No tests for `src/orders.rs`");
        assert!(f[0].detail.contains("`tests/orders.rs`") && f[0].detail.contains("`src/orders/tests.rs`"), "{f:?}");
        assert!(f[0].detail.contains("#[cfg(test)]"), "{f:?}");
    }

    #[test]
    fn inline_tests_count() {
        let files = [
            file("src/a.rs", "fn a() {}\n#[cfg(test)]\nmod tests {}\n"),
            file("app/b.py", "def b():\n    pass\n\ndef test_b():\n    assert b() is None\n"),
            file("web/c.ts", "export const c = () => 1;\ndescribe('c', () => {});\n"),
            file("pkg/d.go", "package pkg\nfunc D() {}\nfunc TestD(t *testing.T) {}\n"),
        ];
        assert!(untested(&files, disk(&[])).is_empty(), "{:?}", untested(&files, disk(&[])));
    }

    #[test]
    fn a_counterpart_in_the_material_or_on_disk_counts() {
        let files = [
            file("pkg/d.go", "package pkg\nfunc D() {}\n"),
            file("pkg/d_test.go", "package pkg\nfunc TestD(t *testing.T) {}\n"),
            file("app/orders.py", "def total():\n    return 1\n"),
            file("web/api.ts", "export function get() {}\n"),
            file("crates/x/src/lib.rs", "pub fn x() {}\n"),
        ];
        let read = disk(&[("tests/test_orders.py", "def test_total(): ..."), ("crates/x/tests/lib.rs", "")]);
        let f = untested(&files, read);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].title, "No tests for `web/api.ts`");
        assert!(f[0].detail.contains("`web/api.test.ts`, `web/api.spec.ts`, `web/__tests__/api.ts`"), "{f:?}");
    }

    #[test]
    fn a_test_file_elsewhere_in_the_material_named_after_the_file_counts() {
        let files = [file("app/orders.py", "def total():\n    return 1\n"), file("tests/unit/test_orders.py", "")];
        assert!(untested(&files, disk(&[])).is_empty());
    }

    #[test]
    fn a_diff_is_checked_against_the_whole_file() {
        let ctx = "--- a/src/a.rs\n+++ b/src/a.rs\n@@ -1,1 +1,1 @@\n-fn a() {}\n+fn a() { 1 }\n";
        let files = context::files(ctx, |_| None);
        assert_eq!(untested(&files, disk(&[])).len(), 1);
        let read = disk(&[("src/a.rs", "fn a() { 1 }\n#[cfg(test)]\nmod tests;\n")]);
        assert!(untested(&files, read).is_empty());
    }

    #[test]
    fn tests_glue_and_declarations_are_not_asked_for_tests() {
        let files = [
            file("src/lib.rs", "pub mod a;\npub mod b;\n"),
            file("build.rs", "fn main() {}\n"),
            file("tests/api.rs", "fn helper() {}\n"),
            file("app/__init__.py", "def f(): pass\n"),
            file("README.md", "fn x()"),
        ];
        assert!(untested(&files, disk(&[])).is_empty(), "{:?}", untested(&files, disk(&[])));
        let anon = [SourceFile::new(None, "fn x() {}", Origin::Context)];
        assert!(untested(&anon, disk(&[])).is_empty());
    }

    #[test]
    fn test_smells_are_found_with_their_file_and_line() {
        let text = "fn a() { std::thread::sleep(D); }\n#[cfg(test)]\nmod tests {\n    #[test]\n    #[ignore]\n    fn t() {\n        std::thread::sleep(D);\n        assert!(true);\n    }\n}\n";
        let f = smells(&[file("src/a.rs", text)]);
        let got: Vec<(&str, Option<usize>)> = f.iter().map(|f| (f.title.as_str(), f.line)).collect();
        assert_eq!(
            got,
            [
                ("Ignored test in `src/a.rs`", Some(5)),
                ("Sleep in a test in `src/a.rs`", Some(7)),
                ("Assertion that cannot fail in `src/a.rs`", Some(8)),
            ]
        );
        let js = file("web/a.test.js", "it.skip('x', () => {});\n// it.skip('y')\nexpect(true).toBe(true);\n");
        let titles: Vec<String> = smells(&[js]).into_iter().map(|f| f.title).collect();
        assert_eq!(titles, ["Skipped test in `web/a.test.js`", "Assertion that cannot fail in `web/a.test.js`"]);
    }

    #[test]
    fn a_sleep_outside_tests_is_not_a_test_smell() {
        assert!(smells(&[file("src/a.rs", "fn a() { std::thread::sleep(D); }\n")]).is_empty());
        let anon = SourceFile::new(None, "assert!(true)", Origin::Context);
        assert_eq!(smells(&[anon])[0].title, "Assertion that cannot fail");
    }
}

#[cfg(test)]
mod import_tests {
    use super::*;
    use agent_os_persona_sdk::testing::file;

    #[test]
    fn a_test_file_that_imports_a_module_covers_it_and_findings_name_the_first_function() {
        let files = [
            file("tests.py", "import unittest\nfrom app import create_app, db\nfrom app.models import User, Post\n"),
            file("app/models.py", "class User:\n    def check(self):\n        pass\n"),
            file("app/translate.py", "import requests\n\n\ndef translate(t):\n    return requests.post(t)\n"),
            file("web/src/api.test.ts", "import { get } from './client';\n"),
            file("web/src/client.ts", "export const get = () => 1;\n"),
            file("web/src/other.ts", "// x\nexport function other() {}\n"),
        ];
        let found = untested(&files, |_| None);
        let at: Vec<String> = found.iter().filter_map(|f| f.location()).collect();
        assert_eq!(at, ["app/translate.py:4", "web/src/other.ts:2"]);
    }

    #[test]
    fn a_python_import_list_over_several_lines_names_each_module() {
        let test = "from app import (\n    models,\n    translate,\n)\n\ndef test_x():\n    assert models\n";
        let files = [
            file("tests/test_app.py", test),
            file("app/models.py", "def a():\n    pass\n"),
            file("app/translate.py", "def b():\n    pass\n"),
        ];
        assert_eq!(untested(&files, |_| None), []);
        // Read line by line (a syntax error further down), the list's second line is lost.
        let broken = file("tests/test_app.py", &format!("{test}def (\n"));
        let found = untested(&[broken, files[1].clone(), files[2].clone()], |_| None);
        let at: Vec<String> = found.iter().filter_map(|f| f.location()).collect();
        assert_eq!(at, ["app/models.py:1", "app/translate.py:1"]);
    }

    #[test]
    fn a_thin_entry_point_is_glue_a_long_one_is_not() {
        let thin = file("apps/api/src/main.rs", "fn main() -> anyhow::Result<()> {\n    api::run()\n}\n");
        let long = "fn main() {\n".to_string() + &"    step();\n".repeat(20) + "}\n";
        let long = file("apps/worker/src/main.rs", &long);
        let found = untested(&[thin, long], |_| None);
        let titles: Vec<&str> = found.iter().map(|f| f.title.as_str()).collect();
        assert_eq!(titles, ["No tests for `apps/worker/src/main.rs`"]);
    }
}
