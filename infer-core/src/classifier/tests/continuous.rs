//! Continuous mode: the executor against a whole-stream reference, hops against
//! window-by-window inference, and the latency of the first hop.

use super::*;
use crate::executor::Observer;
use crate::format::owned::OwnedModel;
use crate::testutil::{random_f32, random_logmel};

/// The short model's convolutions over a whole long stream of `frames` frames (zero padding
/// at both ends), layer by layer with the plain kernels: its block-5 output `[m5][t5][c5]`.
fn long_reference<A: Act>(model: &Model<'_>, mel: &[f32], frames: usize) -> Vec<A> {
    let d = model.dims();
    let n_mels = d.mels[0];
    let mut x = vec![A::default(); n_mels * frames];
    let mut col = vec![0.0f32; n_mels];
    let mut row = vec![A::default(); n_mels];
    for t in 0..frames {
        for (m, c) in col.iter_mut().enumerate() {
            *c = mel[m * frames + t];
        }
        crate::executor::encode_frame(model, t, &col, &mut row).unwrap();
        for m in 0..n_mels {
            x[m * frames + t] = row[m];
        }
    }
    let (mut m, mut t) = (n_mels, frames);
    for b in 0..N_BLOCKS {
        let layer = model.conv(b).unwrap();
        let c = d.channels[b + 1];
        let mut y = vec![A::default(); m * t * c];
        A::conv_ref(layer, &x, m, t, &mut y).unwrap();
        let mut p = vec![A::default(); (m / 2) * (t / 2) * c];
        crate::pool::maxpool2x2_ref(&y, m, t, c, &mut p).unwrap();
        (m, t, x) = (m / 2, t / 2, p);
    }
    x
}

/// Continuous mode against [`long_reference`] on `frames` random frames: every dense output
/// whose columns the reference's end padding does not reach.
fn check_against_reference<A: Act>(
    owned: &OwnedModel,
    frames: usize,
    close: impl Fn(A, A) -> bool,
) {
    let bytes = owned.encode().unwrap();
    let model = Model::from_bytes(&bytes).unwrap();
    let d = *model.dims();
    let n_mels = d.mels[0];
    let mel = random_logmel(77, n_mels * frames);
    let b5 = long_reference::<A>(&model, &mel, frames);
    let (m5, t5, c5) = (d.mels[5], d.frames[5], d.channels[5]);
    let t5l = frames >> N_BLOCKS;

    let mut exec = std::boxed::Box::new(Executor::<A>::new());
    exec.set_continuous(true);
    struct Grab<A>(Vec<Vec<A>>);
    impl<A: Copy> Observer<A> for Grab<A> {
        fn logits(&mut self, l: &[A]) {
            self.0.push(l.to_vec());
        }
    }
    let mut grab = Grab(Vec::new());
    let mut col = vec![0.0f32; n_mels];
    for t in 0..frames {
        for (m, c) in col.iter_mut().enumerate() {
            *c = mel[m * frames + t];
        }
        exec.push_frame(&model, &col, &mut grab).unwrap();
    }
    // block-5 column `c` reads input frames up to 32 c + 62 (the reference pads after
    // `frames`), and comes once frame 32 c + 66 is in (block 2's four-frame passes)
    let hops = (frames - 67) / 32 + 1 + 1 - t5;
    assert_eq!(grab.0.len(), hops);
    assert!(hops >= 20, "{hops} hops: the stream must cross a rebase");
    for (h, got) in grab.0.iter().take(hops).enumerate() {
        let mut x = vec![A::default(); m5 * t5 * c5];
        for m in 0..m5 {
            for t in 0..t5 {
                let src = (m * t5l + h + t) * c5;
                x[(m * t5 + t) * c5..(m * t5 + t + 1) * c5].copy_from_slice(&b5[src..src + c5]);
            }
        }
        let mut want = vec![A::default(); model.classes().len()];
        A::dense(model.dense(), &x, &mut want);
        for (g, w) in got.iter().zip(&want) {
            assert!(close(*g, *w), "hop {h}: {got:?} vs {want:?}");
        }
    }
    assert_eq!(
        exec.latest_logits(&model).unwrap(),
        grab.0.last().unwrap().as_slice()
    );
}

#[test]
fn continuous_executor_equals_the_whole_stream_reference() {
    // 800 frames: 23 block-5 columns computed, the counters rebased once (672 frames)
    check_against_reference::<i8>(&random_i8(31, 32, 130, PosEnc::None), 800, |a, b| a == b);
    check_against_reference::<f32>(&random_f32(32, 32, 130, PosEnc::None), 800, |a, b| {
        (a - b).abs() <= 1e-3 * (1.0 + a.abs().max(b.abs()))
    });
    // the full-size baseline's shape, two rebases
    check_against_reference::<i8>(&random_i8(33, 128, 130, PosEnc::None), 1500, |a, b| a == b);
}

#[test]
fn continuous_agrees_with_window_by_window_inference() {
    let model = Model::from_bytes(INT8).unwrap();
    let seg = seg_samples(&model);
    let (mut agree, mut total) = (0, 0);
    for seed in 0..3 {
        let pcm = music(10 + seed, 12 * 22050);
        let hops = run::<i8>(&model, ClassifierConfig::CONTINUOUS, &pcm, 1024);
        // a 12 s signal: windows start every 16384 samples, the last reported one ends 0.81 s
        // before the signal does
        assert!(hops.len() >= 10, "{} hops", hops.len());
        for (k, h) in hops.iter().enumerate() {
            assert_eq!(h.index, k as u64);
            assert_eq!(h.start, 16384 * k as u64);
            let start = h.start as usize;
            if start + seg > pcm.len() {
                continue;
            }
            let want = segment_logits::<i8>(&model, &pcm[start..start + seg]);
            agree += usize::from(argmax(&want) == argmax(&h.logits));
            total += 1;
        }
    }
    std::eprintln!("continuous vs window-by-window top-1: {agree} of {total}");
    assert!(total >= 30);
    assert!(agree * 100 >= total * 90, "{agree} of {total}");
}

#[test]
fn first_hop_comes_35_frames_after_its_window() {
    let model = Model::from_bytes(INT8).unwrap();
    let pcm = music(6, 90000);
    let mut c =
        std::boxed::Box::new(Classifier::<i8>::new(&model, ClassifierConfig::CONTINUOUS).unwrap());
    // frame t is complete with sample 512 t + 1023; the first window is frames 0..128
    let ready = 512 * (127 + 35) + 1024;
    assert_eq!(c.push_i16(&pcm[..ready - 1], |_| {}), Ok(0));
    assert_eq!(c.push_i16(&pcm[ready - 1..ready], |_| {}), Ok(1));
}
