//! Python read with a parser (feature `python`): ruff's recursive-descent
//! parser, pure Rust, so it runs inside the component. An analysis asks for
//! the syntax tree with [`parse`] and walks it with [`ast::visitor`];
//! [`imports`] lists a module's imports as Python resolves them.
//!
//! [`parse`] returns `None` for a file with a syntax error (an excerpt, a
//! diff hunk, a file mid-edit) so the analysis can fall back to its line
//! checks and lose no finding.

pub use ruff_python_ast as ast;
pub use ruff_text_size::{Ranged, TextRange, TextSize};

use ast::visitor::{self, Visitor};
use ast::{Expr, Stmt};

/// Deeper bracket nesting than this is not parsed (CPython itself stops at
/// 200): the parser recurses once per level, and the sandbox's stack is small.
const MAX_NESTING: usize = 100;
/// Larger texts are left to the line checks.
const MAX_LEN: usize = 4 << 20;

/// A Python module's syntax tree and where its lines start.
pub struct Module {
    module: ast::ModModule,
    starts: Vec<usize>,
}

/// The syntax tree of `text`, or `None` when it does not parse (or nests
/// deeper than the sandbox's stack allows).
pub fn parse(text: &str) -> Option<Module> {
    if text.len() > MAX_LEN || too_deep(text) {
        return None;
    }
    let parsed = ruff_python_parser::parse_module(text).ok()?;
    let starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
    Some(Module { module: parsed.into_syntax(), starts })
}

/// Whether brackets or indentation nest deeper than [`MAX_NESTING`].
fn too_deep(text: &str) -> bool {
    // Each indented block is a level too: 4 * MAX_NESTING columns of indentation.
    crate::nesting::brackets_deeper_than(text, MAX_NESTING)
        || text.lines().any(|l| l.len() - l.trim_start_matches([' ', '\t']).len() > 4 * MAX_NESTING)
}

impl Module {
    /// The module's statements.
    pub fn body(&self) -> &[Stmt] {
        &self.module.body
    }

    /// The 0-based line of the text at byte `offset`.
    pub fn line_index(&self, offset: TextSize) -> usize {
        let at = usize::from(offset);
        self.starts.partition_point(|s| *s <= at).saturating_sub(1)
    }

    /// The 0-based line where `node` starts.
    pub fn line_of(&self, node: &impl Ranged) -> usize {
        self.line_index(node.start())
    }
}

/// One imported module, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// The dotted module name without leading dots: `a.b` for `import a.b`
    /// and `from a.b import c`, `` for `from . import c`.
    pub module: String,
    /// The number of leading dots of a relative import (0 for absolute).
    pub level: u32,
    /// The names a `from` import takes (`*` included); empty for `import a.b`.
    pub names: Vec<String>,
    /// The 0-based line of the statement.
    pub line: usize,
    /// True when the import runs only when something is called or never at
    /// load time: inside a function, or under `if TYPE_CHECKING:`.
    pub deferred: bool,
}

impl Import {
    /// The source as written: `..pkg.mod`.
    pub fn source(&self) -> String {
        format!("{}{}", ".".repeat(self.level as usize), self.module)
    }
}

/// Every import of the module, in order, each marked deferred when it runs
/// only on a call (in a function body) or only for the type checker.
pub fn imports(m: &Module) -> Vec<Import> {
    struct V<'m> {
        m: &'m Module,
        deferred: usize,
        out: Vec<Import>,
    }
    impl<'a> Visitor<'a> for V<'_> {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            match stmt {
                Stmt::Import(s) => {
                    for alias in &s.names {
                        self.out.push(Import {
                            module: alias.name.as_str().to_string(),
                            level: 0,
                            names: Vec::new(),
                            line: self.m.line_of(alias),
                            deferred: self.deferred > 0,
                        });
                    }
                }
                Stmt::ImportFrom(s) => self.out.push(Import {
                    module: s.module.as_ref().map(|m| m.as_str().to_string()).unwrap_or_default(),
                    level: s.level,
                    names: s.names.iter().map(|a| a.name.as_str().to_string()).collect(),
                    line: self.m.line_of(s),
                    deferred: self.deferred > 0,
                }),
                Stmt::FunctionDef(f) => {
                    // Decorators and defaults run at load time; the body on a call.
                    for d in &f.decorator_list {
                        self.visit_decorator(d);
                    }
                    self.deferred += 1;
                    self.visit_body(&f.body);
                    self.deferred -= 1;
                }
                Stmt::If(s) if is_type_checking(&s.test) => {
                    self.deferred += 1;
                    self.visit_body(&s.body);
                    self.deferred -= 1;
                    for clause in &s.elif_else_clauses {
                        self.visit_body(&clause.body);
                    }
                }
                _ => visitor::walk_stmt(self, stmt),
            }
        }
        // Imports are statements: expressions hold none.
        fn visit_expr(&mut self, _: &'a Expr) {}
    }
    let mut v = V { m, deferred: 0, out: Vec::new() };
    v.visit_body(m.body());
    v.out
}

/// `TYPE_CHECKING` or `typing.TYPE_CHECKING`.
fn is_type_checking(e: &Expr) -> bool {
    match e {
        Expr::Name(n) => n.id.as_str() == "TYPE_CHECKING",
        Expr::Attribute(a) => a.attr.as_str() == "TYPE_CHECKING",
        _ => false,
    }
}

/// The dotted name an expression spells: `a.b.c` for `a.b.c`, `None` for anything else.
pub fn dotted(e: &Expr) -> Option<String> {
    match e {
        Expr::Name(n) => Some(n.id.as_str().to_string()),
        Expr::Attribute(a) => Some(format!("{}.{}", dotted(&a.value)?, a.attr.as_str())),
        _ => None,
    }
}

/// The text of a string literal or f-string's literal parts, each
/// interpolation replaced by `{}`; `None` for other expressions.
pub fn string_text(e: &Expr) -> Option<String> {
    match e {
        Expr::StringLiteral(s) => Some(s.value.to_str().to_string()),
        Expr::FString(f) => {
            let mut out = String::new();
            for part in f.value.iter() {
                match part {
                    ast::FStringPart::Literal(l) => out.push_str(l.as_str()),
                    ast::FStringPart::FString(f) => {
                        for el in f.elements.iter() {
                            match el {
                                ast::InterpolatedStringElement::Literal(l) => out.push_str(&l.value),
                                ast::InterpolatedStringElement::Interpolation(_) => out.push_str("{}"),
                            }
                        }
                    }
                }
            }
            Some(out)
        }
        _ => None,
    }
}

/// Whether an f-string interpolates a value (`f"{x}"`); plain strings do not.
pub fn interpolates(e: &Expr) -> bool {
    match e {
        Expr::FString(f) => f.value.iter().any(|p| match p {
            ast::FStringPart::FString(f) => {
                f.elements.iter().any(|el| matches!(el, ast::InterpolatedStringElement::Interpolation(_)))
            }
            ast::FStringPart::Literal(_) => false,
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn imported(text: &str) -> Vec<(String, Vec<String>, usize, bool)> {
        let m = parse(text).expect("parses");
        imports(&m).into_iter().map(|i| (i.source(), i.names, i.line, i.deferred)).collect()
    }

    #[test]
    fn imports_as_python_reads_them() {
        let text = "\"\"\"Docs.\n\nimport not_this\n\"\"\"\nimport a.b as c, d\nfrom .. import (\n    x,\n    y as z,\n)\nfrom \\\n  pkg.mod import *\n\ndef f():\n    from app import models\n\nclass K:\n    import e\n\nif TYPE_CHECKING:\n    from app.types import T\nelse:\n    import g\n";
        let got = imported(text);
        let want = [
            ("a.b", vec![], 4, false),
            ("d", vec![], 4, false),
            ("..", vec!["x", "y"], 5, false),
            ("pkg.mod", vec!["*"], 9, false),
            ("app", vec!["models"], 13, true),
            ("e", vec![], 16, false),
            ("app.types", vec!["T"], 19, true),
            ("g", vec![], 21, false),
        ];
        let want: Vec<(String, Vec<String>, usize, bool)> = want
            .into_iter()
            .map(|(m, n, l, d)| (m.to_string(), n.into_iter().map(String::from).collect(), l, d))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn syntax_errors_and_deep_nesting_are_not_parsed() {
        assert!(parse("def f(:\n    pass\n").is_none());
        assert!(parse("    indented = 1\n").is_none());
        assert!(parse(&format!("x = {}1{}\n", "(".repeat(5000), ")".repeat(5000))).is_none());
        assert!(parse("x = ((1))\n").is_some());
        assert!(parse("").is_some_and(|m| m.body().is_empty()));
    }

    #[test]
    fn strings_and_lines() {
        let m = parse("a = 1\nq = (f\"SELECT {x} \"\n     \"FROM t\")\n").expect("parses");
        let Stmt::Assign(s) = &m.body()[1] else { panic!("an assignment") };
        assert_eq!(string_text(&s.value).as_deref(), Some("SELECT {} FROM t"));
        assert!(interpolates(&s.value));
        assert_eq!(m.line_of(&*s.value), 1);
        assert_eq!(dotted(&s.targets[0]).as_deref(), Some("q"));
    }
}
