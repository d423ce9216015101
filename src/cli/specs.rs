//! `conform specs`: regenerate specs/ from AWS's service models, or check it is up to date.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use conform_harness::specs::generate;

#[derive(clap::Args, Debug)]
pub struct SpecsArgs {
    /// Verify that the committed files equal a fresh generation instead of writing them.
    #[arg(long)]
    pub check: bool,
    /// Folder holding the official service models (default: ../shared/aws-models beside the
    /// repository if present, else the committed stripped copies).
    #[arg(long, value_name = "DIR")]
    pub from: Option<PathBuf>,
    /// The repository root (default: the nearest folder upwards holding specs/overrides.json).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
}

pub fn run(args: SpecsArgs) -> anyhow::Result<ExitCode> {
    let root = match args.root {
        Some(root) => root,
        None => find_root()?,
    };
    let source = generate::find_source(&root, args.from.as_deref());
    let files = generate::generate(&root, &source)?;
    let origin = if source.official {
        "official models"
    } else {
        "committed stripped models"
    };
    if args.check {
        let report = generate::check(&root, &files)?;
        if report.is_clean() {
            println!(
                "specs: {} files up to date ({origin} in {})",
                files.len(),
                source.dir.display()
            );
            return Ok(ExitCode::SUCCESS);
        }
        eprintln!("{}", report.summary());
        eprintln!("specs: out of date; run `cargo run -- specs`");
        return Ok(ExitCode::FAILURE);
    }
    generate::write(&root, &files)?;
    println!(
        "specs: wrote {} files ({origin} in {})",
        files.len(),
        source.dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn find_root() -> anyhow::Result<PathBuf> {
    let cwd = std::env::current_dir().context("reading the current directory")?;
    cwd.ancestors()
        .find(|dir| {
            dir.join(Path::new(conform_harness::specs::overrides::OVERRIDES_PATH))
                .is_file()
        })
        .map(Path::to_path_buf)
        .context("no specs/overrides.json here or above: run inside the conform repository or pass --root")
}
