//! Awkward review material for a persona's own tests: non-ASCII
//! identifiers and strings next to the tokens analyses look for,
//! unterminated strings, comments and blocks, empty and one-character
//! files, and a long minified line. A persona's analysis runs inside the
//! sandbox, where a panic fails the user's job, so it should get through
//! every file here without one:
//!
//! ```ignore
//! #[test]
//! fn survives_awkward_input() {
//!     let files = agent_os_persona_sdk::testing::awkward_files();
//!     let _ = my_analysis(&files);
//! }
//! ```

use crate::context::{Origin, SourceFile};

/// Text that trips byte-offset slicing and naive scanners, in each language.
const SAMPLES: &[(&str, &str)] = &[
    (
        "src/größe.rs",
        "use crate::größe::{Ä, b::ç};  // moved to crate::…\nmod ü;\nuse super::{\npub static mut É: u8 = 0;\nfn f() { let _ = é().unwrap(); panic!(\"ü\"); reqwest::Client::new(); let q = format!(\"SELECT ü FROM t WHERE a = {x}\"); }\n#[cfg(test)]\nmod tests { #[test] fn t() { std::thread::sleep(é); } \n",
    ),
    (
        "app/ñandú.py",
        "from .ü import ñ\nimport ü.é as x\ndef f():\n    requests.get(\"https://é\")\n    cur.execute(f\"DELETE FROM ü WHERE a = {é}\")\n    try:\n        pass\n    except:\n        pass\n    print('unterminated\n",
    ),
    (
        "web/ü.ts",
        "import { ñ } from './é';\nconst r = require('../ü');\nfetch(`https://é/${a}`);\napp.get('/ü', h);\nel.innerHTML = \"é\";\ntry { x() } catch (e) {}\nconsole.log(\"ü\n/* unterminated comment é\n",
    ),
    (
        "cmd/é.go",
        "package main\nimport (\n\t\"example.com/ü/é\"\n)\nfunc f() { c := http.Client{}; v, _ := g(\"ü\"); if err != nil {} ; db.Query(`SELECT é FROM t`) }\n",
    ),
    (
        "migrations/0001_ü.sql",
        "CREATE TABLE “users” (é int NOT NULL, ü text REFERENCES t(ü));\nALTER TABLE ü DROP COLUMN é;\nALTER TABLE ü ADD COLUMN ñ int NOT NULL;\nDELETE FROM ü;\nCREATE INDEX ON ü (é);\nUPDATE é SET a = 'unterminated\n$$ body é\n",
    ),
    ("src/empty.rs", ""),
    ("x", "é"),
    ("tests/ü_test.py", "def test_é():\n    assert True\n    time.sleep(1)\n"),
];

/// Every sample as a file read from the project, plus the same texts as
/// one anonymous context and one long minified line.
pub fn awkward_files() -> Vec<SourceFile> {
    let mut files: Vec<SourceFile> =
        SAMPLES.iter().map(|(path, text)| SourceFile::new(Some((*path).into()), *text, Origin::Read)).collect();
    let all: String = SAMPLES.iter().map(|(_, t)| *t).collect::<Vec<_>>().join("\n");
    files.push(SourceFile::new(None, all.clone(), Origin::Context));
    let long = all.replace('\n', " ").repeat(200);
    files.push(SourceFile::new(Some("dist/ü.min.js".into()), long, Origin::Read));
    files
}

/// A file read from the project at `path`, for tests.
pub fn file(path: &str, text: &str) -> SourceFile {
    SourceFile::new(Some(path.to_string()), text, Origin::Read)
}

/// The samples' texts by path, for analyses that read more files.
pub fn awkward_read(path: &str) -> Option<String> {
    SAMPLES.iter().find(|(p, _)| *p == path).map(|(_, t)| t.to_string())
}
