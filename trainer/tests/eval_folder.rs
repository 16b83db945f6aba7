//! `eval --model M --data DIR` scores every track of DIR (no hidden 30 % split), matches the
//! model's classes to the folders by name, and `classify --model` runs a shipped model file.

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_trainer");

fn model() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/baseline-synth-int8.postcard")
}

fn trainer(args: &[&str], cache: &Path) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env("TINYGENRE_CACHE", cache)
        .output()
        .unwrap()
}

#[test]
fn a_folder_is_scored_whole_and_renamed_genres_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    trainer::data::synth::generate(&data, 2, 6.5, 7).unwrap(); // 20 tracks, two 3 s segments each
    let cache = tmp.path().join("cache");
    let m = model();
    let m = m.to_str().unwrap();
    let d = data.to_str().unwrap();
    let o = trainer(&["eval", "--model", m, "--data", d], &cache);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("eval: 20 test tracks, 40 segments (test split)"),
        "{err}"
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["segments"], 40);
    let confusion: u64 = v["confusion_segments"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap().iter().map(|x| x.as_u64().unwrap()))
        .sum();
    assert_eq!(confusion, 40);

    // `--split random` asks for the old behaviour: a 30 % test split.
    let o = trainer(
        &["eval", "--model", m, "--data", d, "--split", "random"],
        &cache,
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("eval: 10 test tracks"), "{err}");

    // A renamed genre folder: refused with both lists, not scored by folder order.
    let genres = data.join("genres");
    std::fs::rename(genres.join("blues"), genres.join("bluez")).unwrap();
    let o = trainer(&["eval", "--model", m, "--data", d], &cache);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(err.contains("are not the data's genre folders"), "{err}");
    assert!(
        err.contains("\"bluez\"") && err.contains("\"blues\""),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn classify_runs_a_model_file_and_says_when_it_learnt_synthetic_audio() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    trainer::data::synth::generate(&data, 1, 9.5, 3).unwrap();
    let song = data.join("genres/jazz/jazz.00000.wav");
    assert!(song.exists(), "{}", song.display());
    let m = model();
    let o = trainer(
        &[
            "classify",
            song.to_str().unwrap(),
            "--model",
            m.to_str().unwrap(),
        ],
        &tmp.path().join("cache"),
    );
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    // three 3 s segments and a vote over them
    assert_eq!(
        out.lines().filter(|l| l.starts_with("segment")).count(),
        3,
        "{out}"
    );
    assert!(out.contains("vote: "), "{out}");
    assert!(err.contains("trained on synthetic audio"), "{err}");

    // The host classification equals infer-core's own logits on the same segments.
    let bytes = std::fs::read(&m).unwrap();
    let model = infer_core::model::Model::from_bytes(&bytes).unwrap();
    let samples = trainer::base::audio::load_mono(&song, model.frontend().sample_rate).unwrap();
    let c = trainer::evaluate::classify::classify_model_samples(&m, &bytes, &samples).unwrap();
    assert_eq!(c.segments.len(), 3);
    let seg = &samples[..66_150];
    let (_, _, mel) = trainer::data::cache::log_mel(model.frontend(), seg).unwrap();
    let ex = trainer::run::examples::Examples {
        n_mels: 128,
        features: trainer::run::examples::FeatureStore::Memory(vec![mel]),
        labels: vec![0],
        tracks: vec![0],
    };
    let x = trainer::evaluate::inference::segment(&ex, 0, 130, model.input().mean).unwrap();
    let logits = trainer::evaluate::inference::logits(&model, &x).unwrap();
    let p = trainer::base::metrics::softmax(&logits);
    assert_eq!(c.segments[0].probs, p);
}

#[test]
fn classify_stream_prints_a_timeline_and_draws_it() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    trainer::data::synth::generate(&data, 1, 12.0, 5).unwrap();
    let song = data.join("genres/rock/rock.00000.wav");
    let m = model();
    let png = tmp.path().join("timeline.png");
    let args = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "classify",
            song.to_str().unwrap(),
            "--model",
            m.to_str().unwrap(),
            "--stream",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let a = args(&["--smoothing", "1", "--plot", png.to_str().unwrap()]);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let o = trainer(&a, &tmp.path().join("cache"));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let hops: Vec<&str> = out.lines().filter(|l| l.starts_with("hop ")).collect();
    assert!(hops.len() >= 8, "{out}");
    // hops are 32 frames (32 * 512 / 22050 s) apart
    let t: Vec<f64> = hops
        .iter()
        .map(|l| l.split_whitespace().nth(2).unwrap().parse().unwrap())
        .collect();
    for w in t.windows(2) {
        assert!(
            (w[1] - w[0] - 32.0 * 512.0 / 22050.0).abs() < 0.011,
            "{t:?}"
        );
    }
    // unsmoothed, the decision is the hop's own top class
    for l in &hops {
        let decided = l.split_whitespace().nth(4).unwrap();
        let own = l
            .rsplit_once("this window: ")
            .unwrap()
            .1
            .trim_end_matches(')');
        assert_eq!(decided, own, "{l}");
    }
    assert!(out.contains("stream: "), "{out}");
    let img = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()))
        .read_info()
        .unwrap();
    assert_eq!((img.info().width, img.info().height), (1200, 640));

    // A hop the network cannot stream at is a typed error.
    let a = args(&["--hop-frames", "48"]);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let o = trainer(&a, &tmp.path().join("cache"));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(err.contains("baseline-synth-int8.postcard"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
