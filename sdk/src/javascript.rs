//! JavaScript and TypeScript read with a parser (feature `javascript`): the
//! oxc parser, pure Rust, so it runs inside the component. An analysis
//! parses a file into an arena with [`parse`] (or has [`read_file`] do it
//! for a project file) and walks the tree with
//! [`visit::Visit`]; [`imports`] lists a module's imports, re-exports and
//! `require`s.
//!
//! [`parse`] returns `None` for a file with a syntax error (an excerpt, a
//! diff hunk, a file mid-edit) so the analysis can fall back to its line
//! checks and lose no finding.

pub use oxc_allocator::Allocator;
pub use oxc_ast::ast;
pub use oxc_ast_visit as visit;
pub use oxc_span::{GetSpan, Span};

use ast::{Argument, Expression, Program};
use oxc_span::SourceType;
use visit::Visit;

/// Deeper bracket nesting than this is not parsed: the parser recurses once
/// per level, and the sandbox's stack is small.
const MAX_NESTING: usize = 120;
/// Larger texts are left to the line checks.
const MAX_LEN: usize = 4 << 20;

/// Where each line of a text starts, to turn byte offsets into lines.
pub struct Lines(Vec<usize>);

impl Lines {
    /// The line starts of `text`.
    pub fn new(text: &str) -> Self {
        Lines(std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect())
    }

    /// The 0-based line of the byte `offset`.
    pub fn index(&self, offset: u32) -> usize {
        let at = offset as usize;
        self.0.partition_point(|s| *s <= at).saturating_sub(1)
    }

    /// The 0-based line where `node` starts.
    pub fn of(&self, node: &impl GetSpan) -> usize {
        self.index(node.span().start)
    }
}

/// The syntax tree of `text`, in `arena`, or `None` when it does not parse.
/// The path's extension picks TypeScript, JSX or CommonJS; a `.js` file is
/// tried as a module (JSX allowed), then as a script.
pub fn parse<'a>(arena: &'a Allocator, text: &'a str, path: Option<&str>) -> Option<Program<'a>> {
    if text.len() > MAX_LEN || crate::nesting::brackets_deeper_than(text, MAX_NESTING) {
        return None;
    }
    let ext = path.and_then(|p| p.rsplit_once('.')).map_or("js", |(_, e)| e);
    let tries: &[SourceType] = match ext {
        "ts" | "mts" | "cts" => &[SourceType::ts()],
        "tsx" => &[SourceType::tsx()],
        "cjs" => &[SourceType::cjs()],
        "mjs" => &[SourceType::mjs()],
        _ => &[SourceType::jsx(), SourceType::cjs()],
    };
    for st in tries {
        let out = oxc_parser::Parser::new(arena, text, *st).parse();
        if !out.panicked && out.diagnostics.is_empty() {
            return Some(out.program);
        }
    }
    None
}

/// Runs `read` on the syntax tree of a JS/TS source file and the lines it
/// is cut into. `None` when the file is not JavaScript or TypeScript or does
/// not parse: the caller's line checks take it.
pub fn read_file<T>(f: &crate::context::SourceFile, read: impl FnOnce(&Program<'_>, &Lines) -> T) -> Option<T> {
    use crate::context::Language;
    if !matches!(f.language, Language::JavaScript | Language::TypeScript) {
        return None;
    }
    let arena = Allocator::default();
    let program = parse(&arena, &f.text, f.path.as_deref())?;
    Some(read(&program, &Lines::new(&f.text)))
}

/// One imported module specifier, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// The specifier: `./client`, `.`, `react`.
    pub spec: String,
    /// The 0-based line of the import.
    pub line: usize,
    /// True when it does not load at module load time: `import()`, a
    /// `require` inside a function, or a type-only import or export.
    pub deferred: bool,
}

/// Every `import … from`, `export … from`, `import()` and `require()` with
/// a literal specifier, in order.
pub fn imports(program: &Program<'_>, lines: &Lines) -> Vec<Import> {
    struct V<'l> {
        lines: &'l Lines,
        depth: usize,
        out: Vec<Import>,
    }
    impl V<'_> {
        fn push(&mut self, spec: &str, at: &impl GetSpan, deferred: bool) {
            self.out.push(Import { spec: spec.to_string(), line: self.lines.of(at), deferred });
        }
    }
    impl<'a> Visit<'a> for V<'_> {
        fn visit_import_declaration(&mut self, it: &ast::ImportDeclaration<'a>) {
            self.push(it.source.value.as_str(), it, it.import_kind.is_type());
        }
        fn visit_export_all_declaration(&mut self, it: &ast::ExportAllDeclaration<'a>) {
            self.push(it.source.value.as_str(), it, it.export_kind.is_type());
        }
        fn visit_export_from_declaration(&mut self, it: &ast::ExportFromDeclaration<'a>) {
            self.push(it.source.value.as_str(), it, it.export_kind.is_type());
        }
        fn visit_import_expression(&mut self, it: &ast::ImportExpression<'a>) {
            if let Some(spec) = literal(&it.source) {
                self.push(&spec, it, true);
            }
            visit::walk::walk_import_expression(self, it);
        }
        fn visit_call_expression(&mut self, it: &ast::CallExpression<'a>) {
            if matches!(&it.callee, Expression::Identifier(id) if id.name.as_str() == "require")
                && let Some(spec) = it.arguments.first().and_then(Argument::as_expression).and_then(literal)
            {
                let deferred = self.depth > 0;
                self.push(&spec, it, deferred);
            }
            visit::walk::walk_call_expression(self, it);
        }
        fn visit_function(&mut self, it: &ast::Function<'a>, flags: oxc_syntax::scope::ScopeFlags) {
            self.depth += 1;
            visit::walk::walk_function(self, it, flags);
            self.depth -= 1;
        }
        fn visit_arrow_function_expression(&mut self, it: &ast::ArrowFunctionExpression<'a>) {
            self.depth += 1;
            visit::walk::walk_arrow_function_expression(self, it);
            self.depth -= 1;
        }
    }
    let mut v = V { lines, depth: 0, out: Vec::new() };
    v.visit_program(program);
    v.out
}

/// The text of a string literal, or of a template literal without `${}`.
pub fn literal(e: &Expression<'_>) -> Option<String> {
    match e {
        Expression::StringLiteral(s) => Some(s.value.as_str().to_string()),
        Expression::TemplateLiteral(t) if t.expressions.is_empty() => {
            Some(t.quasis.iter().map(|q| q.value.raw.as_str()).collect())
        }
        _ => None,
    }
}

/// The dotted name an expression spells: `axios.get` for `axios.get`,
/// `this.http.get` for `this.http.get`; `None` for anything else.
pub fn dotted(e: &Expression<'_>) -> Option<String> {
    match e {
        Expression::Identifier(id) => Some(id.name.as_str().to_string()),
        Expression::ThisExpression(_) => Some("this".to_string()),
        Expression::StaticMemberExpression(m) => Some(format!("{}.{}", dotted(&m.object)?, m.property.name.as_str())),
        _ => None,
    }
}

/// The names of an object literal's plain properties (`{ timeout: 5, signal }`),
/// and whether it spreads another object into itself (`{ ...opts }`).
pub fn object_keys(e: &Expression<'_>) -> Option<(Vec<String>, bool)> {
    let Expression::ObjectExpression(o) = e else { return None };
    let mut keys = Vec::new();
    let mut spread = false;
    for p in &o.properties {
        match p {
            ast::ObjectPropertyKind::ObjectProperty(p) => {
                if let Some(k) = p.key.static_name() {
                    keys.push(k.to_string());
                }
            }
            ast::ObjectPropertyKind::SpreadProperty(_) => spread = true,
        }
    }
    Some((keys, spread))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn imported(path: &str, text: &str) -> Vec<(String, usize, bool)> {
        let arena = Allocator::default();
        let program = parse(&arena, text, Some(path)).expect("parses");
        imports(&program, &Lines::new(text)).into_iter().map(|i| (i.spec, i.line, i.deferred)).collect()
    }

    #[test]
    fn imports_as_the_language_reads_them() {
        let text = "import {\n  a,\n  b,\n} from './ab';\nimport type { T } from './types';\nexport * from '.';\nexport { c } from '../c';\nconst s = \"import x from './not-this'\";\n// import y from './nor-this';\nconst lazy = () => import('./lazy');\nfunction f() { return require('./inner'); }\nconst top = require(`./top`);\n";
        assert_eq!(
            imported("src/a.ts", text),
            [
                ("./ab".to_string(), 0, false),
                ("./types".into(), 4, true),
                (".".into(), 5, false),
                ("../c".into(), 6, false),
                ("./lazy".into(), 9, true),
                ("./inner".into(), 10, true),
                ("./top".into(), 11, false),
            ]
        );
    }

    #[test]
    fn scripts_jsx_and_broken_files() {
        // A CommonJS script with a `with` statement is not a module; JSX in a .js file.
        assert!(imported("a.js", "var m = require('./m');\nwith (m) { x(); }\n").len() == 1);
        assert!(imported("a.js", "const C = () => <div>{x}</div>;\nexport default C;\n").is_empty());
        let arena = Allocator::default();
        assert!(parse(&arena, "import { from './x';\n", Some("a.ts")).is_none());
        assert!(parse(&arena, &"(".repeat(10_000), Some("a.js")).is_none());
    }

    #[test]
    fn names_and_objects() {
        let arena = Allocator::default();
        let text = "axios.get(u, { timeout: 5, ...o });";
        let p = parse(&arena, text, Some("a.js")).expect("parses");
        let ast::Statement::ExpressionStatement(s) = &p.body[0] else { panic!("a statement") };
        let Expression::CallExpression(c) = &s.expression else { panic!("a call") };
        assert_eq!(dotted(&c.callee).as_deref(), Some("axios.get"));
        let opts = c.arguments[1].as_expression().expect("an expression");
        assert_eq!(object_keys(opts), Some((vec!["timeout".to_string()], true)));
        assert_eq!(Lines::new("a\nb\nc").index(3), 1);
    }
}
