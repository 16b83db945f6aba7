//! `trainer cv`: k-fold cross-validation of one CNN configuration, with the classic baseline
//! (MFCC mean/std + RBF SVM) on exactly the same tracks of every fold.
//!
//! ```text
//! runs/cv/
//!   cv.json        the settings (k, the shared run configuration) and, once every fold is
//!                  done, the summary (written by every shard; the summary when complete)
//!   cv.md          the side-by-side table (complete only)
//!   confusion_cnn.png, confusion_classic.png   track confusion summed over folds
//!   fold-0/        an ordinary run directory trained with `--split kfold:K:0`, plus
//!   fold-1/          classic.json (the classic baseline on that fold's tracks)
//!   ...
//! ```
//!
//! The folds are stratified by genre and split by track ([`crate::data::split::SplitKind::KFold`]).
//! Running the same command again skips complete folds, resumes interrupted ones from their last
//! checkpoint and recomputes nothing else; `--shard i/n` trains every n-th fold, as `reproduce`
//! does, using the same machinery ([`crate::study::experiments::plan_runs`]).

pub mod summary;

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail, ensure};
use serde::{Deserialize, Serialize};

use crate::base::fsio::{write_atomic, write_json};
use crate::base::metrics::Metrics;
use crate::evaluate::eval::{self, ModelEval};
use crate::models::ModelKind;
use crate::run::config::{DataSource, LrSchedule, RunConfig, RunFile, Selection};
use crate::run::distil::{TEACHER_JSON, TeacherReport};
use crate::run::loader::data_root;
use crate::ship::export::{self, Precision};
use crate::study::experiments::{self, PlannedRun, Reproduced, Shard, Step};

pub use crate::study::classic_fold::{CLASSIC_JSON, ClassicData, ClassicFold};
pub use summary::{CvSummary, FoldScores, MethodSummary};

/// `cv.json`: what a cross-validation directory holds.
pub const CV_FILE: &str = "cv.json";
/// `int8.json` in a fold: the fold's network exported to int8 (calibrated on its training
/// segments) and scored with infer-core on its test segments.
pub const INT8_JSON: &str = "int8.json";
/// The int8 export of a fold, beside its `int8.json`.
pub const INT8_MODEL: &str = "model-int8.postcard";
/// Training segments the int8 export of a fold is calibrated on.
pub const INT8_CALIBRATE: usize = 200;
/// `cv.md`: the summary table.
pub const CV_MD: &str = "cv.md";

/// A cross-validation: `k` folds, each trained with `base` and `--split kfold:k:i:valid`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CrossValidation {
    /// Number of folds, at least 2.
    pub k: usize,
    /// The run configuration of every fold (its split is replaced by the fold's).
    pub base: RunConfig,
    /// Fraction of each fold's training tracks that validate (`kfold:K:I:VALID`); 0 in
    /// `cv.json` files written before validation splits were the default.
    #[serde(default)]
    pub valid: f32,
}

/// The contents of `cv.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CvFile {
    /// The settings.
    pub cv: CrossValidation,
    /// The summary, once every fold is complete.
    pub summary: Option<CvSummary>,
}

impl CrossValidation {
    /// Check the settings: k ≥ 2 and a valid base configuration.
    pub fn validate(&self) -> anyhow::Result<()> {
        ensure!(
            self.k >= 2,
            "--k {}: cross-validation needs at least 2 folds",
            self.k
        );
        ensure!(
            (0.0..1.0).contains(&self.valid),
            "--valid {}: the validation fraction must be in [0, 1)",
            self.valid
        );
        self.base.validate()
    }

    /// Directory name of fold `i`.
    pub fn fold_name(i: usize) -> String {
        format!("fold-{i}")
    }

    /// The folds as runs: fold `i` is `base` with split `kfold:k:i:valid`, in `fold-<i>`.
    pub fn folds(&self) -> Vec<PlannedRun> {
        (0..self.k)
            .map(|i| PlannedRun {
                index: i,
                name: Self::fold_name(i),
                label: Self::fold_name(i),
                config: RunConfig {
                    split: format!("kfold:{}:{i}:{}", self.k, self.valid),
                    ..self.base.clone()
                },
            })
            .collect()
    }

    /// Each fold (those of `shard`, if given) with its directory under `out` and whether it is
    /// started, resumed or skipped. Refuses a directory holding another cross-validation.
    pub fn plan(&self, out: &Path, shard: Option<Shard>) -> anyhow::Result<Vec<Step>> {
        self.validate()?;
        if let Some(old) = read_cv_file(out)? {
            let same = old.cv.k == self.k
                && RunConfig {
                    device: self.base.device,
                    ..old.cv.base.clone()
                } == self.base;
            if !same {
                bail!(
                    "{} holds another cross-validation:\n  saved:   k = {}, {}\n  planned: k = {}, {}\nchoose another --out",
                    out.join(CV_FILE).display(),
                    old.cv.k,
                    serde_json::to_string(&old.cv.base)?,
                    self.k,
                    serde_json::to_string(&self.base)?
                );
            }
        }
        experiments::plan_runs(self.folds(), out, shard)
    }
}

/// Read `<dir>/cv.json`; `None` when there is none.
pub fn read_cv_file(dir: &Path) -> anyhow::Result<Option<CvFile>> {
    let p = dir.join(CV_FILE);
    if !p.exists() {
        return Ok(None);
    }
    let b = fs::read(&p).with_context(|| format!("reading {}", p.display()))?;
    let f = serde_json::from_slice(&b)
        .with_context(|| format!("{}: not a tinygenre cross-validation file", p.display()))?;
    Ok(Some(f))
}

/// What [`run`] did.
#[derive(Debug)]
pub struct CvOutcome {
    /// The folds this invocation planned and how each ended.
    pub trained: Reproduced,
    /// The classic baseline of every fold that has one so far (fold index, result).
    pub classic: Vec<(usize, ClassicFold)>,
    /// The summary, when every fold is complete.
    pub summary: Option<CvSummary>,
    /// Files written with the summary (cv.md, the confusion figures).
    pub files: Vec<PathBuf>,
}

/// Run the cross-validation (or one shard of it) into `out`: write `cv.json`, train the folds
/// the plan starts or resumes, fit the classic baseline on every complete fold that lacks it
/// (audio datasets only: the toy source has no audio), and, once every fold is complete, write
/// the summary (`cv.json`, `cv.md`, the summed confusion figures).
///
/// # Errors
/// Bad settings, a directory holding another cross-validation, the classic baseline's errors.
/// A fold whose training fails does not stop the others; it is in [`CvOutcome::trained`].
pub fn run(cv: &CrossValidation, out: &Path, shard: Option<Shard>) -> anyhow::Result<CvOutcome> {
    let steps = cv.plan(out, shard)?;
    fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    write_json(
        &out.join(CV_FILE),
        &CvFile {
            cv: cv.clone(),
            summary: None,
        },
    )?;
    let trained = experiments::run_steps(steps);

    let mut classic = Vec::new();
    let root = match &cv.base.data {
        DataSource::Toy(_) => None,
        d => data_root(d)?,
    };
    if let Some(root) = root {
        let mut data = None;
        for i in 0..cv.k {
            let dir = out.join(CrossValidation::fold_name(i));
            if !experiments::is_complete(&dir) {
                continue;
            }
            let fold = match ClassicFold::read(&dir) {
                Some(f) => f,
                None => {
                    if data.is_none() {
                        data = Some(ClassicData::open(&root)?);
                    }
                    let d = data.as_mut().expect("opened above");
                    let f = d.evaluate_fold(&dir)?;
                    eprintln!(
                        "{}: classic baseline track accuracy {:.4} ({:.1} s)",
                        dir.display(),
                        f.track_accuracy,
                        f.seconds
                    );
                    f
                }
            };
            classic.push((i, fold));
        }
    }

    if cv.base.model == ModelKind::Baseline && !matches!(cv.base.data, DataSource::Toy(_)) {
        for i in 0..cv.k {
            let dir = out.join(CrossValidation::fold_name(i));
            if experiments::is_complete(&dir) && !dir.join(INT8_JSON).exists() {
                let ev = int8_fold(&dir)?;
                eprintln!(
                    "{}: int8 track accuracy {:.4}, segment {:.4}, top-1 agreement with float {:.4}",
                    dir.display(),
                    ev.track_accuracy,
                    ev.segment_accuracy,
                    ev.top1_agreement_with_float.unwrap_or(f64::NAN)
                );
            }
        }
    }

    let (summary, files) = match summarize(cv, out)? {
        Some(s) => {
            let files = write_summary(cv, out, &s)?;
            (Some(s), files)
        }
        None => (None, Vec::new()),
    };
    Ok(CvOutcome {
        trained,
        classic,
        summary,
        files,
    })
}

/// Exports a complete fold's network to int8 (calibrated on its training segments) and scores it
/// with infer-core on the fold's test segments; writes `model-int8.postcard` and `int8.json`.
///
/// # Errors
/// Export, data or evaluation errors.
pub fn int8_fold(dir: &Path) -> anyhow::Result<ModelEval> {
    let model = export::export_run(
        dir,
        Precision::Int8 {
            calibrate: INT8_CALIBRATE,
        },
        None,
    )?;
    let bytes = model.encode().map_err(|e| anyhow::anyhow!("{e}"))?;
    let path = dir.join(INT8_MODEL);
    write_atomic(&path, &bytes)?;
    let file = RunFile::read(dir)?;
    let ev = eval::evaluate_model(&path, &file.run, Some(dir), None)?;
    write_json(&dir.join(INT8_JSON), &ev)?;
    Ok(ev)
}

fn read_json<T: serde::de::DeserializeOwned>(p: &Path) -> anyhow::Result<T> {
    let b = fs::read(p).with_context(|| format!("reading {}", p.display()))?;
    serde_json::from_slice(&b).with_context(|| format!("{}: unreadable", p.display()))
}

fn read_metrics(dir: &Path) -> anyhow::Result<Metrics> {
    let p = dir.join("metrics.json");
    let b = fs::read(&p).with_context(|| format!("reading {}", p.display()))?;
    serde_json::from_slice(&b).with_context(|| format!("{}: not a metrics file", p.display()))
}

/// The summary of the cross-validation in `out`, or `None` while a fold (or, for audio data,
/// a fold's classic baseline) is missing.
pub fn summarize(cv: &CrossValidation, out: &Path) -> anyhow::Result<Option<CvSummary>> {
    let mut cnn = FoldScores::default();
    let mut classic = FoldScores::default();
    let mut int8 = FoldScores::default();
    let mut teacher: Vec<(String, FoldScores)> = Vec::new();
    let mut teacher_name = String::new();
    let mut genres = Vec::new();
    let mut tracks = 0;
    for i in 0..cv.k {
        let dir = out.join(CrossValidation::fold_name(i));
        if !experiments::is_complete(&dir) {
            return Ok(None);
        }
        let m = read_metrics(&dir)?;
        tracks += m.confusion_tracks.iter().flatten().sum::<usize>();
        cnn.segment.push(m.segment_accuracy);
        cnn.track.push(m.track_accuracy);
        cnn.confusions.push(m.confusion_tracks);
        genres = m.genres;
        let p = dir.join(INT8_JSON);
        if p.exists() {
            let e: ModelEval = read_json(&p)?;
            int8.segment.push(e.segment_accuracy);
            int8.track.push(e.track_accuracy);
        }
        let p = dir.join(TEACHER_JSON);
        if p.exists() {
            let r: TeacherReport = read_json(&p)?;
            teacher_name = r.info.name.clone();
            for sc in r.test {
                let k = match teacher.iter().position(|(h, _)| *h == sc.head) {
                    Some(k) => k,
                    None => {
                        teacher.push((sc.head.clone(), FoldScores::default()));
                        teacher.len() - 1
                    }
                };
                let f = &mut teacher[k].1;
                f.segment.push(sc.segment_accuracy);
                f.track.push(sc.track_accuracy);
                f.confusions.push(sc.confusion_tracks);
            }
        }
        if !matches!(cv.base.data, DataSource::Toy(_)) {
            let Some(c) = ClassicFold::read(&dir) else {
                return Ok(None);
            };
            ensure!(
                c.genres == genres,
                "{}: the classic baseline's genres differ from the CNN's",
                dir.display()
            );
            classic.track.push(c.track_accuracy);
            classic.confusions.push(c.confusion_tracks);
        }
    }
    let classic = if classic.track.is_empty() {
        None
    } else {
        Some(MethodSummary::new("classic (MFCC + SVM)", &classic)?)
    };
    let mut others = Vec::new();
    let cnn_name = format!("CNN ({})", cv.base.model_name());
    if int8.track.len() == cv.k {
        others.push(MethodSummary::new(&format!("{cnn_name}, int8"), &int8)?);
    }
    for (head, f) in &teacher {
        if f.track.len() == cv.k {
            others.push(MethodSummary::new(
                &format!("teacher {teacher_name}, {head}"),
                f,
            )?);
        }
    }
    Ok(Some(CvSummary {
        k: cv.k,
        genres,
        tracks,
        cnn: MethodSummary::new(&cnn_name, &cnn)?,
        classic,
        others,
    }))
}

/// One line describing the settings, for `cv.md`.
pub fn about(cv: &CrossValidation) -> String {
    let b = &cv.base;
    let data = match &b.data {
        DataSource::Path { path } => path.display().to_string(),
        DataSource::Synthetic => "the default synthetic set".into(),
        DataSource::Toy(_) => "a toy set".into(),
    };
    format!(
        "Data: {data}. CNN: `{}`, augmentation `{}`, dropout {}, {} epochs, batch {}, learning rate \
         {} ({}), keeps the {} epoch, seed {}.",
        b.model_name(),
        b.aug,
        b.dropout,
        b.epochs,
        b.batch,
        b.lr,
        match b.lr_schedule {
            LrSchedule::Constant => "constant",
            LrSchedule::Cosine => "cosine decay",
        },
        match b.select {
            Selection::Last => "last",
            Selection::BestValid => "best-validation",
        },
        b.seed
    ) + &match &b.distil {
        Some(d) => format!(
            " Distilled from `{}` (sha256 {}…), {:?} head, alpha {}, T {}.",
            d.teacher
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
            d.teacher_sha256.get(..12).unwrap_or(""),
            d.head,
            d.alpha,
            d.temperature
        ),
        None => String::new(),
    }
}

/// Write the complete summary: `cv.json` with it, `cv.md`, the confusion figures.
fn write_summary(cv: &CrossValidation, out: &Path, s: &CvSummary) -> anyhow::Result<Vec<PathBuf>> {
    write_json(
        &out.join(CV_FILE),
        &CvFile {
            cv: cv.clone(),
            summary: Some(s.clone()),
        },
    )?;
    let md = out.join(CV_MD);
    write_atomic(&md, s.markdown(&about(cv)).as_bytes())?;
    let mut files = vec![md];
    files.extend(s.draw(out)?);
    Ok(files)
}
