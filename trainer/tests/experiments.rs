//! `trainer reproduce`: the grid's order and sharding, restarting an interrupted study (only
//! unfinished runs train; resumed runs continue from their checkpoint), and refusing run
//! directories trained with other settings. Toy data, 1-2 epochs.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::SystemTime;

use trainer::models::{ModelKind, PosEnc};
use trainer::run::config::{DataSource, RunConfig, ToySpec};
use trainer::study::experiments::{self, Action, GridEntry, Shard, Study};
use trainer::study::train;

const BIN: &str = env!("CARGO_BIN_EXE_trainer");

fn toy_base(epochs: usize) -> RunConfig {
    RunConfig {
        data: DataSource::Toy(ToySpec {
            n_classes: 3,
            tracks_per_class: 5,
            segments_per_track: 2,
            n_mels: 32,
            frames: 32,
            ..ToySpec::default()
        }),
        epochs,
        batch: 8,
        ..RunConfig::default()
    }
}

/// Two cells of the baseline (plain and with coordinate channels) × two seeds.
fn toy_study(epochs: usize) -> Study {
    Study {
        grid: vec![
            GridEntry::new("baseline", ModelKind::Baseline, "none"),
            GridEntry {
                posenc: PosEnc::Coord,
                ..GridEntry::new("baseline+coord", ModelKind::Baseline, "none")
            },
        ],
        seeds: vec![0, 1],
        base: toy_base(epochs),
    }
}

fn metrics(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(dir.join("metrics.json")).expect("metrics.json")).unwrap()
}

fn without_seconds(mut v: serde_json::Value) -> serde_json::Value {
    v.as_object_mut().unwrap().remove("seconds");
    v
}

fn mtime(p: &Path) -> SystemTime {
    fs::metadata(p).unwrap().modified().unwrap()
}

#[test]
fn restarting_an_interrupted_study_trains_only_the_unfinished_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("study");
    let study = toy_study(2);

    let first = experiments::reproduce(&study, &out, None).unwrap();
    assert!(first.failed().is_empty(), "{:?}", first.failed());
    assert_eq!(
        first.trained(),
        [
            "baseline-s0",
            "baseline-s1",
            "baseline+coord-s0",
            "baseline+coord-s1"
        ]
    );
    assert_eq!(experiments::Study::read(&out).unwrap(), study);
    let original: Vec<serde_json::Value> = [
        "baseline-s0",
        "baseline-s1",
        "baseline+coord-s0",
        "baseline+coord-s1",
    ]
    .iter()
    .map(|n| metrics(&out.join(n)))
    .collect();
    let untouched = out.join("baseline-s0/metrics.json");
    let untouched_time = mtime(&untouched);
    let untouched_bytes = fs::read(&untouched).unwrap();

    // 1. baseline-s1: killed after its last checkpoint, before metrics.json was written.
    fs::remove_file(out.join("baseline-s1/metrics.json")).unwrap();
    // 2. baseline+coord-s0: killed during epoch 2: only the epoch-1 checkpoint exists. The
    //    state after epoch 1 of a 1-epoch run is the state after epoch 1 of this 2-epoch run
    //    (every epoch is seeded from (seed, epoch); constant learning rate).
    let one = tmp.path().join("one-epoch");
    let cfg1 = RunConfig {
        epochs: 1,
        ..study.runs()[2].config.clone()
    };
    assert_eq!(study.runs()[2].name, "baseline+coord-s0");
    train::run(&cfg1, &one, false).unwrap();
    let coord0 = out.join("baseline+coord-s0");
    fs::remove_file(coord0.join("metrics.json")).unwrap();
    fs::remove_dir_all(coord0.join("checkpoints")).unwrap();
    fs::create_dir_all(coord0.join("checkpoints")).unwrap();
    for f in ["model.bpk", "optim.bpk", "state.json"] {
        fs::copy(
            one.join("checkpoints").join(f),
            coord0.join("checkpoints").join(f),
        )
        .unwrap();
    }
    fs::copy(one.join("epochs.csv"), coord0.join("epochs.csv")).unwrap();
    // 3. baseline+coord-s1: never started (e.g. its shard's job was cancelled).
    fs::remove_dir_all(out.join("baseline+coord-s1")).unwrap();
    // (and a torn metrics.json would count as unfinished too)
    assert!(!experiments::is_complete(&out.join("baseline-s1")));

    let plan = experiments::plan(&study, &out, None).unwrap();
    let actions: Vec<(&str, Action)> = plan
        .iter()
        .map(|s| (s.run.name.as_str(), s.action))
        .collect();
    assert_eq!(
        actions,
        [
            ("baseline-s0", Action::Skip),
            ("baseline-s1", Action::Resume),
            ("baseline+coord-s0", Action::Resume),
            ("baseline+coord-s1", Action::Start),
        ]
    );

    let second = experiments::reproduce(&study, &out, None).unwrap();
    assert!(second.failed().is_empty(), "{:?}", second.failed());
    assert_eq!(
        second.trained(),
        ["baseline-s1", "baseline+coord-s0", "baseline+coord-s1"]
    );
    // the complete run was not touched
    assert_eq!(mtime(&untouched), untouched_time);
    assert_eq!(fs::read(&untouched).unwrap(), untouched_bytes);
    // baseline-s1 only re-evaluated its final checkpoint: identical metrics, wall time included
    assert_eq!(metrics(&out.join("baseline-s1")), original[1]);
    // baseline+coord-s0 trained epoch 2 only, from the epoch-1 checkpoint: same result as the
    // uninterrupted run, and its epochs.csv keeps the epoch-1 row of the interrupted part
    assert_eq!(
        without_seconds(metrics(&coord0)),
        without_seconds(original[2].clone())
    );
    let csv = fs::read_to_string(coord0.join("epochs.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    let first_row = |s: &str| s.lines().nth(1).unwrap().to_string();
    assert_eq!(
        first_row(&csv),
        first_row(&fs::read_to_string(one.join("epochs.csv")).unwrap())
    );
    // the restarted run is reproducible from its seed
    assert_eq!(
        without_seconds(metrics(&out.join("baseline+coord-s1"))),
        without_seconds(original[3].clone())
    );

    // a third pass has nothing to do
    let third = experiments::reproduce(&study, &out, None).unwrap();
    assert!(third.trained().is_empty());
    assert!(third.steps.iter().all(|(s, _)| s.action == Action::Skip));
}

#[test]
fn shards_cover_the_grid_exactly_once() {
    let tmp = tempfile::tempdir().unwrap();
    let study = Study::new(RunConfig::default(), vec![0, 1, 2]);
    let all: Vec<usize> = (0..24).collect();
    for n in [1, 2, 3, 5, 24, 30] {
        let mut seen = Vec::new();
        for i in 0..n {
            let shard = Shard { index: i, count: n };
            let steps = experiments::plan(&study, tmp.path(), Some(shard)).unwrap();
            for s in &steps {
                assert_eq!(s.run.index % n, i);
                assert_eq!(s.dir, tmp.path().join(&s.run.name));
                assert_eq!(s.action, Action::Start);
            }
            seen.extend(steps.iter().map(|s| s.run.index));
        }
        seen.sort();
        assert_eq!(seen, all, "{n} shards");
    }
    // the run names are unique and the order is the grid's (cells, then seeds)
    let names: Vec<String> = experiments::plan(&study, tmp.path(), None)
        .unwrap()
        .into_iter()
        .map(|s| s.run.name)
        .collect();
    assert_eq!(names.iter().collect::<BTreeSet<_>>().len(), 24);
    assert_eq!(
        &names[..4],
        [
            "arbitrary-s0",
            "arbitrary-s1",
            "arbitrary-s2",
            "baseline-s0"
        ]
    );
    assert_eq!(names[23], "baseline+noise+pitch+mixup-s2");
}

#[test]
fn cli_shards_split_the_grid_and_dry_run_trains_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("study");
    let mut lists = Vec::new();
    for shard in ["0/2", "1/2"] {
        let o = Command::new(BIN)
            .args([
                "reproduce",
                "--synthetic",
                "--dry-run",
                "--shard",
                shard,
                "--out",
            ])
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let names: Vec<String> = String::from_utf8(o.stdout)
            .unwrap()
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                assert_eq!(f.len(), 3, "{l}");
                assert_eq!(f[2], "start");
                f[1].to_string()
            })
            .collect();
        assert_eq!(names.len(), 12);
        lists.push(names);
    }
    let union: BTreeSet<&String> = lists.iter().flatten().collect();
    assert_eq!(union.len(), 24, "shards overlap or miss runs");
    assert!(!out.exists(), "--dry-run wrote {}", out.display());

    let bad = Command::new(BIN)
        .args([
            "reproduce",
            "--synthetic",
            "--dry-run",
            "--shard",
            "2/2",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("0 <= I < N"));
}

#[test]
fn a_run_directory_with_other_settings_is_refused_before_training() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("study");
    let mut study = toy_study(1);
    study.grid.truncate(1);
    study.seeds = vec![3];
    let r = experiments::reproduce(&study, &out, None).unwrap();
    assert_eq!(r.trained(), ["baseline-s3"]);
    let csv = out.join("baseline-s3/epochs.csv");
    let before = mtime(&csv);

    study.base.epochs = 2;
    let err = experiments::reproduce(&study, &out, None).unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("baseline-s3") && msg.contains("other settings"),
        "{msg}"
    );
    assert_eq!(mtime(&csv), before);

    // the device is not part of a run's identity
    let mut other_device = toy_study(1);
    other_device.grid.truncate(1);
    other_device.seeds = vec![3];
    other_device.base.device = trainer::models::backend::DeviceKind::Ndarray;
    let plan = experiments::plan(&other_device, &out, None).unwrap();
    assert_eq!(plan[0].action, Action::Skip);
}

#[test]
fn cli_reproduce_runs_the_selected_cells() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("study");
    let o = Command::new(BIN)
        .args([
            "reproduce",
            "--toy",
            "3:5:2:32:32",
            "--epochs",
            "1",
            "--batch",
            "8",
            "--seeds",
            "4",
            "--only",
            "baseline",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("1 runs: 1 trained, 0 already complete, 0 failed"),
        "{stdout}"
    );
    let m = metrics(&out.join("baseline-s4"));
    assert_eq!(m["seed"], 4);
    assert_eq!(m["epochs"], 1);
    assert_eq!(m["model"], "baseline");

    let bad = Command::new(BIN)
        .args([
            "reproduce",
            "--toy",
            "3:5:2:32:32",
            "--only",
            "vgg",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a grid entry"));
}
