//! Schema and migration risks in SQL files, migrations and SQL strings in
//! code: destructive or locking changes, statements touching every row,
//! SQL built from strings, missing rollbacks and unindexed foreign keys.

use agent_os_persona_sdk::brief::{Finding, Severity};
use agent_os_persona_sdk::context::{Language, SourceFile};

use crate::migrate;

/// Every finding of the data persona's own analysis. `read` returns a
/// project file's text, or `None` when it does not exist (to look for a
/// migration's rollback).
#[cfg_attr(not(test), allow(dead_code))]
pub fn analyse(files: &[SourceFile], read: impl Fn(&str) -> Option<String>) -> Vec<Finding> {
    analyse_with_notes(files, read).0
}

/// [`analyse`], with notes on what the migration check could not read.
pub fn analyse_with_notes(files: &[SourceFile], read: impl Fn(&str) -> Option<String>) -> (Vec<Finding>, Vec<String>) {
    let postgres = files.iter().any(looks_postgres);
    let mysql = files.iter().any(|f| {
        let up = f.text.to_ascii_uppercase();
        up.contains("AUTO_INCREMENT") || up.contains("ENGINE=") || up.contains("ENGINE =")
    });
    let (project, old_pg) = migrate::project_db(files, &read);
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let mut schema = Schema::default();
    for f in files {
        let migration = is_migration(f);
        let statements = statements_of(f);
        let created: Vec<String> = statements.iter().filter_map(created_table).collect();
        let parsed = f.language == Language::Sql || migrate::framework(f).is_some();
        if f.language == Language::Sql {
            let mut st = migrate::State::new(migrate::file_db(f, project), old_pg);
            let mut hits = migrate::check_sql(&f.text, 0, &mut st);
            st.finish(&mut hits);
            out.extend(hits.iter().map(|h| h.finding(f)));
            if st.coverage.unparsed > 0 {
                notes.push(format!(
                    "The SQL parser could not read {} of {} statements in `{}`; they were checked on their words.",
                    st.coverage.unparsed,
                    st.coverage.statements,
                    f.name()
                ));
            }
        } else if let Some(fw) = migrate::framework(f) {
            let mut st = migrate::State::new(migrate::file_db(f, project), old_pg);
            let mut hits = migrate::check_framework(f, fw, &mut st);
            st.finish(&mut hits);
            out.extend(hits.iter().map(|h| h.finding(f)));
        }
        for s in &statements {
            if !parsed {
                out.extend(statement_findings(f, s, migration && postgres, &created));
            }
            schema.record(f, s);
        }
        out.extend(string_built_sql(f));
        out.extend(missing_rollback(f, files, &read));
    }
    if !mysql {
        out.extend(schema.unindexed_foreign_keys());
    }
    (out, notes)
}

/// One token of SQL, with the line it is on.
#[derive(Debug, Clone)]
struct Tok {
    text: String,
    up: String,
    line: usize,
}

type Statement = Vec<Tok>;

fn title(what: &str, f: &SourceFile) -> String {
    match &f.path {
        Some(p) => format!("{what} in `{p}`"),
        None => what.to_string(),
    }
}

fn is_migration(f: &SourceFile) -> bool {
    let Some(path) = f.path.as_deref() else { return true };
    let lower = path.to_ascii_lowercase();
    lower.split('/').any(|d| d.contains("migration") || d.contains("migrate") || d == "versions" || d == "schema")
        || lower.rsplit('/').next().is_some_and(|n| n.starts_with('v') && n.contains("__"))
}

fn looks_postgres(f: &SourceFile) -> bool {
    let up = f.text.to_ascii_uppercase();
    let path = f.path.as_deref().unwrap_or("").to_ascii_lowercase();
    path.contains("postgres")
        || path.contains("/pg")
        || ["SERIAL", "JSONB", "TIMESTAMPTZ", "GEN_RANDOM_UUID", "CONCURRENTLY", "RETURNING", "ILIKE", "PLPGSQL", "::"]
            .iter()
            .any(|k| up.contains(k))
}

/// Splits SQL `text` into statements of tokens; line `i` of `text` is shown as `number(first_index + i)`.
fn tokenize(text: &str, first_index: usize, number: &dyn Fn(usize) -> usize) -> Vec<Statement> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut cur: Statement = Vec::new();
    let mut idx = first_index;
    let mut k = 0;
    let push = |cur: &mut Statement, s: String, line: usize| {
        let up = s.to_ascii_uppercase();
        cur.push(Tok { text: s, up, line });
    };
    while k < chars.len() {
        let c = chars[k];
        if c == '\n' {
            idx += 1;
            k += 1;
        } else if c.is_whitespace() {
            k += 1;
        } else if c == '-' && chars.get(k + 1) == Some(&'-') {
            while k < chars.len() && chars[k] != '\n' {
                k += 1;
            }
        } else if c == '/' && chars.get(k + 1) == Some(&'*') {
            k += 2;
            while k < chars.len() && !(chars[k] == '*' && chars.get(k + 1) == Some(&'/')) {
                if chars[k] == '\n' {
                    idx += 1;
                }
                k += 1;
            }
            k += 2;
        } else if c == ';' {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            k += 1;
        } else if matches!(c, '(' | ')' | ',') {
            push(&mut cur, c.to_string(), number(idx));
            k += 1;
        } else if c == '\'' || c == '$' && chars.get(k + 1).is_some_and(|n| *n == '$' || n.is_alphabetic()) {
            // A string or a dollar-quoted body: one token.
            let line = number(idx);
            let close: Vec<char> = if c == '\'' {
                vec!['\'']
            } else {
                let end = chars[k + 1..].iter().position(|c| *c == '$').map(|p| k + 1 + p);
                match end {
                    Some(e) if chars[k + 1..e].iter().all(|c| c.is_alphanumeric() || *c == '_') => {
                        chars[k..=e].to_vec()
                    }
                    _ => {
                        push(&mut cur, c.to_string(), line);
                        k += 1;
                        continue;
                    }
                }
            };
            let start = k;
            k += close.len();
            while k < chars.len() && !chars[k..].starts_with(&close) {
                if chars[k] == '\n' {
                    idx += 1;
                }
                k += 1;
            }
            k = (k + close.len()).min(chars.len());
            push(&mut cur, chars[start..k].iter().collect(), line);
        } else {
            let start = k;
            let quote = matches!(c, '"' | '`').then_some(c);
            k += 1;
            while k < chars.len() {
                let d = chars[k];
                match quote {
                    Some(q) if d == q => {
                        k += 1;
                        break;
                    }
                    Some(_) => {}
                    None if d.is_whitespace() || matches!(d, '(' | ')' | ',' | ';') => break,
                    None => {}
                }
                k += 1;
            }
            push(&mut cur, chars[start..k].iter().collect(), number(idx));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The SQL statements of a file: all of a SQL file, or the SQL string literals of code.
fn statements_of(f: &SourceFile) -> Vec<Statement> {
    let number = |i: usize| f.line_number(i);
    if f.language == Language::Sql {
        return tokenize(&f.text, 0, &number);
    }
    if !f.language.is_code() && f.language != Language::Unknown {
        return Vec::new();
    }
    let in_test: Vec<bool> = f.lines().iter().map(|l| l.in_test).collect();
    literals(f)
        .into_iter()
        .filter(|l| !in_test.get(l.start.0).copied().unwrap_or(false) && is_sql(&l.content))
        .flat_map(|l| tokenize(&l.content, l.start.0, &number))
        .collect()
}

const SQL_START: &[&str] = &["SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "ALTER", "DROP", "WITH", "TRUNCATE"];

/// Words that follow the first one in real statements; prose such as
/// "Delete this item?" or "Update failed: " has none of them.
const SQL_SECOND: &[&str] = &[
    "FROM", "INTO", "SET", "TABLE", "WHERE", "VALUES", "INDEX", "VIEW", "AS", "COLUMN", "ON", "JOIN", "DISTINCT", "*",
];

fn is_sql(s: &str) -> bool {
    let t = s.trim_start();
    let word: String = t.chars().take_while(|c| c.is_ascii_alphabetic()).collect::<String>().to_ascii_uppercase();
    if !(SQL_START.contains(&word.as_str())
        && t.len() > word.len() + 2
        && t[word.len()..].starts_with(char::is_whitespace))
    {
        return false;
    }
    t.split(|c: char| c.is_whitespace() || c == '(' || c == ',')
        .skip(1)
        .any(|w| SQL_SECOND.iter().any(|k| w.eq_ignore_ascii_case(k)))
}

/// A string literal of code: where it starts and ends (line index, byte column), its prefix and quote.
#[derive(Debug)]
struct Lit {
    start: (usize, usize),
    end: (usize, usize),
    content: String,
    prefix: String,
    quote: char,
    /// Length of the closing quote (3 for a Python triple quote).
    close_len: usize,
}

/// The string literals of a code file, skipping comments.
fn literals(f: &SourceFile) -> Vec<Lit> {
    let lang = f.language;
    let python = lang == Language::Python;
    let hash_comments = python;
    let mut out = Vec::new();
    let lines: Vec<&str> = f.text.lines().collect();
    let (mut li, mut col) = (0usize, 0usize);
    let mut block = false;
    while li < lines.len() {
        let line = lines[li];
        let bytes = line.as_bytes();
        if col >= bytes.len() {
            li += 1;
            col = 0;
            continue;
        }
        let rest = &line[col..];
        if block {
            match rest.find("*/") {
                Some(p) => {
                    block = false;
                    col += p + 2;
                }
                None => {
                    li += 1;
                    col = 0;
                }
            }
            continue;
        }
        if (hash_comments && rest.starts_with('#')) || (!python && rest.starts_with("//")) {
            li += 1;
            col = 0;
            continue;
        }
        if !python && rest.starts_with("/*") {
            block = true;
            col += 2;
            continue;
        }
        let c = bytes[col] as char;
        let quotes: &[char] = match lang {
            Language::Rust => &['"'],
            Language::Go => &['"', '`'],
            _ => &['"', '\'', '`'],
        };
        if lang == Language::Rust && c == '\'' {
            // Char literal or lifetime: skip a char literal whole.
            if rest.starts_with("'\\") {
                col += rest[2..].find('\'').map(|p| p + 3).unwrap_or(1);
            } else if rest.chars().nth(2) == Some('\'') {
                col += rest.chars().take(3).map(char::len_utf8).sum::<usize>();
            } else {
                col += 1;
            }
            continue;
        }
        if lang == Language::Rust && c == 'r' && (rest.starts_with("r\"") || rest.starts_with("r#")) {
            let hashes = rest[1..].chars().take_while(|c| *c == '#').count();
            if rest[1 + hashes..].starts_with('"') {
                let close = format!("\"{}", "#".repeat(hashes));
                let (content, end) = scan_until(&lines, li, col + 2 + hashes, &close, false);
                out.push(Lit {
                    start: (li, col),
                    end,
                    content,
                    prefix: "r".into(),
                    quote: '"',
                    close_len: close.len(),
                });
                (li, col) = (end.0, end.1 + close.len());
                continue;
            }
        }
        if !quotes.contains(&c) {
            col += line[col..].chars().next().map(char::len_utf8).unwrap_or(1);
            continue;
        }
        let prefix: String = line[..col]
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect::<String>()
            .chars()
            .rev()
            .collect();
        let prefix = if python && prefix.len() <= 2 { prefix.to_ascii_lowercase() } else { String::new() };
        let triple = python && rest.starts_with(&c.to_string().repeat(3));
        let close = if triple { c.to_string().repeat(3) } else { c.to_string() };
        let raw = c == '`' || prefix.contains('r');
        let (content, end) = scan_until(&lines, li, col + close.len(), &close, !raw);
        out.push(Lit { start: (li, col), end, content, prefix, quote: c, close_len: close.len() });
        (li, col) = (end.0, end.1 + close.len());
    }
    out
}

/// The text from `(li, col)` up to `close` (honouring backslash escapes when
/// `escapes`), and where `close` starts.
fn scan_until(lines: &[&str], mut li: usize, mut col: usize, close: &str, escapes: bool) -> (String, (usize, usize)) {
    let mut content = String::new();
    while li < lines.len() {
        let line = lines[li];
        while col < line.len() {
            let rest = &line[col..];
            if escapes && rest.starts_with('\\') {
                let n = rest.chars().take(2).map(char::len_utf8).sum::<usize>();
                content.push_str(&rest[..n]);
                col += n;
                continue;
            }
            if rest.starts_with(close) {
                return (content, (li, col));
            }
            let ch = rest.chars().next().unwrap_or(' ');
            content.push(ch);
            col += ch.len_utf8();
        }
        content.push('\n');
        li += 1;
        col = 0;
    }
    (content, (lines.len().saturating_sub(1), lines.last().map_or(0, |l| l.len())))
}

/// SQL strings with values spliced in: `format!`, f-strings, `%`, `.format`, `Sprintf`, `${}`, `+`.
fn string_built_sql(f: &SourceFile) -> Vec<Finding> {
    if !f.language.is_code() || f.is_test() {
        return Vec::new();
    }
    let lines: Vec<&str> = f.text.lines().collect();
    let flines = f.lines();
    let mut out = Vec::new();
    // Names assigned a SQL literal (`QUERY = "SELECT ..."`), for `execute(QUERY % x)` below.
    let mut sql_vars: Vec<String> = Vec::new();
    for lit in literals(f) {
        if !is_sql(&lit.content) || flines.get(lit.start.0).is_some_and(|l| l.in_test) {
            continue;
        }
        let head = lines[lit.start.0][..lit.start.1].trim_end();
        if let Some(lhs) = head.strip_suffix('=').or_else(|| head.strip_suffix(":=")) {
            let lhs = lhs.trim_end_matches([':', '+']).trim_end();
            let name: String = lhs
                .chars()
                .rev()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            if !name.is_empty() {
                sql_vars.push(name);
            }
        }
        let before = lines[lit.start.0][..lit.start.1].trim_end();
        let before = if before.is_empty() && lit.start.0 > 0 { lines[lit.start.0 - 1].trim_end() } else { before };
        let after_line = lines.get(lit.end.0).copied().unwrap_or("");
        let after = after_line.get(lit.end.1 + lit.close_len..).unwrap_or("").trim_start();
        let after = after.trim_start_matches(".to_string()").trim_start_matches(".to_owned()").trim_start();
        let content = &lit.content;
        let concat = (before.ends_with('+') || after.starts_with('+'))
            && !after.trim_start_matches('+').trim_start().starts_with(['"', '\'']);
        let built = match f.language {
            Language::Rust => {
                (before.ends_with("format!(") && content.contains('{') && !content.contains("{{")) || concat
            }
            Language::Python => {
                (lit.prefix.contains('f') && content.contains('{'))
                    || after.starts_with('%')
                    || after.starts_with(".format(")
                    || concat
            }
            Language::Go => (before.ends_with("Sprintf(") && content.contains('%')) || concat,
            _ => (lit.quote == '`' && content.contains("${")) || concat,
        };
        if built {
            out.push(
                Finding::new(
                    Severity::High,
                    title("SQL built from strings", f),
                    "Values are spliced into the SQL text, which allows SQL injection and defeats plan caching; \
                     pass them as bind parameters ($1, ?, %s with a parameter tuple)",
                )
                .at_line(f.line_number(lit.start.0)),
            );
        }
    }
    // `cursor.execute(QUERY % name)`, `db.query(sql + id)`, `execute(q.format(..))`.
    for l in &flines {
        if l.in_test || l.comment || out.iter().any(|o: &Finding| o.line == Some(l.number)) {
            continue;
        }
        let spliced = ["execute(", "executemany(", ".query(", ".raw(", "Query(", "Exec("].iter().any(|call| {
            l.text.match_indices(call).any(|(k, _)| {
                let arg = l.text[k + call.len()..].trim_start();
                let end = arg.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(arg.len());
                let (var, rest) = arg.split_at(end);
                let rest = rest.trim_start();
                !var.is_empty()
                    && sql_vars.iter().any(|v| v == var)
                    && ((rest.starts_with('%') && !rest.starts_with("%%"))
                        || rest.starts_with('+')
                        || rest.starts_with(".format("))
            })
        });
        if spliced {
            out.push(
                Finding::new(
                    Severity::High,
                    title("SQL built from strings", f),
                    "Values are spliced into the SQL text where it is executed, which allows SQL injection; \
                     pass them as bind parameters (`execute(QUERY, (value,))`)",
                )
                .at_line(l.number),
            );
        }
    }
    out
}

fn ident(t: &str) -> String {
    let t = t.trim_matches(['"', '`', '[', ']']);
    t.rsplit('.').next().unwrap_or(t).trim_matches(['"', '`']).to_ascii_lowercase()
}

/// The index after optional keywords `kws` starting at `i`.
fn skip(s: &[Tok], mut i: usize, kws: &[&str]) -> usize {
    while i < s.len() && kws.contains(&s[i].up.as_str()) {
        i += 1;
    }
    i
}

/// Splits tokens at top-level commas.
fn clauses(s: &[Tok]) -> Vec<&[Tok]> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, t) in s.iter().enumerate() {
        match t.text.as_str() {
            "(" => depth += 1,
            ")" => depth -= 1,
            "," if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn has(s: &[Tok], word: &str) -> bool {
    s.iter().any(|t| t.up == word)
}

fn has_seq(s: &[Tok], words: &[&str]) -> bool {
    s.windows(words.len()).any(|w| w.iter().zip(words).all(|(t, x)| t.up == *x))
}

fn created_table(s: &Statement) -> Option<String> {
    if s.len() > 2 && s[0].up == "CREATE" && has(&s[..3.min(s.len())], "TABLE") {
        let i = skip(s, 1, &["TEMP", "TEMPORARY", "UNLOGGED", "TABLE", "IF", "NOT", "EXISTS"]);
        return s.get(i).map(|t| ident(&t.text));
    }
    None
}

fn statement_findings(f: &SourceFile, s: &Statement, pg_migration: bool, created: &[String]) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut add = |sev: Severity, what: &str, detail: String, line: usize| {
        out.push(Finding::new(sev, title(what, f), detail).at_line(line));
    };
    let first = s[0].up.as_str();
    let line = s[0].line;
    let name_at = |i: usize| s.get(i).map(|t| ident(&t.text)).unwrap_or_default();
    match first {
        "DROP" if s.get(1).is_some_and(|t| t.up == "TABLE") => {
            let table = name_at(skip(s, 2, &["IF", "EXISTS"]));
            add(
                Severity::High,
                "Destructive migration: DROP TABLE",
                format!(
                    "Dropping table `{table}` loses its data and breaks every reader still deployed; stop using it first, back it up, and drop it in a later release"
                ),
                line,
            );
        }
        "TRUNCATE" => add(
            Severity::High,
            "Destructive statement: TRUNCATE",
            format!(
                "`TRUNCATE {}` deletes every row; make sure this is intended and backed up",
                name_at(skip(s, 1, &["TABLE", "ONLY"]))
            ),
            line,
        ),
        "ALTER" if s.get(1).is_some_and(|t| t.up == "TABLE") => {
            let ti = skip(s, 2, &["IF", "EXISTS", "ONLY"]);
            let table = name_at(ti);
            for c in clauses(s.get(ti + 1..).unwrap_or(&[])) {
                let Some(head) = c.first() else { continue };
                let l = head.line;
                match head.up.as_str() {
                    "DROP" => {
                        let col = skip(c, 1, &["COLUMN", "IF", "EXISTS"]);
                        let is_col = c.get(1).is_some_and(|t| t.up == "COLUMN")
                            || c.get(1).is_some_and(|t| {
                                !["CONSTRAINT", "INDEX", "KEY", "PRIMARY", "FOREIGN", "CHECK", "DEFAULT", "PARTITION"]
                                    .contains(&t.up.as_str())
                            });
                        if is_col {
                            add(
                                Severity::High,
                                "Destructive migration: DROP COLUMN",
                                format!(
                                    "Dropping column `{table}.{}` loses its data and breaks readers still deployed; remove its usages in one release and drop it in a later one",
                                    c.get(col).map(|t| ident(&t.text)).unwrap_or_default()
                                ),
                                l,
                            );
                        }
                    }
                    "ALTER" => {
                        let ci = skip(c, 1, &["COLUMN"]);
                        let col = c.get(ci).map(|t| ident(&t.text)).unwrap_or_default();
                        if has(c, "TYPE") {
                            add(
                                Severity::Medium,
                                "Column type change",
                                format!(
                                    "Changing the type of `{table}.{col}` rewrites the table under an exclusive lock and can fail or truncate existing values; add a new column, backfill, then switch"
                                ),
                                l,
                            );
                        } else if has_seq(c, &["SET", "NOT", "NULL"]) {
                            add(
                                Severity::Medium,
                                "NOT NULL added to an existing column",
                                format!(
                                    "`SET NOT NULL` on `{table}.{col}` scans the whole table under lock and fails if any row is null; backfill first (Postgres: add a `CHECK ... NOT VALID` constraint and validate it)"
                                ),
                                l,
                            );
                        }
                    }
                    "MODIFY" | "CHANGE" => add(
                        Severity::Medium,
                        "Column type change",
                        format!(
                            "`{}` on `{table}` can rewrite the table and truncate values; prefer add, backfill, switch",
                            head.up
                        ),
                        l,
                    ),
                    "ADD" => {
                        let kw = c.get(1).map(|t| t.up.as_str()).unwrap_or("");
                        if ["CONSTRAINT", "INDEX", "KEY", "PRIMARY", "FOREIGN", "UNIQUE", "CHECK"].contains(&kw) {
                            continue;
                        }
                        let ci = skip(c, 1, &["COLUMN", "IF", "NOT", "EXISTS"]);
                        let col = c.get(ci).map(|t| ident(&t.text)).unwrap_or_default();
                        if has_seq(c, &["NOT", "NULL"]) && !has(c, "DEFAULT") && !has(c, "GENERATED") {
                            add(
                                Severity::High,
                                "NOT NULL column without a default",
                                format!(
                                    "Adding `{table}.{col}` as NOT NULL without a DEFAULT fails on a table that has rows; add it nullable or with a default, backfill, then add the constraint"
                                ),
                                l,
                            );
                        }
                    }
                    "RENAME" => add(
                        Severity::Medium,
                        "Rename breaks deployed readers",
                        format!(
                            "Renaming {} of `{table}` breaks every query still using the old name; add the new name, migrate readers, then drop the old one",
                            if c.get(1).is_some_and(|t| t.up == "TO") { "the table" } else { "a column" }
                        ),
                        l,
                    ),
                    _ => {}
                }
            }
        }
        "RENAME" if s.get(1).is_some_and(|t| t.up == "TABLE") => add(
            Severity::Medium,
            "Rename breaks deployed readers",
            format!("Renaming table `{}` breaks every query still using the old name", name_at(2)),
            line,
        ),
        "CREATE" => {
            let i = skip(s, 1, &["UNIQUE"]);
            if s.get(i).is_some_and(|t| t.up == "INDEX") && !has(s, "CONCURRENTLY") && pg_migration {
                let on = s.iter().position(|t| t.up == "ON").map(|p| skip(s, p + 1, &["ONLY"]));
                let table = on.map(&name_at).unwrap_or_default();
                if !created.contains(&table) {
                    add(
                        Severity::Medium,
                        "Index built without CONCURRENTLY",
                        format!(
                            "`CREATE INDEX` on `{table}` blocks writes to the table while it builds; use `CREATE INDEX CONCURRENTLY` (outside a transaction) on a table that has data"
                        ),
                        line,
                    );
                }
            }
        }
        "DELETE" if !has(s, "WHERE") => add(
            Severity::High,
            "DELETE without WHERE",
            format!(
                "This deletes every row of `{}`; add a WHERE clause or say why all rows must go",
                name_at(skip(s, 1, &["FROM", "ONLY"]))
            ),
            line,
        ),
        "UPDATE" if !has(s, "WHERE") && has(s, "SET") => add(
            Severity::High,
            "UPDATE without WHERE",
            format!(
                "This updates every row of `{}`; add a WHERE clause, or batch it if a backfill is intended",
                name_at(skip(s, 1, &["ONLY"]))
            ),
            line,
        ),
        _ => {}
    }
    if let Some(p) = s.windows(2).position(|w| w[0].up == "SELECT" && w[1].text == "*") {
        add(
            Severity::Low,
            "SELECT *",
            "Select the columns you need so schema changes do not break consumers and queries read less".into(),
            s[p].line,
        );
    }
    out
}

/// A migration whose naming convention pairs up with down, without its down file.
fn missing_rollback(f: &SourceFile, files: &[SourceFile], read: &impl Fn(&str) -> Option<String>) -> Vec<Finding> {
    let Some(path) = f.path.as_deref() else { return Vec::new() };
    let name = path.rsplit('/').next().unwrap_or(path);
    let down = if let Some(base) = path.strip_suffix(".up.sql") {
        format!("{base}.down.sql")
    } else if name == "up.sql" {
        format!("{}down.sql", &path[..path.len() - name.len()])
    } else if f.language == Language::Python && f.text.contains("def upgrade(") {
        let downgrade = f.text.split("def downgrade(").nth(1);
        let empty = downgrade.is_none_or(|body| {
            body.lines()
                .skip(1)
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("\"\"\""))
                .take_while(|l| !l.starts_with("def "))
                .all(|l| l == "pass" || l == "...")
        });
        if empty {
            return vec![Finding::new(
                Severity::Medium,
                title("Migration without a rollback", f),
                "`upgrade()` has no working `downgrade()`; write the reverse migration so a bad deploy can be rolled back",
            )];
        }
        return Vec::new();
    } else {
        return Vec::new();
    };
    if files.iter().any(|g| g.path.as_deref() == Some(down.as_str())) || read(&down).is_some() {
        return Vec::new();
    }
    vec![Finding::new(
        Severity::Medium,
        title("Migration without a rollback", f),
        format!(
            "The migrations here come in up/down pairs, but `{down}` does not exist; write it so a bad deploy can be rolled back"
        ),
    )]
}

/// Foreign keys and indexes seen across the material.
#[derive(Default)]
struct Schema {
    /// (table, column, file, line)
    fks: Vec<(String, String, String, usize)>,
    /// (table, first column)
    indexed: Vec<(String, String)>,
    /// Tables created in the material.
    created: Vec<String>,
}

impl Schema {
    fn record(&mut self, f: &SourceFile, s: &Statement) {
        let name = f.name().to_string();
        if let Some(table) = created_table(s) {
            self.created.push(table.clone());
            let Some(open) = s.iter().position(|t| t.text == "(") else { return };
            let mut depth = 0;
            let close = (open..s.len())
                .find(|&i| {
                    match s[i].text.as_str() {
                        "(" => depth += 1,
                        ")" => depth -= 1,
                        _ => {}
                    }
                    depth == 0
                })
                .unwrap_or(s.len());
            let body = &s[open + 1..close];
            for c in clauses(body) {
                self.column_or_constraint(&table, c, &name);
            }
        } else if s.len() > 3 && s[0].up == "ALTER" && s[1].up == "TABLE" {
            let ti = skip(s, 2, &["IF", "EXISTS", "ONLY"]);
            let table = s.get(ti).map(|t| ident(&t.text)).unwrap_or_default();
            if !self.created.contains(&table) {
                // An existing table: its indexes are not in the material.
                return;
            }
            for c in clauses(s.get(ti + 1..).unwrap_or(&[])) {
                if c.first().is_some_and(|t| t.up == "ADD") {
                    let i = skip(c, 1, &["COLUMN", "IF", "NOT", "EXISTS"]);
                    self.column_or_constraint(&table, &c[i.min(c.len())..], &name);
                }
            }
        } else if s[0].up == "CREATE" && has(&s[..3.min(s.len())], "INDEX") {
            let on = s.iter().position(|t| t.up == "ON").map(|p| skip(s, p + 1, &["ONLY"]));
            if let Some(on) = on {
                let table = s.get(on).map(|t| ident(&t.text)).unwrap_or_default();
                if let Some(open) = s[on..].iter().position(|t| t.text == "(")
                    && let Some(col) = s.get(on + open + 1)
                {
                    self.indexed.push((table, ident(&col.text)));
                }
            }
        }
    }

    fn column_or_constraint(&mut self, table: &str, c: &[Tok], file: &str) {
        let Some(head) = c.first() else { return };
        let c = if head.up == "CONSTRAINT" { c.get(2..).unwrap_or(&[]) } else { c };
        let Some(head) = c.first() else { return };
        let first_in_parens = |c: &[Tok]| -> Option<String> {
            let p = c.iter().position(|t| t.text == "(")?;
            c.get(p + 1).map(|t| ident(&t.text))
        };
        match head.up.as_str() {
            "PRIMARY" | "UNIQUE" => {
                if let Some(col) = first_in_parens(c) {
                    self.indexed.push((table.into(), col));
                }
            }
            "FOREIGN" => {
                if let Some(col) = first_in_parens(c) {
                    self.fks.push((table.into(), col, file.into(), head.line));
                }
            }
            "CHECK" | "EXCLUDE" | "INDEX" | "KEY" => {}
            _ => {
                let col = ident(&head.text);
                if has_seq(c, &["PRIMARY", "KEY"]) || has(c, "UNIQUE") {
                    self.indexed.push((table.into(), col.clone()));
                }
                if has(c, "REFERENCES") {
                    self.fks.push((table.into(), col, file.into(), head.line));
                }
            }
        }
    }

    fn unindexed_foreign_keys(&self) -> Vec<Finding> {
        self.fks
            .iter()
            .filter(|(t, c, _, _)| !self.indexed.iter().any(|(it, ic)| it == t && ic == c))
            .map(|(t, c, file, line)| {
                let where_ = if file == "the context" { String::new() } else { format!(" in `{file}`") };
                Finding::new(
                    Severity::Low,
                    format!("Foreign key without an index{where_}"),
                    format!("`{t}.{c}` references another table but no index starts with it (Postgres does not create one); joins and deletes on the parent scan `{t}` — add an index on `{c}`"),
                )
                .at_line(*line)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn prose_that_starts_with_a_sql_word_is_not_sql() {
        assert!(!is_sql("Delete this item?"));
        assert!(!is_sql("Update failed: "));
        assert!(!is_sql("Select a file to upload"));
        assert!(is_sql("DELETE FROM users"));
        assert!(is_sql("select * from t"));
        assert!(is_sql("UPDATE users SET a = 1"));
        assert!(is_sql("CREATE TABLE t (a int)"));
    }

    use std::collections::HashMap;

    use agent_os_persona_sdk::context::Origin;

    use super::*;
    use agent_os_persona_sdk::testing::{awkward_files, awkward_read, file};

    #[test]
    fn survives_awkward_input() {
        let _ = analyse(&awkward_files(), awkward_read);
    }

    fn none(_: &str) -> Option<String> {
        None
    }

    fn titles(f: &[Finding]) -> Vec<(String, Option<usize>)> {
        f.iter().map(|f| (f.title.clone(), f.line)).collect()
    }

    #[test]
    fn destructive_and_locking_migration_steps() {
        let sql = "-- drop the legacy column\nALTER TABLE users DROP COLUMN email;\nDROP TABLE IF EXISTS sessions;\n\
                   ALTER TABLE orders\n  ALTER COLUMN total TYPE numeric(12,2),\n  ADD COLUMN region text NOT NULL,\n  ADD COLUMN note text NOT NULL DEFAULT '';\n\
                   ALTER TABLE orders RENAME COLUMN ref TO reference;\nALTER TABLE items ALTER COLUMN sku SET NOT NULL;\n";
        let f = analyse(&[file("migrations/0002_changes.sql", sql)], none);
        let p = "in `migrations/0002_changes.sql`";
        assert_eq!(
            titles(&f),
            [
                (format!("Destructive migration: DROP COLUMN {p}"), Some(2)),
                (format!("Destructive migration: DROP TABLE {p}"), Some(3)),
                (format!("Column type change {p}"), Some(5)),
                (format!("NOT NULL column without a default {p}"), Some(6)),
                (format!("Column rename breaks deployed readers {p}"), Some(8)),
                (format!("NOT NULL added to an existing column {p}"), Some(9)),
                (format!("Locking DDL without a lock_timeout {p}"), Some(5)),
            ]
        );
        assert!(f[0].detail.contains("`users.email`"), "{f:?}");
        assert!(f[1].detail.contains("`sessions`"), "{f:?}");
    }

    #[test]
    fn safe_steps_are_not_reported() {
        let sql = "CREATE TABLE t (id bigint PRIMARY KEY, name text);\nALTER TABLE t ADD COLUMN n int NOT NULL DEFAULT 0;\n\
                   ALTER TABLE t DROP CONSTRAINT t_name_key;\nUPDATE t SET n = 1 WHERE id = 2;\nSELECT id, name FROM t;\nSELECT count(*) FROM t;\n";
        assert!(
            analyse(&[file("migrations/1.sql", sql)], none).is_empty(),
            "{:?}",
            analyse(&[file("migrations/1.sql", sql)], none)
        );
    }

    #[test]
    fn statements_touching_every_row_and_select_star() {
        let sql = "DELETE FROM sessions;\nUPDATE users\n  SET active = false;\nSELECT * FROM users WHERE id = 1;\nTRUNCATE audit;\n";
        let got: Vec<String> =
            analyse(&[SourceFile::new(None, sql, Origin::Context)], none).into_iter().map(|f| f.title).collect();
        assert_eq!(
            got,
            ["DELETE without WHERE", "UPDATE without WHERE", "SELECT *", "Destructive statement: TRUNCATE"]
        );
    }

    #[test]
    fn create_index_without_concurrently_unless_another_database() {
        let pg = "CREATE TABLE fresh (id bigserial PRIMARY KEY, at timestamptz);\nCREATE INDEX fresh_at ON fresh (at);\nCREATE INDEX orders_at ON orders (created_at);\nCREATE INDEX CONCURRENTLY orders_b ON orders (b);\n";
        assert_eq!(
            titles(&analyse(&[file("db/migrations/3.sql", pg)], none)),
            [
                ("Index built without CONCURRENTLY in `db/migrations/3.sql`".to_string(), Some(3)),
                ("Locking DDL without a lock_timeout in `db/migrations/3.sql`".to_string(), Some(3))
            ]
        );
        // Nothing says which database: still reported, hedged.
        let plain = "CREATE INDEX orders_at ON orders (created_at);\n";
        let f = analyse(&[file("db/migrations/3.sql", plain)], none);
        assert_eq!(f[0].title, "Index built without CONCURRENTLY in `db/migrations/3.sql`");
        assert!(f[0].detail.contains("database was not identified"), "{f:?}");
        let timeout = "SET lock_timeout = '2s';\nCREATE INDEX orders_at ON orders (created_at);\n";
        assert_eq!(analyse(&[file("db/migrations/3.sql", timeout)], none).len(), 1);
        let lite = "PRAGMA foreign_keys = ON;\nCREATE INDEX orders_at ON orders (created_at);\n";
        assert!(analyse(&[file("db/migrations/3.sql", lite)], none).is_empty());
        let my = "CREATE INDEX orders_at ON orders (created_at);\n";
        assert!(analyse(&[file("db/mysql/migrations/3.sql", my)], none).is_empty());
    }

    #[test]
    fn sql_pasted_with_prose_and_a_fence_is_read_from_its_first_statement() {
        let ctx = "Review this migration:\n\n```sql\n-- db/migrations/0042_orders.sql\nALTER TABLE orders ADD COLUMN region text NOT NULL;\nCREATE INDEX orders_region_idx ON orders (region);\n```\n";
        let (f, notes) = analyse_with_notes(&[SourceFile::new(None, ctx, Origin::Context)], none);
        let got: Vec<(String, Option<usize>)> = titles(&f);
        assert_eq!(got[0], ("NOT NULL column without a default".to_string(), Some(5)), "{f:?}");
        assert_eq!(got[1], ("Index built without CONCURRENTLY".to_string(), Some(6)), "{f:?}");
        assert!(notes.is_empty(), "{notes:?}");
    }

    #[test]
    fn up_migrations_need_their_down() {
        let files = [
            file("migrations/20240101_add.up.sql", "ALTER TABLE t ADD COLUMN a int;"),
            file("migrations/2024-01-02-x/up.sql", "SELECT 1;"),
        ];
        let f = analyse(&files, none);
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(f[0].detail.contains("`migrations/20240101_add.down.sql`"), "{f:?}");
        assert!(f[1].detail.contains("`migrations/2024-01-02-x/down.sql`"), "{f:?}");
        let on_disk: HashMap<&str, &str> =
            [("migrations/20240101_add.down.sql", ""), ("migrations/2024-01-02-x/down.sql", "")].into();
        assert!(analyse(&files, |p| on_disk.get(p).map(|s| s.to_string())).is_empty());
        let alembic = "def upgrade():\n    op.add_column('t', sa.Column('a'))\n\ndef downgrade():\n    pass\n";
        assert_eq!(
            titles(&analyse(&[file("alembic/versions/abc.py", alembic)], none))[0].0,
            "Migration without a rollback in `alembic/versions/abc.py`"
        );
        let ok = "def upgrade():\n    op.add_column('t', sa.Column('a'))\n\ndef downgrade():\n    op.drop_column('t', 'a')\n";
        assert!(analyse(&[file("alembic/versions/abc.py", ok)], none).iter().all(|f| !f.title.contains("rollback")));
    }

    #[test]
    fn sql_built_from_strings_in_code() {
        let rs = "fn q(id: &str) {\n    let a = format!(\"SELECT name FROM users WHERE id = {id}\");\n    let b = sqlx::query(\"SELECT name FROM users WHERE id = $1\");\n    let c = \"DELETE FROM users WHERE id = \".to_string() + id;\n}\n";
        assert_eq!(
            titles(&analyse(&[file("src/db.rs", rs)], none)),
            [
                ("SQL built from strings in `src/db.rs`".to_string(), Some(2)),
                ("SQL built from strings in `src/db.rs`".to_string(), Some(4))
            ]
        );
        let py = "cur.execute(f\"SELECT * FROM t WHERE id = {x}\")\ncur.execute(\"SELECT a FROM t WHERE id = %s\", (x,))\ncur.execute(\"SELECT a FROM t WHERE id = %s\" % x)\n";
        let got: Vec<String> = analyse(&[file("app/db.py", py)], none)
            .into_iter()
            .map(|f| format!("{}@{}", f.title, f.line.unwrap()))
            .collect();
        assert_eq!(
            got,
            [
                "SELECT * in `app/db.py`@1",
                "SQL built from strings in `app/db.py`@1",
                "SQL built from strings in `app/db.py`@3"
            ]
        );
        let split = "QUERY = \"SELECT a FROM users WHERE name = '%s'\"\n\ndef find(c, n):\n    c.execute(QUERY % n)\n    c.execute(QUERY, (n,))\n";
        assert_eq!(
            titles(&analyse(&[file("app/q.py", split)], none)),
            [("SQL built from strings in `app/q.py`".to_string(), Some(4))]
        );
        let go = "q := fmt.Sprintf(\"SELECT a FROM t WHERE id = %s\", id)\nrows, err := db.Query(\"SELECT a FROM t WHERE id = $1\", id)\n";
        assert_eq!(analyse(&[file("db.go", go)], none).len(), 1);
        let js = "db.query(`SELECT a FROM t WHERE id = ${id}`);\ndb.query('SELECT a FROM t WHERE id = $1', [id]);\n";
        assert_eq!(analyse(&[file("db.js", js)], none).len(), 1);
    }

    #[test]
    fn sql_strings_in_code_are_checked_as_statements_across_lines() {
        let rs = "fn q() {\n    sqlx::query(\n        \"UPDATE users\n         SET active = false\n         WHERE id = $1\",\n    );\n    sqlx::query(\"DELETE FROM users\");\n}\n";
        assert_eq!(
            titles(&analyse(&[file("src/db.rs", rs)], none)),
            [("DELETE without WHERE in `src/db.rs`".to_string(), Some(7))]
        );
    }

    #[test]
    fn foreign_keys_without_an_index() {
        let sql = "CREATE TABLE orders (\n  id bigserial PRIMARY KEY,\n  user_id bigint NOT NULL REFERENCES users(id),\n  shop_id bigint REFERENCES shops(id)\n);\nCREATE INDEX CONCURRENTLY orders_shop ON orders (shop_id);\n";
        let f = analyse(&[file("migrations/4.sql", sql)], none);
        assert_eq!(titles(&f), [("Foreign key without an index in `migrations/4.sql`".to_string(), Some(3))]);
        assert!(f[0].detail.contains("`orders.user_id`"), "{f:?}");
    }
}
