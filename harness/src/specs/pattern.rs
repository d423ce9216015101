//! Service-model patterns as JSON Schema `pattern`s, with the meaning SPEC 1.2 gives them. The
//! translation is the model's own ([`conform_model::pattern::anchored`]): plain ASCII ranges for
//! every class escape, which jsonschema's ECMA-262 regexes and the model's `regex` crate read
//! alike; a test compares both on every model pattern.

use super::error::{model_error, SpecsError};

/// The JSON Schema pattern for a service-model pattern.
pub fn schema_pattern(pattern: &str) -> Result<String, SpecsError> {
    // Reject what the model could not compile either, since a `--from` model is input.
    regex::Regex::new(pattern)
        .map_err(|e| model_error(format!("pattern {pattern:?} does not compile: {e}")))?;
    Ok(conform_model::pattern::anchored(pattern))
}

#[cfg(test)]
mod tests {
    use conform_model::pattern::anchored_regex;
    use conform_model::service::ShapeKind;
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
}
