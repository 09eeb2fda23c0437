//! Python files read with a parser: HTTP and Redis clients created or
//! called without a timeout (requests, httpx, aiohttp, urllib, urllib3,
//! http.client, redis, aioredis), judged on the call's keyword arguments
//! with imports and aliases resolved, so `timeout=None`, a `"timeout"` key
//! in some other argument, or a call over several lines is read for what
//! it is. A file that does not parse is left to the line checks.

use std::collections::{BTreeMap, BTreeSet};

use agent_os_persona_sdk::brief::Severity;
use agent_os_persona_sdk::context::{Language, SourceFile};
use agent_os_persona_sdk::python::{self, Module, ast};
use ast::visitor::{self, Visitor};
use ast::{Expr, Stmt};

/// One missing timeout: 0-based line, severity, title and detail.
pub type Hit = (usize, Severity, &'static str, String);

/// The missing timeouts of a Python file, or `None` when it is not Python
/// or does not parse.
pub fn timeouts(f: &SourceFile) -> Option<Vec<Hit>> {
    if f.language != Language::Python {
        return None;
    }
    let m = python::parse(&f.text)?;
    let mut v = V { m: &m, aliases: BTreeMap::new(), sessions: BTreeSet::new(), out: Vec::new() };
    v.visit_body(m.body());
    Some(v.out)
}

const VERBS: &[&str] = &["get", "post", "put", "patch", "delete", "head", "options", "request"];

struct V<'m> {
    m: &'m Module,
    /// Local name → what it imports (`r` → `requests`, `get` → `requests.get`).
    aliases: BTreeMap<String, String>,
    /// Variables (or attributes) holding a `requests.Session`.
    sessions: BTreeSet<String>,
    out: Vec<Hit>,
}

/// What the call says about its timeout.
enum Timeout {
    /// No timeout argument at all.
    Missing,
    /// `timeout=None`: waits forever, on purpose or not.
    None,
    /// A timeout, or `**kwargs` that may carry one.
    Set,
}

fn timeout_of(c: &ast::ExprCall, names: &[&str]) -> Timeout {
    let mut found = Timeout::Missing;
    for k in c.arguments.keywords.iter() {
        match &k.arg {
            None => return Timeout::Set,
            Some(a) if names.iter().any(|n| a.as_str() == *n) || names.is_empty() && a.as_str().contains("timeout") => {
                found = if k.value.is_none_literal_expr() { Timeout::None } else { Timeout::Set };
            }
            Some(_) => {}
        }
    }
    found
}

impl V<'_> {
    fn resolve(&self, e: &Expr) -> Option<String> {
        let d = python::dotted(e)?;
        let (head, rest) = d.split_once('.').map_or((d.as_str(), ""), |(h, r)| (h, r));
        Some(match self.aliases.get(head) {
            Some(full) if rest.is_empty() => full.clone(),
            Some(full) => format!("{full}.{rest}"),
            None => d,
        })
    }

    fn hit(&mut self, c: &ast::ExprCall, severity: Severity, title: &'static str, detail: String) {
        self.out.push((self.m.line_of(c), severity, title, detail));
    }

    fn call(&mut self, c: &ast::ExprCall) {
        let Some(name) = self.resolve(&c.func) else { return };
        let (module, verb) = name.rsplit_once('.').unwrap_or(("", name.as_str()));
        let receiver = module.trim_start_matches("self.");
        if (module == "requests" || self.sessions.contains(receiver)) && VERBS.contains(&verb) {
            let what = if module == "requests" { format!("requests.{verb}") } else { format!("{receiver}.{verb}") };
            match timeout_of(c, &["timeout"]) {
                Timeout::Missing => self.hit(
                    c,
                    Severity::Medium,
                    "HTTP request without a timeout",
                    format!(
                        "`{what}` without `timeout=` waits forever on a stuck server (requests sets no default); \
                         pass `timeout=(connect, read)`"
                    ),
                ),
                Timeout::None => self.hit(
                    c,
                    Severity::Medium,
                    "HTTP request without a timeout",
                    format!(
                        "`{what}` with `timeout=None` waits forever on a stuck server; pass `timeout=(connect, read)`"
                    ),
                ),
                Timeout::Set => {}
            }
            return;
        }
        // httpx times out after 5 s by default: only `timeout=None` turns that off.
        let httpx = module == "httpx" && (VERBS.contains(&verb) || verb == "stream")
            || matches!(name.as_str(), "httpx.Client" | "httpx.AsyncClient");
        if httpx && matches!(timeout_of(c, &["timeout"]), Timeout::None) {
            self.hit(
                c,
                Severity::Medium,
                "HTTP client without a timeout",
                format!("`{name}` with `timeout=None` turns off httpx's default 5 s timeout; keep a finite one"),
            );
            return;
        }
        match name.as_str() {
            "aiohttp.ClientTimeout" if c.arguments.args.is_empty() => {
                let total = c.arguments.keywords.iter().find(|k| k.arg.as_ref().is_some_and(|a| a.as_str() == "total"));
                let any_finite = c.arguments.keywords.iter().any(|k| !k.value.is_none_literal_expr());
                if total.is_some_and(|k| k.value.is_none_literal_expr()) && !any_finite
                    || c.arguments.keywords.is_empty()
                {
                    self.hit(
                        c,
                        Severity::Medium,
                        "HTTP client without a timeout",
                        "This `aiohttp.ClientTimeout` sets no limit, so a stalled server holds the request forever; \
                         set `total` (and `sock_connect`)"
                            .into(),
                    );
                }
            }
            "aiohttp.ClientSession" | "aiohttp.request" => match timeout_of(c, &["timeout"]) {
                Timeout::Missing => self.hit(
                    c,
                    Severity::Low,
                    "HTTP client without an explicit timeout",
                    format!(
                        "`{name}` without `timeout=` waits up to aiohttp's default of 5 minutes per request, long \
                         enough to exhaust workers when a dependency stalls; pass `aiohttp.ClientTimeout(total=..)`"
                    ),
                ),
                Timeout::None => self.hit(
                    c,
                    Severity::Medium,
                    "HTTP client without a timeout",
                    format!("`{name}` with `timeout=None` waits forever; pass `aiohttp.ClientTimeout(total=..)`"),
                ),
                Timeout::Set => {}
            },
            "urllib.request.urlopen" | "urllib2.urlopen" => {
                if !matches!(timeout_of(c, &["timeout"]), Timeout::Set) && c.arguments.args.len() < 3 {
                    self.hit(
                        c,
                        Severity::Medium,
                        "HTTP request without a timeout",
                        "`urlopen` without `timeout=` can block forever".into(),
                    );
                }
            }
            "urllib3.PoolManager" | "http.client.HTTPConnection" | "http.client.HTTPSConnection" => {
                if !matches!(timeout_of(c, &["timeout"]), Timeout::Set) {
                    let ctor = name.rsplit('.').next().unwrap_or(&name);
                    let ctor = if ctor == "PoolManager" { "urllib3.PoolManager" } else { ctor };
                    self.hit(
                        c,
                        Severity::Medium,
                        "HTTP client without a timeout",
                        format!("`{ctor}` without `timeout=` waits forever on a stuck server; pass a timeout"),
                    );
                }
            }
            "aioredis.create_pool"
            | "aioredis.create_redis_pool"
            | "aioredis.create_redis"
            | "aioredis.from_url"
            | "redis.Redis"
            | "redis.StrictRedis"
            | "redis.from_url"
            | "redis.asyncio.Redis"
            | "redis.asyncio.from_url" => {
                if !matches!(timeout_of(c, &[]), Timeout::Set) {
                    self.hit(
                        c,
                        Severity::Medium,
                        "Redis connection without a timeout",
                        format!(
                            "`{name}` sets no connect or socket timeout, so a stalled Redis hangs every request that \
                             touches it; pass one (`timeout=`, `socket_timeout=`, `socket_connect_timeout=`)"
                        ),
                    );
                }
            }
            _ => {}
        }
    }

    /// Remembers `x = requests.Session()` (also `self.x = ...`).
    fn session(&mut self, target: &Expr, value: &Expr) {
        if let Expr::Call(c) = value
            && self.resolve(&c.func).is_some_and(|n| n == "requests.Session" || n == "requests.session")
            && let Some(t) = python::dotted(target)
        {
            self.sessions.insert(t.trim_start_matches("self.").to_string());
        }
    }
}

impl<'a> Visitor<'a> for V<'_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::Import(s) => {
                for a in &s.names {
                    let full = a.name.as_str().to_string();
                    let local = match &a.asname {
                        Some(n) => n.as_str().to_string(),
                        None => full.split('.').next().unwrap_or("").to_string(),
                    };
                    if a.asname.is_some() {
                        self.aliases.insert(local, full);
                    }
                }
            }
            Stmt::ImportFrom(s) if s.level == 0 => {
                let module = s.module.as_ref().map(|m| m.as_str()).unwrap_or("");
                for a in &s.names {
                    let local = a.asname.as_ref().unwrap_or(&a.name).as_str().to_string();
                    self.aliases.insert(local, format!("{module}.{}", a.name.as_str()));
                }
            }
            Stmt::Assign(s) => {
                for t in &s.targets {
                    self.session(t, &s.value);
                }
            }
            Stmt::With(w) => {
                for item in &w.items {
                    if let Some(t) = &item.optional_vars {
                        self.session(t, &item.context_expr);
                    }
                }
            }
            _ => {}
        }
        visitor::walk_stmt(self, stmt);
    }

    fn visit_expr(&mut self, e: &'a Expr) {
        if let Expr::Call(c) = e {
            self.call(c);
        }
        visitor::walk_expr(self, e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use agent_os_persona_sdk::testing::file;

    fn hits(text: &str) -> Vec<(usize, &'static str)> {
        timeouts(&file("a.py", text)).expect("parses").into_iter().map(|(l, _, t, _)| (l + 1, t)).collect()
    }

    #[test]
    fn calls_without_a_timeout_are_found() {
        let text = "import requests\nimport requests as rq\nfrom requests import post\nimport httpx, aiohttp, aioredis\n\nrequests.get(url)\nrq.get(url, timeout=None)\npost(\n    url,\n    json=body,\n)\nhttpx.get(url, timeout=None)\ns = requests.Session()\ns.get(url)\nasync def f(conf):\n    async with aiohttp.ClientSession() as c:\n        pass\n    pool = await aioredis.create_pool((conf['host'], conf['port']),\n                                      db=conf['db'])\n";
        assert_eq!(
            hits(text),
            [
                (6, "HTTP request without a timeout"),
                (7, "HTTP request without a timeout"),
                (8, "HTTP request without a timeout"),
                (12, "HTTP client without a timeout"),
                (14, "HTTP request without a timeout"),
                (16, "HTTP client without an explicit timeout"),
                (18, "Redis connection without a timeout"),
            ]
        );
    }

    #[test]
    fn timeouts_set_or_passed_on_stay_quiet() {
        let text = "import requests, httpx, aiohttp, redis\nrequests.get(url, timeout=5)\nrequests.post(url, **opts)\nhttpx.get(url)\nwith httpx.Client() as c:\n    c.get(url)\nasync def f():\n    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as s:\n        pass\nr = redis.Redis(host=h, socket_timeout=2)\nHELP = \"requests.get(url) without timeout hangs\"\n";
        assert_eq!(hits(text), []);
    }

    #[test]
    fn what_the_line_checks_got_wrong() {
        // "timeout" appears in the call, but as a query parameter, not a keyword.
        let text = "import requests\nrequests.get(url, params={\"timeout\": 5})\n";
        assert_eq!(hits(text), [(2, "HTTP request without a timeout")]);
        let f = file("a.py", text);
        assert!(crate::readiness::timeouts_by_lines(&f).is_empty());
    }
}
