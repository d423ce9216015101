//! Service-model patterns with the meaning SPEC 1.2 gives them: the whole value must match
//! (`^(?:p)$`) and `\s \S \d \w` (and their negations) are ASCII classes.
//!
//! One translation serves both readers: the model's `regex` crate and the harness's JSON Schema
//! `pattern`s (jsonschema's ECMA-262 regexes). Every class escape becomes plain ranges, which
//! both read alike; a nested negated class such as `[\s[^\s]]` would be literal brackets to
//! ECMA-262.
//!
//! ```
//! use conform_model::pattern::{anchored, anchored_regex};
//!
//! assert_eq!(anchored(r"\d+"), "^(?:[0-9]+)$");
//! assert!(!anchored_regex(r"\w+").is_match("é"), "\\w is ASCII only");
//! ```

use regex::Regex;

/// ASCII white space: what `\s` means (SPEC 1.2).
const SPACE: &str = r"\t\n\x0B\x0C\r ";

/// The pattern matched against the whole value, with ASCII classes.
pub fn anchored(pattern: &str) -> String {
    format!("^(?:{})$", ascii_classes(pattern))
}

/// Compiles a model pattern as SPEC 1.2 says (see [`anchored`]).
pub fn anchored_regex(pattern: &str) -> Regex {
    Regex::new(&anchored(pattern)).expect("official model patterns compile")
}

/// The class escape `c` as the members of a bracketed class.
fn class_members(c: char) -> Option<&'static str> {
    Some(match c {
        'd' => "0-9",
        'w' => "0-9A-Za-z_",
        's' => SPACE,
        // The complements, as ranges up to the last code point.
        'D' => r"\x00-/:-\x{10FFFF}",
        'W' => r"\x00-/:-@\[-\^\x60\{-\x{10FFFF}",
        'S' => r"\x00-\x08\x0E-\x1F!-\x{10FFFF}",
        _ => return None,
    })
}

/// Rewrites every class escape (`\d \D \w \W \s \S`) as plain ASCII ranges: the members alone
/// inside a bracketed class, a class of its own outside one.
pub fn ascii_classes(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut in_class = false;
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(next) = chars.next() else {
                    out.push('\\');
                    break;
                };
                match class_members(next) {
                    Some(members) if in_class => out.push_str(members),
                    Some(members) => {
                        out.push('[');
                        out.push_str(members);
                        out.push(']');
                    }
                    None => {
                        out.push('\\');
                        out.push(next);
                    }
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push(c);
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_1_2_patterns_are_anchored_with_ascii_classes() {
        let client_token = anchored_regex(r"\S+");
        assert!(client_token.is_match("abc"));
        assert!(!client_token.is_match("a b"));
        assert!(
            client_token.is_match("é"),
            "\\S is anything but ASCII white space"
        );
        let tag = anchored_regex(r"[\w.:/=+-@]+|");
        assert!(tag.is_match("a_b"));
        assert!(tag.is_match(""));
        assert!(!tag.is_match("é"), "\\w is ASCII only");
        let digits = anchored_regex(r"(\d{1,3}\.){3}\d{1,3}");
        assert!(digits.is_match("10.0.0.1"));
        assert!(!digits.is_match("10.0.0.1x"), "matched against the whole value");
        let lct = anchored_regex("^lct-[a-zA-Z0-9]*");
        assert!(!lct.is_match("lct-1 "));
        let any = anchored_regex(r"[\s\S]+");
        assert!(any.is_match("a \n"));
        assert!(
            !anchored_regex(r"[^\S]").is_match("a"),
            "a negated \\S class is white space"
        );
    }

    #[test]
    fn class_escapes_inside_brackets_become_ranges() {
        assert_eq!(
            ascii_classes(r"[\s\S]+"),
            format!(r"[{SPACE}\x00-\x08\x0E-\x1F!-\x{{10FFFF}}]+")
        );
        assert_eq!(ascii_classes(r"\d{2}\w"), "[0-9]{2}[0-9A-Za-z_]");
        assert_eq!(ascii_classes(r"a\.b"), r"a\.b");
    }
}
