//! Stream-context training (`--stream-context`) trains what the continuous `Classifier` runs:
//! the Burn baseline's forward on a `context_frames` example (one block-5 column of real frames
//! on either side) equals infer-core's continuous executor's logits for the hop whose block-5
//! columns are the example's middle ones, while the same network on the hop's own 130 frames
//! (zero padding at both ends, what segment training sees) does not.

use burn::prelude::*;
use infer_core::executor::{Executor, Observer};
use infer_core::model::Model;
use trainer::models::PosEnc;
use trainer::models::baseline::{Baseline, DROPOUT, Widths, context_frames, pooled};
use trainer::models::plain::PlainBaseline;
use trainer::ship::export;

const N_MELS: usize = 32;
const FRAMES: usize = 130;
const STREAM: usize = 360;
const MEAN: f32 = -30.0;
const STD: f32 = 12.0;

/// Deterministic log-mel frames in dB, frame-major `[STREAM][N_MELS]`.
fn stream() -> Vec<Vec<f32>> {
    let mut s = 0x2545_f491_u32;
    (0..STREAM)
        .map(|_| {
            (0..N_MELS)
                .map(|_| {
                    s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    -60.0 + 60.0 * (s >> 8) as f32 / (1u32 << 24) as f32
                })
                .collect()
        })
        .collect()
}

/// Burn's logits for frames `start..start + n` of the stream (normalised, mel-major).
fn burn_logits(net: &Baseline, frames: &[Vec<f32>], start: usize, n: usize) -> Vec<f32> {
    let mut x = vec![0f32; N_MELS * n];
    for t in 0..n {
        for m in 0..N_MELS {
            x[m * n + t] = (frames[start + t][m] - MEAN) / STD;
        }
    }
    let device = Device::flex();
    let x = Tensor::<4>::from_data(TensorData::new(x, [1, 1, N_MELS, n]), &device);
    net.forward(x)
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .unwrap()
}

fn close(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| (x - y).abs() <= 1e-4 * (1.0 + y.abs()))
}

#[test]
fn a_stream_context_example_is_a_hop_of_the_continuous_executor() {
    assert_eq!(context_frames(FRAMES), 192); // 4 columns + 2 of context, 32 frames each
    assert_eq!(pooled(FRAMES), 4);
    let device = Device::flex();
    device.seed(11);
    let widths = Widths([4, 6, 8, 8, 8]);
    let net = Baseline::new(10, N_MELS, FRAMES, PosEnc::None, DROPOUT, widths, &device);
    let plain = PlainBaseline::from_model(&net, N_MELS, FRAMES, MEAN, STD, 22050).unwrap();
    let classes: Vec<String> = (0..10).map(|c| format!("class{c}")).collect();
    let bytes = export::to_f32(&plain, "ctx", &classes)
        .unwrap()
        .encode()
        .unwrap();
    let model = Model::from_bytes(&bytes).unwrap();

    struct Grab(Vec<Vec<f32>>);
    impl Observer<f32> for Grab {
        fn logits(&mut self, l: &[f32]) {
            self.0.push(l.to_vec());
        }
    }
    let frames = stream();
    let mut exec = Box::new(Executor::<f32>::new());
    exec.set_continuous(true);
    let mut hops = Grab(Vec::new());
    for f in &frames {
        exec.push_frame(&model, f, &mut hops).unwrap();
    }
    // hop h reads block-5 columns h..=h+3, i.e. the middle columns of the context example that
    // starts at frame 32 (h - 1); hop 0 has no column of context on its left
    let ctx = context_frames(FRAMES);
    let mut compared = 0;
    for (h, got) in hops.0.iter().enumerate().skip(1) {
        let start = 32 * (h - 1);
        if start + ctx > STREAM {
            break;
        }
        let want = burn_logits(&net, &frames, start, ctx);
        assert!(
            close(got, &want),
            "hop {h}: executor {got:?}, Burn on context {want:?}"
        );
        // the hop's own 130 frames (its columns start at frame 32 h), zero-padded at both ends
        let segment = burn_logits(&net, &frames, start + 32, FRAMES);
        assert!(
            !close(got, &segment),
            "hop {h}: the segment forward matched the stream, so the test shows nothing"
        );
        compared += 1;
    }
    assert_eq!(compared, 6, "hops 1..=6 fit a 360-frame stream");
}
