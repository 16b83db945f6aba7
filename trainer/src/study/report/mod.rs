//! `trainer report`: gather the runs of a study directory into the study's Table 1 (model,
//! augmentation, segment and track accuracy as mean ± sample standard deviation over seeds with
//! a 95 % t-interval, and the ratio to the baseline) as Markdown, CSV and JSON, and draw each
//! run's confusion matrices and learning curves.
//!
//! Output (default `<study>/report/`): `results.md`, `results.csv`, `report.json`, and
//! `figures/<run>/{confusion_track,confusion_segment,curves}.{png,svg}`.
//!
//! - [`stats`]: mean, standard deviation and t-interval over seeds;
//! - [`gather`]: reading the study directory's runs;
//! - [`table`]: grouping runs into the results table and its header;
//! - [`render`]: the table as Markdown and CSV;
//! - [`figures`]: confusion matrices and learning curves, per run and summed per row.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::base::fsio::write_atomic;
use crate::study::experiments::{STUDY_FILE, Study};

pub mod figures;
pub mod gather;
pub mod render;
pub mod stats;
pub mod table;

pub use crate::run::history::read_epochs_csv;
pub use figures::{draw_run, summed_confusion};
pub use gather::{Gathered, RunRecord, gather};
pub use render::{csv, markdown};
pub use stats::{Summary, student_t_cdf, student_t_quantile, summarize, summarize_accuracy};
pub use table::{CLASSIC_LABEL, Header, Report, Row, RunFigures, describe_data, summarise};

use figures::draw_summed;
use table::label_of;

/// Gather `study_dir`, write `results.md`, `results.csv`, `report.json` and every run's figures
/// into `out` (default `<study_dir>/report`), and return the report.
pub fn write_report(study_dir: &Path, out: Option<&Path>) -> anyhow::Result<Report> {
    let out = out.map_or_else(|| default_out(study_dir), Path::to_path_buf);
    let g = gather(study_dir)?;
    let (header, rows) = summarise(study_dir, &g)?;
    fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let study = Study::read(study_dir).ok();
    let mut runs = Vec::new();
    for r in &g.runs {
        let files = draw_run(r, &out).with_context(|| format!("figures of run {}", r.name))?;
        runs.push(RunFigures {
            run: r.name.clone(),
            label: label_of(study.as_ref(), r).0,
            seed: r.file.run.seed,
            segment_accuracy: r.metrics.segment_accuracy,
            track_accuracy: r.metrics.track_accuracy,
            files,
        });
    }
    let mut rows = rows;
    for row in rows.iter_mut().filter(|r| r.label != CLASSIC_LABEL) {
        let members: Vec<&RunRecord> = g
            .runs
            .iter()
            .filter(|r| row.runs.contains(&r.name))
            .collect();
        row.figures = draw_summed(&row.label, &members, &out)
            .with_context(|| format!("summed figures of {}", row.label))?;
    }
    let report = Report { header, rows, runs };
    write_atomic(&out.join("results.md"), markdown(&report).as_bytes())?;
    write_atomic(&out.join("results.csv"), csv(&report.rows).as_bytes())?;
    write_atomic(
        &out.join("report.json"),
        &serde_json::to_vec_pretty(&report)?,
    )?;
    Ok(report)
}

/// Where `write_report` puts `report.json` and the tables for a study directory.
pub fn default_out(study_dir: &Path) -> PathBuf {
    study_dir.join("report")
}

/// Whether `dir` looks like a study directory (has `study.json` or run subdirectories).
pub fn is_study_dir(dir: &Path) -> bool {
    dir.join(STUDY_FILE).is_file()
        || fs::read_dir(dir)
            .map(|rd| rd.flatten().any(|e| gather::is_run_dir(&e.path())))
            .unwrap_or(false)
}
