//! Project-relative paths as analyses resolve them: `/`-separated, no
//! leading slash, never reaching above the project root.

/// `dir` joined with a relative `spec`, `.` and `..` resolved
/// (`a/b` + `../c` → `a/c`). A `..` at the root stays at the root.
pub fn join_relative(dir: &str, spec: &str) -> String {
    let mut parts: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
    for seg in spec.split('/') {
        match seg {
            "." | "" => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::join_relative;

    #[test]
    fn resolves_dots_and_stays_inside_the_project() {
        assert_eq!(join_relative("a/b", "../c"), "a/c");
        assert_eq!(join_relative("a/b", "./c/d"), "a/b/c/d");
        assert_eq!(join_relative("", "x"), "x");
        assert_eq!(join_relative("a", "../../x"), "x");
        assert_eq!(join_relative("a//b/", "c"), "a/b/c");
    }
}
