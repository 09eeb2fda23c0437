//! Production-readiness checks: HTTP calls without a timeout, servers
//! without a health check endpoint, and print-style logging.

use agent_os_persona_sdk::brief::{Finding, Severity};
use agent_os_persona_sdk::context::{Language, Line, SourceFile};

/// Every finding of the SRE persona's own analysis.
pub fn analyse(files: &[SourceFile]) -> Vec<Finding> {
    let mut out = timeouts(files);
    out.extend(debug_mode(files));
    out.extend(health_check(files));
    out.extend(unstructured_logs(files));
    out
}

/// Lines of non-test code worth checking, with the file's lines for look-ahead.
fn code(f: &SourceFile) -> (Vec<Line<'_>>, Vec<usize>) {
    let lines = f.lines();
    let idx = (0..lines.len()).filter(|&i| !lines[i].in_test && !lines[i].comment).collect();
    (lines, idx)
}

fn in_file(title: &str, f: &SourceFile) -> String {
    match &f.path {
        Some(p) => format!("{title} in `{p}`"),
        None => title.to_string(),
    }
}

/// The text of `lines` from column `col` of line `i` on, up to the
/// delimiter that closes the first `open` (at most 30 lines).
fn balanced(lines: &[Line<'_>], i: usize, col: usize, open: char, close: char) -> String {
    // A bounded window: a minified line with thousands of calls must not
    // copy the rest of the line for each of them.
    const WINDOW: usize = 4096;
    let rest = &lines[i].text[col..];
    let mut end = rest.len().min(WINDOW);
    while !rest.is_char_boundary(end) {
        end -= 1;
    }
    let mut text = rest[..end].to_string();
    for l in lines.iter().skip(i + 1).take(30) {
        if text.len() >= WINDOW {
            break;
        }
        text.push('\n');
        text.push_str(l.text);
    }
    let mut depth = 0usize;
    let mut started = false;
    for (k, c) in text.char_indices() {
        if c == open {
            depth += 1;
            started = true;
        } else if c == close && started {
            depth = depth.saturating_sub(1);
            if depth == 0 {
                return text[..=k].to_string();
            }
        }
    }
    text
}

/// The statement starting at column `col` of line `i`, up to its `;` (at most 30 lines).
fn statement(lines: &[Line<'_>], i: usize, col: usize) -> String {
    let mut text = String::new();
    for (n, l) in lines.iter().skip(i).take(30).enumerate() {
        let part = if n == 0 { &l.text[col..] } else { l.text };
        if let Some(end) = part.find(';') {
            text.push_str(&part[..end]);
            return text;
        }
        text.push_str(part);
        text.push('\n');
    }
    text
}

/// Byte offsets of `needle` in `hay` that are not preceded by an identifier character or `.`.
fn calls(hay: &str, needle: &str) -> Vec<usize> {
    hay.match_indices(needle)
        .map(|(i, _)| i)
        .filter(|&i| hay[..i].chars().next_back().is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '.')))
        .collect()
}

/// HTTP clients and requests with no timeout.
pub fn timeouts(files: &[SourceFile]) -> Vec<Finding> {
    let mut out = Vec::new();
    for f in files {
        // Python and JS/TS that parse are judged on their syntax tree
        // (crate::python, crate::javascript); the line checks still read
        // them for the other languages' calls.
        let py = crate::python::timeouts(f);
        let js = if py.is_none() { crate::javascript::timeouts(f) } else { None };
        for (index, severity, title, detail) in py.iter().chain(js.iter()).flatten() {
            out.push(Finding::new(*severity, in_file(title, f), detail.clone()).at_line(f.line_number(*index)));
        }
        timeouts_in(f, py.is_none(), js.is_none(), &mut out);
    }
    out
}

/// The line checks alone for one file, Python included.
#[cfg(test)]
pub fn timeouts_by_lines(f: &SourceFile) -> Vec<Finding> {
    let mut out = Vec::new();
    timeouts_in(f, true, true, &mut out);
    out
}

/// The line checks for one file; `python` and `js` say whether to read
/// Python and JS/TS calls line by line.
fn timeouts_in(f: &SourceFile, python: bool, js: bool, out: &mut Vec<Finding>) {
    {
        let (lines, idx) = code(f);
        let lang = f.language;
        let any = lang == Language::Unknown;
        let uses_reqwest = f.text.contains("reqwest");
        let sets_timeout = f.text.contains(".timeout(");
        // Python variables holding a `requests.Session()`.
        let sessions: Vec<String> = lines
            .iter()
            .filter_map(|l| {
                let (lhs, rhs) = l.text.split_once('=')?;
                let rhs = rhs.trim_start();
                (rhs.starts_with("requests.Session()") || rhs.starts_with("requests.session()"))
                    .then(|| lhs.trim().trim_start_matches("self.").to_string())
                    .filter(|v| !v.is_empty() && v.chars().all(|c| c.is_alphanumeric() || c == '_'))
            })
            .collect();
        // Go: a timeout set on the client after it is built, or a context deadline on each request.
        let go_timeout_later = f.text.contains(".Timeout =");
        let go_context_deadline = f.text.contains("context.WithTimeout") || f.text.contains("context.WithDeadline");
        // JS: a default timeout for every axios call.
        let axios_default = f.text.contains("axios.defaults.timeout");
        for &i in &idx {
            let t = lines[i].text;
            let n = lines[i].number;
            let mut hit = |title: &str, detail: String| {
                out.push(Finding::new(Severity::Medium, in_file(title, f), detail).at_line(n));
            };
            if (lang == Language::Rust || any) && uses_reqwest {
                if t.contains("reqwest::blocking::") {
                    // The blocking client and `blocking::get` time out after 30 s by default.
                } else if t.contains("reqwest::get(") {
                    hit(
                        "HTTP request without a timeout",
                        "`reqwest::get` uses a client with no timeout, so a slow server hangs the caller; build a \
                         `Client` with `.timeout(..)` and reuse it"
                            .into(),
                    );
                } else if t.contains("Client::new()") && !sets_timeout {
                    hit(
                        "HTTP client without a timeout",
                        "`reqwest::Client::new()` has no request timeout; use `Client::builder().timeout(..)` \
                         (and a `connect_timeout`) so a slow dependency cannot hang the service"
                            .into(),
                    );
                } else if let Some(col) = t.find("Client::builder()").or_else(|| t.find("ClientBuilder::new()")) {
                    let stmt = statement(&lines, i, col);
                    if !stmt.contains(".timeout(") && !stmt.contains(".read_timeout(") {
                        hit(
                            "HTTP client without a timeout",
                            "This reqwest client builder sets no `.timeout(..)`; a slow dependency can hang the \
                             service"
                                .into(),
                        );
                    }
                }
            }
            if (lang == Language::Rust || any) && !uses_reqwest {
                for verb in ["ureq::get(", "ureq::post(", "ureq::put(", "ureq::delete(", "ureq::request("] {
                    if let Some(col) = t.find(verb)
                        && !statement(&lines, i, col).contains("timeout")
                        && !f.text.contains(".timeout(")
                        && !f.text.contains("timeout_global")
                    {
                        hit(
                            "HTTP request without a timeout",
                            format!(
                                "`{}` uses ureq's default agent, which has no timeout; build an `Agent` with a timeout \
                                 and reuse it",
                                verb.trim_end_matches('(')
                            ),
                        );
                    }
                }
            }
            if (lang == Language::Python && python) || any {
                // `s = requests.Session()` then `s.get(url)`: a session has no default timeout either.
                for var in &sessions {
                    for verb in ["get", "post", "put", "patch", "delete", "head", "request"] {
                        for col in calls(t, &format!("{var}.{verb}(")) {
                            if !balanced(&lines, i, col, '(', ')').contains("timeout") {
                                hit(
                                    "HTTP request without a timeout",
                                    format!(
                                        "`{var}.{verb}` on a `requests.Session` without `timeout=` waits forever on a \
                                         stuck server; pass `timeout=(connect, read)`"
                                    ),
                                );
                            }
                        }
                    }
                }
                for verb in ["get", "post", "put", "patch", "delete", "head", "request"] {
                    for col in calls(t, &format!("requests.{verb}(")) {
                        if !balanced(&lines, i, col, '(', ')').contains("timeout") {
                            hit(
                                "HTTP request without a timeout",
                                format!(
                                    "`requests.{verb}` without `timeout=` waits forever on a stuck server; pass `timeout=(connect, read)`"
                                ),
                            );
                        }
                    }
                }
                for ctor in ["urllib3.PoolManager(", "HTTPConnection(", "HTTPSConnection("] {
                    // `http.client.HTTPConnection(` as well as a bare `HTTPConnection(`.
                    let at = t
                        .match_indices(ctor)
                        .map(|(k, _)| k)
                        .filter(|&k| t[..k].chars().next_back().is_none_or(|c| !(c.is_alphanumeric() || c == '_')));
                    for col in at {
                        if !balanced(&lines, i, col, '(', ')').contains("timeout") {
                            hit(
                                "HTTP client without a timeout",
                                format!(
                                    "`{}` without `timeout=` waits forever on a stuck server; pass a timeout",
                                    ctor.trim_end_matches('(')
                                ),
                            );
                        }
                    }
                }
                // Redis clients: no socket or connect timeout by default.
                for ctor in [
                    "aioredis.create_pool(",
                    "aioredis.create_redis_pool(",
                    "aioredis.create_redis(",
                    "aioredis.from_url(",
                    "redis.Redis(",
                    "redis.StrictRedis(",
                    "redis.from_url(",
                ] {
                    for col in calls(t, ctor) {
                        if !balanced(&lines, i, col, '(', ')').contains("timeout") {
                            hit(
                                "Redis connection without a timeout",
                                format!(
                                    "`{}` sets no connect or socket timeout, so a stalled Redis hangs every request \
                                     that touches it; pass one (`timeout=`, `socket_timeout=`, `socket_connect_timeout=`)",
                                    ctor.trim_end_matches('(')
                                ),
                            );
                        }
                    }
                }
                for col in calls(t, "urlopen(") {
                    if !balanced(&lines, i, col, '(', ')').contains("timeout") {
                        hit("HTTP request without a timeout", "`urlopen` without `timeout=` can block forever".into());
                    }
                }
            }
            if lang == Language::Go || any {
                if let Some(col) = t.find("http.Client{") {
                    if !balanced(&lines, i, col, '{', '}').contains("Timeout") && !go_timeout_later {
                        hit(
                            "HTTP client without a timeout",
                            "An `http.Client` without `Timeout` waits forever on a stuck server; set `Timeout`".into(),
                        );
                    }
                } else if ["http.Get(", "http.Post(", "http.PostForm(", "http.Head(", "http.DefaultClient"]
                    .iter()
                    .any(|c| t.contains(c))
                    && !(go_context_deadline && t.contains(".Do("))
                {
                    hit(
                        "HTTP request without a timeout",
                        "This uses `http.DefaultClient`, which has no timeout; use an `http.Client` with `Timeout`"
                            .into(),
                    );
                }
            }
            if (matches!(lang, Language::JavaScript | Language::TypeScript) && js) || any {
                for col in calls(t, "fetch(") {
                    let before = t[..col].trim_end();
                    if before.ends_with("function") || before.ends_with("async") {
                        continue;
                    }
                    let args = balanced(&lines, i, col, '(', ')');
                    if !args.contains("signal") && !args.contains("timeout") {
                        hit(
                            "HTTP request without a timeout",
                            "`fetch` without a `signal` never times out; pass `signal: AbortSignal.timeout(ms)`".into(),
                        );
                    }
                }
                for verb in ["get", "post", "put", "patch", "delete", "head", "request"] {
                    for col in calls(t, &format!("axios.{verb}(")) {
                        if !axios_default && !balanced(&lines, i, col, '(', ')').contains("timeout") {
                            hit(
                                "HTTP request without a timeout",
                                format!(
                                    "`axios.{verb}` without `timeout` (axios defaults to none) waits forever; pass \
                                     `{{ timeout: ms }}` or set `axios.defaults.timeout`"
                                ),
                            );
                        }
                    }
                }
                // needle: `open_timeout` bounds only the connection; without a
                // `response_timeout`/`read_timeout` a stalled response waits forever.
                for verb in ["get", "post", "put", "patch", "delete", "head", "request"] {
                    for col in calls(t, &format!("needle.{verb}(")) {
                        let args = balanced(&lines, i, col, '(', ')');
                        if !args.contains("response_timeout") && !args.contains("read_timeout") {
                            hit(
                                "HTTP request without a timeout",
                                format!(
                                    "`needle.{verb}` without `response_timeout` waits forever for a stalled response \
                                     (its default bounds only the connection); pass `{{ open_timeout, response_timeout }}`"
                                ),
                            );
                        }
                    }
                }
                for col in calls(t, "axios.create(") {
                    if !balanced(&lines, i, col, '(', ')').contains("timeout") {
                        hit("HTTP client without a timeout", "`axios.create` without `timeout` waits forever".into());
                    }
                }
            }
        }
    }
}

/// Methods that register a route whatever their receiver.
const ROUTE_METHODS: &[&str] = &["route", "HandleFunc", "Handle", "add_url_rule", "api_route", "resource"];
/// HTTP verbs that register a route on a router-looking receiver (or in an attribute/decorator).
const VERBS: &[&str] =
    &["get", "post", "put", "delete", "patch", "GET", "POST", "PUT", "DELETE", "PATCH", "Get", "Post"];
const ROUTERS: &[&str] = &[
    "app",
    "router",
    "r",
    "e",
    "g",
    "mux",
    "server",
    "api",
    "bp",
    "blueprint",
    "fastify",
    "engine",
    "v1",
    "v2",
    "group",
    "routes",
    "rg",
    "srv",
];
const HEALTH: &[&str] = &[
    "health",
    "healthz",
    "healthcheck",
    "health-check",
    "ready",
    "readyz",
    "readiness",
    "live",
    "livez",
    "liveness",
    "ping",
];

/// Route registrations whose path is not the first argument (aiohttp's
/// `router.add_route('GET', '/x', h)`), or that take a raw string.
const ADD_ROUTE: &[&str] = &[
    "add_route(",
    "add_get(",
    "add_post(",
    "add_put(",
    "add_patch(",
    "add_delete(",
    "add_api_route(",
    "add_url_rule(",
];

/// The route paths a line registers (`.route("/x"`, `@app.get("/x")`, `#[get("/x")]`, `mux.HandleFunc("/x"`,
/// `app.router.add_route('GET', r'/x', h)`).
fn routes_in(t: &str) -> Vec<String> {
    let mut out = Vec::new();
    for m in ADD_ROUTE {
        for col in calls_after_dot(t, m) {
            let args = &t[col + m.len()..];
            // The first string argument that is a path, raw or not.
            let mut rest = args;
            while let Some(q) = rest.find(['"', '\'']) {
                let quote = rest[q..].chars().next().unwrap_or('"');
                let body: String = rest[q + 1..].chars().take_while(|c| *c != quote).collect();
                if body.starts_with('/') {
                    out.push(body);
                    break;
                }
                let skip = q + 1 + body.len() + 1;
                if skip >= rest.len() {
                    break;
                }
                rest = &rest[skip..];
            }
        }
    }
    if !out.is_empty() {
        return out;
    }
    for (pos, _) in t.match_indices('(') {
        let arg = t[pos + 1..].trim_start();
        let Some(q) = arg.chars().next().filter(|c| matches!(c, '"' | '\'' | '`')) else { continue };
        if !arg[1..].starts_with('/') {
            continue;
        }
        let head = &t[..pos];
        let method: &str = head.rsplit(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap_or("");
        let before = &head[..head.len() - method.len()];
        let ok = if ROUTE_METHODS.contains(&method) {
            before.ends_with('.') || before.ends_with("::") || before.ends_with('[')
        } else if VERBS.contains(&method) {
            let receiver = before
                .strip_suffix('.')
                .map(|b| b.rsplit(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap_or(""));
            before.ends_with("#[")
                || receiver.is_some_and(|r| ROUTERS.contains(&r))
                || before.trim_start().starts_with('@')
        } else {
            false
        };
        if ok {
            let path: String = arg[1..].chars().take_while(|c| *c != q).collect();
            out.push(path);
        }
    }
    out
}

/// Byte offsets of `.method(` calls in `t`.
fn calls_after_dot(t: &str, method: &str) -> Vec<usize> {
    t.match_indices(method).map(|(i, _)| i).filter(|&i| t[..i].ends_with('.')).collect()
}

/// Python servers started with debug mode on: `Application(debug=True)`,
/// `app.run(debug=True)`, `app.debug = True`, or `DEBUG = True` in a
/// settings module that is not a development one.
pub fn debug_mode(files: &[SourceFile]) -> Vec<Finding> {
    let mut out = Vec::new();
    for f in files.iter().filter(|f| f.language == Language::Python) {
        let path = f.path.as_deref().unwrap_or("");
        let name = path.rsplit('/').next().unwrap_or(path);
        let dev = ["dev", "local", "test", "debug"].iter().any(|d| name.contains(d));
        let settings = name.contains("settings") || name.contains("production") || name == "config.py";
        let (lines, idx) = code(f);
        for &i in &idx {
            let compact: String = lines[i].text.chars().filter(|c| !c.is_whitespace()).collect();
            let on = compact.contains("debug=True")
                || compact.starts_with("app.debug=True")
                || (settings && !dev && compact.starts_with("DEBUG=True"));
            if on && !dev {
                out.push(
                    Finding::new(
                        Severity::Medium,
                        in_file("Debug mode enabled", f),
                        "Debug mode serves tracebacks (code, settings, sometimes a console) to anyone who triggers an \
                         error and slows every request; read it from the environment and keep it off in production",
                    )
                    .at_line(lines[i].number),
                );
            }
        }
    }
    out
}

fn is_health(path: &str) -> bool {
    path.split(['/', '?', '.']).any(|seg| HEALTH.contains(&seg.to_ascii_lowercase().as_str()))
}

/// A server that defines routes but none for health checks.
pub fn health_check(files: &[SourceFile]) -> Vec<Finding> {
    let mut routes: Vec<(&SourceFile, usize, String)> = Vec::new();
    let mut healthy = false;
    for f in files {
        let (lines, idx) = code(f);
        for &i in &idx {
            for r in routes_in(lines[i].text) {
                healthy |= is_health(&r);
                routes.push((f, lines[i].number, r));
            }
            let t = lines[i].text;
            healthy |=
                ["\"/health", "'/health", "\"/ready", "'/ready", "\"/livez", "'/livez"].iter().any(|h| t.contains(h));
        }
    }
    let Some((first, line, _)) = routes.first() else { return Vec::new() };
    if healthy {
        return Vec::new();
    }
    let mut where_: Vec<&str> = routes.iter().map(|(f, _, _)| f.name()).collect();
    where_.dedup();
    let shown: Vec<String> = routes.iter().take(5).map(|(_, _, r)| format!("`{r}`")).collect();
    let title = match first.path {
        Some(_) => format!("No health check endpoint in `{}`", where_.join("`, `")),
        None => "No health check endpoint".to_string(),
    };
    vec![
        Finding::new(
            Severity::Low,
            title,
            format!(
                "The server defines {} route(s) ({}) but no `/health`, `/healthz`, `/ready` or `/livez` endpoint; add a \
                 cheap liveness route and a readiness route that checks its dependencies, so the orchestrator can \
                 restart or drain it (if one is defined in a file not reviewed here, this does not apply)",
                routes.len(),
                shown.join(", ")
            ),
        )
        .at_line(*line),
    ]
}

/// Print-style calls per language, and the logging frameworks that replace them.
fn prints(lang: Language) -> &'static [&'static str] {
    match lang {
        Language::Rust => &["println!(", "eprintln!(", "print!(", "eprint!(", "dbg!("],
        Language::Python => &["print("],
        Language::JavaScript | Language::TypeScript => {
            &["console.log(", "console.error(", "console.warn(", "console.info(", "console.debug("]
        }
        Language::Go => &["fmt.Println(", "fmt.Printf(", "fmt.Print(", "log.Println(", "log.Printf(", "log.Print("],
        Language::Unknown => &["println!(", "eprintln!(", "console.log(", "fmt.Println("],
        _ => &[],
    }
}

/// The logging framework the material already uses, if any.
fn framework(files: &[SourceFile]) -> Option<&'static str> {
    const KNOWN: &[(&str, &str)] = &[
        ("use tracing", "tracing"),
        ("tracing::", "tracing"),
        ("use log::", "log"),
        ("log::info!", "log"),
        ("structlog", "structlog"),
        ("import logging", "logging"),
        ("logging.getLogger", "logging"),
        ("loguru", "loguru"),
        ("log/slog", "slog"),
        ("slog.", "slog"),
        ("go.uber.org/zap", "zap"),
        ("zerolog", "zerolog"),
        ("logrus", "logrus"),
        ("winston", "winston"),
        ("pino", "pino"),
        ("bunyan", "bunyan"),
    ];
    KNOWN.iter().find(|(needle, _)| files.iter().any(|f| f.text.contains(needle))).map(|(_, name)| *name)
}

/// Print-style logging in non-test code, one finding per file with the lines.
pub fn unstructured_logs(files: &[SourceFile]) -> Vec<Finding> {
    let used = framework(files);
    let mut out = Vec::new();
    for f in files {
        let path = f.path.as_deref().unwrap_or("");
        if path.ends_with("build.rs") || path.split('/').any(|d| matches!(d, "examples" | "scripts" | "bin")) {
            continue;
        }
        let (lines, idx) = code(f);
        let mut hits: Vec<usize> = Vec::new();
        let mut kinds: Vec<&str> = Vec::new();
        for &i in &idx {
            for p in prints(f.language) {
                if !calls(lines[i].text, p).is_empty() {
                    hits.push(lines[i].number);
                    let name = p.trim_end_matches('(');
                    if !kinds.contains(&name) {
                        kinds.push(name);
                    }
                    break;
                }
            }
        }
        let Some(&first) = hits.first() else { continue };
        let advice = match used {
            Some(fw) => format!("the code already uses `{fw}`: log through it, with a level and fields"),
            None => match f.language {
                Language::Rust => "use `tracing` (or `log`) with levels and fields".into(),
                Language::Python => "use `logging` (or structlog) with levels and fields".into(),
                Language::Go => "use `log/slog` with levels and fields".into(),
                _ => "use a structured logger (pino, winston) with levels and fields".into(),
            },
        };
        let shown: Vec<String> = hits.iter().take(12).map(|n| n.to_string()).collect();
        out.push(
            Finding::new(
                Severity::Low,
                in_file("Unstructured logging", f),
                format!(
                    "{} print-style call(s) ({}) at line(s) {}{}: they have no level, timestamp or fields and cannot \
                     be filtered; {advice}",
                    hits.len(),
                    kinds.join(", "),
                    shown.join(", "),
                    if hits.len() > shown.len() { ", …" } else { "" },
                ),
            )
            .at_line(first),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use agent_os_persona_sdk::testing::{awkward_files, file};

    #[test]
    fn aiohttp_routes_debug_mode_needle_and_redis_without_timeouts() {
        use agent_os_persona_sdk::testing::file;
        let files = [
            file(
                "svc/routes.py",
                "def setup(app):\n    app.router.add_route('GET', r'/', views.index)\n    app.router.add_get('/items/{id}', views.item)\n",
            ),
            file("svc/app.py", "def init():\n    app = Application(\n        debug=True,\n    )\n    return app\n"),
            file(
                "svc/cache.py",
                "async def init(app):\n    app['r'] = await aioredis.create_pool((h, p), db=0)\n    app['s'] = await aioredis.create_pool((h, p), timeout=5)\n",
            ),
            file(
                "web/q.js",
                "needle.get(url, (e, r) => cb(r));\nneedle.get(url, { open_timeout: 2000, response_timeout: 5000 }, cb);\n",
            ),
        ];
        let got: Vec<String> =
            analyse(&files).iter().map(|f| format!("{} {}", f.location().unwrap_or_default(), f.title)).collect();
        assert!(got.contains(&"svc/routes.py:2 No health check endpoint in `svc/routes.py`".to_string()), "{got:?}");
        assert!(got.contains(&"svc/app.py:3 Debug mode enabled in `svc/app.py`".to_string()), "{got:?}");
        assert!(
            got.contains(&"svc/cache.py:2 Redis connection without a timeout in `svc/cache.py`".to_string()),
            "{got:?}"
        );
        assert!(got.contains(&"web/q.js:1 HTTP request without a timeout in `web/q.js`".to_string()), "{got:?}");
        assert_eq!(got.len(), 4, "{got:?}");
        let dev = [file("proj/settings_dev.py", "DEBUG = True\n"), file("proj/run.py", "app.run(debug=False)\n")];
        assert!(analyse(&dev).is_empty());
    }

    #[test]
    fn survives_awkward_input() {
        let _ = analyse(&awkward_files());
    }

    fn titles(f: &[Finding]) -> Vec<(String, Option<usize>)> {
        f.iter().map(|f| (f.title.clone(), f.line)).collect()
    }

    #[test]
    fn reqwest_clients_without_a_timeout() {
        let text = "use reqwest::Client;\nfn a() {\n    let c = reqwest::Client::new();\n    let b = Client::builder()\n        .user_agent(\"x\")\n        .build();\n    let r = reqwest::get(url);\n}\n";
        let f = timeouts(&[file("src/http.rs", text)]);
        assert_eq!(
            titles(&f),
            [
                ("HTTP client without a timeout in `src/http.rs`".to_string(), Some(3)),
                ("HTTP client without a timeout in `src/http.rs`".to_string(), Some(4)),
                ("HTTP request without a timeout in `src/http.rs`".to_string(), Some(7)),
            ]
        );
        let ok = "use reqwest::Client;\nfn a() {\n    let b = Client::builder()\n        .timeout(Duration::from_secs(5))\n        .build();\n}\n#[cfg(test)]\nmod tests { fn t() { reqwest::Client::new(); } }\n";
        assert!(timeouts(&[file("src/http.rs", ok)]).is_empty());
    }

    #[test]
    fn python_go_and_js_requests_without_a_timeout() {
        let py = "import requests\nr = requests.get(url)\nr = requests.post(\n    url,\n    timeout=5,\n)\n# requests.get(x)\n";
        assert_eq!(
            titles(&timeouts(&[file("app/c.py", py)])),
            [("HTTP request without a timeout in `app/c.py`".into(), Some(2))]
        );
        let go = "c := &http.Client{}\nd := &http.Client{\n\tTimeout: 5 * time.Second,\n}\nresp, err := http.Get(u)\n";
        assert_eq!(timeouts(&[file("c.go", go)]).iter().map(|f| f.line).collect::<Vec<_>>(), [Some(1), Some(5)]);
        let js = "const a = await fetch(url);\nconst b = await fetch(url, { signal: AbortSignal.timeout(5000) });\nasync function fetch(x) {}\nthis.refetch(x);\n";
        assert_eq!(timeouts(&[file("web/a.ts", js)]).iter().map(|f| f.line).collect::<Vec<_>>(), [Some(1)]);
    }

    #[test]
    fn sessions_axios_ureq_and_later_timeouts() {
        let py = "import requests\ns = requests.Session()\nr = s.get(url)\nq = s.post(url, timeout=3)\nd = {}.get(k)\n";
        assert_eq!(timeouts(&[file("app/c.py", py)]).iter().map(|f| f.line).collect::<Vec<_>>(), [Some(3)]);
        let js = "const a = await axios.get(url);\nconst b = await axios.post(url, body, { timeout: 5000 });\n";
        assert_eq!(timeouts(&[file("web/a.js", js)]).iter().map(|f| f.line).collect::<Vec<_>>(), [Some(1)]);
        let js_default = "axios.defaults.timeout = 5000;\nconst a = await axios.get(url);\n";
        assert!(timeouts(&[file("web/a.js", js_default)]).is_empty());
        let go = "c := &http.Client{}\nc.Timeout = 5 * time.Second\n";
        assert!(timeouts(&[file("c.go", go)]).is_empty());
        let go_ctx =
            "ctx, cancel := context.WithTimeout(ctx, 2*time.Second)\nresp, err := http.DefaultClient.Do(req)\n";
        assert!(timeouts(&[file("c.go", go_ctx)]).is_empty());
        let rs =
            "fn f() {\n    let b = reqwest::blocking::get(url);\n    let c = reqwest::blocking::Client::new();\n}\n";
        assert!(timeouts(&[file("src/a.rs", rs)]).is_empty(), "{:?}", timeouts(&[file("src/a.rs", rs)]));
        let py = "import urllib3\nhttp = urllib3.PoolManager()\nc = http.client.HTTPSConnection(host, timeout=5)\nd = http.client.HTTPConnection(host)\n";
        assert_eq!(timeouts(&[file("a.py", py)]).iter().map(|f| f.line).collect::<Vec<_>>(), [Some(2), Some(4)]);
        let ureq = "fn f() {\n    let r = ureq::get(url).call()?;\n}\n";
        assert_eq!(timeouts(&[file("src/a.rs", ureq)]).iter().map(|f| f.line).collect::<Vec<_>>(), [Some(2)]);
    }

    #[test]
    fn a_server_without_a_health_route() {
        let text =
            "let app = Router::new()\n    .route(\"/orders\", get(list))\n    .route(\"/orders/:id\", get(one));\n";
        let f = health_check(&[file("src/main.rs", text)]);
        assert_eq!(titles(&f), [("No health check endpoint in `src/main.rs`".to_string(), Some(2))]);
        assert!(f[0].detail.contains("`/orders`"), "{f:?}");
        let with = format!("{text}let h = Router::new().route(\"/healthz\", get(ok));\n");
        assert!(health_check(&[file("src/main.rs", &with)]).is_empty());
        let py = "@app.get(\"/items\")\ndef items(): ...\n@app.get(\"/readyz\")\ndef ready(): ...\n";
        assert!(health_check(&[file("app.py", py)]).is_empty());
        let go = "mux.HandleFunc(\"/users\", users)\n";
        assert_eq!(health_check(&[file("main.go", go)]).len(), 1);
    }

    #[test]
    fn http_client_calls_are_not_routes() {
        let text = "let v = map.get(\"/x\");\nconst r = await axios.get('/api/users');\nclient.get(\"/orders\")\n";
        assert!(health_check(&[file("src/a.rs", text)]).is_empty());
        assert_eq!(routes_in("#[get(\"/orders\")]"), ["/orders"]);
        assert_eq!(routes_in("router.post('/orders', h)"), ["/orders"]);
    }

    #[test]
    fn print_style_logging_per_file_with_the_framework_in_use() {
        let main = "fn main() {\n    println!(\"starting\");\n    eprintln!(\"oops\");\n}\n#[cfg(test)]\nmod tests { fn t() { println!(\"x\"); } }\n";
        let lib = "use tracing::info;\nfn f() { info!(\"ok\"); }\n";
        let f = unstructured_logs(&[file("src/main.rs", main), file("src/lib.rs", lib)]);
        assert_eq!(titles(&f), [("Unstructured logging in `src/main.rs`".to_string(), Some(2))]);
        assert!(f[0].detail.contains("2 print-style call(s) (println!, eprintln!) at line(s) 2, 3"), "{f:?}");
        assert!(f[0].detail.contains("already uses `tracing`"), "{f:?}");
        let py = unstructured_logs(&[file("app/a.py", "def f():\n    print('x')\n    pprint(y)\n")]);
        assert_eq!(py.len(), 1);
        assert!(py[0].detail.contains("use `logging`"), "{py:?}");
        assert!(unstructured_logs(&[file("tests/a.rs", "println!(\"x\");")]).is_empty());
        assert!(unstructured_logs(&[file("src/a.rs", "// println!(\"x\");")]).is_empty());
    }
}
