//! A libFuzzer-free fuzzer for `Model::from_bytes`: mutates valid model files (bit flips, byte
//! writes, inserts, deletes, truncation, splices of two files, varint-length edits), half of the
//! time re-sealing the header (length and CRC) so the mutation reaches the payload decoder and the
//! validator, and runs inference on every file that loads. Any panic is a bug: the input is saved
//! and the process exits non-zero.
//!
//! ```text
//! cargo run -p infer-core --features std --example mutate_model -- [SECONDS] [SEED] [CORPUS_FILE...]
//! ```
//!
//! Without corpus files it builds valid f32 and int8 models (all positional encodings) itself.

use std::collections::BTreeMap;
use std::panic::{self, AssertUnwindSafe};
use std::time::{Duration, Instant};

use infer_core::config::FrontendConfig;
use infer_core::executor::{Executor, run_logmel};
use infer_core::format::owned::{OwnedLayer, OwnedModel, OwnedParams};
use infer_core::format::{CRC, HEADER_LEN, InputSpec, PosEnc, bytes};
use infer_core::model::{Model, Precision};
use infer_core::quant::{QParams, Requantizer};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

const CH: [usize; 5] = [8, 8, 6, 4, 4];
const MELS: usize = 32;
const FRAMES: usize = 40;

fn seed_model(rng: &mut StdRng, posenc: PosEnc, int8: bool) -> Vec<u8> {
    let fe = FrontendConfig {
        n_mels: MELS as u32,
        ..FrontendConfig::DEFAULT
    };
    let in_q = QParams {
        scale: 0.03,
        zero_point: -3,
    };
    let input = InputSpec {
        segment_samples: (FRAMES as u32 - 1) * fe.hop_length,
        n_mels: MELS as u16,
        frames: FRAMES as u16,
        mean: -40.0,
        std: 15.0,
        posenc,
        quant: int8.then_some(in_q),
    };
    let mut layers = Vec::new();
    let mut ci = posenc.in_channels();
    let mut s_in = in_q.scale;
    let mut shapes: Vec<(usize, usize, usize, bool)> = Vec::new();
    for &co in &CH {
        shapes.push((ci, co, co * 9 * ci, false));
        ci = co;
    }
    shapes.push((ci, 5, 5 * ci, true));
    for (ci, co, n_w, dense) in shapes {
        let params = if int8 {
            let out = QParams {
                scale: rng.random_range(0.01..0.1),
                zero_point: if dense { 0 } else { -128 },
            };
            let n_s = if dense { 1 } else { co };
            let scales: Vec<f32> = (0..n_s).map(|_| rng.random_range(0.001..0.02)).collect();
            let rq: Vec<Requantizer> = scales
                .iter()
                .map(|&s| {
                    Requantizer::from_scale(f64::from(s_in) * f64::from(s) / f64::from(out.scale))
                        .expect("representable")
                })
                .collect();
            s_in = out.scale;
            OwnedParams::Int8 {
                weights: (0..n_w).map(|_| rng.random::<u8>()).collect(),
                weight_scales: bytes::f32_le(&scales),
                bias: bytes::i32_le(
                    &(0..co)
                        .map(|_| rng.random_range(-500..500))
                        .collect::<Vec<_>>(),
                ),
                multipliers: bytes::i32_le(&rq.iter().map(|r| r.multiplier()).collect::<Vec<_>>()),
                shifts: rq.iter().map(|r| r.shift() as u8).collect(),
                output: out,
            }
        } else {
            OwnedParams::F32 {
                weights: bytes::f32_le(
                    &(0..n_w)
                        .map(|_| rng.random_range(-0.5..0.5))
                        .collect::<Vec<f32>>(),
                ),
                bias: bytes::f32_le(&vec![0.01; co]),
            }
        };
        layers.push(if dense {
            OwnedLayer::Dense {
                in_features: ci as u16,
                out_features: co as u16,
                params,
            }
        } else {
            OwnedLayer::Conv {
                in_ch: ci as u16,
                out_ch: co as u16,
                params,
            }
        });
    }
    let m = OwnedModel {
        name: "seed".into(),
        classes: (0..5).map(|c| format!("c{c}")).collect(),
        input,
        layers,
        frontend: fe,
    };
    let b = m.encode().expect("encodes");
    Model::from_bytes(&b).expect("seed model is valid");
    b
}

/// Rewrites the header's length and CRC to match the payload.
fn reseal(b: &mut [u8]) {
    if b.len() < HEADER_LEN {
        return;
    }
    let len = (b.len() - HEADER_LEN) as u32;
    b[12..16].copy_from_slice(&len.to_le_bytes());
    let crc = CRC.checksum(&b[HEADER_LEN..]);
    b[16..20].copy_from_slice(&crc.to_le_bytes());
}

fn mutate(rng: &mut StdRng, corpus: &[Vec<u8>]) -> Vec<u8> {
    let mut b = corpus[rng.random_range(0..corpus.len())].clone();
    for _ in 0..rng.random_range(1..=6) {
        if b.is_empty() {
            break;
        }
        // bias positions toward the header and the first few hundred payload bytes, where the
        // structure (names, varint lengths, enum tags, QParams) lives
        let pos = if rng.random_bool(0.7) {
            rng.random_range(0..b.len().min(400))
        } else {
            rng.random_range(0..b.len())
        };
        match rng.random_range(0..8) {
            0 => b[pos] ^= 1 << rng.random_range(0..8),
            1 => b[pos] = rng.random(),
            2 => {
                b[pos] = *[0u8, 1, 0x7f, 0x80, 0xff]
                    .get(rng.random_range(0..5))
                    .unwrap_or(&0)
            }
            3 => b.insert(pos, rng.random()),
            4 => {
                b.remove(pos);
            }
            5 => b.truncate(pos),
            6 => {
                // splice: the tail of another file from the same offset
                let o = &corpus[rng.random_range(0..corpus.len())];
                if pos < o.len() {
                    b.truncate(pos);
                    b.extend_from_slice(&o[pos..]);
                }
            }
            _ => {
                // overwrite 4 bytes with a special f32 (NaN, inf, 0, -0, tiny, huge)
                let v = [f32::NAN, f32::INFINITY, 0.0, -0.0, 1e-45, 3e38][rng.random_range(0..6)];
                for (k, x) in v.to_le_bytes().iter().enumerate() {
                    if let Some(d) = b.get_mut(pos + k) {
                        *d = *x;
                    }
                }
            }
        }
    }
    if rng.random_bool(0.5) {
        reseal(&mut b);
    }
    b
}

fn run_model(m: &Model<'_>, mel: &[f32]) {
    match m.precision() {
        Precision::F32 => {
            let mut e = Box::new(Executor::<f32>::new());
            let mut out = [0f32; 16];
            let _ = run_logmel(m, &mut e, mel, &mut (), &mut out);
        }
        Precision::Int8 => {
            let mut e = Box::new(Executor::<i8>::new());
            let mut out = [0i8; 16];
            let _ = run_logmel(m, &mut e, mel, &mut (), &mut out);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seconds: u64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(60);
    let seed: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut corpus: Vec<Vec<u8>> = args
        .iter()
        .skip(2)
        .map(|p| std::fs::read(p).unwrap_or_else(|e| panic!("{p}: {e}")))
        .collect();
    if corpus.is_empty() {
        for posenc in [PosEnc::None, PosEnc::Coord, PosEnc::Sinusoidal] {
            for int8 in [false, true] {
                corpus.push(seed_model(&mut rng, posenc, int8));
            }
        }
    }
    panic::set_hook(Box::new(|_| {}));
    let start = Instant::now();
    let (mut execs, mut loaded, mut inferred) = (0u64, 0u64, 0u64);
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    let mut mel_cache: BTreeMap<(usize, usize), Vec<f32>> = BTreeMap::new();
    while start.elapsed() < Duration::from_secs(seconds) {
        let input = mutate(&mut rng, &corpus);
        let r = panic::catch_unwind(AssertUnwindSafe(|| match Model::from_bytes(&input) {
            Ok(m) => {
                let d = *m.dims();
                let mel = mel_cache
                    .entry((d.mels[0], d.frames[0]))
                    .or_insert_with(|| {
                        (0..d.mels[0] * d.frames[0])
                            .map(|i| -60.0 + (i % 97) as f32 * 0.7)
                            .collect()
                    })
                    .clone();
                // skip very long inputs (a mutated frame count) to keep the rate up
                if d.frames[0] <= 4 * FRAMES {
                    run_model(&m, &mel);
                    Some(true)
                } else {
                    Some(false)
                }
            }
            Err(e) => {
                *errors.entry(format!("{e:?}")).or_default() += 1;
                None
            }
        }));
        execs += 1;
        match r {
            Ok(Some(ran)) => {
                loaded += 1;
                inferred += u64::from(ran);
            }
            Ok(None) => {}
            Err(_) => {
                let path = format!("mutate_model-crash-{seed}-{execs}.bin");
                let _ = std::fs::write(&path, &input);
                eprintln!("PANIC on execution {execs}; input saved to {path}");
                std::process::exit(1);
            }
        }
    }
    println!(
        "{execs} executions in {:.1} s ({:.0}/s), seed {seed}: {loaded} loaded, {inferred} ran inference, 0 panics",
        start.elapsed().as_secs_f64(),
        execs as f64 / start.elapsed().as_secs_f64()
    );
    for (e, n) in &errors {
        println!("  {e}: {n}");
    }
}
