//! `specs/overrides.json`: where AWS's replies deviate from its own service model (SPEC 3.1
//! "Known deviations"), the member schema the generator uses instead of the model's.
//!
//! Each override replaces one member of one structure, so everything else about the reply is
//! still checked against the model, and the replacement is as tight as the observed format: a
//! faithful reply passes and a real violation still fails.

use std::path::Path;

use conform_model::Service;

use super::error::{model_error, SpecsError};
use super::ordered::Json;

/// Where the overrides live, relative to the repository root.
pub const OVERRIDES_PATH: &str = "specs/overrides.json";

/// One member schema replaced.
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    pub service: Service,
    pub structure: String,
    pub member: String,
    /// The JSON Schema used for the member instead of its modelled shape.
    pub schema: Json,
    /// The SPEC line the override serves.
    pub spec: String,
}

/// Parses the overrides file's text.
pub fn parse(text: &str, path: &Path) -> Result<Vec<Override>, SpecsError> {
    let doc: Json = serde_json::from_str(text).map_err(|source| SpecsError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    let entries = doc
        .get("overrides")
        .and_then(Json::as_array)
        .ok_or_else(|| model_error(format!("{}: no \"overrides\" array", path.display())))?;
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| parse_entry(i, e, path))
        .collect()
}

fn parse_entry(index: usize, entry: &Json, path: &Path) -> Result<Override, SpecsError> {
    let field = |name: &str| {
        entry
            .get(name)
            .and_then(Json::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| model_error(format!("{}: override {index} needs \"{name}\"", path.display())))
    };
    let service_name = field("service")?;
    let service = Service::ALL
        .into_iter()
        .find(|s| s.name() == service_name)
        .ok_or_else(|| model_error(format!("{}: unknown service '{service_name}'", path.display())))?;
    let schema = entry
        .get("schema")
        .filter(|s| s.entries().is_some())
        .cloned()
        .ok_or_else(|| {
            model_error(format!(
                "{}: override {index} needs a \"schema\" object",
                path.display()
            ))
        })?;
    Ok(Override {
        service,
        structure: field("structure")?.to_string(),
        member: field("member")?.to_string(),
        schema,
        spec: field("spec")?.to_string(),
    })
}
