//! JavaScript and TypeScript read with a parser: `fetch`, axios and needle
//! calls without a timeout, judged on the call's options object — a
//! `timeout`/`signal` key, not the word somewhere in the URL — with the
//! modules' local names followed (`const http = require('axios')`). Options
//! passed as a variable or spread from one are trusted to carry a timeout.
//! A file that does not parse is left to the line checks.

use std::collections::BTreeSet;

use agent_os_persona_sdk::brief::Severity;
use agent_os_persona_sdk::context::SourceFile;
use agent_os_persona_sdk::javascript::{self, Lines, ast, visit};
use ast::{Argument, Expression};
use visit::Visit;

use crate::python::Hit;

/// The missing timeouts of a JS/TS file, or `None` when it is not JS/TS or does not parse.
pub fn timeouts(f: &SourceFile) -> Option<Vec<Hit>> {
    javascript::read_file(f, |program, lines| {
        let mut v = V {
            lines,
            axios: BTreeSet::from(["axios".to_string()]),
            needle: BTreeSet::from(["needle".to_string()]),
            axios_default: f.text.contains("defaults.timeout"),
            out: Vec::new(),
        };
        // Local names first: `const http = require('axios')` may come after a use in a function.
        v.names(program);
        v.visit_program(program);
        v.out
    })
}

const VERBS: &[&str] = &["get", "post", "put", "patch", "delete", "head", "options", "request"];

struct V<'l> {
    lines: &'l Lines,
    /// Local names of the axios module.
    axios: BTreeSet<String>,
    /// Local names of the needle module.
    needle: BTreeSet<String>,
    /// `axios.defaults.timeout = …` somewhere in the file.
    axios_default: bool,
    out: Vec<Hit>,
}

/// What an options argument says about a timeout.
enum Options {
    /// No such argument, or a function in its place (a callback).
    Missing,
    /// An object literal without any of the keys.
    Without,
    /// The key, a spread, or a value the parser cannot see into.
    Unknown,
}

fn options(args: &[Argument<'_>], at: usize, keys: &[&str]) -> Options {
    let Some(arg) = args.get(at) else { return Options::Missing };
    let Some(e) = arg.as_expression() else { return Options::Unknown };
    match e {
        Expression::ArrowFunctionExpression(_) | Expression::FunctionExpression(_) => Options::Missing,
        _ => match javascript::object_keys(e) {
            Some((found, spread)) if !spread && !found.iter().any(|k| keys.contains(&k.as_str())) => Options::Without,
            _ => Options::Unknown,
        },
    }
}

/// The module a declaration's initial value loads: `require('axios')`, `require('axios').default`.
fn required(e: &Expression<'_>) -> Option<String> {
    match e {
        Expression::CallExpression(c) if matches!(&c.callee, Expression::Identifier(id) if id.name.as_str() == "require") => {
            c.arguments.first().and_then(Argument::as_expression).and_then(javascript::literal)
        }
        Expression::StaticMemberExpression(m) => required(&m.object),
        _ => None,
    }
}

impl V<'_> {
    fn names(&mut self, program: &ast::Program<'_>) {
        struct N<'v> {
            axios: &'v mut BTreeSet<String>,
            needle: &'v mut BTreeSet<String>,
        }
        impl<'a> Visit<'a> for N<'_> {
            fn visit_import_declaration(&mut self, it: &ast::ImportDeclaration<'a>) {
                let set = match it.source.value.as_str() {
                    "axios" => &mut *self.axios,
                    "needle" => &mut *self.needle,
                    _ => return,
                };
                for s in it.specifiers.iter().flatten() {
                    if let ast::ImportDeclarationSpecifier::ImportDefaultSpecifier(d) = s {
                        set.insert(d.local.name.as_str().to_string());
                    } else if let ast::ImportDeclarationSpecifier::ImportNamespaceSpecifier(n) = s {
                        set.insert(n.local.name.as_str().to_string());
                    }
                }
            }
            fn visit_variable_declarator(&mut self, it: &ast::VariableDeclarator<'a>) {
                if let (Some(name), Some(init)) = (it.id.get_identifier_name(), &it.init) {
                    match required(init).as_deref() {
                        Some("axios") => {
                            self.axios.insert(name.as_str().to_string());
                        }
                        Some("needle") => {
                            self.needle.insert(name.as_str().to_string());
                        }
                        _ => {}
                    }
                }
                visit::walk::walk_variable_declarator(self, it);
            }
        }
        N { axios: &mut self.axios, needle: &mut self.needle }.visit_program(program);
    }

    fn hit(&mut self, c: &ast::CallExpression<'_>, title: &'static str, detail: String) {
        self.out.push((self.lines.of(c), Severity::Medium, title, detail));
    }

    fn call(&mut self, c: &ast::CallExpression<'_>) {
        let Some(name) = javascript::dotted(&c.callee) else { return };
        if matches!(name.as_str(), "fetch" | "window.fetch" | "globalThis.fetch" | "self.fetch") {
            if matches!(options(&c.arguments, 1, &["signal", "timeout"]), Options::Missing | Options::Without) {
                self.hit(
                    c,
                    "HTTP request without a timeout",
                    "`fetch` without a `signal` never times out; pass `signal: AbortSignal.timeout(ms)`".into(),
                );
            }
            return;
        }
        let (object, method) = name.rsplit_once('.').unwrap_or(("", name.as_str()));
        if self.axios.contains(object) {
            if method == "create" {
                if matches!(options(&c.arguments, 0, &["timeout"]), Options::Missing | Options::Without) {
                    self.hit(
                        c,
                        "HTTP client without a timeout",
                        "`axios.create` without `timeout` waits forever".into(),
                    );
                }
                return;
            }
            let at = match method {
                "request" => 0,
                "post" | "put" | "patch" => 2,
                m if VERBS.contains(&m) => 1,
                _ => return,
            };
            if !self.axios_default
                && matches!(options(&c.arguments, at, &["timeout", "signal"]), Options::Missing | Options::Without)
            {
                self.hit(
                    c,
                    "HTTP request without a timeout",
                    format!(
                        "`axios.{method}` without `timeout` (axios defaults to none) waits forever; pass \
                         `{{ timeout: ms }}` or set `axios.defaults.timeout`"
                    ),
                );
            }
            return;
        }
        if self.needle.contains(object) && VERBS.contains(&method) {
            let at = match method {
                "post" | "put" | "patch" => 2,
                "request" => 3,
                _ => 1,
            };
            if matches!(
                options(&c.arguments, at, &["response_timeout", "read_timeout"]),
                Options::Missing | Options::Without
            ) {
                self.hit(
                    c,
                    "HTTP request without a timeout",
                    format!(
                        "`needle.{method}` without `response_timeout` waits forever for a stalled response (its \
                         default bounds only the connection); pass `{{ open_timeout, response_timeout }}`"
                    ),
                );
            }
        }
    }
}

impl<'a> Visit<'a> for V<'_> {
    fn visit_call_expression(&mut self, it: &ast::CallExpression<'a>) {
        self.call(it);
        visit::walk::walk_call_expression(self, it);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use agent_os_persona_sdk::testing::file;

    fn hits(path: &str, text: &str) -> Vec<(usize, &'static str)> {
        timeouts(&file(path, text)).expect("parses").into_iter().map(|(l, _, t, _)| (l + 1, t)).collect()
    }

    #[test]
    fn calls_without_a_timeout_are_found() {
        let text = "const http = require('axios');\nconst needle = require('needle');\nfetch(url);\nfetch(url, { method: 'POST' });\nhttp.get(url);\nhttp.post(url, body, {\n  headers: h,\n});\nconst api = http.create({ baseURL: b });\nneedle.get(url, (err, res) => {\n  done(res);\n});\n";
        assert_eq!(
            hits("a.js", text),
            [
                (3, "HTTP request without a timeout"),
                (4, "HTTP request without a timeout"),
                (5, "HTTP request without a timeout"),
                (6, "HTTP request without a timeout"),
                (9, "HTTP client without a timeout"),
                (10, "HTTP request without a timeout"),
            ]
        );
    }

    #[test]
    fn timeouts_and_options_passed_on_stay_quiet() {
        let text = "import axios from 'axios';\nfetch(url, { signal: AbortSignal.timeout(5000) });\nfetch(url, init);\naxios.get(url, { timeout: 5000 });\naxios.post(url, body, config);\naxios.get(url, { ...defaults });\nneedle.get(url, { response_timeout: 5000 }, cb);\nconst s = \"fetch(url)\";\nfunction fetch(u) { return u; }\nthis.fetch(url);\n";
        assert_eq!(hits("a.ts", text), []);
    }

    #[test]
    fn the_review_case_parses_and_is_found() {
        let path = "../../bench/analyses/reviews/cases/sre-nodegoat/app/routes/research.js";
        let text = std::fs::read_to_string(path).expect("the case file");
        assert_eq!(hits("app/routes/research.js", &text), [(16, "HTTP request without a timeout")]);
    }

    #[test]
    fn what_the_line_checks_got_wrong() {
        // "timeout" and "signal" in the URL are not options.
        let text = "fetch(`${base}/timeout-report`);\nfetch(signalUrl);\n";
        assert_eq!(hits("a.js", text), [(1, "HTTP request without a timeout"), (2, "HTTP request without a timeout")]);
        assert!(crate::readiness::timeouts_by_lines(&file("a.js", text)).is_empty());
    }
}
