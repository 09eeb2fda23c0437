//! One rule set for hard-coded secrets, shared by the security persona
//! (compiled into its WebAssembly component) and the agent-os host (its gate
//! on proposed standards), so the two always agree.
//!
//! [`scan`] reads a file's text and returns one [`Hit`] per line that holds
//! a credential: provider formats (prefixed tokens anywhere, contextual ones
//! next to the service's name), private key blocks with a body, JWTs (also
//! base64-wrapped), credentials in URLs, `curl -u` and `Authorization`
//! headers, Kubernetes Secret `data:` values, and literal values assigned to
//! credential-like names in the assignment syntaxes of common config formats
//! and languages. Placeholders, references and low-entropy values are
//! filtered out. [`redact`] blanks what [`scan`] reports.

mod providers;

use std::ops::Range;
use std::sync::OnceLock;

use regex_lite::Regex;

pub use providers::{CONTEXTUAL, PREFIXED};

/// How serious a hit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Medium,
    High,
    Critical,
}

/// A post-match check a format defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    None,
    /// GitHub's tokens end in a base62 CRC32 of the rest.
    GithubCrc,
}

/// The families the benchmark reports on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    /// A provider's token format.
    Provider,
    /// A private key block with its body.
    PrivateKey,
    /// A JSON Web Token, bare or base64-wrapped.
    Jwt,
    /// A password in a URL, `curl -u`, or an `Authorization` header.
    HttpCredential,
    /// A value under a Kubernetes Secret's `data:` or `stringData:`.
    Kubernetes,
    /// A literal assigned to a credential-like name.
    Assignment,
}

impl Family {
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Provider => "provider",
            Family::PrivateKey => "private-key",
            Family::Jwt => "jwt",
            Family::HttpCredential => "http-credential",
            Family::Kubernetes => "kubernetes",
            Family::Assignment => "assignment",
        }
    }
}

/// One suspected credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// 0-based line of the scanned text where it starts.
    pub line: usize,
    /// Rule id (`github-pat`, `generic-assignment`, …).
    pub rule: &'static str,
    pub family: Family,
    pub level: Level,
    /// What it is, for a title: "GitHub personal access token".
    pub what: String,
    /// The first characters of the value, the rest elided.
    pub redacted: String,
    /// Extra advice (a failed checksum, a provider's rotation page…).
    pub note: Option<&'static str>,
    /// Where the secret's characters are: (0-based line, byte range in it).
    pub spans: Vec<(usize, Range<usize>)>,
    /// Lines to drop entirely when redacting (a key block), inclusive.
    pub block: Option<(usize, usize)>,
}

/// How to fix any hit.
pub const FIX: &str = "Remove it from the source, rotate it with the provider (it is in the history now), and load it at run time from the environment or a secret manager.";

/// Number of rules: prefixed and contextual provider formats plus the structural ones.
pub fn rule_count() -> usize {
    PREFIXED.len() + CONTEXTUAL.len() + STRUCTURAL.len()
}

/// The structural rules (not tied to one provider).
pub const STRUCTURAL: &[&str] = &[
    "private-key",
    "putty-private-key",
    "jwt",
    "jwt-base64",
    "url-credentials",
    "url-query-credentials",
    "cli-password",
    "curl-user",
    "authorization-header",
    "kubernetes-secret-data",
    "generic-assignment",
    "xml-element",
    "xml-attribute",
    "call-argument",
];

/// Every service a provider rule names, sorted and deduplicated.
pub fn services() -> Vec<&'static str> {
    let mut s: Vec<&'static str> =
        PREFIXED.iter().map(|p| p.service).chain(CONTEXTUAL.iter().map(|c| c.service)).collect();
    s.sort_unstable();
    s.dedup();
    s
}

// ---------------------------------------------------------------- values

/// Shannon entropy in bits per character.
pub fn entropy(s: &str) -> f32 {
    let mut counts = [0u32; 256];
    let mut n = 0u32;
    for b in s.bytes() {
        counts[b as usize] += 1;
        n += 1;
    }
    if n == 0 {
        return 0.0;
    }
    let n = n as f32;
    counts.iter().filter(|&&c| c > 0).map(|&c| c as f32 / n).map(|p| -p * p.log2()).sum()
}

/// Whether `value` is a placeholder, an example or a reference rather than a credential.
pub fn is_placeholder(value: &str) -> bool {
    let v = value.trim().trim_matches(|c| c == '"' || c == '\'' || c == '`');
    if v.is_empty() {
        return true;
    }
    let lower = v.to_ascii_lowercase();
    if v.starts_with(['$', '<', '%', '{', '[', '(', '&', '*', '#', '!']) || v.ends_with(['>', '}']) {
        return true;
    }
    if v.contains("${") || v.contains("{{") || v.contains("$(") || v.contains("%(") || v.contains("#{") {
        return true;
    }
    // One character repeated, or a run of x/X/*/0/1/…: ghp_xxxx…, 1111…
    let body: String = v.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    let mut distinct: Vec<char> = body.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() <= 2 && body.len() >= 4 {
        return true;
    }
    let runs =
        ["xxxx", "****", "....", "····", "…", "0000000", "1111111", "aaaaaaa", "1234567890", "abcdefgh", "abc123"];
    if runs.iter().any(|r| lower.contains(r)) {
        return true;
    }
    let markers = [
        "example",
        "sample",
        "placeholder",
        "changeme",
        "change-me",
        "change_me",
        "replace",
        "dummy",
        "redacted",
        "your-",
        "your_",
        "yourkey",
        "yourtoken",
        "yoursecret",
        "yourpassword",
        "insert",
        "fake",
        "notreal",
        "not-real",
        "not_real",
        "todo",
        "fixme",
        "secret-here",
        "key-here",
        "token-here",
        "here",
        "<",
        "getenv",
        "environ",
        "process.env",
        "env(",
        "env[",
        "env.",
        "os.env",
        "secrets.",
        "vault:",
        "ssm:",
        "arn:aws",
        "ref+",
        "lookup(",
        "var.",
        "local.",
        "config.",
        "settings.",
        "params.",
        "args.",
        "@",
        "mysecret",
        "mypassword",
        "password123",
        "secret123",
        "s3cr3t",
        "passw0rd",
        "p@ssw0rd",
        "hunter2x",
        "foobar",
        "foo_bar",
        "lorem",
        "ipsum",
        "testtest",
        "abcabc",
        "qwerty",
        "letmein",
    ];
    markers.iter().any(|m| lower.contains(m))
}

/// Words a value may be that are not credentials.
fn is_plain_word(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "true"
            | "false"
            | "null"
            | "nil"
            | "none"
            | "undefined"
            | "yes"
            | "no"
            | "on"
            | "off"
            | "required"
            | "optional"
            | "string"
            | "str"
            | "password"
            | "secret"
            | "token"
            | "apikey"
            | "api_key"
            | "bearer"
            | "basic"
            | "default"
            | "empty"
            | "hidden"
            | "masked"
            | "unset"
            | "disabled"
            | "enabled"
            | "admin"
            | "root"
            | "user"
            | "guest"
            | "anonymous"
            | "pass"
            | "passwd"
            | "pwd"
            | "test"
            | "local"
            | "prod"
            | "production"
            | "staging"
            | "development"
    )
}

/// Whether a generic value looks machine-made enough to be a credential.
/// Values providers document as public: publishable keys, Mapbox public
/// tokens, Supabase's anon JWT.
fn is_public_value(v: &str) -> bool {
    if v.starts_with("pk_live_") || v.starts_with("pk_test_") || v.starts_with("pk.eyJ") || v.starts_with("FLWPUBK") {
        return true;
    }
    if v.starts_with("eyJ") {
        let payload =
            v.split('.').nth(1).and_then(b64_decode).and_then(|b| String::from_utf8(b).ok()).unwrap_or_default();
        let compact: String = payload.chars().filter(|c| !c.is_whitespace()).collect();
        return compact.contains("\"role\":\"anon\"");
    }
    false
}

fn credible_value(v: &str, password_like: bool, quoted: bool) -> bool {
    let n = v.chars().count();
    if is_public_value(v) {
        return false;
    }
    if !(6..=1000).contains(&n) || is_plain_word(v) || is_placeholder(v) {
        return false;
    }
    if v.contains(char::is_whitespace) {
        return false;
    }
    let lower = v.to_ascii_lowercase();
    // URLs and paths are not the credential (credentials in URLs have their own rule).
    if lower.contains("://") || v.starts_with(['/', '.', '~']) || v.starts_with("\\\\") || lower.starts_with("c:\\") {
        return false;
    }
    // Numbers, versions, dates, IPs.
    if v.chars().all(|c| c.is_ascii_digit() || ".:-_,".contains(c)) {
        return false;
    }
    // A file name.
    let exts = [
        ".json", ".yaml", ".yml", ".pem", ".key", ".txt", ".crt", ".p12", ".jks", ".env", ".toml", ".cfg", ".conf",
        ".xml", ".js", ".py", ".rb", ".go", ".rs", ".html", ".sh",
    ];
    if exts.iter().any(|e| lower.ends_with(e)) {
        return false;
    }
    // Code, not a literal: a call, an attribute path, a type.
    if !quoted {
        if v.contains(['(', ')', '{', '}', '\\']) || v.starts_with(':') || v.contains("::") {
            return false;
        }
        let identifier_path = v.split(['.', ':']).all(|p| {
            !p.is_empty()
                && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !p.starts_with(|c: char| c.is_ascii_digit())
        }) && v.chars().filter(|c| c.is_ascii_digit()).count() == 0;
        if identifier_path {
            return false;
        }
        // An identifier with a counter (`signature0`), a macro (`vec!`), indexing or generics.
        let trailing_digits = v.trim_end_matches(|c: char| c.is_ascii_digit());
        if trailing_digits.len() < v.len()
            && v.len() - trailing_digits.len() <= 3
            && trailing_digits.chars().all(|c| c.is_ascii_alphabetic() || c == '_')
            || v.ends_with('!') && v[..v.len() - 1].chars().all(|c| c.is_ascii_alphabetic() || c == '_')
            || v.contains(['[', '<', '>'])
        {
            return false;
        }
    }
    let has_lower = v.chars().any(|c| c.is_ascii_lowercase());
    let has_upper = v.chars().any(|c| c.is_ascii_uppercase());
    let has_digit = v.chars().any(|c| c.is_ascii_digit());
    let has_symbol = v.chars().any(|c| c.is_ascii_punctuation());
    let classes = [has_lower, has_upper, has_digit, has_symbol].iter().filter(|b| **b).count();
    let e = entropy(v);
    if password_like {
        // A password: short is fine, but not a dictionary-looking word.
        return (has_digit || has_symbol) && (classes >= 3 && e >= 2.0 || classes >= 2 && e >= 2.3)
            || n >= 12 && e >= 3.0 && classes >= 2;
    }
    if n < 10 {
        return false;
    }
    // CamelCase or snake_case words are names, not keys.
    let wordy = v.chars().all(|c| c.is_ascii_alphabetic() || "_-.:/ ".contains(c));
    if wordy && (n < 24 || e < 3.8) {
        return false;
    }
    classes >= 2 && e >= if n >= 20 { 3.2 } else { 2.9 }
}

/// Whether a provider token's random part is credible (not `ghp_xxxx…`).
fn credible_token(v: &str, min_entropy: f32) -> bool {
    if v.len() < 8 {
        return false;
    }
    let lower = v.to_ascii_lowercase();
    // The random part: after the last prefix separator within the first 16 characters.
    let tail = v
        .char_indices()
        .take(16)
        .filter(|(_, c)| matches!(c, '_' | '-' | '.'))
        .last()
        .map(|(i, _)| &v[i + 1..])
        .filter(|t| t.len() >= 8)
        .unwrap_or(v);
    if min_entropy > 0.0 && entropy(tail) < min_entropy.min(3.0 + (tail.len() as f32).log2() / 10.0) {
        return false;
    }
    let body: String = tail.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    let mut d: Vec<char> = body.chars().collect();
    d.sort_unstable();
    d.dedup();
    if d.len() <= 3 {
        return false;
    }
    let markers = ["example", "xxxxxx", "000000", "111111", "aaaaaa", "123456789", "abcdefghij", "placeholder", "your"];
    !markers.iter().any(|m| lower.contains(m))
}

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// The six base62 characters GitHub appends to a token's 30 random ones.
pub fn github_checksum(random: &str) -> String {
    let mut n = crc32(random.as_bytes()) as u64;
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(out.to_vec()).unwrap_or_default()
}

/// Whether a `ghp_`-style token's checksum matches.
pub fn github_checksum_ok(token: &str) -> bool {
    let Some((_, rest)) = token.split_once('_') else { return false };
    rest.len() == 36 && rest.is_ascii() && github_checksum(&rest[..30]) == rest[30..]
}

fn b64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => return None,
        } as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

fn redact_value(v: &str) -> String {
    let head: String = v.chars().take(4).collect();
    if v.chars().count() <= 6 { "****".into() } else { format!("{head}…") }
}

// ---------------------------------------------------------------- patterns

struct Compiled {
    prefixed: Vec<OnceLock<Option<Regex>>>,
    contextual: Vec<OnceLock<Option<Regex>>>,
}

fn compiled() -> &'static Compiled {
    static C: OnceLock<Compiled> = OnceLock::new();
    C.get_or_init(|| Compiled {
        prefixed: PREFIXED.iter().map(|_| OnceLock::new()).collect(),
        contextual: CONTEXTUAL.iter().map(|_| OnceLock::new()).collect(),
    })
}

/// Compiles a pattern. `regex-lite` (classes `\w`, `\s`, `\d`, `\b` and
/// `(?i)` are ASCII; credentials are ASCII) builds a pattern in microseconds
/// where `regex` spends about half a millisecond on automata and literal
/// prefilters, and a persona instance compiles the patterns its text needs
/// afresh each time it starts: construction, not search, dominates its cost.
fn build(pattern: &str) -> Option<Regex> {
    Regex::new(pattern).ok()
}

// ---------------------------------------------------------------- prefilter

/// Which provider rules' keywords a line holds, found in one pass over the
/// lower-cased line rather than a substring search per keyword (about 400).
/// A rule's pattern is built and tried only on lines holding one of its
/// keywords. The index is computed at compile time: a fresh instance pays
/// nothing to build it.
struct KeywordIndex {
    /// Keywords of two or more bytes by their first two bytes: bit `a << 8 | b`.
    pairs: [u64; 1024],
    /// (keyword, rule) of two or more bytes, ordered by the keyword's first
    /// byte, rules numbered `PREFIXED` first, then `CONTEXTUAL`;
    /// `starts[b]..starts[b + 1]` are those starting with byte `b`.
    long: [(&'static [u8], u16); KEYWORDS],
    starts: [u16; 257],
    /// One-byte keywords, then rules with an empty keyword (every line): `short[..singles]`, `short[singles..shorts]`.
    short: [(u8, u16); KEYWORDS],
    singles: usize,
    shorts: usize,
}

/// How many keywords the provider rules have.
const KEYWORDS: usize = {
    let mut n = 0;
    let mut i = 0;
    while i < PREFIXED.len() + CONTEXTUAL.len() {
        n += rule_keywords(i).len();
        i += 1;
    }
    n
};

/// The keywords of rule `i` (`PREFIXED`, then `CONTEXTUAL`).
const fn rule_keywords(i: usize) -> &'static [&'static str] {
    if i < PREFIXED.len() { PREFIXED[i].keywords } else { CONTEXTUAL[i - PREFIXED.len()].keywords }
}

static KEYWORD_INDEX: KeywordIndex = {
    let rules = PREFIXED.len() + CONTEXTUAL.len();
    let mut idx = KeywordIndex {
        pairs: [0; 1024],
        long: [(&[], 0); KEYWORDS],
        starts: [0; 257],
        short: [(0, 0); KEYWORDS],
        singles: 0,
        shorts: 0,
    };
    // Count the long keywords by first byte, then place them (a counting sort).
    let mut r = 0;
    while r < rules {
        let kws = rule_keywords(r);
        let mut k = 0;
        while k < kws.len() {
            let kw = kws[k].as_bytes();
            if kw.len() >= 2 {
                idx.starts[kw[0] as usize + 1] += 1;
                let pair = (kw[0] as usize) << 8 | kw[1] as usize;
                idx.pairs[pair / 64] |= 1 << (pair % 64);
            }
            k += 1;
        }
        r += 1;
    }
    let mut b = 0;
    while b < 256 {
        idx.starts[b + 1] += idx.starts[b];
        b += 1;
    }
    let mut next = idx.starts;
    // One-byte keywords first, empty ones after them.
    let mut pass = 0;
    while pass < 2 {
        let mut r = 0;
        while r < rules {
            let kws = rule_keywords(r);
            let mut k = 0;
            while k < kws.len() {
                let kw = kws[k].as_bytes();
                if pass == 0 && kw.len() >= 2 {
                    idx.long[next[kw[0] as usize] as usize] = (kw, r as u16);
                    next[kw[0] as usize] += 1;
                } else if pass == 0 && kw.len() == 1 || pass == 1 && kw.is_empty() {
                    idx.short[idx.shorts] = (if kw.is_empty() { 0 } else { kw[0] }, r as u16);
                    idx.shorts += 1;
                }
                k += 1;
            }
            r += 1;
        }
        if pass == 0 {
            idx.singles = idx.shorts;
        }
        pass += 1;
    }
    idx
};

/// The rules whose keywords were found on a line: bit `i` for rule `i`.
struct RuleSet([u64; (PREFIXED.len() + CONTEXTUAL.len()).div_ceil(64)]);

impl RuleSet {
    fn has(&self, rule: usize) -> bool {
        self.0[rule / 64] & (1 << (rule % 64)) != 0
    }
}

fn keyword_index() -> &'static KeywordIndex {
    &KEYWORD_INDEX
}

impl KeywordIndex {
    /// The rules with a keyword in `lower` (a lower-cased line).
    fn rules_in(&self, lower: &str) -> RuleSet {
        let mut set = RuleSet([0; (PREFIXED.len() + CONTEXTUAL.len()).div_ceil(64)]);
        let mut add = |rule: u16| set.0[rule as usize / 64] |= 1 << (rule % 64);
        let bytes = lower.as_bytes();
        for &(b, rule) in &self.short[..self.singles] {
            if bytes.contains(&b) {
                add(rule);
            }
        }
        for &(_, rule) in &self.short[self.singles..self.shorts] {
            add(rule);
        }
        for (i, pair) in bytes.windows(2).enumerate() {
            let key = (pair[0] as usize) << 8 | pair[1] as usize;
            if self.pairs[key / 64] & (1 << (key % 64)) == 0 {
                continue;
            }
            let first = pair[0] as usize;
            for &(kw, rule) in &self.long[self.starts[first] as usize..self.starts[first + 1] as usize] {
                if bytes[i..].starts_with(kw) {
                    add(rule);
                }
            }
        }
        set
    }
}

/// A shape a match of `rule` needs, for rules whose keywords say little:
/// Discord's bot token has only its dots, so its pattern needs a run of 24
/// or more token characters ending at a dot.
fn shape_allows(rule: &str, line: &str) -> bool {
    if rule != "discord-bot-token" {
        return true;
    }
    let mut run = 0;
    for b in line.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            run += 1;
        } else if b == b'.' && run >= 24 {
            return true;
        } else {
            run = 0;
        }
    }
    false
}

/// Whether `pair_name_re` can match: after leading blanks, an optional `-`
/// and quotes, the line starts with one of its names or `variable`.
fn may_name_a_value(line: &str) -> bool {
    let t = line.trim_start();
    let t = t.strip_prefix('-').map_or(t, str::trim_start).trim_start_matches(['"', '\'']);
    ["name", "Name", "key", "Key", "ParameterKey", "OptionName", "variable"].iter().any(|n| t.starts_with(n))
}

/// Whether `call_pair_re` can match: a `(` followed, after blanks, by a quote.
fn quote_after_paren(line: &str) -> bool {
    line.match_indices('(').any(|(i, _)| line[i + 1..].trim_start().starts_with(['"', '\'']))
}

/// Whether `spaced_re` can match: `ENV`/`ARG` after leading blanks, or a `-`
/// at the start of the line or after a blank.
fn may_be_spaced(line: &str) -> bool {
    let t = line.trim_start();
    let b = line.as_bytes();
    t.starts_with("ENV")
        || t.starts_with("ARG")
        || b.first() == Some(&b'-')
        || b.windows(2).any(|w| w[1] == b'-' && (w[0].is_ascii_whitespace() || w[0] == 0x0B))
}

/// A cheap test that says whether a pattern could match, before it is built
/// or run. In this crate's tests it can be switched off, so that a scan which
/// tries every pattern on every line can be compared with the filtered one.
#[inline]
fn gate(could_match: bool) -> bool {
    could_match || ungated()
}

#[cfg(not(test))]
#[inline]
fn ungated() -> bool {
    false
}

#[cfg(test)]
thread_local! {
    static UNGATED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

#[cfg(test)]
fn ungated() -> bool {
    UNGATED.with(|u| u.get())
}

/// [`scan`] with every prefilter switched off: each pattern is built and tried on every line.
#[cfg(test)]
fn scan_ungated(text: &str) -> Vec<Hit> {
    UNGATED.with(|u| u.set(true));
    let hits = scan(text);
    UNGATED.with(|u| u.set(false));
    hits
}

fn prefixed_re(i: usize) -> Option<&'static Regex> {
    compiled().prefixed[i].get_or_init(|| build(PREFIXED[i].pattern)).as_ref()
}

fn contextual_re(i: usize) -> Option<&'static Regex> {
    compiled().contextual[i]
        .get_or_init(|| {
            let c = &CONTEXTUAL[i];
            let kws: Vec<String> = c.keywords.iter().map(|k| regex_lite::escape(k)).collect();
            let pat = format!(
                r#"(?i:{})[\w.\-]{{0,40}}(?:\[[\x22'][\w.\-]*[\x22']\])?[\x22'`]?\s*(?::=|=>|\?=|=|:|,|\s)\s*(?:[\x22'`]|\[[\x22']?)?(?:[\w\-]+\s+)?({})(?:[^A-Za-z0-9_\-+/=.]|$)"#,
                kws.join("|"),
                c.value
            );
            build(&pat)
        })
        .as_ref()
}

fn re(cell: &'static OnceLock<Regex>, pat: &str) -> &'static Regex {
    cell.get_or_init(|| build(pat).expect("secret patterns compile"))
}

macro_rules! lazy_re {
    ($name:ident, $pat:expr) => {
        fn $name() -> &'static Regex {
            static CELL: OnceLock<Regex> = OnceLock::new();
            re(&CELL, $pat)
        }
    };
}

lazy_re!(key_header, r"(?i)-----BEGIN[ A-Z0-9_\-]{0,100}PRIVATE KEY(?: BLOCK)?-----");
lazy_re!(putty_header, r"^PuTTY-User-Key-File-\d+:");
lazy_re!(jwt_re, r"(?:^|[^A-Za-z0-9_\-])(eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{16,}(?:\.[A-Za-z0-9_\-]*)*)");
lazy_re!(jwt_b64_re, r"(?:^|[^A-Za-z0-9+/])(ZXlK[A-Za-z0-9+/]{60,}={0,2})");
lazy_re!(
    url_re,
    r"(?i)\b[a-z][a-z0-9+.\-]{1,20}://([^\s/:@\x22'`<>]{0,100}):([^\s/@\x22'`<>]{1,200})@[A-Za-z0-9\[\]._\-]+"
);
lazy_re!(curl_user_re, r#"(?:^|\s)(?:-u|--user|--proxy-user|-U)(?:\s+|=)["']?([^\s:"']{1,100}):([^\s"']{1,200})["']?"#);
lazy_re!(query_re, r"[?&;]([A-Za-z_][\w.\-]*)=([^&\s\x22'#<>;]{6,})");
lazy_re!(
    cli_password_re,
    r#"(?:\b(?:mysql|mysqldump|mysqladmin|mariadb)\b[^\n]*?\s-p([^\s'"-][^\s'"]{3,})|\b(?:docker|podman|helm|oras|skopeo|buildah|nerdctl)\s+(?:registry\s+)?login\b[^\n]*?\s-p\s+["']?([^\s'"]{4,}))"#
);
lazy_re!(
    header_re,
    r#"(?i)(?:-H|--header)\s*=?\s*["']([\w\-]+)\s*:\s*(?:(?:bearer|token|apikey|key)\s+)?([^"'\s]{8,})["']"#
);
lazy_re!(
    auth_header_re,
    r#"(?i)\b(?:authorization|proxy-authorization|x-api-key|x-auth-token|api-key|x-access-token|private-token|x-gitlab-token|x-vault-token)\s*["']?\s*[:=,]\s*["']?\s*(?:(?:bearer|basic|token|digest|apikey|sso-key)\s+)?([A-Za-z0-9._~+/=:\-]{8,})"#
);
lazy_re!(
    assignment_re,
    r#"(?:^|[^\w\-.$@]|\b)["']?(-{0,2}[$@:]?[A-Za-z_][\w.\-]*(?:\[\s*["'][\w.\-]+["']\s*\])?)["'`]?\]?(?:\s*:\s*&?(?:'static\s+)?[A-Za-z_][\w<>\[\]?.]*\??|\s+(?:string|String|str|\[\]byte))?\s*(:=|::=|\?=|\.=|\+=|=>|=|:)\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|`([^`]*)`|@"([^"]*)"|([^\s"'`,;)}\]]+))"#
);
lazy_re!(
    spaced_re,
    r#"(?:^\s*(?:ENV|ARG)\s+|(?:^|\s)-{1,2})([A-Za-z_][\w.\-]*)\s+(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([^\s"'`,;)}\]#=]+))"#
);
lazy_re!(call_pair_re, r#"\(\s*["']([A-Za-z_][\w.\-]*)["']\s*,\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)')"#);
lazy_re!(xml_element_re, r"<([A-Za-z_][\w.:\-]*)(?:\s[^>]*)?>([^<]+)</([A-Za-z_][\w.:\-]*)>");
lazy_re!(xml_attr_re, r#"(?i)(?:key|name)\s*=\s*["']([\w.:\-]+)["'][^>]*?\svalue\s*=\s*["']([^"']*)["']"#);
lazy_re!(
    xml_named_element_re,
    r#"<([A-Za-z_][\w.:\-]*)\s[^>]*?(?:name|key)\s*=\s*["']([\w.:\-]+)["'][^>]*>([^<]+)</([A-Za-z_][\w.:\-]*)>"#
);
lazy_re!(
    pair_name_re,
    r#"^\s*(?:-\s*)?(?:["']?(?:name|Name|key|Key|ParameterKey|OptionName)["']?\s*[:=]\s*["']?([A-Za-z_][\w.\-]*)["']?\s*,?|variable\s+"([A-Za-z_][\w\-]*)"\s*\{)\s*$"#
);
lazy_re!(
    pair_value_re,
    r#"^\s*["']?(?:value|Value|ParameterValue|default|Default)["']?\s*[:=]\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([^\s"',#]+))\s*,?\s*$"#
);
lazy_re!(xml_open_re, r"^\s*<([A-Za-z_][\w.:\-]*)((?:\s[^>]*)?)>([^<]*)$");
lazy_re!(xml_name_attr_re, r#"(?:name|key)\s*=\s*["']([\w.:\-]+)["']"#);
lazy_re!(plist_key_re, r"<key>\s*([\w.:\-]+)\s*</key>\s*$");
lazy_re!(plist_value_re, r"^\s*<(?:string|value|data)>([^<]+)</(?:string|value|data)>");
lazy_re!(k8s_kind_re, r#"(?m)^\s*kind:\s*["']?Secret["']?\s*$"#);
lazy_re!(yaml_kv_re, r#"^(\s+)([\w.\-]+)\s*:\s*["']?([^\s"'#]+)["']?\s*$"#);

// ---------------------------------------------------------------- names

/// Words of an identifier: `HEROKU_API_KEY`, `herokuApiKey`, `heroku.api-key` → heroku, api, key.
fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    // Glued words: apikey, authtoken, secretkey, accesskey, passwd…
    let mut split = Vec::new();
    for w in out {
        let mut done = false;
        for suffix in ["password", "passwd", "secret", "token", "key", "pass", "pwd"] {
            if w.len() > suffix.len() + 2
                && w.ends_with(suffix)
                && !matches!(
                    w.as_str(),
                    "monkey"
                        | "turkey"
                        | "donkey"
                        | "hockey"
                        | "jockey"
                        | "whiskey"
                        | "bypass"
                        | "compass"
                        | "surpass"
                        | "trespass"
                )
            {
                split.push(w[..w.len() - suffix.len()].to_string());
                split.push(suffix.to_string());
                done = true;
                break;
            }
        }
        if !done {
            split.push(w);
        }
    }
    split
}

/// How a name holds a credential: `Some(true)` for a password, `Some(false)`
/// for a key or token, `None` when it is not a credential name.
fn credential_name(name: &str) -> Option<bool> {
    let w = words(name);
    const CRED: &[&str] = &[
        "password",
        "passwd",
        "pass",
        "pwd",
        "passphrase",
        "pw",
        "secret",
        "secrets",
        "token",
        "tokens",
        "key",
        "apikey",
        "credential",
        "credentials",
        "creds",
        "cred",
        "auth",
        "pat",
        "sk",
        "dsn",
        "signature",
        "salt",
        "privatekey",
        "accesskey",
        "secretkey",
        "authtoken",
        "bearer",
        "jwt",
        "session",
        "cookie",
        "hmac",
        "connectionstring",
        "conn",
        "sas",
    ];
    const AFTER_OK: &[&str] = &[
        "value",
        "base",
        "string",
        "str",
        "b64",
        "base64",
        "hash",
        "data",
        "raw",
        "plain",
        "text",
        "live",
        "prod",
        "production",
        "test",
        "dev",
        "v1",
        "v2",
        "v3",
        "enc",
        "encrypted",
        "hex",
        "bytes",
        "secret",
        "key",
        "token",
        "id",
        "1",
        "2",
        "3",
        "local",
        "default",
        "override",
        "fallback",
        "env",
        "bytes",
        "b",
        "s",
    ];
    let last = w.iter().rposition(|x| CRED.contains(&x.as_str()))?;
    let cred = w[last].as_str();
    // What follows the credential word says what the value is: a key id, a URL, a length.
    for after in &w[last + 1..] {
        if !AFTER_OK.contains(&after.as_str()) || after == "id" {
            return None;
        }
    }
    let before = if last > 0 { w[last - 1].as_str() } else { "" };
    let public = [
        "public",
        "publishable",
        "pub",
        "primary",
        "foreign",
        "sort",
        "partition",
        "cache",
        "idempotency",
        "lookup",
        "unique",
        "composite",
        "dedup",
        "dedupe",
        "object",
        "i18n",
        "translation",
        "route",
        "map",
        "row",
        "hot",
        "short",
        "shortcut",
        "sharding",
        "shard",
        "routing",
        "group",
        "cursor",
        "next",
        "page",
        "csrf",
        "storage",
        "registry",
        "ssh",
        "gpg",
        "pgp",
        "site",
        "recaptcha",
    ];
    if cred == "key" && (public.contains(&before) || w.iter().any(|x| matches!(x.as_str(), "public" | "publishable"))) {
        return None;
    }
    if matches!(cred, "session" | "cookie" | "conn" | "license" | "licence" | "salt" | "signature")
        && last + 1 < w.len()
    {
        return None;
    }
    if matches!(cred, "pass") && matches!(before, "by" | "sur" | "com" | "tres") {
        return None;
    }
    if w.iter().any(|x| {
        matches!(
            x.as_str(),
            "url"
                | "uri"
                | "endpoint"
                | "path"
                | "file"
                | "filename"
                | "dir"
                | "name"
                | "type"
                | "length"
                | "len"
                | "size"
                | "count"
                | "header"
                | "field"
                | "regex"
                | "pattern"
                | "policy"
                | "expiry"
                | "expires"
                | "expiration"
                | "ttl"
                | "timeout"
                | "enabled"
                | "required"
                | "format"
                | "prefix"
                | "label"
                | "placeholder"
                | "hint"
                | "min"
                | "max"
                | "rotation"
                | "strength"
                | "reset"
                | "forgot"
                | "confirm"
                | "confirmation"
                | "validation"
                | "error"
                | "message"
                | "input"
                | "mode"
                | "provider"
                | "method"
                | "algorithm"
                | "alg"
                | "kind"
                | "version"
                | "ref"
                | "env"
                | "var"
                | "variable"
                | "arn"
                | "store"
                | "manager"
                | "vault"
                | "location"
                | "column"
                | "template"
                | "description"
                | "desc"
                | "title"
        )
    }) && !matches!(w.last().map(|s| s.as_str()), Some("password" | "secret" | "token" | "key" | "passwd" | "pwd"))
    {
        return None;
    }
    Some(matches!(cred, "password" | "passwd" | "pass" | "pwd" | "passphrase" | "pw"))
}

// ---------------------------------------------------------------- scanning

/// Every credential in `text`, at most one per line (the most specific rule wins).
pub fn scan(text: &str) -> Vec<Hit> {
    let lines: Vec<&str> = text.lines().collect();
    let mut hits: Vec<Hit> = Vec::new();
    let mut taken = vec![false; lines.len()];
    let mut skip_until = 0usize;

    // Multi-line material first: key blocks, Kubernetes Secret data, XML values split over lines.
    for (i, line) in lines.iter().enumerate() {
        if i < skip_until {
            continue;
        }
        if let Some(h) = key_block(&lines, i) {
            let (a, b) = h.block.unwrap_or((i, i));
            for t in taken.iter_mut().take(b + 1).skip(a) {
                *t = true;
            }
            skip_until = b + 1;
            hits.push(h);
            continue;
        }
        if line.len() < 20000
            && gate(may_name_a_value(line))
            && let Some(h) = name_value_pair(&lines, i)
            && !taken[h.line]
        {
            taken[h.line] = true;
            hits.push(h);
        }
        if line.len() < 20000
            && gate(line.contains('<'))
            && let Some(h) = xml_split(&lines, i).or_else(|| plist_pair(&lines, i))
            && !taken[h.line]
        {
            taken[h.line] = true;
            hits.push(h);
        }
    }
    if gate(text.contains("Secret")) && k8s_kind_re().is_match(text) {
        let (found, covered) = kubernetes_data(&lines);
        for l in covered {
            taken[l] = true;
        }
        for h in found {
            if !hits.iter().any(|x| x.line == h.line) {
                hits.push(h);
            }
        }
    }
    for (i, line) in lines.iter().enumerate() {
        if taken[i] {
            continue;
        }
        if let Some(h) = scan_line(line, i) {
            hits.push(h);
        }
    }
    hits.sort_by_key(|h| h.line);
    hits
}

/// A private key header followed by a body (on the next lines, or after `\n` escapes on the same line).
fn key_block(lines: &[&str], i: usize) -> Option<Hit> {
    let line = lines[i];
    // Both headers hold five dashes or start with PuTTY's; most lines hold neither.
    let is_putty = gate(line.starts_with("PuTTY-User-Key-File-")) && putty_header().is_match(line);
    let m = if is_putty {
        None
    } else if gate(line.contains("-----")) {
        Some(key_header().find(line)?)
    } else {
        return None;
    };
    let b64 = |s: &str| {
        let t = s.trim().trim_matches(|c| matches!(c, '"' | '\'' | ',' | '+' | '\\' | '`'));
        let t = t.strip_suffix("\\n").unwrap_or(t).trim_end_matches(['"', '\'', ',', '+', ' ']);
        t.strip_suffix("\\n").unwrap_or(t).to_string()
    };
    let body_ok = |s: &str| {
        s.len() >= 16
            && s.chars().all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c))
            && entropy(s) >= 3.0
            && !s.to_ascii_lowercase().contains("xxxx")
            && !s.to_ascii_lowercase().contains("example")
    };
    let mut end = i;
    let mut found = false;
    if let Some(m) = m {
        // Same line: JSON or a string with escaped newlines.
        let rest = &line[m.end()..];
        for part in rest.split("\\n") {
            let p = b64(part);
            if p.contains("-----END") {
                break;
            }
            if body_ok(&p) {
                found = true;
                break;
            }
        }
    }
    if !found {
        for (j, l) in lines.iter().enumerate().skip(i + 1).take(if is_putty { 12 } else { 6 }) {
            let t = l.trim();
            if t.contains("-----END") || t.contains("-----BEGIN") {
                break;
            }
            if t.is_empty() || t.contains(':') && !is_putty {
                continue;
            }
            let p =
                if is_putty { t.strip_prefix("Private-Lines:").map(|_| "").unwrap_or(t).to_string() } else { b64(t) };
            if is_putty && t.starts_with("Private-Lines:") {
                if let Some(next) = lines.get(j + 1)
                    && body_ok(next.trim())
                {
                    found = true;
                    end = j + 1;
                    break;
                }
                continue;
            }
            if !is_putty && body_ok(&p) {
                found = true;
                end = j;
                break;
            }
        }
    }
    if !found {
        return None;
    }
    // The block runs to its END line (or the last base64 line).
    for (j, l) in lines.iter().enumerate().skip(end) {
        if l.contains("-----END") {
            end = j;
            break;
        }
        if j > end + 200 {
            break;
        }
        if !l.trim().is_empty() && !l.trim().chars().all(|c| c.is_ascii_alphanumeric() || "+/=\\\"',".contains(c)) {
            break;
        }
        end = j;
    }
    Some(Hit {
        line: i,
        rule: if is_putty { "putty-private-key" } else { "private-key" },
        family: Family::PrivateKey,
        level: Level::Critical,
        what: if is_putty { "PuTTY private key".into() } else { "private key block".into() },
        redacted: "-----BEGIN …".into(),
        note: None,
        spans: vec![(i, 0..line.len())],
        block: Some((i, end)),
    })
}

/// `<password>` on one line, the value on the next, `</password>` after.
fn xml_split(lines: &[&str], i: usize) -> Option<Hit> {
    let open = xml_open_re().captures(lines[i])?;
    let tag = open.get(1)?.as_str();
    // `<string name="api_key">`, `<entry key="password">`: the attribute names the value.
    let attrs = open.get(2).map(|m| m.as_str()).unwrap_or("");
    let named = xml_name_attr_re().captures(attrs).and_then(|c| c.get(1)).map(|m| m.as_str());
    let name = named.unwrap_or(tag);
    let password = credential_name(name)?;
    let close = format!("</{tag}");
    // The text up to the closing tag, over at most four lines, joined.
    let mut value = String::new();
    let mut at: Option<(usize, Range<usize>)> = None;
    let first = open.get(3).map(|m| m.as_str()).unwrap_or("");
    let mut push = |line_no: usize, line: &str, part: &str, value: &mut String| {
        let t = part.trim();
        if !t.is_empty() {
            if at.is_none() {
                let start = line.find(t).unwrap_or(0);
                at = Some((line_no, start..start + t.len()));
            }
            value.push_str(t);
        }
    };
    push(i, lines[i], first, &mut value);
    let mut closed = false;
    for (j, line) in lines.iter().enumerate().skip(i + 1).take(4) {
        if let Some(k) = line.find(&close) {
            push(j, line, &line[..k], &mut value);
            closed = true;
            break;
        }
        if line.contains('<') {
            return None;
        }
        push(j, line, line, &mut value);
    }
    let (line_no, span) = at?;
    if !closed || !credible_value(&value, password, true) {
        return None;
    }
    Some(generic_hit(line_no, "xml-element", name, &value, span))
}

/// A name and its value on separate lines: `- name: DB_PASSWORD` then
/// `value: …` (Kubernetes env, Compose, CI), `variable "db_password" {` then
/// `default = "…"` (Terraform), `ParameterKey` then `ParameterValue`.
fn name_value_pair(lines: &[&str], i: usize) -> Option<Hit> {
    let c = pair_name_re().captures(lines[i])?;
    let name = c.get(1).or(c.get(2))?.as_str();
    let password = credential_name(name)?;
    for (j, line) in lines.iter().enumerate().skip(i + 1).take(3) {
        if let Some(v) = pair_value_re().captures(line) {
            let m = v.get(1).or(v.get(2)).or(v.get(3))?;
            let quoted = v.get(3).is_none();
            if !credible_value(m.as_str(), password, quoted) {
                return None;
            }
            let mut h = generic_hit(j, "generic-assignment", name, m.as_str(), m.range());
            h.what = format!("literal value given to `{name}`");
            return Some(h);
        }
        if pair_name_re().is_match(line) {
            return None;
        }
    }
    None
}

/// `<key>password</key>` then `<string>…</string>` (property lists) on the next line.
fn plist_pair(lines: &[&str], i: usize) -> Option<Hit> {
    let c = plist_key_re().captures(lines[i])?;
    let name = c.get(1)?.as_str();
    let password = credential_name(name)?;
    let next = lines.get(i + 1)?;
    let v = plist_value_re().captures(next)?.get(1)?;
    if !credible_value(v.as_str(), password, true) {
        return None;
    }
    Some(generic_hit(i + 1, "xml-element", name, v.as_str(), v.range()))
}

/// Values under `data:` / `stringData:` of a `kind: Secret` document.
fn kubernetes_data(lines: &[&str]) -> (Vec<Hit>, Vec<usize>) {
    let mut out = Vec::new();
    let mut covered = Vec::new();
    let mut section: Option<(usize, bool)> = None; // (indent of the data: key, base64?)
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_start();
        let indent = line.len() - t.len();
        if t.starts_with("---") {
            section = None;
            continue;
        }
        if t == "data:" || t == "stringData:" {
            section = Some((indent, t == "data:"));
            continue;
        }
        let Some((base, encoded)) = section else { continue };
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if indent <= base {
            section = None;
            continue;
        }
        covered.push(i);
        let Some(c) = yaml_kv_re().captures(line) else { continue };
        let key = &c[2];
        let m = c.get(3).expect("group 3");
        let v = m.as_str();
        if is_placeholder(v) || v.len() < 4 {
            continue;
        }
        let plain = if encoded {
            match b64_decode(v).and_then(|b| String::from_utf8(b).ok()) {
                Some(p) => p,
                None => continue,
            }
        } else {
            v.to_string()
        };
        let p = plain.trim();
        if p.is_empty() || is_placeholder(p) || is_plain_word(p) || p.len() < 4 {
            continue;
        }
        // Non-credential keys holding plain settings (a host, a port, a user name).
        let k = key.to_ascii_lowercase();
        if matches!(
            k.as_str(),
            "host" | "hostname" | "port" | "username" | "user" | "database" | "db" | "namespace" | "region"
        ) {
            continue;
        }
        out.push(Hit {
            line: i,
            rule: "kubernetes-secret-data",
            family: Family::Kubernetes,
            level: Level::High,
            what: format!("Kubernetes Secret value `{key}`"),
            redacted: redact_value(v),
            note: Some("Base64 in a Secret manifest is an encoding, not encryption: use Sealed Secrets, SOPS or an external secret store."),
            spans: vec![(i, m.range())],
            block: None,
        });
    }
    (out, covered)
}

fn generic_hit(line: usize, rule: &'static str, name: &str, value: &str, span: Range<usize>) -> Hit {
    Hit {
        line,
        rule,
        family: Family::Assignment,
        level: Level::High,
        what: format!(
            "literal value assigned to `{}`",
            name.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        ),
        redacted: redact_value(value),
        note: None,
        spans: vec![(line, span)],
        block: None,
    }
}

fn scan_line(line: &str, i: usize) -> Option<Hit> {
    if line.trim().len() < 8 {
        return None;
    }
    let lower = line.to_ascii_lowercase();
    // A line the author marked as a known non-secret (detect-secrets' and gitleaks' markers).
    if lower.contains("pragma: allowlist secret") || lower.contains("gitleaks:allow") {
        return None;
    }
    // Provider formats with a prefix, most specific first (the table's order).
    let keywords = keyword_index().rules_in(&lower);
    for (k, p) in PREFIXED.iter().enumerate() {
        if !gate(keywords.has(k) && shape_allows(p.id, line)) {
            continue;
        }
        let Some(re) = prefixed_re(k) else { continue };
        for c in re.captures_iter(line) {
            let Some(m) = c.get(1) else { continue };
            let v = m.as_str();
            if p.entropy > 0.0 && !credible_token(v, p.entropy) || v.contains("xxxxxx") || v.contains("XXXXXX") {
                continue;
            }
            if p.id == "gcp-service-account" {
                continue; // its private_key line is reported by the key rule
            }
            let mut level = p.level;
            let mut note = None;
            if p.check == Check::GithubCrc && v.len() == 40 {
                if github_checksum_ok(v) {
                    note = Some("Its CRC32 checksum matches: this is a well-formed GitHub token.");
                } else {
                    level = Level::Medium;
                    note = Some(
                        "Its checksum does not match GitHub's, so it may be a made-up value; if it is a test fixture, mark it as one.",
                    );
                }
            }
            return Some(Hit {
                line: i,
                rule: p.id,
                family: Family::Provider,
                level,
                what: format!("{} {}", p.service, p.what),
                redacted: redact_value(v),
                note,
                spans: vec![(i, m.range())],
                block: None,
            });
        }
    }
    // JWTs, also base64-wrapped.
    if gate(lower.contains("eyj")) {
        for c in jwt_re().captures_iter(line) {
            let m = c.get(1).expect("group 1");
            if let Some(h) = jwt_hit(m.as_str(), i, m.range(), "jwt") {
                return Some(h);
            }
        }
    }
    if gate(line.contains("ZXlK")) {
        for c in jwt_b64_re().captures_iter(line) {
            let m = c.get(1).expect("group 1");
            let Some(decoded) = b64_decode(m.as_str()).and_then(|b| String::from_utf8(b).ok()) else { continue };
            if let Some(inner) = jwt_re().captures(&decoded).and_then(|c| c.get(1))
                && let Some(h) = jwt_hit(inner.as_str(), i, m.range(), "jwt-base64")
            {
                return Some(h);
            }
        }
    }
    // Credentials in URLs.
    if gate(lower.contains("://")) {
        for c in url_re().captures_iter(line) {
            let (user, pw) = (c.get(1).expect("user"), c.get(2).expect("password"));
            let p = pw.as_str();
            if is_placeholder(p)
                || !user.as_str().is_empty() && is_placeholder(user.as_str())
                || p.len() < 3
                || is_plain_word(p)
            {
                continue;
            }
            if matches!(p.to_ascii_lowercase().as_str(), "password" | "pass" | "pwd" | "secret" | "token" | "passwd") {
                continue;
            }
            return Some(Hit {
                line: i,
                rule: "url-credentials",
                family: Family::HttpCredential,
                level: Level::High,
                what: "password inside a URL".into(),
                redacted: redact_value(p),
                note: None,
                spans: vec![(i, pw.range())],
                block: None,
            });
        }
    }
    // curl -u user:password
    if gate(lower.contains("-u") || lower.contains("--user"))
        && let Some(c) = curl_user_re().captures(line)
    {
        let pw = c.get(2).expect("password");
        let p = pw.as_str();
        if !is_placeholder(p) && !is_plain_word(p) && p.len() >= 3 && !p.starts_with('$') {
            return Some(Hit {
                line: i,
                rule: "curl-user",
                family: Family::HttpCredential,
                level: Level::High,
                what: "password passed to curl -u".into(),
                redacted: redact_value(p),
                note: Some("Use curl's --netrc-file or read the password from a file or variable."),
                spans: vec![(i, pw.range())],
                block: None,
            });
        }
    }
    // Authorization headers and API-key headers.
    if gate(
        [
            "authorization",
            "api-key",
            "x-auth-token",
            "x-access-token",
            "private-token",
            "x-gitlab-token",
            "x-vault-token",
        ]
        .iter()
        .any(|k| lower.contains(k)),
    ) {
        for c in auth_header_re().captures_iter(line) {
            let m = c.get(1).expect("group 1");
            let v = m.as_str().trim_end_matches(['"', '\'']);
            let basic = lower.contains("basic ");
            let decoded_ok = basic
                && b64_decode(v).and_then(|b| String::from_utf8(b).ok()).is_some_and(|s| {
                    let pw = s.split(':').nth(1).unwrap_or("");
                    s.contains(':') && !is_placeholder(pw) && !is_plain_word(pw)
                });
            if is_placeholder(v) || basic && !decoded_ok || !basic && !credible_value(v, false, true) {
                continue;
            }
            return Some(Hit {
                line: i,
                rule: "authorization-header",
                family: Family::HttpCredential,
                level: Level::High,
                what: "credential in an HTTP header".into(),
                redacted: redact_value(v),
                note: None,
                spans: vec![(i, m.start()..m.start() + v.len())],
                block: None,
            });
        }
    }
    // Credentials in a URL's query (`?password=…`, `&api_key=…`). A part of
    // the rule, not a prefilter: `;`-separated pairs without `?` or `&` are a
    // connection string, left to the assignment forms.
    if lower.contains('=') && (lower.contains('?') || lower.contains('&')) {
        for c in query_re().captures_iter(line) {
            let Some(pw) = credential_name(&c[1]) else { continue };
            let m = c.get(2).expect("value");
            if credible_value(m.as_str(), pw, true) {
                let mut h = generic_hit(i, "url-query-credentials", &c[1], m.as_str(), m.range());
                h.family = Family::HttpCredential;
                h.what = format!("credential in a URL's `{}` parameter", &c[1]);
                return Some(h);
            }
        }
    }
    // mysql -pPASSWORD, docker login -p PASSWORD
    if gate(lower.contains("-p"))
        && let Some(c) = cli_password_re().captures(line)
    {
        let m = c.get(1).or(c.get(2)).expect("value");
        if !is_placeholder(m.as_str()) && credible_value(m.as_str(), true, true) {
            let mut h = generic_hit(i, "cli-password", "-p", m.as_str(), m.range());
            h.family = Family::HttpCredential;
            h.what = "password on a command line".into();
            return Some(h);
        }
    }
    // curl -H / --header with a credential-like header name.
    if gate(lower.contains("-h") || lower.contains("--header")) {
        for c in header_re().captures_iter(line) {
            let name = c[1].to_ascii_lowercase();
            let m = c.get(2).expect("value");
            let credential = ["token", "key", "auth", "secret", "password", "session", "cookie", "signature"]
                .iter()
                .any(|k| name.contains(k));
            let v = m.as_str();
            let random_letters = v.len() >= 16
                && v.chars().all(|c| c.is_ascii_alphanumeric())
                && v.chars().any(|c| c.is_ascii_uppercase())
                && v.chars().any(|c| c.is_ascii_lowercase())
                && entropy(v) >= 3.5;
            if credential && !is_placeholder(v) && (random_letters || credible_value(v, false, true)) {
                return Some(Hit {
                    line: i,
                    rule: "authorization-header",
                    family: Family::HttpCredential,
                    level: Level::High,
                    what: "credential in an HTTP header".into(),
                    redacted: redact_value(m.as_str()),
                    note: None,
                    spans: vec![(i, m.range())],
                    block: None,
                });
            }
        }
    }
    // Contextual provider formats: the service's name, then a value of its shape.
    for (k, c) in CONTEXTUAL.iter().enumerate() {
        if !gate(keywords.has(PREFIXED.len() + k)) {
            continue;
        }
        let Some(re) = contextual_re(k) else { continue };
        for cap in re.captures_iter(line) {
            let m = cap.get(1).expect("group 1");
            let v = m.as_str();
            if !credible_token(v, 3.0) || is_placeholder(v) {
                continue;
            }
            // A name of the service's that is not a credential (heroku_app_id = <uuid>).
            let name_part = &line[cap.get(0).expect("whole").start()..m.start()];
            let has_cred_word = words(name_part).iter().any(|w| {
                matches!(
                    w.as_str(),
                    "key"
                        | "token"
                        | "secret"
                        | "password"
                        | "auth"
                        | "apikey"
                        | "pat"
                        | "credential"
                        | "credentials"
                        | "sk"
                        | "api"
                        | "access"
                )
            });
            if !has_cred_word {
                continue;
            }
            return Some(Hit {
                line: i,
                rule: c.id,
                family: Family::Provider,
                level: Level::High,
                what: format!("{} credential", c.service),
                redacted: redact_value(v),
                note: None,
                spans: vec![(i, m.range())],
                block: None,
            });
        }
    }
    generic_line(line, &lower, i)
}

fn jwt_hit(token: &str, i: usize, span: Range<usize>, rule: &'static str) -> Option<Hit> {
    let mut parts = token.split('.');
    let header = b64_decode(parts.next()?).and_then(|b| String::from_utf8(b).ok())?;
    let payload = b64_decode(parts.next()?).and_then(|b| String::from_utf8(b).ok()).unwrap_or_default();
    if !header.contains("\"alg\"") && !header.contains("\"typ\"") && !header.contains("\"kid\"") {
        return None;
    }
    // Keys providers document as public: Supabase's anon key is a JWT with role anon.
    let compact: String = payload.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.contains("\"role\":\"anon\"") {
        return None;
    }
    Some(Hit {
        line: i,
        rule,
        family: Family::Jwt,
        level: Level::High,
        what: if rule == "jwt" { "JSON Web Token".into() } else { "base64-wrapped JSON Web Token".into() },
        redacted: redact_value(token),
        note: Some("A signed token grants access until it expires; revoke it or rotate its signing key."),
        spans: vec![(i, span)],
        block: None,
    })
}

const NAME_HINTS: &[&str] = &[
    "pass",
    "pwd",
    "secret",
    "token",
    "key",
    "cred",
    "auth",
    "pat",
    "sk",
    "dsn",
    "signature",
    "salt",
    "jwt",
    "bearer",
    "session",
    "cookie",
    "license",
    "licence",
    "hmac",
    "conn",
    "sas",
    "pw",
    "<master>",
];

fn generic_line(line: &str, lower: &str, i: usize) -> Option<Hit> {
    if !gate(NAME_HINTS.iter().any(|h| lower.contains(h))) {
        return None;
    }
    if let Some(h) = generic_forms(line, lower, i) {
        return Some(h);
    }
    // JSON inside a string (`"{\"password\": \"…\"}"`): unescape and look again.
    if line.contains("\\\"") {
        let plain = line.replace("\\\"", "\"");
        let plain_lower = plain.to_ascii_lowercase();
        if let Some(mut h) = generic_forms(&plain, &plain_lower, i) {
            let v = plain[h.spans[0].1.clone()].to_string();
            let start = line.find(&v)?;
            h.spans = vec![(i, start..start + v.len())];
            return Some(h);
        }
    }
    None
}

fn generic_forms(line: &str, lower: &str, i: usize) -> Option<Hit> {
    // <password>value</password>
    if gate(line.contains("</")) {
        for c in xml_element_re().captures_iter(line) {
            if c[1] != c[3] {
                continue;
            }
            let m = c.get(2).expect("value");
            // Maven's settings-security.xml: `{…}` is an encrypted password or master password.
            let maven = m.as_str().starts_with('{')
                && m.as_str().trim_end_matches(['}', '\\']).len() > 20
                && matches!(c[1].to_ascii_lowercase().as_str(), "password" | "master" | "passphrase")
                && m.as_str()[1..]
                    .trim_end_matches(['}', '\\'])
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c));
            if maven {
                let mut h = generic_hit(i, "xml-element", &c[1], m.as_str(), m.range());
                h.what = "Maven encrypted password".into();
                return Some(h);
            }
            let Some(pw) = credential_name(&c[1]) else { continue };
            if credible_value(m.as_str().trim(), pw, true) {
                return Some(generic_hit(i, "xml-element", &c[1], m.as_str(), m.range()));
            }
        }
    }
    // <string name="api_key">…</string>, <entry key="password">…</entry>
    if gate(line.contains("</") && (lower.contains("name=") || lower.contains("key="))) {
        for c in xml_named_element_re().captures_iter(line) {
            if c[1] != c[4] {
                continue;
            }
            let Some(pw) = credential_name(&c[2]) else { continue };
            let m = c.get(3).expect("value");
            if credible_value(m.as_str().trim(), pw, true) {
                return Some(generic_hit(i, "xml-element", &c[2], m.as_str(), m.range()));
            }
        }
    }
    // <add key="ApiKey" value="…"/>, <property name="password" value="…"/>
    if gate(lower.contains("value")) {
        for c in xml_attr_re().captures_iter(line) {
            let Some(pw) = credential_name(&c[1]) else { continue };
            let m = c.get(2).expect("value");
            if credible_value(m.as_str(), pw, true) {
                return Some(generic_hit(i, "xml-attribute", &c[1], m.as_str(), m.range()));
            }
        }
    }
    // System.setProperty("db.password", "…"), define('API_KEY', '…'), os.getenv("TOKEN", "…")
    if gate(quote_after_paren(line)) {
        for c in call_pair_re().captures_iter(line) {
            let Some(pw) = credential_name(&c[1]) else { continue };
            let m = c.get(2).or(c.get(3)).expect("value");
            if credible_value(m.as_str(), pw, true) {
                return Some(generic_hit(i, "call-argument", &c[1], m.as_str(), m.range()));
            }
        }
    }
    // Dockerfile `ENV NAME value`, command-line `--password value`.
    if gate(may_be_spaced(line)) {
        for c in spaced_re().captures_iter(line) {
            let name = c.get(1).expect("name").as_str();
            let Some(pw) = credential_name(name) else { continue };
            let (m, quoted) = match (c.get(2), c.get(3), c.get(4)) {
                (Some(m), ..) | (_, Some(m), _) => (m, true),
                (.., Some(m)) => (m, false),
                _ => continue,
            };
            if credible_value(m.as_str(), pw, quoted) {
                return Some(generic_hit(i, "generic-assignment", name, m.as_str(), m.range()));
            }
        }
    }
    for c in assignment_re().captures_iter(line) {
        let name = c.get(1).expect("name").as_str();
        let Some(pw) = credential_name(name) else { continue };
        let (m, quoted) = match (c.get(3), c.get(4), c.get(5), c.get(6), c.get(7)) {
            (Some(m), ..) | (_, Some(m), ..) | (_, _, Some(m), ..) | (_, _, _, Some(m), _) => (m, true),
            (.., Some(m)) => (m, false),
            _ => continue,
        };
        let mut v = m.as_str();
        // A value that continues a YAML block, or a comparison.
        if v.starts_with('=') || v == "|" || v == ">" || v.ends_with(':') && !quoted {
            continue;
        }
        // Escaped newlines in a JSON string: the first line is the value.
        if quoted && v.contains("\\n") {
            v = v.split("\\n").next().unwrap_or(v);
        }
        if !credible_value(v, pw, quoted) {
            continue;
        }
        let start = m.start();
        return Some(generic_hit(i, "generic-assignment", name, v, start..start + v.len()));
    }
    None
}

/// `text` with every secret [`scan`] reports replaced by `replacement`, and
/// key blocks replaced by one `replacement` line.
pub fn redact(text: &str, replacement: &str) -> String {
    redact_hits(text, &scan(text), replacement)
}

/// [`redact`] with the hits of `scan(text)` already at hand.
pub fn redact_hits(text: &str, hits: &[Hit], replacement: &str) -> String {
    let mut drop = std::collections::HashSet::new();
    let mut spans: std::collections::HashMap<usize, Vec<Range<usize>>> = std::collections::HashMap::new();
    let mut whole = std::collections::HashSet::new();
    for h in hits {
        if let Some((a, b)) = h.block {
            whole.insert(a);
            for l in a + 1..=b {
                drop.insert(l);
            }
            continue;
        }
        for (l, r) in &h.spans {
            spans.entry(*l).or_default().push(r.clone());
        }
    }
    let mut out = String::with_capacity(text.len());
    for (idx, raw) in text.split_inclusive('\n').enumerate() {
        let (body, end) = match raw.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (raw, ""),
        };
        let body_no_cr = body.strip_suffix('\r').unwrap_or(body);
        let cr = if body_no_cr.len() != body.len() { "\r" } else { "" };
        if drop.contains(&idx) {
            continue;
        }
        if whole.contains(&idx) {
            out.push_str(replacement);
            out.push_str(cr);
            out.push_str(end);
            continue;
        }
        let mut clean = body_no_cr.to_string();
        if let Some(rs) = spans.get_mut(&idx) {
            rs.sort_by_key(|r| std::cmp::Reverse(r.start));
            for r in rs.iter() {
                if r.end <= clean.len() && clean.is_char_boundary(r.start) && clean.is_char_boundary(r.end) {
                    clean.replace_range(r.clone(), replacement);
                }
            }
        }
        out.push_str(&clean);
        out.push_str(cr);
        out.push_str(end);
    }
    // A second pass catches anything a first redaction uncovered on the same line.
    if hits.is_empty() || out == text { out } else { redact_again(out, replacement) }
}

fn redact_again(text: String, replacement: &str) -> String {
    let hits = scan(&text);
    if hits.is_empty() {
        return text;
    }
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut out = String::with_capacity(text.len());
    for (idx, raw) in lines.iter().enumerate() {
        let mut clean = raw.to_string();
        let mut rs: Vec<Range<usize>> =
            hits.iter().flat_map(|h| h.spans.iter()).filter(|(l, _)| *l == idx).map(|(_, r)| r.clone()).collect();
        rs.sort_by_key(|r| std::cmp::Reverse(r.start));
        for r in rs {
            if r.end <= clean.len() && clean.is_char_boundary(r.start) && clean.is_char_boundary(r.end) {
                clean.replace_range(r, replacement);
            }
        }
        out.push_str(&clean);
    }
    out
}

#[cfg(test)]
mod tests;
