//! Python files read with a parser: SQL assembled from strings (`%`,
//! f-strings, `+`, `.format`) and hashes of passwords, judged on the syntax
//! tree, so a statement over several lines is one expression and a string
//! or docstring that only shows such code is not code. A file that does not
//! parse is left to the line checks ([`crate::sql`], [`crate::hashing`]).

use std::collections::{BTreeMap, BTreeSet};

use agent_os_persona_sdk::brief::Severity;
use agent_os_persona_sdk::context::{Language, SourceFile};
use agent_os_persona_sdk::python::{self, Module, Ranged, TextRange, ast};
use ast::visitor::{self, Visitor};
use ast::{Expr, Operator, Stmt};

use crate::sql::{has_printf, is_clause, is_sql, query_like};

/// What the parser found in one Python file, by 0-based line.
pub struct Facts {
    /// Lines where SQL text is assembled from values.
    pub sql: Vec<usize>,
    /// Lines with a hash call worth a finding, and what it amounts to.
    pub hashes: BTreeMap<usize, (Severity, &'static str, &'static str)>,
}

/// The facts of a Python file, or `None` when it is not Python or does not parse.
pub fn read(f: &SourceFile) -> Option<Facts> {
    if f.language != Language::Python {
        return None;
    }
    let m = python::parse(&f.text)?;
    let mut v = V {
        m: &m,
        text: &f.text,
        sql_vars: BTreeSet::new(),
        values: BTreeMap::new(),
        hashlib_names: BTreeSet::new(),
        function: Vec::new(),
        executed: None,
        named: None,
        sql: BTreeSet::new(),
        hashes: BTreeMap::new(),
    };
    v.visit_body(m.body());
    Some(Facts { sql: v.sql.into_iter().collect(), hashes: v.hashes })
}

/// Calls that run SQL text given as their first argument.
const EXECUTES: &[&str] = &["execute", "executemany", "executescript", "query", "raw", "prepare", "text", "mogrify"];

struct V<'m> {
    m: &'m Module,
    text: &'m str,
    /// Variables assigned a SQL literal.
    sql_vars: BTreeSet<String>,
    /// The source text last assigned to each variable.
    values: BTreeMap<String, &'m str>,
    /// Names imported from hashlib (`from hashlib import md5`).
    hashlib_names: BTreeSet<String>,
    /// The enclosing functions' names.
    function: Vec<String>,
    /// The expression passed as SQL to an execute-like call.
    executed: Option<TextRange>,
    /// The value of an assignment to a query-like name.
    named: Option<TextRange>,
    sql: BTreeSet<usize>,
    hashes: BTreeMap<usize, (Severity, &'static str, &'static str)>,
}

/// The last name of an assignment target: `query` for `self.query`.
fn target_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Name(n) => Some(n.id.as_str().to_string()),
        Expr::Attribute(a) => Some(a.attr.as_str().to_string()),
        _ => None,
    }
}

/// A string, or an f-string without interpolation: text fixed in the code.
fn is_literal(e: &Expr) -> bool {
    matches!(e, Expr::StringLiteral(_)) || matches!(e, Expr::FString(_)) && !python::interpolates(e)
}

/// The operands of a `+` chain, left to right.
fn plus_operands<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>) {
    match e {
        Expr::BinOp(b) if b.op == Operator::Add => {
            plus_operands(&b.left, out);
            plus_operands(&b.right, out);
        }
        other => out.push(other),
    }
}

impl<'m> V<'m> {
    fn src(&self, r: TextRange) -> &'m str {
        self.text.get(usize::from(r.start())..usize::from(r.end())).unwrap_or("")
    }

    fn is_sql_var(&self, e: &Expr) -> bool {
        matches!(e, Expr::Name(n) if self.sql_vars.contains(n.id.as_str()))
    }

    /// The SQL text an expression builds and whether values are spliced
    /// into it, for the string-building forms; `None` for anything else.
    fn built(&self, e: &Expr) -> Option<(String, bool)> {
        match e {
            Expr::FString(_) => Some((python::string_text(e)?, python::interpolates(e))),
            Expr::BinOp(b) if b.op == Operator::Mod => {
                if self.is_sql_var(&b.left) {
                    return Some(("SELECT FROM".into(), true));
                }
                let text = python::string_text(&b.left)?;
                let spliced = has_printf(&text) || python::interpolates(&b.left);
                Some((text, spliced))
            }
            Expr::BinOp(b) if b.op == Operator::Add => {
                let mut ops = Vec::new();
                plus_operands(e, &mut ops);
                let text: String = ops.iter().filter_map(|o| python::string_text(o)).collect::<Vec<_>>().join("");
                if self.is_sql_var(ops[0]) && ops[1..].iter().any(|o| !is_literal(o)) {
                    return Some(("SELECT FROM".into(), true));
                }
                if text.is_empty() {
                    return None;
                }
                Some((text, ops.iter().any(|o| !is_literal(o))))
            }
            Expr::Call(c) => {
                let Expr::Attribute(a) = &*c.func else { return None };
                if a.attr.as_str() != "format" {
                    return None;
                }
                if self.is_sql_var(&a.value) {
                    return Some(("SELECT FROM".into(), true));
                }
                let text = python::string_text(&a.value)?;
                let spliced = text.contains('{') && !text.replace("{{", "").replace("}}", "").is_empty();
                Some((text, spliced))
            }
            _ => None,
        }
    }

    fn check_sql(&mut self, e: &Expr) {
        let Some((text, spliced)) = self.built(e) else { return };
        let execd = self.executed == Some(e.range());
        let named = self.named == Some(e.range());
        let sql = is_sql(&text, !(execd || named)) || (named && is_clause(&text));
        if sql && spliced {
            self.sql.insert(self.m.line_of(e));
        }
    }

    /// A hash call: which algorithm, and what it hashes.
    fn check_hash(&mut self, c: &ast::ExprCall) {
        let name = python::dotted(&c.func).unwrap_or_default();
        let algo = match name.strip_prefix("hashlib.") {
            Some("new") => match c.arguments.args.first().and_then(python::string_text) {
                Some(a) => a.to_ascii_lowercase(),
                None => return,
            },
            Some(a) => a.to_string(),
            None if self.hashlib_names.contains(&name) || matches!(name.as_str(), "md5" | "sha1") => name,
            None => return,
        };
        if !matches!(algo.as_str(), "md5" | "sha1" | "sha224" | "sha256" | "sha384" | "sha512") {
            return;
        }
        let weak = algo == "md5" || algo == "sha1";
        let args = self.src(c.arguments.range());
        // What the arguments' variables were assigned, and the function's name.
        let mut said = args.to_string();
        for e in c.arguments.args.iter() {
            visit_names(e, &mut |n| {
                if let Some(v) = self.values.get(n) {
                    said.push('\n');
                    said.push_str(v);
                }
            });
        }
        let function = self.function.last().cloned().unwrap_or_default();
        let password =
            crate::hashing::says_password(&said) || weak && crate::hashing::says_password(&function.replace('_', " "));
        let salted = said.to_ascii_lowercase().contains("salt");
        let line = self.m.line_of(c);
        let line_text = self.text.lines().nth(line).unwrap_or("");
        let checksum = crate::hashing::says_checksum(args) || crate::hashing::says_checksum(line_text);
        if let Some(v) = crate::hashing::verdict(weak, password, salted, checksum) {
            self.hashes.entry(line).or_insert(v);
        }
    }
}

/// Every name an expression reads.
fn visit_names(e: &Expr, f: &mut dyn FnMut(&str)) {
    struct N<'f>(&'f mut dyn FnMut(&str));
    impl<'a> Visitor<'a> for N<'_> {
        fn visit_expr(&mut self, e: &'a Expr) {
            if let Expr::Name(n) = e {
                (self.0)(n.id.as_str());
            }
            visitor::walk_expr(self, e);
        }
    }
    N(f).visit_expr(e);
}

impl<'a> Visitor<'a> for V<'a> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::ImportFrom(s) if s.module.as_ref().is_some_and(|m| m.as_str() == "hashlib") => {
                for a in &s.names {
                    self.hashlib_names.insert(a.asname.as_ref().unwrap_or(&a.name).as_str().to_string());
                }
            }
            Stmt::FunctionDef(f) => {
                self.function.push(f.name.as_str().to_string());
                visitor::walk_stmt(self, stmt);
                self.function.pop();
                return;
            }
            Stmt::Assign(s) => {
                let names: Vec<String> = s.targets.iter().filter_map(target_name).collect();
                self.assigned(&names, &s.value);
            }
            Stmt::AnnAssign(s) => {
                if let (Some(name), Some(value)) = (target_name(&s.target), &s.value) {
                    self.assigned(&[name], value);
                }
            }
            Stmt::AugAssign(s) if s.op == Operator::Add => {
                // `query += " WHERE id = " + uid`, `sql += str(uid)`.
                let name = target_name(&s.target).unwrap_or_default();
                if self.sql_vars.contains(&name) || query_like(&name) {
                    self.named = Some(s.value.range());
                    let plain = matches!(&*s.value, Expr::Name(_) | Expr::Attribute(_) | Expr::Subscript(_))
                        || matches!(&*s.value, Expr::Call(c) if python::dotted(&c.func).as_deref() == Some("str"));
                    if plain && self.sql_vars.contains(&name) {
                        self.sql.insert(self.m.line_of(stmt));
                    }
                }
            }
            _ => {}
        }
        visitor::walk_stmt(self, stmt);
    }

    fn visit_expr(&mut self, e: &'a Expr) {
        match e {
            Expr::Call(c) => {
                let method = match &*c.func {
                    Expr::Attribute(a) => Some(a.attr.as_str()),
                    Expr::Name(n) => Some(n.id.as_str()),
                    _ => None,
                };
                if method.is_some_and(|m| EXECUTES.contains(&m))
                    && let Some(first) = c.arguments.args.first()
                {
                    self.executed = Some(first.range());
                    // `execute(query % x)` with a query-like name never assigned here.
                    if let Expr::BinOp(b) = first
                        && matches!(b.op, Operator::Mod | Operator::Add)
                        && matches!(&*b.left, Expr::Name(n) if query_like(n.id.as_str()))
                        && !is_literal(&b.right)
                    {
                        self.sql.insert(self.m.line_of(first));
                    }
                }
                self.check_hash(c);
                self.check_sql(e);
            }
            Expr::FString(_) | Expr::BinOp(_) => self.check_sql(e),
            _ => {}
        }
        visitor::walk_expr(self, e);
    }
}

impl<'a> V<'a> {
    /// `names = value`: remember what was assigned and whether it is SQL.
    fn assigned(&mut self, names: &[String], value: &'a Expr) {
        let named = names.iter().any(|n| query_like(n));
        if named {
            self.named = Some(value.range());
        }
        let text = match value {
            Expr::BinOp(_) | Expr::Call(_) => self.built(value).map(|(t, _)| t),
            _ => python::string_text(value),
        };
        let sql = text.is_some_and(|t| is_sql(&t, !named) || (named && is_clause(&t)));
        let source = self.src(value.range());
        for n in names {
            if sql {
                self.sql_vars.insert(n.clone());
            } else {
                self.sql_vars.remove(n);
            }
            self.values.insert(n.clone(), source);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use agent_os_persona_sdk::testing::file;

    fn sql(text: &str) -> Vec<usize> {
        read(&file("a.py", text)).expect("parses").sql.into_iter().map(|i| i + 1).collect()
    }

    fn hash(text: &str) -> Vec<(usize, &'static str)> {
        read(&file("a.py", text)).expect("parses").hashes.into_iter().map(|(i, (_, t, _))| (i + 1, t)).collect()
    }

    // The line checks' answer for the same text, to show where they differ.
    use crate::sql::built_sql_line_numbers as by_lines;

    #[test]
    fn the_line_checks_cases_agree() {
        let more = [
            "query += \" WHERE name = '%s'\" % name",
            "q = (\"INSERT INTO people (name) \"\n     \"VALUES ('%(name)s')\" % {'name': name})\n",
            "def f(c, name):\n    query = \"\"\"\n        SELECT *\n        FROM users\n        WHERE name = '%s'\n    \"\"\" % name\n    c.execute(query)\n",
            "QUERY = \"SELECT * FROM users WHERE name = '%s'\"\n\ndef find(c, n):\n    c.execute(QUERY % n)\n",
            "stmt = \"INSERT INTO log VALUES ('%s')\"\ncursor.execute(stmt.format(v))\n",
            // Bound parameters and prose.
            "cur.execute(\"SELECT name FROM users WHERE id = %s\", (uid,))",
            "log.info(f\"select a file from {folder}\")",
            "print(\"Deleted from cache: %s\" % key)",
            "query = \"SELECT 1\"",
            "x = \"a\" + name",
            "q = \"\"\"\nSELECT * FROM users\nWHERE name = %s\n\"\"\"\ncur.execute(q, (name,))",
            "doc = \"\"\"Select the rows from the table: {name}\n\"\"\".format(name=n)",
            "q = (\"INSERT INTO people (name) \"\n     \"VALUES (%(name)s)\")\ncur.execute(q, {'name': n})",
        ];
        for text in crate::sql::PYTHON_SQL_BUILT.iter().chain(&more) {
            assert_eq!(sql(text), by_lines(text), "{text}");
        }
    }

    #[test]
    fn the_parser_reads_what_the_line_checks_miss_or_mistake() {
        // A concatenation whose value is on a later line than its SQL.
        let text =
            "query = (\"SELECT * FROM users \"\n         \"WHERE id = \" +\n         str(uid))\ncur.execute(query)\n";
        assert_eq!(sql(text), [1]);
        assert_eq!(by_lines(text), Vec::<usize>::new());
        // `.format` on the line after the literal.
        let text = "sql = (\"SELECT * FROM t WHERE id = {}\"\n       .format(uid))\n";
        assert_eq!(sql(text), [1]);
        assert_eq!(by_lines(text), Vec::<usize>::new());
        // A docstring that shows the unsafe form is not code.
        let text =
            "def f():\n    \"\"\"Never write:\n    cur.execute(\"SELECT * FROM t WHERE a = '%s'\" % a)\n    \"\"\"\n";
        assert_eq!(sql(text), Vec::<usize>::new());
        // A query variable extended with a value.
        let text = "sql = \"SELECT * FROM t WHERE a = \"\nsql += str(a)\ncur.execute(sql)\n";
        assert_eq!(sql(text), [2]);
    }

    #[test]
    fn password_hashes_are_judged_on_the_call() {
        // The password is on the call's next line: the line check saw only "md5".
        let text = "digest = hashlib.md5(\n    user.password.encode()\n).hexdigest()\n";
        assert_eq!(hash(text), [(1, "Weak password hashing")]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(crate::hashing::judge(&lines, 0).map(|v| v.1), Some("Weak hash"));
        // `from hashlib import md5`, the variable assigned from the form.
        let text = "from hashlib import md5\n\ndef login(form):\n    secret = form['password']\n    x = 1\n    y = 2\n    return md5(secret.encode()).hexdigest()\n";
        assert_eq!(hash(text), [(7, "Weak password hashing")]);
        // Inside a function named for passwords.
        let text = "def check_password(self, pw):\n    return self.h == md5(pw.encode('utf-8')).hexdigest()\n";
        assert_eq!(hash(text), [(2, "Weak password hashing")]);
        // A string that mentions the call, a checksum, a flagged non-security use.
        let text = "HELP = 'hashlib.md5(password) is unsafe'\netag = hashlib.md5(content).hexdigest()\nk = hashlib.md5(u, usedforsecurity=False)\nd = hashlib.sha256(data).hexdigest()\n";
        assert_eq!(hash(text), []);
        let text = "salt = os.urandom(16)\nh = hashlib.sha256(salt + password.encode())\nsig = hashlib.new('sha1', key + msg)\n";
        assert_eq!(hash(text), [(2, "Fast hash of a password"), (3, "Weak hash")]);
    }

    #[test]
    fn a_named_unicode_escape_is_left_to_the_line_checks() {
        // The component carries no Unicode name tables (no-unicode-names): `\N{..}` does not parse.
        let text = "BULLET = \"\\N{BULLET}\"\ncur.execute(\"SELECT * FROM t WHERE a = '%s'\" % a)\n";
        assert!(read(&file("a.py", text)).is_none());
        let found = crate::risky::scan(&[file("a.py", text)]);
        assert!(found.iter().any(|f| f.title.starts_with("SQL built from strings") && f.line == Some(2)), "{found:?}");
    }

    #[test]
    fn the_review_cases_parse_and_are_found() {
        let dao = "../../bench/analyses/reviews/cases/security-dvpwa/sqli/dao/";
        let student = std::fs::read_to_string(format!("{dao}student.py")).expect("the case file");
        let sql: Vec<usize> = read(&file("student.py", &student)).expect("parses").sql.iter().map(|i| i + 1).collect();
        assert_eq!(sql, [42]);
        let user = std::fs::read_to_string(format!("{dao}user.py")).expect("the case file");
        let hashes = read(&file("user.py", &user)).expect("parses").hashes;
        assert_eq!(hashes.iter().map(|(l, v)| (l + 1, v.1)).collect::<Vec<_>>(), [(41, "Weak password hashing")]);
    }

    #[test]
    fn other_languages_and_broken_python_are_left_to_the_line_checks() {
        assert!(read(&file("a.js", "const q = `SELECT ${x}`;")).is_none());
        assert!(read(&file("a.py", "def f(:\n    cur.execute(\"SELECT * FROM t WHERE a = '%s'\" % a)\n")).is_none());
    }
}
