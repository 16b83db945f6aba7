//! `trainer cv`: folds stratified by genre and disjoint by track, the classic baseline on exactly
//! each fold's tracks, the summary (mean, Student's t interval, summed confusions) checked by
//! hand, sharding, resuming an interrupted fold and refusing a directory of other settings.
//! A tiny synthetic audio set (30 clips of one segment), 1 epoch per fold.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::{Command, Output};
use std::time::SystemTime;

const BIN: &str = env!("CARGO_BIN_EXE_trainer");

fn cv(root: &Path, out: &Path, cache: &Path, extra: &[&str]) -> Output {
    Command::new(BIN)
        .args(["cv", "--k", "3", "--epochs", "1", "--batch", "8", "--data"])
        .arg(root)
        .arg("--out")
        .arg(out)
        .args(extra)
        .env("TINYGENRE_CACHE", cache)
        .output()
        .unwrap()
}

fn ok(o: Output) -> String {
    assert!(
        o.status.success(),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn json(p: &Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).unwrap()
}

fn lines(p: &Path) -> Vec<String> {
    fs::read_to_string(p)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

fn mtime(p: &Path) -> SystemTime {
    fs::metadata(p).unwrap().modified().unwrap()
}

fn f64s(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

#[test]
fn cross_validation_trains_every_fold_and_summarises_cnn_and_classic() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("data");
    trainer::data::synth::generate(&root, 3, 3.5, 11).unwrap();
    let cache = tmp.path().join("cache");
    let out = tmp.path().join("cv");

    // shard 0 of 3 trains fold 0 only: no summary yet
    let first = ok(cv(&root, &out, &cache, &["--shard", "0/3"]));
    assert!(first.contains("1 of 3 folds"), "{first}");
    assert!(out.join("fold-0/metrics.json").exists());
    assert!(out.join("fold-0/classic.json").exists());
    assert!(!out.join("fold-1").exists() && !out.join("cv.md").exists());
    let fold0_time = mtime(&out.join("fold-0/metrics.json"));
    let fold0_classic = mtime(&out.join("fold-0/classic.json"));

    // the whole command: folds 1 and 2 train, fold 0 is left alone, the summary appears
    let table = ok(cv(&root, &out, &cache, &[]));
    assert_eq!(mtime(&out.join("fold-0/metrics.json")), fold0_time);
    assert_eq!(mtime(&out.join("fold-0/classic.json")), fold0_classic);
    assert!(table.contains("classic (MFCC + SVM)"), "{table}");
    assert!(table.contains("CNN (baseline)"), "{table}");

    // folds: test lists disjoint, together every track once, one track per genre per fold;
    // each fold trains on the other two folds' tracks; the classic baseline saw the same lists
    let all: BTreeSet<String> = fs::read_dir(root.join("genres"))
        .unwrap()
        .flat_map(|g| fs::read_dir(g.unwrap().path()).unwrap())
        .map(|f| {
            let p = f.unwrap().path();
            p.strip_prefix(root.join("genres"))
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(all.len(), 30);
    let mut seen = BTreeSet::new();
    let (mut segs, mut tracks, mut cnn_conf) = (Vec::new(), Vec::new(), vec![vec![0u64; 10]; 10]);
    let (mut svm, mut svm_conf) = (Vec::new(), vec![vec![0u64; 10]; 10]);
    for i in 0..3 {
        let dir = out.join(format!("fold-{i}"));
        let test = lines(&dir.join("split/test.txt"));
        let train = lines(&dir.join("split/train.txt"));
        assert_eq!(test.len(), 10, "fold {i}");
        let genres: BTreeSet<&str> = test.iter().map(|t| t.split('/').next().unwrap()).collect();
        assert_eq!(genres.len(), 10, "fold {i} is not stratified: {test:?}");
        for t in &test {
            assert!(seen.insert(t.clone()), "{t} is in two test folds");
        }
        // the other folds train, a tenth of their tracks (2 of 20) validating
        let valid = lines(&dir.join("split/valid.txt"));
        assert_eq!((train.len(), valid.len()), (18, 2), "fold {i}");
        let expect_train: BTreeSet<&String> = all.iter().filter(|t| !test.contains(t)).collect();
        assert_eq!(
            train.iter().chain(&valid).collect::<BTreeSet<_>>(),
            expect_train
        );
        let config = json(&dir.join("config.json"));
        assert_eq!(config["run"]["split"], format!("kfold:3:{i}:0.1"));

        let m = json(&dir.join("metrics.json"));
        let c = json(&dir.join("classic.json"));
        let names = |v: &serde_json::Value| -> Vec<String> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(names(&c["test"]), test);
        assert_eq!(names(&c["train"]), train);
        segs.push(m["segment_accuracy"].as_f64().unwrap());
        tracks.push(m["track_accuracy"].as_f64().unwrap());
        svm.push(c["track_accuracy"].as_f64().unwrap());
        for (sum, fold) in [(&mut cnn_conf, &m), (&mut svm_conf, &c)] {
            for (r, row) in fold["confusion_tracks"]
                .as_array()
                .unwrap()
                .iter()
                .enumerate()
            {
                for (k, v) in row.as_array().unwrap().iter().enumerate() {
                    sum[r][k] += v.as_u64().unwrap();
                }
            }
        }
        // the classic accuracy is its confusion matrix's diagonal
        let conf = c["confusion_tracks"].as_array().unwrap();
        let diag: u64 = (0..10).map(|g| conf[g][g].as_u64().unwrap()).sum();
        assert!((svm[i] - diag as f64 / 10.0).abs() < 1e-12);
    }
    assert_eq!(seen, all);

    // the summary, checked by hand: mean and mean ± t(0.975, 2) s / sqrt(3)
    let s = &json(&out.join("cv.json"))["summary"];
    assert_eq!(s["k"], 3);
    assert_eq!(s["tracks"], 30);
    let t975_2 = 4.302652729911275; // scipy.stats.t.ppf(0.975, 2)
    for (got, values) in [
        (&s["cnn"]["track_accuracy"], &tracks),
        (&s["cnn"]["segment_accuracy"], &segs),
        (&s["classic"]["track_accuracy"], &svm),
    ] {
        assert_eq!(&f64s(&got["values"]), values);
        let mean = values.iter().sum::<f64>() / 3.0;
        let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 2.0).sqrt();
        assert!((got["mean"].as_f64().unwrap() - mean).abs() < 1e-12);
        let ci = f64s(&got["ci95"]);
        let half = t975_2 * sd / 3f64.sqrt();
        assert!((ci[0] - (mean - half).max(0.0)).abs() < 1e-9, "{ci:?}");
        assert!((ci[1] - (mean + half).min(1.0)).abs() < 1e-9, "{ci:?}");
    }
    assert!(s["classic"]["segment_accuracy"].is_null());
    let as_u64 =
        |v: &serde_json::Value| -> Vec<Vec<u64>> { serde_json::from_value(v.clone()).unwrap() };
    assert_eq!(as_u64(&s["cnn"]["confusion_tracks"]), cnn_conf);
    assert_eq!(as_u64(&s["classic"]["confusion_tracks"]), svm_conf);
    assert_eq!(cnn_conf.iter().flatten().sum::<u64>(), 30);
    let md = fs::read_to_string(out.join("cv.md")).unwrap();
    assert!(
        md.contains(&format!("{:.3}", tracks.iter().sum::<f64>() / 3.0)),
        "{md}"
    );
    for png in ["confusion_cnn.png", "confusion_classic.png"] {
        let b = fs::read(out.join(png)).unwrap();
        assert_eq!(&b[1..4], b"PNG", "{png}");
    }

    // fold 2 killed after its last checkpoint, before metrics.json: the plan resumes it, and
    // resuming re-evaluates that checkpoint to the same metrics; nothing else is recomputed
    let before = json(&out.join("fold-2/metrics.json"));
    fs::remove_file(out.join("fold-2/metrics.json")).unwrap();
    fs::remove_file(out.join("fold-2/classic.json")).unwrap();
    let plan = ok(cv(&root, &out, &cache, &["--dry-run"]));
    let plan: Vec<&str> = plan
        .lines()
        .map(|l| l.split_whitespace().last().unwrap())
        .collect();
    assert_eq!(plan, ["complete", "complete", "resume"]);
    let classic1 = mtime(&out.join("fold-1/classic.json"));
    let again = ok(cv(&root, &out, &cache, &[]));
    assert_eq!(json(&out.join("fold-2/metrics.json")), before);
    assert_eq!(mtime(&out.join("fold-1/classic.json")), classic1);
    assert_eq!(again, table);

    // other settings in the same directory are refused, naming cv.json
    let other = cv(&root, &out, &cache, &["--lr", "0.01"]);
    assert!(!other.status.success());
    let err = String::from_utf8_lossy(&other.stderr);
    assert!(
        err.contains("cv.json") && err.contains("another cross-validation"),
        "{err}"
    );
}

#[test]
fn settings_that_cannot_work_are_refused_before_training() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 7] = [
        (
            &[
                "run",
                "--synthetic",
                "--stream-context",
                "--posenc",
                "coord",
            ],
            "--stream-context trains the baseline without positional encoding",
        ),
        (&["cv", "--k", "1", "--synthetic"], "at least 2 folds"),
        (
            &["run", "--synthetic", "--sample-rate", "44100"],
            "--sample-rate 44100: the front ends are built for 22050 Hz",
        ),
        (
            &[
                "run",
                "--synthetic",
                "--model",
                "arbitrary",
                "--sample-rate",
                "16000",
            ],
            "the arbitrary model keeps its own 22050 Hz front end",
        ),
        (
            &[
                "run",
                "--synthetic",
                "--model",
                "resnet18",
                "--widths",
                "8,16,32,16,8",
            ],
            "--widths applies to the baseline only",
        ),
        (
            &["run", "--synthetic", "--widths", "8,16,32,16,9"],
            "block 5 has 9 channels; infer-core runs 1 to 8 there",
        ),
        (
            &[
                "run",
                "--synthetic",
                "--select",
                "best-valid",
                "--split",
                "kfold:3:0:0",
            ],
            "--select best-valid needs a validation split",
        ),
    ];
    for (args, expected) in cases {
        let o = Command::new(BIN)
            .args(args)
            .arg("--out")
            .arg(tmp.path().join("out"))
            .env("TINYGENRE_CACHE", tmp.path().join("cache"))
            .output()
            .unwrap();
        assert!(!o.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(
            !tmp.path().join("out").exists(),
            "{args:?} left an output behind"
        );
    }
}
