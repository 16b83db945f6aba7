//! The trainer's modules form one-way layers (docs/architecture.md): no import cycle among its
//! top-level modules, no source file over 500 lines (tables of data aside), and the feature
//! cache's code version covers every module the features are computed with.
//!
//! The module graph is read from the source: every `crate::NAME` path (in `use` lines, grouped
//! `use crate::{a, b}` lists and inline paths; comments are ignored). Run
//! `cargo test -p trainer --test layers -- --nocapture` to print the layers.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Files allowed past the size limit: tables of data, not logic.
const DATA_TABLES: &[&str] = &[];
const MAX_LINES: usize = 500;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The code of a file without comments (line comments and doc comments).
fn code(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules named by `crate::` paths in `code`, including grouped imports
/// `crate::{a, b::c, d}`.
fn crate_refs(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // split the group at top-level commas
            let (mut depth, mut start) = (0usize, 0usize);
            for (k, ch) in group.char_indices() {
                match ch {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        out.insert(ident(group[start..k].trim()));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.insert(ident(group[start..k].trim()));
                        start = k + 1;
                    }
                    _ => {}
                }
            }
        } else {
            out.insert(ident(rest));
        }
    }
    out.retain(|m| !m.is_empty() && m != "self");
    out
}

/// Top-level module of a file under `trainer/src` (`None` for `lib.rs` and `main.rs`).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()?
        .as_os_str()
        .to_string_lossy()
        .to_string();
    let name = first.strip_suffix(".rs").unwrap_or(&first).to_string();
    (name != "lib" && name != "main").then_some(name)
}

/// module -> the modules it imports (itself excluded).
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = root().join("trainer/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        let Some(m) = module_of(&src, &f) else {
            continue;
        };
        let refs = crate_refs(&code(&std::fs::read_to_string(&f).unwrap()));
        let e = g.entry(m.clone()).or_default();
        e.extend(refs.into_iter().filter(|r| *r != m));
    }
    g
}

/// A cycle through `start`, if any (depth-first search).
fn find_cycle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        g: &BTreeMap<String, BTreeSet<String>>,
        n: &str,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = stack.iter().position(|s| s == n) {
            let mut c = stack[i..].to_vec();
            c.push(n.to_string());
            return Some(c);
        }
        if done.contains(n) {
            return None;
        }
        stack.push(n.to_string());
        for d in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(g, d, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for n in g.keys() {
        if let Some(c) = visit(g, n, &mut Vec::new(), &mut done) {
            return Some(c);
        }
    }
    None
}

/// Layer of each module: 0 for modules importing none of the crate, else 1 + the highest layer
/// among its imports.
fn layers(g: &BTreeMap<String, BTreeSet<String>>) -> BTreeMap<String, usize> {
    fn depth(
        g: &BTreeMap<String, BTreeSet<String>>,
        n: &str,
        memo: &mut BTreeMap<String, usize>,
    ) -> usize {
        if let Some(&d) = memo.get(n) {
            return d;
        }
        let d = g
            .get(n)
            .into_iter()
            .flatten()
            .map(|x| depth(g, x, memo) + 1)
            .max()
            .unwrap_or(0);
        memo.insert(n.to_string(), d);
        d
    }
    let mut memo = BTreeMap::new();
    for n in g.keys() {
        depth(g, n, &mut memo);
    }
    memo
}

#[test]
fn the_parser_reads_every_form_of_import() {
    let c = code(
        "use crate::a::B;\nuse crate::{b, c::{D, E}, self};\nlet x = crate::d::f(); // crate::z\n/// [`crate::y`]\n",
    );
    let got: Vec<String> = crate_refs(&c).into_iter().collect();
    assert_eq!(got, ["a", "b", "c", "d"]);
    let mut g = BTreeMap::new();
    g.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    g.insert("b".to_string(), BTreeSet::from(["c".to_string()]));
    g.insert("c".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(find_cycle(&g).unwrap(), ["a", "b", "c", "a"]);
    g.insert("c".to_string(), BTreeSet::new());
    assert_eq!(find_cycle(&g), None);
    assert_eq!(layers(&g)["a"], 2);
}

#[test]
fn trainer_modules_have_no_import_cycle() {
    let g = graph();
    assert!(g.len() > 20, "found only {} modules", g.len());
    if let Some(c) = find_cycle(&g) {
        panic!("import cycle among trainer modules: {}", c.join(" -> "));
    }
    let l = layers(&g);
    let top = l.values().copied().max().unwrap_or(0);
    for d in 0..=top {
        let names: Vec<&str> = l
            .iter()
            .filter(|(_, v)| **v == d)
            .map(|(k, _)| k.as_str())
            .collect();
        println!("layer {d}: {}", names.join(", "));
    }
    // the command line is the top; nothing imports it
    assert!(g.values().all(|deps| !deps.contains("cli")));
}

#[test]
fn no_source_file_is_over_500_lines() {
    let mut files = Vec::new();
    rust_files(&root().join("trainer/src"), &mut files);
    rust_files(&root().join("infer-core/src"), &mut files);
    rust_files(&root().join("corpus/src"), &mut files);
    let mut long = Vec::new();
    for f in files {
        let rel = f
            .strip_prefix(root())
            .unwrap()
            .to_string_lossy()
            .to_string();
        let n = std::fs::read_to_string(&f).unwrap().lines().count();
        if n > MAX_LINES && !DATA_TABLES.contains(&rel.as_str()) {
            long.push(format!("{rel}: {n} lines"));
        }
    }
    assert!(long.is_empty(), "split these files:\n{}", long.join("\n"));
}

#[test]
fn feature_cache_version_covers_the_feature_path() {
    let g = graph();
    // every module the cache and the waveform augmentations reach
    let mut reach = BTreeSet::new();
    let mut todo = vec!["cache".to_string(), "augment".to_string()];
    while let Some(m) = todo.pop() {
        if reach.insert(m.clone()) {
            todo.extend(g.get(&m).into_iter().flatten().cloned());
        }
    }
    let listed: BTreeSet<String> = trainer::cache::code_version_sources()
        .into_iter()
        .map(String::from)
        .collect();
    let src = root().join("trainer/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut missing = Vec::new();
    for f in files {
        if module_of(&src, &f).is_some_and(|m| reach.contains(&m)) {
            let rel = f
                .strip_prefix(root())
                .unwrap()
                .to_string_lossy()
                .to_string();
            if !listed.contains(&rel) {
                missing.push(rel);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "the feature cache's code version (trainer/build.rs) misses {missing:?}"
    );
    // and every listed file exists (the build script would have failed otherwise)
    for f in &listed {
        assert!(root().join(f).is_file(), "{f}");
    }
}
