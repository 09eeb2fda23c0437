//! What the reviewed code is about, as words for a standards search: the
//! libraries it imports, the SQL it runs or declares, and the migration and
//! schema operations it calls. The task's words say what the user asked;
//! these say what the code does, so a project's rule on, say, `hashlib`
//! passwords or `add_index` is found even when the task only says "review".

use crate::context::{Language, SourceFile};

/// Most terms returned.
pub const MAX_TERMS: usize = 14;

/// SQL and migration operations worth a rule of their own, as (what to look
/// for, case-insensitively, and the words to search with).
const OPERATIONS: &[(&str, &str)] = &[
    ("create index", "create index"),
    ("add_index", "add index"),
    ("addindex", "add index"),
    ("create_index", "create index"),
    ("drop index", "drop index"),
    ("remove_index", "drop index"),
    ("foreign key", "foreign key"),
    ("references ", "foreign key"),
    ("add_foreign_key", "foreign key"),
    ("primary key", "primary key"),
    ("serial", "serial key"),
    ("drop column", "drop column"),
    ("remove_column", "drop column"),
    ("removefield", "drop column"),
    ("drop_column", "drop column"),
    ("rename column", "rename column"),
    ("rename_column", "rename column"),
    ("renamefield", "rename column"),
    ("alter column", "change column type"),
    ("change_column", "change column type"),
    ("alterfield", "change column type"),
    ("alter_column", "change column type"),
    ("add column", "add column"),
    ("add_column", "add column"),
    ("addfield", "add column"),
    ("drop table", "drop table"),
    ("drop_table", "drop table"),
    ("create table", "create table"),
    ("not null", "not null"),
    ("find_each", "backfill"),
    ("update_all", "backfill"),
    ("runpython", "backfill"),
    ("insert into", "insert"),
    ("select ", "query"),
    ("delete from", "delete"),
];

/// Imports of the language's own runtime that say nothing about the topic.
const PLAIN: &[&str] = &[
    "std",
    "core",
    "alloc",
    "crate",
    "self",
    "super",
    "typing",
    "os",
    "sys",
    "re",
    "json",
    "time",
    "datetime",
    "collections",
    "itertools",
    "functools",
    "logging",
    "fmt",
    "errors",
    "strings",
    "context",
    "path",
    "util",
    "__future__",
    "abc",
    "dataclasses",
    "enum",
    "io",
    "math",
    "argparse",
];

fn push(out: &mut Vec<String>, term: &str) {
    let t = term.trim().to_ascii_lowercase();
    if t.len() >= 2 && !out.contains(&t) && !PLAIN.contains(&t.as_str()) {
        out.push(t);
    }
}

/// The package a Python, JS/TS, Rust or Go import line names, when it is
/// not relative to the file (relative imports are the project's own).
fn import_of(language: Language, line: &str) -> Option<String> {
    let t = line.trim();
    let first = |s: &str| {
        s.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-' || c == '@' || c == '/'))
            .next()
            .map(str::to_string)
    };
    match language {
        Language::Python => {
            let rest = t.strip_prefix("from ").or_else(|| t.strip_prefix("import "))?;
            if rest.starts_with('.') {
                return None;
            }
            let name = rest.split([' ', ',', '.']).next()?;
            Some(name.to_string())
        }
        Language::JavaScript | Language::TypeScript => {
            let at = t.find("require(").map(|i| i + 8).or_else(|| {
                (t.starts_with("import ") || t.starts_with("export ")).then(|| t.rfind(" from ").map(|i| i + 6))?
            })?;
            let spec = t[at..].trim_start().trim_start_matches(['\'', '"', '`']);
            let spec = spec.split(['\'', '"', '`']).next()?;
            if spec.starts_with('.') || spec.is_empty() {
                return None;
            }
            // `@scope/pkg/x` → `@scope/pkg`; `pkg/x` → `pkg`.
            let mut parts = spec.split('/');
            let head = parts.next()?;
            Some(if head.starts_with('@') { format!("{head}/{}", parts.next().unwrap_or("")) } else { head.into() })
        }
        Language::Rust => {
            let rest = t.strip_prefix("pub ").unwrap_or(t).strip_prefix("use ")?;
            let name = rest.split("::").next()?.trim_end_matches(';');
            first(name)
        }
        Language::Go => {
            let q = t.trim_start_matches("import").trim();
            let spec = q.rsplit(' ').next()?.trim_matches(|c| c == '"' || c == '(' || c == ')');
            if !q.ends_with('"') || spec.is_empty() {
                return None;
            }
            spec.rsplit('/').next().map(str::to_string)
        }
        _ => None,
    }
}

/// Up to [`MAX_TERMS`] words saying what `files` are about: migration and
/// SQL operations first (they map onto rules most directly), then the
/// packages the code imports, in the order they appear.
pub fn terms(files: &[SourceFile]) -> Vec<String> {
    let mut ops = Vec::new();
    let mut imports = Vec::new();
    for f in files {
        let lower = f.text.to_ascii_lowercase();
        let migration = f.language == Language::Sql
            || f.path.as_deref().is_some_and(|p| p.contains("migrat") || p.contains("/schema"));
        for (needle, words) in OPERATIONS {
            // Plain statements only count in SQL or migration files, and a
            // query only in code that embeds one.
            let sql_only = matches!(*needle, "select " | "insert into" | "delete from" | "references " | "serial");
            if (!sql_only || migration || lower.contains("execute") || lower.contains("query"))
                && lower.contains(needle)
            {
                push(&mut ops, words);
            }
        }
        if migration {
            push(&mut ops, "migration");
        }
        for line in f.text.lines().take(400) {
            if let Some(name) = import_of(f.language, line) {
                push(&mut imports, &name);
            }
        }
    }
    ops.extend(imports);
    ops.truncate(MAX_TERMS);
    ops
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::file;

    #[test]
    fn imports_sql_and_migration_calls_become_terms() {
        let py = file(
            "sqli/dao/user.py",
            "from hashlib import md5\nfrom typing import NamedTuple\nfrom aiopg import Connection\nfrom .base import B\n\ncur.execute('SELECT id FROM users WHERE id = %s', (i,))\n",
        );
        assert_eq!(terms(&[py]), ["query", "hashlib", "aiopg"]);
        let js = file(
            "app/routes/research.js",
            "const needle = require(\"needle\");\nconst x = require('./x');\nimport { a } from '@scope/pkg/sub';\n",
        );
        assert_eq!(terms(&[js]), ["needle", "@scope/pkg"]);
        let rb = file(
            "db/migrate/1_add.rb",
            "class A < ActiveRecord::Migration\n  def change\n    add_index :events, :project_id\n    remove_column :notes, :x\n  end\nend\n",
        );
        assert_eq!(terms(&[rb]), ["add index", "drop column", "migration"]);
        let sql = file(
            "migrations/0.sql",
            "CREATE TABLE t (id SERIAL PRIMARY KEY);\nALTER TABLE m ADD FOREIGN KEY (a) REFERENCES t(id);\n",
        );
        assert_eq!(terms(&[sql]), ["foreign key", "primary key", "serial key", "create table", "migration"]);
        let rs = file("src/a.rs", "use std::io;\nuse reqwest::Client;\npub use serde::Serialize;\n");
        assert_eq!(terms(&[rs]), ["reqwest", "serde"]);
        let go = file("main.go", "package main\nimport (\n\t\"net/http\"\n\t\"fmt\"\n)\nimport \"database/sql\"\n");
        assert_eq!(terms(&[go]), ["http", "sql"]);
    }

    #[test]
    fn survives_awkward_input() {
        let t = terms(&crate::testing::awkward_files());
        assert!(t.len() <= MAX_TERMS);
    }
}
