//! A guard the parsers share: source nested deeper than a parser's
//! recursion can take is left to the line checks instead of parsed.

/// Whether brackets nest deeper than `max` (strings and comments are not
/// told apart: a false alarm only sends the file to the line checks).
pub(crate) fn brackets_deeper_than(text: &str, max: usize) -> bool {
    let mut depth = 0usize;
    for b in text.bytes() {
        match b {
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}
