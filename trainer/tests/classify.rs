//! `trainer classify`: a song is cut into the run's 3 s segments, each segment's log-mel is the
//! f64 reference front end's (infer-core `reference`, a direct DFT), the probabilities are the
//! model's on those features, and the vote is the evaluation's majority vote.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use infer_core::config::FrontendConfig;
use trainer::base::metrics;
use trainer::evaluate::classify;
use trainer::evaluate::inference;
use trainer::run::checkpoint;
use trainer::run::config::{DataSource, RunConfig, RunFile, ToySpec};
use trainer::run::examples::{Examples, FeatureStore};
use trainer::study::train;

const BIN: &str = env!("CARGO_BIN_EXE_trainer");

/// A baseline trained for one epoch on toy inputs shaped like the real front end's
/// (128 mel bands x 130 frames = 3 s at 22050 Hz, hop 512).
fn run_dir() -> &'static Path {
    static DIR: OnceLock<std::path::PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap().keep().join("run");
        let cfg = RunConfig {
            data: DataSource::Toy(ToySpec {
                n_classes: 3,
                tracks_per_class: 3,
                segments_per_track: 2,
                n_mels: 128,
                frames: 130,
                ..ToySpec::default()
            }),
            epochs: 1,
            batch: 6,
            seed: 5,
            ..RunConfig::default()
        };
        train::run(&cfg, &dir, false).unwrap();
        dir
    })
}

fn song(seconds: f64) -> Vec<f32> {
    let sr = 22050.0;
    (0..(seconds * sr) as usize)
        .map(|i| {
            let t = i as f64 / sr;
            // a rising chirp with a slow tremolo: segments differ
            let f = 200.0 + 300.0 * t;
            (0.3 * (1.0 + 0.5 * (1.3 * t).sin()) * (std::f64::consts::TAU * f * t).sin()) as f32
        })
        .collect()
}

fn write_wav(path: &Path, samples: &[f32]) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 22050,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &s in samples {
        w.write_sample(s).unwrap();
    }
    w.finalize().unwrap();
}

#[test]
fn segments_features_probabilities_and_vote_match_references() {
    let run = run_dir();
    let tmp = tempfile::tempdir().unwrap();
    let wav = tmp.path().join("song.wav");
    let x = song(10.0);
    write_wav(&wav, &x);

    let c = classify::classify_file(run, &wav).unwrap();
    // 10 s -> segments at 0, 3, 6 s (the 1 s tail is dropped)
    let starts: Vec<f64> = c.segments.iter().map(|s| s.start_seconds).collect();
    assert_eq!(starts, [0.0, 3.0, 6.0]);
    assert!(!c.padded);

    // reference: f64 front end on each 3 s slice, then the run's model
    let cfg = FrontendConfig::DEFAULT;
    let seg = 3 * 22050;
    let mut features = Vec::new();
    for k in 0..3 {
        let s = &x[k * seg..(k + 1) * seg];
        let mut out = vec![0f64; 128 * cfg.n_frames(s.len())];
        let frames = infer_core::reference::log_mel(&cfg, s, &mut out).unwrap();
        assert_eq!(frames, 130);
        features.push(out.iter().map(|&v| v as f32).collect());
    }
    let ex = Examples {
        n_mels: 128,
        features: FeatureStore::Memory(features),
        labels: vec![0; 3],
        tracks: vec![0; 3],
    };
    let file = RunFile::read(run).unwrap();
    let device = burn::tensor::Device::flex();
    let model = checkpoint::load_model(run, &file, &device).unwrap();
    let pred = inference::predict(&model, &ex, 130, file.normalisation(), 4, &device).unwrap();
    for (k, (got, want)) in c.segments.iter().zip(&pred.probs).enumerate() {
        let sum: f32 = got.probs.iter().sum();
        assert!(
            (sum - 1.0).abs() < 1e-4,
            "segment {k}: probabilities sum to {sum}"
        );
        for (a, b) in got.probs.iter().zip(want) {
            assert!(
                (a - b).abs() < 2e-3,
                "segment {k}: {:?} vs {want:?}",
                got.probs
            );
        }
    }
    let refs: Vec<&[f32]> = c.segments.iter().map(|s| s.probs.as_slice()).collect();
    assert_eq!(c.genre, metrics::vote(&refs, 3));
    assert_eq!(c.votes.iter().sum::<usize>(), 3);
    for g in 0..3 {
        let mean = c.segments.iter().map(|s| s.probs[g] as f64).sum::<f64>() / 3.0;
        assert!((c.mean_probs[g] - mean).abs() < 1e-9);
    }

    // the CLI prints the same segments and vote
    let o = Command::new(BIN)
        .arg("classify")
        .arg(&wav)
        .arg("--run")
        .arg(run)
        .args(["--top", "2"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8(o.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("segment")).count(),
        3,
        "{stdout}"
    );
    let vote = lines
        .iter()
        .find(|l| l.starts_with("vote: "))
        .expect("vote line");
    assert!(
        vote.starts_with(&format!(
            "vote: {} ({} of 3 segments",
            c.genres[c.genre], c.votes[c.genre]
        )),
        "{vote}"
    );
    // each segment line lists its top 2 genres, best first, as the library computed them
    let best = |p: &[f32]| (0..3).fold(0, |b, i| if p[i] > p[b] { i } else { b });
    for (k, s) in c.segments.iter().enumerate() {
        let line = lines[k];
        let first = line.split_whitespace().nth(4).unwrap();
        assert_eq!(first, c.genres[best(&s.probs)], "{line}");
    }
}

#[test]
fn a_short_song_is_padded_to_one_segment_and_a_toy_shaped_run_is_refused() {
    let run = run_dir();
    let c = classify::classify_samples(run, &song(1.0)).unwrap();
    assert!(c.padded);
    assert_eq!(c.segments.len(), 1);

    // a run whose model takes 32 mel bands cannot take the real front end's 128
    let tmp = tempfile::tempdir().unwrap();
    let small = tmp.path().join("small");
    let cfg = RunConfig {
        data: DataSource::Toy(ToySpec {
            n_classes: 2,
            tracks_per_class: 3,
            segments_per_track: 2,
            n_mels: 32,
            frames: 32,
            ..ToySpec::default()
        }),
        epochs: 1,
        batch: 4,
        ..RunConfig::default()
    };
    train::run(&cfg, &small, false).unwrap();
    let err = classify::classify_samples(&small, &song(4.0)).unwrap_err();
    assert!(format!("{err:#}").contains("32 mel bands"), "{err:#}");

    let missing = Command::new(BIN)
        .args(["classify", "/nonexistent/song.wav", "--run"])
        .arg(run)
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/song.wav"));
}
