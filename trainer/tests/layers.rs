//! The trainer's folders are its layers (docs/architecture.md): a module imports only from its
//! own folder or the folders below it; no import circle among the files and folders of any one
//! folder, in the trainer, infer-core and the corpus crate; no source file over 500 lines
//! (tables of data aside); and the feature cache's code version covers every file the features
//! are computed with.
//!
//! The import graph is read from the source: every `crate::`, `super::` and `self::` path (in
//! `use` lines, grouped `use crate::{a, b::{c, d}}` lists and inline paths; comments and the
//! unit tests at the bottom of a file are ignored). Run
//! `cargo test -p trainer --test layers -- --nocapture` to print each folder's layers.

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

/// The trainer's folders, bottom to top: a module may import from its own folder and the
/// folders before it in this list, never from one after it (`lib.rs` says the same in words).
const TRAINER_LAYERS: &[&str] = &[
    "base", "data", "augment", "models", "classic", "teacher", "run", "evaluate", "ship", "study",
    "cli",
];

/// The code of a file without its unit tests: everything from the first `#[cfg(test)]` that
/// opens a `mod` (tests sit at the bottom of each file; they may use anything).
fn without_tests(code: &str) -> String {
    let lines: Vec<&str> = code.lines().collect();
    let mut end = lines.len();
    for (i, l) in lines.iter().enumerate() {
        if l.trim() == "#[cfg(test)]"
            && lines[i + 1..]
                .iter()
                .find(|n| !n.trim().is_empty())
                .is_some_and(|n| n.trim_start().starts_with("mod "))
        {
            end = i;
            break;
        }
    }
    lines[..end].join("\n")
}

/// Module paths named in `code` by `crate::`, `super::` and `self::` paths, including grouped
/// imports (`crate::{a, b::{c, d}}`), each as written: `["crate", "a", "b"]`,
/// `["super", "x"]`. Globs and `self` items end a path.
fn paths(code: &str) -> Vec<Vec<String>> {
    fn ident(s: &str) -> &str {
        let n = s
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(s.len());
        &s[..n]
    }
    /// Reads a path continuing `prefix` at `s` (just after a `::`), pushing every path found.
    fn walk(prefix: Vec<String>, s: &str, out: &mut Vec<Vec<String>>) {
        if let Some(group) = s.strip_prefix('{') {
            let (mut depth, mut start) = (0usize, 0usize);
            for (k, ch) in group.char_indices() {
                match ch {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        walk(prefix.clone(), group[start..k].trim_start(), out);
                        return;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        walk(prefix.clone(), group[start..k].trim_start(), out);
                        start = k + 1;
                    }
                    _ => {}
                }
            }
            return;
        }
        let word = ident(s);
        if word.is_empty() || word == "self" {
            out.push(prefix);
            return;
        }
        let mut p = prefix;
        p.push(word.to_string());
        match s[word.len()..].strip_prefix("::") {
            Some(rest) => walk(p, rest, out),
            None => out.push(p),
        }
    }
    let mut out = Vec::new();
    for root in ["crate", "super", "self"] {
        let pat = format!("{root}::");
        let mut at = 0;
        while let Some(i) = code[at..].find(&pat) {
            let i = at + i;
            let before = code[..i].chars().next_back();
            at = i + pat.len();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue; // part of a longer path (`super::super::x` is read from its start)
            }
            let mut prefix = vec![root.to_string()];
            let mut rest = &code[at..];
            while let Some(r) = rest.strip_prefix("super::") {
                prefix.push("super".to_string());
                rest = r;
            }
            walk(prefix, rest, &mut out);
        }
    }
    out
}

/// The module path of a source file under `src` (`lib.rs` is `[]`, `a/mod.rs` is `["a"]`).
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap();
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().to_string())
        .collect();
    let last = parts.pop().unwrap();
    let stem = last.strip_suffix(".rs").unwrap();
    if !matches!(stem, "mod" | "lib" | "main") {
        parts.push(stem.to_string());
    }
    parts
}

/// Whether `path` (a module path) is a module of the crate at `src`.
fn is_module(src: &Path, path: &[String]) -> bool {
    let dir = path.iter().fold(src.to_path_buf(), |d, p| d.join(p));
    !path.is_empty() && (dir.with_extension("rs").is_file() || dir.join("mod.rs").is_file())
}

/// The module an import path names, absolute (`["a", "b", "Item"]`), read in the module `me`
/// (`is_folder`: its file is a `mod.rs`). `super` of `a/b.rs` and of `a/b/mod.rs` (both module
/// `a::b`) is `a`; `self` of a folder is the folder, of a leaf file its own items (`None`).
fn resolve(me: &[String], is_folder: bool, p: &[String]) -> Option<Vec<String>> {
    let ups = p.iter().take_while(|s| *s == "super").count();
    let mut target = match p[0].as_str() {
        "crate" => Vec::new(),
        "self" if is_folder => me.to_vec(),
        "self" => return None,
        _ => me[..me.len().saturating_sub(ups)].to_vec(),
    };
    // skip the root word (`crate` / `self`) or every `super`
    target.extend(p[ups.max(1)..].iter().cloned());
    Some(target)
}

/// The crate's import graph, per folder: for each module folder (`[]` is the crate root), the
/// edges between its children (files and subfolders), `child -> child`, from every import in
/// the files under a child that names another child of the same folder. Imports of the folder's
/// own items (its `mod.rs`, the facade) are not edges.
type Graph = BTreeMap<Vec<String>, BTreeMap<String, BTreeSet<String>>>;

fn graph_of(src: &Path) -> Graph {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut g = Graph::new();
    for f in files {
        if f.file_name().is_some_and(|n| n == "tests.rs") {
            continue; // a module's unit tests in their own file (`#[cfg(test)] mod tests;`)
        }
        let me = module_path(src, &f);
        if me.is_empty() {
            continue; // lib.rs / main.rs: the crate's facade
        }
        let text = without_tests(&code(&std::fs::read_to_string(&f).unwrap()));
        let is_folder = f.file_name().is_some_and(|n| n == "mod.rs");
        for p in paths(&text) {
            let Some(target) = resolve(&me, is_folder, &p) else {
                continue;
            };
            // where the two paths part: a child of their common folder on each side
            let k = me.iter().zip(&target).take_while(|(a, b)| a == b).count();
            if k >= me.len() || k >= target.len() {
                continue; // inside itself, or an item of one of its own folders
            }
            if !is_module(src, &target[..=k]) {
                continue; // an item the common folder's facade defines or re-exports
            }
            g.entry(me[..k].to_vec())
                .or_default()
                .entry(me[k].clone())
                .or_default()
                .insert(target[k].clone());
        }
    }
    g
}

/// A cycle in one folder's graph, if any (depth-first search).
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

/// Layer of each node: 0 for nodes importing none of their siblings, else 1 + the highest
/// layer among their imports.
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

/// Every folder's cycles, as `folder: a -> b -> a`, and prints each folder's layers.
fn cycles(name: &str, g: &Graph) -> Vec<String> {
    let mut found = Vec::new();
    for (folder, edges) in g {
        let at = if folder.is_empty() {
            format!("{name} (crate root)")
        } else {
            format!("{name}::{}", folder.join("::"))
        };
        match find_cycle(edges) {
            Some(c) => found.push(format!("{at}: {}", c.join(" -> "))),
            None => {
                let l = layers(edges);
                let top = l.values().copied().max().unwrap_or(0);
                let rows: Vec<String> = (0..=top)
                    .map(|d| {
                        let names: Vec<&str> = l
                            .iter()
                            .filter(|(_, v)| **v == d)
                            .map(|(k, _)| k.as_str())
                            .collect();
                        names.join(" ")
                    })
                    .collect();
                println!("{at}: {}", rows.join(" < "));
            }
        }
    }
    found
}

#[test]
fn the_parser_reads_every_form_of_import() {
    let c = code(
        "use crate::a::B;\nuse crate::{b, c::{D, e::F}, self};\nlet x = crate::d::f(); // crate::z\n/// [`crate::y`]\nuse super::super::g::H;\nuse super::{i, j::K};\n",
    );
    let got: Vec<String> = paths(&c).iter().map(|p| p.join("::")).collect();
    assert_eq!(
        got,
        [
            "crate::a::B",
            "crate::b",
            "crate::c::D",
            "crate::c::e::F",
            "crate",
            "crate::d::f",
            "super::super::g::H",
            "super::i",
            "super::j::K",
        ]
    );
    let t = without_tests("fn a() {}\n#[cfg(test)]\nmod tests {\n    use crate::x;\n}\n");
    assert_eq!(t, "fn a() {}");
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
fn the_graph_resolves_paths_to_sibling_modules() {
    // the trainer itself: `data/synth/harmony.rs` imports `super::plan` (a sibling), never
    // `super::render`; `study/train.rs` imports `crate::evaluate::eval` (another folder)
    let src = root().join("trainer/src");
    let g = graph_of(&src);
    let synth = &g[&vec!["data".to_string(), "synth".to_string()]];
    assert!(synth["harmony"].contains("plan"), "{synth:?}");
    assert!(!synth["harmony"].contains("render"), "{synth:?}");
    assert!(g[&Vec::new()]["study"].contains("evaluate"));
}

#[test]
fn no_import_cycle_in_trainer_or_infer_core_and_the_trainer_folders_keep_their_order() {
    let trainer = graph_of(&root().join("trainer/src"));
    let mut found = cycles("trainer", &trainer);
    found.extend(cycles(
        "infer_core",
        &graph_of(&root().join("infer-core/src")),
    ));
    found.extend(cycles("corpus", &graph_of(&root().join("corpus/src"))));
    assert!(found.is_empty(), "import cycles:\n{}", found.join("\n"));
    // the trainer's top level is its folders, one per layer, imported only downwards
    let top = &trainer[&Vec::new()];
    let mut wrong = Vec::new();
    for (from, tos) in top {
        let i = TRAINER_LAYERS.iter().position(|l| l == from);
        for to in tos {
            let j = TRAINER_LAYERS.iter().position(|l| l == to);
            match (i, j) {
                (Some(i), Some(j)) if j < i => {}
                _ => wrong.push(format!("{from} imports {to}")),
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layer order {TRAINER_LAYERS:?}:\n{}",
        wrong.join("\n")
    );
    // every folder is in the list, and the top level holds nothing else but lib.rs and main.rs
    for e in std::fs::read_dir(root().join("trainer/src")).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().to_string();
        assert!(
            TRAINER_LAYERS.contains(&name.as_str()) || name == "lib.rs" || name == "main.rs",
            "trainer/src/{name} is not a layer folder"
        );
    }
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
    // every trainer file the feature cache and the waveform augmentations reach, following
    // imports file by file (a folder counts as all of its files)
    let src = root().join("trainer/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: Vec<(Vec<String>, PathBuf)> = files
        .iter()
        .map(|f| (module_path(&src, f), f.clone()))
        .collect();
    let mut reach: BTreeSet<Vec<String>> = BTreeSet::new();
    // (folder, whole): the two starting folders count whole; a module reached by an import is
    // its own file (a folder's `mod.rs` when the import names an item the folder re-exports)
    let mut todo = vec![
        (vec!["data".to_string(), "cache".to_string()], true),
        (vec!["augment".to_string()], true),
    ];
    while let Some((m, whole)) = todo.pop() {
        for (path, f) in &modules {
            let hit = if whole {
                path.starts_with(&m)
            } else {
                *path == m
            };
            if !hit || !reach.insert(path.clone()) {
                continue;
            }
            let text = without_tests(&code(&std::fs::read_to_string(f).unwrap()));
            let is_folder = f.file_name().is_some_and(|n| n == "mod.rs");
            for p in paths(&text) {
                let Some(mut target) = resolve(path, is_folder, &p) else {
                    continue;
                };
                // the longest prefix that is a module
                while !target.is_empty() && !is_module(&src, &target) {
                    target.pop();
                }
                if !target.is_empty() {
                    todo.push((target, false));
                }
            }
        }
    }
    let listed: BTreeSet<String> = trainer::data::cache::code_version_sources()
        .into_iter()
        .map(String::from)
        .collect();
    let mut missing = Vec::new();
    for (path, f) in &modules {
        if reach.contains(path) {
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
