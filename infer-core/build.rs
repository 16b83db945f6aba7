//! Detects a Cortex-M core with the DSP extension (`thumbv7em-*`: M4, M7) and enables the
//! SMLAD/SXTB16 convolution kernel there (`cfg(tinygenre_dsp)`). ARM target features are not
//! visible to `cfg(target_feature)` on stable Rust, so the target triple decides.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(tinygenre_dsp)");
    println!("cargo::rerun-if-changed=build.rs");
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.starts_with("thumbv7em-") {
        println!("cargo::rustc-cfg=tinygenre_dsp");
    }
}
