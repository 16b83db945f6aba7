//! Derives the feature cache's code version from the source of everything that shapes a cached
//! log-mel segment: infer-core's front end, the corpus crate's decoding, resampling and discovery,
//! and the trainer's segmentation, waveform augmentation and cache format. Any edit to one of
//! these files changes the version, and with it every cache key, so a stale cache entry is never
//! read (`cache::CODE_VERSION`).

use std::path::Path;

// the `libtorch` feature's check of its libtorch, and the rpath to it
#[path = "build_libtorch.rs"]
mod libtorch;

/// The files, relative to the workspace root. `trainer/tests/layers.rs` checks that every trainer
/// module the feature path imports is listed.
const SOURCES: &[&str] = &[
    "infer-core/src/config.rs",
    "infer-core/src/db.rs",
    "infer-core/src/fft.rs",
    "infer-core/src/filterbank.rs",
    "infer-core/src/filterbank/folded.rs",
    "infer-core/src/frontend.rs",
    "infer-core/src/limits.rs",
    "infer-core/src/rfft.rs",
    "infer-core/src/window.rs",
    "corpus/src/audio/au.rs",
    "corpus/src/audio/error.rs",
    "corpus/src/audio/header.rs",
    "corpus/src/audio/limits.rs",
    "corpus/src/audio/mod.rs",
    "corpus/src/audio/wav.rs",
    "corpus/src/audio/write.rs",
    "corpus/src/dataset.rs",
    "corpus/src/fsio.rs",
    "trainer/src/data/cache/entry.rs",
    "trainer/src/data/cache/key.rs",
    "trainer/src/data/cache/mod.rs",
    "trainer/src/data/cache/set.rs",
    "trainer/src/base/mod.rs",
    "trainer/src/base/progress.rs",
    "trainer/src/base/segment.rs",
    "trainer/src/augment/grammar.rs",
    "trainer/src/augment/mod.rs",
    "trainer/src/augment/mixup.rs",
    "trainer/src/augment/noise.rs",
    "trainer/src/augment/pitch.rs",
    "trainer/src/augment/spec.rs",
    "trainer/src/augment/specaugment.rs",
    "trainer/src/augment/stretch.rs",
    "trainer/src/augment/timeshift.rs",
];

/// FNV-1a, 64 bits: stable across toolchains and platforms.
fn fnv1a(h: &mut u64, bytes: &[u8]) {
    for &b in bytes {
        *h ^= u64::from(b);
        *h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
}

fn main() {
    libtorch::main();
    // Read at run time, not with `env!`: one compiled build script can be reused by cargo for
    // another checkout that shares the target directory, and must then read that checkout's files.
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .expect("cargo sets CARGO_MANIFEST_DIR for build scripts");
    let root = Path::new(&manifest_dir).join("..");
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for rel in SOURCES {
        let path = root.join(rel);
        println!("cargo:rerun-if-changed={}", path.display());
        let text = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "feature cache version: cannot read {}: {e} (update trainer/build.rs)",
                path.display()
            )
        });
        fnv1a(&mut h, rel.as_bytes());
        fnv1a(&mut h, &[0]);
        fnv1a(&mut h, &text);
        fnv1a(&mut h, &[0]);
    }
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-env=TINYGENRE_FEATURE_CODE_VERSION={h:016x}");
    println!(
        "cargo:rustc-env=TINYGENRE_FEATURE_SOURCES={}",
        SOURCES.join(",")
    );
}
