//! The streaming executor against the reference forward pass.

use super::*;
use crate::format::owned::OwnedModel;
use crate::testutil::random_logmel;
#[allow(unused_imports)]
use crate::testutil::{random_f32, random_i8};
use std::collections::HashMap;
use std::vec::Vec;

#[derive(Default)]
struct Collect<A> {
    seen: HashMap<(usize, usize, usize), Vec<A>>,
    logits: Vec<A>,
}
impl<A: Copy> Observer<A> for Collect<A> {
    fn activation(&mut self, block: usize, frame: usize, mel: usize, ch: &[A]) {
        let old = self.seen.insert((block, frame, mel), ch.to_vec());
        assert!(
            old.is_none(),
            "block {block} frame {frame} mel {mel} reported twice"
        );
    }
    fn logits(&mut self, l: &[A]) {
        self.logits = l.to_vec();
    }
}

/// Runs streaming and reference on the same input; returns (streamed logits, reference
/// logits) after checking every reported activation against the reference tensors.
fn compare<A: Act>(owned: &OwnedModel, seed: u64, close: impl Fn(A, A) -> bool) {
    let bytes = owned.encode().unwrap();
    let model = Model::from_bytes(&bytes).unwrap();
    let d = *model.dims();
    let mel = random_logmel(seed, d.mels[0] * d.frames[0]);
    let mut exec = std::boxed::Box::new(Executor::<A>::new());
    let mut obs = Collect::default();
    let mut logits = [A::default(); 10];
    run_logmel(&model, &mut exec, &mel, &mut obs, &mut logits).unwrap();
    let input = encode_segment::<A>(&model, &mel).unwrap();
    let reference = reference_forward(&model, &input).unwrap();
    // the test is only meaningful if activations are spread out, not saturated or all zero
    for (b, t) in reference.iter().enumerate() {
        let distinct = t.iter().filter(|v| **v != t[0]).count();
        assert!(
            distinct * 4 >= t.len(),
            "block {b}: {distinct} of {} differ from the first",
            t.len()
        );
    }
    // every pooled pixel of blocks 2..=5, block-1 frames below 2 * frames[2]
    for b in 1..=N_BLOCKS {
        let (m, t, c) = (d.mels[b], d.frames[b], d.channels[b]);
        let t_seen = if b == 1 { 2 * d.frames[2] } else { t };
        for f in 0..t_seen {
            for k in 0..m {
                let got = obs
                    .seen
                    .get(&(b, f, k))
                    .unwrap_or_else(|| panic!("missing {b} {f} {k}"));
                let want = &reference[b - 1][(k * t + f) * c..(k * t + f + 1) * c];
                for (g, w) in got.iter().zip(want) {
                    assert!(close(*g, *w), "block {b} frame {f} mel {k}: {g:?} vs {w:?}");
                }
            }
        }
    }
    assert_eq!(obs.logits.len(), 10);
    for (g, w) in logits.iter().zip(&reference[N_BLOCKS]) {
        assert!(
            close(*g, *w),
            "logits {logits:?} vs {:?}",
            reference[N_BLOCKS]
        );
    }
    assert_eq!(obs.logits, logits.to_vec());
}

fn close_f32(a: f32, b: f32) -> bool {
    (a - b).abs() <= 1e-4 * (1.0 + a.abs().max(b.abs()))
}

#[test]
fn int8_streaming_equals_reference_small() {
    for (seed, posenc) in [
        (1, PosEnc::None),
        (2, PosEnc::Coord),
        (3, PosEnc::Sinusoidal),
    ] {
        compare::<i8>(&random_i8(seed, 32, 41, posenc), seed + 10, |a, b| a == b);
    }
    // 44 and 47 frames: 22 and 23 block-2 frames, so the last pass runs two frames, not four;
    // 34 mels: an odd block-1 mel count
    for (seed, mels, frames) in [(21, 64, 76), (22, 66, 79), (23, 64, 108)] {
        let model = random_i8(seed, mels, frames, PosEnc::None);
        compare::<i8>(&model, seed + 20, |a, b| a == b);
    }
    compare::<f32>(&random_f32(10, 32, 44, PosEnc::Coord), 30, close_f32);
}

#[test]
fn int8_streaming_equals_reference_full_size() {
    compare::<i8>(&random_i8(4, 128, 130, PosEnc::None), 11, |a, b| a == b);
}

#[test]
fn f32_streaming_matches_reference() {
    compare::<f32>(&random_f32(5, 32, 40, PosEnc::Coord), 12, close_f32);
    compare::<f32>(&random_f32(6, 128, 130, PosEnc::None), 13, close_f32);
}

#[test]
fn stream_order_errors() {
    let owned = random_i8(7, 32, 40, PosEnc::None);
    let bytes = owned.encode().unwrap();
    let model = Model::from_bytes(&bytes).unwrap();
    let mut f = Executor::<f32>::new();
    assert_eq!(
        f.push_frame(&model, &[0.0; 32], &mut ()),
        Err(Error::ModelArchitectureUnsupported)
    );
    let mut e = Executor::<i8>::new();
    assert_eq!(
        e.push_frame(&model, &[0.0; 31], &mut ()),
        Err(Error::ShapeMismatch)
    );
    assert_eq!(
        e.push_frame(&model, &[f32::NAN; 32], &mut ()),
        Err(Error::InputNotFinite)
    );
    e.reset();
    for _ in 0..39 {
        e.push_frame(&model, &[0.0; 32], &mut ()).unwrap();
    }
    assert_eq!(e.logits(&model), Err(Error::InputTooShort));
    e.push_frame(&model, &[0.0; 32], &mut ()).unwrap();
    assert_eq!(e.logits(&model).map(|l| l.len()), Ok(10));
    assert_eq!(
        e.push_frame(&model, &[0.0; 32], &mut ()),
        Err(Error::StreamState)
    );
}

/// A model with the sinusoidal positional encoding loads only where `posenc-sinusoidal` is
/// compiled in (host builds); without it (the device build) it is rejected at load with a typed
/// error, never run with the wrong input. CI runs this test in both configurations.
#[test]
fn sinusoidal_model_needs_its_feature() {
    let bytes = random_i8(3, 32, 40, PosEnc::Sinusoidal).encode().unwrap();
    let got = Model::from_bytes(&bytes).map(|_| ());
    if cfg!(feature = "posenc-sinusoidal") {
        assert_eq!(got, Ok(()));
    } else {
        assert_eq!(got, Err(Error::ModelPosEncUnsupported));
    }
    // the other encodings load either way
    let coord = random_i8(3, 32, 40, PosEnc::Coord).encode().unwrap();
    assert!(Model::from_bytes(&coord).is_ok());
}

/// Block 2 with lent working memory (the front end's FFT buffer in the firmware, any contents)
/// gives the same logits as without it and as the reference, and a stream lends its buffer
/// frame by frame: feeding the executor from `push_lending` equals feeding it from `push`.
#[test]
fn lent_scratch_changes_nothing() {
    use crate::config::FrontendConfig;
    use crate::stream::LogMelStream;
    let owned = random_i8(14, 128, 130, PosEnc::None);
    let bytes = owned.encode().unwrap();
    let model = Model::from_bytes(&bytes).unwrap();
    let cfg = FrontendConfig::DEFAULT;
    let samples: Vec<f32> = (0..66_150)
        .map(|i| ((i as f32 * 0.013).sin() + (i as f32 * 0.0007).cos()) * 0.3)
        .collect();
    let run = |lend: bool| {
        let mut stream = LogMelStream::new(&cfg).unwrap();
        let mut exec = Executor::<i8>::new();
        let mut garbage = 0x1234_5678u32;
        let mut on_frame = |frame: &[f32], buf: &mut [f32]| {
            if lend {
                // whatever the front end left there, plus noise: the executor must not care
                for v in buf.iter_mut().step_by(7) {
                    garbage = garbage.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    *v = f32::from_bits(garbage);
                }
                exec.push_frame_in(&model, frame, &mut (), buf).unwrap();
            } else {
                exec.push_frame(&model, frame, &mut ()).unwrap();
            }
        };
        stream.push_lending(&samples, &mut on_frame).unwrap();
        stream.finish_lending(&mut on_frame).unwrap();
        exec.logits(&model).unwrap().to_vec()
    };
    let (lent, own) = (run(true), run(false));
    assert_eq!(lent, own);
    assert!(lent.iter().any(|&v| v != lent[0]));
}
