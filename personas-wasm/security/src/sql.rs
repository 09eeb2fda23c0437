//! SQL assembled from strings, read literal by literal: a SQL string literal
//! with values spliced in by Python `%`, f-strings, `.format(` or `+`, a
//! JS/TS template literal with `${}`, Go `fmt.Sprintf`, Rust `format!`, or a
//! query-like variable combined with a value when it is executed. Bound
//! parameters (`execute("... %s", (x,))`, `$1`, `?`) stay quiet.

use std::borrow::Cow;

/// One string literal on a line: its prefix letters, quote, content and the
/// code before and after it.
struct Lit<'a> {
    prefix: &'a str,
    quote: char,
    content: Cow<'a, str>,
    before: &'a str,
    after: &'a str,
    /// The closing quote (1 or 3 characters) when the literal runs past the line's end.
    open: Option<String>,
}

/// The string literals of one line (a literal left open runs to the line's end).
fn literals(line: &str) -> Vec<Lit<'_>> {
    let mut out = Vec::new();
    let mut iter = line.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        if !matches!(c, '"' | '\'' | '`') {
            continue;
        }
        // Python's triple quotes: treat `"""` as one quote.
        let rest = &line[i..];
        let triple = if c != '`' && rest.starts_with(&format!("{c}{c}{c}")) { 3 } else { 1 };
        let body_start = i + triple * c.len_utf8();
        let prefix_start = line[..i].trim_end_matches(|p: char| p.is_ascii_alphabetic()).len();
        let prefix = if i - prefix_start <= 2 { &line[prefix_start..i] } else { "" };
        let mut end = line.len();
        let mut close = line.len();
        let mut closed = false;
        let mut escaped = false;
        for (j, d) in line[body_start..].char_indices() {
            if escaped {
                escaped = false;
                continue;
            }
            if d == '\\' {
                escaped = true;
                continue;
            }
            if d == c && line[body_start + j..].starts_with(&c.to_string().repeat(triple)) {
                end = body_start + j;
                close = end + triple;
                closed = true;
                break;
            }
        }
        out.push(Lit {
            prefix,
            quote: c,
            content: Cow::Borrowed(&line[body_start.min(end)..end]),
            before: &line[..prefix_start],
            after: &line[close.min(line.len())..],
            open: (!closed).then(|| c.to_string().repeat(triple)),
        });
        // Skip past the literal.
        while iter.peek().is_some_and(|(k, _)| *k < close) {
            iter.next();
        }
    }
    out
}

/// True when `s` reads as a SQL statement or a clause of one.
pub(crate) fn is_sql(s: &str, upper_only: bool) -> bool {
    let words: Vec<&str> = s.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '*')).collect();
    let words: Vec<&str> = words.into_iter().filter(|w| !w.is_empty()).collect();
    let kw = |w: &str, k: &str| if upper_only { w == k } else { w.eq_ignore_ascii_case(k) };
    let pos = |k: &str| words.iter().position(|w| kw(w, k));
    let pair = |a: &str, b: &str, gap: usize| match pos(a) {
        Some(i) => {
            words[i + 1..].iter().take(gap).any(|w| kw(w, b))
                || (b == "FROM" && words[i + 1..].iter().any(|w| kw(w, b)))
        }
        None => false,
    };
    pair("SELECT", "FROM", 12) || pair("INSERT", "INTO", 1) || pair("DELETE", "FROM", 1) || pair("UPDATE", "SET", 2)
}

/// A clause that continues a statement (`" WHERE id = " + x`).
pub(crate) fn is_clause(s: &str) -> bool {
    let t = s.trim_start();
    ["WHERE ", "AND ", "OR ", "VALUES", "ORDER BY ", "LIMIT ", "SET "].iter().any(|k| t.starts_with(k))
}

/// Names that usually hold SQL text.
pub(crate) fn query_like(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "q" || ["query", "sql", "stmt", "statement"].iter().any(|k| n.contains(k))
}

/// The identifier just before an assignment at the end of `before` (`sql = `, `query += `, `const q = `).
fn assigned_name(before: &str) -> Option<&str> {
    let b = before.trim_end();
    let b = b.strip_suffix('=').or_else(|| b.strip_suffix(":="))?;
    let b = b.trim_end_matches(['+', ':']).trim_end();
    let start = b
        .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
        .map_or(0, |k| k + b[k..].chars().next().map_or(1, char::len_utf8));
    let name = &b[start..];
    (!name.is_empty()).then_some(name)
}

/// A call that runs SQL.
fn executes(before: &str) -> bool {
    let b = before.trim_end();
    [
        "execute(",
        "executemany(",
        "executescript(",
        "query(",
        "raw(",
        "Query(",
        "Exec(",
        "QueryRow(",
        "QueryContext(",
        "ExecContext(",
        "prepare(",
        "text(",
    ]
    .iter()
    .any(|k| b.ends_with(k))
}

/// Placeholders a `%` / `Sprintf` formatting fills in.
pub(crate) fn has_printf(s: &str) -> bool {
    let b = s.as_bytes();
    b.windows(2).any(|w| w[0] == b'%' && matches!(w[1], b's' | b'd' | b'v' | b'r' | b'q' | b'f' | b'('))
}

/// A `$name` variable inside the text (not a `$1` placeholder).
fn php_var(s: &str) -> bool {
    s.as_bytes().windows(2).any(|w| w[0] == b'$' && (w[1].is_ascii_alphabetic() || w[1] == b'_' || w[1] == b'{'))
        || s.contains("{$")
}

/// Whether the literal has values spliced in.
fn spliced(l: &Lit<'_>) -> bool {
    let after = l.after.trim_start();
    let before = l.before.trim_end();
    let interpolates = l.content.contains('{') && !l.content.replace("{{", "").replace("}}", "").is_empty();
    // Python f-strings.
    (l.prefix.contains(['f', 'F']) && l.content.contains('{') && interpolates)
        // JS/TS template literals.
        || (l.quote == '`' && l.content.contains("${"))
        // Python `%` operator: `"..." % x`, but not `%s` bound through a parameter tuple.
        || (after.starts_with('%') && !after.starts_with("%%") && has_printf(&l.content))
        || after.starts_with(".format(")
        // PHP, Perl and shell: `"... $id"` interpolates, `"..." . $id` concatenates.
        || (l.quote == '"' && php_var(&l.content))
        || (after.starts_with('.') && after[1..].trim_start().starts_with('$'))
        || (before.ends_with('.') && before[..before.len() - 1].trim_end().ends_with(|c: char| c.is_alphanumeric() || c == ')' || c == ']') && before.contains('$'))
        // Go `fmt.Sprintf("...%s", x)`, Rust `format!("...{x}")`.
        || (before.ends_with("Sprintf(") && has_printf(&l.content))
        || (before.ends_with("format!(") && l.content.contains('{') && !l.content.contains("{{"))
        // Concatenation with something other than another literal.
        || (after.starts_with('+') && !after[1..].trim_start().starts_with(['"', '\'', '`']) && !after[1..].trim().is_empty())
        || (before.ends_with('+') && !before.ends_with("++") && !before[..before.len() - 1].trim_end().ends_with(['"', '\'', '`', '(', '=']))
}

/// The lines (as 0-based indices) where SQL text is assembled from values.
pub fn built_sql_lines(lines: &[&str]) -> Vec<usize> {
    // Variables assigned a SQL literal earlier in the file.
    let mut sql_vars: Vec<String> = Vec::new();
    let mut out = Vec::new();
    let mut skip_to = 0;
    for (i, line) in lines.iter().enumerate() {
        if i < skip_to {
            continue;
        }
        let mut hit = false;
        for mut l in literals(line) {
            // A triple-quoted string or template literal over several lines:
            // its text runs to the closing quote, and what follows that is `after`.
            if let Some(close) = l.open.take()
                && (close.len() == 3 || close == "`")
            {
                let mut text = l.content.to_string();
                for (j, next) in lines.iter().enumerate().skip(i + 1).take(200) {
                    text.push('\n');
                    if let Some(k) = next.find(close.as_str()) {
                        text.push_str(&next[..k]);
                        l.after = &next[k + close.len()..];
                        skip_to = j + 1;
                        break;
                    }
                    text.push_str(next);
                }
                l.content = Cow::Owned(text);
            }
            let execd = executes(l.before);
            let name = assigned_name(l.before);
            let named = name.is_some_and(query_like);
            let sql = is_sql(&l.content, !(execd || named)) || (named && is_clause(&l.content));
            if !sql {
                continue;
            }
            if let Some(n) = name {
                sql_vars.push(n.to_string());
            }
            if spliced(&l) {
                hit = true;
            }
            // Python's implicit concatenation over lines: `("INSERT ... "` then
            // `"VALUES ('%(name)s')" % {...})`, the statement's later pieces
            // spliced.
            if l.open.is_none() && l.after.trim().trim_end_matches('\\').is_empty() {
                for next in lines.iter().skip(i + 1).take(20) {
                    let t = next.trim_start().trim_start_matches(['f', 'F', 'r', 'R', 'b', 'B', 'u', 'U']);
                    if !t.starts_with(['"', '\'']) {
                        break;
                    }
                    if literals(next).iter().any(spliced) {
                        hit = true;
                        break;
                    }
                }
            }
        }
        // `cursor.execute(query % x)`, `db.query(sql + id)`, `execute(q.format(..))`.
        if !hit {
            for call in ["execute(", "executemany(", ".query(", ".raw(", "Query(", "Exec("] {
                let mut from = 0;
                while let Some(k) = line[from..].find(call) {
                    let arg = line[from + k + call.len()..].trim_start();
                    from += k + call.len();
                    let end = arg.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(arg.len());
                    let (var, rest) = arg.split_at(end);
                    let rest = rest.trim_start();
                    let known = !var.is_empty() && (sql_vars.iter().any(|v| v == var) || query_like(var));
                    if known
                        && (rest.starts_with('%') || rest.starts_with('+') || rest.starts_with(".format("))
                        && !rest.starts_with("%%")
                    {
                        hit = true;
                    }
                }
            }
        }
        if hit {
            out.push(i);
        }
    }
    out
}

/// Python lines that build SQL from values, one statement each: the line
/// checks' cases, which the Python parser must judge the same way.
#[cfg(test)]
pub(crate) const PYTHON_SQL_BUILT: [&str; 7] = [
    "cur.execute(\"SELECT * FROM users WHERE name = '%s'\" % name)",
    "cursor.execute(\"SELECT * FROM users WHERE id = %d\" % (uid,))",
    "query = \"SELECT * FROM users WHERE name = '%s' AND pw = '%s'\" % (u, p)",
    "sql = f\"SELECT id FROM accounts WHERE email = '{email}'\"",
    "cur.execute(\"DELETE FROM t WHERE id = \" + str(i))",
    "sql = \"select * from items where owner = '\" + owner + \"'\"",
    "db.execute(\"UPDATE users SET name = '{}' WHERE id = {}\".format(n, i))",
];

/// The 1-based lines of `text` the line checks find SQL built in (for the
/// tests here and the parsers' tests, which compare against them).
#[cfg(test)]
pub(crate) fn built_sql_line_numbers(text: &str) -> Vec<usize> {
    let lines: Vec<&str> = text.lines().collect();
    built_sql_lines(&lines).into_iter().map(|i| i + 1).collect()
}

#[cfg(test)]
mod tests {
    use super::PYTHON_SQL_BUILT;
    use super::built_sql_line_numbers as hits;

    #[test]
    fn values_spliced_into_sql_are_found() {
        let others = [
            "const rows = await db.query(`SELECT * FROM orders WHERE id = ${req.params.id}`);",
            "q := fmt.Sprintf(\"SELECT a FROM t WHERE b = '%s'\", b)",
            "let q = format!(\"SELECT * FROM users WHERE name = '{name}'\");",
            "query += \" WHERE name = '%s'\" % name",
            "$result = mysqli_query($conn, \"SELECT * FROM users WHERE id = $id\");",
            "$sql = \"SELECT * FROM users WHERE name = '\" . $_GET['name'] . \"'\";",
        ];
        for line in PYTHON_SQL_BUILT.iter().chain(&others) {
            assert_eq!(hits(line), [1], "{line}");
        }
        // The query is written on one line and formatted where it is run.
        let split = "QUERY = \"SELECT * FROM users WHERE name = '%s'\"\n\ndef find(c, n):\n    c.execute(QUERY % n)\n";
        assert_eq!(hits(split), [4]);
        let split = "stmt = \"INSERT INTO log VALUES ('%s')\"\ncursor.execute(stmt.format(v))\n";
        assert_eq!(hits(split), [2]);
        // Adjacent literals over lines, the last one formatted.
        let implicit = "    q = (\"INSERT INTO people (name) \"\n         \"VALUES ('%(name)s')\" % {'name': name})\n";
        assert_eq!(hits(implicit), [1]);
        // Over several lines: a triple-quoted string formatted after it closes, a template literal.
        let multi = "def f(c, name):\n    query = \"\"\"\n        SELECT *\n        FROM users\n        WHERE name = '%s'\n    \"\"\" % name\n    c.execute(query)\n";
        assert_eq!(hits(multi), [2]);
        let multi = "const rows = await db.query(`\n  SELECT * FROM orders\n  WHERE id = ${id}\n`);\n";
        assert_eq!(hits(multi), [1]);
    }

    #[test]
    fn bound_parameters_and_prose_stay_quiet() {
        let clean = [
            "cur.execute(\"SELECT name FROM users WHERE id = %s\", (uid,))",
            "cur.execute(\"SELECT name FROM users WHERE id = %(id)s\", {\"id\": uid})",
            "rows, err := db.Query(`SELECT id FROM users WHERE id = $1`, id)",
            "db.query('SELECT * FROM t WHERE id = ?', [id])",
            "const q = `SELECT * FROM t WHERE id = $1`;",
            "sql = \"SELECT a, b \" + \"FROM t WHERE id = ?\"",
            "log.info(f\"select a file from {folder}\")",
            "print(\"Deleted from cache: %s\" % key)",
            "msg = \"Update failed: %s\" % err",
            "let q = format!(\"{{}} SELECT\");",
            "query = \"SELECT 1\"",
            "x = \"a\" + name",
            "$stmt = $pdo->prepare('SELECT * FROM users WHERE id = ?');",
            "rows, err := db.Query(\"SELECT id FROM users WHERE id = $1\", id)",
            "q = \"\"\"\nSELECT * FROM users\nWHERE name = %s\n\"\"\"\ncur.execute(q, (name,))",
            "const q = `\n  SELECT * FROM t\n  WHERE id = $1\n`;",
            "doc = \"\"\"Select the rows from the table: {name}\n\"\"\".format(name=n)",
            "q = (\"INSERT INTO people (name) \"\n     \"VALUES (%(name)s)\")\ncur.execute(q, {'name': n})",
        ];
        for line in clean {
            assert_eq!(hits(line), Vec::<usize>::new(), "{line}");
        }
    }

    #[test]
    fn survives_odd_text() {
        for t in [
            "\"",
            "f\"",
            "é\"SELECT ü FROM t WHERE a = {x}\" % ",
            "`${",
            "\"\"\"SELECT * FROM t\"\"\" % (",
            "+\"",
            "execute(",
            "sql =",
        ] {
            let _ = hits(t);
        }
    }
}
