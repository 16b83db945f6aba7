//! Reading a study directory: every run directory's `config.json`, `metrics.json` and
//! `epochs.csv`.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::base::metrics::Metrics;
use crate::run::config::RunFile;
use crate::run::history::{EpochRow, read_epochs_csv};
use crate::study::classic_fold::ClassicFold;

/// A complete run of the study directory.
#[derive(Clone, Debug)]
pub struct RunRecord {
    /// Directory name.
    pub name: String,
    /// Its directory.
    pub dir: PathBuf,
    /// `config.json`.
    pub file: RunFile,
    /// `metrics.json`.
    pub metrics: Metrics,
    /// `epochs.csv`.
    pub epochs: Vec<EpochRow>,
    /// `classic.json`: the classic baseline on this run's split, when it was computed.
    pub classic: Option<ClassicFold>,
}

/// The runs found in a study directory.
#[derive(Clone, Debug, Default)]
pub struct Gathered {
    /// Complete runs, sorted by name.
    pub runs: Vec<RunRecord>,
    /// Run directories without a readable `metrics.json`, with the reason.
    pub incomplete: Vec<(String, String)>,
}

/// Whether `dir` is a run directory (has `config.json`).
pub(super) fn is_run_dir(dir: &Path) -> bool {
    dir.join("config.json").is_file()
}

/// Read every run directory (a subdirectory with `config.json`) of `study_dir`.
pub fn gather(study_dir: &Path) -> anyhow::Result<Gathered> {
    let rd = fs::read_dir(study_dir)
        .with_context(|| format!("reading study directory {}", study_dir.display()))?;
    let mut dirs: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| is_run_dir(p))
        .collect();
    dirs.sort();
    let mut out = Gathered::default();
    for dir in dirs {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let file = RunFile::read(&dir)?;
        let mp = dir.join("metrics.json");
        let metrics: Metrics = match fs::read(&mp) {
            Err(_) => {
                out.incomplete
                    .push((name, "no metrics.json (not finished)".into()));
                continue;
            }
            Ok(b) => match serde_json::from_slice(&b) {
                Ok(m) => m,
                Err(e) => {
                    out.incomplete
                        .push((name, format!("{}: unreadable ({e})", mp.display())));
                    continue;
                }
            },
        };
        let epochs = read_epochs_csv(&dir.join("epochs.csv"))?;
        let classic = ClassicFold::read(&dir);
        out.runs.push(RunRecord {
            name,
            dir,
            file,
            metrics,
            epochs,
            classic,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> anyhow::Result<Vec<EpochRow>> {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("epochs.csv");
        fs::write(&p, text).unwrap();
        read_epochs_csv(&p)
    }

    #[test]
    fn reads_the_epochs_csv_that_training_writes() {
        // the header and number formats of train.rs's writer ({:.6}, seconds {:.3})
        let rows = read(
            "epoch,train_loss,train_accuracy,valid_loss,valid_accuracy,seconds\n\
             1,1.386294,0.250000,1.370000,0.312500,0.125\n\
             2,1.200000,0.437500,1.250000,0.500000,0.118\n",
        )
        .unwrap();
        assert_eq!(
            rows,
            [
                EpochRow {
                    epoch: 1,
                    train_loss: 1.386294,
                    train_accuracy: 0.25,
                    valid_loss: Some(1.37),
                    valid_accuracy: Some(0.3125),
                    seconds: 0.125,
                },
                EpochRow {
                    epoch: 2,
                    train_loss: 1.2,
                    train_accuracy: 0.4375,
                    valid_loss: Some(1.25),
                    valid_accuracy: Some(0.5),
                    seconds: 0.118,
                },
            ]
        );
        // a header alone: no epochs
        let none = read("epoch,train_loss,train_accuracy,seconds\n");
        assert!(none.unwrap().is_empty());
    }

    #[test]
    fn columns_are_found_by_name_and_spaces_ignored() {
        let rows = read(
            "seconds, epoch,valid_accuracy,valid_loss,train_accuracy,train_loss\n\
             2.5, 3 ,0.75,0.5,0.875,0.25\n",
        )
        .unwrap();
        assert_eq!(
            rows,
            [EpochRow {
                epoch: 3,
                train_loss: 0.25,
                train_accuracy: 0.875,
                valid_loss: Some(0.5),
                valid_accuracy: Some(0.75),
                seconds: 2.5,
            }]
        );
    }

    #[test]
    fn a_missing_column_or_a_bad_number_is_an_error_naming_the_file() {
        let missing = read("epoch,train_loss,train_accuracy\n1,1,1\n");
        let e = format!("{:#}", missing.unwrap_err());
        assert!(e.contains("epochs.csv") && e.contains("seconds"), "{e}");
        let bad = read(
            "epoch,train_loss,train_accuracy,valid_loss,valid_accuracy,seconds\n\
             1,1.0,0.5,x,0.5,0.1\n",
        );
        let e = format!("{:#}", bad.unwrap_err());
        assert!(e.contains("epochs.csv"), "{e}");
        let short = read(
            "epoch,train_loss,train_accuracy,valid_loss,valid_accuracy,seconds\n\
             1,1.0,0.5\n",
        );
        assert!(short.is_err());
    }
}
