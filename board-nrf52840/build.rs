//! Puts `memory.x` on the linker's search path and picks the embedded model.
//!
//! `TINYGENRE_BOARD_MODEL` (an absolute path, or one relative to the repository root) names the
//! `.postcard` model to embed. Without it, `models/tiny16k-int8.postcard` (the 16 kHz model the
//! PDM microphone needs) is used; while that file does not exist, `models/genre-int8.postcard`
//! (22050 Hz) is embedded with a cargo warning so the crate still builds, and the program
//! reports the sample-rate mismatch at start-up instead of classifying.
//!
//! As firmware-example's build.rs, it also computes the model's mel band edges on the host
//! (`infer_core::filterbank::mel_edge_hz`, IEEE f64 and libm: the device's bits), so the
//! firmware carries `n_mels + 2` f64 values instead of the mel scale's f64 log, exp and pow.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

/// The PDM's output rate (src/board.rs): a model for another rate builds, with a warning.
const PDM_SAMPLE_RATE: u32 = 16_000;

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    let repo = manifest
        .parent()
        .expect("board-nrf52840 sits in the repository")
        .to_path_buf();

    fs::copy(manifest.join("memory.x"), out.join("memory.x")).expect("copy memory.x");
    println!("cargo::rustc-link-search={}", out.display());
    println!("cargo::rerun-if-changed=memory.x");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=TINYGENRE_BOARD_MODEL");

    let model = pick_model(&repo);
    println!("cargo::rerun-if-changed={}", model.display());
    let bytes = fs::read(&model)
        .unwrap_or_else(|e| panic!("cannot read the model {}: {e}", model.display()));

    // The front end the model asks for; a file infer-core rejects leaves the edges empty and
    // the firmware reports the model's own error at start-up.
    let cfg = infer_core::model::Model::from_bytes(&bytes)
        .ok()
        .map(|m| *m.frontend());
    match &cfg {
        Some(c) if c.sample_rate != PDM_SAMPLE_RATE => println!(
            "cargo::warning=the embedded model {} expects {} Hz audio, the PDM delivers {} Hz: \
             the firmware will report the mismatch and halt",
            model.display(),
            c.sample_rate,
            PDM_SAMPLE_RATE
        ),
        Some(_) => {}
        None => println!(
            "cargo::warning=infer-core rejects the model {}; the firmware will report why and halt",
            model.display()
        ),
    }
    let edges: Vec<String> = cfg
        .map(|c| infer_core::filterbank::mel_edges_source(&c))
        .unwrap_or_default();

    let code = format!(
        "/// The embedded model file (`build.rs` picked it).\n\
         pub static MODEL: &[u8] = include_bytes!({path:?});\n\
         /// Its file name, for the start-up log.\n\
         pub const MODEL_NAME: &str = {name:?};\n\
         /// The front end's mel band edges in Hz (`infer_core::filterbank::mel_edge_hz`), computed by `build.rs`.\n\
         pub static MEL_EDGES: [f64; {n}] = [{edges}];\n",
        path = model.display().to_string(),
        name = model
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        n = edges.len(),
        edges = edges.join(", "),
    );
    fs::write(out.join("model.rs"), code).expect("write model.rs");
}

/// `TINYGENRE_BOARD_MODEL`, else the 16 kHz default, else the 22050 Hz real-music model.
fn pick_model(repo: &Path) -> PathBuf {
    let models = repo.join("models");
    // the directory, so that the default model appearing there triggers a rebuild
    println!("cargo::rerun-if-changed={}", models.display());
    if let Some(p) = env::var_os("TINYGENRE_BOARD_MODEL").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        let p = if p.is_absolute() { p } else { repo.join(p) };
        if !p.is_file() {
            panic!("TINYGENRE_BOARD_MODEL={} is not a file", p.display());
        }
        return p;
    }
    let tiny = models.join("tiny16k-int8.postcard");
    if tiny.is_file() {
        return tiny;
    }
    let fallback = models.join("genre-int8.postcard");
    println!(
        "cargo::warning={} does not exist yet: embedding {} (22050 Hz) so the crate builds; \
         the firmware will report the sample-rate mismatch and halt (set TINYGENRE_BOARD_MODEL)",
        tiny.display(),
        fallback.display()
    );
    fallback
}
