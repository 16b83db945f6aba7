//! `trainer report`: the table's statistics against hand calculations, and every figure is
//! rendered (PNG decodes, sensible size and content; SVG names the genres). One toy study
//! (2 cells × 3 seeds, 1 epoch) is trained once and shared by the tests.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use trainer::models::{ModelKind, PosEnc};
use trainer::run::config::{DataSource, RunConfig, ToySpec};
use trainer::study::experiments::{self, GridEntry, Study};
use trainer::study::report::{self, Report};

const BIN: &str = env!("CARGO_BIN_EXE_trainer");

/// A trained toy study (kept for the whole test binary).
fn study_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap().keep().join("study");
        let study = Study {
            grid: vec![
                GridEntry::new("baseline", ModelKind::Baseline, "none"),
                GridEntry {
                    posenc: PosEnc::Coord,
                    ..GridEntry::new("baseline+coord", ModelKind::Baseline, "none")
                },
            ],
            seeds: vec![0, 1, 2],
            base: RunConfig {
                data: DataSource::Toy(ToySpec {
                    n_classes: 4,
                    tracks_per_class: 5,
                    segments_per_track: 2,
                    n_mels: 32,
                    frames: 32,
                    ..ToySpec::default()
                }),
                epochs: 2,
                batch: 8,
                ..RunConfig::default()
            },
        };
        let r = experiments::reproduce(&study, &dir, None).unwrap();
        assert!(r.failed().is_empty(), "{:?}", r.failed());
        dir
    })
}

/// A copy of the study whose runs' accuracies are replaced by hand-chosen values.
fn study_with_accuracies(values: &[(&str, f64, f64)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let src = study_dir();
    for e in fs::read_dir(src).unwrap().flatten() {
        let p = e.path();
        if p.is_file() {
            fs::copy(&p, tmp.path().join(e.file_name())).unwrap();
            continue;
        }
        if !p.join("config.json").is_file() {
            continue;
        }
        let d = tmp.path().join(e.file_name());
        fs::create_dir_all(&d).unwrap();
        for f in ["config.json", "metrics.json", "epochs.csv"] {
            fs::copy(p.join(f), d.join(f)).unwrap();
        }
    }
    for &(run, seg, trk) in values {
        let p = tmp.path().join(run).join("metrics.json");
        let mut m: serde_json::Value = serde_json::from_slice(&fs::read(&p).unwrap()).unwrap();
        m["segment_accuracy"] = seg.into();
        m["track_accuracy"] = trk.into();
        fs::write(&p, serde_json::to_vec(&m).unwrap()).unwrap();
    }
    tmp
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

#[test]
fn table_statistics_match_hand_calculations() {
    let tmp = study_with_accuracies(&[
        ("baseline-s0", 0.50, 0.60),
        ("baseline-s1", 0.62, 0.70),
        ("baseline-s2", 0.71, 0.80),
        ("baseline+coord-s0", 0.80, 0.90),
        ("baseline+coord-s1", 0.80, 0.90),
        ("baseline+coord-s2", 0.83, 0.90),
    ]);
    let out = tmp.path().join("report");
    let r = report::write_report(tmp.path(), Some(&out)).unwrap();
    assert_eq!(r.rows.len(), 2);
    let (base, coord) = (&r.rows[0], &r.rows[1]);
    assert_eq!(
        (base.label.as_str(), coord.label.as_str()),
        ("baseline", "baseline+coord")
    );
    assert_eq!(base.seeds, [0, 1, 2]);

    // baseline, segment accuracy 0.50, 0.62, 0.71:
    //   mean = 1.83 / 3 = 0.61
    //   deviations -0.11, 0.01, 0.10 -> squares 0.0121 + 0.0001 + 0.0100 = 0.0222
    //   sample variance 0.0222 / 2 = 0.0111, std = sqrt(0.0111) = 0.105356538
    //   t(0.975, 2) = 4.302652730 (= 0.95 * sqrt(2 / (1 - 0.95^2)))
    //   half-width = 4.302652730 * 0.105356538 / sqrt(3) = 0.261720
    let s = base.segment_accuracy.as_ref().unwrap();
    assert_eq!(s.n, 3);
    assert!(close(s.mean, 0.61, 1e-12), "{s:?}");
    assert!(close(s.std.unwrap(), 0.105_356_538, 1e-8), "{s:?}");
    let [lo, hi] = s.ci95.unwrap();
    assert!(
        close(lo, 0.61 - 0.261_720, 1e-6) && close(hi, 0.61 + 0.261_720, 1e-6),
        "{s:?}"
    );
    // baseline, track accuracy 0.6, 0.7, 0.8: mean 0.7, std 0.1, half-width 4.30265 * 0.1 / sqrt 3
    let t = &base.track_accuracy;
    assert!(
        close(t.mean, 0.7, 1e-12) && close(t.std.unwrap(), 0.1, 1e-12),
        "{t:?}"
    );
    assert!(close(t.ci95.unwrap()[1] - 0.7, 0.248_413, 1e-6), "{t:?}");
    // baseline+coord, segments 0.80, 0.80, 0.83: mean 0.81, squares 0.0001+0.0001+0.0004 = 0.0006,
    // variance 0.0003, std 0.017320508; track 0.9 x 3: std 0, interval of width 0
    let c = coord.segment_accuracy.as_ref().unwrap();
    assert!(close(c.mean, 0.81, 1e-12) && close(c.std.unwrap(), 0.017_320_508, 1e-8));
    assert_eq!(coord.track_accuracy.std, Some(0.0));
    assert!(close(coord.track_accuracy.ci95.unwrap()[0], 0.9, 1e-12));
    // ratios to the baseline: 0.81 / 0.61 and 0.9 / 0.7; the baseline's own is 1
    assert!(close(coord.segment_ratio.unwrap(), 0.81 / 0.61, 1e-12));
    assert!(close(coord.track_ratio.unwrap(), 0.9 / 0.7, 1e-12));
    assert_eq!(base.segment_ratio, Some(1.0));

    // the same numbers in report.json, results.csv and results.md
    let json: Report = serde_json::from_slice(&fs::read(out.join("report.json")).unwrap()).unwrap();
    // (serde_json reads floats back to within an ulp, not always bit-exactly)
    assert_eq!(json.rows.len(), r.rows.len());
    for (a, b) in json.rows.iter().zip(&r.rows) {
        assert_eq!((&a.label, &a.seeds, &a.runs), (&b.label, &b.seeds, &b.runs));
        for (x, y) in [
            (
                a.segment_accuracy.as_ref().unwrap(),
                b.segment_accuracy.as_ref().unwrap(),
            ),
            (&a.track_accuracy, &b.track_accuracy),
        ] {
            assert!(close(x.mean, y.mean, 1e-12) && close(x.std.unwrap(), y.std.unwrap(), 1e-12));
            assert!(close(x.ci95.unwrap()[0], y.ci95.unwrap()[0], 1e-12));
            assert!(close(x.ci95.unwrap()[1], y.ci95.unwrap()[1], 1e-12));
        }
        assert!(close(a.track_ratio.unwrap(), b.track_ratio.unwrap(), 1e-12));
    }
    let csv = fs::read_to_string(out.join("results.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3);
    let header: Vec<&str> = lines[0].split(',').collect();
    let row: Vec<&str> = lines[1].split(',').collect();
    let col = |name: &str| row[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!(col("label"), "baseline");
    assert_eq!(col("n"), "3");
    assert_eq!(col("segment_mean"), "0.610000");
    assert_eq!(col("segment_std"), "0.105357");
    assert_eq!(col("segment_ci_low"), format!("{:.6}", 0.61 - 0.261_720));
    assert_eq!(col("track_ratio"), "1.000000");
    let md = fs::read_to_string(out.join("results.md")).unwrap();
    assert!(md.contains("| baseline | — | 3 | 61.0 ± 10.5 | [34.8, 87.2] | 70.0 ± 10.0 | [45.2, 94.8] | 1.000 | 1.000 |"), "{md}");
    assert!(
        md.contains("| baseline+coord | — | 3 | 81.0 ± 1.7 |"),
        "{md}"
    );
}

#[test]
fn header_names_split_epochs_seeds_data_and_fingerprint() {
    let tmp = study_with_accuracies(&[]);
    // one run unfinished, one never started
    fs::remove_file(tmp.path().join("baseline-s2/metrics.json")).unwrap();
    fs::remove_dir_all(tmp.path().join("baseline+coord-s1")).unwrap();
    let r = report::write_report(tmp.path(), None).unwrap();
    let h = &r.header;
    assert_eq!(h.split, ["random"]);
    assert_eq!(h.epochs, [2]);
    assert_eq!(h.seeds, [0, 1, 2]);
    assert_eq!(h.data.len(), 1);
    assert!(h.data[0].starts_with("toy (4 classes"), "{:?}", h.data);
    let cfg: serde_json::Value =
        serde_json::from_slice(&fs::read(study_dir().join("baseline-s0/config.json")).unwrap())
            .unwrap();
    assert_eq!(
        h.dataset_fingerprint,
        [cfg["dataset_fingerprint"].as_str().unwrap()]
    );
    assert_eq!(h.complete_runs, 4);
    assert_eq!(h.incomplete_runs.len(), 1);
    assert!(h.incomplete_runs[0].starts_with("baseline-s2"));
    assert_eq!(h.missing_runs, ["baseline+coord-s1"]);
    assert_eq!(r.rows[0].seeds, [0, 1]);
    assert_eq!(r.rows[1].seeds, [0, 2]);
    let md = fs::read_to_string(tmp.path().join("report/results.md")).unwrap();
    for needle in [
        "- split: random",
        "- epochs: 2",
        "- seeds: 0, 1, 2",
        "- dataset fingerprint: `toy:",
        "not started: baseline+coord-s1",
    ] {
        assert!(md.contains(needle), "{needle:?} missing from\n{md}");
    }
}

/// Decode a PNG: (width, height, number of distinct colours).
fn decode_png(p: &Path) -> (u32, u32, usize) {
    let dec = png::Decoder::new(fs::File::open(p).unwrap());
    let mut reader = dec
        .read_info()
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let bpp = info.color_type.samples();
    let colours: std::collections::HashSet<&[u8]> = buf[..info.buffer_size()].chunks(bpp).collect();
    (info.width, info.height, colours.len())
}

#[test]
fn cli_report_renders_every_figure() {
    let tmp = study_with_accuracies(&[]);
    let out = tmp.path().join("figs");
    let o = Command::new(BIN)
        .arg("report")
        .arg(tmp.path())
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("| Model | Augmentation |"));
    let r: Report = serde_json::from_slice(&fs::read(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(r.runs.len(), 6);
    let genres = ["class0", "class1", "class2", "class3"];
    for run in &r.runs {
        let mut names: Vec<&str> = run
            .files
            .iter()
            .map(|f| f.rsplit('/').next().unwrap())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "confusion_segment.png",
                "confusion_segment.svg",
                "confusion_track.png",
                "confusion_track.svg",
                "curves.png",
                "curves.svg"
            ],
            "{}",
            run.run
        );
        for f in &run.files {
            let p = out.join(f);
            let size = fs::metadata(&p).unwrap().len();
            assert!(size > 5_000, "{}: only {size} bytes", p.display());
            if f.ends_with(".png") {
                let (w, h, colours) = decode_png(&p);
                assert!(w >= 500 && h >= 400, "{}: {w}x{h}", p.display());
                // text (anti-aliased), cell colours and lines: far more than a blank canvas
                assert!(colours > 50, "{}: {colours} colours", p.display());
            } else {
                let svg = fs::read_to_string(&p).unwrap();
                assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
                let texts = svg_texts(&svg);
                let has = |t: &str| texts.iter().any(|x| x == t);
                if f.contains("confusion") {
                    for g in genres {
                        // once on each axis
                        let n = texts.iter().filter(|x| *x == g).count();
                        assert_eq!(n, 2, "{}: {g} appears {n} times", p.display());
                    }
                    assert!(has("predicted genre") && has("true genre"), "{texts:?}");
                } else {
                    // training and validation curves only: the test split has no curve
                    assert!(has("train") && has("epoch") && !has("test"), "{texts:?}");
                }
            }
        }
        // no temporary files left behind
        let dir = out.join("figures").join(&run.run);
        for e in fs::read_dir(&dir).unwrap().flatten() {
            assert!(!e.file_name().to_string_lossy().contains("partial"));
        }
    }
    // the cells hold the counts of metrics.json (SVG text)
    let m: serde_json::Value =
        serde_json::from_slice(&fs::read(tmp.path().join("baseline-s0/metrics.json")).unwrap())
            .unwrap();
    let svg = fs::read_to_string(out.join("figures/baseline-s0/confusion_segment.svg")).unwrap();
    let total: u64 = m["confusion_segments"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap().iter().map(|v| v.as_u64().unwrap()))
        .sum();
    assert!(svg.contains(&format!("{total} examples")), "total {total}");
    // cell texts in row order: the count, and its row percentage unless it is 0
    let cells: Vec<u64> = m["confusion_segments"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap().iter().map(|v| v.as_u64().unwrap()))
        .collect();
    let texts = svg_texts(&svg);
    let counts: Vec<u64> = texts
        .iter()
        .skip(2) // title, subtitle
        .filter(|t| !t.ends_with('%'))
        .take(cells.len())
        .map(|t| t.parse().unwrap_or_else(|_| panic!("{t:?} is not a count")))
        .collect();
    assert_eq!(counts, cells);

    // per table row, the track confusion matrix summed over its three seeds
    for row in &r.rows {
        assert_eq!(row.figures.len(), 4, "{:?}", row.figures);
        for f in &row.figures {
            assert!(
                f.starts_with(&format!("figures/by-model/{}/", row.label)),
                "{f}"
            );
            if f.ends_with(".png") {
                let (w, h, colours) = decode_png(&out.join(f));
                assert!(w >= 500 && h >= 400 && colours > 50);
            }
        }
        let mut want = vec![0u64; 16];
        for run in &row.runs {
            let m: serde_json::Value = serde_json::from_slice(
                &fs::read(tmp.path().join(run).join("metrics.json")).unwrap(),
            )
            .unwrap();
            let cells = m["confusion_tracks"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|r| {
                    r.as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_u64().unwrap())
                        .collect::<Vec<_>>()
                });
            for (w, c) in want.iter_mut().zip(cells) {
                *w += c;
            }
        }
        let svg = fs::read_to_string(out.join(format!(
            "figures/by-model/{}/confusion_track.svg",
            row.label
        )))
        .unwrap();
        let got: Vec<u64> = svg_texts(&svg)
            .iter()
            .skip(2)
            .filter(|t| !t.ends_with('%'))
            .take(16)
            .map(|t| t.parse().unwrap())
            .collect();
        assert_eq!(got, want, "{}", row.label);
    }
}

/// The contents of the `<text>` elements of an SVG written by plotters, in order.
fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = &t[t.find('>')? + 1..t.find("</text>")?];
            Some(body.trim().to_string())
        })
        .collect()
}

#[test]
fn report_of_a_directory_without_runs_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let o = Command::new(BIN)
        .arg("report")
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("not a study directory"), "{e}");
}

#[test]
fn classic_row_summarises_one_classic_json_per_seed() {
    let tmp = study_with_accuracies(&[
        ("baseline-s0", 0.50, 0.60),
        ("baseline-s1", 0.62, 0.70),
        ("baseline-s2", 0.71, 0.80),
    ]);
    let classic = |acc: f64| trainer::study::classic_fold::ClassicFold {
        track_accuracy: acc,
        genres: vec!["a".into(), "b".into()],
        confusion_tracks: vec![vec![1, 0], vec![0, 1]],
        train: Vec::new(),
        test: Vec::new(),
        predictions: Vec::new(),
        dataset_fingerprint: "x".into(),
        seconds: 0.0,
    };
    // one per seed beside the baselines, and a second one for seed 0 (same split) that must
    // not count twice
    for (run, acc) in [
        ("baseline-s0", 0.5),
        ("baseline-s1", 0.6),
        ("baseline-s2", 0.7),
        ("baseline+coord-s0", 0.5),
    ] {
        let p = tmp.path().join(run).join("classic.json");
        fs::write(p, serde_json::to_vec(&classic(acc)).unwrap()).unwrap();
    }
    let out = tmp.path().join("report");
    let r = report::write_report(tmp.path(), Some(&out)).unwrap();
    let row = r
        .rows
        .iter()
        .find(|r| r.label == "classic")
        .expect("classic row");
    assert_eq!(row.seeds, [0, 1, 2]);
    assert!(row.segment_accuracy.is_none() && row.segment_ratio.is_none());
    // 0.5, 0.6, 0.7: mean 0.6, std 0.1, half-width t(0.975, 2) * 0.1 / sqrt(3) = 0.248414...
    let t = &row.track_accuracy;
    assert!(
        close(t.mean, 0.6, 1e-12) && close(t.std.unwrap(), 0.1, 1e-12),
        "{t:?}"
    );
    let [lo, hi] = t.ci95.unwrap();
    assert!(close(lo, 0.6 - 0.248_413_771, 1e-8) && close(hi, 0.6 + 0.248_413_771, 1e-8));
    // the baseline's mean track accuracy is 0.7: ratio 0.6 / 0.7
    assert!(close(row.track_ratio.unwrap(), 0.6 / 0.7, 1e-12));
    let md = fs::read_to_string(out.join("results.md")).unwrap();
    let line = md
        .lines()
        .find(|l| l.starts_with("| classic (MFCC + SVM)"))
        .unwrap();
    assert!(line.contains("| — | — | 60.0 ± 10.0 |"), "{line}");
    let csv = fs::read_to_string(out.join("results.csv")).unwrap();
    let line = csv.lines().find(|l| l.starts_with("classic,")).unwrap();
    assert!(line.contains(",0 1 2,,,,,0.600000,0.100000,"), "{line}");
}
