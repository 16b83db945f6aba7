//! Export to infer-core's model file and host inference with infer-core:
//! - f32: infer-core's logits equal the Burn baseline's within 1e-4, at the study's 128 x 130
//!   input for every positional encoding (freshly initialised) and on a trained toy model;
//! - int8 (post-training quantisation): top-1 agreement with the Burn model >= 99 % and segment
//!   accuracy within 1 point, on a trained toy model, through the `trainer export` / `trainer
//!   eval --model` command line;
//! - bad model files are reported with the file name and the problem.

use std::path::Path;
use std::process::Command;

use burn::prelude::*;
use infer_core::model::Model;
use rand::{RngExt, SeedableRng};
use trainer::models::PosEnc;
use trainer::models::baseline::Baseline;
use trainer::models::plain::PlainBaseline;
use trainer::ship::export;

const BIN: &str = env!("CARGO_BIN_EXE_trainer");
/// 4 classes x 20 tracks x 10 segments of 32 x 32: 640 training and 160 test segments.
const TOY: &str = "4:20:10:32:32";

fn trainer(args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("spawn trainer")
}

fn ok(args: &[&str]) -> String {
    let out = trainer(args);
    assert!(
        out.status.success(),
        "trainer {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Burn logits of a batch of log-mel segments (each `[m, t]`, dB), normalised as the trainer does.
fn burn_logits(
    model: &Baseline,
    segs: &[Vec<f32>],
    m: usize,
    t: usize,
    mean: f32,
    std: f32,
) -> Vec<Vec<f32>> {
    let d = Device::flex();
    let x: Vec<f32> = segs
        .iter()
        .flat_map(|s| s.iter().map(|v| (v - mean) / std))
        .collect();
    let out = model
        .forward(Tensor::from_data(
            TensorData::new(x, [segs.len(), 1, m, t]),
            &d,
        ))
        .into_data()
        .try_into_vec::<f32>()
        .unwrap();
    out.chunks(out.len() / segs.len())
        .map(<[f32]>::to_vec)
        .collect()
}

fn assert_close(ours: &[f32], burn: &[f32], what: &str) {
    for (a, b) in ours.iter().zip(burn) {
        assert!(
            (a - b).abs() <= 1e-4,
            "{what}: infer-core {ours:?} vs Burn {burn:?}"
        );
    }
}

#[test]
fn f32_export_matches_burn_at_study_input_for_every_posenc() {
    let d = Device::flex();
    let (m, t, mean, std) = (128, 130, -42.0, 17.0);
    let mut rng = rand::rngs::StdRng::seed_from_u64(9);
    // log-mel-like segments: a spectral tilt, a slow loudness contour and noise
    let segs: Vec<Vec<f32>> = (0..2)
        .map(|_| {
            let tilt: f32 = rng.random_range(-40.0..-10.0);
            (0..m * t)
                .map(|i| {
                    let (mi, ti) = (i / t, i % t);
                    -30.0
                        + tilt * mi as f32 / m as f32
                        + 6.0 * (ti as f32 / 9.0).sin()
                        + rng.random_range(-10.0..10.0)
                })
                .collect()
        })
        .collect();
    for posenc in [PosEnc::None, PosEnc::Coord, PosEnc::Sinusoidal] {
        d.seed(21);
        let model = Baseline::new(
            10,
            m,
            t,
            posenc,
            trainer::models::baseline::DROPOUT,
            Default::default(),
            &d,
        );
        let plain = PlainBaseline::from_model(&model, m, t, mean, std, 22050).unwrap();
        let classes: Vec<String> = (0..10).map(|c| format!("g{c}")).collect();
        let owned = export::to_f32(&plain, "fresh", &classes).unwrap();
        let bytes = owned.encode().unwrap();
        let file = Model::from_bytes(&bytes).unwrap();
        assert_eq!(
            file.frontend(),
            &infer_core::config::FrontendConfig::DEFAULT
        );
        assert_eq!(file.input().segment_samples, 66150);
        let burn = burn_logits(&model, &segs, m, t, mean, std);
        for (seg, want) in segs.iter().zip(&burn) {
            // the comparison means something only if the logits are spread well beyond 1e-4
            let spread =
                want.iter().fold(0f32, |a, &v| a.max(v)) - want.iter().fold(0f32, |a, &v| a.min(v));
            assert!(spread > 1e-2, "{posenc}: logits {want:?} nearly constant");
            let ours = trainer::evaluate::inference::logits(&file, seg).unwrap();
            assert_close(&ours, want, &format!("{posenc}"));
        }
    }
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn trained_toy_model_exports_f32_and_int8_through_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("runs/toy");
    let models = tmp.path().join("models");
    let (run_s, models_s) = (run.to_str().unwrap(), models.to_str().unwrap());
    ok(&[
        "run", "--toy", TOY, "--epochs", "4", "--batch", "16", "--seed", "3", "--out", run_s,
    ]);
    let f32_path = format!("{models_s}/toy-f32.postcard");
    let i8_path = format!("{models_s}/toy-int8.postcard");
    let out = ok(&["export", "--run", run_s, "--out", &f32_path]);
    assert!(out.contains("bytes"), "{out}");
    ok(&[
        "export",
        "--run",
        run_s,
        "--int8",
        "--calibrate",
        "200",
        "--out",
        &i8_path,
    ]);
    // atomic writes leave nothing else behind
    let mut names: Vec<String> = std::fs::read_dir(&models)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["toy-f32.postcard", "toy-int8.postcard"]);

    // f32 logits equal Burn's on the test segments
    let (cfg, plain) = trainer::run::checkpoint::load_baseline(&run).unwrap();
    let file = trainer::run::config::RunFile::read(&run).unwrap();
    let burn_model =
        match trainer::run::checkpoint::load_model(&run, &file, &Device::flex()).unwrap() {
            trainer::models::Model::Baseline(b) => b,
            _ => unreachable!("a baseline run"),
        };
    let data = trainer::run::loader::prepare(&cfg).unwrap();
    let segs: Vec<Vec<f32>> = (0..data.test.len())
        .map(|i| {
            trainer::evaluate::inference::segment(&data.test, i, plain.frames, plain.input_mean)
                .unwrap()
        })
        .collect();
    let burn = burn_logits(
        &burn_model,
        &segs,
        plain.n_mels,
        plain.frames,
        plain.input_mean,
        plain.input_std,
    );
    let f32_bytes = std::fs::read(&f32_path).unwrap();
    let f32_model = Model::from_bytes(&f32_bytes).unwrap();
    for (seg, want) in segs.iter().zip(&burn) {
        assert_close(
            &trainer::evaluate::inference::logits(&f32_model, seg).unwrap(),
            want,
            "trained toy",
        );
    }

    // eval --model: accuracy, agreement with the Burn model
    let f32_json = tmp.path().join("f32.json");
    let i8_json = tmp.path().join("int8.json");
    ok(&[
        "eval",
        "--model",
        &f32_path,
        "--run",
        run_s,
        "--json",
        f32_json.to_str().unwrap(),
    ]);
    ok(&[
        "eval",
        "--model",
        &i8_path,
        "--run",
        run_s,
        "--json",
        i8_json.to_str().unwrap(),
    ]);
    let (f, q) = (json(&f32_json), json(&i8_json));
    eprintln!("f32 eval: {f}\nint8 eval: {q}");
    let num =
        |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap_or_else(|| panic!("{k} in {v}"));
    assert_eq!(f["precision"], "f32");
    assert_eq!(q["precision"], "int8");
    assert_eq!(num(&f, "segments"), 160.0);
    let burn_acc = num(&f, "float_segment_accuracy");
    assert!(burn_acc >= 0.9, "the toy model did not learn: {burn_acc}");
    assert_eq!(num(&f, "top1_agreement_with_float"), 1.0);
    assert_eq!(num(&f, "segment_accuracy"), burn_acc);
    assert!(num(&q, "top1_agreement_with_float") >= 0.99, "{q}");
    assert!(num(&q, "segment_accuracy") >= burn_acc - 0.01, "{q}");
    // int8 is about a quarter of f32
    let (fb, qb) = (num(&f, "file_bytes"), num(&q, "file_bytes"));
    assert!(qb < 0.3 * fb, "{qb} vs {fb}");

    // from data alone (the default seed draws other toy tracks): no Burn columns
    let out = ok(&["eval", "--model", &i8_path, "--toy", TOY]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["top1_agreement_with_float"], serde_json::Value::Null);
    assert_eq!(num(&v, "segments"), 160.0);
    assert!(num(&v, "segment_accuracy") >= 0.9, "{v}");

    // --reference: the f32 export scored on the same segments; its accuracy is what the f32
    // model scores alone, and the agreement matches the run-based one (the f32 export agrees
    // with Burn on every segment, checked above)
    let out = ok(&[
        "eval",
        "--model",
        &i8_path,
        "--reference",
        &f32_path,
        "--run",
        run_s,
    ]);
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        num(&r, "reference_segment_accuracy"),
        num(&f, "segment_accuracy")
    );
    assert_eq!(
        num(&r, "top1_agreement_with_reference"),
        num(&q, "top1_agreement_with_float")
    );
    let out = ok(&[
        "eval",
        "--model",
        &f32_path,
        "--reference",
        &f32_path,
        "--run",
        run_s,
    ]);
    let same: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(num(&same, "top1_agreement_with_reference"), 1.0);
}

#[test]
fn bad_model_files_name_the_file_and_the_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let plain = PlainBaseline {
        convs: (0..5)
            .map(|b| trainer::models::plain::PlainConv {
                out_channels: 4,
                in_channels: if b == 0 { 1 } else { 4 },
                weight: vec![0.1; 4 * 9 * if b == 0 { 1 } else { 4 }],
                bias: vec![0.0; 4],
            })
            .collect(),
        dense: trainer::models::plain::PlainDense {
            out_features: 4,
            in_features: 4,
            weight: vec![0.1; 16],
            bias: vec![0.0; 4],
        },
        posenc: PosEnc::None,
        n_mels: 32,
        frames: 32,
        input_mean: -50.0,
        input_std: 10.0,
        sample_rate: 22050,
    };
    let classes: Vec<String> = (0..4).map(|c| format!("class{c}")).collect();
    let mut bytes = export::to_f32(&plain, "tiny", &classes)
        .unwrap()
        .encode()
        .unwrap();
    let n = bytes.len();
    bytes[n - 10] ^= 0x40;
    let bad = tmp.path().join("corrupt.postcard");
    std::fs::write(&bad, &bytes).unwrap();
    let out = trainer(&[
        "eval",
        "--model",
        bad.to_str().unwrap(),
        "--toy",
        "4:2:1:32:32",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("corrupt.postcard") && err.contains("checksum"),
        "{err}"
    );
    let missing = tmp.path().join("missing.postcard");
    let out = trainer(&[
        "eval",
        "--model",
        missing.to_str().unwrap(),
        "--toy",
        "4:2:1:32:32",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.postcard"));
    // a model whose input does not fit the data
    std::fs::write(
        &bad,
        export::to_f32(&plain, "tiny", &classes)
            .unwrap()
            .encode()
            .unwrap(),
    )
    .unwrap();
    let out = trainer(&[
        "eval",
        "--model",
        bad.to_str().unwrap(),
        "--toy",
        "4:2:1:64:32",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("mel bands"), "{err}");
    // a layout this build cannot run: block 5 wider than its buffers (8 channels)
    let mut wide = export::to_f32(&plain, "tiny", &classes).unwrap();
    if let Some(infer_core::format::owned::OwnedLayer::Conv { out_ch, .. }) = wide.layers.get_mut(4)
    {
        *out_ch = 9;
    }
    let wide_path = tmp.path().join("wide.postcard");
    std::fs::write(&wide_path, wide.encode().unwrap()).unwrap();
    let out = trainer(&[
        "eval",
        "--model",
        wide_path.to_str().unwrap(),
        "--toy",
        "4:2:1:32:32",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && err.contains("wide.postcard")
            && err.contains(
                "unsupported channel count (block 5: 9 output channels, this build holds 1 to 8)"
            ),
        "{err}"
    );
}
