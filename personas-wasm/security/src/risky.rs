//! Calls that are dangerous whatever the data: shell and code evaluation,
//! unsafe deserialisation, disabled TLS verification, weak hashes, HTML
//! sinks, predictable randomness for secrets and SQL built from strings.
//! Each line reports its most severe match; test code and comments are skipped.

use std::sync::OnceLock;

use agent_os_persona_sdk::brief::{Finding, Severity};
use agent_os_persona_sdk::context::SourceFile;
use regex_lite::Regex;

#[derive(Clone, Copy)]
struct Rule {
    title: &'static str,
    severity: Severity,
    pattern: &'static str,
    /// Lower-case literals one of which every match holds (compared with the
    /// lower-cased line): the pattern is built and run only on lines with one.
    needles: &'static [&'static str],
    advice: &'static str,
}

/// Most severe first: a line reports the first rule that matches.
const RULES: &[Rule] = &[
    Rule {
        title: "Shell command built at run time",
        severity: Severity::High,
        pattern: r#"Command::new\(\s*"(?:sh|bash|cmd(?:\.exe)?)"|shell\s*=\s*True|\bos\.(?:system|popen)\(|child_process\.exec(?:Sync)?\(|\bexecSync\(|exec\.Command\(\s*"(?:sh|bash)"\s*,\s*"-c""#,
        needles: &["command::new(", "shell", "os.system(", "os.popen(", "child_process.exec", "execsync(", "exec.command("],
        advice: "A shell interprets whatever reaches it; run the program directly with an argument list, and never pass user input through `sh -c`",
    },
    Rule {
        title: "Code evaluated at run time",
        severity: Severity::High,
        pattern: r"(?:^|[^.\w])(?:eval|exec)\s*\(|\bnew\s+Function\s*\(",
        // `eval`/`exec` then `(` or a blank (`\s`), or `Function`.
        needles: &[
            "eval(", "eval ", "eval\t", "eval\x0b", "eval\x0c", "eval\r", "exec(", "exec ", "exec\t", "exec\x0b", "exec\x0c",
            "exec\r", "function",
        ],
        advice: "Evaluating strings as code runs whatever an attacker can get into them; parse the data instead",
    },
    Rule {
        title: "Unsafe deserialisation",
        severity: Severity::High,
        pattern: r"\bpickle\.loads?\(|\bmarshal\.loads?\(|\byaml\.load\((?:[^)]*Loader\s*=\s*yaml\.(?:Unsafe|Full)?Loader|[^)]*$|[^L)]*\))|\bunserialize\(",
        needles: &["pickle.load", "marshal.load", "yaml.load(", "unserialize("],
        advice: "Deserialising untrusted bytes with pickle, marshal or a full YAML loader can run code; use JSON or `yaml.safe_load`",
    },
    Rule {
        title: "TLS certificate verification disabled",
        severity: Severity::High,
        pattern: r"verify\s*=\s*False|danger_accept_invalid_(?:certs|hostnames)\(\s*true|InsecureSkipVerify:\s*true|rejectUnauthorized:\s*false|NODE_TLS_REJECT_UNAUTHORIZED",
        needles: &["verify", "danger_accept_invalid_", "rejectunauthorized", "node_tls_reject_unauthorized"],
        advice: "Without verification anyone on the path can read and change the traffic; fix the trust store instead",
    },
    Rule {
        title: "NoSQL query built from strings",
        severity: Severity::High,
        pattern: r#"\$where\s*:\s*(?:`[^`]*\$\{|['"][^'"]*['"]\s*\+)|\$where\s*:\s*[A-Za-z_][\w.]*\s*\+"#,
        needles: &["$where"],
        advice: "`$where` runs its text as JavaScript inside the database, so input pasted into it runs there; query with operators and typed values (`{ stocks: { $gt: n } }`)",
    },
    Rule {
        title: "HTML injection sink",
        severity: Severity::Medium,
        pattern: r"\.innerHTML\s*=|\.outerHTML\s*=|dangerouslySetInnerHTML|document\.write\(",
        needles: &["innerhtml", "outerhtml", "document.write("],
        advice: "Markup built from data runs scripts an attacker supplies; set text content or sanitise with a vetted library",
    },
    Rule {
        title: "Predictable randomness for a secret",
        severity: Severity::Medium,
        pattern: r"(?i)(?:token|secret|password|passwd|session|nonce|salt|otp).*(?:Math\.random\(|\brandom\.(?:random|randint|choice)\(|\bmath/rand\b|\brand\.Intn?\()",
        needles: &["rand"],
        advice: "These generators are predictable; use a cryptographic source (`secrets`, `crypto.randomBytes`, `crypto/rand`, `getrandom`)",
    },
    Rule {
        title: "Regular expression with nested quantifiers",
        severity: Severity::Medium,
        pattern: r#"(?:RegExp\(|re\.(?:compile|match|search|fullmatch)\(|Regex::new\(|regexp\.MustCompile\(|[=(:,]\s*/).*\((?:[^()\\]|\\.)*[+*](?:[^()\\]|\\.)*\)(?:[+*]|\{\d+,\})"#,
        needles: &["regexp(", "re.", "regex::new(", "regexp.mustcompile(", "/"],
        advice: "A repeated group that itself repeats (`(a+)+`) backtracks exponentially on input that almost matches, so one request can hold a CPU for minutes (ReDoS); drop the inner or outer quantifier, or use a linear-time engine",
    },
    Rule {
        title: "unsafe block",
        severity: Severity::Low,
        pattern: r"\bunsafe\s*\{",
        needles: &["unsafe"],
        advice: "Check that the invariants the block relies on are written down in a `// SAFETY:` comment and upheld by every caller",
    },
];

const SQL: Rule = Rule {
    title: "SQL built from strings",
    severity: Severity::High,
    pattern: "",
    needles: &[],
    advice: "Values pasted into SQL text allow injection; pass them as bound parameters (`execute(sql, params)`, `$1`, `?`)",
};

/// The first rule (most severe) matching `line`; `lower` is the line lower-cased.
/// A rule's pattern is built the first time a line holds one of its needles:
/// a fresh instance builds only the patterns its material can match.
fn first_match(line: &str, lower: &str) -> Option<&'static Rule> {
    static CELLS: [OnceLock<Regex>; RULES.len()] = [const { OnceLock::new() }; RULES.len()];
    RULES.iter().zip(&CELLS).find_map(|(rule, cell)| {
        let could = rule.needles.iter().any(|n| lower.contains(n));
        (could && cell.get_or_init(|| Regex::new(rule.pattern).expect("a valid rule pattern")).is_match(line))
            .then_some(rule)
    })
}

const SSRF: Rule = Rule {
    title: "Server-side request to a URL from user input",
    severity: Severity::High,
    pattern: "",
    needles: &[],
    advice: "The server fetches whatever address the request names, including internal services and cloud metadata (SSRF); allow only known hosts, and build the URL from a fixed base and validated parts",
};

/// Where the request's own input is read: Express, Flask/Django, Go, Rails.
const REQUEST_INPUT: &str = r"\breq\.(?:query|body|params|headers)\b|\brequest\.(?:args|form|values|json|GET|POST|query_params|data)\b|\bparams\[|\br\.URL\.Query\(|\br\.FormValue\(";
/// An outbound HTTP call.
const HTTP_CALL: &str = r"\b(?:needle|axios|got|superagent|request|requests|httpx|urllib\.request|http|https)\s*\.\s*(?:get|post|put|delete|request|urlopen)\s*\(|\bfetch\s*\(|\burlopen\s*\(|\bhttp\.Get\s*\(|\breqwest::get\s*\(";

/// Literals one of which a match of [`REQUEST_INPUT`] holds.
const REQUEST_INPUT_NEEDLES: &[&str] = &["req.", "request.", "params[", "r.URL.Query(", "r.FormValue("];
/// Literals one of which a match of [`HTTP_CALL`] holds.
const HTTP_CALL_NEEDLES: &[&str] =
    &["needle", "axios", "got", "superagent", "request", "httpx", "urllib", "http", "fetch", "urlopen", "reqwest"];

/// `pattern`, built on first use, when `text` holds one of `needles`: a
/// fresh instance builds only the patterns its material can match.
fn gated(cell: &'static OnceLock<Regex>, pattern: &str, needles: &[&str], text: &str) -> Option<&'static Regex> {
    needles.iter().any(|n| text.contains(n)).then(|| cell.get_or_init(|| Regex::new(pattern).expect("valid")))
}

fn ssrf_lines(f: &SourceFile) -> Vec<usize> {
    static INPUT: OnceLock<Regex> = OnceLock::new();
    static CALL: OnceLock<Regex> = OnceLock::new();
    static ASSIGN: OnceLock<Regex> = OnceLock::new();
    let input = |t: &str| gated(&INPUT, REQUEST_INPUT, REQUEST_INPUT_NEEDLES, t).is_some_and(|re| re.is_match(t));
    let mut tainted: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for line in f.lines() {
        if line.in_test || line.comment {
            continue;
        }
        let t = line.text;
        if (input(t) || tainted.iter().any(|v| mentions(t.split_once('=').map_or("", |(_, r)| r), v)))
            && let Some(assign) =
                gated(&ASSIGN, r"^\s*(?:(?:const|let|var)\s+)?([A-Za-z_]\w*)\s*(?::=|=)[^=]", &["="], t)
            && let Some(c) = assign.captures(t)
        {
            tainted.push(c[1].to_string());
        }
        if let Some(m) = gated(&CALL, HTTP_CALL, HTTP_CALL_NEEDLES, t).and_then(|call| call.find(t)) {
            let args = &t[m.end()..];
            let first = args.split([',', ')']).next().unwrap_or("");
            if input(first) || tainted.iter().any(|v| mentions(first, v)) {
                out.push(line.index);
            }
        }
    }
    out
}

/// Whether `text` uses the variable `name` as a whole word.
fn mentions(text: &str, name: &str) -> bool {
    text.match_indices(name).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + name.len()..].chars().next();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
            && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

/// Risky calls in `files`, one finding per line, naming the file.
pub fn scan(files: &[SourceFile]) -> Vec<Finding> {
    let mut out = Vec::new();
    for f in files {
        let texts: Vec<&str> = f.text.lines().collect();
        // Python and JS/TS that parse are judged on their syntax tree; anything else line by line.
        let py = crate::python::read(f).or_else(|| crate::javascript::read(f));
        let built = match &py {
            Some(p) => p.sql.clone(),
            None => crate::sql::built_sql_lines(&texts),
        };
        let ssrf = ssrf_lines(f);
        for line in f.lines() {
            if line.in_test || line.comment {
                continue;
            }
            let matched = first_match(line.text, &line.text.to_ascii_lowercase());
            // SQL outranks every rule after the first four high ones.
            let hashed = match &py {
                Some(p) => p.hashes.get(&line.index).copied(),
                None => crate::hashing::judge(&texts, line.index),
            };
            let rule = match matched {
                Some(r) if r.severity == Severity::High => Some(*r),
                _ if built.contains(&line.index) => Some(SQL),
                _ if ssrf.contains(&line.index) => Some(SSRF),
                m => match hashed {
                    Some((severity, title, advice)) if m.is_none_or(|r| r.severity <= severity) => {
                        Some(Rule { title, severity, pattern: "", needles: &[], advice })
                    }
                    _ => m.copied(),
                },
            };
            // A `// SAFETY:` note on the same line documents an unsafe block.
            if let Some(rule) = rule {
                if rule.title == "unsafe block" && line.text.contains("SAFETY:") {
                    continue;
                }
                let title = match &f.path {
                    Some(p) => format!("{} in `{p}`", rule.title),
                    None => rule.title.to_string(),
                };
                out.push(Finding::new(rule.severity, title, rule.advice).at_line(line.number));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn survives_awkward_input() {
        use agent_os_persona_sdk::testing::awkward_files;
        let _ = scan(&awkward_files());
        for f in awkward_files() {
            let _ = crate::secrets::scan(&f.text);
            let _ = crate::secrets::redact_text(&f.text);
        }
    }

    use super::*;
    use agent_os_persona_sdk::context::Origin;

    fn titles(path: &str, text: &str) -> Vec<(usize, String)> {
        scan(&[SourceFile::new(Some(path.into()), text, Origin::Read)])
            .into_iter()
            .map(|f| (f.line.unwrap(), f.title))
            .collect()
    }

    /// Lines to check the needles against: this crate's sources (their tests
    /// hold an example of every rule) and the awkward samples.
    fn corpus() -> Vec<String> {
        let sources = [include_str!("risky.rs"), include_str!("hashing.rs"), include_str!("sql.rs")];
        let mut lines: Vec<String> = sources.iter().flat_map(|s| s.lines()).map(str::to_string).collect();
        // The examples inside string literals, unescaped as the analysis sees them.
        lines.extend(lines.clone().iter().map(|l| l.replace("\\\"", "\"").replace("\\\\", "\\")));
        for f in agent_os_persona_sdk::testing::awkward_files() {
            lines.extend(f.text.lines().map(|l| l.chars().take(2000).collect::<String>()));
        }
        lines
    }

    /// The needles only skip work: wherever a pattern matches, the line holds one of its needles.
    #[test]
    fn needles_hold_wherever_a_pattern_matches() {
        let checks: Vec<(Regex, &[&str], bool)> = RULES
            .iter()
            .map(|r| (r.pattern, r.needles, true))
            .chain([
                (REQUEST_INPUT, REQUEST_INPUT_NEEDLES, false),
                (HTTP_CALL, HTTP_CALL_NEEDLES, false),
            ])
            .map(|(p, n, fold)| (Regex::new(p).unwrap(), n, fold))
            .chain(crate::hashing::CALLS.iter().map(|(p, n)| (Regex::new(&format!("(?i){p}")).unwrap(), *n, true)))
            .collect();
        let mut matched = 0;
        for line in corpus() {
            let lower = line.to_ascii_lowercase();
            for (pattern, needles, fold) in &checks {
                if pattern.is_match(&line) {
                    matched += 1;
                    let hay = if *fold { lower.as_str() } else { line.as_str() };
                    assert!(needles.iter().any(|n| hay.contains(n)), "{pattern} matches {line} without {needles:?}");
                }
            }
        }
        assert!(matched > 40, "the corpus exercises the patterns: {matched} matches");
    }

    #[test]
    fn each_rule_fires_on_its_example() {
        let cases = [
            ("a.rs", "let o = Command::new(\"sh\").arg(\"-c\").arg(cmd);", "Shell command built at run time"),
            ("a.py", "subprocess.run(cmd, shell=True)", "Shell command built at run time"),
            ("a.py", "os.system('rm ' + name)", "Shell command built at run time"),
            ("a.js", "child_process.exec(`ls ${dir}`)", "Shell command built at run time"),
            ("a.py", "result = eval(expr)", "Code evaluated at run time"),
            ("a.js", "const f = new Function('a', body);", "Code evaluated at run time"),
            ("a.py", "obj = pickle.loads(blob)", "Unsafe deserialisation"),
            ("a.py", "cfg = yaml.load(text)", "Unsafe deserialisation"),
            ("a.py", "requests.get(url, verify=False, timeout=5)", "TLS certificate verification disabled"),
            (
                "a.rs",
                "let c = builder.danger_accept_invalid_certs(true).build()?;",
                "TLS certificate verification disabled",
            ),
            ("a.go", "cfg := &tls.Config{InsecureSkipVerify: true}", "TLS certificate verification disabled"),
            ("a.rs", "let q = format!(\"SELECT * FROM users WHERE name = '{name}'\");", "SQL built from strings"),
            ("a.py", "cur.execute(f\"DELETE FROM t WHERE id = {i}\")", "SQL built from strings"),
            ("a.js", "db.query(`SELECT * FROM t WHERE id = ${id}`)", "SQL built from strings"),
            ("a.go", "q := fmt.Sprintf(\"SELECT a FROM t WHERE b = '%s'\", b)", "SQL built from strings"),
            ("a.py", "cur.execute(\"SELECT * FROM users WHERE name = '%s'\" % name)", "SQL built from strings"),
            ("a.py", "sql = \"SELECT * FROM t WHERE id = \" + uid", "SQL built from strings"),
            ("a.py", "h = hashlib.md5(password.encode())", "Weak password hashing"),
            ("a.php", "$h = md5($password);", "Weak password hashing"),
            ("a.js", "el.innerHTML = comment.body;", "HTML injection sink"),
            ("a.js", "return { $where: `this.owner == '${name}'` };", "NoSQL query built from strings"),
            ("a.js", "db.find({ $where: 'this.a > ' + n });", "NoSQL query built from strings"),
            ("a.js", "const re = /^(\\w+\\s?)*$/;", "Regular expression with nested quantifiers"),
            ("a.py", "pat = re.compile(r'(a|aa)+(b+)+c')", "Regular expression with nested quantifiers"),
            ("a.js", "axios.get(req.query.target).then(r => r.data);", "Server-side request to a URL from user input"),
            ("a.py", "r = requests.get(request.args['u'], timeout=5)", "Server-side request to a URL from user input"),
            ("a.js", "const token = Math.random().toString(36);", "Predictable randomness for a secret"),
            ("a.rs", "let p = unsafe { &*ptr };", "unsafe block"),
        ];
        for (path, line, want) in cases {
            let got = titles(path, line);
            assert_eq!(got, [(1, format!("{want} in `{path}`"))], "{line}");
        }
    }

    #[test]
    fn safe_forms_tests_and_comments_are_not_reported() {
        let clean = [
            ("a.py", "cfg = yaml.safe_load(text)"),
            ("a.py", "cfg = yaml.load(text, Loader=yaml.SafeLoader)"),
            ("a.py", "subprocess.run([\"ls\", path], check=True)"),
            ("a.rs", "let o = Command::new(\"git\").arg(\"status\");"),
            ("a.js", "re.exec(input); el.textContent = name;"),
            ("a.py", "cur.execute(\"SELECT name FROM users WHERE id = %s\", (uid,))"),
            ("a.go", "rows, err := db.Query(`SELECT id FROM users WHERE id = $1`, id)"),
            ("a.rs", "// SAFETY: ptr is valid for 'a\nlet p = unsafe { &*ptr }; // SAFETY: see above"),
            ("a.py", "# result = eval(expr)"),
            ("a.js", "const jitter = Math.random() * 100;"),
            ("tests/test_a.py", "obj = pickle.loads(blob)"),
            ("a.py", "etag = hashlib.md5(content).hexdigest()"),
            ("a.js", "return { stocks: { $gt: parseInt(n, 10) } };"),
            ("a.js", "const re = /^([0-9]+)#$/;"),
            ("a.js", "const total = a / (b + c) * 2;"),
            ("a.js", "const r = await fetch(`${API_BASE}/quotes`);"),
            ("a.py", "r = requests.get(SETTINGS_URL, timeout=5)"),
        ];
        for (path, text) in clean {
            assert_eq!(titles(path, text), [], "{text}");
        }
    }

    #[test]
    fn a_url_read_from_the_request_reaches_an_http_call() {
        let text = "function show(req, res) {\n    const base = req.query.host;\n    const url = base + '/x';\n    return needle.get(url, (e, r) => res.send(r));\n}\n";
        assert_eq!(
            titles("app/r.js", text),
            [(4, "Server-side request to a URL from user input in `app/r.js`".to_string())]
        );
    }

    #[test]
    fn lines_are_numbered_in_the_file_and_one_rule_wins_per_line() {
        let text = "fn main() {\n    let q = format!(\"SELECT * FROM t WHERE a = {x}\"); let p = unsafe { 1 };\n}\n";
        assert_eq!(titles("src/main.rs", text), [(2, "SQL built from strings in `src/main.rs`".to_string())]);
    }
}
