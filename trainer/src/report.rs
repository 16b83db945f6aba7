//! `trainer report`: gather the runs of a study directory into the study's Table 1 (model,
//! augmentation, segment and track accuracy as mean ± sample standard deviation over seeds with
//! a 95 % t-interval, and the ratio to the baseline) as Markdown, CSV and JSON, and draw each
//! run's confusion matrices and learning curves.
//!
//! Output (default `<study>/report/`): `results.md`, `results.csv`, `report.json`, and
//! `figures/<run>/{confusion_track,confusion_segment,curves}.{png,svg}`.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::config::{DataSource, RunFile};
use crate::experiments::{STUDY_FILE, Study};
use crate::fsio::write_atomic;
use crate::history::EpochRow;
use crate::metrics::Metrics;
use crate::plot::{Confusion, Curves};

// ---------------------------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------------------------

/// ln Γ(x) for x > 0 (Lanczos approximation, g = 7, 9 coefficients; |error| < 1e-13 here).
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // reflection: Γ(x) Γ(1 - x) = π / sin(π x)
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, &c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// The regularised incomplete beta function I_x(a, b), by its continued fraction (evaluated
/// with the modified Lentz method) on the side of `x` where it converges fast.
pub fn incomplete_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    if x > (a + 1.0) / (a + b + 2.0) {
        return 1.0 - incomplete_beta(1.0 - x, b, a);
    }
    // I_x(a,b) = front / a * 1 / (1 + d1 / (1 + d2 / (1 + ...)))
    //   d_{2m+1} = -(a+m)(a+b+m) x / ((a+2m)(a+2m+1)),  d_{2m} = m(b-m) x / ((a+2m-1)(a+2m))
    const TINY: f64 = 1e-300;
    let mut c = 1.0;
    let mut d = 1.0 - (a + b) * x / (a + 1.0);
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=300 {
        let m = m as f64;
        let m2 = 2.0 * m;
        for coef in [
            m * (b - m) * x / ((a + m2 - 1.0) * (a + m2)),
            -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0)),
        ] {
            d = 1.0 + coef * d;
            if d.abs() < TINY {
                d = TINY;
            }
            c = 1.0 + coef / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            h *= d * c;
        }
        if (d * c - 1.0).abs() < 1e-15 {
            break;
        }
    }
    ln_front.exp() * h / a
}

/// P(T ≤ t) for Student's t with `df` degrees of freedom:
/// `1 - I_{df/(df+t²)}(df/2, 1/2) / 2` for t ≥ 0, by symmetry for t < 0.
pub fn student_t_cdf(t: f64, df: f64) -> f64 {
    let tail = 0.5 * incomplete_beta(df / (df + t * t), df / 2.0, 0.5);
    if t >= 0.0 { 1.0 - tail } else { tail }
}

/// The `p` quantile (0.5 < p < 1) of Student's t with `df` degrees of freedom, by bisection of
/// [`student_t_cdf`].
pub fn student_t_quantile(p: f64, df: f64) -> f64 {
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    while student_t_cdf(hi, df) < p && hi < 1e12 {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if student_t_cdf(mid, df) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Mean, sample standard deviation and 95 % confidence interval of the mean of a few values
/// (one per seed).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Number of values.
    pub n: usize,
    /// Their mean.
    pub mean: f64,
    /// Sample standard deviation (n - 1 in the denominator); `None` for one value.
    pub std: Option<f64>,
    /// 95 % confidence interval of the mean, `mean ± t(0.975, n-1) · std / √n`; `None` for one
    /// value.
    pub ci95: Option<[f64; 2]>,
    /// The values, in seed order.
    pub values: Vec<f64>,
}

/// Summarise accuracies (fractions, at least one): as [`summarize`], with the interval clipped to
/// [0, 1], the range an accuracy can take (the t-interval of a few spread-out seeds can reach
/// below 0).
pub fn summarize_accuracy(values: &[f64]) -> Summary {
    let mut s = summarize(values);
    s.ci95 = s.ci95.map(|[lo, hi]| [lo.max(0.0), hi.min(1.0)]);
    s
}

/// Summarise `values` (at least one).
pub fn summarize(values: &[f64]) -> Summary {
    let n = values.len();
    let mean = values.iter().sum::<f64>() / n.max(1) as f64;
    let (std, ci95) = if n >= 2 {
        let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1) as f64;
        let s = var.sqrt();
        let half = student_t_quantile(0.975, (n - 1) as f64) * s / (n as f64).sqrt();
        (Some(s), Some([mean - half, mean + half]))
    } else {
        (None, None)
    };
    Summary {
        n,
        mean,
        std,
        ci95,
        values: values.to_vec(),
    }
}

// ---------------------------------------------------------------------------------------------
// Gathering runs
// ---------------------------------------------------------------------------------------------

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
}

/// Parse `epochs.csv` (columns by header name).
pub fn read_epochs_csv(path: &Path) -> anyhow::Result<Vec<EpochRow>> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h.trim() == name)
            .with_context(|| format!("{}: no column {name:?}", path.display()))
    };
    let cols = [
        col("epoch")?,
        col("train_loss")?,
        col("train_accuracy")?,
        col("test_loss")?,
        col("test_accuracy")?,
        col("seconds")?,
    ];
    let mut rows = Vec::new();
    for (i, line) in lines.enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split(',').collect();
        let get = |k: usize| -> anyhow::Result<f64> {
            let s = f.get(cols[k]).copied().unwrap_or("");
            s.trim()
                .parse::<f64>()
                .with_context(|| format!("{} line {}: bad number {s:?}", path.display(), i + 2))
        };
        rows.push(EpochRow {
            epoch: get(0)? as usize,
            train_loss: get(1)?,
            train_accuracy: get(2)?,
            test_loss: get(3)?,
            test_accuracy: get(4)?,
            seconds: get(5)?,
        });
    }
    Ok(rows)
}

/// The runs found in a study directory.
#[derive(Clone, Debug, Default)]
pub struct Gathered {
    /// Complete runs, sorted by name.
    pub runs: Vec<RunRecord>,
    /// Run directories without a readable `metrics.json`, with the reason.
    pub incomplete: Vec<(String, String)>,
}

/// Read every run directory (a subdirectory with `config.json`) of `study_dir`.
pub fn gather(study_dir: &Path) -> anyhow::Result<Gathered> {
    let rd = fs::read_dir(study_dir)
        .with_context(|| format!("reading study directory {}", study_dir.display()))?;
    let mut dirs: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("config.json").is_file())
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
        out.runs.push(RunRecord {
            name,
            dir,
            file,
            metrics,
            epochs,
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// The report
// ---------------------------------------------------------------------------------------------

/// One row of the results table: a (model, augmentation) over its seeds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Grid label (e.g. `baseline+noise`).
    pub label: String,
    /// Model name with positional encoding (e.g. `baseline+coord`).
    pub model: String,
    /// Augmentation stack (`none` for none).
    pub aug: String,
    /// Seeds of the runs, ascending.
    pub seeds: Vec<u64>,
    /// Run directories, in seed order.
    pub runs: Vec<String>,
    /// Segment accuracy over seeds.
    pub segment_accuracy: Summary,
    /// Track accuracy (majority vote) over seeds.
    pub track_accuracy: Summary,
    /// Mean segment accuracy / the baseline's (model `baseline`, no augmentation).
    pub segment_ratio: Option<f64>,
    /// Mean track accuracy / the baseline's.
    pub track_ratio: Option<f64>,
    /// Confusion matrices summed over the row's seeds (PNG and SVG), relative to the report
    /// directory; empty when the runs' genre lists differ.
    #[serde(default)]
    pub figures: Vec<String>,
}

/// What the runs share (or, where they differ, every value seen).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// Study directory.
    pub study: String,
    /// Split(s).
    pub split: Vec<String>,
    /// Epochs.
    pub epochs: Vec<usize>,
    /// Seeds.
    pub seeds: Vec<u64>,
    /// Data root(s).
    pub data: Vec<String>,
    /// Dataset fingerprint(s).
    pub dataset_fingerprint: Vec<String>,
    /// Batch size(s).
    pub batch: Vec<usize>,
    /// Learning rate(s).
    pub lr: Vec<f64>,
    /// Complete runs.
    pub complete_runs: usize,
    /// Runs without `metrics.json`: `name: reason`.
    pub incomplete_runs: Vec<String>,
    /// Runs of `study.json` with no directory yet.
    pub missing_runs: Vec<String>,
}

/// Figures of one run, relative to the report directory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunFigures {
    /// Run directory name.
    pub run: String,
    /// Grid label.
    pub label: String,
    /// Seed.
    pub seed: u64,
    /// Segment accuracy.
    pub segment_accuracy: f64,
    /// Track accuracy.
    pub track_accuracy: f64,
    /// Figure files (PNG and SVG), relative to the report directory.
    pub files: Vec<String>,
}

/// `report.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Settings shared by the runs.
    pub header: Header,
    /// The results table, in grid order.
    pub rows: Vec<Row>,
    /// Per-run figures.
    pub runs: Vec<RunFigures>,
}

/// Describe a data source for the header.
pub fn describe_data(d: &DataSource) -> String {
    match d {
        DataSource::Path { path } => path.display().to_string(),
        DataSource::Synthetic => "synthetic (default set)".into(),
        DataSource::Toy(t) => format!(
            "toy ({} classes x {} tracks x {} segments of {}x{})",
            t.n_classes, t.tracks_per_class, t.segments_per_track, t.n_mels, t.frames
        ),
    }
}

fn distinct<T: Ord + Clone>(it: impl Iterator<Item = T>) -> Vec<T> {
    it.collect::<BTreeSet<T>>().into_iter().collect()
}

/// The grid label of a run: the study's label for its (model, posenc, aug), or else
/// `<model>` / `<model>+<aug>`.
fn label_of(study: Option<&Study>, r: &RunRecord) -> (String, usize) {
    if let Some(s) = study
        && let Some((i, e)) = s.grid.iter().enumerate().find(|(_, e)| {
            e.model == r.file.run.model && e.posenc == r.file.run.posenc && e.aug == r.file.run.aug
        })
    {
        return (e.label.clone(), i);
    }
    let m = r.file.run.model_name();
    let label = if r.file.run.aug == "none" {
        m
    } else {
        format!("{m}+{}", r.file.run.aug)
    };
    (label, usize::MAX)
}

/// Build the report's table and header from gathered runs (no files written).
pub fn summarise(study_dir: &Path, g: &Gathered) -> anyhow::Result<(Header, Vec<Row>)> {
    let study = Study::read(study_dir).ok();
    if g.runs.is_empty() {
        bail!(
            "{}: no complete runs (a run is complete when its metrics.json exists){}",
            study_dir.display(),
            if g.incomplete.is_empty() {
                String::new()
            } else {
                format!("; {} unfinished", g.incomplete.len())
            }
        );
    }
    // group by label, in grid order, then by label
    let mut groups: Vec<(String, usize, Vec<&RunRecord>)> = Vec::new();
    for r in &g.runs {
        let (label, order) = label_of(study.as_ref(), r);
        match groups.iter_mut().find(|(l, _, _)| *l == label) {
            Some(gr) => gr.2.push(r),
            None => groups.push((label, order, vec![r])),
        }
    }
    groups.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    let mut rows: Vec<Row> = groups
        .into_iter()
        .map(|(label, _, mut runs)| {
            runs.sort_by_key(|r| r.file.run.seed);
            let seg: Vec<f64> = runs.iter().map(|r| r.metrics.segment_accuracy).collect();
            let trk: Vec<f64> = runs.iter().map(|r| r.metrics.track_accuracy).collect();
            Row {
                label,
                model: runs[0].file.run.model_name(),
                aug: runs[0].file.run.aug.clone(),
                seeds: runs.iter().map(|r| r.file.run.seed).collect(),
                runs: runs.iter().map(|r| r.name.clone()).collect(),
                segment_accuracy: summarize_accuracy(&seg),
                track_accuracy: summarize_accuracy(&trk),
                segment_ratio: None,
                track_ratio: None,
                figures: Vec::new(),
            }
        })
        .collect();
    let base = rows
        .iter()
        .find(|r| r.model == "baseline" && r.aug == "none")
        .map(|r| (r.segment_accuracy.mean, r.track_accuracy.mean));
    if let Some((bs, bt)) = base {
        for r in &mut rows {
            r.segment_ratio = (bs > 0.0).then(|| r.segment_accuracy.mean / bs);
            r.track_ratio = (bt > 0.0).then(|| r.track_accuracy.mean / bt);
        }
    }
    let runs = || g.runs.iter().map(|r| &r.file.run);
    let present: BTreeSet<&str> = g
        .runs
        .iter()
        .map(|r| r.name.as_str())
        .chain(g.incomplete.iter().map(|(n, _)| n.as_str()))
        .collect();
    let header = Header {
        study: study_dir.display().to_string(),
        split: distinct(runs().map(|r| r.split.clone())),
        epochs: distinct(runs().map(|r| r.epochs)),
        seeds: distinct(runs().map(|r| r.seed)),
        data: distinct(runs().map(|r| describe_data(&r.data))),
        dataset_fingerprint: distinct(g.runs.iter().map(|r| r.file.dataset_fingerprint.clone())),
        batch: distinct(runs().map(|r| r.batch)),
        lr: {
            let mut v: Vec<f64> = Vec::new();
            for r in runs() {
                if !v.contains(&r.lr) {
                    v.push(r.lr);
                }
            }
            v
        },
        complete_runs: g.runs.len(),
        incomplete_runs: g
            .incomplete
            .iter()
            .map(|(n, why)| format!("{n}: {why}"))
            .collect(),
        missing_runs: study
            .as_ref()
            .map(|s| {
                s.runs()
                    .into_iter()
                    .filter(|r| !present.contains(r.name.as_str()))
                    .map(|r| r.name)
                    .collect()
            })
            .unwrap_or_default(),
    };
    Ok((header, rows))
}

fn pct(v: f64) -> String {
    format!("{:.1}", 100.0 * v)
}

fn mean_std(s: &Summary) -> String {
    match s.std {
        Some(sd) => format!("{} ± {}", pct(s.mean), pct(sd)),
        None => pct(s.mean),
    }
}

fn ci(s: &Summary) -> String {
    match s.ci95 {
        Some([lo, hi]) => format!("[{}, {}]", pct(lo), pct(hi)),
        None => "—".into(),
    }
}

fn ratio(r: Option<f64>) -> String {
    r.map_or_else(|| "—".into(), |v| format!("{v:.3}"))
}

fn join<T: ToString>(v: &[T]) -> String {
    v.iter().map(T::to_string).collect::<Vec<_>>().join(", ")
}

/// The results table and header as Markdown.
pub fn markdown(report: &Report) -> String {
    let h = &report.header;
    let mut s = String::from("# Results\n\n");
    s += &format!("- study: `{}`\n", h.study);
    s += &format!("- split: {}\n", join(&h.split));
    s += &format!("- epochs: {}\n", join(&h.epochs));
    s += &format!("- seeds: {}\n", join(&h.seeds));
    s += &format!(
        "- batch: {}, Adam learning rate: {}\n",
        join(&h.batch),
        join(&h.lr)
    );
    s += &format!("- data: {}\n", join(&h.data));
    s += &format!(
        "- dataset fingerprint: {}\n",
        h.dataset_fingerprint
            .iter()
            .map(|f| format!("`{f}`"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    s += &format!("- complete runs: {}\n", h.complete_runs);
    if !h.incomplete_runs.is_empty() {
        s += &format!("- unfinished runs: {}\n", h.incomplete_runs.join("; "));
    }
    if !h.missing_runs.is_empty() {
        s += &format!("- not started: {}\n", h.missing_runs.join(", "));
    }
    s += "\nAccuracies in %, mean ± sample standard deviation over seeds, with the 95 % \
          confidence interval of the mean (Student's t, n − 1 degrees of freedom; clipped to \
          [0, 100]). Ratios are \
          mean accuracy divided by the baseline's (baseline, no augmentation).\n\n";
    s += "| Model | Augmentation | Seeds | Segment accuracy | 95 % CI | Track accuracy | 95 % CI | Segment ratio | Track ratio |\n";
    s += "|---|---|---:|---:|---:|---:|---:|---:|---:|\n";
    for r in &report.rows {
        s += &format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.model,
            if r.aug == "none" {
                "—".to_string()
            } else {
                format!("`{}`", r.aug)
            },
            r.seeds.len(),
            mean_std(&r.segment_accuracy),
            ci(&r.segment_accuracy),
            mean_std(&r.track_accuracy),
            ci(&r.track_accuracy),
            ratio(r.segment_ratio),
            ratio(r.track_ratio),
        );
    }
    if report.rows.iter().any(|r| !r.figures.is_empty()) {
        s += "\n## Confusion matrices, summed over seeds\n\n";
        for r in report.rows.iter().filter(|r| !r.figures.is_empty()) {
            let links: Vec<String> = r
                .figures
                .iter()
                .filter(|p| p.ends_with(".png"))
                .map(|p| {
                    format!(
                        "[{}]({p})",
                        if p.contains("track") {
                            "tracks"
                        } else {
                            "segments"
                        }
                    )
                })
                .collect();
            s += &format!("- {}: {}\n", r.label, links.join(", "));
        }
    }
    if !report.runs.is_empty() {
        s += "\n## Runs\n\n| Run | Segment accuracy | Track accuracy | Figures |\n|---|---:|---:|---|\n";
        for f in &report.runs {
            let links: Vec<String> = f
                .files
                .iter()
                .filter(|p| p.ends_with(".png"))
                .map(|p| {
                    let stem = Path::new(p)
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    format!("[{stem}]({p})")
                })
                .collect();
            s += &format!(
                "| {} | {} | {} | {} |\n",
                f.run,
                pct(f.segment_accuracy),
                pct(f.track_accuracy),
                links.join(" ")
            );
        }
    }
    s
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The results table as CSV (fractions, not percentages; empty fields where undefined).
pub fn csv(rows: &[Row]) -> String {
    let opt = |v: Option<f64>| v.map_or_else(String::new, |v| format!("{v:.6}"));
    let mut s = String::from(
        "label,model,aug,n,seeds,segment_mean,segment_std,segment_ci_low,segment_ci_high,track_mean,track_std,track_ci_low,track_ci_high,segment_ratio,track_ratio\n",
    );
    for r in rows {
        let (sa, ta) = (&r.segment_accuracy, &r.track_accuracy);
        s += &[
            csv_field(&r.label),
            csv_field(&r.model),
            csv_field(&r.aug),
            r.seeds.len().to_string(),
            csv_field(
                &r.seeds
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            format!("{:.6}", sa.mean),
            opt(sa.std),
            opt(sa.ci95.map(|c| c[0])),
            opt(sa.ci95.map(|c| c[1])),
            format!("{:.6}", ta.mean),
            opt(ta.std),
            opt(ta.ci95.map(|c| c[0])),
            opt(ta.ci95.map(|c| c[1])),
            opt(r.segment_ratio),
            opt(r.track_ratio),
        ]
        .join(",");
        s.push('\n');
    }
    s
}

/// Draw one run's figures into `<out>/figures/<run>/`; returns their paths relative to `out`.
pub fn draw_run(r: &RunRecord, out: &Path) -> anyhow::Result<Vec<String>> {
    let rel = PathBuf::from("figures").join(&r.name);
    let dir = out.join(&rel);
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let m = &r.metrics;
    let mut files = Vec::new();
    for (kind, counts, what) in [
        (
            "confusion_track",
            &m.confusion_tracks,
            "track level (majority vote)",
        ),
        ("confusion_segment", &m.confusion_segments, "segment level"),
    ] {
        let c = Confusion {
            title: format!("{} (seed {}): {what}", m.model_label(), m.seed),
            genres: &m.genres,
            counts,
        };
        for ext in ["png", "svg"] {
            let name = format!("{kind}.{ext}");
            let p = dir.join(&name);
            if ext == "png" {
                c.png(&p)?;
            } else {
                c.svg(&p)?;
            }
            files.push(rel.join(&name).display().to_string());
        }
    }
    let curves = Curves {
        title: format!(
            "{} (seed {}): learning curves, {} epochs",
            m.model_label(),
            m.seed,
            r.epochs.len()
        ),
        rows: &r.epochs,
    };
    if !r.epochs.is_empty() {
        for ext in ["png", "svg"] {
            let name = format!("curves.{ext}");
            let p = dir.join(&name);
            if ext == "png" {
                curves.png(&p)?;
            } else {
                curves.svg(&p)?;
            }
            files.push(rel.join(&name).display().to_string());
        }
    }
    Ok(files)
}

/// Sum confusion matrices over runs (rows, columns = genres). `None` when the runs' genre lists
/// differ.
pub fn summed_confusion(
    runs: &[&RunRecord],
    pick: fn(&Metrics) -> &Vec<Vec<usize>>,
) -> Option<Vec<Vec<usize>>> {
    let first = runs.first()?;
    let n = first.metrics.genres.len();
    let mut sum = vec![vec![0usize; n]; n];
    for r in runs {
        let m = pick(&r.metrics);
        if r.metrics.genres != first.metrics.genres
            || m.len() != n
            || m.iter().any(|row| row.len() != n)
        {
            return None;
        }
        for (s, row) in sum.iter_mut().zip(m) {
            for (a, b) in s.iter_mut().zip(row) {
                *a += b;
            }
        }
    }
    Some(sum)
}

/// Draw the confusion matrices of a table row summed over its seeds into
/// `<out>/figures/by-model/<label>/`; returns the paths relative to `out`.
fn draw_summed(label: &str, runs: &[&RunRecord], out: &Path) -> anyhow::Result<Vec<String>> {
    let rel = PathBuf::from("figures").join("by-model").join(label);
    let mut files = Vec::new();
    let Some(first) = runs.first() else {
        return Ok(files);
    };
    let seeds: Vec<String> = runs.iter().map(|r| r.file.run.seed.to_string()).collect();
    for (kind, pick, what) in [
        (
            "confusion_track",
            (|m: &Metrics| &m.confusion_tracks) as fn(&Metrics) -> &Vec<Vec<usize>>,
            "track level",
        ),
        (
            "confusion_segment",
            |m: &Metrics| &m.confusion_segments,
            "segment level",
        ),
    ] {
        let Some(counts) = summed_confusion(runs, pick) else {
            eprintln!("warning: {label}: the runs' genre lists differ; no summed confusion matrix");
            return Ok(Vec::new());
        };
        fs::create_dir_all(out.join(&rel))?;
        let c = Confusion {
            title: format!(
                "{}: {what}, seed{} {} summed",
                first.metrics.model_label(),
                if seeds.len() > 1 { "s" } else { "" },
                seeds.join(", ")
            ),
            genres: &first.metrics.genres,
            counts: &counts,
        };
        for ext in ["png", "svg"] {
            let name = format!("{kind}.{ext}");
            let p = out.join(&rel).join(&name);
            if ext == "png" {
                c.png(&p)?;
            } else {
                c.svg(&p)?;
            }
            files.push(rel.join(&name).display().to_string());
        }
    }
    Ok(files)
}

trait ModelLabel {
    fn model_label(&self) -> String;
}

impl ModelLabel for Metrics {
    /// `baseline`, or `baseline + noise:sigma=0.001` with an augmentation.
    fn model_label(&self) -> String {
        if self.aug == "none" {
            self.model.clone()
        } else {
            format!("{} + {}", self.model, self.aug)
        }
    }
}

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
    for row in &mut rows {
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
            .map(|rd| rd.flatten().any(|e| e.path().join("config.json").is_file()))
            .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_gamma_matches_factorials_and_sqrt_pi() {
        let mut f = 1.0f64;
        for n in 1..20 {
            // Γ(n) = (n-1)!
            assert!((ln_gamma(n as f64) - f.ln()).abs() < 1e-12, "n = {n}");
            f *= n as f64;
        }
        // Γ(1/2) = √π
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-13);
    }

    #[test]
    fn t_cdf_matches_closed_forms_for_one_and_two_degrees_of_freedom() {
        for &t in &[-7.0, -1.5, -0.2, 0.0, 0.3, 1.0, 2.5, 12.7] {
            // df = 1 (Cauchy): 1/2 + atan(t)/π
            let c1 = 0.5 + f64::atan(t) / std::f64::consts::PI;
            assert!((student_t_cdf(t, 1.0) - c1).abs() < 1e-12, "df 1, t {t}");
            // df = 2: 1/2 + t / (2 √(2 + t²))
            let c2 = 0.5 + t / (2.0 * (2.0 + t * t).sqrt());
            assert!((student_t_cdf(t, 2.0) - c2).abs() < 1e-12, "df 2, t {t}");
        }
    }

    #[test]
    fn t_quantiles_match_printed_tables() {
        // two-sided 95 % critical values, as printed in standard t tables (4 decimals)
        for (df, t) in [
            (1.0, 12.7062),
            (2.0, 4.3027),
            (3.0, 3.1824),
            (4.0, 2.7764),
            (9.0, 2.2622),
            (30.0, 2.0423),
            (120.0, 1.9799),
        ] {
            let q = student_t_quantile(0.975, df);
            assert!((q - t).abs() < 6e-5, "df {df}: {q} vs {t}");
        }
        // df = 2 closed form: t = (2p - 1) √(2 / (1 - (2p-1)²))
        let a: f64 = 2.0 * 0.975 - 1.0;
        let exact = a * (2.0 / (1.0 - a * a)).sqrt();
        assert!((student_t_quantile(0.975, 2.0) - exact).abs() < 1e-9);
    }

    #[test]
    fn accuracy_interval_is_clipped_to_zero_one() {
        // seeds 0.10, 0.10, 0.20 (the synthetic grid's baseline tracks): mean 0.1333, s = 0.05774,
        // t(0.975, 2) = 4.3027, half-width 4.3027 * 0.05774 / sqrt(3) = 0.14343
        let raw = summarize(&[0.1, 0.1, 0.2]);
        let [lo, hi] = raw.ci95.unwrap();
        assert!((lo - (0.133_333 - 0.143_43)).abs() < 1e-4, "{lo}");
        assert!((hi - (0.133_333 + 0.143_43)).abs() < 1e-4, "{hi}");
        let acc = summarize_accuracy(&[0.1, 0.1, 0.2]);
        assert_eq!(acc.ci95, Some([0.0, hi]));
        assert_eq!((acc.mean, acc.std), (raw.mean, raw.std));
        let top = summarize_accuracy(&[1.0, 0.9, 1.0]);
        assert_eq!(top.ci95.unwrap()[1], 1.0);
    }
}
