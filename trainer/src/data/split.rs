//! Train / validation / test splits by track (a track's segments never straddle
//! two partitions), seeded and reproducible.
//!
//! - [`SplitKind::Random`]: stratified by genre; each genre's tracks are shuffled
//!   with the seed and cut into test and training parts (the study's split is 70/30).
//!
//! Every kind but the fault-filtered one (which has its own validation list), `All` and
//! `AllTest` then carves a validation set out of the training tracks ([`carve_valid`]):
//! stratified, by track, [`DEFAULT_VALID_FRACTION`] of them unless the split says otherwise.
//! - [`SplitKind::FaultFiltered`]: the fault-filtered split of Kereliuk, Sturm and
//!   Larsen (2015), lists embedded from `data/splits/`; tracks matched by
//!   `genre/stem` so `.au` and `.wav` copies both work; tracks not listed are left
//!   out, listed tracks that are missing are reported in [`Split::missing`].
//! - [`SplitKind::KFold`]: stratified k folds; fold `fold` is the test set.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail, ensure};
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rand::seq::SliceRandom;

use crate::base::dataset::{Dataset, track_key_of};

const TRAIN_FILTERED: &str = include_str!("../../../data/splits/train_filtered.txt");
const VALID_FILTERED: &str = include_str!("../../../data/splits/valid_filtered.txt");
const TEST_FILTERED: &str = include_str!("../../../data/splits/test_filtered.txt");

/// How to split a dataset.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SplitKind {
    /// Stratified random split.
    Random {
        /// Fraction of each genre's tracks in the test set (the study: 0.3).
        test_fraction: f32,
        /// Fraction of the training tracks moved to the validation set (default 0.1; 0 = none,
        /// the study's own protocol).
        valid_fraction: f32,
    },
    /// The fault-filtered split (Kereliuk et al. 2015).
    FaultFiltered,
    /// Stratified k-fold cross-validation; fold `fold` (0-based) is the test set.
    KFold {
        /// Number of folds, at least 2.
        k: usize,
        /// The test fold, `0..k`.
        fold: usize,
        /// Fraction of the training folds' tracks moved to the validation set.
        #[serde(default)]
        valid_fraction: f32,
    },
    /// Every track trains; no validation, no test (`--split all`): for a model to ship, whose
    /// accuracy is estimated by cross-validation of the same recipe, not by the run itself.
    All,
    /// Every track is a test track (`--split test`): `eval --model` on a folder of unseen clips.
    AllTest,
}

impl SplitKind {
    /// Whether the split has a validation part (it may still come out empty on a dataset too
    /// small to spare a track).
    pub fn has_validation(&self) -> bool {
        match *self {
            SplitKind::Random { valid_fraction, .. } | SplitKind::KFold { valid_fraction, .. } => {
                valid_fraction > 0.0
            }
            SplitKind::FaultFiltered => true,
            SplitKind::All | SplitKind::AllTest => false,
        }
    }
}

/// The share of the training tracks that validate when a split does not say (`--split random`,
/// `kfold:K:FOLD`).
pub const DEFAULT_VALID_FRACTION: f32 = 0.1;

impl Default for SplitKind {
    /// The study's stratified random 70/30 split, with a tenth of the training tracks validating.
    fn default() -> Self {
        SplitKind::Random {
            test_fraction: 0.3,
            valid_fraction: DEFAULT_VALID_FRACTION,
        }
    }
}

/// Errors of building, writing and reading splits.
#[derive(Debug, thiserror::Error)]
pub enum SplitError {
    /// Fractions outside [0, 1] or summing to more than 1, or bad k / fold.
    #[error("invalid split parameters: {0}")]
    BadParameters(String),
    /// Writing or reading a list failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A list names a track the dataset does not hold.
    #[error("{path}: line {line}: {entry:?} is not a track of the dataset")]
    UnknownTrack {
        /// The list file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The entry.
        entry: String,
    },
    /// A track appears in two partitions.
    #[error("track {0} appears in more than one partition")]
    Leak(String),
}

/// A split of a dataset's tracks (ids into [`Dataset::tracks`]), each list sorted.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Split {
    /// Training tracks.
    pub train: Vec<usize>,
    /// Validation tracks (may be empty).
    pub valid: Vec<usize>,
    /// Test tracks.
    pub test: Vec<usize>,
    /// Entries of a fixed list (fault-filtered) that the dataset does not hold.
    pub missing: Vec<String>,
}

fn rng_for(seed: u64, genre: usize) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(seed ^ (genre as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

fn by_genre(ds: &Dataset) -> Vec<Vec<usize>> {
    let mut g = vec![Vec::new(); ds.genres.len()];
    for t in &ds.tracks {
        if let Some(v) = g.get_mut(t.genre) {
            v.push(t.id);
        }
    }
    g
}

/// Moves `fraction` of the training tracks (`train[g]`: genre `g`'s, in shuffled order) to a
/// validation set; returns `(train, valid)`. Stratified: genre `g` gives `n_g * fraction`
/// tracks, rounded by largest remainder so the total is `round(n * fraction)`; at least one track
/// validates when `fraction > 0` and some genre has two, and no genre gives its last training
/// track. Ties between genres are broken by a seeded order, so the split is reproducible.
///
/// # Errors
/// A fraction outside [0, 1).
pub fn carve_valid(
    train: Vec<Vec<usize>>,
    fraction: f32,
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>), SplitError> {
    if !(fraction.is_finite() && (0.0..1.0).contains(&fraction)) {
        return Err(SplitError::BadParameters(format!(
            "validation fraction {fraction} must be in [0, 1)"
        )));
    }
    let n: usize = train.iter().map(Vec::len).sum();
    let f = f64::from(fraction);
    let mut want = (n as f64 * f).round() as usize;
    if fraction > 0.0 {
        want = want.max(1);
    }
    // Whole parts first, then the largest remainders; a genre keeps one training track.
    let cap = |g: &Vec<usize>| g.len().saturating_sub(1);
    let mut take: Vec<usize> = train
        .iter()
        .map(|g| ((g.len() as f64 * f).floor() as usize).min(cap(g)))
        .collect();
    let mut order: Vec<usize> = (0..train.len()).collect();
    order.shuffle(&mut Xoshiro256PlusPlus::seed_from_u64(
        seed ^ 0x5EE_D0F7_A11D,
    ));
    order.sort_by(|&a, &b| {
        let rem = |g: usize| train[g].len() as f64 * f - take[g] as f64;
        rem(b).total_cmp(&rem(a))
    });
    let mut left = want.saturating_sub(take.iter().sum());
    while left > 0 {
        let before = left;
        for &g in &order {
            if left > 0 && take[g] < cap(&train[g]) {
                take[g] += 1;
                left -= 1;
            }
        }
        if left == before {
            break; // every genre is down to one training track
        }
    }
    let (mut tr, mut va) = (Vec::with_capacity(n), Vec::new());
    for (ids, t) in train.into_iter().zip(take) {
        let (v, rest) = ids.split_at(t);
        va.extend_from_slice(v);
        tr.extend_from_slice(rest);
    }
    Ok((tr, va))
}

impl Split {
    /// Builds the split of `ds` described by `kind`, shuffled with `seed`
    /// (the same inputs always give the same split).
    pub fn new(ds: &Dataset, kind: &SplitKind, seed: u64) -> Result<Split, SplitError> {
        let mut split = Split::default();
        match *kind {
            SplitKind::Random {
                test_fraction,
                valid_fraction,
            } => {
                let ok = |f: f32| f.is_finite() && (0.0..=1.0).contains(&f);
                if !ok(test_fraction) || !ok(valid_fraction) {
                    return Err(SplitError::BadParameters(format!(
                        "test fraction {test_fraction} and validation fraction {valid_fraction} must be in [0, 1]"
                    )));
                }
                let mut train = Vec::new();
                for (g, mut ids) in by_genre(ds).into_iter().enumerate() {
                    ids.shuffle(&mut rng_for(seed, g));
                    let n_test =
                        ((ids.len() as f32 * test_fraction).round() as usize).min(ids.len());
                    let (test, rest) = ids.split_at(n_test);
                    split.test.extend_from_slice(test);
                    train.push(rest.to_vec());
                }
                (split.train, split.valid) = carve_valid(train, valid_fraction, seed)?;
            }
            SplitKind::KFold {
                k,
                fold,
                valid_fraction,
            } => {
                if k < 2 || fold >= k {
                    return Err(SplitError::BadParameters(format!(
                        "k-fold needs k >= 2 and fold < k (got k = {k}, fold = {fold})"
                    )));
                }
                // Deal each genre's shuffled tracks round-robin to the folds,
                // continuing where the previous genre stopped so fold sizes stay
                // within one of each other.
                let mut next = 0usize;
                let mut train = Vec::new();
                for (g, mut ids) in by_genre(ds).into_iter().enumerate() {
                    ids.shuffle(&mut rng_for(seed, g));
                    let mut rest = Vec::new();
                    for id in ids {
                        if next % k == fold {
                            split.test.push(id);
                        } else {
                            rest.push(id);
                        }
                        next += 1;
                    }
                    train.push(rest);
                }
                (split.train, split.valid) = carve_valid(train, valid_fraction, seed)?;
            }
            SplitKind::All => split.train = (0..ds.tracks.len()).collect(),
            SplitKind::AllTest => split.test = (0..ds.tracks.len()).collect(),
            SplitKind::FaultFiltered => {
                let index: HashMap<String, usize> = ds
                    .tracks
                    .iter()
                    .map(|t| (t.key(&ds.genres), t.id))
                    .collect();
                for (list, out) in [
                    (TRAIN_FILTERED, &mut split.train),
                    (VALID_FILTERED, &mut split.valid),
                    (TEST_FILTERED, &mut split.test),
                ] {
                    for entry in list.lines().map(str::trim).filter(|l| !l.is_empty()) {
                        match track_key_of(entry).and_then(|k| index.get(&k)) {
                            Some(&id) => out.push(id),
                            None => split.missing.push(entry.to_string()),
                        }
                    }
                }
            }
        }
        split.train.sort_unstable();
        split.valid.sort_unstable();
        split.test.sort_unstable();
        split.check_disjoint(ds)?;
        Ok(split)
    }

    /// Errors if any track id is in two partitions (or twice in one).
    pub fn check_disjoint(&self, ds: &Dataset) -> Result<(), SplitError> {
        let mut seen = vec![false; ds.tracks.len()];
        for &id in self.train.iter().chain(&self.valid).chain(&self.test) {
            match seen.get_mut(id) {
                Some(s) if !*s => *s = true,
                _ => {
                    return Err(SplitError::Leak(
                        ds.key(id).unwrap_or_else(|| format!("#{id}")),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Writes `train.txt`, `valid.txt` and `test.txt` into `dir` (created if
    /// needed): one path relative to the dataset's genres folder per line
    /// (`blues/blues.00000.wav`), each file written atomically.
    pub fn write(&self, dir: &Path, ds: &Dataset) -> Result<(), SplitError> {
        std::fs::create_dir_all(dir).map_err(|source| SplitError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        for (name, ids) in [
            ("train.txt", &self.train),
            ("valid.txt", &self.valid),
            ("test.txt", &self.test),
        ] {
            let mut text = String::new();
            for &id in ids {
                if let Some(rel) = ds.relative_path(id) {
                    text.push_str(&rel);
                    text.push('\n');
                }
            }
            let path = dir.join(name);
            crate::base::fsio::write_atomic(&path, text.as_bytes()).map_err(|e| {
                SplitError::Io {
                    path: e.path,
                    source: e.source,
                }
            })?;
        }
        Ok(())
    }

    /// Reads back the lists [`Split::write`] wrote (matching entries by
    /// `genre/stem`); a missing `valid.txt` means no validation set. An entry the
    /// dataset does not hold is an error naming the file and line.
    pub fn read(dir: &Path, ds: &Dataset) -> Result<Split, SplitError> {
        let index: HashMap<String, usize> = ds
            .tracks
            .iter()
            .map(|t| (t.key(&ds.genres), t.id))
            .collect();
        let mut split = Split::default();
        for (name, out) in [
            ("train.txt", &mut split.train),
            ("valid.txt", &mut split.valid),
            ("test.txt", &mut split.test),
        ] {
            let path = dir.join(name);
            if name == "valid.txt" && !path.exists() {
                continue;
            }
            let text = std::fs::read_to_string(&path).map_err(|source| SplitError::Io {
                path: path.clone(),
                source,
            })?;
            for (i, entry) in text.lines().enumerate() {
                let entry = entry.trim();
                if entry.is_empty() {
                    continue;
                }
                match track_key_of(entry).and_then(|k| index.get(&k)) {
                    Some(&id) => out.push(id),
                    None => {
                        return Err(SplitError::UnknownTrack {
                            path,
                            line: i + 1,
                            entry: entry.to_string(),
                        });
                    }
                }
            }
            out.sort_unstable();
        }
        split.check_disjoint(ds)?;
        Ok(split)
    }
}

/// Parses `--split`: `random` (the study's stratified 70/30), `random:VALID`, `fault-filtered`
/// (its own validation list), `kfold:K:FOLD` or `kfold:K:FOLD:VALID` (`kfold` = `kfold:5:0`),
/// `all` (every track trains) or `test` (every track is scored). `VALID` is the fraction of the
/// training tracks that validate, [`DEFAULT_VALID_FRACTION`] when not given; `0` asks for none.
pub fn parse_split(s: &str) -> anyhow::Result<SplitKind> {
    let parts: Vec<&str> = s.split(':').collect();
    let num = |p: &str, what: &str| -> anyhow::Result<f64> {
        p.parse::<f64>()
            .with_context(|| format!("--split {s:?}: {what} {p:?} is not a number"))
    };
    let count = |p: &str, what: &str| -> anyhow::Result<usize> {
        p.parse::<usize>()
            .with_context(|| format!("--split {s:?}: {what} {p:?} is not a whole number"))
    };
    let valid = |p: &str| -> anyhow::Result<f32> {
        let v = num(p, "validation fraction")?;
        ensure!(
            (0.0..1.0).contains(&v),
            "--split {s:?}: the validation fraction {v} must be in [0, 1)"
        );
        Ok(v as f32)
    };
    Ok(match parts.as_slice() {
        ["random"] => SplitKind::default(),
        ["random", v] => SplitKind::Random {
            test_fraction: 0.3,
            valid_fraction: valid(v)?,
        },
        ["fault-filtered"] => SplitKind::FaultFiltered,
        ["all"] => SplitKind::All,
        ["test"] => SplitKind::AllTest,
        ["kfold"] => SplitKind::KFold {
            k: 5,
            fold: 0,
            valid_fraction: DEFAULT_VALID_FRACTION,
        },
        ["kfold", k, fold] => SplitKind::KFold {
            k: count(k, "k")?,
            fold: count(fold, "fold")?,
            valid_fraction: DEFAULT_VALID_FRACTION,
        },
        ["kfold", k, fold, v] => SplitKind::KFold {
            k: count(k, "k")?,
            fold: count(fold, "fold")?,
            valid_fraction: valid(v)?,
        },
        _ => bail!(
            "unknown split {s:?}: expected random, random:VALID, fault-filtered, kfold:K:FOLD, kfold:K:FOLD:VALID, all (every track trains) or test (every track is scored)"
        ),
    })
}
