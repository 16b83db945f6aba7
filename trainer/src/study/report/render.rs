//! Rendering the report: the results table and header as Markdown, the table as CSV.

use std::path::Path;

use serde::{Serialize, Serializer};

use super::stats::Summary;
use super::table::{Report, Row};

fn pct(v: f64) -> String {
    format!("{:.1}", 100.0 * v)
}

fn mean_std_or_dash(s: Option<&Summary>) -> String {
    s.map_or_else(|| "—".into(), mean_std)
}

fn ci_or_dash(s: Option<&Summary>) -> String {
    s.map_or_else(|| "—".into(), ci)
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
          mean accuracy divided by the baseline's (baseline, no augmentation). The classic row is \
          MFCC mean/std + an RBF SVM on the same training and test tracks as the baseline of \
          each seed; it classifies whole tracks, so it has no segment accuracy.\n\n";
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
            mean_std_or_dash(r.segment_accuracy.as_ref()),
            ci_or_dash(r.segment_accuracy.as_ref()),
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

/// A number in `results.csv`: six decimals.
struct Fixed6(f64);

impl Serialize for Fixed6 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{:.6}", self.0))
    }
}

/// One line of `results.csv`; the field names are the header. `None` is an empty field.
#[derive(Serialize)]
struct CsvRow<'a> {
    label: &'a str,
    model: &'a str,
    aug: &'a str,
    n: usize,
    /// Space-separated.
    seeds: String,
    segment_mean: Option<Fixed6>,
    segment_std: Option<Fixed6>,
    segment_ci_low: Option<Fixed6>,
    segment_ci_high: Option<Fixed6>,
    track_mean: Fixed6,
    track_std: Option<Fixed6>,
    track_ci_low: Option<Fixed6>,
    track_ci_high: Option<Fixed6>,
    segment_ratio: Option<Fixed6>,
    track_ratio: Option<Fixed6>,
}

impl<'a> CsvRow<'a> {
    fn new(r: &'a Row) -> Self {
        let (sa, ta) = (r.segment_accuracy.as_ref(), &r.track_accuracy);
        let fixed = |v: Option<f64>| v.map(Fixed6);
        CsvRow {
            label: &r.label,
            model: &r.model,
            aug: &r.aug,
            n: r.seeds.len(),
            seeds: r
                .seeds
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(" "),
            segment_mean: fixed(sa.map(|s| s.mean)),
            segment_std: fixed(sa.and_then(|s| s.std)),
            segment_ci_low: fixed(sa.and_then(|s| s.ci95.map(|c| c[0]))),
            segment_ci_high: fixed(sa.and_then(|s| s.ci95.map(|c| c[1]))),
            track_mean: Fixed6(ta.mean),
            track_std: fixed(ta.std),
            track_ci_low: fixed(ta.ci95.map(|c| c[0])),
            track_ci_high: fixed(ta.ci95.map(|c| c[1])),
            segment_ratio: fixed(r.segment_ratio),
            track_ratio: fixed(r.track_ratio),
        }
    }
}

/// The results table as CSV (fractions, not percentages; empty fields where undefined; a field
/// holding a comma, quote or line break is quoted, its quotes doubled).
pub fn csv(rows: &[Row]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    if rows.is_empty() {
        // serde writes the header with the first row; an empty table still has one
        w.write_record(HEADER).expect("writing to memory");
    }
    for r in rows {
        w.serialize(CsvRow::new(r)).expect("writing to memory");
    }
    let bytes = w.into_inner().expect("writing to memory");
    String::from_utf8(bytes).expect("CSV of UTF-8 fields is UTF-8")
}

/// The columns of `results.csv` (the field names of [`CsvRow`]).
const HEADER: [&str; 15] = [
    "label",
    "model",
    "aug",
    "n",
    "seeds",
    "segment_mean",
    "segment_std",
    "segment_ci_low",
    "segment_ci_high",
    "track_mean",
    "track_std",
    "track_ci_low",
    "track_ci_high",
    "segment_ratio",
    "track_ratio",
];

#[cfg(test)]
mod tests {
    use super::*;

    /// A summary as `results.csv` holds it (no values).
    fn summary(n: usize, f: &[&str]) -> Summary {
        let num = |s: &str| (!s.is_empty()).then(|| s.parse::<f64>().unwrap());
        Summary {
            n,
            mean: num(f[0]).unwrap(),
            std: num(f[1]),
            ci95: num(f[2]).map(|lo| [lo, num(f[3]).unwrap()]),
            values: Vec::new(),
        }
    }

    /// The rows of a `results.csv`, read back field by field.
    fn rows_of(text: &str) -> Vec<Row> {
        csv::Reader::from_reader(text.as_bytes())
            .records()
            .map(|rec| {
                let rec = rec.unwrap();
                let f: Vec<&str> = rec.iter().collect();
                assert_eq!(f.len(), 15, "{rec:?}");
                let n = f[3].parse().unwrap();
                Row {
                    label: f[0].into(),
                    model: f[1].into(),
                    aug: f[2].into(),
                    seeds: f[4].split(' ').map(|s| s.parse().unwrap()).collect(),
                    runs: Vec::new(),
                    segment_accuracy: (!f[5].is_empty()).then(|| summary(n, &f[5..9])),
                    track_accuracy: summary(n, &f[9..13]),
                    segment_ratio: (!f[13].is_empty()).then(|| f[13].parse().unwrap()),
                    track_ratio: (!f[14].is_empty()).then(|| f[14].parse().unwrap()),
                    figures: Vec::new(),
                }
            })
            .collect()
    }

    #[test]
    fn csv_reproduces_the_committed_study_table_byte_for_byte() {
        let committed = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../docs/results/study-synth.csv"
        ));
        let rows = rows_of(committed);
        assert!(rows.len() >= 4, "{} rows", rows.len());
        assert_eq!(csv(&rows), committed);
    }

    #[test]
    fn csv_quotes_fields_with_commas_or_quotes_and_leaves_undefined_fields_empty() {
        let one = Summary {
            n: 1,
            mean: 0.25,
            std: None,
            ci95: None,
            values: vec![0.25],
        };
        let row = Row {
            label: "a,b".into(),
            model: "say \"hi\"".into(),
            aug: "none".into(),
            seeds: vec![7],
            runs: vec!["a-s7".into()],
            segment_accuracy: Some(one.clone()),
            track_accuracy: Summary { mean: 0.5, ..one },
            segment_ratio: None,
            track_ratio: Some(2.0 / 3.0),
            figures: Vec::new(),
        };
        let text = csv(&[row]);
        let lines: Vec<&str> = text.lines().collect();
        // RFC 4180: the field in quotes, its quotes doubled
        assert_eq!(
            lines[1],
            "\"a,b\",\"say \"\"hi\"\"\",none,1,7,0.250000,,,,0.500000,,,,,0.666667"
        );
        assert_eq!(lines.len(), 2);
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn csv_of_no_rows_is_the_header_line_of_a_full_table() {
        let committed = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../docs/results/study-synth.csv"
        ));
        let header = committed.lines().next().unwrap();
        assert_eq!(csv(&[]), format!("{header}\n"));
        // the serde-written header of a non-empty table is the same line
        let full = csv(&rows_of(committed));
        assert_eq!(full.lines().next(), Some(header));
    }
}
