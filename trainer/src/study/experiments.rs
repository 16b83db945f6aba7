//! The study's experiment grid and `trainer reproduce`: every (network, augmentation) of the
//! study × every seed, each an ordinary `trainer run` directory under one study directory.
//!
//! ```text
//! runs/study/
//!   study.json              the grid, the seeds and the shared settings (written by every shard)
//!   baseline-s0/            an ordinary run directory (config.json, epochs.csv, checkpoints/,
//!   baseline+noise-s0/        metrics.json once complete)
//!   ...
//! ```
//!
//! The grid has a stable order (grid entries in [`study_grid`] order, then seeds in the order
//! given), so `--shard i/n` (every n-th run starting at run i) splits it the same way in every
//! job of a SLURM array. Restarting picks up where it stopped: a run with `metrics.json` is
//! skipped, a run with `config.json` but no `metrics.json` is resumed from its last checkpoint,
//! any other run is started.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail, ensure};
use serde::{Deserialize, Serialize};

use crate::augment::AugSpec;
use crate::base::fsio::write_atomic;
use crate::base::metrics::Metrics;
use crate::models::{ModelKind, PosEnc};
use crate::run::config::{DataSource, RunConfig, RunFile};
use crate::run::loader::data_root;
use crate::study::classic_fold::{ClassicData, ClassicFold};
use crate::study::train;

/// The study's noise augmentation: Gaussian noise of standard deviation 0.001.
pub const NOISE: &str = "noise:sigma=0.001";
/// The study's pitch augmentation: an integer shift in [-4, 4] semitones.
pub const PITCH: &str = "pitch:range=4";
/// The study's mixup: mixing weights from Beta(0.2, 0.2).
pub const MIXUP: &str = "mixup:alpha=0.2";

pub use crate::base::shard::Shard;

/// The name of the file describing a study directory.
pub const STUDY_FILE: &str = "study.json";

/// One (network, augmentation) cell of the grid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridEntry {
    /// Label, also the run directory's prefix, e.g. `baseline+noise`.
    pub label: String,
    /// Network.
    pub model: ModelKind,
    /// Positional encoding (baseline only).
    pub posenc: PosEnc,
    /// Augmentation stack in `AugSpec` grammar, `none` for none.
    pub aug: String,
    /// Taught by the study's teacher (`reproduce --teacher`; the run takes the study's
    /// `base.distil`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub distil: bool,
}

impl GridEntry {
    /// An entry with no positional encoding.
    pub fn new(label: &str, model: ModelKind, aug: &str) -> Self {
        Self {
            label: label.into(),
            model,
            posenc: PosEnc::None,
            aug: aug.into(),
            distil: false,
        }
    }
}

/// The study's grid, in its stable order: arbitrary; baseline; resnet18; baseline with noise,
/// pitch, mixup; baseline with coordinate channels; baseline with noise+pitch+mixup stacked.
pub fn study_grid() -> Vec<GridEntry> {
    use ModelKind::*;
    vec![
        GridEntry::new("arbitrary", Arbitrary, "none"),
        GridEntry::new("baseline", Baseline, "none"),
        GridEntry::new("resnet18", Resnet18, "none"),
        GridEntry::new("baseline+noise", Baseline, NOISE),
        GridEntry::new("baseline+pitch", Baseline, PITCH),
        GridEntry::new("baseline+mixup", Baseline, MIXUP),
        GridEntry {
            posenc: PosEnc::Coord,
            ..GridEntry::new("baseline+coord", Baseline, "none")
        },
        GridEntry::new(
            "baseline+noise+pitch+mixup",
            Baseline,
            &format!("{NOISE},{PITCH},{MIXUP}"),
        ),
    ]
}

/// A grid, the seeds to run it with and the settings every run shares.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Study {
    /// The (network, augmentation) cells, in order.
    pub grid: Vec<GridEntry>,
    /// Seeds; every cell runs once per seed.
    pub seeds: Vec<u64>,
    /// Data, split, epochs, batch, learning rate and device of every run (its model, posenc, aug
    /// and seed are replaced by the cell's and the seed).
    pub base: RunConfig,
}

/// One run of the grid.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedRun {
    /// Position in the grid's stable order (cells, then seeds).
    pub index: usize,
    /// Directory name inside the study directory, `<label>-s<seed>`.
    pub name: String,
    /// The cell's label.
    pub label: String,
    /// The full run configuration.
    pub config: RunConfig,
}

impl Study {
    /// The study's grid with `seeds` and the shared settings `base`.
    pub fn new(base: RunConfig, seeds: Vec<u64>) -> Self {
        let mut grid = study_grid();
        // With a teacher (`reproduce --teacher`), the baseline distilled from it joins the grid.
        if base.distil.is_some() {
            grid.push(GridEntry {
                distil: true,
                ..GridEntry::new("baseline+distil", ModelKind::Baseline, "none")
            });
        }
        Self { grid, seeds, base }
    }

    /// Check the grid: at least one cell and seed, unique labels and seeds, labels usable as
    /// directory names, aug strings in `AugSpec` grammar.
    pub fn validate(&self) -> anyhow::Result<()> {
        ensure!(!self.grid.is_empty(), "the grid has no entries");
        ensure!(!self.seeds.is_empty(), "no seeds given");
        for (i, s) in self.seeds.iter().enumerate() {
            ensure!(!self.seeds[..i].contains(s), "seed {s} is given twice");
        }
        for (i, e) in self.grid.iter().enumerate() {
            ensure!(
                !e.label.is_empty()
                    && e.label
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+-_.".contains(c)),
                "grid entry {i}: label {:?} must be non-empty and use only letters, digits and + - _ .",
                e.label
            );
            ensure!(
                !self.grid[..i].iter().any(|o| o.label == e.label),
                "grid label {:?} appears twice",
                e.label
            );
            e.aug
                .parse::<AugSpec>()
                .with_context(|| format!("grid entry {:?}: augmentation {:?}", e.label, e.aug))?;
        }
        Ok(())
    }

    /// Every run, in the stable order: each cell of the grid, and within a cell each seed.
    pub fn runs(&self) -> Vec<PlannedRun> {
        let mut out = Vec::with_capacity(self.grid.len() * self.seeds.len());
        for e in &self.grid {
            for &seed in &self.seeds {
                out.push(PlannedRun {
                    index: out.len(),
                    name: format!("{}-s{seed}", e.label),
                    label: e.label.clone(),
                    config: RunConfig {
                        model: e.model,
                        posenc: e.posenc,
                        aug: e.aug.clone(),
                        seed,
                        distil: if e.distil {
                            self.base.distil.clone()
                        } else {
                            None
                        },
                        ..self.base.clone()
                    },
                });
            }
        }
        out
    }

    /// Read `study.json` from a study directory.
    pub fn read(study_dir: &Path) -> anyhow::Result<Self> {
        let p = study_dir.join(STUDY_FILE);
        let s = fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?;
        serde_json::from_str(&s)
            .with_context(|| format!("{}: not a tinygenre study file", p.display()))
    }
}

/// What `reproduce` does with a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// `metrics.json` exists: the run is complete.
    Skip,
    /// `config.json` exists but no readable `metrics.json`: continue from the last checkpoint.
    Resume,
    /// Nothing there yet.
    Start,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Skip => "complete, skipped",
            Action::Resume => "resume",
            Action::Start => "start",
        })
    }
}

/// A run with its directory and what to do with it.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// The run.
    pub run: PlannedRun,
    /// Its directory.
    pub dir: PathBuf,
    /// What to do.
    pub action: Action,
}

/// Whether `run_dir` holds a complete run: a `metrics.json` that parses.
pub fn is_complete(run_dir: &Path) -> bool {
    fs::read(run_dir.join("metrics.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<Metrics>(&b).ok())
        .is_some()
}

/// The runs of `study` (those of `shard`, if given) with their directories under `out` and what
/// to do with each. Fails, before anything is trained, when a run directory holds a run with
/// other settings (other than the device), naming the directory.
pub fn plan(study: &Study, out: &Path, shard: Option<Shard>) -> anyhow::Result<Vec<Step>> {
    study.validate()?;
    plan_runs(study.runs(), out, shard)
}

/// [`plan`] for any list of runs (a study's grid, the folds of a cross-validation): run `i` of
/// `runs` goes to `<out>/<name>`, `shard` keeps the runs whose [`PlannedRun::index`] it
/// contains, and a run directory holding other settings (the device aside) is refused.
pub fn plan_runs(
    runs: Vec<PlannedRun>,
    out: &Path,
    shard: Option<Shard>,
) -> anyhow::Result<Vec<Step>> {
    let mut steps = Vec::new();
    for run in runs {
        if shard.is_some_and(|s| !s.contains(run.index)) {
            continue;
        }
        let dir = out.join(&run.name);
        let action = if dir.join("config.json").exists() {
            let saved = RunFile::read(&dir)?.run;
            let normalised = RunConfig {
                device: run.config.device,
                ..saved
            };
            if normalised != run.config {
                bail!(
                    "{} holds a run with other settings than planned:\n  saved:   {}\n  planned: {}\nchoose another --out, or delete that run directory to retrain it",
                    dir.display(),
                    serde_json::to_string(&normalised)?,
                    serde_json::to_string(&run.config)?
                );
            }
            if is_complete(&dir) {
                Action::Skip
            } else {
                Action::Resume
            }
        } else {
            Action::Start
        };
        steps.push(Step { run, dir, action });
    }
    Ok(steps)
}

/// How a planned step ended.
#[derive(Debug)]
pub enum Outcome {
    /// Already complete.
    Skipped,
    /// Trained (started or resumed) to completion.
    Trained(Box<Metrics>),
    /// Training failed; the run directory keeps its checkpoints for a later resume.
    Failed(String),
}

/// The result of [`reproduce`]: each step of the plan and how it ended.
#[derive(Debug)]
pub struct Reproduced {
    /// Steps in grid order.
    pub steps: Vec<(Step, Outcome)>,
}

impl Reproduced {
    /// Names of the runs that were trained (started or resumed) and finished.
    pub fn trained(&self) -> Vec<&str> {
        self.steps
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::Trained(_)))
            .map(|(s, _)| s.run.name.as_str())
            .collect()
    }

    /// Runs that failed, with the error.
    pub fn failed(&self) -> Vec<(&str, &str)> {
        self.steps
            .iter()
            .filter_map(|(s, o)| match o {
                Outcome::Failed(e) => Some((s.run.name.as_str(), e.as_str())),
                _ => None,
            })
            .collect()
    }
}

/// Run the grid (or one shard of it) into `out`: write `study.json`, then train every run the
/// plan starts or resumes, in grid order. A failing run does not stop the others; its error is
/// in the returned [`Reproduced`] (the CLI exits non-zero when any failed).
pub fn reproduce(study: &Study, out: &Path, shard: Option<Shard>) -> anyhow::Result<Reproduced> {
    let steps = plan(study, out, shard)?;
    fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    write_atomic(&out.join(STUDY_FILE), &serde_json::to_vec_pretty(study)?)?;
    let done = run_steps(steps);
    classic_beside_baselines(&done);
    Ok(done)
}

/// The classic baseline (MFCC + SVM) on the split of every complete plain-baseline run (no
/// augmentation, no positional encoding): one `classic.json` per seed, which `trainer report`
/// turns into Table 1's classic row. Failures are reported and skipped: they do not undo runs.
fn classic_beside_baselines(done: &Reproduced) {
    let mut data: Option<ClassicData> = None;
    for (step, _) in &done.steps {
        let c = &step.run.config;
        let plain = c.model == ModelKind::Baseline && c.posenc == PosEnc::None && c.aug == "none";
        let audio = !matches!(c.data, DataSource::Toy(_));
        if !plain || !audio || !is_complete(&step.dir) || ClassicFold::read(&step.dir).is_some() {
            continue;
        }
        let result = (|| -> anyhow::Result<ClassicFold> {
            let root = data_root(&c.data)?.context("no audio")?;
            if data.as_ref().is_none_or(|d| d.dataset().root != root) {
                data = Some(ClassicData::open(&root)?);
            }
            data.as_mut()
                .expect("opened above")
                .evaluate_fold(&step.dir)
        })();
        match result {
            Ok(f) => eprintln!(
                "{}: classic baseline track accuracy {:.4}",
                step.run.name, f.track_accuracy
            ),
            Err(e) => eprintln!("{}: classic baseline skipped: {e:#}", step.run.name),
        }
    }
}

/// Train every step the plan starts or resumes, in order (complete ones are skipped). A failing
/// run does not stop the others; its error is kept in the returned [`Reproduced`].
pub fn run_steps(steps: Vec<Step>) -> Reproduced {
    let total = steps.len();
    let mut done = Vec::with_capacity(total);
    for (k, step) in steps.into_iter().enumerate() {
        eprintln!(
            "[{}/{total}] {} (run {}): {}",
            k + 1,
            step.run.name,
            step.run.index,
            step.action
        );
        let outcome = match step.action {
            Action::Skip => Outcome::Skipped,
            Action::Start | Action::Resume => {
                match train::run(&step.run.config, &step.dir, step.action == Action::Resume) {
                    Ok(m) => {
                        eprintln!(
                            "[{}/{total}] {}: segment accuracy {:.4}, track accuracy {:.4}",
                            k + 1,
                            step.run.name,
                            m.segment_accuracy,
                            m.track_accuracy
                        );
                        Outcome::Trained(Box::new(m))
                    }
                    Err(e) => {
                        eprintln!("[{}/{total}] {} failed: {e:#}", k + 1, step.run.name);
                        Outcome::Failed(format!("{e:#}"))
                    }
                }
            }
        };
        done.push((step, outcome));
    }
    Reproduced { steps: done }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn study_grid_has_the_papers_cells_and_valid_aug_strings() {
        let s = Study::new(RunConfig::default(), vec![0, 1, 2]);
        s.validate().unwrap();
        let labels: Vec<_> = s.grid.iter().map(|e| e.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "arbitrary",
                "baseline",
                "resnet18",
                "baseline+noise",
                "baseline+pitch",
                "baseline+mixup",
                "baseline+coord",
                "baseline+noise+pitch+mixup"
            ]
        );
        let stacked: AugSpec = s.grid[7].aug.parse().unwrap();
        assert!(stacked.noise.is_some() && stacked.pitch.is_some() && stacked.mixup.is_some());
        let runs = s.runs();
        assert_eq!(runs.len(), 24);
        assert_eq!(runs[4].name, "baseline-s1");
        assert_eq!(runs[4].config.seed, 1);
        assert_eq!(runs[4].index, 4);
        assert_eq!(runs[19].config.posenc, PosEnc::Coord);
        assert_eq!(runs[19].config.epochs, 10);
    }

    #[test]
    fn shard_parsing() {
        assert_eq!(
            "1/4".parse::<Shard>().unwrap(),
            Shard { index: 1, count: 4 }
        );
        for bad in ["4/4", "1/0", "a/2", "1", "-1/2", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn validate_rejects_bad_grids() {
        let mut s = Study::new(RunConfig::default(), vec![0, 0]);
        assert!(s.validate().is_err());
        s.seeds = vec![0];
        s.grid[1].aug = "noise:sigmaa=1".into();
        assert!(s.validate().is_err());
        s.grid = study_grid();
        s.grid[2].label = "a/b".into();
        assert!(s.validate().is_err());
    }
}
