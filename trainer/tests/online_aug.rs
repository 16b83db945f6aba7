//! `--aug-mode online` (as in `--preset best`): each epoch's fresh draw lives in the run's own
//! `online-features/` folder, never in the shared feature cache, and is gone when the run ends,
//! so a long run does not fill the disk with one copy of the training set per epoch.

use std::fs;
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_trainer");

fn files_under(dir: &Path) -> usize {
    let Ok(rd) = fs::read_dir(dir) else { return 0 };
    rd.map(|e| {
        let p = e.unwrap().path();
        if p.is_dir() { files_under(&p) } else { 1 }
    })
    .sum()
}

#[test]
fn online_draws_stay_in_the_run_and_are_removed_at_the_end() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("data");
    trainer::data::synth::generate(&root, 2, 3.5, 13).unwrap(); // 20 tracks, one 3 s segment each
    let cache = tmp.path().join("cache");
    let run = tmp.path().join("run");
    let o = Command::new(BIN)
        .args(["run", "--data"])
        .arg(&root)
        .args([
            "--aug",
            "timeshift:max=0.5",
            "--aug-mode",
            "online",
            "--epochs",
            "3",
            "--batch",
            "4",
            "--out",
        ])
        .arg(&run)
        .env("TINYGENRE_CACHE", &cache)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let log = String::from_utf8_lossy(&o.stderr);
    // 10 training and 10 test tracks (one training track per genre: none can validate): one
    // feature line for the originals of each; each epoch's own draw of the 10 training tracks,
    // into the run's emptied online folder, is reported by its epoch line, not a line of its own
    assert_eq!(
        log.matches("features: 10 tracks (10 computed").count(),
        2,
        "{log}"
    );
    assert_eq!(log.matches("features: ").count(), 2, "{log}");
    assert_eq!(log.matches("epoch ").count(), 3, "{log}");
    assert!(run.join("metrics.json").exists());
    assert!(
        !run.join("online-features").exists(),
        "the last epoch's draw was left behind"
    );
    // the shared cache holds the 20 original tracks (train and test) and nothing else
    assert_eq!(files_under(&cache.join("features")), 20);
}
