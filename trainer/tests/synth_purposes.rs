//! Synthetic sets per purpose are disjoint (issue 16): every `synth::generate(.., seed)` in the
//! test suites uses a literal seed from `synth::TEST_SEEDS`, the range no other purpose uses
//! (the unit test `synth::tests::purposes_share_no_clip` checks the clips themselves).

use std::fs;
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The last argument of each `synth::generate(...)` call in `text`.
fn generate_seeds(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let needle = "synth::generate(";
    let mut rest = text;
    while let Some(i) = rest.find(needle) {
        let args = &rest[i + needle.len()..];
        let mut depth = 1;
        let end = args
            .char_indices()
            .find(|&(_, c)| {
                depth += match c {
                    '(' => 1,
                    ')' => -1,
                    _ => 0,
                };
                depth == 0
            })
            .map_or(args.len(), |(j, _)| j);
        out.push(
            args[..end]
                .rsplit(',')
                .next()
                .unwrap_or("")
                .trim()
                .to_string(),
        );
        rest = &args[end..];
    }
    out
}

#[test]
fn the_parser_finds_each_calls_seed() {
    let src = "a(); trainer::data::synth::generate(&r, f(1, 2), 3.5, 11).unwrap(); synth::generate(x, 1, 2.0, s)";
    assert_eq!(generate_seeds(src), ["11", "s"]);
}

#[test]
fn test_suites_generate_sets_with_test_seeds_only() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    let mut files = Vec::new();
    for d in ["trainer/tests", "tests", "benches"] {
        rust_files(&root.join(d), &mut files);
    }
    let mut calls = 0;
    for f in &files {
        if f.ends_with("synth_purposes.rs") {
            continue;
        }
        let text = fs::read_to_string(f).unwrap();
        for seed in generate_seeds(&text) {
            calls += 1;
            let v: u64 = seed.parse().unwrap_or_else(|_| {
                panic!(
                    "{}: synth::generate with a non-literal seed {seed:?}",
                    f.display()
                )
            });
            assert!(
                trainer::data::synth::TEST_SEEDS.contains(&v),
                "{}: seed {v} is outside synth::TEST_SEEDS ({:?})",
                f.display(),
                trainer::data::synth::TEST_SEEDS
            );
        }
    }
    assert!(
        calls >= 3,
        "found only {calls} calls: is the scan looking in the right place?"
    );
}
