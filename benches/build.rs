//! The trainer's check of the libtorch the `libtorch` feature builds against, and the rpath to
//! it, for the benches' own `libtorch` feature (benches/gpu.sh, benches/train_throughput.sh).

#[path = "../trainer/build_libtorch.rs"]
mod libtorch;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=../trainer/build_libtorch.rs");
    libtorch::main();
}
