//! The `libtorch` feature's build-time check (trainer/build_libtorch.rs, run by build.rs) on
//! made-up libtorch directories: a missing directory and a torch other than 2.9 are refused with
//! the reason, a 2.9 one gives the `lib` directory the rpath points to. Runs in every build: it
//! needs no libtorch.

#[allow(dead_code)] // the build script's entry point, unused here
#[path = "../build_libtorch.rs"]
mod build_libtorch;

use build_libtorch::check;

fn fake_torch(version: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("lib")).unwrap();
    for lib in ["libtorch_cpu.so", "libc10.so"] {
        std::fs::write(dir.path().join("lib").join(lib), b"").unwrap();
    }
    std::fs::write(
        dir.path().join("version.py"),
        format!("__version__ = '{version}'\ndebug = False\n"),
    )
    .unwrap();
    dir
}

#[test]
fn missing_or_wrong_libtorch_is_refused_with_the_reason() {
    let err = check(None).unwrap_err();
    assert!(err.contains("LIBTORCH is not set"), "{err}");
    let err = check(Some("/nonexistent/torch".into())).unwrap_err();
    assert!(err.contains("does not exist"), "{err}");

    let newer = fake_torch("2.15.0+cpu");
    let err = check(Some(newer.path().into())).unwrap_err();
    assert!(err.contains("torch 2.15.0+cpu"), "{err}");

    let no_libs = fake_torch("2.9.1+cu128");
    std::fs::remove_file(no_libs.path().join("lib/libtorch_cpu.so")).unwrap();
    let err = check(Some(no_libs.path().into())).unwrap_err();
    assert!(err.contains("libtorch_cpu.so is missing"), "{err}");
}

#[test]
fn torch_2_9_gives_its_lib_directory() {
    let ok = fake_torch("2.9.1+cu128");
    let lib = check(Some(ok.path().into())).unwrap();
    assert_eq!(lib, ok.path().canonicalize().unwrap().join("lib"));
}
