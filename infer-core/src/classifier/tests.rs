//! The classifier against the per-segment path, the whole-tensor reference (continuous mode:
//! [`continuous`]), and itself under every chunking.

use super::*;
use crate::executor::run_logmel;
use crate::frontend::LogMel;
use crate::testutil::random_i8;
use rand::{RngExt, SeedableRng, rngs::StdRng};
use std::vec;
use std::vec::Vec;

mod continuous;

const INT8: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../models/baseline-synth-int8.postcard"
));
const F32: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../models/baseline-synth-f32.postcard"
));

/// A test signal with some musical structure: a bass line and a chord of harmonic tones that
/// change every `bar` samples, a noise burst (a drum) on every beat, seeded.
fn music(seed: u64, samples: usize) -> Vec<i16> {
    let mut rng = StdRng::seed_from_u64(seed);
    let sr = 22050.0f32;
    let bar = 11025 * rng.random_range(2..5);
    let beat = bar / 4;
    let mut notes = [0.0f32; 4];
    let mut out = Vec::with_capacity(samples);
    let tempo_noise = rng.random_range(0.1f32..0.6);
    for n in 0..samples {
        if n % bar == 0 {
            let root = rng.random_range(40.0f32..52.0);
            for (k, f) in notes.iter_mut().enumerate() {
                let semis = root + [0.0, 4.0, 7.0, -12.0][k] + rng.random_range(0..2) as f32;
                *f = 440.0 * libm::powf(2.0, (semis - 49.0) / 12.0);
            }
        }
        let t = n as f32 / sr;
        let mut x = 0.0f32;
        for (k, f) in notes.iter().enumerate() {
            for h in 1..4 {
                x += libm::sinf(2.0 * core::f32::consts::PI * f * h as f32 * t)
                    * (0.12 / h as f32)
                    * if k == 3 { 1.5 } else { 1.0 };
            }
        }
        let since_beat = (n % beat) as f32 / sr;
        x += rng.random_range(-1.0f32..1.0) * tempo_noise * libm::expf(-since_beat * 30.0);
        out.push((x.clamp(-1.0, 1.0) * 20000.0) as i16);
    }
    out
}

/// What a hop reported, owned.
#[derive(Debug, Clone, PartialEq)]
struct Rec<A> {
    index: u64,
    start: u64,
    logits: Vec<A>,
    posterior: Vec<u32>,
    decision: Decision,
}

fn rec<A: Copy>(h: &Hop<'_, A>) -> Rec<A> {
    Rec {
        index: h.index,
        start: h.start_sample,
        logits: h.logits.to_vec(),
        posterior: h.posterior.iter().map(|p| p.to_bits()).collect(),
        decision: h.decision,
    }
}

/// Pushes `pcm` in chunks of `chunk` samples (0: alternating 0, 1 and 7 then the rest in
/// 1000s) and collects the hops.
fn run<A: Act>(model: &Model<'_>, cfg: ClassifierConfig, pcm: &[i16], chunk: usize) -> Vec<Rec<A>> {
    let mut c = std::boxed::Box::new(Classifier::<A>::new(model, cfg).unwrap());
    let mut out = Vec::new();
    let mut i = 0;
    let mut k = 0usize;
    while i < pcm.len() {
        let n = if chunk == 0 {
            [0, 1, 7, 1000][k % 4]
        } else {
            chunk
        }
        .min(pcm.len() - i);
        let got = c.push_i16(&pcm[i..i + n], |h| out.push(rec(h))).unwrap();
        assert!(got <= 1 + n / 16384, "{got} hops from {n} samples");
        i += n;
        k += 1;
    }
    assert_eq!(c.samples(), pcm.len() as u64);
    assert_eq!(c.hops(), out.len() as u64);
    out
}

/// The per-segment path: the whole segment's log-mel, then the executor.
fn segment_logits<A: Act>(model: &Model<'_>, pcm: &[i16]) -> Vec<A> {
    let d = model.dims();
    let mut mel = vec![0.0f32; d.mels[0] * d.frames[0]];
    let frames = LogMel::new(model.frontend())
        .unwrap()
        .compute_i16(pcm, &mut mel)
        .unwrap();
    assert_eq!(frames, d.frames[0]);
    let mut exec = std::boxed::Box::new(Executor::<A>::new());
    let mut out = vec![A::default(); model.classes().len()];
    run_logmel(model, &mut exec, &mel, &mut (), &mut out).unwrap();
    out
}

fn seg_samples(model: &Model<'_>) -> usize {
    model.input().segment_samples as usize
}

#[test]
fn segment_mode_is_bit_identical_to_the_per_segment_path() {
    for bytes in [INT8, F32] {
        let model = Model::from_bytes(bytes).unwrap();
        let seg = seg_samples(&model);
        // two and a half segments: the half is never reported
        let pcm = music(1, 2 * seg + seg / 2);
        let check = |hops: &[(u64, Vec<u32>)]| {
            assert_eq!(hops.len(), 2);
            for (k, (start, bits)) in hops.iter().enumerate() {
                assert_eq!(*start, (k * seg) as u64);
                let win = &pcm[k * seg..(k + 1) * seg];
                let want: Vec<u32> = match model.precision() {
                    crate::model::Precision::Int8 => segment_logits::<i8>(&model, win)
                        .iter()
                        .map(|&v| v as u8 as u32)
                        .collect(),
                    crate::model::Precision::F32 => segment_logits::<f32>(&model, win)
                        .iter()
                        .map(|v| v.to_bits())
                        .collect(),
                };
                assert_eq!(bits, &want, "segment {k}");
            }
        };
        match model.precision() {
            crate::model::Precision::Int8 => {
                let hops = run::<i8>(&model, ClassifierConfig::SEGMENT, &pcm, 1024);
                let bits: Vec<_> = hops
                    .iter()
                    .map(|h| (h.start, h.logits.iter().map(|&v| v as u8 as u32).collect()))
                    .collect();
                check(&bits);
                // no smoothing: the posterior is the softmax of the dequantised logits
                for h in &hops {
                    let q = model.logits_quant();
                    let real: Vec<f32> = h.logits.iter().map(|l| l.to_real(q)).collect();
                    let mut p = vec![0.0; real.len()];
                    softmax(&real, &mut p);
                    let bits: Vec<u32> = p.iter().map(|v| v.to_bits()).collect();
                    assert_eq!(h.posterior, bits);
                    assert_eq!(h.decision, Decision::Genre(argmax(&p)));
                }
            }
            crate::model::Precision::F32 => {
                let hops = run::<f32>(&model, ClassifierConfig::SEGMENT, &pcm, 1024);
                let bits: Vec<_> = hops
                    .iter()
                    .map(|h| (h.start, h.logits.iter().map(|v| v.to_bits()).collect()))
                    .collect();
                check(&bits);
            }
        }
    }
}

#[test]
fn every_chunking_gives_the_same_hops() {
    let model = Model::from_bytes(INT8).unwrap();
    let seg = seg_samples(&model);
    let pcm = music(5, seg + 30000);
    for cfg in [ClassifierConfig::CONTINUOUS, ClassifierConfig::SEGMENT] {
        let want = run::<i8>(&model, cfg, &pcm, 1024);
        assert!(!want.is_empty());
        for chunk in [0, 1, 7, 1023, 5000] {
            let got = run::<i8>(&model, cfg, &pcm, chunk);
            assert_eq!(got, want, "chunk {chunk}");
        }
        // f32 samples: the same values as the i16 ones scaled by 1/32768
        let f: Vec<f32> = pcm.iter().map(|&s| s as f32 / 32768.0).collect();
        let mut c = std::boxed::Box::new(Classifier::<i8>::new(&model, cfg).unwrap());
        let mut got = Vec::new();
        for part in f.chunks(777) {
            c.push_f32(part, |h| got.push(rec(h))).unwrap();
        }
        assert_eq!(got, want);
    }
}

#[test]
fn reset_mid_stream_starts_cleanly() {
    let model = Model::from_bytes(INT8).unwrap();
    let pcm = music(7, 6 * 22050);
    for cfg in [ClassifierConfig::CONTINUOUS, ClassifierConfig::SEGMENT] {
        let want = run::<i8>(&model, cfg, &pcm, 1024);
        let mut c = std::boxed::Box::new(Classifier::<i8>::new(&model, cfg).unwrap());
        let other = music(8, 100_000);
        c.push_i16(&other, |_| {}).unwrap();
        c.reset();
        assert_eq!((c.samples(), c.hops()), (0, 0));
        let mut got = Vec::new();
        for part in pcm.chunks(1024) {
            c.push_i16(part, |h| got.push(rec(h))).unwrap();
        }
        assert_eq!(got, want);
    }
}

#[test]
fn non_finite_samples_are_rejected_whole() {
    let model = Model::from_bytes(INT8).unwrap();
    let pcm = music(9, 5 * 22050);
    let f: Vec<f32> = pcm.iter().map(|&s| s as f32 / 32768.0).collect();
    let cfg = ClassifierConfig::CONTINUOUS;
    let want = run::<i8>(&model, cfg, &pcm, 1024);
    let mut c = std::boxed::Box::new(Classifier::<i8>::new(&model, cfg).unwrap());
    let mut got = Vec::new();
    for (k, part) in f.chunks(1024).enumerate() {
        if k == 40 {
            for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
                let mut poisoned = part.to_vec();
                poisoned[500] = bad;
                assert_eq!(
                    c.push_f32(&poisoned, |_| panic!("no hop")),
                    Err(Error::InputNotFinite)
                );
            }
        }
        c.push_f32(part, |h| got.push(rec(h))).unwrap();
    }
    assert_eq!(got, want);
    assert!(
        got.iter()
            .all(|h| h.posterior.iter().all(|&b| f32::from_bits(b).is_finite()))
    );
}

#[test]
fn bad_configurations_are_typed_errors() {
    let model = Model::from_bytes(INT8).unwrap();
    let cont = |hop_frames| ClassifierConfig {
        mode: Mode::Continuous { hop_frames },
        ..ClassifierConfig::CONTINUOUS
    };
    for hop in [0, 1, 16, 31, 33, 100, 160, 256] {
        assert_eq!(
            Classifier::<i8>::new(&model, cont(hop)).err(),
            Some(Error::ClassifierUnsupportedHop),
            "hop {hop}"
        );
    }
    for hop in [32, 64, 96, 128] {
        assert!(
            Classifier::<i8>::new(&model, cont(hop)).is_ok(),
            "hop {hop}"
        );
    }
    for smoothing in [0, MAX_SMOOTHING + 1] {
        let cfg = ClassifierConfig {
            smoothing,
            ..ClassifierConfig::CONTINUOUS
        };
        assert_eq!(
            Classifier::<i8>::new(&model, cfg).err(),
            Some(Error::ClassifierBadSmoothing)
        );
    }
    for threshold in [f32::NAN, -0.1, 1.5, f32::INFINITY] {
        let cfg = ClassifierConfig {
            threshold,
            ..ClassifierConfig::SEGMENT
        };
        assert_eq!(
            Classifier::<i8>::new(&model, cfg).err(),
            Some(Error::ClassifierBadThreshold)
        );
    }
    assert_eq!(
        Classifier::<f32>::new(&model, ClassifierConfig::SEGMENT).err(),
        Some(Error::ModelArchitectureUnsupported)
    );
    // a model whose input encodes the frame's place in the segment cannot stream
    for posenc in [PosEnc::Coord, PosEnc::Sinusoidal] {
        let bytes = random_i8(3, 32, 130, posenc).encode().unwrap();
        // without `posenc-sinusoidal` such a model does not even load
        let Ok(m) = Model::from_bytes(&bytes) else {
            continue;
        };
        assert_eq!(
            Classifier::<i8>::new(&m, ClassifierConfig::CONTINUOUS).err(),
            Some(Error::ClassifierModelCannotStream)
        );
        assert!(Classifier::<i8>::new(&m, ClassifierConfig::SEGMENT).is_ok());
        let mut e = Executor::<i8>::new();
        e.set_continuous(true);
        assert_eq!(
            e.push_frame(&m, &[0.0; 32], &mut ()),
            Err(Error::ClassifierModelCannotStream)
        );
    }
    // 64 frames: two block-5 columns, so hops of 32 and 64 only
    let bytes = random_i8(4, 32, 64, PosEnc::None).encode().unwrap();
    let m = Model::from_bytes(&bytes).unwrap();
    assert!(Classifier::<i8>::new(&m, cont(64)).is_ok());
    assert_eq!(
        Classifier::<i8>::new(&m, cont(96)).err(),
        Some(Error::ClassifierUnsupportedHop)
    );
    // a front end other than the model's
    let other = crate::config::FrontendConfig {
        n_mels: 64,
        ..*model.frontend()
    };
    let stream = LogMelStream::new(&other).unwrap();
    assert_eq!(
        Classifier::<i8, _, _>::with_parts(
            &model,
            ClassifierConfig::SEGMENT,
            stream,
            Executor::<i8>::new()
        )
        .err(),
        Some(Error::FrontendMismatch)
    );
}

#[test]
fn smoothing_hop_and_threshold() {
    let model = Model::from_bytes(INT8).unwrap();
    let pcm = music(11, 10 * 22050);
    let raw = run::<i8>(
        &model,
        ClassifierConfig {
            smoothing: 1,
            ..ClassifierConfig::CONTINUOUS
        },
        &pcm,
        1024,
    );
    let smooth = run::<i8>(&model, ClassifierConfig::CONTINUOUS, &pcm, 1024);
    assert_eq!(raw.len(), smooth.len());
    for (k, h) in smooth.iter().enumerate() {
        assert_eq!(h.logits, raw[k].logits);
        let from = k.saturating_sub(3);
        let n = (k - from + 1) as f32;
        for (c, &bits) in h.posterior.iter().enumerate() {
            let mean: f32 = raw[from..=k]
                .iter()
                .map(|r| f32::from_bits(r.posterior[c]))
                .sum::<f32>()
                / n;
            assert!((f32::from_bits(bits) - mean).abs() < 1e-6);
        }
        let sum: f32 = h.posterior.iter().map(|&b| f32::from_bits(b)).sum();
        assert!((sum - 1.0).abs() < 1e-5);
    }
    // hop 64: every other hop of 32, the same windows and logits
    let every2 = run::<i8>(
        &model,
        ClassifierConfig {
            mode: Mode::Continuous { hop_frames: 64 },
            smoothing: 1,
            threshold: 0.0,
        },
        &pcm,
        1024,
    );
    assert_eq!(every2.len(), raw.len().div_ceil(2));
    for (k, h) in every2.iter().enumerate() {
        assert_eq!(h.start, raw[2 * k].start);
        assert_eq!(h.logits, raw[2 * k].logits);
    }
    // threshold 1: undecided unless the posterior is certain
    let strict = run::<i8>(
        &model,
        ClassifierConfig {
            threshold: 1.0,
            ..ClassifierConfig::CONTINUOUS
        },
        &pcm,
        1024,
    );
    for (s, h) in strict.iter().zip(&smooth) {
        let max = h
            .posterior
            .iter()
            .map(|&b| f32::from_bits(b))
            .fold(0.0, f32::max);
        let want = if max >= 1.0 {
            h.decision
        } else {
            Decision::Undecided
        };
        assert_eq!(s.decision, want);
    }
}

#[test]
fn track_is_the_mean_of_the_hops_own_posteriors() {
    let model = Model::from_bytes(INT8).unwrap();
    let n = model.classes().len();
    let pcm = music(12, 9 * 22050);
    let raw = run::<i8>(
        &model,
        ClassifierConfig {
            smoothing: 1,
            ..ClassifierConfig::CONTINUOUS
        },
        &pcm,
        1024,
    );
    assert!(raw.len() >= 6, "{} hops", raw.len());
    let mut c =
        std::boxed::Box::new(Classifier::<i8>::new(&model, ClassifierConfig::CONTINUOUS).unwrap());
    let mut mean = vec![1.0f32; n];
    assert_eq!(c.track(&mut mean), Decision::Undecided);
    assert!(mean.iter().all(|&m| m == 0.0));
    let mut decided = 0;
    for part in pcm.chunks(1024) {
        c.push_i16(part, |_| {}).unwrap();
        let k = c.hops() as usize;
        let d = c.track(&mut mean);
        if k == 0 {
            assert_eq!(d, Decision::Undecided);
            continue;
        }
        // the running sum in hop order, over the count: the smoothing does not enter
        let mut want = vec![0.0f32; n];
        for r in &raw[..k] {
            for (w, &b) in want.iter_mut().zip(&r.posterior) {
                *w += f32::from_bits(b);
            }
        }
        for w in want.iter_mut() {
            *w *= 1.0 / k as f32;
        }
        assert_eq!(mean, want);
        assert_eq!(d, Decision::Genre(argmax(&want)));
        decided += 1;
    }
    assert!(decided > 0);
    c.reset();
    assert_eq!(c.track(&mut mean), Decision::Undecided);
}
