//! SPEC.md's footing rule: every `[P name=default]` (and every unnamed `[P]`, `[O/P]`, `[D/P]`,
//! `[P for ...]`) rule is a named switch of `Policy`. Named tags must be `Policy` members (or, for
//! the two whose switch is named in the rule's text, a row of docs/policies.md with that tag);
//! unnamed tags match a row of docs/policies.md by section and a key phrase of the tagged line,
//! so an edited SPEC line fails here. Each row's values must be exactly the switch's default and
//! the alternatives the model implements (`Policy::alternatives`).

use std::collections::BTreeSet;
use std::path::PathBuf;

use conform_model::Policy;
use regex::Regex;

struct Row {
    section: String,
    tag: Option<String>,
    phrase: Option<String>,
    switch: String,
    values: Vec<String>,
}

fn docs_rows() -> Vec<Row> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/policies.md");
    let text = std::fs::read_to_string(&path).expect("docs/policies.md");
    let dash = |s: &str| (s != "-").then(|| s.to_string());
    text.lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| section") && !l.starts_with("|---"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").map(str::trim).collect();
            assert_eq!(cells.len(), 6, "a row has six cells: {l}");
            Row {
                section: cells[0].to_string(),
                tag: dash(cells[2]),
                phrase: dash(cells[3]).map(|p| p.trim_matches('"').to_string()),
                switch: cells[4].to_string(),
                values: cells[5].split(", ").map(str::to_string).collect(),
            }
        })
        .collect()
}

/// One `[P` tag of SPEC.md: its section, name (for `[P name...]`), and the text a key phrase
/// must occur in (the line before the tag's line, and that line up to the tag's end).
struct Tag {
    section: String,
    name: Option<String>,
    context: String,
    shown: String,
}

fn spec_tags(spec: &str) -> Vec<Tag> {
    let start = spec.find("\n## 1.").expect("SPEC has section 1");
    let heading = Regex::new(r"^#{2,3} (\d+(?:\.\d+)?)").unwrap();
    let tag = Regex::new(r"\[([^\[\]]*)\]").unwrap();
    let named = Regex::new(r"^P ([a-z][a-z_]*)(?:=\S+)?$").unwrap();
    let mut out = Vec::new();
    for m in tag.find_iter(spec).filter(|m| m.start() > start) {
        let content = m.as_str()[1..m.as_str().len() - 1]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let footing_p = content
            .split([';', ',', '/'])
            .map(str::trim)
            .any(|p| p == "P" || p.starts_with("P "));
        if !footing_p {
            continue;
        }
        let line_start = spec[..m.start()].rfind('\n').map_or(0, |i| i + 1);
        let prev_start = spec[..line_start.saturating_sub(1)]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let section = spec[..=m.start()]
            .lines()
            .rev()
            .find_map(|l| heading.captures(l).map(|c| c[1].to_string()))
            .unwrap_or_default();
        let name = named
            .captures(&content)
            .map(|c| c[1].to_string())
            .filter(|n| n != "for");
        out.push(Tag {
            section,
            name,
            context: spec[prev_start..m.end()].to_string(),
            shown: format!("[{content}]"),
        });
    }
    out
}

fn spec_text() -> Option<String> {
    let path = std::env::var("CONFORM_SPEC")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/SPEC.md"));
    match std::fs::read_to_string(&path) {
        Ok(t) => Some(t),
        Err(_) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("{} is required when CI=true", path.display())
        }
        Err(_) => {
            println!("note: {} absent; SPEC tag check skipped", path.display());
            None
        }
    }
}

fn members() -> BTreeSet<String> {
    let v = serde_json::to_value(Policy::default()).unwrap();
    v.as_object().unwrap().keys().cloned().collect()
}

#[test]
fn spec_every_p_tag_maps_to_a_policy_switch() {
    let Some(spec) = spec_text() else { return };
    let rows = docs_rows();
    let members = members();
    let tags = spec_tags(&spec);
    assert!(
        tags.len() >= 50,
        "SPEC has about 60 [P tags, found {}",
        tags.len()
    );
    let mut unmatched = Vec::new();
    for t in &tags {
        if t.name.as_ref().is_some_and(|n| members.contains(n)) {
            continue;
        }
        let hit = rows.iter().any(|r| {
            r.section == t.section
                && r.tag == t.name
                && r.phrase.as_ref().is_some_and(|p| t.context.contains(p.as_str()))
        });
        if !hit {
            unmatched.push(format!("{} {} in: {}", t.section, t.shown, t.context.trim()));
        }
    }
    assert!(
        unmatched.is_empty(),
        "[P] tags without a switch:\n{}",
        unmatched.join("\n")
    );
    // No stale rows: each key phrase still tags something in its section.
    for r in rows.iter().filter(|r| r.phrase.is_some()) {
        let p = r.phrase.as_deref().unwrap_or_default();
        assert!(
            tags.iter()
                .any(|t| t.section == r.section && t.context.contains(p)),
            "docs/policies.md row {} \"{p}\" matches no [P] tag of SPEC.md",
            r.section
        );
    }
}

#[test]
fn docs_policies_rows_name_members_with_their_implemented_values() {
    let rows = docs_rows();
    let members = members();
    let base = Policy::default();
    let alternatives = base.alternatives();
    let mut documented = BTreeSet::new();
    for r in &rows {
        assert!(members.contains(&r.switch), "{} is no Policy member", r.switch);
        let mut expected = vec![base.value_of(&r.switch).unwrap()];
        expected.extend(
            alternatives
                .iter()
                .filter_map(|(n, _)| n.split_once('='))
                .filter(|(k, _)| *k == r.switch)
                .map(|(_, v)| v.to_string()),
        );
        let (mut got, mut want) = (r.values.clone(), expected.clone());
        assert_eq!(got.first(), want.first(), "{}: the default comes first", r.switch);
        got.sort();
        want.sort();
        assert_eq!(got, want, "{}: values in docs/policies.md", r.switch);
        documented.insert(r.switch.clone());
    }
    assert_eq!(documented, members, "every Policy member has a row");
}
