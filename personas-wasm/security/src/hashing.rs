//! Hash calls judged by what they hash: MD5, SHA-1 or an unsalted SHA-2 of a
//! password is a finding; MD5 of a file or content (a checksum, an ETag, a
//! cache key) is not.

use std::sync::OnceLock;

use agent_os_persona_sdk::brief::Severity;
use regex_lite::Regex;

/// A hash call: Python, Node, Go, Rust, PHP, Java, case-insensitive. One
/// alternation of these forms, kept apart so that each is built only when a
/// line holds one of its lower-case needles (a fresh instance then builds one
/// or two small patterns, not the whole alternation); [`find_call`] picks
/// the match the alternation would.
pub(crate) const CALLS: &[(&str, &[&str])] = &[
    (r"\bhashlib\.(?:md5|sha1|sha224|sha256|sha384|sha512)\(", &["hashlib."]),
    (r#"\bhashlib\.new\(\s*['"](?:md5|sha1|sha256|sha512)['"]"#, &["hashlib.new("]),
    (r#"createHash\(\s*['"](?:md5|sha1|sha256|sha512)['"]"#, &["createhash("]),
    (r"\b(?:md5|sha1)\.(?:New|Sum)\(", &["md5.", "sha1."]),
    (r"\bsha256\.(?:New|Sum256)\(", &["sha256."]),
    (r"\bsha512\.(?:New|Sum512)\(", &["sha512."]),
    (r"\b(?:Md5|Sha1|Sha256|Sha512)::(?:new|digest)\b", &["md5::", "sha1::", "sha256::", "sha512::"]),
    (r"\bmd5::compute\(", &["md5::compute("]),
    (r"(?:^|[^.\w$>:])(?:md5|sha1)\s*\(", &["md5", "sha1"]),
    (r#"\bhash\(\s*['"](?:md5|sha1|sha256)['"]"#, &["hash("]),
    (r#"MessageDigest\.getInstance\(\s*"(?:MD5|SHA-?1|SHA-?256)""#, &["messagedigest.getinstance("]),
    (r"\bDigestUtils\.(?:md5|sha1|sha256)", &["digestutils."]),
];

/// The match of `(?i)` + the alternation of [`CALLS`] in `line` (`lower` is
/// it lower-cased): the leftmost, and of those the first form's, which is
/// what leftmost-first alternation picks.
fn find_call<'l>(line: &'l str, lower: &str) -> Option<regex_lite::Match<'l>> {
    static CELLS: [OnceLock<Regex>; CALLS.len()] = [const { OnceLock::new() }; CALLS.len()];
    let mut best: Option<regex_lite::Match<'l>> = None;
    for ((pattern, needles), cell) in CALLS.iter().zip(&CELLS) {
        if !needles.iter().any(|n| lower.contains(n)) {
            continue;
        }
        let re = cell.get_or_init(|| Regex::new(&format!("(?i){pattern}")).expect("a valid pattern"));
        if let Some(m) = re.find(line)
            && best.is_none_or(|b| m.start() < b.start())
        {
            best = Some(m);
        }
    }
    best
}

/// Words that say the value is a password.
const PASSWORD: &str = r"(?i)pass(?:word|wd|phrase)|\bpwd\b|\bpw\b|\$pass\b|\bpass\b";

/// Words that say the hash is a checksum of data, not a credential.
const CHECKSUM: &str = r"(?i)checksum|etag|\bfile|content|chunk|\bblob|cache|fingerprint|usedforsecurity\s*=\s*False";

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("a valid pattern"))
}

/// What a hash call on line `i` amounts to: severity, title and advice.
pub fn judge(lines: &[&str], i: usize) -> Option<(Severity, &'static str, &'static str)> {
    static P: OnceLock<Regex> = OnceLock::new();
    static K: OnceLock<Regex> = OnceLock::new();
    let line = lines.get(i)?;
    let call = find_call(line, &line.to_ascii_lowercase())?;
    let algo = call.as_str().to_ascii_lowercase();
    let weak = algo.contains("md5") || algo.contains("sha1") || algo.contains("sha-1");
    // A password on the line, or on the two lines before it for MD5/SHA-1
    // (`pw = request.form["password"]` then `hashlib.md5(pw)`).
    let window = if weak { i.saturating_sub(2)..=i } else { i..=i };
    let password = lines[window.clone()].iter().any(|l| re(&P, PASSWORD).is_match(l));
    let salted = lines[i.saturating_sub(2)..=i].iter().any(|l| l.to_ascii_lowercase().contains("salt"));

    verdict(weak, password, salted, re(&K, CHECKSUM).is_match(line))
}

/// Whether `text` names a password.
pub fn says_password(text: &str) -> bool {
    static P: OnceLock<Regex> = OnceLock::new();
    re(&P, PASSWORD).is_match(text)
}

/// Whether `text` says the hash is a checksum of data.
pub fn says_checksum(text: &str) -> bool {
    static K: OnceLock<Regex> = OnceLock::new();
    re(&K, CHECKSUM).is_match(text)
}

/// What a hash amounts to: `weak` (MD5, SHA-1) or not, of a password or
/// not, salted or not, and said to be a checksum or not.
pub fn verdict(
    weak: bool,
    password: bool,
    salted: bool,
    checksum: bool,
) -> Option<(Severity, &'static str, &'static str)> {
    if password && weak {
        return Some((
            Severity::High,
            "Weak password hashing",
            "MD5 and SHA-1 of a password are cracked in seconds from a leaked table; hash passwords with \
             Argon2id, bcrypt or scrypt (`argon2`, `bcrypt`, `passlib`, `password_hash()`)",
        ));
    }
    if password && !salted {
        return Some((
            Severity::High,
            "Unsalted fast hash of a password",
            "An unsalted SHA-2 of a password falls to precomputed tables and GPU guessing; use Argon2id, bcrypt \
             or scrypt, which salt and slow each guess",
        ));
    }
    if password {
        return Some((
            Severity::Medium,
            "Fast hash of a password",
            "A salted SHA-2 is still billions of guesses a second on a GPU; use Argon2id, bcrypt or scrypt",
        ));
    }
    if weak && !checksum {
        return Some((
            Severity::Low,
            "Weak hash",
            "MD5 and SHA-1 are broken for signatures and integrity against an attacker; use SHA-256, or keep \
             this only for non-security checksums",
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn title(text: &str) -> Option<&'static str> {
        let lines: Vec<&str> = text.lines().collect();
        judge(&lines, lines.len() - 1).map(|(_, t, _)| t)
    }

    #[test]
    fn password_hashes_are_found() {
        let cases = [
            ("h = hashlib.md5(password.encode()).hexdigest()", "Weak password hashing"),
            ("pw = request.form['password']\nuser.pw_hash = hashlib.sha1(pw).hexdigest()", "Weak password hashing"),
            ("const h = crypto.createHash('md5').update(password).digest('hex');", "Weak password hashing"),
            ("$hash = md5($password);", "Weak password hashing"),
            ("$h = sha1($pass);", "Weak password hashing"),
            ("$h = hash('sha256', $password);", "Unsalted fast hash of a password"),
            ("sum := md5.Sum([]byte(password))", "Weak password hashing"),
            ("digest = hashlib.sha256(password.encode()).hexdigest()", "Unsalted fast hash of a password"),
            ("salt = os.urandom(16)\nh = hashlib.sha256(salt + password.encode())", "Fast hash of a password"),
            ("let d = Sha256::digest(password.as_bytes());", "Unsalted fast hash of a password"),
            ("sig = hashlib.md5(key + msg).hexdigest()", "Weak hash"),
        ];
        for (text, want) in cases {
            assert_eq!(title(text), Some(want), "{text}");
        }
    }

    /// Finding the call form by form picks what the whole alternation picks,
    /// on every line of this crate's sources and the awkward samples.
    #[test]
    fn the_forms_apart_find_what_their_alternation_finds() {
        let whole = CALLS.iter().map(|(p, _)| *p).collect::<Vec<_>>().join("|");
        let whole = Regex::new(&format!("(?i){whole}")).unwrap();
        let mut lines: Vec<String> = [include_str!("hashing.rs"), include_str!("risky.rs"), include_str!("sql.rs")]
            .iter()
            .flat_map(|s| s.lines())
            .map(|l| l.replace("\\\"", "\""))
            .collect();
        lines.extend(["x = md5(sha1(p)) + sha256.New()", "Sha1::new(); md5(x)", "h = MD5 (x); hashlib.md5(y)"].map(String::from));
        for f in agent_os_persona_sdk::testing::awkward_files() {
            lines.extend(f.text.lines().map(|l| l.chars().take(2000).collect::<String>()));
        }
        let mut found = 0;
        for line in &lines {
            let want = whole.find(line).map(|m| (m.start(), m.as_str()));
            let got = find_call(line, &line.to_ascii_lowercase()).map(|m| (m.start(), m.as_str()));
            assert_eq!(got, want, "{line}");
            found += usize::from(want.is_some());
        }
        assert!(found > 20, "{found} lines with a hash call");
    }

    #[test]
    fn checksums_and_plain_sha256_stay_quiet() {
        let clean = [
            "etag = hashlib.md5(content).hexdigest()",
            "h = hashlib.md5(open(path, 'rb').read()).hexdigest()  # file checksum",
            "const sum = crypto.createHash('md5').update(fileBuffer).digest('hex'); // checksum",
            "key = hashlib.md5(url.encode(), usedforsecurity=False).hexdigest()",
            "digest = hashlib.sha256(data).hexdigest()",
            "h := sha256.Sum256(body)",
            "cache_key = hashlib.sha1(query.encode()).hexdigest()",
            "hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt())",
            "x = self.md5sum",
        ];
        for text in clean {
            assert_eq!(title(text), None, "{text}");
        }
    }
}
