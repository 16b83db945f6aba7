//! Puts `memory.x` on the linker's search path and picks the embedded model.
//!
//! `TINYGENRE_MODEL` (an absolute path, or one relative to the repository root)
//! names the `.postcard` model to embed; without it, the shipped real-music model
//! `models/genre-int8.postcard` is used (or, where it is missing, the synthetic demo model
//! `models/baseline-synth-int8.postcard`).
//! `TINYGENRE_MODEL=none` (or no model at all) builds the front end only.

use std::env;
use std::fs;
use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    let repo = manifest
        .parent()
        .expect("firmware-example sits in the repository")
        .to_path_buf();

    fs::copy(manifest.join("memory.x"), out.join("memory.x")).expect("copy memory.x");
    // cortex-m-rt's `device` feature includes `device.x` (weak handler aliases); the firmware's
    // interrupt vectors all point at `DefaultHandler` (`src/vectors.rs`), so it is empty.
    fs::write(
        out.join("device.x"),
        "/* no device interrupt handlers: see src/vectors.rs */\n",
    )
    .expect("write device.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
    println!("cargo:rerun-if-env-changed=TINYGENRE_MODEL");

    let genre = repo.join("models").join("genre-int8.postcard");
    let demo = repo.join("models").join("baseline-synth-int8.postcard");
    println!("cargo:rerun-if-changed={}", genre.display());
    let default = if genre.is_file() { genre } else { demo };
    let model = match env::var_os("TINYGENRE_MODEL") {
        Some(p) if p == "none" => None,
        Some(p) if !p.is_empty() => {
            let p = PathBuf::from(p);
            let p = if p.is_absolute() { p } else { repo.join(p) };
            if !p.is_file() {
                panic!("TINYGENRE_MODEL={} is not a file", p.display());
            }
            Some(p)
        }
        _ => default.is_file().then_some(default.clone()),
    };
    println!("cargo:rerun-if-changed={}", default.display());
    let model_rs = out.join("model.rs");
    let mut code = match &model {
        Some(p) => {
            println!("cargo:rerun-if-changed={}", p.display());
            format!(
                "/// The embedded model file.\npub static MODEL: Option<&[u8]> = Some(include_bytes!({:?}));\n",
                p.display().to_string()
            )
        }
        None => "/// No model embedded: front end only.\npub static MODEL: Option<&[u8]> = None;\n"
            .to_string(),
    };
    // The mel band edges of the front end the firmware will run (the embedded model's, or the
    // default without one), computed here exactly as infer-core computes them on the device
    // (IEEE f64, libm), for `LogMelStream::with_mel_edges`. A model that does not load leaves
    // them empty: the firmware then reports the model's own error.
    let bytes = model.as_ref().map(|p| fs::read(p).expect("read the model"));
    let cfg = match &bytes {
        Some(b) => infer_core::model::Model::from_bytes(b)
            .ok()
            .map(|m| *m.frontend()),
        None => Some(infer_core::config::FrontendConfig::DEFAULT),
    };
    let edges: Vec<String> = cfg
        .map(|c| infer_core::filterbank::mel_edges_source(&c))
        .unwrap_or_default();
    code.push_str(&format!(
        "/// The front end's mel band edges in Hz (`infer_core::filterbank::mel_edge_hz`), computed by `build.rs`.\npub static MEL_EDGES: [f64; {}] = [{}];\n",
        edges.len(),
        edges.join(", ")
    ));
    fs::write(model_rs, code).expect("write model.rs");
}
