//! Rust files read with a parser (`syn`): the panic paths, slices,
//! subtractions and unchecked reads the robustness checks judge, found as
//! expressions rather than text, so strings, comments, macro patterns and
//! expressions split over lines are read for what they are. A file syn
//! cannot parse (a diff hunk, an excerpt) is left to the line checks.

use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{BinOp, Expr, ExprBinary, ExprCall, ExprIndex, ExprMethodCall, Local, Macro, Pat};

/// What an expression is, for the robustness rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Site {
    Unwrap,
    Expect,
    Panic,
    Unreachable,
    Unfinished,
    /// An index or range slice, with the receiver's name when it is a plain
    /// name and whether the index is a range.
    Index {
        receiver: Option<String>,
        range: bool,
        bounds: Vec<String>,
    },
    /// `name - x` (through casts and parentheses) where `name` was bound to a
    /// number decoded from the input.
    Underflow {
        name: String,
    },
    /// `get_unchecked`, `from_raw_parts`.
    Unchecked,
    /// `let _ = call(..)`.
    LetUnderscore,
}

/// The sites of a Rust file outside test code, with their 1-based lines, or
/// `None` when the file does not parse.
pub fn sites(text: &str) -> Option<Vec<(Site, usize)>> {
    let file = syn::parse_file(text).ok()?;
    let mut v = Visitor { out: Vec::new(), numbers: Vec::new() };
    v.visit_file(&file);
    Some(v.out)
}

struct Visitor {
    out: Vec<(Site, usize)>,
    /// Names bound to numbers decoded from the input, in the current function.
    numbers: Vec<String>,
}

fn line(s: &impl Spanned) -> usize {
    s.span().start().line
}

fn is_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        let p = a.path();
        p.is_ident("test")
            || p.segments.last().is_some_and(|s| s.ident == "test")
            || (p.is_ident("cfg") && a.meta.require_list().is_ok_and(|l| l.tokens.to_string().contains("test")))
    })
}

/// The single name an expression is, through casts, parentheses and references.
fn name_of(e: &Expr) -> Option<String> {
    match e {
        Expr::Path(p) if p.qself.is_none() && p.path.segments.len() == 1 => Some(p.path.segments[0].ident.to_string()),
        Expr::Cast(c) => name_of(&c.expr),
        Expr::Paren(p) => name_of(&p.expr),
        Expr::Reference(r) => name_of(&r.expr),
        Expr::Field(f) => match &f.member {
            syn::Member::Named(n) => Some(n.to_string()),
            syn::Member::Unnamed(_) => None,
        },
        _ => None,
    }
}

/// Whether `e` decodes a number from bytes or text.
fn decodes(e: &Expr) -> bool {
    let text = quote_text(e);
    ["from_be_bytes", "from_le_bytes", "from_ne_bytes", ". parse", "read_u16", "read_u32", "read_u64"]
        .iter()
        .any(|k| text.contains(k))
}

fn quote_text(e: &Expr) -> String {
    use quote::ToTokens;
    e.to_token_stream().to_string()
}

impl<'ast> Visit<'ast> for Visitor {
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        if is_test(&f.attrs) {
            return;
        }
        let outer = std::mem::take(&mut self.numbers);
        visit::visit_item_fn(self, f);
        self.numbers = outer;
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        if is_test(&f.attrs) {
            return;
        }
        let outer = std::mem::take(&mut self.numbers);
        visit::visit_impl_item_fn(self, f);
        self.numbers = outer;
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if !is_test(&m.attrs) {
            visit::visit_item_mod(self, m);
        }
    }

    fn visit_local(&mut self, l: &'ast Local) {
        if let Some(init) = &l.init {
            let name = match &l.pat {
                Pat::Ident(i) => Some(i.ident.to_string()),
                Pat::Type(t) => match &*t.pat {
                    Pat::Ident(i) => Some(i.ident.to_string()),
                    _ => None,
                },
                _ => None,
            };
            if let Some(n) = &name
                && decodes(&init.expr)
            {
                self.numbers.push(n.clone());
            }
            let wild = matches!(&l.pat, Pat::Wild(_));
            let call = matches!(&*init.expr, Expr::Call(_) | Expr::MethodCall(_) | Expr::Await(_) | Expr::Try(_));
            if wild && call {
                self.out.push((Site::LetUnderscore, line(&l.let_token)));
            }
        }
        visit::visit_local(self, l);
    }

    fn visit_expr_method_call(&mut self, m: &'ast ExprMethodCall) {
        let at = line(&m.method);
        match m.method.to_string().as_str() {
            "unwrap" if m.args.is_empty() => self.out.push((Site::Unwrap, at)),
            "expect" if m.args.len() == 1 => self.out.push((Site::Expect, at)),
            "get_unchecked" | "get_unchecked_mut" => self.out.push((Site::Unchecked, at)),
            // `split_at` panics past the end like a range slice.
            "split_at" | "split_at_mut" => {
                self.out.push((Site::Index { receiver: name_of(&m.receiver), range: true, bounds: Vec::new() }, at))
            }
            _ => {}
        }
        visit::visit_expr_method_call(self, m);
    }

    fn visit_expr_call(&mut self, c: &'ast ExprCall) {
        if let Expr::Path(p) = &*c.func
            && p.path.segments.last().is_some_and(|s| s.ident == "from_raw_parts" || s.ident == "from_raw_parts_mut")
        {
            self.out.push((Site::Unchecked, line(&c.func)));
        }
        visit::visit_expr_call(self, c);
    }

    fn visit_macro(&mut self, m: &'ast Macro) {
        let site = match m.path.segments.last().map(|s| s.ident.to_string()).as_deref() {
            Some("panic") => Some(Site::Panic),
            Some("unreachable") => Some(Site::Unreachable),
            Some("todo" | "unimplemented") => Some(Site::Unfinished),
            _ => None,
        };
        if let Some(s) = site {
            self.out.push((s, line(&m.path)));
        }
        visit::visit_macro(self, m);
    }

    fn visit_expr_index(&mut self, e: &'ast ExprIndex) {
        let (range, bounds) = match &*e.index {
            Expr::Range(r) => {
                let b: Vec<String> = [&r.start, &r.end]
                    .into_iter()
                    .flatten()
                    .filter_map(|x| match &**x {
                        Expr::Lit(_) => None,
                        other => Some(name_of(other).unwrap_or_else(|| quote_text(other))),
                    })
                    .collect();
                (true, b)
            }
            _ => (false, Vec::new()),
        };
        // `x[..]` and `x[0..]` cannot panic.
        let whole = matches!(&*e.index, Expr::Range(r) if r.end.is_none() && r.start.as_deref().is_none_or(|s| quote_text(s) == "0"));
        if !whole {
            self.out
                .push((Site::Index { receiver: name_of(&e.expr), range, bounds }, line(&e.bracket_token.span.open())));
        }
        visit::visit_expr_index(self, e);
    }

    fn visit_expr_binary(&mut self, b: &'ast ExprBinary) {
        if matches!(b.op, BinOp::Sub(_))
            && let Some(n) = name_of(&b.left)
            && self.numbers.contains(&n)
        {
            self.out.push((Site::Underflow { name: n }, line(&b.op)));
        }
        visit::visit_expr_binary(self, b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sites_are_expressions_with_their_lines_and_tests_are_left_out() {
        let text = "fn f(buf: &[u8], s: &str) -> u8 {\n    let n = u16::from_be_bytes([buf[0], buf[1]]);\n    let m = n as usize\n        - 4;\n    let msg = \"x.unwrap() panic!()\"; // .unwrap()\n    let v = s\n        .parse::<u8>()\n        .unwrap();\n    let _ = std::fs::remove_file(\"x\");\n    &s[..m];\n    todo!()\n}\n\n#[cfg(test)]\nmod tests {\n    fn t() { None::<u8>.unwrap(); }\n}\n";
        let got = sites(text).expect("parses");
        let kinds: Vec<(String, usize)> = got
            .iter()
            .map(|(s, l)| {
                let k = match s {
                    Site::Index { range: true, .. } => "slice".to_string(),
                    Site::Index { .. } => "index".to_string(),
                    other => format!("{other:?}"),
                };
                (k, *l)
            })
            .collect();
        assert_eq!(
            kinds,
            [
                ("index".to_string(), 2),
                ("index".to_string(), 2),
                ("Underflow { name: \"n\" }".to_string(), 4),
                ("Unwrap".to_string(), 8),
                ("LetUnderscore".to_string(), 9),
                ("slice".to_string(), 10),
                ("Unfinished".to_string(), 11),
            ]
        );
    }

    #[test]
    fn what_does_not_parse_is_left_to_the_line_checks() {
        assert!(sites("fn f( {").is_none());
        for f in agent_os_persona_sdk::testing::awkward_files() {
            let _ = sites(&f.text);
        }
    }
}
