//! Embeds the committed schemas (`specs/schemas/**.json`) so `Specs::load` needs no files at run
//! time: writes `$OUT_DIR/schemas.rs` with one `include_str!` per schema.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let schemas = manifest.join("../specs/schemas");
    println!("cargo:rerun-if-changed={}", schemas.display());
    let mut files = Vec::new();
    collect(&schemas, &schemas, &mut files);
    files.sort();
    let mut out = String::from("/// Every committed schema: (path under specs/schemas/, text).\n");
    out.push_str("pub(crate) const EMBEDDED: &[(&str, &str)] = &[\n");
    for (relative, absolute) in files {
        writeln!(out, "    ({relative:?}, include_str!({absolute:?})),").expect("writing to a String");
    }
    out.push_str("];\n");
    let dest = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("schemas.rs");
    fs::write(dest, out).expect("OUT_DIR is writable");
}

fn collect(base: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(base, &path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            let relative = path.strip_prefix(base).expect("collected under base");
            let relative = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>();
            out.push((relative.join("/"), path.display().to_string()));
        }
    }
}
