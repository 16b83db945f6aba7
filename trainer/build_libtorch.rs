//! Under the `libtorch` feature only: checks that the libtorch torch-sys builds against (LIBTORCH,
//! set by .cargo/config.toml to `.venv-libtorch/libtorch`) is there and is torch 2.9, failing with
//! what to install otherwise, and gives the binaries an rpath to its `lib` so they run without
//! LD_LIBRARY_PATH. Without the feature it does nothing. A module of trainer/build.rs and
//! benches/build.rs.

use std::path::{Path, PathBuf};

/// The libtorch release tch / torch-sys 0.22 are generated for.
const TORCH_SERIES: &str = "2.9.";

const INSTALL: &str = "run `scripts/setup --libtorch` (a venv at .venv-libtorch with pip's \
torch==2.9.1, about 4 GB to download and 6.7 GB on disk), or export LIBTORCH=<a torch 2.9 \
directory with include/ and lib/>";

/// Runs the check and prints the rpath when the package's `libtorch` feature is on.
pub fn main() {
    if std::env::var_os("CARGO_FEATURE_LIBTORCH").is_none() {
        return;
    }
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    match check(std::env::var_os("LIBTORCH").map(PathBuf::from)) {
        Ok(lib) => println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display()),
        Err(why) => {
            println!("cargo::error=the `libtorch` feature needs libtorch 2.9: {why}");
            println!("cargo::error=to fix: {INSTALL}");
        }
    }
}

/// The libtorch `lib` directory, once the version is known to be 2.9.
pub fn check(root: Option<PathBuf>) -> Result<PathBuf, String> {
    let root = root.ok_or("LIBTORCH is not set (.cargo/config.toml sets it)")?;
    let root = root
        .canonicalize()
        .map_err(|_| format!("{} does not exist", root.display()))?;
    println!(
        "cargo:rerun-if-changed={}",
        root.join("version.py").display()
    );
    let lib = root.join("lib");
    for needed in ["libtorch_cpu.so", "libc10.so"] {
        if !lib.join(needed).exists() {
            return Err(format!("{} is missing", lib.join(needed).display()));
        }
    }
    let version = version(&root).ok_or_else(|| {
        format!(
            "cannot read the torch version from {} (version.py or build-version)",
            root.display()
        )
    })?;
    if !version.starts_with(TORCH_SERIES) {
        return Err(format!(
            "{} is torch {version}; tch 0.22 calls operations that later releases removed",
            root.display()
        ));
    }
    Ok(lib)
}

/// `2.9.1+cu128` from pip's `torch/version.py`, or a libtorch zip's `build-version`.
fn version(root: &Path) -> Option<String> {
    if let Ok(s) = std::fs::read_to_string(root.join("version.py")) {
        let line = s.lines().find(|l| l.starts_with("__version__"))?;
        return Some(line.split('\'').nth(1)?.to_string());
    }
    std::fs::read_to_string(root.join("build-version"))
        .ok()
        .map(|s| s.trim().to_string())
}
