//! JavaScript and TypeScript read with a parser: SQL assembled from
//! strings — template literals with `${}` and `+` chains — judged on the
//! syntax tree, so a template over several lines is one expression, a
//! tagged template (`sql\`… ${id}\``, which the tag binds as a parameter)
//! is not assembled text, and strings and comments that only show such code
//! are not code. A file that does not parse is left to the line checks.

use std::collections::{BTreeMap, BTreeSet};

use agent_os_persona_sdk::context::SourceFile;
use agent_os_persona_sdk::javascript::{self, GetSpan, Lines, Span, ast, visit};
use ast::{Argument, BinaryOperator, Expression};
use visit::Visit;

use crate::python::Facts;
use crate::sql::{is_clause, is_sql, query_like};

/// What the parser found in one JS/TS file, or `None` when it is not JS/TS or does not parse.
pub fn read(f: &SourceFile) -> Option<Facts> {
    javascript::read_file(f, |program, lines| {
        let mut v = V {
            lines,
            sql_vars: BTreeSet::new(),
            tagged: BTreeSet::new(),
            executed: None,
            named: None,
            sql: BTreeSet::new(),
        };
        v.visit_program(program);
        Facts { sql: v.sql.into_iter().collect(), hashes: BTreeMap::new() }
    })
}

/// Methods that run SQL text given as their first argument.
const EXECUTES: &[&str] = &["query", "execute", "raw", "prepare", "exec", "$queryRawUnsafe", "$executeRawUnsafe"];

struct V<'l> {
    lines: &'l Lines,
    /// Variables assigned a SQL literal.
    sql_vars: BTreeSet<String>,
    /// Templates that are the quasi of a tagged template.
    tagged: BTreeSet<(u32, u32)>,
    /// The expression passed as SQL to an execute-like call.
    executed: Option<Span>,
    /// The initial value of a query-like variable.
    named: Option<Span>,
    sql: BTreeSet<usize>,
}

fn key(s: Span) -> (u32, u32) {
    (s.start, s.end)
}

/// The text of a template's fixed parts, each `${}` kept as `{}`.
fn template_text(t: &ast::TemplateLiteral<'_>) -> String {
    t.quasis.iter().map(|q| q.value.raw.as_str()).collect::<Vec<_>>().join("{}")
}

/// The operands of a `+` chain, left to right.
fn plus_operands<'b, 'a>(e: &'b Expression<'a>, out: &mut Vec<&'b Expression<'a>>) {
    match e {
        Expression::BinaryExpression(b) if b.operator == BinaryOperator::Addition => {
            plus_operands(&b.left, out);
            plus_operands(&b.right, out);
        }
        Expression::ParenthesizedExpression(p) => plus_operands(&p.expression, out),
        other => out.push(other),
    }
}

impl V<'_> {
    fn is_sql_var(&self, e: &Expression<'_>) -> bool {
        matches!(e, Expression::Identifier(id) if self.sql_vars.contains(id.name.as_str()))
    }

    /// The SQL text an expression builds and whether values are spliced in.
    fn built(&self, e: &Expression<'_>) -> Option<(String, bool)> {
        match e {
            Expression::TemplateLiteral(t) if !self.tagged.contains(&key(t.span)) => {
                Some((template_text(t), !t.expressions.is_empty()))
            }
            Expression::BinaryExpression(b) if b.operator == BinaryOperator::Addition => {
                let mut ops = Vec::new();
                plus_operands(e, &mut ops);
                if self.is_sql_var(ops[0]) && ops[1..].iter().any(|o| javascript::literal(o).is_none()) {
                    return Some(("SELECT FROM".into(), true));
                }
                let texts: Vec<String> = ops
                    .iter()
                    .filter_map(|o| match o {
                        Expression::TemplateLiteral(t) => Some(template_text(t)),
                        other => javascript::literal(other),
                    })
                    .collect();
                if texts.is_empty() {
                    return None;
                }
                let spliced = ops.iter().any(|o| match o {
                    Expression::TemplateLiteral(t) => !t.expressions.is_empty(),
                    other => javascript::literal(other).is_none(),
                });
                Some((texts.join(""), spliced))
            }
            _ => None,
        }
    }

    fn check(&mut self, e: &Expression<'_>) {
        let Some((text, spliced)) = self.built(e) else { return };
        let execd = self.executed == Some(e.span());
        let named = self.named == Some(e.span());
        if spliced && (is_sql(&text, !(execd || named)) || named && is_clause(&text)) {
            self.sql.insert(self.lines.of(e));
        }
    }
}

impl<'a> Visit<'a> for V<'_> {
    fn visit_expression(&mut self, e: &Expression<'a>) {
        match e {
            Expression::TemplateLiteral(_) => self.check(e),
            // Only the whole chain: its inner `+` would be judged on part of the text.
            Expression::BinaryExpression(b) if b.operator == BinaryOperator::Addition => {
                self.check(e);
                let mut ops = Vec::new();
                plus_operands(e, &mut ops);
                for o in ops {
                    self.visit_expression(o);
                }
                return;
            }
            _ => {}
        }
        visit::walk::walk_expression(self, e);
    }

    fn visit_tagged_template_expression(&mut self, it: &ast::TaggedTemplateExpression<'a>) {
        self.tagged.insert(key(it.quasi.span));
        visit::walk::walk_tagged_template_expression(self, it);
    }

    fn visit_call_expression(&mut self, it: &ast::CallExpression<'a>) {
        let method = match &it.callee {
            Expression::StaticMemberExpression(m) => Some(m.property.name.as_str()),
            Expression::Identifier(id) => Some(id.name.as_str()),
            _ => None,
        };
        if method.is_some_and(|m| EXECUTES.contains(&m))
            && let Some(first) = it.arguments.first().and_then(Argument::as_expression)
        {
            self.executed = Some(first.span());
        }
        visit::walk::walk_call_expression(self, it);
    }

    fn visit_variable_declarator(&mut self, it: &ast::VariableDeclarator<'a>) {
        if let (Some(name), Some(init)) = (it.id.get_identifier_name(), &it.init) {
            let name = name.as_str();
            let named = query_like(name);
            if named {
                self.named = Some(init.span());
            }
            let text = match init {
                Expression::TemplateLiteral(t) => Some(template_text(t)),
                Expression::BinaryExpression(_) => self.built(init).map(|(t, _)| t),
                other => javascript::literal(other),
            };
            if text.is_some_and(|t| is_sql(&t, !named) || named && is_clause(&t)) {
                self.sql_vars.insert(name.to_string());
            } else {
                self.sql_vars.remove(name);
            }
        }
        visit::walk::walk_variable_declarator(self, it);
    }

    fn visit_assignment_expression(&mut self, it: &ast::AssignmentExpression<'a>) {
        // `sql += " AND owner = '" + owner + "'"`, `query += id`.
        if it.operator == ast::AssignmentOperator::Addition
            && let Some(name) = it.left.get_identifier_name()
            && (self.sql_vars.contains(name) || query_like(name))
        {
            self.named = Some(it.right.span());
            if self.sql_vars.contains(name) && javascript::literal(&it.right).is_none() {
                let plain = matches!(&it.right, Expression::Identifier(_) | Expression::StaticMemberExpression(_));
                if plain {
                    self.sql.insert(self.lines.of(it));
                }
            }
        }
        visit::walk::walk_assignment_expression(self, it);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use agent_os_persona_sdk::testing::file;

    fn sql(path: &str, text: &str) -> Vec<usize> {
        read(&file(path, text)).expect("parses").sql.into_iter().map(|i| i + 1).collect()
    }

    use crate::sql::built_sql_line_numbers as by_lines;

    #[test]
    fn the_line_checks_cases_agree() {
        for text in [
            "const rows = await db.query(`SELECT * FROM orders WHERE id = ${req.params.id}`);",
            "const rows = await db.query(`\n  SELECT * FROM orders\n  WHERE id = ${id}\n`);\n",
            "db.query('SELECT * FROM t WHERE id = ?', [id]);",
            "const q = `SELECT * FROM t WHERE id = $1`;",
            "const q = `\n  SELECT * FROM t\n  WHERE id = $1\n`;",
            "const sql = \"SELECT * FROM t WHERE id = \" + uid;",
            "const sql = 'SELECT a, b ' + 'FROM t WHERE id = ?';",
        ] {
            assert_eq!(sql("a.js", text), by_lines(text), "{text}");
        }
    }

    #[test]
    fn the_parser_reads_what_the_line_checks_miss_or_mistake() {
        // A tagged template binds its values as parameters.
        let text = "const rows = await sql`SELECT * FROM users WHERE id = ${id}`;\n";
        assert_eq!(sql("a.ts", text), Vec::<usize>::new());
        assert_eq!(by_lines(text), [1]);
        // A `+` chain whose value comes on a later line.
        let text =
            "const query = 'SELECT * FROM users ' +\n  'WHERE name = \\'' +\n  name +\n  \"'\";\ndb.query(query);\n";
        assert_eq!(sql("a.js", text), [1]);
        assert_eq!(by_lines(text), Vec::<usize>::new());
        // A query variable extended with a value.
        let text = "let sql = 'SELECT * FROM t WHERE a = ';\nsql += a;\ndb.query(sql);\n";
        assert_eq!(sql("a.js", text), [2]);
        // A string that shows the unsafe form.
        let text = "const help = \"never db.query(`SELECT * FROM t WHERE id = ${id}`)\";\n";
        assert_eq!(sql("a.js", text), Vec::<usize>::new());
    }

    #[test]
    fn other_languages_and_broken_files_are_left_to_the_line_checks() {
        assert!(read(&file("a.py", "q = f\"SELECT {x}\"")).is_none());
        assert!(read(&file("a.ts", "const q = `SELECT * FROM t WHERE a = ${a}`;\nif (\n")).is_none());
    }
}
