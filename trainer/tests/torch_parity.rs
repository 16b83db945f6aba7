//! Burn vs PyTorch: every network of the study, loaded with the same weights, gives the same
//! eval-mode logits as an independent PyTorch implementation (tools/reference/torch_parity.py,
//! fixture tests/fixtures/torch/parity.json) within 1e-4.
//!
//! Weights, BatchNorm statistics and inputs come from a counter-based generator implemented
//! identically here and in the script (so ResNet-18's weights need no fixture); the fixture's
//! sums of all generated values confirm both sides generated the same numbers.

use burn::prelude::*;
use trainer::models::arbitrary::Arbitrary;
use trainer::models::baseline::Baseline;
use trainer::models::resnet::ResNet18;
use trainer::models::{PosEnc, map_tensors, named_tensors};

const TOL: f64 = 1e-4;

fn fnv1a64(s: &str) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    h
}

/// The script's `generated(name, shape)`: torch name and layout.
fn generated(seed: u64, name: &str, shape: &[usize]) -> Vec<f32> {
    let n: usize = shape.iter().product();
    let mut state = seed ^ fnv1a64(name);
    let leaf = name.rsplit('.').next().unwrap_or(name);
    let fan_in: usize = shape.iter().skip(1).product();
    (0..n)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            let u = (z >> 40) as f64 / 16_777_216.0;
            let v = if name == "input" {
                2.0 * u - 1.0
            } else if leaf == "running_mean" {
                (2.0 * u - 1.0) * 0.1
            } else if leaf == "running_var" {
                1.0 + 0.5 * u
            } else if leaf == "weight" && shape.len() == 1 {
                1.0 + (2.0 * u - 1.0) * 0.2
            } else if leaf == "bias" {
                (2.0 * u - 1.0) * 0.1
            } else if leaf == "weight" {
                (2.0 * u - 1.0) * (6.0 / fan_in as f64).sqrt()
            } else {
                panic!("no generator for {name}")
            };
            v as f32
        })
        .collect()
}

/// Burn path -> torch name: BatchNorm `gamma`/`beta` are torch's `weight`/`bias`.
fn torch_name(path: &str) -> String {
    match path.rsplit_once('.') {
        Some((head, "gamma")) => format!("{head}.weight"),
        Some((head, "beta")) => format!("{head}.bias"),
        _ => path.to_string(),
    }
}

/// Load generated weights into a Burn module; returns (sum, sum of squares, tensors).
fn load<M: Module>(module: M, seed: u64) -> (M, f64, f64, usize) {
    let (mut sum, mut sq, mut count) = (0f64, 0f64, 0usize);
    let module = map_tensors(module, &mut |path, shape| {
        let name = torch_name(path);
        let linear = shape.len() == 2; // Burn Linear weight [in, out]; torch [out, in]
        let torch_shape: Vec<usize> = if linear {
            vec![shape[1], shape[0]]
        } else {
            shape.to_vec()
        };
        let v = generated(seed, &name, &torch_shape);
        count += 1;
        for &x in &v {
            sum += x as f64;
            sq += (x as f64) * (x as f64);
        }
        if linear {
            let (o, i) = (shape[1], shape[0]);
            let mut t = vec![0f32; v.len()];
            for r in 0..o {
                for c in 0..i {
                    t[c * o + r] = v[r * i + c];
                }
            }
            t
        } else {
            v
        }
    });
    (module, sum, sq, count)
}

fn fixture() -> serde_json::Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/torch/parity.json");
    serde_json::from_slice(&std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .unwrap()
}

fn check<M: Module>(case: &str, module: M, forward: impl Fn(&M, Tensor<4>) -> Tensor<2>) {
    let fx = fixture();
    let seed = fx["seed"].as_u64().unwrap();
    let c = &fx["cases"][case];
    let device = Device::flex();
    let (module, sum, sq, count) = load(module, seed);
    assert_eq!(
        count as u64,
        c["n_tensors"].as_u64().unwrap(),
        "{case}: tensor count differs from torch"
    );
    let (want_sum, want_sq) = (
        c["param_sum"].as_f64().unwrap(),
        c["param_sum_sq"].as_f64().unwrap(),
    );
    assert!(
        (sum - want_sum).abs() <= 1e-9 * want_sq.max(1.0),
        "{case}: weights differ (sum {sum} vs {want_sum})"
    );
    assert!(
        (sq - want_sq).abs() <= 1e-9 * want_sq,
        "{case}: weights differ (sum sq {sq} vs {want_sq})"
    );

    let shape: Vec<usize> = c["input_shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let x = generated(seed, "input", &shape);
    let x = Tensor::<4>::from_data(
        TensorData::new(x, [shape[0], shape[1], shape[2], shape[3]]),
        &device,
    );
    let got = forward(&module, x)
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap();
    let want: Vec<f64> = c["logits"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()))
        .collect();
    assert_eq!(got.len(), want.len(), "{case}: logits shape");
    let max_diff = got
        .iter()
        .zip(&want)
        .map(|(&g, &w)| (g as f64 - w).abs())
        .fold(0f64, f64::max);
    // the two batch items must differ far more than the tolerance, or the check would be vacuous
    let n = want.len() / 2;
    let spread = (0..n)
        .map(|i| (want[i] - want[n + i]).abs())
        .fold(0f64, f64::max);
    println!("{case}: max |dlogit| = {max_diff:.2e} (logit spread between inputs {spread:.3})");
    assert!(
        spread > 100.0 * TOL,
        "{case}: logits barely depend on the input"
    );
    assert!(
        max_diff <= TOL,
        "{case}: max |dlogit| {max_diff:e} > {TOL:e}"
    );
}

#[test]
fn baseline_matches_torch() {
    let d = Device::flex();
    check(
        "baseline",
        Baseline::new(
            10,
            128,
            130,
            PosEnc::None,
            trainer::models::baseline::DROPOUT,
            Default::default(),
            &d,
        ),
        |m, x| m.forward(x),
    );
}

#[test]
fn baseline_coord_matches_torch() {
    let d = Device::flex();
    check(
        "baseline_coord",
        Baseline::new(
            10,
            128,
            130,
            PosEnc::Coord,
            trainer::models::baseline::DROPOUT,
            Default::default(),
            &d,
        ),
        |m, x| m.forward(x),
    );
}

#[test]
fn baseline_sinusoidal_matches_torch() {
    let d = Device::flex();
    check(
        "baseline_sinusoidal",
        Baseline::new(
            10,
            128,
            130,
            PosEnc::Sinusoidal,
            trainer::models::baseline::DROPOUT,
            Default::default(),
            &d,
        ),
        |m, x| m.forward(x),
    );
}

#[test]
fn arbitrary_matches_torch() {
    let d = Device::flex();
    check("arbitrary", Arbitrary::new(10, &d), |m, x| m.forward(x));
}

#[test]
fn resnet18_matches_torch() {
    let d = Device::flex();
    for t in named_tensors(&ResNet18::new(10, &d))
        .iter()
        .filter(|t| t.path.contains("downsample"))
        .take(1)
    {
        println!("downsample path: {}", t.path);
    }
    check("resnet18", ResNet18::new(10, &d), |m, x| m.forward(x));
}
