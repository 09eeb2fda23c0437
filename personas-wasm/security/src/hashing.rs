//! Hash calls judged by what they hash: MD5, SHA-1 or an unsalted SHA-2 of a
//! password is a finding; MD5 of a file or content (a checksum, an ETag, a
//! cache key) is not.

use std::sync::OnceLock;

use agent_os_persona_sdk::brief::Severity;
use regex::Regex;

/// A hash call: Python, Node, Go, Rust, PHP, Java.
const CALL: &str = r#"(?i)\bhashlib\.(?:md5|sha1|sha224|sha256|sha384|sha512)\(|\bhashlib\.new\(\s*['"](?:md5|sha1|sha256|sha512)['"]|createHash\(\s*['"](?:md5|sha1|sha256|sha512)['"]|\b(?:md5|sha1)\.(?:New|Sum)\(|\bsha256\.(?:New|Sum256)\(|\bsha512\.(?:New|Sum512)\(|\b(?:Md5|Sha1|Sha256|Sha512)::(?:new|digest)\b|\bmd5::compute\(|(?:^|[^.\w$>:])(?:md5|sha1)\s*\(|\bhash\(\s*['"](?:md5|sha1|sha256)['"]|MessageDigest\.getInstance\(\s*"(?:MD5|SHA-?1|SHA-?256)"|\bDigestUtils\.(?:md5|sha1|sha256)"#;

/// Words that say the value is a password.
const PASSWORD: &str = r"(?i)pass(?:word|wd|phrase)|\bpwd\b|\bpw\b|\$pass\b|\bpass\b";

/// Words that say the hash is a checksum of data, not a credential.
const CHECKSUM: &str = r"(?i)checksum|etag|\bfile|content|chunk|\bblob|cache|fingerprint|usedforsecurity\s*=\s*False";

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("a valid pattern"))
}

/// What a hash call on line `i` amounts to: severity, title and advice.
pub fn judge(lines: &[&str], i: usize) -> Option<(Severity, &'static str, &'static str)> {
    static C: OnceLock<Regex> = OnceLock::new();
    static P: OnceLock<Regex> = OnceLock::new();
    static K: OnceLock<Regex> = OnceLock::new();
    let line = lines.get(i)?;
    let call = re(&C, CALL).find(line)?;
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
