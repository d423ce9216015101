//! Service-model patterns as JSON Schema `pattern`s, with the meaning SPEC 1.2 gives them: the
//! whole value must match (`^(?:p)$`) and `\s \S \d \w` (and their negations) are ASCII classes.
//!
//! The model crate rewrites the same way for the `regex` crate, but writes `\S` inside a class as
//! a nested negated class (`[\s[^\s]]`), which the jsonschema crate's ECMA-262 translation reads
//! as literal brackets. Here every class escape becomes plain ranges, which ECMA-262 and the
//! `regex` crate read alike; a test compares both against the model's regexes.

use super::error::{model_error, SpecsError};

const SPACE: &str = r"\t\n\x0B\x0C\r ";

/// The JSON Schema pattern for a service-model pattern.
pub fn schema_pattern(pattern: &str) -> Result<String, SpecsError> {
    // Reject what the model could not compile either, since a `--from` model is input.
    regex::Regex::new(pattern)
        .map_err(|e| model_error(format!("pattern {pattern:?} does not compile: {e}")))?;
    Ok(format!("^(?:{})$", ascii_classes(pattern)))
}

/// The class escape `c` as the members of a bracketed class.
fn class_members(c: char) -> Option<String> {
    Some(match c {
        'd' => "0-9".to_string(),
        'w' => "0-9A-Za-z_".to_string(),
        's' => SPACE.to_string(),
        // The complements, as ranges up to the last code point.
        'D' => r"\x00-/:-\x{10FFFF}".to_string(),
        'W' => r"\x00-/:-@\[-\^\x60\{-\x{10FFFF}".to_string(),
        'S' => r"\x00-\x08\x0E-\x1F!-\x{10FFFF}".to_string(),
        _ => return None,
    })
}

fn ascii_classes(pattern: &str) -> String {
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
                    Some(members) if in_class => out.push_str(&members),
                    Some(members) => {
                        out.push('[');
                        out.push_str(&members);
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
    use conform_model::service::{anchored_regex, ShapeKind};
    use conform_model::Service;

    use super::*;

    /// Strings that tell the classes apart: ASCII and non-ASCII letters, digits and spaces,
    /// brackets, control characters, line breaks before the end.
    const PROBES: &[&str] = &[
        "",
        "a",
        "A_9",
        "a b",
        " a",
        "a\n",
        "\t",
        "é",
        "١",
        "\u{a0}",
        "[",
        "]",
        "^",
        "`",
        "-",
        "x\u{b}y",
        "\u{10FFFF}",
        "lct-1",
        "vm-12",
        "env-abcdefghij",
        "cnctr-0123456789",
        "2025-01-01T00:00:00Z",
        "arn:aws:license-manager::111122223333:license:l-0123",
        "a.b:c/d=e+f-g@h",
    ];

    #[test]
    fn spec_1_2_schema_patterns_agree_with_the_model_on_every_model_pattern() {
        let mut compared = 0;
        for service in Service::ALL {
            for shape in service.model().shapes.values() {
                let (Some(pattern), ShapeKind::String) = (&shape.pattern, &shape.kind) else {
                    continue;
                };
                let ours = schema_pattern(pattern).expect("official patterns compile");
                let validator = jsonschema::draft202012::options()
                    .with_pattern_options(jsonschema::PatternOptions::regex())
                    .build(&serde_json::json!({"pattern": ours}))
                    .expect("schema pattern compiles in jsonschema");
                let model = anchored_regex(pattern);
                let mut probes: Vec<String> = PROBES.iter().map(|p| p.to_string()).collect();
                probes.extend(PROBES.iter().map(|p| format!("{p} ")));
                for probe in probes {
                    assert_eq!(
                        validator.is_valid(&serde_json::json!(probe)),
                        model.is_match(&probe),
                        "{}: {pattern:?} on {probe:?}",
                        shape.name
                    );
                    compared += 1;
                }
            }
        }
        assert!(compared > 1000, "only {compared} comparisons");
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
