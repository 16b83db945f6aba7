//! A run's learning curve: one [`EpochRow`] per finished epoch, kept in the checkpoint state and
//! written as `epochs.csv` (`epoch,train_loss,train_accuracy[,valid_loss,valid_accuracy],seconds`).
//! The test split has no column: it is read once, for the run's final report (`metrics.json`).

use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::base::fsio::write_atomic;

/// One row of `epochs.csv`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRow {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training loss.
    pub train_loss: f64,
    /// Training accuracy (of the dropout-on forward passes).
    pub train_accuracy: f64,
    /// Validation loss (`None` without a validation split).
    #[serde(default)]
    pub valid_loss: Option<f64>,
    /// Validation segment accuracy (`None` without a validation split).
    #[serde(default)]
    pub valid_accuracy: Option<f64>,
    /// Wall time of the epoch.
    pub seconds: f64,
}

/// Renders `rows` as `epochs.csv` (losses and accuracies to 6 decimals, seconds to 3). The
/// `valid_loss` and `valid_accuracy` columns (after `train_accuracy`) appear only when a row has
/// validation figures.
///
/// # Errors
/// Only if the CSV writer fails, which it does not on an in-memory buffer.
pub fn epochs_csv(rows: &[EpochRow]) -> anyhow::Result<Vec<u8>> {
    let valid = rows.iter().any(|r| r.valid_loss.is_some());
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["epoch", "train_loss", "train_accuracy"];
    if valid {
        header.extend(["valid_loss", "valid_accuracy"]);
    }
    header.push("seconds");
    w.write_record(&header)?;
    let opt = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.6}"));
    for r in rows {
        let mut rec = vec![
            r.epoch.to_string(),
            format!("{:.6}", r.train_loss),
            format!("{:.6}", r.train_accuracy),
        ];
        if valid {
            rec.extend([opt(r.valid_loss), opt(r.valid_accuracy)]);
        }
        rec.push(format!("{:.3}", r.seconds));
        w.write_record(&rec)?;
    }
    w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
}

/// Writes `epochs.csv` atomically.
///
/// # Errors
/// Writing the file failed (the error names it).
pub fn write_epochs_csv(path: &Path, rows: &[EpochRow]) -> anyhow::Result<()> {
    Ok(write_atomic(path, &epochs_csv(rows)?)?)
}

/// Parses `epochs.csv` (columns by header name, so extra or reordered columns are fine).
///
/// # Errors
/// An unreadable file, a missing column or a bad number, naming the file and line.
pub fn read_epochs_csv(path: &Path) -> anyhow::Result<Vec<EpochRow>> {
    let mut r = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .with_context(|| format!("reading {}", path.display()))?;
    let mut rows = Vec::new();
    for (i, rec) in r.deserialize::<EpochRow>().enumerate() {
        rows.push(rec.with_context(|| format!("{} line {}", path.display(), i + 2))?);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_has_the_documented_columns_and_round_trips() {
        let rows = vec![EpochRow {
            epoch: 1,
            train_loss: 2.125,
            train_accuracy: 0.125,
            valid_loss: None,
            valid_accuracy: None,
            seconds: 41.123_456,
        }];
        let text = String::from_utf8(epochs_csv(&rows).unwrap()).unwrap();
        assert_eq!(
            text,
            "epoch,train_loss,train_accuracy,seconds\n\
             1,2.125000,0.125000,41.123\n"
        );
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("epochs.csv");
        write_epochs_csv(&p, &rows).unwrap();
        let back = read_epochs_csv(&p).unwrap();
        assert_eq!(back[0].epoch, 1);
        assert_eq!(back[0].train_loss, 2.125);
        assert_eq!(back[0].seconds, 41.123);
    }

    #[test]
    fn validation_columns_appear_with_validation_figures_and_round_trip() {
        let row = |e: usize, v: Option<f64>| EpochRow {
            epoch: e,
            train_loss: 2.0,
            train_accuracy: 0.5,
            valid_loss: v,
            valid_accuracy: v.map(|v| v / 4.0),
            seconds: 1.0,
        };
        let rows = vec![row(1, Some(1.75)), row(2, None)];
        let text = String::from_utf8(epochs_csv(&rows).unwrap()).unwrap();
        assert_eq!(
            text,
            "epoch,train_loss,train_accuracy,valid_loss,valid_accuracy,seconds\n\
             1,2.000000,0.500000,1.750000,0.437500,1.000\n\
             2,2.000000,0.500000,,,1.000\n"
        );
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("epochs.csv");
        write_epochs_csv(&p, &rows).unwrap();
        assert_eq!(read_epochs_csv(&p).unwrap(), rows);
    }

    #[test]
    fn reordered_columns_and_bad_numbers_and_old_test_columns_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("epochs.csv");
        std::fs::write(
            &p,
            "seconds,epoch,test_accuracy,test_loss,train_accuracy,train_loss\n3.5,2,0.5,1,0.25,2\n",
        )
        .unwrap();
        let r = read_epochs_csv(&p).unwrap();
        assert_eq!((r[0].epoch, r[0].seconds, r[0].train_loss), (2, 3.5, 2.0));
        std::fs::write(&p, "epoch,train_loss,train_accuracy,seconds\n1,x,0,0\n").unwrap();
        let e = format!("{:#}", read_epochs_csv(&p).unwrap_err());
        assert!(e.contains("epochs.csv line 2"), "{e}");
    }
}
