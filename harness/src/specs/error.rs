//! Why generating or checking specs/ failed.

use std::fmt;
use std::path::PathBuf;

#[derive(Debug)]
pub enum SpecsError {
    /// A file could not be read or written.
    Io { path: PathBuf, source: std::io::Error },
    /// A file is not the JSON it should be.
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    /// A service model or the overrides file does not have the shape the generator expects.
    Model(String),
}

impl fmt::Display for SpecsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpecsError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            SpecsError::Json { path, source } => write!(f, "{}: not valid JSON: {source}", path.display()),
            SpecsError::Model(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for SpecsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SpecsError::Io { source, .. } => Some(source),
            SpecsError::Json { source, .. } => Some(source),
            SpecsError::Model(_) => None,
        }
    }
}

pub(crate) fn model_error(message: impl Into<String>) -> SpecsError {
    SpecsError::Model(message.into())
}
