//! Migration risks read from parsed SQL (sqlparser, compiled into the
//! component) and from the migration DSLs of Rails, Django and Alembic.
//!
//! Every rule has an id, a one-line reason and the safe alternative
//! ([`RULES`]). SQL is split into statements with their line in the file's
//! own numbering; each statement is parsed with the Postgres dialect when the
//! project, the path or the SQL says Postgres (MySQL or SQLite when they say
//! so, generic otherwise). A statement the parser cannot read is still
//! checked on its words, and its finding says so.

use std::collections::{HashMap, HashSet};

use agent_os_persona_sdk::brief::{Finding, Severity};
use agent_os_persona_sdk::context::{Language, SourceFile};
use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, AlterTypeOperation, ColumnDef, ColumnOption, Expr, ObjectName,
    ObjectType, Spanned, Statement, TableConstraint,
};
use sqlparser::dialect::{Dialect, GenericDialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;

/// The database a migration is written for, as far as the project says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Postgres,
    MySql,
    Sqlite,
    Unknown,
}

impl Db {
    /// Postgres, or not known to be anything else: the locking rules apply
    /// (hedged in the text when the database is not known).
    fn maybe_pg(self) -> bool {
        matches!(self, Db::Postgres | Db::Unknown)
    }
}

/// One migration rule.
pub struct Rule {
    pub id: &'static str,
    /// Family for the benchmark's figures.
    #[cfg_attr(not(test), allow(dead_code))]
    pub family: &'static str,
    pub severity: Severity,
    pub title: &'static str,
    /// Why it is a risk, in one line.
    pub why: &'static str,
    /// The safe alternative.
    pub fix: &'static str,
}

macro_rules! rules {
    ($(($id:literal, $fam:literal, $sev:ident, $title:literal, $why:literal, $fix:literal)),* $(,)?) => {
        /// Every migration rule.
        pub const RULES: &[Rule] = &[$(Rule { id: $id, family: $fam, severity: Severity::$sev, title: $title, why: $why, fix: $fix }),*];
    };
}

rules![
    (
        "weak-password-hash",
        "queries",
        High,
        "Unsalted fast hash of a password",
        "`md5()`/`sha1()` of a password is cracked in seconds from a leaked table, and the same password gives the same hash for every account",
        "never write password hashes in SQL: create accounts through the application's password hasher (argon2, bcrypt, scrypt), and keep real or guessable credentials out of seed data"
    ),
    (
        "model-backfill",
        "process",
        Medium,
        "Data backfilled through the model in a migration",
        "loading every row through the application model runs one query per row inside the migration, holds its transaction and locks for the whole loop, and breaks when the model changes later",
        "backfill with SQL in batches (`in_batches.update_all`, or a background job) in its own migration, with a model class defined inside the migration if one is needed"
    ),
    (
        "drop-table",
        "destructive",
        High,
        "Destructive migration: DROP TABLE",
        "dropping a table loses its data and breaks every reader still deployed",
        "stop reading and writing it in one release, back it up, and drop it in a later release"
    ),
    (
        "drop-column",
        "destructive",
        High,
        "Destructive migration: DROP COLUMN",
        "dropping a column loses its data and breaks readers still deployed (ORMs cache the column list)",
        "remove its usages first (Rails: `ignored_columns`), deploy, then drop it in a later release"
    ),
    (
        "drop-database",
        "destructive",
        Critical,
        "Destructive migration: DROP DATABASE",
        "dropping a database destroys every table in it",
        "never drop a database from a migration; do it by hand, after a backup"
    ),
    (
        "drop-schema",
        "destructive",
        Critical,
        "Destructive migration: DROP SCHEMA",
        "dropping a schema destroys every table and function in it",
        "drop the objects one by one in later releases, or by hand after a backup"
    ),
    (
        "truncate",
        "destructive",
        High,
        "Destructive statement: TRUNCATE",
        "TRUNCATE deletes every row at once under an ACCESS EXCLUSIVE lock",
        "make sure it is intended and backed up, or DELETE in batches with a WHERE clause"
    ),
    (
        "delete-without-where",
        "destructive",
        High,
        "DELETE without WHERE",
        "a DELETE without WHERE removes every row of the table",
        "add a WHERE clause, or delete in batches if every row must go"
    ),
    (
        "update-without-where",
        "destructive",
        High,
        "UPDATE without WHERE",
        "an UPDATE without WHERE rewrites every row in one long transaction that locks them all",
        "add a WHERE clause, or backfill in batches outside the schema migration"
    ),
    (
        "create-table-force",
        "destructive",
        High,
        "create_table with force",
        "`force: true`/`:cascade` drops an existing table of that name and its data",
        "create the table without `force`"
    ),
    (
        "rename-column",
        "compatibility",
        High,
        "Column rename breaks deployed readers",
        "code still deployed keeps using the old name and fails until it is replaced",
        "add the new column, write to both, backfill, move readers, then drop the old one"
    ),
    (
        "rename-table",
        "compatibility",
        High,
        "Table rename breaks deployed readers",
        "code still deployed keeps using the old table name and fails until it is replaced",
        "create the new table, write to both, backfill, move readers, then drop the old one (or leave a view)"
    ),
    (
        "change-column-type",
        "compatibility",
        Medium,
        "Column type change",
        "most type changes rewrite the table and its indexes under an ACCESS EXCLUSIVE lock, and can fail or truncate values",
        "add a column of the new type, backfill in batches, switch readers, then drop the old column"
    ),
    (
        "not-null-without-default",
        "constraints",
        High,
        "NOT NULL column without a default",
        "adding a NOT NULL column without a DEFAULT fails on a table that has rows",
        "add it nullable (or with a constant default), backfill, then add the NOT NULL constraint safely"
    ),
    (
        "set-not-null",
        "constraints",
        Medium,
        "NOT NULL added to an existing column",
        "SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock and fails if any row is null",
        "add `CHECK (col IS NOT NULL) NOT VALID`, VALIDATE it, then SET NOT NULL (Postgres 12+ skips the scan) and drop the check"
    ),
    (
        "add-foreign-key",
        "constraints",
        Medium,
        "Foreign key added without NOT VALID",
        "adding a foreign key checks every row while holding locks that block writes on both tables",
        "add it with NOT VALID, then `VALIDATE CONSTRAINT` in a separate migration (Rails: `validate: false` then `validate_foreign_key`)"
    ),
    (
        "add-check",
        "constraints",
        Medium,
        "CHECK constraint added without NOT VALID",
        "adding a CHECK constraint scans every row under an ACCESS EXCLUSIVE lock",
        "add it with NOT VALID, then `VALIDATE CONSTRAINT` in a separate migration"
    ),
    (
        "add-unique-constraint",
        "constraints",
        Medium,
        "UNIQUE constraint built under lock",
        "adding a UNIQUE constraint builds its index while blocking reads and writes",
        "`CREATE UNIQUE INDEX CONCURRENTLY`, then `ADD CONSTRAINT ... UNIQUE USING INDEX`"
    ),
    (
        "add-primary-key",
        "constraints",
        Medium,
        "Primary key built under lock",
        "adding a PRIMARY KEY builds its index under an ACCESS EXCLUSIVE lock",
        "`CREATE UNIQUE INDEX CONCURRENTLY`, then `ADD CONSTRAINT ... PRIMARY KEY USING INDEX`"
    ),
    (
        "create-index",
        "locking",
        Medium,
        "Index built without CONCURRENTLY",
        "a plain CREATE INDEX blocks writes to the table for as long as the index builds",
        "`CREATE INDEX CONCURRENTLY` outside a transaction (Rails: `algorithm: :concurrently`; Django: `AddIndexConcurrently`; Alembic: `postgresql_concurrently=True`)"
    ),
    (
        "drop-index",
        "locking",
        Medium,
        "Index dropped without CONCURRENTLY",
        "a plain DROP INDEX takes an ACCESS EXCLUSIVE lock on the table and queues every query behind it",
        "`DROP INDEX CONCURRENTLY` outside a transaction"
    ),
    (
        "concurrently-in-transaction",
        "transactions",
        High,
        "CONCURRENTLY inside a transaction",
        "Postgres refuses CREATE/DROP INDEX CONCURRENTLY inside a transaction block, so the migration fails",
        "run it outside a transaction (Rails: `disable_ddl_transaction!`; Django: `atomic = False`; Alembic: `autocommit_block()`)"
    ),
    (
        "enum-value-in-transaction",
        "transactions",
        Medium,
        "Enum value added inside a transaction",
        "before Postgres 12 `ALTER TYPE ... ADD VALUE` cannot run in a transaction block, and the new value cannot be used in the same transaction",
        "add the value in its own migration, outside a transaction"
    ),
    (
        "volatile-default",
        "rewrites",
        High,
        "Volatile default rewrites the table",
        "a volatile DEFAULT (random(), gen_random_uuid(), clock_timestamp(), nextval...) is computed per row, so adding the column rewrites the table under an ACCESS EXCLUSIVE lock",
        "add the column without a default, set the default in a second statement, then backfill in batches"
    ),
    (
        "default-old-postgres",
        "rewrites",
        Low,
        "Column default rewrites the table before Postgres 11",
        "this project looks like it runs Postgres older than 11, where ADD COLUMN ... DEFAULT rewrites the whole table",
        "add the column without a default, set the default afterwards, backfill in batches (or upgrade to Postgres 11+)"
    ),
    (
        "stored-generated-column",
        "rewrites",
        Medium,
        "Stored generated column rewrites the table",
        "adding a STORED generated column computes it for every row under an ACCESS EXCLUSIVE lock",
        "add a plain column, backfill in batches, and keep it up to date with a trigger or the application"
    ),
    (
        "lock-timeout",
        "locking",
        Low,
        "Locking DDL without a lock_timeout",
        "a DDL statement waiting for its lock blocks every query queued behind it, for as long as it waits",
        "start the migration with `SET lock_timeout = '2s'` (and a `statement_timeout`) and retry on timeout"
    ),
    (
        "vacuum-full",
        "rewrites",
        High,
        "VACUUM FULL locks the table",
        "VACUUM FULL rewrites the table under an ACCESS EXCLUSIVE lock for the whole run",
        "use plain VACUUM, or pg_repack / pg_squeeze to reclaim space online"
    ),
    (
        "cluster",
        "rewrites",
        High,
        "CLUSTER locks the table",
        "CLUSTER rewrites the table under an ACCESS EXCLUSIVE lock for the whole run",
        "use pg_repack to reorder the table online"
    ),
    (
        "lock-table",
        "locking",
        Medium,
        "Explicit LOCK TABLE",
        "an explicit table lock in a migration blocks readers or writers until the transaction ends",
        "avoid the lock, or keep the transaction tiny and set a lock_timeout"
    ),
    (
        "reindex",
        "locking",
        Medium,
        "REINDEX without CONCURRENTLY",
        "a plain REINDEX blocks writes (and reads that use the index) while it rebuilds",
        "`REINDEX ... CONCURRENTLY` (Postgres 12+) outside a transaction"
    ),
    (
        "refresh-matview",
        "locking",
        Low,
        "REFRESH MATERIALIZED VIEW without CONCURRENTLY",
        "a plain refresh locks the view against reads while it runs",
        "`REFRESH MATERIALIZED VIEW CONCURRENTLY` (needs a unique index on the view)"
    ),
    (
        "int-primary-key",
        "types",
        Low,
        "32-bit key column",
        "int/serial keys (and the columns referencing them) run out at about 2.1 billion rows, and widening them later rewrites the table and its references",
        "use bigint (`bigint GENERATED ALWAYS AS IDENTITY` or bigserial)"
    ),
    (
        "varchar-limit",
        "types",
        Low,
        "varchar(n) instead of text",
        "in Postgres varchar(n) is no faster than text, and changing the limit later can lock the table",
        "use text, with `CHECK (char_length(col) <= n)` if a limit is needed"
    ),
    (
        "timestamp-without-tz",
        "types",
        Low,
        "timestamp without time zone",
        "a timestamp without time zone stores wall-clock time, so values change meaning across servers and DST",
        "use timestamptz (`timestamp with time zone`)"
    ),
    (
        "json-type",
        "types",
        Low,
        "json instead of jsonb",
        "Postgres json has no equality operator, so DISTINCT, GROUP BY and some migrations fail, and it cannot be indexed",
        "use jsonb"
    ),
    (
        "unindexed-foreign-key",
        "types",
        Low,
        "Foreign key without an index",
        "Postgres does not index the referencing column, so joins and deletes on the parent scan this table",
        "add an index on the referencing column (concurrently on a table with data)"
    ),
    (
        "add-exclusion-constraint",
        "constraints",
        Medium,
        "Exclusion constraint added to an existing table",
        "adding an EXCLUDE constraint checks every row under an ACCESS EXCLUSIVE lock, and it cannot be added NOT VALID",
        "add it while the table is small or new, or enforce the rule in the application first"
    ),
    (
        "rename-enum-value",
        "compatibility",
        High,
        "Enum value rename breaks deployed code",
        "code still deployed keeps writing and matching the old value",
        "add the new value, write it, backfill from the old one, then stop using the old one"
    ),
    (
        "rename-schema",
        "compatibility",
        High,
        "Schema rename breaks deployed readers",
        "every query still naming the old schema fails",
        "create the new schema, move objects over while writing to both, then drop the old one"
    ),
    (
        "mysql-copy-algorithm",
        "locking",
        Medium,
        "ALGORITHM=COPY blocks writes",
        "in MySQL and MariaDB the COPY algorithm rebuilds the table while blocking writes",
        "leave the algorithm to the server (INPLACE/INSTANT where possible)"
    ),
    (
        "mysql-lock-option",
        "locking",
        Medium,
        "Explicit LOCK=SHARED/EXCLUSIVE",
        "in MySQL and MariaDB LOCK=SHARED blocks writes and LOCK=EXCLUSIVE blocks reads and writes for the whole change",
        "use the default locking (or LOCK=NONE)"
    ),
    (
        "char-type",
        "types",
        Low,
        "char(n) column",
        "char(n) pads values with spaces, compares surprisingly and is no faster than text in Postgres",
        "use text (with a CHECK on the length if one is needed)"
    ),
    (
        "wide-index",
        "types",
        Low,
        "Non-unique index on more than three columns",
        "a non-unique index with more than three columns rarely helps queries and costs every write",
        "start the index with the columns that narrow results most, and keep it to three or fewer"
    ),
    (
        "select-star",
        "queries",
        Low,
        "SELECT *",
        "SELECT * breaks consumers when columns change and reads more than needed",
        "select the columns you need"
    ),
    (
        "missing-down",
        "process",
        Medium,
        "Migration without a rollback",
        "a migration without its reverse cannot be rolled back after a bad deploy",
        "write the down/downgrade migration"
    ),
];

/// The rule with this id.
pub fn rule(id: &str) -> &'static Rule {
    RULES.iter().find(|r| r.id == id).unwrap_or(&RULES[0])
}

/// One rule that fired: where, on what, and anything to add to its text.
#[derive(Debug, Clone)]
pub struct Hit {
    pub rule: &'static str,
    /// Line index (0-based) in the file.
    pub line: usize,
    /// What it is about, e.g. "`users.email`".
    pub subject: String,
    /// Extra words: a hedge, or that the parser could not read the statement.
    pub note: String,
}

impl Hit {
    fn new(rule: &'static str, line: usize, subject: impl Into<String>) -> Self {
        Hit { rule, line, subject: subject.into(), note: String::new() }
    }

    fn note(mut self, note: &str) -> Self {
        if !note.is_empty() {
            if !self.note.is_empty() {
                self.note.push(' ');
            }
            self.note.push_str(note);
        }
        self
    }

    /// The finding for `f`.
    pub fn finding(&self, f: &SourceFile) -> Finding {
        let r = rule(self.rule);
        let title = match &f.path {
            Some(p) => format!("{} in `{p}`", r.title),
            None => r.title.to_string(),
        };
        let subject = if self.subject.is_empty() { String::new() } else { format!("{}: ", self.subject) };
        let note = if self.note.is_empty() { String::new() } else { format!(" {}", self.note) };
        let why = capitalise(r.why);
        Finding::new(r.severity, title, format!("{subject}{why}. Safer: {}. [{}]{note}", r.fix, r.id))
            .at_line(f.line_number(self.line))
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

const UNKNOWN_DB: &str = "(On Postgres; the database was not identified.)";
const UNPARSED: &str = "(The SQL parser could not read this statement; it was checked on its words.)";

/// What a SQL migration looked like, for the coverage note.
#[derive(Debug, Default, Clone, Copy)]
pub struct Coverage {
    pub statements: usize,
    pub unparsed: usize,
}

/// What the project says about its database: config files and paths.
pub fn project_db(files: &[SourceFile], read: &dyn Fn(&str) -> Option<String>) -> (Db, bool) {
    let mut texts: Vec<String> = Vec::new();
    let wants = files.iter().any(|f| f.path.as_deref().is_some_and(is_migration_path));
    if wants {
        for p in [
            "prisma/migrations/migration_lock.toml",
            "prisma/schema.prisma",
            "config/database.yml",
            "alembic.ini",
            "docker-compose.yml",
            "flyway.conf",
        ] {
            if let Some(t) = read(p) {
                texts.push(t);
            }
        }
    }
    let all = texts.join("\n").to_ascii_lowercase();
    let old = old_postgres(&all);
    let db = if all.contains("postgres") || all.contains("adapter: postgis") {
        Db::Postgres
    } else if all.contains("mysql") || all.contains("mariadb") {
        Db::MySql
    } else if all.contains("sqlite") {
        Db::Sqlite
    } else {
        Db::Unknown
    };
    (db, old)
}

/// A Postgres version older than 11 named in config text.
fn old_postgres(lower: &str) -> bool {
    [
        "postgres:9",
        "postgres:10",
        "postgresql 9",
        "postgresql 10",
        "postgres 9",
        "postgres 10",
        "postgresql:9",
        "postgresql:10",
    ]
    .iter()
    .any(|k| lower.contains(k))
}

pub fn is_migration_path(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    let name = lower.rsplit('/').next().unwrap_or(&lower);
    lower.split('/').any(|d| d.contains("migration") || d.contains("migrate") || d == "versions")
        || (name.starts_with('v') && name.contains("__") && name.ends_with(".sql"))
}

/// The database one SQL file is for: its path, then its own syntax, then the project.
pub fn file_db(f: &SourceFile, project: Db) -> Db {
    let path = f.path.as_deref().unwrap_or("").to_ascii_lowercase();
    let up = f.text.to_ascii_uppercase();
    if path.contains("postgres") || path.contains("/pg/") || path.contains("/pg_") || path.contains("psql") {
        return Db::Postgres;
    }
    if path.contains("mysql") || path.contains("mariadb") {
        return Db::MySql;
    }
    if path.contains("sqlite") {
        return Db::Sqlite;
    }
    if f.language != Language::Sql && f.path.is_some() {
        // A Ruby or Python migration: its own syntax says nothing about the database.
        return project;
    }
    if up.contains("AUTO_INCREMENT")
        || up.contains("ENGINE=")
        || up.contains("ENGINE =")
        || f.text.replace("```", "").contains('`')
    {
        return Db::MySql;
    }
    if up.contains("AUTOINCREMENT") || up.contains("PRAGMA ") || up.contains("WITHOUT ROWID") {
        return Db::Sqlite;
    }
    let pg = [
        "SERIAL",
        "JSONB",
        "TIMESTAMPTZ",
        "GEN_RANDOM_UUID",
        "CONCURRENTLY",
        "RETURNING",
        "ILIKE",
        "PLPGSQL",
        "::",
        "NOT VALID",
        "VALIDATE CONSTRAINT",
        "LOCK_TIMEOUT",
        "STATEMENT_TIMEOUT",
        "CREATE EXTENSION",
        "$$",
        "ALTER TYPE",
        "USING INDEX",
        "TIMESTAMP WITH",
        "SET NOT NULL",
        "DOUBLE PRECISION",
        "BYTEA",
        "UUID_GENERATE",
    ];
    if pg.iter().any(|k| up.contains(k)) {
        return Db::Postgres;
    }
    project
}

/// A statement of a SQL text: its text and the line index it starts on.
#[derive(Debug)]
pub struct Stmt {
    pub text: String,
    pub line: usize,
}

/// Splits SQL into statements at top-level semicolons, skipping comments and
/// honouring quotes and dollar quotes; `first_line` is the index of the
/// text's first line in its file.
pub fn split(text: &str, first_line: usize) -> Vec<Stmt> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut line = first_line;
    let mut start: Option<(usize, usize)> = None;
    let mut k = 0;
    let mut depth = 0i32;
    let mut begin_end = 0i32;
    let mut word = String::new();
    while k < b.len() {
        let c = b[k];
        if c.is_ascii_alphanumeric() || c == b'_' {
            word.push(c.to_ascii_uppercase() as char);
        } else if !word.is_empty() {
            // CREATE FUNCTION bodies and DO blocks written with BEGIN ... END (not dollar-quoted).
            match word.as_str() {
                "CASE" => begin_end += 1,
                "END" if begin_end > 0 => begin_end -= 1,
                _ => {}
            }
            word.clear();
        }
        if c == b'\n' {
            line += 1;
            k += 1;
            continue;
        }
        if c == b'-' && b.get(k + 1) == Some(&b'-') {
            while k < b.len() && b[k] != b'\n' {
                k += 1;
            }
            continue;
        }
        if c == b'`' && b.get(k + 1) == Some(&b'`') && b.get(k + 2) == Some(&b'`') {
            // A markdown code fence around pasted SQL.
            while k < b.len() && b[k] != b'\n' {
                k += 1;
            }
            continue;
        }
        if c == b'/' && b.get(k + 1) == Some(&b'*') {
            k += 2;
            while k < b.len() && !(b[k] == b'*' && b.get(k + 1) == Some(&b'/')) {
                if b[k] == b'\n' {
                    line += 1;
                }
                k += 1;
            }
            k = (k + 2).min(b.len());
            continue;
        }
        if c.is_ascii_whitespace() {
            k += 1;
            continue;
        }
        if start.is_none() {
            start = Some((k, line));
        }
        match c {
            b';' if depth <= 0 && begin_end <= 0 => {
                if let Some((s, l)) = start.take() {
                    out.push(Stmt { text: text[s..k].to_string(), line: l });
                }
                depth = 0;
                k += 1;
                continue;
            }
            b'(' => depth += 1,
            b')' => depth -= 1,
            b'\'' | b'"' | b'`' => {
                k += 1;
                while k < b.len() && b[k] != c {
                    if b[k] == b'\n' {
                        line += 1;
                    }
                    if b[k] == b'\\' && c == b'\'' && b.get(k + 1) == Some(&b'\'') {
                        k += 1;
                    }
                    k += 1;
                }
            }
            b'$' => {
                let tag_end = b[k + 1..].iter().position(|x| *x == b'$').map(|p| k + 1 + p);
                if let Some(e) = tag_end
                    && b[k + 1..e].iter().all(|x| x.is_ascii_alphanumeric() || *x == b'_')
                    && !b.get(k + 1).is_some_and(u8::is_ascii_digit)
                {
                    let tag = &text[k..=e];
                    let body_from = e + 1;
                    let close = text[body_from..].find(tag).map(|p| body_from + p);
                    let stop = close.map(|p| p + tag.len()).unwrap_or(b.len());
                    line += text[k..stop].matches('\n').count();
                    k = stop;
                    continue;
                }
            }
            _ => {}
        }
        k += 1;
    }
    if let Some((s, l)) = start {
        let t = text[s..].trim_end();
        if !t.is_empty() {
            out.push(Stmt { text: t.to_string(), line: l });
        }
    }
    out
}

/// Words of a statement, uppercased, with strings kept whole, for the checks
/// the parser does not cover and for statements it cannot read.
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            let mut s = String::from("'");
            for d in chars.by_ref() {
                s.push(d);
                if d == '\'' {
                    break;
                }
            }
            out.push(s);
        } else if c.is_whitespace() || matches!(c, '(' | ')' | ',' | ';') {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            if matches!(c, '(' | ')' | ',') {
                out.push(c.to_string());
            }
        } else {
            cur.extend(c.to_uppercase());
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn has_seq(w: &[String], seq: &[&str]) -> bool {
    w.windows(seq.len()).any(|x| x.iter().zip(seq).all(|(a, b)| a == b))
}

fn after(w: &[String], seq: &[&str], skip: &[&str]) -> String {
    let Some(p) = w.windows(seq.len()).position(|x| x.iter().zip(seq).all(|(a, b)| a == b)) else {
        return String::new();
    };
    w[p + seq.len()..].iter().find(|x| !skip.contains(&x.as_str())).map(|x| clean(x)).unwrap_or_default()
}

/// An identifier without quotes, lowercased.
fn clean(s: &str) -> String {
    s.trim_matches(|c| c == '"' || c == '`' || c == '[' || c == ']').to_ascii_lowercase()
}

fn object(n: &ObjectName) -> String {
    n.to_string().replace(['"', '`'], "").to_ascii_lowercase()
}

/// The last part of a dotted name: `public.users` -> `users`.
fn base(n: &str) -> String {
    n.rsplit('.').next().unwrap_or(n).to_string()
}

/// Per-file state as the statements go by.
#[derive(Default)]
pub struct State {
    pub db: Option<Db>,
    pub old_pg: bool,
    /// Tables created earlier in this migration: no readers, no rows.
    pub created: HashSet<String>,
    pub in_tx: bool,
    /// The file runs in a transaction the framework opens (Rails, Django, Alembic).
    pub framework_tx: bool,
    pub lock_timeout: bool,
    /// Constraint name -> (table, column) of `CHECK (col IS NOT NULL) NOT VALID`.
    pending_checks: HashMap<String, (String, String)>,
    /// (table, column) with a validated `CHECK (col IS NOT NULL)`.
    pub not_null_checked: HashSet<(String, String)>,
    /// Constraint name -> rule, of constraints added NOT VALID inside the current transaction.
    pub not_valid_in_tx: HashMap<String, &'static str>,
    /// (table, constraint name) validated here but added elsewhere, whose name says NOT NULL.
    pub validated_names: Vec<(String, String)>,
    /// First line of a statement that takes a strong lock on an existing table.
    pub locking_line: Option<usize>,
    pub coverage: Coverage,
    /// Tables whose own int/serial key was reported: a column referring to
    /// one of them is covered by that finding.
    int_keys: Vec<String>,
}

impl State {
    pub fn new(db: Db, old_pg: bool) -> Self {
        State { db: Some(db), old_pg, ..State::default() }
    }

    fn db(&self) -> Db {
        self.db.unwrap_or(Db::Unknown)
    }

    /// Whether a validated `CHECK (col IS NOT NULL)` on `table.col` came earlier.
    fn checked_not_null(&self, table: &str, col: &str) -> bool {
        self.not_null_checked.contains(&(table.to_string(), col.to_string()))
            || self.validated_names.iter().any(|(t, n)| t == table && n.contains(col))
    }

    fn is_new(&self, table: &str) -> bool {
        self.created.contains(&base(table))
    }

    fn locks(&mut self, line: usize) {
        self.locking_line.get_or_insert(line);
    }

    /// The lock-timeout rule, once per file, after its statements: only in a
    /// file with a risky locking step, so files without one stay quiet.
    pub fn finish(&self, hits: &mut Vec<Hit>) {
        if self.lock_timeout || !self.db().maybe_pg() {
            return;
        }
        let risky = hits.iter().any(|h| {
            matches!(
                h.rule,
                "set-not-null"
                    | "add-foreign-key"
                    | "add-check"
                    | "add-unique-constraint"
                    | "add-primary-key"
                    | "change-column-type"
                    | "volatile-default"
                    | "create-index"
                    | "drop-index"
                    | "stored-generated-column"
            )
        });
        if let (true, Some(line)) = (risky, self.locking_line) {
            hits.push(Hit::new("lock-timeout", line, ""));
        }
    }
}

/// Checks the SQL `text` whose first line is line index `first_line` of its file.
pub fn check_sql(text: &str, first_line: usize, st: &mut State) -> Vec<Hit> {
    let mut hits = Vec::new();
    for s in split(text, first_line) {
        // Prose and fences around SQL pasted into a review context are not statements.
        let Some(s) = trim_prose(s) else { continue };
        st.coverage.statements += 1;
        statement(&s, st, &mut hits);
    }
    hits
}

const SQL_STARTS: &[&str] = &[
    "ALTER",
    "CREATE",
    "DROP",
    "TRUNCATE",
    "DELETE",
    "UPDATE",
    "INSERT",
    "SELECT",
    "WITH",
    "BEGIN",
    "START",
    "COMMIT",
    "END",
    "ROLLBACK",
    "SET",
    "VACUUM",
    "ANALYZE",
    "CLUSTER",
    "LOCK",
    "REINDEX",
    "REFRESH",
    "RENAME",
    "DO",
    "COMMENT",
    "GRANT",
    "REVOKE",
    "PRAGMA",
    "MERGE",
    "COPY",
    "REPLACE",
    "SAVEPOINT",
    "RELEASE",
    "ABORT",
];

/// The statement from its first line that starts with a SQL keyword, or
/// `None` when no line does (prose, a code fence).
fn trim_prose(s: Stmt) -> Option<Stmt> {
    let starts_sql = |l: &str| {
        let w: String = l.trim_start().chars().take_while(|c| c.is_ascii_alphabetic()).collect();
        SQL_STARTS.iter().any(|k| w.eq_ignore_ascii_case(k))
    };
    let mut offset = 0;
    for (i, l) in s.text.split_inclusive('\n').enumerate() {
        if starts_sql(l) {
            let text = if i == 0 { s.text } else { s.text[offset..].to_string() };
            return Some(Stmt { text, line: s.line + i });
        }
        offset += l.len();
    }
    None
}

fn dialect(db: Db) -> Box<dyn Dialect> {
    match db {
        Db::Postgres => Box::new(PostgreSqlDialect {}),
        Db::MySql => Box::new(MySqlDialect {}),
        Db::Sqlite => Box::new(SQLiteDialect {}),
        Db::Unknown => Box::new(GenericDialect {}),
    }
}

fn statement(s: &Stmt, st: &mut State, hits: &mut Vec<Hit>) {
    let w = words(&s.text);
    let Some(first) = w.first().map(String::as_str) else { return };
    let line = s.line;
    // A password column written as md5()/sha1() of a value.
    if matches!(first, "INSERT" | "UPDATE") {
        let lower = s.text.to_ascii_lowercase();
        let password = ["password", "passwd", "pwd", "pass_hash", "passhash"].iter().any(|k| lower.contains(k));
        let fast = ["md5(", "sha1(", "sha224(", "sha256(", "sha512(", "digest("].iter().find_map(|k| lower.find(k));
        if let (true, Some(at)) = (password, fast) {
            let at_line = line + lower[..at].matches('\n').count();
            hits.push(Hit::new("weak-password-hash", at_line, "a password column".to_string()));
        }
    }
    let hedge = if st.db() == Db::Unknown { UNKNOWN_DB } else { "" };
    let pg = st.db().maybe_pg();
    // Statements read on their words: transactions, settings and
    // maintenance commands the parser does not model (or models per dialect).
    match first {
        "BEGIN" | "START" if w.len() <= 3 => {
            st.in_tx = true;
            return;
        }
        "COMMIT" | "END" | "ROLLBACK" if w.len() <= 3 => {
            st.in_tx = false;
            st.not_valid_in_tx.clear();
            return;
        }
        "SET" => {
            // Only a timeout set before the first locking statement protects it.
            if w.iter().any(|x| x.contains("LOCK_TIMEOUT")) && st.locking_line.is_none() {
                st.lock_timeout = true;
            }
            return;
        }
        "VACUUM" if w.iter().any(|x| x == "FULL") => {
            hits.push(Hit::new("vacuum-full", line, after(&w, &["FULL"], &["VERBOSE", "ANALYZE", "("])));
            return;
        }
        "VACUUM" | "ANALYZE" => return,
        "CLUSTER" => {
            hits.push(Hit::new("cluster", line, w.get(1).map(|x| format!("`{}`", clean(x))).unwrap_or_default()));
            return;
        }
        "LOCK" => {
            hits.push(Hit::new("lock-table", line, format!("`{}`", after(&w, &["LOCK"], &["TABLE", "ONLY"]))));
            return;
        }
        "REINDEX" if pg => {
            if !w.iter().any(|x| x == "CONCURRENTLY") {
                hits.push(Hit::new("reindex", line, "").note(hedge));
            }
            if w.iter().any(|x| x == "CONCURRENTLY") && (st.in_tx || st.framework_tx) {
                hits.push(Hit::new("concurrently-in-transaction", line, "`REINDEX CONCURRENTLY`"));
            }
            return;
        }
        "REFRESH" => {
            if !w.iter().any(|x| x == "CONCURRENTLY") {
                let view = after(&w, &["VIEW"], &[]);
                hits.push(Hit::new("refresh-matview", line, format!("`{view}`")));
            }
            return;
        }
        "DROP" if w.get(1).is_some_and(|x| x == "INDEX") => {
            let conc = w.iter().any(|x| x == "CONCURRENTLY");
            let name = after(&w, &["INDEX"], &["CONCURRENTLY", "IF", "EXISTS"]);
            if pg && !conc {
                st.locks(line);
                hits.push(Hit::new("drop-index", line, format!("`{name}`")).note(hedge));
            }
            if conc && (st.in_tx || st.framework_tx) {
                hits.push(Hit::new("concurrently-in-transaction", line, format!("`DROP INDEX CONCURRENTLY {name}`")));
            }
            return;
        }
        "ALTER" if w.get(1).is_some_and(|x| x == "TYPE") && has_seq(&w, &["ADD", "VALUE"]) => {
            if st.in_tx || st.framework_tx {
                hits.push(Hit::new("enum-value-in-transaction", line, format!("`{}`", clean(&w[2]))));
            }
            return;
        }
        "ALTER" if w.get(1).is_some_and(|x| x == "TYPE") && has_seq(&w, &["RENAME", "VALUE"]) => {
            hits.push(Hit::new("rename-enum-value", line, format!("`{}`", clean(&w[2]))));
            return;
        }
        "ALTER" if w.get(1).is_some_and(|x| x == "SCHEMA") && has_seq(&w, &["RENAME", "TO"]) => {
            hits.push(Hit::new("rename-schema", line, format!("`{}`", clean(&w[2]))));
            return;
        }
        "DO" | "COMMENT" | "GRANT" | "REVOKE" | "PRAGMA" => return,
        _ => {}
    }
    let flat = w.join(" ").replace(" = ", "=").replace(" =", "=").replace("= ", "=");
    if flat.contains("ALGORITHM=COPY") {
        hits.push(Hit::new("mysql-copy-algorithm", line, ""));
    }
    if flat.contains("LOCK=SHARED") || flat.contains("LOCK=EXCLUSIVE") {
        hits.push(Hit::new("mysql-lock-option", line, ""));
    }
    if first == "ALTER" && w.get(1).is_some_and(|x| x == "TABLE") && w.iter().any(|x| x == "EXCLUDE") {
        let t = base(&after(&w, &["TABLE"], &["IF", "EXISTS", "ONLY"]));
        if !st.is_new(&t) && w.iter().any(|x| x == "ADD") {
            st.locks(line);
            hits.push(Hit::new("add-exclusion-constraint", line, format!("`{t}`")));
        }
    }
    let d = dialect(st.db());
    let parsed = Parser::parse_sql(d.as_ref(), &s.text)
        .or_else(|e| if st.db() == Db::Unknown { Parser::parse_sql(&PostgreSqlDialect {}, &s.text) } else { Err(e) });
    match parsed {
        Ok(stmts) => {
            for p in &stmts {
                parsed_statement(p, s, &w, st, hits, hedge);
            }
        }
        Err(_) => {
            st.coverage.unparsed += 1;
            let from = hits.len();
            unparsed_statement(&w, line, st, hits, hedge);
            for h in &mut hits[from..] {
                *h = h.clone().note(UNPARSED);
            }
        }
    }
    if w.windows(2).any(|x| x[0] == "SELECT" && x[1] == "*") {
        hits.push(Hit::new("select-star", line, ""));
    }
}

/// The line of a node inside statement `s`, in the file's numbering (0-based).
fn line_of(s: &Stmt, span_line: u64) -> usize {
    if span_line == 0 { s.line } else { s.line + span_line as usize - 1 }
}

fn is_volatile(expr: &str) -> bool {
    let e = expr.to_ascii_lowercase();
    ["random(", "gen_random_uuid(", "uuid_generate_v", "clock_timestamp(", "timeofday(", "nextval(", "uuid()", "newid("]
        .iter()
        .any(|k| e.contains(k))
}

fn parsed_statement(p: &Statement, s: &Stmt, w: &[String], st: &mut State, hits: &mut Vec<Hit>, hedge: &str) {
    let line = s.line;
    let pg = st.db().maybe_pg();
    match p {
        Statement::Drop { object_type, names, .. } => {
            let list = names.iter().map(|n| format!("`{}`", object(n))).collect::<Vec<_>>().join(", ");
            let rule = match object_type {
                ObjectType::Table => "drop-table",
                ObjectType::Database => "drop-database",
                ObjectType::Schema => "drop-schema",
                ObjectType::Index => {
                    if pg {
                        st.locks(line);
                        hits.push(Hit::new("drop-index", line, list).note(hedge));
                    }
                    return;
                }
                _ => return,
            };
            if rule == "drop-table" && names.iter().all(|n| st.is_new(&object(n))) {
                return;
            }
            hits.push(Hit::new(rule, line, list));
        }
        Statement::Truncate(t) => {
            let list = t.table_names.iter().map(|n| format!("`{}`", object(&n.name))).collect::<Vec<_>>().join(", ");
            hits.push(Hit::new("truncate", line, list));
        }
        Statement::Delete(d) if d.selection.is_none() && d.limit.is_none() => {
            let table = after(w, &["FROM"], &["ONLY"]);
            hits.push(Hit::new("delete-without-where", line, format!("`{table}`")));
        }
        Statement::Update(u) if u.selection.is_none() && u.limit.is_none() => {
            let table = u.table.relation.to_string().replace('"', "").to_ascii_lowercase();
            if !st.is_new(&table) {
                hits.push(Hit::new("update-without-where", line, format!("`{table}`")));
            }
        }
        Statement::RenameTable(r) => {
            for t in r {
                hits.push(Hit::new(
                    "rename-table",
                    line,
                    format!("`{}` to `{}`", object(&t.old_name), object(&t.new_name)),
                ));
            }
        }
        Statement::CreateIndex(ci) => {
            let table = object(&ci.table_name);
            if !ci.unique && ci.columns.len() > 3 {
                hits.push(Hit::new("wide-index", line, format!("index on `{table}` ({} columns)", ci.columns.len())));
            }
            if ci.concurrently {
                if st.in_tx || st.framework_tx {
                    hits.push(Hit::new("concurrently-in-transaction", line, format!("index on `{table}`")));
                }
            } else if pg && !st.is_new(&table) {
                st.locks(line);
                hits.push(Hit::new("create-index", line, format!("index on `{table}`")).note(hedge));
            }
        }
        Statement::CreateTable(ct) => {
            let table = object(&ct.name);
            st.created.insert(base(&table));
            let pk_cols: Vec<String> = ct
                .constraints
                .iter()
                .filter_map(|c| match c {
                    TableConstraint::PrimaryKey(pk) => Some(
                        pk.columns
                            .iter()
                            .map(|c| c.to_string().replace('"', "").to_ascii_lowercase())
                            .collect::<Vec<_>>(),
                    ),
                    _ => None,
                })
                .flatten()
                .collect();
            for c in &ct.columns {
                let pk = pk_cols.contains(&c.name.value.to_ascii_lowercase())
                    || c.options.iter().any(|o| matches!(o.option, ColumnOption::PrimaryKey(_)));
                column_types(c, &table, pk, s, st, hits);
            }
        }
        Statement::AlterTable(at) => {
            let table = object(&at.name);
            let new = st.is_new(&table);
            for op in &at.operations {
                let l = line_of(s, op.span().start.line);
                alter_op(op, &table, new, l, s, st, hits, hedge);
            }
        }
        Statement::AlterType(t)
            if matches!(t.operation, AlterTypeOperation::AddValue(_)) && (st.in_tx || st.framework_tx) =>
        {
            hits.push(Hit::new("enum-value-in-transaction", line, format!("`{}`", object(&t.name))));
        }
        Statement::StartTransaction { .. } => st.in_tx = true,
        Statement::Commit { .. } | Statement::Rollback { .. } => {
            st.in_tx = false;
            st.not_valid_in_tx.clear();
        }
        Statement::Lock(_) | Statement::LockTables { .. } => {
            hits.push(Hit::new("lock-table", line, ""));
        }
        _ => {}
    }
}

fn column_types(c: &ColumnDef, table: &str, pk: bool, s: &Stmt, st: &mut State, hits: &mut Vec<Hit>) {
    let l = line_of(s, c.span().start.line);
    let ty = c.data_type.to_string().to_ascii_uppercase();
    let col = format!("`{}.{}`", base(table), c.name.value.to_ascii_lowercase());
    let pg = st.db().maybe_pg();
    let hedge = if st.db() == Db::Unknown { UNKNOWN_DB } else { "" };
    let int = matches!(
        ty.as_str(),
        "INT" | "INTEGER" | "INT4" | "SERIAL" | "SERIAL4" | "SMALLINT" | "SMALLSERIAL" | "INT2" | "MEDIUMINT"
    ) || (ty.starts_with("INT(") && st.db() == Db::MySql);
    let name = c.name.value.to_ascii_lowercase();
    let key = pk || name == "id" || name.ends_with("_id") || c.name.value.ends_with("Id");
    // A column referring to a table whose int key was already reported
    // (`student_id` → `students`) is covered by that finding: one finding
    // per key, whose fix widens its references with it.
    let stem = name.strip_suffix("_id").unwrap_or("");
    let covered = !pk
        && !stem.is_empty()
        && st.int_keys.iter().any(|t| {
            let t = base(t);
            t == stem || t == format!("{stem}s") || t == format!("{stem}es")
        });
    if key && int && st.db() != Db::Sqlite && !covered {
        if pk || name == "id" {
            st.int_keys.push(table.to_string());
        }
        hits.push(Hit::new("int-primary-key", l, col.clone()));
    }
    if pg && (ty.starts_with("VARCHAR(") || ty.starts_with("CHARACTER VARYING(")) {
        hits.push(Hit::new("varchar-limit", l, format!("{col} is {}", c.data_type)).note(hedge));
    }
    if pg && (ty == "TIMESTAMP" || ty.starts_with("TIMESTAMP(") || ty.contains("WITHOUT TIME ZONE")) {
        hits.push(Hit::new("timestamp-without-tz", l, col.clone()).note(hedge));
    }
    if pg && (ty.starts_with("CHAR(") || ty.starts_with("CHARACTER(") || ty == "CHAR" || ty == "CHARACTER") {
        hits.push(Hit::new("char-type", l, format!("{col} is {}", c.data_type)).note(hedge));
    }
    if pg && ty == "JSON" {
        hits.push(Hit::new("json-type", l, col).note(hedge));
    }
}

/// `CHECK (col IS NOT NULL)`: the column, if the check is exactly that.
fn not_null_check(expr: &Expr) -> Option<String> {
    match expr {
        Expr::IsNotNull(e) => Some(e.to_string().replace('"', "").to_ascii_lowercase()),
        Expr::Nested(e) => not_null_check(e),
        _ => None,
    }
}

#[allow(clippy::too_many_arguments)]
fn alter_op(
    op: &AlterTableOperation,
    table: &str,
    new: bool,
    l: usize,
    s: &Stmt,
    st: &mut State,
    hits: &mut Vec<Hit>,
    hedge: &str,
) {
    let t = base(table);
    let pg = st.db().maybe_pg();
    match op {
        AlterTableOperation::DropColumn { column_names, .. } if !new => {
            for c in column_names {
                hits.push(Hit::new("drop-column", l, format!("`{t}.{}`", c.value.to_ascii_lowercase())));
            }
        }
        AlterTableOperation::RenameColumn { old_column_name, new_column_name } if !new => {
            hits.push(Hit::new(
                "rename-column",
                l,
                format!("`{t}.{}` to `{}`", old_column_name.value, new_column_name.value),
            ));
        }
        AlterTableOperation::RenameTable { table_name } if !new => {
            hits.push(Hit::new(
                "rename-table",
                l,
                format!(
                    "`{t}` to `{}`",
                    table_name.to_string().replace(['"', '`'], "").trim_start_matches("TO ").trim_start_matches("AS ")
                ),
            ));
        }
        AlterTableOperation::ChangeColumn { old_name, .. }
        | AlterTableOperation::ModifyColumn { col_name: old_name, .. }
            if !new =>
        {
            st.locks(l);
            hits.push(Hit::new("change-column-type", l, format!("`{t}.{}`", old_name.value)));
        }
        AlterTableOperation::AlterColumn { column_name, op } if !new => {
            let col = column_name.value.to_ascii_lowercase();
            match op {
                AlterColumnOperation::SetDataType { data_type, .. } => {
                    st.locks(l);
                    hits.push(Hit::new("change-column-type", l, format!("`{t}.{col}` to {data_type}")));
                }
                AlterColumnOperation::SetNotNull if !st.checked_not_null(&t, &col) => {
                    st.locks(l);
                    hits.push(Hit::new("set-not-null", l, format!("`{t}.{col}`")));
                }
                _ => {}
            }
        }
        AlterTableOperation::AddColumn { column_def, .. } => {
            let col = format!("`{t}.{}`", column_def.name.value.to_ascii_lowercase());
            let mut not_null = false;
            let mut default: Option<String> = None;
            let mut generated_stored = false;
            let mut pk = false;
            for o in &column_def.options {
                match &o.option {
                    ColumnOption::NotNull => not_null = true,
                    ColumnOption::Default(e) => default = Some(e.to_string()),
                    ColumnOption::PrimaryKey(_) => pk = true,
                    ColumnOption::Generated { .. } => {
                        let text = o.option.to_string().to_ascii_uppercase();
                        if text.contains("STORED") || (text.contains(" AS (") && !text.contains("VIRTUAL")) {
                            generated_stored = text.contains("STORED");
                        }
                        if text.contains("IDENTITY") {
                            default = Some("identity".into());
                        }
                    }
                    ColumnOption::ForeignKey(_) if !new && pg => {
                        st.locks(l);
                        hits.push(Hit::new("add-foreign-key", l, col.clone()).note(hedge));
                    }
                    ColumnOption::Unique(_) if !new && pg => {
                        st.locks(l);
                        hits.push(Hit::new("add-unique-constraint", l, col.clone()).note(hedge));
                    }
                    ColumnOption::Check(_) if !new && pg => {
                        st.locks(l);
                        hits.push(Hit::new("add-check", l, col.clone()).note(hedge));
                    }
                    _ => {}
                }
            }
            let ty = column_def.data_type.to_string().to_ascii_uppercase();
            let serial = ty.contains("SERIAL");
            if !new {
                if not_null && default.is_none() && !serial && !pk {
                    hits.push(Hit::new("not-null-without-default", l, col.clone()));
                }
                if let Some(d) = &default {
                    if is_volatile(d) && pg {
                        st.locks(l);
                        hits.push(Hit::new("volatile-default", l, format!("{col} DEFAULT {d}")));
                    } else if st.old_pg && pg {
                        hits.push(
                            Hit::new("default-old-postgres", l, col.clone())
                                .note("(Hedged: from the version this project names.)"),
                        );
                    }
                }
                if pk && pg {
                    st.locks(l);
                    hits.push(Hit::new("add-primary-key", l, col.clone()).note(hedge));
                }
                if serial && pg {
                    st.locks(l);
                    hits.push(Hit::new("volatile-default", l, format!("{col} is {ty} (a nextval() default)")));
                }
                if generated_stored {
                    st.locks(l);
                    hits.push(Hit::new("stored-generated-column", l, col.clone()));
                }
            }
            column_types(column_def, table, pk, s, st, hits);
        }
        AlterTableOperation::AddConstraint { constraint, not_valid } => {
            add_constraint(constraint, *not_valid, &t, new, l, st, hits, hedge);
        }
        AlterTableOperation::ValidateConstraint { name } => {
            let n = name.value.to_ascii_lowercase();
            if let Some(rule) = st.not_valid_in_tx.remove(&n) {
                hits.push(
                    Hit::new(rule, l, format!("`{n}` on `{t}`"))
                        .note("(Validated in the same transaction that added it NOT VALID, so the lock is held while every row is checked: validate in a separate migration.)"),
                );
            }
            if let Some(tc) = st.pending_checks.remove(&n) {
                st.not_null_checked.insert(tc);
            } else if n.contains("null") || n.contains("_nn") {
                // Added in an earlier migration: its name says it is a NOT NULL check.
                st.validated_names.push((t.clone(), n));
            }
        }
        _ => {}
    }
}

#[allow(clippy::too_many_arguments)]
fn add_constraint(
    c: &TableConstraint,
    not_valid: bool,
    t: &str,
    new: bool,
    l: usize,
    st: &mut State,
    hits: &mut Vec<Hit>,
    hedge: &str,
) {
    let pg = st.db().maybe_pg();
    let cols = |v: &[String]| v.join(", ");
    if not_valid && (st.in_tx || st.framework_tx) {
        let (name, rule) = match c {
            TableConstraint::ForeignKey(fk) => (fk.name.as_ref(), "add-foreign-key"),
            TableConstraint::Check(ck) => (ck.name.as_ref(), "add-check"),
            _ => (None, ""),
        };
        if let Some(n) = name {
            st.not_valid_in_tx.insert(n.value.to_ascii_lowercase(), rule);
        }
    }
    match c {
        TableConstraint::ForeignKey(fk) if !not_valid && !new && pg => {
            st.locks(l);
            let c: Vec<String> = fk.columns.iter().map(|c| c.value.clone()).collect();
            hits.push(
                Hit::new("add-foreign-key", l, format!("`{t}({})` -> `{}`", cols(&c), object(&fk.foreign_table)))
                    .note(hedge),
            );
        }
        TableConstraint::Check(ck) => {
            let col = not_null_check(&ck.expr);
            if let Some(col) = &col {
                let key = (t.to_string(), col.clone());
                if not_valid {
                    if let Some(n) = &ck.name {
                        st.pending_checks.insert(n.value.to_ascii_lowercase(), key);
                    }
                } else {
                    st.not_null_checked.insert(key);
                }
            }
            if !not_valid && !new && pg {
                st.locks(l);
                hits.push(Hit::new("add-check", l, format!("`{t}`: CHECK {}", ck.expr)).note(hedge));
            }
        }
        TableConstraint::Unique(u) if !new && pg && !u.columns.is_empty() => {
            st.locks(l);
            let c: Vec<String> = u.columns.iter().map(|c| c.to_string()).collect();
            hits.push(Hit::new("add-unique-constraint", l, format!("`{t}({})`", cols(&c))).note(hedge));
        }
        TableConstraint::PrimaryKey(pk) if !new && pg && !pk.columns.is_empty() => {
            st.locks(l);
            let c: Vec<String> = pk.columns.iter().map(|c| c.to_string()).collect();
            hits.push(Hit::new("add-primary-key", l, format!("`{t}({})`", cols(&c))).note(hedge));
        }
        _ => {}
    }
}

/// Checks on the words of a statement the parser could not read.
fn unparsed_statement(w: &[String], line: usize, st: &mut State, hits: &mut Vec<Hit>, hedge: &str) {
    let first = w[0].as_str();
    let second = w.get(1).map(String::as_str).unwrap_or("");
    let pg = st.db().maybe_pg();
    match (first, second) {
        ("DROP", "TABLE") => {
            hits.push(Hit::new("drop-table", line, format!("`{}`", after(w, &["TABLE"], &["IF", "EXISTS"]))))
        }
        ("DROP", "DATABASE") => {
            hits.push(Hit::new("drop-database", line, format!("`{}`", after(w, &["DATABASE"], &["IF", "EXISTS"]))))
        }
        ("DROP", "SCHEMA") => {
            hits.push(Hit::new("drop-schema", line, format!("`{}`", after(w, &["SCHEMA"], &["IF", "EXISTS"]))))
        }
        ("TRUNCATE", _) => {
            hits.push(Hit::new("truncate", line, format!("`{}`", after(w, &["TRUNCATE"], &["TABLE", "ONLY"]))))
        }
        ("DELETE", _) if !w.iter().any(|x| x == "WHERE") => {
            hits.push(Hit::new("delete-without-where", line, format!("`{}`", after(w, &["FROM"], &["ONLY"]))))
        }
        ("UPDATE", _) if !w.iter().any(|x| x == "WHERE") && w.iter().any(|x| x == "SET") => {
            hits.push(Hit::new("update-without-where", line, format!("`{}`", clean(second))))
        }
        ("CREATE", _) => {
            let idx = w.iter().take(4).position(|x| x == "INDEX");
            if let Some(i) = idx {
                let table = after(w, &["ON"], &["ONLY"]);
                let table = table.split('(').next().unwrap_or("").to_string();
                let conc = w.get(i + 1).is_some_and(|x| x == "CONCURRENTLY");
                if conc && (st.in_tx || st.framework_tx) {
                    hits.push(Hit::new("concurrently-in-transaction", line, format!("index on `{table}`")));
                } else if !conc && pg && !st.is_new(&table) {
                    st.locks(line);
                    hits.push(Hit::new("create-index", line, format!("index on `{table}`")).note(hedge));
                }
            } else if w.iter().take(5).any(|x| x == "TABLE") {
                let t = after(w, &["TABLE"], &["IF", "NOT", "EXISTS"]);
                st.created.insert(base(t.split('(').next().unwrap_or("")));
            }
        }
        ("ALTER", "TABLE") => {
            let t = base(&after(w, &["TABLE"], &["IF", "EXISTS", "ONLY"]));
            if st.is_new(&t) {
                return;
            }
            if has_seq(w, &["DROP", "COLUMN"]) {
                hits.push(Hit::new(
                    "drop-column",
                    line,
                    format!("`{t}.{}`", after(w, &["DROP", "COLUMN"], &["IF", "EXISTS"])),
                ));
            }
            if has_seq(w, &["RENAME", "COLUMN"]) {
                hits.push(Hit::new("rename-column", line, format!("`{t}.{}`", after(w, &["RENAME", "COLUMN"], &[]))));
            } else if has_seq(w, &["RENAME", "TO"]) {
                hits.push(Hit::new("rename-table", line, format!("`{t}`")));
            }
            if w.iter().any(|x| x == "TYPE") && has_seq(w, &["ALTER"]) && w.iter().filter(|x| *x == "ALTER").count() > 1
            {
                st.locks(line);
                hits.push(Hit::new("change-column-type", line, format!("`{t}`")));
            }
            if has_seq(w, &["SET", "NOT", "NULL"]) {
                let col = after(w, &["ALTER", "COLUMN"], &[]);
                if !st.checked_not_null(&t, &col) {
                    st.locks(line);
                    hits.push(Hit::new("set-not-null", line, format!("`{t}.{col}`")));
                }
            }
            let not_valid = has_seq(w, &["NOT", "VALID"]);
            if pg && !not_valid && has_seq(w, &["FOREIGN", "KEY"]) {
                st.locks(line);
                hits.push(Hit::new("add-foreign-key", line, format!("`{t}`")).note(hedge));
            }
            if pg && !not_valid && has_seq(w, &["ADD", "CONSTRAINT"]) && w.iter().any(|x| x == "CHECK") {
                st.locks(line);
                hits.push(Hit::new("add-check", line, format!("`{t}`")).note(hedge));
            }
            if pg && has_seq(w, &["ADD", "CONSTRAINT"]) && !has_seq(w, &["USING", "INDEX"]) {
                if w.iter().any(|x| x == "UNIQUE") {
                    st.locks(line);
                    hits.push(Hit::new("add-unique-constraint", line, format!("`{t}`")).note(hedge));
                } else if has_seq(w, &["PRIMARY", "KEY"]) {
                    st.locks(line);
                    hits.push(Hit::new("add-primary-key", line, format!("`{t}`")).note(hedge));
                }
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------
// Framework migrations: Rails, Django, Alembic.

/// The migration framework a file belongs to, by its path and text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framework {
    Rails,
    Django,
    Alembic,
}

pub fn framework(f: &SourceFile) -> Option<Framework> {
    let path = f.path.as_deref()?.to_ascii_lowercase();
    if path.ends_with(".rb") && (path.contains("db/migrate/") || f.text.contains("ActiveRecord::Migration")) {
        return Some(Framework::Rails);
    }
    if !path.ends_with(".py") {
        return None;
    }
    if f.text.contains("migrations.Migration") || (path.contains("/migrations/") && f.text.contains("from django")) {
        return Some(Framework::Django);
    }
    if f.text.contains("from alembic") || f.text.contains("op.") && f.text.contains("def upgrade(") {
        return Some(Framework::Alembic);
    }
    None
}

/// One call in a framework migration: its name, its argument text and its line index.
struct Call {
    name: String,
    args: String,
    line: usize,
    /// The line index where the arguments end.
    #[allow(dead_code)]
    end: usize,
}

/// Calls to `names` (matched as whole words, optionally after `prefix.`),
/// with their arguments up to the closing parenthesis or, for Ruby calls
/// without one, to the end of the line (following trailing commas).
fn calls(text: &str, names: &[&str]) -> Vec<Call> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut li = 0;
    while li < lines.len() {
        let raw = lines[li];
        let t = raw.trim_start();
        if t.starts_with('#') {
            li += 1;
            continue;
        }
        let mut found = None;
        for n in names {
            let mut from = 0;
            while let Some(p) = raw[from..].find(n) {
                let at = from + p;
                let before = raw[..at].chars().last();
                let after_c = raw[at + n.len()..].chars().next();
                let word_start = before.is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
                let word_end = after_c.is_none_or(|c| c == '(' || c == ' ' || c == '\t');
                if word_start && word_end && !raw[..at].contains('#') {
                    found = Some((*n, at));
                    break;
                }
                from = at + n.len();
            }
            if found.is_some() {
                break;
            }
        }
        let Some((name, at)) = found else {
            li += 1;
            continue;
        };
        let rest = &raw[at + name.len()..];
        let mut args = String::new();
        let mut end = li;
        if rest.trim_start().starts_with('(') {
            let mut depth = 0i32;
            let mut quote: Option<char> = None;
            let mut cur_line = li;
            let mut text_part = rest.to_string();
            'outer: loop {
                let mut prev = ' ';
                for c in text_part.chars() {
                    args.push(c);
                    match quote {
                        Some(q) if c == q && prev != '\\' => quote = None,
                        Some(_) => {}
                        None if c == '"' || c == '\'' => quote = Some(c),
                        None if c == '(' => depth += 1,
                        None if c == ')' => {
                            depth -= 1;
                            if depth == 0 {
                                break 'outer;
                            }
                        }
                        _ => {}
                    }
                    prev = c;
                }
                cur_line += 1;
                if cur_line >= lines.len() || cur_line > li + 400 {
                    break;
                }
                args.push('\n');
                text_part = lines[cur_line].to_string();
            }
            end = cur_line.min(lines.len().saturating_sub(1));
        } else {
            args.push_str(rest);
            while args.trim_end().ends_with(',') && end + 1 < lines.len() {
                end += 1;
                args.push('\n');
                args.push_str(lines[end]);
            }
        }
        out.push(Call { name: name.to_string(), args, line: li, end });
        li = end.max(li) + 1;
        if end > li {
            li = end + 1;
        }
    }
    out
}

/// The first string literal in `s` (", ', """, or a Ruby heredoc), with the
/// line offset of its first line inside `s`.
fn first_string(s: &str, following: &[&str]) -> Option<(String, usize)> {
    if let Some(p) = s.find("<<") {
        let tag: String = s[p + 2..]
            .trim_start_matches(['~', '-'])
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !tag.is_empty() {
            let mut body = String::new();
            for l in following {
                if l.trim() == tag {
                    return Some((body, 1));
                }
                body.push_str(l);
                body.push('\n');
            }
            return Some((body, 1));
        }
    }
    for q in ["\"\"\"", "'''", "\"", "'"] {
        if let Some(p) = s.find(q) {
            let earlier = ["\"\"\"", "'''", "\"", "'"].iter().filter_map(|o| s.find(o)).min().unwrap_or(p);
            if earlier < p {
                continue;
            }
            let rest = &s[p + q.len()..];
            let end = rest.find(q).unwrap_or(rest.len());
            let offset = s[..p].matches('\n').count();
            return Some((rest[..end].to_string(), offset));
        }
    }
    None
}

fn has_kw(args: &str, key: &str, value: &str) -> bool {
    let compact: String = args.chars().filter(|c| !c.is_whitespace()).collect();
    compact.contains(&format!("{key}{value}"))
}

/// Symbols and strings of a Ruby or Python argument list, in order.
fn names_in(args: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = args.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == ':' && i > 0 && args[..i].ends_with(':') {
            continue;
        }
        if c == ':' && chars.peek().is_some_and(|(_, n)| n.is_alphabetic() || *n == '_') {
            let prev = args[..i].chars().last();
            if prev.is_some_and(|p| p.is_alphanumeric()) {
                continue;
            }
            let s: String = args[i + 1..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            out.push(s);
        } else if c == '"' || c == '\'' {
            let s: String = args[i + 1..].chars().take_while(|d| *d != c).collect();
            let skip = s.chars().count();
            for _ in 0..=skip {
                chars.next();
            }
            out.push(s);
        }
    }
    out
}

/// Rails, Django or Alembic migration `f`: its hits.
pub fn check_framework(f: &SourceFile, fw: Framework, st: &mut State) -> Vec<Hit> {
    st.framework_tx = match fw {
        Framework::Rails => !f.text.contains("disable_ddl_transaction!"),
        Framework::Django => !f.text.replace(' ', "").contains("atomic=False"),
        Framework::Alembic => false,
    };
    match fw {
        Framework::Rails => rails(f, st),
        Framework::Django => django(f, st),
        Framework::Alembic => alembic(f, st),
    }
}

fn embedded_sql(args: &str, c: &Call, lines: &[&str], st: &mut State, hits: &mut Vec<Hit>) {
    let following = lines.get(c.line + 1..).unwrap_or(&[]);
    if let Some((sql, off)) = first_string(args, following) {
        let was_tx = st.framework_tx;
        hits.extend(check_sql(&sql, c.line + off, st));
        st.framework_tx = was_tx;
    }
}

fn rails(f: &SourceFile, st: &mut State) -> Vec<Hit> {
    let lines: Vec<&str> = f.text.lines().collect();
    let mut hits = Vec::new();
    let pg = st.db().maybe_pg();
    let hedge = if st.db() == Db::Unknown { UNKNOWN_DB } else { "" };
    let names = [
        "create_table",
        "drop_table",
        "remove_column",
        "remove_columns",
        "remove_reference",
        "remove_belongs_to",
        "remove_timestamps",
        "rename_column",
        "rename_table",
        "change_column",
        "add_index",
        "remove_index",
        "add_reference",
        "add_belongs_to",
        "add_foreign_key",
        "change_column_null",
        "add_column",
        "add_check_constraint",
        "execute",
        "t.remove",
        "t.rename",
        "t.change",
        "t.references",
        "t.index",
        "add_timestamps",
        "add_unique_constraint",
        "add_exclusion_constraint",
        "rename_enum_value",
        "rename_schema",
        "validate_check_constraint",
        "validate_foreign_key",
        "update_all",
    ];
    // add_check_constraint "col IS NOT NULL", name: ... : name -> column.
    let mut checks: HashMap<String, String> = HashMap::new();
    // (table, kind) added with `validate: false` in this migration.
    let mut unvalidated: Vec<(String, &str)> = Vec::new();
    let mut created: HashSet<String> = HashSet::new();
    let downs = down_ranges(&lines);
    // Rows loaded through a model and saved one by one: one finding per file.
    if let Some(at) = lines.iter().enumerate().position(|(i, l)| {
        let t = l.trim_start();
        let model = t.split('.').next().unwrap_or("");
        !downs.iter().any(|(s, e)| (*s..*e).contains(&i))
            && model.starts_with(|c: char| c.is_ascii_uppercase())
            && model.chars().all(|c| c.is_alphanumeric() || c == '_' || c == ':')
            && [".find_each", ".find_in_batches", ".all.each", ".all.map", ".each do", ".each {"]
                .iter()
                .any(|k| t[model.len()..].starts_with(k) || t.contains(&format!("{model}.all{k}")))
    }) {
        let model = lines[at].trim_start().split('.').next().unwrap_or("").to_string();
        hits.push(Hit::new("model-backfill", at, format!("`{model}`")));
    }
    // (table, column) added by this migration.
    let mut added: HashSet<(String, String)> = HashSet::new();
    for c in calls(&f.text, &names) {
        let a = c.args.as_str();
        if downs.iter().any(|(s, e)| (*s..*e).contains(&c.line)) {
            continue;
        }
        if c.name == "add_column" {
            let n = names_in(a);
            if let (Some(t), Some(col)) = (n.first(), n.get(1)) {
                added.insert((t.clone(), col.clone()));
            }
        }
        if lines[c.line].contains("safety_assured") {
            // The author has reviewed this step and says so.
            continue;
        }
        let n = names_in(a);
        let table = n.first().cloned().unwrap_or_default();
        let col = n.get(1).cloned().unwrap_or_default();
        let new = created.contains(&table);
        let conc = has_kw(a, "algorithm:", ":concurrently");
        if has_kw(a, "validate:", "false") && matches!(c.name.as_str(), "add_foreign_key" | "add_check_constraint") {
            unvalidated.push((table.clone(), if c.name == "add_foreign_key" { "fk" } else { "check" }));
        }
        if has_kw(a, "algorithm:", ":copy") {
            hits.push(Hit::new("mysql-copy-algorithm", c.line, format!("`{table}`")));
        }
        if has_kw(a, "lock:", ":shared") || has_kw(a, "lock:", ":exclusive") {
            hits.push(Hit::new("mysql-lock-option", c.line, format!("`{table}`")));
        }
        match c.name.as_str() {
            "add_unique_constraint" if !new && pg && !a.contains("using_index") => {
                hits.push(Hit::new("add-unique-constraint", c.line, format!("`{table}`")).note(hedge));
            }
            "add_exclusion_constraint" if !new && pg => {
                hits.push(Hit::new("add-exclusion-constraint", c.line, format!("`{table}`")));
            }
            "rename_enum_value" => hits.push(Hit::new("rename-enum-value", c.line, format!("`{table}`"))),
            "rename_schema" => hits.push(Hit::new("rename-schema", c.line, format!("`{table}` to `{col}`"))),
            "validate_foreign_key" | "validate_check_constraint"
                if st.framework_tx && unvalidated.iter().any(|(t, _)| *t == table) =>
            {
                let rule = if c.name == "validate_foreign_key" { "add-foreign-key" } else { "add-check" };
                hits.push(Hit::new(rule, c.line, format!("`{table}`")).note("(Validated in the same migration, inside its transaction, that added it with `validate: false`: the lock is held while every row is checked. Validate in a separate migration.)"));
            }
            "validate_check_constraint" => {
                let name = a.split("name:").nth(1).map(names_in).and_then(|v| v.first().cloned()).unwrap_or_default();
                if let Some(colname) = checks.get(&name) {
                    st.not_null_checked.insert((table.clone(), colname.clone()));
                } else if name.contains("null") {
                    st.validated_names.push((table.clone(), name.to_ascii_lowercase()));
                }
            }
            "update_all"
                if st.framework_tx && !lines[c.line].contains(".where") && !lines[c.line].contains("in_batches") =>
            {
                let model = lines[c.line].trim().split(['.', ' ']).next().unwrap_or("").to_string();
                hits.push(Hit::new(
                    "update-without-where",
                    c.line,
                    format!("`{model}.update_all` inside the migration's transaction"),
                ));
            }
            "create_table" => {
                if has_kw(a, "force:", "true") || has_kw(a, "force:", ":cascade") {
                    hits.push(Hit::new("create-table-force", c.line, format!("`{table}`")));
                }
                if has_kw(a, "id:", ":integer") || has_kw(a, "id:", ":serial") {
                    hits.push(Hit::new("int-primary-key", c.line, format!("`{table}.id`")));
                }
                created.insert(table);
            }
            "drop_table" => hits.push(Hit::new("drop-table", c.line, format!("`{table}`"))),
            // A column this migration added itself (a temporary one) has no
            // deployed readers and no data of its own.
            "remove_column" | "remove_columns"
                if !col.is_empty()
                    && n.iter()
                        .skip(1)
                        .filter(|x| !x.is_empty())
                        .all(|x| added.contains(&(table.clone(), x.clone()))) => {}
            "remove_column" | "remove_columns" | "remove_reference" | "remove_belongs_to" | "remove_timestamps" => {
                let cols = if c.name == "remove_timestamps" {
                    "created_at, updated_at".to_string()
                } else {
                    n.iter().skip(1).filter(|x| !x.is_empty()).take(4).cloned().collect::<Vec<_>>().join(", ")
                };
                hits.push(Hit::new("drop-column", c.line, format!("`{table}`: {cols}")));
            }
            "t.remove" => hits.push(Hit::new("drop-column", c.line, format!("`{}`", n.join(", ")))),
            "rename_column" | "t.rename" => hits.push(Hit::new("rename-column", c.line, format!("`{table}.{col}`"))),
            "rename_table" => hits.push(Hit::new("rename-table", c.line, format!("`{table}` to `{col}`"))),
            "change_column" | "t.change" if !new => {
                hits.push(Hit::new("change-column-type", c.line, format!("`{table}.{col}`")));
            }
            "add_index" | "t.index"
                if !new && c.name == "add_index" || c.name == "t.index" && !lines_in_create(&lines, c.line) =>
            {
                let cols = a.split('[').nth(1).map(|x| x.split(']').next().unwrap_or("").matches(':').count());
                if cols.is_some_and(|n| n > 3) && !has_kw(a, "unique:", "true") {
                    hits.push(Hit::new("wide-index", c.line, format!("index on `{table}`")));
                }
                if conc {
                    if st.framework_tx {
                        hits.push(Hit::new("concurrently-in-transaction", c.line, format!("index on `{table}`")));
                    }
                } else if pg {
                    hits.push(Hit::new("create-index", c.line, format!("index on `{table}`")).note(hedge));
                }
            }
            "remove_index" => {
                if conc {
                    if st.framework_tx {
                        hits.push(Hit::new("concurrently-in-transaction", c.line, format!("index on `{table}`")));
                    }
                } else if pg {
                    hits.push(Hit::new("drop-index", c.line, format!("index on `{table}`")).note(hedge));
                }
            }
            "add_reference" | "add_belongs_to" | "t.references"
                if !new && (c.name != "t.references" || !lines_in_create(&lines, c.line)) =>
            {
                let indexed = !has_kw(a, "index:", "false");
                if indexed && pg {
                    if conc {
                        if st.framework_tx {
                            hits.push(Hit::new("concurrently-in-transaction", c.line, format!("index on `{table}`")));
                        }
                    } else {
                        hits.push(Hit::new("create-index", c.line, format!("index on `{table}.{col}_id`")).note(hedge));
                    }
                }
                if (has_kw(a, "foreign_key:", "true") || has_kw(a, "foreign_key:", "{"))
                    && !has_kw(a, "validate:", "false")
                    && pg
                {
                    hits.push(Hit::new("add-foreign-key", c.line, format!("`{table}.{col}_id`")).note(hedge));
                }
                if has_kw(a, "null:", "false") && !a.contains("default:") {
                    hits.push(Hit::new("not-null-without-default", c.line, format!("`{table}.{col}_id`")));
                }
            }
            "add_foreign_key" if !new && pg && !has_kw(a, "validate:", "false") => {
                hits.push(Hit::new("add-foreign-key", c.line, format!("`{table}` -> `{col}`")).note(hedge));
            }
            "add_check_constraint" => {
                let expr = n.get(1).cloned().unwrap_or_default();
                let up = expr.to_ascii_uppercase();
                if let Some(colname) = up.strip_suffix(" IS NOT NULL") {
                    let name =
                        a.split("name:").nth(1).map(names_in).and_then(|v| v.first().cloned()).unwrap_or_default();
                    let colname = colname.trim().trim_matches('"').to_ascii_lowercase();
                    if has_kw(a, "validate:", "false") {
                        checks.insert(name, colname);
                    } else {
                        st.not_null_checked.insert((table.clone(), colname));
                    }
                }
                if new || !pg || has_kw(a, "validate:", "false") {
                    continue;
                }
                hits.push(Hit::new("add-check", c.line, format!("`{table}`")).note(hedge));
            }
            "change_column_null" if !new && has_kw(a, "", ",false") && !st.checked_not_null(&table, &col) => {
                hits.push(Hit::new("set-not-null", c.line, format!("`{table}.{col}`")));
            }
            "add_column" | "add_timestamps" if !new => {
                let col_ref = format!("`{table}.{col}`");
                let default = a.split("default:").nth(1).map(|d| d.trim().to_string());
                if has_kw(a, "null:", "false") && default.is_none() {
                    hits.push(Hit::new("not-null-without-default", c.line, col_ref.clone()));
                }
                if let Some(d) = &default {
                    if is_volatile(d) && pg {
                        hits.push(Hit::new(
                            "volatile-default",
                            c.line,
                            format!("{col_ref} default {}", d.trim_end_matches(')')),
                        ));
                    } else if st.old_pg && pg {
                        hits.push(
                            Hit::new("default-old-postgres", c.line, col_ref.clone())
                                .note("(Hedged: from the version this project names.)"),
                        );
                    }
                }
                if pg && n.get(2).is_some_and(|t| matches!(t.as_str(), "primary_key" | "serial" | "bigserial")) {
                    hits.push(Hit::new("volatile-default", c.line, format!("{col_ref} is auto-incrementing")));
                }
                if st.db() == Db::MySql
                    && default.as_deref().is_some_and(|d| d.starts_with("->") || d.starts_with("lambda"))
                {
                    hits.push(
                        Hit::new("volatile-default", c.line, format!("{col_ref} has an expression default"))
                            .note("(MySQL and MariaDB rewrite the table for an expression default.)"),
                    );
                }
                if pg && n.get(2).is_some_and(|t| t == "json") {
                    hits.push(Hit::new("json-type", c.line, col_ref.clone()));
                }
                if has_kw(a, "stored:", "true") {
                    hits.push(Hit::new("stored-generated-column", c.line, col_ref));
                }
            }
            "execute" => embedded_sql(a, &c, &lines, st, &mut hits),
            _ => {}
        }
    }
    hits
}

/// The line ranges of `def down` methods: the reverse steps, not reviewed as changes.
fn down_ranges(lines: &[&str]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if l.trim_start().starts_with("def down") {
            let ind = indent(l);
            let end = lines[i + 1..]
                .iter()
                .position(|m| !m.trim().is_empty() && indent(m) <= ind)
                .map(|p| i + 1 + p)
                .unwrap_or(lines.len());
            out.push((i, end));
        }
    }
    out
}

/// Whether line `li` sits inside a `create_table ... do |t|` block.
fn lines_in_create(lines: &[&str], li: usize) -> bool {
    for l in lines[..li].iter().rev() {
        let t = l.trim_start();
        if t.starts_with("create_table") {
            return true;
        }
        if t.starts_with("change_table") || t.starts_with("def ") {
            return false;
        }
    }
    false
}

fn django(f: &SourceFile, st: &mut State) -> Vec<Hit> {
    let lines: Vec<&str> = f.text.lines().collect();
    let mut hits = Vec::new();
    let pg = st.db().maybe_pg();
    let hedge = if st.db() == Db::Unknown { UNKNOWN_DB } else { "" };
    let names = [
        "migrations.CreateModel",
        "migrations.DeleteModel",
        "migrations.RemoveField",
        "migrations.RenameField",
        "migrations.RenameModel",
        "migrations.AlterField",
        "migrations.AddField",
        "migrations.AddIndex",
        "migrations.RemoveIndex",
        "AddIndexConcurrently",
        "RemoveIndexConcurrently",
        "migrations.AddConstraint",
        "migrations.AlterUniqueTogether",
        "migrations.RunSQL",
    ];
    let mut created: HashSet<String> = HashSet::new();
    let kw = |a: &str, k: &str| -> String {
        let compact: String = a.chars().filter(|c| !c.is_whitespace()).collect();
        compact
            .split(&format!("{k}="))
            .nth(1)
            .map(|r| {
                r.trim_start_matches(['"', '\'']).chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect()
            })
            .unwrap_or_default()
    };
    for c in calls(&f.text, &names) {
        let a = c.args.as_str();
        let model = kw(a, "model_name").to_ascii_lowercase();
        let field = kw(a, "name");
        let new = created.contains(&model);
        match c.name.as_str() {
            "migrations.CreateModel" => {
                created.insert(kw(a, "name").to_ascii_lowercase());
            }
            "migrations.DeleteModel" => hits.push(Hit::new("drop-table", c.line, format!("model `{}`", kw(a, "name")))),
            "migrations.RemoveField" => hits.push(Hit::new("drop-column", c.line, format!("`{model}.{field}`"))),
            "migrations.RenameField" => {
                hits.push(Hit::new("rename-column", c.line, format!("`{model}.{}`", kw(a, "old_name"))))
            }
            "migrations.RenameModel" => {
                hits.push(Hit::new("rename-table", c.line, format!("model `{}`", kw(a, "old_name"))))
            }
            "migrations.AlterField" if !new => {
                hits.push(
                    Hit::new("change-column-type", c.line, format!("`{model}.{field}`"))
                        .note("(Hedged: AlterField may only change options; check the SQL with `sqlmigrate`.)"),
                );
            }
            "migrations.AddField" if !new => {
                let compact: String = a.chars().filter(|c| !c.is_whitespace()).collect();
                let m2m = compact.contains("ManyToManyField");
                let nullable = compact.contains("null=True");
                let default = compact.contains("default=") || compact.contains("db_default=");
                if !m2m && !nullable && !default && !compact.contains("primary_key=True") {
                    hits.push(
                        Hit::new("not-null-without-default", c.line, format!("`{model}.{field}`"))
                            .note("(Django adds fields NOT NULL unless null=True.)"),
                    );
                }
                let fk = compact.contains("ForeignKey(") || compact.contains("OneToOneField(");
                if pg
                    && (fk && !compact.contains("db_index=False")
                        || compact.contains("db_index=True")
                        || compact.contains("unique=True"))
                {
                    hits.push(Hit::new("create-index", c.line, format!("index on `{model}.{field}`")).note(hedge));
                }
                if pg && fk && !compact.contains("db_constraint=False") {
                    hits.push(Hit::new("add-foreign-key", c.line, format!("`{model}.{field}`")).note(hedge));
                }
            }
            "migrations.AddIndex" if !new && pg => {
                hits.push(Hit::new("create-index", c.line, format!("index on `{model}`")).note(hedge));
            }
            "migrations.RemoveIndex" if pg => {
                hits.push(Hit::new("drop-index", c.line, format!("index on `{model}`")).note(hedge));
            }
            "AddIndexConcurrently" | "RemoveIndexConcurrently" if st.framework_tx => {
                hits.push(Hit::new(
                    "concurrently-in-transaction",
                    c.line,
                    format!("`{}` in an atomic migration", c.name),
                ));
            }
            "migrations.AddConstraint" if !new && pg => {
                if a.contains("UniqueConstraint(") {
                    hits.push(Hit::new("add-unique-constraint", c.line, format!("`{model}`")).note(hedge));
                } else if a.contains("CheckConstraint(") {
                    hits.push(Hit::new("add-check", c.line, format!("`{model}`")).note(hedge));
                }
            }
            "migrations.AlterUniqueTogether" if !new && pg => {
                hits.push(Hit::new("add-unique-constraint", c.line, format!("`{}`", kw(a, "name"))).note(hedge));
            }
            "migrations.RunSQL" => embedded_sql(a, &c, &lines, st, &mut hits),
            _ => {}
        }
    }
    hits
}

fn alembic(f: &SourceFile, st: &mut State) -> Vec<Hit> {
    let lines: Vec<&str> = f.text.lines().collect();
    // Only the upgrade: downgrade() is expected to undo it.
    let upgrade_end = lines.iter().position(|l| l.trim_start().starts_with("def downgrade")).unwrap_or(lines.len());
    let mut hits = Vec::new();
    let pg = st.db().maybe_pg();
    let hedge = if st.db() == Db::Unknown { UNKNOWN_DB } else { "" };
    let names = [
        "op.create_table",
        "op.drop_table",
        "op.drop_column",
        "op.alter_column",
        "op.rename_table",
        "op.create_index",
        "op.drop_index",
        "op.add_column",
        "op.create_foreign_key",
        "op.create_unique_constraint",
        "op.create_check_constraint",
        "op.create_primary_key",
        "op.execute",
        "batch_op.drop_column",
        "batch_op.alter_column",
        "batch_op.add_column",
        "batch_op.create_index",
        "batch_op.drop_index",
        "batch_op.create_foreign_key",
        "batch_op.create_unique_constraint",
    ];
    let autocommit_lines: Vec<usize> =
        lines.iter().enumerate().filter(|(_, l)| l.contains("autocommit_block()")).map(|(i, _)| i).collect();
    let mut created: HashSet<String> = HashSet::new();
    for c in calls(&f.text, &names) {
        if c.line >= upgrade_end {
            break;
        }
        let a = c.args.as_str();
        let n = names_in(a);
        let op = c.name.trim_start_matches("batch_").trim_start_matches("op.");
        let (table, col) = match op {
            "create_index"
            | "create_foreign_key"
            | "create_unique_constraint"
            | "create_check_constraint"
            | "create_primary_key" => (n.get(1).cloned().unwrap_or_default(), n.get(2).cloned().unwrap_or_default()),
            _ => (n.first().cloned().unwrap_or_default(), n.get(1).cloned().unwrap_or_default()),
        };
        let new = created.contains(&table);
        let compact: String = a.chars().filter(|c| !c.is_whitespace()).collect();
        let in_autocommit = autocommit_lines.iter().any(|&l| l < c.line && indent(lines[c.line]) > indent(lines[l]));
        match op {
            "create_table" => {
                created.insert(table.clone());
                if pg
                    && (compact.contains("sa.Column('id',sa.Integer")
                        || compact.contains("sa.Column(\"id\",sa.Integer"))
                    && compact.contains("primary_key=True")
                {
                    hits.push(Hit::new("int-primary-key", c.line, format!("`{table}.id`")));
                }
            }
            "drop_table" => hits.push(Hit::new("drop-table", c.line, format!("`{table}`"))),
            "drop_column" => hits.push(Hit::new("drop-column", c.line, format!("`{table}.{col}`"))),
            "rename_table" => hits.push(Hit::new("rename-table", c.line, format!("`{table}` to `{col}`"))),
            "alter_column" if !new => {
                if compact.contains("new_column_name=") {
                    hits.push(Hit::new("rename-column", c.line, format!("`{table}.{col}`")));
                }
                if compact.contains("type_=") {
                    hits.push(Hit::new("change-column-type", c.line, format!("`{table}.{col}`")));
                }
                if compact.contains("nullable=False") {
                    hits.push(Hit::new("set-not-null", c.line, format!("`{table}.{col}`")));
                }
            }
            "create_index" if !new => {
                let conc = compact.contains("postgresql_concurrently=True");
                if conc && !in_autocommit {
                    hits.push(Hit::new("concurrently-in-transaction", c.line, format!("index on `{table}`")).note("(Alembic runs migrations in a transaction unless inside `op.get_context().autocommit_block()`.)"));
                } else if !conc && pg {
                    hits.push(Hit::new("create-index", c.line, format!("index on `{table}`")).note(hedge));
                }
            }
            "drop_index" => {
                let conc = compact.contains("postgresql_concurrently=True");
                if conc && !in_autocommit {
                    hits.push(Hit::new("concurrently-in-transaction", c.line, "`drop_index`"));
                } else if !conc && pg {
                    hits.push(
                        Hit::new("drop-index", c.line, format!("`{}`", n.first().cloned().unwrap_or_default()))
                            .note(hedge),
                    );
                }
            }
            "add_column" if !new => {
                let col = n.get(1).cloned().unwrap_or_default();
                let col_ref = format!("`{table}.{col}`");
                let server_default = compact.split("server_default=").nth(1).map(str::to_string);
                if compact.contains("nullable=False")
                    && server_default.is_none()
                    && !compact.contains("primary_key=True")
                {
                    hits.push(Hit::new("not-null-without-default", c.line, col_ref.clone()));
                }
                if let Some(d) = &server_default {
                    if is_volatile(d) && pg {
                        hits.push(Hit::new("volatile-default", c.line, col_ref.clone()));
                    } else if st.old_pg && pg {
                        hits.push(
                            Hit::new("default-old-postgres", c.line, col_ref.clone())
                                .note("(Hedged: from the version this project names.)"),
                        );
                    }
                }
                if compact.contains("sa.Computed(") && compact.contains("persisted=True") {
                    hits.push(Hit::new("stored-generated-column", c.line, col_ref.clone()));
                }
                if pg && compact.contains("sa.JSON(") {
                    hits.push(Hit::new("json-type", c.line, col_ref));
                }
            }
            "create_foreign_key" if !new && pg && !compact.contains("postgresql_not_valid=True") => {
                hits.push(Hit::new("add-foreign-key", c.line, format!("`{table}`")).note(hedge));
            }
            "create_unique_constraint" if !new && pg => {
                hits.push(Hit::new("add-unique-constraint", c.line, format!("`{table}`")).note(hedge));
            }
            "create_check_constraint" if !new && pg && !compact.contains("postgresql_not_valid=True") => {
                hits.push(Hit::new("add-check", c.line, format!("`{table}`")).note(hedge));
            }
            "create_primary_key" if !new && pg => {
                hits.push(Hit::new("add-primary-key", c.line, format!("`{table}`")).note(hedge));
            }
            "execute" => {
                let was = st.framework_tx;
                st.framework_tx = !in_autocommit;
                embedded_sql(a, &c, &lines, st, &mut hits);
                st.framework_tx = was;
            }
            _ => {}
        }
    }
    hits
}

fn indent(l: &str) -> usize {
    l.len() - l.trim_start().len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use agent_os_persona_sdk::testing::file;

    fn rules_of(path: &str, text: &str) -> Vec<(&'static str, usize)> {
        let f = file(path, text);
        let mut st = State::new(file_db(&f, Db::Unknown), false);
        let mut hits = match framework(&f) {
            Some(fw) => check_framework(&f, fw, &mut st),
            None => check_sql(&f.text, 0, &mut st),
        };
        st.finish(&mut hits);
        hits.iter().map(|h| (h.rule, f.line_number(h.line))).collect()
    }

    #[test]
    fn the_misses_of_the_line_reader() {
        // Plain CREATE INDEX with nothing saying Postgres, DROP DATABASE, lowercase truncate.
        let sql = "create index orders_at on orders (created_at);\ndrop database legacy;\ntruncate audit;\n";
        assert_eq!(
            rules_of("db/migrations/7.sql", sql),
            [("create-index", 1), ("drop-database", 2), ("truncate", 3), ("lock-timeout", 1)]
        );
        // SET NOT NULL after a validated CHECK (col IS NOT NULL) is quiet; without the validation it is not.
        let ok = "SET lock_timeout = '1s';\nALTER TABLE t ADD CONSTRAINT t_a_nn CHECK (a IS NOT NULL) NOT VALID;\nALTER TABLE t VALIDATE CONSTRAINT t_a_nn;\nALTER TABLE t ALTER COLUMN a SET NOT NULL;\n";
        assert!(rules_of("migrations/8.sql", ok).is_empty());
        let bad = ok.replace("ALTER TABLE t VALIDATE CONSTRAINT t_a_nn;\n", "");
        assert_eq!(rules_of("migrations/8.sql", &bad), [("set-not-null", 3)]);
    }

    #[test]
    fn statements_the_parser_cannot_read_are_checked_on_their_words() {
        let f = file("migrations/9.sql", "-- one\n\nCREATE INDEX i ON ONLY t (a);\n");
        let mut st = State::new(Db::Postgres, false);
        let hits = check_sql(&f.text, 0, &mut st);
        assert_eq!(st.coverage.unparsed, 1);
        assert_eq!(hits[0].rule, "create-index");
        let finding = hits[0].finding(&f);
        assert_eq!(finding.line, Some(3));
        assert!(finding.detail.contains("could not read this statement"), "{finding:?}");
        assert!(finding.detail.contains("CONCURRENTLY"), "{finding:?}");
    }

    #[test]
    fn multi_line_statements_report_the_clause_line_and_dollar_bodies_are_skipped() {
        let sql = "CREATE FUNCTION f() RETURNS trigger AS $$\nBEGIN\n  DELETE FROM x;\n  RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql;\nALTER TABLE orders\n  ADD COLUMN a text,\n  DROP COLUMN b;\n";
        assert_eq!(rules_of("migrations/10.sql", sql), [("drop-column", 9)]);
    }

    #[test]
    fn framework_layouts() {
        let rails = "class X < ActiveRecord::Migration[7.1]\n  def change\n    add_index :users, :email\n    remove_column :users, :name\n  end\nend\n";
        assert_eq!(rules_of("db/migrate/1_x.rb", rails), [("create-index", 3), ("drop-column", 4)]);
        let django = "from django.db import migrations, models\n\nclass Migration(migrations.Migration):\n    operations = [\n        migrations.RenameField(model_name='a', old_name='b', new_name='c'),\n    ]\n";
        assert_eq!(rules_of("app/migrations/0002_x.py", django), [("rename-column", 5)]);
        let alembic = "from alembic import op\n\ndef upgrade():\n    op.create_index('i', 't', ['a'])\n    op.execute(\"ALTER TABLE t DROP COLUMN b\")\n\ndef downgrade():\n    op.drop_index('i')\n";
        assert_eq!(rules_of("alembic/versions/1.py", alembic), [("create-index", 4), ("drop-column", 5)]);
        let safe = "from alembic import op\n\ndef upgrade():\n    with op.get_context().autocommit_block():\n        op.create_index('i', 't', ['a'], postgresql_concurrently=True)\n";
        assert!(rules_of("alembic/versions/2.py", safe).is_empty());
    }

    #[test]
    fn every_prefix_of_awkward_migrations_is_survived() {
        let texts = [
            (
                "db/migrate/1_ü.rb",
                "class É < ActiveRecord::Migration[7.1]\n  def change\n    remove_column :ü, :é\n    add_index :ü, [:a, :b, :c, :d], algorithm: :concurrently\n    execute <<~SQL\n      DROP TABLE ü;\n    SQL\n    change_column_null :ü, :é, false\n  end\n  def down\n  end\nend\n",
            ),
            (
                "app/migrations/0002_ü.py",
                "from django.db import migrations, models\nclass Migration(migrations.Migration):\n    operations = [\n        migrations.AddField(model_name='ü', name='é', field=models.CharField()),\n        migrations.RunSQL(\"\"\"DELETE FROM ü\"\"\"),\n    ]\n",
            ),
            (
                "alembic/versions/ü.py",
                "from alembic import op\ndef upgrade():\n    op.execute('ALTER TABLE ü ALTER COLUMN é SET NOT NULL')\n    op.create_index('é', 'ü', ['a'])\ndef downgrade():\n    pass\n",
            ),
            (
                "migrations/ü.sql",
                "BEGIN;\nCREATE INDEX CONCURRENTLY é ON ü (a);\nALTER TABLE ü ADD CONSTRAINT c CHECK (é IS NOT NULL) NOT VALID;\nALTER TABLE ü VALIDATE CONSTRAINT c;\n$tag$ é $tag$; 'unterminated\n",
            ),
        ];
        for (path, text) in texts {
            for (i, _) in text.char_indices() {
                let _ = rules_of(path, &text[..i]);
            }
        }
    }

    #[test]
    fn every_rule_has_a_reason_and_a_fix() {
        assert!(RULES.len() >= 25);
        for r in RULES {
            assert!(!r.why.is_empty() && !r.fix.is_empty() && !r.title.is_empty(), "{}", r.id);
            assert_eq!(RULES.iter().filter(|o| o.id == r.id).count(), 1, "{}", r.id);
        }
    }

    #[test]
    fn severities_follow_the_data_personas_guide() {
        // personas/data/prompt.md: "high means an outage-causing lock or a
        // migration that breaks running code": a rename breaks the code still deployed.
        let rule = |id: &str| RULES.iter().find(|r| r.id == id).unwrap_or_else(|| panic!("no rule {id}"));
        for id in ["rename-column", "rename-table", "rename-enum-value", "rename-schema", "drop-column", "drop-table"] {
            assert!(rule(id).severity >= Severity::High, "{id}");
        }
        // "critical means data loss or corruption".
        for id in ["drop-database", "drop-schema"] {
            assert_eq!(rule(id).severity, Severity::Critical, "{id}");
        }
    }
}
