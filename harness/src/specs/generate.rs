//! `conform specs`: regenerates specs/ from AWS's official service models, or checks that the
//! committed files equal a fresh generation.
//!
//! Generated: `specs/aws/<model>.json` (the official model without its `documentation` strings,
//! printed as Python's `json.dumps(indent=2, ensure_ascii=False)` printed the first copies) and
//! every schema under `specs/schemas/`. Hand-written inputs: `specs/overrides.json`.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use conform_model::Service;

use super::error::{model_error, SpecsError};
use super::ordered::Json;
use super::overrides::{self, OVERRIDES_PATH};
use super::schema::SchemaBuilder;
use super::scope;

/// Where the stripped models live, relative to the repository root.
pub const AWS_DIR: &str = "specs/aws";
/// Where the schemas live, relative to the repository root.
pub const SCHEMAS_DIR: &str = "specs/schemas";

/// One generated file: its path relative to the repository root and its bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct GeneratedFile {
    pub path: PathBuf,
    pub text: String,
}

/// Where the service models are read from.
#[derive(Clone, Debug, PartialEq)]
pub struct Source {
    pub dir: PathBuf,
    /// False when only the committed stripped copies were found: the generation then proves the
    /// schemas and the printing, not the stripping.
    pub official: bool,
}

/// The official models: `--from`, else the shared folder beside the repository, else the
/// committed stripped copies (stripping them again is the identity).
pub fn find_source(root: &Path, from: Option<&Path>) -> Source {
    if let Some(dir) = from {
        return Source {
            dir: dir.to_path_buf(),
            official: true,
        };
    }
    let candidates = [
        root.join("../shared/aws-models"),
        PathBuf::from("/work/shared/aws-models"),
    ];
    for dir in candidates {
        if Service::ALL
            .iter()
            .all(|s| dir.join(scope::model_file(*s)).is_file())
        {
            return Source { dir, official: true };
        }
    }
    Source {
        dir: root.join(AWS_DIR),
        official: false,
    }
}

/// Every file of specs/ that the generator owns, freshly generated.
pub fn generate(root: &Path, source: &Source) -> Result<Vec<GeneratedFile>, SpecsError> {
    let overrides_path = root.join(OVERRIDES_PATH);
    let overrides = overrides::parse(&read(&overrides_path)?, &overrides_path)?;
    let mut files = Vec::new();
    for service in Service::ALL {
        let name = scope::model_file(service);
        let path = source.dir.join(name);
        let model = strip_documentation(&parse(&read(&path)?, &path)?);
        files.push(GeneratedFile {
            path: Path::new(AWS_DIR).join(name),
            text: model.to_pretty(),
        });
        files.extend(service_schemas(service, &model, &overrides)?);
    }
    Ok(files)
}

/// The model without any `documentation` key, at any depth, other keys in their order.
pub fn strip_documentation(value: &Json) -> Json {
    match value {
        Json::Object(entries) => Json::Object(
            entries
                .iter()
                .filter(|(k, _)| k != "documentation")
                .map(|(k, v)| (k.clone(), strip_documentation(v)))
                .collect(),
        ),
        Json::Array(items) => Json::Array(items.iter().map(strip_documentation).collect()),
        other => other.clone(),
    }
}

fn service_schemas(
    service: Service,
    model: &Json,
    overrides: &[overrides::Override],
) -> Result<Vec<GeneratedFile>, SpecsError> {
    let builder = SchemaBuilder::new(service, model, overrides)?;
    let dir = Path::new(SCHEMAS_DIR).join(service.name());
    let mut files = Vec::new();
    let mut errors = BTreeSet::new();
    for &operation in scope::operations(service) {
        let op = model
            .get("operations")
            .and_then(|ops| ops.get(operation))
            .ok_or_else(|| model_error(format!("{}: no operation {operation}", service.name())))?;
        for (direction, key) in [("request", "input"), ("response", "output")] {
            let root = op.get(key).and_then(|s| s.get("shape")).and_then(Json::as_str);
            let Some(root) = root else {
                return Err(model_error(format!(
                    "{}: {operation} has no {key}",
                    service.name()
                )));
            };
            let doc = builder.operation_document(operation, root, direction)?;
            files.push(GeneratedFile {
                path: dir.join(format!("{operation}.{direction}.json")),
                text: doc.to_pretty(),
            });
        }
        for e in op.get("errors").and_then(Json::as_array).unwrap_or_default() {
            if let Some(name) = e.get("shape").and_then(Json::as_str) {
                errors.insert(name.to_string());
            }
        }
    }
    for name in errors {
        files.push(GeneratedFile {
            path: dir.join("errors").join(format!("{name}.json")),
            text: builder.error_document(&name)?.to_pretty(),
        });
    }
    Ok(files)
}

/// Writes the generated files and removes schema files no longer generated.
pub fn write(root: &Path, files: &[GeneratedFile]) -> Result<(), SpecsError> {
    for stale in stale_files(root, files)? {
        let path = root.join(&stale);
        fs::remove_file(&path).map_err(|source| SpecsError::Io { path, source })?;
    }
    for file in files {
        let path = root.join(&file.path);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|source| SpecsError::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        fs::write(&path, &file.text).map_err(|source| SpecsError::Io { path, source })?;
    }
    Ok(())
}

/// How the committed files differ from a fresh generation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CheckReport {
    /// Generated but not committed.
    pub missing: Vec<PathBuf>,
    /// Committed with other bytes: the path and the first differing line (1-based) with both
    /// versions of it.
    pub differing: Vec<(PathBuf, usize, String, String)>,
    /// Committed under specs/schemas/ but no longer generated.
    pub stale: Vec<PathBuf>,
}

impl CheckReport {
    pub fn is_clean(&self) -> bool {
        self.missing.is_empty() && self.differing.is_empty() && self.stale.is_empty()
    }

    /// One line per problem, for people.
    pub fn summary(&self) -> String {
        let mut lines = Vec::new();
        for p in &self.missing {
            lines.push(format!("missing: {}", p.display()));
        }
        for (p, line, committed, fresh) in &self.differing {
            lines.push(format!(
                "differs: {} line {line}\n  committed: {committed}\n  generated: {fresh}",
                p.display()
            ));
        }
        for p in &self.stale {
            lines.push(format!("stale: {}", p.display()));
        }
        lines.join("\n")
    }
}

/// Compares the committed files with `files`.
pub fn check(root: &Path, files: &[GeneratedFile]) -> Result<CheckReport, SpecsError> {
    let mut report = CheckReport::default();
    for file in files {
        let path = root.join(&file.path);
        if !path.is_file() {
            report.missing.push(file.path.clone());
            continue;
        }
        let committed = read(&path)?;
        if let Some((line, a, b)) = first_difference(&committed, &file.text) {
            report.differing.push((file.path.clone(), line, a, b));
        }
    }
    report.stale = stale_files(root, files)?;
    Ok(report)
}

fn first_difference(committed: &str, fresh: &str) -> Option<(usize, String, String)> {
    if committed == fresh {
        return None;
    }
    let mut a = committed.split_inclusive('\n');
    let mut b = fresh.split_inclusive('\n');
    let mut line = 1;
    loop {
        match (a.next(), b.next()) {
            (Some(x), Some(y)) if x == y => line += 1,
            (x, y) => {
                let show = |s: Option<&str>| s.map_or("<end of file>".to_string(), |s| format!("{s:?}"));
                return Some((line, show(x), show(y)));
            }
        }
    }
}

fn stale_files(root: &Path, files: &[GeneratedFile]) -> Result<Vec<PathBuf>, SpecsError> {
    let generated: BTreeSet<&Path> = files.iter().map(|f| f.path.as_path()).collect();
    let mut found = Vec::new();
    list_files(root, Path::new(SCHEMAS_DIR), &mut found)?;
    found.retain(|p| !generated.contains(p.as_path()));
    found.sort();
    Ok(found)
}

/// Every file under `root/dir`, as paths relative to `root`.
fn list_files(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), SpecsError> {
    let full = root.join(dir);
    if !full.is_dir() {
        return Ok(());
    }
    let entries = fs::read_dir(&full).map_err(|source| SpecsError::Io {
        path: full.clone(),
        source,
    })?;
    for entry in entries {
        let entry = entry.map_err(|source| SpecsError::Io {
            path: full.clone(),
            source,
        })?;
        let relative = dir.join(entry.file_name());
        if entry.path().is_dir() {
            list_files(root, &relative, out)?;
        } else {
            out.push(relative);
        }
    }
    Ok(())
}

fn read(path: &Path) -> Result<String, SpecsError> {
    fs::read_to_string(path).map_err(|source| SpecsError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn parse(text: &str, path: &Path) -> Result<Json, SpecsError> {
    Json::parse(text).map_err(|source| SpecsError::Json {
        path: path.to_path_buf(),
        source,
    })
}
